/*
 * Crash consistency of checkpoint images: amber-core (SIGKILL) or the
 * `amber checkpoint` command is killed at a random moment of a checkpoint
 * that replaces an existing image. Afterwards the image directory must name
 * a complete image, the previous one or the new one, never a torn one:
 * `amber inspect` reads every page of it, and the next point boots a fresh
 * system from it (`amber-core --restore`), whose cr_writer checks every
 * page of its memory as it goes on. What a killed checkpoint leaves behind
 * (.tmp- directories, an unpublished generation) is ignored by readers and
 * removed by the next checkpoint that completes.
 *
 * `make check` runs AMBER_CRASH_POINTS=16 points; `make cr-crash N=1000`
 * more (docs/trust.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

extern char **environ;

static char img[128], scenario[128];

/* cr_writer for far longer than its default 300 rounds (a few seconds when
 * it has a CPU to itself): it must outlive a thousand points. */
static const char writer_xml[] = "<scenario>\n  <component name=\"cr_writer\" ram=\"32M\" caps=\"32\">\n"
				 "    <config><writer rounds=\"1000000\"/></config>\n  </component>\n</scenario>\n";

static int setup(void **state)
{
	(void)state;
	snprintf(img, sizeof(img), "/tmp/amber-test-crash-%d", (int)getpid());
	snprintf(scenario, sizeof(scenario), "/tmp/amber-test-crash-%d.xml", (int)getpid());
	FILE *f = fopen(scenario, "w");
	if (!f || fputs(writer_xml, f) < 0 || fclose(f) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	harness_remove_tree(img);
	unlink(scenario);
	return 0;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The number of `current`'s generation, 0 if none. */
static unsigned current_gen(void)
{
	char p[256], target[64];
	snprintf(p, sizeof(p), "%s/current", img);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	return (unsigned)strtoul(target + 4, NULL, 10);
}

/* Entries besides `current` and its generation. */
static int leftovers(void)
{
	char cur[64];
	snprintf(cur, sizeof(cur), "gen-%06u", current_gen());
	DIR *d = opendir(img);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "current") &&
		     strcmp(e->d_name, cur);
	closedir(d);
	return n;
}

/* `amber inspect` reads the image and every page of it. */
static void expect_valid(int point)
{
	struct cli_run r;
	amber(&r, "inspect", img, NULL);
	if (r.status != 0) {
		cli_run_dump(&r);
		fail_msg("point %d: the image is not valid after the kill", point);
	}
	cli_run_free(&r);
}

/* `amber -s NAME checkpoint cr_writer DIR` in the background. */
static pid_t start_checkpoint(const char *name)
{
	char amber_bin[256];
	snprintf(amber_bin, sizeof(amber_bin), "%s/amber", build_dir());
	char *argv[] = { amber_bin, "-s", (char *)name, "checkpoint", "cr_writer", img, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int e = posix_spawn(&pid, amber_bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return e ? -1 : pid;
}

/* The pid of cr_writer's process (amber stats), 0 if none. */
static int writer_pid(struct live_core *lc)
{
	struct cli_run r;
	amber(&r, "-s", lc->name, "stats", NULL);
	int pid = 0;
	const char *l = r.status == 0 ? strstr(r.out, "\tcr_writer\t") : NULL;
	if (l)
		pid = atoi(l + strlen("\tcr_writer\t"));
	cli_run_free(&r);
	return pid;
}

static bool gone(int pid, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		FILE *f = fopen(p, "r");
		if (!f)
			return true;
		char st = 0;
		int k = fscanf(f, "%*d %*s %c", &st);
		fclose(f);
		if (k == 1 && (st == 'Z' || st == 'X'))
			return true; /* ended, its parent not reaping yet */
		usleep(10000);
	}
	return false;
}

static void crash_points(void **state)
{
	(void)state;
	const char *env = getenv("AMBER_CRASH_POINTS");
	int points = env ? atoi(env) : 16;
	if (points < 2)
		points = 2;
	srand((unsigned)(getpid() ^ time(NULL)));
	harness_remove_tree(img);

	/* The first image, and how long a checkpoint takes. */
	static struct live_core lc;
	if (!live_start(&lc, scenario, NULL, NULL, "memory consistent", 600)) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	struct cli_run r;
	double t = now_ms();
	amber(&r, "-s", lc.name, "checkpoint", "cr_writer", img, NULL);
	double span = now_ms() - t;
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	live_stop(&lc);
	run_free(&lc.r);

	int core_kills = 0, cli_kills = 0, kept = 0, replaced = 0, fresh = 0, torn = 0, unsent = 0;
	for (int i = 0; i < points; i++) {
		expect_valid(i);
		unsigned before = current_gen();
		/* A fresh system from the image the last point left. */
		bool up = live_start(&lc, NULL, img, NULL, "memory consistent", 600);
		if (!up && run_has(&lc.r, "cr_writer: done")) {
			/* It wrote to its end: a new one from the scenario. */
			live_stop(&lc);
			run_free(&lc.r);
			up = live_start(&lc, scenario, NULL, NULL, "memory consistent", 600);
			fresh++;
		}
		if (!up || run_has(&lc.r, "FAIL")) {
			run_dump(&lc.r);
			fail_msg("point %d: the image of generation %u did not restore", i, before);
		}
		int comp = writer_pid(&lc);
		bool kill_core = i % 2 == 0;
		pid_t cli = start_checkpoint(lc.name);
		assert_true(cli > 0);
		/* Anywhere in a checkpoint, and sometimes just after. */
		usleep((useconds_t)((double)rand() / RAND_MAX * span * 1.3 * 1000));
		if (kill_core) {
			kill(lc.pid, SIGKILL);
			core_kills++;
		} else {
			kill(cli, SIGKILL);
			cli_kills++;
		}
		int st;
		waitpid(cli, &st, 0);
		if (kill_core) {
			live_stop(&lc);
			/* Its components do not outlive it. */
			if (comp > 0 && !gone(comp, 5))
				fail_msg("point %d: cr_writer (pid %d) outlived amber-core", i, comp);
			/* Killed in the middle of writing: a generation half there. */
			torn += leftovers() > 0;
		} else {
			/* amber-core finishes the checkpoint by itself and runs on;
			 * killed before it sent its request, amber asked for none, and
			 * amber-core still answers. */
			if (!live_wait_for(&lc, "core: control: checkpoint", 5)) {
				struct cli_run ps;
				amber(&ps, "-s", lc.name, "ps", NULL);
				if (ps.status != 0) {
					live_ended(&lc, 5);
					run_dump(&lc.r);
				}
				CLI_EXPECT(&ps, ps.status == 0);
				cli_run_free(&ps);
				unsent++;
			}
			bool on = live_wait_count(&lc, "memory consistent", run_count(&lc.r, "memory consistent") + 1, 30) ||
				  run_has(&lc.r, "cr_writer: done"); /* or it wrote to its end */
			if (!on || run_has(&lc.r, "FAIL")) {
				run_dump(&lc.r);
				fail_msg("point %d: cr_writer did not run on", i);
			}
			live_stop(&lc);
			EXPECT_CLEAN(&lc.r);
			/* A completed checkpoint removed what earlier kills left. */
			if (run_has(&lc.r, "checkpointed cr_writer") && leftovers() != 0)
				fail_msg("point %d: leftovers after a complete checkpoint", i);
		}
		run_free(&lc.r);
		unsigned after = current_gen();
		if (after == before)
			kept++;
		else if (after > before)
			replaced++;
		else
			fail_msg("point %d: current went back from %u to %u", i, before, after);
		expect_valid(i);
	}
	/* The last image restores too. */
	if (!live_start(&lc, NULL, img, NULL, "memory consistent", 600) || run_has(&lc.r, "FAIL")) {
		run_dump(&lc.r);
		fail_msg("the last image did not restore");
	}
	live_stop(&lc);
	run_free(&lc.r);
	printf("crash: %d points (checkpoint of %.0f ms replacing an image; %d amber-core SIGKILLs, %d of them "
	       "left a half-written generation; %d amber SIGKILLs, %d of them before the request "
	       "was sent): previous image kept %d times, new one complete %d times, each valid and restored (%d "
	       "restarts after cr_writer's end)\n",
	       points, span, core_kills, torn, cli_kills, unsent, kept, replaced, fresh);
	assert_int_equal(kept + replaced, points);
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(crash_points, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
