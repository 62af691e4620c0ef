/*
 * Deadline threads. The thread takes the kernel lock to run what is due,
 * drops it, and only then sleeps on its own condition variable, so a kick
 * from a thread that holds the kernel lock can never deadlock with it. A
 * sleep is capped at an hour so that far deadlines need no care about
 * timespec ranges.
 */
#include <errno.h>
#include <time.h>

#include "deadline_thread.h"
#include "kernel/kernel.h"
#include "kernel_entry.h"

#define MAX_SLEEP_US (3600ull * 1000000ull)

static void *deadline_loop(void *arg)
{
	struct deadline_thread *d = arg;
	for (;;) {
		kernel_lock();
		uint64_t now = kernel_entry_now_us();
		uint64_t deadline = d->run(now);
		kernel_unlock();

		pthread_mutex_lock(&d->mutex);
		while (!d->kicked && !d->stop) {
			if (deadline == KERNEL_NO_DEADLINE) {
				pthread_cond_wait(&d->cond, &d->mutex);
				continue;
			}
			uint64_t wake = deadline > now + MAX_SLEEP_US ? now + MAX_SLEEP_US : deadline;
			struct timespec ts = { .tv_sec = (time_t)(wake / 1000000u),
					       .tv_nsec = (long)(wake % 1000000u) * 1000 };
			if (pthread_cond_timedwait(&d->cond, &d->mutex, &ts) == ETIMEDOUT)
				break;
		}
		d->kicked = false;
		bool stop = d->stop;
		pthread_mutex_unlock(&d->mutex);
		if (stop)
			return NULL;
	}
}

int deadline_thread_start(struct deadline_thread *d, deadline_run_fn run)
{
	pthread_condattr_t attr;
	d->run = run;
	d->kicked = d->stop = false;
	pthread_mutex_init(&d->mutex, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &attr);
	pthread_condattr_destroy(&attr);
	int err = pthread_create(&d->thread, NULL, deadline_loop, d);
	if (err) {
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->mutex);
		return -err;
	}
	d->running = true;
	return 0;
}

void deadline_thread_kick(struct deadline_thread *d)
{
	if (!d->running)
		return;
	pthread_mutex_lock(&d->mutex);
	d->kicked = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->mutex);
}

void deadline_thread_stop(struct deadline_thread *d)
{
	if (!d->running)
		return;
	pthread_mutex_lock(&d->mutex);
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->mutex);
	pthread_join(d->thread, NULL);
	d->running = false;
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->mutex);
}
