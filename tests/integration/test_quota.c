/*
 * Quota transfer end to end (core/pd_session.c TRANSFER_QUOTA, init's
 * answer to the parent's UPGRADE): components/test_quota checks itself,
 * on its own and as a child of init (scenarios/quota.xml).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "harness.h"

static void transfer_and_upgrade(void **state)
{
	(void)state;
	struct run r;
	run_scenario_file(&r, "scenarios/quota.xml", 30);
	EXPECT_SELF_CHECKS(&r, "test_quota", 39);
	EXPECT_SELF_CHECKS(&r, "init -> upgrader", 8);
	EXPECT(&r, "[init] child upgrader asks for 65536 bytes and 2 caps more: granted");
	EXPECT(&r, "[init] child upgrader asks for 68719476736 bytes and 0 caps more: QUOTA");
	EXPECT(&r, "core: init exited with code 0");
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* A child without spare quota in init: the upgrade is refused, the child
 * stays at what it had (and reports the allocation as failed). */
static void upgrade_refused_when_init_is_full(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n"
			  "  <component name=\"init\" caps=\"64\" ram=\"400K\">\n"
			  "    <config>\n"
			  "      <default-route><any-service><parent/></any-service></default-route>\n"
			  "      <start name=\"upgrader\" caps=\"24\" ram=\"256K\"><binary name=\"test_quota\"/>\n"
			  "        <config><upgrade/></config></start>\n"
			  "    </config>\n"
			  "  </component>\n"
			  "</scenario>\n",
			  30);
	EXPECT(&r, "[init -> upgrader] ok: allocate until QUOTA");
	EXPECT(&r, "[init] child upgrader asks for 65536 bytes and 2 caps more: QUOTA");
	EXPECT(&r, "[init -> upgrader] FAIL: ask init for more");
	EXPECT(&r, "[init] all children have ended");
	EXPECT_CLEAN(&r);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transfer_and_upgrade),
		cmocka_unit_test(upgrade_refused_when_init_is_full),
	};
	return cmocka_run_group_tests_name("integration: quota transfer", tests, NULL, NULL);
}
