/*
 * cr_writer: writes its memory all the time, so that a checkpoint taken
 * while it runs has to store every page as it was at one moment, also the
 * pages it writes while the checkpoint stores them (copy-on-write,
 * core/cr_copy.c; tests/integration/test_cr.c).
 *
 * It holds PAGES pages of heap. Step s writes the value s into every word
 * of page s % PAGES. So between two steps its memory always holds: page p
 * has, in every word, the last step s before the current one with
 * s % PAGES == p (0 if there was none). Before a step writes a page it
 * checks that the page holds that value in every word; a page that is
 * torn, or from another moment than the rest (what a checkpoint that
 * stored it after the cut would restore), is a FAIL. Every CHECK_EVERY
 * steps (each page checked twice) it logs "cr_writer: step S, memory
 * consistent"; it ends after ROUNDS of them, or as many as
 * <config><writer rounds="N"/></config> says (the periodic benchmark's
 * workload runs long).
 */
#include <stdint.h>

#include <amber/abi.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/log.h>
#include <amber/rom.h>

#define PAGES 4096u /* 16 MiB */
#define CHECK_EVERY (2 * PAGES)
#define ROUNDS 300u
#define PAGE_WORDS (AMBER_PAGE_SIZE / sizeof(uint64_t))

static long yield(void)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(24L) : "rcx", "r11", "memory"); /* sched_yield */
	return ret;
}

/* The value page p holds before step `step`. */
static uint64_t expected(uint64_t step, uint64_t p)
{
	if (step <= p)
		return 0;
	return step - 1 - (step - 1 - p) % PAGES;
}

int main(void)
{
	const char *config = 0;
	unsigned rounds = ROUNDS;
	if (amber_rom_config(&config, 0) == AMBER_OK)
		rounds = amber_config_number(config, "rounds", ROUNDS);
	volatile uint64_t *mem = amber_malloc((size_t)PAGES * AMBER_PAGE_SIZE);
	if (!mem) {
		amber_log("cr_writer: FAIL no memory (the component's ram quota?)");
		return 1;
	}
	for (uint64_t i = 0; i < (uint64_t)PAGES * PAGE_WORDS; i++)
		mem[i] = 0; /* the heap does not promise zeroed memory */
	amber_log("cr_writer: writing %u pages", PAGES);
	for (uint64_t step = 0; step < (uint64_t)rounds * CHECK_EVERY;) {
		/* Each page is checked right before it is written again: every
		 * page is checked once per PAGES steps, whenever a restore came. */
		uint64_t p = step % PAGES, want = expected(step, p);
		volatile uint64_t *page = mem + p * PAGE_WORDS;
		for (unsigned w = 0; w < PAGE_WORDS; w++) {
			if (page[w] != want) {
				amber_log("cr_writer: FAIL step %lu: page %lu word %u is %lu, not %lu", (unsigned long)step,
					  (unsigned long)p, w, (unsigned long)page[w], (unsigned long)want);
				return 1;
			}
		}
		for (unsigned w = 0; w < PAGE_WORDS; w++)
			page[w] = step;
		step++;
		if (step % 64 == 0)
			yield(); /* let the other CPU's work in */
		if (step % CHECK_EVERY == 0)
			amber_log("cr_writer: step %lu, memory consistent", (unsigned long)step);
	}
	amber_log("cr_writer: done");
	return 0;
}
