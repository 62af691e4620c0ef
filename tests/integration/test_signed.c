/*
 * Signed checkpoint images (docs/image-format.md "Signatures"), against
 * real amber-cores through the amber command: a checkpoint made with
 * --key restores with that key (also into a fresh system, and without a
 * key); another key, an unsigned image, and a changed byte of pages,
 * metadata or signature are refused with the live component unchanged;
 * key files that others can read, or too short, are refused, and no key
 * ever appears in a message.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char tmp[128], img_a[160], img_b[160], img_c[160], key1[160], key2[160];

/* Printable, so that a message that leaked it would be found by strstr. */
#define KEY1 "key-one:0123456789abcdefghijklmnopqrstuvwxyz"
#define KEY2 "key-two:0123456789abcdefghijklmnopqrstuvwxyz"

static void write_key(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/amber-test-signed-%d", (int)getpid());
	harness_remove_tree(tmp);
	if (mkdir(tmp, 0700) < 0)
		return -1;
	snprintf(img_a, sizeof(img_a), "%s/a", tmp);
	snprintf(img_b, sizeof(img_b), "%s/b", tmp);
	snprintf(img_c, sizeof(img_c), "%s/c", tmp);
	snprintf(key1, sizeof(key1), "%s/key1", tmp);
	snprintf(key2, sizeof(key2), "%s/key2", tmp);
	write_key(key1, KEY1, 0600);
	write_key(key2, KEY2, 0400);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	harness_remove_tree(tmp);
	return 0;
}

static void up(struct live_core *lc, const char *scenario, const char *ready)
{
	if (!live_start(lc, scenario, NULL, NULL, ready, 60)) {
		run_dump(&lc->r);
		fail_msg("amber-core did not come up (%s)", ready);
	}
}

/* Stop amber-core; nothing the sanitizers report (make SAN=1) in its output. */
static void stop_clean(struct live_core *lc)
{
	live_stop(lc);
	if (strstr(lc->r.output, "Sanitizer") || strstr(lc->r.output, "runtime error")) {
		run_dump(&lc->r);
		fail_msg("amber-core reported a sanitizer error");
	}
}

/* No key in anything amber or amber-core said. */
static void expect_no_key(const struct cli_run *r)
{
	CLI_EXPECT(r, !strstr(r->out, "key-one:") && !strstr(r->err, "key-one:") && !strstr(r->out, "key-two:") &&
			      !strstr(r->err, "key-two:"));
}

static void flip_byte(const char *path, long at)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char b;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

static long file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

/* A counter checkpointed with --key: the generation has a signature;
 * inspect --key vouches for it; restore --key brings the counter back and
 * it counts on; a restore without a key works too (the signature is the
 * restorer's check to ask for); amber run --restore --key boots it into a
 * fresh system, and refuses it with another key. */
static void signed_image_restores_with_its_key(void **state)
{
	(void)state;
	static struct live_core lc;
	up(&lc, "scenarios/cr_counter_long.xml", "] step 5:");
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "--key", key1, "cr_counter", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "checkpointed"));
	expect_no_key(&r);
	cli_run_free(&r);
	char sig[200];
	snprintf(sig, sizeof(sig), "%s/current/signature", img_a);
	assert_int_equal(file_size(sig), 64);

	amber(&r, "inspect", "--key", key1, img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && !strncmp(r.out, "signature: good", 15) && strstr(r.out, "cr_counter"));
	cli_run_free(&r);
	amber(&r, "inspect", "--key", key2, img_a, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "signature does not match") && !strstr(r.out, "cr_counter"));
	expect_no_key(&r);
	cli_run_free(&r);

	amber(&r, "-s", lc.name, "restore", "--key", key1, img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored cr_counter"));
	cli_run_free(&r);
	if (!live_wait_for(&lc, "] step 40:", 30)) {
		run_dump(&lc.r);
		fail_msg("the counter did not count on after the signed restore");
	}
	amber(&r, "-s", lc.name, "restore", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored cr_counter"));
	cli_run_free(&r);
	stop_clean(&lc);
	run_free(&lc.r);

	/* A fresh system from the signed image. */
	char name[72];
	harness_control_name(name, sizeof(name));
	amber(&r, "-s", name, "run", "--timeout", "1", "--restore", img_a, "--key", key2, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "signature does not match"));
	expect_no_key(&r);
	cli_run_free(&r);
	harness_control_name(name, sizeof(name));
	amber(&r, "-s", name, "run", "--timeout", "2", "--restore", img_a, "--key", key1, NULL);
	const char *restored = strstr(r.out, "cr_counter restored from");
	CLI_EXPECT(&r, r.status == 2 && restored && strstr(restored, "[cr_counter] step ") && !strstr(r.err, "cannot restore") &&
			       !strstr(r.out, "Sanitizer") && !strstr(r.err, "Sanitizer"));
	cli_run_free(&r);
}

/* Until two checkpoints of `name` in a row agree: it has reached the wait
 * it stays in (the "idle" line comes just before it). */
static void settle(struct live_core *lc, const char *name)
{
	for (int i = 0; i < 50; i++) {
		struct cli_run r;
		harness_remove_tree(img_b);
		harness_remove_tree(img_c);
		amber(&r, "-s", lc->name, "checkpoint", name, img_b, NULL);
		cli_run_free(&r);
		amber(&r, "-s", lc->name, "checkpoint", name, img_c, NULL);
		cli_run_free(&r);
		amber(&r, "diff", img_b, img_c, NULL);
		bool same = r.status == 0;
		cli_run_free(&r);
		harness_remove_tree(img_c);
		if (same)
			return;
		usleep(100 * 1000);
	}
	fail_msg("%s never settled", name);
}

/* Every refusal leaves the live component as it was: checkpointed again
 * afterwards it equals the image taken before (amber diff), and the intact
 * signed image still restores. */
static void refused_images_change_nothing(void **state)
{
	(void)state;
	static struct live_core lc;
	up(&lc, "scenarios/cr_idle.xml", "[solo] cr_idle: idle");
	struct cli_run r;
	settle(&lc, "solo");
	amber(&r, "-s", lc.name, "checkpoint", "--key", key1, "solo", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r); /* img_b: settle's unsigned image */

	/* Another key. */
	amber(&r, "-s", lc.name, "restore", "--key", key2, img_a, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "/signature: the signature does not match"));
	expect_no_key(&r);
	cli_run_free(&r);
	/* Unsigned, with a key. */
	amber(&r, "-s", lc.name, "restore", "--key", key1, img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "is not signed"));
	cli_run_free(&r);
	/* One byte changed in pages.bin, in image.pb (a byte that the XXH3
	 * checks would catch too: the signature is checked first), and in the
	 * signature itself. */
	const char *files[] = { "pages.bin", "image.pb", "signature" };
	for (size_t i = 0; i < 3; i++) {
		char path[200];
		snprintf(path, sizeof(path), "%s/current/%s", img_a, files[i]);
		long at = file_size(path) - 20;
		flip_byte(path, at);
		amber(&r, "-s", lc.name, "restore", "--key", key1, img_a, NULL);
		CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "the signature does not match"));
		cli_run_free(&r);
		amber(&r, "inspect", "--key", key1, img_a, NULL);
		CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "the signature does not match"));
		cli_run_free(&r);
		flip_byte(path, at);
	}

	/* solo was never touched: it runs, and it is what it was. */
	amber(&r, "-s", lc.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "solo") && strstr(r.out, "running"));
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "checkpoint", "solo", img_c, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	amber(&r, "diff", img_a, img_c, NULL);
	CLI_EXPECT(&r, r.status == 0 && r.out[0] == '\0');
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "restore", "--key", key1, img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored solo"));
	cli_run_free(&r);
	stop_clean(&lc);
	run_free(&lc.r);
}

/* Key files: too short, or open to group or others, are refused before
 * anything is written or read; the key is never printed. */
static void key_files_are_checked(void **state)
{
	(void)state;
	static struct live_core lc;
	up(&lc, "scenarios/cr_idle.xml", "[solo] cr_idle: idle");
	char weak[200], open_key[200];
	snprintf(weak, sizeof(weak), "%s/weak", tmp);
	snprintf(open_key, sizeof(open_key), "%s/open", tmp);
	write_key(weak, "key-one:short", 0600);
	write_key(open_key, KEY1, 0640);
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "--key", weak, "solo", img_a, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "a key needs at least 32"));
	expect_no_key(&r);
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "checkpoint", "--key", open_key, "solo", img_a, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "mode 0640") && strstr(r.err, open_key));
	expect_no_key(&r);
	cli_run_free(&r);
	struct stat st;
	assert_true(stat(img_a, &st) < 0); /* refused before the image directory was made */
	amber(&r, "-s", lc.name, "checkpoint", "solo", img_b, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "restore", "--key", open_key, img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "mode 0640"));
	cli_run_free(&r);
	amber(&r, "inspect", "--key", weak, img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "a key needs at least 32"));
	expect_no_key(&r);
	cli_run_free(&r);
	char missing[200];
	snprintf(missing, sizeof(missing), "%s/nosuch", tmp);
	amber(&r, "-s", lc.name, "restore", "--key", missing, img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "nosuch"));
	cli_run_free(&r);
	/* Nothing of it went into amber-core's own output either. */
	stop_clean(&lc);
	if (strstr(lc.r.output, "key-one:") || strstr(lc.r.output, "key-two:")) {
		run_dump(&lc.r);
		fail_msg("amber-core printed a key");
	}
	run_free(&lc.r);
}

/* A crash rolls a component checkpointed with --rollback --key back only
 * to an image that still verifies with that key: once intact, and not
 * after a byte of its pages was changed (the crash is then reported as
 * any crash). */
static void rollback_verifies_with_its_key(void **state)
{
	(void)state;
	static struct live_core lc;
	up(&lc, "scenarios/cr_counter_long.xml", "] step 5:");
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "pkill -KILL -P %d -f '^\\[cr_counter\\]$'", lc.pid);
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "--rollback", "--key", key1, "cr_counter", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "rolls back to it should it crash"));
	cli_run_free(&r);
	assert_int_equal(system(cmd), 0);
	if (!live_wait_for(&lc, "core: cr_counter rolled back to its checkpoint", 10)) {
		run_dump(&lc.r);
		fail_msg("the signed image was not rolled back to");
	}
	amber(&r, "-s", lc.name, "checkpoint", "--rollback", "--key", key1, "cr_counter", img_b, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	char pages[200];
	snprintf(pages, sizeof(pages), "%s/current/pages.bin", img_b);
	flip_byte(pages, file_size(pages) - 20);
	assert_int_equal(system(cmd), 0);
	if (!live_wait_for(&lc, "core: cr_counter could not be rolled back", 10) ||
	    !run_has(&lc.r, "the signature does not match") || run_count(&lc.r, "rolled back to its checkpoint") != 1) {
		run_dump(&lc.r);
		fail_msg("a changed signed image was rolled back to");
	}
	stop_clean(&lc);
	run_free(&lc.r);
}

/* A chain is trusted only as a whole: an incremental image signed with
 * the key over an unsigned parent is refused by restore and inspect,
 * naming the parent; a chain signed throughout restores. `checkpoint
 * --every --key` signs every image of its chains. */
static void chains_are_verified_whole(void **state)
{
	(void)state;
	static struct live_core lc;
	up(&lc, "scenarios/cr_counter_long.xml", "] step 5:");
	char child[240], periodic[160], last[240];
	snprintf(child, sizeof(child), "%s/child", tmp);
	snprintf(periodic, sizeof(periodic), "%s/every", tmp);
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "cr_counter", img_b, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "checkpoint", "--parent", img_b, "--key", key1, "cr_counter", child, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "incremental"));
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "restore", "--key", key1, child, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "its parent image") && strstr(r.err, "not signed"));
	expect_no_key(&r);
	cli_run_free(&r);
	amber(&r, "inspect", "--key", key1, child, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "its parent image") && !strstr(r.out, "cr_counter"));
	cli_run_free(&r);

	amber(&r, "-s", lc.name, "checkpoint", "--every", "20ms", "--count", "3", "--chain", "3", "--key", key1,
	      "cr_counter", periodic, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "ckpt-000003") && strstr(r.out, "incremental"));
	cli_run_free(&r);
	for (int n = 1; n <= 3; n++) {
		snprintf(last, sizeof(last), "%s/ckpt-%06d/current/signature", periodic, n);
		assert_int_equal(file_size(last), 64);
	}
	snprintf(last, sizeof(last), "%s/ckpt-000003", periodic);
	amber(&r, "inspect", "--key", key1, last, NULL);
	CLI_EXPECT(&r, r.status == 0 && !strncmp(r.out, "signature: good", 15));
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "restore", "--key", key1, last, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored cr_counter"));
	cli_run_free(&r);
	/* The middle image changed: the last one's parent no longer verifies. */
	snprintf(child, sizeof(child), "%s/ckpt-000002/current/pages.bin", periodic);
	flip_byte(child, file_size(child) - 20);
	amber(&r, "-s", lc.name, "restore", "--key", key1, last, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "its parent image") && strstr(r.err, "signature does not match"));
	cli_run_free(&r);
	stop_clean(&lc);
	run_free(&lc.r);
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(signed_image_restores_with_its_key, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_images_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(key_files_are_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(rollback_verifies_with_its_key, setup, teardown),
		cmocka_unit_test_setup_teardown(chains_are_verified_whole, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
