/*
 * cr-diff: differential testing of checkpoint/restore.
 *
 *   cr-diff [--points N] [--seed S] [--mode MODE] [--build DIR] [--tmp DIR] [--verbose]
 *           SCENARIO.xml COMPONENT [SCENARIO.xml COMPONENT ...]
 *
 * For each random point: boot the scenario, wait a random time, checkpoint
 * COMPONENT (with all its descendants) through the `amber` command, and
 * check that what the components print is exactly what an uninterrupted
 * run of the same scenario prints:
 *   live      the run left running after the checkpoint;
 *   rollback  restored into the running system a little later;
 *   kill      checkpoint --kill, restored a little later;
 *   fresh     amber-core stopped, a new one started with --restore.
 * Every other point (not with --kill) is incremental: a first checkpoint
 * halfway to the point, and the one at the point taken with --parent on
 * it, so that what is restored comes through a chain of two images.
 * Every third point that restores (rollback, kill, fresh) restores lazily
 * (restore --lazy, amber-core --restore DIR --lazy): the components run
 * before their pages are all in.
 * The image records how many LOG lines each component had written at the
 * cut (log_lines), so the comparison is exact: a restored component must
 * print, from its restore on, the reference's lines from that count on;
 * before it, a prefix of the reference (exactly that count with --kill).
 * Components outside the image must print the reference unchanged.
 *
 * A point whose checkpoint came too late (the component had ended) is
 * drawn again, up to TRIES times, each time within half the time of the
 * one before, so that a short scenario is caught too. Exit status 0 if every point agreed, 1 if
 * one diverged (it is printed with its seed; its image and its output,
 * DIR.img and DIR.img.log, are kept), 2 on a usage or set-up error.
 * The workloads are deterministic in what they print, not in when.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"

extern char **environ;

enum mode { MODE_LIVE, MODE_ROLLBACK, MODE_KILL, MODE_FRESH, MODE_ALL };
static const char *mode_names[] = { "live", "rollback", "kill", "fresh", "all" };

static const char *build = "build";
static const char *tmp = "/tmp";

/* Draws of one point before it counts as not checked; the last ones
 * checkpoint within 1/2^(TRIES-1) of the scenario's time. */
#define TRIES 8
static bool verbose;

/* ---- output of one amber-core run ----------------------------------------- */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		if (!(l->v = realloc(l->v, l->cap * sizeof(*l->v))))
			abort();
	}
	if (!(l->v[l->n++] = strdup(s)))
		abort();
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct run {
	pid_t pid;
	int out; /* its stdout and stderr */
	pthread_t reader;
	pthread_mutex_t lock;
	struct lines all;
	int status;
};

static void *reader_main(void *arg)
{
	struct run *r = arg;
	FILE *f = fdopen(r->out, "r");
	char line[8192];
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		pthread_mutex_lock(&r->lock);
		lines_add(&r->all, line);
		pthread_mutex_unlock(&r->lock);
		if (verbose)
			fprintf(stderr, "  | %s\n", line);
	}
	if (f)
		fclose(f);
	return NULL;
}

static int run_start(struct run *r, char *const argv[])
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	int e = posix_spawn(&r->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e) {
		close(p[0]);
		return -1;
	}
	r->out = p[0];
	memset(&r->all, 0, sizeof(r->all));
	pthread_mutex_init(&r->lock, NULL);
	pthread_create(&r->reader, NULL, reader_main, r);
	return 0;
}

static int run_wait(struct run *r)
{
	waitpid(r->pid, &r->status, 0);
	pthread_join(r->reader, NULL);
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

/* Has the run printed a line containing `s`? */
static bool run_saw(struct run *r, const char *s)
{
	pthread_mutex_lock(&r->lock);
	bool seen = false;
	for (size_t i = 0; i < r->all.n && !seen; i++)
		seen = strstr(r->all.v[i], s) != NULL;
	pthread_mutex_unlock(&r->lock);
	return seen;
}

static void sleep_us(long us)
{
	struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* The lines of component `label`, from `from` on, up to `until` (a line
 * of the whole output, exclusive; SIZE_MAX: all). */
static void component_lines(const struct lines *all, const char *label, size_t from, size_t until, struct lines *out)
{
	size_t n = strlen(label);
	for (size_t i = from; i < all->n && i < until; i++) {
		const char *s = all->v[i];
		if (s[0] == '[' && strncmp(s + 1, label, n) == 0 && s[1 + n] == ']')
			lines_add(out, s);
	}
}

/* The labels that print in a run, in order of their first line. */
static void labels_of(const struct lines *all, struct lines *labels)
{
	for (size_t i = 0; i < all->n; i++) {
		const char *s = all->v[i];
		const char *end = s[0] == '[' ? strstr(s, "] ") : NULL;
		if (!end && s[0] == '[')
			end = strchr(s, ']');
		if (!end)
			continue;
		char label[256];
		size_t n = (size_t)(end - s - 1);
		if (n >= sizeof(label))
			continue;
		memcpy(label, s + 1, n);
		label[n] = '\0';
		bool known = false;
		for (size_t j = 0; j < labels->n && !known; j++)
			known = strcmp(labels->v[j], label) == 0;
		if (!known)
			lines_add(labels, label);
	}
}

/* ---- the amber command ------------------------------------------------------- */

static int amber(char *msg, size_t msglen, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char full[2200];
	snprintf(full, sizeof(full), "%s/amber %s 2>&1", build, cmd);
	FILE *p = popen(full, "r");
	if (!p)
		return -1;
	size_t n = fread(msg, 1, msglen - 1, p);
	msg[n] = '\0';
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	int st = pclose(p);
	if (verbose)
		fprintf(stderr, "  $ amber %s -> %d: %s\n", cmd, WIFEXITED(st) ? WEXITSTATUS(st) : -1, msg);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- one workload --------------------------------------------------------- */

struct workload {
	const char *scenario, *component;
	struct lines ref;     /* an uninterrupted run's output */
	double ref_ms;        /* how long it took */
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int reference(struct workload *w)
{
	char *argv[] = { NULL, "--no-control", "--timeout", "60", (char *)w->scenario, NULL };
	char core[1024];
	snprintf(core, sizeof(core), "%s/amber-core", build);
	argv[0] = core;
	struct run r;
	double t0 = now_ms();
	if (run_start(&r, argv) < 0)
		return -1;
	int st = run_wait(&r);
	w->ref_ms = now_ms() - t0;
	w->ref = r.all;
	if (st != 0) {
		fprintf(stderr, "cr-diff: the reference run of %s ended with status %d\n", w->scenario, st);
		return -1;
	}
	return 0;
}

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* init reports events of children that run side by side (announcements,
 * exits): their order is timing, not state, so its lines are compared
 * as a set. */
static bool unordered(const char *label) { return strcmp(label, "init") == 0; }

/* Compare the lines of `label` in `got` with ref[from..]. */
static bool same_from(const struct lines *ref_all, const char *label, size_t from, const struct lines *got,
		      char *why, size_t whylen)
{
	struct lines ref = { 0 };
	component_lines(ref_all, label, 0, SIZE_MAX, &ref);
	if (unordered(label) && from <= ref.n) {
		qsort(ref.v + from, ref.n - from, sizeof(*ref.v), by_string);
		qsort(got->v, got->n, sizeof(*got->v), by_string);
	}
	bool ok = true;
	if (from > ref.n) {
		snprintf(why, whylen, "[%s]: the image says %zu lines were written, the reference has %zu", label, from,
			 ref.n);
		ok = false;
	}
	for (size_t i = 0; ok && i < got->n; i++) {
		if (from + i >= ref.n || strcmp(got->v[i], ref.v[from + i]) != 0) {
			snprintf(why, whylen, "[%s] line %zu after the cut: got \"%s\", expected \"%s\"", label, from + i,
				 got->v[i], from + i < ref.n ? ref.v[from + i] : "(nothing)");
			ok = false;
		}
	}
	if (ok && from + got->n != ref.n) {
		snprintf(why, whylen, "[%s]: %zu lines from line %zu on, the reference has %zu", label, got->n, from,
			 ref.n - from);
		ok = false;
	}
	lines_free(&ref);
	return ok;
}

/* Like same_from, but for a label whose lines may come in either order
 * (init reporting children that end at the same moment): the k lines this
 * run printed before the cut and the ones after it, as a whole, against
 * the whole reference. An order that differed before the cut is no
 * divergence then. */
static bool same_around_cut(const struct lines *ref_all, const struct lines *run_all, const char *label, size_t k,
			    const struct lines *got, char *why, size_t whylen)
{
	if (!unordered(label))
		return same_from(ref_all, label, k, got, why, whylen);
	struct lines pre = { 0 }, all = { 0 };
	component_lines(run_all, label, 0, SIZE_MAX, &pre);
	for (size_t i = 0; i < k && i < pre.n; i++)
		lines_add(&all, pre.v[i]);
	for (size_t i = 0; i < got->n; i++)
		lines_add(&all, got->v[i]);
	bool ok = pre.n >= k && same_from(ref_all, label, 0, &all, why, whylen);
	if (pre.n < k)
		snprintf(why, whylen, "[%s]: %zu lines before the cut, the image says %zu", label, pre.n, k);
	lines_free(&pre);
	lines_free(&all);
	return ok;
}

static int64_t image_lines(const AmberImg__Image *img, const char *label)
{
	for (size_t i = 0; i < img->n_components; i++)
		if (strcmp(img->components[i]->name, label) == 0)
			return (int64_t)img->components[i]->log_lines;
	return -1;
}

/* The index of the first line containing s, or all->n. */
static size_t find_line(const struct lines *all, const char *s)
{
	for (size_t i = 0; i < all->n; i++)
		if (strstr(all->v[i], s))
			return i;
	return all->n;
}

/* A diverged point's output, kept next to its image (DIR.log) to read. */
static void keep_output(const char *dir, const struct lines *a, const struct lines *b)
{
	char path[600];
	snprintf(path, sizeof(path), "%s.log", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	for (size_t i = 0; a && i < a->n; i++)
		fprintf(f, "%s\n", a->v[i]);
	if (b && b->n)
		fprintf(f, "---- amber-core --restore\n");
	for (size_t i = 0; b && i < b->n; i++)
		fprintf(f, "%s\n", b->v[i]);
	fclose(f);
}

/* One point. 1: agreed, 0: skipped (too late), -1: diverged (why). */
static unsigned incremental_points; /* whose image was incremental */
static unsigned lazy_points;        /* restored with --lazy */

/* A point drawn again, or agreed: its images go. */
static void remove_images(const char *dir)
{
	char rm[1400];
	snprintf(rm, sizeof(rm), "rm -rf '%s' '%s.base'", dir, dir);
	if (system(rm) != 0)
		fprintf(stderr, "cr-diff: cannot remove %s\n", dir);
}

static int point(struct workload *w, enum mode mode, bool incr, bool lazy, unsigned seed, double within, char *why,
		 size_t whylen)
{
	char name[64], dir[512], core[1024], msg[4096];
	snprintf(name, sizeof(name), "crdiff-%d-%u", (int)getpid(), seed);
	snprintf(dir, sizeof(dir), "%s/%s.img", tmp, name);
	snprintf(core, sizeof(core), "%s/amber-core", build);
	char limit[32];
	/* Generous: on a loaded machine (load average 9, two CPUs) the RPC
	 * entrypoint churn took more than 5x its reference and 10 s, and a
	 * slow run is no divergence; a hang still ends. */
	snprintf(limit, sizeof(limit), "%ld", (long)(w->ref_ms * 20 / 1000) + 30);
	char *argv[] = { core, "--control", name, "--timeout", limit, (char *)w->scenario, NULL };
	struct run r;
	if (run_start(&r, argv) < 0) {
		snprintf(why, whylen, "cannot start amber-core");
		return -1;
	}
	for (int i = 0; i < 2000 && !run_saw(&r, "control socket"); i++)
		sleep_us(1000);
	long delay = (long)((double)(rand_r(&seed) % 1000) / 1000.0 * w->ref_ms * 1000.0 * 0.9 * within);
	char base[600] = "", parent[640] = "";
	if (incr && mode != MODE_KILL) {
		sleep_us(delay / 2);
		snprintf(base, sizeof(base), "%s.base", dir);
		if (amber(msg, sizeof(msg), "-s %s checkpoint '%s' '%s'", name, w->component, base) == 0)
			snprintf(parent, sizeof(parent), "--parent '%s'", base);
		sleep_us(delay - delay / 2);
	} else {
		sleep_us(delay);
	}
	int st = amber(msg, sizeof(msg), "-s %s checkpoint %s %s '%s' '%s'", name, mode == MODE_KILL ? "--kill" : "",
		       parent, w->component, dir);
	bool incremental = st == 0 && strstr(msg, "; incremental: ");
	if (st != 0 && (strstr(msg, "closed the connection") || strstr(msg, "Broken pipe"))) {
		/* amber-core went away during the request: fine only if the
		 * scenario ended by itself. */
		int end = run_wait(&r);
		lines_free(&r.all);
		if (end == 0) {
			remove_images(dir);
			return 0;
		}
		snprintf(why, whylen, "amber-core ended with status %d during the checkpoint", end);
		return -1;
	}
	if (st != 0) {
		kill(r.pid, SIGTERM);
		run_wait(&r);
		if (strstr(msg, "has ended") || strstr(msg, "no component of that name") || strstr(msg, "ending") ||
		    strstr(msg, "no Amber system") || strstr(msg, "not started") || strstr(msg, "try again") ||
		    strstr(msg, "is stopping")) {
			lines_free(&r.all);
			remove_images(dir);
			return 0; /* too late, or caught in a moment it refuses: draw again */
		}
		snprintf(why, whylen, "checkpoint failed: %.900s", msg);
		keep_output(dir, &r.all, NULL);
		lines_free(&r.all);
		return -1;
	}
	AmberImg__Image *img = NULL;
	char err[512];
	if (image_read(dir, &img, err, sizeof(err)) < 0) {
		kill(r.pid, SIGTERM);
		run_wait(&r);
		lines_free(&r.all);
		snprintf(why, whylen, "the image does not read: %s", err);
		return -1;
	}
	const char *restored_marker = NULL;
	char marker[256];
	snprintf(marker, sizeof(marker), "core: %s restored from", img->root);
	struct run fresh = { 0 };
	bool have_fresh = false;
	if (mode == MODE_ROLLBACK || mode == MODE_KILL) {
		sleep_us((long)(rand_r(&seed) % 30) * 1000);
		st = amber(msg, sizeof(msg), "-s %s restore %s '%s'", name, lazy ? "--lazy" : "", dir);
		if (st != 0) {
			/* amber-core went away with the request: fine only if the
			 * scenario ended by itself (its top component exited). */
			bool gone = strstr(msg, "closed the connection") || strstr(msg, "Broken pipe") ||
				    strstr(msg, "is stopping");
			char top_end[300];
			snprintf(top_end, sizeof(top_end), "core: %.*s exited with code", (int)strcspn(w->component, "/"),
				 w->component);
			kill(r.pid, SIGTERM);
			int end = run_wait(&r);
			image_free(img);
			if (strstr(msg, "no Amber system") || strstr(msg, "try again") ||
			    (gone && end == 0 && run_saw(&r, top_end))) {
				lines_free(&r.all);
				remove_images(dir);
				return 0; /* the scenario ended meanwhile, or caught mid-exit: draw again */
			}
			keep_output(dir, &r.all, NULL);
			lines_free(&r.all);
			snprintf(why, whylen, "restore failed: %.900s", msg);
			return -1;
		}
		restored_marker = marker;
	}
	if (mode == MODE_FRESH) {
		kill(r.pid, SIGTERM);
		run_wait(&r);
		char *fargv[] = { core, "--control", name, "--timeout", limit, "--restore", dir, lazy ? "--lazy" : NULL, NULL };
		if (run_start(&fresh, fargv) < 0) {
			snprintf(why, whylen, "cannot start amber-core --restore");
			image_free(img);
			lines_free(&r.all);
			return -1;
		}
		have_fresh = true;
		st = run_wait(&fresh);
		if (st != 0) {
			snprintf(why, whylen, "amber-core --restore ended with status %d", st);
			keep_output(dir, &r.all, &fresh.all);
			image_free(img);
			lines_free(&fresh.all);
			lines_free(&r.all);
			return -1;
		}
	} else {
		st = run_wait(&r);
		if (st != 0) {
			snprintf(why, whylen, "amber-core ended with status %d", st);
			keep_output(dir, &r.all, NULL);
			image_free(img);
			lines_free(&r.all);
			return -1;
		}
	}

	int result = 1;
	struct lines labels = { 0 };
	labels_of(&w->ref, &labels);
	for (size_t i = 0; i < labels.n && result == 1; i++) {
		const char *label = labels.v[i];
		int64_t k = image_lines(img, label);
		struct lines got = { 0 };
		if (mode == MODE_FRESH) {
			if (k < 0)
				continue; /* not in the image: not in the fresh system */
			component_lines(&fresh.all, label, 0, SIZE_MAX, &got);
			if (!same_around_cut(&w->ref, &r.all, label, (size_t)k, &got, why, whylen))
				result = -1;
		} else if (k < 0 && mode != MODE_LIVE) {
			/* Outside the image: a call it was serving for a restored
			 * component is made again (restarted), so it may see
			 * requests twice; only the members are held to the
			 * reference. */
		} else if (mode == MODE_LIVE || k < 0) {
			component_lines(&r.all, label, 0, SIZE_MAX, &got);
			if (!same_from(&w->ref, label, 0, &got, why, whylen))
				result = -1;
		} else {
			size_t cut = find_line(&r.all, restored_marker);
			struct lines before = { 0 }, ref = { 0 };
			component_lines(&r.all, label, 0, cut, &before);
			component_lines(&w->ref, label, 0, SIZE_MAX, &ref);
			for (size_t j = 0; j < before.n && result == 1 && !unordered(label); j++)
				if (j >= ref.n || strcmp(before.v[j], ref.v[j]) != 0) {
					snprintf(why, whylen, "[%s] line %zu before the restore: \"%s\"", label, j, before.v[j]);
					result = -1;
				}
			if (result == 1 && mode == MODE_KILL && before.n != (size_t)k) {
				snprintf(why, whylen, "[%s]: %zu lines before the restore, the cut had %lld", label, before.n,
					 (long long)k);
				result = -1;
			}
			if (result == 1) {
				component_lines(&r.all, label, cut, SIZE_MAX, &got);
				if (!same_around_cut(&w->ref, &r.all, label, (size_t)k, &got, why, whylen))
					result = -1;
			}
			lines_free(&before);
			lines_free(&ref);
		}
		lines_free(&got);
	}
	if (result == 1 && verbose)
		fprintf(stderr, "cr-diff: %s %s %s%s%s at %.1f ms: agreed\n", w->scenario, w->component, mode_names[mode],
			incremental ? " (incremental)" : "", lazy && mode != MODE_LIVE ? " (lazy)" : "",
			(double)delay / 1000.0);
	if (result != 1 && incremental && strlen(why) + 16 < whylen)
		strcat(why, " (incremental)");
	if (result != 1 && lazy && mode != MODE_LIVE && strlen(why) + 16 < whylen)
		strcat(why, " (lazy)");
	incremental_points += result == 1 && incremental;
	lazy_points += result == 1 && lazy && mode != MODE_LIVE;
	lines_free(&labels);
	if (result != 1)
		keep_output(dir, &r.all, have_fresh ? &fresh.all : NULL);
	lines_free(&r.all);
	if (have_fresh)
		lines_free(&fresh.all);
	image_free(img);
	if (result == 1) {
		remove_images(dir);
	}
	return result;
}

/* Is the workload's component the whole scenario: every label it prints
 * the component's or a descendant's? */
static bool whole_scenario(const struct workload *w)
{
	struct lines labels = { 0 };
	labels_of(&w->ref, &labels);
	size_t n = strlen(w->component);
	bool whole = !strchr(w->component, '/');
	for (size_t i = 0; i < labels.n && whole; i++)
		whole = strncmp(labels.v[i], w->component, n) == 0 &&
			(labels.v[i][n] == '\0' || strncmp(labels.v[i] + n, " -> ", 4) == 0);
	lines_free(&labels);
	return whole;
}

static void usage(void)
{
	fprintf(stderr, "usage: cr-diff [--points N] [--seed S] [--mode live|rollback|kill|fresh|all] [--build DIR]\n"
			"               [--tmp DIR] [--verbose] SCENARIO.xml COMPONENT [SCENARIO.xml COMPONENT ...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned points = 20, seed = (unsigned)time(NULL);
	enum mode only = MODE_ALL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--points") == 0 && i + 1 < argc)
			points = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--build") == 0 && i + 1 < argc)
			build = argv[++i];
		else if (strcmp(argv[i], "--tmp") == 0 && i + 1 < argc)
			tmp = argv[++i];
		else if (strcmp(argv[i], "--verbose") == 0)
			verbose = true;
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			const char *m = argv[++i];
			for (only = 0; only < MODE_ALL && strcmp(mode_names[only], m) != 0; only++)
				;
			if (only == MODE_ALL && strcmp(m, "all") != 0)
				usage();
		} else
			usage();
	}
	if (i >= argc || (argc - i) % 2)
		usage();
	size_t nw = (size_t)(argc - i) / 2;
	struct workload *w = calloc(nw, sizeof(*w));
	if (!w)
		return 2;
	for (size_t k = 0; k < nw; k++) {
		w[k].scenario = argv[i + 2 * k];
		w[k].component = argv[i + 2 * k + 1];
		if (reference(&w[k]) < 0)
			return 2;
	}
	printf("cr-diff: seed %u, %u points over %zu workload%s\n", seed, points, nw, nw == 1 ? "" : "s");
	unsigned agreed = 0, diverged = 0, skipped = 0, unchecked = 0;
	for (unsigned p = 0; p < points; p++) {
		unsigned s = seed + p;
		struct workload *x = &w[s % nw];
		enum mode m = only == MODE_ALL ? (enum mode)(s / nw % 4) : only;
		if (m == MODE_FRESH && !whole_scenario(x))
			m = MODE_ROLLBACK; /* a fresh system boots only a whole scenario's image */
		char why[1024] = "";
		int r = 0;
		for (int attempt = 0; attempt < TRIES && r == 0; attempt++) {
			r = point(x, m, s / (nw * 4) % 2 == 1, s / nw % 3 == 2, s * 7919u + (unsigned)attempt,
				  1.0 / (double)(1u << attempt), why, sizeof(why));
			skipped += r == 0;
		}
		if (r > 0) {
			agreed++;
		} else if (r < 0) {
			diverged++;
			printf("cr-diff: DIVERGED: %s %s, %s, point seed %u: %s\n", x->scenario, x->component, mode_names[m],
			       s, why);
		} else {
			unchecked++;
			printf("cr-diff: %s %s: no point caught it running in %d tries\n", x->scenario, x->component, TRIES);
		}
	}
	for (size_t k = 0; k < nw; k++)
		lines_free(&w[k].ref);
	free(w);
	printf("cr-diff: %u agreed (%u of them through an incremental image, %u restored lazily), %u diverged, %u late "
	       "checkpoints drawn again, %u points not checked\n", agreed, incremental_points, lazy_points, diverged,
	       skipped, unchecked);
	printf("%u passed, %u failed\n", agreed, diverged);
	return diverged ? 1 : 0;
}
