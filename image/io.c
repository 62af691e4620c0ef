/*
 * The image writer's file-system calls, with one injected fault for tests
 * (io.h). Off unless AMBER_IMAGE_FAULT is set; then the writer of the
 * G-th image this process begins gets its N-th call of the fault's kind
 * failed, once; a list gives faults to several images (one process, many
 * faults: tests/integration/test_cr_faults.c):
 *
 *   AMBER_IMAGE_FAULT=KIND:N[:G][,KIND:N:G...]   (G defaults to 1)
 *
 *   short   the N-th write writes half its bytes; the write after it fails
 *           with ENOSPC (how a full disk looks)
 *   enospc  the N-th call of any kind fails with ENOSPC
 *   eio     the N-th call of any kind fails with EIO
 *   fsync   the N-th fsync fails with EIO
 *   rename  the N-th rename fails with EIO
 *
 * Calls are counted per image, from image_begin (img_io_begin) on. Core
 * writes one image at a time, but that image's memory is stored by several
 * threads (image.c), so the counters are taken under a lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/internal.h"
#include "image/io.h"

enum io_op { OP_OPEN, OP_MKDIR, OP_WRITE, OP_FSYNC, OP_RENAME, OP_SYMLINK };

static struct {
	char kind[8];
	unsigned long n;        /* the fault's call in this image, 0: none */
	unsigned long images;   /* images begun by this process */
	unsigned long calls;    /* of the fault's kind in the current image */
	bool short_done;        /* "short" wrote its half: the next write fails */
} f;

void img_io_begin(void)
{
	f.images++;
	f.calls = 0;
	f.short_done = false;
	f.n = 0;
	const char *spec = getenv("AMBER_IMAGE_FAULT");
	/* The entry for this image, if any; a malformed one is no fault
	 * rather than a surprise. */
	for (const char *e = spec; e && *e; e = strchr(e, ',') ? strchr(e, ',') + 1 : NULL) {
		char kind[8];
		unsigned long n = 0, image = 1;
		int k = sscanf(e, "%7[a-z]:%lu:%lu", kind, &n, &image);
		if (k >= 2 && n > 0 && image == f.images) {
			snprintf(f.kind, sizeof(f.kind), "%s", kind);
			f.n = n;
			return;
		}
	}
}

static pthread_mutex_t f_lock = PTHREAD_MUTEX_INITIALIZER;

/* Should this call fail? errno set to the fault's error if so; *half
 * set for the write that "short" cuts to half instead. */
static bool fault_locked(enum io_op op, bool *half)
{
	if (!f.n)
		return false;
	if (op == OP_WRITE && f.short_done) {
		f.short_done = false;
		f.n = 0;
		errno = ENOSPC;
		return true;
	}
	bool counts = !strcmp(f.kind, "enospc") || !strcmp(f.kind, "eio") ||
		      (!strcmp(f.kind, "short") && op == OP_WRITE) || (!strcmp(f.kind, "fsync") && op == OP_FSYNC) ||
		      (!strcmp(f.kind, "rename") && op == OP_RENAME);
	if (!counts || ++f.calls != f.n)
		return false;
	if (!strcmp(f.kind, "short")) {
		f.short_done = true; /* the caller writes half now, fails next */
		*half = true;
		return true;
	}
	f.n = 0;
	errno = !strcmp(f.kind, "enospc") ? ENOSPC : EIO;
	return true;
}

static bool fault_or_half(enum io_op op, bool *half)
{
	*half = false;
	pthread_mutex_lock(&f_lock);
	bool yes = fault_locked(op, half);
	int e = errno;
	pthread_mutex_unlock(&f_lock);
	errno = e;
	return yes;
}

static bool fault(enum io_op op)
{
	bool half;
	return fault_or_half(op, &half);
}

int img_io_open(const char *path, int flags, mode_t mode)
{
	return fault(OP_OPEN) ? -1 : open(path, flags, mode);
}

int img_io_mkdir(const char *path, mode_t mode)
{
	return fault(OP_MKDIR) ? -1 : mkdir(path, mode);
}

char *img_io_mkdtemp(char *tmpl)
{
	return fault(OP_MKDIR) ? NULL : mkdtemp(tmpl);
}

static ssize_t io_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	bool half;
	if (fault_or_half(OP_WRITE, &half)) {
		if (!half)
			return -1;
		return pwrite(fd, buf, len > 1 ? len / 2 : len, off);
	}
	return pwrite(fd, buf, len, off);
}

/* A short write is not an error: the rest goes in the next call. */
int img_io_write_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return img_write_with(io_pwrite, fd, buf, len, off);
}

int img_io_fsync(int fd)
{
	return fault(OP_FSYNC) ? -1 : fsync(fd);
}

int img_io_rename(const char *from, const char *to)
{
	return fault(OP_RENAME) ? -1 : rename(from, to);
}

int img_io_symlink(const char *target, const char *path)
{
	return fault(OP_SYMLINK) ? -1 : symlink(target, path);
}
