/*
 * Thread-local storage: every thread's own copy of the component's
 * _Thread_local variables.
 *
 * C11 _Thread_local (and gcc's __thread) work in components as on any
 * x86-64 system (TLS variant II, abi.h struct amber_tcb): the linker puts
 * the variables in the ELF's PT_TLS segment, and each thread has a TLS
 * block, a copy of it, right below its thread control block (TCB), which
 * its fs base points at. Core makes the first thread's at the top of its
 * stack; amber_thread_create() makes every other one's at the top of the
 * new thread's stack, with amber_tls_setup() below. Only code that starts
 * threads by hand with CPU START (amber/cpu.h) needs to call it.
 *
 * A TLS block is plain memory of the component, and the fs base is one of
 * the thread's registers, so a checkpoint keeps both and a restored thread
 * sees its own values again.
 */
#ifndef AMBER_TLS_H
#define AMBER_TLS_H

#include "abi.h"

/* Lay out a new thread's TLS area at the top of the memory [base, top) (a
 * stack, say): its TLS block, initialised from the component's PT_TLS
 * segment (.tdata copied, .tbss zeroed), and its TCB, which names `utcb`
 * (the thread's UTCB address from CPU CREATE_THREAD). Returns the TCB's
 * address, the fs base to pass to amber_cpu_start, and puts the highest
 * usable stack address (16-byte aligned) into *stack_top; 0 if the area
 * leaves less than `min_stack` bytes of stack. */
uint64_t amber_tls_setup(uint64_t base, uint64_t top, uint64_t utcb, uint64_t min_stack, uint64_t *stack_top);

/* The bytes a TLS area takes at most (what to add to a stack for it). */
uint64_t amber_tls_area_size(void);

#endif
