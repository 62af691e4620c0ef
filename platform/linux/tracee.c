/*
 * Traced threads: what core does when one of them reports something.
 *
 * Every thread of every component is a ptrace tracee of the controller
 * thread, and every change of its state arrives as a wait status. This
 * file interprets those statuses in one place, tracee_handle(), whether
 * they are found by the controller's poll of all threads, while it waits
 * for a particular thread to stop, or in the middle of an injection (as a
 * "stray" status). The rules:
 *
 *   - an exit stop is noted (exit or exit_group? see tracee_exit_stop) and
 *     the thread continued into its death;
 *   - a PTRACE_EVENT_SECCOMP stop outside an injection means the component
 *     itself called one of the calls only core may make: kill;
 *   - SIGSYS from the seccomp TRAP is a forbidden call: kill;
 *   - a fault signal raised by the CPU (si_code > 0): kill, report where;
 *     or, with a fault handler installed, hold the thread in its
 *     signal-delivery stop and post the fault (process.h);
 *   - a signal sent from outside: ignored if its default action is to
 *     ignore or stop, otherwise the process is killed and the end
 *     reported as PROCESS_SIGNALED (SIGKILL never stops, it just ends it);
 *   - a PTRACE_EVENT_STOP we asked for (PTRACE_INTERRUPT, a new thread's
 *     first stop) makes the thread "held": it stays stopped until core
 *     resumes it.
 *
 * Killing is always SIGKILL to the whole process, which also ends threads
 * sitting in ptrace stops. The first recorded reason wins. A thread is
 * never freed while a request may hold a pointer to it: reaped threads are
 * marked THREAD_GONE and freed by tracee_collect() between requests.
 */
#include "platform/linux/process_impl.h"

#include <elf.h>
#include <linux/audit.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "platform/linux/compat.h"
#include "platform/linux/inject.h"

#define TRACEE_RFLAGS_INIT 0x202ull /* IF, and the always-one bit 1 */

struct thread *tracee_add(struct process *p, pid_t tid, enum thread_state state)
{
	struct thread *t = calloc(1, sizeof(*t));
	struct thread **tail = &p->threads;

	if (!t)
		return NULL;
	t->tid = tid;
	t->state = state;
	while (*tail)
		tail = &(*tail)->next;
	*tail = t; /* in creation order: the leader stays first */
	return t;
}

struct thread *tracee_find(struct process *p, pid_t tid)
{
	for (struct thread *t = p->threads; t; t = t->next)
		if (t->tid == tid && t->state != THREAD_GONE)
			return t;
	return NULL;
}

void tracee_collect(struct process *p)
{
	struct thread **pp = &p->threads;

	while (*pp) {
		struct thread *t = *pp;
		if (t->state == THREAD_GONE) {
			*pp = t->next;
			free(t);
		} else {
			pp = &t->next;
		}
	}
}

static const char *tracee_signame(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

void tracee_kill(struct process *p, enum process_end how, int code, pid_t tid, uint64_t addr,
		 uint64_t ip, const char *reason)
{
	if (!p->ended) {
		p->ended = 1;
		memset(&p->end, 0, sizeof(p->end));
		p->end.how = how;
		p->end.code = code;
		p->end.tid = tid;
		p->end.fault_addr = addr;
		p->end.ip = ip;
		snprintf(p->end.reason, sizeof(p->end.reason), "%s", reason);
	}
	p->dying = 1;
	/* The leader is reaped last, so until p->dead its pid names this
	 * process and cannot have been reused. */
	if (!p->killed && !p->dead) {
		p->killed = 1;
		kill(p->pid, SIGKILL);
	}
}

/* The leader is reaped: every thread is gone, the process is over. */
static void tracee_finish(struct process *p, int status)
{
	struct process_exit_info info;
	char sig[32];

	if (p->ended) {
		info = p->end;
	} else {
		memset(&info, 0, sizeof(info));
		info.tid = p->pid;
		if (WIFEXITED(status)) {
			info.how = PROCESS_EXITED;
			info.code = WEXITSTATUS(status);
			snprintf(info.reason, sizeof(info.reason), "exited with code %d", info.code);
		} else {
			info.how = PROCESS_SIGNALED;
			info.code = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
			snprintf(info.reason, sizeof(info.reason), "killed by %s from outside core",
				 tracee_signame(info.code, sig, sizeof(sig)));
		}
	}
	p->dead = 1;
	p->dying = 1;
	for (struct thread *t = p->threads; t; t = t->next)
		t->state = THREAD_GONE;
	process_post_exited(p, &info);
}

static int tracee_others_live(struct process *p, struct thread *self)
{
	for (struct thread *t = p->threads; t; t = t->next)
		if (t != self && t->state != THREAD_GONE && !t->exiting)
			return 1;
	return 0;
}

/*
 * PTRACE_EVENT_EXIT: the thread is in do_exit. orig_rax says why: exit(2)
 * ends only this thread, exit_group(2) the process (its code is recorded
 * here, with the thread that called it); anything else means it was killed
 * (by a group exit or SIGKILL).
 */
static int tracee_exit_stop(struct process *p, struct thread *t)
{
	struct user_regs_struct regs;
	unsigned long msg = 0;
	int have_regs;

	ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg);
	have_regs = ptrace(PTRACE_GETREGS, t->tid, 0, &regs) == 0;
	t->exiting = 1;
	if (have_regs && regs.orig_rax == SYS_exit_group && !p->ended) {
		p->ended = 1;
		memset(&p->end, 0, sizeof(p->end));
		p->end.how = PROCESS_EXITED;
		p->end.code = WEXITSTATUS((int)msg);
		p->end.tid = t->tid;
		p->end.ip = regs.rip;
		snprintf(p->end.reason, sizeof(p->end.reason), "exited with code %d", p->end.code);
		p->dying = 1;
	} else if (have_regs && regs.orig_rax == SYS_exit && !p->dying && tracee_others_live(p, t)) {
		/* A leader that exits early stays a zombie until the whole
		 * group is gone, so report it now; others when reaped. */
		if (t->tid == p->pid)
			process_post_thread_exited(p, t->tid);
		else
			t->report_exit = 1;
	}
	ptrace(PTRACE_CONT, t->tid, 0, 0);
	t->state = THREAD_RUNNING;
	return 1;
}

static int tracee_is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

/* Signals whose default action is to ignore, stop or continue: from
 * outside they are harmless, and core, not job control, stops threads. */
static int tracee_is_harmless(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH ||
	       sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* A signal-delivery stop. */
static int tracee_signal(struct process *p, struct thread *t, int sig)
{
	struct user_regs_struct regs;
	char reason[sizeof(p->end.reason)], name[64];
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	memset(&regs, 0, sizeof(regs));
	ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si);
	ptrace(PTRACE_GETREGS, t->tid, 0, &regs);

	if (sig == SIGSYS && si.si_code == SYS_SECCOMP) {
		filter_syscall_name(si.si_arch, si.si_syscall, name, sizeof(name));
		snprintf(reason, sizeof(reason), "forbidden system call %s (%d)", name, si.si_syscall);
		/* si_call_addr is the return address; report the instruction. */
		tracee_kill(p, PROCESS_FORBIDDEN_SYSCALL, si.si_syscall, t->tid, 0,
			    (uint64_t)si.si_call_addr - 2, reason);
		t->exiting = 1;
		return 1;
	}
	if (tracee_is_fault(sig) && si.si_code > 0) {
		snprintf(reason, sizeof(reason), "%s at 0x%llx (ip 0x%llx)",
			 tracee_signame(sig, name, sizeof(name)),
			 (unsigned long long)(uintptr_t)si.si_addr, (unsigned long long)regs.rip);
		if (process_fault_handled() && !p->dying) {
			struct process_fault_info fi;
			memset(&fi, 0, sizeof(fi));
			fi.sig = sig;
			fi.code = si.si_code;
			fi.addr = (uint64_t)(uintptr_t)si.si_addr;
			fi.ip = regs.rip;
			snprintf(fi.reason, sizeof(fi.reason), "%s", reason);
			/* Held: never continued with the signal, so it stays
			 * suppressed; REQ_RESUME continues with 0. */
			t->state = THREAD_STOPPED;
			t->fault_held = 1;
			t->want_stop = 0;
			process_post_fault(p, t->tid, &fi);
			return 0;
		}
		tracee_kill(p, PROCESS_FAULT, sig, t->tid, (uint64_t)(uintptr_t)si.si_addr, regs.rip,
			    reason);
		t->exiting = 1;
		return 1;
	}
	if (tracee_is_harmless(sig)) {
		ptrace(PTRACE_CONT, t->tid, 0, 0); /* suppressed */
		t->state = THREAD_RUNNING;
		return 0;
	}
	snprintf(reason, sizeof(reason), "killed by %s from outside core (pid %d)",
		 tracee_signame(sig, name, sizeof(name)), (int)si.si_pid);
	tracee_kill(p, PROCESS_SIGNALED, sig, t->tid, 0, regs.rip, reason);
	t->exiting = 1;
	return 1;
}

/*
 * Interpret one wait status of thread t. Returns 1 if the thread is gone
 * or doomed (it will never run component code again), 0 if it was resumed
 * or is now held stopped (t->state says which).
 */
int tracee_handle(struct process *p, struct thread *t, int status)
{
	struct user_regs_struct regs;
	char reason[sizeof(p->end.reason)], name[64];
	int event, sig;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->state = THREAD_GONE;
		t->exiting = 1;
		if (t->tid == p->pid)
			tracee_finish(p, status);
		else if (t->report_exit && !p->dying)
			process_post_thread_exited(p, t->tid);
		return 1;
	}
	if (!WIFSTOPPED(status))
		return 0;

	event = status >> 16;
	sig = WSTOPSIG(status);
	switch (event) {
	case 0:
		return tracee_signal(p, t, sig);
	case PTRACE_EVENT_EXIT:
		return tracee_exit_stop(p, t);
	case PTRACE_EVENT_STOP:
		if (t->want_stop) {
			t->want_stop = 0;
			t->state = THREAD_STOPPED;
		} else {
			ptrace(PTRACE_CONT, t->tid, 0, 0);
			t->state = THREAD_RUNNING;
		}
		return 0;
	case PTRACE_EVENT_SECCOMP:
		/* Core is not injecting into this thread (an injection waits
		 * for its thread itself), so the component made the call. */
		memset(&regs, 0, sizeof(regs));
		ptrace(PTRACE_GETREGS, t->tid, 0, &regs);
		filter_syscall_name(AUDIT_ARCH_X86_64, (long)regs.orig_rax, name, sizeof(name));
		snprintf(reason, sizeof(reason), "forbidden system call %s (%lld)", name,
			 (long long)regs.orig_rax);
		tracee_kill(p, PROCESS_FORBIDDEN_SYSCALL, (int)regs.orig_rax, t->tid, 0, regs.rip - 2,
			    reason);
		t->exiting = 1;
		return 1;
	default:
		/* clone, fork, exec...: only ever the result of a call the
		 * filter should have stopped. */
		snprintf(reason, sizeof(reason), "unexpected ptrace event %d", event);
		tracee_kill(p, PROCESS_KILLED_BY_CORE, 0, t->tid, 0, 0, reason);
		t->exiting = 1;
		return 1;
	}
}

/* inject.c's view of tracee_handle. */
int tracee_stray(void *ctx, pid_t tid, int status)
{
	struct process *p = ctx;
	struct thread *t = tracee_find(p, tid);

	if (!t)
		return 1;
	return tracee_handle(p, t, status);
}

/* Collect every pending status of every thread without blocking. */
void tracee_poll(struct process *p)
{
	for (struct thread *t = p->threads; t && !p->dead; t = t->next) {
		while (t->state != THREAD_GONE) {
			int status;
			pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);
			if (r == 0)
				break;
			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* Not our tracee any more: nothing left to wait for. */
				status = W_EXITCODE(0, SIGKILL);
			}
			tracee_handle(p, t, status);
		}
	}
}

/* Block until thread t is held stopped by a stop we asked for. */
int tracee_wait_stop(struct process *p, struct thread *t)
{
	t->want_stop = 1;
	for (;;) {
		int status;
		pid_t r = waitpid(t->tid, &status, __WALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			status = W_EXITCODE(0, SIGKILL);
		if (tracee_handle(p, t, status)) {
			t->want_stop = 0;
			return -ESRCH;
		}
		if (t->state == THREAD_STOPPED)
			return 0;
	}
}

/* PTRACE_INTERRUPT works on a thread in user code and on one blocked in a
 * system call; the latter is interrupted and restarts when resumed. */
int tracee_stop(struct process *p, struct thread *t)
{
	if (t->state == THREAD_STOPPED)
		return 0;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0)
		return -ESRCH;
	return tracee_wait_stop(p, t);
}

/* A thread to inject into: one already held, else stop a running one. */
int tracee_borrow(struct process *p, struct thread **out, int *was_running)
{
	struct thread *t;

	if (p->dying || p->dead)
		return -ESRCH;
	for (t = p->threads; t; t = t->next) {
		if (t->state == THREAD_STOPPED && !t->exiting) {
			*out = t;
			*was_running = 0;
			return 0;
		}
	}
	for (t = p->threads; t; t = t->next) {
		if (t->state != THREAD_RUNNING || t->exiting)
			continue;
		if (tracee_stop(p, t) == 0) {
			*out = t;
			*was_running = 1;
			return 0;
		}
		if (p->dying)
			break;
	}
	return -ESRCH;
}

void tracee_return(struct process *p, struct thread *t, int was_running)
{
	if (!was_running || t->state != THREAD_STOPPED || t->exiting || p->dying)
		return;
	if (ptrace(PTRACE_CONT, t->tid, 0, 0) == 0)
		t->state = THREAD_RUNNING;
}

int tracee_inject(struct process *p, struct thread *t, uint64_t gadget, long nr, uint64_t a0,
		  uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, int64_t *ret)
{
	const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
	struct inject_target it = {t->tid, gadget, tracee_stray, p};
	int rc;

	if (t->exiting || t->state != THREAD_STOPPED)
		return -ESRCH;
	rc = inject_syscall(&it, nr, args, ret);
	if (rc == -EPROTO) {
		tracee_kill(p, PROCESS_KILLED_BY_CORE, 0, t->tid, 0, 0,
			    "system-call injection went astray");
		t->exiting = 1;
		return -ESRCH;
	}
	if (rc < 0)
		return rc;
	t->state = THREAD_STOPPED; /* a stray status may have marked it running */
	return 0;
}

int tracee_set_start(struct process *p, struct thread *t, const struct thread_start *start)
{
	struct user_regs_struct cur, regs;
	struct iovec iov;

	(void)p;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &cur) < 0)
		return -ESRCH;
	memset(&regs, 0, sizeof(regs));
	regs.cs = cur.cs;
	regs.ss = cur.ss;
	regs.ds = cur.ds;
	regs.es = cur.es;
	regs.rip = start->ip;
	regs.rsp = start->sp;
	regs.rdi = start->arg0;
	regs.rsi = start->arg1;
	regs.fs_base = start->tls_base;
	regs.eflags = TRACEE_RFLAGS_INIT;
	regs.orig_rax = (uint64_t)-1; /* not in a system call: nothing to restart */
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0)
		return errno == ESRCH ? -ESRCH : -EINVAL;
	if (process_g.init_xstate) {
		iov.iov_base = process_g.init_xstate;
		iov.iov_len = process_g.init_xstate_size;
		if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0)
			return -errno;
	}
	return 0;
}

int tracee_get_regs(struct thread *t, struct thread_regs *regs)
{
	struct iovec iov = {&regs->gp, sizeof(regs->gp)};

	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRSTATUS, &iov) < 0)
		return -ESRCH;
	iov.iov_base = regs->xstate;
	iov.iov_len = sizeof(regs->xstate);
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		iov.iov_len = 0; /* no XSAVE: general registers only */
	regs->xstate_size = (uint32_t)iov.iov_len;
	return 0;
}

int tracee_set_regs(struct thread *t, const struct thread_regs *regs)
{
	struct iovec iov = {(void *)&regs->gp, sizeof(regs->gp)};

	if (regs->xstate_size > sizeof(regs->xstate))
		return -EINVAL;
	if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_PRSTATUS, &iov) < 0)
		return errno == ESRCH ? -ESRCH : -EINVAL;
	if (regs->xstate_size) {
		iov.iov_base = (void *)regs->xstate;
		iov.iov_len = regs->xstate_size;
		/* The kernel wants exactly its own XSAVE size (else EFAULT). */
		if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0)
			return errno == ESRCH ? -ESRCH : -EINVAL;
	}
	return 0;
}

/* After SIGKILL: wait for every thread, the leader last (the kernel
 * reports it only once the others are reaped). */
void tracee_reap_all(struct process *p)
{
	for (int leader = 0; leader < 2 && !p->dead; leader++) {
		for (struct thread *t = p->threads; t && !p->dead; t = t->next) {
			if ((t->tid == p->pid) != leader)
				continue;
			while (t->state != THREAD_GONE && !p->dead) {
				int status;
				pid_t r = waitpid(t->tid, &status, __WALL);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0)
					status = W_EXITCODE(0, SIGKILL);
				tracee_handle(p, t, status);
			}
		}
	}
}
