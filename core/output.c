/*
 * Core's standard output: LOG lines and core's reports.
 *
 * Writers (LOG handlers with the kernel lock held, core's other threads)
 * only append whole lines to a queue under a mutex of its own; one thread
 * writes the queue to stdout without either lock. So a slow reader of
 * core's output (a pipe nobody drains quickly) holds up neither the kernel
 * nor any component: it only lets the queue grow, up to a bound. One queue
 * for everything keeps the order the lines were produced in, per
 * component and overall, and the text is exactly what was printed before.
 *
 * Bounds: component lines are refused once OUTPUT_COMPONENT_MAX bytes wait
 * (log.c counts them as dropped and says so); core's own reports may fill
 * up to OUTPUT_MAX, beyond which they are counted and noted once there is
 * room again. Memory: at most twice OUTPUT_MAX (the queue and the buffer
 * being written).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#define OUTPUT_COMPONENT_MAX (1u << 20)
#define OUTPUT_MAX (4u << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER, drained = PTHREAD_COND_INITIALIZER;
static char *queue;
static size_t len, cap;
static bool started, stopping, writing;
static uint64_t core_dropped; /* core's own lines that found no room */
static pthread_t thread;

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(STDOUT_FILENO, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return; /* nobody reads: nothing to do about it */
		p += k;
		n -= (size_t)k;
	}
}

static void *writer(void *arg)
{
	(void)arg;
	/* A reader that went away ends amber-core, as when it printed itself. */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_UNBLOCK, &pipe, NULL);
	char *out = NULL;
	size_t out_cap = 0;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!len && !stopping)
			pthread_cond_wait(&more, &lock);
		if (!len)
			break; /* stopping, and all written */
		/* Swap buffers: writers go on appending while this one is written. */
		char *t = queue;
		size_t n = len, tc = cap;
		queue = out;
		cap = out_cap;
		len = 0;
		out = t;
		out_cap = tc;
		writing = true;
		pthread_mutex_unlock(&lock);
		write_all(out, n);
		pthread_mutex_lock(&lock);
		writing = false;
		pthread_cond_broadcast(&drained);
	}
	pthread_mutex_unlock(&lock);
	free(out);
	return NULL;
}

/* Append under the lock: false if it does not fit under `limit`. */
static bool append(const char *text, size_t n, size_t limit)
{
	if (len + n > limit)
		return false;
	if (len + n > cap) {
		size_t ncap = cap ? cap : 4096;
		while (ncap < len + n)
			ncap *= 2;
		char *q = realloc(queue, ncap);
		if (!q)
			return false;
		queue = q;
		cap = ncap;
	}
	memcpy(queue + len, text, n);
	len += n;
	return true;
}

bool core_output(const char *text, size_t n, bool from_core)
{
	pthread_mutex_lock(&lock);
	if (!started && !stopping) {
		/* With the first line: amber-core starts no thread before its
		 * control socket is bound (control.h), and says so after.
		 * It takes no signals: the process layer needs SIGCHLD blocked
		 * in every thread but its own (process.c), the main thread
		 * takes SIGINT/SIGTERM/SIGHUP. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		started = pthread_create(&thread, NULL, writer, NULL) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (!started || stopping) {
		/* No thread, or it is ending: after what is queued, write it
		 * here, as before. */
		while (started && (len || writing))
			pthread_cond_wait(&drained, &lock);
		pthread_mutex_unlock(&lock);
		write_all(text, n);
		return true;
	}
	if (from_core && core_dropped && len + 96 <= OUTPUT_MAX) {
		char note[96];
		int k = snprintf(note, sizeof(note), "core: %llu lines of core's output dropped: its reader is slow\n",
				 (unsigned long long)core_dropped);
		if (append(note, (size_t)k, OUTPUT_MAX))
			core_dropped = 0;
	}
	bool ok = append(text, n, from_core ? OUTPUT_MAX : OUTPUT_COMPONENT_MAX);
	if (!ok && from_core)
		core_dropped++;
	if (ok)
		pthread_cond_signal(&more);
	pthread_mutex_unlock(&lock);
	return ok;
}

void core_output_flush(void)
{
	pthread_mutex_lock(&lock);
	while (started && (len || writing))
		pthread_cond_wait(&drained, &lock);
	pthread_mutex_unlock(&lock);
}

void core_output_stop(void)
{
	pthread_mutex_lock(&lock);
	bool join = started;
	stopping = true;
	pthread_cond_signal(&more);
	pthread_mutex_unlock(&lock);
	if (join)
		pthread_join(thread, NULL);
	pthread_mutex_lock(&lock);
	started = false;
	free(queue);
	queue = NULL;
	len = cap = 0;
	pthread_mutex_unlock(&lock);
}
