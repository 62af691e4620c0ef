/*
 * Managed dataspaces (RM CREATE_MANAGED) end to end: test_managed checks
 * them from inside a component (scenarios/managed.xml) and leaves maps,
 * sub-attachments and attachments for core to release at its end; under
 * `make SAN=1` that must leave no sanitizer report (leaks included).
 * Region-map faults in a managed dataspace (test_rm_fault): READ, WRITE
 * and EXEC, reported to the map's own handler and resumed by its ATTACH
 * alone, and a thread held in a WRITE fault across a checkpoint --kill and
 * a restore (the map's handler restored with it).
 */
#include <signal.h>
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

static char img[128], scenario[128];

static int setup(void **state)
{
	(void)state;
	snprintf(img, sizeof(img), "/tmp/amber-test-managed-%d", (int)getpid());
	snprintf(scenario, sizeof(scenario), "/tmp/amber-test-managed-%d.xml", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	harness_remove_tree(img);
	unlink(scenario);
	return 0;
}

/* A new file renamed over the old one: a reload never reads half of it. */
static void write_scenario(const char *config)
{
	char tmp[sizeof(scenario) + 4];
	snprintf(tmp, sizeof(tmp), "%s.new", scenario);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "<scenario>\n  <component name=\"test_rm_fault\" ram=\"2M\"><config>%s</config></component>\n"
		   "</scenario>\n", config);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, scenario), 0);
}

static void live_expect(struct live_core *lc, const char *text, int seconds)
{
	if (!live_wait_for(lc, text, seconds)) {
		run_dump(&lc->r);
		fail_msg("missing: %s", text);
	}
}

static void managed_end_to_end(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/managed.xml", 60);
	EXPECT_SELF_CHECKS(&r, "test_managed", 40);
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT(&r, "core: test_managed: released 0 threads, 3 dataspaces");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void rm_faults_of_each_kind(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/rm_fault.xml", 60);
	EXPECT_SELF_CHECKS(&r, "test_rm_fault", 51);
	EXPECT(&r, "[test_rm_fault] ok: no fault went to the component's RM SIGH");
	EXPECT(&r, "[test_rm_fault] ok: its first fault said READ");
	EXPECT(&r, "[test_rm_fault] a write to a read-only page");
	EXPECT(&r, "[test_rm_fault] a call into a page that is not executable");
	EXPECT(&r, "[test_rm_fault] a read of a page the map has nothing at");
	EXPECT_NOT(&r, "killed");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* Held in a WRITE fault at the checkpoint (the image says so), the thread
 * is held again after the restore, and goes on once the restored
 * component resolves the fault (a new config, by SIGHUP, tells it to). */
static void held_write_fault_survives_cr(void **state)
{
	(void)state;
	static struct live_core lc;
	write_scenario("<rm park=\"1\"/>");
	if (!live_start(&lc, scenario, NULL, NULL, "[test_rm_fault] rm_fault: a thread is held in a WRITE fault", 120)) {
		run_dump(&lc.r);
		fail_msg("test_rm_fault did not park its write");
	}
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "--kill", "test_rm_fault", img, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "checkpointed"));
	cli_run_free(&r);
	amber(&r, "inspect", img, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "fault held") && strstr(r.out, "RM fault sig 11") &&
			       strstr(r.out, "(write)"));
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "restore", img, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored"));
	cli_run_free(&r);
	write_scenario("<rm park=\"1\" go=\"1\"/>");
	kill(lc.pid, SIGHUP);
	live_expect(&lc, "core: reload: config of test_rm_fault changed", 60);
	live_expect(&lc, "core: test_rm_fault exited with code 0", 120);
	EXPECT(&lc.r, "[test_rm_fault] ok: the write is still held");
	EXPECT(&lc.r, "[test_rm_fault] ok: it reports the held write");
	EXPECT(&lc.r, "[test_rm_fault] ok: the component's own FAULT_STATE has none");
	EXPECT(&lc.r, "[test_rm_fault] ok: no fault went to the component's RM SIGH");
	EXPECT(&lc.r, "[test_rm_fault] ok: the held write completes");
	EXPECT(&lc.r, "[test_rm_fault] ok: it went through");
	EXPECT_NOT(&lc.r, "FAIL");
	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(managed_end_to_end),
		cmocka_unit_test(rm_faults_of_each_kind),
		cmocka_unit_test_setup_teardown(held_write_fault_survives_cr, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("integration: managed dataspaces", tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
