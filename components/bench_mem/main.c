/*
 * bench_mem: the workload of the checkpoint/restore benchmark
 * (bench/cr_bench.c). It holds N MiB of RAM, every word of it non-zero,
 * so that a checkpoint has N MiB of data to copy and store (holes would be
 * skipped), then idles.
 *
 *   <config><mem mib="64"/></config>   N (default 16)
 *
 * The memory is one RAM dataspace of its PD session (the heap gives a
 * large request a dataspace of its own). Once it is filled, the component
 * logs "bench_mem: ready N MiB" and from then on wakes every 10 ms
 * (amber_timer_sleep_us) to check one page of it against the pattern,
 * a different page each time: light work, and a restore that brought back
 * the wrong bytes says so ("bench_mem: CORRUPT ...", exit 1) instead of
 * being timed. It never ends by itself; the benchmark stops amber-core.
 *
 *   <config><mem mib="256" dirty="1"/></config>
 *
 * With dirty="P" (a percent, 1 to 100) it also writes one word of every
 * (100/P)th page on every tick, the same value again: those pages are
 * written between any two checkpoints 10 ms or more apart, what an
 * incremental checkpoint stores.
 */
#include <stdint.h>

#include <amber/abi.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/timer.h>

#define DEFAULT_MIB 16u
#define MAX_MIB 16384u
#define TICK_US 10000u
#define PAGE_WORDS (AMBER_PAGE_SIZE / sizeof(uint64_t))

static uint64_t pattern(uint64_t i)
{
	return (i * 0x9e3779b97f4a7c15ull) | 1u; /* never 0 */
}

int main(void)
{
	const char *config = 0;
	unsigned mib = DEFAULT_MIB, dirty = 0;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		mib = amber_config_number(config, "mib", DEFAULT_MIB);
		dirty = amber_config_number(config, "dirty", 0);
	}
	if (dirty > 100) {
		amber_log("bench_mem: FAIL dirty=\"%u\" is not a percent", dirty);
		return 1;
	}
	if (mib == 0 || mib > MAX_MIB) {
		amber_log("bench_mem: FAIL mib=\"%u\" is not from 1 to %u", mib, MAX_MIB);
		return 1;
	}
	uint64_t words = ((uint64_t)mib << 20) / sizeof(uint64_t);
	uint64_t *mem = amber_malloc((size_t)mib << 20);
	if (!mem) {
		amber_log("bench_mem: FAIL no %u MiB of RAM (the component's ram quota?)", mib);
		return 1;
	}
	for (uint64_t i = 0; i < words; i++)
		mem[i] = pattern(i);

	struct amber_timer timer;
	int err = amber_timer_open(&timer);
	if (err) {
		amber_log("bench_mem: FAIL Timer session (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("bench_mem: ready %u MiB", mib);

	uint64_t pages = words / PAGE_WORDS;
	uint64_t stride = dirty ? 100u / dirty : 0;
	for (uint64_t tick = 0;; tick++) {
		for (uint64_t p = 0; stride && p < pages; p += stride) {
			volatile uint64_t *w = &mem[p * PAGE_WORDS];
			*w = pattern(p * PAGE_WORDS);
		}
		uint64_t first = (tick % pages) * PAGE_WORDS;
		for (uint64_t i = first; i < first + PAGE_WORDS; i++) {
			if (mem[i] != pattern(i)) {
				amber_log("bench_mem: CORRUPT word %lu is %lx, not %lx", (unsigned long)i,
					  (unsigned long)mem[i], (unsigned long)pattern(i));
				return 1;
			}
		}
		if ((err = amber_timer_sleep_us(&timer, TICK_US))) {
			amber_log("bench_mem: FAIL sleep (%s)", amber_error_name(err));
			return 1;
		}
	}
}
