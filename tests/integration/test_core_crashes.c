/*
 * Tracker issue 10, "Core crashes": a component attacks core through its
 * ordinary interfaces while well-behaved victims run next to it
 * (example_threads, whose output is deterministic, and the hello pair).
 * amber-core must survive, and the victims' output must be complete and
 * the same as when example_threads runs alone.
 *
 * - CPU sessions closed while their threads exit (components/
 *   test_close_race): the close and the exit path once both tore the
 *   same thread down, a use-after-free that aborted amber-core.
 * - Session requests nobody waits for (components/test_session_flood,
 *   caps="1" ram="64K"): SESSION sent with SEND once left a record in core
 *   each; amber-core's memory must not grow while it floods.
 * - A parent that revokes the gate it gave its child (components/
 *   test_child_gate, found by components/hostile_fuzzer): core kept the
 *   child's parent gate by slot, reused the emptied slot for another
 *   object and deleted that object when the child ended (a use-after-free
 *   of a thread) or made it the started child's parent capability.
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

#include <cmocka.h>

#include "harness.h"

static void cpu_close_while_threads_exit(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/close_race.xml", 60);
	EXPECT(&r, "[test_close_race] race: 1500 rounds done");
	EXPECT_SELF_CHECKS(&r, "test_close_race", 8);
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* amber-core's resident memory in KiB, or -1. */
static long rss_kib(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

struct rss_watch {
	long before, after; /* KiB when the flood starts / has been sent */
};

static bool watch_flood(int pid, const struct run *r, void *arg)
{
	struct rss_watch *w = arg;
	if (w->before < 0 && run_has(r, "[test_session_flood] flood: sending"))
		w->before = rss_kib(pid);
	if (w->before >= 0 && run_has(r, "[test_session_flood] flood: sent")) {
		w->after = rss_kib(pid);
		return true;
	}
	return false;
}

static void session_requests_nobody_waits_for(void **state)
{
	(void)state;
	struct run r;
	struct rss_watch w = { -1, -1 };
	run_scenario_with_action(&r, "scenarios/session_flood.xml", 60, watch_flood, &w);
	EXPECT(&r, "[test_session_flood] flood: sent 200000 session requests");
	EXPECT_SELF_CHECKS(&r, "test_session_flood", 10);
	/* The threads that waited at its end went with it. */
	EXPECT(&r, "core: test_session_flood: released 3 threads");
	expect_victims_intact(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
	/* 200000 records would be tens of MiB. */
	assert_true(w.before > 0 && w.after > 0);
	if (w.after - w.before > 4096)
		fail_msg("amber-core grew by %ld KiB during the flood", w.after - w.before);
}

static void parent_revokes_its_childs_gate(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_child_gate\" caps=\"128\" ram=\"32M\"/>\n</scenario>\n",
			  60);
	EXPECT(&r, "core: cannot start test_child_gate -> refused: its parent gate was revoked");
	EXPECT_SELF_CHECKS(&r, "test_child_gate", 30);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpu_close_while_threads_exit),
		cmocka_unit_test(session_requests_nobody_waits_for),
		cmocka_unit_test(parent_revokes_its_childs_gate),
	};
	return cmocka_run_group_tests_name("integration: core crashes (issue 10)", tests, NULL, NULL);
}
