/*
 * Copy-on-write of a checkpoint's memory (cr_copy.h).
 *
 * The protection is userfaultfd's write-protect mode on the components'
 * shared mappings of the memfds: a write to a protected page stops the
 * writing thread in a fault, reported on the process's userfaultfd, until
 * the protection of that page is lifted. Reads are not affected.
 *
 * One mutex orders the two sides. The store (cr_copy_read) reads a run of
 * pages from the memfd, then under the mutex takes for each page already
 * copied on a write the copy instead and marks the run done. The helper,
 * for a fault, copies the page from the memfd unless it is done, marks it
 * done and lifts the protection of that page.
 * A page is written only after its protection is lifted, which is after
 * it was read or copied: every page is stored as it was at the cut.
 *
 * The memfds are dup'd at the cut, so a dataspace freed meanwhile (its
 * component ended) still reads; nobody can write it then. Faults of
 * mappings made after the cut are covered by cr_copy_mapped.
 *
 * Tracking: the protection is not lifted when a run is stored, and every
 * fault marks its page written. After a committed checkpoint the copy
 * stays as a tracker (cr_copy_end with keep): its helper goes on lifting
 * the protection page by page and marking pages written, so that the next
 * checkpoint against that image stores only those (an incremental image).
 * What the protection cannot see makes a dataspace whole again: core's own
 * writes (dataspace.h `writes`), a mapping that could not be protected,
 * one made by a component outside the set.
 */
#include "cr_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "amber/abi.h"
#include "cr_state.h"

#define PAGE AMBER_PAGE_SIZE

/* Where a dataspace being copied is mapped writable. */
struct range {
	int uffd;         /* the mapping process's, dup'd */
	uint64_t addr, size;
	unsigned ds;      /* index into the copy's dataspaces */
	uint64_t offset;  /* of addr in the dataspace */
	unsigned comp;    /* the mapping component's id */
	bool async;       /* registered with its asynchronous userfaultfd */
};

struct copied_ds {
	const struct dataspace *mem; /* the dataspace at the cut (later mappings: by id) */
	uint64_t id;                 /* mem->id: mem may be freed and its address reused */
	uint64_t writes;             /* mem->writes at the cut */
	bool copied;                 /* being copied or tracked (else: stored in the pause) */
	bool untracked;              /* written where the protection does not see it */
	int fd;                      /* dup of its memfd; -1 once only tracked */
	size_t pages;
	uint8_t *done;               /* per page: stored or copied, or not to be stored */
	uint8_t **saved;             /* per page: its content at the cut, if copied on a write */
	uint8_t *written;            /* per page: written since the cut */
	uint8_t *want;               /* incremental: per page, written since the base's cut */
};

struct cr_copy {
	pthread_mutex_t lock;
	struct copied_ds *ds;
	size_t nds;
	struct range *r;
	size_t nr, cap;
	struct copy_uffd {
		const struct process *p;
		int fd; /* a dup of its userfaultfd (in epoll), or of the asynchronous one */
		bool async;
	} *uffds;
	size_t nuffds, uffdcap;
	int epoll, stop;
	pthread_t helper;
	bool helper_running;
	size_t cow_pages;
	bool tracking;        /* stored and committed: only marks written pages */
	bool async;           /* its ranges are protected asynchronously: the
			       * kernel notes writes, PAGEMAP_SCAN reads them */
	unsigned *members;    /* ids of the set's components */
	size_t nmembers;
	char image[PATH_MAX]; /* tracking: the generation it is relative to */
	uint64_t image_xxh3;  /* and its image.pb checksum */
	struct cr_copy *next; /* copies and trackers (cr_copy_mapped) */
	/* An incremental cut against an asynchronous base: the ranges whose
	 * written pages cr_copy_scan reads (and protects again) after the
	 * kernel lock is released, the set still frozen. */
	struct pending_scan {
		struct process *p;
		struct range r;
	} *scans;
	size_t nscans;
};

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cr_copy *running;

static void protect(int uffd, uint64_t addr, uint64_t size, bool on)
{
	struct uffdio_writeprotect wp = { .range = { addr, size }, .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
	/* Fails only for a mapping that is gone: nothing to protect there. */
	(void)ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
}

/* The copy's dup of process p's userfaultfd (or its asynchronous one),
 * made on first use. */
static int uffd_of(struct cr_copy *cc, struct process *p, bool async)
{
	int fd = async ? process_uffd_async(p) : process_uffd(p);
	if (fd < 0)
		return fd;
	for (size_t i = 0; i < cc->nuffds; i++)
		if (cc->uffds[i].p == p && cc->uffds[i].async == async)
			return cc->uffds[i].fd;
	int mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mine < 0)
		return -errno;
	if (cc->nuffds == cc->uffdcap) {
		cc->uffdcap = cc->uffdcap ? 2 * cc->uffdcap : 8;
		if (!(cc->uffds = realloc(cc->uffds, cc->uffdcap * sizeof(*cc->uffds))))
			abort();
	}
	cc->uffds[cc->nuffds++] = (struct copy_uffd){ p, mine, async };
	if (!async) { /* asynchronous faults send no messages */
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = mine };
		epoll_ctl(cc->epoll, EPOLL_CTL_ADD, mine, &ev);
	}
	return mine;
}

/* Protect, in the mapping at addr of dataspace bytes [offset, +size), the
 * pages written since the base's cut: the others still are protected. */
static void protect_written(int uffd, uint64_t addr, uint64_t size, uint64_t offset, const struct copied_ds *d)
{
	size_t first = (size_t)(offset / PAGE), end = first + (size_t)(size / PAGE);
	for (size_t p = first; p < end && p < d->pages;) {
		if (!d->want[p]) {
			p++;
			continue;
		}
		size_t q = p;
		while (q < end && q < d->pages && d->want[q])
			q++;
		protect(uffd, addr + (p - first) * PAGE, (q - p) * PAGE, true);
		p = q;
	}
}

/* Register and protect m in c's process: all of it, or (an incremental
 * checkpoint's cut, the base's protection still in place) only what was
 * written since. 0 or -errno. */
static int add_range(struct cr_copy *cc, struct component *c, unsigned ds, const struct process_mapping *m,
		     bool only_written)
{
	if (!c->process)
		return 0; /* no process: nothing maps it */
	int uffd = uffd_of(cc, c->process, cc->async);
	if (uffd < 0)
		return uffd;
	struct uffdio_register reg = { .range = { m->addr, m->size }, .mode = UFFDIO_REGISTER_MODE_WP };
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		return -errno;
	if (only_written && cc->ds[ds].want)
		protect_written(uffd, m->addr, m->size, m->offset, &cc->ds[ds]);
	else
		protect(uffd, m->addr, m->size, true);
	if (cc->nr == cc->cap) {
		cc->cap = cc->cap ? 2 * cc->cap : 16;
		if (!(cc->r = realloc(cc->r, cc->cap * sizeof(*cc->r))))
			abort();
	}
	cc->r[cc->nr++] = (struct range){ uffd, m->addr, m->size, ds, m->offset, c->id, cc->async };
	return 0;
}

/* By id (unique while amber-core runs): a queued mapping (as_queue.c)
 * names its dataspace by a copy with the memfd dup'd. */
static int ds_index_of_id(const struct cr_copy *cc, uint64_t id)
{
	for (size_t i = 0; i < cc->nds; i++)
		if (cc->ds[i].copied && cc->ds[i].id == id)
			return (int)i;
	return -1;
}

static int ds_index(const struct cr_copy *cc, const struct dataspace *mem) { return ds_index_of_id(cc, mem->id); }

static bool member(const struct cr_copy *cc, unsigned id)
{
	for (size_t i = 0; i < cc->nmembers; i++)
		if (cc->members[i] == id)
			return true;
	return false;
}

/* ---- the helper: faults ------------------------------------------------------- */

static void copy_page(struct cr_copy *cc, unsigned ds, uint64_t off)
{
	struct copied_ds *d = &cc->ds[ds];
	size_t p = (size_t)(off / PAGE);
	if (p >= d->pages)
		return;
	d->written[p] = 1;
	if (d->done[p])
		return;
	uint8_t *page = malloc(PAGE);
	if (page && pread(d->fd, page, PAGE, (off_t)(p * PAGE)) == (ssize_t)PAGE) {
		d->saved[p] = page;
		cc->cow_pages++;
	} else {
		free(page); /* cannot keep it: the store reads it as it is now */
	}
	d->done[p] = 1;
}

static void fault(struct cr_copy *cc, int uffd, uint64_t addr)
{
	addr &= ~(uint64_t)(PAGE - 1);
	pthread_mutex_lock(&cc->lock);
	for (size_t i = 0; i < cc->nr; i++) {
		struct range *r = &cc->r[i];
		if (r->uffd == uffd && addr >= r->addr && addr - r->addr < r->size) {
			copy_page(cc, r->ds, r->offset + (addr - r->addr));
			break;
		}
	}
	pthread_mutex_unlock(&cc->lock);
	protect(uffd, addr, PAGE, false); /* wakes the writer */
}

static void drain(struct cr_copy *cc, int uffd)
{
	struct uffd_msg msg;
	while (read(uffd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
		if (msg.event == UFFD_EVENT_PAGEFAULT && (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP))
			fault(cc, uffd, msg.arg.pagefault.address);
}

static void *helper(void *arg)
{
	struct cr_copy *cc = arg;
	for (;;) {
		struct epoll_event ev[8];
		int n = epoll_wait(cc->epoll, ev, 8, -1);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == cc->stop)
				return NULL;
			drain(cc, ev[i].data.fd);
		}
	}
}

/* ---- the checkpoint's side ------------------------------------------------------ */

struct begin_ctx {
	struct cr_copy *cc;
	struct component **set;
	size_t n;
	bool *outside_writes; /* per dataspace */
	bool failed;
};

static bool in_set(const struct begin_ctx *b, const struct component *c)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->set[i] == c)
			return true;
	return false;
}

static void note_outside(void *ctx, struct component *c, const struct process_mapping *m)
{
	struct begin_ctx *b = ctx;
	int i = ds_index(b->cc, m->ds);
	if (i >= 0 && (m->prot & PROT_WRITE) && !in_set(b, c))
		b->outside_writes[i] = true;
}

static void visit_outside(struct component *c, void *ctx)
{
	if (c->state == COMPONENT_RUNNING && !in_set(ctx, c))
		rm_each_mapping(c, note_outside, ctx);
}

static void protect_mapping(void *ctx, struct component *c, const struct process_mapping *m)
{
	struct begin_ctx *b = ctx;
	int i = ds_index(b->cc, m->ds);
	if (i >= 0 && (m->prot & PROT_WRITE) && !b->failed && add_range(b->cc, c, (unsigned)i, m, true) < 0)
		b->failed = true;
}

static void copy_free(struct cr_copy *cc)
{
	for (size_t i = 0; i < cc->nds; i++) {
		struct copied_ds *d = &cc->ds[i];
		if (d->fd >= 0)
			close(d->fd);
		for (size_t p = 0; d->saved && p < d->pages; p++)
			free(d->saved[p]);
		free(d->saved);
		free(d->done);
		free(d->written);
		free(d->want);
	}
	for (size_t i = 0; i < cc->nuffds; i++)
		close(cc->uffds[i].fd);
	if (cc->epoll >= 0)
		close(cc->epoll);
	if (cc->stop >= 0)
		close(cc->stop);
	pthread_mutex_destroy(&cc->lock);
	free(cc->uffds);
	free(cc->scans);
	free(cc->members);
	free(cc->r);
	free(cc->ds);
	free(cc);
}

/* Lift r's protection and forget its registration. */
static void release_range(const struct range *r)
{
	protect(r->uffd, r->addr, r->size, false);
	struct uffdio_range u = { r->addr, r->size };
	(void)ioctl(r->uffd, UFFDIO_UNREGISTER, &u);
}

/* The member of the set that mapped r, if it still runs. */
static struct component *running_member(struct component **set, size_t n, const struct range *r)
{
	for (size_t i = 0; i < n; i++)
		if (set[i]->id == r->comp && set[i]->state == COMPONENT_RUNNING && set[i]->process)
			return set[i];
	return NULL;
}

/* Lift every protection, forget every registration. */
static void unprotect_all(struct cr_copy *cc)
{
	for (size_t i = 0; i < cc->nr; i++) {
		release_range(&cc->r[i]);
	}
}

static void list_remove(struct cr_copy *cc)
{
	for (struct cr_copy **pp = &running; *pp; pp = &(*pp)->next)
		if (*pp == cc) {
			*pp = cc->next;
			return;
		}
}

/* Stop the helper; what it has not read stays queued in the userfaultfds
 * for whoever reads them next. */
static void stop_helper(struct cr_copy *cc)
{
	if (!cc->helper_running)
		return;
	uint64_t one = 1;
	if (write(cc->stop, &one, sizeof(one)) != (ssize_t)sizeof(one))
		abort();
	pthread_join(cc->helper, NULL);
	cc->helper_running = false;
}

/* A tracker given up: every protection lifted, the faults it has not
 * read answered, freed. running_lock held. */
static void drop(struct cr_copy *cc)
{
	list_remove(cc);
	pthread_mutex_lock(&cc->lock);
	unprotect_all(cc); /* wakes whoever still waits in a fault */
	pthread_mutex_unlock(&cc->lock);
	stop_helper(cc);
	struct uffd_msg msg;
	for (size_t i = 0; i < cc->nuffds; i++)
		while (read(cc->uffds[i].fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			;
	copy_free(cc);
}

/* The base's record of dataspace `mem` that can stand for it: the same
 * dataspace, every write since the base's cut seen. Its index, or -1. */
static int base_index(const struct cr_copy *base, const struct dataspace *mem)
{
	for (size_t j = 0; base && j < base->nds; j++) {
		const struct copied_ds *b = &base->ds[j];
		if (b->copied && b->id == mem->id && b->mem == mem)
			return !b->untracked && b->writes == mem->writes && b->pages == mem->size / PAGE ? (int)j : -1;
	}
	return -1;
}

/* The base's protection of processes this copy does not watch (outside
 * the set: their dataspaces are stored in the pause now) is lifted. */
static void release_others(struct cr_copy *base, const struct cr_copy *cc)
{
	for (size_t i = 0; i < base->nr; i++) {
		const struct range *r = &base->r[i];
		const struct process *p = NULL;
		bool watched = false;
		for (size_t k = 0; k < base->nuffds; k++)
			if (base->uffds[k].fd == r->uffd)
				p = base->uffds[k].p;
		for (size_t k = 0; k < cc->nuffds && p; k++)
			watched |= cc->uffds[k].p == p;
		if (!watched)
			release_range(r);
	}
}

/* ---- asynchronous tracking ------------------------------------------------------ */

struct scan_ctx {
	struct cr_copy *cc;
	const struct range *r;
};

static void mark_written(void *ctx, uint64_t addr, uint64_t size)
{
	const struct scan_ctx *x = ctx;
	struct copied_ds *d = &x->cc->ds[x->r->ds];
	if (!d->want || addr < x->r->addr)
		return;
	size_t first = (size_t)((x->r->offset + (addr - x->r->addr)) / PAGE);
	for (size_t p = first; p < first + size / PAGE && p < d->pages; p++)
		d->want[p] = 1;
}

static bool covered(const struct cr_copy *cc, const struct component *c, const struct process_mapping *m, int ds)
{
	for (size_t k = 0; k < cc->nr; k++) {
		const struct range *r = &cc->r[k];
		if (r->comp == c->id && r->addr == m->addr && r->size == m->size && r->offset == m->offset &&
		    (int)r->ds == ds)
			return true;
	}
	return false;
}

static void adopt_mapping(void *ctx, struct component *c, const struct process_mapping *m)
{
	struct begin_ctx *b = ctx;
	int i = ds_index(b->cc, m->ds);
	if (i < 0 || !(m->prot & PROT_WRITE) || covered(b->cc, c, m, i))
		return;
	/* Mapped without the base seeing it: from now on it is, and this
	 * time the dataspace is stored whole. */
	b->cc->ds[i].untracked = true;
	if (add_range(b->cc, c, (unsigned)i, m, false) < 0)
		b->failed = true;
}

/* An incremental cut against an asynchronously protected base (set frozen,
 * kernel lock held): the base's ranges go on in this copy, which has no
 * helper (the kernel notes the writes), and the pages written since its
 * cut are read from the page tables and protected again in the same step
 * (process_scan_written) by cr_copy_scan, after the lock is released: that
 * grows with the mapped size, and the set is frozen, so nothing writes
 * meanwhile. They are stored during the pause (nothing is lazy). */
static struct cr_copy *adopt_async(struct cr_copy *cc, struct cr_copy *base, struct component **set, size_t n,
				   unsigned *from_base)
{
	pthread_mutex_lock(&running_lock);
	list_remove(base);
	pthread_mutex_unlock(&running_lock);
	cc->async = true;
	/* The base's userfaultfds and ranges, the latter by this cut's indices. */
	cc->uffds = base->uffds;
	cc->nuffds = base->nuffds;
	cc->uffdcap = base->uffdcap;
	base->uffds = NULL;
	base->nuffds = 0;
	for (size_t k = 0; k < base->nr; k++) {
		struct range r = base->r[k];
		/* By the id the base kept: its dataspace may have been freed since
		 * (PD FREE), and then its pointer must not be read. */
		int i = ds_index_of_id(cc, base->ds[r.ds].id);
		if (i < 0) { /* gone, or stored in the pause now */
			release_range(&r);
			continue;
		}
		r.ds = (unsigned)i;
		if (cc->nr == cc->cap) {
			cc->cap = cc->cap ? 2 * cc->cap : 16;
			if (!(cc->r = realloc(cc->r, cc->cap * sizeof(*cc->r))))
				abort();
		}
		cc->r[cc->nr++] = r;
	}
	copy_free(base);
	cc->scans = calloc(cc->nr + 1, sizeof(*cc->scans));
	for (size_t k = 0; k < cc->nr; k++) {
		const struct range *r = &cc->r[k];
		struct component *c = running_member(set, n, r);
		if (!c || !cc->scans)
			cc->ds[r->ds].untracked = true; /* what it wrote is not known */
		else /* its process stays: cleanup waits for cr_busy */
			cc->scans[cc->nscans++] = (struct pending_scan){ c->process, *r };
	}
	struct begin_ctx b = { cc, set, n, NULL, false };
	for (size_t i = 0; i < n; i++)
		if (set[i]->state == COMPONENT_RUNNING)
			rm_each_mapping(set[i], adopt_mapping, &b);
	for (size_t i = 0; i < cc->nds; i++) {
		struct copied_ds *d = &cc->ds[i];
		if (d->untracked)
			from_base[i] = 0;
		d->untracked = false; /* stored whole now: tracked from this cut on */
		if (d->fd >= 0) /* stored from the memfd itself, during the pause */
			close(d->fd);
		d->fd = -1;
	}
	if (b.failed) {
		for (size_t i = 0; i < cc->nds; i++)
			from_base[i] = 0;
		unprotect_all(cc);
		copy_free(cc);
		return NULL;
	}
	pthread_mutex_lock(&running_lock);
	cc->next = running;
	running = cc;
	pthread_mutex_unlock(&running_lock);
	return cc;
}

/* The committed copy's ranges, from synchronous to asynchronous protection
 * (set frozen, kernel lock held). 1: done; 0: stays synchronous (nothing
 * changed); -1: half done, drop it. */
static int go_async(struct cr_copy *cc, struct component **set, size_t n)
{
	for (size_t k = 0; k < cc->nr; k++) {
		struct range *r = &cc->r[k];
		struct component *c = running_member(set, n, r);
		if (!c) { /* outside the set, or gone: its dataspace is whole next time */
			cc->ds[r->ds].untracked = true;
			release_range(r);
			r->size = 0;
			continue;
		}
		int afd = uffd_of(cc, c->process, true);
		if (afd < 0)
			return k == 0 ? 0 : -1;
		/* Unregistered without lifting the protection first: the kernel
		 * lifts it as it unregisters (since 6.2; before, it is set again
		 * below anyway), and a second walk of the range cost about as
		 * much as the unregistration (9 ms for 256 MiB). */
		struct uffdio_range u = { r->addr, r->size };
		(void)ioctl(r->uffd, UFFDIO_UNREGISTER, &u);
		struct uffdio_register reg = { .range = { r->addr, r->size }, .mode = UFFDIO_REGISTER_MODE_WP };
		if (ioctl(afd, UFFDIO_REGISTER, &reg) < 0)
			return -1;
		protect(afd, r->addr, r->size, true);
		r->uffd = afd;
		r->async = true;
	}
	cc->async = true;
	return 1;
}

struct cr_copy *cr_copy_begin(struct component **set, size_t n, const struct dataspace *const *mem, size_t nmem,
			      bool *lazy, struct cr_copy *base, unsigned *from_base)
{
	struct cr_copy *cc = calloc(1, sizeof(*cc));
	if (cc)
		cc->members = calloc(n + 1, sizeof(*cc->members));
	for (size_t i = 0; i < nmem; i++) {
		lazy[i] = false;
		from_base[i] = 0;
	}
	if (!cc || !cc->members) {
		free(cc);
		cr_copy_drop(base);
		return NULL;
	}
	pthread_mutex_init(&cc->lock, NULL);
	cc->epoll = epoll_create1(EPOLL_CLOEXEC);
	cc->stop = eventfd(0, EFD_CLOEXEC);
	cc->ds = calloc(nmem + 1, sizeof(*cc->ds));
	bool *outside = calloc(nmem + 1, sizeof(*outside));
	if (cc->epoll < 0 || cc->stop < 0 || !cc->ds || !outside) {
		cc->nds = 0;
		free(outside);
		copy_free(cc);
		cr_copy_drop(base);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		cc->members[cc->nmembers++] = set[i]->id;
	cc->nds = nmem;
	for (size_t i = 0; i < nmem; i++) {
		cc->ds[i].fd = -1;
		if (!mem[i] || mem[i]->fd < 0)
			continue;
		cc->ds[i].mem = mem[i];
		cc->ds[i].id = mem[i]->id;
		cc->ds[i].writes = mem[i]->writes;
		cc->ds[i].pages = mem[i]->size / PAGE;
		cc->ds[i].fd = fcntl(mem[i]->fd, F_DUPFD_CLOEXEC, 0);
		cc->ds[i].copied = cc->ds[i].fd >= 0;
	}
	struct begin_ctx b = { cc, set, n, outside, false };
	core_components_each(visit_outside, &b);
	for (size_t i = 0; i < nmem; i++) {
		struct copied_ds *d = &cc->ds[i];
		if (d->fd < 0)
			continue;
		d->done = calloc(d->pages + 1, 1);
		d->saved = calloc(d->pages + 1, sizeof(*d->saved));
		d->written = calloc(d->pages + 1, 1);
		if (outside[i] || !d->done || !d->saved || !d->written) { /* copied during the pause */
			close(d->fd);
			d->fd = -1;
			d->copied = false;
			continue;
		}
		/* Against the base only what was written since its cut is stored:
		 * the rest counts as done. */
		int j = base_index(base, mem[i]);
		if (j >= 0) {
			d->want = base->ds[j].written;
			base->ds[j].written = NULL;
			for (size_t p = 0; p < d->pages; p++)
				d->done[p] = !d->want[p];
			from_base[i] = (unsigned)j + 1;
		}
	}
	free(outside);
	if (base && base->async)
		return adopt_async(cc, base, set, n, from_base);
	/* The base's helper stops; this copy's helper answers the faults from
	 * here on (including any the base left unread). */
	if (base) {
		pthread_mutex_lock(&running_lock);
		list_remove(base);
		pthread_mutex_unlock(&running_lock);
		stop_helper(base);
	}
	for (size_t i = 0; i < n && !b.failed; i++)
		if (set[i]->state == COMPONENT_RUNNING)
			rm_each_mapping(set[i], protect_mapping, &b);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = cc->stop };
	if (b.failed || epoll_ctl(cc->epoll, EPOLL_CTL_ADD, cc->stop, &ev) < 0 ||
	    pthread_create(&cc->helper, NULL, helper, cc) != 0) {
		unprotect_all(cc);
		copy_free(cc);
		if (base) {
			unprotect_all(base);
			copy_free(base);
		}
		for (size_t i = 0; i < nmem; i++)
			from_base[i] = 0;
		return NULL; /* copied during the pause, as without userfaultfd */
	}
	cc->helper_running = true;
	if (base) {
		release_others(base, cc);
		copy_free(base);
	}
	for (size_t i = 0; i < nmem; i++)
		lazy[i] = cc->ds[i].copied;
	pthread_mutex_lock(&running_lock);
	cc->next = running;
	running = cc;
	pthread_mutex_unlock(&running_lock);
	return cc;
}

int cr_copy_fd(const struct cr_copy *cc, unsigned ds) { return ds < cc->nds ? cc->ds[ds].fd : -1; }

void cr_copy_scan(struct cr_copy *cc, unsigned *from_base)
{
	for (size_t k = 0; k < cc->nscans; k++) {
		const struct pending_scan *s = &cc->scans[k];
		struct scan_ctx x = { cc, &s->r };
		if (process_scan_written(s->p, s->r.addr, s->r.size, mark_written, &x) < 0)
			from_base[s->r.ds] = 0; /* what it wrote is not known: stored whole */
	}
	free(cc->scans);
	cc->scans = NULL;
	cc->nscans = 0;
}

const uint8_t *cr_copy_wanted(const struct cr_copy *cc, unsigned ds, const unsigned *from_base)
{
	return ds < cc->nds && from_base[ds] ? cc->ds[ds].want : NULL;
}

int cr_copy_read(struct cr_copy *cc, unsigned ds, uint64_t off, uint8_t *buf, size_t len)
{
	struct copied_ds *d = &cc->ds[ds];
	if (ds >= cc->nds || d->fd < 0 || off % PAGE || len % PAGE)
		return -EINVAL;
	/* Read without the mutex, so that several store workers and the
	 * helper's faults go on at once: a page written before the mutex is
	 * taken below was copied first (its fault holds the writer until
	 * then), and that copy replaces what was read. */
	int rc = 0;
	for (size_t got = 0; got < len;) {
		ssize_t k = pread(d->fd, buf + got, len - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k < 0)
				rc = -errno;
			memset(buf + got, 0, len - got); /* shrunk: the rest is zero */
			break;
		}
		got += (size_t)k;
	}
	/* Stored: the protection stays, so that a later write is seen. */
	pthread_mutex_lock(&cc->lock);
	for (size_t p = off / PAGE; p < (off + len) / PAGE && p < d->pages; p++) {
		if (d->saved[p])
			memcpy(buf + (p * PAGE - off), d->saved[p], PAGE);
		d->done[p] = 1;
	}
	pthread_mutex_unlock(&cc->lock);
	return rc;
}

size_t cr_copy_cow_pages(struct cr_copy *cc)
{
	pthread_mutex_lock(&cc->lock);
	size_t n = cc->cow_pages;
	pthread_mutex_unlock(&cc->lock);
	return n;
}

void cr_copy_end(struct cr_copy *cc, const char *image, uint64_t image_xxh3)
{
	if (!cc)
		return;
	if (!image) {
		cr_copy_drop(cc);
		return;
	}
	/* Committed: from now on a tracker relative to that image. */
	pthread_mutex_lock(&cc->lock);
	snprintf(cc->image, sizeof(cc->image), "%s", image);
	cc->image_xxh3 = image_xxh3;
	cc->tracking = true;
	for (size_t i = 0; i < cc->nds; i++) {
		struct copied_ds *d = &cc->ds[i];
		for (size_t p = 0; d->saved && p < d->pages; p++) {
			free(d->saved[p]);
			d->saved[p] = NULL;
			d->done[p] = 1;
		}
		if (d->fd >= 0) /* the memory need not stay alive for it */
			close(d->fd);
		d->fd = -1;
	}
	pthread_mutex_unlock(&cc->lock);
}

void cr_copy_drop(struct cr_copy *cc)
{
	if (!cc)
		return;
	pthread_mutex_lock(&running_lock);
	drop(cc);
	pthread_mutex_unlock(&running_lock);
}

struct cr_copy *cr_copy_take_tracker(unsigned root_id, const char *image, uint64_t image_xxh3)
{
	struct cr_copy *found = NULL;
	pthread_mutex_lock(&running_lock);
	for (struct cr_copy *cc = running; cc && !found; cc = cc->next)
		if (cc->tracking && cc->nmembers && cc->members[0] == root_id && cc->image_xxh3 == image_xxh3 &&
		    strcmp(cc->image, image) == 0)
			found = cc;
	if (found) /* the caller's now: nobody else drops it */
		list_remove(found);
	pthread_mutex_unlock(&running_lock);
	return found;
}

void cr_copy_forget(unsigned component_id, const struct cr_copy *keep)
{
	pthread_mutex_lock(&running_lock);
	for (struct cr_copy *cc = running, *next; cc; cc = next) {
		next = cc->next;
		if (cc->tracking && cc != keep && member(cc, component_id))
			drop(cc);
	}
	pthread_mutex_unlock(&running_lock);
}

bool cr_copy_async(const struct cr_copy *cc) { return cc && cc->async; }

void cr_copy_go_async(struct cr_copy *cc, struct component **set, size_t n)
{
	if (!cc || cc->async)
		return;
	pthread_mutex_lock(&cc->lock);
	int rc = go_async(cc, set, n);
	pthread_mutex_unlock(&cc->lock);
	if (rc < 0) {
		cr_copy_drop(cc);
		return;
	}
	if (rc == 0)
		return; /* stays synchronous: its helper goes on */
	stop_helper(cc);
	struct uffd_msg msg; /* faults the helper had not read: answered by the unregistration */
	for (size_t i = 0; i < cc->nuffds; i++)
		while (!cc->uffds[i].async && read(cc->uffds[i].fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			;
}

void cr_copy_mapped(struct component *c, const struct process_mapping *m)
{
	if (!(m->prot & PROT_WRITE))
		return;
	pthread_mutex_lock(&running_lock);
	for (struct cr_copy *cc = running; cc; cc = cc->next) {
		pthread_mutex_lock(&cc->lock);
		int i = ds_index(cc, m->ds);
		if (i >= 0 && cc->async && !member(cc, c->id)) {
			/* Outside the set: its page tables are not read. */
			cc->ds[i].untracked = true;
		} else if (i >= 0 && add_range(cc, c, (unsigned)i, m, false) < 0) {
			/* Cannot protect it: keep what is not stored yet as it is now,
			 * and count every page written from here on. */
			for (uint64_t off = m->offset; off < m->offset + m->size; off += PAGE)
				copy_page(cc, (unsigned)i, off);
			cc->ds[i].untracked = true;
		}
		pthread_mutex_unlock(&cc->lock);
	}
	pthread_mutex_unlock(&running_lock);
}
