/*
 * Allocating slots of the component's own capability space.
 *
 * Slots from AMBER_SEL_FIRST_FREE up to AMBER_CAP_SLOTS - 1 belong to the
 * component (the kernel limits how many leaves of them its caps quota
 * lets it fill, docs/abi.md); the runtime
 * hands them out from a bitmap in component memory (so a checkpoint of the
 * memory restores the allocator too). A component that also picks fixed
 * slot numbers itself reserves them first with amber_cap_reserve.
 * Thread-safe.
 */
#ifndef AMBER_CAP_ALLOC_H
#define AMBER_CAP_ALLOC_H

#include "abi.h"

/* A free slot, or AMBER_SEL_INVALID when all are taken. */
amber_sel_t amber_cap_alloc(void);
/* Give a slot back (its capability should be gone: deleted or revoked). */
void amber_cap_free(amber_sel_t sel);
/* Mark [first, first+count) as taken. AMBER_ERR_SLOT_BUSY if one already
 * was (nothing is changed then), AMBER_ERR_INVALID_ARG if out of range. */
int amber_cap_reserve(amber_sel_t first, unsigned count);
/* Slots allocated or reserved now. */
unsigned amber_cap_in_use(void);

#endif
