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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "amber/abi.h"
#include "core.h"
#include "cr_copy.h"
#include "cr_lazy.h"
#include "cr_state.h"
#include "scenario.h"
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
	kernel_task_limit_slots(c->task, c->kernel_quota);
	c->thread_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if ((err = kernel_create_thread(core, c->thread_sel, c->task, c->name, (struct amber_utcb *)c->utcbs.local,
					AMBER_UTCB_AREA, &c->thread)))
		return err;
	c->factory_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if ((err = kernel_create_factory(core, c->factory_sel, c->kernel_quota, NULL)))
		return err;
	core_quota_attach(c);
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

bool component_parent_gate_held(const struct component *c, amber_sel_t sel)
{
	struct kobj *o = kernel_cap_object(kernel_core_task(), sel, NULL, NULL);
	return o && kernel_object_id(o) == c->parent_gate_id;
}

static void delete_root_caps(struct component *c)
{
	struct ktask *core = kernel_core_task();
	/* A child's parent gate is a copy its parent may have revoked: the
	 * slot may hold another object by now, which is not ours to delete. */
	if (c->parent && c->parent_sel != AMBER_SEL_INVALID && !component_parent_gate_held(c, c->parent_sel))
		c->parent_sel = AMBER_SEL_INVALID;
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

/* The first thread's TCB and TLS block at the top of its stack (abi.h,
 * struct amber_tcb), written before its first instruction: its fs base
 * and stack pointer into *start. The TLS limits were checked with the
 * ELF, so the layout fits a stack of AMBER_STACK_SIZE. */
static int lay_out_first_tls(struct component *c, struct thread_start *start)
{
	const struct elf_tls *tls = &c->image.tls;
	uint64_t tcb, sp;
	if (!amber_tls_layout(AMBER_STACK_AREA - AMBER_STACK_SIZE, AMBER_STACK_AREA, tls->memsz, tls->align,
			      AMBER_STACK_SIZE / 2, &tcb, &sp))
		return -1;
	uint8_t *stack = c->stack.local - (AMBER_STACK_AREA - AMBER_STACK_SIZE);
	uint64_t block = tcb - ((tls->memsz + tls->align - 1) & ~(tls->align - 1));
	for (unsigned i = 0; tls->filesz && i < c->image.nsegments; i++) {
		const struct elf_segment *s = &c->image.segments[i];
		if (tls->image >= s->addr && tls->image - s->addr <= s->size - tls->filesz)
			memcpy(stack + block, s->ds.local + (tls->image - s->addr), tls->filesz);
	}
	/* .tbss: the stack dataspace is zero-filled */
	struct amber_tcb t = { .self = (struct amber_tcb *)(uintptr_t)tcb,
			       .utcb = (struct amber_utcb *)(uintptr_t)AMBER_UTCB_AREA,
			       .tls_image = tls->image,
			       .tls_filesz = tls->filesz,
			       .tls_memsz = tls->memsz,
			       .tls_align = tls->align ? tls->align : 1 };
	memcpy(stack + tcb, &t, sizeof(t));
	start->sp = sp;
	start->tls_base = tcb;
	return 0;
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
	struct thread_start start = { .ip = c->image.entry };
	if (lay_out_first_tls(c, &start) < 0) {
		snprintf(err, errlen, "its TLS segment does not fit its stack");
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
	cpu_share_join(c, process_pid(c->process));
	/* Running, and its first thread let go, in one locked step: a
	 * checkpoint in between would save a running component whose only
	 * thread waits to be started, and a restore of that image would never
	 * start it. */
	lock(locked);
	e = kernel_entry_start(c->thread);
	c->state = COMPONENT_RUNNING;
	if (e == 0)
		process_thread_resume(c->process, process_pid(c->process));
	unlock(locked);
	if (e < 0) {
		snprintf(err, errlen, "cannot start kernel entry: %s", strerror(-e));
		process_kill(c->process, "start failed");
		return -1; /* the exit event cleans up */
	}
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

/* Stop every entry thread of c, without the kernel lock while they end;
 * called and returns with the lock held. A thread exit or session close
 * still stopping entry threads finishes first (it owns those threads'
 * teardown), and so does a checkpoint still copying memory, and the
 * mappings queued for its process (as_queue.c). `ending`
 * marks the CPU sessions' threads as going (cleanup); a stop keeps them. */
static void stop_entry_threads(struct component *c, bool ending)
{
	struct kthread *entry[CORE_MAX_THREADS + 1];
	unsigned n = 0;
	while (c->entry_stops || c->cr_busy || c->as_ops) {
		kernel_unlock();
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		kernel_lock();
	}
	if (c->thread)
		entry[n++] = c->thread;
	n += ending ? cpu_threads_stopping(c, entry + n) : cpu_threads_live(c, entry + n);
	kernel_unlock();
	for (unsigned i = 0; i < n; i++)
		kernel_entry_stop(entry[i]);
	kernel_lock();
}

void component_cleanup(struct component *c)
{
	/* Sessions refuse from now on (also callers from other components,
	 * should the component have passed a session on); then every entry
	 * thread is stopped, without the kernel lock, before anything goes.
	 * A tracker of its pages ends with its process (under the lock, so
	 * that a checkpoint making one sees `ending` or is seen here). */
	kernel_lock();
	c->ending = true;
	cr_copy_forget(c->id, NULL);
	stop_entry_threads(c, true);
	log_flush(c);
	parent_forget(c);
	child_forget(c);
	core_sessions_close(c);
	delete_root_caps(c);
	c->state = COMPONENT_ENDED;
	struct process *p = c->process;
	c->process = NULL;
	kernel_unlock();
	cr_lazy_forget(c); /* before its process goes: the loader may still use it */
	if (p)
		process_destroy(p);
	cpu_share_leave(c);
	release_memory(c);
}

void component_stop(struct component *c)
{
	kernel_lock();
	c->restoring = true; /* its process's end is not reported */
	cr_copy_forget(c->id, NULL);
	log_discard(c);     /* its unfinished line is in the image */
	stop_entry_threads(c, false);
	struct process *p = c->process;
	c->process = NULL;
	kernel_unlock();
	cr_lazy_forget(c); /* before its process goes: the loader may still use it */
	if (p)
		process_destroy(p);
	cpu_share_leave(c);
	/* The memfds stay (core's views, the kernel's UTCB pointers, the
	 * dataspaces other components may hold); their pages go. */
	for (unsigned i = 0; i < c->image.nsegments; i++)
		dataspace_release_pages(&c->image.segments[i].ds);
	dataspace_release_pages(&c->stack);
	dataspace_release_pages(&c->utcbs);
	kernel_lock();
	core_ds_release_pages(c);
	c->stopped = true;
	c->restoring = false;
	kernel_unlock();
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

static uint64_t core_object_id(amber_sel_t sel)
{
	return sel == AMBER_SEL_INVALID ? 0 : kernel_object_id(kernel_cap_object(kernel_core_task(), sel, NULL, NULL));
}

int component_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	struct ktask *core = kernel_core_task();
	m->id = c->id;
	m->name = cr_strdup(c->name);
	m->binary = cr_strdup(c->binary);
	m->parent_id = c->parent ? c->parent->id : 0;
	m->kernel_quota = c->kernel_quota;
	m->ram_quota = c->ram_quota;
	m->ram_used = c->ram_used;
	m->ndataspaces = c->ndataspaces;
	m->task_id = kernel_object_id(c->task);
	m->factory_id = core_object_id(c->factory_sel);
	if (kernel_factory_info(core, c->factory_sel, &m->factory_quota, &m->factory_used) != AMBER_OK)
		return cr_fail(s->err, s->errlen, "%s: its factory is gone", c->name);
	m->parent_gate_id = core_object_id(c->parent_sel);
	if (c->parent) {
		/* Core's copy of the gate the parent passed for it; a parent that
		 * revoked it left the slot to whatever core put there since. */
		struct kernel_cap_info info;
		if (!component_parent_gate_held(c, c->parent_sel) || kernel_cap_info_of(core, c->parent_sel, &info) != AMBER_OK ||
		    !info.parent_task_id)
			return cr_fail(s->err, s->errlen, "%s: its parent gate is gone", c->name);
		m->has_parent_gate_from_task = m->has_parent_gate_from_sel = true;
		m->parent_gate_from_task = info.parent_task_id;
		m->parent_gate_from_sel = info.parent_sel;
	}
	m->log_gate_id = core_object_id(c->log_sel);
	m->has_rollback = c->rollback;
	m->rollback = c->rollback;
	for (unsigned i = 0; i < c->image.nsegments; i++) {
		struct elf_segment *seg = &c->image.segments[i];
		AmberImg__Segment *g = CR_NEW(AmberImg__Segment, amber_img__segment__init);
		cr_save_ds(s, &seg->ds, &seg->ds, AMBER_IMG__DATASPACE_KIND__DS_SEGMENT, c->id, 0,
			   (seg->prot & PROT_WRITE) != 0, 0, &g->dataspace);
		g->addr = seg->addr;
		g->size = seg->size;
		g->prot = seg->prot;
		CR_APPEND(m, segments, g);
	}
	cr_save_ds(s, &c->stack, &c->stack, AMBER_IMG__DATASPACE_KIND__DS_STACK, c->id, 0, true, 0, &m->stack);
	cr_save_ds(s, &c->utcbs, &c->utcbs, AMBER_IMG__DATASPACE_KIND__DS_UTCBS, c->id, 0, true, 0, &m->utcbs);
	m->config.len = c->config_len;
	m->config.data = c->config_len ? malloc(c->config_len) : NULL;
	if (c->config_len)
		memcpy(m->config.data, c->config, c->config_len);
	m->has_config = c->has_config;
	m->config_version = c->config_version;
	m->cpu_sigh = c->cpu_sigh;
	m->rm_sigh = c->rm_sigh;
	m->fault_seq = c->fault_seq;
	m->exit_sigh = c->exit_sigh;
	m->has_log_rate = c->log_rate != 0;
	m->log_rate = c->log_rate;
	m->has_cpu_weight = c->cpu_weight != 0;
	m->cpu_weight = c->cpu_weight;
	for (unsigned i = 0; i < c->nprovides; i++)
		CR_APPEND(m, provides, cr_strdup(c->provides[i]));
	m->has_has_routes = m->has_routes = c->has_routes;
	for (unsigned i = 0; i < c->nroutes; i++) {
		AmberImg__Route *r = CR_NEW(AmberImg__Route, amber_img__route__init);
		r->service = cr_strdup(c->routes[i].service);
		r->child = cr_strdup(c->routes[i].child);
		CR_APPEND(m, routes, r);
	}
	return 0;
}

/* The scenario's <route>, as scenario.c would have read it. */
static int load_routes(struct cr_load *l, struct component *c)
{
	const AmberImg__Component *m = l->m;
	if (m->n_routes > CORE_MAX_ROUTES)
		return cr_fail(l->err, l->errlen, "%s: %zu route entries, at most %d", c->name, m->n_routes, CORE_MAX_ROUTES);
	c->has_routes = m->has_has_routes && m->has_routes;
	c->nroutes = 0;
	for (size_t i = 0; i < m->n_routes; i++) {
		const char *service = m->routes[i]->service ? m->routes[i]->service : "";
		const char *child = m->routes[i]->child ? m->routes[i]->child : "";
		if (strlen(service) >= CORE_SERVICE_NAME_MAX || strlen(child) >= COMPONENT_NAME_MAX ||
		    (child[0] && !scenario_valid_name(child)))
			return cr_fail(l->err, l->errlen, "%s: route entry %zu is malformed", c->name, i);
		struct core_route *r = &c->routes[c->nroutes++];
		memset(r, 0, sizeof(*r));
		snprintf(r->service, sizeof(r->service), "%s", service);
		snprintf(r->child, sizeof(r->child), "%s", child);
	}
	return 0;
}

int component_load(struct cr_load *l)
{
	const AmberImg__Component *m = l->m;
	struct component *c = l->c;
	struct ktask *core = kernel_core_task();
	int err;
	c->kernel_quota = m->kernel_quota;
	c->ram_quota = m->ram_quota;
	c->ram_used = 0;     /* the dataspaces charge it again */
	c->ndataspaces = 0;
	c->cpu_sigh = m->cpu_sigh;
	c->rm_sigh = m->rm_sigh;
	c->fault_seq = m->fault_seq;
	c->exit_sigh = m->exit_sigh;
	c->config_version = m->config_version;
	/* What the scenario or the parent set: the same after a restore, also
	 * in a fresh system. */
	c->log_rate = m->has_log_rate && m->log_rate <= LOG_RATE_MAX ? m->log_rate : 0;
	c->cpu_weight = m->has_cpu_weight && m->cpu_weight <= CPU_WEIGHT_MAX ? m->cpu_weight : 0;
	if (m->n_provides > CORE_MAX_PROVIDES)
		return cr_fail(l->err, l->errlen, "%s: %zu provided services, at most %d", c->name, m->n_provides,
			       CORE_MAX_PROVIDES);
	c->nprovides = 0;
	for (size_t i = 0; i < m->n_provides; i++) {
		if (strlen(m->provides[i]) >= CORE_SERVICE_NAME_MAX)
			return cr_fail(l->err, l->errlen, "%s: a provided service's name is too long", c->name);
		snprintf(c->provides[c->nprovides++], CORE_SERVICE_NAME_MAX, "%s", m->provides[i]);
	}
	if (load_routes(l, c) < 0)
		return -1;
	c->rollback |= m->has_rollback && m->rollback; /* a fresh system takes the policy from the image */
	c->has_config = m->has_config;
	free(c->config);
	c->config = malloc(m->config.len + 1);
	if (!c->config)
		return cr_fail(l->err, l->errlen, "%s: no memory for its config", c->name);
	if (m->config.len)
		memcpy(c->config, m->config.data, m->config.len);
	c->config[m->config.len] = '\0';
	c->config_len = m->config.len;

	memset(&c->image, 0, sizeof(c->image));
	memset(&c->stack, 0, sizeof(c->stack));
	memset(&c->utcbs, 0, sizeof(c->utcbs));
	c->stack.fd = c->utcbs.fd = -1;
	if (m->n_segments > ELF_MAX_SEGMENTS)
		return cr_fail(l->err, l->errlen, "%s: %zu segments, at most %d", c->name, m->n_segments, ELF_MAX_SEGMENTS);
	for (size_t i = 0; i < m->n_segments; i++) {
		struct elf_segment *seg = &c->image.segments[i];
		seg->ds.fd = -1;
		if (cr_load_memory(l, m->segments[i]->dataspace, &seg->ds) < 0)
			return -1;
		c->image.nsegments++;
		seg->addr = m->segments[i]->addr;
		seg->size = m->segments[i]->size;
		seg->prot = m->segments[i]->prot;
	}
	/* Stack and UTCBs are made afresh: creating the threads writes into
	 * them, and their content from the image comes after that
	 * (component_load_memory). */
	int e;
	if (m->stack >= l->img->n_dataspaces || m->utcbs >= l->img->n_dataspaces)
		return cr_fail(l->err, l->errlen, "%s: no stack or UTCB dataspace", c->name);
	if ((e = dataspace_create(&c->stack, l->img->dataspaces[m->stack]->size, "stack")) < 0 ||
	    (e = dataspace_create(&c->utcbs, l->img->dataspaces[m->utcbs]->size, "utcb")) < 0)
		return cr_fail(l->err, l->errlen, "%s: cannot create its stack and UTCBs: %s", c->name, strerror(-e));
	if (c->utcbs.size < AMBER_UTCB_AREA_SIZE)
		return cr_fail(l->err, l->errlen, "%s: UTCB area of %zu bytes", c->name, c->utcbs.size);

	c->task_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if (cr_force_id(l, m->task_id, "task") < 0)
		return -1;
	if ((err = kernel_create_task(core, c->task_sel, c->name, &c->task)))
		return cr_fail(l->err, l->errlen, "%s: cannot create its task (error %d)", c->name, err);
	kernel_task_set_platform(c->task, c);
	kernel_task_limit_slots(c->task, c->kernel_quota);
	c->factory_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if (cr_force_id(l, m->factory_id, "factory") < 0)
		return -1;
	if ((err = kernel_create_factory(core, c->factory_sel, m->factory_quota, NULL)) == AMBER_OK)
		core_quota_attach(c);
	if (err)
		return cr_fail(l->err, l->errlen, "%s: cannot create its factory (error %d)", c->name, err);
	if (!m->parent_id) {
		c->parent_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, m->parent_gate_id, "parent gate") < 0)
			return -1;
		if ((err = kernel_create_core_gate(core, c->parent_sel, c->id, parent_handle, c, NULL)))
			return cr_fail(l->err, l->errlen, "%s: cannot create its parent gate (error %d)", c->name, err);
	}
	c->log_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if (cr_force_id(l, m->log_gate_id, "LOG gate") < 0)
		return -1;
	if ((err = kernel_create_core_gate(core, c->log_sel, c->id, log_handle, c, NULL)))
		return cr_fail(l->err, l->errlen, "%s: cannot create its LOG gate (error %d)", c->name, err);
	return 0;
}

int component_load_memory(struct cr_load *l)
{
	struct component *c = l->c;
	struct dataspace from;
	int e = 0;
	if (cr_load_memory(l, l->m->stack, &from) < 0)
		return -1;
	e = dataspace_copy(&c->stack, &from);
	dataspace_destroy(&from);
	if (e == 0 && cr_load_memory(l, l->m->utcbs, &from) < 0)
		return -1;
	if (e == 0) {
		e = dataspace_copy(&c->utcbs, &from);
		dataspace_destroy(&from);
	}
	if (e < 0)
		return cr_fail(l->err, l->errlen, "%s: cannot fill its stack and UTCBs: %s", c->name, strerror(-e));
	return 0;
}

int component_load_parent_gate(struct cr_load *l)
{
	const AmberImg__Component *m = l->m;
	struct component *c = l->c;
	if (!m->parent_id)
		return 0;
	struct kobj *from = cr_object(m->parent_gate_from_task, AMBER_KIND_TASK);
	c->parent_sel = kernel_cap_alloc(kernel_core_task(), AMBER_SEL_FIRST_FREE);
	int err = from ? kernel_cap_map((struct ktask *)from, m->parent_gate_from_sel, kernel_core_task(),
					 c->parent_sel, AMBER_RIGHTS_ALL)
		       : AMBER_ERR_INVALID_CAP;
	if (err || kernel_object_id(kernel_cap_object(kernel_core_task(), c->parent_sel, NULL, NULL)) !=
			   m->parent_gate_id)
		return cr_fail(l->err, l->errlen, "%s: its parent's gate (slot %u of task %llu) is gone", c->name,
			       m->parent_gate_from_sel, (unsigned long long)m->parent_gate_from_task);
	c->parent_gate_id = m->parent_gate_id;
	return 0;
}

size_t component_fixed_mappings(struct component *c, struct process_mapping *maps, size_t max)
{
	size_t n = 0;
	for (unsigned i = 0; i < c->image.nsegments && n < max; i++) {
		struct elf_segment *s = &c->image.segments[i];
		maps[n++] = (struct process_mapping){ &s->ds, s->addr, 0, s->size, s->prot };
	}
	if (n + 2 <= max) {
		maps[n++] = (struct process_mapping){ &c->stack, AMBER_STACK_AREA - AMBER_STACK_SIZE, 0,
						      AMBER_STACK_SIZE, PROT_READ | PROT_WRITE };
		maps[n++] = (struct process_mapping){ &c->utcbs, AMBER_UTCB_AREA, 0, AMBER_UTCB_AREA_SIZE,
						      PROT_READ | PROT_WRITE };
	}
	return n;
}

size_t component_memory_bytes(struct component *c)
{
	if (c->state != COMPONENT_RUNNING)
		return 0;
	size_t bytes = c->stack.size + c->utcbs.size + c->ram_used;
	for (unsigned i = 0; i < c->image.nsegments; i++)
		bytes += c->image.segments[i].ds.size;
	return bytes;
}
