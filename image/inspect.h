/*
 * Checkpoint images shown to people and compared: what `amber inspect`
 * and `amber diff` print (docs/image-format.md, "Inspecting and
 * comparing images").
 *
 * Both read images through image_read and check every page run on the
 * way (a dataspace's content checksum is computed from its pages), so
 * they also tell whether an image is intact. Both return -1 with err on
 * an image they cannot read.
 */
#ifndef AMBER_IMAGE_INSPECT_H
#define AMBER_IMAGE_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Print the image in dir: for people, or (json) as one JSON object with
 * every field of the image and the same derived facts. 0 or -1. */
int image_inspect(const char *dir, bool json, FILE *out, char *err, size_t errlen);

/* What image_diff leaves out by default: values that differ between two
 * checkpoints of the same state because time passed or other components
 * allocated objects. Never compared: cut_time_us, wall_time_s, and where
 * pages lie in pages.bin (content is compared by checksum instead). */
struct image_diff_options {
	bool timing;           /* compare timers' elapsed/remaining and IPC timeouts ... */
	uint64_t tolerance_us; /* ... as equal within this many microseconds */
	bool allocators;       /* compare next_object_id, next_badge, next_component_id */
};

/* Compare images a and b: components by name, and within them slots,
 * threads, sessions, attachments, signal objects and the rest by their
 * identity; dataspaces by owner and name, with their content checksum.
 * One line per difference to out; returns the number of differences, or
 * -1 with err. image_diff is image_diff_opts with all options off. */
int image_diff(const char *a, const char *b, FILE *out, char *err, size_t errlen);
int image_diff_opts(const char *a, const char *b, const struct image_diff_options *o, FILE *out, char *err,
		    size_t errlen);

#endif
