/*
 * Faults as signals, under a real amber-core (scenarios/faults.xml):
 * test_faults resolves page faults (RM SIGH) and CPU exceptions (CPU SIGH)
 * of its own threads from a signal handler, parks a thread on a fault
 * nobody resolves, and ends with it still stopped. While it sits stopped,
 * sheep_counter keeps counting (other components run on), and the ending
 * component is cleaned up like any other. A component without handlers is
 * still killed and reported (test_sessions.c, test_errors.c). Under
 * `make SAN=1` the run must also end without a sanitizer report.
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

/* Where `text` first appears in the output (fails if it does not). */
static size_t position(struct run *r, const char *text)
{
	const char *at = strstr(r->output, text);
	if (!at) {
		run_dump(r);
		run_free(r);
		fail_msg("missing: %s", text);
	}
	return (size_t)(at - r->output);
}

static void faults_end_to_end(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/faults.xml", 60);
	EXPECT(&r, "[test_faults] done:");
	EXPECT(&r, " 0 failed");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_CHECKS(&r, "test_faults", 54);
	EXPECT(&r, "[test_faults] ok: the worker read back what it wrote");
	EXPECT(&r, "[test_faults] ok: STATE: rip is the ud2");
	EXPECT(&r, "[test_faults] ok: the recovery function got rdi");
	EXPECT(&r, "[test_faults] ok: STATE: a CPU exception, not a page fault");
	EXPECT(&r, "core: test_faults exited with code 0");
	/* Ended with a thread stopped on a fault: cleaned up all the same. */
	EXPECT(&r, "core: test_faults: released 2 threads");
	EXPECT_NOT(&r, "core: test_faults killed");
	/* Others ran on while a thread sat stopped on a fault. */
	size_t parked = position(&r, "[test_faults] parked: a thread sits stopped on a fault");
	size_t last_sheep = position(&r, "[sheep_counter] sheep_counter: done, 10 sheep");
	size_t ended = position(&r, "core: test_faults exited");
	if (!(parked < last_sheep && last_sheep < ended)) {
		run_dump(&r);
		run_free(&r);
		fail_msg("sheep_counter did not finish while test_faults had a thread stopped on a fault");
	}
	EXPECT(&r, "core: sheep_counter exited with code 0");
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT(&r, "core: hello_server exited with code 0");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* A parent sets CPU and RM fault handlers on its children's sessions
 * before it starts them: faults in their first steps come to it as
 * signals and the children are held; without handlers one dies
 * (components/test_monitor checks itself). */
static void handlers_before_the_child_starts(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"monitor\" binary=\"test_monitor\" caps=\"128\" ram=\"8M\"/>\n</scenario>\n",
			  30);
	EXPECT(&r, "[monitor] ok: CPU SIGH before it started");
	EXPECT(&r, "[monitor] ok: RM SIGH before it started");
	EXPECT(&r, "core: monitor -> cpu.fault killed: killed by its parent");
	EXPECT(&r, "core: monitor -> rm.fault killed: killed by its parent");
	EXPECT(&r, "core: monitor -> unwatched killed: SIGSEGV at 0x10");
	EXPECT_SELF_CHECKS(&r, "monitor", 27);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(faults_end_to_end),
		cmocka_unit_test(handlers_before_the_child_starts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
