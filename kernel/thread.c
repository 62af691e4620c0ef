/*
 * Threads: the kernel's view of an execution context.
 *
 * A thread with a UTCB enters the kernel through kernel_thread_entry (entry.c)
 * and is either completed at once or blocked in one of the IPC states. Every
 * way out of a blocked state goes through thread_complete, which writes the
 * result into the UTCB, publishes done_seq and asks the platform to wake
 * the thread: one place where "the operation is over" is decided.
 */
#include <stdio.h>
#include <string.h>

#include "object.h"

/* Core deferred the reply to t's call and keeps something for it; the
 * wait ends some other way, so core must drop it now (it would otherwise
 * stay, or answer a later request of the same thread). */
static void core_wait_abandon(struct kthread *t)
{
	void (*abandoned)(void *ctx) = t->core_abandoned;
	void *ctx = t->core_abandoned_ctx;
	t->core_abandoned = NULL;
	t->core_abandoned_ctx = NULL;
	if (abandoned)
		abandoned(ctx);
}

void thread_complete(struct kthread *t, int error)
{
	core_wait_abandon(t); /* kernel_core_reply has cleared it */
	timeout_disarm(t);
	t->state = KTHREAD_READY;
	t->send_gate = NULL;
	t->partner = NULL;
	t->wait_irq = NULL;
	if (!t->utcb)
		return;
	t->utcb->error = error;
	if (error != AMBER_OK)
		t->utcb->tag = 0;
	/* A thread that has not gone to sleep yet sees the new number by
	 * itself; only a sleeper needs the wake-up. */
	uint32_t old = __atomic_exchange_n(&t->utcb->done_seq, t->op_seq, __ATOMIC_ACQ_REL);
	if ((old & AMBER_SEQ_SLEEPING) && kernel_plat.thread_wake)
		kernel_plat.thread_wake(t);
}

void thread_block(struct kthread *t, enum kthread_state s, uint64_t timeout_us)
{
	t->state = s;
	timeout_arm(t, timeout_us);
}

/* Undo every link that the blocked state put in place. */
void thread_unlink(struct kthread *t)
{
	switch (t->state) {
	case KTHREAD_SEND:
		if (t->partner)
			ipc_sendq_remove(t->partner, t);
		break;
	case KTHREAD_REPLY_WAIT:
		if (t->partner && t->partner->reply_to == t)
			t->partner->reply_to = NULL;
		break;
	default:
		break;
	}
}

void thread_abort_ipc(struct kthread *t, int error)
{
	if (t->state == KTHREAD_READY || t->state == KTHREAD_DEAD)
		return;
	thread_unlink(t);
	thread_complete(t, error);
}

void kernel_thread_cancel(struct kthread *t) { thread_abort_ipc(t, AMBER_ERR_CANCELED); }

/* Whoever waits for t (the caller it owes a reply, its queued senders)
 * learns that t is gone. */
void thread_release_waiters(struct kthread *t)
{
	if (t->reply_to) {
		struct kthread *caller = t->reply_to;
		t->reply_to = NULL;
		if (caller->state == KTHREAD_REPLY_WAIT && caller->partner == t)
			thread_complete(caller, AMBER_ERR_NO_PARTNER);
	}
	while (t->sendq_head) {
		struct kthread *s = t->sendq_head;
		ipc_sendq_remove(t, s);
		thread_complete(s, AMBER_ERR_NO_PARTNER);
	}
}

void thread_destroy(struct kthread *t)
{
	if (kernel_plat.thread_destroyed)
		kernel_plat.thread_destroyed(t);
	thread_unlink(t);
	core_wait_abandon(t);
	timeout_disarm(t);
	t->state = KTHREAD_DEAD;
	thread_release_waiters(t);
	/* Gates bound to it become unbound, IRQs attached to it detached. */
	for (struct kobj *o = kobj_first(); o; o = o->next) {
		if (o->kind == AMBER_KIND_GATE && ((struct kgate *)o)->bound == t)
			((struct kgate *)o)->bound = NULL;
		if (o->kind == AMBER_KIND_IRQ && ((struct kirq *)o)->attached == t)
			irq_detach((struct kirq *)o);
	}
	t->utcb = NULL;
}

int thread_invoke(struct kthread *caller, struct kthread *t, const struct kmsg *in, struct kmsg *out)
{
	(void)caller;
	(void)t;
	(void)in;
	(void)out;
	/* Threads are controlled by core (CPU session), not by components. */
	return AMBER_ERR_OPCODE;
}

int kernel_create_thread(struct ktask *space, amber_sel_t sel, struct ktask *task, const char *name,
			 struct amber_utcb *utcb, uint64_t utcb_addr, struct kthread **out)
{
	int claimed = cap_slot_claim(space, sel);
	if (claimed != AMBER_OK)
		return claimed;
	struct kthread *t = kobj_alloc(AMBER_KIND_THREAD, sizeof(*t));
	if (!t)
		return AMBER_ERR_QUOTA;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	t->task = task;
	t->utcb = utcb;
	t->utcb_addr = utcb_addr;
	t->deadline_us = KERNEL_NO_DEADLINE;
	if (utcb) {
		utcb->self = (struct amber_utcb *)(uintptr_t)utcb_addr;
		utcb->entry_seq = 0;
		utcb->done_seq = 0;
	}
	cap_install(space, sel, &t->obj, AMBER_RIGHTS_ALL, NULL);
	if (out)
		*out = t;
	return AMBER_OK;
}

enum kthread_state kernel_thread_state(const struct kthread *t) { return t->state; }
uint32_t kernel_thread_op_seq(const struct kthread *t) { return t->op_seq; }
void kernel_thread_set_platform(struct kthread *t, void *p) { t->platform = p; }
void *kernel_thread_platform(const struct kthread *t) { return t->platform; }
struct ktask *kernel_thread_task(const struct kthread *t) { return t->task; }
const char *kernel_thread_name(const struct kthread *t) { return t->name; }
struct amber_utcb *kernel_thread_utcb(const struct kthread *t) { return t->utcb; }
