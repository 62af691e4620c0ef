/*
 * The root interface (amber/root.h, core/root.c): a server learns of each
 * client's session with its label, arguments and donated quota, of
 * upgrades, and of closes, by the client or by its end; it can refuse a
 * session with an error code the client gets; and a checkpoint/restore of
 * the server keeps its clients' open sessions.
 */
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

#define SCENARIO(delay, hold)                                                                      \
	"<scenario>\n"                                                                             \
	"  <component name=\"test_root_server\" caps=\"48\" ram=\"1M\">\n"                         \
	"    <provides> <service name=\"sessions\"/> </provides>\n"                               \
	"    <config><server closes=\"2\" delay_ms=\"" delay "\"/></config>\n"                   \
	"  </component>\n"                                                                         \
	"  <component name=\"test_root_client\" caps=\"32\" ram=\"1M\">\n"                         \
	"    <config><client hold_ms=\"" hold "\"/></config>\n"                                   \
	"  </component>\n"                                                                         \
	"</scenario>\n"

static void expect_whole_story(struct run *r)
{
	EXPECT(r, "[test_root_server] server: session 1 for test_root_client (args \"ram_quota=8K, cap_quota=2\", "
		  "8192 bytes, 2 caps donated), 1 open");
	EXPECT(r, "[test_root_server] server: session 2 for test_root_client (args \"ram_quota=4K\", 4096 bytes, 0 caps "
		  "donated), 2 open");
	EXPECT(r, "[test_root_server] server: session for test_root_client refused: denied");
	EXPECT(r, "[test_root_server] server: session for test_root_client refused: 0 bytes donated, 4096 needed");
	EXPECT(r, "[test_root_server] server: session 1 of test_root_client upgraded by 4096 bytes, 1 caps");
	/* b closed by the client, a by the client's end */
	EXPECT(r, "[test_root_server] server: session 2 of test_root_client closed (sum 2, 4096 bytes go back), 1 open");
	EXPECT(r, "[test_root_client] client: leaving with session a open");
	EXPECT(r, "[test_root_server] server: session 1 of test_root_client closed (sum 9, 12288 bytes go back), 0 open");
	EXPECT(r, "[test_root_server] server: 2 sessions closed, 0 buffers left");
	EXPECT(r, "[test_root_client] done: 22 ok, 0 failed");
	EXPECT(r, "core: test_root_server exited with code 0");
	EXPECT(r, "core: test_root_client exited with code 0");
	EXPECT_NOT(r, "FAIL");
	EXPECT_CLEAN(r);
}

static void sessions_are_known_to_the_server(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text_opt(&r, SCENARIO("0", "0"), "--strict", 60);
	expect_whole_story(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* The client asks before the server announced: its SESSION waits and
 * becomes a CREATE request once the root is announced. */
static void sessions_asked_for_before_the_announcement(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text_opt(&r, SCENARIO("300", "0"), "--strict", 60);
	expect_whole_story(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/* checkpoint --kill of the server while its client holds two sessions,
 * then a restore: the client's sessions work on (their sums go on), a
 * close after the restore reaches the server, and so does the client's
 * end. */
static void server_with_open_sessions_is_restored(void **state)
{
	(void)state;
	char path[] = "/tmp/amber-test-root-XXXXXX", dir[64];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *xml = SCENARIO("0", "1500");
	assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);
	snprintf(dir, sizeof(dir), "%s.img", path);
	static struct live_core lc;
	if (!live_start(&lc, path, NULL, NULL, "client: holding", 120)) {
		run_dump(&lc.r);
		fail_msg("the client did not get to hold its sessions");
	}
	struct cli_run c;
	amber(&c, "-s", lc.name, "checkpoint", "--kill", "test_root_server", dir, NULL);
	CLI_EXPECT(&c, c.status == 0 && strstr(c.out, "checkpointed"));
	cli_run_free(&c);
	amber(&c, "-s", lc.name, "restore", dir, NULL);
	CLI_EXPECT(&c, c.status == 0 && strstr(c.out, "restored"));
	cli_run_free(&c);
	if (!live_wait_for(&lc, "core: test_root_server exited with code", 60)) {
		run_dump(&lc.r);
		fail_msg("the server did not end");
	}
	live_stop(&lc);
	expect_whole_story(&lc.r);
	run_free(&lc.r);
	unlink(path);
	harness_remove_tree(dir);
}

/* Against a slow server, a client whose SESSION call times out, and which
 * then ends while its next SESSION call waits: the first session, made
 * after its client stopped waiting, is closed at the server at once; the
 * second, not yet fetched by the busy server, is dropped without it. */
static void clients_that_stop_waiting(void **state)
{
	(void)state;
	struct run r;
	run_scenario_text_opt(&r,
			      "<scenario>\n"
			      "  <component name=\"test_root_server\" caps=\"48\" ram=\"1M\">\n"
			      "    <provides> <service name=\"sessions\"/> </provides>\n"
			      "    <config><server closes=\"1\" slow_ms=\"400\"/></config>\n"
			      "  </component>\n"
			      "  <component name=\"test_root_client\" caps=\"32\" ram=\"1M\">\n"
			      "    <config><client impatient=\"1\"/></config>\n"
			      "  </component>\n"
			      "</scenario>\n",
			      "--strict", 60);
	EXPECT(&r, "[test_root_client] ok: a SESSION call that stops waiting -> TIMEOUT");
	EXPECT(&r, "[test_root_client] client: leaving while a SESSION call waits");
	EXPECT(&r, "[test_root_server] server: session 1 of test_root_client closed (sum 0, 4096 bytes go back), 0 open");
	EXPECT(&r, "[test_root_server] server: 1 sessions closed, 0 buffers left");
	EXPECT(&r, "core: test_root_server exited with code 0");
	EXPECT_NOT(&r, "server: session 2 for");
	EXPECT_NOT(&r, "FAIL");
	EXPECT_CLEAN(&r);
	assert_int_equal(r.status, 0);
	run_free(&r);
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	return 0;
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(sessions_are_known_to_the_server, teardown),
		cmocka_unit_test_teardown(sessions_asked_for_before_the_announcement, teardown),
		cmocka_unit_test_teardown(server_with_open_sessions_is_restored, teardown),
		cmocka_unit_test_teardown(clients_that_stop_waiting, teardown),
	};
	int failed = cmocka_run_group_tests_name("integration: the root interface", tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
