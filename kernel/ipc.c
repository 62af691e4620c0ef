/*
 * IPC: send, receive, reply, and capability transfer.
 *
 * A message goes from the sender's UTCB into kernel memory (struct kmsg)
 * and from there into the receiver's UTCB, so neither side can change it
 * half-way. Capabilities named by map items are checked completely before
 * any of them is installed (decode, then invoke), so a failed transfer
 * changes nothing. A call links caller and callee: the callee's reply_to
 * is the implicit reply capability, the caller's partner the thread it
 * waits for.
 */
#include <string.h>

#include "object.h"

int ipc_check_tag(amber_tag_t tag)
{
	unsigned words = amber_tag_words(tag), items = amber_tag_items(tag);
	if (tag & AMBER_TAG_RESERVED_MASK)
		return AMBER_ERR_MSG_TAG;
	if (words > AMBER_MR_COUNT || items > AMBER_MAX_ITEMS || words + items > AMBER_MR_COUNT)
		return AMBER_ERR_MSG_TAG;
	return AMBER_OK;
}

static bool window_fits(amber_word_t window, unsigned items)
{
	amber_sel_t base = amber_rcv_window_base(window);
	unsigned count = amber_rcv_window_count(window);
	return cap_slot_valid(base) && count >= items && count <= AMBER_CAP_SLOTS - base;
}

int ipc_transfer_items(struct ktask *from, const struct kmsg *m, struct ktask *to, amber_word_t window,
		       amber_word_t *out_items, bool *receivers_fault)
{
	unsigned words = amber_tag_words(m->tag), items = amber_tag_items(m->tag);
	struct kcap *src[AMBER_MAX_ITEMS];
	*receivers_fault = false;
	if (items == 0)
		return AMBER_OK;

	/* Decode: every item and every destination slot, before any change. */
	for (unsigned i = 0; i < items; i++) {
		amber_word_t w = m->mr[words + i];
		if (amber_item_type(w) != AMBER_ITEM_MAP)
			return AMBER_ERR_ITEM;
		src[i] = cap_lookup(from, amber_item_sel(w));
		if (!src[i])
			return AMBER_ERR_ITEM;
		if (!(src[i]->rights & AMBER_RIGHT_GRANT))
			return AMBER_ERR_RIGHTS;
	}
	if (!to || !window_fits(window, items)) {
		*receivers_fault = true;
		return AMBER_ERR_RCV_WINDOW;
	}
	amber_sel_t base = amber_rcv_window_base(window);
	for (unsigned i = 0; i < items; i++) {
		int claimed = cap_slot_claim(to, base + i);
		if (claimed != AMBER_OK) {
			*receivers_fault = true;
			return claimed;
		}
	}

	/* Invoke: cannot fail. */
	for (unsigned i = 0; i < items; i++) {
		unsigned rights = src[i]->rights & amber_item_rights(m->mr[words + i]);
		cap_install(to, base + i, src[i]->obj, rights, src[i]);
		out_items[i] = amber_map_item(base + i, rights);
	}
	return AMBER_OK;
}

/* Write a received message into t's UTCB and complete t's operation. */
static void ipc_complete_with(struct kthread *t, const struct kmsg *m, const amber_word_t *items,
			      uint64_t label)
{
	unsigned words = amber_tag_words(m->tag), nitems = amber_tag_items(m->tag);
	if (t->utcb) {
		memcpy(t->utcb->mr, m->mr, words * sizeof(amber_word_t));
		if (nitems)
			memcpy(&t->utcb->mr[words], items, nitems * sizeof(amber_word_t));
		t->utcb->tag = amber_tag(amber_tag_label(m->tag), words, nitems);
		t->utcb->label = label;
	}
	thread_complete(t, AMBER_OK);
}

void ipc_deliver_irq(struct kthread *t, struct kirq *irq)
{
	struct kmsg m = { .tag = amber_tag(AMBER_PROTO_IRQ, 0, 0) };
	ipc_complete_with(t, &m, NULL, irq->label);
}

void ipc_sendq_remove(struct kthread *receiver, struct kthread *sender)
{
	struct kthread **pp = &receiver->sendq_head, *prev = NULL;
	while (*pp && *pp != sender) {
		prev = *pp;
		pp = &(*pp)->queue_next;
	}
	if (!*pp)
		return;
	*pp = sender->queue_next;
	if (receiver->sendq_tail == sender)
		receiver->sendq_tail = prev;
	sender->queue_next = NULL;
}

/* Hand sender's message to receiver r, which is entering or in a receive.
 * On failure the receiver is untouched and the error is the sender's. */
static int ipc_deliver(struct kthread *s, struct kgate *g, const struct kmsg *m, struct kthread *r,
		       bool is_call)
{
	amber_word_t items[AMBER_MAX_ITEMS];
	bool receivers_fault;
	int err = ipc_transfer_items(s->task, m, r->task, r->rcv_window, items, &receivers_fault);
	if (err)
		return err;
	if (is_call) {
		/* A server that takes a new call without replying to the previous
		 * caller drops that reply: tell the old caller instead of leaving
		 * it blocked forever. */
		if (r->reply_to && r->reply_to != s)
			thread_abort_ipc(r->reply_to, AMBER_ERR_NO_PARTNER);
		r->reply_to = s;
	}
	ipc_complete_with(r, m, items, g->label);
	return AMBER_OK;
}

static void core_call(struct kthread *t, struct kgate *g, bool is_call, const struct kmsg *m,
		      uint64_t rcv_timeout_us);

void ipc_send(struct kthread *t, struct kgate *g, bool is_call, const struct kmsg *m,
	      uint64_t snd_timeout_us, uint64_t rcv_timeout_us)
{
	if (g->handler) {
		core_call(t, g, is_call, m, rcv_timeout_us);
		return;
	}
	struct kthread *r = g->bound;
	if (!r || r->state == KTHREAD_DEAD || !r->task) {
		thread_complete(t, AMBER_ERR_NO_PARTNER);
		return;
	}
	if (r == t) {
		thread_complete(t, AMBER_ERR_SELF);
		return;
	}
	/* A frozen receiver (a checkpoint's cut, or stopped by --kill) takes
	 * nothing: the sender queues and gets it at the thaw or the restore. */
	if (r->state == KTHREAD_RECV && !kernel_thread_frozen(r)) {
		int err = ipc_deliver(t, g, m, r, is_call);
		if (err) {
			thread_complete(t, err);
		} else if (is_call) {
			t->partner = r;
			thread_block(t, KTHREAD_REPLY_WAIT, rcv_timeout_us);
		} else {
			thread_complete(t, AMBER_OK);
		}
		return;
	}
	if (snd_timeout_us == AMBER_TIMEOUT_POLL) {
		thread_complete(t, AMBER_ERR_TIMEOUT);
		return;
	}
	/* Receiver busy: queue in kernel memory until it waits. */
	t->msg = *m;
	t->send_gate = g;
	t->send_is_call = is_call;
	t->rcv_timeout_us = rcv_timeout_us;
	t->partner = r;
	t->queue_next = NULL;
	if (r->sendq_tail)
		r->sendq_tail->queue_next = t;
	else
		r->sendq_head = t;
	r->sendq_tail = t;
	thread_block(t, KTHREAD_SEND, snd_timeout_us);
}

/* The first queued sender whose message can be delivered to t, which is
 * about to wait or waits: true if one was. */
static bool deliver_queued(struct kthread *t)
{
	while (t->sendq_head) {
		struct kthread *s = t->sendq_head;
		ipc_sendq_remove(t, s);
		int err = ipc_deliver(s, s->send_gate, &s->msg, t, s->send_is_call);
		if (err) {
			thread_complete(s, err);
			continue;
		}
		s->send_gate = NULL;
		if (s->send_is_call) {
			s->partner = t;
			thread_block(s, KTHREAD_REPLY_WAIT, s->rcv_timeout_us);
		} else {
			thread_complete(s, AMBER_OK);
		}
		return true;
	}
	return false;
}

void ipc_deliver_held(struct kthread *t)
{
	if (kernel_thread_frozen(t))
		return;
	if (t->state == KTHREAD_IRQ_WAIT) {
		if (t->wait_irq && t->wait_irq->pending) {
			t->wait_irq->pending--;
			ipc_deliver_irq(t, t->wait_irq);
		}
		return;
	}
	if (t->state != KTHREAD_RECV)
		return;
	struct kirq *irq = irq_pending_for(t);
	if (irq) {
		irq->pending--;
		ipc_deliver_irq(t, irq);
		return;
	}
	deliver_queued(t);
}

void ipc_wait(struct kthread *t, uint64_t rcv_timeout_us)
{
	t->rcv_window = t->utcb ? t->utcb->br[0] : 0;

	struct kirq *irq = irq_pending_for(t);
	if (irq) {
		irq->pending--;
		ipc_deliver_irq(t, irq);
		return;
	}
	if (deliver_queued(t))
		return;
	if (rcv_timeout_us == AMBER_TIMEOUT_POLL) {
		thread_complete(t, AMBER_ERR_TIMEOUT);
		return;
	}
	thread_block(t, KTHREAD_RECV, rcv_timeout_us);
}

void ipc_reply(struct kthread *t, const struct kmsg *m, bool then_wait, uint64_t rcv_timeout_us)
{
	struct kthread *c = t->reply_to;
	if (!c) {
		/* Nothing to reply to: an error for a plain reply; a server loop's
		 * first reply-and-wait simply waits. */
		if (then_wait)
			ipc_wait(t, rcv_timeout_us);
		else
			thread_complete(t, AMBER_ERR_NO_PARTNER);
		return;
	}
	amber_word_t items[AMBER_MAX_ITEMS];
	bool receivers_fault;
	int err = ipc_transfer_items(t->task, m, c->task, c->rcv_window, items, &receivers_fault);
	if (err) {
		if (receivers_fault) {
			/* The caller cannot take the reply: it fails too. */
			t->reply_to = NULL;
			thread_complete(c, err);
		}
		thread_complete(t, err);
		return;
	}
	t->reply_to = NULL;
	ipc_complete_with(c, m, items, 0);
	if (then_wait)
		ipc_wait(t, rcv_timeout_us);
	else
		thread_complete(t, AMBER_OK);
}

/* ---- core services ---- */

/* `n` consecutive free slots in core's task for capabilities a caller sends. */
static amber_word_t core_rcv_window(unsigned n)
{
	struct ktask *core = kernel_core_task();
	amber_sel_t run = 0;
	unsigned len = 0;
	/* From the lowest free slot on: below it every slot is in use. */
	for (amber_sel_t s = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE); s != AMBER_SEL_INVALID && len < n;) {
		if (len > 0 && s != run + len)
			len = 0; /* a slot in use broke the run */
		if (len++ == 0)
			run = s;
		s = len < n ? kernel_cap_alloc(core, s + 1) : s;
	}
	return len == n ? amber_rcv_window(run, n) : 0;
}

static void core_deliver_reply(struct kthread *t, int error, amber_tag_t tag, const amber_word_t *mr)
{
	if (error == AMBER_OK)
		error = ipc_check_tag(tag);
	if (error != AMBER_OK) {
		thread_complete(t, error);
		return;
	}
	struct kmsg m = { .tag = tag };
	unsigned n = amber_tag_words(tag) + amber_tag_items(tag);
	if (n) /* an empty reply may come without message registers (mr == NULL) */
		memcpy(m.mr, mr, n * sizeof(amber_word_t));
	amber_word_t items[AMBER_MAX_ITEMS];
	bool receivers_fault;
	int err = ipc_transfer_items(kernel_core_task(), &m, t->task, t->rcv_window, items, &receivers_fault);
	if (err) {
		thread_complete(t, err);
		return;
	}
	ipc_complete_with(t, &m, items, 0);
}

static void core_call(struct kthread *t, struct kgate *g, bool is_call, const struct kmsg *m,
		      uint64_t rcv_timeout_us)
{
	struct kcore_request req = { .caller = t, .label = g->label, .tag = m->tag, .is_call = is_call };
	unsigned words = amber_tag_words(m->tag), nitems = amber_tag_items(m->tag);
	memcpy(req.mr, m->mr, words * sizeof(amber_word_t));
	if (nitems) {
		amber_word_t items[AMBER_MAX_ITEMS];
		bool receivers_fault;
		int err = ipc_transfer_items(t->task, m, kernel_core_task(), core_rcv_window(nitems), items,
					     &receivers_fault);
		if (err) {
			thread_complete(t, receivers_fault ? AMBER_ERR_QUOTA : err);
			return;
		}
		req.nitems = nitems;
		for (unsigned i = 0; i < nitems; i++)
			req.items[i] = amber_item_sel(items[i]);
	}
	int error = AMBER_OK;
	enum kcore_result res = g->handler(g->handler_ctx, &req, &error);
	if (res == KCORE_DEFER && (!is_call || t->state == KTHREAD_DEAD)) {
		/* Nobody will wait for this reply. */
		if (req.abandoned)
			req.abandoned(req.abandoned_ctx);
		res = KCORE_REPLY;
	}
	if (t->state == KTHREAD_DEAD)
		return; /* the handler ended the caller's task: nothing to complete */
	if (!is_call) {
		thread_complete(t, AMBER_OK);
		return;
	}
	if (res == KCORE_DEFER) {
		t->partner = NULL;
		t->core_abandoned = req.abandoned;
		t->core_abandoned_ctx = req.abandoned_ctx;
		thread_block(t, KTHREAD_REPLY_WAIT, rcv_timeout_us);
		return;
	}
	core_deliver_reply(t, error, req.reply_tag, req.reply_mr);
}

bool kernel_thread_awaits_core(const struct kthread *t)
{
	return t->state == KTHREAD_REPLY_WAIT && t->partner == NULL;
}

int kernel_core_reply(struct kthread *caller, int error, amber_tag_t tag, const amber_word_t *mr)
{
	if (!kernel_thread_awaits_core(caller))
		return AMBER_ERR_NO_PARTNER;
	caller->core_abandoned = NULL; /* answered, not abandoned */
	caller->core_abandoned_ctx = NULL;
	core_deliver_reply(caller, error, tag, mr);
	return AMBER_OK;
}
