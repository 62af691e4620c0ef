/*
 * Core's ROM service end to end, under a real amber-core: two instances of
 * test_rom read their own <config> and a binary module (scenarios/rom.xml);
 * one without a <config> is refused its config ROM; test_rom_write writes
 * to its read-only config and is ended with a fault while the others run
 * on (scenarios/rom_write.xml); malformed <config> nodes are rejected with
 * their line. Under `make SAN=1` every run must also end without a
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

static void each_component_reads_its_own_config(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/rom.xml", 60);
	EXPECT(&r, "[test_rom] ok: the config is the first component's");
	EXPECT(&r, "[test_rom_second] ok: the config is the second component's");
	EXPECT(&r, "[test_rom] config (117 bytes): <greeting text=\"hello &amp; welcome\"/>");
	EXPECT(&r, "[test_rom_second] config (25 bytes): <greeting text=\"second\"/>");
	EXPECT(&r, "[test_rom] ok: it starts with the ELF magic");
	EXPECT(&r, "[test_rom] ok: attach the config ROM writable -> RIGHTS");
	EXPECT(&r, "[test_rom] ok: ROM '../hello_server' -> INVALID_ARG");
	EXPECT(&r, "core: test_rom: ROM session '../hello_server' refused: not a valid module name");
	EXPECT(&r, "core: test_rom: ROM session 'no_such_module' refused: no such module");
	EXPECT(&r, "[test_rom] done:");
	EXPECT(&r, "[test_rom_second] done:");
	EXPECT_NOT(&r, "FAIL");
	EXPECT(&r, "core: test_rom exited with code 0");
	EXPECT(&r, "core: test_rom_second exited with code 0");
	/* config twice (one detached, one kept by amber_rom_config), the
	 * binary, and amber_rom_config's own session */
	EXPECT(&r, "core: test_rom: released 0 threads, 0 dataspaces (0 KiB), 1 attachment, 0 RPC capabilities, 4 ROM modules");
	EXPECT_CLEAN(&r);
	EXPECT_CHECKS(&r, "test_rom", 60);
	EXPECT_CHECKS(&r, "test_rom_second", 60);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void no_config_no_config_rom(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_rom_none\" binary=\"test_rom\"/>\n</scenario>\n", 60);
	EXPECT(&r, "[test_rom_none] ok: no <config>: the config ROM is refused");
	EXPECT(&r, "[test_rom_none] ok: and amber_rom_config says so too");
	EXPECT(&r, "core: test_rom_none: ROM session 'config' refused: the scenario gives the component no <config>");
	EXPECT(&r, "[test_rom_none] ok: it starts with the ELF magic");
	EXPECT_NOT(&r, "FAIL");
	EXPECT(&r, "core: test_rom_none exited with code 0");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void writing_to_a_rom_faults(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/rom_write.xml", 60);
	EXPECT(&r, "[test_rom_write] config: <readonly/>");
	const char *at = strstr(r.output, "[test_rom_write] writing to the config ROM at 0x");
	if (!at) {
		run_dump(&r);
		run_free(&r);
		fail_msg("test_rom_write did not say where it writes");
	}
	unsigned long long addr = strtoull(at + strlen("[test_rom_write] writing to the config ROM at "), NULL, 16);
	char killed[128];
	snprintf(killed, sizeof(killed), "core: test_rom_write killed: SIGSEGV at 0x%llx (ip", addr);
	EXPECT(&r, killed);
	EXPECT(&r, "core: test_rom_write: released 0 threads, 0 dataspaces (0 KiB), 1 attachment, 0 RPC capabilities, 1 ROM module");
	EXPECT_NOT(&r, "did not fault");
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT(&r, "core: hello_server exited with code 0");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void malformed_configs_are_rejected_with_a_line(void **state)
{
	(void)state;
	static const struct {
		const char *xml, *expect;
	} cases[] = {
		{ "<scenario>\n  <component name=\"a\">\n    <config/>\n    <config/>\n  </component>\n</scenario>\n",
		  ":4: more than one <config> in component 'a'" },
		{ "<scenario>\n  <component name=\"a\">\n    <config mode=\"x\"/>\n  </component>\n</scenario>\n",
		  ":3: unknown attribute 'mode' of <config>" },
		{ "<scenario>\n  <component name=\"a\">\n    <start/>\n  </component>\n</scenario>\n",
		  ":3: unexpected element 'start' in <component>" },
		{ "<scenario>\n  <component name=\"a\">\n\n    hello\n  </component>\n</scenario>\n",
		  ":4: unexpected content in <component>" },
		{ "<scenario>\n  <component name=\"a\"><![CDATA[x]]></component>\n</scenario>\n",
		  ":2: unexpected content in <component>" },
		/* not well-formed: libxml2's message, with the line */
		{ "<scenario>\n  <component name=\"a\">\n    <config>\n  </component>\n</scenario>\n", ":4:" },
		{ "<scenario>\n  <component name=\"a\">\n    <config><x></config>\n  </component>\n</scenario>\n",
		  ":3:" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		run_scenario_text(&r, cases[i].xml, 10);
		if (r.status != 1 || !run_has(&r, "amber-core: /tmp/amber-scenario-") || !run_has(&r, cases[i].expect)) {
			run_dump(&r);
			run_free(&r);
			fail_msg("case %zu: expected status 1 and '%s'", i, cases[i].expect);
		}
		run_free(&r);
	}

	/* Too big: 70000 bytes of text in <config>. */
	size_t n = 70000;
	char *xml = malloc(n + 200);
	assert_non_null(xml);
	int k = snprintf(xml, 200, "<scenario>\n  <component name=\"a\">\n    <config>");
	memset(xml + k, 'x', n);
	snprintf(xml + k + n, 200, "</config>\n  </component>\n</scenario>\n");
	struct run r;
	run_scenario_text(&r, xml, 10);
	free(xml);
	EXPECT(&r, ":3: <config> is 70000 bytes, at most 65536 are allowed");
	assert_int_equal(r.status, 1);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_component_reads_its_own_config),
		cmocka_unit_test(no_config_no_config_rom),
		cmocka_unit_test(writing_to_a_rom_faults),
		cmocka_unit_test(malformed_configs_are_rejected_with_a_line),
	};
	return cmocka_run_group_tests_name("integration: ROM", tests, NULL, NULL);
}
