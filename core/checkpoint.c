/*
 * Checkpoint: freeze a component and all its descendants at one atomic cut
 * and write them into an image (docs/checkpoint-restore.md).
 *
 * The cut, with the kernel lock held:
 *   1. every thread of the set is stopped (one batched request per process)
 *      and its task frozen, so no operation a thread rings for is served
 *      until the thaw;
 *   2. kernel and core state are saved with one clock reading, each kind by
 *      its own module (cr_state.h), and the UTCB areas are copied: they
 *      are the only component memory other components' IPC can write.
 * Then, without the lock, an incremental cut reads which pages were written
 * since its parent (cr_copy_scan: PAGEMAP_SCAN grows with the mapped size),
 * the rest of the memory goes from the memfds into
 * pages.bin while the set stays frozen (nothing can change it: its threads
 * are stopped, core serves none of their calls, and cleanup waits for
 * cr_busy), the set is thawed and resumed, and only then is the metadata
 * written and the image committed. Other components keep running
 * throughout; the lock is never held while memory is stored or files are
 * written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cr_copy.h"
#include "cr_lazy.h"
#include "cr_state.h"
#include "image/image.h"
#include "platform/linux/kernel_entry.h"

#define FROZEN_MAX (CORE_MAX_THREADS + 1)

/* The components of a checkpoint or restore: a root and its descendants,
 * parents before children. */
struct cr_set {
	struct component **v;
	size_t n, cap;
};

static void set_add(struct cr_set *s, struct component *c)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = c;
}

void cr_collect(struct component *root, struct component ***out, size_t *n)
{
	struct cr_set s = { 0 };
	set_add(&s, root);
	for (size_t i = 0; i < s.n; i++) {
		/* Oldest child first: the list is newest first. */
		size_t before = s.n;
		for (struct core_child *k = s.v[i]->children; k; k = child_next(k))
			set_add(&s, child_component(k));
		for (size_t a = before, b = s.n - 1; a < b; a++, b--) {
			struct component *t = s.v[a];
			s.v[a] = s.v[b];
			s.v[b] = t;
		}
	}
	*out = s.v;
	*n = s.n;
}

/* "init -> hello" or "init/hello". Kernel lock held. */
struct find_ctx {
	const char *name;
	struct component *found;
};

static void find_visit(struct component *c, void *ctx)
{
	struct find_ctx *f = ctx;
	/* A rolled-back one never was, in the timeline that runs. */
	if (!f->found && !c->rolled_back && strcmp(c->name, f->name) == 0)
		f->found = c;
}

struct component *cr_find(const char *name)
{
	char label[COMPONENT_LABEL_MAX * 2];
	size_t n = 0;
	for (const char *p = name; *p && n + 5 < sizeof(label); p++) {
		if (*p == '/') {
			memcpy(label + n, " -> ", 4);
			n += 4;
		} else {
			label[n++] = *p;
		}
	}
	label[n] = '\0';
	struct find_ctx f = { strchr(name, '/') ? label : name, NULL };
	core_components_each(find_visit, &f);
	return f.found;
}

/* ---- the kernel's part of a component: its capability space ------------- */

/* Object ids seen (never 0): open addressing, at most half full. An IRQ
 * named by several slots is saved once; searching the saved list for each
 * made a component with n IRQs O(n^2) to checkpoint. */
struct id_set {
	uint64_t *v;
	size_t cap, n;
};

static bool id_set_add(struct id_set *s, uint64_t id)
{
	if (2 * (s->n + 1) > s->cap) {
		struct id_set g = { calloc(s->cap ? 2 * s->cap : 64, sizeof(uint64_t)), s->cap ? 2 * s->cap : 64, 0 };
		if (!g.v)
			abort();
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i])
				id_set_add(&g, s->v[i]);
		free(s->v);
		*s = g;
	}
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
	for (; s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == id)
			return false;
	s->v[i] = id;
	s->n++;
	return true;
}

struct caps_ctx {
	struct cr_save *s;
	struct component *c;
	AmberImg__Component *m;
	int rc;
	struct id_set irqs; /* saved already */
};

static void save_irq(AmberImg__Component *m, struct id_set *saved, struct kirq *irq)
{
	uint64_t id = kernel_object_id(irq);
	if (!id_set_add(saved, id))
		return;
	struct kernel_irq_state st;
	kernel_irq_export(irq, &st);
	AmberImg__IrqState *x = CR_NEW(AmberImg__IrqState, amber_img__irq_state__init);
	x->irq_id = id;
	x->attached_thread_id = st.attached_thread_id;
	x->label = st.label;
	x->pending = st.pending;
	x->attach_order = kernel_irq_attach_order(irq);
	CR_APPEND(m, irqs, x);
}

static void save_cap(void *arg, const struct kernel_cap_info *info)
{
	struct caps_ctx *x = arg;
	AmberImg__Cap *cap = CR_NEW(AmberImg__Cap, amber_img__cap__init);
	cap->sel = info->sel;
	cap->kind = info->kind;
	cap->object_id = info->object_id;
	cap->badge = info->badge;
	cap->rights = info->rights;
	cap->parent_task_id = info->parent_task_id;
	cap->parent_sel = info->parent_sel;
	CR_APPEND(x->m, caps, cap);

	struct kobj *o = kernel_cap_object(x->c->task, info->sel, NULL, NULL);
	if (info->kind == AMBER_KIND_IRQ)
		save_irq(x->m, &x->irqs, (struct kirq *)o);
	if (info->parent_task_id)
		return;
	/* A root in its own space: an object it made through its factory. */
	if (info->kind != AMBER_KIND_GATE && info->kind != AMBER_KIND_IRQ) {
		x->rc = cr_fail(x->s->err, x->s->errlen, "%s: slot %u holds a root capability of kind %u", x->c->name,
				info->sel, info->kind);
		return;
	}
	AmberImg__KernelObject *k = CR_NEW(AmberImg__KernelObject, amber_img__kernel_object__init);
	k->id = info->object_id;
	k->kind = info->kind;
	k->charged_factory_id = kernel_object_factory_id(o);
	if (info->kind == AMBER_KIND_GATE) {
		struct kernel_gate_state gs;
		kernel_gate_export((struct kgate *)o, &gs);
		k->label = gs.label;
		k->bound_thread_id = gs.bound_thread_id;
	} else {
		k->label = info->badge;
	}
	CR_APPEND(x->m, objects, k);
}

static int save_kernel(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	struct caps_ctx x = { s, c, m, 0, { 0 } };
	kernel_space_enumerate(c->task, save_cap, &x);
	free(x.irqs.v);
	return x.rc;
}

/* ---- one component ------------------------------------------------------- */

static int save_ended(struct component *c, AmberImg__Component *m)
{
	m->id = c->id;
	m->name = cr_strdup(c->name);
	m->binary = cr_strdup(c->binary);
	m->parent_id = c->parent ? c->parent->id : 0;
	m->has_ended = m->ended = true;
	m->has_end_state = m->has_end_code = true;
	m->end_state = c->end_state;
	m->end_code = c->end_code;
	m->end_reason = cr_strdup(c->end_reason);
	m->log_lines = c->log_lines;
	m->config.data = malloc(1);
	m->log_line.data = malloc(1);
	if (!m->config.data || !m->log_line.data)
		abort();
	return 0;
}

static int save_component(struct cr_save *s, struct component *c, const struct process_frozen *frozen,
			  size_t nfrozen)
{
	AmberImg__Component *m = CR_NEW(AmberImg__Component, amber_img__component__init);
	CR_APPEND(s->img, components, m);
	if (c->state == COMPONENT_ENDED)
		return save_ended(c, m);
	if (component_save(s, c, m) < 0 || session_save(s, c, m) < 0 || cpu_save(s, c, m, frozen, nfrozen) < 0 ||
	    pd_save(s, c, m) < 0 || rm_save(s, c, m) < 0 || parent_save(s, c, m) < 0 || root_save(s, c, m) < 0 || child_save(s, c, m) < 0 ||
	    log_save(s, c, m) < 0 || save_kernel(s, c, m) < 0)
		return -1;
	return 0;
}

/* ---- the walk ------------------------------------------------------------ */

struct frozen_set {
	struct process_frozen t[FROZEN_MAX];
	int n;
};

/* Let the set run again; with --kill (resume false) its tasks stay frozen
 * until cr_stop ends them, so no call rung before the cut is served (and
 * no line printed) after it. */
static void thaw(struct component **set, size_t n, struct frozen_set *fz, bool resume)
{
	kernel_lock();
	for (size_t i = 0; i < n; i++) {
		if (set[i]->task && resume)
			kernel_task_set_frozen(set[i]->task, false);
		set[i]->cr_busy = false;
		if (resume) /* an ATTACH from outside the set while it was frozen */
			cpu_resume_resolved(set[i]);
	}
	kernel_unlock();
	kernel_entry_thaw();
	for (size_t i = 0; resume && i < n; i++)
		for (int j = 0; j < fz[i].n; j++)
			if (fz[i].t[j].was_running && set[i]->process)
				process_thread_resume(set[i]->process, fz[i].t[j].tid);
}

static const char *refusal(const struct component *c, bool root)
{
	/* Ended, but its parent not told yet: a cut now would keep it ended
	 * in the image and lose the parent's notice (main.c on_exited). */
	if (c->exiting)
		return "it is ending; try again";
	if (c->state == COMPONENT_NEW)
		return "it was created but not started";
	if (c->state == COMPONENT_ENDED)
		return root ? "it has ended" : NULL;
	if (c->stopped)
		return "it is stopped (checkpoint --kill); restore it first";
	if (c->ending || c->exit_requested || !c->process)
		return "it is ending";
	if (c->entry_stops)
		return "a thread of it is exiting or a CPU session closing; try again";
	if (c->cr_busy || c->restoring)
		return "another checkpoint or restore holds it; try again";
	return NULL;
}

#define SETTLE_MS 10000 /* how long a cut waits for queued mappings */

/* Mappings core decided for the set but has not made yet (as_queue.c)
 * must be made before the cut, and a call waiting for them answered: the
 * image records what the records say, and a restored caller must not
 * call again. The tasks are frozen first, so the set's threads queue
 * nothing new, and cr_busy keeps them from being cleaned up meanwhile.
 * uffd: the set's userfaultfds are wanted (not for --kill).
 * NULL, or why the checkpoint is refused (the set is let go again). */
static const char *settle(struct component **set, size_t n, bool uffd, const char **who)
{
	for (size_t i = 0; i < n; i++) {
		if (set[i]->state == COMPONENT_RUNNING && set[i]->task)
			kernel_task_set_frozen(set[i]->task, true);
		set[i]->cr_busy = true;
	}
	const char *why = NULL;
	for (unsigned ms = 0;; ms++) {
		size_t busy = n;
		for (size_t i = 0; i < n && busy == n; i++)
			if (!as_idle(set[i]))
				busy = i;
		if (busy == n)
			break;
		if (ms == SETTLE_MS) {
			*who = set[busy]->name;
			why = "core is still changing its mappings; try again";
			break;
		}
		kernel_unlock();
		struct timespec one = { 0, 1000000 };
		nanosleep(&one, NULL);
		kernel_lock();
	}
	/* A component's first checkpoint makes its userfaultfd by injection
	 * into its process: here, without the kernel lock, rather than in the
	 * cut (cr_copy.c finds it made). cr_busy keeps the processes. */
	struct process **procs = why || !uffd ? NULL : calloc(n + 1, sizeof(*procs));
	for (size_t i = 0; procs && i < n; i++)
		procs[i] = set[i]->state == COMPONENT_RUNNING ? set[i]->process : NULL;
	if (procs) {
		kernel_unlock();
		for (size_t i = 0; i < n; i++)
			if (procs[i]) /* a failure shows again in the cut: then it copies while paused */
				(void)process_uffd(procs[i]);
		kernel_lock();
		free(procs);
	}
	/* It may have begun to end meanwhile. */
	for (size_t i = 0; i < n && !why; i++) {
		set[i]->cr_busy = false;
		why = refusal(set[i], i == 0);
		set[i]->cr_busy = true;
		*who = set[i]->name;
	}
	if (why) {
		for (size_t i = 0; i < n; i++) {
			if (set[i]->task && set[i]->state == COMPONENT_RUNNING)
				kernel_task_set_frozen(set[i]->task, false);
			set[i]->cr_busy = false;
		}
	}
	return why;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Output commit: where the cut stood in a member's held lines, and whether
 * it held them before this checkpoint (a failed one undoes --hold-output). */
struct held_cut {
	uint64_t mark;
	bool was_holding;
};

/* image_add_memory reads a dataspace stored after the thaw through here. */
struct lazy_read {
	struct cr_copy *cc;
	unsigned ds;
};

static int lazy_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	const struct lazy_read *r = ctx;
	return cr_copy_read(r->cc, r->ds, off, buf, len);
}

/* The copy becomes the tracker of the image just committed (or, image
 * NULL, ends). Going over to asynchronous protection needs the set
 * stopped once more, briefly: a write between the two registrations
 * would go unseen. Only while every member still runs: one that ends
 * drops its trackers (cr_copy_forget), under the same lock. */
static void track(struct cr_copy *cc, struct component **set, size_t n, const char *image, uint64_t image_xxh3)
{
	kernel_lock();
	bool all_run = image != NULL;
	for (size_t i = 0; i < n && all_run; i++)
		all_run = set[i]->state == COMPONENT_RUNNING && set[i]->process && !set[i]->ending &&
			  !set[i]->restoring && !set[i]->cr_busy;
	cr_copy_end(cc, all_run ? image : NULL, image_xxh3);
	if (!all_run || cr_copy_async(cc)) { /* ended, or protected asynchronously already */
		kernel_unlock();
		return;
	}
	struct frozen_set *fz = calloc(n, sizeof(*fz));
	bool frozen = fz != NULL;
	for (size_t i = 0; i < n && frozen; i++) {
		int k = process_freeze(set[i]->process, fz[i].t, FROZEN_MAX);
		fz[i].n = k > 0 ? k : 0;
		frozen = k >= 0;
	}
	if (frozen)
		cr_copy_go_async(cc, set, n);
	for (size_t i = 0; fz && i < n; i++)
		for (int j = 0; j < fz[i].n; j++)
			if (fz[i].t[j].was_running)
				process_thread_resume(set[i]->process, fz[i].t[j].tid);
	kernel_unlock();
	free(fz);
}

/* Let a set go: its members may be freed once nothing else holds them. */
static void unpin(struct component **set, size_t n)
{
	if (!set)
		return;
	bool reap = false;
	kernel_lock();
	for (size_t i = 0; i < n; i++) {
		set[i]->cr_pins--;
		reap |= set[i]->rolled_back;
	}
	kernel_unlock();
	free(set);
	if (reap) /* a restore replaced one meanwhile: this was its last hold */
		core_components_reap_later();
}

/* A committed checkpoint's copy waits here to become the image's tracker
 * until its answer is out (cr_checkpoint_track). The control thread's. */
static struct pending_track {
	struct cr_copy *cc;
	struct component **set; /* pinned */
	size_t n;
	uint64_t image_xxh3;
	char image[PATH_MAX];
} pending;

void cr_checkpoint_track(void)
{
	if (!pending.cc)
		return;
	struct pending_track t = pending;
	pending.cc = NULL;
	track(t.cc, t.set, t.n, t.image, t.image_xxh3);
	unpin(t.set, t.n);
}

int cr_checkpoint(const char *name, const char *dir, const struct cr_options *o, char *msg, size_t msglen)
{
	char err[512] = "";
	struct timespec t0;
	struct image_writer *w; /* the directory and pages.bin made before the freeze */
	char parent[PATH_MAX] = "";
	uint64_t parent_xxh3 = 0;
	cr_checkpoint_track(); /* the previous checkpoint's, should its caller not have */
	cr_lazy_settle(); /* a lazily restored component's pages are all in first */
	if (o->parent && image_identity(o->parent, parent, sizeof(parent), &parent_xxh3, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "cannot checkpoint %s: its parent image: %s", name, err);
		return -1;
	}
	if (image_begin(dir, &w, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "cannot checkpoint %s: %s", name, err);
		return -1;
	}
	if (o->key)
		image_writer_sign(w, o->key);
	kernel_lock();
	struct component *root = cr_find(name);
	if (!root) {
		kernel_unlock();
		image_abort(w);
		snprintf(msg, msglen, "cannot checkpoint %s: no component of that name runs here", name);
		return -1;
	}
	struct component **set;
	size_t n;
	cr_collect(root, &set, &n);
	for (size_t i = 0; i < n; i++) {
		const char *why = refusal(set[i], i == 0);
		if (why) {
			snprintf(msg, msglen, "cannot checkpoint %s: %s: %s", root->name, set[i]->name, why);
			kernel_unlock();
			free(set);
			image_abort(w);
			return -1;
		}
	}
	const char *who = NULL, *why = settle(set, n, !o->kill, &who);
	if (why) {
		snprintf(msg, msglen, "cannot checkpoint %s: %s: %s", root->name, who, why);
		kernel_unlock();
		free(set);
		image_abort(w);
		return -1;
	}
	for (size_t i = 0; i < n; i++) /* until unpin: set[] stays valid after the thaw */
		set[i]->cr_pins++;
	/* Pages written since the parent image are known only to its tracker
	 * (cr_copy.h); any other tracker of these components ends here. */
	struct cr_copy *base = o->parent && !o->kill ? cr_copy_take_tracker(root->id, parent, parent_xxh3) : NULL;
	for (size_t i = 0; i < n; i++)
		cr_copy_forget(set[i]->id, base);
	struct frozen_set *fz = calloc(n, sizeof(*fz));
	struct held_cut *held = calloc(n, sizeof(*held));
	if (!fz || !held)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct component *c = set[i];
		if (c->state != COMPONENT_RUNNING)
			continue;
		int k = process_freeze(c->process, fz[i].t, FROZEN_MAX);
		if (k < 0) {
			rc = cr_fail(err, sizeof(err), "%s: cannot stop its threads: %s", c->name,
				     k == -EAGAIN   ? "a thread is exiting; try again"
				     : k == -ESRCH ? "it is ending"
						   : strerror(-k));
			break;
		}
		fz[i].n = k;
		kernel_task_set_frozen(c->task, true);
		c->cr_busy = true;
	}

	/* Output commit: the lines held before the cut go out when this image
	 * has committed; --hold-output starts holding here. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		held[i].was_holding = set[i]->hold_output;
		set[i]->hold_output |= o->hold_output;
		held[i].mark = log_held_mark(set[i]);
	}

	AmberImg__Image *img = CR_NEW(AmberImg__Image, amber_img__image__init);
	struct cr_save s = { .img = img, .now_us = core_time_us(), .err = err, .errlen = sizeof(err) };
	img->format_version = IMAGE_FORMAT_VERSION;
	img->root = cr_strdup(root->name);
	img->cut_time_us = s.now_us;
	img->wall_time_s = (uint64_t)time(NULL);
	img->core_task_id = kernel_object_id(kernel_core_task());
	img->scenario_dir = cr_strdup(rom_dir());
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = save_component(&s, set[i], fz[i].t, (size_t)fz[i].n);
	if (rc == 0 && o->rollback) /* the policy this checkpoint gives it */
		img->components[0]->has_rollback = img->components[0]->rollback = true;
	img->next_object_id = kernel_object_id_next();
	img->next_badge = core_badge_last() + 1;
	img->next_component_id = core_component_id_peek();

	/* The UTCBs now: IPC from outside the set may write them after the
	 * lock is released. */
	struct image_memory *mem = calloc(img->n_dataspaces + 1, sizeof(*mem));
	if (!mem)
		abort();
	for (size_t i = 0; i < img->n_dataspaces && rc == 0; i++) {
		const struct dataspace *d = s.mem[i];
		mem[i].size = img->dataspaces[i]->size;
		if (img->dataspaces[i]->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED || d->fd < 0)
			continue; /* no memory of its own */
		if (img->dataspaces[i]->kind != AMBER_IMG__DATASPACE_KIND__DS_UTCBS) {
			mem[i].has_fd = true; /* read while frozen, below */
			mem[i].fd = d->fd;
			continue;
		}
		uint8_t *copy = calloc(1, d->size);
		mem[i].bytes = copy;
		if (!copy)
			rc = cr_fail(err, sizeof(err), "no memory to copy a UTCB area");
		else if (dataspace_read(d, copy) < 0)
			rc = cr_fail(err, sizeof(err), "cannot read %s", d->name);
	}
	/* What only the set writes is stored after the thaw, write-protected
	 * until then (cr_copy.h); with --kill nothing runs on, so all of it is
	 * stored before. */
	bool *lazy = calloc(img->n_dataspaces + 1, sizeof(*lazy));
	unsigned *from_base = calloc(img->n_dataspaces + 1, sizeof(*from_base));
	const struct dataspace **cand = calloc(img->n_dataspaces + 1, sizeof(*cand));
	struct lazy_read *reads = calloc(img->n_dataspaces + 1, sizeof(*reads));
	if (!lazy || !cand || !reads || !from_base)
		abort();
	struct cr_copy *cc = NULL;
	size_t inherited = 0;
	if (rc == 0 && !o->kill) {
		for (size_t i = 0; i < img->n_dataspaces; i++)
			cand[i] = mem[i].has_fd ? s.mem[i] : NULL;
		cc = cr_copy_begin(set, n, cand, img->n_dataspaces, lazy, base, from_base);
	} else {
		cr_copy_drop(base); /* never used: nothing tracks from here */
	}
	kernel_unlock();

	/* Which pages an incremental image stores: read from the page tables
	 * without the lock (the set stays frozen), since that grows with the
	 * mapped size (cr_copy_scan). */
	if (cc) {
		cr_copy_scan(cc, from_base);
		for (size_t i = 0; i < img->n_dataspaces; i++) {
			if (!from_base[i])
				continue;
			img->dataspaces[i]->has_parent_dataspace = true;
			img->dataspaces[i]->parent_dataspace = from_base[i];
			mem[i].store_only = cr_copy_wanted(cc, (unsigned)i, from_base);
			inherited++;
		}
		if (inherited) {
			img->parent_image = cr_strdup(parent);
			img->has_parent_meta_xxh3 = true;
			img->parent_meta_xxh3 = parent_xxh3;
		}
	}

	/* The rest straight from the memfds into pages.bin while the set is
	 * still frozen: one pass through a buffer, no page faults, and no
	 * second copy after the thaw. */
	for (size_t i = 0; i < img->n_dataspaces && rc == 0; i++)
		if (!lazy[i])
			rc = image_add_memory(w, img, (unsigned)i, &mem[i], err, sizeof(err));
	double copied_ms = ms_since(&t0);
	thaw(set, n, fz, !o->kill);
	double pause_ms = ms_since(&t0); /* until its threads run again */
	for (size_t i = 0; i < img->n_dataspaces && rc == 0; i++) {
		if (!lazy[i])
			continue;
		reads[i] = (struct lazy_read){ cc, (unsigned)i };
		mem[i].fd = cr_copy_fd(cc, (unsigned)i);
		mem[i].read = lazy_read;
		mem[i].ctx = &reads[i];
		rc = image_add_memory(w, img, (unsigned)i, &mem[i], err, sizeof(err));
	}
	free(lazy);
	free(cand);
	free(reads);
	free(from_base);

	if (rc == 0)
		rc = image_commit(w, img, err, sizeof(err));
	else
		image_abort(w);
	/* Committed: the copy goes on as the tracker of the pages written
	 * since this image, for a later checkpoint --parent DIR. */
	char gen[PATH_MAX];
	uint64_t gen_xxh3 = 0;
	bool tracked = rc == 0 && cc && image_identity(dir, gen, sizeof(gen), &gen_xxh3, err, sizeof(err)) == 0;
	char cow[64];
	snprintf(cow, sizeof(cow), "all stored while paused");
	if (cc) {
		size_t cow_pages = cr_copy_cow_pages(cc);
		snprintf(cow, sizeof(cow), "%zu page%s copied on a write", cow_pages, cow_pages == 1 ? "" : "s");
		if (tracked) { /* after the answer: cr_checkpoint_track */
			pending = (struct pending_track){ cc, set, n, gen_xxh3, { 0 } };
			snprintf(pending.image, sizeof(pending.image), "%s", gen);
		} else {
			track(cc, set, n, NULL, 0);
		}
	}
	char incr[PATH_MAX + 96] = "";
	if (o->parent && inherited)
		snprintf(incr, sizeof(incr), "; incremental: %zu dataspace%s on top of %s", inherited,
			 inherited == 1 ? "" : "s", parent);
	else if (o->parent)
		snprintf(incr, sizeof(incr), "; stored whole: %s", o->kill ? "--kill stores everything"
				 : "what was written since that image is not known (only since its last checkpoint)");
	uint64_t bytes = 0;
	for (size_t i = 0; i < img->n_dataspaces; i++) {
		for (size_t e = 0; e < img->dataspaces[i]->n_extents; e++)
			bytes += img->dataspaces[i]->extents[e]->length;
		free((void *)mem[i].bytes);
	}
	free(mem);
	free(s.mem);
	free(s.keys);
	size_t nthreads = 0;
	for (size_t i = 0; i < n; i++)
		nthreads += (size_t)fz[i].n;

	if (rc == 0) {
		kernel_lock();
		for (size_t i = 0; i < n; i++) {
			snprintf(set[i]->image_dir, sizeof(set[i]->image_dir), "%s", dir);
			cr_remember_key(set[i], o->key);
		}
		if (o->rollback)
			root->rollback = true; /* later checkpoints move its image_dir on */
		for (size_t i = 0; i < n; i++)
			log_release(set[i], held[i].mark);
		kernel_unlock();
		if (o->kill)
			cr_stop(set, n);
		snprintf(msg, msglen,
			 "checkpointed %s: %zu component%s, %zu thread%s, %.1f MiB stored; paused %.2f ms (cut and copy "
			 "%.2f ms), total %.2f ms, %s%s%s%s%s",
			 img->root, n, n == 1 ? "" : "s", nthreads, nthreads == 1 ? "" : "s", (double)bytes / (1 << 20),
			 pause_ms, copied_ms, ms_since(&t0), cow, incr, o->kill ? "; stopped" : "",
			 o->rollback ? "; rolls back to it should it crash" : "",
			 root->hold_output ? "; its output is held until the next checkpoint" : "");
	} else {
		if (o->kill) /* never leave it frozen: it runs on */
			thaw(set, n, fz, true);
		kernel_lock(); /* what this checkpoint began to hold waits for the next one */
		for (size_t i = 0; i < n; i++)
			if (!held[i].was_holding && set[i]->hold_output && set[i]->state == COMPONENT_RUNNING)
				log_hold_stop(set[i]);
		kernel_unlock();
		snprintf(msg, msglen, "cannot checkpoint %s: %s", name, err);
	}
	protobuf_c_message_free_unpacked(&img->base, NULL);
	free(held);
	free(fz);
	if (!pending.cc || pending.set != set) /* else cr_checkpoint_track's */
		unpin(set, n);
	return rc;
}

int cr_release_output(const char *name, char *msg, size_t msglen)
{
	kernel_lock();
	struct component *root = cr_find(name);
	if (!root) {
		kernel_unlock();
		snprintf(msg, msglen, "cannot release %s's output: no component of that name runs here", name);
		return -1;
	}
	struct component **set;
	size_t n, held = 0;
	cr_collect(root, &set, &n);
	for (size_t i = 0; i < n; i++) {
		held += set[i]->hold_output;
		log_hold_stop(set[i]);
	}
	snprintf(msg, msglen, "%s: output of %zu component%s no longer held", root->name, held, held == 1 ? "" : "s");
	kernel_unlock();
	free(set);
	return 0;
}
