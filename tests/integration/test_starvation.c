/*
 * Tracker issue 10, "Starvation": a component uses up what core keeps for
 * it, or floods core, while well-behaved victims run next to it
 * (example_threads, whose output is deterministic, and the hello pair).
 * amber-core must survive, the attacker must stay within its own limits,
 * and the victims' output must be complete and the same as when
 * example_threads runs alone. (How much the victims slow down is measured
 * in `make bench`, not here: no timing asserts in tests.)
 *
 * - Timer sessions leak (components/test_timer_churn): open/close cycles
 *   of Timer and ROM sessions, far more than the 32 sessions a component
 *   may hold; afterwards it holds as many at once as before, and core's
 *   report at its end lists no Timer session or ROM module left over.
 * - LOG floods (components/test_log_flood, log_rate="2000"): eight threads
 *   write 4000 lines of about 200 bytes (two units each) as fast as they
 *   can; core holds them back to the rate (2000 units at once, then 2000
 *   a second), prints every line, each thread's in order, and writes its
 *   output from a thread of its own, off the kernel lock. The one time
 *   checked is a lower bound the rate guarantees (6000 units over the
 *   burst: 3 s), never an upper one.
 *
 * Under `make SAN=1` every run must also end without a sanitizer report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void timer_sessions_do_not_leak(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/timer_churn.xml", 60);
	EXPECT(&r, "[test_timer_churn] churn: 200 cycles done");
	EXPECT_SELF_CHECKS(&r, "test_timer_churn", 7);
	EXPECT(&r, "core: test_timer_churn exited with code 0");
	EXPECT_NOT(&r, "Timer session"); /* in core's report of what it released */
	EXPECT_NOT(&r, "core: test_timer_churn: released");
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

#define FLOOD_THREADS 8
#define FLOOD_LINES 500

static void log_flood_is_held_back(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/log_flood.xml", 90);
	EXPECT(&r, "[test_log_flood] flood: done");
	EXPECT(&r, "core: test_log_flood exited with code 0");
	EXPECT_NOT(&r, "dropped");
	/* Every line, each thread's in order. */
	int last[FLOOD_THREADS], printed = 0;
	for (int i = 0; i < FLOOD_THREADS; i++)
		last[i] = -1;
	const char *p = r.output;
	while ((p = strstr(p, "[test_log_flood] flood "))) {
		int t, i;
		if (sscanf(p, "[test_log_flood] flood %d/%d:", &t, &i) == 2 && t >= 0 && t < FLOOD_THREADS) {
			if (i != last[t] + 1) {
				run_dump(&r);
				fail_msg("thread %d: line %d after line %d", t, i, last[t]);
			}
			last[t] = i;
			printed++;
		}
		p++;
	}
	if (printed != FLOOD_THREADS * FLOOD_LINES) {
		run_dump(&r);
		fail_msg("%d of %d flood lines printed", printed, FLOOD_THREADS * FLOOD_LINES);
	}
	const char *took = strstr(r.output, "[test_log_flood] flood: took ");
	long ms = took ? strtol(took + strlen("[test_log_flood] flood: took "), NULL, 10) : -1;
	if (ms < 2500) {
		run_dump(&r);
		fail_msg("the flood took %ld ms: the rate did not hold it back", ms);
	}
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timer_sessions_do_not_leak),
		cmocka_unit_test(log_flood_is_held_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
