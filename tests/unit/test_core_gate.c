/*
 * Core gates: services that core runs inside the kernel, replying at once
 * or deferring the reply (kernel_core_reply).
 */
#include "tests/unit/kernel_fixture.h"

#define GATE 20

struct svc {
	unsigned calls;
	struct kcore_request last;
	enum kcore_result result;
	int error;
	amber_tag_t reply_tag;
	amber_word_t reply_mr[AMBER_MR_COUNT];
	bool hook;          /* set the request's `abandoned` */
	unsigned abandoned; /* how often it was called */
};

static void on_abandoned(void *ctx) { ((struct svc *)ctx)->abandoned++; }

static enum kcore_result handler(void *ctx, struct kcore_request *req, int *error)
{
	struct svc *s = ctx;
	s->calls++;
	s->last = *req;
	*error = s->error;
	if (s->hook) {
		req->abandoned = on_abandoned;
		req->abandoned_ctx = s;
	}
	req->reply_tag = s->reply_tag;
	memcpy(req->reply_mr, s->reply_mr, sizeof(req->reply_mr));
	return s->result;
}

struct cfx {
	struct ktask *a;
	struct fx_thread *c;
	struct kgate *g;
	amber_sel_t gate_core;
};

static struct cfx mkcore(struct svc *s, uint64_t label)
{
	struct cfx x;
	memset(s, 0, sizeof(*s));
	x.a = fx_task("a");
	x.c = fx_thread(x.a, "c");
	x.gate_core = fx_core_sel();
	assert_int_equal(kernel_create_core_gate(fx_core(), x.gate_core, label, handler, s, &x.g), AMBER_OK);
	fx_give(x.gate_core, x.a, GATE, AMBER_RIGHT_INVOKE);
	return x;
}

static void test_immediate_reply(void **state)
{
	(void)state;
	struct svc s;
	struct cfx x = mkcore(&s, 0xc0de);
	amber_sel_t gs;
	struct kgate *g = fx_gate(0x42, NULL, &gs); /* a capability core hands out */
	s.error = AMBER_OK;
	s.reply_tag = amber_tag(0x77, 2, 1);
	s.reply_mr[0] = 100;
	s.reply_mr[1] = 200;
	s.reply_mr[2] = amber_map_item(gs, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);

	x.c->u->mr[0] = 5;
	x.c->u->mr[1] = 6;
	x.c->u->br[0] = amber_rcv_window(64, 2);
	fx_call(x.c, GATE, amber_tag(0x1234, 2, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(s.calls, 1);
	assert_ptr_equal(s.last.caller, x.c->k);
	assert_int_equal(s.last.label, 0xc0de);
	assert_int_equal(s.last.tag, amber_tag(0x1234, 2, 0));
	assert_int_equal(s.last.mr[0], 5);
	assert_int_equal(s.last.mr[1], 6);
	assert_int_equal(s.last.nitems, 0);

	assert_int_equal(fx_err(x.c), AMBER_OK);
	assert_int_equal(x.c->wakes, 1);
	assert_int_equal(kernel_thread_state(x.c->k), KTHREAD_READY);
	assert_int_equal(amber_tag_label(x.c->u->tag), 0x77);
	assert_int_equal(amber_tag_words(x.c->u->tag), 2);
	assert_int_equal(amber_tag_items(x.c->u->tag), 1);
	assert_int_equal(x.c->u->mr[0], 100);
	assert_int_equal(x.c->u->mr[1], 200);
	assert_int_equal(x.c->u->mr[2], amber_map_item(64, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT));
	assert_ptr_equal(cap_slot(x.a, 64)->obj, &g->obj);
	assert_ptr_equal(cap_slot(x.a, 64)->parent, cap_slot(fx_core(), gs));
	assert_int_equal(x.c->u->label, 0);
	assert_false(kernel_thread_awaits_core(x.c->k));
}

static void test_immediate_error_and_bad_reply(void **state)
{
	(void)state;
	struct svc s;
	struct cfx x = mkcore(&s, 1);
	s.error = AMBER_ERR_INVALID_ARG;
	s.reply_tag = amber_tag(1, 1, 0);
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_ERR_INVALID_ARG);
	assert_int_equal(x.c->u->tag, 0);

	/* A reply with a malformed tag reaches the caller as an error. */
	s.error = AMBER_OK;
	s.reply_tag = amber_tag(1, 60, 8);
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_ERR_MSG_TAG);

	/* Reply items that do not fit the caller's window. */
	amber_sel_t gs;
	fx_gate(2, NULL, &gs);
	s.reply_tag = amber_tag(1, 0, 1);
	s.reply_mr[0] = amber_map_item(gs, AMBER_RIGHTS_ALL);
	x.c->u->br[0] = 0;
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_ERR_RCV_WINDOW);
	/* A send runs the handler but does not wait for a reply. */
	s.result = KCORE_DEFER;
	fx_send(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_OK);
	assert_int_equal(s.calls, 4);
	assert_false(kernel_thread_awaits_core(x.c->k));
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_OK, 0, s.reply_mr), AMBER_ERR_NO_PARTNER);
}

static void test_deferred_reply(void **state)
{
	(void)state;
	struct svc s;
	struct cfx x = mkcore(&s, 1);
	s.result = KCORE_DEFER;
	x.c->u->br[0] = amber_rcv_window(70, 1);
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(s.calls, 1);
	assert_false(fx_done(x.c));
	assert_int_equal(kernel_thread_state(x.c->k), KTHREAD_REPLY_WAIT);
	assert_true(kernel_thread_awaits_core(x.c->k));

	amber_sel_t is;
	struct kirq *irq = fx_irq(&is);
	amber_word_t mr[3] = { 9, 8, amber_map_item(is, AMBER_RIGHT_INVOKE) };
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_OK, amber_tag(3, 2, 1), mr), AMBER_OK);
	assert_int_equal(fx_err(x.c), AMBER_OK);
	assert_int_equal(x.c->u->mr[0], 9);
	assert_int_equal(x.c->u->mr[1], 8);
	assert_int_equal(x.c->u->mr[2], amber_map_item(70, AMBER_RIGHT_INVOKE));
	assert_ptr_equal(cap_slot(x.a, 70)->obj, &irq->obj);
	assert_false(kernel_thread_awaits_core(x.c->k));
	/* Only once. */
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_OK, amber_tag(3, 2, 0), mr), AMBER_ERR_NO_PARTNER);
	assert_int_equal(x.c->wakes, 1);

	/* A deferred error reply. */
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_ERR_QUOTA, 0, NULL), AMBER_OK);
	assert_int_equal(fx_err(x.c), AMBER_ERR_QUOTA);
	/* A deferred empty reply needs no message registers. */
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_OK, amber_tag(4, 0, 0), NULL), AMBER_OK);
	assert_int_equal(fx_err(x.c), AMBER_OK);
	assert_int_equal(amber_tag_label(x.c->u->tag), 4);
}

static void test_deferred_after_timeout_or_cancel(void **state)
{
	(void)state;
	struct svc s;
	struct cfx x = mkcore(&s, 1);
	s.result = KCORE_DEFER;
	amber_word_t mr[1] = { 1 };
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, 300);
	assert_true(kernel_thread_awaits_core(x.c->k));
	fx_advance(300);
	assert_int_equal(fx_err(x.c), AMBER_ERR_TIMEOUT);
	assert_false(kernel_thread_awaits_core(x.c->k));
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_OK, amber_tag(1, 1, 0), mr), AMBER_ERR_NO_PARTNER);
	assert_int_equal(x.c->wakes, 1);

	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	kernel_thread_cancel(x.c->k);
	assert_int_equal(fx_err(x.c), AMBER_ERR_CANCELED);
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_OK, amber_tag(1, 1, 0), mr), AMBER_ERR_NO_PARTNER);
	assert_int_equal(x.c->u->error, AMBER_ERR_CANCELED);

	/* A thread waiting for another thread's reply does not await core. */
	struct fx_thread *srv = fx_thread(x.a, "srv");
	fx_gate_to(srv, 1, x.a, 21, AMBER_RIGHTS_ALL);
	fx_wait(srv, FX_NEVER);
	fx_call(x.c, 21, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(kernel_thread_state(x.c->k), KTHREAD_REPLY_WAIT);
	assert_false(kernel_thread_awaits_core(x.c->k));
	assert_int_equal(kernel_core_reply(x.c->k, AMBER_OK, amber_tag(1, 1, 0), mr), AMBER_ERR_NO_PARTNER);
	assert_false(fx_done(x.c));
	fx_reply(srv, 0);
	assert_int_equal(fx_err(x.c), AMBER_OK);
}

/* What core keeps for a deferred reply is dropped when the caller stops
 * waiting without it: `abandoned` runs once for a timeout, a cancel, the
 * end of the thread or of its task, at once for a SEND, never after a
 * reply. */
static void test_deferred_abandoned(void **state)
{
	(void)state;
	struct svc s;
	amber_sel_t task_sel;
	struct ktask *a = fx_task_sel("a", &task_sel);
	struct cfx x = mkcore(&s, 1);
	struct fx_thread *c = fx_thread(a, "c"), *d = fx_thread(a, "d"), *e = fx_thread(a, "e");
	fx_give(x.gate_core, a, GATE, AMBER_RIGHT_INVOKE);
	s.result = KCORE_DEFER;
	s.hook = true;

	fx_call(c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_true(s.last.is_call);
	assert_int_equal(kernel_core_reply(c->k, AMBER_OK, amber_tag(1, 0, 0), NULL), AMBER_OK);
	assert_int_equal(s.abandoned, 0);

	fx_call(c, GATE, amber_tag(1, 0, 0), FX_NEVER, 300);
	fx_advance(300);
	assert_int_equal(fx_err(c), AMBER_ERR_TIMEOUT);
	assert_int_equal(s.abandoned, 1);

	fx_call(c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	kernel_thread_cancel(c->k);
	assert_int_equal(s.abandoned, 2);
	assert_int_equal(kernel_core_reply(c->k, AMBER_OK, amber_tag(1, 0, 0), NULL), AMBER_ERR_NO_PARTNER);

	fx_send(c, GATE, amber_tag(1, 0, 0), FX_NEVER);
	assert_false(s.last.is_call);
	assert_int_equal(fx_err(c), AMBER_OK);
	assert_int_equal(s.abandoned, 3);

	/* An error reply is an answer too. */
	fx_call(c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(kernel_core_reply(c->k, AMBER_ERR_QUOTA, 0, NULL), AMBER_OK);
	assert_int_equal(fx_err(c), AMBER_ERR_QUOTA);
	assert_int_equal(s.abandoned, 3);

	/* Its thread is deleted while it waits. */
	fx_call(d, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(kernel_cap_delete(fx_core(), d->core_sel), AMBER_OK);
	assert_int_equal(s.abandoned, 4);

	/* Its task ends while it waits; then the thread goes too: once. */
	fx_call(e, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(kernel_cap_delete(fx_core(), task_sel), AMBER_OK);
	assert_int_equal(s.abandoned, 5);
	assert_int_equal(kernel_cap_delete(fx_core(), e->core_sel), AMBER_OK);
	assert_int_equal(s.abandoned, 5);
	assert_int_equal(s.calls, 7);
	assert_int_equal(x.c->wakes, 0);
}

static void test_caps_to_core(void **state)
{
	(void)state;
	struct svc s;
	struct cfx x = mkcore(&s, 1);
	amber_sel_t gs, is;
	struct kgate *g = fx_gate(5, NULL, &gs);
	struct kirq *irq = fx_irq(&is);
	fx_give(gs, x.a, 30, AMBER_RIGHTS_ALL);
	fx_give(is, x.a, 31, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	fx_give(is, x.a, 32, AMBER_RIGHT_INVOKE);
	/* Busy core slots must be skipped. */
	x.c->u->mr[0] = 0xaa;
	x.c->u->mr[1] = amber_map_item(30, AMBER_RIGHT_INVOKE);
	x.c->u->mr[2] = amber_map_item(31, AMBER_RIGHTS_ALL);
	fx_call(x.c, GATE, amber_tag(1, 1, 2), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_OK);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.last.nitems, 2);
	assert_int_equal(s.last.mr[0], 0xaa);
	struct ktask *core = fx_core();
	amber_sel_t a0 = s.last.items[0], a1 = s.last.items[1];
	assert_true(a0 >= AMBER_SEL_FIRST_FREE);
	assert_ptr_equal(cap_slot(core, a0)->obj, &g->obj);
	assert_ptr_equal(cap_slot(core, a1)->obj, &irq->obj);
	assert_int_equal(fx_rights(core, a0), AMBER_RIGHT_INVOKE);
	assert_int_equal(fx_rights(core, a1), AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_ptr_equal(cap_slot(core, a0)->parent, cap_slot(x.a, 30));
	assert_ptr_equal(cap_slot(core, a1)->parent, cap_slot(x.a, 31));
	assert_true(a0 != gs && a0 != is && a0 != x.gate_core);
	/* The sender keeps its own. */
	assert_int_equal(fx_rights(x.a, 30), AMBER_RIGHTS_ALL);

	/* A non-grantable item is refused before the handler runs. */
	x.c->u->mr[0] = amber_map_item(32, AMBER_RIGHTS_ALL);
	fx_call(x.c, GATE, amber_tag(1, 0, 1), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_ERR_RIGHTS);
	x.c->u->mr[0] = amber_map_item(33, AMBER_RIGHTS_ALL);
	fx_call(x.c, GATE, amber_tag(1, 0, 1), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_ERR_ITEM);
	assert_int_equal(s.calls, 1);
}

/* A core gate cannot be rebound to a thread, nor imported as bound. */
static void test_core_gate_stays_core(void **state)
{
	(void)state;
	struct svc s;
	struct cfx x = mkcore(&s, 1);
	fx_give(x.gate_core, x.a, 21, AMBER_RIGHTS_ALL);
	fx_give(x.c->core_sel, x.a, 22, AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(x.c, 21, AMBER_PROTO_GATE, 3, AMBER_GATE_BIND, 22, 5, 0), AMBER_ERR_INVALID_ARG);
	struct kernel_gate_state gst;
	kernel_gate_export(x.g, &gst);
	assert_int_equal(gst.bound_thread_id, 0);
	assert_int_equal(gst.label, 1);
	struct kernel_gate_state bad = { .label = 3, .bound_thread_id = kernel_object_id(x.c->k) };
	assert_int_equal(kernel_gate_import(x.g, &bad, x.c->k), AMBER_ERR_INVALID_ARG);
	assert_int_equal(x.g->label, 1);
	assert_null(x.g->bound);
	fx_call(x.c, GATE, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x.c), AMBER_OK);
	assert_int_equal(s.calls, 1);
}

/* A handler that ends the caller's component (think "exit"): the thread
 * is dead afterwards, whatever the handler returns. */
struct killer {
	amber_sel_t task_core_sel;
	enum kcore_result result;
};
static enum kcore_result kill_handler(void *ctx, struct kcore_request *req, int *error)
{
	struct killer *k = ctx;
	(void)req;
	*error = AMBER_OK;
	req->reply_tag = amber_tag(0, 0, 0);
	assert_int_equal(kernel_cap_delete(fx_core(), k->task_core_sel), AMBER_OK);
	return k->result;
}

static void test_handler_kills_caller_task(void **state)
{
	(void)state;
	const enum kcore_result results[2] = { KCORE_REPLY, KCORE_DEFER };
	for (unsigned i = 0; i < 2; i++) {
		struct killer k = { .result = results[i] };
		struct ktask *a = fx_task_sel("a", &k.task_core_sel);
		struct fx_thread *c = fx_thread(a, "c");
		amber_sel_t gs = fx_core_sel();
		assert_int_equal(kernel_create_core_gate(fx_core(), gs, 1, kill_handler, &k, NULL), AMBER_OK);
		fx_give(gs, a, GATE, AMBER_RIGHT_INVOKE);
		fx_call(c, GATE, amber_tag(1, 0, 0), FX_NEVER, 100);
		assert_null(kernel_thread_task(c->k));
		assert_int_equal(kernel_thread_state(c->k), KTHREAD_DEAD);
		assert_false(kernel_thread_awaits_core(c->k));
		assert_int_equal(kernel_core_reply(c->k, AMBER_OK, 0, NULL), AMBER_ERR_NO_PARTNER);
		assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
		fx_advance(1000);
		assert_int_equal(kernel_thread_state(c->k), KTHREAD_DEAD);
		fx_send(c, GATE, amber_tag(1, 0, 0), FX_NEVER); /* its doorbell is ignored */
		assert_false(fx_done(c));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_immediate_reply),
		FX_TEST(test_immediate_error_and_bad_reply),
		FX_TEST(test_deferred_reply),
		FX_TEST(test_deferred_after_timeout_or_cancel),
		FX_TEST(test_deferred_abandoned),
		FX_TEST(test_caps_to_core),
		FX_TEST(test_core_gate_stays_core),
		FX_TEST(test_handler_kills_caller_task),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
