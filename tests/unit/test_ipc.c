/*
 * IPC between simulated threads: tags, call/reply, send queues, timeouts,
 * capability transfer, cancel and thread destruction.
 */
#include "tests/unit/kernel_fixture.h"

#define GATE 20 /* client's selector of the server's gate */

struct pair {
	struct ktask *ct, *st;
	struct fx_thread *c, *s;
	struct kgate *g;
};

static struct pair mkpair(uint64_t label)
{
	struct pair p;
	p.ct = fx_task("client");
	p.st = fx_task("server");
	p.c = fx_thread(p.ct, "c");
	p.s = fx_thread(p.st, "s");
	p.g = fx_gate_to(p.s, label, p.ct, GATE, AMBER_RIGHTS_ALL);
	return p;
}

/* ---- tags and operations ---- */

static void test_malformed_tags(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	fx_wait(p.s, FX_NEVER);
	const amber_tag_t bad[] = {
		amber_tag(1, 1, 0) | (1ull << 7),          /* reserved bit 7 */
		amber_tag(1, 1, 0) | (1ull << 12),         /* reserved 12..15 */
		amber_tag(1, 1, 0) | (1ull << 16),         /* flags */
		amber_tag(1, 1, 0) | (1ull << 31),
		amber_tag(1, 65, 0),                        /* words > 64 */
		amber_tag(1, 127, 0),
		amber_tag(1, 0, AMBER_MAX_ITEMS + 1),       /* items > 8 */
		amber_tag(1, 0, 15),
		amber_tag(1, 60, 5),                        /* words + items > 64 */
		amber_tag(1, 64, 1),
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_call(p.c, GATE, bad[i], FX_NEVER, FX_NEVER);
		assert_int_equal(fx_err(p.c), AMBER_ERR_MSG_TAG);
		fx_send(p.c, GATE, bad[i], FX_NEVER);
		assert_int_equal(fx_err(p.c), AMBER_ERR_MSG_TAG);
		/* A kernel object's method call too. */
		fx_call(p.c, GATE, (bad[i] & 0xffffffffull) | ((uint64_t)AMBER_PROTO_GATE << 32), FX_NEVER, FX_NEVER);
		assert_int_equal(fx_err(p.c), AMBER_ERR_MSG_TAG);
	}
	/* Nothing reached the server. */
	assert_false(fx_done(p.s));
	assert_int_equal(kernel_thread_state(p.s->k), KTHREAD_RECV);

	/* A reply with a bad tag fails, and the caller keeps waiting for a good one. */
	for (unsigned i = 0; i < 64; i++)
		p.c->u->mr[i] = 1000 + i;
	fx_call(p.c, GATE, amber_tag(3, 64, 0), FX_NEVER, FX_NEVER); /* 64 words is fine */
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(amber_tag_words(p.s->u->tag), 64);
	assert_int_equal(p.s->u->mr[63], 1063);
	fx_reply(p.s, amber_tag(0, 0, 9));
	assert_int_equal(fx_err(p.s), AMBER_ERR_MSG_TAG);
	fx_reply_wait(p.s, amber_tag(0, 1, 0) | (1ull << 20), FX_NEVER);
	assert_int_equal(fx_err(p.s), AMBER_ERR_MSG_TAG);
	assert_false(fx_done(p.c));
	fx_reply(p.s, amber_tag(0, 56, 0));
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(fx_err(p.c), AMBER_OK);
}

static void test_bad_op(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	const uint32_t ops[] = { 0, 6, 7, 99, 0xffffffffu };
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		fx_enter(p.c, ops[i], GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
		assert_int_equal(fx_err(p.c), AMBER_ERR_BAD_OP);
		assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_READY);
	}
}

static void test_gate_needs_invoke(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	amber_sel_t gs = cap_slot(p.ct, GATE)->parent->sel;
	fx_give(gs, p.ct, 21, AMBER_RIGHT_GRANT | AMBER_RIGHT_CONTROL);
	fx_wait(p.s, FX_NEVER);
	fx_call(p.c, 21, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_ERR_RIGHTS);
	fx_send(p.c, 21, amber_tag(1, 0, 0), FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_ERR_RIGHTS);
	assert_false(fx_done(p.s));
}

/* ---- call and reply ---- */

static void test_call_reply_round_trip(void **state)
{
	(void)state;
	struct pair p = mkpair(0xfeedface12345678ull);
	fx_wait(p.s, FX_NEVER);
	assert_false(fx_done(p.s));
	assert_int_equal(kernel_thread_state(p.s->k), KTHREAD_RECV);

	p.c->u->mr[0] = 11;
	p.c->u->mr[1] = 22;
	p.c->u->mr[2] = 33;
	fx_call(p.c, GATE, amber_tag(0x4242, 3, 0), FX_NEVER, FX_NEVER);
	assert_false(fx_done(p.c));
	assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_REPLY_WAIT);
	/* The client cannot change the message after sending. */
	p.c->u->mr[0] = 99;

	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(p.s->wakes, 1);
	assert_int_equal(p.s->u->label, 0xfeedface12345678ull);
	assert_int_equal(amber_tag_label(p.s->u->tag), 0x4242);
	assert_int_equal(amber_tag_words(p.s->u->tag), 3);
	assert_int_equal(amber_tag_items(p.s->u->tag), 0);
	assert_int_equal(p.s->u->mr[0], 11);
	assert_int_equal(p.s->u->mr[1], 22);
	assert_int_equal(p.s->u->mr[2], 33);
	assert_ptr_equal(p.s->k->reply_to, p.c->k);

	p.s->u->mr[0] = 77;
	p.s->u->mr[1] = 88;
	fx_reply(p.s, amber_tag(5, 2, 0));
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(fx_err(p.c), AMBER_OK);
	assert_int_equal(p.c->wakes, 1);
	assert_int_equal(amber_tag_label(p.c->u->tag), 5);
	assert_int_equal(amber_tag_words(p.c->u->tag), 2);
	assert_int_equal(p.c->u->mr[0], 77);
	assert_int_equal(p.c->u->mr[1], 88);
	assert_int_equal(p.c->u->label, 0);
	assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_READY);
	assert_null(p.s->k->reply_to);

	/* The reply capability is used up. */
	fx_reply(p.s, amber_tag(5, 0, 0));
	assert_int_equal(fx_err(p.s), AMBER_ERR_NO_PARTNER);
}

/* A thread that has not announced sleep (AMBER_SEQ_SLEEPING) sees its
 * result in done_seq without a wake-up: the hosted kernel skips the futex
 * wake, the most expensive part of a hand-off. */
static void test_wake_only_sleepers(void **state)
{
	(void)state;
	struct pair p = mkpair(7);
	fx_wait(p.s, FX_NEVER);
	p.c->u->op = AMBER_OP_CALL;
	p.c->u->sel = GATE;
	p.c->u->tag = amber_tag(1, 0, 0);
	p.c->u->snd_timeout_us = FX_NEVER;
	p.c->u->rcv_timeout_us = FX_NEVER;
	p.c->u->entry_seq++; /* rings without announcing sleep */
	kernel_thread_entry(p.c->k);
	assert_int_equal(p.s->wakes, 1); /* the server slept */
	fx_reply(p.s, amber_tag(1, 0, 0));
	assert_true(fx_done(p.c));
	assert_int_equal(p.c->u->done_seq, p.c->u->entry_seq); /* no flag left behind */
	assert_int_equal(p.c->wakes, 0);
}

static void test_send_does_not_wait(void **state)
{
	(void)state;
	struct pair p = mkpair(7);
	fx_wait(p.s, FX_NEVER);
	p.c->u->mr[0] = 5;
	fx_send(p.c, GATE, amber_tag(1, 1, 0), FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_OK);
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(p.s->u->label, 7);
	assert_int_equal(p.s->u->mr[0], 5);
	/* A send leaves nothing to reply to. */
	assert_null(p.s->k->reply_to);
	fx_reply(p.s, 0);
	assert_int_equal(fx_err(p.s), AMBER_ERR_NO_PARTNER);
}

static void test_reply_without_caller(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	struct fx_thread *t = fx_thread(a, "t");
	fx_reply(t, amber_tag(0, 1, 0));
	assert_int_equal(fx_err(t), AMBER_ERR_NO_PARTNER);
	/* Reply-and-wait with nobody to reply to just waits. */
	fx_reply_wait(t, amber_tag(0, 1, 0), FX_NEVER);
	assert_false(fx_done(t));
	assert_int_equal(kernel_thread_state(t->k), KTHREAD_RECV);
	kernel_thread_cancel(t->k);
	assert_int_equal(fx_err(t), AMBER_ERR_CANCELED);
}

static void test_self_and_unbound(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	struct fx_thread *t = fx_thread(a, "t");
	fx_gate_to(t, 1, a, 20, AMBER_RIGHTS_ALL);
	fx_gate_to(NULL, 2, a, 21, AMBER_RIGHTS_ALL);
	fx_call(t, 20, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(t), AMBER_ERR_SELF);
	fx_send(t, 20, amber_tag(1, 0, 0), FX_NEVER);
	assert_int_equal(fx_err(t), AMBER_ERR_SELF);
	fx_call(t, 21, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(t), AMBER_ERR_NO_PARTNER);
	fx_send(t, 21, amber_tag(1, 0, 0), FX_POLL);
	assert_int_equal(fx_err(t), AMBER_ERR_NO_PARTNER);
	assert_int_equal(kernel_thread_state(t->k), KTHREAD_READY);
	assert_null(t->k->sendq_head);
}

static void test_gate_bind(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	struct fx_thread *t = fx_thread(a, "t");
	struct fx_thread *s = fx_thread(a, "s");
	amber_sel_t gs;
	struct kgate *g = fx_gate(1, NULL, &gs);
	fx_give(gs, a, 20, AMBER_RIGHTS_ALL);
	fx_give(gs, a, 21, AMBER_RIGHT_INVOKE);
	fx_give(s->core_sel, a, 30, AMBER_RIGHTS_ALL);
	fx_give(s->core_sel, a, 31, AMBER_RIGHT_INVOKE);

	assert_int_equal(fx_invoke(t, 21, AMBER_PROTO_GATE, 3, AMBER_GATE_BIND, 30, 9, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_GATE, 3, AMBER_GATE_BIND, 31, 9, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_GATE, 3, AMBER_GATE_BIND, 21, 9, 0), AMBER_ERR_INVALID_ARG);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_GATE, 3, AMBER_GATE_BIND, 99, 9, 0), AMBER_ERR_INVALID_CAP);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_GATE, 3, 77, 30, 9, 0), AMBER_ERR_OPCODE);
	assert_null(g->bound);
	assert_int_equal(g->label, 1);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_GATE, 3, AMBER_GATE_BIND, 30, 9, 0), AMBER_OK);
	assert_ptr_equal(g->bound, s->k);

	fx_wait(s, FX_NEVER);
	fx_send(t, 21, amber_tag(1, 0, 0), FX_NEVER);
	assert_int_equal(fx_err(t), AMBER_OK);
	assert_int_equal(s->u->label, 9);
}

/* ---- send queue ---- */

static void test_send_queue_fifo(void **state)
{
	(void)state;
	struct ktask *st = fx_task("server");
	struct fx_thread *s = fx_thread(st, "s");
	struct ktask *ct[3];
	struct fx_thread *c[3];
	for (unsigned i = 0; i < 3; i++) {
		ct[i] = fx_task("client");
		c[i] = fx_thread(ct[i], "c");
		fx_gate_to(s, 100 + i, ct[i], GATE, AMBER_RIGHTS_ALL);
	}
	/* The server is busy (not waiting): senders queue, in order 1, 0, 2. */
	const unsigned order[3] = { 1, 0, 2 };
	for (unsigned k = 0; k < 3; k++) {
		unsigned i = order[k];
		c[i]->u->mr[0] = 0xa0 + i;
		if (i == 0)
			fx_call(c[i], GATE, amber_tag(50 + i, 1, 0), FX_NEVER, FX_NEVER);
		else
			fx_send(c[i], GATE, amber_tag(50 + i, 1, 0), FX_NEVER);
		assert_false(fx_done(c[i]));
		assert_int_equal(kernel_thread_state(c[i]->k), KTHREAD_SEND);
		c[i]->u->mr[0] = 0xdead; /* already copied into kernel memory */
	}
	assert_int_equal(s->wakes, 0);
	for (unsigned k = 0; k < 3; k++) {
		unsigned i = order[k];
		fx_reply_wait(s, 0, FX_NEVER);
		assert_int_equal(fx_err(s), AMBER_OK);
		assert_int_equal(s->u->label, 100 + i);
		assert_int_equal(amber_tag_label(s->u->tag), 50 + i);
		assert_int_equal(s->u->mr[0], 0xa0 + i);
		if (i == 0) {
			/* The queued call now waits for its reply... */
			assert_false(fx_done(c[0]));
			assert_int_equal(kernel_thread_state(c[0]->k), KTHREAD_REPLY_WAIT);
		} else {
			/* ... a send is done once delivered. */
			assert_int_equal(fx_err(c[i]), AMBER_OK);
		}
	}
	/* The call (second delivered) got the reply with the third reply-wait. */
	assert_int_equal(fx_err(c[0]), AMBER_OK);
	assert_null(s->k->sendq_head);
	assert_null(s->k->sendq_tail);
	fx_wait(s, FX_POLL);
	assert_int_equal(fx_err(s), AMBER_ERR_TIMEOUT);
}

static void test_send_poll_busy(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	fx_send(p.c, GATE, amber_tag(1, 0, 0), FX_POLL);
	assert_int_equal(fx_err(p.c), AMBER_ERR_TIMEOUT);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_POLL, FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_ERR_TIMEOUT);
	assert_null(p.s->k->sendq_head);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	/* Poll to a waiting receiver succeeds. */
	fx_wait(p.s, FX_NEVER);
	fx_send(p.c, GATE, amber_tag(1, 0, 0), FX_POLL);
	assert_int_equal(fx_err(p.c), AMBER_OK);
	assert_int_equal(fx_err(p.s), AMBER_OK);
}

/* ---- timeouts ---- */

static void test_send_timeout(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	fx_gate_to(p.s, 2, t2, GATE, AMBER_RIGHTS_ALL);

	uint64_t t0 = fx_clock;
	fx_send(p.c, GATE, amber_tag(1, 0, 0), 500);
	fx_send(c2, GATE, amber_tag(2, 0, 0), FX_NEVER);
	assert_int_equal(kernel_next_deadline(), t0 + 500);
	fx_advance(499);
	assert_false(fx_done(p.c));
	fx_advance(1);
	assert_int_equal(fx_err(p.c), AMBER_ERR_TIMEOUT);
	assert_int_equal(p.c->wakes, 1);
	assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_READY);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	/* The infinite one never expires. */
	fx_advance(1000000000000ull);
	assert_false(fx_done(c2));
	/* The timed-out message is not delivered; the other one is. */
	fx_wait(p.s, FX_NEVER);
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(p.s->u->label, 2);
	assert_int_equal(fx_err(c2), AMBER_OK);
	fx_wait(p.s, FX_POLL);
	assert_int_equal(fx_err(p.s), AMBER_ERR_TIMEOUT);
	assert_int_equal(p.c->wakes, 1);
}

static void test_receive_timeout(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	struct fx_thread *t = fx_thread(a, "t");
	struct fx_thread *u = fx_thread(a, "u");
	fx_wait(t, FX_POLL);
	assert_int_equal(fx_err(t), AMBER_ERR_TIMEOUT);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);

	fx_wait(t, 300);
	fx_wait(u, 100);
	assert_int_equal(kernel_next_deadline(), fx_clock + 100);
	fx_advance(99);
	assert_false(fx_done(u));
	fx_advance(1);
	assert_int_equal(fx_err(u), AMBER_ERR_TIMEOUT);
	assert_false(fx_done(t));
	assert_int_equal(kernel_next_deadline(), fx_clock + 200);
	fx_advance(1000);
	assert_int_equal(fx_err(t), AMBER_ERR_TIMEOUT);
	assert_int_equal(t->wakes, 2);

	fx_wait(t, FX_NEVER);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	fx_advance(UINT64_MAX / 2);
	assert_false(fx_done(t));
	kernel_expire_timeouts(UINT64_MAX);
	assert_false(fx_done(t));
	kernel_thread_cancel(t->k);
	assert_int_equal(fx_err(t), AMBER_ERR_CANCELED);
}

/* A huge finite timeout saturates instead of wrapping around. */
static void test_timeout_saturates(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	struct fx_thread *t = fx_thread(a, "t");
	fx_wait(t, UINT64_MAX - 1);
	assert_int_equal(kernel_next_deadline(), UINT64_MAX - 1);
	fx_advance(1000);
	assert_false(fx_done(t));
	kernel_thread_cancel(t->k);
	assert_int_equal(fx_err(t), AMBER_ERR_CANCELED);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
}

/* The reply timeout of a queued call starts when the call is delivered. */
static void test_reply_timeout(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, 100);
	assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_SEND);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	fx_advance(80);
	fx_wait(p.s, FX_NEVER);
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_REPLY_WAIT);
	fx_advance(99);
	assert_false(fx_done(p.c));
	fx_advance(1);
	assert_int_equal(fx_err(p.c), AMBER_ERR_TIMEOUT);
	/* The server's reply capability is gone. */
	assert_null(p.s->k->reply_to);
	fx_reply(p.s, amber_tag(0, 0, 0));
	assert_int_equal(fx_err(p.s), AMBER_ERR_NO_PARTNER);
	assert_int_equal(p.c->wakes, 1);
}

/* ---- reply and wait ---- */

static void test_reply_wait(void **state)
{
	(void)state;
	struct pair p = mkpair(3);
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	fx_gate_to(p.s, 4, t2, GATE, AMBER_RIGHTS_ALL);

	fx_reply_wait(p.s, 0, FX_NEVER);
	p.c->u->mr[0] = 1;
	fx_call(p.c, GATE, amber_tag(1, 1, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(p.s->u->mr[0], 1);
	/* c2 calls while the server works: it queues. */
	c2->u->mr[0] = 2;
	fx_call(c2, GATE, amber_tag(2, 1, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(kernel_thread_state(c2->k), KTHREAD_SEND);

	/* Reply to c, receive c2's call, in one operation. */
	p.s->u->mr[0] = 10;
	fx_reply_wait(p.s, amber_tag(0, 1, 0), FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_OK);
	assert_int_equal(p.c->u->mr[0], 10);
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(p.s->u->label, 4);
	assert_int_equal(p.s->u->mr[0], 2);
	assert_ptr_equal(p.s->k->reply_to, c2->k);

	/* Reply to c2, then block waiting. */
	p.s->u->mr[0] = 20;
	fx_reply_wait(p.s, amber_tag(0, 1, 0), 50);
	assert_int_equal(fx_err(c2), AMBER_OK);
	assert_int_equal(c2->u->mr[0], 20);
	assert_false(fx_done(p.s));
	assert_int_equal(kernel_thread_state(p.s->k), KTHREAD_RECV);
	fx_advance(50);
	assert_int_equal(fx_err(p.s), AMBER_ERR_TIMEOUT);
}

/* A server that takes a new call without replying drops the old caller. */
static void test_new_call_drops_unreplied_caller(void **state)
{
	(void)state;
	struct pair p = mkpair(3);
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	fx_gate_to(p.s, 4, t2, GATE, AMBER_RIGHTS_ALL);
	fx_wait(p.s, FX_NEVER);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	fx_wait(p.s, FX_NEVER);
	assert_false(fx_done(p.c));
	fx_call(c2, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_ERR_NO_PARTNER);
	assert_ptr_equal(p.s->k->reply_to, c2->k);
	fx_reply(p.s, 0);
	assert_int_equal(fx_err(c2), AMBER_OK);
}

/* ---- capability transfer ---- */

struct xfer {
	struct pair p;
	amber_sel_t gs[3];
	struct kgate *g[3];
};

static void mkxfer(struct xfer *x)
{
	x->p = mkpair(1);
	for (unsigned i = 0; i < 3; i++) {
		x->g[i] = fx_gate(0x100 + i, NULL, &x->gs[i]);
		fx_give(x->gs[i], x->p.ct, 30 + i, AMBER_RIGHTS_ALL);
	}
}

static void test_map_items_transfer(void **state)
{
	(void)state;
	struct xfer x;
	mkxfer(&x);
	struct pair *p = &x.p;
	p->s->u->br[0] = amber_rcv_window(100, 4);
	fx_wait(p->s, FX_NEVER);

	p->c->u->mr[0] = 0x77;
	p->c->u->mr[1] = amber_map_item(30, AMBER_RIGHT_INVOKE);
	p->c->u->mr[2] = amber_map_item(32, AMBER_RIGHTS_ALL);
	fx_call(p->c, GATE, amber_tag(9, 1, 2), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p->s), AMBER_OK);
	assert_int_equal(amber_tag_words(p->s->u->tag), 1);
	assert_int_equal(amber_tag_items(p->s->u->tag), 2);
	assert_int_equal(p->s->u->mr[0], 0x77);
	/* The items are rewritten to name the receiver's slots and rights. */
	assert_int_equal(p->s->u->mr[1], amber_map_item(100, AMBER_RIGHT_INVOKE));
	assert_int_equal(p->s->u->mr[2], amber_map_item(101, AMBER_RIGHTS_ALL));
	assert_ptr_equal(cap_slot(p->st, 100)->obj, &x.g[0]->obj);
	assert_ptr_equal(cap_slot(p->st, 101)->obj, &x.g[2]->obj);
	assert_int_equal(fx_rights(p->st, 100), AMBER_RIGHT_INVOKE);
	assert_int_equal(fx_rights(p->st, 101), AMBER_RIGHTS_ALL);
	assert_int_equal(fx_kind(p->st, 102), AMBER_KIND_NONE);
	/* Derived in the mapping database: the sender's slots are the parents. */
	assert_ptr_equal(cap_slot(p->st, 100)->parent, cap_slot(p->ct, 30));
	assert_ptr_equal(cap_slot(p->st, 101)->parent, cap_slot(p->ct, 32));
	/* The sender keeps its capabilities. */
	assert_int_equal(fx_rights(p->ct, 30), AMBER_RIGHTS_ALL);

	/* Revoking the sender's capability revokes what it sent. */
	assert_int_equal(kernel_cap_delete(p->ct, 32), AMBER_OK);
	assert_int_equal(fx_kind(p->st, 101), AMBER_KIND_NONE);
	fx_reply(p->s, 0);
	assert_int_equal(fx_err(p->c), AMBER_OK);
}

static void test_map_item_errors(void **state)
{
	(void)state;
	struct xfer x;
	mkxfer(&x);
	struct pair *p = &x.p;
	fx_give(x.gs[1], p->ct, 40, AMBER_RIGHT_INVOKE | AMBER_RIGHT_CONTROL); /* not grantable */
	p->s->u->br[0] = amber_rcv_window(100, 4);
	fx_wait(p->s, FX_NEVER);
	const struct {
		amber_word_t item;
		int err;
	} cases[] = {
		{ amber_map_item(35, AMBER_RIGHTS_ALL), AMBER_ERR_ITEM },      /* empty slot */
		{ amber_map_item(0, AMBER_RIGHTS_ALL), AMBER_ERR_ITEM },       /* slot 0 */
		{ amber_map_item(AMBER_CAP_SLOTS, AMBER_RIGHTS_ALL), AMBER_ERR_ITEM },
		{ amber_map_item(30, AMBER_RIGHTS_ALL) & ~0xffull, AMBER_ERR_ITEM }, /* type 0 */
		{ (amber_map_item(30, AMBER_RIGHTS_ALL) & ~0xffull) | 2, AMBER_ERR_ITEM },
		{ amber_map_item(40, AMBER_RIGHT_INVOKE), AMBER_ERR_RIGHTS },  /* no GRANT */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A valid item first: nothing at all may be installed. */
		p->c->u->mr[0] = amber_map_item(31, AMBER_RIGHTS_ALL);
		p->c->u->mr[1] = cases[i].item;
		fx_call(p->c, GATE, amber_tag(9, 0, 2), FX_NEVER, FX_NEVER);
		assert_int_equal(fx_err(p->c), cases[i].err);
		assert_false(fx_done(p->s));
		assert_int_equal(kernel_thread_state(p->s->k), KTHREAD_RECV);
		assert_int_equal(fx_kind(p->st, 100), AMBER_KIND_NONE);
		assert_int_equal(x.g[1]->obj.ncaps, 3);
	}
}

static void test_rcv_window_errors(void **state)
{
	(void)state;
	struct xfer x;
	mkxfer(&x);
	struct pair *p = &x.p;
	const amber_word_t windows[] = {
		0,                                           /* none */
		amber_rcv_window(100, 1),                    /* too small */
		amber_rcv_window(0, 4),                      /* slot 0 */
		amber_rcv_window(AMBER_CAP_SLOTS, 4),        /* out of range */
		amber_rcv_window(AMBER_CAP_SLOTS - 1, 2),    /* runs off the end */
		amber_rcv_window(100, 0xffffffffu),
	};
	for (unsigned i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		p->s->u->br[0] = windows[i];
		fx_wait(p->s, FX_NEVER);
		p->c->u->mr[0] = 0x1;
		p->c->u->mr[1] = amber_map_item(30, AMBER_RIGHTS_ALL);
		p->c->u->mr[2] = amber_map_item(31, AMBER_RIGHTS_ALL);
		fx_call(p->c, GATE, amber_tag(9, 1, 2), FX_NEVER, FX_NEVER);
		assert_int_equal(fx_err(p->c), AMBER_ERR_RCV_WINDOW);
		/* The receiver still waits and got nothing. */
		assert_false(fx_done(p->s));
		assert_int_equal(kernel_thread_state(p->s->k), KTHREAD_RECV);
		assert_int_equal(x.g[0]->obj.ncaps, 2);
		assert_int_equal(x.g[1]->obj.ncaps, 2);
		/* A message without items still gets through. */
		fx_send(p->c, GATE, amber_tag(9, 1, 0), FX_NEVER);
		assert_int_equal(fx_err(p->c), AMBER_OK);
		assert_int_equal(fx_err(p->s), AMBER_OK);
	}

	/* Destination slot busy. */
	fx_give(x.gs[2], p->st, 101, AMBER_RIGHT_INVOKE);
	p->s->u->br[0] = amber_rcv_window(100, 2);
	fx_wait(p->s, FX_NEVER);
	fx_call(p->c, GATE, amber_tag(9, 1, 2), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p->c), AMBER_ERR_SLOT_BUSY);
	assert_false(fx_done(p->s));
	assert_int_equal(fx_kind(p->st, 100), AMBER_KIND_NONE);
	assert_ptr_equal(cap_slot(p->st, 101)->obj, &x.g[2]->obj);
	/* The exact size fits. */
	p->s->u->br[0] = amber_rcv_window(AMBER_CAP_SLOTS - 2, 2);
	kernel_thread_cancel(p->s->k);
	assert_int_equal(fx_err(p->s), AMBER_ERR_CANCELED);
	fx_wait(p->s, FX_NEVER);
	fx_call(p->c, GATE, amber_tag(9, 1, 2), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p->s), AMBER_OK);
	assert_int_equal(p->s->u->mr[2], amber_map_item(AMBER_CAP_SLOTS - 1, AMBER_RIGHTS_ALL));
	fx_reply(p->s, 0);
	assert_int_equal(fx_err(p->c), AMBER_OK);
}

/* Items of a queued message are transferred when it is delivered, into the
 * window the receiver has then; one that does not fit fails its sender only. */
static void test_queued_items(void **state)
{
	(void)state;
	struct xfer x;
	mkxfer(&x);
	struct pair *p = &x.p;
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	fx_gate_to(p->s, 2, t2, GATE, AMBER_RIGHTS_ALL);
	fx_give(x.gs[2], t2, 30, AMBER_RIGHTS_ALL);

	p->c->u->mr[0] = amber_map_item(30, AMBER_RIGHTS_ALL);
	p->c->u->mr[1] = amber_map_item(31, AMBER_RIGHTS_ALL);
	fx_send(p->c, GATE, amber_tag(1, 0, 2), FX_NEVER);
	c2->u->mr[0] = amber_map_item(30, AMBER_RIGHT_GRANT);
	fx_send(c2, GATE, amber_tag(2, 0, 1), FX_NEVER);
	assert_int_equal(kernel_thread_state(p->c->k), KTHREAD_SEND);

	p->s->u->br[0] = amber_rcv_window(200, 1);
	fx_wait(p->s, FX_NEVER);
	assert_int_equal(fx_err(p->c), AMBER_ERR_RCV_WINDOW);
	assert_int_equal(fx_err(c2), AMBER_OK);
	assert_int_equal(fx_err(p->s), AMBER_OK);
	assert_int_equal(p->s->u->label, 2);
	assert_int_equal(p->s->u->mr[0], amber_map_item(200, AMBER_RIGHT_GRANT));
	assert_ptr_equal(cap_slot(p->st, 200)->obj, &x.g[2]->obj);
	assert_ptr_equal(cap_slot(p->st, 200)->parent, cap_slot(t2, 30));
	assert_int_equal(fx_kind(p->st, 201), AMBER_KIND_NONE);
}

static void test_caps_in_reply(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	amber_sel_t gs;
	struct kgate *g = fx_gate(0x55, NULL, &gs);
	fx_give(gs, p.st, 60, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	fx_give(gs, p.st, 61, AMBER_RIGHT_INVOKE);

	fx_wait(p.s, FX_NEVER);
	p.c->u->br[0] = amber_rcv_window(300, 1);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p.s), AMBER_OK);
	/* The window counts as of the call, not as of the reply. */
	p.c->u->br[0] = 0;

	/* A non-grantable item fails the replier only; the caller keeps waiting. */
	p.s->u->mr[0] = amber_map_item(61, AMBER_RIGHTS_ALL);
	fx_reply(p.s, amber_tag(0, 0, 1));
	assert_int_equal(fx_err(p.s), AMBER_ERR_RIGHTS);
	assert_false(fx_done(p.c));
	assert_ptr_equal(p.s->k->reply_to, p.c->k);
	p.s->u->mr[0] = 123;
	p.s->u->mr[1] = amber_map_item(60, AMBER_RIGHTS_ALL);
	fx_reply(p.s, amber_tag(0, 1, 1));
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(fx_err(p.c), AMBER_OK);
	assert_int_equal(p.c->u->mr[0], 123);
	assert_int_equal(p.c->u->mr[1], amber_map_item(300, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT));
	assert_ptr_equal(cap_slot(p.ct, 300)->obj, &g->obj);
	assert_ptr_equal(cap_slot(p.ct, 300)->parent, cap_slot(p.st, 60));

	/* A reply that does not fit the caller's window fails both. */
	fx_wait(p.s, FX_NEVER);
	p.c->u->br[0] = amber_rcv_window(300, 1); /* slot 300 is taken now */
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	fx_reply(p.s, amber_tag(0, 1, 1));
	assert_int_equal(fx_err(p.s), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(fx_err(p.c), AMBER_ERR_SLOT_BUSY);
	assert_null(p.s->k->reply_to);
	assert_int_equal(g->obj.ncaps, 4);
}

/* ---- cancel ---- */

static void test_cancel_send(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	fx_gate_to(p.s, 2, t2, GATE, AMBER_RIGHTS_ALL);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), 1000, FX_NEVER);
	fx_send(c2, GATE, amber_tag(2, 0, 0), FX_NEVER);
	kernel_thread_cancel(p.c->k);
	assert_int_equal(fx_err(p.c), AMBER_ERR_CANCELED);
	assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_READY);
	assert_ptr_equal(p.s->k->sendq_head, c2->k);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	/* Cancelling a thread that is not blocked does nothing. */
	unsigned w = p.c->wakes;
	kernel_thread_cancel(p.c->k);
	assert_int_equal(p.c->wakes, w);
	/* The cancelled message is never delivered. */
	fx_wait(p.s, FX_NEVER);
	assert_int_equal(p.s->u->label, 2);
	fx_wait(p.s, FX_POLL);
	assert_int_equal(fx_err(p.s), AMBER_ERR_TIMEOUT);
	assert_null(p.s->k->reply_to);
}

static void test_cancel_reply_wait(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	fx_wait(p.s, FX_NEVER);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, 500);
	assert_int_equal(kernel_thread_state(p.c->k), KTHREAD_REPLY_WAIT);
	kernel_thread_cancel(p.c->k);
	assert_int_equal(fx_err(p.c), AMBER_ERR_CANCELED);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	fx_reply(p.s, amber_tag(0, 0, 0));
	assert_int_equal(fx_err(p.s), AMBER_ERR_NO_PARTNER);
	/* The client's next call works normally. */
	fx_reply_wait(p.s, 0, FX_NEVER);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	fx_reply(p.s, 0);
	assert_int_equal(fx_err(p.c), AMBER_OK);
}

static void test_cancel_recv(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	fx_wait(p.s, 1000);
	kernel_thread_cancel(p.s->k);
	assert_int_equal(fx_err(p.s), AMBER_ERR_CANCELED);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	/* No longer receiving: a poll send finds it busy. */
	fx_send(p.c, GATE, amber_tag(1, 0, 0), FX_POLL);
	assert_int_equal(fx_err(p.c), AMBER_ERR_TIMEOUT);
	fx_advance(5000);
	assert_int_equal(p.s->wakes, 1);
}

/* ---- thread destruction ---- */

static void test_destroy_server(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	struct fx_thread *c3 = fx_thread(t2, "c3");
	fx_gate_to(p.s, 2, t2, GATE, AMBER_RIGHTS_ALL);
	amber_sel_t is;
	struct kirq *irq = fx_irq(&is);
	fx_give(is, p.st, 40, AMBER_RIGHTS_ALL);
	fx_give(p.s->core_sel, p.st, AMBER_SEL_THREAD, AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(p.s, 40, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, AMBER_SEL_THREAD, 5, 0), AMBER_OK);

	fx_wait(p.s, FX_NEVER);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, 1000); /* delivered, waits for reply */
	fx_call(c2, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER); /* queued */
	fx_send(c3, GATE, amber_tag(1, 0, 0), 2000);               /* queued */
	assert_int_equal(kernel_thread_state(c2->k), KTHREAD_SEND);

	uint64_t sid = kernel_object_id(p.s->k);
	assert_int_equal(kernel_cap_delete(fx_core(), p.s->core_sel), AMBER_OK);
	assert_true(p.s->destroyed);
	assert_false(fx_alive(sid));
	assert_int_equal(fx_err(p.c), AMBER_ERR_NO_PARTNER);
	assert_int_equal(fx_err(c2), AMBER_ERR_NO_PARTNER);
	assert_int_equal(fx_err(c3), AMBER_ERR_NO_PARTNER);
	assert_int_equal(p.c->wakes + c2->wakes + c3->wakes, 3);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	/* Its gates are unbound, its IRQs detached. */
	assert_null(p.g->bound);
	assert_null(irq->attached);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_ERR_NO_PARTNER);
	/* Its capability in its own task went with the root. */
	assert_int_equal(fx_kind(p.st, AMBER_SEL_THREAD), AMBER_KIND_NONE);
}

/* A thread destroyed while blocked leaves no trace in its partner. */
static void test_destroy_blocked_client(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	struct fx_thread *c3 = fx_thread(t2, "c3");
	fx_gate_to(p.s, 2, t2, GATE, AMBER_RIGHTS_ALL);
	fx_wait(p.s, FX_NEVER);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, 100);
	fx_send(c2, GATE, amber_tag(2, 0, 0), 300);
	fx_send(c3, GATE, amber_tag(3, 0, 0), FX_NEVER);
	assert_int_equal(kernel_cap_delete(fx_core(), p.c->core_sel), AMBER_OK);
	assert_null(p.s->k->reply_to);
	assert_int_equal(kernel_cap_delete(fx_core(), c2->core_sel), AMBER_OK);
	assert_ptr_equal(p.s->k->sendq_head, c3->k);
	assert_ptr_equal(p.s->k->sendq_tail, c3->k);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	fx_advance(1000);
	fx_reply(p.s, 0);
	assert_int_equal(fx_err(p.s), AMBER_ERR_NO_PARTNER);
	fx_wait(p.s, FX_NEVER);
	assert_int_equal(fx_err(p.s), AMBER_OK);
	assert_int_equal(amber_tag_label(p.s->u->tag), 3);
	assert_int_equal(fx_err(c3), AMBER_OK);
}

/* When a server's task goes, its threads are dead even if core still holds
 * them: whoever waited for them learns it, like a new sender would. */
static void test_task_death_releases_partners(void **state)
{
	(void)state;
	struct ktask *ct = fx_task("client");
	amber_sel_t ss;
	struct ktask *st = fx_task_sel("server", &ss);
	struct fx_thread *s = fx_thread(st, "s");
	struct fx_thread *c1 = fx_thread(ct, "c1"), *c2 = fx_thread(ct, "c2"), *c3 = fx_thread(ct, "c3");
	fx_gate_to(s, 1, ct, GATE, AMBER_RIGHTS_ALL);
	fx_wait(s, FX_NEVER);
	fx_call(c1, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER); /* delivered */
	fx_call(c2, GATE, amber_tag(2, 0, 0), FX_NEVER, FX_NEVER); /* queued */
	fx_send(c3, GATE, amber_tag(3, 0, 0), FX_NEVER);           /* queued */
	assert_int_equal(kernel_cap_delete(fx_core(), ss), AMBER_OK);
	assert_int_equal(kernel_thread_state(s->k), KTHREAD_DEAD);
	assert_false(s->destroyed);
	assert_int_equal(fx_err(c1), AMBER_ERR_NO_PARTNER);
	assert_int_equal(fx_err(c2), AMBER_ERR_NO_PARTNER);
	assert_int_equal(fx_err(c3), AMBER_ERR_NO_PARTNER);
	assert_null(s->k->sendq_head);
	assert_null(s->k->reply_to);
	fx_call(c1, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(c1), AMBER_ERR_NO_PARTNER);
	/* Destroying the dead thread later wakes nobody twice. */
	assert_int_equal(kernel_cap_delete(fx_core(), s->core_sel), AMBER_OK);
	assert_int_equal(c1->wakes + c2->wakes + c3->wakes, 4);
}

/* Deleting a gate aborts the senders queued through it. */
static void test_destroy_gate_with_queued_senders(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	struct ktask *t2 = fx_task("c2");
	struct fx_thread *c2 = fx_thread(t2, "c2");
	fx_gate_to(p.s, 2, t2, GATE, AMBER_RIGHTS_ALL);
	fx_call(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	fx_send(c2, GATE, amber_tag(2, 0, 0), FX_NEVER);
	uint64_t gid = kernel_object_id(p.g);
	assert_int_equal(kernel_cap_delete(fx_core(), cap_slot(p.ct, GATE)->parent->sel), AMBER_OK);
	assert_false(fx_alive(gid));
	assert_int_equal(fx_err(p.c), AMBER_ERR_NO_PARTNER);
	assert_false(fx_done(c2));
	fx_wait(p.s, FX_NEVER);
	assert_int_equal(p.s->u->label, 2);
	assert_int_equal(fx_err(c2), AMBER_OK);
}

/* ---- kernel-entry protocol ---- */

static void test_entry_while_blocked(void **state)
{
	(void)state;
	struct pair p = mkpair(1);
	fx_wait(p.s, FX_NEVER);
	/* Entering without a new entry_seq is nothing new. */
	kernel_thread_entry(p.s->k);
	assert_int_equal(fx_violations, 0);
	assert_false(fx_done(p.s));

	fx_send(p.s, GATE, amber_tag(1, 0, 0), FX_POLL); /* second doorbell while blocked */
	assert_int_equal(fx_violations, 1);
	assert_ptr_equal(fx_violation_task, p.st);
	assert_false(fx_done(p.s));
	assert_int_equal(p.s->wakes, 0);
	assert_int_equal(kernel_thread_state(p.s->k), KTHREAD_RECV);

	/* The blocked operation is unchanged: it still completes (with the
	 * sequence number it was started with). */
	uint32_t started = p.s->k->op_seq;
	fx_send(p.c, GATE, amber_tag(1, 0, 0), FX_NEVER);
	assert_int_equal(fx_err(p.c), AMBER_OK);
	assert_int_equal(p.s->u->done_seq, started);
	assert_int_equal(p.s->u->error, AMBER_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_malformed_tags),
		FX_TEST(test_bad_op),
		FX_TEST(test_gate_needs_invoke),
		FX_TEST(test_call_reply_round_trip),
		FX_TEST(test_wake_only_sleepers),
		FX_TEST(test_send_does_not_wait),
		FX_TEST(test_reply_without_caller),
		FX_TEST(test_self_and_unbound),
		FX_TEST(test_gate_bind),
		FX_TEST(test_send_queue_fifo),
		FX_TEST(test_send_poll_busy),
		FX_TEST(test_send_timeout),
		FX_TEST(test_receive_timeout),
		FX_TEST(test_timeout_saturates),
		FX_TEST(test_reply_timeout),
		FX_TEST(test_reply_wait),
		FX_TEST(test_new_call_drops_unreplied_caller),
		FX_TEST(test_map_items_transfer),
		FX_TEST(test_map_item_errors),
		FX_TEST(test_rcv_window_errors),
		FX_TEST(test_queued_items),
		FX_TEST(test_caps_in_reply),
		FX_TEST(test_cancel_send),
		FX_TEST(test_cancel_reply_wait),
		FX_TEST(test_cancel_recv),
		FX_TEST(test_destroy_server),
		FX_TEST(test_destroy_blocked_client),
		FX_TEST(test_destroy_gate_with_queued_senders),
		FX_TEST(test_task_death_releases_partners),
		FX_TEST(test_entry_while_blocked),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
