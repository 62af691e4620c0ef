/*
 * Restore: bring the components of an image back, in place of the live
 * ones of the same name (a rollback, a component stopped by checkpoint
 * --kill, or one that ended after the checkpoint), or into a fresh system
 * (amber-core --restore). docs/checkpoint-restore.md.
 *
 * Everything a component can observe comes back identical: capability
 * slots, badges, object ids (kernel_object_id_force), UTCB slots and
 * addresses, attachment addresses, memory byte for byte. So nothing in its
 * memory is patched, and its capability map, entrypoint tables and signal
 * receiver are valid as they are. Slots of core's own task are not
 * observable and are allocated afresh; capabilities derived from core's
 * are re-derived from whatever slot of core's task now holds their object.
 *
 * In place, the live incarnation is torn down quietly first (no exit is
 * reported to its parent), after the capabilities that components outside
 * the set derived from its objects have been written down; they are
 * derived again afterwards, so outside holders keep working.
 *
 * The order, kernel lock held (restore_set):
 *   A  per component: memory and kernel objects (component.c), sessions
 *      (ROM copies, timers), threads, PD (RAM, RPC capabilities, signal
 *      sources and contexts), children, objects made through its factory;
 *      then every component's attachments (they may show a sibling's RAM);
 *   B  per component, parents first: a child's parent gate, the capability
 *      space slot by slot (derived from a parent slot that exists by then),
 *      announced services; then the outside capabilities of an in-place
 *      restore;
 *   C  memory contents, the process with its threads' registers and the
 *      attachments mapped;
 *   D  IRQ states (the signal semaphores attached to the restored handler
 *      threads), then every thread's IPC state; a call to a partner
 *      outside the set, or one core has deferred, is restarted instead;
 *   E  entry threads and the threads that ran are resumed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amber/child.h"
#include "cr_lazy.h"
#include "cr_state.h"
#include "cr_validate.h"
#include "image/image.h"
#include "platform/linux/kernel_entry.h"

struct kept;
static struct kept *keep(struct component **set, size_t n);
static void kept_free(struct kept *k);

/* ---- tearing down quietly ------------------------------------------------ */

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

/* Is one of them ending by itself right now (its exit event handled)? */
static bool mid_exit(struct component **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && v[i]->exiting)
			return true;
	return false;
}

/* Claim the running members for a quiet end (kernel lock held): their exit
 * events are ignored, and their tasks are frozen at once, so none of them
 * is served (prints a line, replies, signals) while its peers are ended
 * one by one: what a member would see of a peer's teardown stays unseen. */
static void teardown_claim(struct component **set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct component *c = set[i];
		if (c->state == COMPONENT_RUNNING && !c->ending) {
			c->restoring = true;
			log_discard(c); /* its unfinished line is in the image, not for printing now */
			if (c->task)
				kernel_task_set_frozen(c->task, true);
		}
	}
}

/* End the claimed members' processes and release what they hold, children
 * first, with no exit report to anyone. Without the kernel lock. */
static void teardown(struct component **set, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct component *c = set[i];
		if (c->restoring) {
			component_cleanup(c);
			continue;
		}
		/* Ending by itself right now: let that finish. */
		for (int t = 0; t < 5000; t++) {
			kernel_lock();
			bool done = c->state != COMPONENT_RUNNING && !c->exiting;
			kernel_unlock();
			if (done)
				break;
			sleep_ms(1);
		}
	}
}

void cr_stop(struct component **set, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		if (set[i]->state != COMPONENT_RUNNING)
			continue; /* ended before the cut: the image says so */
		component_stop(set[i]);
		core_report("%s stopped (checkpoint --kill)", set[i]->name);
	}
}

/* ---- capabilities outside the set ---------------------------------------- */

struct edge {
	uint64_t task_id;
	amber_sel_t sel;
	enum amber_kind kind;
	uint64_t object_id;
	unsigned rights;
	uint64_t parent_task_id;
	amber_sel_t parent_sel;
	uint64_t parent_object_id; /* to find a parent in core's task again */
};

struct edges {
	struct edge *v;
	size_t n, cap;
	struct component **set;
	size_t nset;
};

static bool task_in_set(struct component **set, size_t n, uint64_t task_id)
{
	for (size_t i = 0; i < n; i++)
		if (set[i]->task && kernel_object_id(set[i]->task) == task_id)
			return true;
	return false;
}

static void edge_visit(void *ctx, struct ktask *owner, const struct kernel_cap_info *info)
{
	struct edges *e = ctx;
	uint64_t tid = kernel_object_id(owner);
	if (owner == kernel_core_task() || task_in_set(e->set, e->nset, tid))
		return;
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].task_id == tid && e->v[i].sel == info->sel)
			return;
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 32;
		if (!(e->v = realloc(e->v, e->cap * sizeof(*e->v))))
			abort();
	}
	struct kobj *parent = NULL;
	struct kobj *pt = kernel_object_by_id(info->parent_task_id);
	if (pt)
		parent = kernel_cap_object((struct ktask *)pt, info->parent_sel, NULL, NULL);
	e->v[e->n++] = (struct edge){ tid, info->sel, info->kind, info->object_id, info->rights, info->parent_task_id,
				      info->parent_sel, kernel_object_id(parent) };
}

/* Everything derived from the root of this slot's derivation tree: the
 * outside copies may hang below the slot, beside it (derived from the
 * same root in core) or above it (a parent that opened a session for its
 * child holds the copy the child's derives from). */
static void edges_of_slot(void *ctx, const struct kernel_cap_info *info)
{
	struct edges *e = ctx;
	struct component *c = e->set[e->nset]; /* the member being walked, parked past the end */
	struct ktask *task = c->task;
	struct kernel_cap_info at = *info;
	for (int depth = 0; at.parent_task_id && depth < 64; depth++) {
		struct kobj *pt = kernel_object_by_id(at.parent_task_id);
		if (!pt || kernel_cap_info_of((struct ktask *)pt, at.parent_sel, &at) != AMBER_OK)
			break;
		task = (struct ktask *)pt;
	}
	kernel_cap_walk_derived(task, at.sel, edge_visit, e);
}

/* What components outside the set derived from the set's capabilities. */
static void edges_collect(struct edges *e, struct component **set, size_t n)
{
	struct component **ext = malloc((n + 1) * sizeof(*ext));
	if (!ext)
		abort();
	memcpy(ext, set, n * sizeof(*ext));
	e->set = ext;
	e->nset = n;
	for (size_t i = 0; i < n; i++) {
		if (!set[i]->task)
			continue;
		ext[n] = set[i];
		kernel_space_enumerate(set[i]->task, edges_of_slot, e);
	}
}

/* What outside components hold and wait for, kept across a teardown: the
 * capabilities they derived from the set's, and their threads waiting
 * for the set's threads, parked (kernel_thread_park) so that they neither
 * fail nor lose their place. A stopped component (checkpoint --kill)
 * keeps it until its restore. */
struct parked {
	uint64_t thread_id;
	struct kernel_thread_ipc_state st;
};

struct kept {
	struct edges edges;
	struct parked *parked;
	size_t nparked, cap;
	struct component **set;
	size_t nset;
};

static void park_visit(void *ctx, struct kthread *t)
{
	struct kept *k = ctx;
	if (task_in_set(k->set, k->nset, kernel_object_id(kernel_thread_task(t))))
		return; /* a member: its state is in the image */
	if (k->nparked == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 16;
		if (!(k->parked = realloc(k->parked, k->cap * sizeof(*k->parked))))
			abort();
	}
	struct parked *p = &k->parked[k->nparked++];
	p->thread_id = kernel_object_id(t);
	kernel_thread_ipc_export(t, &p->st);
	kernel_thread_park(t);
}

/* Kernel lock held. */
static struct kept *keep(struct component **set, size_t n)
{
	struct kept *k = calloc(1, sizeof(*k));
	if (!k)
		abort();
	edges_collect(&k->edges, set, n);
	k->set = set;
	k->nset = n;
	for (size_t i = 0; i < n; i++)
		if (set[i]->task)
			kernel_threads_waiting_on(set[i]->task, park_visit, k);
	k->set = NULL;
	k->nset = 0;
	return k;
}

static void kept_free(struct kept *k)
{
	if (!k)
		return;
	free(k->edges.v);
	free(k->edges.set);
	free(k->parked);
	free(k);
}

/* Is thread `id` parked waiting for the reply of thread `partner`? */
static bool parked_for_reply(const struct kept *k, uint64_t id, uint64_t partner)
{
	for (size_t i = 0; k && i < k->nparked; i++)
		if (k->parked[i].thread_id == id && k->parked[i].st.state == KTHREAD_REPLY_WAIT &&
		    k->parked[i].st.partner_id == partner)
			return true;
	return false;
}

/* Put parked threads back into their waits on the restored objects, or
 * (ok false, or their partner does not owe them a reply any more) let
 * them fail with NO_PARTNER. Kernel lock held. */
static void unpark(struct kept *k, bool ok)
{
	for (size_t i = 0; k && i < k->nparked; i++) {
		struct parked *p = &k->parked[i];
		struct kthread *t = (struct kthread *)cr_object(p->thread_id, AMBER_KIND_THREAD);
		if (!t)
			continue; /* its component ended meanwhile */
		struct kernel_thread_ipc_refs refs = {
			.send_gate = (struct kgate *)cr_object(p->st.send_gate_id, AMBER_KIND_GATE),
			.partner = (struct kthread *)cr_object(p->st.partner_id, AMBER_KIND_THREAD),
			.reply_to = (struct kthread *)cr_object(p->st.reply_to_id, AMBER_KIND_THREAD),
		};
		if (p->st.reply_to_id && !refs.reply_to)
			p->st.reply_to_id = 0;
		if (!ok || kernel_thread_ipc_import(t, &p->st, &refs) != AMBER_OK)
			kernel_thread_unpark_error(t, AMBER_ERR_NO_PARTNER);
	}
	if (k)
		k->nparked = 0; /* each is put back or failed once */
}

/* ---- loading ------------------------------------------------------------- */

/* Core's slot that holds object `id` (its root or core's only copy).
 * Every capability of a component derived from core's space asks, so a
 * search of core's space each time made a restore O(n^2) in the roots core
 * holds (thousands once it hosts many components). An index by id, built
 * from one walk of core's space, answers instead; core's space changes
 * while a set is loaded, so an answer is checked against the slot, and a
 * miss builds the index again once before it is believed. */
struct core_slot_index {
	uint64_t *id;
	amber_sel_t *sel;
	size_t cap, n;
	bool built;
	uint64_t installs; /* core's kernel_task_installs() when it was built */
};
static struct core_slot_index core_slots;

static size_t id_hash(uint64_t id, size_t cap) { return (size_t)(id * 0x9e3779b97f4a7c15ull) & (cap - 1); }

static void core_slot_put(struct core_slot_index *x, uint64_t id, amber_sel_t sel, bool root)
{
	size_t i = id_hash(id, x->cap);
	while (x->id[i] && x->id[i] != id)
		i = (i + 1) & (x->cap - 1);
	if (!x->id[i]) {
		x->id[i] = id;
		x->sel[i] = sel;
		x->n++;
	} else if (root) {
		x->sel[i] = sel; /* a root rather than a copy */
	}
}

static void count_core_slot(void *ctx, const struct kernel_cap_info *info)
{
	(void)info;
	(*(size_t *)ctx)++;
}

static void index_core_slot(void *ctx, const struct kernel_cap_info *info)
{
	core_slot_put(ctx, info->object_id, info->sel, info->parent_task_id == 0);
}

static void core_slot_index_drop(void)
{
	free(core_slots.id);
	free(core_slots.sel);
	core_slots = (struct core_slot_index){ 0 };
}

static void core_slot_index_build(void)
{
	struct ktask *core = kernel_core_task();
	size_t used = 0;
	kernel_space_enumerate(core, count_core_slot, &used);
	core_slot_index_drop();
	for (core_slots.cap = 64; core_slots.cap < 2 * used + 2; core_slots.cap *= 2)
		;
	core_slots.id = calloc(core_slots.cap, sizeof(*core_slots.id));
	core_slots.sel = calloc(core_slots.cap, sizeof(*core_slots.sel));
	if (!core_slots.id || !core_slots.sel)
		abort();
	kernel_space_enumerate(core, index_core_slot, &core_slots);
	core_slots.built = true;
	core_slots.installs = kernel_task_installs(core);
}

static amber_sel_t core_slot_lookup(uint64_t id)
{
	if (!core_slots.built)
		return AMBER_SEL_INVALID;
	for (size_t i = id_hash(id, core_slots.cap); core_slots.id[i]; i = (i + 1) & (core_slots.cap - 1)) {
		if (core_slots.id[i] != id)
			continue;
		struct kobj *o = kernel_cap_object(kernel_core_task(), core_slots.sel[i], NULL, NULL);
		return o && kernel_object_id(o) == id ? core_slots.sel[i] : AMBER_SEL_INVALID;
	}
	return AMBER_SEL_INVALID;
}

static amber_sel_t core_slot_of(uint64_t id)
{
	amber_sel_t s = core_slot_lookup(id);
	if (s == AMBER_SEL_INVALID &&
	    (!core_slots.built || core_slots.installs != kernel_task_installs(kernel_core_task()))) {
		core_slot_index_build();
		s = core_slot_lookup(id);
	}
	return s;
}

/* Will root_load put core's copy of a root session (object_id) into core's
 * slot sel? Then what clients derived from it waits for it. */
static bool root_copy_expected(const AmberImg__Image *img, amber_sel_t sel, uint64_t object_id)
{
	for (size_t i = 0; i < img->n_components; i++)
		for (size_t j = 0; j < img->components[i]->n_root_sessions; j++) {
			const AmberImg__RootSession *y = img->components[i]->root_sessions[j];
			if (y->has_core_sel && y->core_sel == sel && y->gate_id == object_id)
				return true;
		}
	return false;
}

/* The parent of a capability being installed: (task, slot) now. 1: exists,
 * 0: not yet (a slot of the set still to come), -1: never. */
static int find_parent(const AmberImg__Image *img, uint64_t task_id, amber_sel_t sel, uint64_t object_id,
		       struct ktask **task, amber_sel_t *psel)
{
	if (task_id == img->core_task_id || task_id == kernel_object_id(kernel_core_task())) {
		*task = kernel_core_task();
		/* The slot it had, if it holds the object again (core's copy of a
		 * root session, root.c), else the object's first slot in core. */
		struct kobj *o = sel < AMBER_CAP_SLOTS ? kernel_cap_object(*task, sel, NULL, NULL) : NULL;
		if (!o && root_copy_expected(img, sel, object_id))
			return 0; /* root_load makes it */
		*psel = o && kernel_object_id(o) == object_id ? sel : core_slot_of(object_id);
		return *psel == AMBER_SEL_INVALID ? -1 : 1;
	}
	struct kobj *t = cr_object(task_id, AMBER_KIND_TASK);
	if (!t)
		return -1;
	*task = (struct ktask *)t;
	*psel = sel;
	struct kobj *o = kernel_cap_object(*task, sel, NULL, NULL);
	if (!o)
		return 0;
	return kernel_object_id(o) == object_id ? 1 : -1;
}

/* The root slot of each object id (parent_task_id 0), by open addressing:
 * a search of all slots per object made restoring a component with n
 * objects O(n^2). */
struct root_index {
	const AmberImg__Cap **v;
	size_t cap;
};

static size_t root_hash(uint64_t id, size_t cap) { return id_hash(id, cap); }

static void root_index_build(struct root_index *r, const AmberImg__Component *m)
{
	for (r->cap = 64; r->cap < 2 * m->n_caps + 2; r->cap *= 2)
		;
	r->v = calloc(r->cap, sizeof(*r->v));
	if (!r->v)
		abort();
	for (size_t j = 0; j < m->n_caps; j++) {
		const AmberImg__Cap *c = m->caps[j];
		if (c->parent_task_id)
			continue;
		size_t i = root_hash(c->object_id, r->cap);
		while (r->v[i] && r->v[i]->object_id != c->object_id)
			i = (i + 1) & (r->cap - 1);
		if (!r->v[i])
			r->v[i] = c; /* the first, as the search in slot order found */
	}
}

static const AmberImg__Cap *root_of(const struct root_index *r, uint64_t id)
{
	for (size_t i = root_hash(id, r->cap); r->v[i]; i = (i + 1) & (r->cap - 1))
		if (r->v[i]->object_id == id)
			return r->v[i];
	return NULL;
}

/* One of them, made again in its root slot. */
static int load_object(struct cr_load *l, const AmberImg__Cap *cap, const AmberImg__KernelObject *x)
{
	struct component *c = l->c;
	if (!cap)
		return cr_fail(l->err, l->errlen, "%s: object %llu has no root slot", c->name,
			       (unsigned long long)x->id);
	if (cr_force_id(l, x->id, "kernel object") < 0)
		return -1;
	int err;
	struct kobj *o = NULL;
	if (x->kind == AMBER_KIND_IRQ) {
		struct kirq *irq;
		err = kernel_create_irq(c->task, cap->sel, &irq);
		o = (struct kobj *)irq;
	} else if (x->kind == AMBER_KIND_GATE) {
		struct kobj *bound = x->bound_thread_id ? cr_object(x->bound_thread_id, AMBER_KIND_THREAD) : NULL;
		struct kgate *g;
		err = x->bound_thread_id && !bound ? AMBER_ERR_INVALID_ARG
						   : kernel_create_gate(c->task, cap->sel, x->label,
								       (struct kthread *)bound, &g);
		o = err ? NULL : (struct kobj *)g;
	} else {
		err = AMBER_ERR_INVALID_ARG;
	}
	if (err)
		return cr_fail(l->err, l->errlen, "%s: cannot make object %llu in slot %u again (error %d)", c->name,
			       (unsigned long long)x->id, cap->sel, err);
	if (x->charged_factory_id && kernel_factory_charge(kernel_core_task(), c->factory_sel, o) != AMBER_OK)
		return cr_fail(l->err, l->errlen, "%s: cannot charge object %llu to its factory", c->name,
			       (unsigned long long)x->id);
	return 0;
}

/* Objects the component made through its factory, roots in its space. */
static int load_objects(struct cr_load *l)
{
	const AmberImg__Component *m = l->m;
	struct root_index roots;
	root_index_build(&roots, m);
	int rc = 0;
	for (size_t i = 0; i < m->n_objects && rc == 0; i++)
		rc = load_object(l, root_of(&roots, m->objects[i]->id), m->objects[i]);
	free(roots.v);
	return rc;
}

/* --partial: a slot that cannot come back stays empty (as if revoked);
 * each is reported once. */
static void partial_note(struct cr_load *l, struct component *c, amber_sel_t sel, const char *why)
{
	for (size_t i = 0; i < l->nskipped; i++)
		if (l->skipped[i].c == c && l->skipped[i].sel == sel)
			return;
	if (l->nskipped < sizeof(l->skipped) / sizeof(l->skipped[0]))
		l->skipped[l->nskipped++] = (struct cr_skipped){ c, sel };
	size_t used = strlen(l->report);
	snprintf(l->report + used, sizeof(l->report) - used, "%s%s", used ? "; " : "", why);
}

/* Install the image's slots whose parents exist; how many are left (the
 * first of them described in l->err, for a restore that gives up). */
static int load_caps(struct cr_load *l, size_t *left)
{
	const AmberImg__Component *m = l->m;
	struct component *c = l->c;
	*left = 0;
	for (size_t i = 0; i < m->n_caps; i++) {
		const AmberImg__Cap *x = m->caps[i];
		if (!x->parent_task_id)
			continue; /* a root: load_objects made it */
		struct kobj *o = kernel_cap_object(c->task, x->sel, NULL, NULL);
		if (o) {
			if (kernel_object_id(o) != x->object_id)
				return cr_fail(l->err, l->errlen, "%s: slot %u holds object %llu, the image says %llu", c->name,
					       x->sel, (unsigned long long)kernel_object_id(o),
					       (unsigned long long)x->object_id);
			continue;
		}
		struct ktask *pt;
		amber_sel_t ps;
		int found = find_parent(l->img, x->parent_task_id, x->parent_sel, x->object_id, &pt, &ps);
		if (found == 0 && l->fallback && !task_in_set(l->set, l->img->n_components, x->parent_task_id)) {
			/* Its parent was an outside component's copy that is gone
			 * (revoked when the original ended): derive it from the
			 * object's root in core instead. */
			pt = kernel_core_task();
			ps = core_slot_of(x->object_id);
			found = ps == AMBER_SEL_INVALID ? -1 : 1;
		}
		if (found == 0) {
			if (!(*left)++)
				snprintf(l->pending, sizeof(l->pending), "%s: slot %u waits for slot %u of task %llu",
					 c->name, x->sel, x->parent_sel, (unsigned long long)x->parent_task_id);
			continue;
		}
		o = cr_object(x->object_id, (enum amber_kind)x->kind);
		if (found < 0 || !o) {
			char why[240];
			snprintf(why, sizeof(why), "%s: slot %u (%s %llu): %s", c->name, x->sel,
				 x->kind == AMBER_KIND_GATE ? "gate" : x->kind == AMBER_KIND_IRQ ? "IRQ" : "object",
				 (unsigned long long)x->object_id,
				 !o ? "the object is gone (it lived outside the image)" : "what it was derived from is gone");
			if (!l->partial)
				return cr_fail(l->err, l->errlen, "%s", why);
			partial_note(l, c, x->sel, why); /* --partial: the slot stays empty */
			continue;
		}
		int err = kernel_cap_install(c->task, x->sel, o, x->rights, pt, ps);
		if (err)
			return cr_fail(l->err, l->errlen, "%s: cannot install slot %u (error %d)", c->name, x->sel, err);
	}
	return 0;
}

static void load_init(struct cr_load *l, size_t i)
{
	l->m = l->img->components[i];
	l->c = l->set[i];
	if (!l->sessions_of[i] && !(l->sessions_of[i] = calloc(l->m->n_sessions + 1, sizeof(**l->sessions_of))))
		abort();
	l->sessions = l->sessions_of[i];
}

/* Reset a component struct for its restored incarnation. */
static void reset(struct component *c, const AmberImg__Component *m, struct component *parent)
{
	c->id = m->id;
	snprintf(c->name, sizeof(c->name), "%s", m->name);
	snprintf(c->binary, sizeof(c->binary), "%s", m->binary);
	c->parent = parent;
	c->state = COMPONENT_NEW;
	c->ending = false;
	c->entry_stops = 0;
	c->task = NULL;
	c->thread = NULL;
	c->process = NULL;
	c->task_sel = c->thread_sel = c->factory_sel = c->parent_sel = c->log_sel = c->parent_gate = AMBER_SEL_INVALID;
	c->sessions = NULL;
	c->nsessions = 0;
	c->rpc_caps = NULL;
	c->nrpc_caps = 0;
	memset(c->threads, 0, sizeof(c->threads));
	c->regions = NULL;
	c->nregions = 0;
	c->children = NULL;
	c->nchildren = 0;
	c->exit_requested = false;
	c->exit_code = 0;
	c->end_state = m->ended ? m->end_state : AMBER_CHILD_RUNNING;
	c->end_code = m->end_code;
	snprintf(c->end_reason, sizeof(c->end_reason), "%s", m->end_reason ? m->end_reason : "");
	c->stopped = c->crashed = c->restoring = c->cr_busy = false;
}

static int load_component_objects(struct cr_load *l)
{
	if (l->m->ended) {
		l->c->state = COMPONENT_ENDED;
		return 0;
	}
	if (component_load(l) < 0 || session_load(l) < 0 || cpu_load(l) < 0 || pd_load(l) < 0 || child_load(l) < 0 ||
	    log_load(l) < 0 || load_objects(l) < 0)
		return -1;
	return 0;
}

static int load_process(struct cr_load *l)
{
	struct component *c = l->c;
	struct process_mapping maps[ELF_MAX_SEGMENTS + 2];
	size_t n = component_fixed_mappings(c, maps, sizeof(maps) / sizeof(maps[0]));
	struct thread_start start = { .ip = AMBER_IMAGE_BASE, .sp = AMBER_STACK_AREA, .tls_base = AMBER_UTCB_AREA };
	int e = process_spawn(&c->process, c->name, maps, n, &start, c);
	if (e < 0) {
		c->process = NULL;
		return cr_fail(l->err, l->errlen, "%s: cannot spawn its process: %s", c->name, strerror(-e));
	}
	cpu_share_join(c, process_pid(c->process));
	return cpu_load_process(l) < 0 || rm_load_process(l) < 0 ? -1 : 0;
}

static bool thread_in_set(struct cr_load *l, uint64_t id)
{
	struct kobj *t = cr_object(id, AMBER_KIND_THREAD);
	return t && task_in_set(l->set, l->img->n_components, kernel_object_id(kernel_thread_task((struct kthread *)t)));
}

/* IRQ states in the order that rebuilds each thread's list of attached
 * IRQs (attaching prepends: the last attached is delivered first). */
static int load_irqs(struct cr_load *l)
{
	const AmberImg__Component *m = l->m;
	uint32_t max = 0;
	for (size_t i = 0; i < m->n_irqs; i++)
		if (m->irqs[i]->attach_order > max)
			max = m->irqs[i]->attach_order;
	for (uint64_t order = (uint64_t)max + 1; order-- > 0;) {
		for (size_t i = 0; i < m->n_irqs; i++) {
			const AmberImg__IrqState *x = m->irqs[i];
			if (x->attach_order != order)
				continue;
			struct kobj *irq = cr_object(x->irq_id, AMBER_KIND_IRQ);
			struct kobj *t = x->attached_thread_id ? cr_object(x->attached_thread_id, AMBER_KIND_THREAD) : NULL;
			struct kernel_irq_state st = { x->attached_thread_id, x->label, x->pending };
			if (!irq || (x->attached_thread_id && !t) ||
			    kernel_irq_import((struct kirq *)irq, &st, (struct kthread *)t) != AMBER_OK)
				return cr_fail(l->err, l->errlen, "%s: IRQ %llu cannot be attached again", l->c->name,
					       (unsigned long long)x->irq_id);
		}
	}
	return 0;
}

/* Import a thread's IPC state; a call whose partner is not restored is
 * left to be restarted from its UTCB. Returns the doorbell value served. */
static int load_ipc(struct cr_load *l, const AmberImg__Thread *x, uint32_t *served)
{
	const AmberImg__ThreadIpc *y = x->ipc;
	struct kthread *t = (struct kthread *)cr_object(x->object_id, AMBER_KIND_THREAD);
	struct kernel_thread_ipc_state st = {
		.state = (enum kthread_state)y->state,
		.op_seq = y->op_seq,
		.send_is_call = y->send_is_call,
		.msg_tag = y->msg_tag,
		.rcv_window = y->rcv_window,
		.rcv_timeout_us = y->rcv_timeout_us,
		.remaining_us = y->remaining_us,
		.send_gate_id = y->send_gate_id,
		.queue_pos = y->queue_pos,
		.partner_id = y->partner_id,
		.reply_to_id = y->reply_to_id,
		.wait_irq_id = y->wait_irq_id,
	};
	if (y->n_msg_mr != AMBER_MR_COUNT)
		return cr_fail(l->err, l->errlen, "%s: thread %u: message of %zu words", l->c->name, x->index,
			       y->n_msg_mr);
	memcpy(st.msg_mr, y->msg_mr, sizeof(st.msg_mr));
	struct kernel_thread_ipc_refs refs = { 0 };
	bool restart = false;
	if (st.state == KTHREAD_SEND) {
		struct kobj *g = cr_object(st.send_gate_id, AMBER_KIND_GATE);
		struct kernel_gate_state gs = { 0 };
		if (g)
			kernel_gate_export((struct kgate *)g, &gs);
		restart = !g || !thread_in_set(l, gs.bound_thread_id);
		refs.send_gate = (struct kgate *)g;
	} else if (st.state == KTHREAD_REPLY_WAIT) {
		restart = !st.partner_id || !thread_in_set(l, st.partner_id);
		refs.partner = (struct kthread *)cr_object(st.partner_id, AMBER_KIND_THREAD);
	} else if (st.state == KTHREAD_IRQ_WAIT) {
		refs.wait_irq = (struct kirq *)cr_object(st.wait_irq_id, AMBER_KIND_IRQ);
	} else if (st.state == KTHREAD_DEAD) {
		return cr_fail(l->err, l->errlen, "%s: thread %u is dead", l->c->name, x->index);
	}
	/* A reply owed to a caller outside the set is dropped: that caller
	 * already saw NO_PARTNER when the original went. */
	if (st.reply_to_id && (thread_in_set(l, st.reply_to_id) || parked_for_reply(l->kept, st.reply_to_id, x->object_id)))
		refs.reply_to = (struct kthread *)cr_object(st.reply_to_id, AMBER_KIND_THREAD);
	else
		st.reply_to_id = 0;
	struct amber_utcb *u = kernel_thread_utcb(t);
	if (restart) {
		/* Back to before the call was served, in the kernel too: it
		 * takes an entry whose number equals op_seq for one it served
		 * already, and the call would never be made again. */
		*served = u->done_seq & AMBER_SEQ_MASK;
		st.op_seq = *served;
		st.state = KTHREAD_READY;
	}
	int err = kernel_thread_ipc_import(t, &st, &refs);
	if (err)
		return cr_fail(l->err, l->errlen, "%s: thread %u: its IPC state (%u) cannot be restored (error %d)",
			       l->c->name, x->index, y->state, err);
	if (!restart)
		*served = st.state != KTHREAD_READY ? st.op_seq : u->done_seq & AMBER_SEQ_MASK;
	return 0;
}

static int start_component(struct cr_load *l, const uint32_t *served)
{
	struct component *c = l->c;
	for (size_t i = 0; i < l->m->n_threads; i++) {
		const AmberImg__Thread *x = l->m->threads[i];
		struct kthread *t = (struct kthread *)cr_object(x->object_id, AMBER_KIND_THREAD);
		if (kernel_entry_start_restored(t, served[i]) < 0)
			return cr_fail(l->err, l->errlen, "%s: cannot start the kernel entry of thread %u", c->name, x->index);
	}
	c->state = COMPONENT_RUNNING;
	for (size_t i = 0; i < l->m->n_threads; i++) {
		const AmberImg__Thread *x = l->m->threads[i];
		if (x->run_state == AMBER_IMG__RUN_STATE__RUNNING)
			process_thread_resume(c->process, cpu_thread_tid(c, x->index));
	}
	cpu_resume_resolved(c); /* a fault resolved just before the cut */
	return 0;
}

/* An outside component's capability again, if its object and parent are
 * back; true when it is (or cannot ever be). */
static bool load_edge(const AmberImg__Image *img, const struct edge *e)
{
	struct kobj *task = cr_object(e->task_id, AMBER_KIND_TASK);
	struct kobj *o = cr_object(e->object_id, e->kind);
	struct ktask *pt;
	amber_sel_t ps;
	if (!task || !o)
		return false;
	struct kobj *there = kernel_cap_object((struct ktask *)task, e->sel, NULL, NULL);
	if (there)
		return there == o; /* never revoked (an object outside the set), or already back */
	if (find_parent(img, e->parent_task_id, e->parent_sel, e->parent_object_id, &pt, &ps) != 1)
		return false;
	return kernel_cap_install((struct ktask *)task, e->sel, o, e->rights, pt, ps) == AMBER_OK;
}

/* The whole set, in the phases of the header comment. */
static int restore_set(struct cr_load *l)
{
	struct edges *outside = l->kept ? &l->kept->edges : NULL;
	const AmberImg__Image *img = l->img;
	size_t n = img->n_components;
	core_slot_index_drop(); /* from an earlier restore: built again when first asked */
	for (size_t i = 0; i < n; i++) {
		load_init(l, i);
		if (load_component_objects(l) < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		load_init(l, i);
		if (!l->m->ended && rm_load(l) < 0)
			return -1;
	}
	/* B: slots, parents first; a slot derived from a later slot of the
	 * set waits for the next round. */
	for (size_t i = 0; i < n; i++) {
		load_init(l, i);
		if (!l->m->ended && component_load_parent_gate(l) < 0)
			return -1;
	}
	/* Slots of the set and what outside components held (an in-place
	 * restore) may derive from each other both ways: a child's copy of
	 * a session its parent opened for it derives from the parent's. */
	bool *edge_done = outside ? calloc(outside->n + 1, sizeof(*edge_done)) : NULL;
	for (int round = 0;; round++) {
		size_t left = 0, l1;
		for (size_t i = 0; i < n; i++) {
			load_init(l, i);
			if (!l->m->ended && load_caps(l, &l1) < 0) {
				free(edge_done);
				return -1;
			}
			left += l->m->ended ? 0 : l1;
		}
		for (size_t i = 0; outside && i < outside->n; i++)
			if (!edge_done[i])
				edge_done[i] = load_edge(img, &outside->v[i]);
		if (!left)
			break;
		l->fallback = round >= 2;
		if (round > 64 && l->partial) {
			partial_note(l, l->c, 0, l->pending); /* those slots stay empty */
			break;
		}
		if (round > 64) {
			free(edge_done);
			return cr_fail(l->err, l->errlen, "%zu slots are derived from slots that never come (%s)", left,
				       l->pending);
		}
	}
	/* Announced services: core's copies, which clients' copies derive from. */
	for (size_t i = 0; i < n; i++) {
		load_init(l, i);
		if (!l->m->ended && (parent_load(l) < 0 || root_load(l) < 0)) {
			free(edge_done);
			return -1;
		}
	}
	for (size_t i = 0; outside && i < outside->n; i++) {
		const struct edge *e = &outside->v[i];
		if (!edge_done[i] && !(edge_done[i] = load_edge(img, e)))
			core_report("restore: slot %u of task %llu (object %llu) is not restored", e->sel,
				    (unsigned long long)e->task_id, (unsigned long long)e->object_id);
	}
	free(edge_done);
	/* C */
	for (size_t i = 0; i < n; i++) {
		load_init(l, i);
		if (!l->m->ended && (component_load_memory(l) < 0 || load_process(l) < 0))
			return -1;
	}
	/* Lazy: the mappings registered and the loader started before any
	 * thread runs. */
	if (l->lazy) {
		struct cr_lazy *z = l->lazy;
		l->lazy = NULL;
		if (cr_lazy_arm(z, l->set, n, img->root, l->err, l->errlen) < 0)
			return -1;
	}
	/* D */
	for (size_t i = 0; i < n; i++) {
		load_init(l, i);
		if (!l->m->ended && load_irqs(l) < 0)
			return -1;
	}
	uint32_t **served = calloc(n, sizeof(*served));
	if (!served)
		abort();
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		load_init(l, i);
		served[i] = calloc(l->m->n_threads + 1, sizeof(**served));
		if (!served[i])
			abort();
		for (size_t j = 0; j < l->m->n_threads && rc == 0; j++)
			rc = load_ipc(l, l->m->threads[j], &served[i][j]);
	}
	unpark(l->kept, rc == 0);
	/* Threads that wait now get what is queued or pending for them: the
	 * parked senders just put back, IRQs triggered before. */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (l->set[i]->task && !img->components[i]->ended)
			kernel_task_deliver_held(l->set[i]->task);
	/* E */
	for (size_t i = 0; i < n && rc == 0; i++) {
		load_init(l, i);
		if (!l->m->ended)
			rc = start_component(l, served[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(served[i]);
	free(served);
	return rc;
}

/* ---- the commands ---------------------------------------------------------- */

/* A child that ended gave its quotas back to its parent (child.c); its
 * restore takes them again, as CREATE_CHILD did, and is refused if the
 * parent no longer has them: an image never makes core exceed the quotas
 * of the parent it is restored under. The caps quota is the root's total;
 * RAM is every member's own part (its descendants gave theirs back to
 * the same parent, child.c give_back). */
static int take_quotas_back(struct component *c, const AmberImg__Image *img, char *err, size_t errlen)
{
	const AmberImg__Component *m = img->components[0];
	struct component *p = c->parent;
	if (!p || c->kernel_quota || c->ram_quota)
		return 0; /* a scenario's component, or its quotas were never given back */
	if (p->state != COMPONENT_RUNNING || p->ending)
		return cr_fail(err, errlen, "its parent %s does not run", p->name);
	uint64_t ram = 0;
	for (size_t i = 0; i < img->n_components; i++)
		ram += img->components[i]->ram_quota;
	if (ram > p->ram_quota - p->ram_used)
		return cr_fail(err, errlen, "its parent %s has %llu bytes of RAM quota left, the image needs %llu", p->name,
			       (unsigned long long)(p->ram_quota - p->ram_used), (unsigned long long)ram);
	if (kernel_factory_adjust(kernel_core_task(), p->factory_sel, -(int64_t)m->kernel_quota) != AMBER_OK)
		return cr_fail(err, errlen, "its parent %s has fewer than %u capabilities of quota left", p->name,
			       m->kernel_quota);
	p->ram_quota -= ram;
	return 0;
}

struct by_id_ctx {
	unsigned id;
	const char *name;
	struct component *found;
};

static void by_id_visit(struct component *c, void *arg)
{
	struct by_id_ctx *x = arg;
	if (!x->found && c->id == x->id && strcmp(c->name, x->name) == 0 && c->state != COMPONENT_RUNNING)
		x->found = c;
}

static struct component *by_id(unsigned id, const char *name)
{
	struct by_id_ctx x = { id, name, NULL };
	core_components_each(by_id_visit, &x);
	return x.found;
}

static bool member(struct component **set, size_t n, const struct component *c)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == c)
			return true;
	return false;
}

/* A live component not in the image: made after the cut, it never was in
 * the restored timeline, and its parent's record of it went with the
 * teardown. Kernel lock held, after the members were reset (their parents
 * are the image's). */
static void roll_back(struct component *c)
{
	if (c->restoring) {
		c->restoring = false;
		c->end_state = AMBER_CHILD_KILLED;
		snprintf(c->end_reason, sizeof(c->end_reason), "rolled back");
		core_component_ended();
	}
	core_component_roll_back(c);
}

/* A member of the image core no longer keeps: one an earlier restore
 * rolled back and freed (components.c), e.g. a child of an image taken
 * after that restore's image, restored after it. It comes back as in a
 * fresh system (cr_boot): a new struct with its id. Kernel lock held. */
static struct component *fresh_member(const AmberImg__Component *m, struct component *parent)
{
	struct component *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->id = m->id;
	snprintf(c->name, sizeof(c->name), "%s", m->name);
	c->state = COMPONENT_ENDED; /* until the load: `amber ps` shows where it will be */
	c->parent = parent;
	core_component_adopt(c);
	return c;
}

/* After a failed load: end what was made, so that nothing half-made runs. */
static void undo(struct component **set, size_t n)
{
	kernel_lock();
	for (size_t i = 0; i < n; i++) {
		set[i]->restoring = true;
		if (set[i]->state != COMPONENT_ENDED)
			set[i]->state = COMPONENT_RUNNING; /* so that cleanup releases it */
	}
	kernel_unlock();
	for (size_t i = n; i-- > 0;) {
		component_cleanup(set[i]);
		kernel_lock();
		set[i]->restoring = false;
		set[i]->crashed = true;
		set[i]->end_state = AMBER_CHILD_KILLED;
		snprintf(set[i]->end_reason, sizeof(set[i]->end_reason), "restore failed");
		kernel_unlock();
	}
}

/* What the load did not take (all of it after a failure). */
static void preload_free(struct dataspace *mem, size_t n)
{
	for (size_t i = 0; mem && i < n; i++)
		dataspace_destroy(&mem[i]);
	free(mem);
}

/* Every dataspace's memory into a memfd of its own, each page run checked
 * on the way: before the kernel lock (other components' IPC does not wait
 * for 256 MiB to be read) and before the live incarnation is touched (a
 * damaged run refuses the restore with nothing changed). NULL and err on
 * failure. */
static struct dataspace *preload(const char *dir, const AmberImg__Image *img, bool lazy, struct cr_lazy **plan,
				 const struct timespec *t0, char *err, size_t errlen)
{
	size_t n = img->n_dataspaces;
	/* cr_image_validate checked that no component holds more RAM than its
	 * quota says: memory is read here, before the load charges it. */
	struct dataspace *mem = calloc(n + 1, sizeof(*mem));
	int *fds = calloc(n + 1, sizeof(*fds));
	if (!mem || !fds)
		abort();
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const AmberImg__Dataspace *d = img->dataspaces[i];
		mem[i].fd = fds[i] = -1;
		if (rc < 0 || d->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED)
			continue;
		int e = dataspace_create(&mem[i], d->size, d->name);
		if (e < 0)
			rc = cr_fail(err, errlen, "dataspace %zu (%s, %llu bytes): %s", i, d->name,
				     (unsigned long long)d->size, strerror(-e));
		fds[i] = mem[i].fd;
	}
	/* Lazy: segments and RAM stay empty here; which extent holds each of
	 * their pages is worked out (the chain read and checked, cr_lazy.c). */
	bool *later = calloc(n + 1, sizeof(*later));
	if (!later)
		abort();
	for (size_t i = 0; lazy && rc == 0 && i < n; i++)
		if (fds[i] >= 0 && cr_lazy_kind(img->dataspaces[i])) {
			later[i] = true;
			fds[i] = -1;
		}
	if (rc == 0)
		rc = image_load_memory(dir, img, fds, err, errlen);
	if (rc == 0 && lazy && !(*plan = cr_lazy_plan(dir, img, later, mem, t0, err, errlen)))
		rc = -1;
	free(later);
	free(fds);
	if (rc < 0) {
		preload_free(mem, n);
		return NULL;
	}
	return mem;
}

static int run_load(const char *dir, AmberImg__Image *img, struct dataspace *mem, struct cr_lazy *lazy,
		    struct component **set, struct kept *kept, bool partial, char *report, size_t reportlen, char *err,
		    size_t errlen)
{
	struct cr_load l = { .img = img, .mem = mem, .set = set, .err = err, .errlen = errlen, .kept = kept,
			     .partial = partial, .lazy = lazy };
	l.ds = calloc(img->n_dataspaces + 1, sizeof(*l.ds));
	l.sessions_of = calloc(img->n_components + 1, sizeof(*l.sessions_of));
	if (!l.ds || !l.sessions_of)
		abort();
	err[0] = '\0';
	kernel_lock();
	kernel_object_ids_above(img->next_object_id);
	core_badges_above(img->next_badge);
	core_component_ids_above(img->next_component_id);
	int rc = restore_set(&l);
	core_slot_index_drop();
	root_restored(); /* also after a failed one: nothing waits for more loading */
	if (rc < 0)
		unpark(kept, false); /* no-op if restore_set got that far */
	else /* before its threads' first line: output stays in order */
		core_report("%s restored from %s", img->root, dir);
	kernel_unlock();
	if (report)
		snprintf(report, reportlen, "%s", l.report);
	cr_lazy_free(l.lazy); /* not armed: the load failed before */
	free(l.ds);
	for (size_t i = 0; i < img->n_components; i++)
		free(l.sessions_of[i]);
	free(l.sessions_of);
	if (rc < 0)
		undo(set, img->n_components);
	return rc;
}

/* The image of dir's current generation (its directory into gen, so that
 * the pages are read from the same one), read and checked: its signature
 * (with a key), image_read's checks of the files, then core's own
 * (cr_image_validate). */
static int read_image(const char *dir, const struct image_key *key, char *gen, size_t genlen, AmberImg__Image **out,
		      char *err, size_t errlen)
{
	char msg[512];
	*out = NULL;
	/* With a key, nothing of the files is decoded before they are verified. */
	if (image_current(dir, gen, genlen, err, errlen) < 0 || image_read_signed(gen, key, out, err, errlen) < 0)
		return -1;
	if (key && image_verify_parents(*out, gen, key, err, errlen) < 0) {
		image_free(*out);
		*out = NULL;
		return -1;
	}
	if (cr_image_validate(*out, msg, sizeof(msg)) < 0) {
		cr_fail(err, errlen, "%s/image.pb: %s", gen, msg);
		image_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int restore_held(const char *dir, const struct cr_options *o, char *msg, size_t msglen);

int cr_restore(const char *dir, const struct cr_options *o, char *msg, size_t msglen)
{
	if (!core_components_hold()) {
		snprintf(msg, msglen, "cannot restore %s: amber-core is stopping (its components have all ended, or it "
				      "was told to stop)", dir);
		return -1;
	}
	int rc = restore_held(dir, o, msg, msglen);
	core_component_ended(); /* the hold */
	return rc;
}

static int restore_held(const char *dir, const struct cr_options *o, char *msg, size_t msglen)
{
	char err[512] = "";
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	AmberImg__Image *img;
	char gen[PATH_MAX]; /* one generation throughout, even if DIR gets a new one meanwhile */
	if (read_image(dir, o->key, gen, sizeof(gen), &img, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "cannot restore %s: %s", dir, err);
		return -1;
	}
	cr_lazy_settle(); /* no lazy load goes on under a restore */
	struct cr_lazy *plan = NULL;
	struct dataspace *mem = preload(gen, img, o->lazy, &plan, &t0, err, sizeof(err));
	if (!mem) {
		snprintf(msg, msglen, "cannot restore %s: %s", dir, err);
		image_free(img);
		return -1;
	}
	size_t n = img->n_components;
	struct component **set = calloc(n, sizeof(*set));
	struct component **live = NULL;
	size_t nlive = 0;
	if (!set)
		abort();
	bool *was_live = calloc(n + 1, sizeof(*was_live));
	struct kept *kept = NULL;
	int rc;
	for (;;) {
		rc = 0;
		kernel_lock();
		struct component *root = cr_find(img->components[0]->name);
		if (!root)
			rc = cr_fail(err, sizeof(err), "no component named '%s' runs here (a whole scenario's image "
						       "restores with: amber run --restore DIR)", img->components[0]->name);
		else if ((root->parent ? root->parent->id : 0) != img->components[0]->parent_id ||
			 root->id != img->components[0]->id)
			rc = cr_fail(err, sizeof(err), "%s here is not the component of the image (id %u, image: %u)",
				     root->name, root->id, img->components[0]->id);
		else if (root->cr_busy || root->restoring || root->entry_stops)
			rc = cr_fail(err, sizeof(err), "%s is busy with a checkpoint, restore or session close; try again",
				     root->name);
		if (rc == 0) {
			cr_collect(root, &live, &nlive);
			/* Every component of the image is the one of its id here: in
			 * the live tree, or (stopped or ended, so no longer its
			 * parent's child) anywhere. */
			for (size_t i = 0; i < n && rc == 0; i++) {
				for (size_t j = 0; j < nlive && !set[i]; j++)
					if (live[j]->id == img->components[i]->id)
						set[i] = live[j];
				if (!set[i])
					set[i] = by_id(img->components[i]->id, img->components[i]->name);
				/* Not kept any more (rolled back and freed): made afresh
				 * below, unless its id is another component's. */
				if (!set[i] && core_component_id_known(img->components[i]->id))
					rc = cr_fail(err, sizeof(err), "%s (id %u) of the image is not in the live tree of %s",
						     img->components[i]->name, img->components[i]->id, root->name);
			}
		}
		if (rc == 0 && (mid_exit(set, n) || mid_exit(live, nlive))) {
			/* One ends by itself right now: its cleanup, its quotas
			 * going back and its parent's notice are still to come and
			 * would land on the restored incarnation. Let that end
			 * finish; then it is one that ended after the checkpoint. */
			kernel_unlock();
			free(live);
			live = NULL;
			nlive = 0;
			memset(set, 0, n * sizeof(*set));
			sleep_ms(1);
			continue;
		}
		for (size_t i = 0; rc == 0 && i < n; i++)
			was_live[i] = set[i] && (set[i]->state == COMPONENT_RUNNING || set[i]->stopped);
		if (rc == 0 && !was_live[0])
			rc = take_quotas_back(root, img, err, sizeof(err));
		else if (rc == 0 && root->parent &&
			 (root->kernel_quota != img->components[0]->kernel_quota ||
			  root->ram_quota != img->components[0]->ram_quota))
			/* Its parent lent it exactly what it has now: an image may
			 * not give it more (nor silently less). */
			rc = cr_fail(err, sizeof(err),
				     "%s has quotas of %u capabilities and %llu bytes, the image %u and %llu (changed since "
				     "the checkpoint)",
				     root->name, root->kernel_quota, (unsigned long long)root->ram_quota,
				     img->components[0]->kernel_quota, (unsigned long long)img->components[0]->ram_quota);
		if (rc == 0) {
			/* The members are the image's now, rolled back or not: in this
			 * same section, so that the reaper (which takes the lock)
			 * frees none of them. */
			for (size_t i = 0; i < n; i++) { /* parents first: the root is never fresh */
				if (!set[i])
					set[i] = fresh_member(img->components[i],
							      cr_load_component(&(struct cr_load){ .img = img, .set = set },
										img->components[i]->parent_id));
				core_component_keep(set[i]);
			}
			/* In place: write down what outside components hold, and
			 * claim the live incarnation for a quiet end in this same
			 * section, so that none of it begins to end by itself in
			 * between. Live members not in the image (made after the
			 * checkpoint) end with it. */
			kept = keep(live, nlive); /* a stopped component's too: its objects are there */
			teardown_claim(live, nlive);
		}
		kernel_unlock();
		break;
	}
	if (rc < 0) {
		snprintf(msg, msglen, "cannot restore %s: %s", dir, err);
		cr_lazy_free(plan);
		preload_free(mem, img->n_dataspaces);
		free(set);
		free(live);
		free(was_live);
		image_free(img);
		return -1;
	}
	teardown(live, nlive);
	kernel_lock();
	for (size_t i = 0; i < n; i++) {
		struct component *parent = NULL;
		if (img->components[i]->parent_id)
			parent = i == 0 ? set[0]->parent : cr_load_component(&(struct cr_load){ .img = img, .set = set },
									     img->components[i]->parent_id);
		reset(set[i], img->components[i], parent);
	}
	for (size_t j = 0; j < nlive; j++)
		if (!member(set, n, live[j]))
			roll_back(live[j]);
	core_components_roll_back_below();
	kernel_unlock();

	char report[sizeof(((struct cr_load *)0)->report)] = "";
	rc = run_load(dir, img, mem, plan, set, kept, o->partial, report, sizeof(report), err, sizeof(err));
	preload_free(mem, img->n_dataspaces);
	kept_free(kept);
	for (size_t i = 0; i < n; i++) {
		bool running = rc == 0 && !img->components[i]->ended;
		if (running && !was_live[i])
			core_component_live();
		else if (!running && was_live[i])
			core_component_ended();
		if (running) {
			snprintf(set[i]->image_dir, sizeof(set[i]->image_dir), "%s", dir);
			cr_remember_key(set[i], o->key);
		}
	}
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (rc == 0) {
		snprintf(msg, msglen, "restored %s: %zu component%s in %.2f ms%s%s%s", img->root, n, n == 1 ? "" : "s", ms,
			 o->lazy ? "; pages load lazily" : "", report[0] ? "; not restored (--partial): " : "", report);
	} else {
		snprintf(msg, msglen, "cannot restore %s: %s", dir, err);
		core_report("restore of %s failed: %s", img->root, err);
	}
	free(set);
	free(live);
	free(was_live);
	image_free(img);
	/* What it rolled back goes once no event handler can hold it. */
	core_components_reap_later();
	return rc;
}

int cr_boot(const char *dir, const struct image_key *key, bool lazy, char *msg, size_t msglen)
{
	char err[512] = "";
	AmberImg__Image *img;
	char gen[PATH_MAX]; /* one generation throughout, even if DIR gets a new one meanwhile */
	if (read_image(dir, key, gen, sizeof(gen), &img, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "cannot restore %s: %s", dir, err);
		return -1;
	}
	size_t n = img->n_components;
	if (img->components[0]->parent_id) {
		snprintf(msg, msglen, "cannot boot from %s: it holds %s, a child; only a top-level component's image "
				      "starts a system", dir, img->root);
		image_free(img);
		return -1;
	}
	struct cr_lazy *plan = NULL;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct dataspace *mem = preload(gen, img, lazy, &plan, &t0, err, sizeof(err));
	if (!mem) {
		snprintf(msg, msglen, "cannot restore %s: %s", dir, err);
		image_free(img);
		return -1;
	}
	struct component **set = calloc(n, sizeof(*set));
	if (!set)
		abort();
	kernel_lock();
	for (size_t i = 0; i < n; i++) {
		set[i] = calloc(1, sizeof(**set));
		if (!set[i])
			abort();
		struct component *parent = NULL;
		for (size_t j = 0; j < i && !parent; j++)
			if (img->components[j]->id == img->components[i]->parent_id)
				parent = set[j];
		reset(set[i], img->components[i], parent);
		core_component_adopt(set[i]);
	}
	kernel_unlock();
	int rc = run_load(dir, img, mem, plan, set, NULL, false, NULL, 0, err, sizeof(err));
	preload_free(mem, img->n_dataspaces);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && !img->components[i]->ended) {
			core_component_live();
			snprintf(set[i]->image_dir, sizeof(set[i]->image_dir), "%s", dir);
			cr_remember_key(set[i], key);
		}
	}
	if (rc == 0)
		snprintf(msg, msglen, "restored %s: %zu component%s%s", img->root, n, n == 1 ? "" : "s",
			 lazy ? "; pages load lazily" : "");
	else
		snprintf(msg, msglen, "cannot restore %s: %s", dir, err);
	free(set);
	image_free(img);
	return rc;
}

/* ---- rollback on a crash (checkpoint --rollback) ------------------------------ */

int cr_rollback_on_crash(struct component *c, const char *reason)
{
	char dir[sizeof(c->image_dir)];
	kernel_lock();
	if (!c->rollback || !c->image_dir[0] || c->restoring || c->ending) {
		kernel_unlock();
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", c->image_dir);
	struct image_key key; /* a signed image is verified again, with its key */
	bool signed_image = c->image_signed;
	memcpy(key.k, c->image_key, sizeof(key.k));
	c->restoring = true; /* ended here, quietly: its parent is not told */
	log_discard(c);
	kernel_unlock();
	core_report("%s crashed: %s; rolling back to %s", c->name, reason, dir);
	component_cleanup(c);
	kernel_lock();
	c->restoring = false;
	c->stopped = true; /* its place is kept, as after checkpoint --kill */
	kernel_unlock();
	char msg[1024];
	struct cr_options o = { .key = signed_image ? &key : NULL };
	int rc = cr_restore(dir, &o, msg, sizeof(msg));
	image_key_clear(&key);
	if (rc == 0) {
		core_report("%s rolled back to its checkpoint %s", c->name, dir);
		return 1;
	}
	core_report("%s could not be rolled back: %s", c->name, msg);
	kernel_lock();
	c->stopped = false;
	c->crashed = true;
	kernel_unlock();
	return -1;
}
