/*
 * A thread that sleeps until the earliest deadline of some set of
 * timeouts, runs what is due with the kernel lock held, and sleeps again.
 * The kernel's IPC timeouts (kernel_entry.c) and core's service timeouts
 * (core/timeout.c) each run one.
 */
#ifndef AMBER_PLATFORM_DEADLINE_THREAD_H
#define AMBER_PLATFORM_DEADLINE_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Called with the kernel lock held: handle everything due at `now_us`
 * (CLOCK_MONOTONIC microseconds) and return the next deadline, or
 * KERNEL_NO_DEADLINE. */
typedef uint64_t (*deadline_run_fn)(uint64_t now_us);

struct deadline_thread {
	deadline_run_fn run;
	pthread_t thread;
	pthread_mutex_t mutex; /* never held while taking the kernel lock */
	pthread_cond_t cond;   /* on CLOCK_MONOTONIC */
	bool kicked, stop;     /* under mutex */
	bool running;
};

/* 0 or -errno. */
int deadline_thread_start(struct deadline_thread *d, deadline_run_fn run);
/* The earliest deadline may have changed: look again. Safe with the kernel
 * lock held (lock order: kernel lock, then the thread's mutex). */
void deadline_thread_kick(struct deadline_thread *d);
/* Stop and join. Call without the kernel lock. */
void deadline_thread_stop(struct deadline_thread *d);

#endif
