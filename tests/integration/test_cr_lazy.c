/*
 * Lazy restore (amber restore --lazy, amber-core --restore DIR --lazy),
 * against real amber-cores: the restored component runs on exactly as after
 * an ordinary restore while its pages arrive on first touch and from core's
 * loader; a checkpoint right after it equals the image; an incremental
 * chain loads lazily too; a damaged extent found after the component runs
 * ends it with a report; a kill during the load and core's shutdown leave
 * nothing behind (core/cr_lazy.c).
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

static char img_a[128], img_b[128], img_c[128];

#define LIVE_EXPECT(lc, text, seconds)                                                             \
	do {                                                                                       \
		if (!live_wait_for(lc, text, seconds)) {                                           \
			run_dump(&(lc)->r);                                                        \
			fail_msg("missing: %s", text);                                             \
		}                                                                                  \
	} while (0)

static void up(struct live_core *lc, const char *scenario, const char *ready)
{
	if (!live_start(lc, scenario, NULL, NULL, ready, 60)) {
		run_dump(&lc->r);
		fail_msg("amber-core did not come up (%s)", ready);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(img_a, sizeof(img_a), "/tmp/amber-test-lazy-%d-a", (int)getpid());
	snprintf(img_b, sizeof(img_b), "/tmp/amber-test-lazy-%d-b", (int)getpid());
	snprintf(img_c, sizeof(img_c), "/tmp/amber-test-lazy-%d-c", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	unsetenv("AMBER_LAZY_PACE_US"); /* a failed lazy_kill_during_load leaves it set */
	harness_remove_tree(img_a);
	harness_remove_tree(img_b);
	harness_remove_tree(img_c);
	return 0;
}

static void checkpoint(struct live_core *lc, const char *name, const char *parent, const char *dir)
{
	struct cli_run r;
	if (parent)
		amber(&r, "-s", lc->name, "checkpoint", "--parent", parent, name, dir, NULL);
	else
		amber(&r, "-s", lc->name, "checkpoint", name, dir, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "checkpointed"));
	cli_run_free(&r);
}

static void restore(struct live_core *lc, const char *dir, bool lazy)
{
	struct cli_run r;
	if (lazy)
		amber(&r, "-s", lc->name, "restore", "--lazy", dir, NULL);
	else
		amber(&r, "-s", lc->name, "restore", dir, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored") && (!lazy || strstr(r.out, "pages load lazily")));
	cli_run_free(&r);
}

static int diff_lines(const char *a, const char *b, struct cli_run *r)
{
	amber(r, "diff", a, b, NULL);
	CLI_EXPECT(r, r->status == 0 || r->status == 1);
	int n = 0;
	for (const char *p = r->out; *p; p++)
		n += *p == '\n';
	return n;
}

/* Idle components do not change: restored lazily and checkpointed again at
 * once (the checkpoint finishes the load first), the images agree in every
 * slot and byte; for a component alone, a subtree and a child alone, and
 * for a whole system booted lazily from an image of init. */
static void lazy_restore_is_exact(void **state)
{
	(void)state;
	const char *names[] = { "solo", "init", "init/idle_a" };
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	if (!live_start(&lc, "scenarios/cr_idle.xml", NULL, NULL, "[solo] cr_idle: idle", 60) ||
	    !live_wait_for(&lc, "[init -> idle_b] cr_idle: idle", 20)) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	struct cli_run r;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		harness_remove_tree(img_a);
		harness_remove_tree(img_b);
		checkpoint(&lc, names[i], NULL, img_a);
		restore(&lc, img_a, true);
		checkpoint(&lc, names[i], NULL, img_b);
		int n = diff_lines(img_a, img_b, &r);
		if (n != 0) {
			cli_run_dump(&r);
			fail_msg("%s: restored lazily and checkpointed again, %d differences", names[i], n);
		}
		cli_run_free(&r);
	}
	/* The image of init (with its children) boots a system lazily. */
	harness_remove_tree(img_a);
	harness_remove_tree(img_b);
	checkpoint(&lc, "init", NULL, img_a);
	live_stop(&lc);
	run_free(&lc.r);
	static struct live_core boot;
	if (!live_start_opt(&boot, NULL, img_a, "--lazy", "core: control socket ", 60)) {
		run_dump(&boot.r);
		fail_msg("amber-core --restore --lazy did not come up");
	}
	LIVE_EXPECT(&boot, "core: init restored from", 20);
	checkpoint(&boot, "init", NULL, img_b);
	int n = diff_lines(img_a, img_b, &r);
	if (n != 0) {
		cli_run_dump(&r);
		fail_msg("booted lazily and checkpointed again, %d differences", n);
	}
	cli_run_free(&r);
	live_stop(&boot);
	run_free(&boot.r);
}

/* The seed's counter goes on from its image to the same end as after an
 * ordinary restore (test_cr.c restore_after_crash). */
static void lazy_counter_continues(void **state)
{
	(void)state;
	static struct live_core lc;
	up(&lc, "scenarios/cr_idle.xml", "[counter] step 3:");
	checkpoint(&lc, "counter", NULL, img_a);
	restore(&lc, img_a, true);
	LIVE_EXPECT(&lc, "core: counter: lazy load done", 20);
	LIVE_EXPECT(&lc, "[counter] cr_counter: done after 50 steps, sum 1275", 20);
	LIVE_EXPECT(&lc, "core: counter exited with code 0", 10);
	live_stop(&lc);
	run_free(&lc.r);
}

/* cr_writer checks every page before it writes it again: its memory
 * restored lazily, from one image and through a chain of three, is the
 * memory of one moment, whether a page came on first touch or from the
 * loader. */
static void lazy_writer_is_consistent(void **state)
{
	(void)state;
	static struct live_core lc;
	up(&lc, "scenarios/cr_writer.xml", "[cr_writer] cr_writer: step 16384, memory consistent");
	checkpoint(&lc, "cr_writer", NULL, img_a);
	checkpoint(&lc, "cr_writer", img_a, img_b);
	checkpoint(&lc, "cr_writer", img_b, img_c);
	restore(&lc, img_a, true);
	LIVE_EXPECT(&lc, "core: cr_writer: lazy load done", 20);
	restore(&lc, img_c, true);
	LIVE_EXPECT(&lc, "[cr_writer] cr_writer: done", 30);
	LIVE_EXPECT(&lc, "core: cr_writer exited with code 0", 10);
	if (run_has(&lc.r, "FAIL")) {
		run_dump(&lc.r);
		fail_msg("the memory restored lazily was not the memory of one moment");
	}
	if (run_count(&lc.r, "lazy load done") < 2) {
		run_dump(&lc.r);
		fail_msg("two lazy loads, not both reported done");
	}
	live_stop(&lc);
	run_free(&lc.r);
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

/* "core<TAB>PID<TAB>RSS_KIB<TAB>FDS<TAB>THREADS...": core's fds and threads. */
static void core_fds_threads(struct live_core *lc, long *fds, long *threads)
{
	struct cli_run r;
	amber(&r, "-s", lc->name, "stats", NULL);
	CLI_EXPECT(&r, r.status == 0 && strncmp(r.out, "core\t", 5) == 0);
	long pid, rss;
	assert_int_equal(sscanf(r.out, "core\t%ld\t%ld\t%ld\t%ld", &pid, &rss, fds, threads), 4);
	cli_run_free(&r);
}

/* A damaged extent is found by the loader after the component runs: the
 * component is ended with a report naming the extent, and core goes on
 * (an ordinary restore of a good image works). */
static void lazy_damage_ends_component(void **state)
{
	(void)state;
	static struct live_core lc; /* solo keeps the system up while cr_writer is dead */
	up(&lc, "scenarios/cr_writer_idle.xml", "[cr_writer] cr_writer: step 16384, memory consistent");
	checkpoint(&lc, "cr_writer", NULL, img_a);
	checkpoint(&lc, "cr_writer", NULL, img_b);
	/* The middle of pages.bin: inside cr_writer's 16 MiB of RAM. */
	char pages[192];
	struct stat st;
	snprintf(pages, sizeof(pages), "%s/current/pages.bin", img_b);
	assert_int_equal(stat(pages, &st), 0);
	flip_byte(pages, (long)(st.st_size / 2));
	restore(&lc, img_b, true);
	/* Ended by core (the loader reports the checksum mismatch), or by
	 * itself a moment before: it checks every page it reads and exits on a
	 * wrong one, and a set that has ended stops its loader, which then has
	 * no mismatch to report. */
	const char *killed = "core: cr_writer killed: lazy restore: dataspace 5 (ram:cr_writer) extent at offset";
	for (int s = 0; s < 10 && !run_has(&lc.r, killed) && !run_has(&lc.r, "core: cr_writer exited with code 1"); s++)
		if (!live_wait_for(&lc, killed, 1))
			live_wait_for(&lc, "core: cr_writer exited with code 1", 1);
	if (!run_has(&lc.r, killed) && !run_has(&lc.r, "core: cr_writer exited with code 1")) {
		run_dump(&lc.r);
		fail_msg("cr_writer did not end after the damaged extent was found");
	}
	if (run_has(&lc.r, killed) ? !run_has(&lc.r, "checksum mismatch") : !run_has(&lc.r, "[cr_writer] cr_writer: FAIL")) {
		run_dump(&lc.r);
		fail_msg("cr_writer ended, but neither core's checksum nor cr_writer's own check said why");
	}
	struct cli_run r;
	amber(&r, "-s", lc.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && !strstr(r.out, "cr_writer\trunning"));
	cli_run_free(&r);
	live_discard(&lc);
	restore(&lc, img_a, false);
	LIVE_EXPECT(&lc, "[cr_writer] cr_writer: done", 30);
	LIVE_EXPECT(&lc, "core: cr_writer exited with code 0", 10);
	if (run_has(&lc.r, "FAIL")) {
		run_dump(&lc.r);
		fail_msg("after the damaged lazy restore, a good image did not restore consistent");
	}
	live_stop(&lc);
	run_free(&lc.r);
}

/* 256 MiB load lazily for a while: a component killed in the middle of
 * its load leaves no fd or thread of core behind (the loader stops), an
 * ordinary restore of it then works, and core stopped in the middle of a
 * load ends as always. The loader rests 2 ms after each 256 KiB
 * (AMBER_LAZY_PACE_US), so that the load lasts about 2 s on any machine;
 * whether the kill still comes first is the scheduler's: up to five tries,
 * one must. */
static void lazy_kill_during_load(void **state)
{
	(void)state;
	setenv("AMBER_LAZY_PACE_US", "2000", 1); /* the amber-cores started below inherit it */
	static struct live_core lc;
	up(&lc, "scenarios/cr_lazy_mem.xml", "[bench_mem] bench_mem: ready 256 MiB");
	checkpoint(&lc, "bench_mem", NULL, img_a);
	restore(&lc, img_a, false); /* no tracker from here on: fds and threads comparable */
	long fds0, threads0, fds1, threads1;
	core_fds_threads(&lc, &fds0, &threads0);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "pkill -KILL -P %d -f '^\\[bench_mem\\]$'", lc.pid);
	bool during = false;
	for (int tries = 0; tries < 5 && !during; tries++) {
		live_discard(&lc);
		restore(&lc, img_a, true);
		assert_int_equal(system(cmd), 0);
		LIVE_EXPECT(&lc, "core: bench_mem killed", 10);
		restore(&lc, img_a, false); /* finishes (reaps) the stopped load first */
		during = !run_has(&lc.r, "bench_mem: lazy load done");
		core_fds_threads(&lc, &fds1, &threads1);
		if (fds1 != fds0 || threads1 != threads0) {
			run_dump(&lc.r);
			fail_msg("a kill during a lazy load: core had %ld fds and %ld threads, now %ld and %ld", fds0,
				 threads0, fds1, threads1);
		}
		if (run_has(&lc.r, "CORRUPT") || run_has(&lc.r, "FAIL")) {
			run_dump(&lc.r);
			fail_msg("bench_mem found its memory changed");
		}
	}
	if (!during)
		fail_msg("in five tries the kill never came before the 256 MiB were loaded");
	live_stop(&lc);
	run_free(&lc.r);

	/* A system booted lazily from the image, stopped as soon as the
	 * restore is done: it ends as always, also when the load was not. */
	during = false;
	for (int tries = 0; tries < 5 && !during; tries++) {
		static struct live_core boot;
		if (!live_start_opt(&boot, NULL, img_a, "--lazy", "core: bench_mem restored from", 60)) {
			run_dump(&boot.r);
			fail_msg("amber-core --restore --lazy did not come up");
		}
		live_stop(&boot);
		if (!run_has(&boot.r, "core: signal 15: stopping all components") || run_has(&boot.r, "did not end in time") ||
		    run_has(&boot.r, "harness: amber-core hung")) {
			run_dump(&boot.r);
			fail_msg("amber-core did not stop cleanly after a lazy boot");
		}
		during = !run_has(&boot.r, "bench_mem: lazy load done");
		run_free(&boot.r);
	}
	if (!during)
		fail_msg("in five tries amber-core was never stopped before the 256 MiB were loaded");
	unsetenv("AMBER_LAZY_PACE_US");
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lazy_restore_is_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(lazy_counter_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(lazy_writer_is_consistent, setup, teardown),
		cmocka_unit_test_setup_teardown(lazy_damage_ends_component, setup, teardown),
		cmocka_unit_test_setup_teardown(lazy_kill_during_load, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
