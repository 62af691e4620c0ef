/*
 * Core's PD, CPU and RM sessions end to end, under a real amber-core:
 * test_sessions checks them from inside a component (scenarios/
 * sessions.xml); a component that dies holding threads, attachments, a
 * dataspace another component has attached and RPC capabilities is
 * cleaned up while the others keep running; a first thread that exits
 * alone is cleaned up alone; the scenario's `ram` attribute is checked and
 * enforced. Under `make SAN=1` every run must also end without a
 * sanitizer report (leaks included).
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

static void sessions_end_to_end(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/sessions.xml", 60);
	EXPECT_SELF_CHECKS(&r, "test_sessions", 150);
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT(&r, "core: hello_server exited with code 0");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void dying_component_is_cleaned_up(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"test_session_crash\" ram=\"1M\"><provides><service name=\"ramshare\"/></provides></component>\n"
			  "  <component name=\"test_session_peer\"/>\n" HELLO_PAIR "</scenario>\n",
			  60);
	EXPECT(&r, "[test_session_crash] crash: ready with 5 threads");
	EXPECT(&r, "core: test_session_crash killed: SIGSEGV at 0x10");
	/* spinning, waiting in IPC, paused, never started; heap chunks,
	 * stacks, a dataspace attached twice here and once in the peer */
	EXPECT(&r, "core: test_session_crash: released 4 threads, 6 dataspaces");
	EXPECT(&r, "7 attachments, 1 RPC capability");
	EXPECT(&r, "[test_session_peer] ok: core revoked the dead owner's dataspace");
	EXPECT(&r, "[test_session_peer] done: 10 ok, 0 failed");
	EXPECT(&r, "core: test_session_peer exited with code 0");
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void first_thread_exits_alone(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_thread_exit\"/>\n" HELLO_PAIR "</scenario>\n", 60);
	EXPECT(&r, "[test_thread_exit] first thread: leaving");
	EXPECT(&r, "[test_thread_exit] ok: core revoked the ended first thread");
	EXPECT(&r, "[test_thread_exit] done: 6 ok, 0 failed");
	EXPECT(&r, "core: test_thread_exit exited with code 0");
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void ram_quota_from_the_scenario(void **state)
{
	(void)state;
	struct run r;
	/* Enough for two thread stacks, or a stack and a heap chunk. */
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_thread_exit\" ram=\"256K\"/>\n</scenario>\n", 60);
	EXPECT(&r, "[test_thread_exit] done: 6 ok, 0 failed");
	EXPECT_CLEAN(&r);
	run_free(&r);
	/* The second thread's stack (64 KiB and a page for its TLS area)
	 * takes all of it: the heap gets nothing and the next stack is
	 * refused. */
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_thread_exit\" ram=\"68K\"/>\n</scenario>\n", 60);
	EXPECT(&r, "[test_thread_exit] FAIL: the heap still works");
	EXPECT(&r, "[test_thread_exit] FAIL: a new thread can be created (got QUOTA(-10)");
	EXPECT(&r, "core: test_thread_exit exited with code 2");
	EXPECT_CLEAN(&r);
	run_free(&r);

	static const char *const bad[] = { "lots", "0", "17G", "4X", "-1M", "", "4 M", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char xml[256];
		snprintf(xml, sizeof(xml), "<scenario>\n  <component name=\"hello_server\" ram=\"%s\"><provides><service name=\"hello\"/></provides></component>\n</scenario>\n",
			 bad[i]);
		run_scenario_text(&r, xml, 10);
		if (r.status != 1 || !run_has(&r, ":2: ram must be a size")) {
			run_dump(&r);
			run_free(&r);
			fail_msg("ram=\"%s\" was not rejected", bad[i]);
		}
		run_free(&r);
	}
}

/* LOG lines are assembled per thread (components/test_log_lines): a
 * thread's writes continue its own line only, two threads' long lines
 * never mix, and a line over 1024 bytes is printed in pieces of at most
 * 1024 bytes, cut between two writes (amber_log writes 496 bytes at most:
 * pieces of 992). */
static void log_lines_per_thread(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"lines\" binary=\"test_log_lines\" caps=\"64\" ram=\"2M\"/>\n</scenario>\n",
			  30);
	EXPECT(&r, "[lines] abcdef");
	EXPECT(&r, "[lines] worker line");
	EXPECT(&r, "[lines] unfinished by main and finished");
	const char *left = strstr(r.output, "[lines] left unfinished\n");
	const char *after = strstr(r.output, "[lines] after the unfinished one\n");
	assert_non_null(left);
	assert_non_null(after);
	assert_true(left < after); /* printed when its thread ended, before the join returned */
	EXPECT(&r, "[lines] lines: done");
	size_t total[3] = { 0, 0, 0 }, pieces_x = 0;
	const char *kinds = "ABx";
	for (const char *p = r.output; (p = strstr(p, "[lines] ")) != NULL;) {
		p += strlen("[lines] ");
		size_t len = strcspn(p, "\n");
		const char *k = strchr(kinds, *p);
		if (k && len > 0) {
			size_t same = strspn(p, (char[]){ *p, 0 });
			if (same != len) {
				run_dump(&r);
				fail_msg("a line mixes writes: %.*s", (int)(len < 80 ? len : 80), p);
			}
			assert_true(len <= 1024);
			total[k - kinds] += len;
			pieces_x += *p == 'x';
			if (*p == 'x' && len != 992 && len != 2500 - 2 * 992) {
				run_dump(&r);
				fail_msg("a piece of the long line of %zu bytes, not cut between two writes", len);
			}
		}
		p += len;
	}
	assert_int_equal(total[0], 30000);
	assert_int_equal(total[1], 30000);
	assert_int_equal(total[2], 2500);
	assert_int_equal(pieces_x, 3);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sessions_end_to_end),
		cmocka_unit_test(dying_component_is_cleaned_up),
		cmocka_unit_test(first_thread_exits_alone),
		cmocka_unit_test(ram_quota_from_the_scenario),
		cmocka_unit_test(log_lines_per_thread),
	};
	return cmocka_run_group_tests_name("integration: core sessions", tests, NULL, NULL);
}
