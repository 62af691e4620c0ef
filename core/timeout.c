/*
 * Core's timeouts: one thread and one min-heap of deadlines for all of
 * core's services (today the Timer sessions, timer_session.c).
 *
 * A struct core_timeout is embedded in whatever wants to be called back;
 * core_timeout_schedule() puts it on the heap, and when its deadline
 * (CLOCK_MONOTONIC, microseconds) has passed, the thread calls its fire
 * function. Fire functions run with the kernel lock held, like every
 * service handler, so they may submit signals and reschedule themselves;
 * they must be short (they hold up all IPC into the kernel meanwhile).
 *
 * Locking: the heap is protected by the kernel lock (schedule and cancel
 * are called from handlers, which hold it). The thread sleeps on a
 * condition variable with its own mutex, which it never holds while it
 * takes the kernel lock; a change of the earliest deadline signals it
 * (kernel lock -> timer mutex, never the other way round). The thread is
 * started with the first timeout and stopped by core_timeouts_stop().
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core.h"
#include "platform/linux/kernel_entry.h"

#define MAX_SLEEP_US (3600ull * 1000000ull) /* wake at least hourly: huge deadlines stay exact */

static struct core_timeout **heap; /* heap[1..n]; heap[i]->index == i */
static unsigned n, cap;

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool kicked, stop;       /* under mutex */
static bool running, stopping;  /* under the kernel lock */
static pthread_t thread;

uint64_t core_time_us(void) { return kernel_entry_now_us(); }

/* ---- the heap (kernel lock held) ------------------------------------------ */

static void place(struct core_timeout *t, unsigned i)
{
	heap[i] = t;
	t->index = i;
}

static void sift_up(unsigned i)
{
	struct core_timeout *t = heap[i];
	while (i > 1 && heap[i / 2]->deadline_us > t->deadline_us) {
		place(heap[i / 2], i);
		i /= 2;
	}
	place(t, i);
}

static void sift_down(unsigned i)
{
	struct core_timeout *t = heap[i];
	for (;;) {
		unsigned child = 2 * i;
		if (child > n)
			break;
		if (child < n && heap[child + 1]->deadline_us < heap[child]->deadline_us)
			child++;
		if (heap[child]->deadline_us >= t->deadline_us)
			break;
		place(heap[child], i);
		i = child;
	}
	place(t, i);
}

static void heap_remove(struct core_timeout *t)
{
	unsigned i = t->index;
	t->index = 0;
	struct core_timeout *last = heap[n--];
	if (last == t)
		return;
	place(last, i);
	sift_up(i);
	sift_down(last->index);
}

static uint64_t earliest(void) { return n ? heap[1]->deadline_us : KERNEL_NO_DEADLINE; }

/* ---- the thread --------------------------------------------------------------- */

static void kick(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mutex);
	kicked = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mutex);
}

static void *timeout_loop(void *arg)
{
	(void)arg;
	for (;;) {
		kernel_lock();
		uint64_t now = core_time_us();
		while (n && heap[1]->deadline_us <= now) {
			struct core_timeout *t = heap[1];
			heap_remove(t);
			t->fire(t, now); /* may schedule t again */
		}
		uint64_t deadline = earliest();
		kernel_unlock();

		pthread_mutex_lock(&mutex);
		while (!kicked && !stop) {
			if (deadline == KERNEL_NO_DEADLINE) {
				pthread_cond_wait(&cond, &mutex);
				continue;
			}
			uint64_t wake = deadline - now > MAX_SLEEP_US ? now + MAX_SLEEP_US : deadline;
			struct timespec ts = { .tv_sec = (time_t)(wake / 1000000u),
					       .tv_nsec = (long)(wake % 1000000u) * 1000 };
			if (pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT)
				break;
		}
		kicked = false;
		bool leave = stop;
		pthread_mutex_unlock(&mutex);
		if (leave)
			return NULL;
	}
}

static int start_thread(void)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&thread, NULL, timeout_loop, NULL) != 0) {
		pthread_cond_destroy(&cond);
		return AMBER_ERR_QUOTA;
	}
	running = true;
	return AMBER_OK;
}

/* ---- interface ------------------------------------------------------------------ */

int core_timeout_schedule(struct core_timeout *t, uint64_t deadline_us)
{
	if (!running && !stopping) {
		int err = start_thread();
		if (err)
			return err;
	}
	if (!running)
		return AMBER_ERR_NO_PARTNER; /* core is stopping */
	if (t->index)
		core_timeout_cancel(t);
	if (n + 1 >= cap) {
		unsigned ncap = cap ? 2 * cap : 64;
		struct core_timeout **h = realloc(heap, ncap * sizeof(*h));
		if (!h)
			return AMBER_ERR_QUOTA;
		heap = h;
		cap = ncap;
	}
	uint64_t before = earliest();
	t->deadline_us = deadline_us;
	place(t, ++n);
	sift_up(n);
	if (earliest() != before)
		kick();
	return AMBER_OK;
}

void core_timeout_cancel(struct core_timeout *t)
{
	if (!t->index)
		return;
	bool first = t->index == 1;
	heap_remove(t);
	if (first)
		kick(); /* it would only wake early; tell it anyway, it is cheap */
}

bool core_timeout_scheduled(const struct core_timeout *t) { return t->index != 0; }

void core_timeouts_stop(void)
{
	kernel_lock();
	stopping = true;
	bool was_running = running;
	running = false;
	kernel_unlock();
	if (was_running) {
		pthread_mutex_lock(&mutex);
		stop = true;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&mutex);
		pthread_join(thread, NULL);
		pthread_cond_destroy(&cond);
	}
	kernel_lock();
	free(heap); /* every session is closed by now: nothing refers to it */
	heap = NULL;
	n = cap = 0;
	kernel_unlock();
}
