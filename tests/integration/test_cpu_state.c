/*
 * The full register state under a real amber-core (scenarios/cpu_state.xml):
 * test_cpu_state reads a paused worker's XMM registers through CPU
 * STATE_FULL (a blob in a RAM dataspace), changes xmm0 with SET_STATE_FULL
 * and sees the worker use it; malformed blobs and running threads are
 * refused. Under `make SAN=1` the run must also end without a sanitizer
 * report.
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

static void cpu_state_end_to_end(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/cpu_state.xml", 60);
	EXPECT(&r, "[test_cpu_state] done:");
	EXPECT(&r, " 0 failed");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_CHECKS(&r, "test_cpu_state", 40);
	EXPECT(&r, "[test_cpu_state] ok: xmm0..15 in the blob are the worker's pattern");
	EXPECT(&r, "[test_cpu_state] ok: SET_STATE_FULL wrong magic -> INVALID_ARG");
	EXPECT(&r, "[test_cpu_state] ok: SET_STATE_FULL truncated xstate -> INVALID_ARG");
	EXPECT(&r, "[test_cpu_state] ok: the worker sees the new xmm0");
	EXPECT(&r, "[test_cpu_state] ok: SET_STATE_FULL of a running thread -> INVALID_ARG");
	EXPECT(&r, "core: test_cpu_state exited with code 0");
	EXPECT_NOT(&r, "core: test_cpu_state killed");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpu_state_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
