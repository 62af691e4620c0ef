/*
 * Kernel entry on Linux: one amber-core thread per component thread waits
 * on the thread's UTCB doorbell (entry_seq) with a shared futex, and the
 * kernel wakes the component thread by futex on done_seq. A timeout thread
 * sleeps until the kernel's earliest IPC deadline.
 *
 * A futex hand-off between two processes is the whole cost of an IPC
 * here, so both sides avoid the expensive parts (measured in bench/raw_ipc,
 * see docs/performance.md): a waiter yields the CPU a few times before it
 * sleeps, because the answer usually comes within one hand-off, and a
 * poster calls FUTEX_WAKE only if the waiter announced its sleep with
 * AMBER_SEQ_SLEEPING. On one CPU a single yield is best (more just
 * reschedule the spinner); with more CPUs, more rounds bridge the time a
 * wake-up on the other CPU takes.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "deadline_thread.h"
#include "kernel_entry.h"

struct entry_thread {
	pthread_t pthread;
	struct kthread *thread;
	struct amber_utcb *utcb;
	uint32_t seen; /* doorbell value already handled */
	volatile int stop;
};

/* Bumped by every thaw: entry threads of frozen tasks sleep on it. */
static uint32_t thaw_generation;

static long futex(volatile uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

uint64_t kernel_entry_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* How long a waiter spins before it sleeps: on one CPU a single yield
 * (the peer needs the CPU); with more, rounds of a yield and a few pause
 * checks, bounded at a few tens of microseconds. Components inherit
 * amber-core's CPU affinity, so one answer serves both sides. */
#define SPIN_ROUNDS_ONE_CPU 1
#define SPIN_ROUNDS_SMP 20
#define SPIN_PAUSES_SMP 20

static uint32_t spin_rounds = SPIN_ROUNDS_ONE_CPU, spin_pauses;

static void choose_spinning(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1) {
		spin_rounds = SPIN_ROUNDS_ONE_CPU;
		spin_pauses = 0;
	} else {
		spin_rounds = SPIN_ROUNDS_SMP;
		spin_pauses = SPIN_PAUSES_SMP;
	}
}

static void wake_thread(struct kthread *t)
{
	struct amber_utcb *u = kernel_thread_utcb(t);
	if (u)
		futex(&u->done_seq, FUTEX_WAKE, 1, NULL);
}

static void *entry_loop(void *arg)
{
	struct entry_thread *e = arg;
	volatile uint32_t *bell = &e->utcb->entry_seq;
	uint32_t seen = e->seen, idle = 0;
	while (!e->stop) {
		uint32_t v = __atomic_load_n(bell, __ATOMIC_ACQUIRE);
		if ((v & AMBER_SEQ_MASK) != seen) {
			/* kernel_entry_stop sets `stop` before it changes the
			 * doorbell: a change that is its wake-up is no operation. */
			if (__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE))
				break;
			kernel_lock();
			if (kernel_thread_frozen(e->thread)) {
				/* Checked under the lock: nothing is served between
				 * a checkpoint's cut and its thaw. */
				uint32_t gen = __atomic_load_n(&thaw_generation, __ATOMIC_ACQUIRE);
				kernel_unlock();
				/* kernel_entry_stop sets `stop` before its thaw: if
				 * that thaw is in `gen` already, nothing wakes this
				 * wait, but `stop` shows. */
				if (__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE))
					break;
				futex(&thaw_generation, FUTEX_WAIT, gen, NULL);
				continue;
			}
			seen = v & AMBER_SEQ_MASK;
			idle = 0;
			kernel_thread_entry(e->thread);
			kernel_unlock();
			continue;
		}
		if (idle++ < spin_rounds) {
			sched_yield();
			for (uint32_t i = 0; i < spin_pauses && __atomic_load_n(bell, __ATOMIC_RELAXED) == v; i++)
				__builtin_ia32_pause();
			continue;
		}
		if (!(v & AMBER_SEQ_SLEEPING)) {
			if (!__atomic_compare_exchange_n(bell, &v, v | AMBER_SEQ_SLEEPING, false, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE))
				continue; /* the component rang meanwhile */
			v |= AMBER_SEQ_SLEEPING;
		}
		futex(bell, FUTEX_WAIT, v, NULL);
	}
	return NULL;
}

static int start(struct kthread *t, bool restored, uint32_t seen);

int kernel_entry_start(struct kthread *t) { return start(t, false, 0); }

int kernel_entry_start_restored(struct kthread *t, uint32_t served)
{
	return start(t, true, served & AMBER_SEQ_MASK);
}

static int start(struct kthread *t, bool restored, uint32_t seen)
{
	struct entry_thread *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->thread = t;
	e->utcb = kernel_thread_utcb(t);
	if (!e->utcb) {
		free(e);
		return -EINVAL;
	}
	/* Taken now, not when the new thread first runs: the component thread
	 * may ring before that, and its first entry must not be mistaken for
	 * an old one. */
	e->seen = restored ? seen : __atomic_load_n(&e->utcb->entry_seq, __ATOMIC_ACQUIRE) & AMBER_SEQ_MASK;
	e->utcb->spin_rounds = spin_rounds;
	e->utcb->spin_pauses = spin_pauses;
	int err = pthread_create(&e->pthread, NULL, entry_loop, e);
	if (err) {
		free(e);
		return -err;
	}
	kernel_thread_set_platform(t, e);
	return 0;
}

void kernel_entry_thaw(void)
{
	__atomic_add_fetch(&thaw_generation, 1, __ATOMIC_ACQ_REL);
	futex(&thaw_generation, FUTEX_WAKE, INT_MAX, NULL);
}

void kernel_entry_stop(struct kthread *t)
{
	kernel_lock();
	struct entry_thread *e = kernel_thread_platform(t);
	kernel_thread_set_platform(t, NULL);
	kernel_unlock();
	if (!e)
		return;
	__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
	/* Change the doorbell so a wait that has not started yet returns too. */
	uint32_t v = __atomic_load_n(&e->utcb->entry_seq, __ATOMIC_ACQUIRE);
	__atomic_store_n(&e->utcb->entry_seq, ((v & AMBER_SEQ_MASK) + 1) & AMBER_SEQ_MASK, __ATOMIC_RELEASE);
	futex(&e->utcb->entry_seq, FUTEX_WAKE, INT_MAX, NULL);
	kernel_entry_thaw(); /* it may wait for a thaw instead */
	pthread_join(e->pthread, NULL);
	free(e);
}

/* ---- timeouts ---- */

static struct deadline_thread ipc_timeouts;

static uint64_t expire_ipc_timeouts(uint64_t now_us)
{
	kernel_expire_timeouts(now_us);
	return kernel_next_deadline();
}

static void deadline_changed(void) { deadline_thread_kick(&ipc_timeouts); }

int kernel_entry_system_start(void (*violation)(struct ktask *t, const char *why))
{
	struct kernel_platform plat = {
		.thread_wake = wake_thread,
		.now_us = kernel_entry_now_us,
		.deadline_changed = deadline_changed,
		.task_violation = violation,
	};
	kernel_init(&plat);
	choose_spinning();
	return deadline_thread_start(&ipc_timeouts, expire_ipc_timeouts);
}

void kernel_entry_system_stop(void) { deadline_thread_stop(&ipc_timeouts); }
