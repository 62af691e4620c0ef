/*
 * Closing sessions (tracker issue 3, "calls on closed sessions"): a
 * component gives sessions of each of core's services back through its
 * parent (AMBER_PARENT_CLOSE); later calls on them are INVALID_CAP and
 * what they made is gone (components/test_close). Once from a scenario,
 * where core is the parent, once under init, which forwards the close of
 * core's sessions through the child capability. Under `make SAN=1` every
 * run must also end without a sanitizer report (leaks included).
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

#define CLOSE_CHECKS 50

static void close_from_a_scenario(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/close.xml", 60);
	EXPECT_SELF_CHECKS(&r, "test_close", CLOSE_CHECKS);
	EXPECT(&r, "[hello_client] done (0 failures)");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void close_under_init(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"160\" ram=\"8M\">\n"
			  "    <config>\n"
			  "      <default-route>\n"
			  "        <service name=\"hello\"><child name=\"hello_server\"/></service>\n"
			  "        <service name=\"close_echo\"><child name=\"test_close\"/></service>\n"
			  "        <any-service><parent/></any-service>\n"
			  "      </default-route>\n"
			  "      <start name=\"test_close\" caps=\"32\" ram=\"1M\"/>\n"
			  "      <start name=\"hello_server\" caps=\"16\" ram=\"1M\"/>\n"
			  "      <start name=\"hello_client\" caps=\"16\" ram=\"1M\"/>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  60);
	EXPECT(&r, "[init -> test_close] done:");
	EXPECT(&r, " 0 failed");
	EXPECT_NOT(&r, "FAIL");
	EXPECT(&r, "[init] child test_close exited with code 0");
	EXPECT(&r, "[init -> hello_client] done (0 failures)");
	EXPECT(&r, "[init] all children have ended");
	EXPECT_CLEAN(&r);
	if (run_count(&r, "[init -> test_close] ok:") < CLOSE_CHECKS) {
		run_dump(&r);
		run_free(&r);
		fail_msg("fewer than %d checks ran", CLOSE_CHECKS);
	}
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(close_from_a_scenario),
		cmocka_unit_test(close_under_init),
	};
	return cmocka_run_group_tests_name("integration: closing sessions", tests, NULL, NULL);
}
