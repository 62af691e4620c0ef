/*
 * The parent of the components core starts from a scenario.
 *
 * As in Genode, a component reaches services through its parent: a server
 * announces a service with the gate that serves it, and a client asks for
 * a session and receives a capability to that gate. A session request for
 * a service nobody has announced yet waits (the reply is deferred) until
 * the announcement comes, so start-up order does not matter. EXIT ends the
 * component with an exit code.
 *
 * A waiting request costs core a record, so it exists only while its caller
 * waits for the reply: SESSION must be a call (a SEND, which takes no
 * reply, is dropped), the record goes as soon as the caller stops waiting
 * (timeout, cancel, the end of its thread or component: the kernel tells
 * core through the request's `abandoned`), and each component may have at
 * most CORE_MAX_PENDING_SESSIONS of them (QUOTA beyond).
 *
 * The names of core's own services (PD, CPU, RM, ROM, Timer) are answered
 * by core at once with a new session (session.c) and cannot be announced.
 * Any other name may be announced only by the component the scenario names
 * as its provider (<provides><service name=.../></provides>, scenario.c):
 * without that rule, whoever announced a name first got its clients' calls.
 * A component with a <route> may ask only for what an entry of it allows
 * (RIGHTS otherwise, as under init).
 *
 * A session request may carry a second string after the service's name,
 * the session argument: the module's name for ROM. Core's other services
 * refuse one; for announced services it is ignored for now (init will
 * pass it on as the session's label).
 *
 * ANNOUNCE_ROOT announces a service whose sessions are objects of the
 * server (the root interface, root.c): SESSION for it, and SESSION calls
 * that waited for its name, become requests the server answers; their
 * session argument is passed on. CLOSE of such a session goes to root.c.
 *
 * CLOSE gives a session back (Genode's Parent::close): one of core's
 * sessions of the caller is closed (session.c). A capability to an
 * announced service is answered with success and nothing is dropped:
 * announced services are not session objects yet, the client just holds
 * the server's gate. Anything else is INVALID_ARG.
 */
#include <stdlib.h>
#include <string.h>

#include "amber/protocols.h"
#include "core.h"
#include "cr_state.h"

#define SERVICE_NAME_MAX CORE_SERVICE_NAME_MAX

struct service {
	struct service *next;
	char name[SERVICE_NAME_MAX];
	amber_sel_t core_sel; /* the announced gate, derived from the server's */
	uint64_t gate_id;     /* to notice when the server revoked it */
	struct component *server;
};

/* A SESSION call waiting for an announcement; it lives exactly as long as
 * its caller waits (pending_abandoned). */
struct pending_session {
	struct pending_session *next;
	char name[SERVICE_NAME_MAX];
	char arg[SERVICE_NAME_MAX]; /* the session argument ("" none): a root service's CREATE */
	uint64_t thread_id; /* the caller, blocked in its call */
	struct component *client;
	uint64_t root_id;   /* announced with ANNOUNCE_ROOT meanwhile: the session it waits for (root.c) */
};

static struct service *services;
static struct pending_session *pending;

static void service_remove(struct service *s)
{
	for (struct service **sp = &services; *sp; sp = &(*sp)->next) {
		if (*sp == s) {
			*sp = s->next;
			break;
		}
	}
	free(s);
}

/* A live service of that name. A server may have deleted the gate it
 * announced: its derived capability in core is then revoked, and core's
 * slot may even hold something else by now, so check the identity. */
static struct service *service_find(const char *name)
{
	for (struct service *s = services; s; s = s->next) {
		if (strcmp(s->name, name) != 0)
			continue;
		struct kobj *o = kernel_cap_object(kernel_core_task(), s->core_sel, NULL, NULL);
		if (o && kernel_object_id(o) == s->gate_id)
			return s;
		service_remove(s);
		return NULL;
	}
	return NULL;
}

/* Is the capability (in core's task) a live announced service's gate? */
static bool announced_gate(amber_sel_t core_sel)
{
	struct kobj *o = kernel_cap_object(kernel_core_task(), core_sel, NULL, NULL);
	for (struct service *s = services; o && s; s = s->next)
		if (kernel_object_id(o) == s->gate_id)
			return true;
	return false;
}

static void session_reply(struct service *s, amber_tag_t *tag, amber_word_t *mr)
{
	*tag = amber_tag(AMBER_PROTO_PARENT, 0, 1);
	mr[0] = amber_map_item(s->core_sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
}

static void pending_unlink(struct pending_session *p)
{
	for (struct pending_session **pp = &pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->client->npending_sessions--;
}

/* Answer the waiting caller (which also tells the kernel the request is
 * not abandoned) and free the record. */
static void pending_answer(struct pending_session *p, int error, amber_tag_t tag, const amber_word_t *mr)
{
	pending_unlink(p);
	struct kobj *o = kernel_object_by_id(p->thread_id);
	if (o && kernel_object_kind(o) == AMBER_KIND_THREAD)
		kernel_core_reply((struct kthread *)o, error, tag, mr);
	free(p);
}

/* The kernel: the caller stopped waiting without the reply. */
static void pending_abandoned(void *ctx)
{
	struct pending_session *p = ctx;
	if (p->root_id)
		root_waiter_gone(p->root_id);
	pending_unlink(p);
	free(p);
}

void parent_pending_release(uint64_t thread_id)
{
	for (struct pending_session *p = pending; p; p = p->next)
		if (p->root_id && p->thread_id == thread_id) {
			pending_unlink(p);
			free(p);
			return;
		}
}

/* A root service was announced: the calls waiting for its name become
 * CREATE requests; their records stay until root.c answers them. */
static void serve_pending_root(const char *name)
{
	for (struct pending_session *p = pending, *next; p; p = next) {
		next = p->next;
		if (p->root_id || strcmp(p->name, name) != 0)
			continue;
		int err = root_session_create(p->client, name, p->arg, p->thread_id, &p->root_id);
		if (err)
			pending_answer(p, err, 0, NULL);
	}
}

static void serve_pending(struct service *s)
{
	for (struct pending_session *p = pending, *next; p; p = next) {
		next = p->next;
		if (strcmp(p->name, s->name) != 0)
			continue;
		amber_tag_t tag;
		amber_word_t mr[1];
		session_reply(s, &tag, mr);
		pending_answer(p, AMBER_OK, tag, mr);
	}
}

/* A component announces only a gate it serves: bound to one of its own
 * threads. Not core's gates (its LOG gate, a session), not another
 * component's (a capability someone passed it), which would make its
 * clients talk to whoever that is. */
bool parent_gate_served_by(const struct component *c, amber_sel_t core_sel)
{
	struct kernel_gate_state gs;
	kernel_gate_export((const struct kgate *)kernel_cap_object(kernel_core_task(), core_sel, NULL, NULL), &gs);
	struct kobj *t = gs.bound_thread_id ? kernel_object_by_id(gs.bound_thread_id) : NULL;
	return t && kernel_object_kind(t) == AMBER_KIND_THREAD && kernel_thread_task((struct kthread *)t) == c->task;
}

/* Does the scenario let c announce `name`? */
static bool provides(const struct component *c, const char *name)
{
	for (unsigned i = 0; i < c->nprovides; i++)
		if (strcmp(c->provides[i], name) == 0)
			return true;
	return false;
}

/* The checks ANNOUNCE and ANNOUNCE_ROOT share on the name: not empty,
 * not core's, one the scenario lets c provide, not announced yet. */
static int may_announce(struct component *c, const char *name)
{
	if (name[0] == '\0' || core_service_name(name))
		return AMBER_ERR_INVALID_ARG;
	if (!provides(c, name)) {
		/* Said once per component: a hostile one must not flood core's output. */
		if (!c->announce_refused)
			core_report("%s may not announce service '%s': the scenario does not name it its provider "
				    "(<provides>)", c->name, name);
		c->announce_refused = true;
		return AMBER_ERR_RIGHTS;
	}
	if (service_find(name) || root_service_exists(name))
		return AMBER_ERR_INVALID_ARG;
	return AMBER_OK;
}

static int announce(struct component *c, struct kcore_request *req)
{
	char name[SERVICE_NAME_MAX];
	enum amber_kind kind = AMBER_KIND_NONE;
	int err = service_string(req, 1, name, sizeof(name));
	if (err)
		return err;
	if (req->nitems != 1 || !kernel_cap_object(kernel_core_task(), req->items[0], &kind, NULL) ||
	    kind != AMBER_KIND_GATE)
		return AMBER_ERR_INVALID_ARG;
	if ((err = may_announce(c, name)) != AMBER_OK)
		return err;
	if (!parent_gate_served_by(c, req->items[0]))
		return AMBER_ERR_RIGHTS;
	if (core_quota_take(c, 1)) /* core's copy of the gate */
		return AMBER_ERR_QUOTA;
	struct service *s = calloc(1, sizeof(*s));
	if (!s)
		return AMBER_ERR_QUOTA;
	strcpy(s->name, name);
	s->core_sel = req->items[0];
	s->gate_id = kernel_object_id(kernel_cap_object(kernel_core_task(), s->core_sel, NULL, NULL));
	s->server = c;
	s->next = services;
	services = s;
	req->nitems = 0; /* the gate is kept */
	core_report("%s announces service '%s'", c->name, name);
	serve_pending(s);
	return AMBER_OK;
}

/* Does c's <route> (scenario.c) let it ask for `name`? The first entry
 * that matches decides: core's own services from <parent/>, any other from
 * the sibling it names, which the scenario made that name's only provider
 * (so whoever announces it is that sibling). No <route>: anything. */
static bool routed(const struct component *c, const char *name)
{
	if (!c->has_routes)
		return true;
	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct core_route *r = &c->routes[i];
		if (r->service[0] && strcmp(r->service, name) != 0)
			continue;
		if (!r->child[0])
			return core_service_name(name);
		for (const struct component *o = core_components_scenario(); o; o = o->next)
			if (strcmp(o->name, r->child) == 0)
				return provides(o, name);
		return false;
	}
	return false;
}

/* ANNOUNCE_ROOT: as ANNOUNCE, with a signal context instead of a gate. */
static int announce_root(struct component *c, struct kcore_request *req)
{
	char name[SERVICE_NAME_MAX];
	int err = service_string(req, 1, name, sizeof(name));
	if (err)
		return err;
	uint64_t context = req->nitems == 1 ? signal_context_id(req->items[0]) : 0;
	if (!context)
		return AMBER_ERR_INVALID_ARG;
	if ((err = may_announce(c, name)) != AMBER_OK)
		return err;
	if ((err = root_service_add(c, name, context)) != AMBER_OK)
		return err;
	core_report("%s announces service '%s' (root: one session per client)", c->name, name);
	serve_pending_root(name);
	return AMBER_OK;
}

static enum kcore_result session(struct component *c, struct kcore_request *req, int *error)
{
	char name[SERVICE_NAME_MAX], arg[SERVICE_NAME_MAX];
	if (!req->is_call) {
		/* The reply is the session; a SEND takes none: make nothing. */
		*error = AMBER_ERR_INVALID_ARG;
		return KCORE_REPLY;
	}
	*error = service_string(req, 1, name, sizeof(name));
	if (*error)
		return KCORE_REPLY;
	/* The argument, if the message goes on after the name. */
	unsigned arg_at = 2 + (unsigned)((strlen(name) + sizeof(amber_word_t) - 1) / sizeof(amber_word_t));
	bool has_arg = amber_tag_words(req->tag) > arg_at;
	if (has_arg && (*error = service_string(req, arg_at, arg, sizeof(arg))))
		return KCORE_REPLY;
	if (!routed(c, name)) {
		/* Said once per component: a hostile one must not flood core's output. */
		if (!c->route_refused)
			core_report("%s may not ask for service '%s': no entry of its <route> allows it", c->name, name);
		c->route_refused = true;
		*error = AMBER_ERR_RIGHTS;
		return KCORE_REPLY;
	}
	if (core_service_name(name)) {
		/* Core's own services: a new session for this component. */
		amber_sel_t sel;
		*error = core_session_open_arg(c, name, has_arg ? arg : NULL, &sel);
		if (*error == AMBER_OK) {
			req->reply_tag = amber_tag(AMBER_PROTO_PARENT, 0, 1);
			req->reply_mr[0] = amber_map_item(sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
		}
		return KCORE_REPLY;
	}
	struct service *s = service_find(name);
	if (s) {
		session_reply(s, &req->reply_tag, req->reply_mr);
		return KCORE_REPLY;
	}
	if (root_service_exists(name))
		return root_session_open(c, name, has_arg ? arg : "", req, error);
	struct pending_session *p = c->npending_sessions < CORE_MAX_PENDING_SESSIONS && !core_quota_take(c, 1)
					    ? calloc(1, sizeof(*p))
					    : NULL;
	if (!p) {
		*error = AMBER_ERR_QUOTA;
		return KCORE_REPLY;
	}
	strcpy(p->name, name);
	strcpy(p->arg, has_arg ? arg : "");
	p->thread_id = kernel_object_id(req->caller);
	p->client = c;
	p->next = pending;
	pending = p;
	c->npending_sessions++;
	req->abandoned = pending_abandoned;
	req->abandoned_ctx = p;
	return KCORE_DEFER;
}

enum kcore_result parent_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct component *c = ctx;
	req->reply_tag = amber_tag(AMBER_PROTO_PARENT, 0, 0);
	*error = AMBER_OK;
	if (amber_tag_label(req->tag) != AMBER_PROTO_PARENT) {
		*error = AMBER_ERR_PROTO;
	} else if (amber_tag_words(req->tag) < 1) {
		*error = AMBER_ERR_OPCODE;
	} else {
		switch (req->mr[0]) {
		case AMBER_PARENT_ANNOUNCE:
			*error = announce(c, req);
			break;
		case AMBER_PARENT_SESSION:
			service_drop_items(req);
			return session(c, req, error);
		case AMBER_PARENT_ANNOUNCE_ROOT:
			*error = announce_root(c, req);
			break;
		case AMBER_PARENT_SESSION_REQUEST:
			*error = root_fetch(c, req);
			break;
		case AMBER_PARENT_SESSION_RESPONSE:
			*error = root_respond(c, req);
			break;
		case AMBER_PARENT_SESSION_UPGRADE:
			*error = root_upgrade(c, req);
			break;
		case AMBER_PARENT_CLOSE:
			if (req->nitems == 1 && root_close(c, req->items[0])) {
				service_drop_items(req);
				*error = AMBER_OK;
				return KCORE_REPLY;
			}
			if (req->nitems == 1 && announced_gate(req->items[0])) {
				service_drop_items(req);
				*error = AMBER_OK;
				return KCORE_REPLY;
			}
			return core_session_close_request(c, req, error);
		case AMBER_PARENT_EXIT:
			c->exit_requested = true;
			c->exit_code = (int)req->mr[1];
			if (c->process)
				process_kill(c->process, "exit");
			service_drop_items(req);
			return KCORE_DEFER; /* never answered: the component ends */
		default:
			*error = AMBER_ERR_OPCODE;
			break;
		}
	}
	service_drop_items(req);
	return KCORE_REPLY;
}

unsigned parent_held(const struct component *c)
{
	unsigned n = c->npending_sessions + root_held(c);
	for (const struct service *s = services; s; s = s->next)
		n += s->server == c;
	return n;
}

void parent_forget(struct component *c)
{
	for (struct service **sp = &services; *sp;) {
		struct service *s = *sp;
		if (s->server != c) {
			sp = &s->next;
			continue;
		}
		*sp = s->next;
		struct kobj *o = kernel_cap_object(kernel_core_task(), s->core_sel, NULL, NULL);
		if (o && kernel_object_id(o) == s->gate_id)
			kernel_cap_delete(kernel_core_task(), s->core_sel);
		free(s);
	}
	root_forget(c);
	/* Its calls still waiting: answered, so the kernel forgets them too. */
	for (struct pending_session *p = pending, *next; p; p = next) {
		next = p->next;
		if (p->client == c)
			pending_answer(p, AMBER_ERR_NO_PARTNER, 0, NULL);
	}
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* Announced services are saved with the slot of the server core's copy
 * was derived from. Pending SESSION requests are not saved: their callers
 * wait for core, and restore restarts such calls, which asks again. */
int parent_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	for (struct service *x = services; x; x = x->next) {
		if (x->server != c)
			continue;
		struct kernel_cap_info info;
		if (kernel_cap_info_of(kernel_core_task(), x->core_sel, &info) != AMBER_OK || info.object_id != x->gate_id)
			continue; /* revoked meanwhile: no longer announced */
		if (info.parent_task_id != kernel_object_id(c->task))
			return cr_fail(s->err, s->errlen, "%s: service '%s' was announced with a gate not from its own space",
				       c->name, x->name);
		AmberImg__Service *y = CR_NEW(AmberImg__Service, amber_img__service__init);
		y->name = cr_strdup(x->name);
		y->gate_id = x->gate_id;
		y->from_sel = info.parent_sel;
		CR_APPEND(m, services, y);
	}
	return 0;
}

int parent_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct ktask *core = kernel_core_task();
	for (size_t i = 0; i < l->m->n_services; i++) {
		const AmberImg__Service *y = l->m->services[i];
		if (strlen(y->name) >= SERVICE_NAME_MAX || !y->name[0] || core_service_name(y->name) || service_find(y->name))
			return cr_fail(l->err, l->errlen, "%s: cannot announce service '%s' again: the name is taken or invalid",
				       c->name, y->name);
		struct service *x = calloc(1, sizeof(*x));
		if (!x)
			return cr_fail(l->err, l->errlen, "%s: no memory for a service", c->name);
		x->core_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (kernel_cap_map(c->task, y->from_sel, core, x->core_sel, AMBER_RIGHTS_ALL) != AMBER_OK ||
		    kernel_object_id(kernel_cap_object(core, x->core_sel, NULL, NULL)) != y->gate_id) {
			if (x->core_sel != AMBER_SEL_INVALID)
				kernel_cap_delete(core, x->core_sel);
			free(x);
			return cr_fail(l->err, l->errlen, "%s: service '%s': slot %u does not hold its gate", c->name, y->name,
				       y->from_sel);
		}
		strcpy(x->name, y->name);
		x->gate_id = y->gate_id;
		x->server = c;
		x->next = services;
		services = x;
		serve_pending(x); /* clients that asked while it was stopped */
	}
	return 0;
}
