/*
 * System-call injection into a ptrace-stopped thread (CRIU/compel style).
 *
 * Core never runs code of its own in a component. To make a component
 * process call mmap, clone and friends, it borrows a stopped thread: it
 * saves the registers, points rip at a `syscall; int3` gadget with the call
 * in rax and the arguments in rdi rsi rdx r10 r8 r9, lets the thread run
 * exactly that instruction pair, and restores everything. The caller must
 * be the tracer thread, and the thread must be in a stop on its way back
 * to user mode (a signal-delivery stop or PTRACE_EVENT_STOP), not in one
 * inside a system call (PTRACE_EVENT_EXEC, _CLONE, _SECCOMP): that call's
 * return value would overwrite the injected rax.
 */
#ifndef AMBER_PLATFORM_INJECT_H
#define AMBER_PLATFORM_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A wait status that is not part of the injection protocol (a signal from
 * outside, an exit stop, death) is handed to `stray`, which must deal with
 * it like any other event: resume the thread (with no signal) or make sure
 * it dies. It returns nonzero if the thread is gone or about to be, which
 * ends the injection with -ESRCH.
 */
typedef int (*inject_stray_fn)(void *ctx, pid_t tid, int status);

struct inject_target {
	pid_t tid;
	uint64_t gadget; /* address of `syscall; int3` in the target */
	inject_stray_fn stray;
	void *ctx;
};

/*
 * Run system call `nr` in the thread and put its raw return value (which
 * may be -errno) in *ret. The thread is left stopped with its registers
 * exactly as they were, so an interrupted system call it was in restarts
 * when it is resumed. 0, -ESRCH (thread gone) or -EPROTO (the thread did
 * something other than the injected call; the caller should kill it).
 */
int inject_syscall(const struct inject_target *t, long nr, const uint64_t args[6], int64_t *ret);

/* Copy into the target's memory (process_vm_writev, else PTRACE_POKEDATA,
 * which also reaches pages mapped without write permission). 0 or -errno. */
int inject_write(pid_t tid, uint64_t addr, const void *buf, size_t len);

/* Read one word from the target. 0 or -errno. */
int inject_peek(pid_t tid, uint64_t addr, uint64_t *word);

#endif
