/*
 * Kernel entry for the Linux-hosted kernel: the futex doorbell.
 *
 * Why a file of its own: this is the only place in the runtime that knows
 * it runs on Linux. A component process may make no system call but futex
 * (FUTEX_WAIT / FUTEX_WAKE, shared, because amber-core waits on the same
 * UTCB page from another process), exit, exit_group and sched_yield;
 * core's seccomp filter kills it for anything else. A bare-metal port
 * replaces this file with one that traps into the kernel and keeps the
 * functions of amber/syscall.h.
 *
 * Protocol (docs/abi.md, "Kernel entry"): the caller has described the
 * operation in the UTCB. We publish it by writing the next number into
 * entry_seq with release order (so the kernel sees every UTCB store before
 * the new number), and wake the kernel's futex only if its entry thread
 * had announced it sleeps. The kernel sets done_seq to our number when the
 * operation is complete; we yield a few times, then announce our own sleep
 * and wait on done_seq, reading it with acquire order so the results the
 * kernel wrote into the UTCB are visible once we see our number. Waking
 * only sleepers and yielding before sleeping halve the cost of a hand-off
 * on one CPU (docs/performance.md). Spurious wake-ups, EINTR (core stopping
 * the thread with ptrace) and EAGAIN (the word changed before we slept)
 * just go round the loop again.
 */
#include <amber/syscall.h>

enum {
	LINUX_SYS_SCHED_YIELD = 24,
	LINUX_SYS_EXIT = 60,
	LINUX_SYS_FUTEX = 202,
	LINUX_SYS_EXIT_GROUP = 231,
	LINUX_FUTEX_WAIT = 0, /* shared (not FUTEX_PRIVATE_FLAG): core waits from its own process */
	LINUX_FUTEX_WAKE = 1,
};

static inline long linux_syscall4(long nr, long a0, long a1, long a2, long a3)
{
	long ret;
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = 0;
	register long r9 __asm__("r9") = 0;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Wait until the doorbell word `w` carries `want`. Yield `spins` times,
 * each followed by up to `pauses` checks (the kernel's entry thread usually
 * answers within one hand-off), then announce sleep with
 * AMBER_SEQ_SLEEPING and sleep on the futex. */
static void wait_for(volatile uint32_t *w, uint32_t want, uint32_t spins, uint32_t pauses)
{
	for (uint32_t round = 0;; round++) {
		uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
		if ((v & AMBER_SEQ_MASK) == want)
			return;
		if (round < spins) {
			linux_syscall4(LINUX_SYS_SCHED_YIELD, 0, 0, 0, 0);
			for (uint32_t i = 0; i < pauses && (*w & AMBER_SEQ_MASK) != want; i++)
				__builtin_ia32_pause();
			continue;
		}
		if (!(v & AMBER_SEQ_SLEEPING)) {
			if (!__atomic_compare_exchange_n(w, &v, v | AMBER_SEQ_SLEEPING, 0, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE))
				continue; /* the kernel answered meanwhile */
			v |= AMBER_SEQ_SLEEPING;
		}
		linux_syscall4(LINUX_SYS_FUTEX, (long)w, LINUX_FUTEX_WAIT, (long)v, 0);
	}
}

int amber_kernel_entry(struct amber_utcb *u)
{
	/* Only this thread writes the number; the kernel may set the flag. */
	uint32_t seq = ((__atomic_load_n(&u->entry_seq, __ATOMIC_RELAXED) & AMBER_SEQ_MASK) + 1u) & AMBER_SEQ_MASK;
	uint32_t old = __atomic_exchange_n(&u->entry_seq, seq, __ATOMIC_ACQ_REL);
	if (old & AMBER_SEQ_SLEEPING)
		linux_syscall4(LINUX_SYS_FUTEX, (long)&u->entry_seq, LINUX_FUTEX_WAKE, 1, 0);
	wait_for(&u->done_seq, seq, u->spin_rounds, u->spin_pauses);
	return (int)u->error;
}

void amber_sys_yield(void)
{
	linux_syscall4(LINUX_SYS_SCHED_YIELD, 0, 0, 0, 0);
}

_Noreturn void amber_sys_exit_group(int code)
{
	for (;;)
		linux_syscall4(LINUX_SYS_EXIT_GROUP, code, 0, 0, 0);
}

_Noreturn void amber_sys_exit_thread(int code)
{
	for (;;)
		linux_syscall4(LINUX_SYS_EXIT, code, 0, 0, 0);
}
