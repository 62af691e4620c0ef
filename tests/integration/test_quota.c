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

/* A subtree of three generations killed at its root: the RAM each
 * generation lent to the next comes back to the top as the caps do
 * (components/test_nest checks its quotas itself, twice over). */
static void killed_subtree_gives_all_ram_back(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text(&r,
			  "<scenario>\n  <component name=\"top\" binary=\"test_nest\" caps=\"256\" ram=\"16M\"/>\n</scenario>\n",
			  30);
	EXPECT(&r, "[top -> nest.1 -> nest.2 -> nest.3] leaf with 262144 bytes: announced (0)");
	EXPECT(&r, "core: top -> nest.1 -> nest.2 -> nest.3 killed: its parent ended");
	EXPECT(&r, "[top] round 2: RAM quota 16777216 of 16777216, caps quota 256 of 256");
	EXPECT(&r, "core: top: cannot create child 'Bad name': the name has a character other than a-z 0-9 _ - .");
	EXPECT_SELF_CHECKS(&r, "top", 17);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(transfer_and_upgrade),
		cmocka_unit_test(upgrade_refused_when_init_is_full),
		cmocka_unit_test(killed_subtree_gives_all_ram_back),
	};
	return cmocka_run_group_tests_name("integration: quota transfer", tests, NULL, NULL);
}
