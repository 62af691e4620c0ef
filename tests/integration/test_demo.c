/*
 * The demo scenario end to end: RPC, capability transfer and IRQ wake-up
 * between two real components under a real amber-core.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"

static void demo_runs_rpc_cap_transfer_and_irq(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/demo.xml", 30);
	EXPECT(&r, "core: hello_server announces service 'hello'");
	EXPECT(&r, "[hello_client] got a session to \"hello\"");
	EXPECT(&r, "[hello_client] add(2, 3) = 5");
	EXPECT(&r, "[hello_server] add(2, 3) = 5");
	EXPECT(&r, "[hello_client] echo: \"");
	EXPECT(&r, "[hello_server] received irq capability in slot");
	EXPECT(&r, "[hello_client] irq woke me (3/3)");
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT(&r, "core: hello_client exited with code 0");
	EXPECT(&r, "core: hello_server exited with code 0");
	EXPECT_CLEAN(&r);
	assert_int_equal(run_count(&r, "FAIL"), 0);
	assert_int_equal(run_count(&r, "[hello_client] irq woke me"), 3);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* Start order must not matter: the client asks before the server announces. */
static void client_before_server(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"hello_client\"/>\n"
			  "  <component name=\"hello_server\"/>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "[hello_client] done (0 failures)");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* A scenario that does not end is stopped by --timeout: every component
 * is killed and reported, and amber-core exits with status 2. */
static void timeout_stops_everything(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"hello_client\"/>\n</scenario>\n", 1);
	EXPECT(&r, "core: timeout after 1 s: stopping all components");
	EXPECT(&r, "core: hello_client killed: timeout");
	assert_int_equal(r.status, 2);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_runs_rpc_cap_transfer_and_irq),
		cmocka_unit_test(client_before_server),
		cmocka_unit_test(timeout_stops_everything),
	};
	return cmocka_run_group_tests_name("integration: demo", tests, NULL, NULL);
}
