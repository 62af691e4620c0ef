/*
 * The runtime's RPC layer under a real amber-core: test_rpc checks the
 * capability map, entrypoints, capability arguments and results and
 * destroy through the exit capability from inside a component
 * (scenarios/rpc_test.xml); the counter server and client show the same
 * between two components; rpc_ep_churn creates and destroys 300
 * entrypoints and must leak nothing; the RPC benchmark pair runs to the
 * end. Under `make SAN=1` every run must also end without a sanitizer
 * report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"

/* Clean, and no component reported a failed check. */
#define EXPECT_PASSED(r)                                                                           \
	do {                                                                                       \
		EXPECT_CLEAN(r);                                                                   \
		EXPECT_NOT(r, "FAIL");                                                             \
	} while (0)

static void rpc_checks_in_a_component(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/rpc_test.xml", 60);
	EXPECT(&r, "[test_rpc] done:");
	EXPECT(&r, " 0 failed");
	EXPECT(&r, "[test_rpc] ok: receiving the copy with the badge gives the slot we have");
	EXPECT(&r, "[test_rpc] ok: each call reached its own object");
	EXPECT(&r, "[test_rpc] ok: unknown opcode -> OPCODE");
	EXPECT(&r, "[test_rpc] ok: the server got it in a's slot (badge hit)");
	EXPECT(&r, "[test_rpc] ok: the exit gate is gone: calling it -> INVALID_CAP");
	EXPECT(&r, "[test_rpc] ok: client 2 is blocked in its call");
	EXPECT(&r, "[test_rpc] ok: with an error, not a hang");
	EXPECT(&r, "core: test_rpc exited with code 0");
	EXPECT_PASSED(&r);
	if (run_count(&r, "[test_rpc] ok:") < 160) {
		run_dump(&r);
		run_free(&r);
		fail_msg("too few checks ran");
	}
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void counter_server_and_client(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/rpc_counter.xml", 60);
	EXPECT(&r, "core: rpc_counter_server announces service 'counter'");
	EXPECT(&r, "[rpc_counter_client] counter 1 = 7");
	EXPECT(&r, "[rpc_counter_server] created counter 2 = 100");
	EXPECT(&r, "[rpc_counter_server] add_from: counter 2 is one of ours");
	EXPECT(&r, "[rpc_counter_client] SELF of counter 2 came back in slot");
	EXPECT(&r, "the slot we have (references: 2)");
	EXPECT(&r, "[rpc_counter_server] closing counter 3");
	EXPECT(&r, "[rpc_counter_client] done: 37 ok, 0 failed");
	EXPECT(&r, "destroyed the entrypoint with 2 counters through its exit capability (OK)");
	EXPECT(&r, "core: rpc_counter_client exited with code 0");
	EXPECT(&r, "core: rpc_counter_server exited with code 0");
	EXPECT_PASSED(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);

	/* Start order does not matter: the client waits for the announcement. */
	run_scenario_text(&r,
			  "<scenario>\n  <component name=\"rpc_counter_client\"/>\n"
			  "  <component name=\"rpc_counter_server\"><provides><service name=\"counter\"/></provides></component>\n</scenario>\n",
			  60);
	EXPECT(&r, "[rpc_counter_client] done: 37 ok, 0 failed");
	EXPECT(&r, "core: rpc_counter_server exited with code 0");
	EXPECT_PASSED(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void entrypoint_churn_leaks_nothing(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/rpc_ep_churn.xml", 120);
	EXPECT(&r, "[rpc_ep_churn] churn: 300 entrypoints so far");
	EXPECT(&r, "[rpc_ep_churn] ok: all rounds: create, manage, call, destroy through the exit capability");
	EXPECT(&r, "[rpc_ep_churn] ok: clients blocked at destroy got NO_PARTNER");
	EXPECT(&r, "[rpc_ep_churn] ok: PD QUOTA: RAM used as before");
	EXPECT(&r, "[rpc_ep_churn] ok: free capability slots as before");
	EXPECT(&r, "[rpc_ep_churn] done: 6 ok, 0 failed");
	EXPECT(&r, "core: rpc_ep_churn exited with code 0");
	EXPECT_PASSED(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void rpc_benchmark_pair_runs(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/rpc_bench.xml", 120);
	EXPECT(&r, "[rpc_ping] ping: start 200000");
	EXPECT(&r, "[rpc_ping] ping: done 200000");
	EXPECT(&r, "[rpc_pong] pong: quit after 201001 calls (OK)");
	EXPECT(&r, "core: rpc_ping exited with code 0");
	EXPECT(&r, "core: rpc_pong exited with code 0");
	EXPECT_PASSED(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rpc_checks_in_a_component),
		cmocka_unit_test(counter_server_and_client),
		cmocka_unit_test(entrypoint_churn_leaks_nothing),
		cmocka_unit_test(rpc_benchmark_pair_runs),
	};
	return cmocka_run_group_tests_name("integration: RPC runtime", tests, NULL, NULL);
}
