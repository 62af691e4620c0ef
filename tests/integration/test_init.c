/*
 * init end to end (components/init, core/child.c, core/init_config.c):
 * children with routes, a denied route, a crashing child, quotas, and
 * malformed init configurations that core refuses with a line number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "harness.h"

#define ROUTE_TO_SERVER                                                                            \
	"<route><service name=\"hello\"><child name=\"hello_server\"/></service>"                 \
	"<any-service><parent/></any-service></route>"

static void demo_pair_under_init(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/init_demo.xml", 30);
	EXPECT(&r, "[init] child hello_server announces service 'hello'");
	EXPECT(&r, "[init -> hello_client] got a session to \"hello\"");
	EXPECT(&r, "[init -> hello_server] add(2, 3) = 5");
	EXPECT(&r, "[init -> hello_client] irq woke me (3/3)");
	EXPECT(&r, "[init -> hello_client] done (0 failures)");
	EXPECT(&r, "core: init -> hello_client exited with code 0");
	EXPECT(&r, "[init] child hello_client exited with code 0");
	EXPECT(&r, "[init] child hello_server exited with code 0");
	EXPECT(&r, "[init] all children have ended");
	EXPECT(&r, "core: init exited with code 0");
	EXPECT_NOT(&r, "FAIL");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* The client starts first: its request waits in init until the server
 * announces. Core's services for the children (ROM: the child's <config>
 * from its <start>) come through init from core. */
static void deferred_session_and_child_config(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"100\" ram=\"8M\">\n"
			  "    <config>\n"
			  "      <start name=\"hello_client\" caps=\"16\" ram=\"1M\">" ROUTE_TO_SERVER "</start>\n"
			  "      <start name=\"hello_server\" caps=\"16\" ram=\"1M\"/>\n"
			  "      <start name=\"rom\" caps=\"16\" ram=\"1M\"><binary name=\"test_rom\"/>\n"
			  "        <config><greeting text=\"second\"/></config>\n"
			  "        <route><any-service><parent/></any-service></route></start>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "[init -> hello_client] done (0 failures)");
	EXPECT(&r, "[init -> rom] config (");
	EXPECT(&r, "[init -> rom] done:");
	EXPECT(&r, " 0 failed");
	EXPECT(&r, "[init] child rom exited with code 0");
	EXPECT(&r, "[init] all children have ended");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* A request no route allows is refused; init says why; the others go on. */
static void denied_route(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"100\" ram=\"8M\">\n"
			  "    <config>\n"
			  "      <start name=\"hello_server\" caps=\"16\" ram=\"1M\"/>\n"
			  "      <start name=\"denied\" caps=\"16\" ram=\"1M\"><binary name=\"hello_client\"/>\n"
			  "        <route><service name=\"PD\"><parent/></service></route></start>\n"
			  "      <start name=\"hello_client\" caps=\"16\" ram=\"1M\">" ROUTE_TO_SERVER "</start>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "[init] denied: child denied asked for service 'hello', which no route of it allows");
	EXPECT(&r, "[init -> denied] FAIL: session \"hello\"");
	EXPECT(&r, "[init] child denied exited with code 1");
	EXPECT(&r, "[init -> hello_client] done (0 failures)");
	EXPECT(&r, "[init] child hello_server exited with code 0");
	EXPECT(&r, "core: init exited with code 0");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void crashing_child_is_reported(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"100\" ram=\"8M\">\n"
			  "    <config>\n"
			  "      <start name=\"test_crash\" caps=\"16\" ram=\"1M\"/>\n"
			  "      <start name=\"hello_server\" caps=\"16\" ram=\"1M\"/>\n"
			  "      <start name=\"hello_client\" caps=\"16\" ram=\"1M\">" ROUTE_TO_SERVER "</start>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "core: init -> test_crash killed:");
	EXPECT(&r, "[init] child test_crash crashed:");
	EXPECT(&r, "0x10");
	EXPECT(&r, "[init -> hello_client] done (0 failures)");
	EXPECT(&r, "[init] child hello_server exited with code 0");
	EXPECT(&r, "core: init exited with code 0");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* Quotas: core refuses a configuration whose children need more than init
 * has; at run time, what init used itself leaves too little for the last
 * child, and init reports it. */
static void quotas(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"40\" ram=\"8M\">\n"
			  "    <config>\n"
			  "      <start name=\"hello_server\" caps=\"20\"/>\n"
			  "      <start name=\"hello_client\" caps=\"21\"/>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  10);
	EXPECT(&r, ":5: the children need 53 caps (with 6 each for what core keeps for a child), more than init's 40");
	EXPECT_NOT(&r, "[init");
	assert_int_equal(r.status, 1);
	run_free(&r);

	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" ram=\"2M\">\n"
			  "    <config>\n"
			  "      <start name=\"hello_server\" caps=\"8\" ram=\"1M\"/>\n"
			  "      <start name=\"hello_client\" caps=\"8\" ram=\"1200K\"/>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  10);
	EXPECT(&r, ":5: the children need 2224 KiB of RAM, more than init's 2048 KiB");
	assert_int_equal(r.status, 1);
	run_free(&r);

	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" ram=\"2M\">\n"
			  "    <config>\n"
			  "      <start name=\"hello_server\" caps=\"8\" ram=\"1M\"/>\n"
			  "      <start name=\"hello_client\" caps=\"8\" ram=\"1M\"/>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  2);
	EXPECT(&r, "[init] cannot create child hello_client: not enough caps or RAM left in init's quota");
	EXPECT(&r, "[init -> hello_server] announced service");
	EXPECT(&r, "core: init -> hello_server killed: timeout");
	assert_int_equal(r.status, 2);
	run_free(&r);
}

/* Each malformed configuration: core's error names the line; nothing runs. */
static void malformed_configs(void **state)
{
	(void)state;
	static const struct {
		const char *config, *error;
	} cases[] = {
		{ "<start name=\"a\"><binary name=\"hello_server\"/>\n<bogus/></start>", ":4: unexpected element <bogus> in <start>" },
		{ "<start name=\"a\" colour=\"red\"/>", ":3: unknown attribute 'colour' of <start>" },
		{ "<start name=\"hello_server\"/>\n<start name=\"hello_server\"/>", ":4: duplicate start name 'hello_server'" },
		{ "<start name=\"hello_client\">\n<route><service name=\"hello\"><child name=\"nobody\"/></service></route>\n</start>",
		  ":4: route to unknown child 'nobody'" },
		{ "<start name=\"a\"><route>\n<any-service><child name=\"a\"/></any-service></route></start>",
		  ":4: child 'a' routes to itself" },
		{ "<start name=\"a\"><route>\n<any-service/></route></start>", ":4: <any-service> needs a target" },
		{ "<start name=\"a\"><route><service name=\"x\"><parent/>\n<parent/></service></route></start>",
		  ":4: <service> has more than one target" },
		{ "<start name=\"A b\"/>", ":3: <start> name 'A b': the name has a character other than a-z 0-9 _ - ." },
		{ "<start name=\".a\"/>", ":3: <start> name '.a': the name starts with a dot" },
		{ "<start name=\"a\" ram=\"lots\"/>", ":3: ram must be a size" },
		{ "<default-route/>\n<default-route/>", ":4: more than one <default-route>" },
		{ "<start name=\"a\"><binary name=\"../x\"/></start>", ":3: <binary> needs the name of a file" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char xml[1024];
		snprintf(xml, sizeof(xml),
			 "<scenario>\n"
			 "  <component name=\"init\" caps=\"200\" ram=\"64M\"><config>\n"
			 "%s\n"
			 "  </config></component>\n"
			 "</scenario>\n",
			 cases[i].config);
		struct run r;
		run_scenario_text(&r, xml, 10);
		EXPECT(&r, cases[i].error);
		EXPECT_NOT(&r, "[init");
		assert_int_equal(r.status, 1);
		run_free(&r);
	}
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"init\"/>\n</scenario>\n", 10);
	EXPECT(&r, ":2: init needs a <config>");
	assert_int_equal(r.status, 1);
	run_free(&r);
}

/* A start that fails fails the run, also a child's (status 1); a child's
 * non-zero exit or crash fails it only with --strict (status 4). */
static void exit_status_reports_failures(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"64\" ram=\"4M\"><config>\n"
			  "    <start name=\"gone\" caps=\"16\" ram=\"1M\"><binary name=\"no_such_binary\"/></start>\n"
			  "  </config></component>\n"
			  "</scenario>\n",
			  20);
	EXPECT(&r, "core: init: cannot create child 'gone': no binary 'no_such_binary'");
	EXPECT(&r, "[init] all children have ended");
	assert_int_equal(r.status, 1);
	run_free(&r);

	static const char exits[] = "<scenario>\n"
				    "  <component name=\"init\" caps=\"64\" ram=\"4M\"><config>\n"
				    "    <start name=\"three\" caps=\"16\" ram=\"1M\"><binary name=\"test_exit\"/></start>\n"
				    "  </config></component>\n"
				    "</scenario>\n";
	run_scenario_text(&r, exits, 20);
	EXPECT(&r, "[init] child three exited with code 3");
	assert_int_equal(r.status, 0);
	run_free(&r);
	run_scenario_text_opt(&r, exits, "--strict", 20);
	EXPECT(&r, "[init] child three exited with code 3");
	EXPECT(&r, "core: init exited with code 0");
	assert_int_equal(r.status, 4);
	run_free(&r);

	static const char crash[] = "<scenario>\n"
				    "  <component name=\"crash\" binary=\"test_crash\"/>\n"
				    "</scenario>\n";
	run_scenario_text_opt(&r, crash, "--strict", 20);
	EXPECT(&r, "core: crash killed:");
	assert_int_equal(r.status, 4);
	run_free(&r);

	static const char fine[] = "<scenario>\n"
				   "  <component name=\"sheep\" binary=\"sheep_counter\"/>\n"
				   "</scenario>\n";
	run_scenario_text_opt(&r, fine, "--strict", 20);
	EXPECT(&r, "core: sheep exited with code 0");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* Genode names have dots: the names reach the children's labels, and a
 * route to a dotted name works. */
static void dotted_names(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"100\" ram=\"8M\"><config>\n"
			  "    <start name=\"hello.client\" caps=\"16\" ram=\"1M\"><binary name=\"hello_client\"/>\n"
			  "      <route><service name=\"hello\"><child name=\"hello.server\"/></service>\n"
			  "        <any-service><parent/></any-service></route></start>\n"
			  "    <start name=\"hello.server\" caps=\"16\" ram=\"1M\"><binary name=\"hello_server\"/>\n"
			  "      <route><any-service><parent/></any-service></route></start>\n"
			  "  </config></component>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "[init] child hello.server announces service 'hello'");
	EXPECT(&r, "[init -> hello.client] done (0 failures)");
	EXPECT(&r, "[init] all children have ended");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_pair_under_init),
		cmocka_unit_test(deferred_session_and_child_config),
		cmocka_unit_test(denied_route),
		cmocka_unit_test(crashing_child_is_reported),
		cmocka_unit_test(quotas),
		cmocka_unit_test(malformed_configs),
		cmocka_unit_test(exit_status_reports_failures),
		cmocka_unit_test(dotted_names),
	};
	return cmocka_run_group_tests_name("integration: init", tests, NULL, NULL);
}
