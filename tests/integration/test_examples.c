/*
 * The example components alone (components/example_threads,
 * components/example_sessions; scenarios/example_*.xml): each runs to its
 * final line and exits with 0, and its output is the same from run to run
 * (what the differential checkpoint/restore tests will rely on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* Run the scenario twice: the component's lines must be the same. */
static void same_output_twice(const char *scenario, const char *prefix, int min_lines)
{
	struct run a, b;
	run_scenario_file(&a, scenario, 30);
	run_scenario_file(&b, scenario, 30);
	char *la = run_lines_of(&a, prefix), *lb = run_lines_of(&b, prefix);
	int lines = 0;
	for (const char *p = la; *p; p++)
		lines += *p == '\n';
	if (strcmp(la, lb) != 0 || lines < min_lines) {
		run_dump(&a);
		run_dump(&b);
		fail_msg("%s: the output of %s differs between two runs (or is short: %d lines)", scenario, prefix, lines);
	}
	free(la);
	free(lb);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	run_free(&a);
	run_free(&b);
}

static void threads_alone(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/example_threads.xml", 30);
	EXPECT(&r, "[example_threads] threads: starting 4 workers for 3 rounds");
	EXPECT(&r, "[example_threads] threads: all 4 workers ready");
	EXPECT(&r, "[example_threads] threads: round 1 worker 0 sum ");
	EXPECT(&r, "[example_threads] threads: round 3 worker 3 sum ");
	assert_int_equal(run_count(&r, "[example_threads] threads: round "), 12);
	EXPECT(&r, "over 36 allocations (matches the shared total)");
	EXPECT(&r, "[example_threads] threads: done");
	EXPECT(&r, "core: example_threads exited with code 0");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void threads_deterministic(void **state)
{
	(void)state;
	same_output_twice("scenarios/example_threads.xml", "[example_threads]", 16);
}

static void sessions_alone(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/example_sessions.xml", 30);
	EXPECT(&r, "[example_sessions] sessions: ROM: config: 5 rounds, one every 20 ms");
	EXPECT(&r, "[example_sessions] sessions: PD: allocated 10000 bytes of RAM: a dataspace of 12288 bytes");
	EXPECT(&r, "attached read-only: sum 1565944 (same)");
	EXPECT(&r, "[example_sessions] sessions: CPU: started a worker thread, paused and resumed it");
	EXPECT(&r, "[example_sessions] sessions: PD: an RPC capability for the worker (badge nonzero)");
	EXPECT(&r, "[example_sessions] sessions: Timer: periodic timeout every 20 ms");
	EXPECT(&r, "[example_sessions] sessions: Timer: tick 1: the worker computed ");
	EXPECT(&r, "[example_sessions] sessions: Timer: tick 5: the worker computed ");
	assert_int_equal(run_count(&r, "sessions: Timer: tick "), 5);
	EXPECT(&r, "[example_sessions] sessions: CPU: the worker thread ended");
	EXPECT(&r, "[example_sessions] sessions: PD: freed the RPC capability and the dataspace");
	EXPECT(&r, "[example_sessions] sessions: done, 5 rounds");
	EXPECT(&r, "core: example_sessions exited with code 0");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void sessions_deterministic(void **state)
{
	(void)state;
	same_output_twice("scenarios/example_sessions.xml", "[example_sessions]", 15);
}

/* Without a <config>, the ROM session is refused and the defaults apply. */
static void sessions_without_config(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"example_sessions\" ram=\"1M\"/>\n</scenario>\n", 30);
	EXPECT(&r, "[example_sessions] sessions: ROM: no config, defaults: 3 rounds, one every 20 ms");
	EXPECT(&r, "[example_sessions] sessions: done, 3 rounds");
	EXPECT_NOT(&r, "FAIL");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* %f %e %g from a real component: the lines glibc's printf gives. */
static void floats_in_log_lines(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"fl\" binary=\"test_float_log\"/>\n</scenario>\n", 20);
	EXPECT(&r, "[fl] f: 0.333333 2.67   -3.142|0.2     |+2");
	EXPECT(&r, "[fl] e: 3.333333e-01 6.022E+23   -1.00e-300");
	EXPECT(&r, "[fl] g: 0.333333 1e-05 1.23457e+08 0.000123 1.00000");
	EXPECT(&r, "[fl] special: inf -inf -NAN  -0.0");
	EXPECT(&r, "[fl] big: 179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_alone),
		cmocka_unit_test(floats_in_log_lines),
		cmocka_unit_test(threads_deterministic),
		cmocka_unit_test(sessions_alone),
		cmocka_unit_test(sessions_deterministic),
		cmocka_unit_test(sessions_without_config),
	};
	return cmocka_run_group_tests_name("integration: examples", tests, NULL, NULL);
}
