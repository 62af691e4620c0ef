/*
 * Signals and the Timer session end to end, under a real amber-core:
 * test_signals checks them from inside a component, with test_signal_peer
 * submitting from another one (scenarios/signals.xml); sheep_counter counts
 * to ten on a periodic timer (scenarios/sheep_counter.xml); a component
 * that dies with a signal receiver, pending signals, a context another
 * component holds and running timeouts is cleaned up while the others keep
 * running. Under `make SAN=1` every run must also end without a sanitizer
 * report (leaks included).
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

#define SHEEP_MAX 10

/* "[sheep_counter] 1 sheep" .. "10 sheep", each once and in order. */
static void expect_sheep(struct run *r)
{
	const char *at = r->output;
	for (int i = 1; i <= SHEEP_MAX; i++) {
		char line[64];
		snprintf(line, sizeof(line), "[sheep_counter] %d sheep", i);
		size_t len = strlen(line);
		line[len] = '\n'; /* the whole line, for strstr */
		line[len + 1] = '\0';
		const char *p = strstr(at, line);
		line[len] = '\0';
		if (!p || run_count(r, line) != 1) {
			run_dump(r);
			run_free(r);
			fail_msg("'%d sheep' missing, repeated or out of order", i);
		}
		at = p + len + 1;
	}
	EXPECT_NOT(r, "[sheep_counter] 11 sheep");
	EXPECT(r, "[sheep_counter] sheep_counter: done, 10 sheep");
	EXPECT(r, "core: sheep_counter exited with code 0");
}

static void signals_end_to_end(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/signals.xml", 60);
	EXPECT_SELF_CHECKS(&r, "test_signals", 150);
	EXPECT(&r, "[test_signal_peer] done: 2 ok, 0 failed");
	EXPECT(&r, "core: test_signal_peer exited with code 0");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void sheep_counter_counts(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/sheep_counter.xml", 30);
	expect_sheep(&r);
	EXPECT_NOT(&r, "core: sheep_counter: released"); /* it cleaned up after itself */
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void dying_component_is_cleaned_up(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"test_signal_crash\"/>\n"
			  "  <component name=\"test_signal_peer\"><provides><service name=\"sigpeer\"/></provides></component>\n"
			  "  <component name=\"sheep_counter\"/>\n"
			  "  <component name=\"hello_server\" caps=\"16\"><provides><service name=\"hello\"/></provides></component>\n"
			  "  <component name=\"hello_client\" caps=\"16\"/>\n"
			  "</scenario>\n",
			  60);
	EXPECT(&r, "[test_signal_crash] crash: ready:");
	EXPECT(&r, "core: test_signal_crash killed: SIGSEGV at 0x10");
	/* the receiver's, the raw one on the first thread, the sleeper's;
	 * three receiver contexts, the raw one, the sleeper's */
	EXPECT(&r, "core: test_signal_crash: released 3 signal sources, 5 signal contexts");
	EXPECT(&r, "[test_signal_peer] ok: a submit to the held context works while its owner lives");
	EXPECT(&r, "[test_signal_peer] ok: core revoked the dead component's signal context");
	EXPECT(&r, "[test_signal_peer] done: 7 ok, 0 failed");
	EXPECT(&r, "core: test_signal_peer exited with code 0");
	expect_sheep(&r);
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* Timeouts near UINT64_MAX microseconds (Timer one-shot and periodic,
 * the kernel's IPC receive timeouts) do not fire within 300 ms; ordinary
 * ones still do (components/test_timeouts checks itself). */
static void huge_timeouts_do_not_fire(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_timeouts\" caps=\"32\"/>\n</scenario>\n", 30);
	EXPECT_SELF_CHECKS(&r, "test_timeouts", 42);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signals_end_to_end),
		cmocka_unit_test(sheep_counter_counts),
		cmocka_unit_test(dying_component_is_cleaned_up),
		cmocka_unit_test(huge_timeouts_do_not_fire),
	};
	return cmocka_run_group_tests_name("integration: signals and timer", tests, NULL, NULL);
}
