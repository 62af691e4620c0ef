/*
 * A heap for components: memory from RAM dataspaces of the component's PD
 * session, attached through its RM session (amber/env.h).
 *
 * Small requests are carved from 64 KiB chunks; a request of more than a
 * quarter chunk gets a dataspace of its own. A chunk that becomes entirely
 * free is detached and its dataspace freed, so its RAM goes back to the
 * quota. Blocks are 16-byte aligned. Thread-safe.
 */
#ifndef AMBER_HEAP_H
#define AMBER_HEAP_H

#include <stddef.h>

/* NULL for size 0 or when no RAM is left. */
void *amber_malloc(size_t size);
/* NULL is ignored. */
void amber_free(void *p);

/* Chunks (normal and large) the heap holds right now. */
unsigned amber_heap_chunks(void);

#endif
