/*
 * The Entrypoint and component_construct under a real amber-core:
 * test_entrypoint checks them from inside a framework component
 * (scenarios/entrypoint.xml): component_construct in the main entrypoint
 * (the initial thread), the constructor capability (CAP4) during and
 * after construction, the signal proxy (CAP2) and exit capability (CAP1)
 * in the capability map, the signal-handler thread blocked on the
 * semaphore (CAP3), handlers in the entrypoint thread interleaved with RPC
 * calls. The component releases its entrypoint before it exits, so core
 * has nothing left to clean up. Under `make SAN=1` every run must also end
 * without a sanitizer report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"

static void expect_entrypoint_checks(struct run *r)
{
	EXPECT(r, "[test_entrypoint] ok: component_construct runs");
	EXPECT(r, "[test_entrypoint] ok: construct runs in the entrypoint thread");
	EXPECT(r, "[test_entrypoint] ok: the main entrypoint is the initial thread");
	EXPECT(r, "[test_entrypoint] ok: the constructor capability exists during construction");
	EXPECT(r, "[test_entrypoint] ok: the signal-handler thread is the constructor's caller (blocked in the call)");
	EXPECT(r, "[test_entrypoint] ok: its slot is empty: TASK_CAP_INFO kind NONE");
	EXPECT(r, "[test_entrypoint] ok: its badge is not in the capability map");
	EXPECT(r, "[test_entrypoint] ok: the signal proxy capability exists");
	EXPECT(r, "[test_entrypoint] ok: the first timer signal is handled in the entrypoint thread");
	EXPECT(r, "[test_entrypoint] ok: timer handlers ran while the RPC calls went on");
	EXPECT(r, "[test_entrypoint] ok: handlers and RPC functions never overlapped");
	EXPECT(r, "[test_entrypoint] ok: the idle signal-handler thread blocks in IRQ RECEIVE on the semaphore (CAP3)");
	EXPECT_SELF_CHECKS(r, "test_entrypoint", 55);
	EXPECT_NOT(r, "core: test_entrypoint: released"); /* the entrypoint released itself */
}

static void entrypoint_checks_in_a_component(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/entrypoint.xml", 60);
	expect_entrypoint_checks(&r);
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* Two framework components next to a main() one: nothing interferes. */
static void framework_components_side_by_side(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"test_entrypoint\"/>\n"
			  "  <component name=\"sheep_counter\"/>\n"
			  "  <component name=\"hello_server\" caps=\"16\"><provides><service name=\"hello\"/></provides></component>\n"
			  "  <component name=\"hello_client\" caps=\"16\"/>\n"
			  "</scenario>\n",
			  60);
	expect_entrypoint_checks(&r);
	EXPECT(&r, "[sheep_counter] 10 sheep");
	EXPECT(&r, "[sheep_counter] sheep_counter: done, 10 sheep");
	EXPECT(&r, "core: sheep_counter exited with code 0");
	EXPECT_NOT(&r, "core: sheep_counter: released");
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entrypoint_checks_in_a_component),
		cmocka_unit_test(framework_components_side_by_side),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
