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
 *
 * After a committed checkpoint the copy stays as a tracker of the pages
 * written since its cut, and the next checkpoint of the same component
 * against that image stores only those (an incremental image).
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
 * userfaultfd here: everything is copied during the pause).
 * base: the tracker of the image this one is taken against, or NULL; it
 * is used up. from_base[i] is then index+1 of the base image's dataspace
 * that dataspace i only changed from (cr_copy_wanted says where), or 0:
 * stored whole. */
struct cr_copy *cr_copy_begin(struct component **set, size_t n, const struct dataspace *const *mem, size_t nmem,
			      bool *lazy, struct cr_copy *base, unsigned *from_base);
/* After cr_copy_begin, the kernel lock released, the set still frozen:
 * an incremental cut against an asynchronous base reads the pages written
 * since the base's cut from the page tables and protects them again
 * (PAGEMAP_SCAN, which grows with the mapped size); from_base[ds] drops to
 * 0 where that fails. Nothing to do for other copies. Before
 * cr_copy_wanted. */
void cr_copy_scan(struct cr_copy *cc, unsigned *from_base);
/* For a dataspace with from_base[ds]: per page, non-zero where it was
 * written since the base's cut (to be stored). NULL: store it whole. */
const uint8_t *cr_copy_wanted(const struct cr_copy *cc, unsigned ds, const unsigned *from_base);
/* The dup of dataspace ds's memfd the copy reads (for SEEK_DATA). */
int cr_copy_fd(const struct cr_copy *cc, unsigned ds);
/* Read callback for image_add_memory: len bytes at off of the dataspace
 * `ds` (an index into mem) as they were at the cut. 0 or -errno. */
int cr_copy_read(struct cr_copy *cc, unsigned ds, uint64_t off, uint8_t *buf, size_t len);
/* How many pages were copied on a write so far. */
size_t cr_copy_cow_pages(struct cr_copy *cc);
/* Everything stored. image NULL (the checkpoint failed): lift the
 * protection everywhere, stop the helper, free. Else the image committed
 * (its generation directory and image.pb checksum): cc becomes its
 * tracker. Until then a write still copies its page first. */
void cr_copy_end(struct cr_copy *cc, const char *image, uint64_t image_xxh3);
/* A tracker (after cr_copy_end with an image) protected synchronously,
 * every first write a fault answered by its helper, goes over to the
 * asynchronous protection where the kernel has it (Linux 6.7): writes
 * cost no round trip, and the next cut reads them with PAGEMAP_SCAN. The
 * set frozen, kernel lock held. */
void cr_copy_go_async(struct cr_copy *cc, struct component **set, size_t n);
/* Protected asynchronously already (an incremental cut's copy): no
 * cr_copy_go_async, and no second stop for it. */
bool cr_copy_async(const struct cr_copy *cc);
/* Stop tracking: lift the protection, free. NULL is fine. */
void cr_copy_drop(struct cr_copy *cc);
/* The tracker of root_id relative to that image, taken off the list of
 * trackers for cr_copy_begin (or cr_copy_drop), or NULL. */
struct cr_copy *cr_copy_take_tracker(unsigned root_id, const char *image, uint64_t image_xxh3);
/* Drop every tracker whose set holds that component, but keep. */
void cr_copy_forget(unsigned component_id, const struct cr_copy *keep);

/* rm_session.c: c maps memory while a copy may run; a dataspace being
 * copied is protected in the new mapping too. Kernel lock held. */
void cr_copy_mapped(struct component *c, const struct process_mapping *m);

/* rm_session.c: every mapping of c that shows a dataspace's memory (fixed
 * ones and attachments, a managed dataspace's parts where they appear).
 * Kernel lock held. */
typedef void (*rm_mapping_visitor)(void *ctx, struct component *c, const struct process_mapping *m);
void rm_each_mapping(struct component *c, rm_mapping_visitor visit, void *ctx);

#endif
