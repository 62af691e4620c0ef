/*
 * Dataspaces: the only memory a component has.
 *
 * A dataspace is a memfd that core creates, sizes and maps into its own
 * address space, so core can read and write every byte of component memory
 * (loading ELF segments, UTCBs, checkpoints) without asking the component.
 */
#ifndef AMBER_PLATFORM_DATASPACE_H
#define AMBER_PLATFORM_DATASPACE_H

#include <stddef.h>
#include <stdint.h>

struct dataspace {
	int fd;            /* memfd, owned by core */
	size_t size;       /* bytes, a multiple of AMBER_PAGE_SIZE */
	uint8_t *local;    /* core's shared read-write mapping */
	uint64_t id;       /* unique for the lifetime of amber-core */
	char name[32];     /* shows up in /proc/PID/maps as memfd:amber:NAME */
	uint64_t writes;   /* bumped whenever core writes it itself, not through a
			    * component's mapping: an incremental checkpoint then
			    * stores it whole (core/cr_copy.c) */
};

/* Create a zero-filled dataspace of at least `size` bytes. 0 or -errno. */
int dataspace_create(struct dataspace *ds, size_t size, const char *name);

/* Copy its contents into dst (size bytes, zeroed by the caller), reading
 * only the ranges that hold data: holes stay holes. 0 or -errno. */
int dataspace_read(const struct dataspace *ds, uint8_t *dst);

/* Write the ranges of `from` that hold data into `to` at the same offsets
 * (through the files: no page faults). 0 or -errno. */
int dataspace_copy(struct dataspace *to, const struct dataspace *from);

/* Give its pages back to the system: it reads as zero afterwards, and
 * stays mapped wherever it was. 0 or -errno. */
int dataspace_release_pages(struct dataspace *ds);

/* Unmap core's view and close the memfd. Safe on a zeroed struct. */
void dataspace_destroy(struct dataspace *ds);

#endif
