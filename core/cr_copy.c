/*
 * Copy-on-write of a checkpoint's memory (cr_copy.h).
 *
 * The protection is userfaultfd's write-protect mode on the components'
 * shared mappings of the memfds: a write to a protected page stops the
 * writing thread in a fault, reported on the process's userfaultfd, until
 * the protection of that page is lifted. Reads are not affected.
 *
 * One mutex orders the two sides. The store (cr_copy_read) reads a run of
 * pages from the memfd, takes for each page already copied on a write the
 * copy instead, marks the run done and, after the mutex, lifts its
 * protection. The helper, for a fault, copies the page from the memfd
 * unless it is done, marks it done and lifts the protection of that page.
 * A page is written only after its protection is lifted, which is after
 * it was read or copied: every page is stored as it was at the cut.
 *
 * The memfds are dup'd at the cut, so a dataspace freed meanwhile (its
 * component ended) still reads; nobody can write it then. Faults of
 * mappings made after the cut are covered by cr_copy_mapped. Which pages
 * were faulted is not remembered past the checkpoint: an incremental
 * checkpoint (issue 8) would keep the protection and ask which were.
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
};

struct copied_ds {
	const struct dataspace *mem; /* to recognise later mappings of it */
	int fd;                      /* dup of its memfd */
	size_t pages;
	uint8_t *done;               /* per page: stored or copied */
	uint8_t **saved;             /* per page: its content at the cut, if copied on a write */
};

struct cr_copy {
	pthread_mutex_t lock;
	struct copied_ds *ds;
	size_t nds;
	struct range *r;
	size_t nr, cap;
	struct copy_uffd {
		const struct process *p;
		int fd; /* a dup of its userfaultfd, also in epoll */
	} *uffds;
	size_t nuffds, uffdcap;
	int epoll, stop;
	pthread_t helper;
	bool helper_running;
	size_t cow_pages;
	struct cr_copy *next; /* copies running now (cr_copy_mapped) */
};

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cr_copy *running;

static void protect(int uffd, uint64_t addr, uint64_t size, bool on)
{
	struct uffdio_writeprotect wp = { .range = { addr, size }, .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
	/* Fails only for a mapping that is gone: nothing to protect there. */
	(void)ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
}

/* The copy's dup of process p's userfaultfd, made on first use. */
static int uffd_of(struct cr_copy *cc, struct process *p)
{
	int fd = process_uffd(p);
	if (fd < 0)
		return fd;
	for (size_t i = 0; i < cc->nuffds; i++)
		if (cc->uffds[i].p == p)
			return cc->uffds[i].fd;
	int mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mine < 0)
		return -errno;
	if (cc->nuffds == cc->uffdcap) {
		cc->uffdcap = cc->uffdcap ? 2 * cc->uffdcap : 8;
		if (!(cc->uffds = realloc(cc->uffds, cc->uffdcap * sizeof(*cc->uffds))))
			abort();
	}
	cc->uffds[cc->nuffds++] = (struct copy_uffd){ p, mine };
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = mine };
	epoll_ctl(cc->epoll, EPOLL_CTL_ADD, mine, &ev);
	return mine;
}

/* Register and protect m in c's process. 0 or -errno. */
static int add_range(struct cr_copy *cc, struct component *c, unsigned ds, const struct process_mapping *m)
{
	if (!c->process)
		return 0; /* no process: nothing maps it */
	int uffd = uffd_of(cc, c->process);
	if (uffd < 0)
		return uffd;
	struct uffdio_register reg = { .range = { m->addr, m->size }, .mode = UFFDIO_REGISTER_MODE_WP };
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		return -errno;
	protect(uffd, m->addr, m->size, true);
	if (cc->nr == cc->cap) {
		cc->cap = cc->cap ? 2 * cc->cap : 16;
		if (!(cc->r = realloc(cc->r, cc->cap * sizeof(*cc->r))))
			abort();
	}
	cc->r[cc->nr++] = (struct range){ uffd, m->addr, m->size, ds, m->offset };
	return 0;
}

static int ds_index(const struct cr_copy *cc, const struct dataspace *mem)
{
	for (size_t i = 0; i < cc->nds; i++)
		if (cc->ds[i].mem == mem && cc->ds[i].fd >= 0)
			return (int)i;
	return -1;
}

/* ---- the helper: faults ------------------------------------------------------- */

static void copy_page(struct cr_copy *cc, unsigned ds, uint64_t off)
{
	struct copied_ds *d = &cc->ds[ds];
	size_t p = (size_t)(off / PAGE);
	if (p >= d->pages || d->done[p])
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
	if (i >= 0 && (m->prot & PROT_WRITE) && !b->failed && add_range(b->cc, c, (unsigned)i, m) < 0)
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
	}
	for (size_t i = 0; i < cc->nuffds; i++)
		close(cc->uffds[i].fd);
	if (cc->epoll >= 0)
		close(cc->epoll);
	if (cc->stop >= 0)
		close(cc->stop);
	pthread_mutex_destroy(&cc->lock);
	free(cc->uffds);
	free(cc->r);
	free(cc->ds);
	free(cc);
}

/* Lift every protection, forget every registration. */
static void unprotect_all(struct cr_copy *cc)
{
	for (size_t i = 0; i < cc->nr; i++) {
		struct range *r = &cc->r[i];
		protect(r->uffd, r->addr, r->size, false);
		struct uffdio_range u = { r->addr, r->size };
		(void)ioctl(r->uffd, UFFDIO_UNREGISTER, &u);
	}
}

struct cr_copy *cr_copy_begin(struct component **set, size_t n, const struct dataspace *const *mem, size_t nmem,
			      bool *lazy)
{
	struct cr_copy *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return NULL;
	pthread_mutex_init(&cc->lock, NULL);
	cc->epoll = epoll_create1(EPOLL_CLOEXEC);
	cc->stop = eventfd(0, EFD_CLOEXEC);
	cc->ds = calloc(nmem + 1, sizeof(*cc->ds));
	bool *outside = calloc(nmem + 1, sizeof(*outside));
	if (cc->epoll < 0 || cc->stop < 0 || !cc->ds || !outside) {
		cc->nds = 0;
		free(outside);
		copy_free(cc);
		return NULL;
	}
	cc->nds = nmem;
	for (size_t i = 0; i < nmem; i++) {
		cc->ds[i].fd = -1;
		lazy[i] = false;
		if (!mem[i] || mem[i]->fd < 0)
			continue;
		cc->ds[i].mem = mem[i];
		cc->ds[i].pages = mem[i]->size / PAGE;
		cc->ds[i].fd = fcntl(mem[i]->fd, F_DUPFD_CLOEXEC, 0);
	}
	struct begin_ctx b = { cc, set, n, outside, false };
	core_components_each(visit_outside, &b);
	for (size_t i = 0; i < nmem; i++) {
		struct copied_ds *d = &cc->ds[i];
		if (d->fd < 0)
			continue;
		d->done = calloc(d->pages + 1, 1);
		d->saved = calloc(d->pages + 1, sizeof(*d->saved));
		if (outside[i] || !d->done || !d->saved) { /* copied during the pause */
			close(d->fd);
			d->fd = -1;
		}
	}
	free(outside);
	for (size_t i = 0; i < n && !b.failed; i++)
		if (set[i]->state == COMPONENT_RUNNING)
			rm_each_mapping(set[i], protect_mapping, &b);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = cc->stop };
	if (b.failed || epoll_ctl(cc->epoll, EPOLL_CTL_ADD, cc->stop, &ev) < 0 ||
	    pthread_create(&cc->helper, NULL, helper, cc) != 0) {
		unprotect_all(cc);
		copy_free(cc);
		return NULL; /* copied during the pause, as without userfaultfd */
	}
	cc->helper_running = true;
	for (size_t i = 0; i < nmem; i++)
		lazy[i] = cc->ds[i].fd >= 0;
	pthread_mutex_lock(&running_lock);
	cc->next = running;
	running = cc;
	pthread_mutex_unlock(&running_lock);
	return cc;
}

int cr_copy_fd(const struct cr_copy *cc, unsigned ds) { return ds < cc->nds ? cc->ds[ds].fd : -1; }

int cr_copy_read(struct cr_copy *cc, unsigned ds, uint64_t off, uint8_t *buf, size_t len)
{
	struct copied_ds *d = &cc->ds[ds];
	if (ds >= cc->nds || d->fd < 0 || off % PAGE || len % PAGE)
		return -EINVAL;
	int rc = 0;
	pthread_mutex_lock(&cc->lock);
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
	for (size_t p = off / PAGE; p < (off + len) / PAGE && p < d->pages; p++) {
		if (d->saved[p])
			memcpy(buf + (p * PAGE - off), d->saved[p], PAGE);
		d->done[p] = 1;
	}
	for (size_t i = 0; i < cc->nr; i++) { /* the run may be written now */
		const struct range *r = &cc->r[i];
		if (r->ds != ds || r->offset >= off + len || off >= r->offset + r->size)
			continue;
		uint64_t lo = r->offset > off ? r->offset : off;
		uint64_t hi = r->offset + r->size < off + len ? r->offset + r->size : off + len;
		protect(r->uffd, r->addr + (lo - r->offset), hi - lo, false);
	}
	pthread_mutex_unlock(&cc->lock);
	return rc;
}

void cr_copy_end(struct cr_copy *cc, size_t *cow_pages)
{
	if (!cc)
		return;
	pthread_mutex_lock(&running_lock);
	for (struct cr_copy **pp = &running; *pp; pp = &(*pp)->next)
		if (*pp == cc) {
			*pp = cc->next;
			break;
		}
	pthread_mutex_unlock(&running_lock);
	pthread_mutex_lock(&cc->lock);
	unprotect_all(cc); /* wakes whoever still waits in a fault */
	pthread_mutex_unlock(&cc->lock);
	uint64_t one = 1;
	if (write(cc->stop, &one, sizeof(one)) != (ssize_t)sizeof(one))
		abort();
	pthread_join(cc->helper, NULL);
	/* Faults reported but not read: their pages are free now. */
	struct uffd_msg msg;
	for (size_t i = 0; i < cc->nuffds; i++)
		while (read(cc->uffds[i].fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			;
	if (cow_pages)
		*cow_pages = cc->cow_pages;
	copy_free(cc);
}

void cr_copy_mapped(struct component *c, const struct process_mapping *m)
{
	if (!(m->prot & PROT_WRITE))
		return;
	pthread_mutex_lock(&running_lock);
	for (struct cr_copy *cc = running; cc; cc = cc->next) {
		pthread_mutex_lock(&cc->lock);
		int i = ds_index(cc, m->ds);
		if (i >= 0 && add_range(cc, c, (unsigned)i, m) < 0) {
			/* Cannot protect it: keep what is not stored yet as it is now. */
			for (uint64_t off = m->offset; off < m->offset + m->size; off += PAGE)
				copy_page(cc, (unsigned)i, off);
		}
		pthread_mutex_unlock(&cc->lock);
	}
	pthread_mutex_unlock(&running_lock);
}
