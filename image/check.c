/*
 * image_check: the structure of an image beyond what protobuf decoding
 * guarantees (image.h, docs/image-format.md "What is checked").
 *
 * Restore indexes arrays with what an image says, maps its sizes and
 * offsets and hands its register blobs to ptrace, so everything it will
 * use that way is checked here, once: indices in range and of the right
 * kind, sizes whole pages, extents inside their dataspace and the file,
 * ids unique, blobs of the exact size. Where the schema leaves a value
 * without meaning (an unknown enum value, a session index on a dataspace
 * no session made) the image is refused, not interpreted.
 *
 * Messages name the record: "component 2 (init -> hello): thread 1:
 * gp_regs is 12 bytes, expected 216"; image_read puts the file in front.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

#include "amber/abi.h"
#include "amber/cpu_session.h"
#include "amber/rm_session.h"
#include "core/core.h"
#include "image/internal.h"

#define GP_REGS_SIZE sizeof(struct user_regs_struct)

struct ck {
	const AmberImg__Image *img;
	char *err;
	size_t errlen;
	char where[192]; /* the record being checked, "component 2 (init -> hello): " */
};

static int bad(struct ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct ck *c, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return img_fail(c->err, c->errlen, "%s%s", c->where, msg);
}

static const AmberImg__Component *component_by_id(const AmberImg__Image *img, uint32_t id, size_t before)
{
	for (size_t i = 0; i < before && i < img->n_components; i++)
		if (img->components[i] && img->components[i]->id == id)
			return img->components[i];
	return NULL;
}

/* A dataspace index of `what`, of kind `kind` (-1: any). */
static int ds_ref(struct ck *c, const char *what, uint32_t i, int kind)
{
	if (i >= c->img->n_dataspaces)
		return bad(c, "%s: dataspace %u out of range (the image has %zu)", what, i, c->img->n_dataspaces);
	const AmberImg__Dataspace *d = c->img->dataspaces[i];
	if (kind >= 0 && d->kind != (unsigned)kind)
		return bad(c, "%s: dataspace %u (%s) is a %s dataspace, expected %s", what, i, d->name,
			   img_ds_kind_name(d->kind), img_ds_kind_name((unsigned)kind));
	return 0;
}

/* A session index of `what` into the component's sessions, of kind `kind`. */
static int session_ref(struct ck *c, const AmberImg__Component *co, const char *what, uint32_t i,
		       enum core_service kind)
{
	if (i >= co->n_sessions)
		return bad(c, "%s: session %u out of range (the component has %zu)", what, i, co->n_sessions);
	if (!co->sessions || !co->sessions[i])
		return bad(c, "%s: session %u missing", what, i);
	if (co->sessions[i]->kind != (unsigned)kind)
		return bad(c, "%s: session %u is a %s session, expected %s", what, i,
			   img_session_kind_name(co->sessions[i]->kind), img_session_kind_name(kind));
	return 0;
}

static bool page_aligned(uint64_t v) { return v % IMG_PAGE == 0; }

static bool fits(uint64_t offset, uint64_t length, uint64_t limit)
{
	return offset <= limit && length <= limit - offset;
}

static bool bytes_ok(const ProtobufCBinaryData *b) { return b->len == 0 || b->data; }

/* An object id the set's kernel objects have: non-zero and allocated
 * before the cut. */
static int object_id(struct ck *c, const char *what, uint64_t id)
{
	if (id == 0 || id >= c->img->next_object_id)
		return bad(c, "%s: object id %llu is not below next_object_id %llu or is 0", what,
			   (unsigned long long)id, (unsigned long long)c->img->next_object_id);
	return 0;
}

static int check_dataspace(struct ck *c, unsigned i, uint64_t pages_size)
{
	const AmberImg__Dataspace *d = c->img->dataspaces[i];
	char label[128], msg[256];
	snprintf(c->where, sizeof(c->where), "dataspace %u: ", i);
	if (!d)
		return bad(c, "missing");
	if (!d->name)
		return bad(c, "name missing");
	img_ds_label(label, sizeof(label), c->img, i);
	snprintf(c->where, sizeof(c->where), "%s: ", label);
	if (d->kind > AMBER_IMG__DATASPACE_KIND__DS_MANAGED)
		return bad(c, "unknown kind %u", d->kind);
	if (d->size == 0 || !page_aligned(d->size))
		return bad(c, "size 0x%llx is not a positive multiple of %u", (unsigned long long)d->size, IMG_PAGE);
	bool core_owned = d->kind == AMBER_IMG__DATASPACE_KIND__DS_ROM || d->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED;
	const AmberImg__Component *owner = component_by_id(c->img, d->owner, c->img->n_components);
	if (core_owned && d->owner != 0)
		return bad(c, "a %s dataspace is core's, but owner is %u", img_ds_kind_name(d->kind), d->owner);
	if (d->owner != 0 && !owner)
		return bad(c, "owner %u is not a component of the image", d->owner);
	bool has_gate = core_owned || d->kind == AMBER_IMG__DATASPACE_KIND__DS_RAM;
	if (has_gate != (d->gate_id != 0))
		return bad(c, "gate id %llu: a %s dataspace %s one", (unsigned long long)d->gate_id,
			   img_ds_kind_name(d->kind), has_gate ? "has" : "has no");
	if (d->session != 0) {
		/* index+1; only a RAM dataspace comes from a session (PD ALLOC_RAM) */
		if (d->kind != AMBER_IMG__DATASPACE_KIND__DS_RAM || !owner)
			return bad(c, "session %u on a %s dataspace %s", d->session, img_ds_kind_name(d->kind),
				   owner ? "no session makes" : "without an owner");
		if (session_ref(c, owner, "made by", d->session - 1, CORE_SERVICE_PD) < 0)
			return -1;
	}
	if (d->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED && d->n_extents)
		return bad(c, "a managed dataspace has no pages of its own, but %zu extents", d->n_extents);
	/* Which parent dataspace it names is checked against the parent when
	 * the pages are read (image_load_memory): the parent is another file. */
	if (d->has_parent_dataspace && d->parent_dataspace && !c->img->parent_image)
		return bad(c, "parent dataspace %u, but the image has no parent", d->parent_dataspace);
	if (d->parent_dataspace && d->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED)
		return bad(c, "a managed dataspace has no pages to inherit");
	/* "dataspace 5 (ram:hello) extent 2 at ...", as the page reader says it */
	if (img_extents_check(d, pages_size, msg, sizeof(msg)) < 0)
		return img_fail(c->err, c->errlen, "%s %s", label, msg);
	return 0;
}

static int check_caps(struct ck *c, const AmberImg__Component *co)
{
	uint32_t prev = 0;
	for (size_t k = 0; k < co->n_caps; k++) {
		const AmberImg__Cap *cap = co->caps[k];
		if (!cap)
			return bad(c, "capability %zu missing", k);
		if (cap->sel == 0 || cap->sel >= AMBER_CAP_SLOTS)
			return bad(c, "slot %u out of range [1, %u)", cap->sel, AMBER_CAP_SLOTS);
		if (cap->sel == prev)
			return bad(c, "slot %u twice", cap->sel);
		if (cap->sel < prev)
			return bad(c, "slot %u after slot %u: not in slot order", cap->sel, prev);
		prev = cap->sel;
		char what[32];
		snprintf(what, sizeof(what), "slot %u", cap->sel);
		if (cap->kind < AMBER_KIND_TASK || cap->kind > AMBER_KIND_FACTORY)
			return bad(c, "%s: unknown kind %u", what, cap->kind);
		if (cap->rights & ~(uint32_t)AMBER_RIGHTS_ALL)
			return bad(c, "%s: unknown rights 0x%x", what, cap->rights);
		if (object_id(c, what, cap->object_id) < 0)
			return -1;
		if (cap->parent_task_id == 0 ? cap->parent_sel != 0
					     : cap->parent_sel == 0 || cap->parent_sel >= AMBER_CAP_SLOTS)
			return bad(c, "%s: parent slot %u of task %llu out of range", what, cap->parent_sel,
				   (unsigned long long)cap->parent_task_id);
	}
	return 0;
}

static int check_sessions(struct ck *c, const AmberImg__Component *co)
{
	for (size_t k = 0; k < co->n_sessions; k++) {
		const AmberImg__Session *s = co->sessions[k];
		char what[48];
		snprintf(what, sizeof(what), "session %zu", k);
		if (!s)
			return bad(c, "%s missing", what);
		if (s->kind > CORE_SERVICE_TIMER)
			return bad(c, "%s: unknown kind %u", what, s->kind);
		if (s->gate_id == 0)
			return bad(c, "%s: gate id 0", what);
		if ((s->kind == CORE_SERVICE_ROM) != (s->rom != NULL))
			return bad(c, "%s: a %s session %s ROM state", what, img_session_kind_name(s->kind),
				   s->rom ? "with" : "without");
		if ((s->kind == CORE_SERVICE_TIMER) != (s->timer != NULL))
			return bad(c, "%s: a %s session %s timer state", what, img_session_kind_name(s->kind),
				   s->timer ? "with" : "without");
		if (s->rom) {
			if (!s->rom->module)
				return bad(c, "%s: module name missing", what);
			if (ds_ref(c, what, s->rom->dataspace, AMBER_IMG__DATASPACE_KIND__DS_ROM) < 0)
				return -1;
			if (s->rom->size > c->img->dataspaces[s->rom->dataspace]->size)
				return bad(c, "%s: module size %llu exceeds its dataspace's %llu", what,
					   (unsigned long long)s->rom->size,
					   (unsigned long long)c->img->dataspaces[s->rom->dataspace]->size);
		}
	}
	return 0;
}

static int check_threads(struct ck *c, const AmberImg__Component *co)
{
	bool seen[CORE_MAX_THREADS] = { false };
	for (size_t k = 0; k < co->n_threads; k++) {
		const AmberImg__Thread *t = co->threads[k];
		if (!t)
			return bad(c, "thread record %zu missing", k);
		if (t->index >= CORE_MAX_THREADS)
			return bad(c, "thread %u: index out of range [0, %u)", t->index, CORE_MAX_THREADS);
		char what[32];
		snprintf(what, sizeof(what), "thread %u", t->index);
		if (seen[t->index])
			return bad(c, "%s twice", what);
		seen[t->index] = true;
		if (!t->name || !t->ipc || !t->fault)
			return bad(c, "%s: %s missing", what, !t->name ? "name" : !t->ipc ? "ipc" : "fault");
		if (object_id(c, what, t->object_id) < 0)
			return -1;
		if ((unsigned)t->run_state > AMBER_IMG__RUN_STATE__FAULT_HELD)
			return bad(c, "%s: unknown run state %u", what, (unsigned)t->run_state);
		if (t->gp_regs.len != GP_REGS_SIZE || !bytes_ok(&t->gp_regs))
			return bad(c, "%s: gp_regs is %zu bytes, expected %zu", what, t->gp_regs.len, GP_REGS_SIZE);
		if (t->xstate.len != c->img->xstate_size || !bytes_ok(&t->xstate))
			return bad(c, "%s: xstate is %zu bytes, expected %u", what, t->xstate.len, c->img->xstate_size);
		if (t->ipc->state > KTHREAD_IRQ_WAIT)
			return bad(c, "%s: unknown IPC state %u", what, t->ipc->state);
		if (t->ipc->n_msg_mr > AMBER_MR_COUNT || (t->ipc->n_msg_mr && !t->ipc->msg_mr))
			return bad(c, "%s: %zu message registers, at most %u", what, t->ipc->n_msg_mr, AMBER_MR_COUNT);
		if (t->fault->kind > CORE_FAULT_RM)
			return bad(c, "%s: unknown fault kind %u", what, t->fault->kind);
		if (t->has_cpu && t->cpu >= AMBER_CPU_MAX_LOCATIONS)
			return bad(c, "%s: CPU location %u, at most %u", what, t->cpu, AMBER_CPU_MAX_LOCATIONS - 1);
		/* The first thread comes with the component, not from a CPU session. */
		if (t->index == 0 && t->session != 0)
			return bad(c, "%s: session %u, expected 0 for the first thread", what, t->session);
		if (t->index != 0 && session_ref(c, co, what, t->session, CORE_SERVICE_CPU) < 0)
			return -1;
	}
	return 0;
}

static int check_memory(struct ck *c, const AmberImg__Component *co)
{
	char what[48];
	for (size_t k = 0; k < co->n_segments; k++) {
		const AmberImg__Segment *s = co->segments[k];
		snprintf(what, sizeof(what), "segment %zu", k);
		if (!s)
			return bad(c, "%s missing", what);
		if (ds_ref(c, what, s->dataspace, AMBER_IMG__DATASPACE_KIND__DS_SEGMENT) < 0)
			return -1;
		if (!page_aligned(s->addr) || !page_aligned(s->size) || s->size == 0)
			return bad(c, "%s: [0x%llx, +0x%llx) is not whole pages", what, (unsigned long long)s->addr,
				   (unsigned long long)s->size);
		if (s->size > c->img->dataspaces[s->dataspace]->size)
			return bad(c, "%s: size 0x%llx exceeds its dataspace's 0x%llx", what,
				   (unsigned long long)s->size,
				   (unsigned long long)c->img->dataspaces[s->dataspace]->size);
		if (s->prot & ~7)
			return bad(c, "%s: unknown protection 0x%x", what, (unsigned)s->prot);
	}
	if (ds_ref(c, "stack", co->stack, AMBER_IMG__DATASPACE_KIND__DS_STACK) < 0 ||
	    ds_ref(c, "utcbs", co->utcbs, AMBER_IMG__DATASPACE_KIND__DS_UTCBS) < 0)
		return -1;
	for (size_t k = 0; k < co->n_regions; k++) {
		const AmberImg__Region *r = co->regions[k];
		snprintf(what, sizeof(what), "region %zu", k);
		if (!r)
			return bad(c, "%s missing", what);
		if (ds_ref(c, what, r->dataspace, -1) < 0 || session_ref(c, co, what, r->session, CORE_SERVICE_RM) < 0)
			return -1;
		const AmberImg__Dataspace *d = c->img->dataspaces[r->dataspace];
		if (!page_aligned(r->addr) || !page_aligned(r->offset) || !page_aligned(r->size) || r->size == 0)
			return bad(c, "%s: addr 0x%llx, offset 0x%llx, size 0x%llx: not whole pages", what,
				   (unsigned long long)r->addr, (unsigned long long)r->offset, (unsigned long long)r->size);
		if (!fits(r->offset, r->size, d->size))
			return bad(c, "%s: [0x%llx, +0x%llx) of dataspace %u (%s) runs past its end 0x%llx", what,
				   (unsigned long long)r->offset, (unsigned long long)r->size, r->dataspace, d->name,
				   (unsigned long long)d->size);
		if (r->addr + r->size < r->addr)
			return bad(c, "%s: wraps around the address space", what);
		if (r->flags & ~(uint32_t)(AMBER_RM_WRITABLE | AMBER_RM_EXECUTABLE))
			return bad(c, "%s: unknown flags 0x%x", what, r->flags);
		if ((r->flags & AMBER_RM_WRITABLE) && !d->writable)
			return bad(c, "%s: writable attachment of read-only dataspace %u (%s)", what, r->dataspace,
				   d->name);
	}
	for (size_t k = 0; k < co->n_managed; k++) {
		const AmberImg__Managed *m = co->managed[k];
		snprintf(what, sizeof(what), "managed map %zu", k);
		if (!m)
			return bad(c, "%s missing", what);
		if (m->gate_id == 0)
			return bad(c, "%s: gate id 0", what);
		if (ds_ref(c, what, m->dataspace, AMBER_IMG__DATASPACE_KIND__DS_MANAGED) < 0 ||
		    session_ref(c, co, what, m->session, CORE_SERVICE_RM) < 0)
			return -1;
		if (m->size != c->img->dataspaces[m->dataspace]->size)
			return bad(c, "%s: size 0x%llx, its dataspace's 0x%llx", what, (unsigned long long)m->size,
				   (unsigned long long)c->img->dataspaces[m->dataspace]->size);
	}
	return 0;
}

struct span {
	uint64_t map, addr, end;
	size_t index;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->map != y->map)
		return x->map < y->map ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Attachments of one address space (the component's, or one managed
 * map's) must not overlap: restoring them would silently drop one. */
static int check_overlap(struct ck *c, const AmberImg__Component *co)
{
	if (co->n_regions < 2)
		return 0;
	struct span *s = malloc(co->n_regions * sizeof(*s));
	if (!s)
		return bad(c, "out of memory");
	for (size_t k = 0; k < co->n_regions; k++)
		s[k] = (struct span){ co->regions[k]->managed_gate_id, co->regions[k]->addr,
				      co->regions[k]->addr + co->regions[k]->size, k };
	qsort(s, co->n_regions, sizeof(*s), span_cmp);
	int rc = 0;
	for (size_t k = 1; k < co->n_regions && rc == 0; k++)
		if (s[k].map == s[k - 1].map && s[k].addr < s[k - 1].end)
			rc = bad(c, "region %zu at 0x%llx overlaps region %zu at 0x%llx", s[k].index,
				 (unsigned long long)s[k].addr, s[k - 1].index, (unsigned long long)s[k - 1].addr);
	free(s);
	return rc;
}

static int check_objects(struct ck *c, const AmberImg__Component *co)
{
	char what[48];
	for (size_t k = 0; k < co->n_objects; k++) {
		const AmberImg__KernelObject *o = co->objects[k];
		snprintf(what, sizeof(what), "object %zu", k);
		if (!o)
			return bad(c, "%s missing", what);
		if (object_id(c, what, o->id) < 0)
			return -1;
		if (o->kind != AMBER_KIND_GATE && o->kind != AMBER_KIND_IRQ)
			return bad(c, "%s: kind %u, expected a gate or an IRQ", what, o->kind);
	}
	for (size_t k = 0; k < co->n_irqs; k++) {
		snprintf(what, sizeof(what), "irq %zu", k);
		if (!co->irqs[k])
			return bad(c, "%s missing", what);
		if (co->irqs[k]->irq_id == 0)
			return bad(c, "%s: id 0", what);
	}
	for (size_t k = 0; k < co->n_rpc_caps; k++) {
		snprintf(what, sizeof(what), "rpc cap %zu", k);
		if (!co->rpc_caps[k])
			return bad(c, "%s missing", what);
		if (co->rpc_caps[k]->gate_id == 0)
			return bad(c, "%s: gate id 0", what);
		if (session_ref(c, co, what, co->rpc_caps[k]->session, CORE_SERVICE_PD) < 0)
			return -1;
	}
	for (size_t k = 0; k < co->n_signal_sources; k++) {
		snprintf(what, sizeof(what), "signal source %zu", k);
		if (!co->signal_sources[k])
			return bad(c, "%s missing", what);
		if (co->signal_sources[k]->gate_id == 0)
			return bad(c, "%s: gate id 0", what);
		if (session_ref(c, co, what, co->signal_sources[k]->session, CORE_SERVICE_PD) < 0)
			return -1;
	}
	for (size_t k = 0; k < co->n_signal_contexts; k++) {
		snprintf(what, sizeof(what), "signal context %zu", k);
		if (!co->signal_contexts[k])
			return bad(c, "%s missing", what);
		if (co->signal_contexts[k]->gate_id == 0)
			return bad(c, "%s: gate id 0", what);
		if (session_ref(c, co, what, co->signal_contexts[k]->session, CORE_SERVICE_PD) < 0)
			return -1;
	}
	for (size_t k = 0; k < co->n_services; k++) {
		const AmberImg__Service *s = co->services[k];
		snprintf(what, sizeof(what), "service %zu", k);
		if (!s || !s->name)
			return bad(c, "%s: %s missing", what, s ? "name" : "record");
		if (s->from_sel == 0 || s->from_sel >= AMBER_CAP_SLOTS)
			return bad(c, "%s (%s): slot %u out of range [1, %u)", what, s->name, s->from_sel, AMBER_CAP_SLOTS);
	}
	for (size_t k = 0; k < co->n_pending; k++)
		if (!co->pending[k] || !co->pending[k]->name)
			return bad(c, "pending session %zu: %s missing", k, co->pending[k] ? "name" : "record");
	for (size_t k = 0; k < co->n_children; k++) {
		if (!co->children[k])
			return bad(c, "child %zu missing", k);
		if (co->children[k]->child_id == 0)
			return bad(c, "child %zu: component id 0", k);
	}
	return 0;
}

/* Who a component is: what dataspaces and other components refer to. */
static int check_identity(struct ck *c, size_t ci)
{
	const AmberImg__Image *img = c->img;
	const AmberImg__Component *co = img->components[ci];
	snprintf(c->where, sizeof(c->where), "component record %zu: ", ci);
	if (!co)
		return bad(c, "missing");
	if (!co->name || !co->binary)
		return bad(c, "%s missing", co->name ? "binary" : "name");
	snprintf(c->where, sizeof(c->where), "component %u (%s): ", co->id, co->name);
	if (co->id == 0)
		return bad(c, "id 0");
	if (component_by_id(img, co->id, ci))
		return bad(c, "id %u used twice", co->id);
	if (co->id >= img->next_component_id)
		return bad(c, "id %u is not below next_component_id %u", co->id, img->next_component_id);
	/* The root's parent is outside the image (or it is a scenario's
	 * component); every other component descends from an earlier one. */
	if (ci == 0 && strcmp(co->name, img->root) != 0)
		return bad(c, "the first component is not the root '%s'", img->root);
	if (ci > 0 && !component_by_id(img, co->parent_id, ci))
		return bad(c, "parent %u is not a component before it in the image", co->parent_id);
	return 0;
}

static int check_component(struct ck *c, size_t ci)
{
	const AmberImg__Component *co = c->img->components[ci];
	snprintf(c->where, sizeof(c->where), "component %u (%s): ", co->id, co->name);
	if (co->ended) {
		/* Kept for its parent's EXIT_STATUS: a record, nothing to restore. */
		if (ci == 0)
			return bad(c, "the root has ended");
		if (co->n_caps || co->n_threads || co->n_segments || co->n_sessions || co->n_objects || co->n_regions)
			return bad(c, "ended, yet it has capabilities, threads, memory or sessions");
		return 0;
	}
	if (object_id(c, "task", co->task_id) < 0 || object_id(c, "factory", co->factory_id) < 0)
		return -1;
	if (!bytes_ok(&co->config) || !bytes_ok(&co->log_line))
		return bad(c, "%s bytes missing", bytes_ok(&co->config) ? "log_line" : "config");
	for (size_t i = 0; i < co->n_log_pending; i++)
		if (!bytes_ok(&co->log_pending[i]->text))
			return bad(c, "unfinished LOG line %zu: bytes missing", i);
	if (check_caps(c, co) < 0 || check_sessions(c, co) < 0 || check_threads(c, co) < 0 ||
	    check_memory(c, co) < 0 || check_overlap(c, co) < 0 || check_objects(c, co) < 0)
		return -1;
	return 0;
}

int image_check(const AmberImg__Image *img, uint64_t pages_size, char *err, size_t errlen)
{
	struct ck c = { .img = img, .err = err, .errlen = errlen };
	if (!img)
		return bad(&c, "no image");
	if (img->format_version != IMAGE_FORMAT_VERSION)
		return bad(&c, "format version %u, this amber reads %u", img->format_version, IMAGE_FORMAT_VERSION);
	if (img->parent_image && (img->parent_image[0] != '/' || !img->has_parent_meta_xxh3))
		return bad(&c, "parent image '%s': %s", img->parent_image,
			   img->parent_image[0] != '/' ? "not an absolute path" : "its checksum is missing");
	if (!img->root || !img->scenario_dir)
		return bad(&c, "%s missing", img->root ? "scenario_dir" : "root");
	if (img->xstate_size > THREAD_XSTATE_MAX)
		return bad(&c, "xstate size %u above %u", img->xstate_size, THREAD_XSTATE_MAX);
	if (img->core_task_id == 0)
		return bad(&c, "core task id 0");
	if (img->n_components == 0 || !img->components)
		return bad(&c, "no components");
	if (img->n_dataspaces && !img->dataspaces)
		return bad(&c, "dataspaces missing");
	/* Who the components are first: dataspaces name their owners by id. */
	for (size_t i = 0; i < img->n_components; i++)
		if (check_identity(&c, i) < 0)
			return -1;
	for (size_t i = 0; i < img->n_dataspaces; i++)
		if (check_dataspace(&c, (unsigned)i, pages_size) < 0)
			return -1;
	for (size_t i = 0; i < img->n_components; i++)
		if (check_component(&c, i) < 0)
			return -1;
	return 0;
}
