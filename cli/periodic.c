/*
 * amber checkpoint --every PERIOD: checkpoints taken again and again
 * (docs/amber-command.md).
 *
 * The images go into DIR/ckpt-NNNNNN, one directory each. A chain starts
 * with a full image; each next one is taken with --parent on the one
 * before, so it stores only what was written since (core/cr_copy.c).
 * After `chain` images a new chain starts with a full one, and once that
 * one is committed every chain before the previous one is removed: what
 * is left always restores, also after a crash at any moment (an image is
 * published only when complete, and a chain loses a member only when a
 * newer chain is whole), and at least the last `chain` images remain.
 *
 * Each checkpoint prints one line: its image, pause, total and size. A
 * checkpoint refused with "try again" is skipped; any other failure ends
 * the run with status 1. SIGINT or SIGTERM end it after the checkpoint
 * under way (status 0), as does --count.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

int cli_parse_period(const char *text, long long *us)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	double unit = 0;
	if (strcmp(end, "us") == 0)
		unit = 1;
	else if (strcmp(end, "ms") == 0)
		unit = 1e3;
	else if (strcmp(end, "s") == 0)
		unit = 1e6;
	if (errno || end == text || unit == 0 || !(v > 0) || v * unit > 86400e6 || v * unit < 100)
		return -1;
	*us = (long long)(v * unit);
	return 0;
}

static long long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void sleep_until(long long at)
{
	long long left = at - now_us();
	if (left <= 0)
		return;
	struct timespec t = { (time_t)(left / 1000000), (long)(left % 1000000) * 1000 };
	while (nanosleep(&t, &t) < 0 && errno == EINTR && !stop_asked)
		;
}

static void image_path(char *out, size_t outlen, const char *dir, unsigned long n)
{
	snprintf(out, outlen, "%s/ckpt-%06lu", dir, n);
}

/* Remove the images [from, to) of DIR. */
static void remove_images(const char *dir, unsigned long from, unsigned long to)
{
	for (unsigned long n = from; n < to; n++) {
		char p[PATH_MAX + 32], cmd[2 * PATH_MAX + 64];
		image_path(p, sizeof(p), dir, n);
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", p); /* the paths have no quotes: cli_absolute_dir */
		if (system(cmd) != 0)
			fprintf(stderr, "amber: cannot remove %s\n", p);
	}
}

/* "paused 1.23 ms (cut ...), total 4.56 ms" and "7.8 MiB stored" from
 * core's answer, shortened to one line. */
static void report(const char *image, const char *msg, bool incremental)
{
	const char *stored = strstr(msg, " MiB stored");
	const char *start = stored;
	while (start && start > msg && start[-1] != ' ')
		start--;
	double pause = 0, total = 0;
	const char *p = strstr(msg, "paused ");
	const char *t = strstr(msg, "total ");
	if (p)
		sscanf(p, "paused %lf", &pause);
	if (t)
		sscanf(t, "total %lf", &total);
	printf("%s: paused %.2f ms, total %.2f ms, %.*s MiB stored%s\n", image, pause, total,
	       start ? (int)(stored - start) : 1, start ? start : "?", incremental ? ", incremental" : ", full");
	fflush(stdout);
}

/* The run is over: nothing checkpoints NAME now to let its held output out. */
static int release(const char *name, const char *component, bool held)
{
	if (!held)
		return 0;
	const char *fields[2] = { "release", component };
	struct cli_answer a;
	if (cli_request(name, fields, 2, 0, &a) < 0)
		return -1;
	int rc = a.ok ? 0 : -1;
	if (!a.ok)
		fprintf(stderr, "amber: release %s: %s\n", component, a.message);
	cli_answer_free(&a);
	return rc;
}

int cli_periodic(const char *name, const char *component, const char *dir, long long every_us, unsigned chain,
		 unsigned long count, const char *key_field, bool hold_output)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "mkdir -p -- '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "amber: cannot create %s\n", dir);
		return CLI_EXIT_FAIL;
	}
	unsigned long n = 0, chain_start = 1, prev_chain = 1, taken = 0;
	char prev[PATH_MAX + 32] = "", parent[PATH_MAX + 48];
	long long next = now_us();
	while (!stop_asked && (count == 0 || taken < count)) {
		sleep_until(next);
		next += every_us;
		if (now_us() > next) /* behind: the next period starts now */
			next = now_us();
		if (stop_asked)
			break;
		char image[PATH_MAX + 32];
		bool starts_chain = n == 0 || n + 1 - chain_start >= chain;
		image_path(image, sizeof(image), dir, n + 1);
		const char *fields[6] = { "checkpoint", component, image };
		size_t nf = 3;
		if (!starts_chain) {
			snprintf(parent, sizeof(parent), "--parent=%s", prev);
			fields[nf++] = parent;
		}
		if (key_field)
			fields[nf++] = key_field;
		if (hold_output)
			fields[nf++] = "--hold-output";
		struct cli_answer a;
		if (cli_request(name, fields, nf, 0, &a) < 0)
			return CLI_EXIT_FAIL;
		if (!a.ok && strstr(a.message, "try again")) {
			cli_answer_free(&a);
			continue;
		}
		if (!a.ok) {
			fprintf(stderr, "amber: %s: %s\n", image, a.message);
			cli_answer_free(&a);
			release(name, component, hold_output && taken);
			return CLI_EXIT_FAIL;
		}
		n++;
		taken++;
		report(image, a.message, strstr(a.message, "; incremental: ") != NULL);
		cli_answer_free(&a);
		snprintf(prev, sizeof(prev), "%s", image);
		if (starts_chain && n > 1) {
			/* A new chain is whole: the one before the previous goes. */
			remove_images(dir, prev_chain, chain_start);
			prev_chain = chain_start;
			chain_start = n;
		} else if (n == 1) {
			chain_start = prev_chain = 1;
		}
	}
	return release(name, component, hold_output && taken) < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
