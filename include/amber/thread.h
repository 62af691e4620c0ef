/*
 * Threads: a function running on a stack of its own.
 *
 * amber_thread_create() takes a stack from RAM (PD ALLOC_RAM + RM ATTACH
 * through the component's default sessions, amber/env.h), with the
 * thread's TLS block and TCB at its top (amber/tls.h), creates a thread
 * with core's CPU session and starts it in a runtime trampoline that calls
 * entry(arg) and then ends the thread (amber_sys_exit_thread). Core then
 * revokes the thread's capability and frees its UTCB slot; that is what
 * amber_thread_join() waits for before it releases the stack.
 * amber_thread_destroy() ends a thread from outside and does the same.
 */
#ifndef AMBER_THREAD_H
#define AMBER_THREAD_H

#include "abi.h"

#define AMBER_THREAD_STACK_SIZE (64u * 1024u)

struct amber_thread {
	amber_sel_t sel;      /* the thread's capability (CPU session calls, gates, IRQs) */
	amber_sel_t stack_ds; /* the stack's dataspace */
	uint64_t stack;       /* lowest address of the stack (its TLS area at the top) */
	uint64_t utcb;        /* the thread's UTCB address */
};

/* The RAM one thread's stack takes: AMBER_THREAD_STACK_SIZE and its TLS
 * area (amber/tls.h), rounded up to pages. */
uint64_t amber_thread_stack_ram(void);

/* 0 or a negative enum amber_error (nothing is left behind then). */
int amber_thread_create(struct amber_thread *t, void (*entry)(void *arg), void *arg);

/* The calling thread's own capability (AMBER_SEL_THREAD for the first
 * thread): amber_thread_create() leaves it in the new thread's UTCB, in
 * the runtime's thread-local word AMBER_TLS_THREAD_SEL. */
enum amber_tls_word { AMBER_TLS_THREAD_SEL = 0 };
amber_sel_t amber_thread_self(void);

/* Wait until the thread has ended and core has cleaned up after it, then
 * release its stack and slots. Waits forever for a thread that never
 * ends. 0 or the error of releasing the stack. */
int amber_thread_join(struct amber_thread *t);

/* End the thread wherever it is (CPU KILL_THREAD), wait until core has
 * cleaned up after it and release its stack and slots, as join does: its
 * UTCB slot is free for a new thread when this returns. A thread holding
 * a lock dies with it held. 0, or KILL_THREAD's error (INVALID_ARG: not a
 * live thread of this component; nothing is released then). */
int amber_thread_destroy(struct amber_thread *t);

#endif
