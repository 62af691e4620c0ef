/*
 * Capability spaces and the mapping database.
 *
 * A task's space is a two-level table: a selector's high bits pick a leaf
 * of AMBER_CAP_LEAF_SLOTS slots, made when a slot in it is first claimed
 * (cap_slot_claim), its low bits the slot. A task may make as many leaves
 * as its caps quota allows (kernel_task_limit_slots), so a small component
 * costs one leaf and a space can still reach AMBER_CAP_SLOTS. Walks visit
 * only the leaves made. Slot 0 is never valid, so a zeroed selector is
 * always an error.
 * Every capability records the capability it was derived from; deleting
 * or revoking walks that tree, and the last capability to an object
 * destroys it.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"

bool cap_slot_valid(amber_sel_t sel) { return sel != AMBER_SEL_INVALID && sel < AMBER_CAP_SLOTS; }

static unsigned leaf_of(amber_sel_t sel) { return sel / AMBER_CAP_LEAF_SLOTS; }
static unsigned index_in_leaf(amber_sel_t sel) { return sel % AMBER_CAP_LEAF_SLOTS; }
/* Slots of leaf li that can hold a capability (slot 0 never does). */
static unsigned leaf_capacity(unsigned li) { return AMBER_CAP_LEAF_SLOTS - (li == 0); }

void cap_space_init(struct ktask *t)
{
	t->leaf_limit = KCAP_LEAVES;
	t->free_hint = AMBER_SEL_FIRST_FREE;
}

struct kcap *cap_slot(struct ktask *t, amber_sel_t sel)
{
	if (!t || !cap_slot_valid(sel) || !t->leaf[leaf_of(sel)])
		return NULL;
	return &t->leaf[leaf_of(sel)]->slot[index_in_leaf(sel)];
}

struct kcap *cap_lookup(struct ktask *t, amber_sel_t sel)
{
	struct kcap *c = cap_slot(t, sel);
	return c && c->obj ? c : NULL;
}

bool cap_slot_free(struct ktask *t, amber_sel_t sel)
{
	if (!t || !cap_slot_valid(sel))
		return false;
	struct kcap *c = cap_slot(t, sel);
	return !c || !c->obj;
}

int cap_slot_claim(struct ktask *t, amber_sel_t sel)
{
	if (!t || !cap_slot_valid(sel))
		return AMBER_ERR_INVALID_ARG;
	unsigned li = leaf_of(sel);
	if (t->leaf[li])
		return t->leaf[li]->slot[index_in_leaf(sel)].obj ? AMBER_ERR_SLOT_BUSY : AMBER_OK;
	if (t->nleaves >= t->leaf_limit)
		return AMBER_ERR_QUOTA;
	struct kcap_leaf *l = calloc(1, sizeof(*l));
	if (!l)
		return AMBER_ERR_QUOTA;
	for (unsigned i = 0; i < AMBER_CAP_LEAF_SLOTS; i++) {
		l->slot[i].sel = li * AMBER_CAP_LEAF_SLOTS + i;
		l->slot[i].owner = t;
	}
	t->leaf[li] = l;
	t->nleaves++;
	return AMBER_OK;
}

struct kcap *cap_install(struct ktask *t, amber_sel_t sel, struct kobj *obj, unsigned rights,
			 struct kcap *parent)
{
	struct kcap *c = cap_slot(t, sel); /* claimed by the caller */
	c->obj = obj;
	c->rights = (uint8_t)(rights & AMBER_RIGHTS_ALL);
	c->owner = t;
	c->parent = parent;
	c->child = NULL;
	c->sibling = NULL;
	c->prev_sibling = NULL;
	if (parent) {
		c->sibling = parent->child;
		if (parent->child)
			parent->child->prev_sibling = c;
		parent->child = c;
	}
	t->leaf[leaf_of(sel)]->used++;
	t->installs++;
	obj->ncaps++;
	return c;
}

/* Doubly linked: a capability with thousands of copies (one per slot of a
 * big space) loses them one by one in O(1) each, in any order. */
static void unlink_from_parent(struct kcap *c)
{
	if (!c->parent)
		return;
	if (c->prev_sibling)
		c->prev_sibling->sibling = c->sibling;
	else
		c->parent->child = c->sibling;
	if (c->sibling)
		c->sibling->prev_sibling = c->prev_sibling;
	c->parent = NULL;
	c->sibling = NULL;
	c->prev_sibling = NULL;
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
	c->owner->leaf[leaf_of(c->sel)]->used--;
	if (c->sel >= AMBER_SEL_FIRST_FREE && c->sel < c->owner->free_hint)
		c->owner->free_hint = c->sel;
	if (--o->ncaps == 0)
		kobj_destroy(o);
}

/* Walks only the leaves made, and within them stops once a leaf is empty. */
void cap_space_clear(struct ktask *t)
{
	for (unsigned li = 0; li < KCAP_LEAVES; li++) {
		struct kcap_leaf *l = t->leaf[li];
		for (unsigned i = 0; l && l->used && i < AMBER_CAP_LEAF_SLOTS; i++)
			cap_delete(&l->slot[i]);
	}
	for (unsigned li = 0; li < KCAP_LEAVES; li++) {
		free(t->leaf[li]);
		t->leaf[li] = NULL;
	}
	t->nleaves = 0;
	t->free_hint = AMBER_SEL_FIRST_FREE;
}

/* ---- core interface ---- */

int kernel_cap_map(struct ktask *src, amber_sel_t src_sel, struct ktask *dst, amber_sel_t dst_sel,
		   unsigned rights)
{
	struct kcap *from = cap_lookup(src, src_sel);
	if (!from)
		return AMBER_ERR_INVALID_CAP;
	int err = cap_slot_claim(dst, dst_sel);
	if (err)
		return err;
	cap_install(dst, dst_sel, from->obj, from->rights & rights, from);
	return AMBER_OK;
}

int kernel_cap_install(struct ktask *t, amber_sel_t sel, struct kobj *obj, unsigned rights,
		       struct ktask *parent_task, amber_sel_t parent_sel)
{
	struct kcap *parent = NULL;
	if (!obj)
		return AMBER_ERR_INVALID_ARG;
	if (parent_task) {
		parent = cap_lookup(parent_task, parent_sel);
		if (!parent || parent->obj != obj)
			return AMBER_ERR_INVALID_CAP;
	}
	int err = cap_slot_claim(t, sel);
	if (err)
		return err;
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

/* Core allocates every root it makes here, from the bottom: the hint and
 * the leaves' counts keep that from costing a walk over all slots in use. */
amber_sel_t kernel_cap_alloc(struct ktask *t, amber_sel_t from)
{
	if (from == AMBER_SEL_INVALID)
		from = 1;
	amber_sel_t s = from;
	for (; s < AMBER_SEL_FIRST_FREE; s++) /* the fixed slots: few, no hint */
		if (cap_slot_free(t, s))
			return s;
	bool from_hint = s <= t->free_hint;
	if (from_hint)
		s = t->free_hint;
	while (s < AMBER_CAP_SLOTS) {
		struct kcap_leaf *l = t->leaf[leaf_of(s)];
		if (!l)
			break; /* a leaf not made yet is all free */
		if (l->used == leaf_capacity(leaf_of(s))) {
			s = (leaf_of(s) + 1) * AMBER_CAP_LEAF_SLOTS;
			continue;
		}
		if (!l->slot[index_in_leaf(s)].obj)
			break;
		s++;
	}
	if (s >= AMBER_CAP_SLOTS)
		return AMBER_SEL_INVALID;
	if (from_hint)
		t->free_hint = s;
	return s;
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

static void cap_info_of(const struct kcap *c, struct kernel_cap_info *info)
{
	*info = (struct kernel_cap_info){
		.sel = c->sel,
		.kind = c->obj->kind,
		.object_id = c->obj->id,
		.badge = cap_badge(c->obj),
		.rights = c->rights,
	};
	if (c->parent) {
		info->parent_task_id = c->parent->owner->obj.id;
		info->parent_sel = c->parent->sel;
	}
}

/* In selector order; leaves not made and the empty rest of a leaf are skipped. */
void kernel_space_enumerate(struct ktask *t, kernel_cap_visitor visit, void *ctx)
{
	for (unsigned li = 0; li < KCAP_LEAVES; li++) {
		struct kcap_leaf *l = t->leaf[li];
		unsigned seen = 0;
		for (unsigned i = 0; l && seen < l->used && i < AMBER_CAP_LEAF_SLOTS; i++) {
			const struct kcap *c = &l->slot[i];
			if (!c->obj)
				continue;
			seen++;
			struct kernel_cap_info info;
			cap_info_of(c, &info);
			visit(ctx, &info);
		}
	}
}

/* Children are kept newest first; visit them oldest first, so that
 * installing in visiting order rebuilds the same sibling order. */
static void visit_child(const struct kcap *k, kernel_edge_visitor visit, void *ctx);

static void walk_children(const struct kcap *c, kernel_edge_visitor visit, void *ctx)
{
	/* A capability may have more children than any one space has slots,
	 * so the reversed list is on the heap, not the stack; a few are kept
	 * on the stack for the common case. */
	const struct kcap *few[16], **kids = few;
	size_t n = 0, cap = 16;
	for (const struct kcap *k = c->child; k; k = k->sibling) {
		if (n == cap) {
			const struct kcap **more = malloc(2 * cap * sizeof(*more));
			if (!more)
				break; /* out of memory: the oldest are not visited */
			memcpy(more, kids, n * sizeof(*more));
			if (kids != few)
				free(kids);
			kids = more;
			cap *= 2;
		}
		kids[n++] = k;
	}
	while (n--)
		visit_child(kids[n], visit, ctx);
	if (kids != few)
		free(kids);
}

static void visit_child(const struct kcap *k, kernel_edge_visitor visit, void *ctx)
{
	struct kernel_cap_info info;
	cap_info_of(k, &info);
	visit(ctx, k->owner, &info);
	walk_children(k, visit, ctx);
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
