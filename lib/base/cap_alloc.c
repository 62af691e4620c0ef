/*
 * The capability-slot allocator (amber/cap_alloc.h).
 *
 * Why a bitmap in component memory: the kernel has no "allocate me a slot"
 * operation (a Fiasco-style space is managed by its owner), and keeping
 * the state in ordinary memory means a checkpoint needs nothing special.
 * A hint remembers where the last free slot was found, and the search goes
 * round the slots in use so far (the first leaf of AMBER_CAP_LEAF_SLOTS,
 * then as many leaves as were needed) before it takes a slot above them:
 * a small component uses the slots it always did, and one that needs more
 * makes the kernel (and the capability map) grow by one leaf at a time.
 *
 * Why two levels: the bitmap covers every selector up to AMBER_CAP_SLOTS
 * (8 KiB of .bss, mostly zero pages a checkpoint never writes out), and
 * a summary bit per 64-slot word says the word is full, so a component
 * with tens of thousands of slots in use still finds a free one by
 * looking at a few summary words, not the whole bitmap.
 */
#include <amber/cap_alloc.h>
#include <amber/lock.h>

#define WORDS (AMBER_CAP_SLOTS / 64u)
#define SUMMARY_WORDS (WORDS / 64u)

static uint64_t used[WORDS];
static uint64_t full[SUMMARY_WORDS]; /* bit w: used[w] has no free slot */
static unsigned in_use;
static amber_sel_t hint = AMBER_SEL_FIRST_FREE;
static amber_sel_t extent = AMBER_CAP_LEAF_SLOTS; /* the search goes round [FIRST_FREE, extent) */
static struct amber_lock lock = AMBER_LOCK_INIT;

static int taken(amber_sel_t s) { return (int)((used[s / 64u] >> (s % 64u)) & 1u); }

static void mark(amber_sel_t s)
{
	unsigned w = s / 64u;
	used[w] |= 1ull << (s % 64u);
	if (used[w] == ~0ull)
		full[w / 64u] |= 1ull << (w % 64u);
	in_use++;
}

static void unmark(amber_sel_t s)
{
	unsigned w = s / 64u;
	used[w] &= ~(1ull << (s % 64u));
	full[w / 64u] &= ~(1ull << (w % 64u));
	in_use--;
}

/* The first free slot in [from, end), or AMBER_SEL_INVALID; end is a
 * multiple of 64. */
static amber_sel_t first_free_in(amber_sel_t from, amber_sel_t end)
{
	if (from >= end)
		return AMBER_SEL_INVALID;
	unsigned w = from / 64u, end_w = end / 64u;
	uint64_t free_bits = ~used[w] & (~0ull << (from % 64u));
	if (free_bits)
		return w * 64u + (unsigned)__builtin_ctzll(free_bits);
	for (w++; w < end_w;) {
		uint64_t not_full = ~full[w / 64u] & (~0ull << (w % 64u));
		if (!not_full) {
			w = (w / 64u + 1u) * 64u;
			continue;
		}
		w = (w / 64u) * 64u + (unsigned)__builtin_ctzll(not_full);
		return w < end_w ? w * 64u + (unsigned)__builtin_ctzll(~used[w]) : AMBER_SEL_INVALID;
	}
	return AMBER_SEL_INVALID;
}

amber_sel_t amber_cap_alloc(void)
{
	amber_lock_acquire(&lock);
	amber_sel_t found = first_free_in(hint, extent);
	if (found == AMBER_SEL_INVALID)
		found = first_free_in(AMBER_SEL_FIRST_FREE, extent); /* wrap round once */
	if (found == AMBER_SEL_INVALID) { /* all in use: one leaf more */
		found = first_free_in(extent, AMBER_CAP_SLOTS);
		if (found != AMBER_SEL_INVALID)
			extent = (found / AMBER_CAP_LEAF_SLOTS + 1u) * AMBER_CAP_LEAF_SLOTS;
	}
	if (found != AMBER_SEL_INVALID) {
		mark(found);
		hint = found + 1 < extent ? found + 1 : AMBER_SEL_FIRST_FREE;
	}
	amber_lock_release(&lock);
	return found;
}

void amber_cap_free(amber_sel_t sel)
{
	if (sel < AMBER_SEL_FIRST_FREE || sel >= AMBER_CAP_SLOTS)
		return;
	amber_lock_acquire(&lock);
	if (taken(sel))
		unmark(sel);
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
		mark(first + i);
	amber_lock_release(&lock);
	return err;
}

unsigned amber_cap_in_use(void)
{
	amber_lock_acquire(&lock);
	unsigned n = in_use;
	amber_lock_release(&lock);
	return n;
}
