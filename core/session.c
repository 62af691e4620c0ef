/*
 * Core's own services, PD, CPU, RM, ROM and Timer, as sessions.
 *
 * As in Genode, a component reaches core's services through its parent:
 * asking for a session named "PD", "CPU", "RM" or "ROM" makes core create
 * a new session object for the component (a gate in core's task whose
 * handler is the service) and hand out a capability to it. ROM takes an
 * argument, the module's name (rom_session.c); the others take none.
 * Later, init will route such requests; for now the parent answers them
 * itself (parent.c). A session acts on the component that asked for it,
 * whoever invokes it.
 *
 * Everything a session makes (dataspaces, attachments, threads, RPC
 * capabilities) is recorded in the component, and its root capability
 * stays in core's task; when the component ends, core_sessions_close()
 * releases all of it. Each record also names the session that made it, so
 * that closing one session (parent CLOSE, core_session_close_request)
 * releases what that session made and nothing else.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amber/cpu_session.h"
#include "amber/pd_session.h"
#include "amber/rm_session.h"
#include "amber/rom_session.h"
#include "amber/timer_session.h"
#include "core.h"
#include "cr_state.h"
#include "platform/linux/kernel_entry.h"

static const struct {
	const char *name;
	enum core_service kind;
	kernel_core_handler handler;
} core_services[] = {
	{ AMBER_PD_SERVICE, CORE_SERVICE_PD, pd_handle },
	{ AMBER_CPU_SERVICE, CORE_SERVICE_CPU, cpu_handle },
	{ AMBER_RM_SERVICE, CORE_SERVICE_RM, rm_handle },
	{ AMBER_ROM_SERVICE, CORE_SERVICE_ROM, rom_handle },
	{ AMBER_TIMER_SERVICE, CORE_SERVICE_TIMER, timer_handle },
};
#define NSERVICES (sizeof(core_services) / sizeof(core_services[0]))

bool core_service_name(const char *name)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (strcmp(core_services[i].name, name) == 0)
			return true;
	return false;
}

/* The service's own state of a session (ROM: the module), made before
 * the gate and destroyed after it. */
static int session_data_create(struct component *c, enum core_service kind, const char *arg, void **data)
{
	*data = NULL;
	if (kind == CORE_SERVICE_ROM) {
		if (!arg) {
			core_report("%s: ROM session refused: no module name", c->name);
			return AMBER_ERR_INVALID_ARG;
		}
		return rom_session_create(c, arg, data);
	}
	if (kind == CORE_SERVICE_TIMER && !arg)
		return timer_session_create(data); /* the time it was opened, its timeout */
	return arg ? AMBER_ERR_INVALID_ARG : AMBER_OK;
}

static void session_data_destroy(enum core_service kind, void *data)
{
	if (kind == CORE_SERVICE_ROM && data)
		rom_session_destroy(data);
	if (kind == CORE_SERVICE_TIMER && data)
		timer_session_destroy(data);
}

int core_session_open(struct component *c, const char *name, amber_sel_t *sel)
{
	return core_session_open_arg(c, name, NULL, sel);
}

int core_session_open_arg(struct component *c, const char *name, const char *arg, amber_sel_t *sel)
{
	size_t i = 0;
	while (i < NSERVICES && strcmp(core_services[i].name, name) != 0)
		i++;
	if (i == NSERVICES)
		return AMBER_ERR_INVALID_ARG;
	if (c->ending || c->nsessions >= CORE_MAX_SESSIONS ||
	    core_quota_take(c, core_services[i].kind == CORE_SERVICE_ROM ? 2 : 1))
		return AMBER_ERR_QUOTA;
	/* The state first: it may take slots of core's task itself. */
	void *data;
	int err = session_data_create(c, core_services[i].kind, arg, &data);
	if (err)
		return err;
	struct ktask *core = kernel_core_task();
	amber_sel_t s = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	struct core_session *session = s == AMBER_SEL_INVALID ? NULL : calloc(1, sizeof(*session));
	if (!session) {
		session_data_destroy(core_services[i].kind, data);
		return AMBER_ERR_QUOTA;
	}
	session->kind = core_services[i].kind;
	session->c = c;
	session->sel = s;
	session->data = data;
	err = kernel_create_core_gate(core, s, c->id, core_services[i].handler, session, NULL);
	if (err) {
		session_data_destroy(session->kind, session->data);
		free(session);
		return err;
	}
	session->next = c->sessions;
	c->sessions = session;
	c->nsessions++;
	*sel = s;
	return AMBER_OK;
}

void core_sessions_close(struct component *c)
{
	unsigned threads = cpu_thread_count(c), dataspaces = c->ndataspaces, regions = c->nregions,
		 rpc = c->nrpc_caps;
	uint64_t ram = c->ram_used;
	unsigned roms = 0, timers = 0;
	for (struct core_session *s = c->sessions; s; s = s->next) {
		roms += s->kind == CORE_SERVICE_ROM;
		timers += s->kind == CORE_SERVICE_TIMER;
	}

	rm_forget(c);      /* its attachments: the process is gone, nothing to unmap */
	pd_forget(c);      /* RPC capabilities; dataspaces, detached from other components */
	cpu_forget(c);     /* threads (their entry threads are stopped) */
	while (c->sessions) {
		struct core_session *s = c->sessions;
		c->sessions = s->next;
		kernel_cap_delete(kernel_core_task(), s->sel);
		session_data_destroy(s->kind, s->data);
		free(s);
	}
	c->nsessions = 0;
	char rom[48] = "", timer[48] = "";
	if (roms)
		snprintf(rom, sizeof(rom), ", %u ROM module%s", roms, roms == 1 ? "" : "s");
	/* Sessions a component forgot to close show here: a leak test looks. */
	if (timers)
		snprintf(timer, sizeof(timer), ", %u Timer session%s", timers, timers == 1 ? "" : "s");
	if (threads || dataspaces || regions || rpc || roms || timers)
		core_report("%s: released %u thread%s, %u dataspace%s (%llu KiB), %u attachment%s, %u RPC capabilit%s%s%s",
			    c->name, threads, threads == 1 ? "" : "s", dataspaces, dataspaces == 1 ? "" : "s",
			    (unsigned long long)(ram >> 10), regions, regions == 1 ? "" : "s", rpc,
			    rpc == 1 ? "y" : "ies", rom, timer);
}

/* ---- closing one session ------------------------------------------------ */

/* A CPU session's threads: their entry threads are stopped on a helper
 * thread without the kernel lock (kernel_entry_stop joins threads that
 * take it), then the threads are deleted and the caller answered. */
struct close_job {
	struct component *c;
	uint64_t caller_id; /* by id: the caller may be one of these threads; 0: it stopped waiting */
	unsigned proto;     /* the reply's label */
	unsigned n;
	struct kthread *entry[CORE_MAX_THREADS];
	struct core_thread *recs[CORE_MAX_THREADS];
};

static void *close_job_run(void *arg)
{
	struct close_job *j = arg;
	for (unsigned i = 0; i < j->n; i++)
		kernel_entry_stop(j->entry[i]);
	kernel_lock();
	cpu_close_finish(j->c, j->recs, j->n);
	j->c->entry_stops--;
	struct kobj *o = kernel_object_by_id(j->caller_id);
	if (o && kernel_object_kind(o) == AMBER_KIND_THREAD)
	{
		amber_word_t mr[1] = { 0 };
		kernel_core_reply((struct kthread *)o, AMBER_OK, amber_tag(j->proto, 0, 0), mr);
	}
	kernel_unlock();
	free(j);
	return NULL;
}

/* The kernel: the caller stopped waiting (or sent the close): a reply by
 * its id would reach a later request of the same thread. */
static void close_job_abandoned(void *ctx)
{
	((struct close_job *)ctx)->caller_id = 0;
}

static struct core_session *session_by_cap(struct component *c, amber_sel_t core_sel)
{
	struct ktask *core = kernel_core_task();
	struct kobj *o = kernel_cap_object(core, core_sel, NULL, NULL);
	for (struct core_session *s = c->sessions; o && s; s = s->next)
		if (kernel_cap_object(core, s->sel, NULL, NULL) == o)
			return s;
	return NULL;
}

static enum kcore_result close_serve(void *ctx, struct kcore_request *req, int *error)
{
	struct component *c = ctx;
	struct core_session *s = req->nitems == 1 ? session_by_cap(c, req->items[0]) : NULL;
	service_drop_items(req);
	*error = AMBER_OK;
	if (!s || c->ending) {
		*error = s ? AMBER_ERR_NO_PARTNER : AMBER_ERR_INVALID_ARG;
		return KCORE_REPLY;
	}
	struct close_job *j = NULL;
	if (s->kind == CORE_SERVICE_CPU) {
		j = calloc(1, sizeof(*j));
		if (!j) {
			*error = AMBER_ERR_QUOTA;
			return KCORE_REPLY;
		}
	}
	for (struct core_session **pp = &c->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	c->nsessions--;
	if (s->kind == CORE_SERVICE_PD)
		pd_close(s);
	else if (s->kind == CORE_SERVICE_RM)
		rm_close(s);
	else if (s->kind == CORE_SERVICE_CPU)
		j->n = cpu_close(s, j->entry, j->recs);
	/* The gate: revokes every copy, in the component and wherever it
	 * was passed on. Then the service's own state (Timer: its timeout;
	 * ROM: its dataspace, detached everywhere). */
	kernel_cap_delete(kernel_core_task(), s->sel);
	session_data_destroy(s->kind, s->data);
	free(s);
	if (!j || j->n == 0) {
		free(j);
		return KCORE_REPLY;
	}
	j->c = c;
	j->proto = amber_tag_label(req->reply_tag);
	j->caller_id = kernel_object_id(req->caller);
	c->entry_stops++;
	pthread_t pt;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int e = pthread_create(&pt, &attr, close_job_run, j);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		/* No helper: the threads stay marked gone and stopped; their
		 * entry threads are stopped when the component ends. */
		cpu_close_undo(j->recs, j->n);
		c->entry_stops--;
		free(j);
		return KCORE_REPLY;
	}
	/* The job takes the kernel lock before it looks at j: after this. */
	req->abandoned = close_job_abandoned;
	req->abandoned_ctx = j;
	return KCORE_DEFER;
}

/* The mappings a close takes away (RM, PD, ROM) go without the kernel lock
 * (as_queue.c); the reply waits for them. */
enum kcore_result core_session_close_request(struct component *c, struct kcore_request *req, int *error)
{
	return as_serve(close_serve, c, req, error);
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

int session_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	for (struct core_session *ss = c->sessions; ss; ss = ss->next) {
		AmberImg__Session *x = CR_NEW(AmberImg__Session, amber_img__session__init);
		x->kind = ss->kind;
		x->gate_id = kernel_object_id(kernel_cap_object(kernel_core_task(), ss->sel, NULL, NULL));
		CR_APPEND(m, sessions, x);
		if (ss->kind == CORE_SERVICE_ROM && rom_session_save(s, ss->data, x) < 0)
			return -1;
		if (ss->kind == CORE_SERVICE_TIMER && timer_session_save(s, ss->data, x) < 0)
			return -1;
	}
	return 0;
}

/* The list keeps its order: session i of the image is the i-th again. */
int session_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct core_session **tail = &c->sessions;
	c->sessions = NULL;
	c->nsessions = 0;
	for (size_t i = 0; i < l->m->n_sessions; i++) {
		const AmberImg__Session *x = l->m->sessions[i];
		if (x->kind >= NSERVICES || core_services[x->kind].kind != x->kind)
			return cr_fail(l->err, l->errlen, "%s: session %zu: unknown service %u", c->name, i, x->kind);
		struct core_session *ss = calloc(1, sizeof(*ss));
		if (!ss)
			return cr_fail(l->err, l->errlen, "%s: no memory for session %zu", c->name, i);
		ss->kind = x->kind;
		ss->c = c;
		int err = 0;
		if (x->kind == CORE_SERVICE_ROM)
			err = x->rom ? rom_session_load(l, x->rom, &ss->data) : cr_fail(l->err, l->errlen, "%s: ROM session %zu without its module", c->name, i);
		else if (x->kind == CORE_SERVICE_TIMER)
			err = x->timer ? timer_session_load(l, x->timer, &ss->data) : cr_fail(l->err, l->errlen, "%s: Timer session %zu without its state", c->name, i);
		if (err < 0) {
			free(ss);
			return -1;
		}
		struct ktask *core = kernel_core_task();
		ss->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, x->gate_id, "session gate") < 0 ||
		    kernel_create_core_gate(core, ss->sel, c->id, core_services[x->kind].handler, ss, NULL) != AMBER_OK) {
			session_data_destroy(ss->kind, ss->data);
			free(ss);
			return l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: cannot create session %zu", c->name, i);
		}
		*tail = ss;
		tail = &ss->next;
		c->nsessions++;
		l->sessions[i] = ss;
	}
	return 0;
}
