/*
 * Checkpoint/restore at scale: many components under init, many
 * capabilities in one component, much memory. Each is checkpointed,
 * restored in place, and (where the component is idle) checkpointed again
 * and compared with `amber diff`: the restore must bring back every slot,
 * object and byte. The times are printed so that growth can be judged
 * ("scale: ..." lines; docs/trust.md).
 *
 * AMBER_SCALE_ONLY=NAME runs only that case (components, capabilities,
 * core_roots or memory). AMBER_SCALE=check (the default, make check): 10 and 25 components,
 * 1000 and 10,000 capabilities, 64 MiB, and core's own space past its
 * first 4096 slots. AMBER_SCALE=full (make bench, bench/run.sh): 10, 25
 * and 50 components, 1000, 2000, 4000 and 10,000 capabilities, 256 MiB
 * and 1 GiB. A capability space grows in leaves of 4096 slots up to
 * AMBER_CAP_SLOTS (docs/abi.md), so 10,000 crosses two leaf boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char img_a[128], img_b[128], scenario[128];
static bool full;

/* AMBER_SCALE_ONLY names one case: the others are skipped. */
static void only(const char *name)
{
	const char *want = getenv("AMBER_SCALE_ONLY");
	if (want && *want && strcmp(want, name))
		skip();
}

static int setup(void **state)
{
	(void)state;
	/* Images in memory when there is /dev/shm: the disk is not what is measured. */
	struct stat st;
	const char *dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(img_a, sizeof(img_a), "%s/amber-test-scale-%d-a", dir, (int)getpid());
	snprintf(img_b, sizeof(img_b), "%s/amber-test-scale-%d-b", dir, (int)getpid());
	snprintf(scenario, sizeof(scenario), "/tmp/amber-test-scale-%d.xml", (int)getpid());
	const char *env = getenv("AMBER_SCALE");
	full = env && !strcmp(env, "full");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	harness_remove_tree(img_a);
	harness_remove_tree(img_b);
	unlink(scenario);
	return 0;
}

static void write_scenario(const char *text)
{
	FILE *f = fopen(scenario, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail_msg("cannot write %s", scenario);
}

/* A number after `key` in `text` ("total 12.5 ms"), -1 if none. */
static double figure(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? atof(p + strlen(key)) : -1;
}

struct times {
	double checkpoint_ms, restore_ms, pause_ms;
};

/* Checkpoint NAME into img_a, restore it; with `exact`, checkpoint again
 * into img_b and expect no difference. */
static struct times round_trip(struct live_core *lc, const char *name, bool exact)
{
	struct times t;
	struct cli_run r;
	harness_remove_tree(img_a);
	harness_remove_tree(img_b);
	/* Its last log line is out before its threads block: let them. */
	usleep(300000);
	amber(&r, "-s", lc->name, "checkpoint", name, img_a, NULL);
	CLI_EXPECT(&r, r.status == 0);
	t.checkpoint_ms = figure(r.out, "total ");
	t.pause_ms = figure(r.out, "paused ");
	cli_run_free(&r);
	amber(&r, "-s", lc->name, "restore", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0);
	t.restore_ms = figure(r.out, " in ");
	cli_run_free(&r);
	if (exact) {
		amber(&r, "-s", lc->name, "checkpoint", name, img_b, NULL);
		CLI_EXPECT(&r, r.status == 0);
		cli_run_free(&r);
		amber(&r, "diff", img_a, img_b, NULL);
		CLI_EXPECT(&r, r.status == 0);
		cli_run_free(&r);
	}
	return t;
}

/* One line for people (with the time per unit, to judge linearity), and
 * "scale-x KEY=VALUE" lines that bench/run.sh passes to results.json. */
static void report(const char *what, unsigned n, const char *unit, const struct times *t)
{
	printf("scale: %-10s %6u %-4s checkpoint %8.1f ms (paused %7.1f ms)  restore %8.1f ms  per %s %.3f / %.3f ms\n",
	       what, n, unit, t->checkpoint_ms, t->pause_ms, t->restore_ms, *unit ? unit : what,
	       t->checkpoint_ms / n, t->restore_ms / n);
	printf("scale-x scale_%s_%u_checkpoint_ms=%.1f\nscale-x scale_%s_%u_restore_ms=%.1f\n", what, n, t->checkpoint_ms,
	       what, n, t->restore_ms);
}

/* `amber stats`: the capabilities of component `name`, or with NULL those
 * of core's own space. */
static unsigned caps_of(struct live_core *lc, const char *name)
{
	struct cli_run r;
	amber(&r, "-s", lc->name, "stats", NULL);
	CLI_EXPECT(&r, r.status == 0);
	unsigned found = 0;
	char *save = NULL;
	for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char who[80];
		unsigned caps, threads;
		long x;
		if (!name && sscanf(line, "core\t%ld\t%ld\t%ld\t%ld\t%ld\t%u", &x, &x, &x, &x, &x, &caps) == 6)
			found = caps;
		/* a component: id, name, pid, RSS, fds, threads, caps */
		if (name && sscanf(line, "%ld\t%79[^\t]\t%ld\t%ld\t%ld\t%u\t%u", &x, who, &x, &x, &x, &threads, &caps) == 7 &&
		    !strcmp(who, name))
			found = caps;
	}
	cli_run_free(&r);
	return found;
}

/* init with n idle children. */
static void components(void **state)
{
	(void)state;
	only("components");
	static const unsigned check_sizes[] = { 10, 25 }, full_sizes[] = { 10, 25, 50 };
	const unsigned *sizes = full ? full_sizes : check_sizes;
	size_t nsizes = full ? 3 : 2;
	for (size_t s = 0; s < nsizes; s++) {
		unsigned n = sizes[s];
		char *xml = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&xml, &len);
		fprintf(f,
			"<scenario>\n  <component name=\"init\" caps=\"%u\" ram=\"%uM\">\n    <config>\n"
			"      <default-route><any-service><parent/></any-service></default-route>\n",
			64 * n + 256, 2 * n + 16); /* the children's quotas and init's own per child */
		for (unsigned i = 0; i < n; i++)
			/* caps: what core keeps for it is paid from them too (cr_idle.xml) */
			fprintf(f, "      <start name=\"idle_%u\" caps=\"48\" ram=\"1M\"><binary name=\"cr_idle\"/></start>\n",
				i);
		fprintf(f, "    </config>\n  </component>\n</scenario>\n");
		fclose(f);
		write_scenario(xml);
		free(xml);
		static struct live_core lc;
		if (!live_start(&lc, scenario, NULL, NULL, "cr_idle: idle", 300) ||
		    !live_wait_count(&lc, "cr_idle: idle", (int)n, 120)) {
			run_dump(&lc.r);
			fail_msg("%u components did not come up", n);
		}
		struct times t = round_trip(&lc, "init", true);
		report("components", n + 1, "", &t);
		live_stop(&lc);
		EXPECT_CLEAN(&lc.r);
		run_free(&lc.r);
	}
}

/* One component with n capabilities. */
static void capabilities(void **state)
{
	(void)state;
	only("capabilities");
	static const unsigned check_sizes[] = { 1000, 10000 }, full_sizes[] = { 1000, 2000, 4000, 10000 };
	const unsigned *sizes = full ? full_sizes : check_sizes;
	size_t nsizes = full ? 4 : 2;
	for (size_t s = 0; s < nsizes; s++) {
		unsigned n = sizes[s];
		char xml[512], ready[64];
		snprintf(xml, sizeof(xml),
			 "<scenario>\n  <component name=\"cr_caps\" caps=\"%u\">\n"
			 "    <config><caps count=\"%u\"/></config>\n  </component>\n</scenario>\n",
			 n + 16, n);
		write_scenario(xml);
		snprintf(ready, sizeof(ready), "cr_caps: holding %u capabilities", n);
		static struct live_core lc;
		if (!live_start(&lc, scenario, NULL, NULL, ready, 300)) {
			run_dump(&lc.r);
			fail_msg("cr_caps did not come up with %u capabilities", n);
		}
		struct times t = round_trip(&lc, "cr_caps", true);
		report("caps", n, "", &t);
		/* The restored component is running with all of them. */
		unsigned have = caps_of(&lc, "cr_caps");
		if (have < n + 1)
			fail_msg("after the restore cr_caps holds %u capabilities, expected at least %u", have, n + 1);
		live_stop(&lc);
		EXPECT_CLEAN(&lc.r);
		run_free(&lc.r);
	}
}

/* Core's own space past its first leaf: 17 children, each holding 256
 * RPC capabilities whose roots are in core's space, checkpointed and
 * restored together. */
static void core_roots(void **state)
{
	(void)state;
	only("core_roots");
	enum { CHILDREN = 17, RPC = 256, CHILD_CAPS = RPC + 64 };
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	fprintf(f,
		"<scenario>\n  <component name=\"init\" caps=\"%u\" ram=\"%uM\">\n    <config>\n"
		"      <default-route><any-service><parent/></any-service></default-route>\n",
		CHILDREN * (CHILD_CAPS + 8) + 256, 2 * CHILDREN + 16);
	for (unsigned i = 0; i < CHILDREN; i++)
		fprintf(f,
			"      <start name=\"caps_%u\" caps=\"%u\" ram=\"1M\"><binary name=\"cr_caps\"/>\n"
			"        <config><caps count=\"1\" rpc=\"%u\"/></config></start>\n",
			i, CHILD_CAPS, RPC);
	fprintf(f, "    </config>\n  </component>\n</scenario>\n");
	fclose(f);
	write_scenario(xml);
	free(xml);
	static struct live_core lc;
	if (!live_start(&lc, scenario, NULL, NULL, "cr_caps: holding 1 capabilities", 300) ||
	    !live_wait_count(&lc, "cr_caps: holding 1 capabilities", CHILDREN, 120)) {
		run_dump(&lc.r);
		fail_msg("%u cr_caps children did not come up", CHILDREN);
	}
	unsigned before = caps_of(&lc, NULL);
	if (before <= CHILDREN * RPC || before <= 4096)
		fail_msg("core holds %u capabilities, expected more than %u", before, CHILDREN * RPC);
	struct times t = round_trip(&lc, "init", true);
	printf("scale: core's own space holds %u capabilities\n", before);
	report("core_roots", CHILDREN * RPC, "", &t); /* per RPC capability: each a root in core */
	unsigned after = caps_of(&lc, NULL);
	if (after != before)
		fail_msg("core held %u capabilities before the restore, %u after", before, after);
	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
}

/* One component with n MiB of non-zero memory, which it keeps checking. */
static void memory(void **state)
{
	(void)state;
	only("memory");
	static const unsigned check_sizes[] = { 64 }, full_sizes[] = { 256, 1024 };
	const unsigned *sizes = full ? full_sizes : check_sizes;
	size_t nsizes = full ? 2 : 1;
	for (size_t s = 0; s < nsizes; s++) {
		unsigned n = sizes[s];
		char xml[512], ready[64];
		snprintf(xml, sizeof(xml),
			 "<scenario>\n  <component name=\"bench_mem\" caps=\"64\" ram=\"%uM\">\n"
			 "    <config><mem mib=\"%u\"/></config>\n  </component>\n</scenario>\n",
			 n + 32, n);
		write_scenario(xml);
		snprintf(ready, sizeof(ready), "bench_mem: ready %u MiB", n);
		static struct live_core lc;
		/* Filling 1 GiB takes longer than live_start waits on a loaded machine. */
		if (!live_start(&lc, scenario, NULL, NULL, ready, 600) && !live_wait_for(&lc, ready, 300)) {
			run_dump(&lc.r);
			fail_msg("bench_mem did not come up with %u MiB", n);
		}
		struct times t = round_trip(&lc, "bench_mem", false);
		report("memory", n, "MiB", &t);
		/* It checks a page a tick: give it a few after the restore. */
		usleep(300000);
		live_stop(&lc);
		EXPECT_NOT(&lc.r, "CORRUPT");
		EXPECT_NOT(&lc.r, "FAIL");
		EXPECT_CLEAN(&lc.r);
		run_free(&lc.r);
	}
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(components, setup, teardown),
		cmocka_unit_test_setup_teardown(capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(core_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(memory, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
