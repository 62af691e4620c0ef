/*
 * Signals: signal sources and signal contexts, core's objects behind
 * Genode's asynchronous notifications, as on Fiasco.OC.
 *
 * A signal source belongs to a component and has a blocking semaphore: a
 * kernel IRQ that core creates in its own task and attaches to the
 * component's signal-handler thread (the seed's CAP3). The component gets
 * the IRQ with INVOKE only, so that thread can block on it but nobody can
 * attach it elsewhere; core keeps the root and knows (thread, label), which
 * is what a restore needs to attach it again to the restored thread.
 *
 * A signal context belongs to a source and carries an imprint and a
 * pending count. Submitting adds to the count; the submit that makes a
 * context pending queues it at its source. Core keeps one trigger of the
 * semaphore outstanding while the queue is not empty: it triggers when the
 * queue becomes non-empty and again after a fetch (WAIT_FOR_SIGNAL) that
 * leaves contexts queued. Freeing a queued context can leave that trigger
 * without a context: the receiver then wakes once and fetches nothing.
 *
 * Sources and contexts are core gates (protocols in amber/signal_source.h)
 * whose root capabilities stay in core's task. Core recognises one sent to
 * it by the identity of the gate (its kernel object id), never by a number
 * the component names. Ids of kernel objects are never reused, so the
 * Timer service keeps a context by id and finds out when it is gone.
 *
 * The PD session's methods (amber/pd_session.h) call in here; everything
 * runs with the kernel lock held, which also protects these lists.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "amber/pd_session.h"
#include "amber/signal_source.h"
#include "core.h"
#include "cr_state.h"

struct signal_context;

struct signal_source {
	struct signal_source *next; /* all sources */
	struct component *c;        /* owner */
	const struct core_session *session; /* the PD session that made it */
	uint64_t badge;             /* the gate's label and the semaphore's attach label */
	amber_sel_t sel;            /* the gate's root capability in core's task */
	uint64_t gate_id;
	amber_sel_t irq_sel;        /* the semaphore's root capability in core's task */
	struct kirq *irq;
	uint64_t thread_id;         /* the signal-handler thread it was attached to */
	struct signal_context *queue_head, *queue_tail; /* pending contexts, FIFO */
};

struct signal_context {
	struct signal_context *next;   /* all contexts */
	struct component *c;           /* owner */
	const struct core_session *session; /* the PD session that made it */
	struct signal_source *source;  /* NULL once the source is freed */
	uint64_t badge;                /* the gate's label */
	amber_sel_t sel;               /* the gate's root capability in core's task */
	uint64_t gate_id;
	uint64_t imprint;
	uint32_t count;                /* pending count; > 0 exactly while queued */
	struct signal_context *queue_next;
};

static struct signal_source *sources;
static struct signal_context *contexts;

/* ---- lookup by capability (in core's task) ----------------------------- */

static uint64_t gate_id_of(amber_sel_t core_sel)
{
	enum amber_kind kind;
	struct kobj *o = kernel_cap_object(kernel_core_task(), core_sel, &kind, NULL);
	return o && kind == AMBER_KIND_GATE ? kernel_object_id(o) : 0;
}

static struct signal_source *source_by_gate(uint64_t id)
{
	for (struct signal_source *s = sources; id && s; s = s->next)
		if (s->gate_id == id)
			return s;
	return NULL;
}

static struct signal_context *context_by_gate(uint64_t id)
{
	for (struct signal_context *x = contexts; id && x; x = x->next)
		if (x->gate_id == id)
			return x;
	return NULL;
}

uint64_t signal_context_id(amber_sel_t core_sel)
{
	struct signal_context *x = context_by_gate(gate_id_of(core_sel));
	return x ? x->gate_id : 0;
}

/* ---- the queue ------------------------------------------------------------ */

static void dequeue(struct signal_context *x)
{
	struct signal_source *s = x->source;
	if (!s || x->count == 0)
		return;
	struct signal_context *prev = NULL;
	for (struct signal_context *q = s->queue_head; q; prev = q, q = q->queue_next) {
		if (q != x)
			continue;
		if (prev)
			prev->queue_next = x->queue_next;
		else
			s->queue_head = x->queue_next;
		if (s->queue_tail == x)
			s->queue_tail = prev;
		break;
	}
	x->queue_next = NULL;
	x->count = 0;
}

static int submit(struct signal_context *x, uint64_t count)
{
	struct signal_source *s = x->source;
	if (!s || s->c->ending)
		return AMBER_ERR_NO_PARTNER;
	bool queued = x->count > 0;
	uint64_t sum = (uint64_t)x->count + count;
	x->count = sum > AMBER_SIGNAL_COUNT_MAX ? AMBER_SIGNAL_COUNT_MAX : (uint32_t)sum;
	if (queued)
		return AMBER_OK;
	bool was_empty = s->queue_head == NULL;
	x->queue_next = NULL;
	if (s->queue_tail)
		s->queue_tail->queue_next = x;
	else
		s->queue_head = x;
	s->queue_tail = x;
	if (was_empty)
		kernel_irq_trigger(s->irq);
	return AMBER_OK;
}

int signal_submit(uint64_t context_id, uint64_t count)
{
	struct signal_context *x = context_by_gate(context_id);
	if (!x || count == 0 || count > AMBER_SIGNAL_COUNT_MAX)
		return AMBER_ERR_INVALID_ARG;
	return submit(x, count);
}

/* ---- the objects' own gates ------------------------------------------------ */

static enum kcore_result source_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct signal_source *s = ctx;
	service_drop_items(req);
	req->reply_tag = amber_tag(AMBER_PROTO_SIGNAL_SOURCE, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_SIGNAL_SOURCE) {
		*error = AMBER_ERR_PROTO;
	} else if (amber_tag_words(req->tag) < 1 || req->mr[0] != AMBER_SIGNAL_SOURCE_WAIT_FOR_SIGNAL) {
		*error = AMBER_ERR_OPCODE;
	} else if (s->c->ending) {
		*error = AMBER_ERR_NO_PARTNER;
	} else if (!s->queue_head) {
		*error = AMBER_ERR_TIMEOUT;
	} else {
		struct signal_context *x = s->queue_head;
		req->reply_mr[0] = x->imprint;
		req->reply_mr[1] = x->count;
		req->reply_tag = amber_tag(AMBER_PROTO_SIGNAL_SOURCE, 2, 0);
		dequeue(x);
		if (s->queue_head)
			kernel_irq_trigger(s->irq); /* wake the handler thread for the next one */
		*error = AMBER_OK;
	}
	return KCORE_REPLY;
}

static int submit_count(const struct kcore_request *req, uint64_t *count)
{
	if (amber_tag_words(req->tag) < 2 || req->mr[1] == 0 || req->mr[1] > AMBER_SIGNAL_COUNT_MAX)
		return AMBER_ERR_INVALID_ARG;
	*count = req->mr[1];
	return AMBER_OK;
}

static enum kcore_result context_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct signal_context *x = ctx;
	uint64_t count = 0;
	service_drop_items(req);
	req->reply_tag = amber_tag(AMBER_PROTO_SIGNAL_CONTEXT, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_SIGNAL_CONTEXT)
		*error = AMBER_ERR_PROTO;
	else if (amber_tag_words(req->tag) < 1 || req->mr[0] != AMBER_SIGNAL_CONTEXT_SUBMIT)
		*error = AMBER_ERR_OPCODE;
	else if ((*error = submit_count(req, &count)) == AMBER_OK)
		*error = submit(x, count);
	return KCORE_REPLY;
}

/* ---- PD methods ------------------------------------------------------------ */

static unsigned count_sources(const struct component *c)
{
	unsigned n = 0;
	for (struct signal_source *s = sources; s; s = s->next)
		n += s->c == c;
	return n;
}

static unsigned count_contexts(const struct component *c)
{
	unsigned n = 0;
	for (struct signal_context *x = contexts; x; x = x->next)
		n += x->c == c;
	return n;
}

unsigned signal_held(const struct component *c)
{
	return 2 * count_sources(c) + count_contexts(c);
}

int signal_alloc_source(struct core_session *session, struct kcore_request *req)
{
	struct component *c = session->c;
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	struct ktask *core = kernel_core_task();
	enum amber_kind kind;
	unsigned rights = 0;
	struct kobj *o = kernel_cap_object(core, req->items[0], &kind, &rights);
	service_drop_items(req);
	if (!o || kind != AMBER_KIND_THREAD || kernel_thread_task((struct kthread *)o) != c->task)
		return AMBER_ERR_INVALID_ARG;
	if (!(rights & AMBER_RIGHT_CONTROL))
		return AMBER_ERR_RIGHTS;
	if (count_sources(c) >= AMBER_PD_MAX_SIGNAL_SOURCES || core_quota_take(c, 2))
		return AMBER_ERR_QUOTA;
	struct signal_source *s = calloc(1, sizeof(*s));
	if (!s)
		return AMBER_ERR_QUOTA;
	s->c = c;
	s->session = session;
	s->badge = core_new_badge();
	s->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	struct kgate *g = NULL;
	int err = s->sel == AMBER_SEL_INVALID ? AMBER_ERR_QUOTA
					      : kernel_create_core_gate(core, s->sel, s->badge, source_handle, s, &g);
	if (err) {
		free(s);
		return err;
	}
	s->gate_id = kernel_object_id(g);
	s->irq_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	err = s->irq_sel == AMBER_SEL_INVALID ? AMBER_ERR_QUOTA : kernel_create_irq(core, s->irq_sel, &s->irq);
	if (!err)
		err = kernel_irq_attach(s->irq, (struct kthread *)o, s->badge); /* CAP3 */
	if (err) {
		if (s->irq)
			kernel_cap_delete(core, s->irq_sel);
		kernel_cap_delete(core, s->sel);
		free(s);
		return err;
	}
	s->thread_id = kernel_object_id(o);
	s->next = sources;
	sources = s;
	req->reply_mr[0] = s->badge;
	req->reply_mr[1] = amber_map_item(s->sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	req->reply_mr[2] = amber_map_item(s->irq_sel, AMBER_RIGHT_INVOKE);
	req->reply_tag = amber_tag(AMBER_PROTO_PD, 1, 2);
	return AMBER_OK;
}

static void source_free(struct signal_source *s)
{
	for (struct signal_source **pp = &sources; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	for (struct signal_context *x = contexts; x; x = x->next) {
		if (x->source != s)
			continue;
		dequeue(x);
		x->source = NULL; /* orphaned: SUBMIT answers NO_PARTNER */
	}
	struct ktask *core = kernel_core_task();
	kernel_cap_delete(core, s->irq_sel); /* a thread blocked on it gets CANCELED */
	kernel_cap_delete(core, s->sel);
	free(s);
}

int signal_free_source(struct component *c, struct kcore_request *req)
{
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	struct signal_source *s = source_by_gate(gate_id_of(req->items[0]));
	service_drop_items(req);
	if (!s || s->c != c)
		return AMBER_ERR_INVALID_ARG;
	source_free(s);
	return AMBER_OK;
}

int signal_alloc_context(struct core_session *session, struct kcore_request *req)
{
	struct component *c = session->c;
	if (req->nitems != 1 || amber_tag_words(req->tag) < 2)
		return AMBER_ERR_INVALID_ARG;
	struct signal_source *s = source_by_gate(gate_id_of(req->items[0]));
	service_drop_items(req);
	if (!s || s->c != c)
		return AMBER_ERR_INVALID_ARG;
	if (count_contexts(c) >= AMBER_PD_MAX_SIGNAL_CONTEXTS || core_quota_take(c, 1))
		return AMBER_ERR_QUOTA;
	struct ktask *core = kernel_core_task();
	struct signal_context *x = calloc(1, sizeof(*x));
	if (!x)
		return AMBER_ERR_QUOTA;
	x->c = c;
	x->session = session;
	x->source = s;
	x->imprint = req->mr[1];
	x->badge = core_new_badge();
	x->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	struct kgate *g = NULL;
	int err = x->sel == AMBER_SEL_INVALID ? AMBER_ERR_QUOTA
					      : kernel_create_core_gate(core, x->sel, x->badge, context_handle, x, &g);
	if (err) {
		free(x);
		return err;
	}
	x->gate_id = kernel_object_id(g);
	x->next = contexts;
	contexts = x;
	req->reply_mr[0] = amber_map_item(x->sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	req->reply_tag = amber_tag(AMBER_PROTO_PD, 0, 1);
	return AMBER_OK;
}

static void context_free(struct signal_context *x)
{
	for (struct signal_context **pp = &contexts; *pp; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	}
	dequeue(x);
	kernel_cap_delete(kernel_core_task(), x->sel); /* revokes every copy */
	free(x);
}

int signal_free_context(struct component *c, struct kcore_request *req)
{
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	struct signal_context *x = context_by_gate(gate_id_of(req->items[0]));
	service_drop_items(req);
	if (!x || x->c != c)
		return AMBER_ERR_INVALID_ARG;
	context_free(x);
	return AMBER_OK;
}

int signal_submit_request(struct kcore_request *req)
{
	uint64_t count = 0;
	if (req->nitems != 1) {
		service_drop_items(req);
		return AMBER_ERR_INVALID_ARG;
	}
	struct signal_context *x = context_by_gate(gate_id_of(req->items[0]));
	service_drop_items(req);
	if (!x)
		return AMBER_ERR_INVALID_ARG;
	int err = submit_count(req, &count);
	return err ? err : submit(x, count);
}

void signal_forget(struct component *c)
{
	unsigned nsources = 0, ncontexts = 0;
	for (struct signal_source **pp = &sources; *pp;) {
		if ((*pp)->c == c) {
			source_free(*pp); /* unlinks it: *pp is the next one */
			nsources++;
		} else {
			pp = &(*pp)->next;
		}
	}
	for (struct signal_context **pp = &contexts; *pp;) {
		if ((*pp)->c == c) {
			context_free(*pp);
			ncontexts++;
		} else {
			pp = &(*pp)->next;
		}
	}
	if (nsources || ncontexts)
		core_report("%s: released %u signal source%s, %u signal context%s", c->name, nsources,
			    nsources == 1 ? "" : "s", ncontexts, ncontexts == 1 ? "" : "s");
}

void signal_close_session(const struct core_session *session)
{
	for (struct signal_source **pp = &sources; *pp;) {
		if ((*pp)->session == session)
			source_free(*pp); /* unlinks it: *pp is the next one */
		else
			pp = &(*pp)->next;
	}
	for (struct signal_context **pp = &contexts; *pp;) {
		if ((*pp)->session == session)
			context_free(*pp);
		else
			pp = &(*pp)->next;
	}
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* Sources and contexts come back with their gates' ids and badges, pending
 * counts and queue order; the semaphore IRQ (CAP3) is made again in core's
 * task with its id, and the walker attaches it to the restored
 * signal-handler thread with the old badge as label (its saved IrqState),
 * as core attached it at ALLOC_SIGNAL_SOURCE. */
int signal_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	for (struct signal_source *x = sources; x; x = x->next) {
		if (x->c != c)
			continue;
		AmberImg__SignalSource *y = CR_NEW(AmberImg__SignalSource, amber_img__signal_source__init);
		y->gate_id = x->gate_id;
		y->badge = x->badge;
		y->irq_id = kernel_object_id(x->irq);
		y->thread_id = x->thread_id;
		y->session = cr_session_index(c, x->session);
		CR_APPEND(m, signal_sources, y);
	}
	for (struct signal_context *x = contexts; x; x = x->next) {
		if (x->c != c)
			continue;
		AmberImg__SignalContext *y = CR_NEW(AmberImg__SignalContext, amber_img__signal_context__init);
		y->gate_id = x->gate_id;
		y->badge = x->badge;
		y->source_gate_id = x->source ? x->source->gate_id : 0;
		y->imprint = x->imprint;
		y->count = x->count;
		unsigned pos = 0;
		for (struct signal_context *q = x->source && x->count ? x->source->queue_head : NULL; q && q != x;
		     q = q->queue_next)
			pos++;
		y->queue_pos = pos;
		y->session = cr_session_index(c, x->session);
		CR_APPEND(m, signal_contexts, y);
	}
	(void)s;
	return 0;
}

int signal_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct ktask *core = kernel_core_task();
	for (size_t i = 0; i < l->m->n_signal_sources; i++) {
		const AmberImg__SignalSource *y = l->m->signal_sources[i];
		const struct core_session *ss = cr_load_session(l, y->session, "a signal source");
		if (!ss)
			return -1;
		struct signal_source *x = calloc(1, sizeof(*x));
		if (!x)
			return cr_fail(l->err, l->errlen, "%s: no memory for a signal source", c->name);
		x->c = c;
		x->session = ss;
		x->badge = y->badge;
		x->gate_id = y->gate_id;
		x->thread_id = y->thread_id;
		x->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, y->gate_id, "signal source") < 0 ||
		    kernel_create_core_gate(core, x->sel, x->badge, source_handle, x, NULL) != AMBER_OK) {
			free(x);
			return l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: cannot create a signal source", c->name);
		}
		x->irq_sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, y->irq_id, "signal source's semaphore") < 0 ||
		    kernel_create_irq(core, x->irq_sel, &x->irq) != AMBER_OK) {
			kernel_cap_delete(core, x->sel);
			free(x);
			return l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: cannot create a semaphore", c->name);
		}
		x->next = sources;
		sources = x;
	}
	/* Contexts, then each source's queue in its saved order. */
	struct signal_context **made = calloc(l->m->n_signal_contexts + 1, sizeof(*made));
	if (!made)
		return cr_fail(l->err, l->errlen, "%s: no memory for signal contexts", c->name);
	int rc = 0;
	for (size_t i = 0; i < l->m->n_signal_contexts; i++) {
		const AmberImg__SignalContext *y = l->m->signal_contexts[i];
		const struct core_session *ss = cr_load_session(l, y->session, "a signal context");
		if (!ss) {
			rc = -1;
			break;
		}
		struct signal_source *src = y->source_gate_id ? source_by_gate(y->source_gate_id) : NULL;
		if (y->source_gate_id && (!src || src->c != c)) {
			rc = cr_fail(l->err, l->errlen, "%s: signal context %llu names source %llu, none of its own", c->name,
				     (unsigned long long)y->gate_id, (unsigned long long)y->source_gate_id);
			break;
		}
		struct signal_context *x = calloc(1, sizeof(*x));
		if (!x) {
			rc = cr_fail(l->err, l->errlen, "%s: no memory for a signal context", c->name);
			break;
		}
		x->c = c;
		x->session = ss;
		x->source = src;
		x->badge = y->badge;
		x->gate_id = y->gate_id;
		x->imprint = y->imprint;
		x->count = src && y->count <= AMBER_SIGNAL_COUNT_MAX ? y->count : 0;
		x->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, y->gate_id, "signal context") < 0 ||
		    kernel_create_core_gate(core, x->sel, x->badge, context_handle, x, NULL) != AMBER_OK) {
			free(x);
			rc = l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: cannot create a signal context", c->name);
			break;
		}
		x->next = contexts;
		contexts = x;
		made[i] = x;
	}
	for (uint32_t pos = 0; rc == 0; pos++) {
		bool any = false;
		for (size_t i = 0; i < l->m->n_signal_contexts; i++) {
			struct signal_context *x = made[i];
			if (!x->count || l->m->signal_contexts[i]->queue_pos != pos)
				continue;
			any = true;
			struct signal_source *src = x->source;
			if (src->queue_tail)
				src->queue_tail->queue_next = x;
			else
				src->queue_head = x;
			src->queue_tail = x;
		}
		if (!any)
			break;
	}
	free(made);
	return rc;
}
