/*
 * How component threads enter the kernel on Linux, and how the kernel
 * keeps time.
 *
 * Each component thread has an entry thread in amber-core that sleeps on
 * the thread's UTCB doorbell (a shared futex word) and runs the kernel when
 * it rings. A bare-metal kernel would take a trap instead; only this file
 * and the runtime's kernel-entry file know about futexes.
 */
#ifndef AMBER_PLATFORM_KERNEL_ENTRY_H
#define AMBER_PLATFORM_KERNEL_ENTRY_H

#include "kernel/kernel.h"

/* Initialise the kernel with the Linux hooks and start the timeout thread. */
int kernel_entry_system_start(void (*violation)(struct ktask *t, const char *why));
void kernel_entry_system_stop(void);

/* Start / stop the entry thread of a kernel thread that has a UTCB. Stop
 * must be called without the kernel lock; it joins the entry thread. */
int kernel_entry_start(struct kthread *t);
void kernel_entry_stop(struct kthread *t);
/* A restored thread: its doorbell was last served at `served` (restore
 * computes it from the kernel's state), so an operation it rang for but
 * that was not served before the checkpoint is served now, and a call that
 * is restarted (its partner lies outside the restored set) runs again from
 * the unchanged UTCB. */
int kernel_entry_start_restored(struct kthread *t, uint32_t served);
/* Tasks were thawed (kernel_task_set_frozen false, under the kernel lock):
 * wake entry threads that wait for it. */
void kernel_entry_thaw(void);

uint64_t kernel_entry_now_us(void);

#endif
