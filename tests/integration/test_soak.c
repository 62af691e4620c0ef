/*
 * Soak: checkpoint/restore cycles of the whole demo (scenarios/demo.xml,
 * init and its children) must not make anything grow: core's memory, file
 * descriptors, threads, kernel objects and capability slots, each
 * component's memory, file descriptors, threads and capability slots,
 * and the number of components core keeps, ended ones too (`amber stats`).
 *
 * A cycle restores the base image (taken just after start, so the demo
 * never reaches its end), samples, lets it run a random few milliseconds,
 * checkpoints init into a second image and restores that. `make check` runs
 * AMBER_SOAK_CYCLES=50; `make soak CYCLES=10000` the long run
 * (docs/trust.md has its figures).
 *
 * Growth is judged without trusting single samples: after a warm-up (the
 * first fifth), the smallest value of the last fifth of the samples minus
 * the largest of the first fifth. A leak of even one object a cycle makes
 * that positive; noise does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char base[128], cycle[128], scenario[128];

/* The demo, and next to it an idle component that keeps amber-core
 * running should init end between a restore and a checkpoint (on a loaded
 * machine the demo's few seconds can pass): the next cycle's restore of
 * the base image brings init back. example_sessions runs 100000 rounds
 * instead of 5. */
static bool write_scenario(void)
{
	FILE *in = fopen("scenarios/demo.xml", "r");
	FILE *out = fopen(scenario, "w");
	bool ok = in && out;
	char line[1024];
	while (ok && fgets(line, sizeof(line), in)) {
		if (strstr(line, "</scenario>"))
			fputs("  <component name=\"keeper\" binary=\"cr_idle\" caps=\"48\"/>\n", out);
		/* example_sessions opens and closes sessions for far longer than
		 * its 5 rounds, so that a checkpoint finds more than init's end
		 * even where everything runs slowly (the sanitizers). */
		char *rounds = strstr(line, "<rounds count=\"5\"");
		if (rounds) {
			fprintf(out, "%.*s<rounds count=\"100000\"%s", (int)(rounds - line), line,
				rounds + strlen("<rounds count=\"5\""));
			continue;
		}
		fputs(line, out);
	}
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		ok = false;
	return ok;
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/amber-test-soak-%d-base", (int)getpid());
	snprintf(cycle, sizeof(cycle), "/tmp/amber-test-soak-%d-cycle", (int)getpid());
	snprintf(scenario, sizeof(scenario), "/tmp/amber-test-soak-%d.xml", (int)getpid());
	return write_scenario() ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	harness_remove_tree(base);
	harness_remove_tree(cycle);
	unlink(scenario);
	return 0;
}

/* ---- what is measured ------------------------------------------------------ */

#define METRICS_MAX 64

struct metric {
	char name[96];
	long bound; /* allowed growth */
	long *v;    /* one per sample, -1: not there then */
	size_t n;
};

static struct metric metrics[METRICS_MAX];
static size_t nmetrics;

static struct metric *metric(const char *name, long bound)
{
	for (size_t i = 0; i < nmetrics; i++)
		if (!strcmp(metrics[i].name, name))
			return &metrics[i];
	if (nmetrics == METRICS_MAX)
		return NULL;
	struct metric *m = &metrics[nmetrics++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->bound = bound;
	return m;
}

static void record(size_t sample, const char *name, long value, long bound)
{
	struct metric *m = metric(name, bound);
	if (!m)
		return;
	long *p = realloc(m->v, (sample + 1) * sizeof(*p));
	if (!p)
		abort();
	m->v = p;
	for (size_t i = m->n; i < sample; i++)
		m->v[i] = -1;
	m->v[sample] = value;
	m->n = sample + 1;
}

/* Under the sanitizers core's memory grows by design (ASan's quarantine
 * holds freed memory): its RSS is reported, not judged. */
static bool sanitized(void) { return strstr(build_dir(), "san") != NULL; }

/* One `amber stats`: a sample of every metric. */
static void sample(struct live_core *lc, size_t k)
{
	struct cli_run r;
	amber(&r, "-s", lc->name, "stats", NULL);
	CLI_EXPECT(&r, r.status == 0 && !strncmp(r.out, "core\t", 5));
	char *save = NULL;
	for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[80];
		long pid, rss, fds, threads, x, caps, kept;
		char key[160];
		if (sscanf(line, "core\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld", &pid, &rss, &fds, &threads, &x, &caps,
			   &kept) == 7) {
			record(k, "core RSS KiB", rss, sanitized() ? -1 : 2048);
			record(k, "core fds", fds, 0);
			record(k, "core threads", threads, 0);
			record(k, "kernel objects", x, 0);
			record(k, "core caps", caps, 0);
			/* Every component core keeps, ended ones too: restores must
			 * not leave incarnations behind (test_cr_reap.c). */
			record(k, "components known to core", kept, 0);
		} else if (sscanf(line, "%*u\t%79[^\t]\t%ld\t%ld\t%ld\t%ld\t%ld", name, &pid, &rss, &fds, &threads, &x) ==
			   6) {
			snprintf(key, sizeof(key), "%s RSS KiB", name);
			record(k, key, rss, 512);
			snprintf(key, sizeof(key), "%s fds", name);
			record(k, key, fds, 0);
			snprintf(key, sizeof(key), "%s threads", name);
			record(k, key, threads, 0);
			snprintf(key, sizeof(key), "%s caps", name);
			record(k, key, x, 0);
		}
	}
	cli_run_free(&r);
}

/* Smallest (or largest) value in samples [from, to), ignoring absent ones. */
static long extreme(const struct metric *m, size_t from, size_t to, bool largest)
{
	long best = -1;
	for (size_t i = from; i < to && i < m->n; i++)
		if (m->v[i] >= 0 && (best < 0 || (largest ? m->v[i] > best : m->v[i] < best)))
			best = m->v[i];
	return best;
}

/* ---- the cycles --------------------------------------------------------------- */

static bool request(struct live_core *lc, const char *what, const char *a, const char *b, char *err, size_t errlen)
{
	struct cli_run r;
	if (b)
		amber(&r, "-s", lc->name, what, a, b, NULL);
	else
		amber(&r, "-s", lc->name, what, a, NULL);
	bool ok = r.status == 0;
	if (!ok)
		snprintf(err, errlen, "%s", r.err);
	cli_run_free(&r);
	return ok;
}

/* Refused because a member is starting or ending: transient, not an error. */
static bool transient(const char *err)
{
	return strstr(err, "try again") || strstr(err, "created but not started") || strstr(err, "it is ending");
}

static void soak(void **state)
{
	(void)state;
	const char *env = getenv("AMBER_SOAK_CYCLES");
	long cycles = env ? strtol(env, NULL, 10) : 50;
	if (cycles < 10)
		cycles = 10;
	/* At most about 250 samples, whatever the length. */
	long every = cycles / 250 + 1;
	static struct live_core lc;
	/* glibc gives each thread that allocates an arena of its own, up to 8
	 * per CPU, and core makes threads for every restored component: RSS
	 * would grow in steps to a plateau that says nothing about leaks. */
	setenv("MALLOC_ARENA_MAX", "2", 1);
	bool up = live_start(&lc, scenario, NULL, NULL, "[init -> hello_server]", 3600 + cycles);
	unsetenv("MALLOC_ARENA_MAX");
	if (!up) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	/* The base image once init has made all its children: the same
	 * state after every restore. (One from before rolls back the children
	 * made after; test_cr_reap.c restores such an image over and over.) */
	char err[1024];
	bool based = false;
	for (int tries = 0; !based && tries < 500; tries++) {
		based = request(&lc, "checkpoint", "init", base, err, sizeof(err));
		if (!based && !transient(err))
			break;
		/* init (1), keeper (2) and the seven children (3-9) have their ids:
		 * the image's next component id is 10. */
		struct cli_run r;
		amber(&r, "inspect", base, NULL);
		const char *next = strstr(r.out, "next component ");
		based = based && next && atoi(next + strlen("next component ")) >= 10;
		cli_run_free(&r);
	}
	if (!based)
		fail_msg("base checkpoint: %s", err);
	srand((unsigned)getpid());
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t samples = 0;
	long refused = 0, ended = 0, next_report = 0;
	for (long i = 0; i < cycles; i++) {
		if (!request(&lc, "restore", base, NULL, err, sizeof(err)))
			fail_msg("cycle %ld: restoring the base image: %s", i, err);
		/* Sampled right after the base image came back: the same state
		 * every time, give or take what the demo does in a few ms. */
		if (i % every == 0) {
			sample(&lc, samples++);
			/* A long run says how it goes every tenth. */
			if (cycles >= 1000 && i >= next_report) {
				next_report += cycles / 10;
				printf("soak: cycle %ld:", i);
				for (size_t m = 0; m < nmetrics && m < 4; m++)
					printf(" %s %ld;", metrics[m].name, metrics[m].v[samples - 1]);
				printf(" components known to core %ld\n", metric("components known to core", 0)->v[samples - 1]);
				fflush(stdout);
			}
		}
		usleep((useconds_t)(rand() % 20000));
		if (request(&lc, "checkpoint", "init", cycle, err, sizeof(err))) {
			if (!request(&lc, "restore", cycle, NULL, err, sizeof(err)))
				fail_msg("cycle %ld: restoring its image: %s", i, err);
		} else if (transient(err)) {
			refused++; /* a child starting or ending just then: refused, not an error */
		} else if (strstr(err, "it has ended")) {
			ended++; /* the demo ran to its end: the next cycle brings it back */
		} else {
			fail_msg("cycle %ld: checkpoint: %s", i, err);
		}
		live_discard(&lc);
		if (lc.fd < 0)
			fail_msg("cycle %ld: amber-core ended", i);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);

	size_t warm = samples / 5, win = (samples - warm) / 5;
	if (win < 1)
		win = 1;
	printf("soak: %ld cycles (restore, checkpoint, restore) of scenarios/demo.xml in %.0f s (%.1f ms a cycle), "
	       "%ld checkpoints refused (a child starting or ending), %ld after init's end, %zu samples\n",
	       cycles, secs, secs * 1e3 / (double)cycles, refused, ended, samples);
	printf("soak: %-36s %9s %9s %9s %9s %7s %6s\n", "metric", "first", "early max", "late min", "last", "growth",
	       "bound");
	int bad = 0;
	for (size_t i = 0; i < nmetrics; i++) {
		struct metric *m = &metrics[i];
		long early = extreme(m, warm, warm + win, true), late = extreme(m, samples - win, samples, false);
		long first = extreme(m, 0, 1, true), last = extreme(m, samples - 1, samples, true);
		/* A component not running in both windows (children come and
		 * go) says nothing about growth. */
		long growth = early >= 0 && late >= 0 ? late - early : 0;
		bool over = m->bound >= 0 && growth > m->bound;
		bad += over;
		printf("soak: %-36s %9ld %9ld %9ld %9ld %7ld %6ld%s\n", m->name, first, early, late, last, growth,
		       m->bound, over ? "  GROWS" : "");
		free(m->v);
	}
	nmetrics = 0;
	if (bad)
		fail_msg("%d metrics grew beyond their bound", bad);
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(soak, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
