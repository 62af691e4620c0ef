/*
 * Dataspaces as memfds.
 *
 * A memfd is anonymous shared memory with a file descriptor: core maps it
 * read-write for itself, and hands the same file to a component process
 * (pidfd_getfd injected by process.c) to map at a fixed address. Both views
 * share the page cache pages, so there is no copying in either direction
 * and the memory outlives neither core nor the component unexpectedly: the
 * memfd is close-on-exec and only core holds it between mappings.
 *
 * The name "amber:NAME" shows up in /proc/PID/maps, which is how one tells
 * component memory apart when debugging and how process.c verifies that a
 * component has no other memory.
 */
#include "platform/linux/dataspace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "amber/abi.h"
#include "platform/linux/compat.h"

static _Atomic uint64_t dataspace_next_id = 1;

/* memfd_create, asking for an executable memfd where the kernel knows the
 * flag (Linux >= 6.3 warns and, with vm.memfd_noexec=1, would seal the
 * memfd non-executable otherwise); older kernels reject MFD_EXEC. */
static int dataspace_memfd(const char *memfd_name)
{
	int fd = memfd_create(memfd_name, MFD_CLOEXEC | MFD_EXEC);
	if (fd < 0 && (errno == EINVAL || errno == EACCES))
		fd = memfd_create(memfd_name, MFD_CLOEXEC);
	return fd;
}

int dataspace_create(struct dataspace *ds, size_t size, const char *name)
{
	char memfd_name[64];
	size_t rounded;
	void *local;
	int fd, err;

	memset(ds, 0, sizeof(*ds));
	ds->fd = -1;
	if (size == 0 || size > SIZE_MAX - AMBER_PAGE_SIZE)
		return -EINVAL;
	rounded = (size + AMBER_PAGE_SIZE - 1) & ~(size_t)(AMBER_PAGE_SIZE - 1);

	snprintf(memfd_name, sizeof(memfd_name), "amber:%s", name ? name : "");
	fd = dataspace_memfd(memfd_name);
	if (fd < 0)
		return -errno;
	/* ftruncate gives zero-filled, lazily allocated pages. */
	if (ftruncate(fd, (off_t)rounded) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	local = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (local == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}

	ds->fd = fd;
	ds->size = rounded;
	ds->local = local;
	ds->id = atomic_fetch_add(&dataspace_next_id, 1);
	snprintf(ds->name, sizeof(ds->name), "%s", name ? name : "");
	return 0;
}

void dataspace_destroy(struct dataspace *ds)
{
	if (ds->local && ds->size)
		munmap(ds->local, ds->size);
	/* A zeroed struct has fd 0, which is not ours: only close fds we made,
	 * recognisable by a nonzero id. */
	if (ds->id != 0 && ds->fd >= 0)
		close(ds->fd);
	memset(ds, 0, sizeof(*ds));
	ds->fd = -1;
}

/* Copy only the parts of the memfd that hold data: reading a hole through
 * a mapping would allocate a page for it, pread returns its zeros without. */
int dataspace_read(const struct dataspace *ds, uint8_t *dst)
{
	off_t at = 0, size = (off_t)ds->size;
	while (at < size) {
		off_t data = lseek(ds->fd, at, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno; /* ENXIO: only holes from here on */
		off_t hole = lseek(ds->fd, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		for (off_t p = data; p < hole;) {
			ssize_t n = pread(ds->fd, dst + p, (size_t)(hole - p), p);
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			p += n;
		}
		at = hole;
	}
	return 0;
}

int dataspace_copy(struct dataspace *to, const struct dataspace *from)
{
	to->writes++;
	enum { CHUNK = 1 << 16 };
	static _Thread_local uint8_t buf[CHUNK];
	off_t at = 0, size = (off_t)(from->size < to->size ? from->size : to->size);
	while (at < size) {
		off_t data = lseek(from->fd, at, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		off_t hole = lseek(from->fd, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		for (off_t p = data; p < hole;) {
			size_t want = hole - p < CHUNK ? (size_t)(hole - p) : CHUNK;
			ssize_t n = pread(from->fd, buf, want, p);
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			for (ssize_t done = 0; done < n;) {
				ssize_t w = pwrite(to->fd, buf + done, (size_t)(n - done), p + done);
				if (w < 0)
					return -errno;
				done += w;
			}
			p += n;
		}
		at = hole;
	}
	return 0;
}

int dataspace_release_pages(struct dataspace *ds)
{
	ds->writes++;
	if (ds->fd < 0 || !ds->size)
		return 0;
	if (fallocate(ds->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)ds->size) < 0)
		return -errno;
	return 0;
}
