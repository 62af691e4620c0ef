/*
 * A lock for the runtime's shared state (slot allocator, sessions, heap).
 *
 * Components have no futex of their own to spare (the doorbell is the
 * kernel's), so this is a test-and-set lock that yields the CPU while it
 * waits. Critical sections are short, but they may make IPC (the heap
 * asks core for memory); a holder that core pauses stalls the others.
 */
#ifndef AMBER_LOCK_H
#define AMBER_LOCK_H

#include <stdint.h>

#include "syscall.h"

struct amber_lock {
	volatile uint32_t held;
};
#define AMBER_LOCK_INIT { 0 }

static inline void amber_lock_acquire(struct amber_lock *l)
{
	while (__atomic_exchange_n(&l->held, 1u, __ATOMIC_ACQUIRE))
		amber_sys_yield();
}

static inline void amber_lock_release(struct amber_lock *l)
{
	__atomic_store_n(&l->held, 0u, __ATOMIC_RELEASE);
}

#endif
