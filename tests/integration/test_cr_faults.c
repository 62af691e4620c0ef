/*
 * A checkpoint whose image cannot be written (image/io.c's injected
 * faults: a short write, ENOSPC, EIO, a failed fsync or rename, at every
 * call of the writer in turn) fails with a message that says why, leaves
 * the component running, and leaves the previous image current, complete
 * and restorable; nothing half-written is ever reported valid, and the
 * next checkpoint cleans up whatever the failure left (docs/trust.md).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char img[128], scenario[128];

/* cr_counter counts far longer than the test runs. */
static const char counter_xml[] = "<scenario>\n  <component name=\"cr_counter\">\n"
				  "    <config><counter steps=\"100000\"/></config>\n  </component>\n</scenario>\n";

static int setup(void **state)
{
	(void)state;
	snprintf(img, sizeof(img), "/tmp/amber-test-faults-%d", (int)getpid());
	snprintf(scenario, sizeof(scenario), "/tmp/amber-test-faults-%d.xml", (int)getpid());
	FILE *f = fopen(scenario, "w");
	if (!f || fputs(counter_xml, f) < 0 || fclose(f) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	unsetenv("AMBER_IMAGE_FAULT");
	harness_remove_tree(img);
	unlink(scenario);
	return 0;
}

/* The generation `current` names ("gen-000003"), "" if none. */
static void current_gen(char *out, size_t len)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/current", img);
	ssize_t n = readlink(p, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* Entries of the image directory besides `current` and its generation:
 * what a failure left behind. */
static int leftovers(void)
{
	char cur[64];
	current_gen(cur, sizeof(cur));
	DIR *d = opendir(img);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "current") &&
		    strcmp(e->d_name, cur))
			n++;
	closedir(d);
	return n;
}

static int steps(struct live_core *lc) { return run_count(&lc->r, "] step "); }

/* `amber inspect` finds the image valid, and it names the generation. */
static void expect_valid(const char *gen)
{
	struct cli_run r;
	amber(&r, "inspect", img, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, gen));
	cli_run_free(&r);
}

struct kind {
	const char *name, *error; /* AMBER_IMAGE_FAULT's kind, the strerror it causes */
	int min_calls;            /* at least this many calls of the kind per image */
};

/* One amber-core, one good image, then checkpoint k+1 gets the fault at
 * call k of its kind, for k = 1, 2, ... until a checkpoint outlasts its
 * fault (there are no more calls of that kind). */
static void one_kind(const struct kind *k)
{
	char spec[4096];
	size_t len = 0;
	for (int n = 1; n <= 80; n++)
		len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%s%s:%d:%d", n > 1 ? "," : "", k->name, n,
					n + 1);
	setenv("AMBER_IMAGE_FAULT", spec, 1);
	static struct live_core lc;
	bool up = live_start(&lc, scenario, NULL, NULL, "] step 3:", 120);
	unsetenv("AMBER_IMAGE_FAULT");
	if (!up) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	harness_remove_tree(img);
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "cr_counter", img, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);

	int failed = 0, switched = 0;
	for (int n = 1; n <= 80; n++) {
		char before[64], after[64];
		current_gen(before, sizeof(before));
		/* Every other one with --kill: a failure must not stop it either. */
		bool kill = n % 2;
		if (kill)
			amber(&r, "-s", lc.name, "checkpoint", "--kill", "cr_counter", img, NULL);
		else
			amber(&r, "-s", lc.name, "checkpoint", "cr_counter", img, NULL);
		if (r.status == 0) { /* fewer calls than n: the fault never came */
			cli_run_free(&r);
			if (kill) { /* stopped: bring it back */
				amber(&r, "-s", lc.name, "restore", img, NULL);
				CLI_EXPECT(&r, r.status == 0);
				cli_run_free(&r);
			}
			break;
		}
		failed++;
		/* Failed, and says why. */
		CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "cannot checkpoint cr_counter") && strstr(r.err, k->error));
		/* The previous image is still current and valid; only a failed
		 * fsync of the directory after the switch leaves the new one. */
		current_gen(after, sizeof(after));
		if (strcmp(before, after) != 0) {
			CLI_EXPECT(&r, strstr(r.err, "may not survive a crash") != NULL);
			switched++;
		}
		cli_run_free(&r);
		expect_valid(after);
		/* The component was not left frozen: it counts on. */
		int s = steps(&lc);
		if (!live_wait_count(&lc, "] step ", s + 2, 10)) {
			run_dump(&lc.r);
			fail_msg("%s:%d: cr_counter does not run on after the failed checkpoint", k->name, n);
		}
		/* Nothing half-written left where a reader would take it. */
		if (leftovers() != 0 && strcmp(before, after) == 0) {
			char cmd[300];
			snprintf(cmd, sizeof(cmd), "ls -la %s", img);
			if (system(cmd)) {}
			fail_msg("%s:%d: the failed checkpoint left files behind", k->name, n);
		}
		/* And the image that is current restores. */
		amber(&r, "-s", lc.name, "restore", img, NULL);
		CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored"));
		cli_run_free(&r);
		s = steps(&lc);
		if (!live_wait_count(&lc, "] step ", s + 2, 10)) {
			run_dump(&lc.r);
			fail_msg("%s:%d: cr_counter does not run after the restore", k->name, n);
		}
	}
	if (failed < k->min_calls) {
		run_dump(&lc.r);
		fail_msg("%s: only %d checkpoints failed, expected at least %d", k->name, failed, k->min_calls);
	}
	/* The next checkpoint works and leaves one generation. */
	amber(&r, "-s", lc.name, "checkpoint", "cr_counter", img, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	char cur[64];
	current_gen(cur, sizeof(cur));
	expect_valid(cur);
	assert_int_equal(leftovers(), 0);
	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
	printf("fault %s: a checkpoint failed at each of its %d calls; the previous image kept %d times, the new one "
	       "current but not durable %d times; each restored\n",
	       k->name, failed, failed - switched, switched);
}

/* The minimum counts: every checkpoint creates a directory and two files,
 * writes both files' headers and payloads, fsyncs both files and the
 * directory twice, and renames twice. */
static void short_write(void **state)
{
	(void)state;
	static const struct kind k = { "short", "No space left on device", 4 };
	one_kind(&k);
}

static void no_space(void **state)
{
	(void)state;
	static const struct kind k = { "enospc", "No space left on device", 15 };
	one_kind(&k);
}

static void io_error(void **state)
{
	(void)state;
	static const struct kind k = { "eio", "Input/output error", 15 };
	one_kind(&k);
}

static void fsync_fails(void **state)
{
	(void)state;
	static const struct kind k = { "fsync", "Input/output error", 4 };
	one_kind(&k);
}

static void rename_fails(void **state)
{
	(void)state;
	static const struct kind k = { "rename", "Input/output error", 2 };
	one_kind(&k);
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(short_write, setup, teardown),
		cmocka_unit_test_setup_teardown(no_space, setup, teardown),
		cmocka_unit_test_setup_teardown(io_error, setup, teardown),
		cmocka_unit_test_setup_teardown(fsync_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_fails, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
