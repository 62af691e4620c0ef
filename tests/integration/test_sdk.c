/*
 * The component SDK: a component built outside the tree, with nothing but
 * $(BUILD)/sdk (headers, runtime library, linker script, make fragment),
 * runs under amber-core.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(component_built_outside_the_tree_runs),
	};
	return cmocka_run_group_tests_name("integration: sdk", tests, NULL, NULL);
}
