/*
 * cr_bench: the checkpoint/restore benchmark of `make bench` (bench/run.sh).
 *
 * For each size N (1, 16, 64, 256 MiB; 1 shows the part that does not grow
 * with memory) it starts amber-core with bench_mem holding N MiB of
 * non-zero RAM (components/bench_mem, a scenario written into the build
 * directory), waits for "bench_mem: ready N MiB", and then, REPS times
 * after one warm-up round, runs
 *
 *   amber -s NAME checkpoint bench_mem DIR     (DIR on /dev/shm)
 *   amber -s NAME restore DIR                  (a rollback in place)
 *   amber -s NAME restore --lazy DIR           (the same image, lazily)
 *
 * and takes amber-core's own figures from the answers: "paused" (the
 * component's threads stopped, until they run again), "cut and copy" (the
 * part of it spent freezing, saving state and copying memory), "total"
 * (the image written and fsync'd too) and the restore's time; for the lazy
 * restore the answer's time (its threads run again) and, from amber-core's
 * "lazy load done in X ms after the request" line, the time until every
 * page is in (core/cr_lazy.c); the median of
 * the REPS rounds is reported. The `amber` commands' wall times (socket,
 * client start) are kept as well.
 *
 * In the same run, on the same sizes, the baselines: memcpy of N MiB
 * between two buffers that were touched before (bandwidth) and into a
 * freshly mapped buffer (bandwidth plus the page faults of a new buffer,
 * which is what the checkpoint's copy does), fork() of a process holding N
 * MiB it touched (page tables copied, no memory), and CRIU if a usable one
 * is there (CRIU=path or `criu` in PATH; `criu check` must pass): dump
 * --leave-running of a plain process holding N MiB (frozen time from
 * --display-stats), restore --restore-detached, and restore --lazy-pages
 * with criu lazy-pages serving the same images over userfaultfd.
 *
 * Then one system with bench_mem (256 MiB) next to an unrelated RPC pair
 * (rpc_bench_server and bench_rpc_probe, which times every round trip
 * with the TSC): the probe's worst and mean round trip in quiet stretches
 * before each checkpoint and while each checkpoint and restore runs.
 *
 * It prints a table and ratios and writes one flat JSON object (-o FILE),
 * with -x KEY=VALUE pairs (numbers from bench/run.sh) added; a figure that
 * could not be measured is null. Exit status 1 if an Amber run failed
 * (amber-core did not start, a checkpoint or restore failed, bench_mem
 * found its memory changed), 2 on a usage error.
 *
 *   cr_bench [-b BUILD] [-r REPS] [-s SIZES] [-d IMAGEDIR] [-o JSON]
 *            [-x KEY=VALUE]... [-R]          (-R: no RPC probe run)
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define MAX_SIZES 8
#define MAX_REPS 50
#define MAX_EXTRA 64 /* run.sh: the IPC figures and the scale runs */
#define READY_TIMEOUT_MS 60000
#define PROBE_QUIET_MS 1000
#define PROBE_ROUNDS 3
#define PROBE_SIZE_MIB 256u
#define PROBE_WINDOW_MS 10

static const char *build_dir = "build";
static char image_root[512];
static int reps = 5;
static unsigned sizes[MAX_SIZES] = { 1, 16, 64, 256 };
static int nsizes = 4;

/* What an interrupted benchmark must not leave behind: the process group
 * of the amber-core it runs, a process held for CRIU, the images (removed
 * by rm, as fork, exec and waitpid are what a signal handler may call). */
static volatile sig_atomic_t live_group, live_holder;

static void on_signal(int sig)
{
	if (live_group > 0)
		kill(-live_group, SIGKILL);
	if (live_holder > 0)
		kill(live_holder, SIGKILL);
	if (image_root[0]) {
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/rm", "rm", "-rf", image_root, (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(128 + sig);
}

/* ---- small things ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double ms_between(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static uint64_t tsc(void)
{
#if HAVE_TSC
	return __rdtsc();
#else
	return 0;
#endif
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of the finite values; NAN if there are none. */
static double median(const double *v, int n)
{
	double s[MAX_REPS];
	int k = 0;
	for (int i = 0; i < n; i++)
		if (isfinite(v[i]))
			s[k++] = v[i];
	if (k == 0)
		return NAN;
	qsort(s, (size_t)k, sizeof(*s), cmp_double);
	return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void *map_touched(size_t bytes, int value)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("cr_bench: mmap");
		exit(1);
	}
	if (value >= 0)
		memset(p, value, bytes);
	return p;
}

/* ---- results ---------------------------------------------------------------- */

struct result {
	char key[64];
	double v; /* NAN: null */
};
static struct result results[256];
static int nresults;

static void put(double v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(double v, const char *fmt, ...)
{
	if (nresults == (int)(sizeof(results) / sizeof(results[0])))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(results[nresults].key, sizeof(results[nresults].key), fmt, ap);
	va_end(ap);
	results[nresults++].v = v;
}

static double get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static double get(const char *fmt, ...)
{
	char key[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	for (int i = 0; i < nresults; i++)
		if (strcmp(results[i].key, key) == 0)
			return results[i].v;
	return NAN;
}

static int write_json(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "cr_bench: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "{\n");
	for (int i = 0; i < nresults; i++) {
		fprintf(f, "  \"%s\": ", results[i].key);
		if (isfinite(results[i].v))
			fprintf(f, "%.3f", results[i].v);
		else
			fprintf(f, "null");
		fprintf(f, "%s\n", i + 1 < nresults ? "," : "");
	}
	fprintf(f, "}\n");
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "cr_bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- running commands ------------------------------------------------------- */

/* Run argv with stdout and stderr captured into out (NUL-terminated,
 * truncated to outlen). Returns the exit status (128+signal if killed,
 * -1 if it could not run); *wall_ms the wall time from fork to exit. */
static int run_capture(char *const argv[], char *out, size_t outlen, double *wall_ms)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	for (;;) {
		char buf[4096];
		ssize_t k = read(p[0], buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		size_t c = (size_t)k;
		if (outlen && n + c > outlen - 1)
			c = outlen - 1 - n;
		memcpy(out + n, buf, c);
		n += c;
	}
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (wall_ms)
		*wall_ms = ms_between(t0, now_ns());
	if (outlen)
		out[n] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- an amber-core and its output ------------------------------------------ */

struct line {
	char *text;
	uint64_t t_ns;
};

struct core_run {
	pid_t pid;
	int fd;
	char name[64];
	pthread_t reader;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct line *lines;
	size_t n, cap;
	bool eof;
};

static void add_line(struct core_run *r, const char *s, size_t len, uint64_t t)
{
	pthread_mutex_lock(&r->mu);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->lines = realloc(r->lines, r->cap * sizeof(*r->lines));
		if (!r->lines)
			abort();
	}
	r->lines[r->n].text = strndup(s, len);
	r->lines[r->n].t_ns = t;
	r->n++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Reads amber-core's output as it comes, so that it never blocks on a
 * full pipe, and keeps every line with the time it arrived. */
static void *reader_main(void *arg)
{
	struct core_run *r = arg;
	char buf[65536];
	size_t have = 0;
	for (;;) {
		ssize_t k = read(r->fd, buf + have, sizeof(buf) - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		uint64_t t = now_ns();
		have += (size_t)k;
		size_t start = 0;
		for (size_t i = 0; i < have; i++) {
			if (buf[i] == '\n') {
				add_line(r, buf + start, i - start, t);
				start = i + 1;
			}
		}
		if (start == 0 && have == sizeof(buf)) { /* a line longer than the buffer */
			add_line(r, buf, have, t);
			start = have;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	if (have)
		add_line(r, buf, have, now_ns());
	pthread_mutex_lock(&r->mu);
	r->eof = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static int core_start(struct core_run *r, const char *scenario, const char *name)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	snprintf(r->name, sizeof(r->name), "%s", name);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	char core[1024];
	snprintf(core, sizeof(core), "%s/amber-core", build_dir);
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		/* Its own process group: stopping it stops any component
		 * process it leaves behind too. */
		setpgid(0, 0);
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(core, core, "--control", name, scenario, (char *)NULL);
		dprintf(2, "cannot run %s: %s\n", core, strerror(errno));
		_exit(127);
	}
	setpgid(r->pid, r->pid);
	live_group = r->pid;
	close(p[1]);
	r->fd = p[0];
	if (pthread_create(&r->reader, NULL, reader_main, r) != 0)
		abort();
	return 0;
}

/* The index of the first line from `from` on that contains `needle`, or
 * -1 after timeout_ms or amber-core's end. */
static long core_wait(struct core_run *r, size_t from, const char *needle, long timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct timespec abs;
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += timeout_ms / 1000;
	abs.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	long found = -1;
	pthread_mutex_lock(&r->mu);
	for (size_t i = from;;) {
		for (; i < r->n; i++) {
			if (strstr(r->lines[i].text, needle)) {
				found = (long)i;
				goto out;
			}
		}
		if (r->eof || now_ns() >= deadline)
			break;
		pthread_cond_timedwait(&r->cv, &r->mu, &abs);
	}
out:
	pthread_mutex_unlock(&r->mu);
	return found;
}

static size_t core_lines(struct core_run *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void core_tail(struct core_run *r, size_t count)
{
	pthread_mutex_lock(&r->mu);
	for (size_t i = r->n > count ? r->n - count : 0; i < r->n; i++)
		fprintf(stderr, "  | %s\n", r->lines[i].text);
	pthread_mutex_unlock(&r->mu);
}

static void core_stop(struct core_run *r)
{
	if (r->pid <= 0)
		return;
	kill(-r->pid, SIGTERM);
	int st;
	pid_t w = 0;
	for (int i = 0; i < 50 && (w = waitpid(r->pid, &st, WNOHANG)) == 0; i++)
		sleep_ms(100);
	kill(-r->pid, SIGKILL); /* whatever is left of the group */
	if (w == 0)
		waitpid(r->pid, &st, 0);
	live_group = 0;
	pthread_join(r->reader, NULL);
	close(r->fd);
	for (size_t i = 0; i < r->n; i++)
		free(r->lines[i].text);
	free(r->lines);
	r->pid = 0;
}

/* ---- Amber checkpoint and restore -------------------------------------------- */

struct cr_sample {
	double pause, copy, total, restore, stored_mib, ckpt_wall, restore_wall;
	double restore_first, restore_full; /* restore --lazy: threads run again, every page in */
};

static int amber_cmd(const char *name, char *const args[], char *out, size_t outlen, double *wall)
{
	char amber[1024];
	snprintf(amber, sizeof(amber), "%s/amber", build_dir);
	char *argv[16] = { amber, "-s", (char *)name };
	int k = 3;
	for (int i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return run_capture(argv, out, outlen, wall);
}

/* Checkpoint bench_mem into dir (against the image in parent, if not
 * NULL), retrying while core says "try again". */
static int checkpoint_on(const char *name, const char *parent, const char *dir, struct cr_sample *s)
{
	char out[4096];
	for (int tries = 0; tries < 20; tries++) {
		char *plain[] = { "checkpoint", "bench_mem", (char *)dir, NULL };
		char *incr[] = { "checkpoint", "--parent", (char *)parent, "bench_mem", (char *)dir, NULL };
		int rc = amber_cmd(name, parent ? incr : plain, out, sizeof(out), &s->ckpt_wall);
		if (rc == 0 && parent && !strstr(out, "; incremental: ")) {
			fprintf(stderr, "cr_bench: checkpoint into %s was not incremental: %s", dir, out);
			return -1;
		}
		const char *p = strstr(out, "paused ");
		const char *m = strstr(out, " MiB stored");
		if (rc == 0 && p && m &&
		    sscanf(p, "paused %lf ms (cut and copy %lf ms), total %lf ms", &s->pause, &s->copy, &s->total) == 3) {
			while (m > out && (isdigit((unsigned char)m[-1]) || m[-1] == '.'))
				m--;
			s->stored_mib = strtod(m, NULL);
			return 0;
		}
		if (!strstr(out, "try again")) {
			fprintf(stderr, "cr_bench: checkpoint into %s failed (status %d): %s", dir, rc, out);
			return -1;
		}
		sleep_ms(20);
	}
	fprintf(stderr, "cr_bench: checkpoint into %s: still refused: %s", dir, out);
	return -1;
}

static int checkpoint(const char *name, const char *dir, struct cr_sample *s)
{
	return checkpoint_on(name, NULL, dir, s);
}

static int restore(const char *name, const char *dir, struct cr_sample *s)
{
	char out[4096];
	for (int tries = 0; tries < 20; tries++) {
		int rc = amber_cmd(name, (char *[]){ "restore", (char *)dir, NULL }, out, sizeof(out), &s->restore_wall);
		const char *p = strstr(out, "restored ");
		const char *in = p ? strstr(p, " in ") : NULL;
		if (rc == 0 && in && sscanf(in, " in %lf ms", &s->restore) == 1)
			return 0;
		if (!strstr(out, "try again")) {
			fprintf(stderr, "cr_bench: restore of %s failed (status %d): %s", dir, rc, out);
			return -1;
		}
		sleep_ms(20);
	}
	fprintf(stderr, "cr_bench: restore of %s: still refused: %s", dir, out);
	return -1;
}

/* The text of amber-core's output line i. */
static void core_line(struct core_run *r, long i, char *buf, size_t len)
{
	pthread_mutex_lock(&r->mu);
	snprintf(buf, len, "%s", i >= 0 && (size_t)i < r->n ? r->lines[i].text : "");
	pthread_mutex_unlock(&r->mu);
}

/* restore --lazy: amber-core's time until the threads run again from the
 * answer, until every page is in from its "lazy load done in X ms after
 * the request" line. */
static int restore_lazy(struct core_run *r, const char *name, const char *dir, struct cr_sample *s)
{
	char out[4096], line[1024];
	size_t from = core_lines(r);
	for (int tries = 0; tries < 20; tries++) {
		int rc = amber_cmd(name, (char *[]){ "restore", "--lazy", (char *)dir, NULL }, out, sizeof(out), NULL);
		const char *p = strstr(out, "restored ");
		const char *in = p ? strstr(p, " in ") : NULL;
		if (rc == 0 && in && sscanf(in, " in %lf ms", &s->restore_first) == 1 && strstr(out, "lazily")) {
			long i = core_wait(r, from, "bench_mem: lazy load done in ", 60000);
			core_line(r, i, line, sizeof(line));
			const char *d = strstr(line, " done in ");
			if (i >= 0 && d && sscanf(d, " done in %lf ms", &s->restore_full) == 1)
				return 0;
			fprintf(stderr, "cr_bench: restore --lazy of %s: no 'lazy load done' from amber-core\n", dir);
			return -1;
		}
		if (!strstr(out, "try again")) {
			fprintf(stderr, "cr_bench: restore --lazy of %s failed (status %d): %s", dir, rc, out);
			return -1;
		}
		sleep_ms(20);
	}
	fprintf(stderr, "cr_bench: restore --lazy of %s: still refused: %s", dir, out);
	return -1;
}

static int write_scenario(const char *path, unsigned mib, bool probe, uint64_t window_cycles, unsigned dirty)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cr_bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<!-- written by bench/cr_bench for make bench -->\n<scenario>\n");
	/* The ram quota: N MiB for the buffer, 32 MiB for the rest. */
	fprintf(f, "  <component name=\"bench_mem\" ram=\"%uM\" caps=\"64\">\n", mib + 32);
	fprintf(f, "    <config><mem mib=\"%u\" dirty=\"%u\"/></config>\n  </component>\n", mib, dirty);
	if (probe) {
		fprintf(f, "  <component name=\"rpc_pong\" binary=\"rpc_bench_server\"><provides><service name=\"rpc_pong\"/></provides></component>\n");
		fprintf(f, "  <component name=\"rpc_probe\" binary=\"bench_rpc_probe\">\n");
		fprintf(f, "    <config><probe window_cycles=\"%lu\"/></config>\n  </component>\n",
			(unsigned long)window_cycles);
	}
	fprintf(f, "</scenario>\n");
	return fclose(f);
}

/* -1 if, from line `from` on, bench_mem found its memory changed, failed
 * or ended ("core: bench_mem exited ..." or "... killed: ..."; a
 * rollback's teardown says only "released"), or amber-core ended. */
static int check_alive(struct core_run *r, size_t from)
{
	static const char *const bad[] = { "[bench_mem] bench_mem: CORRUPT", "[bench_mem] bench_mem: FAIL",
					   "core: bench_mem exited", "core: bench_mem killed" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (core_wait(r, from, bad[i], 0) >= 0)
			return -1;
	pthread_mutex_lock(&r->mu);
	bool eof = r->eof;
	pthread_mutex_unlock(&r->mu);
	return eof ? -1 : 0;
}

static int start_system(struct core_run *r, const char *scenario, const char *name, unsigned mib, bool probe)
{
	char ready[64];
	snprintf(ready, sizeof(ready), "[bench_mem] bench_mem: ready %u MiB", mib);
	if (core_start(r, scenario, name) < 0) {
		fprintf(stderr, "cr_bench: cannot start amber-core: %s\n", strerror(errno));
		return -1;
	}
	if (core_wait(r, 0, ready, READY_TIMEOUT_MS) < 0 ||
	    (probe && core_wait(r, 0, "[rpc_probe] rpc_probe: ready", READY_TIMEOUT_MS) < 0)) {
		fprintf(stderr, "cr_bench: no '%s'%s from amber-core; its last lines:\n", ready,
			probe ? " and '[rpc_probe] rpc_probe: ready'" : "");
		core_tail(r, 10);
		core_stop(r);
		return -1;
	}
	return 0;
}

static int amber_cr(unsigned mib)
{
	char scenario[1024], name[64], dir[1024];
	snprintf(scenario, sizeof(scenario), "%s/bench/cr_bench_mem_%u.xml", build_dir, mib);
	snprintf(name, sizeof(name), "cr-bench-%d-%u", (int)getpid(), mib);
	if (write_scenario(scenario, mib, false, 0, 0) < 0)
		return -1;
	struct core_run r;
	if (start_system(&r, scenario, name, mib, false) < 0)
		return -1;
	struct cr_sample s[MAX_REPS + 1];
	int rc = 0;
	for (int i = 0; i <= reps && rc == 0; i++) { /* round 0: warm-up */
		size_t from = core_lines(&r);
		snprintf(dir, sizeof(dir), "%s/mem%u-%d", image_root, mib, i);
		rc = checkpoint(name, dir, &s[i]);
		if (rc == 0)
			rc = restore(name, dir, &s[i]);
		sleep_ms(30); /* bench_mem checks a page every 10 ms */
		if (rc == 0 && (rc = check_alive(&r, from)) < 0)
			fprintf(stderr, "cr_bench: bench_mem did not survive checkpoint and restore %d:\n", i);
		if (rc == 0) /* the same image again, lazily */
			rc = restore_lazy(&r, name, dir, &s[i]);
		sleep_ms(30);
		if (rc == 0 && (rc = check_alive(&r, from)) < 0)
			fprintf(stderr, "cr_bench: bench_mem did not survive a lazy restore %d:\n", i);
		if (rc < 0)
			core_tail(&r, 10);
		rm_rf(dir);
	}
	core_stop(&r);
	if (rc < 0)
		return -1;
	double v[MAX_REPS];
#define MED(field, key)                                          \
	do {                                                     \
		for (int i = 0; i < reps; i++)                   \
			v[i] = s[i + 1].field;                   \
		put(median(v, reps), key "_%u", mib);            \
	} while (0)
	MED(pause, "cr_pause_ms");
	MED(copy, "cr_cut_copy_ms");
	MED(total, "cr_total_ms");
	MED(restore, "cr_restore_ms");
	MED(ckpt_wall, "cr_checkpoint_wall_ms");
	MED(restore_wall, "cr_restore_wall_ms");
	MED(restore_first, "cr_restore_first_ms");
	MED(restore_full, "cr_restore_full_ms");
	MED(stored_mib, "cr_stored_mib");
#undef MED
	return 0;
}

/* Incremental checkpoints: bench_mem writes `dirty` percent of its pages
 * every 10 ms. A full checkpoint, then REPS more each against the one
 * before, 30 ms apart; then the chain's last image is restored (every
 * image of the chain read). */
static int amber_incr(unsigned mib, unsigned dirty)
{
	char scenario[1024], name[64], dir[1024], prev[1024];
	snprintf(scenario, sizeof(scenario), "%s/bench/cr_bench_incr_%u_%u.xml", build_dir, mib, dirty);
	snprintf(name, sizeof(name), "cr-bench-%d-incr-%u-%u", (int)getpid(), mib, dirty);
	if (write_scenario(scenario, mib, false, 0, dirty) < 0)
		return -1;
	struct core_run r;
	if (start_system(&r, scenario, name, mib, false) < 0)
		return -1;
	struct cr_sample s[MAX_REPS + 1], last;
	size_t from = core_lines(&r);
	int rc = 0;
	for (int i = 0; i <= reps && rc == 0; i++) { /* round 0: the full image */
		snprintf(dir, sizeof(dir), "%s/incr%u-%u-%d", image_root, mib, dirty, i);
		rc = checkpoint_on(name, i ? prev : NULL, dir, &s[i]);
		snprintf(prev, sizeof(prev), "%s", dir);
		sleep_ms(30);
	}
	if (rc == 0)
		rc = restore(name, dir, &last);
	sleep_ms(30);
	if (rc == 0 && (rc = check_alive(&r, from)) < 0)
		fprintf(stderr, "cr_bench: bench_mem did not survive the incremental checkpoints and restore:\n");
	if (rc < 0)
		core_tail(&r, 10);
	core_stop(&r);
	for (int i = 0; i <= reps; i++) {
		snprintf(dir, sizeof(dir), "%s/incr%u-%u-%d", image_root, mib, dirty, i);
		rm_rf(dir);
	}
	if (rc < 0)
		return -1;
	double v[MAX_REPS];
	for (int i = 0; i < reps; i++)
		v[i] = s[i + 1].pause;
	put(median(v, reps), "cr_pause_incr%u_ms_%u", dirty, mib);
	for (int i = 0; i < reps; i++)
		v[i] = s[i + 1].total;
	put(median(v, reps), "cr_total_incr%u_ms_%u", dirty, mib);
	for (int i = 0; i < reps; i++)
		v[i] = s[i + 1].stored_mib;
	put(median(v, reps), "cr_stored_incr%u_mib_%u", dirty, mib);
	put(s[0].pause, "cr_pause_full_ms_%u", mib);
	put(s[0].total, "cr_total_full_ms_%u", mib);
	put(last.restore, "cr_restore_chain%u_ms_%u", dirty, mib);
	printf("%u MiB, %u%% written between checkpoints: full pause %.2f ms, total %.2f ms; incremental pause %.2f ms, "
	       "total %.2f ms, %.1f MiB stored; restore through a chain of %d: %.2f ms\n",
	       mib, dirty, s[0].pause, s[0].total, get("cr_pause_incr%u_ms_%u", dirty, mib),
	       get("cr_total_incr%u_ms_%u", dirty, mib), get("cr_stored_incr%u_mib_%u", dirty, mib), reps + 1,
	       last.restore);
	return 0;
}

/* Periodic checkpoints: cr_writer (16 MiB, rewritten page by page all the
 * time, logging every 8192 steps) alone for PERIODIC_MS, then as long with
 * `amber checkpoint --every 10ms` running on it; the slowdown is the drop
 * of its steps per second. The worst case for incremental images: every
 * page is written again between two checkpoints. */
#define PERIODIC_MS 2000

/* cr_writer's steps per second over lines [from, to). */
static double writer_rate(struct core_run *r, size_t from, size_t to)
{
	uint64_t t0 = 0, t1 = 0;
	unsigned long s0 = 0, s1 = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = from; i < to && i < r->n; i++) {
		unsigned long s;
		const char *p = strstr(r->lines[i].text, "cr_writer: step ");
		if (!p || sscanf(p, "cr_writer: step %lu", &s) != 1)
			continue;
		if (!t0) {
			t0 = r->lines[i].t_ns;
			s0 = s;
		}
		t1 = r->lines[i].t_ns;
		s1 = s;
	}
	pthread_mutex_unlock(&r->mu);
	return t1 > t0 ? (double)(s1 - s0) / ((double)(t1 - t0) / 1e9) : NAN;
}

static int periodic_writer(void)
{
	char scenario[1024], name[64], dir[1024], amber[1024];
	snprintf(scenario, sizeof(scenario), "%s/bench/cr_bench_writer.xml", build_dir);
	snprintf(name, sizeof(name), "cr-bench-%d-writer", (int)getpid());
	snprintf(dir, sizeof(dir), "%s/periodic", image_root);
	snprintf(amber, sizeof(amber), "%s/amber", build_dir);
	FILE *f = fopen(scenario, "w");
	if (!f)
		return -1;
	fprintf(f, "<scenario>\n  <component name=\"cr_writer\" ram=\"32M\" caps=\"32\">\n"
		   "    <config><writer rounds=\"1000000\"/></config>\n  </component>\n</scenario>\n");
	fclose(f);
	struct core_run r;
	if (core_start(&r, scenario, name) < 0 || core_wait(&r, 0, "memory consistent", READY_TIMEOUT_MS) < 0) {
		fprintf(stderr, "cr_bench: cr_writer did not start\n");
		core_stop(&r);
		return -1;
	}
	size_t a = core_lines(&r);
	sleep_ms(PERIODIC_MS);
	size_t b = core_lines(&r);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		dup2(devnull, 1);
		execl(amber, amber, "-s", name, "checkpoint", "--every", "10ms", "cr_writer", dir, (char *)NULL);
		_exit(127);
	}
	sleep_ms(PERIODIC_MS);
	size_t c = core_lines(&r);
	kill(pid, SIGTERM);
	int st = 0;
	waitpid(pid, &st, 0);
	bool failed = core_wait(&r, 0, "FAIL", 0) >= 0;
	double alone = writer_rate(&r, a, b), busy = writer_rate(&r, b, c);
	core_stop(&r);
	rm_rf(dir);
	if (failed || !(alone > 0) || !(busy >= 0)) {
		fprintf(stderr, "cr_bench: the periodic checkpoints of cr_writer failed\n");
		return -1;
	}
	put(alone, "periodic_writer_steps_per_s_alone");
	put(busy, "periodic_writer_steps_per_s_100hz");
	put(100.0 * (alone - busy) / alone, "periodic_100hz_slowdown_pct");
	printf("cr_writer (16 MiB rewritten all the time) under checkpoint --every 10ms: %.0f steps/s, alone %.0f: "
	       "%.1f%% slower\n", busy, alone, get("periodic_100hz_slowdown_pct"));
	return 0;
}

/* ---- the RPC pair next to a checkpoint ----------------------------------------- */

struct probe_window {
	uint64_t start, end, n, sum, max, max_at;
};

struct span {
	uint64_t a, b; /* TSC */
};

struct probe_stat {
	uint64_t worst, calls, cycles;
};

static void probe_add(struct probe_stat *st, const struct probe_window *w)
{
	if (w->max > st->worst)
		st->worst = w->max;
	st->calls += w->n;
	st->cycles += w->sum;
}

static int rpc_probe(double tsc_per_ns)
{
	unsigned mib = PROBE_SIZE_MIB;
	char scenario[1024], name[64], dir[1024];
	uint64_t window = (uint64_t)(tsc_per_ns * PROBE_WINDOW_MS * 1e6);
	snprintf(scenario, sizeof(scenario), "%s/bench/cr_bench_probe_%u.xml", build_dir, mib);
	snprintf(name, sizeof(name), "cr-bench-%d-probe", (int)getpid());
	if (write_scenario(scenario, mib, true, window, 0) < 0)
		return -1;
	struct core_run r;
	if (start_system(&r, scenario, name, mib, true) < 0)
		return -1;
	sleep_ms(300);
	struct span quiet[PROBE_ROUNDS], ckpt[PROBE_ROUNDS], rest[PROBE_ROUNDS];
	double pause[PROBE_ROUNDS], total[PROBE_ROUNDS];
	int rc = 0;
	for (int i = 0; i < PROBE_ROUNDS && rc == 0; i++) {
		struct cr_sample s;
		snprintf(dir, sizeof(dir), "%s/probe-%d", image_root, i);
		quiet[i].a = tsc();
		sleep_ms(PROBE_QUIET_MS);
		quiet[i].b = ckpt[i].a = tsc();
		rc = checkpoint(name, dir, &s);
		ckpt[i].b = tsc();
		pause[i] = s.pause;
		total[i] = s.total;
		sleep_ms(100);
		rest[i].a = tsc();
		if (rc == 0)
			rc = restore(name, dir, &s);
		rest[i].b = tsc();
		sleep_ms(200);
		rm_rf(dir);
	}
	sleep_ms(2 * PROBE_WINDOW_MS + 50); /* the windows around the last restore */
	if (rc == 0 && core_wait(&r, 0, "[rpc_probe] rpc_probe: FAIL", 0) >= 0) {
		fprintf(stderr, "cr_bench: the RPC probe failed:\n");
		rc = -1;
	} else if (rc == 0 && check_alive(&r, 0) < 0) {
		fprintf(stderr, "cr_bench: bench_mem did not survive checkpoint and restore next to the RPC pair:\n");
		rc = -1;
	}
	if (rc < 0)
		core_tail(&r, 10);

	struct probe_stat q = { 0 }, c = { 0 }, x = { 0 };
	size_t windows = 0;
	pthread_mutex_lock(&r.mu);
	for (size_t i = 0; i < r.n && rc == 0; i++) {
		struct probe_window w;
		const char *p = strstr(r.lines[i].text, "[rpc_probe] rpc_probe: w ");
		if (!p || sscanf(p, "[rpc_probe] rpc_probe: w %lu %lu n %lu sum %lu max %lu at %lu", &w.start, &w.end,
				 &w.n, &w.sum, &w.max, &w.max_at) != 6)
			continue;
		windows++;
		for (int k = 0; k < PROBE_ROUNDS; k++) {
			/* A window counts for a checkpoint or restore if it
			 * overlaps it, for the quiet stretch if inside it. */
			if (w.start < ckpt[k].b && w.end > ckpt[k].a)
				probe_add(&c, &w);
			else if (w.start < rest[k].b && w.end > rest[k].a)
				probe_add(&x, &w);
			else if (w.start >= quiet[k].a && w.end <= quiet[k].b)
				probe_add(&q, &w);
		}
	}
	pthread_mutex_unlock(&r.mu);
	core_stop(&r);
	if (rc < 0)
		return -1;
	if (!q.calls || !c.calls || !x.calls) {
		fprintf(stderr, "cr_bench: the RPC probe logged %zu windows, too few to compare\n", windows);
		return 0;
	}
	double us = tsc_per_ns * 1000;
	put(median(pause, PROBE_ROUNDS), "cr_pause_ms_%u_rpc_load", mib);
	put(median(total, PROBE_ROUNDS), "cr_total_ms_%u_rpc_load", mib);
	put((double)q.worst / us, "rpc_worst_us_quiet");
	put((double)c.worst / us, "rpc_worst_us_checkpoint_%u", mib);
	put((double)x.worst / us, "rpc_worst_us_restore_%u", mib);
	put((double)q.cycles / (double)q.calls / us, "rpc_mean_us_quiet");
	put((double)c.cycles / (double)c.calls / us, "rpc_mean_us_checkpoint_%u", mib);
	put((double)x.cycles / (double)x.calls / us, "rpc_mean_us_restore_%u", mib);
	return 0;
}

/* ---- baselines ------------------------------------------------------------------ */

/* A memfd of `bytes` filled with non-zero data, as core's dataspaces are. */
static int filled_memfd(size_t bytes)
{
	int fd = memfd_create("cr_bench", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0) {
		perror("cr_bench: memfd");
		exit(1);
	}
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("cr_bench: mmap");
		exit(1);
	}
	memset(m, 0x5a, bytes);
	munmap(m, bytes);
	return fd;
}

static void pread_all(int fd, uint8_t *dst, size_t bytes)
{
	for (size_t at = 0; at < bytes;) {
		ssize_t k = pread(fd, dst + at, bytes - at, (off_t)at);
		if (k <= 0) {
			perror("cr_bench: pread");
			exit(1);
		}
		at += (size_t)k;
	}
}

/* What a copy of N MiB costs on this machine, each the median of REPS:
 *   memcpy        between two buffers touched before: memory bandwidth;
 *   memcpy_fresh  into a buffer mapped just before: plus a page fault and
 *                 a zeroed page for every 4 KiB;
 *   pread_fresh   from a filled memfd into a fresh buffer: the checkpoint's
 *                 copy (core's dataspaces are memfds, read with pread into
 *                 a buffer it has just calloc'd);
 *   write         of N MiB into a new file next to the images, fsync'd:
 *                 what writing the image adds to the copy;
 *   fork          of this process while it holds N MiB it touched (and
 *                 little else): page tables copied, no memory. */
static void baselines(unsigned mib)
{
	size_t bytes = (size_t)mib << 20;
	double touched[MAX_REPS], fresh[MAX_REPS], pfresh[MAX_REPS], wr[MAX_REPS], forked[MAX_REPS];
	volatile uint8_t sink = 0;
	uint8_t *src = map_touched(bytes, 0x5a), *dst = map_touched(bytes, 0xa5);
	int memfd = filled_memfd(bytes);
	char file[1024];
	snprintf(file, sizeof(file), "%s/write-test", image_root);
	for (int i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();
		memcpy(dst, src, bytes);
		touched[i] = ms_between(t0, now_ns());
		sink ^= dst[bytes - 1];

		uint8_t *nd = map_touched(bytes, -1);
		t0 = now_ns();
		memcpy(nd, src, bytes);
		fresh[i] = ms_between(t0, now_ns());
		sink ^= nd[bytes / 2];
		munmap(nd, bytes);

		nd = map_touched(bytes, -1);
		t0 = now_ns();
		pread_all(memfd, nd, bytes);
		pfresh[i] = ms_between(t0, now_ns());
		sink ^= nd[bytes / 2];
		munmap(nd, bytes);

		t0 = now_ns();
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		size_t at = 0;
		while (fd >= 0 && at < bytes) {
			ssize_t k = write(fd, src + at, bytes - at);
			if (k <= 0)
				break;
			at += (size_t)k;
		}
		wr[i] = fd >= 0 && at == bytes && fsync(fd) == 0 ? ms_between(t0, now_ns()) : NAN;
		if (fd >= 0)
			close(fd);
		unlink(file);
	}
	close(memfd);
	munmap(dst, bytes);
	for (int i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		forked[i] = pid > 0 ? ms_between(t0, now_ns()) : NAN;
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	munmap(src, bytes);
	(void)sink;
	put(median(touched, reps), "memcpy_ms_%u", mib);
	put(median(fresh, reps), "memcpy_fresh_ms_%u", mib);
	put(median(pfresh, reps), "pread_fresh_ms_%u", mib);
	put(median(wr, reps), "write_fsync_ms_%u", mib);
	put(median(forked, reps), "fork_ms_%u", mib);
}

/* ---- CRIU ------------------------------------------------------------------------ */

static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* CRIU from $CRIU or PATH; NULL if there is none. */
static const char *find_criu(char *buf, size_t len)
{
	const char *env = getenv("CRIU");
	if (env && *env)
		return env;
	const char *path = getenv("PATH");
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		snprintf(buf, len, "%.*s/criu", (int)n, n ? path : ".");
		if (executable(buf))
			return buf;
		path = end ? end + 1 : NULL;
	}
	return NULL;
}

/* A plain process holding `bytes` of touched memory and nothing open but
 * /dev/null: what CRIU dumps. Returns its pid once the memory is touched. */
static pid_t criu_holder(size_t bytes)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		uint8_t *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(1);
		memset(m, 0x5a, bytes);
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		(void)!write(p[1], "r", 1);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	ssize_t k = pid > 0 ? read(p[0], &c, 1) : -1;
	close(p[0]);
	if (pid > 0 && k != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static double stat_us(const char *out, const char *label)
{
	const char *p = strstr(out, label);
	return p ? strtod(p + strlen(label), NULL) : NAN;
}

static void kill_wait(pid_t pid)
{
	kill(pid, SIGKILL);
	/* Ours, or (restored detached) reparented to us as subreaper. */
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid || (kill(pid, 0) < 0 && errno == ESRCH))
			return;
		sleep_ms(10);
	}
}

/* criu lazy-pages serving dir's pages over userfaultfd while criu restore
 * --lazy-pages brings the process back: the restore's time (its "Restore
 * time", else the wall time), or NAN with the reason printed. The daemon
 * ends once it has sent every page. */
static double criu_lazy_restore(const char *criu, const char *dir, pid_t pid, char *out, size_t outlen)
{
	pid_t daemon = fork();
	if (daemon == 0) {
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(criu, criu, "lazy-pages", "-D", dir, (char *)NULL);
		_exit(127);
	}
	if (daemon < 0)
		return NAN;
	char sock[1100];
	snprintf(sock, sizeof(sock), "%s/lazy-pages.socket", dir);
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		sleep_ms(10);
	char *rest[] = { (char *)criu, "restore", "-D", (char *)dir, "--shell-job", "--restore-detached",
			 "--lazy-pages", "--display-stats", NULL };
	double wall, t = NAN;
	int rc = run_capture(rest, out, outlen, &wall);
	if (rc == 0) {
		t = stat_us(out, "Restore time:") / 1000;
		if (!isfinite(t))
			t = wall;
	} else {
		fprintf(stderr, "cr_bench: criu restore --lazy-pages failed (status %d)\n", rc);
	}
	for (int i = 0; i < 300 && waitpid(daemon, NULL, WNOHANG) == 0; i++)
		sleep_ms(10); /* until every page is sent */
	kill(daemon, SIGKILL);
	waitpid(daemon, NULL, 0);
	if (rc == 0)
		kill_wait(pid);
	return t;
}

static void criu_bench(const char *criu, unsigned mib)
{
	size_t bytes = (size_t)mib << 20;
	double frozen[MAX_REPS], dump_wall[MAX_REPS], restore_t[MAX_REPS], lazy_t[MAX_REPS];
	static char out[1 << 16];
	int n = reps < 3 ? reps : 3; /* CRIU is slow; three rounds */
	for (int i = 0; i < n; i++) {
		frozen[i] = dump_wall[i] = restore_t[i] = lazy_t[i] = NAN;
		char dir[1024], pidbuf[32];
		snprintf(dir, sizeof(dir), "%s/criu%u-%d", image_root, mib, i);
		mkdir(dir, 0700);
		pid_t pid = criu_holder(bytes);
		if (pid < 0)
			continue;
		live_holder = pid;
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
		char *dump[] = { (char *)criu, "dump", "--leave-running", "-t", pidbuf, "-D", dir, "--shell-job",
				 "--display-stats", NULL };
		int rc = run_capture(dump, out, sizeof(out), &dump_wall[i]);
		if (rc != 0) {
			fprintf(stderr, "cr_bench: criu dump of %u MiB failed (status %d)\n", mib, rc);
			kill_wait(pid);
			live_holder = 0;
			rm_rf(dir);
			continue;
		}
		frozen[i] = stat_us(out, "Frozen time:") / 1000;
		if (!isfinite(frozen[i]))
			frozen[i] = dump_wall[i]; /* no stats: the wall time, an upper bound */
		kill_wait(pid);
		char *rest[] = { (char *)criu, "restore", "-D", dir, "--shell-job", "--restore-detached",
				 "--display-stats", NULL };
		double wall;
		rc = run_capture(rest, out, sizeof(out), &wall);
		if (rc == 0) {
			restore_t[i] = stat_us(out, "Restore time:") / 1000;
			if (!isfinite(restore_t[i]))
				restore_t[i] = wall;
			kill_wait(pid); /* the restored process has the old pid */
			lazy_t[i] = criu_lazy_restore(criu, dir, pid, out, sizeof(out));
		} else {
			fprintf(stderr, "cr_bench: criu restore of %u MiB failed (status %d)\n", mib, rc);
		}
		live_holder = 0;
		rm_rf(dir);
	}
	put(median(frozen, n), "criu_dump_frozen_ms_%u", mib);
	put(median(dump_wall, n), "criu_dump_wall_ms_%u", mib);
	put(median(restore_t, n), "criu_restore_ms_%u", mib);
	put(median(lazy_t, n), "criu_lazy_restore_ms_%u", mib);
}

/* ---- the report ------------------------------------------------------------------ */

static void fmt_ms(char *buf, size_t len, double v)
{
	if (isfinite(v))
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "-");
}

static void ratio(double v, const char *base, double b, bool *first)
{
	if (!isfinite(v))
		return;
	printf("%s ", *first ? " =" : ",");
	if (isfinite(b) && b > 0)
		printf("%.1fx %s (%.2f ms)", v / b, base, b);
	else
		printf("%s: none", base);
	*first = false;
}

static void report(const char *criu_note)
{
	printf("\n%-8s %8s %8s %8s %8s | %8s %8s %8s %8s %8s | %8s %8s\n", "size", "pause", "cut+copy", "total",
	       "restore", "memcpy", "memcpy*", "pread*", "write", "fork", "criu frz", "criu rst");
	for (int i = 0; i < nsizes; i++) {
		unsigned m = sizes[i];
		double v[11] = { get("cr_pause_ms_%u", m),	    get("cr_cut_copy_ms_%u", m),
				 get("cr_total_ms_%u", m),	    get("cr_restore_ms_%u", m),
				 get("memcpy_ms_%u", m),	    get("memcpy_fresh_ms_%u", m),
				 get("pread_fresh_ms_%u", m),	    get("write_fsync_ms_%u", m),
				 get("fork_ms_%u", m),		    get("criu_dump_frozen_ms_%u", m),
				 get("criu_restore_ms_%u", m) };
		char s[11][32];
		for (int k = 0; k < 11; k++)
			fmt_ms(s[k], sizeof(s[k]), v[k]);
		char label[16];
		snprintf(label, sizeof(label), "%u MiB", m);
		printf("%-8s %8s %8s %8s %8s | %8s %8s %8s %8s %8s | %8s %8s\n", label, s[0], s[1], s[2], s[3], s[4],
		       s[5], s[6], s[7], s[8], s[9], s[10]);
	}
	printf("(ms, median of %d. Amber: pause, its cut and copy, total with the image written, restore in place.\n"
	       " memcpy: into a touched buffer; memcpy*/pread*: memcpy/pread of a memfd into a fresh buffer;\n"
	       " write: the N MiB to a file next to the images, fsync'd; fork: of a process holding N MiB;\n"
	       " criu: %s)\n\n",
	       reps, criu_note);
	for (int i = 0; i < nsizes; i++) {
		unsigned m = sizes[i];
		double pause = get("cr_pause_ms_%u", m), total = get("cr_total_ms_%u", m),
		       rest = get("cr_restore_ms_%u", m);
		bool first = true;
		printf("pause %u MiB: %.2f ms", m, pause);
		ratio(pause, "memcpy", get("memcpy_ms_%u", m), &first);
		ratio(pause, "pread into fresh memory", get("pread_fresh_ms_%u", m), &first);
		ratio(pause, "fork", get("fork_ms_%u", m), &first);
		ratio(pause, "criu frozen", get("criu_dump_frozen_ms_%u", m), &first);
		printf("\n");
		first = true;
		printf("total %u MiB: %.2f ms", m, total);
		ratio(total, "memcpy", get("memcpy_ms_%u", m), &first);
		ratio(total, "pread* + write", get("pread_fresh_ms_%u", m) + get("write_fsync_ms_%u", m), &first);
		ratio(total, "criu dump", get("criu_dump_wall_ms_%u", m), &first);
		printf("\n");
		first = true;
		printf("restore %u MiB: %.2f ms", m, rest);
		ratio(rest, "memcpy", get("memcpy_ms_%u", m), &first);
		ratio(rest, "memcpy into fresh memory", get("memcpy_fresh_ms_%u", m), &first);
		ratio(rest, "criu restore", get("criu_restore_ms_%u", m), &first);
		printf("\n");
		double lazy_first = get("cr_restore_first_ms_%u", m), lazy_full = get("cr_restore_full_ms_%u", m);
		first = true;
		printf("restore --lazy %u MiB: threads run after %.2f ms", m, lazy_first);
		ratio(lazy_first, "criu restore", get("criu_restore_ms_%u", m), &first);
		ratio(lazy_first, "criu lazy restore", get("criu_lazy_restore_ms_%u", m), &first);
		printf("\n");
		first = true;
		printf("restore --lazy %u MiB: every page in after %.2f ms", m, lazy_full);
		ratio(lazy_full, "criu restore", get("criu_restore_ms_%u", m), &first);
		ratio(lazy_full, "restore", rest, &first);
		printf("\n");
	}
}

static void report_probe(void)
{
	unsigned m = PROBE_SIZE_MIB;
	double qw = get("rpc_worst_us_quiet"), cw = get("rpc_worst_us_checkpoint_%u", m),
	       rw = get("rpc_worst_us_restore_%u", m), qm = get("rpc_mean_us_quiet"),
	       cm = get("rpc_mean_us_checkpoint_%u", m), rm = get("rpc_mean_us_restore_%u", m);
	if (!isfinite(qw))
		return;
	printf("\nunrelated RPC pair (rpc_bench_server <- bench_rpc_probe), %d rounds, %u MiB bench_mem:\n",
	       PROBE_ROUNDS, m);
	printf("  quiet (%d x %d ms before each checkpoint): worst %.0f us, mean %.1f us\n", PROBE_ROUNDS,
	       PROBE_QUIET_MS, qw, qm);
	printf("  during checkpoint (pause %.2f ms, total %.2f ms under this load): worst %.0f us = %.1fx quiet, mean "
	       "%.1f us\n",
	       get("cr_pause_ms_%u_rpc_load", m), get("cr_total_ms_%u_rpc_load", m), cw, cw / qw, cm);
	printf("  during restore: worst %.0f us = %.1fx quiet, mean %.1f us\n", rw, rw / qw, rm);
}

static void loadavg(const char *when)
{
	char buf[128] = "";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	printf("load average %s: %s\n", when, buf);
}

static void usage(void)
{
	fprintf(stderr, "usage: cr_bench [-b BUILD] [-r REPS] [-s SIZES] [-d IMAGEDIR] [-o JSON] [-x KEY=VALUE]... [-R] [-I]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *json = NULL, *extra[MAX_EXTRA];
	int nextra = 0, opt;
	bool probe = HAVE_TSC, incremental = true;
	const char *images = NULL;
	while ((opt = getopt(argc, argv, "b:r:s:d:o:x:RI")) != -1) {
		switch (opt) {
		case 'b':
			build_dir = optarg;
			break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > MAX_REPS)
				usage();
			break;
		case 's': {
			nsizes = 0;
			for (char *s = optarg; *s && nsizes < MAX_SIZES;) {
				char *end;
				unsigned long v = strtoul(s, &end, 10);
				if (end == s || v == 0 || v > 4096)
					usage();
				sizes[nsizes++] = (unsigned)v;
				s = *end == ',' ? end + 1 : end;
				if (*end && *end != ',')
					usage();
			}
			break;
		}
		case 'd':
			images = optarg;
			break;
		case 'o':
			json = optarg;
			break;
		case 'x':
			if (nextra == MAX_EXTRA || !strchr(optarg, '='))
				usage();
			extra[nextra++] = optarg;
			break;
		case 'R':
			probe = false;
			break;
		case 'I':
			incremental = false;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A CRIU-restored process detaches into the care of its nearest
	 * subreaper: let that be us, so it is reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	struct stat st;
	if (!images)
		images = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(image_root, sizeof(image_root), "%s/amber-cr-bench-%d", images, (int)getpid());
	if (mkdir(image_root, 0700) < 0) {
		fprintf(stderr, "cr_bench: %s: %s\n", image_root, strerror(errno));
		return 1;
	}
	char bdir[1024];
	snprintf(bdir, sizeof(bdir), "%s/bench", build_dir);
	mkdir(bdir, 0755);

	/* The TSC against CLOCK_MONOTONIC, for the probe's cycles. */
	uint64_t c0 = tsc(), n0 = now_ns();
	sleep_ms(200);
	double tsc_per_ns = (double)(tsc() - c0) / (double)(now_ns() - n0);

	printf("== Checkpoint/restore: bench_mem with N MiB of non-zero RAM, images in %s\n", images);
	loadavg("at start");

	char criu_buf[1024], criu_note[256];
	const char *criu = find_criu(criu_buf, sizeof(criu_buf));
	if (!criu) {
		snprintf(criu_note, sizeof(criu_note), "missing");
		printf("criu: missing (set CRIU=/path/to/criu, e.g. 4.2 built by ../shared/tools/criu-build.sh)\n");
	} else {
		static char out[1 << 16];
		char *check[] = { (char *)criu, "check", NULL };
		if (run_capture(check, out, sizeof(out), NULL) != 0) {
			snprintf(criu_note, sizeof(criu_note), "not usable here");
			printf("criu: not usable here (criu check failed)\n");
			criu = NULL;
		} else {
			char *ver[] = { (char *)criu, "--version", NULL };
			run_capture(ver, out, sizeof(out), NULL);
			out[strcspn(out, "\n")] = '\0';
			snprintf(criu_note, sizeof(criu_note), "%.200s", out);
			printf("criu: %s (%s)\n", criu, out);
		}
	}
	/* Size by size, each baseline next to the Amber figures it is
	 * compared with: the machine may be busy with other things, and its
	 * state should be as alike as can be for both. */
	int rc = 0;
	for (int i = 0; i < nsizes && rc == 0; i++) {
		unsigned m = sizes[i];
		baselines(m);
		if (criu) {
			criu_bench(criu, m);
		} else {
			put(NAN, "criu_dump_frozen_ms_%u", m);
			put(NAN, "criu_dump_wall_ms_%u", m);
			put(NAN, "criu_restore_ms_%u", m);
			put(NAN, "criu_lazy_restore_ms_%u", m);
		}
		if ((rc = amber_cr(m)) == 0)
			printf("%u MiB: checkpoint paused %.2f ms, total %.2f ms; restore %.2f ms; memcpy %.2f ms\n", m,
			       get("cr_pause_ms_%u", m), get("cr_total_ms_%u", m), get("cr_restore_ms_%u", m),
			       get("memcpy_ms_%u", m));
	}
	static const unsigned incr_sizes[] = { 16, 64, 256, 1024 }, incr_dirty[] = { 1, 10 };
	for (size_t i = 0; i < sizeof(incr_sizes) / sizeof(incr_sizes[0]) && rc == 0 && incremental; i++)
		for (size_t k = 0; k < 2 && rc == 0; k++)
			rc = amber_incr(incr_sizes[i], incr_dirty[k]);
	if (rc == 0 && incremental)
		rc = periodic_writer();
	if (rc == 0 && probe)
		rc = rpc_probe(tsc_per_ns);
	rm_rf(image_root);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (rc < 0) {
		fprintf(stderr, "cr_bench: failed\n");
		return 1;
	}

	report(criu_note);
	report_probe();
	loadavg("at end");

	for (int i = 0; i < nextra; i++) {
		char key[64];
		const char *eq = strchr(extra[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - extra[i]), extra[i]);
		char *end;
		double v = strtod(eq + 1, &end);
		put(end != eq + 1 && *end == '\0' ? v : NAN, "%s", key);
	}
	if (json && write_json(json) < 0)
		return 1;
	if (json)
		printf("results: %s\n", json);
	return 0;
}
