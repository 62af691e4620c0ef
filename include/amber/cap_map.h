/*
 * The capability map (Genode's Capability_map / Cap_index on Fiasco.OC):
 * which capabilities with a badge this component holds, in which slot, and
 * how many references to each the component's code holds.
 *
 * A badge is the 64-bit label core chose for an RPC capability (PD
 * ALLOC_RPC_CAP returns it; the kernel hands it to the serving thread in
 * utcb->label with every call). When a capability travels in an RPC
 * message (amber/rpc.h), its badge travels next to the map item, and the
 * receiver asks the map whether it holds that capability already: if so,
 * the new copy is deleted and the slot it has is used (with one more
 * reference), so a component never holds the same RPC capability in two
 * slots. A sender cannot use a badge to smuggle a different object into
 * an existing entry: a hit is only taken after TASK_CAP_INFO has shown
 * that both slots name the same kernel object (Genode checks
 * l4_task_cap_equal in the same place).
 *
 * Layout (in the component's memory, in one object, amber_cap_map_table,
 * so a checkpoint of the component's memory restores it byte for byte:
 * restore puts every capability back into the slot it had with the badge
 * it had, and memory back at the addresses it had):
 *
 *   entry[sel]    one 16-byte struct amber_cap_index per capability slot of
 *                 the first leaf (AMBER_CAP_LEAF_SLOTS, in .bss), indexed
 *                 by the selector itself, as Genode on Fiasco derives a
 *                 Cap_index from its kernel capability selector:
 *                 { badge (0 = slot not in the map), refs, next }
 *   leaf[l]       the entries of slots l * AMBER_CAP_LEAF_SLOTS and up, for
 *                 l >= 1: allocated from the component's heap when a slot
 *                 there first enters the map, so a component that never
 *                 uses those slots does not pay 1 MiB of .bss for them
 *   bucket[256]   16-bit selectors, the first entry of each hash chain;
 *                 chains are linked through entry[].next (0 = end, slot 0
 *                 is never valid); bucket = (badge * 0x9e3779b97f4a7c15)
 *                 >> 56
 *   count         entries in use; lock: the runtime's spin lock
 *
 * Badges are unique per object in practice; should two different objects
 * arrive with the same badge (core numbers RPC capabilities per component,
 * so two servers may both use badge 1), both get entries and lookups by
 * badge check the object (amber_cap_map_receive) or return the first one
 * (amber_cap_map_find).
 *
 * What is in the map: RPC capabilities with a badge: the objects an
 * entrypoint manages and its exit capability (amber/rpc_entrypoint.h),
 * and capabilities received in RPC messages together with a badge.
 * Capabilities without a badge (the initial slots, session gates from the
 * parent, dataspaces, threads, IRQs) are not; they live in the slots the
 * code put them in, recorded in component memory by whoever holds them.
 *
 * Thread-safe. Slots come from and go back to amber/cap_alloc.h.
 */
#ifndef AMBER_CAP_MAP_H
#define AMBER_CAP_MAP_H

#include "abi.h"
#include "lock.h"

#define AMBER_CAP_MAP_BUCKETS 256u

struct amber_cap_index {
	uint64_t badge; /* 0: this slot is not in the map */
	uint32_t refs;  /* references the component's code holds */
	uint16_t next;  /* next slot in the same bucket, 0 = end of chain */
	uint16_t reserved;
};

struct amber_cap_map {
	struct amber_lock lock;
	uint32_t count;
	uint16_t bucket[AMBER_CAP_MAP_BUCKETS];
	struct amber_cap_index entry[AMBER_CAP_LEAF_SLOTS];
	struct amber_cap_index *leaf[AMBER_CAP_SLOTS / AMBER_CAP_LEAF_SLOTS]; /* leaf[0]: unused */
};

_Static_assert(sizeof(struct amber_cap_index) == 16, "entry layout");
_Static_assert(AMBER_CAP_SLOTS <= 65536u, "16-bit chain links");

/* The one map of the component (exported for checkpoint tools and tests;
 * use the functions below). */
extern struct amber_cap_map amber_cap_map_table;

/* Record that slot `sel` holds the capability with `badge`, with one
 * reference. INVALID_ARG for badge 0 or a selector outside the
 * component's slots, SLOT_BUSY if `sel` is in the map already, QUOTA if
 * the entries for a slot above the first leaf cannot be allocated. */
int amber_cap_map_insert(uint64_t badge, amber_sel_t sel);

/* The slot of (the first entry with) `badge`, or AMBER_SEL_INVALID. */
amber_sel_t amber_cap_map_find(uint64_t badge);

/* The badge of slot `sel`, 0 if it is not in the map. */
uint64_t amber_cap_map_badge(amber_sel_t sel);

/* References held to slot `sel`, 0 if it is not in the map. */
unsigned amber_cap_map_refs(amber_sel_t sel);

/* One more reference. INVALID_ARG if `sel` is not in the map. */
int amber_cap_map_ref(amber_sel_t sel);

/* One reference less; the last one removes the entry, deletes the
 * capability (TASK_DELETE on AMBER_SEL_TASK; a slot that core emptied by
 * revoking it is fine) and frees the slot in the slot allocator.
 * INVALID_ARG if `sel` is not in the map. */
int amber_cap_map_unref(amber_sel_t sel);

/* Drop one reference to whatever `sel` holds: amber_cap_map_unref if it
 * is in the map, otherwise delete the capability and free the slot. */
int amber_cap_map_release(amber_sel_t sel);

/* A capability arrived in slot `sel` together with `badge`. If the map
 * holds the same object under that badge already, `sel` is deleted (the
 * slot stays allocated: the caller still owns it, usually a receive
 * window) and the existing slot is returned with one more reference;
 * *kept = 0. Otherwise `sel` is inserted (badge != 0) or left as it is
 * (badge 0) and returned; *kept = 1. */
amber_sel_t amber_cap_map_receive(uint64_t badge, amber_sel_t sel, int *kept);

/* Entries in the map. */
unsigned amber_cap_map_count(void);

/* `count` consecutive free slots from the slot allocator (a receive
 * window), or AMBER_SEL_INVALID. Free them one by one with
 * amber_cap_free. */
amber_sel_t amber_cap_alloc_run(unsigned count);

#endif
