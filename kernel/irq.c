/*
 * IRQ objects, used as semaphores (Fiasco.OC's Irq): a trigger is
 * delivered to the attached thread if it waits (open wait or a receive on
 * this IRQ), otherwise it is counted as pending and the next receive takes
 * it at once. Genode's signal source blocks its signal-handler thread on
 * such an IRQ: the seed's CAP3.
 */
#include "object.h"

struct kirq *irq_pending_for(struct kthread *t)
{
	for (struct kirq *irq = t->attached_irqs; irq; irq = irq->attach_next)
		if (irq->pending)
			return irq;
	return NULL;
}

void irq_detach(struct kirq *irq)
{
	struct kthread *t = irq->attached;
	if (!t)
		return;
	for (struct kirq **pp = &t->attached_irqs; *pp; pp = &(*pp)->attach_next) {
		if (*pp == irq) {
			*pp = irq->attach_next;
			break;
		}
	}
	irq->attach_next = NULL;
	irq->attached = NULL;
	if (t->state == KTHREAD_IRQ_WAIT && t->wait_irq == irq)
		thread_abort_ipc(t, AMBER_ERR_CANCELED);
}

static void irq_attach(struct kirq *irq, struct kthread *t, uint64_t label)
{
	irq_detach(irq);
	irq->attached = t;
	irq->label = label;
	irq->attach_next = t->attached_irqs;
	t->attached_irqs = irq;
	/* A trigger that came before the attachment is delivered now if the
	 * thread already waits. */
	if (irq->pending && t->state == KTHREAD_RECV && !kernel_thread_frozen(t)) {
		irq->pending--;
		ipc_deliver_irq(t, irq);
	}
}

static void irq_trigger(struct kirq *irq)
{
	struct kthread *t = irq->attached;
	if (t && !kernel_thread_frozen(t) && ((t->state == KTHREAD_IRQ_WAIT && t->wait_irq == irq) || t->state == KTHREAD_RECV)) {
		ipc_deliver_irq(t, irq);
		return;
	}
	if (irq->pending < UINT32_MAX)
		irq->pending++;
}

void irq_destroy(struct kirq *irq) { irq_detach(irq); }

int irq_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out,
	       uint64_t rcv_timeout_us, bool *blocked)
{
	struct kirq *irq = (struct kirq *)c->obj;
	out->tag = amber_tag(AMBER_PROTO_IRQ, 0, 0);

	switch (in->mr[0]) {
	case AMBER_IRQ_TRIGGER:
		if (!(c->rights & AMBER_RIGHT_INVOKE))
			return AMBER_ERR_RIGHTS;
		irq_trigger(irq);
		return AMBER_OK;

	case AMBER_IRQ_ATTACH: {
		if (!(c->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		struct kcap *tc = cap_lookup(caller->task, (amber_sel_t)in->mr[1]);
		if (!tc)
			return AMBER_ERR_INVALID_CAP;
		if (tc->obj->kind != AMBER_KIND_THREAD)
			return AMBER_ERR_INVALID_ARG;
		if (!(tc->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		irq_attach(irq, (struct kthread *)tc->obj, in->mr[2]);
		return AMBER_OK;
	}

	case AMBER_IRQ_DETACH:
		if (!(c->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		irq_detach(irq);
		return AMBER_OK;

	case AMBER_IRQ_RECEIVE:
		if (!(c->rights & AMBER_RIGHT_INVOKE))
			return AMBER_ERR_RIGHTS;
		if (irq->attached != caller)
			return AMBER_ERR_INVALID_ARG; /* only the attached thread receives */
		if (irq->pending) {
			irq->pending--;
			if (caller->utcb)
				caller->utcb->label = irq->label;
			return AMBER_OK;
		}
		if (rcv_timeout_us == AMBER_TIMEOUT_POLL)
			return AMBER_ERR_TIMEOUT;
		caller->wait_irq = irq;
		thread_block(caller, KTHREAD_IRQ_WAIT, rcv_timeout_us);
		*blocked = true;
		return AMBER_OK;

	default:
		return AMBER_ERR_OPCODE;
	}
}

int kernel_create_irq(struct ktask *space, amber_sel_t sel, struct kirq **out)
{
	int claimed = cap_slot_claim(space, sel);
	if (claimed != AMBER_OK)
		return claimed;
	struct kirq *irq = kobj_alloc(AMBER_KIND_IRQ, sizeof(*irq));
	if (!irq)
		return AMBER_ERR_QUOTA;
	cap_install(space, sel, &irq->obj, AMBER_RIGHTS_ALL, NULL);
	if (out)
		*out = irq;
	return AMBER_OK;
}

int kernel_irq_attach(struct kirq *irq, struct kthread *t, uint64_t label)
{
	if (!irq || !t || t->state == KTHREAD_DEAD || !t->task)
		return AMBER_ERR_INVALID_ARG;
	irq_attach(irq, t, label);
	return AMBER_OK;
}

void kernel_irq_trigger(struct kirq *irq) { irq_trigger(irq); }

void kernel_irq_export(const struct kirq *irq, struct kernel_irq_state *s)
{
	s->attached_thread_id = irq->attached ? irq->attached->obj.id : 0;
	s->label = irq->label;
	s->pending = irq->pending;
}

int kernel_irq_import(struct kirq *irq, const struct kernel_irq_state *s, struct kthread *thread)
{
	if ((s->attached_thread_id != 0) != (thread != NULL))
		return AMBER_ERR_INVALID_ARG;
	if (thread)
		irq_attach(irq, thread, s->label);
	else {
		irq_detach(irq);
		irq->label = s->label;
	}
	irq->pending = s->pending;
	return AMBER_OK;
}

unsigned kernel_irq_attach_order(const struct kirq *irq)
{
	unsigned n = 0;
	for (const struct kirq *i = irq->attached ? irq->attached->attached_irqs : NULL; i && i != irq; i = i->attach_next)
		n++;
	return n;
}
