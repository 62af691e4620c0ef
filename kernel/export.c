/*
 * Export and import of in-kernel thread state, for checkpoint/restore.
 *
 * What a thread is blocked in lives only in the kernel: the queued message,
 * who owes whom a reply, which IRQ it waits for, how much of its timeout
 * is left. Export writes it down with object ids; import re-creates it on
 * restored objects, so a thread blocked in IPC at checkpoint time is
 * blocked in the same IPC after restore. (Capability spaces, gates and
 * IRQs export themselves in cap_space.c, gate.c and irq.c.)
 */
#include <string.h>

#include "object.h"

void kernel_thread_ipc_export(const struct kthread *t, struct kernel_thread_ipc_state *s)
{
	memset(s, 0, sizeof(*s));
	s->state = t->state;
	s->op_seq = t->op_seq;
	s->send_is_call = t->send_is_call;
	s->rcv_window = t->rcv_window;
	s->rcv_timeout_us = t->rcv_timeout_us;
	s->remaining_us = KERNEL_NO_DEADLINE;
	if (t->on_timeout_list) {
		uint64_t now = kernel_now();
		s->remaining_us = t->deadline_us > now ? t->deadline_us - now : 0;
	}
	s->reply_to_id = t->reply_to ? t->reply_to->obj.id : 0;
	switch (t->state) {
	case KTHREAD_SEND:
		s->msg_tag = t->msg.tag;
		memcpy(s->msg_mr, t->msg.mr, sizeof(s->msg_mr));
		s->send_gate_id = t->send_gate ? t->send_gate->obj.id : 0;
		s->partner_id = t->partner ? t->partner->obj.id : 0;
		for (struct kthread *q = t->partner ? t->partner->sendq_head : NULL; q && q != t; q = q->queue_next)
			s->queue_pos++;
		break;
	case KTHREAD_REPLY_WAIT:
		s->partner_id = t->partner ? t->partner->obj.id : 0;
		break;
	case KTHREAD_IRQ_WAIT:
		s->wait_irq_id = t->wait_irq ? t->wait_irq->obj.id : 0;
		break;
	default:
		break;
	}
}

int kernel_thread_ipc_import(struct kthread *t, const struct kernel_thread_ipc_state *s,
			     const struct kernel_thread_ipc_refs *refs)
{
	if (t->state != KTHREAD_READY || !t->task)
		return AMBER_ERR_INVALID_ARG;
	if ((s->reply_to_id != 0) != (refs->reply_to != NULL))
		return AMBER_ERR_INVALID_ARG;
	/* The caller owed a reply is either not imported yet or waits for t. */
	if (refs->reply_to && (refs->reply_to == t ||
			       (refs->reply_to->state != KTHREAD_READY &&
				(refs->reply_to->state != KTHREAD_REPLY_WAIT || refs->reply_to->partner != t))))
		return AMBER_ERR_INVALID_ARG;

	/* Decode: the state must be complete and consistent before any change. */
	switch (s->state) {
	case KTHREAD_READY:
	case KTHREAD_RECV:
		break;
	case KTHREAD_SEND:
		if (!refs->send_gate || refs->send_gate->handler || !refs->send_gate->bound ||
		    refs->send_gate->bound == t || ipc_check_tag(s->msg_tag) != AMBER_OK)
			return AMBER_ERR_INVALID_ARG;
		break;
	case KTHREAD_REPLY_WAIT:
		if ((s->partner_id != 0) != (refs->partner != NULL) || refs->partner == t)
			return AMBER_ERR_INVALID_ARG;
		if (refs->partner && refs->partner->reply_to && refs->partner->reply_to != t)
			return AMBER_ERR_SLOT_BUSY;
		break;
	case KTHREAD_IRQ_WAIT:
		if (!refs->wait_irq || refs->wait_irq->attached != t)
			return AMBER_ERR_INVALID_ARG;
		break;
	default:
		return AMBER_ERR_INVALID_ARG;
	}

	/* Invoke. */
	t->op_seq = s->op_seq;
	t->send_is_call = s->send_is_call; /* the last send's, also when not sending now */
	t->rcv_window = s->rcv_window;
	t->rcv_timeout_us = s->rcv_timeout_us;
	t->reply_to = refs->reply_to;
	if (refs->reply_to && refs->reply_to->state == KTHREAD_REPLY_WAIT)
		refs->reply_to->partner = t;
	switch (s->state) {
	case KTHREAD_SEND: {
		struct kthread *r = refs->send_gate->bound;
		t->msg.tag = s->msg_tag;
		memcpy(t->msg.mr, s->msg_mr, sizeof(t->msg.mr));
		t->send_gate = refs->send_gate;
		t->partner = r;
		/* Senders may be imported in any order: keep the exported one. */
		t->queue_pos = s->queue_pos;
		struct kthread **pp = &r->sendq_head;
		while (*pp && (*pp)->queue_pos <= t->queue_pos)
			pp = &(*pp)->queue_next;
		t->queue_next = *pp;
		*pp = t;
		if (!t->queue_next)
			r->sendq_tail = t;
		break;
	}
	case KTHREAD_REPLY_WAIT:
		t->partner = refs->partner;
		if (refs->partner)
			refs->partner->reply_to = t;
		break;
	case KTHREAD_IRQ_WAIT:
		t->wait_irq = refs->wait_irq;
		break;
	default:
		break;
	}
	if (s->state != KTHREAD_READY)
		thread_block(t, s->state, s->remaining_us);
	return AMBER_OK;
}

/* ---- parking (core only, for an in-place restore) -------------------------
 * A thread of another component that waits for one of the threads being
 * restored (queued at it, or waiting for its reply) must neither fail nor
 * lose its place: it is parked, taken out of its wait without completing,
 * so it sleeps on, and kernel_thread_ipc_import puts it into the same wait
 * on the restored objects (same ids) afterwards. */
void kernel_thread_park(struct kthread *t)
{
	thread_unlink(t);
	timeout_disarm(t);
	t->state = KTHREAD_READY;
	t->send_gate = NULL;
	t->partner = NULL;
	t->wait_irq = NULL;
}

void kernel_thread_unpark_error(struct kthread *t, int error)
{
	if (t->state == KTHREAD_READY)
		thread_complete(t, error);
}

void kernel_threads_waiting_on(struct ktask *task, void (*visit)(void *ctx, struct kthread *t), void *ctx)
{
	for (struct kthread *t = kthread_first(); t; t = t->thread_next) {
		if (t->task == task || !t->partner || t->partner->task != task)
			continue;
		if (t->state == KTHREAD_SEND || (t->state == KTHREAD_REPLY_WAIT && t->partner->reply_to == t))
			visit(ctx, t);
	}
}
