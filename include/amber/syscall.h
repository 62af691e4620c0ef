/*
 * The component's only door into the kernel, and the few platform
 * primitives that are not IPC.
 *
 * Every kernel operation is described in the calling thread's UTCB and
 * started with amber_kernel_entry(). How the kernel is entered is the one
 * platform-specific piece of the runtime (lib/base/kernel_entry_linux.c: a
 * futex doorbell on the hosted kernel; a trap on bare metal). Everything
 * else in the runtime is written against this header only.
 */
#ifndef AMBER_SYSCALL_H
#define AMBER_SYSCALL_H

#include "abi.h"

/* The calling thread's thread control block: fs points at it and its first
 * word points to itself (abi.h, struct amber_tcb). */
static inline struct amber_tcb *amber_tcb(void)
{
	struct amber_tcb *t;
	__asm__("mov %%fs:0, %0" : "=r"(t));
	return t;
}

/* The calling thread's UTCB: word 1 of its TCB, so one load finds it. fs
 * never changes within a thread, so the compiler may reuse the value. */
static inline struct amber_utcb *amber_utcb(void)
{
	struct amber_utcb *u;
	__asm__("mov %%fs:8, %0" : "=r"(u));
	return u;
}

/* Run the operation the UTCB describes (op, sel, timeouts, tag, mr, br) and
 * wait until the kernel has completed it. Returns utcb->error (0 or a
 * negative enum amber_error); the other results are in the UTCB. */
int amber_kernel_entry(struct amber_utcb *utcb);

/* Give up the CPU. */
void amber_sys_yield(void);

/* End the whole component / only the calling thread, without telling the
 * parent (use amber_exit() from amber/parent.h for an orderly exit). */
_Noreturn void amber_sys_exit_group(int code);
_Noreturn void amber_sys_exit_thread(int code);

#endif
