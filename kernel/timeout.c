/*
 * IPC timeouts. Threads waiting with a finite timeout sit on one list
 * sorted by deadline; the platform sleeps until kernel_next_deadline and
 * then calls kernel_expire_timeouts. Infinite waits never reach this list.
 * A zero timeout fails at once where the kernel can tell immediately (send
 * to a busy receiver, wait with nothing pending); the reply wait of a call
 * with receive timeout zero gets a deadline of "now" and expires at the
 * timeout thread's next pass.
 */
#include "object.h"

static struct kthread *timeout_head;

void timeout_disarm(struct kthread *t)
{
	if (!t->on_timeout_list)
		return;
	bool was_first = (t == timeout_head);
	if (t->timeout_prev)
		t->timeout_prev->timeout_next = t->timeout_next;
	else
		timeout_head = t->timeout_next;
	if (t->timeout_next)
		t->timeout_next->timeout_prev = t->timeout_prev;
	t->timeout_next = t->timeout_prev = NULL;
	t->on_timeout_list = false;
	t->deadline_us = KERNEL_NO_DEADLINE;
	if (was_first && kernel_plat.deadline_changed)
		kernel_plat.deadline_changed();
}

void timeout_arm(struct kthread *t, uint64_t timeout_us)
{
	timeout_disarm(t);
	if (timeout_us == AMBER_TIMEOUT_NEVER)
		return;
	uint64_t now = kernel_now();
	/* Saturated below KERNEL_NO_DEADLINE; the bound comes from now, never
	 * from the caller's value, so no timeout can wrap around. */
	t->deadline_us = (timeout_us > UINT64_MAX - 1 - now) ? UINT64_MAX - 1 : now + timeout_us;

	struct kthread **pp = &timeout_head, *prev = NULL;
	while (*pp && (*pp)->deadline_us <= t->deadline_us) {
		prev = *pp;
		pp = &(*pp)->timeout_next;
	}
	t->timeout_next = *pp;
	t->timeout_prev = prev;
	if (*pp)
		(*pp)->timeout_prev = t;
	*pp = t;
	t->on_timeout_list = true;
	if (t == timeout_head && kernel_plat.deadline_changed)
		kernel_plat.deadline_changed();
}

uint64_t kernel_next_deadline(void)
{
	return timeout_head ? timeout_head->deadline_us : KERNEL_NO_DEADLINE;
}

void kernel_expire_timeouts(uint64_t now_us)
{
	while (timeout_head && timeout_head->deadline_us <= now_us) {
		struct kthread *t = timeout_head;
		if (t->state == KTHREAD_READY || t->state == KTHREAD_DEAD)
			timeout_disarm(t); /* not waiting: nothing to time out */
		else
			thread_abort_ipc(t, AMBER_ERR_TIMEOUT);
	}
}
