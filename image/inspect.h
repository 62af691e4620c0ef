/*
 * Reading checkpoint images for people: `amber inspect` and
 * `amber inspect --diff` (docs/amber-command.md).
 */
#ifndef AMBER_IMAGE_INSPECT_H
#define AMBER_IMAGE_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Describe the image in dir on out: text, or JSON with `json`. 0, or -1
 * with a message in err. */
int image_inspect(const char *dir, bool json, FILE *out, char *err, size_t errlen);
/* Write the differences between the images in a and b to out. */
int image_diff(const char *a, const char *b, FILE *out, char *err, size_t errlen); /* number of differences, or -1 */

#endif
