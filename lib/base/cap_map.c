/*
 * The capability map (amber/cap_map.h).
 *
 * Why indexed by slot: every entry owns exactly one slot, so the entry
 * can live at entry[sel] and needs no allocator of its own; the hash
 * chains only add the lookup by badge. Why selectors, not pointers, in
 * the chains: the table is plain component memory that a checkpoint saves
 * and a restore writes back unchanged, and selectors and badges are
 * exactly what restore preserves. The leaves above the first are heap
 * blocks, which a restore puts back at the same addresses.
 *
 * The kernel calls a hit needs (TASK_CAP_INFO on both slots) are made
 * with the lock held so that the entry cannot go away meanwhile; deleting
 * a capability is done after the lock is released.
 */
#include <amber/cap_alloc.h>
#include <amber/cap_map.h>
#include <amber/heap.h>
#include <amber/kobj.h>
#include <amber/string.h>

struct amber_cap_map amber_cap_map_table;

#define M amber_cap_map_table

static unsigned bucket_of(uint64_t badge)
{
	return (unsigned)((badge * 0x9e3779b97f4a7c15ull) >> 56) & (AMBER_CAP_MAP_BUCKETS - 1u);
}

static int valid_sel(amber_sel_t sel) { return sel >= AMBER_SEL_FIRST_FREE && sel < AMBER_CAP_SLOTS; }

/* The entry of a valid slot, NULL if its leaf was never needed (then the
 * slot is not in the map). */
static struct amber_cap_index *entry(amber_sel_t sel)
{
	if (sel < AMBER_CAP_LEAF_SLOTS)
		return &M.entry[sel];
	struct amber_cap_index *l = M.leaf[sel / AMBER_CAP_LEAF_SLOTS];
	return l ? &l[sel % AMBER_CAP_LEAF_SLOTS] : 0;
}

/* Make the leaf of `sel`, without the lock held: the heap may get a
 * dataspace from core, and the reply's capability may pass the map. */
static int ensure_leaf(amber_sel_t sel)
{
	unsigned l = sel / AMBER_CAP_LEAF_SLOTS;
	if (l == 0)
		return AMBER_OK;
	amber_lock_acquire(&M.lock);
	int have = M.leaf[l] != 0;
	amber_lock_release(&M.lock);
	if (have)
		return AMBER_OK;
	struct amber_cap_index *made = amber_malloc(AMBER_CAP_LEAF_SLOTS * sizeof(*made));
	if (!made)
		return AMBER_ERR_QUOTA;
	memset(made, 0, AMBER_CAP_LEAF_SLOTS * sizeof(*made));
	amber_lock_acquire(&M.lock);
	if (!M.leaf[l]) {
		M.leaf[l] = made;
		made = 0;
	}
	amber_lock_release(&M.lock);
	amber_free(made); /* another thread made it meanwhile */
	return AMBER_OK;
}

static void link_entry(uint64_t badge, amber_sel_t sel)
{
	unsigned b = bucket_of(badge);
	struct amber_cap_index *e = entry(sel);
	e->badge = badge;
	e->refs = 1;
	e->next = M.bucket[b];
	M.bucket[b] = (uint16_t)sel;
	M.count++;
}

static void unlink_entry(amber_sel_t sel)
{
	struct amber_cap_index *e = entry(sel);
	unsigned b = bucket_of(e->badge);
	for (uint16_t *pp = &M.bucket[b]; *pp; pp = &entry(*pp)->next) {
		if (*pp == sel) {
			*pp = e->next;
			break;
		}
	}
	e->badge = 0;
	e->refs = 0;
	e->next = 0;
	M.count--;
}

int amber_cap_map_insert(uint64_t badge, amber_sel_t sel)
{
	if (badge == 0 || !valid_sel(sel))
		return AMBER_ERR_INVALID_ARG;
	int err = ensure_leaf(sel);
	if (err)
		return err;
	amber_lock_acquire(&M.lock);
	if (entry(sel)->badge)
		err = AMBER_ERR_SLOT_BUSY;
	else
		link_entry(badge, sel);
	amber_lock_release(&M.lock);
	return err;
}

amber_sel_t amber_cap_map_find(uint64_t badge)
{
	amber_sel_t found = AMBER_SEL_INVALID;
	if (badge == 0)
		return found;
	amber_lock_acquire(&M.lock);
	for (uint16_t s = M.bucket[bucket_of(badge)]; s; s = entry(s)->next) {
		if (entry(s)->badge == badge) {
			found = s;
			break;
		}
	}
	amber_lock_release(&M.lock);
	return found;
}

uint64_t amber_cap_map_badge(amber_sel_t sel)
{
	if (!valid_sel(sel))
		return 0;
	amber_lock_acquire(&M.lock);
	const struct amber_cap_index *e = entry(sel);
	uint64_t badge = e ? e->badge : 0;
	amber_lock_release(&M.lock);
	return badge;
}

unsigned amber_cap_map_refs(amber_sel_t sel)
{
	if (!valid_sel(sel))
		return 0;
	amber_lock_acquire(&M.lock);
	const struct amber_cap_index *e = entry(sel);
	unsigned refs = e && e->badge ? e->refs : 0;
	amber_lock_release(&M.lock);
	return refs;
}

int amber_cap_map_ref(amber_sel_t sel)
{
	if (!valid_sel(sel))
		return AMBER_ERR_INVALID_ARG;
	int err = AMBER_OK;
	amber_lock_acquire(&M.lock);
	struct amber_cap_index *e = entry(sel);
	if (!e || !e->badge || e->refs == UINT32_MAX)
		err = AMBER_ERR_INVALID_ARG;
	else
		e->refs++;
	amber_lock_release(&M.lock);
	return err;
}

/* Delete the capability in `sel` and give the slot back. An empty slot
 * (core revoked the capability) is not an error. */
static int delete_and_free(amber_sel_t sel)
{
	int err = amber_task_delete(AMBER_SEL_TASK, sel);
	amber_cap_free(sel);
	return err == AMBER_ERR_INVALID_CAP ? AMBER_OK : err;
}

int amber_cap_map_unref(amber_sel_t sel)
{
	if (!valid_sel(sel))
		return AMBER_ERR_INVALID_ARG;
	int last = 0, err = AMBER_OK;
	amber_lock_acquire(&M.lock);
	struct amber_cap_index *e = entry(sel);
	if (!e || !e->badge) {
		err = AMBER_ERR_INVALID_ARG;
	} else if (--e->refs == 0) {
		unlink_entry(sel);
		last = 1;
	}
	amber_lock_release(&M.lock);
	if (last)
		err = delete_and_free(sel);
	return err;
}

int amber_cap_map_release(amber_sel_t sel)
{
	if (!valid_sel(sel))
		return AMBER_ERR_INVALID_ARG;
	int err = amber_cap_map_unref(sel);
	if (err != AMBER_ERR_INVALID_ARG)
		return err;
	return delete_and_free(sel); /* not in the map: the caller owns the slot */
}

/* Do slots a and b hold capabilities to the same (live) kernel object? */
static int same_object(amber_sel_t a, amber_sel_t b)
{
	struct amber_cap_info ia, ib;
	if (amber_task_cap_info(AMBER_SEL_TASK, a, &ia) != AMBER_OK || ia.kind == AMBER_KIND_NONE)
		return 0;
	if (amber_task_cap_info(AMBER_SEL_TASK, b, &ib) != AMBER_OK || ib.kind == AMBER_KIND_NONE)
		return 0;
	return ia.kind == ib.kind && ia.object_id == ib.object_id;
}

amber_sel_t amber_cap_map_receive(uint64_t badge, amber_sel_t sel, int *kept)
{
	*kept = 1;
	if (badge == 0 || !valid_sel(sel))
		return sel;
	int can_link = ensure_leaf(sel) == AMBER_OK; /* if not: kept, but not in the map */
	amber_sel_t have = AMBER_SEL_INVALID;
	amber_lock_acquire(&M.lock);
	for (uint16_t s = M.bucket[bucket_of(badge)]; s; s = entry(s)->next) {
		struct amber_cap_index *e = entry(s);
		if (e->badge == badge && s != sel && e->refs < UINT32_MAX && same_object(s, sel)) {
			have = s;
			e->refs++;
			break;
		}
	}
	if (have == AMBER_SEL_INVALID && can_link && !entry(sel)->badge)
		link_entry(badge, sel);
	amber_lock_release(&M.lock);
	if (have == AMBER_SEL_INVALID)
		return sel;
	amber_task_delete(AMBER_SEL_TASK, sel);
	*kept = 0;
	return have;
}

unsigned amber_cap_map_count(void)
{
	amber_lock_acquire(&M.lock);
	unsigned n = M.count;
	amber_lock_release(&M.lock);
	return n;
}

amber_sel_t amber_cap_alloc_run(unsigned count)
{
	if (count == 0 || count > AMBER_CAP_SLOTS - AMBER_SEL_FIRST_FREE)
		return AMBER_SEL_INVALID;
	/* The allocator hands out slots upwards from a hint, so a slot whose
	 * successors are free is usually found at once; every miss moves the
	 * hint on, and a full round ends the search. */
	for (unsigned tries = 0; tries < AMBER_CAP_SLOTS; tries++) { /* rarely more than one */
		amber_sel_t s = amber_cap_alloc();
		if (s == AMBER_SEL_INVALID)
			return s;
		if (count == 1 || (s + count <= AMBER_CAP_SLOTS && amber_cap_reserve(s + 1, count - 1) == AMBER_OK))
			return s;
		amber_cap_free(s);
	}
	return AMBER_SEL_INVALID;
}
