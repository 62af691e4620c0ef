/*
 * IPC gates: the objects a client calls. A gate carries a label (the
 * badge) that the kernel hands to the receiver with every message, so a
 * server knows which of its objects was invoked without trusting the
 * client. A gate is served either by a thread bound to it or, for core's
 * services, by a handler inside amber-core.
 */
#include "object.h"

void gate_destroy(struct kgate *g)
{
	/* Senders queued through this gate lose their way to the receiver. */
	for (struct kthread *t = kthread_first(); t; t = t->thread_next)
		if (t->state == KTHREAD_SEND && t->send_gate == g)
			thread_abort_ipc(t, AMBER_ERR_NO_PARTNER);
	g->bound = NULL;
}

int gate_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out)
{
	struct kgate *g = (struct kgate *)c->obj;
	out->tag = amber_tag(AMBER_PROTO_GATE, 0, 0);
	switch (in->mr[0]) {
	case AMBER_GATE_BIND: {
		if (!(c->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		if (g->handler)
			return AMBER_ERR_INVALID_ARG; /* core's gates stay core's */
		struct kcap *tc = cap_lookup(caller->task, (amber_sel_t)in->mr[1]);
		if (!tc)
			return AMBER_ERR_INVALID_CAP;
		if (tc->obj->kind != AMBER_KIND_THREAD)
			return AMBER_ERR_INVALID_ARG;
		if (!(tc->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		g->bound = (struct kthread *)tc->obj;
		g->label = in->mr[2];
		return AMBER_OK;
	}
	default:
		return AMBER_ERR_OPCODE;
	}
}

static int gate_new(struct ktask *space, amber_sel_t sel, uint64_t label, struct kgate **out)
{
	int claimed = cap_slot_claim(space, sel);
	if (claimed != AMBER_OK)
		return claimed;
	struct kgate *g = kobj_alloc(AMBER_KIND_GATE, sizeof(*g));
	if (!g)
		return AMBER_ERR_QUOTA;
	g->label = label;
	cap_install(space, sel, &g->obj, AMBER_RIGHTS_ALL, NULL);
	*out = g;
	return AMBER_OK;
}

int kernel_create_gate(struct ktask *space, amber_sel_t sel, uint64_t label, struct kthread *bound,
		       struct kgate **out)
{
	struct kgate *g;
	int err = gate_new(space, sel, label, &g);
	if (err)
		return err;
	g->bound = bound;
	if (out)
		*out = g;
	return AMBER_OK;
}

int kernel_create_core_gate(struct ktask *space, amber_sel_t sel, uint64_t label,
			    kernel_core_handler handler, void *ctx, struct kgate **out)
{
	struct kgate *g;
	int err = gate_new(space, sel, label, &g);
	if (err)
		return err;
	g->handler = handler;
	g->handler_ctx = ctx;
	if (out)
		*out = g;
	return AMBER_OK;
}

void kernel_gate_export(const struct kgate *g, struct kernel_gate_state *s)
{
	s->label = g->label;
	s->bound_thread_id = g->bound ? g->bound->obj.id : 0;
}

int kernel_gate_import(struct kgate *g, const struct kernel_gate_state *s, struct kthread *bound)
{
	if ((s->bound_thread_id != 0) != (bound != NULL) || (g->handler && bound))
		return AMBER_ERR_INVALID_ARG;
	g->label = s->label;
	g->bound = bound;
	return AMBER_OK;
}

void *kernel_core_gate_ctx(struct ktask *space, amber_sel_t sel, kernel_core_handler handler)
{
	struct kcap *c = cap_lookup(space, sel);
	if (!c || c->obj->kind != AMBER_KIND_GATE)
		return NULL;
	const struct kgate *g = (const struct kgate *)c->obj;
	return g->handler == handler ? g->handler_ctx : NULL;
}
