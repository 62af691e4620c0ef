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
 *                    rbp, r8 .. r15, rflags, fs_base.
 *                 INVALID_ARG if the thread is running.
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
#define AMBER_CPU_STATE_WORDS 19u

enum amber_cpu_method {
	AMBER_CPU_CREATE_THREAD = 1,
	AMBER_CPU_START = 2,
	AMBER_CPU_PAUSE = 3,
	AMBER_CPU_RESUME = 4,
	AMBER_CPU_STATE = 5,
};

#endif
