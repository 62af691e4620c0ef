/*
 * Bad input end to end: forged selectors, wrong kinds, missing rights,
 * malformed messages, a receive window that does not fit, a server that
 * dies mid-call, a forbidden system call, a crash, bad scenario files and
 * bad binaries. Each gets a defined error or report, and amber-core and
 * the other components keep running.
 */
#include <dirent.h>
#include <elf.h>
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

static void bad_capabilities_and_messages(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_badcaps\" caps=\"8\"><provides><service name=\"own\"/></provides></component>\n</scenario>\n", 30);
	EXPECT_SELF_CHECKS(&r, "test_badcaps", 70);
	run_free(&r);
}

static void forbidden_syscall_kills_only_the_offender(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_forbidden\"/>\n" HELLO_PAIR "</scenario>\n", 30);
	EXPECT(&r, "[test_forbidden] test_forbidden: calling getpid");
	EXPECT(&r, "core: test_forbidden killed: forbidden system call getpid (39)");
	EXPECT_NOT(&r, "getpid returned");
	EXPECT(&r, "[hello_client] done (0 failures)");
	EXPECT(&r, "core: hello_server exited with code 0");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void crash_is_reported(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r, "<scenario>\n  <component name=\"test_crash\"/>\n" HELLO_PAIR "</scenario>\n", 30);
	EXPECT(&r, "core: test_crash killed:");
	EXPECT(&r, "0x10");
	EXPECT_NOT(&r, "did not fault");
	EXPECT(&r, "[hello_client] done (0 failures)");
	run_free(&r);
}

static void receive_window_too_small(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"test_window_server\"><provides><service name=\"window\"/></provides></component>\n"
			  "  <component name=\"test_window_client\"/>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "[test_window_client] done:");
	EXPECT(&r, "0 failed");
	EXPECT_NOT(&r, "FAIL");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void server_dies_while_client_waits(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"test_dier\"><provides><service name=\"dier\"/></provides></component>\n"
			  "  <component name=\"test_dier_client\"/>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "[test_dier] dier: called, exiting without a reply");
	EXPECT(&r, "[test_dier_client] done:");
	EXPECT(&r, "0 failed");
	EXPECT_NOT(&r, "FAIL");
	run_free(&r);
}

static void malformed_scenarios_are_rejected_with_a_line(void **state)
{
	(void)state;
	static const struct {
		const char *xml, *expect;
	} cases[] = {
		{ "<scenario>\n  <component name=\"x\"\n</scenario>\n", ":3:" },
		{ "<scenario>\n  <component name=\"hello_server\" colour=\"red\"><provides><service name=\"hello\"/></provides></component>\n</scenario>\n",
		  ":2: unknown attribute 'colour'" },
		{ "<scenario>\n  <component name=\"a\"/>\n  <component name=\"a\"/>\n</scenario>\n",
		  ":3: duplicate component name 'a'" },
		{ "<scenario>\n  <component name=\"Bad Name\"/>\n</scenario>\n", ":2: component name 'Bad Name': the name has a character other than a-z 0-9 _ - ." },
		{ "<scenario>\n  <component name=\"a\" caps=\"-4\"/>\n</scenario>\n", ":2: caps must be" },
		{ "<scenario>\n  <component name=\"a\" binary=\"../etc/passwd\"/>\n</scenario>\n",
		  ":2: binary '../etc/passwd' must be a plain file name" },
		{ "<config>\n</config>\n", ":1: the root element must be <scenario>" },
		{ "<scenario>\n</scenario>\n", "has no components" },
		{ "<scenario>\n  <start name=\"a\"/>\n</scenario>\n", ":2: unexpected element 'start'" },
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
}

/* Copy the ELF file src to dst with its PT_TLS segment grown to 128 KiB. */
static void write_with_big_tls(const char *src, const char *dst)
{
	FILE *f = fopen(src, "rb");
	assert_non_null(f);
	static unsigned char buf[4 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > sizeof(Elf64_Ehdr) && n < sizeof(buf));
	Elf64_Ehdr eh;
	memcpy(&eh, buf, sizeof(eh));
	bool patched = false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		size_t off = eh.e_phoff + (size_t)i * eh.e_phentsize;
		assert_true(off + sizeof(Elf64_Phdr) <= n);
		Elf64_Phdr ph;
		memcpy(&ph, buf + off, sizeof(ph));
		if (ph.p_type != PT_TLS)
			continue;
		ph.p_memsz = 128 * 1024;
		memcpy(buf + off, &ph, sizeof(ph));
		patched = true;
	}
	assert_true(patched);
	f = fopen(dst, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
}

/* A directory with the real components plus broken binaries. */
static char *components_with_bad_binaries(void)
{
	char *dir = strdup("/tmp/amber-components-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char src[1024], dst[1024], cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	const char *names[] = { "hello_server", "hello_client" };
	for (size_t i = 0; i < 2; i++) {
		const char *b = build_dir();
		if (b[0] == '/')
			snprintf(src, sizeof(src), "%s/components/%s", b, names[i]);
		else
			snprintf(src, sizeof(src), "%s/%s/components/%s", cwd, b, names[i]);
		snprintf(dst, sizeof(dst), "%s/%s", dir, names[i]);
		assert_int_equal(symlink(src, dst), 0);
	}
	snprintf(dst, sizeof(dst), "%s/notelf", dir);
	FILE *f = fopen(dst, "w");
	assert_non_null(f);
	fputs("this is not an ELF file\n", f);
	fclose(f);
	/* test_tls with a TLS segment past the limit (its program header
	 * patched): core refuses it and says why. */
	snprintf(src, sizeof(src), "%s/components/test_tls", build_dir());
	snprintf(dst, sizeof(dst), "%s/bigtls", dir);
	write_with_big_tls(src, dst);
	/* A host program: dynamically linked, outside the image area. */
	snprintf(dst, sizeof(dst), "%s/hostprog", dir);
	assert_int_equal(symlink("/bin/true", dst), 0);
	return dir;
}

static void remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

static void bad_binaries_are_reported_and_others_run(void **state)
{
	(void)state;
	char *dir = components_with_bad_binaries();
	struct run r;
	run_scenario_text_in(&r,
			     "<scenario>\n"
			     "  <component name=\"notelf\"/>\n"
			     "  <component name=\"hostprog\"/>\n"
			     "  <component name=\"bigtls\"/>\n"
			     "  <component name=\"missing\"/>\n" HELLO_PAIR "</scenario>\n",
			     dir, 30);
	EXPECT(&r, "core: cannot start notelf: not an ELF file");
	EXPECT(&r, "core: cannot start hostprog:");
	EXPECT(&r, "core: cannot start bigtls: TLS segment of 131072 bytes; _Thread_local data may take at most 65536");
	EXPECT(&r, "core: cannot start missing: cannot open");
	EXPECT(&r, "[hello_client] done (0 failures)");
	assert_int_equal(r.status, 1);
	run_free(&r);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_capabilities_and_messages),
		cmocka_unit_test(forbidden_syscall_kills_only_the_offender),
		cmocka_unit_test(crash_is_reported),
		cmocka_unit_test(receive_window_too_small),
		cmocka_unit_test(server_dies_while_client_waits),
		cmocka_unit_test(malformed_scenarios_are_rejected_with_a_line),
		cmocka_unit_test(bad_binaries_are_reported_and_others_run),
	};
	return cmocka_run_group_tests_name("integration: bad input", tests, NULL, NULL);
}
