/*
 * The CPU session of core: threads.
 *
 * Obtained from the parent with the name AMBER_CPU_SERVICE; core answers it
 * itself. Tag label AMBER_PROTO_CPU, mr[0] the method, thread arguments as
 * one map item after the words (the thread's capability, CONTROL needed;
 * it must be a thread of the session's component, else INVALID_ARG).
 * Refusals come back as the IPC result (utcb->error).
 *
 *   CREATE_THREAD mr[1] = name length, mr[2..] = name (at most 31 bytes)
 *                 -> mr[0] = the thread's index i, mr[1] = its UTCB address
 *                    (AMBER_UTCB_AREA + i * AMBER_UTCB_SIZE), one map item
 *                    (mr[2]): the thread (all rights).
 *                 The thread exists but does not run. Index 0 is the first
 *                 thread; at most AMBER_CPU_MAX_THREADS - 1 more (QUOTA).
 *   START         mr[1] = ip, mr[2] = sp; item: the thread. It starts there
 *                 with fs base = its UTCB. Once only (INVALID_ARG after).
 *   PAUSE         item: the thread. Stops it wherever it is; a thread
 *                 blocked in IPC stays blocked (its operation completes, but
 *                 it only sees that when resumed).
 *   RESUME        item: the thread.
 *   STATE         item: a paused (or not yet started) thread
 *                 -> mr[0..18] = rip, rsp, rax, rbx, rcx, rdx, rsi, rdi,
 *                    rbp, r8 .. r15, rflags, fs_base;
 *                    mr[19] = why it is stopped (enum amber_cpu_stop:
 *                    NONE, or held on a CPU exception or a page fault),
 *                    mr[20] = the Linux signal of the fault (SIGSEGV 11,
 *                    SIGBUS 7, SIGILL 4, SIGFPE 8, SIGTRAP 5), mr[21] =
 *                    the fault address (SIGSEGV/SIGBUS; else 0).
 *                 INVALID_ARG if the thread is running.
 *   SET_STATE     mr[1..17] = rip, rsp, rax, rbx, rcx, rdx, rsi, rdi, rbp,
 *                 r8 .. r15 (STATE's order); item: a paused thread. rflags
 *                 and fs_base stay. A thread paused inside a system call
 *                 does not restart it when rip changes. INVALID_ARG if the
 *                 thread runs, has not started, or rip is not a user address.
 *   SIGH          one map item: a signal context (of any component), or no
 *                 item to forget it. One per component (the last SIGH on
 *                 any of its CPU sessions): when one of its threads raises
 *                 a CPU exception (SIGSEGV on a mapped address or outside
 *                 the attachable range, SIGBUS, SIGILL, SIGFPE, SIGTRAP),
 *                 core keeps that thread stopped, the others run on, and
 *                 submits one signal to it. The handler looks at STATE,
 *                 may SET_STATE, and RESUMEs the thread (which retries the
 *                 instruction at rip; after int3 rip is already past it)
 *                 or leaves it stopped. Without a context core kills the
 *                 component and reports the fault, as it always did.
 *                 Page faults on unattached addresses go to RM SIGH first
 *                 (amber/rm_session.h), to this context if there is none.
 * RESUME of a thread held on a fault clears the fault.
 * PAUSE, RESUME and STATE work on the first thread too (its capability is
 * AMBER_SEL_THREAD). A thread that leaves with exit(2) is cleaned up by
 * core: its capability is revoked and its UTCB slot is free again.
 */
#ifndef AMBER_CPU_SESSION_H
#define AMBER_CPU_SESSION_H

#include "abi.h"

#define AMBER_CPU_SERVICE "CPU"
#define AMBER_PROTO_CPU 0x1004u
#define AMBER_CPU_MAX_THREADS (AMBER_UTCB_AREA_SIZE / AMBER_UTCB_SIZE) /* UTCB slots */
#define AMBER_CPU_STATE_WORDS 19u   /* the registers STATE reports */
#define AMBER_CPU_STATE_FAULT_WORDS 3u /* what follows them: stop, signal, address */
#define AMBER_CPU_SET_STATE_WORDS 17u /* rip .. r15 */

enum amber_cpu_method {
	AMBER_CPU_CREATE_THREAD = 1,
	AMBER_CPU_START = 2,
	AMBER_CPU_PAUSE = 3,
	AMBER_CPU_RESUME = 4,
	AMBER_CPU_STATE = 5,
	AMBER_CPU_SET_STATE = 6,
	AMBER_CPU_SIGH = 7,
};

/* STATE mr[19]: why the thread is stopped. */
enum amber_cpu_stop {
	AMBER_CPU_STOP_NONE = 0,      /* paused, not started, or just resumed */
	AMBER_CPU_STOP_EXCEPTION = 1, /* held on a CPU exception (CPU SIGH) */
	AMBER_CPU_STOP_PAGE_FAULT = 2,/* held on an unattached address (RM SIGH) */
};

#endif
