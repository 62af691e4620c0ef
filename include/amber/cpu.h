/*
 * Client of core's CPU session (amber/cpu_session.h): create, start, pause,
 * resume and inspect threads. Most code wants amber/thread.h instead.
 * Returns 0 or a negative enum amber_error; overwrites the UTCB.
 */
#ifndef AMBER_CPU_H
#define AMBER_CPU_H

#include "abi.h"
#include "cpu_session.h"

/* A new thread (not running) in slot `dst`; its UTCB address goes to
 * *utcb (may be NULL). */
int amber_cpu_create_thread(amber_sel_t cpu, const char *name, amber_sel_t dst, uint64_t *utcb);
/* Let it run from `ip` with stack pointer `sp` and fs base `tcb`, a
 * thread control block the caller laid out (amber_tls_setup, amber/tls.h),
 * once. */
int amber_cpu_start(amber_sel_t cpu, amber_sel_t thread, uint64_t ip, uint64_t sp, uint64_t tcb);
int amber_cpu_pause(amber_sel_t cpu, amber_sel_t thread);
int amber_cpu_resume(amber_sel_t cpu, amber_sel_t thread);

/* The registers of a paused thread (STATE), and whether it is held on a
 * fault (stop: enum amber_cpu_stop; signal and address of the fault). */
struct amber_thread_state {
	uint64_t rip, rsp, rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags, fs_base;
	uint64_t stop, signal, fault_addr;
};
int amber_cpu_state(amber_sel_t cpu, amber_sel_t thread, struct amber_thread_state *state);
/* Write rip, rsp and rax .. r15 of a paused thread (rflags and fs_base
 * are not changed). */
int amber_cpu_set_state(amber_sel_t cpu, amber_sel_t thread, const struct amber_thread_state *state);
/* The full state (FPU, SSE, AVX too) through a RAM dataspace `ds` of the
 * caller's (amber/cpu_session.h: the blob). state_full_size: the bytes a
 * blob needs; state_full writes the blob of a paused thread into ds (its
 * size to *size, may be NULL); set_state_full writes it back. */
int amber_cpu_state_full_size(amber_sel_t cpu, uint64_t *size);
int amber_cpu_state_full(amber_sel_t cpu, amber_sel_t thread, amber_sel_t ds, uint64_t *size);
int amber_cpu_set_state_full(amber_sel_t cpu, amber_sel_t thread, amber_sel_t ds);
/* End a thread (not the first) wherever it is, as if it called exit: its
 * capability is revoked and its UTCB slot freed once core has seen it go
 * (amber_thread_destroy waits for that and frees the stack). */
int amber_cpu_kill_thread(amber_sel_t cpu, amber_sel_t thread);
/* Affinity (amber/cpu_session.h): how many CPUs threads can be placed on
 * (locations 0 .. *n-1); bind a thread to a location (AMBER_CPU_ANYWHERE:
 * to none); where it is bound and where it ran last, as Linux says. */
int amber_cpu_affinity_space(amber_sel_t cpu, unsigned *n);
int amber_cpu_affinity(amber_sel_t cpu, amber_sel_t thread, amber_word_t location);
int amber_cpu_affinity_state(amber_sel_t cpu, amber_sel_t thread, amber_word_t *bound, amber_word_t *last);
/* Exception notification: `context` (a signal context capability;
 * AMBER_SEL_INVALID forgets it) gets a signal when a thread raises a CPU
 * exception and is held stopped (amber/cpu_session.h). */
int amber_cpu_sigh(amber_sel_t cpu, amber_sel_t context);

/* A thread's index (what CREATE_THREAD and RM FAULT_STATE report) from its
 * UTCB address; 0 is the first thread. */
static inline unsigned amber_cpu_thread_index(uint64_t utcb)
{
	return (unsigned)((utcb - AMBER_UTCB_AREA) / AMBER_UTCB_SIZE);
}

#endif
