/*
 * A "config" ROM that changes under a running component: amber-core
 * re-reads its scenario on SIGHUP and hands changed <config> texts to the
 * running components (rom_update), which get their ROM SIGH signal.
 * test_rom_watch logs its config, waits for the signal and logs the new
 * version. A malformed file on SIGHUP is reported and changes nothing.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static const char first[] = "<scenario>\n"
			    "  <component name=\"test_rom_watch\" caps=\"32\">\n"
			    "    <config><greeting text=\"first\"/></config>\n"
			    "  </component>\n"
			    "</scenario>\n";
static const char second[] = "<scenario>\n"
			     "  <component name=\"test_rom_watch\" caps=\"32\">\n"
			     "    <config><greeting text=\"second\"/><extra/></config>\n"
			     "  </component>\n"
			     "  <component name=\"added_later\" binary=\"hello_client\"/>\n"
			     "</scenario>\n";
static const char broken[] = "<scenario>\n"
			     "  <component name=\"test_rom_watch\" caps=\"32\">\n"
			     "    <config><greeting text=\"broken\"></config>\n"
			     "  </component>\n"
			     "</scenario>\n";

static void write_file(const char *path, const char *text)
{
	/* A new file renamed over the old one: amber-core never reads half of it. */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

struct steps {
	const char *path;
	const char *replacement; /* written before the SIGHUP */
	bool then_term;          /* SIGTERM once the reload error appeared */
	int step;
};

static bool act(int pid, const struct run *r, void *arg)
{
	struct steps *s = arg;
	if (s->step == 0 && run_has(r, "[test_rom_watch] config: ")) {
		write_file(s->path, s->replacement);
		kill(pid, SIGHUP);
		s->step = 1;
		return !s->then_term;
	}
	if (s->step == 1 && run_has(r, "core: reload: ")) {
		kill(pid, SIGTERM);
		return true;
	}
	return false;
}

static void make_scenario(char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, first);
}

static void sighup_hands_out_the_new_config(void **state)
{
	(void)state;
	char path[] = "/tmp/amber-rom-watch-XXXXXX";
	make_scenario(path);
	struct steps s = { path, second, false, 0 };
	struct run r;
	run_scenario_with_action(&r, path, 60, act, &s);
	unlink(path);
	EXPECT(&r, "[test_rom_watch] config: <greeting text=\"first\"/>");
	EXPECT(&r, "core: reload: config of test_rom_watch changed");
	EXPECT(&r, "[test_rom_watch] ok: the config changed (a ROM signal)");
	EXPECT(&r, "[test_rom_watch] new config: <greeting text=\"second\"/><extra/>");
	EXPECT_NOT(&r, "added_later"); /* added components are ignored */
	EXPECT_SELF_CHECKS(&r, "test_rom_watch", 8);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void a_malformed_file_changes_nothing(void **state)
{
	(void)state;
	char path[] = "/tmp/amber-rom-watch-XXXXXX";
	make_scenario(path);
	struct steps s = { path, broken, true, 0 };
	struct run r;
	run_scenario_with_action(&r, path, 60, act, &s);
	unlink(path);
	char expect[128];
	snprintf(expect, sizeof(expect), "core: reload: %s:3: ", path);
	EXPECT(&r, "[test_rom_watch] config: <greeting text=\"first\"/>");
	EXPECT(&r, expect);
	EXPECT_NOT(&r, "config of test_rom_watch changed");
	EXPECT_NOT(&r, "new config:");
	EXPECT_NOT(&r, "FAIL");
	EXPECT(&r, "core: signal 15: stopping all components");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 3);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sighup_hands_out_the_new_config),
		cmocka_unit_test(a_malformed_file_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
