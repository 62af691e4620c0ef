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
 *   START         mr[1] = ip, mr[2] = sp, mr[3] = its TCB (fs base, abi.h
 *                 struct amber_tcb: the TLS base, and where the thread finds
 *                 its UTCB; amber/tls.h lays one out); item: the thread. It
 *                 starts there. Once only (INVALID_ARG after; also with
 *                 fewer than 4 words or a non-user address).
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
 *                 the attachable range, unless it is a region-map fault of
 *                 amber/rm_session.h, SIGBUS, SIGILL, SIGFPE, SIGTRAP),
 *                 core keeps that thread stopped, the others run on, and
 *                 submits one signal to it. The handler looks at STATE,
 *                 may SET_STATE, and RESUMEs the thread (which retries the
 *                 instruction at rip; after int3 rip is already past it)
 *                 or leaves it stopped. Without a context core kills the
 *                 component and reports the fault, as it always did.
 *                 Region-map faults (unattached addresses; writes and
 *                 fetches a managed dataspace denies) go to RM SIGH first
 *                 (amber/rm_session.h), to this context if there is none.
 *   STATE_FULL    item: a paused (or not yet started) thread; item: a
 *                 writable RAM dataspace of the caller's, at least
 *                 STATE_FULL_SIZE bytes. Core writes the thread's full
 *                 register state into it as a blob (struct
 *                 amber_cpu_state_blob, then the STATE registers, then
 *                 the raw NT_X86_XSTATE (XSAVE) area: FPU, SSE, AVX)
 *                 -> mr[0] = the blob's bytes. INVALID_ARG if the thread
 *                 runs, not a dataspace of the caller's, too small.
 *   SET_STATE_FULL item: a paused thread; item: a dataspace holding a
 *                 blob (as STATE_FULL writes it). Core checks the header
 *                 strictly (magic, version, offsets, sizes: the xstate
 *                 size must be the thread's own, the blob must fit the
 *                 dataspace), rip and fs_base must be user addresses, and
 *                 writes the registers (all of STATE's, rflags: the
 *                 user-changeable flags) and the xstate area back.
 *                 INVALID_ARG for anything wrong, a running or unstarted
 *                 thread. A thread paused inside a system call does not
 *                 restart it when rip changes.
 *   STATE_FULL_SIZE -> mr[0] = the bytes a blob needs on this machine.
 *   AFFINITY_SPACE -> mr[0] = the CPUs threads can be placed on: locations
 *                 0 .. mr[0]-1, the CPUs amber-core may run on, in order
 *                 (Genode's affinity space, one row).
 *   AFFINITY      mr[1] = a location, or AMBER_CPU_ANYWHERE; item: the
 *                 thread. Binds the thread to that CPU (sched_setaffinity):
 *                 it runs only there from now on, started or not, and after
 *                 a restore. ANYWHERE lets it run on every CPU of the space
 *                 again. INVALID_ARG for a location outside the space.
 *   AFFINITY_STATE item: the thread -> mr[0] = the location it is bound
 *                 to, as the Linux thread's CPU mask says (ANYWHERE if it
 *                 may run on more than one CPU), mr[1] = the location of
 *                 the CPU it ran on last (ANYWHERE if outside the space).
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
	AMBER_CPU_STATE_FULL = 8,
	AMBER_CPU_SET_STATE_FULL = 9,
	AMBER_CPU_STATE_FULL_SIZE = 10,
	AMBER_CPU_KILL_THREAD = 11,
	AMBER_CPU_AFFINITY_SPACE = 12,
	AMBER_CPU_AFFINITY = 13,
	AMBER_CPU_AFFINITY_STATE = 14,
};

#define AMBER_CPU_ANYWHERE (~(amber_word_t)0) /* AFFINITY: no CPU in particular */
#define AMBER_CPU_MAX_LOCATIONS 1024u          /* a location is below this */

/*
 * The full-state blob (STATE_FULL, SET_STATE_FULL; what a checkpoint keeps
 * per thread). Little-endian, at the start of the dataspace:
 *   [0, 32)            this header
 *   [gp_offset, +gp_size)  STATE's registers, uint64 each: rip, rsp, rax,
 *                      rbx, rcx, rdx, rsi, rdi, rbp, r8 .. r15, rflags,
 *                      fs_base (AMBER_CPU_STATE_WORDS)
 *   [xstate_offset, +xstate_size)  the raw NT_X86_XSTATE area (XSAVE
 *                      layout, standard format: the legacy FXSAVE region
 *                      first, XMM0..15 at byte 160, 16 bytes each; the
 *                      XSAVE header at 512; AVX upper halves at the offset
 *                      CPUID 0xD reports, 576 usually)
 */
#define AMBER_CPU_BLOB_MAGIC 0x53434d41u /* "AMCS" */
#define AMBER_CPU_BLOB_VERSION 1u
#define AMBER_CPU_BLOB_GP_OFFSET 64u
#define AMBER_CPU_BLOB_XSTATE_OFFSET 256u /* 64-byte aligned */
#define AMBER_CPU_BLOB_XMM_OFFSET 160u    /* XMM0 within the xstate area */
struct amber_cpu_state_blob {
	uint32_t magic;         /* AMBER_CPU_BLOB_MAGIC */
	uint16_t version;       /* AMBER_CPU_BLOB_VERSION */
	uint16_t header_size;   /* sizeof(struct amber_cpu_state_blob): 32 */
	uint32_t gp_offset;     /* AMBER_CPU_BLOB_GP_OFFSET */
	uint32_t gp_size;       /* AMBER_CPU_STATE_WORDS * 8 */
	uint32_t xstate_offset; /* AMBER_CPU_BLOB_XSTATE_OFFSET */
	uint32_t xstate_size;   /* bytes of the XSAVE area (0: none) */
	uint32_t total_size;    /* xstate_offset + xstate_size */
	uint32_t reserved;      /* 0 */
};

/* STATE mr[19]: why the thread is stopped. */
enum amber_cpu_stop {
	AMBER_CPU_STOP_NONE = 0,      /* paused, not started, or just resumed */
	AMBER_CPU_STOP_EXCEPTION = 1, /* held on a CPU exception (CPU SIGH) */
	AMBER_CPU_STOP_PAGE_FAULT = 2,/* held on an unattached address (RM SIGH) */
};

#endif
