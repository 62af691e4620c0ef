/*
 * pages.bin: reading the page runs of dataspaces back, checked.
 *
 * The file is the 32-byte header and then the bytes of every extent (a
 * run of non-zero pages), one after the other; an extent's file_offset
 * counts from the start of the file, header included. Each extent carries
 * its own XXH3, so a damaged run is found and named without hashing the
 * whole file, and reading one dataspace touches only its own runs.
 *
 * Memory stays bounded however large a dataspace is: runs are read
 * through a buffer of CHUNK bytes. image_read_pages reads them twice,
 * once to check every checksum and once to copy, so that nothing of a
 * damaged image ever reaches the caller's memory. image_load_memory, what
 * a restore uses, reads each run once into the buffer, checks it and
 * writes it into the dataspace's file: no page fault per page (about 15 us
 * each on this VM, ten times the copy), and the caller discards the files
 * of an image found damaged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "image/internal.h"

/* The fuzzer builds with a smaller one: chunk boundaries inside runs get
 * exercised, and ASan does not map and unmap 1 MiB per call. */
#ifndef IMG_CHUNK
#define IMG_CHUNK (1u << 20)
#endif
#define CHUNK IMG_CHUNK

void img_ds_label(char *out, size_t outlen, const AmberImg__Image *img, unsigned i)
{
	const AmberImg__Dataspace *d = img && i < img->n_dataspaces ? img->dataspaces[i] : NULL;
	if (d && d->name)
		snprintf(out, outlen, "dataspace %u (%s)", i, d->name);
	else
		snprintf(out, outlen, "dataspace %u", i);
}

/* Overflow-safe: offset + length <= limit. */
static bool fits(uint64_t offset, uint64_t length, uint64_t limit)
{
	return offset <= limit && length <= limit - offset;
}

int img_extents_check(const AmberImg__Dataspace *d, uint64_t pages_size, char *err, size_t errlen)
{
	uint64_t end = 0; /* of the previous extent: sorted and apart */
	if (d->n_extents && !d->extents)
		return img_fail(err, errlen, "extents missing");
	for (size_t k = 0; k < d->n_extents; k++) {
		const AmberImg__Extent *e = d->extents[k];
		if (!e)
			return img_fail(err, errlen, "extent %zu missing", k);
		char at[64];
		snprintf(at, sizeof(at), "extent %zu at offset 0x%llx", k, (unsigned long long)e->offset);
		if (e->offset % IMG_PAGE || e->length % IMG_PAGE)
			return img_fail(err, errlen, "%s: length 0x%llx: not whole pages", at,
					(unsigned long long)e->length);
		if (e->length == 0)
			return img_fail(err, errlen, "%s: empty", at);
		if (k && e->offset < end)
			return img_fail(err, errlen, "%s: overlaps or precedes extent %zu (which ends at 0x%llx)", at,
					k - 1, (unsigned long long)end);
		if (!fits(e->offset, e->length, d->size))
			return img_fail(err, errlen, "%s: length 0x%llx runs past the dataspace's end 0x%llx", at,
					(unsigned long long)e->length, (unsigned long long)d->size);
		if (e->file_offset < IMG_HEADER_SIZE ||
		    !fits(e->file_offset - IMG_HEADER_SIZE, e->length, pages_size))
			return img_fail(err, errlen, "%s: file bytes [0x%llx, +0x%llx) outside " IMG_PAGES
					" (%llu bytes after its header)", at, (unsigned long long)e->file_offset,
					(unsigned long long)e->length, (unsigned long long)pages_size);
		end = e->offset + e->length;
	}
	return 0;
}

int img_pages_open(const char *gen, struct img_pages *p, char *err, size_t errlen)
{
	struct img_header h;
	p->fd = -1;
	if (img_join(p->path, sizeof(p->path), gen, IMG_PAGES) < 0)
		return img_fail(err, errlen, "%s: path too long", gen);
	int fd = img_open_checked(p->path, img_magic_pages, &h, err, errlen);
	if (fd < 0)
		return -1;
	if (h.xxh3 != 0) { /* reserved: each extent has its own */
		close(fd);
		return img_fail(err, errlen, "%s: checksum field 0x%llx in the header, expected 0", p->path,
				(unsigned long long)h.xxh3);
	}
	p->fd = fd;
	p->length = h.length;
	return 0;
}

void img_pages_close(struct img_pages *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* Stream extent e through buf; each chunk is hashed and, when dst is not
 * NULL, copied to its place. The extent's XXH3 into *sum. 0, or -1 with
 * the reason (without a prefix) in err. */
static int extent_stream(struct img_pages *p, const AmberImg__Extent *e, uint8_t *buf, uint8_t *dst,
			 XXH3_state_t *content, uint64_t *sum, char *err, size_t errlen)
{
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		return img_fail(err, errlen, "out of memory");
	XXH3_64bits_reset(st);
	for (uint64_t done = 0; done < e->length;) {
		size_t want = e->length - done < CHUNK ? (size_t)(e->length - done) : CHUNK;
		ssize_t n = pread(p->fd, buf, want, (off_t)(e->file_offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			XXH3_freeState(st);
			return img_fail(err, errlen, "%s", n < 0 ? strerror(errno) : "file ends early");
		}
		XXH3_64bits_update(st, buf, (size_t)n);
		if (content)
			XXH3_64bits_update(content, buf, (size_t)n);
		if (dst)
			memcpy(dst + done, buf, (size_t)n);
		done += (uint64_t)n;
	}
	*sum = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return 0;
}

/* Index and extent checks every reader starts with. */
static int ds_checked(struct img_pages *p, const AmberImg__Image *img, unsigned i, char *label, size_t labellen,
		      char *err, size_t errlen)
{
	char msg[256];
	if (!img || i >= img->n_dataspaces || !img->dataspaces[i])
		return img_fail(err, errlen, "%s: dataspace %u: no such dataspace (the image has %zu)", p->path, i,
				img ? img->n_dataspaces : 0);
	img_ds_label(label, labellen, img, i);
	if (img_extents_check(img->dataspaces[i], p->length, msg, sizeof(msg)) < 0)
		return img_fail(err, errlen, "%s: %s %s", p->path, label, msg);
	return 0;
}

static int mismatch(const struct img_pages *p, const char *label, size_t k, const AmberImg__Extent *e,
		    uint64_t sum, char *err, size_t errlen)
{
	return img_fail(err, errlen, "%s: %s extent %zu at offset 0x%llx: checksum mismatch (stored 0x%016llx, computed 0x%016llx)",
			p->path, label, k, (unsigned long long)e->offset, (unsigned long long)e->xxh3,
			(unsigned long long)sum);
}

int img_pages_read(struct img_pages *p, const AmberImg__Image *img, unsigned i, uint8_t *dst, char *err,
		   size_t errlen)
{
	char label[128], msg[256];
	if (ds_checked(p, img, i, label, sizeof(label), err, errlen) < 0)
		return -1;
	const AmberImg__Dataspace *d = img->dataspaces[i];
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		return img_fail(err, errlen, "%s: out of memory", p->path);
	uint64_t sum;
	int rc = 0;
	size_t k = 0;
	/* Every checksum first: a damaged image leaves dst untouched. */
	for (k = 0; k < d->n_extents && rc == 0; k++) {
		const AmberImg__Extent *e = d->extents[k];
		if (extent_stream(p, e, buf, NULL, NULL, &sum, msg, sizeof(msg)) < 0)
			rc = img_fail(err, errlen, "%s: %s extent %zu at offset 0x%llx: %s", p->path, label, k,
				      (unsigned long long)e->offset, msg);
		else if (sum != e->xxh3)
			rc = mismatch(p, label, k, e, sum, err, errlen);
	}
	for (k = 0; k < d->n_extents && rc == 0; k++) {
		const AmberImg__Extent *e = d->extents[k];
		if (extent_stream(p, e, buf, dst + e->offset, NULL, &sum, msg, sizeof(msg)) < 0 || sum != e->xxh3) {
			/* Changed since the first pass (generations are never written
			 * in place, so only by someone else): take back what was copied. */
			for (size_t j = 0; j <= k; j++)
				memset(dst + d->extents[j]->offset, 0, d->extents[j]->length);
			rc = img_fail(err, errlen, "%s: %s extent %zu at offset 0x%llx: changed while being read", p->path,
				      label, k, (unsigned long long)e->offset);
		}
	}
	free(buf);
	return rc;
}

/* The stored content, placed: the size, then for each run of extents that
 * follow one another in the dataspace its offset, length and bytes,
 * integers as 8 bytes little-endian. Runs, not extents, so that where a
 * writer cut the memory (image.c cuts it into chunks) does not change the
 * hash: it equals img_memory_content_hash of the memory loaded. Proportional
 * to what is stored, not to the size (a hostile image may claim any size). */
static void hash_u64(XXH3_state_t *st, uint64_t v)
{
	uint8_t b[8];
	for (unsigned k = 0; k < 8; k++)
		b[k] = (uint8_t)(v >> (8 * k));
	XXH3_64bits_update(st, b, sizeof(b));
}

int img_pages_content_hash(struct img_pages *p, const AmberImg__Image *img, unsigned i, uint64_t *hash,
			   char *err, size_t errlen)
{
	char label[128], msg[256];
	if (ds_checked(p, img, i, label, sizeof(label), err, errlen) < 0)
		return -1;
	const AmberImg__Dataspace *d = img->dataspaces[i];
	uint8_t *buf = malloc(CHUNK);
	XXH3_state_t *content = XXH3_createState();
	int rc = 0;
	if (!buf || !content) {
		rc = img_fail(err, errlen, "%s: out of memory", p->path);
		goto out;
	}
	XXH3_64bits_reset(content);
	hash_u64(content, d->size);
	uint64_t sum;
	for (size_t k = 0; k < d->n_extents && rc == 0; k++) {
		const AmberImg__Extent *e = d->extents[k];
		if (k == 0 || d->extents[k - 1]->offset + d->extents[k - 1]->length != e->offset) {
			uint64_t run = e->length; /* ds_checked: extents in order, inside the size */
			for (size_t j = k + 1; j < d->n_extents && d->extents[j]->offset == e->offset + run; j++)
				run += d->extents[j]->length;
			hash_u64(content, e->offset);
			hash_u64(content, run);
		}
		if (extent_stream(p, e, buf, NULL, content, &sum, msg, sizeof(msg)) < 0)
			rc = img_fail(err, errlen, "%s: %s extent %zu at offset 0x%llx: %s", p->path, label, k,
				      (unsigned long long)e->offset, msg);
		else if (sum != e->xxh3)
			rc = mismatch(p, label, k, e, sum, err, errlen);
	}
	if (rc == 0)
		*hash = XXH3_64bits_digest(content);
out:
	XXH3_freeState(content);
	free(buf);
	return rc;
}

uint64_t img_memory_content_hash(const uint8_t *mem, uint64_t size)
{
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		abort();
	XXH3_64bits_reset(st);
	hash_u64(st, size);
	for (uint64_t at = 0; at < size;) {
		if (img_page_zero(mem + at)) {
			at += IMG_PAGE;
			continue;
		}
		uint64_t end = at;
		while (end < size && !img_page_zero(mem + end))
			end += IMG_PAGE;
		hash_u64(st, at);
		hash_u64(st, end - at);
		XXH3_64bits_update(st, mem + at, end - at);
		at = end;
	}
	uint64_t h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

int img_pages_file_hash(struct img_pages *p, uint64_t *hash, char *err, size_t errlen)
{
	AmberImg__Extent all = AMBER_IMG__EXTENT__INIT;
	all.file_offset = IMG_HEADER_SIZE;
	all.length = p->length;
	char msg[256];
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		return img_fail(err, errlen, "%s: out of memory", p->path);
	int rc = extent_stream(p, &all, buf, NULL, NULL, hash, msg, sizeof(msg));
	free(buf);
	return rc < 0 ? img_fail(err, errlen, "%s: %s", p->path, msg) : 0;
}

int image_read_pages(const char *dir, const AmberImg__Image *img, unsigned i, uint8_t *dst, char *err,
		     size_t errlen)
{
	char gen[PATH_MAX];
	struct img_pages p;
	if (image_current(dir, gen, sizeof(gen), err, errlen) < 0 || img_pages_open(gen, &p, err, errlen) < 0)
		return -1;
	int rc = img_pages_read(&p, img, i, dst, err, errlen);
	img_pages_close(&p);
	return rc;
}

/* Longer chains are refused: a loop of parents would never end. */
#define CHAIN_MAX 64

/* With a sink (image_plan_memory) extents are told, not read. */
struct plan_sink {
	image_extent_fn fn;
	void *ctx;
};

static int load_generation(const char *gen, const AmberImg__Image *img, const int *fds, unsigned depth,
			   const struct plan_sink *sink, char *err, size_t errlen);

/* An incremental image's parent loads first: every dataspace that names a
 * parent dataspace gets the parent's pages, and its own go over them. */
static int load_parent(const char *gen, const AmberImg__Image *img, const int *fds, unsigned depth,
		       const struct plan_sink *sink, char *err, size_t errlen)
{
	bool any = false;
	for (unsigned i = 0; i < img->n_dataspaces; i++)
		any |= fds[i] >= 0 && img->dataspaces[i]->parent_dataspace != 0;
	if (!any)
		return 0;
	if (depth >= CHAIN_MAX)
		return img_fail(err, errlen, "%s: more than %u parent images: a loop?", gen, CHAIN_MAX);
	AmberImg__Image *parent = NULL;
	struct img_info info;
	char msg[512];
	if (img_read_info(img->parent_image, NULL, &parent, &info, msg, sizeof(msg)) < 0)
		return img_fail(err, errlen, "%s: its parent image: %s", gen, msg);
	int rc = 0;
	if (info.meta_xxh3 != img->parent_meta_xxh3)
		rc = img_fail(err, errlen, "%s: parent image %s is not the one it was taken against (image.pb checksum 0x%016llx, expected 0x%016llx)",
			      gen, img->parent_image, (unsigned long long)info.meta_xxh3,
			      (unsigned long long)img->parent_meta_xxh3);
	int *pfds = rc ? NULL : malloc((parent->n_dataspaces + 1) * sizeof(*pfds));
	if (!rc && !pfds)
		rc = img_fail(err, errlen, "%s: out of memory", gen);
	for (unsigned j = 0; !rc && j < parent->n_dataspaces; j++)
		pfds[j] = -1;
	for (unsigned i = 0; !rc && i < img->n_dataspaces; i++) {
		uint32_t k = img->dataspaces[i]->parent_dataspace;
		if (fds[i] < 0 || k == 0)
			continue;
		char label[128];
		img_ds_label(label, sizeof(label), img, i);
		if (k > parent->n_dataspaces)
			rc = img_fail(err, errlen, "%s: %s: parent dataspace %u, but the parent has %zu", gen, label, k,
				      parent->n_dataspaces);
		else if (parent->dataspaces[k - 1]->size != img->dataspaces[i]->size)
			rc = img_fail(err, errlen, "%s: %s: size 0x%llx, its parent dataspace %u has 0x%llx", gen, label,
				      (unsigned long long)img->dataspaces[i]->size, k,
				      (unsigned long long)parent->dataspaces[k - 1]->size);
		else if (pfds[k - 1] >= 0)
			rc = img_fail(err, errlen, "%s: %s: parent dataspace %u is inherited twice", gen, label, k);
		else
			pfds[k - 1] = fds[i];
	}
	if (!rc)
		rc = load_generation(info.gen, parent, pfds, depth + 1, sink, err, errlen);
	free(pfds);
	image_free(parent);
	return rc;
}

/* ---- one generation's extents, copied by several workers ---- */

struct load_item {
	unsigned ds;
	size_t k;
};

struct load {
	struct img_pages *p;
	const AmberImg__Image *img;
	const int *fds;
	struct load_item *items;
	size_t n, cap;
	pthread_mutex_t lock; /* next and the first failure */
	size_t next;
	bool failed;
	char err[512];
};

static int load_add(struct load *l, unsigned ds, size_t k)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct load_item *g = realloc(l->items, cap * sizeof(*g));
		if (!g)
			return -1;
		l->items = g;
		l->cap = cap;
	}
	l->items[l->n++] = (struct load_item){ ds, k };
	return 0;
}

static void load_fail(struct load *l, const char *msg)
{
	pthread_mutex_lock(&l->lock);
	if (!l->failed)
		snprintf(l->err, sizeof(l->err), "%s", msg);
	l->failed = true;
	pthread_mutex_unlock(&l->lock);
}

/* One extent from pages.bin into its dataspace's file, its XXH3 checked. */
static void load_extent(struct load *l, const struct load_item *it, uint8_t *buf, XXH3_state_t *st)
{
	const AmberImg__Extent *e = l->img->dataspaces[it->ds]->extents[it->k];
	char label[128], msg[512];
	int rc = 0;
	XXH3_64bits_reset(st);
	for (uint64_t done = 0; done < e->length && rc == 0;) {
		size_t want = e->length - done < CHUNK ? (size_t)(e->length - done) : CHUNK;
		ssize_t n = pread(l->p->fd, buf, want, (off_t)(e->file_offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		img_ds_label(label, sizeof(label), l->img, it->ds);
		if (n <= 0) {
			rc = img_fail(msg, sizeof(msg), "%s: %s extent %zu at offset 0x%llx: %s", l->p->path, label, it->k,
				      (unsigned long long)e->offset, n < 0 ? strerror(errno) : "file ends early");
			break;
		}
		XXH3_64bits_update(st, buf, (size_t)n);
		if (img_write_full(l->fds[it->ds], buf, (size_t)n, (off_t)(e->offset + done)) < 0)
			rc = img_fail(msg, sizeof(msg), "%s: writing %s: %s", l->p->path, label, strerror(errno));
		done += (uint64_t)n;
	}
	uint64_t sum = XXH3_64bits_digest(st);
	if (rc == 0 && sum != e->xxh3) {
		img_ds_label(label, sizeof(label), l->img, it->ds);
		rc = mismatch(l->p, label, it->k, e, sum, msg, sizeof(msg));
	}
	if (rc < 0)
		load_fail(l, msg);
}

static void *load_worker(void *arg)
{
	struct load *l = arg;
	uint8_t *buf = malloc(CHUNK);
	XXH3_state_t *st = XXH3_createState();
	if (!buf || !st)
		load_fail(l, "out of memory for a loader's buffer");
	for (;;) {
		pthread_mutex_lock(&l->lock);
		const struct load_item *it = buf && st && !l->failed && l->next < l->n ? &l->items[l->next++] : NULL;
		pthread_mutex_unlock(&l->lock);
		if (!it)
			break;
		load_extent(l, it, buf, st);
	}
	XXH3_freeState(st);
	free(buf);
	return NULL;
}

static int load_generation(const char *gen, const AmberImg__Image *img, const int *fds, unsigned depth,
			   const struct plan_sink *sink, char *err, size_t errlen)
{
	char label[128];
	struct img_pages p;
	if (load_parent(gen, img, fds, depth, sink, err, errlen) < 0 || img_pages_open(gen, &p, err, errlen) < 0)
		return -1;
	if (sink) {
		int rc = 0;
		for (unsigned i = 0; i < img->n_dataspaces && rc == 0; i++) {
			if (fds[i] < 0)
				continue;
			rc = ds_checked(&p, img, i, label, sizeof(label), err, errlen);
			for (size_t k = 0; rc == 0 && k < img->dataspaces[i]->n_extents; k++)
				rc = sink->fn(sink->ctx, (unsigned)fds[i], depth, p.fd, img->dataspaces[i]->extents[k]);
			if (rc < 0)
				img_fail(err, errlen, "%s: %s: cannot note its extents", p.path, label);
		}
		img_pages_close(&p);
		return rc;
	}
	/* Every dataspace's extents checked before a byte is copied; then the
	 * extents, which do not overlap within a generation, in any order. */
	struct load l = { .p = &p, .img = img, .fds = fds, .lock = PTHREAD_MUTEX_INITIALIZER };
	int rc = 0;
	uint64_t bytes = 0;
	for (unsigned i = 0; i < img->n_dataspaces && rc == 0; i++) {
		if (fds[i] < 0)
			continue;
		rc = ds_checked(&p, img, i, label, sizeof(label), err, errlen);
		for (size_t k = 0; rc == 0 && k < img->dataspaces[i]->n_extents; k++) {
			if (load_add(&l, i, k) < 0)
				rc = img_fail(err, errlen, "%s: out of memory", p.path);
			bytes += img->dataspaces[i]->extents[k]->length;
		}
	}
	if (rc == 0)
		img_run_workers(load_worker, &l, bytes);
	if (rc == 0 && l.failed)
		rc = img_fail(err, errlen, "%s", l.err);
	free(l.items);
	pthread_mutex_destroy(&l.lock);
	img_pages_close(&p);
	return rc;
}

int image_load_memory(const char *dir, const AmberImg__Image *img, const int *fds, char *err, size_t errlen)
{
	char gen[PATH_MAX];
	if (image_current(dir, gen, sizeof(gen), err, errlen) < 0)
		return -1;
	return load_generation(gen, img, fds, 0, NULL, err, errlen);
}

int image_plan_memory(const char *gen, const AmberImg__Image *img, const int *tags, image_extent_fn fn, void *ctx,
		      char *err, size_t errlen)
{
	struct plan_sink sink = { fn, ctx };
	return load_generation(gen, img, tags, 0, &sink, err, errlen);
}
