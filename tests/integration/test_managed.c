/*
 * Managed dataspaces (RM CREATE_MANAGED) end to end: test_managed checks
 * them from inside a component (scenarios/managed.xml) and leaves maps,
 * sub-attachments and attachments for core to release at its end; under
 * `make SAN=1` that must leave no sanitizer report (leaks included).
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(managed_end_to_end),
	};
	return cmocka_run_group_tests_name("integration: managed dataspaces", tests, NULL, NULL);
}
