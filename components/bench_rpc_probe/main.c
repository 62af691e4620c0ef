/*
 * bench_rpc_probe: RPC round trips timed one by one, to see what a
 * checkpoint of another component does to an unrelated pair
 * (bench/cr_bench.c). It calls rpc_bench_server's ADD_ONE (service
 * "rpc_pong", amber/rpc_bench.h) back to back forever and times each call
 * with the time-stamp counter; rdtsc is an instruction, not a system
 * call, and the benchmark reads the same counter on the host, so both
 * sides' times compare directly. Components have no clock of their own
 * that is cheaper than an IPC to core.
 *
 * Calls are grouped into windows of at least `window_cycles` TSC cycles
 * (config <probe window_cycles="N"/>, default 20 000 000); after each
 * window one line:
 *
 *   rpc_probe: w START END n CALLS sum CYCLES max CYCLES at TSC
 *
 * START and END are the TSC at the window's first call and after its last,
 * CALLS the calls in it, sum their cycles, max the slowest one and at the
 * TSC at which that one started. Logging happens between windows and is not
 * timed. "rpc_probe: ready" after a warm-up; a failed call ends it with a
 * "FAIL" line.
 */
#include <stdint.h>

#include <amber/cap_alloc.h>
#include <amber/error.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/rom.h>
#include <amber/rpc.h>
#include <amber/rpc_bench.h>

#define DEFAULT_WINDOW_CYCLES 20000000u
#define WARMUP 1000u
#define SESSION_TIMEOUT_US 10000000u

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static int call(amber_sel_t pong, amber_word_t x)
{
	amber_word_t y = 0;
	int err = amber_rpc_call_words(pong, AMBER_RPC_BENCH_PROTO, AMBER_RPC_BENCH_ADD_ONE, 1, &x, 1, &y);
	if (err || y != x + 1) {
		amber_log("rpc_probe: FAIL call with %lu (%s, %lu)", (unsigned long)x, amber_error_name(err),
			  (unsigned long)y);
		return 1;
	}
	return 0;
}

int main(void)
{
	const char *config = 0;
	uint64_t window = DEFAULT_WINDOW_CYCLES;
	if (amber_rom_config(&config, 0) == AMBER_OK)
		window = amber_config_number(config, "window_cycles", DEFAULT_WINDOW_CYCLES);
	amber_sel_t pong = amber_cap_alloc();
	int err = amber_parent_session(AMBER_RPC_BENCH_SERVICE, pong, SESSION_TIMEOUT_US);
	if (err) {
		amber_log("rpc_probe: FAIL session \"%s\" (%s)", AMBER_RPC_BENCH_SERVICE, amber_error_name(err));
		return 1;
	}
	amber_word_t x = 0;
	for (unsigned i = 0; i < WARMUP; i++)
		if (call(pong, x++))
			return 1;
	amber_log("rpc_probe: ready");
	for (;;) {
		uint64_t start = rdtsc(), end = start, n = 0, sum = 0, max = 0, max_at = start;
		while (end - start < window) {
			uint64_t a = rdtsc();
			if (call(pong, x++))
				return 1;
			end = rdtsc();
			uint64_t d = end - a;
			n++;
			sum += d;
			if (d > max) {
				max = d;
				max_at = a;
			}
		}
		amber_log("rpc_probe: w %lu %lu n %lu sum %lu max %lu at %lu", (unsigned long)start,
			  (unsigned long)end, (unsigned long)n, (unsigned long)sum, (unsigned long)max,
			  (unsigned long)max_at);
	}
}
