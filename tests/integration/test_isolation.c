/*
 * Tracker issue 10, "Isolation": each attack runs next to victims
 * (example_threads, whose output is deterministic, and the hello pair);
 * amber-core must survive, the attacker must be stopped by its own limits,
 * and the victims' output must be complete and the same as alone.
 *
 * - Service squatting at the top level (components/test_squat): it
 *   announces "hello" before hello_server can; core refuses, since the
 *   scenario names hello_server as the provider (<provides>), and the
 *   client gets the real server.
 * - init's service table: a child with caps="4" announces one gate under
 *   200 names; its own limit stops it (not init's shared table), and a
 *   server started after it still announces, and its client is served.
 * - log_rate in init's <start>: a flooding child is held to it.
 * - Core's capability space (components/test_core_fill): eight components
 *   with caps="16" take all the RPC capabilities, dataspaces and sessions
 *   core gives them; each used to hold over 500 of core's 4096 slots, so
 *   together they filled it. Now what core keeps is paid from their caps:
 *   each is stopped at 16, and the victims still get their sessions and
 *   RAM.
 * - CPU shares: a component with 16 spinning threads next to a victim that
 *   computes a fixed amount; the victim's time with the spinner is
 *   compared with its time alone in the same test, with a generous bound
 *   (without shares it is about ten times as long). Speed figures belong
 *   in `make bench`; this only checks the share exists.
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
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define VICTIMS                                                                                               \
	"  <component name=\"example_threads\" caps=\"32\" ram=\"2M\"/>\n"                                   \
	"  <component name=\"hello_server\" caps=\"16\"><provides><service name=\"hello\"/></provides></component>\n" \
	"  <component name=\"hello_client\" caps=\"16\"/>\n"

static void squatter_cannot_take_a_name(void **state)
{
	(void)state;
	struct run r;
	/* The squatter comes first, so it would have won the race. */
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"test_squat\" caps=\"4\"><config><squat names=\"3\"/></config></component>\n" VICTIMS
			  "</scenario>\n",
			  60);
	EXPECT_CLEAN(&r);
	EXPECT(&r, "[test_squat] squat: hello: RIGHTS");
	EXPECT(&r, "[test_squat] squat: 0 names announced, then RIGHTS");
	EXPECT(&r, "core: test_squat may not announce service 'hello'");
	EXPECT_NOT(&r, "test_squat announces");
	EXPECT(&r, "core: hello_server announces service 'hello'");
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void provides_is_checked(void **state)
{
	(void)state;
	static const struct {
		const char *xml, *error;
	} cases[] = {
		{ "<scenario>\n  <component name=\"hello_server\"><provides><service name=\"hello\"/></provides></component>\n"
		  "  <component name=\"test_squat\"><provides><service name=\"hello\"/></provides></component>\n</scenario>\n",
		  ":3: service 'hello' is provided by 'hello_server' already" },
		{ "<scenario>\n  <component name=\"hello_server\"><provides><service name=\"PD\"/></provides></component>\n</scenario>\n",
		  ":2: 'PD' is one of core's services" },
		{ "<scenario>\n  <component name=\"hello_server\"><provides><service/></provides></component>\n</scenario>\n",
		  ":2: a provided service needs a name" },
		{ "<scenario>\n  <component name=\"hello_server\"><provides><hello/></provides></component>\n</scenario>\n",
		  ":2: <provides> holds only <service name=\"...\"/>" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		run_scenario_text(&r, cases[i].xml, 10);
		EXPECT(&r, cases[i].error);
		assert_int_equal(r.status, 1);
		run_free(&r);
	}
}

/* A top-level <route>, as a <start> has under init: the client whose route
 * names the server gets it; one whose route allows only core's services
 * is refused "hello" (RIGHTS, said once), and everyone else runs on. */
static void routes_are_enforced(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"example_threads\" caps=\"32\" ram=\"2M\"/>\n"
			  "  <component name=\"hello_server\" caps=\"16\"><provides><service name=\"hello\"/></provides></component>\n"
			  "  <component name=\"hello_client\" caps=\"16\">\n"
			  "    <route> <service name=\"hello\"><child name=\"hello_server\"/></service>\n"
			  "            <any-service><parent/></any-service> </route>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  60);
	EXPECT_CLEAN(&r);
	expect_victims_intact(&r);
	EXPECT_NOT(&r, "may not ask for service");
	assert_int_equal(r.status, 0);
	run_free(&r);

	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"hello_server\" caps=\"16\"><provides><service name=\"hello\"/></provides></component>\n"
			  "  <component name=\"hello_client\" caps=\"16\">\n"
			  "    <route> <any-service><parent/></any-service> </route>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "core: hello_client may not ask for service 'hello': no entry of its <route> allows it");
	EXPECT(&r, "[hello_client] FAIL: session \"hello\" (RIGHTS)");
	EXPECT(&r, "core: hello_server announces service 'hello'");
	assert_int_equal(run_count(&r, "may not ask for service"), 1);
	run_free(&r);

	/* The route is part of the component's checkpoint (a counter that
	 * runs long enough to be checkpointed, allowed core's services). */
	char dir[96], scenario[112];
	snprintf(dir, sizeof(dir), "/tmp/amber-test-routes-%d", (int)getpid());
	snprintf(scenario, sizeof(scenario), "%s.xml", dir);
	FILE *f = fopen(scenario, "w");
	assert_non_null(f);
	fputs("<scenario>\n  <component name=\"cr_counter\">\n    <config><counter steps=\"3000\"/></config>\n"
	      "    <route> <service name=\"Timer\"><parent/></service> <any-service><parent/></any-service> </route>\n"
	      "  </component>\n</scenario>\n",
	      f);
	fclose(f);
	static struct live_core lc;
	if (!live_start(&lc, scenario, NULL, NULL, "[cr_counter] step 2:", 60)) {
		run_dump(&lc.r);
		fail_msg("the routed counter did not come up");
	}
	struct cli_run c;
	amber(&c, "-s", lc.name, "checkpoint", "cr_counter", dir, NULL);
	CLI_EXPECT(&c, c.status == 0);
	cli_run_free(&c);
	amber(&c, "inspect", dir, NULL);
	CLI_EXPECT(&c, c.status == 0 && strstr(c.out, "route (first match): Timer -> core, * -> core"));
	cli_run_free(&c);
	harness_remove_tree(dir);
	unlink(scenario);
	live_stop(&lc);
	run_free(&lc.r);
}

static void routes_are_checked(void **state)
{
	(void)state;
	static const char server[] =
		"<scenario>\n  <component name=\"hello_server\"><provides><service name=\"hello\"/></provides></component>\n";
	static const struct {
		const char *component, *error;
	} cases[] = {
		{ "  <component name=\"hello_client\"><route><service name=\"hello\"><child name=\"nobody\"/></service></route></component>\n",
		  ":3: component 'hello_client' routes to 'nobody', which the scenario does not have" },
		{ "  <component name=\"hello_client\"><route><service name=\"echo\"><child name=\"hello_server\"/></service></route></component>\n",
		  ":3: component 'hello_client' routes 'echo' to 'hello_server', which does not provide it" },
		{ "  <component name=\"hello_client\"><route><service name=\"hello\"><parent/></service></route></component>\n",
		  ":3: 'hello' is none of core's services" },
		{ "  <component name=\"hello_client\"><route><any-service><sibling/></any-service></route></component>\n",
		  ":3: unknown route target <sibling>" },
		{ "  <component name=\"hello_client\"><route><any-service/></route></component>\n",
		  ":3: a route entry needs a target" },
		{ "  <component name=\"hello_client\"><route><default/></route></component>\n",
		  ":3: <route> holds only <service name=\"...\"> and <any-service>" },
		{ "  <component name=\"hello_client\"><route/><route/></component>\n",
		  ":3: more than one <route> in component 'hello_client'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char xml[1024];
		snprintf(xml, sizeof(xml), "%s%s</scenario>\n", server, cases[i].component);
		struct run r;
		run_scenario_text(&r, xml, 10);
		EXPECT(&r, cases[i].error);
		assert_int_equal(r.status, 1);
		run_free(&r);
	}
}

static void init_service_table_is_per_child(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"100\" ram=\"8M\">\n"
			  "    <config>\n"
			  "      <default-route> <any-service><parent/></any-service> </default-route>\n"
			  "      <start name=\"test_squat\" caps=\"4\" ram=\"1M\"><config><squat names=\"200\"/></config></start>\n"
			  "      <start name=\"server\" caps=\"16\" ram=\"1M\"><binary name=\"hello_server\"/></start>\n"
			  "      <start name=\"client\" caps=\"16\" ram=\"1M\">\n"
			  "        <binary name=\"hello_client\"/>\n"
			  "        <route>\n"
			  "          <service name=\"hello\"><child name=\"server\"/></service>\n"
			  "          <any-service><parent/></any-service>\n"
			  "        </route>\n"
			  "      </start>\n"
			  "    </config>\n"
			  "  </component>\n" VICTIMS "</scenario>\n",
			  60);
	EXPECT_CLEAN(&r);
	/* caps="4": four names, "hello" and "sq0".."sq2", then its own limit. */
	EXPECT(&r, "[init -> test_squat] squat: hello: OK");
	EXPECT(&r, "[init -> test_squat] squat: 3 names announced, then QUOTA");
	EXPECT(&r, "[init] child server announces service 'hello'");
	EXPECT(&r, "[init -> client] done (0 failures)");
	EXPECT(&r, "[init] all children have ended");
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void core_space_is_paid_from_caps(void **state)
{
	(void)state;
	char xml[4096];
	size_t n = (size_t)snprintf(xml, sizeof(xml), "<scenario>\n");
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(xml + n, sizeof(xml) - n,
				      "  <component name=\"fill_%d\" binary=\"test_core_fill\" caps=\"16\" ram=\"2M\"/>\n", i);
	snprintf(xml + n, sizeof(xml) - n, VICTIMS "</scenario>\n");
	struct run r;
	run_scenario_text(&r, xml, 60);
	EXPECT_CLEAN(&r);
	for (int i = 0; i < 8; i++) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "[fill_%d] fill: ", i);
		const char *p = strstr(r.output, prefix);
		unsigned objects = 0, quota = 0, used = 0;
		while (p && sscanf(p + strlen(prefix), "%u objects held by core, caps quota %u, used %u", &objects, &quota,
				   &used) != 3)
			p = strstr(p + 1, prefix);
		if (!p || objects > 16 || quota != 16 || used != 16) {
			run_dump(&r);
			fail_msg("fill_%d: %u objects, caps quota %u, used %u", i, objects, quota, used);
		}
		snprintf(prefix, sizeof(prefix), "core: fill_%d: caps quota used up", i);
		EXPECT(&r, prefix);
	}
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);

	/* Core's space (grown to its largest) is the budget of the scenario's caps. */
	run_scenario_text(&r,
			  "<scenario>\n  <component name=\"a\" binary=\"hello_client\" caps=\"65000\"/>\n"
			  "  <component name=\"b\" binary=\"hello_client\" caps=\"1000\"/>\n</scenario>\n",
			  10);
	EXPECT(&r, ":1: the components' caps together need 66010 slots of core's capability space, which has 65472");
	assert_int_equal(r.status, 1);
	run_free(&r);
}

static void init_start_sets_log_rate(void **state)
{
	(void)state;
	struct run r;
	/* 8 threads x 40 lines of two units each: 640 units at 200 a second,
	 * 200 at once: at least 2.2 s. Without the start's log_rate it is the
	 * default 1000, and the flood takes no time. */
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"100\" ram=\"8M\">\n"
			  "    <config>\n"
			  "      <default-route> <any-service><parent/></any-service> </default-route>\n"
			  "      <start name=\"test_log_flood\" caps=\"64\" ram=\"2M\" log_rate=\"200\">\n"
			  "        <config><flood lines=\"40\"/></config>\n"
			  "      </start>\n"
			  "    </config>\n"
			  "  </component>\n" VICTIMS "</scenario>\n",
			  60);
	EXPECT_CLEAN(&r);
	EXPECT(&r, "[init -> test_log_flood] flood: done");
	EXPECT_NOT(&r, "dropped");
	const char *took = strstr(r.output, "[init -> test_log_flood] flood: took ");
	long ms = took ? strtol(took + strlen("[init -> test_log_flood] flood: took "), NULL, 10) : -1;
	if (ms < 2000) {
		run_dump(&r);
		fail_msg("the flood took %ld ms: the start's log_rate did not hold it back", ms);
	}
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);

	/* A parent cannot give a child more than it has. */
	run_scenario_text(&r,
			  "<scenario>\n  <component name=\"init\" log_rate=\"100\" cpu_weight=\"50\">\n    <config>\n"
			  "      <start name=\"a\" log_rate=\"101\"><binary name=\"hello_client\"/></start>\n"
			  "    </config>\n  </component>\n</scenario>\n",
			  10);
	EXPECT(&r, ":4: log_rate 101 is more than init's own 100");
	assert_int_equal(r.status, 1);
	run_free(&r);
	run_scenario_text(&r,
			  "<scenario>\n  <component name=\"init\" cpu_weight=\"50\">\n    <config>\n"
			  "      <start name=\"a\" cpu_weight=\"51\"><binary name=\"hello_client\"/></start>\n"
			  "    </config>\n  </component>\n</scenario>\n",
			  10);
	EXPECT(&r, ":4: cpu_weight 51 is more than init's own 50");
	assert_int_equal(r.status, 1);
	run_free(&r);
}

#define VICTIM_XML "  <component name=\"test_cpu_victim\"><config><work rounds=\"400\" delay=\"300\"/></config></component>\n"

/* The victim's time in ms, -1 if it did not say. */
static long victim_ms(const char *spinner_attrs)
{
	char xml[1024];
	snprintf(xml, sizeof(xml),
		 "<scenario>\n%s%s%s" VICTIM_XML "</scenario>\n",
		 spinner_attrs ? "  <component name=\"test_spin\" caps=\"128\" ram=\"8M\" " : "",
		 spinner_attrs ? spinner_attrs : "",
		 spinner_attrs ? "><config><spin threads=\"16\" ms=\"4000\"/></config></component>\n" : "");
	struct run r;
	run_scenario_text(&r, xml, 60);
	EXPECT_CLEAN(&r);
	EXPECT(&r, "core: test_cpu_victim exited with code 0");
	if (spinner_attrs)
		EXPECT(&r, "[test_spin] spin: done");
	if (!getenv("AMBER_NO_CGROUP"))
		EXPECT_NOT(&r, "core: CPU shares: no writable cgroup");
	else
		EXPECT(&r, "core: CPU shares: no writable cgroup CPU controller");
	const char *p = strstr(r.output, "[test_cpu_victim] victim: took ");
	long ms = p ? strtol(p + strlen("[test_cpu_victim] victim: took "), NULL, 10) : -1;
	assert_int_equal(r.status, 0);
	run_free(&r);
	return ms;
}

static void cpu_is_shared_per_component(void **state)
{
	(void)state;
	/* Whether cgroups are there: a scenario says so. */
	struct run probe;
	run_scenario_text(&probe, "<scenario>\n  <component name=\"hello_client\"/>\n</scenario>\n", 20);
	bool cgroups = !run_has(&probe, "core: CPU shares: no writable cgroup");
	run_free(&probe);

	long alone = victim_ms(NULL);
	assert_true(alone > 0);
	if (cgroups) {
		/* Default weights: the spinner's 16 threads get one component's share. */
		long spun = victim_ms("");
		fprintf(stderr, "victim alone %ld ms, next to 16 spinning threads %ld ms\n", alone, spun);
		if (spun < 0 || spun > 4 * alone + 300)
			fail_msg("the victim took %ld ms next to the spinner, %ld ms alone", spun, alone);
	} else {
		fprintf(stderr, "no writable cgroup CPU controller here: only the nice fallback is checked\n");
	}
	/* Without cgroups: a spinner marked cpu_weight="1" runs at nice 19. */
	setenv("AMBER_NO_CGROUP", "1", 1);
	long low = victim_ms("cpu_weight=\"1\"");
	unsetenv("AMBER_NO_CGROUP");
	fprintf(stderr, "victim alone %ld ms, next to 16 spinning threads at cpu_weight 1 (nice) %ld ms\n", alone, low);
	if (low < 0 || low > 4 * alone + 300)
		fail_msg("the victim took %ld ms next to a low-weight spinner, %ld ms alone", low, alone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(squatter_cannot_take_a_name),
		cmocka_unit_test(provides_is_checked),
		cmocka_unit_test(routes_are_enforced),
		cmocka_unit_test(routes_are_checked),
		cmocka_unit_test(init_service_table_is_per_child),
		cmocka_unit_test(core_space_is_paid_from_caps),
		cmocka_unit_test(init_start_sets_log_rate),
		cmocka_unit_test(cpu_is_shared_per_component),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
