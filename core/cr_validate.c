/*
 * cr_image_validate (cr_validate.h): the restore's checks that need no
 * running core. image_check has made indices, kinds and sizes safe to use;
 * this adds what a restore would otherwise find out half-way (or never):
 * the address-space layout, quotas, names, and records that must name
 * each other within a component.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "amber/abi.h"
#include "amber/rm_session.h"
#include "amber/rom_session.h"
#include "amber/timer_session.h"
#include "core/core.h"
#include "core/cr_validate.h"
#include "core/elf_loader.h"
#include "core/rules.h"

struct vc {
	char *err;
	size_t errlen;
	char where[160]; /* "component 2 (init -> a): " */
};

static int bad(struct vc *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct vc *v, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->err && v->errlen)
		snprintf(v->err, v->errlen, "%s%s", v->where, msg);
	return -1;
}

static const AmberImg__Component *by_id(const AmberImg__Image *img, uint32_t id)
{
	for (size_t i = 0; i < img->n_components; i++)
		if (img->components[i]->id == id)
			return img->components[i];
	return NULL;
}

static bool has_thread(const AmberImg__Component *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_threads; i++)
		if (m->threads[i]->object_id == id)
			return true;
	return false;
}

/* ELF segments where the loader would have put them, stack and UTCBs of
 * the sizes their fixed mappings take. */
static int check_layout(struct vc *v, const AmberImg__Image *img, const AmberImg__Component *m)
{
	if (m->n_segments > ELF_MAX_SEGMENTS)
		return bad(v, "%zu segments, at most %d", m->n_segments, ELF_MAX_SEGMENTS);
	for (size_t k = 0; k < m->n_segments; k++) {
		const AmberImg__Segment *s = m->segments[k];
		if (s->addr < AMBER_IMAGE_BASE || s->addr > AMBER_IMAGE_END || s->size > AMBER_IMAGE_END - s->addr)
			return bad(v, "segment %zu: [0x%llx, +0x%llx) lies outside the ELF image area [0x%llx, 0x%llx)", k,
				   (unsigned long long)s->addr, (unsigned long long)s->size,
				   (unsigned long long)AMBER_IMAGE_BASE, (unsigned long long)AMBER_IMAGE_END);
		/* Its memory file is made at the dataspace's size: no larger than
		 * the area a segment can be in. */
		if (img->dataspaces[s->dataspace]->size > AMBER_IMAGE_END - AMBER_IMAGE_BASE)
			return bad(v, "segment %zu: dataspace %u of 0x%llx bytes, larger than the ELF image area", k,
				   s->dataspace, (unsigned long long)img->dataspaces[s->dataspace]->size);
		for (size_t j = 0; j < k; j++) {
			const AmberImg__Segment *o = m->segments[j];
			if (s->addr < o->addr + o->size && o->addr < s->addr + s->size)
				return bad(v, "segment %zu at 0x%llx overlaps segment %zu at 0x%llx", k,
					   (unsigned long long)s->addr, j, (unsigned long long)o->addr);
		}
	}
	if (img->dataspaces[m->stack]->size != AMBER_STACK_SIZE)
		return bad(v, "stack (dataspace %u) of 0x%llx bytes, the first thread's stack is 0x%llx", m->stack,
			   (unsigned long long)img->dataspaces[m->stack]->size, (unsigned long long)AMBER_STACK_SIZE);
	if (img->dataspaces[m->utcbs]->size != AMBER_UTCB_AREA_SIZE)
		return bad(v, "UTCB area (dataspace %u) of 0x%llx bytes, expected 0x%llx", m->utcbs,
			   (unsigned long long)img->dataspaces[m->utcbs]->size, (unsigned long long)AMBER_UTCB_AREA_SIZE);
	size_t own = 0;
	for (size_t k = 0; k < m->n_regions; k++)
		own += m->regions[k]->managed_gate_id == 0;
	if (own > AMBER_RM_MAX_REGIONS)
		return bad(v, "%zu attachments, at most %u", own, AMBER_RM_MAX_REGIONS);
	for (size_t k = 0; k < m->n_regions; k++) {
		const AmberImg__Region *r = m->regions[k];
		if (r->managed_gate_id == 0) {
			if (!core_attachable(r->addr, r->size))
				return bad(v, "region %zu: [0x%llx, +0x%llx) is not attachable (outside [0x%llx, 0x%llx) or "
					      "over the image, UTCB, trampoline or stack area)",
					   k, (unsigned long long)r->addr, (unsigned long long)r->size,
					   (unsigned long long)AMBER_RM_MIN, (unsigned long long)AMBER_RM_END);
			continue;
		}
		const AmberImg__Managed *in = NULL;
		for (size_t j = 0; j < m->n_managed && !in; j++)
			if (m->managed[j]->gate_id == r->managed_gate_id)
				in = m->managed[j];
		if (!in)
			return bad(v, "region %zu: a sub-attachment of managed map (gate %llu), which the component lacks", k,
				   (unsigned long long)r->managed_gate_id);
		if (r->addr > in->size || r->size > in->size - r->addr)
			return bad(v, "region %zu: [0x%llx, +0x%llx) runs past its managed map's size 0x%llx", k,
				   (unsigned long long)r->addr, (unsigned long long)r->size, (unsigned long long)in->size);
	}
	return 0;
}

static int check_threads(struct vc *v, const AmberImg__Component *m)
{
	bool first = false;
	for (size_t k = 0; k < m->n_threads; k++) {
		const AmberImg__Thread *t = m->threads[k];
		first |= t->index == 0;
		/* The kernel keeps every message register; so does the image. */
		if (t->ipc->n_msg_mr != AMBER_MR_COUNT)
			return bad(v, "thread %u: %zu message registers, expected %u", t->index, t->ipc->n_msg_mr,
				   AMBER_MR_COUNT);
	}
	if (!first)
		return bad(v, "no first thread (UTCB index 0)");
	return 0;
}

static int check_sessions(struct vc *v, const AmberImg__Component *m)
{
	for (size_t k = 0; k < m->n_sessions; k++) {
		const AmberImg__Session *s = m->sessions[k];
		if (s->rom && !core_module_name_ok(s->rom->module))
			return bad(v, "session %zu: ROM module '%.64s' is not a module name", k, s->rom->module);
		if (s->timer && s->timer->period_us && s->timer->period_us < AMBER_TIMER_MIN_PERIOD_US)
			return bad(v, "session %zu: Timer period of %llu us, at least %u", k,
				   (unsigned long long)s->timer->period_us, AMBER_TIMER_MIN_PERIOD_US);
	}
	return 0;
}

/* Records that name other records of the same component or image. */
static int check_refs(struct vc *v, const AmberImg__Image *img, const AmberImg__Component *m)
{
	for (size_t k = 0; k < m->n_objects; k++) {
		const AmberImg__KernelObject *o = m->objects[k];
		bool root = false;
		for (size_t j = 0; j < m->n_caps && !root; j++)
			root = m->caps[j]->object_id == o->id && m->caps[j]->parent_task_id == 0 &&
			       m->caps[j]->kind == o->kind;
		if (!root)
			return bad(v, "object %zu (id %llu): no root capability of its kind in the component's slots", k,
				   (unsigned long long)o->id);
		if (o->kind == AMBER_KIND_GATE && o->bound_thread_id && !has_thread(m, o->bound_thread_id))
			return bad(v, "object %zu (gate %llu): bound to thread %llu, none of the component's", k,
				   (unsigned long long)o->id, (unsigned long long)o->bound_thread_id);
	}
	for (size_t k = 0; k < m->n_rpc_caps; k++)
		if (m->rpc_caps[k]->thread_id && !has_thread(m, m->rpc_caps[k]->thread_id))
			return bad(v, "rpc cap %zu (badge %llu): bound to thread %llu, none of the component's", k,
				   (unsigned long long)m->rpc_caps[k]->badge, (unsigned long long)m->rpc_caps[k]->thread_id);
	for (size_t k = 0; k < m->n_signal_contexts; k++) {
		uint64_t src = m->signal_contexts[k]->source_gate_id;
		bool found = src == 0;
		for (size_t j = 0; j < m->n_signal_sources && !found; j++)
			found = m->signal_sources[j]->gate_id == src;
		if (!found)
			return bad(v, "signal context %zu (gate %llu): source %llu is none of the component's", k,
				   (unsigned long long)m->signal_contexts[k]->gate_id, (unsigned long long)src);
	}
	for (size_t k = 0; k < m->n_children; k++) {
		const AmberImg__Component *child = by_id(img, m->children[k]->child_id);
		if (!child || child->parent_id != m->id)
			return bad(v, "child %zu: component %u is %s", k, m->children[k]->child_id,
				   child ? "not a child of this one" : "not in the image");
	}
	return 0;
}

int cr_image_validate(const AmberImg__Image *img, char *err, size_t errlen)
{
	struct vc v = { .err = err, .errlen = errlen };
	if (img->components[0]->ended)
		return bad(&v, "component %u (%.64s): the root had ended at the cut", img->components[0]->id,
			   img->components[0]->name);
	for (size_t i = 0; i < img->n_components; i++) {
		const AmberImg__Component *m = img->components[i];
		snprintf(v.where, sizeof(v.where), "component %u (%.64s): ", m->id, m->name);
		/* Names are how restore finds the live component: one cut short
		 * would name another. */
		if (strlen(m->name) >= COMPONENT_LABEL_MAX)
			return bad(&v, "name of %zu bytes, at most %d", strlen(m->name), COMPONENT_LABEL_MAX - 1);
		if (strlen(m->binary) >= sizeof(((struct component *)0)->binary))
			return bad(&v, "binary path of %zu bytes, at most %zu", strlen(m->binary),
				   sizeof(((struct component *)0)->binary) - 1);
		if (m->ended)
			continue;
		/* Memory is read before the load charges it: an image may not
		 * hold more RAM for a component than the quota it gives it. */
		uint64_t ram = 0;
		for (size_t k = 0; k < img->n_dataspaces; k++) {
			const AmberImg__Dataspace *d = img->dataspaces[k];
			if (d->kind != AMBER_IMG__DATASPACE_KIND__DS_RAM || d->owner != m->id)
				continue;
			if (d->size > UINT64_MAX - ram)
				return bad(&v, "RAM dataspaces of more than 2^64 bytes");
			ram += d->size;
		}
		if (ram > m->ram_quota)
			return bad(&v, "%llu bytes of RAM dataspaces exceed its RAM quota of %llu", (unsigned long long)ram,
				   (unsigned long long)m->ram_quota);
		/* The factory is made with factory_quota and the objects charged
		 * to it again: more than it holds would fail half-way. */
		size_t charged = 0;
		for (size_t k = 0; k < m->n_objects; k++)
			charged += m->objects[k]->charged_factory_id != 0;
		if (m->factory_used > m->factory_quota || charged > m->factory_quota)
			return bad(&v, "factory quota %u, yet %u used and %zu objects charged to it", m->factory_quota,
				   m->factory_used, charged);
		/* The restored task may make the leaves its caps allow: an image
		 * whose slots spread over more would fail half-way. Slots are in
		 * order (image_check). */
		unsigned leaves = 0, last_leaf = UINT32_MAX;
		for (size_t k = 0; k < m->n_caps; k++) {
			unsigned leaf = m->caps[k]->sel / AMBER_CAP_LEAF_SLOTS;
			leaves += leaf != last_leaf;
			last_leaf = leaf;
		}
		if (leaves > kernel_space_leaves_for(m->kernel_quota))
			return bad(&v, "its slots are in %u leaves of %u, its caps quota of %u allows %u", leaves,
				   AMBER_CAP_LEAF_SLOTS, m->kernel_quota, kernel_space_leaves_for(m->kernel_quota));
		if (m->log_line.len > LOG_LINE_MAX)
			return bad(&v, "unfinished LOG line of %zu bytes, at most %d", m->log_line.len, LOG_LINE_MAX);
		if (check_layout(&v, img, m) < 0 || check_threads(&v, m) < 0 || check_sessions(&v, m) < 0 ||
		    check_refs(&v, img, m) < 0)
			return -1;
	}
	return 0;
}
