/*
 * Lazy restore: pages on first touch, the rest by a loader (cr_lazy.h).
 *
 * Each lazy dataspace starts as an empty memfd. Its mappings in the
 * restored processes are registered in missing mode with the process's
 * userfaultfd (the one cr_copy.c uses, process_uffd); on shared memory a
 * page is "missing" while the memfd has none there, so the first touch of
 * a page the loader has not copied yet stops the thread in a fault.
 *
 * One loader thread per restore does both jobs, never under the kernel
 * lock: between chunks of its sequential pass over the extents it reads
 * the faults and answers each with that page (from pages.bin, or zeros),
 * and each chunk's pages that are not there yet go in with UFFDIO_COPY.
 * UFFDIO_COPY never replaces a page (EEXIST), so a page the component
 * wrote first stays as written. Where no live process of the set maps a
 * page any more (it ended, or the dataspace was never mapped), nobody can
 * write it either, and it is written into the memfd's hole directly.
 *
 * Checksums: a fault takes its page before the extent's XXH3 is known
 * (that needs the whole extent, up to the whole dataspace). The pass
 * hashes every extent it reads; a mismatch ends every component that maps
 * the damaged dataspace, with a report naming the extent: it may have
 * read the damaged bytes. What the pass finds before any thread runs (a
 * dataspace nobody maps) still refuses the restore.
 *
 * AMBER_LAZY_PACE_US=N (tests only; off unless set) makes the loader rest
 * N microseconds after each chunk, so that a test can end a component or
 * core in the middle of a load on any machine, however fast.
 */
#include "cr_lazy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "amber/abi.h"
#include "cr_copy.h" /* rm_each_mapping */
#include "cr_state.h"

#define PAGE AMBER_PAGE_SIZE
/* Faults wait for at most one chunk of the pass. */
#define CHUNK (256u << 10)

struct lazy_src { /* an extent, of the image or of a parent in its chain */
	int fd;          /* its generation's pages.bin */
	unsigned ds;     /* index into z->ds */
	uint64_t file_off, off, len, xxh3;
	bool done;       /* read, checked and its pages in */
};

struct lazy_ds {
	uint64_t id;     /* the dataspace's (dataspace.h), to recognise it */
	int memfd;       /* a dup */
	unsigned index;  /* in the image */
	char name[32];
	size_t pages;
	uint32_t *src;   /* per page: 1 + its extent in z->src; 0: a zero page */
	uint8_t *loaded; /* per page: there (copied, or found there) */
};

struct lazy_range { /* a registered mapping of a lazy dataspace */
	const struct component *c;
	struct process *p; /* valid until cr_lazy_forget(c) */
	int uffd;          /* the loader's dup of p's userfaultfd */
	uint64_t addr, size, offset;
	unsigned ds;
	bool dead;         /* its process is gone or going */
};

struct cr_lazy {
	struct lazy_ds *ds;
	size_t nds;
	struct lazy_src *src;
	size_t nsrc, srccap;
	int *gen_fd; /* pages.bin per chain depth */
	size_t ngen;
	struct lazy_range *r;
	size_t nr, rcap;
	struct lazy_uffd {
		const struct process *p;
		int fd;
	} *uffds;
	size_t nuffds, uffdcap;
	pthread_t thread;
	bool started, done, abort;
	unsigned pace_us;  /* AMBER_LAZY_PACE_US: rest after each chunk (tests) */
	char root[64];
	size_t faulted, copied, filled;
	struct timespec t0;
	uint8_t *buf;
	struct cr_lazy *next;
};

/* lazy_lock protects the list of loads, each load's done and abort, its
 * ranges' dead and p, and its pages' loaded marks; the loader holds it per
 * chunk and per round of faults, so that cr_lazy_forget (before a process
 * goes) waits for a copy or kill under way. Never taken with it: the
 * kernel lock (taken before it by cr_lazy_touch's callers, never by the
 * loader). lazy_changed: a load became done. */
static pthread_mutex_t lazy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lazy_changed = PTHREAD_COND_INITIALIZER;
static struct cr_lazy *loads; /* armed, until reaped */

static const uint8_t zero_page[PAGE];

bool cr_lazy_kind(const AmberImg__Dataspace *d)
{
	return d->kind == AMBER_IMG__DATASPACE_KIND__DS_SEGMENT || d->kind == AMBER_IMG__DATASPACE_KIND__DS_RAM;
}

/* ---- the plan ------------------------------------------------------------------- */

static int plan_extent(void *ctx, unsigned ds, unsigned depth, int pages_fd, const AmberImg__Extent *e)
{
	struct cr_lazy *z = ctx;
	if (depth >= z->ngen) {
		int *g = realloc(z->gen_fd, (depth + 1) * sizeof(*g));
		if (!g)
			return -1;
		for (size_t k = z->ngen; k <= depth; k++)
			g[k] = -1;
		z->gen_fd = g;
		z->ngen = depth + 1;
	}
	if (z->gen_fd[depth] < 0 && (z->gen_fd[depth] = fcntl(pages_fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -1;
	if (z->nsrc == z->srccap) {
		z->srccap = z->srccap ? 2 * z->srccap : 64;
		struct lazy_src *s = realloc(z->src, z->srccap * sizeof(*s));
		if (!s)
			return -1;
		z->src = s;
	}
	z->src[z->nsrc++] = (struct lazy_src){ z->gen_fd[depth], ds, e->file_offset, e->offset, e->length, e->xxh3, false };
	struct lazy_ds *d = &z->ds[ds];
	/* A later extent's pages replace an earlier one's (a nearer image). */
	for (size_t p = e->offset / PAGE; p < (e->offset + e->length) / PAGE && p < d->pages; p++)
		d->src[p] = (uint32_t)z->nsrc;
	return 0;
}

void cr_lazy_free(struct cr_lazy *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->nds; i++) {
		if (z->ds[i].memfd >= 0)
			close(z->ds[i].memfd);
		free(z->ds[i].src);
		free(z->ds[i].loaded);
	}
	for (size_t k = 0; k < z->ngen; k++)
		if (z->gen_fd[k] >= 0)
			close(z->gen_fd[k]);
	for (size_t k = 0; k < z->nuffds; k++)
		close(z->uffds[k].fd);
	free(z->uffds);
	free(z->gen_fd);
	free(z->src);
	free(z->ds);
	free(z->r);
	free(z->buf);
	free(z);
}

struct cr_lazy *cr_lazy_plan(const char *gen, const AmberImg__Image *img, const bool *lazy,
			     const struct dataspace *mem, const struct timespec *t0, char *err, size_t errlen)
{
	struct cr_lazy *z = calloc(1, sizeof(*z));
	int *tags = calloc(img->n_dataspaces + 1, sizeof(*tags));
	if (!z || !tags || !(z->ds = calloc(img->n_dataspaces + 1, sizeof(*z->ds))) || !(z->buf = malloc(CHUNK)))
		abort();
	z->t0 = *t0;
	for (size_t i = 0; i < img->n_dataspaces; i++) {
		tags[i] = -1;
		if (!lazy[i] || mem[i].fd < 0)
			continue;
		struct lazy_ds *d = &z->ds[z->nds];
		d->id = mem[i].id;
		d->index = (unsigned)i;
		snprintf(d->name, sizeof(d->name), "%s", img->dataspaces[i]->name);
		d->pages = mem[i].size / PAGE;
		d->src = calloc(d->pages + 1, sizeof(*d->src));
		d->loaded = calloc(d->pages + 1, 1);
		d->memfd = fcntl(mem[i].fd, F_DUPFD_CLOEXEC, 0);
		if (!d->src || !d->loaded)
			abort();
		tags[i] = (int)z->nds++;
		if (d->memfd < 0) {
			snprintf(err, errlen, "dataspace %zu: %s", i, strerror(errno));
			free(tags);
			cr_lazy_free(z);
			return NULL;
		}
	}
	int rc = image_plan_memory(gen, img, tags, plan_extent, z, err, errlen);
	free(tags);
	if (rc < 0) {
		cr_lazy_free(z);
		return NULL;
	}
	return z;
}

/* ---- putting pages in ----------------------------------------------------------- */

/* Copy [off, off+len) of dataspace ds (whole pages, none there as far as
 * the loader knows) through r. The bytes done (EEXIST counts as done: the
 * page is there and stays), or -1 with r dead (its process is gone). */
static int64_t copy_through(struct lazy_range *r, uint64_t off, const uint8_t *from, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		struct uffdio_copy c = { .dst = r->addr + (off + done - r->offset), .src = (uintptr_t)(from + done),
					 .len = len - done, .mode = 0 };
		if (ioctl(r->uffd, UFFDIO_COPY, &c) == 0) {
			done = len;
		} else if (c.copy > 0) {
			done += (uint64_t)c.copy;
		} else if (errno == EEXIST) {
			struct uffdio_range w = { r->addr + (off + done - r->offset), PAGE };
			(void)ioctl(r->uffd, UFFDIO_WAKE, &w); /* someone may wait for it */
			done += PAGE;
		} else if (errno != EAGAIN) {
			r->dead = true;
			return -1;
		}
	}
	return (int64_t)done;
}

/* The same into the memfd's holes: nobody maps those pages any more. */
static void fill_holes(struct cr_lazy *z, struct lazy_ds *d, uint64_t off, const uint8_t *from, uint64_t len)
{
	for (uint64_t at = 0; at < len; at += PAGE) {
		off_t there = lseek(d->memfd, (off_t)(off + at), SEEK_DATA);
		if (there == (off_t)(off + at))
			continue; /* written: it stays */
		if (pwrite(d->memfd, from + at, PAGE, (off_t)(off + at)) == (ssize_t)PAGE)
			z->filled++;
	}
}

/* Put pages [off, off+len) of d in, through any live mapping, else into
 * the memfd; they count as loaded. lazy_lock held. */
static void put(struct cr_lazy *z, unsigned ds, uint64_t off, const uint8_t *from, uint64_t len)
{
	struct lazy_ds *d = &z->ds[ds];
	size_t first = (size_t)(off / PAGE), n = (size_t)(len / PAGE);
	while (len > 0) {
		struct lazy_range *r = NULL;
		for (size_t k = 0; k < z->nr && !r; k++)
			if (!z->r[k].dead && z->r[k].ds == ds && off >= z->r[k].offset && off - z->r[k].offset < z->r[k].size)
				r = &z->r[k];
		uint64_t step = len;
		if (r) {
			if (r->offset + r->size - off < step)
				step = r->offset + r->size - off;
			if (copy_through(r, off, from, step) < 0)
				continue; /* r is dead now: another one, or the memfd */
			z->copied += step / PAGE;
		} else {
			/* No live mapping here: up to where one starts. */
			for (size_t k = 0; k < z->nr; k++)
				if (!z->r[k].dead && z->r[k].ds == ds && z->r[k].offset > off && z->r[k].offset - off < step)
					step = z->r[k].offset - off;
			fill_holes(z, d, off, from, step);
		}
		off += step;
		from += step;
		len -= step;
	}
	memset(d->loaded + first, 1, n);
}

/* ---- faults --------------------------------------------------------------------- */

static void fault(struct cr_lazy *z, int uffd, uint64_t addr)
{
	addr &= ~(uint64_t)(PAGE - 1);
	for (size_t k = 0; k < z->nr; k++) {
		struct lazy_range *r = &z->r[k];
		if (r->dead || r->uffd != uffd || addr < r->addr || addr - r->addr >= r->size)
			continue;
		uint64_t off = r->offset + (addr - r->addr);
		struct lazy_ds *d = &z->ds[r->ds];
		size_t p = (size_t)(off / PAGE);
		if (p >= d->pages)
			return;
		if (d->loaded[p]) { /* copied meanwhile: it only has to go on */
			struct uffdio_range w = { addr, PAGE };
			(void)ioctl(uffd, UFFDIO_WAKE, &w);
			return;
		}
		uint8_t page[PAGE];
		const uint8_t *from = zero_page;
		if (d->src[p]) {
			const struct lazy_src *s = &z->src[d->src[p] - 1];
			/* Not checked yet: the pass checks its extent (header comment). */
			if (pread(s->fd, page, PAGE, (off_t)(s->file_off + (off - s->off))) == (ssize_t)PAGE)
				from = page;
		}
		if (copy_through(r, off, from, PAGE) == (int64_t)PAGE) {
			d->loaded[p] = 1;
			z->faulted++;
		}
		return;
	}
}

/* Answer every fault waiting in the set's userfaultfds. lazy_lock held. */
static void serve_faults(struct cr_lazy *z)
{
	struct uffd_msg msg;
	for (size_t k = 0; k < z->nuffds; k++)
		while (read(z->uffds[k].fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			if (msg.event == UFFD_EVENT_PAGEFAULT && !(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP))
				fault(z, z->uffds[k].fd, msg.arg.pagefault.address);
}

/* ---- the pass ------------------------------------------------------------------- */

/* End every live process that maps dataspace ds: its pages may be damaged.
 * lazy_lock held (the processes stay valid). How many. */
static size_t end_mappers(struct cr_lazy *z, unsigned ds, const char *why)
{
	size_t n = 0;
	for (size_t k = 0; k < z->nr; k++) {
		struct lazy_range *r = &z->r[k];
		if (r->dead || r->ds != ds)
			continue;
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen |= z->r[j].p == r->p && z->r[j].ds == ds;
		if (!seen) {
			process_kill(r->p, why);
			n++;
		}
	}
	return n;
}

/* Read extent s through z->buf, hashing, and put in each chunk's pages it
 * supplies that are not there yet; with serve, faults are answered between
 * chunks. 0; 1 aborted; -1 damaged or unreadable (err). Takes lazy_lock
 * per chunk. */
static int pass_src(struct cr_lazy *z, size_t si, bool serve, char *err, size_t errlen)
{
	struct lazy_src *s = &z->src[si];
	struct lazy_ds *d = &z->ds[s->ds];
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		abort();
	XXH3_64bits_reset(st);
	int rc = 0;
	for (uint64_t at = 0; at < s->len && rc == 0;) {
		size_t want = s->len - at < CHUNK ? (size_t)(s->len - at) : CHUNK;
		ssize_t n = pread(s->fd, z->buf, want, (off_t)(s->file_off + at));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (size_t)n % PAGE) {
			rc = -1;
			snprintf(err, errlen, "dataspace %u (%s) extent at offset 0x%llx: %s", d->index, d->name,
				 (unsigned long long)s->off, n < 0 ? strerror(errno) : "pages.bin ends early");
			break;
		}
		XXH3_64bits_update(st, z->buf, (size_t)n);
		pthread_mutex_lock(&lazy_lock);
		if (serve)
			serve_faults(z);
		if (z->abort)
			rc = 1;
		for (size_t p = (size_t)((s->off + at) / PAGE), end = p + (size_t)n / PAGE; p < end && rc == 0;) {
			if (p >= d->pages || d->loaded[p] || d->src[p] != si + 1) {
				p++;
				continue;
			}
			size_t q = p;
			while (q < end && q < d->pages && !d->loaded[q] && d->src[q] == si + 1)
				q++;
			put(z, s->ds, p * PAGE, z->buf + (p * PAGE - (s->off + at)), (q - p) * PAGE);
			p = q;
		}
		pthread_mutex_unlock(&lazy_lock);
		at += (uint64_t)n;
		if (serve && z->pace_us)
			usleep(z->pace_us); /* faults wait meanwhile: tests only */
	}
	uint64_t sum = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	if (rc == 0 && sum != s->xxh3) {
		rc = -1;
		snprintf(err, errlen, "dataspace %u (%s) extent at offset 0x%llx: checksum mismatch (stored 0x%016llx, computed 0x%016llx)",
			 d->index, d->name, (unsigned long long)s->off, (unsigned long long)s->xxh3,
			 (unsigned long long)sum);
	}
	s->done = rc == 0;
	return rc;
}

/* Every registration lifted (a thread still waiting in a fault retries
 * and finds its page, or a hole that reads as zero), every fd closed; the
 * load counts as done. */
static void finish(struct cr_lazy *z)
{
	pthread_mutex_lock(&lazy_lock);
	for (size_t k = 0; k < z->nr; k++) {
		struct lazy_range *r = &z->r[k];
		struct uffdio_range u = { r->addr, r->size };
		if (!r->dead)
			(void)ioctl(r->uffd, UFFDIO_UNREGISTER, &u);
		r->dead = true;
	}
	struct uffd_msg msg; /* answered by the unregistration */
	for (size_t k = 0; k < z->nuffds; k++) {
		while (read(z->uffds[k].fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			;
		close(z->uffds[k].fd);
	}
	z->nuffds = 0;
	for (size_t i = 0; i < z->nds; i++) {
		if (z->ds[i].memfd >= 0)
			close(z->ds[i].memfd);
		z->ds[i].memfd = -1;
	}
	z->done = true;
	pthread_cond_broadcast(&lazy_changed);
	pthread_mutex_unlock(&lazy_lock);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void *loader(void *arg)
{
	struct cr_lazy *z = arg;
	char err[320];
	const char *pace = getenv("AMBER_LAZY_PACE_US");
	z->pace_us = pace ? (unsigned)strtoul(pace, NULL, 10) % 1000000u : 0;
	size_t damaged = 0;
	for (size_t i = 0; i < z->nsrc; i++) {
		if (z->src[i].done)
			continue;
		int rc = pass_src(z, i, true, err, sizeof(err));
		if (rc > 0)
			break;
		if (rc < 0) {
			char why[400];
			snprintf(why, sizeof(why), "lazy restore: %s", err);
			pthread_mutex_lock(&lazy_lock);
			size_t ended = end_mappers(z, z->src[i].ds, why);
			pthread_mutex_unlock(&lazy_lock);
			core_report("lazy restore of %s: %s; %zu process%s that map%s it ended", z->root, err, ended,
				    ended == 1 ? "" : "es", ended == 1 ? "s" : "");
			damaged++;
		}
	}
	pthread_mutex_lock(&lazy_lock);
	bool aborted = z->abort;
	pthread_mutex_unlock(&lazy_lock);
	finish(z);
	if (!aborted)
		core_report("%s: lazy load done in %.2f ms after the request: %zu pages copied, %zu on first touch, %zu "
			    "into memfds%s",
			    z->root, ms_since(&z->t0), z->copied, z->faulted, z->filled,
			    damaged ? " (damaged extents: components ended)" : "");
	return NULL;
}

/* ---- arming --------------------------------------------------------------------- */

struct arm_ctx {
	struct cr_lazy *z;
	bool failed;
};

static int uffd_dup(struct cr_lazy *z, struct process *p)
{
	for (size_t k = 0; k < z->nuffds; k++)
		if (z->uffds[k].p == p)
			return z->uffds[k].fd;
	int fd = process_uffd(p);
	if (fd < 0)
		return fd;
	int mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mine < 0)
		return -errno;
	if (z->nuffds == z->uffdcap) {
		z->uffdcap = z->uffdcap ? 2 * z->uffdcap : 8;
		if (!(z->uffds = realloc(z->uffds, z->uffdcap * sizeof(*z->uffds))))
			abort();
	}
	z->uffds[z->nuffds++] = (struct lazy_uffd){ p, mine };
	return mine;
}

static void arm_mapping(void *ctx, struct component *c, const struct process_mapping *m)
{
	struct arm_ctx *a = ctx;
	struct cr_lazy *z = a->z;
	if (a->failed || !m->ds)
		return;
	size_t i = 0;
	while (i < z->nds && z->ds[i].id != m->ds->id)
		i++;
	if (i == z->nds)
		return;
	int uffd = uffd_dup(z, c->process);
	struct uffdio_register reg = { .range = { m->addr, m->size }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (uffd < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		a->failed = true;
		return;
	}
	if (z->nr == z->rcap) {
		z->rcap = z->rcap ? 2 * z->rcap : 16;
		if (!(z->r = realloc(z->r, z->rcap * sizeof(*z->r))))
			abort();
	}
	z->r[z->nr++] = (struct lazy_range){ c, c->process, uffd, m->addr, m->size, m->offset, (unsigned)i, false };
}

/* Reap loads that are done: joined and freed. */
static void reap(void)
{
	for (;;) {
		struct cr_lazy *z = NULL;
		pthread_mutex_lock(&lazy_lock);
		for (struct cr_lazy **pp = &loads; *pp; pp = &(*pp)->next)
			if ((*pp)->done) {
				z = *pp;
				*pp = z->next;
				break;
			}
		pthread_mutex_unlock(&lazy_lock);
		if (!z)
			return;
		if (z->started)
			pthread_join(z->thread, NULL);
		cr_lazy_free(z);
	}
}

int cr_lazy_arm(struct cr_lazy *z, struct component **set, size_t n, const char *root, char *err, size_t errlen)
{
	snprintf(z->root, sizeof(z->root), "%s", root);
	struct arm_ctx a = { z, false };
	for (size_t i = 0; i < n; i++)
		if (set[i]->process && set[i]->state != COMPONENT_ENDED)
			rm_each_mapping(set[i], arm_mapping, &a);
	if (a.failed) { /* no userfaultfd: everything now, into the memfds */
		for (size_t k = 0; k < z->nr; k++) {
			struct uffdio_range u = { z->r[k].addr, z->r[k].size };
			(void)ioctl(z->r[k].uffd, UFFDIO_UNREGISTER, &u);
			z->r[k].dead = true;
		}
	}
	/* Nothing runs yet: what no live mapping shows is loaded now, and a
	 * damaged extent of it still refuses the restore. */
	for (size_t i = 0; i < z->nsrc; i++) {
		bool mapped = false;
		for (size_t k = 0; k < z->nr; k++)
			mapped |= !z->r[k].dead && z->r[k].ds == z->src[i].ds;
		if (!mapped && pass_src(z, i, false, err, errlen) < 0) {
			cr_lazy_free(z);
			return -1;
		}
	}
	bool any = false;
	for (size_t k = 0; k < z->nr; k++)
		any |= !z->r[k].dead;
	if (!any) {
		cr_lazy_free(z);
		return 0;
	}
	reap();
	pthread_mutex_lock(&lazy_lock);
	z->next = loads;
	loads = z;
	z->started = pthread_create(&z->thread, NULL, loader, z) == 0;
	pthread_mutex_unlock(&lazy_lock);
	if (!z->started) { /* load it here, then */
		for (size_t i = 0; i < z->nsrc; i++)
			if (!z->src[i].done && pass_src(z, i, true, err, errlen) < 0)
				core_report("lazy restore of %s: %s", root, err);
		finish(z);
	}
	return 0;
}

/* ---- the others' side ----------------------------------------------------------- */

static bool has_ds(const struct cr_lazy *z, uint64_t id)
{
	for (size_t i = 0; i < z->nds; i++)
		if (z->ds[i].id == id)
			return true;
	return false;
}

void cr_lazy_touch(const struct dataspace *mem)
{
	if (!mem)
		return;
	pthread_mutex_lock(&lazy_lock);
	for (struct cr_lazy *z = loads; z;) {
		if (!z->done && has_ds(z, mem->id)) {
			pthread_cond_wait(&lazy_changed, &lazy_lock);
			z = loads; /* the list may have changed */
			continue;
		}
		z = z->next;
	}
	pthread_mutex_unlock(&lazy_lock);
}

void cr_lazy_settle(void)
{
	pthread_mutex_lock(&lazy_lock);
	for (struct cr_lazy *z = loads; z;) {
		if (!z->done) {
			pthread_cond_wait(&lazy_changed, &lazy_lock);
			z = loads;
			continue;
		}
		z = z->next;
	}
	pthread_mutex_unlock(&lazy_lock);
	reap();
}

void cr_lazy_forget(const struct component *c)
{
	pthread_mutex_lock(&lazy_lock);
	for (struct cr_lazy *z = loads; z; z = z->next) {
		bool live = false;
		for (size_t k = 0; k < z->nr; k++) {
			if (z->r[k].c == c)
				z->r[k].dead = true;
			live |= !z->r[k].dead;
		}
		if (!live) /* the whole set is gone: nobody needs the rest */
			z->abort = true;
	}
	pthread_mutex_unlock(&lazy_lock);
}

void cr_lazy_shutdown(void)
{
	pthread_mutex_lock(&lazy_lock);
	for (struct cr_lazy *z = loads; z; z = z->next)
		z->abort = true;
	pthread_mutex_unlock(&lazy_lock);
	cr_lazy_settle();
}
