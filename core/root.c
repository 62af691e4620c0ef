/*
 * The root interface of services components provide (Genode's
 * Root::session, upgrade and close), where core is the parent.
 *
 * With ANNOUNCE a server hands core one gate for all clients and learns
 * nothing about them. With ANNOUNCE_ROOT every session is an object of the
 * server, made for one client, as in Genode: a client's SESSION becomes a
 * CREATE request (the client's label, the session arguments, the quota it
 * donates, which core moves from the client to the server first); the
 * server answers with a capability of its own, or with an error code the
 * client's SESSION returns. The client's CLOSE of that capability, or the
 * client's end, becomes a CLOSE request, so the server can free what it
 * holds for the client; SESSION_UPGRADE moves more quota and becomes an
 * UPGRADE request. The protocol is the asynchronous one of Genode's parent
 * (session requests the server fetches, responses it gives): core never
 * calls into a component, it submits the server's signal context when a
 * request waits, and the server fetches requests (SESSION_REQUEST) and
 * answers (SESSION_RESPONSE) when it likes. A client's SESSION call waits
 * for the answer like a SESSION for a service not yet announced
 * (parent.c): the record of the wait lives only while the caller waits.
 *
 * Core keeps the session capability the server delivered (its copy is
 * derived from the server's slot) and gives the client a copy derived
 * from core's: closing deletes core's copy, which revokes the client's and
 * every copy it passed on.
 *
 * Records name clients by component id, not by pointer, so that a client
 * checkpointed and restored in place keeps its sessions; a server's
 * records are part of its image (root_save/root_load).
 *
 * Locking: everything runs under the kernel lock (parent requests,
 * component ends, checkpoint and restore).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amber/protocols.h"
#include "core.h"
#include "cr_state.h"

#define ROOT_TEXT_MAX CORE_SERVICE_NAME_MAX

struct root_service {
	struct root_service *next;
	char name[ROOT_TEXT_MAX];
	struct component *server;
	uint64_t context_id; /* the server's signal context: a request waits */
	bool notify_later;   /* a request came during a restore: root_restored submits */
};

enum root_state {
	ROOT_CREATING, /* CREATE not answered yet */
	ROOT_OPEN,     /* the client holds the session */
	ROOT_CLOSING,  /* closed or its client ended; CLOSE not answered yet */
};

struct root_session {
	struct root_session *next; /* oldest first: requests are fetched in order */
	char service[ROOT_TEXT_MAX];
	struct component *server;  /* NULL: its server is being restored (waits for it) */
	uint64_t id;
	unsigned client_id;        /* component id */
	char label[COMPONENT_LABEL_MAX], args[ROOT_TEXT_MAX];
	uint64_t ram, caps;        /* donated so far */
	uint64_t up_ram, up_caps;  /* UPGRADE not fetched yet */
	enum root_state state;
	unsigned want;             /* requests not fetched: 1 << enum amber_root_request_kind */
	unsigned fetched;          /* the request fetched and not answered (kind), or NONE */
	uint64_t waiter_id;        /* the client thread waiting for CREATE's answer; 0 none */
	amber_sel_t core_sel;      /* OPEN, CLOSING: core's copy of the session capability */
	uint64_t gate_id;
};

static struct root_service *services;
static struct root_session *sessions;
static uint64_t last_id;
/* A restore is loading records: a submit now would be lost when the
 * server's signal state is loaded after it, so it waits (root_restored). */
static bool loading;

#define WANT(kind) (1u << (kind))

static struct root_service *service_named(const char *name)
{
	for (struct root_service *s = services; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

bool root_service_exists(const char *name) { return service_named(name) != NULL; }

static void notify(const struct component *server)
{
	for (struct root_service *s = services; s; s = s->next)
		if (s->server == server && s->context_id) {
			if (loading)
				s->notify_later = true;
			else
				signal_submit(s->context_id, 1);
		}
}

static void unlink_session(struct root_session *x)
{
	for (struct root_session **p = &sessions; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			return;
		}
}

/* The donation leaves the server: back to the client if it still lives,
 * else it is gone with the client, as the rest of its quota. */
static void give_back(struct root_session *x)
{
	if (!x->server || (!x->ram && !x->caps))
		return;
	struct component *client = core_component_by_id(x->client_id);
	if (core_quota_transfer(x->server, client, x->ram, x->caps) != AMBER_OK)
		core_report("%s: session %llu of '%s' ends, but the server no longer has the %llu bytes and %llu caps "
			    "its client donated",
			    x->server->name, (unsigned long long)x->id, x->service, (unsigned long long)x->ram,
			    (unsigned long long)x->caps);
	x->ram = x->caps = 0;
}

static void answer_waiter(struct root_session *x, int error, amber_tag_t tag, const amber_word_t *mr)
{
	if (!x->waiter_id)
		return;
	parent_pending_release(x->waiter_id); /* a wait that began before the announcement */
	struct kobj *o = kernel_object_by_id(x->waiter_id);
	x->waiter_id = 0;
	if (o && kernel_object_kind(o) == AMBER_KIND_THREAD)
		kernel_core_reply((struct kthread *)o, error, tag, mr);
}

static void drop_core_copy(struct root_session *x)
{
	if (x->core_sel == AMBER_SEL_INVALID)
		return;
	struct kobj *o = kernel_cap_object(kernel_core_task(), x->core_sel, NULL, NULL);
	if (o && kernel_object_id(o) == x->gate_id)
		kernel_cap_delete(kernel_core_task(), x->core_sel);
	x->core_sel = AMBER_SEL_INVALID;
}

static void finish(struct root_session *x)
{
	drop_core_copy(x);
	give_back(x);
	unlink_session(x);
	free(x);
}

/* The session is to close: tell the server, unless it never heard of it. */
static void start_close(struct root_session *x)
{
	drop_core_copy(x);
	if (x->state == ROOT_CREATING && (x->want & WANT(AMBER_ROOT_CREATE))) {
		finish(x); /* not fetched: the server never knew it */
		return;
	}
	if (x->state == ROOT_CLOSING)
		return;
	if (x->state == ROOT_OPEN) {
		x->state = ROOT_CLOSING;
		x->want = WANT(AMBER_ROOT_CLOSE);
		if (x->server)
			notify(x->server);
	}
	/* CREATING and fetched: the answer closes it (respond). */
}

/* The kernel: the client stopped waiting for CREATE's answer (timeout,
 * cancel, its end). No kernel calls here: mark it, and the next step
 * closes it. */
static void create_abandoned(void *ctx)
{
	struct root_session *x = ctx;
	x->waiter_id = 0;
}

int root_service_add(struct component *server, const char *name, uint64_t context_id)
{
	if (core_quota_take(server, 1))
		return AMBER_ERR_QUOTA;
	struct root_service *s = calloc(1, sizeof(*s));
	if (!s)
		return AMBER_ERR_QUOTA;
	strcpy(s->name, name);
	s->server = server;
	s->context_id = context_id;
	s->next = services;
	services = s;
	/* Requests that waited while it was restored (root_forget). */
	bool waiting = false;
	for (struct root_session *x = sessions; x; x = x->next)
		if (!x->server && strcmp(x->service, name) == 0) {
			x->server = server;
			waiting = true;
		}
	if (waiting)
		notify(server);
	return AMBER_OK;
}

/* "ram_quota=N" (K, M, G suffixes) in Genode's argument syntax; 0 if absent. */
static uint64_t arg_number(const char *args, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = args; p && *p; p++) {
		if ((p != args && p[-1] != ' ' && p[-1] != ',') || strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		uint64_t v = 0;
		const char *d = p + klen + 1;
		for (; *d >= '0' && *d <= '9' && v < (1ull << 50); d++)
			v = v * 10 + (uint64_t)(*d - '0');
		if (*d == 'K')
			v <<= 10;
		else if (*d == 'M')
			v <<= 20;
		else if (*d == 'G')
			v <<= 30;
		return v;
	}
	return 0;
}

void root_waiter_gone(uint64_t id)
{
	for (struct root_session *x = sessions; x; x = x->next)
		if (x->id == id)
			x->waiter_id = 0;
}

int root_session_create(struct component *client, const char *name, const char *args, uint64_t waiter_id,
			uint64_t *id)
{
	struct root_service *s = service_named(name);
	uint64_t ram = arg_number(args, "ram_quota"), caps = arg_number(args, "cap_quota");
	if (!s)
		return AMBER_ERR_INVALID_ARG;
	if (core_quota_take(client, 1))
		return AMBER_ERR_QUOTA;
	struct root_session *x = calloc(1, sizeof(*x));
	if (!x)
		return AMBER_ERR_QUOTA;
	/* Genode's Insufficient_ram_quota: the donation must be there. */
	int err = core_quota_transfer(client, s->server, ram, caps);
	if (err != AMBER_OK) {
		free(x);
		return err;
	}
	strcpy(x->service, s->name);
	x->server = s->server;
	x->id = ++last_id;
	x->client_id = client->id;
	snprintf(x->label, sizeof(x->label), "%s", client->name);
	snprintf(x->args, sizeof(x->args), "%s", args ? args : "");
	x->ram = (ram + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
	x->caps = caps;
	x->state = ROOT_CREATING;
	x->want = WANT(AMBER_ROOT_CREATE);
	x->waiter_id = waiter_id;
	x->core_sel = AMBER_SEL_INVALID;
	struct root_session **tail = &sessions;
	while (*tail)
		tail = &(*tail)->next;
	*tail = x;
	*id = x->id;
	notify(s->server);
	return AMBER_OK;
}

enum kcore_result root_session_open(struct component *client, const char *name, const char *args,
				    struct kcore_request *req, int *error)
{
	uint64_t id;
	*error = root_session_create(client, name, args, kernel_object_id(req->caller), &id);
	if (*error)
		return KCORE_REPLY;
	struct root_session *x = sessions;
	while (x->id != id)
		x = x->next;
	req->abandoned = create_abandoned;
	req->abandoned_ctx = x;
	return KCORE_DEFER;
}

/* A session of the client c by the capability `item` (in core's task). */
static struct root_session *session_of_client(const struct component *c, amber_sel_t item)
{
	struct kobj *o = kernel_cap_object(kernel_core_task(), item, NULL, NULL);
	uint64_t id = o ? kernel_object_id(o) : 0;
	for (struct root_session *x = sessions; id && x; x = x->next)
		if (x->state == ROOT_OPEN && x->client_id == c->id && x->gate_id == id)
			return x;
	return NULL;
}

bool root_close(struct component *c, amber_sel_t item)
{
	struct root_session *x = session_of_client(c, item);
	if (!x)
		return false;
	start_close(x);
	return true;
}

int root_upgrade(struct component *c, struct kcore_request *req)
{
	if (req->nitems != 1 || amber_tag_words(req->tag) < 3)
		return AMBER_ERR_INVALID_ARG;
	struct root_session *x = session_of_client(c, req->items[0]);
	if (!x || !x->server)
		return AMBER_ERR_INVALID_ARG;
	uint64_t ram = req->mr[1], caps = req->mr[2];
	int err = core_quota_transfer(c, x->server, ram, caps);
	if (err)
		return err;
	ram = (ram + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
	x->ram += ram;
	x->caps += caps;
	x->up_ram += ram;
	x->up_caps += caps;
	x->want |= WANT(AMBER_ROOT_UPGRADE);
	notify(x->server);
	return AMBER_OK;
}

/* Put a string into the reply at word w; the next free word. */
static unsigned put_string(struct kcore_request *req, unsigned w, const char *text)
{
	size_t len = strlen(text);
	req->reply_mr[w] = len;
	memset(&req->reply_mr[w + 1], 0, (len + 7) / 8 * 8);
	memcpy(&req->reply_mr[w + 1], text, len);
	return w + 1 + (unsigned)((len + 7) / 8);
}

int root_fetch(struct component *c, struct kcore_request *req)
{
	for (struct root_session *x = sessions, *next; x; x = next) {
		next = x->next;
		if (x->server != c || !x->want)
			continue;
		if (x->state == ROOT_CREATING && !x->waiter_id && (x->want & WANT(AMBER_ROOT_CREATE))) {
			finish(x); /* its client stopped waiting before the server heard of it */
			continue;
		}
		unsigned kind = (x->want & WANT(AMBER_ROOT_CREATE))    ? AMBER_ROOT_CREATE
				: (x->want & WANT(AMBER_ROOT_UPGRADE)) ? AMBER_ROOT_UPGRADE
								       : AMBER_ROOT_CLOSE;
		x->want &= ~WANT(kind);
		x->fetched = kind;
		req->reply_mr[0] = kind;
		req->reply_mr[1] = x->id;
		req->reply_mr[2] = kind == AMBER_ROOT_UPGRADE ? x->up_ram : x->ram;
		req->reply_mr[3] = kind == AMBER_ROOT_UPGRADE ? x->up_caps : x->caps;
		if (kind == AMBER_ROOT_UPGRADE)
			x->up_ram = x->up_caps = 0;
		unsigned w = put_string(req, 4, x->service);
		w = put_string(req, w, x->label);
		w = put_string(req, w, x->args);
		req->reply_tag = amber_tag(AMBER_PROTO_PARENT, w, 0);
		return AMBER_OK;
	}
	req->reply_mr[0] = AMBER_ROOT_NONE;
	req->reply_tag = amber_tag(AMBER_PROTO_PARENT, 1, 0);
	return AMBER_OK;
}

int root_respond(struct component *c, struct kcore_request *req)
{
	if (amber_tag_words(req->tag) < 3)
		return AMBER_ERR_INVALID_ARG;
	uint64_t id = req->mr[1];
	int64_t status = (int64_t)req->mr[2];
	struct root_session *x = sessions;
	while (x && !(x->id == id && x->server == c))
		x = x->next;
	/* A CREATE still marked unfetched may be answered too: the server
	 * fetched it before a restore that forgot the fetch. */
	if (!x || (!x->fetched && !(x->want & WANT(AMBER_ROOT_CREATE))) || status > 0 || status < -127)
		return AMBER_ERR_INVALID_ARG;
	unsigned kind = x->fetched ? x->fetched : AMBER_ROOT_CREATE;
	if (kind == AMBER_ROOT_UPGRADE) {
		x->fetched = 0;
		return AMBER_OK;
	}
	if (kind == AMBER_ROOT_CLOSE) {
		finish(x);
		return AMBER_OK;
	}
	/* CREATE */
	if (status != AMBER_OK) {
		answer_waiter(x, (int)status, 0, NULL);
		finish(x);
		return AMBER_OK;
	}
	enum amber_kind okind = AMBER_KIND_NONE;
	if (req->nitems != 1 || !kernel_cap_object(kernel_core_task(), req->items[0], &okind, NULL) ||
	    okind != AMBER_KIND_GATE || !parent_gate_served_by(c, req->items[0]))
		return AMBER_ERR_INVALID_ARG; /* the request stays: the server may answer again */
	x->want &= ~WANT(AMBER_ROOT_CREATE);
	x->fetched = 0;
	x->core_sel = req->items[0];
	x->gate_id = kernel_object_id(kernel_cap_object(kernel_core_task(), x->core_sel, NULL, NULL));
	req->nitems = 0; /* core keeps it */
	x->state = ROOT_OPEN;
	if (x->waiter_id && core_component_by_id(x->client_id)) {
		amber_word_t mr[1] = { amber_map_item(x->core_sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT) };
		answer_waiter(x, AMBER_OK, amber_tag(AMBER_PROTO_PARENT, 0, 1), mr);
	} else {
		start_close(x); /* nobody took it */
	}
	return AMBER_OK;
}

unsigned root_held(const struct component *c)
{
	unsigned n = 0;
	for (const struct root_service *s = services; s; s = s->next)
		n += s->server == c;
	for (const struct root_session *x = sessions; x; x = x->next)
		n += x->client_id == c->id;
	return n;
}

void root_forget(struct component *c)
{
	/* As a client: its sessions close, unless it is only being restored
	 * (it keeps them; its waiting calls are restarted by the restore). */
	for (struct root_session *x = sessions, *next; x; x = next) {
		next = x->next;
		if (x->client_id != c->id)
			continue;
		if (c->restoring)
			continue; /* a waiting call: the kernel tells create_abandoned */
		/* Answered, so the kernel forgets the call and never reports it
		 * abandoned after the record is gone. */
		answer_waiter(x, AMBER_ERR_NO_PARTNER, 0, NULL);
		start_close(x);
	}
	/* As a server: its services go. Its sessions go too, unless it is
	 * being restored: then the calls of clients still waiting for a
	 * CREATE wait for the restored server (root_service_add), and the
	 * rest come back with its image (root_load). */
	for (struct root_service **sp = &services; *sp;) {
		struct root_service *s = *sp;
		if (s->server != c) {
			sp = &s->next;
			continue;
		}
		*sp = s->next;
		free(s);
	}
	for (struct root_session *x = sessions, *next; x; x = next) {
		next = x->next;
		if (x->server != c)
			continue;
		if (c->restoring && x->state == ROOT_CREATING && x->waiter_id) {
			x->server = NULL;
			x->want = WANT(AMBER_ROOT_CREATE);
			x->fetched = 0;
			continue;
		}
		answer_waiter(x, AMBER_ERR_NO_PARTNER, 0, NULL);
		drop_core_copy(x);
		x->server = NULL; /* its quota is gone with it */
		unlink_session(x);
		free(x);
	}
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* A server's root services and its sessions that exist for its clients
 * (OPEN, CLOSING). A CREATE not answered is not saved: a client outside
 * the restored set goes on waiting (root_forget), one inside restarts its
 * call. */
int root_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	for (struct root_service *x = services; x; x = x->next) {
		if (x->server != c)
			continue;
		AmberImg__RootService *y = CR_NEW(AmberImg__RootService, amber_img__root_service__init);
		y->name = cr_strdup(x->name);
		y->context_id = x->context_id;
		CR_APPEND(m, root_services, y);
	}
	for (struct root_session *x = sessions; x; x = x->next) {
		if (x->server != c || x->state == ROOT_CREATING)
			continue;
		AmberImg__RootSession *y = CR_NEW(AmberImg__RootSession, amber_img__root_session__init);
		y->service = cr_strdup(x->service);
		y->id = x->id;
		y->client_id = x->client_id;
		y->label = cr_strdup(x->label);
		y->args = cr_strdup(x->args);
		y->ram = x->ram;
		y->caps = x->caps;
		y->up_ram = x->up_ram;
		y->up_caps = x->up_caps;
		y->closing = x->state == ROOT_CLOSING;
		y->want = x->want;
		y->fetched = x->fetched;
		y->gate_id = x->gate_id;
		if (x->state == ROOT_OPEN) {
			struct kernel_cap_info info;
			if (kernel_cap_info_of(kernel_core_task(), x->core_sel, &info) != AMBER_OK ||
			    info.object_id != x->gate_id || info.parent_task_id != kernel_object_id(c->task))
				return cr_fail(s->err, s->errlen, "%s: session %llu of '%s' is not a capability of its own",
					       c->name, (unsigned long long)x->id, x->service);
			y->has_from_sel = y->has_core_sel = true;
			y->from_sel = info.parent_sel;
			y->core_sel = x->core_sel;
		}
		CR_APPEND(m, root_sessions, y);
	}
	return 0;
}

void root_restored(void)
{
	loading = false;
	for (struct root_service *s = services; s; s = s->next)
		if (s->notify_later) {
			s->notify_later = false;
			signal_submit(s->context_id, 1);
		}
}

int root_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct ktask *core = kernel_core_task();
	loading = true;
	for (size_t i = 0; i < l->m->n_root_services; i++) {
		const AmberImg__RootService *y = l->m->root_services[i];
		if (strlen(y->name) >= ROOT_TEXT_MAX || !y->name[0] || service_named(y->name))
			return cr_fail(l->err, l->errlen, "%s: cannot announce root service '%s' again", c->name, y->name);
		if (root_service_add(c, y->name, y->context_id) != AMBER_OK)
			return cr_fail(l->err, l->errlen, "%s: no room for root service '%s'", c->name, y->name);
	}
	for (size_t i = 0; i < l->m->n_root_sessions; i++) {
		const AmberImg__RootSession *y = l->m->root_sessions[i];
		if (strlen(y->service) >= ROOT_TEXT_MAX || strlen(y->label) >= COMPONENT_LABEL_MAX ||
		    strlen(y->args) >= ROOT_TEXT_MAX || y->fetched > AMBER_ROOT_CLOSE)
			return cr_fail(l->err, l->errlen, "%s: a root session with an invalid record", c->name);
		struct root_session *x = calloc(1, sizeof(*x));
		if (!x)
			return cr_fail(l->err, l->errlen, "%s: no memory for a root session", c->name);
		strcpy(x->service, y->service);
		strcpy(x->label, y->label);
		strcpy(x->args, y->args);
		x->server = c;
		x->id = y->id;
		x->client_id = y->client_id;
		x->ram = y->ram;
		x->caps = y->caps;
		x->up_ram = y->up_ram;
		x->up_caps = y->up_caps;
		x->state = y->closing ? ROOT_CLOSING : ROOT_OPEN;
		x->want = y->want;
		x->fetched = y->fetched;
		x->gate_id = y->gate_id;
		x->core_sel = AMBER_SEL_INVALID;
		if (!y->closing) {
			/* Core's slot of before if it is free: clients' copies
			 * outside the restore are derived from it again there. */
			x->core_sel = y->has_core_sel && y->core_sel >= AMBER_SEL_FIRST_FREE && y->core_sel < AMBER_CAP_SLOTS &&
					      !kernel_cap_object(core, y->core_sel, NULL, NULL)
					      ? y->core_sel
					      : kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
			if (kernel_cap_map(c->task, y->from_sel, core, x->core_sel, AMBER_RIGHTS_ALL) != AMBER_OK ||
			    kernel_object_id(kernel_cap_object(core, x->core_sel, NULL, NULL)) != y->gate_id) {
				if (x->core_sel != AMBER_SEL_INVALID)
					kernel_cap_delete(core, x->core_sel);
				free(x);
				return cr_fail(l->err, l->errlen, "%s: root session %llu: slot %u does not hold its gate",
					       c->name, (unsigned long long)y->id, y->from_sel);
			}
		}
		if (x->id > last_id)
			last_id = x->id;
		struct root_session **tail = &sessions;
		while (*tail)
			tail = &(*tail)->next;
		*tail = x;
		/* A client that ended meanwhile (not restored with it): close. */
		if (x->state == ROOT_OPEN && !core_component_by_id(x->client_id))
			start_close(x);
	}
	return 0;
}
