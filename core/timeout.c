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
 * are called from handlers, which hold it). The thread is a deadline
 * thread (platform/linux/deadline_thread.c), kicked when the earliest
 * deadline changes; it is started with the first timeout and stopped by
 * core_timeouts_stop().
 */
#include <stdlib.h>

#include "core.h"
#include "platform/linux/deadline_thread.h"
#include "platform/linux/kernel_entry.h"

static struct core_timeout **heap; /* heap[1..n]; heap[i]->index == i */
static unsigned n, cap;

static struct deadline_thread thread;
static bool running, stopping; /* under the kernel lock */

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

/* ---- the thread (kernel lock held) ---------------------------------------------- */

static uint64_t fire_due(uint64_t now)
{
	while (n && heap[1]->deadline_us <= now) {
		struct core_timeout *t = heap[1];
		heap_remove(t);
		t->fire(t, now); /* may schedule t again */
	}
	return earliest();
}

static void kick(void)
{
	if (running)
		deadline_thread_kick(&thread);
}

/* ---- interface ------------------------------------------------------------------ */

int core_timeout_schedule(struct core_timeout *t, uint64_t deadline_us)
{
	if (!running && !stopping) {
		if (deadline_thread_start(&thread, fire_due) < 0)
			return AMBER_ERR_QUOTA;
		running = true;
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
	if (was_running)
		deadline_thread_stop(&thread);
	kernel_lock();
	free(heap); /* every session is closed by now: nothing refers to it */
	heap = NULL;
	n = cap = 0;
	kernel_unlock();
}
