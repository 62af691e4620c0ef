/*
 * Copy-on-write of a checkpoint's memory: the pages are stored after the
 * set runs again, not while it is frozen.
 *
 * At the cut (kernel lock held, set frozen) every dataspace that only set
 * components map writable is write-protected wherever it is mapped, through
 * each process's userfaultfd (process_uffd). After the thaw the checkpoint
 * stores those dataspaces through cr_copy_read; meanwhile a thread that
 * writes a page not stored yet stops in a fault, a helper thread keeps a
 * copy of the page as it was at the cut and lifts the protection of that
 * page, and the store uses the copy. What is stored is the memory at the
 * cut, and the pause no longer grows with the memory.
 *
 * A dataspace that a component outside the set maps writable, and the
 * UTCB areas (core writes them), are copied during the pause as before.
 */
#ifndef AMBER_CORE_CR_COPY_H
#define AMBER_CORE_CR_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

struct cr_copy;

/* At the cut, kernel lock held: protect what can be stored later.
 * mem[i] is image dataspace i's memory (NULL: none). lazy[i] is set for
 * each dataspace left to cr_copy_read. NULL if nothing can be (no
 * userfaultfd here: everything is copied during the pause). */
struct cr_copy *cr_copy_begin(struct component **set, size_t n, const struct dataspace *const *mem, size_t nmem,
			      bool *lazy);
/* The dup of dataspace ds's memfd the copy reads (for SEEK_DATA). */
int cr_copy_fd(const struct cr_copy *cc, unsigned ds);
/* Read callback for image_add_memory: len bytes at off of the dataspace
 * `ds` (an index into mem) as they were at the cut; lifts the protection
 * of what it read. 0 or -errno. */
int cr_copy_read(struct cr_copy *cc, unsigned ds, uint64_t off, uint8_t *buf, size_t len);
/* Everything stored (or given up): lift the protection everywhere, stop
 * the helper, free. How many pages were copied on a write goes to
 * *cow_pages. */
void cr_copy_end(struct cr_copy *cc, size_t *cow_pages);

/* rm_session.c: c maps memory while a copy may run; a dataspace being
 * copied is protected in the new mapping too. Kernel lock held. */
void cr_copy_mapped(struct component *c, const struct process_mapping *m);

/* rm_session.c: every mapping of c that shows a dataspace's memory (fixed
 * ones and attachments, a managed dataspace's parts where they appear).
 * Kernel lock held. */
typedef void (*rm_mapping_visitor)(void *ctx, struct component *c, const struct process_mapping *m);
void rm_each_mapping(struct component *c, rm_mapping_visitor visit, void *ctx);

#endif
