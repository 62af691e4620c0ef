/*
 * Lazy restore (amber restore --lazy, amber run --restore --lazy): the
 * restored components run as soon as kernel and core state are in place;
 * the pages of their ELF segments and RAM arrive on first touch, and a
 * loader thread of core fills in the rest meanwhile.
 * docs/checkpoint-restore.md "Lazy restore".
 *
 * The rule that keeps it correct: a lazy dataspace is written only through
 * UFFDIO_COPY into a component's registered mapping (EEXIST: the page is
 * there, never overwritten), or, where no component of the set maps it any
 * more, into the holes of its memfd. Before anyone else touches a lazy
 * dataspace (core reading or writing it, a new mapping or an unmapping of
 * it, a checkpoint, another restore) its load is finished first
 * (cr_lazy_touch, cr_lazy_settle).
 */
#ifndef AMBER_CORE_CR_LAZY_H
#define AMBER_CORE_CR_LAZY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core.h"
#include "image/image.h"

struct cr_lazy;

/* Whether dataspace i of the image is loaded lazily: an ELF segment or
 * RAM. The others (stack and UTCBs, which thread creation writes; ROM
 * copies, which core writes; managed ones, which have no pages) are
 * loaded before the teardown as always. */
bool cr_lazy_kind(const AmberImg__Dataspace *d);

/* Before the teardown: which pages of every dataspace with lazy[i] come
 * from which extent of gen's chain (image_plan_memory; the chain and the
 * structure checked, not the bytes); mem[i] is its empty memfd. t0: when
 * the restore was asked for (the load's report counts from it). NULL and
 * err on failure. */
struct cr_lazy *cr_lazy_plan(const char *gen, const AmberImg__Image *img, const bool *lazy,
			     const struct dataspace *mem, const struct timespec *t0, char *err, size_t errlen);
void cr_lazy_free(struct cr_lazy *z);

/* After the set's processes are spawned and mapped, before any thread
 * runs (kernel lock held): register every mapping of a lazy dataspace in
 * its process's userfaultfd (missing mode) and start the loader. A lazy
 * dataspace nobody maps, or all of them if userfaultfd cannot be used,
 * is loaded here, checked. Takes z (also on failure). 0, or -1 with err
 * (a damaged extent found here: nothing ran). */
int cr_lazy_arm(struct cr_lazy *z, struct component **set, size_t n, const char *root, char *err, size_t errlen);

/* Core is about to read, write, map or unmap dataspace mem: if it is being
 * loaded lazily, finish that load first. Any thread, any lock. */
void cr_lazy_touch(const struct dataspace *mem);
/* Finish every lazy load (before a checkpoint or a restore). */
void cr_lazy_settle(void);
/* Component c's process is about to go: its mappings are no longer
 * loaded through (what only it mapped is filled into the memfd, or
 * dropped when the whole set is gone). */
void cr_lazy_forget(const struct component *c);
/* Core ends: stop every loader without finishing. */
void cr_lazy_shutdown(void);

#endif
