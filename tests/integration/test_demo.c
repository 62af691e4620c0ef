/*
 * The demo end to end: scenarios/demo.xml runs init with every example
 * component as its child; scenarios/hello.xml is the hello pair alone
 * (RPC, capability transfer and IRQ wake-up between two real components
 * under a real amber-core).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "harness.h"

/* Every example under init: each one's final line, init's report of each
 * child's end, and init's own end, by itself, with status 0. */
static void demo_runs_the_examples_under_init(void **state)
{
	(void)state;
	static const char *const children[] = { "hello_server",	      "hello_client",	 "sheep_counter",
						"rpc_counter_server", "rpc_counter_client", "example_threads",
						"example_sessions" };
	struct run r;
	run_scenario_file(&r, "scenarios/demo.xml", 30);
	/* hello: a routed session, RPC, a capability, three IRQ wake-ups */
	EXPECT(&r, "[init] child hello_server announces service 'hello'");
	EXPECT(&r, "[init -> hello_client] got a session to \"hello\"");
	EXPECT(&r, "[init -> hello_client] add(2, 3) = 5");
	EXPECT(&r, "[init -> hello_server] received irq capability in slot");
	EXPECT(&r, "[init -> hello_client] irq woke me (3/3)");
	assert_int_equal(run_count(&r, "[init -> hello_client] irq woke me"), 3);
	EXPECT(&r, "[init -> hello_client] done (0 failures)");
	/* the others' final lines */
	EXPECT(&r, "[init -> sheep_counter] 10 sheep");
	EXPECT(&r, "[init -> sheep_counter] sheep_counter: done, 10 sheep");
	EXPECT(&r, "[init] child rpc_counter_server announces service 'counter'");
	EXPECT(&r, "[init -> rpc_counter_client] done: 37 ok, 0 failed");
	EXPECT(&r, "[init -> rpc_counter_server] quit: served 20 calls");
	EXPECT(&r, "[init -> example_threads] threads: round 3 worker 3 sum");
	EXPECT(&r, "(matches the shared total)");
	EXPECT(&r, "[init -> example_threads] threads: done");
	EXPECT(&r, "[init -> example_sessions] sessions: Timer: tick 5: the worker computed");
	EXPECT(&r, "[init -> example_sessions] sessions: done, 5 rounds");
	/* every child ended by itself, then init */
	for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
		char line[128];
		snprintf(line, sizeof line, "[init] child %s exited with code 0", children[i]);
		EXPECT(&r, line);
		snprintf(line, sizeof line, "core: init -> %s exited with code 0", children[i]);
		EXPECT(&r, line);
	}
	assert_int_equal(run_count(&r, "[init] child "), 7 + 2); /* 7 ends, 2 announcements */
	EXPECT(&r, "[init] all children have ended");
	EXPECT(&r, "core: init exited with code 0");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_NOT(&r, "killed");
	EXPECT_NOT(&r, "denied");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* The hello pair alone (the demo before init). */
static void hello_runs_rpc_cap_transfer_and_irq(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/hello.xml", 30);
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
			  "  <component name=\"hello_server\"><provides><service name=\"hello\"/></provides></component>\n"
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
		cmocka_unit_test(demo_runs_the_examples_under_init),
		cmocka_unit_test(hello_runs_rpc_cap_transfer_and_irq),
		cmocka_unit_test(client_before_server),
		cmocka_unit_test(timeout_stops_everything),
	};
	return cmocka_run_group_tests_name("integration: demo", tests, NULL, NULL);
}
