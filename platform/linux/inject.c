/*
 * System-call injection: the only way core makes a component process call
 * Linux.
 *
 * The protocol, for a thread in a signal-delivery stop or PTRACE_EVENT_STOP
 * (see inject.h for why not in a stop inside a system call):
 *
 *   1. PTRACE_GETREGS: save the thread's registers.
 *   2. rip = gadget (`syscall; int3`), rax = nr, arguments in rdi rsi rdx
 *      r10 r8 r9, and orig_rax = -1. The last one matters: a thread that
 *      was stopped inside an interrupted system call (a futex wait) has
 *      orig_rax = that call and rax = -ERESTARTSYS, and on resume the
 *      kernel would rewind rip by two bytes and restart it. With -1 the
 *      kernel sees "not in a system call" and simply jumps to the gadget.
 *   3. PTRACE_CONT. The call reaches the seccomp filter, which returns
 *      TRACE for the calls core injects: a PTRACE_EVENT_SECCOMP stop, which
 *      we allow by continuing (the component's own attempts are caught and
 *      punished by process.c, which never sees these stops while we wait
 *      here for this thread alone). Calls made before the filter exists
 *      produce no such stop. clone produces a PTRACE_EVENT_CLONE stop.
 *   4. The int3 after the syscall raises SIGTRAP: a signal-delivery stop at
 *      gadget+3 with si_code SI_KERNEL. rax is the result. The signal is
 *      suppressed by never passing it to a PTRACE_CONT.
 *   5. PTRACE_SETREGS with the saved registers. If the thread had been in
 *      an interrupted system call, orig_rax and rax are back to that call
 *      and -ERESTARTSYS, so when it is resumed the kernel's restart logic
 *      (which runs after the signal-delivery stop) re-executes it: a futex
 *      wait continues waiting. The FPU/vector state is untouched: neither
 *      the calls we inject nor a suppressed signal modify it.
 */
#include "platform/linux/inject.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "platform/linux/compat.h"

#define INJECT_SYSCALL_LEN 2 /* 0f 05 */
#define INJECT_INT3_LEN 1    /* cc */

static int inject_wait(pid_t tid, int *status)
{
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL);
		if (r == tid)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -ESRCH; /* ECHILD: not ours any more */
	}
}

/* Is this stop the int3 right after our syscall? */
static int inject_is_our_trap(pid_t tid, uint64_t gadget, int64_t *ret)
{
	struct user_regs_struct regs;
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0 || si.si_code != SI_KERNEL)
		return 0;
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
		return 0;
	if (regs.rip != gadget + INJECT_SYSCALL_LEN + INJECT_INT3_LEN)
		return 0;
	*ret = (int64_t)regs.rax;
	return 1;
}

int inject_syscall(const struct inject_target *t, long nr, const uint64_t args[6], int64_t *ret)
{
	struct user_regs_struct saved, regs;
	int status;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &saved) < 0)
		return -ESRCH;
	regs = saved;
	regs.rip = t->gadget;
	regs.rax = (uint64_t)nr;
	regs.orig_rax = (uint64_t)-1;
	regs.rdi = args[0];
	regs.rsi = args[1];
	regs.rdx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0)
		return -ESRCH;
	if (ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
		return -ESRCH;

	for (;;) {
		int event, sig;

		if (inject_wait(t->tid, &status) < 0)
			return -ESRCH;
		if (!WIFSTOPPED(status)) {
			t->stray(t->ctx, t->tid, status);
			return -ESRCH;
		}
		event = status >> 16;
		sig = WSTOPSIG(status);

		if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
			/* Only our call can stop here: rip was the gadget and
			 * orig_rax -1, so nothing else ran. Check anyway; letting
			 * a different call through would break the sandbox. */
			if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
				return -ESRCH;
			if (regs.orig_rax != (uint64_t)nr ||
			    regs.rip != t->gadget + INJECT_SYSCALL_LEN)
				return -EPROTO; /* left in the stop: the caller kills */
		} else if (sig == SIGTRAP &&
			   (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK ||
			    event == PTRACE_EVENT_VFORK)) {
			/* The injected clone itself; the new thread is reported
			 * to the caller through the return value. */
		} else if (sig == SIGTRAP && event == 0 && inject_is_our_trap(t->tid, t->gadget, ret)) {
			break;
		} else {
			if (t->stray(t->ctx, t->tid, status))
				return -ESRCH;
			continue; /* stray resumed the thread */
		}
		if (ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
			return -ESRCH;
	}

	if (ptrace(PTRACE_SETREGS, t->tid, 0, &saved) < 0)
		return -ESRCH;
	return 0;
}

int inject_peek(pid_t tid, uint64_t addr, uint64_t *word)
{
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKDATA, tid, (void *)addr, 0);
	if (v == -1 && errno)
		return -errno;
	*word = (uint64_t)v;
	return 0;
}

static int inject_poke(pid_t tid, uint64_t addr, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		uint64_t aligned = addr & ~(uint64_t)7, word;
		size_t skip = (size_t)(addr - aligned);
		size_t n = 8 - skip < len ? 8 - skip : len;
		int rc;

		/* Partial words: read-modify-write. */
		if (skip || n < 8) {
			rc = inject_peek(tid, aligned, &word);
			if (rc < 0)
				return rc;
		}
		memcpy((uint8_t *)&word + skip, buf, n);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)aligned, (void *)word) < 0)
			return -errno;
		addr += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int inject_write(pid_t tid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {(void *)buf, len};
	struct iovec remote = {(void *)addr, len};

	if (process_vm_writev(tid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	return inject_poke(tid, addr, buf, len);
}
