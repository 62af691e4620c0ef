/*
 * The image writer's file-system calls (io.c): the system's own, except
 * that a test can make one of them fail (AMBER_IMAGE_FAULT, io.c) to show
 * that every failure leaves the previous image current and the new one
 * unpublished (docs/trust.md). Only the writer uses them; reading does not.
 */
#ifndef AMBER_IMAGE_IO_H
#define AMBER_IMAGE_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A new image is being written: counting starts again. */
void img_io_begin(void);

int img_io_open(const char *path, int flags, mode_t mode);
int img_io_mkdir(const char *path, mode_t mode);
char *img_io_mkdtemp(char *tmpl);
/* pwrite all of buf at off. 0, or -1 with errno. */
int img_io_write_full(int fd, const void *buf, size_t len, uint64_t off);
int img_io_fsync(int fd);
int img_io_rename(const char *from, const char *to);
int img_io_symlink(const char *target, const char *path);

#endif
