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
 * operation in the UTCB. We publish it by bumping entry_seq with release
 * order (so the kernel sees every UTCB store before the new number) and
 * wake the kernel's futex on entry_seq. The kernel sets done_seq to our
 * number when the operation is complete and wakes us; we wait on done_seq
 * and read it with acquire order, so the results the kernel wrote into the
 * UTCB are visible once we see our number. Spurious wake-ups, EINTR (core
 * stopping the thread with ptrace) and EAGAIN (done_seq changed before we
 * slept) just go round the loop again.
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

int amber_kernel_entry(struct amber_utcb *u)
{
	uint32_t seq = u->entry_seq + 1u; /* only this thread writes entry_seq */
	__atomic_store_n(&u->entry_seq, seq, __ATOMIC_RELEASE);
	linux_syscall4(LINUX_SYS_FUTEX, (long)&u->entry_seq, LINUX_FUTEX_WAKE, 1, 0);

	for (;;) {
		uint32_t done = __atomic_load_n(&u->done_seq, __ATOMIC_ACQUIRE);
		if (done == seq)
			break;
		linux_syscall4(LINUX_SYS_FUTEX, (long)&u->done_seq, LINUX_FUTEX_WAIT, (long)done, 0);
	}
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
