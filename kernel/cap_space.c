/*
 * Capability spaces and the mapping database.
 *
 * A task's space is a fixed array of AMBER_CAP_SLOTS slots; a selector is
 * an index. Slot 0 is never valid, so a zeroed selector is always an error.
 * Every capability records the capability it was derived from; deleting
 * or revoking walks that tree, and the last capability to an object
 * destroys it.
 */
#include <string.h>

#include "object.h"

bool cap_slot_valid(amber_sel_t sel) { return sel != AMBER_SEL_INVALID && sel < AMBER_CAP_SLOTS; }

struct kcap *cap_lookup(struct ktask *t, amber_sel_t sel)
{
	if (!t || !cap_slot_valid(sel) || !t->slots[sel].obj)
		return NULL;
	return &t->slots[sel];
}

bool cap_slot_free(struct ktask *t, amber_sel_t sel)
{
	return t && cap_slot_valid(sel) && !t->slots[sel].obj;
}

struct kcap *cap_install(struct ktask *t, amber_sel_t sel, struct kobj *obj, unsigned rights,
			 struct kcap *parent)
{
	struct kcap *c = &t->slots[sel];
	c->obj = obj;
	c->rights = (uint8_t)(rights & AMBER_RIGHTS_ALL);
	c->owner = t;
	c->parent = parent;
	c->child = NULL;
	c->sibling = NULL;
	if (parent) {
		c->sibling = parent->child;
		parent->child = c;
	}
	obj->ncaps++;
	return c;
}

static void unlink_from_parent(struct kcap *c)
{
	if (!c->parent)
		return;
	struct kcap **pp = &c->parent->child;
	while (*pp && *pp != c)
		pp = &(*pp)->sibling;
	if (*pp)
		*pp = c->sibling;
	c->parent = NULL;
	c->sibling = NULL;
}

void cap_revoke_children(struct kcap *c)
{
	while (c->child)
		cap_delete(c->child);
}

void cap_delete(struct kcap *c)
{
	if (!c->obj)
		return;
	cap_revoke_children(c);
	unlink_from_parent(c);
	struct kobj *o = c->obj;
	c->obj = NULL;
	c->rights = 0;
	if (--o->ncaps == 0)
		kobj_destroy(o);
}

void cap_space_clear(struct ktask *t)
{
	for (amber_sel_t s = 1; s < AMBER_CAP_SLOTS; s++)
		cap_delete(&t->slots[s]);
}

/* ---- core interface ---- */

int kernel_cap_map(struct ktask *src, amber_sel_t src_sel, struct ktask *dst, amber_sel_t dst_sel,
		   unsigned rights)
{
	struct kcap *from = cap_lookup(src, src_sel);
	if (!from)
		return AMBER_ERR_INVALID_CAP;
	if (!cap_slot_valid(dst_sel))
		return AMBER_ERR_INVALID_ARG;
	if (!cap_slot_free(dst, dst_sel))
		return AMBER_ERR_SLOT_BUSY;
	cap_install(dst, dst_sel, from->obj, from->rights & rights, from);
	return AMBER_OK;
}

int kernel_cap_install(struct ktask *t, amber_sel_t sel, struct kobj *obj, unsigned rights,
		       struct ktask *parent_task, amber_sel_t parent_sel)
{
	struct kcap *parent = NULL;
	if (!obj)
		return AMBER_ERR_INVALID_ARG;
	if (!cap_slot_valid(sel))
		return AMBER_ERR_INVALID_ARG;
	if (!cap_slot_free(t, sel))
		return AMBER_ERR_SLOT_BUSY;
	if (parent_task) {
		parent = cap_lookup(parent_task, parent_sel);
		if (!parent || parent->obj != obj)
			return AMBER_ERR_INVALID_CAP;
	}
	cap_install(t, sel, obj, rights, parent);
	return AMBER_OK;
}

int kernel_cap_delete(struct ktask *t, amber_sel_t sel)
{
	struct kcap *c = cap_lookup(t, sel);
	if (!c)
		return AMBER_ERR_INVALID_CAP;
	cap_delete(c);
	return AMBER_OK;
}

amber_sel_t kernel_cap_alloc(struct ktask *t, amber_sel_t from)
{
	if (from == AMBER_SEL_INVALID)
		from = 1;
	for (amber_sel_t s = from; s < AMBER_CAP_SLOTS; s++)
		if (!t->slots[s].obj)
			return s;
	return AMBER_SEL_INVALID;
}

struct kobj *kernel_cap_object(struct ktask *t, amber_sel_t sel, enum amber_kind *kind, unsigned *rights)
{
	struct kcap *c = cap_lookup(t, sel);
	if (!c)
		return NULL;
	if (kind)
		*kind = c->obj->kind;
	if (rights)
		*rights = c->rights;
	return c->obj;
}

static uint64_t cap_badge(const struct kobj *o)
{
	if (o->kind == AMBER_KIND_GATE)
		return ((const struct kgate *)o)->label;
	if (o->kind == AMBER_KIND_IRQ)
		return ((const struct kirq *)o)->label;
	return 0;
}

void kernel_space_enumerate(struct ktask *t, kernel_cap_visitor visit, void *ctx)
{
	for (amber_sel_t s = 1; s < AMBER_CAP_SLOTS; s++) {
		struct kcap *c = &t->slots[s];
		if (!c->obj)
			continue;
		struct kernel_cap_info info = {
			.sel = s,
			.kind = c->obj->kind,
			.object_id = c->obj->id,
			.badge = cap_badge(c->obj),
			.rights = c->rights,
		};
		if (c->parent) {
			info.parent_task_id = c->parent->owner->obj.id;
			info.parent_sel = (amber_sel_t)(c->parent - c->parent->owner->slots);
		}
		visit(ctx, &info);
	}
}

static void cap_info_of(const struct kcap *c, struct kernel_cap_info *info)
{
	*info = (struct kernel_cap_info){
		.sel = (amber_sel_t)(c - c->owner->slots),
		.kind = c->obj->kind,
		.object_id = c->obj->id,
		.badge = cap_badge(c->obj),
		.rights = c->rights,
	};
	if (c->parent) {
		info->parent_task_id = c->parent->owner->obj.id;
		info->parent_sel = (amber_sel_t)(c->parent - c->parent->owner->slots);
	}
}

/* Children are kept newest first; visit them oldest first, so that
 * installing in visiting order rebuilds the same sibling order. */
static void walk_children(const struct kcap *c, kernel_edge_visitor visit, void *ctx)
{
	const struct kcap *kids[AMBER_CAP_SLOTS];
	unsigned n = 0;
	for (const struct kcap *k = c->child; k && n < AMBER_CAP_SLOTS; k = k->sibling)
		kids[n++] = k;
	while (n--) {
		struct kernel_cap_info info;
		cap_info_of(kids[n], &info);
		visit(ctx, kids[n]->owner, &info);
		walk_children(kids[n], visit, ctx);
	}
}

void kernel_cap_walk_derived(struct ktask *t, amber_sel_t sel, kernel_edge_visitor visit, void *ctx)
{
	struct kcap *c = cap_lookup(t, sel);
	if (c)
		walk_children(c, visit, ctx);
}

int kernel_cap_info_of(struct ktask *t, amber_sel_t sel, struct kernel_cap_info *info)
{
	struct kcap *c = cap_lookup(t, sel);
	if (!c)
		return AMBER_ERR_INVALID_CAP;
	cap_info_of(c, info);
	return AMBER_OK;
}
