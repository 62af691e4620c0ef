/*
 * Starting and ending components.
 *
 * A component is built from parts core knows completely: dataspaces for
 * its ELF segments, stack and UTCBs; a task, a thread, a factory and gates
 * to its parent and LOG, whose root capabilities stay in core's task; and
 * a process that maps exactly those dataspaces. Ending a component deletes
 * the root capabilities, which revokes everything derived from them in
 * other components and wakes whoever waited for it, and releases what its
 * sessions with core made (session.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "amber/abi.h"
#include "core.h"
#include "platform/linux/kernel_entry.h"

#define COMPONENT_CAP_RIGHTS AMBER_RIGHTS_ALL
#define SERVICE_CAP_RIGHTS (AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT)

static int create_kernel_objects(struct component *c)
{
	struct ktask *core = kernel_core_task();
	int err;
	/* Root capabilities in core's task. */
	c->task_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if ((err = kernel_create_task(core, c->task_sel, c->name, &c->task)))
		return err;
	kernel_task_set_platform(c->task, c);
	c->thread_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if ((err = kernel_create_thread(core, c->thread_sel, c->task, c->name, (struct amber_utcb *)c->utcbs.local,
					AMBER_UTCB_AREA, &c->thread)))
		return err;
	c->factory_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if ((err = kernel_create_factory(core, c->factory_sel, c->kernel_quota, NULL)))
		return err;
	if (c->parent_gate != AMBER_SEL_INVALID) {
		/* A child: its parent's gate for it (child.c), not core's parent. */
		c->parent_sel = c->parent_gate;
		c->parent_gate = AMBER_SEL_INVALID;
	} else {
		c->parent_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if ((err = kernel_create_core_gate(core, c->parent_sel, c->id, parent_handle, c, NULL)))
			return err;
	}
	c->log_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if ((err = kernel_create_core_gate(core, c->log_sel, c->id, log_handle, c, NULL)))
		return err;

	/* The component's initial slots, derived from them. */
	const struct { amber_sel_t from, to; unsigned rights; } initial[] = {
		{ c->task_sel, AMBER_SEL_TASK, COMPONENT_CAP_RIGHTS },
		{ c->thread_sel, AMBER_SEL_THREAD, COMPONENT_CAP_RIGHTS },
		{ c->factory_sel, AMBER_SEL_FACTORY, COMPONENT_CAP_RIGHTS },
		{ c->parent_sel, AMBER_SEL_PARENT, SERVICE_CAP_RIGHTS },
		{ c->log_sel, AMBER_SEL_LOG, SERVICE_CAP_RIGHTS },
	};
	for (size_t i = 0; i < sizeof(initial) / sizeof(initial[0]); i++)
		if ((err = kernel_cap_map(core, initial[i].from, c->task, initial[i].to, initial[i].rights)))
			return err;
	return AMBER_OK;
}

static void delete_root_caps(struct component *c)
{
	struct ktask *core = kernel_core_task();
	/* Threads first: their callers and senders are woken with an error
	 * while the rest of the component still exists. */
	amber_sel_t *sels[] = { &c->thread_sel, &c->factory_sel, &c->parent_sel, &c->log_sel, &c->task_sel };
	for (size_t i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		if (*sels[i] != AMBER_SEL_INVALID)
			kernel_cap_delete(core, *sels[i]);
		*sels[i] = AMBER_SEL_INVALID;
	}
	c->thread = NULL;
	c->task = NULL;
}

static void release_memory(struct component *c)
{
	elf_unload(&c->image);
	dataspace_destroy(&c->stack);
	dataspace_destroy(&c->utcbs);
}

/* With `locked`, the caller holds the kernel lock throughout (process
 * requests never take it, so that is allowed). */
static void lock(bool locked)
{
	if (!locked)
		kernel_lock();
}

static void unlock(bool locked)
{
	if (!locked)
		kernel_unlock();
}

static int start(struct component *c, bool locked, char *err, size_t errlen)
{
	int e;
	memset(&c->stack, 0, sizeof(c->stack));
	memset(&c->utcbs, 0, sizeof(c->utcbs));
	c->stack.fd = c->utcbs.fd = -1;
	if (elf_load(c->binary, &c->image, err, errlen) < 0)
		return -1;
	if ((e = dataspace_create(&c->stack, AMBER_STACK_SIZE, "stack")) < 0 ||
	    (e = dataspace_create(&c->utcbs, AMBER_UTCB_AREA_SIZE, "utcb")) < 0) {
		snprintf(err, errlen, "cannot create dataspaces: %s", strerror(-e));
		release_memory(c);
		return -1;
	}

	lock(locked);
	e = create_kernel_objects(c);
	if (e) {
		delete_root_caps(c);
		unlock(locked);
		release_memory(c);
		snprintf(err, errlen, "cannot create kernel objects (error %d)", e);
		return -1;
	}
	unlock(locked);

	struct process_mapping maps[ELF_MAX_SEGMENTS + 2];
	size_t n = 0;
	for (unsigned i = 0; i < c->image.nsegments; i++) {
		struct elf_segment *s = &c->image.segments[i];
		maps[n++] = (struct process_mapping){ &s->ds, s->addr, 0, s->size, s->prot };
	}
	maps[n++] = (struct process_mapping){ &c->stack, AMBER_STACK_AREA - AMBER_STACK_SIZE, 0, AMBER_STACK_SIZE,
					      PROT_READ | PROT_WRITE };
	maps[n++] = (struct process_mapping){ &c->utcbs, AMBER_UTCB_AREA, 0, AMBER_UTCB_AREA_SIZE,
					      PROT_READ | PROT_WRITE };
	struct thread_start start = { .ip = c->image.entry, .sp = AMBER_STACK_AREA, .tls_base = AMBER_UTCB_AREA };

	e = process_spawn(&c->process, c->name, maps, n, &start, c);
	if (e < 0) {
		snprintf(err, errlen, "cannot spawn process: %s", strerror(-e));
		c->process = NULL;
		lock(locked);
		delete_root_caps(c);
		unlock(locked);
		release_memory(c);
		return -1;
	}
	lock(locked);
	e = kernel_entry_start(c->thread);
	c->state = COMPONENT_RUNNING;
	unlock(locked);
	if (e < 0) {
		snprintf(err, errlen, "cannot start kernel entry: %s", strerror(-e));
		process_kill(c->process, "start failed");
		return -1; /* the exit event cleans up */
	}
	process_thread_resume(c->process, process_pid(c->process));
	return 0;
}

int component_start(struct component *c, char *err, size_t errlen)
{
	return start(c, false, err, errlen);
}

int component_start_locked(struct component *c, char *err, size_t errlen)
{
	return start(c, true, err, errlen);
}

void component_cleanup(struct component *c)
{
	/* Sessions refuse from now on (also callers from other components,
	 * should the component have passed a session on); then every entry
	 * thread is stopped, without the kernel lock, before anything goes. */
	struct kthread *entry[CORE_MAX_THREADS + 1];
	unsigned n = 0;
	kernel_lock();
	c->ending = true;
	/* A thread exit or session close still stopping entry threads
	 * finishes first: it owns those threads' teardown. */
	while (c->entry_stops) {
		kernel_unlock();
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		kernel_lock();
	}
	if (c->thread)
		entry[n++] = c->thread;
	n += cpu_threads_stopping(c, entry + n);
	kernel_unlock();
	for (unsigned i = 0; i < n; i++)
		kernel_entry_stop(entry[i]);
	kernel_lock();
	log_flush(c);
	parent_forget(c);
	child_forget(c);
	core_sessions_close(c);
	delete_root_caps(c);
	c->state = COMPONENT_ENDED;
	struct process *p = c->process;
	c->process = NULL;
	kernel_unlock();
	if (p)
		process_destroy(p);
	release_memory(c);
}
