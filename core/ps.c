/*
 * `amber ps`: the component tree as amber-core sees it, one line per
 * component (core/cr.h gives the format, docs/amber-command.md the
 * columns). Everything is read with the kernel lock held, so a line shows
 * one consistent state of its component; the text is assembled in memory
 * and written to `out` only after the lock is dropped, so a slow reader
 * never holds up the kernel.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amber/child.h"
#include "core.h"
#include "cr.h"

#define PS_MAX_DEPTH 64 /* init inside init inside ...: far beyond any scenario */

static void count_slot(void *ctx, const struct kernel_cap_info *info)
{
	(void)info;
	(*(unsigned *)ctx)++;
}

static const char *state_name(const struct component *c)
{
	if (c->stopped)
		return "stopped"; /* checkpoint --kill: its place waits for a restore */
	switch (c->state) {
	case COMPONENT_NEW:
		return "new";
	case COMPONENT_RUNNING:
		/* Its crash is reported, its cleanup still running. */
		return c->ending && c->crashed ? "crashed" : "running";
	case COMPONENT_ENDED:
		break;
	}
	/* A child that never started was ended by its parent or a failed
	 * start: that is no clean exit either. */
	if (c->crashed || (c->parent && c->end_state == AMBER_CHILD_KILLED))
		return "crashed";
	return "exited";
}

/* Names come from scenario files and init's configuration, which core
 * checked; still, a TAB or newline in one must not break the format. */
static void put_field(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void put_line(FILE *f, struct component *c, unsigned depth)
{
	unsigned threads = 0, caps = 0;
	uint64_t memory = 0;
	/* Only a running component's memory and objects are there to count:
	 * before, its start builds them without the lock; after, its cleanup
	 * releases them without the lock (component.c sets RUNNING and ENDED
	 * with the lock held, around both). */
	if (c->state == COMPONENT_RUNNING) {
		threads = (c->thread ? 1 : 0) + cpu_thread_count(c);
		if (c->task)
			kernel_space_enumerate(c->task, count_slot, &caps);
		for (unsigned i = 0; i < c->image.nsegments; i++)
			memory += c->image.segments[i].ds.size;
		memory += c->stack.size + c->utcbs.size + c->ram_used;
		if (c->stopped)
			memory = 0; /* given back; its objects and capabilities wait */
	}
	fprintf(f, "%u\t%u\t", c->id, depth);
	put_field(f, c->name);
	fprintf(f, "\t%s\t%u\t%u\t%llu\t", state_name(c), threads, caps, (unsigned long long)memory);
	put_field(f, c->image_dir[0] ? c->image_dir : "-");
	fputc('\n', f);
}

static int by_id(const void *a, const void *b)
{
	const struct component *x = *(struct component *const *)a, *y = *(struct component *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Pre-order: c, then its children by id (the order they were created). */
static void put_tree(FILE *f, struct component **all, size_t n, struct component *c, unsigned depth)
{
	put_line(f, c, depth);
	if (depth >= PS_MAX_DEPTH)
		return;
	for (size_t i = 0; i < n; i++)
		if (all[i]->parent == c)
			put_tree(f, all, n, all[i], depth + 1);
}

static bool listed(struct component **all, size_t n, const struct component *c)
{
	for (size_t i = 0; i < n; i++)
		if (all[i] == c)
			return true;
	return false;
}

void cr_ps(FILE *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;

	kernel_lock();
	size_t n = 0, cap = 0;
	struct component **all = NULL;
	struct component *lists[] = { core_components_scenario(), core_components_created() };
	for (size_t l = 0; l < 2; l++) {
		for (struct component *c = lists[l]; c; c = c->next) {
			if (c->rolled_back)
				continue; /* never was, in the timeline that runs; freed soon */
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				struct component **p = realloc(all, cap * sizeof(*all));
				if (!p)
					goto out;
				all = p;
			}
			all[n++] = c;
		}
	}
	/* Created components are kept newest first; ids give the order. The
	 * scenario's come first in any case, in their file's order, which is
	 * also their id order. */
	qsort(all, n, sizeof(*all), by_id);
	/* Roots: the scenario's components, and any whose parent is not
	 * listed (a component restored at top level). */
	for (size_t i = 0; i < n; i++)
		if (!all[i]->parent || !listed(all, n, all[i]->parent))
			put_tree(f, all, n, all[i], 0);
out:
	kernel_unlock();
	free(all);
	fclose(f);
	if (text)
		fwrite(text, 1, len, out);
	free(text);
}
