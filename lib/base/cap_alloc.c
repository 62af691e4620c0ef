/*
 * The capability-slot allocator (amber/cap_alloc.h).
 *
 * Why a bitmap in component memory: the kernel has no "allocate me a slot"
 * operation (a Fiasco-style space is managed by its owner), and keeping
 * the state in ordinary memory means a checkpoint needs nothing special.
 * A hint remembers where the last free slot was found.
 */
#include <amber/cap_alloc.h>
#include <amber/lock.h>

#define WORDS (AMBER_CAP_SLOTS / 64u)

static uint64_t used[WORDS];
static amber_sel_t hint = AMBER_SEL_FIRST_FREE;
static struct amber_lock lock = AMBER_LOCK_INIT;

static int taken(amber_sel_t s) { return (int)((used[s / 64u] >> (s % 64u)) & 1u); }

amber_sel_t amber_cap_alloc(void)
{
	amber_sel_t found = AMBER_SEL_INVALID;
	amber_lock_acquire(&lock);
	for (unsigned n = 0; n < AMBER_CAP_SLOTS - AMBER_SEL_FIRST_FREE; n++) {
		amber_sel_t s = hint + n;
		if (s >= AMBER_CAP_SLOTS)
			s = AMBER_SEL_FIRST_FREE + (s - AMBER_CAP_SLOTS);
		if (!taken(s)) {
			used[s / 64u] |= 1ull << (s % 64u);
			found = s;
			hint = s + 1 < AMBER_CAP_SLOTS ? s + 1 : AMBER_SEL_FIRST_FREE;
			break;
		}
	}
	amber_lock_release(&lock);
	return found;
}

void amber_cap_free(amber_sel_t sel)
{
	if (sel < AMBER_SEL_FIRST_FREE || sel >= AMBER_CAP_SLOTS)
		return;
	amber_lock_acquire(&lock);
	used[sel / 64u] &= ~(1ull << (sel % 64u));
	amber_lock_release(&lock);
}

int amber_cap_reserve(amber_sel_t first, unsigned count)
{
	if (first < AMBER_SEL_FIRST_FREE || first >= AMBER_CAP_SLOTS || count > AMBER_CAP_SLOTS - first)
		return AMBER_ERR_INVALID_ARG;
	int err = AMBER_OK;
	amber_lock_acquire(&lock);
	for (unsigned i = 0; i < count && err == AMBER_OK; i++)
		if (taken(first + i))
			err = AMBER_ERR_SLOT_BUSY;
	for (unsigned i = 0; i < count && err == AMBER_OK; i++)
		used[(first + i) / 64u] |= 1ull << ((first + i) % 64u);
	amber_lock_release(&lock);
	return err;
}
