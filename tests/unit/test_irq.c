/*
 * IRQ objects: trigger, pending count, closed receive, open wait, attach
 * and detach, and their interplay with cancel, timeouts and destruction.
 */
#include "tests/unit/kernel_fixture.h"

#define IRQ_SEL 40
#define ME AMBER_SEL_THREAD

struct irqfx {
	struct ktask *a;
	struct fx_thread *t;     /* attached to the IRQ */
	struct fx_thread *other; /* a second thread of the same task */
	struct kirq *irq;
	amber_sel_t irq_core;
};

static struct irqfx mkirq(uint64_t label, bool attach)
{
	struct irqfx x;
	x.a = fx_task("a");
	x.t = fx_thread(x.a, "t");
	x.other = fx_thread(x.a, "other");
	x.irq = fx_irq(&x.irq_core);
	fx_give(x.irq_core, x.a, IRQ_SEL, AMBER_RIGHTS_ALL);
	fx_give(x.t->core_sel, x.a, ME, AMBER_RIGHTS_ALL);
	fx_give(x.other->core_sel, x.a, 3, AMBER_RIGHTS_ALL);
	if (attach)
		assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, ME, label, 0), AMBER_OK);
	return x;
}

static int64_t trigger(struct fx_thread *by, amber_sel_t sel)
{
	return fx_invoke(by, sel, AMBER_PROTO_IRQ, 1, AMBER_IRQ_TRIGGER, 0, 0, 0);
}

/* Start a closed receive; returns whether it completed at once. */
static bool receive(struct fx_thread *t, amber_sel_t sel, uint64_t timeout)
{
	t->u->mr[0] = AMBER_IRQ_RECEIVE;
	fx_call(t, sel, amber_tag(AMBER_PROTO_IRQ, 1, 0), FX_NEVER, timeout);
	return fx_done(t);
}

static void test_pending_count(void **state)
{
	(void)state;
	struct irqfx x = mkirq(0x1111, true);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(x.irq->pending, 3);
	struct kernel_irq_state s;
	kernel_irq_export(x.irq, &s);
	assert_int_equal(s.pending, 3);
	assert_int_equal(s.label, 0x1111);
	assert_int_equal(s.attached_thread_id, kernel_object_id(x.t->k));
	assert_int_equal(x.t->wakes, 1); /* only the attach */

	for (unsigned i = 0; i < 3; i++) {
		x.t->u->label = 0;
		assert_true(receive(x.t, IRQ_SEL, FX_NEVER));
		assert_int_equal(fx_err(x.t), AMBER_OK);
		assert_int_equal(x.t->u->label, 0x1111);
		assert_int_equal(amber_tag_label(x.t->u->tag), AMBER_PROTO_IRQ);
		assert_int_equal(x.irq->pending, 2 - i);
	}
	/* Nothing pending: a poll receive times out. */
	assert_true(receive(x.t, IRQ_SEL, FX_POLL));
	assert_int_equal(fx_err(x.t), AMBER_ERR_TIMEOUT);
	assert_int_equal(kernel_thread_state(x.t->k), KTHREAD_READY);
}

static void test_closed_receive_blocks(void **state)
{
	(void)state;
	struct irqfx x = mkirq(0x2222, true);
	assert_false(receive(x.t, IRQ_SEL, FX_NEVER));
	assert_int_equal(kernel_thread_state(x.t->k), KTHREAD_IRQ_WAIT);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(fx_err(x.t), AMBER_OK);
	assert_int_equal(x.t->u->label, 0x2222);
	assert_int_equal(amber_tag_label(x.t->u->tag), AMBER_PROTO_IRQ);
	assert_int_equal(amber_tag_words(x.t->u->tag), 0);
	assert_int_equal(x.irq->pending, 0); /* delivered, not counted */
}

static void test_closed_receive_other_irq_counts(void **state)
{
	(void)state;
	struct irqfx x = mkirq(1, true);
	amber_sel_t is2;
	struct kirq *irq2 = fx_irq(&is2);
	fx_give(is2, x.a, 41, AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(x.t, 41, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, ME, 2, 0), AMBER_OK);
	assert_false(receive(x.t, IRQ_SEL, FX_NEVER));
	/* A trigger of another IRQ attached to the same thread does not end a closed receive. */
	assert_int_equal(trigger(x.other, 41), AMBER_OK);
	assert_false(fx_done(x.t));
	assert_int_equal(irq2->pending, 1);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(fx_err(x.t), AMBER_OK);
	assert_int_equal(x.t->u->label, 1);
	/* The other one is taken by the next open wait. */
	fx_wait(x.t, FX_NEVER);
	assert_int_equal(fx_err(x.t), AMBER_OK);
	assert_int_equal(x.t->u->label, 2);
	assert_int_equal(irq2->pending, 0);
}

static void test_open_wait(void **state)
{
	(void)state;
	struct irqfx x = mkirq(0xabc, true);
	fx_wait(x.t, FX_NEVER);
	assert_false(fx_done(x.t));
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(fx_err(x.t), AMBER_OK);
	assert_int_equal(x.t->u->label, 0xabc);
	assert_int_equal(amber_tag_label(x.t->u->tag), AMBER_PROTO_IRQ);
	assert_int_equal(x.irq->pending, 0);

	/* Pending at the time of the wait: taken at once, before queued senders. */
	struct fx_thread *c = fx_thread(x.a, "c");
	fx_gate_to(x.t, 0x9, x.a, 50, AMBER_RIGHTS_ALL);
	fx_send(c, 50, amber_tag(1, 0, 0), FX_NEVER);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	fx_wait(x.t, FX_NEVER);
	assert_int_equal(fx_err(x.t), AMBER_OK);
	assert_int_equal(x.t->u->label, 0xabc);
	assert_false(fx_done(c));
	fx_wait(x.t, FX_NEVER);
	assert_int_equal(x.t->u->label, 0x9);
	assert_int_equal(fx_err(c), AMBER_OK);
}

static void test_receive_checks(void **state)
{
	(void)state;
	struct irqfx x = mkirq(1, false);
	/* Not attached to anyone: nobody may receive. */
	assert_true(receive(x.t, IRQ_SEL, FX_NEVER));
	assert_int_equal(fx_err(x.t), AMBER_ERR_INVALID_ARG);
	/* Attached to another thread. */
	assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, 3, 1, 0), AMBER_OK);
	assert_ptr_equal(x.irq->attached, x.other->k);
	assert_true(receive(x.t, IRQ_SEL, FX_NEVER));
	assert_int_equal(fx_err(x.t), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_thread_state(x.t->k), KTHREAD_READY);

	/* Rights: receive and trigger need INVOKE, attach and detach CONTROL. */
	fx_give(x.irq_core, x.a, 41, AMBER_RIGHT_CONTROL | AMBER_RIGHT_GRANT);
	fx_give(x.irq_core, x.a, 42, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_int_equal(trigger(x.t, 41), AMBER_ERR_RIGHTS);
	assert_true(receive(x.other, 41, FX_NEVER));
	assert_int_equal(fx_err(x.other), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(x.t, 42, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, ME, 1, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(x.t, 42, AMBER_PROTO_IRQ, 1, AMBER_IRQ_DETACH, 0, 0, 0), AMBER_ERR_RIGHTS);
	assert_ptr_equal(x.irq->attached, x.other->k);
	assert_int_equal(x.irq->pending, 0);
	/* Attach needs a thread capability with CONTROL. */
	fx_give(x.t->core_sel, x.a, 43, AMBER_RIGHT_INVOKE);
	assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, 43, 1, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, 42, 1, 0),
			 AMBER_ERR_INVALID_ARG);
	assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, 99, 1, 0),
			 AMBER_ERR_INVALID_CAP);
	assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 1, 77, 0, 0, 0), AMBER_ERR_OPCODE);
	assert_ptr_equal(x.irq->attached, x.other->k);
	/* Re-attaching moves it. */
	assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, ME, 7, 0), AMBER_OK);
	assert_ptr_equal(x.irq->attached, x.t->k);
	assert_null(x.other->k->attached_irqs);
	assert_int_equal(trigger(x.t, 42), AMBER_OK);
	assert_true(receive(x.t, IRQ_SEL, FX_NEVER));
	assert_int_equal(x.t->u->label, 7);
}

static void test_detach_wakes_waiter(void **state)
{
	(void)state;
	struct irqfx x = mkirq(1, true);
	assert_false(receive(x.t, IRQ_SEL, 1000));
	assert_int_equal(fx_invoke(x.other, IRQ_SEL, AMBER_PROTO_IRQ, 1, AMBER_IRQ_DETACH, 0, 0, 0), AMBER_OK);
	assert_int_equal(fx_err(x.t), AMBER_ERR_CANCELED);
	assert_int_equal(kernel_thread_state(x.t->k), KTHREAD_READY);
	assert_null(x.irq->attached);
	assert_null(x.t->k->attached_irqs);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	/* A trigger with nobody attached is counted. */
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(x.irq->pending, 1);
	/* Detaching what is not attached is fine. */
	assert_int_equal(fx_invoke(x.other, IRQ_SEL, AMBER_PROTO_IRQ, 1, AMBER_IRQ_DETACH, 0, 0, 0), AMBER_OK);
	/* An open wait is not ended by a detach. */
	assert_int_equal(fx_invoke(x.t, IRQ_SEL, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, ME, 2, 0), AMBER_OK);
	fx_wait(x.t, FX_NEVER);
	assert_int_equal(fx_err(x.t), AMBER_OK); /* the pending one */
	fx_wait(x.t, FX_NEVER);
	assert_int_equal(fx_invoke(x.other, IRQ_SEL, AMBER_PROTO_IRQ, 1, AMBER_IRQ_DETACH, 0, 0, 0), AMBER_OK);
	assert_false(fx_done(x.t));
	kernel_thread_cancel(x.t->k);
	assert_int_equal(fx_err(x.t), AMBER_ERR_CANCELED);
}

static void test_irq_wait_timeout_and_cancel(void **state)
{
	(void)state;
	struct irqfx x = mkirq(1, true);
	assert_false(receive(x.t, IRQ_SEL, 200));
	fx_advance(199);
	assert_false(fx_done(x.t));
	fx_advance(1);
	assert_int_equal(fx_err(x.t), AMBER_ERR_TIMEOUT);
	/* A trigger after the timeout is pending, not lost. */
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(x.irq->pending, 1);
	assert_true(receive(x.t, IRQ_SEL, FX_NEVER));
	assert_int_equal(fx_err(x.t), AMBER_OK);

	assert_false(receive(x.t, IRQ_SEL, FX_NEVER));
	kernel_thread_cancel(x.t->k);
	assert_int_equal(fx_err(x.t), AMBER_ERR_CANCELED);
	assert_null(x.t->k->wait_irq);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(x.irq->pending, 1);
	/* Infinite: never times out. */
	assert_true(receive(x.t, IRQ_SEL, FX_NEVER));
	assert_false(receive(x.t, IRQ_SEL, FX_NEVER));
	fx_advance(1ull << 40);
	assert_false(fx_done(x.t));
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(fx_err(x.t), AMBER_OK);
}

static void test_thread_destroy_detaches(void **state)
{
	(void)state;
	struct irqfx x = mkirq(5, true);
	assert_false(receive(x.t, IRQ_SEL, 500));
	assert_int_equal(kernel_cap_delete(fx_core(), x.t->core_sel), AMBER_OK);
	assert_true(x.t->destroyed);
	assert_null(x.irq->attached);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
	struct kernel_irq_state s;
	kernel_irq_export(x.irq, &s);
	assert_int_equal(s.attached_thread_id, 0);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(x.irq->pending, 1);
}

static void test_irq_destroy_wakes_waiter(void **state)
{
	(void)state;
	struct irqfx x = mkirq(5, true);
	assert_false(receive(x.t, IRQ_SEL, FX_NEVER));
	uint64_t id = kernel_object_id(x.irq);
	assert_int_equal(kernel_cap_delete(fx_core(), x.irq_core), AMBER_OK);
	assert_false(fx_alive(id));
	assert_int_equal(fx_err(x.t), AMBER_ERR_CANCELED);
	assert_null(x.t->k->attached_irqs);
	assert_int_equal(fx_kind(x.a, IRQ_SEL), AMBER_KIND_NONE);
}

/* Several IRQs attached to one thread: detaching one keeps the others. */
static void test_multiple_attached(void **state)
{
	(void)state;
	struct irqfx x = mkirq(1, true);
	amber_sel_t s2, s3;
	struct kirq *i2 = fx_irq(&s2), *i3 = fx_irq(&s3);
	fx_give(s2, x.a, 41, AMBER_RIGHTS_ALL);
	fx_give(s3, x.a, 42, AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(x.t, 41, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, ME, 2, 0), AMBER_OK);
	assert_int_equal(fx_invoke(x.t, 42, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, ME, 3, 0), AMBER_OK);
	assert_int_equal(fx_invoke(x.t, 41, AMBER_PROTO_IRQ, 1, AMBER_IRQ_DETACH, 0, 0, 0), AMBER_OK);
	assert_null(i2->attached);
	assert_ptr_equal(i3->attached, x.t->k);
	assert_ptr_equal(x.irq->attached, x.t->k);
	assert_int_equal(trigger(x.other, 42), AMBER_OK);
	assert_int_equal(trigger(x.other, IRQ_SEL), AMBER_OK);
	assert_int_equal(trigger(x.other, 41), AMBER_OK);
	unsigned seen = 0;
	for (unsigned i = 0; i < 2; i++) {
		fx_wait(x.t, FX_POLL);
		assert_int_equal(fx_err(x.t), AMBER_OK);
		seen |= 1u << x.t->u->label;
	}
	assert_int_equal(seen, (1u << 1) | (1u << 3));
	fx_wait(x.t, FX_POLL);
	assert_int_equal(fx_err(x.t), AMBER_ERR_TIMEOUT);
	assert_int_equal(i2->pending, 1);
}

/* Core attaches and triggers an IRQ it keeps (a signal source's
 * semaphore); the component holds it with INVOKE only. */
static void test_core_attach_and_trigger(void **state)
{
	(void)state;
	struct irqfx x = mkirq(0, false);
	amber_sel_t weak = 43;
	fx_give(x.irq_core, x.a, weak, AMBER_RIGHT_INVOKE);
	assert_int_equal(kernel_irq_attach(x.irq, x.t->k, 0x5151), AMBER_OK);
	assert_ptr_equal(x.irq->attached, x.t->k);
	assert_int_equal(fx_invoke(x.other, weak, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, 3, 1, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(x.t, weak, AMBER_PROTO_IRQ, 1, AMBER_IRQ_DETACH, 0, 0, 0), AMBER_ERR_RIGHTS);
	assert_false(receive(x.t, weak, FX_NEVER));
	kernel_irq_trigger(x.irq);
	assert_int_equal(fx_err(x.t), AMBER_OK);
	assert_int_equal(x.t->u->label, 0x5151);
	kernel_irq_trigger(x.irq);
	assert_int_equal(x.irq->pending, 1);
	assert_true(receive(x.t, weak, FX_POLL));
	assert_int_equal(fx_err(x.t), AMBER_OK);
	/* A thread whose task is gone cannot be attached. */
	assert_int_equal(kernel_irq_attach(NULL, x.t->k, 1), AMBER_ERR_INVALID_ARG);
	x.other->k->state = KTHREAD_DEAD;
	assert_int_equal(kernel_irq_attach(x.irq, x.other->k, 1), AMBER_ERR_INVALID_ARG);
	x.other->k->state = KTHREAD_READY;
	assert_ptr_equal(x.irq->attached, x.t->k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_pending_count),
		FX_TEST(test_closed_receive_blocks),
		FX_TEST(test_closed_receive_other_irq_counts),
		FX_TEST(test_open_wait),
		FX_TEST(test_receive_checks),
		FX_TEST(test_detach_wakes_waiter),
		FX_TEST(test_irq_wait_timeout_and_cancel),
		FX_TEST(test_thread_destroy_detaches),
		FX_TEST(test_irq_destroy_wakes_waiter),
		FX_TEST(test_multiple_attached),
		FX_TEST(test_core_attach_and_trigger),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
