/*
 * The component SDK: a component built outside the tree, with nothing but
 * $(BUILD)/sdk (headers, runtime library, linker script, make fragment),
 * runs under amber-core; the SDK's examples build with one Makefile and
 * run under the SDK's init, found through a components path of two
 * folders; component.mk rebuilds on a header change, takes CFLAGS, and
 * refuses a warning.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static void component_built_outside_the_tree_runs(void **state)
{
	(void)state;
	char dir[] = "/tmp/amber-sdk-XXXXXX", cwd[PATH_MAX], cmd[3 * PATH_MAX];
	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	const char *b = build_dir();
	char sdk[2 * PATH_MAX];
	if (b[0] == '/')
		snprintf(sdk, sizeof(sdk), "%s/sdk", b);
	else
		snprintf(sdk, sizeof(sdk), "%s/%s/sdk", cwd, b);

	/* Only the component's own files are copied: the SDK must be enough. */
	snprintf(cmd, sizeof(cmd), "cp tests/sdk/hello_sdk/main.c tests/sdk/hello_sdk/Makefile %s/ && make -s -C %s AMBER_SDK=%s",
		 dir, dir, sdk);
	assert_int_equal(system(cmd), 0);

	struct run r;
	run_scenario_text_in(&r, "<scenario>\n  <component name=\"hello_sdk\"/>\n</scenario>\n", dir, 30);
	EXPECT(&r, "[hello_sdk] hello from a component built with the SDK");
	EXPECT(&r, "core: hello_sdk exited with code 0");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The absolute path of $(BUILD)/sdk. */
static void sdk_path(char *out, size_t len)
{
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	const char *b = build_dir();
	if (b[0] == '/')
		snprintf(out, len, "%s/sdk", b);
	else
		snprintf(out, len, "%s/%s/sdk", cwd, b);
}

static void examples_run_under_the_sdks_init(void **state)
{
	(void)state;
	char dir[] = "/tmp/amber-sdk-XXXXXX", sdk[2 * PATH_MAX], cmd[6 * PATH_MAX], path[3 * PATH_MAX];
	assert_non_null(mkdtemp(dir));
	sdk_path(sdk, sizeof(sdk));
	snprintf(cmd, sizeof(cmd), "cp -r %s/examples/. %s/ && make -s -C %s AMBER_SDK=%s", sdk, dir, dir, sdk);
	assert_int_equal(system(cmd), 0);
	/* init from the SDK's folder, the examples from this one. */
	snprintf(path, sizeof(path), "%s/components:%s", sdk, dir);
	struct run r;
	run_scenario_text_in(&r,
			     "<scenario>\n  <component name=\"init\" caps=\"128\" ram=\"8M\">\n    <config>\n"
			     "      <default-route> <any-service><parent/></any-service> </default-route>\n"
			     "      <start name=\"hello_server\" caps=\"16\" ram=\"1M\"/>\n"
			     "      <start name=\"hello_client\" caps=\"16\" ram=\"1M\">\n"
			     "        <route> <service name=\"hello\"><child name=\"hello_server\"/></service>\n"
			     "                <any-service><parent/></any-service> </route>\n"
			     "      </start>\n"
			     "      <start name=\"example_threads\" caps=\"32\" ram=\"2M\"/>\n"
			     "    </config>\n  </component>\n</scenario>\n",
			     path, 60);
	EXPECT(&r, "[init -> hello_client] done (0 failures)");
	EXPECT(&r, "core: init -> example_threads exited with code 0");
	EXPECT_CLEAN(&r);
	run_free(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Build dir's component with make ARGS; then run it: its output line. */
static void build_and_expect(const char *dir, const char *sdk, const char *args, const char *line)
{
	char cmd[6 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "make -s -C %s AMBER_SDK=%s %s", dir, sdk, args);
	assert_int_equal(system(cmd), 0);
	struct run r;
	run_scenario_text_in(&r, "<scenario>\n  <component name=\"greeter\"/>\n</scenario>\n", dir, 30);
	EXPECT(&r, line);
	EXPECT_CLEAN(&r);
	run_free(&r);
}

static void component_mk_tracks_headers_flags_and_warnings(void **state)
{
	(void)state;
	char dir[] = "/tmp/amber-sdk-XXXXXX", sdk[2 * PATH_MAX], cmd[6 * PATH_MAX];
	assert_non_null(mkdtemp(dir));
	sdk_path(sdk, sizeof(sdk));
	put(dir, "Makefile", "COMPONENT := greeter\ninclude $(AMBER_SDK)/component.mk\n");
	put(dir, "greet.h", "#define GREETING \"one\"\n");
	put(dir, "main.c",
	    "#include <amber/log.h>\n#include \"greet.h\"\n#ifdef EXTRA_SET\n#define EXTRA \"set\"\n#else\n#define EXTRA \"none\"\n#endif\n"
	    "int main(void) { amber_log(\"greeting %s, extra %s\", GREETING, EXTRA); return 0; }\n");
	build_and_expect(dir, sdk, "", "[greeter] greeting one, extra none");
	/* A header changed (a second later, so that make sees it newer). */
	sleep(1);
	put(dir, "greet.h", "#define GREETING \"two\"\n");
	build_and_expect(dir, sdk, "", "[greeter] greeting two, extra none");
	build_and_expect(dir, sdk, "clean all CFLAGS=-DEXTRA_SET", "[greeter] greeting two, extra set");
	/* The SDK's flags include -Werror. */
	put(dir, "main.c", "int main(void) { int unused; return 0; }\n");
	snprintf(cmd, sizeof(cmd), "make -s -C %s AMBER_SDK=%s clean all >/dev/null 2>&1", dir, sdk);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(component_built_outside_the_tree_runs),
		cmocka_unit_test(examples_run_under_the_sdks_init),
		cmocka_unit_test(component_mk_tracks_headers_flags_and_warnings),
	};
	return cmocka_run_group_tests_name("integration: sdk", tests, NULL, NULL);
}
