/*
 * Export and import of kernel state for checkpoint/restore.
 *
 * Each round-trip test runs a scenario twice: once straight through, once
 * with a checkpoint in the middle (export everything, destroy every object,
 * build fresh objects, install the capabilities into the same slots, import
 * gates, IRQs and thread IPC state, restore the UTCB memory) and at a later
 * clock. The continuation then records what every thread observes; both
 * runs must observe exactly the same.
 */
#include "tests/unit/kernel_fixture.h"

/* ---- a small world: client task A (c1, c2), server task B (s, w) ---- */

enum role { R_TA, R_TB, R_C1, R_C2, R_S, R_W, R_G1, R_G2, R_G3, R_IRQ, R_IRQ2, R_COUNT };
enum { NTHREADS = 4 };

struct world {
	struct ktask *ta, *tb;
	struct fx_thread *c1, *c2, *s, *w;
	struct kgate *g1, *g2, *g3;
	struct kirq *irq, *irq2;
};

/* Client A:  20 = g1 (to s, 0x1111) INVOKE|GRANT, 21 = g2 (to s, 0x2222) INVOKE,
 *            30 = g3 (unbound, 0x3333) all, 31 = derived from 30, INVOKE|GRANT,
 *            41 = irq INVOKE, 43 = irq2 INVOKE.
 * Server B:  2 = s, 3 = w, 40 = irq (attached to w, 0x4444), 42 = irq2 (attached to s, 0x5555). */
static void build(struct world *x, bool original)
{
	amber_sel_t s1, s2, s3, si, si2;
	x->ta = fx_task("client");
	x->tb = fx_task("server");
	x->c1 = fx_thread(x->ta, "c1");
	x->c2 = fx_thread(x->ta, "c2");
	x->s = fx_thread(x->tb, "s");
	x->w = fx_thread(x->tb, "w");
	/* Restored gates start unbound and unlabelled: the import sets both. */
	x->g1 = fx_gate(original ? 0x1111 : 0, original ? x->s : NULL, &s1);
	x->g2 = fx_gate(original ? 0x2222 : 0, original ? x->s : NULL, &s2);
	x->g3 = fx_gate(original ? 0x3333 : 0, NULL, &s3);
	x->irq = fx_irq(&si);
	x->irq2 = fx_irq(&si2);
	if (!original)
		return;
	fx_give(s1, x->ta, 20, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	fx_give(s2, x->ta, 21, AMBER_RIGHT_INVOKE);
	fx_give(s3, x->ta, 30, AMBER_RIGHTS_ALL);
	assert_int_equal(kernel_cap_map(x->ta, 30, x->ta, 31, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT), AMBER_OK);
	fx_give(si, x->ta, 41, AMBER_RIGHT_INVOKE);
	fx_give(si2, x->ta, 43, AMBER_RIGHT_INVOKE);
	fx_give(x->s->core_sel, x->tb, 2, AMBER_RIGHTS_ALL);
	fx_give(x->w->core_sel, x->tb, 3, AMBER_RIGHTS_ALL);
	fx_give(si, x->tb, 40, AMBER_RIGHTS_ALL);
	fx_give(si2, x->tb, 42, AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(x->w, 40, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, 3, 0x4444, 0), AMBER_OK);
	assert_int_equal(fx_invoke(x->s, 42, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, 2, 0x5555, 0), AMBER_OK);
}

static void world_objs(const struct world *x, struct kobj *o[R_COUNT])
{
	o[R_TA] = &x->ta->obj;
	o[R_TB] = &x->tb->obj;
	o[R_C1] = &x->c1->k->obj;
	o[R_C2] = &x->c2->k->obj;
	o[R_S] = &x->s->k->obj;
	o[R_W] = &x->w->k->obj;
	o[R_G1] = &x->g1->obj;
	o[R_G2] = &x->g2->obj;
	o[R_G3] = &x->g3->obj;
	o[R_IRQ] = &x->irq->obj;
	o[R_IRQ2] = &x->irq2->obj;
}

static struct fx_thread *world_thread(const struct world *x, unsigned i)
{
	struct fx_thread *t[NTHREADS] = { x->c1, x->c2, x->s, x->w };
	return t[i];
}

/* ---- checkpoint and restore ---- */

struct caplist {
	unsigned n;
	struct kernel_cap_info info[32];
};
static void collect(void *ctx, const struct kernel_cap_info *info)
{
	struct caplist *l = ctx;
	assert_true(l->n < 32);
	l->info[l->n++] = *info;
}

struct snap {
	uint64_t ids[R_COUNT];
	struct caplist caps[2]; /* A, B */
	struct kernel_gate_state gates[3];
	struct kernel_irq_state irqs[2];
	struct kernel_thread_ipc_state threads[NTHREADS];
	unsigned char utcb[NTHREADS][AMBER_UTCB_SIZE];
};
static struct snap snap;

static void checkpoint(const struct world *x, struct snap *sn)
{
	struct kobj *o[R_COUNT];
	world_objs(x, o);
	memset(sn, 0, sizeof(*sn));
	for (unsigned i = 0; i < R_COUNT; i++)
		sn->ids[i] = o[i]->id;
	kernel_space_enumerate(x->ta, collect, &sn->caps[0]);
	kernel_space_enumerate(x->tb, collect, &sn->caps[1]);
	kernel_gate_export(x->g1, &sn->gates[0]);
	kernel_gate_export(x->g2, &sn->gates[1]);
	kernel_gate_export(x->g3, &sn->gates[2]);
	kernel_irq_export(x->irq, &sn->irqs[0]);
	kernel_irq_export(x->irq2, &sn->irqs[1]);
	for (unsigned i = 0; i < NTHREADS; i++) {
		struct fx_thread *t = world_thread(x, i);
		kernel_thread_ipc_export(t->k, &sn->threads[i]);
		memcpy(sn->utcb[i], t->u, AMBER_UTCB_SIZE);
	}
}

/* Destroy every object: the old world is gone for good. */
static void destroy_all(const struct snap *sn)
{
	cap_space_clear(fx_core());
	for (unsigned i = 0; i < R_COUNT; i++)
		assert_false(fx_alive(sn->ids[i]));
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);
}

static struct kobj *restored(const struct snap *sn, struct kobj *const nobj[R_COUNT], uint64_t id)
{
	if (id == 0)
		return NULL;
	if (id == kernel_object_id(fx_core()))
		return &fx_core()->obj;
	for (unsigned i = 0; i < R_COUNT; i++)
		if (sn->ids[i] == id)
			return nobj[i];
	fail_msg("unknown object id %llu", (unsigned long long)id);
	return NULL;
}

static amber_sel_t core_root_slot(const struct kobj *o)
{
	for (amber_sel_t s = 1; s < AMBER_CAP_SLOTS; s++) {
		const struct kcap *k = cap_lookup(fx_core(), s);
		if (k && k->obj == o && !k->parent)
			return s;
	}
	fail_msg("no root capability in core");
	return 0;
}

static void install_caps(struct ktask *t, const struct caplist *l, const struct snap *sn,
			 struct kobj *const nobj[R_COUNT])
{
	bool done[32] = { false };
	unsigned left = l->n;
	while (left) {
		unsigned before = left;
		for (unsigned i = 0; i < l->n; i++) {
			const struct kernel_cap_info *c = &l->info[i];
			if (done[i])
				continue;
			struct kobj *obj = restored(sn, nobj, c->object_id);
			assert_int_equal(kernel_object_kind(obj), c->kind);
			struct ktask *pt = (struct ktask *)restored(sn, nobj, c->parent_task_id);
			amber_sel_t ps = c->parent_sel;
			if (pt == fx_core())
				ps = core_root_slot(obj);
			else if (pt && !kernel_cap_object(pt, ps, NULL, NULL))
				continue; /* parent not installed yet */
			assert_int_equal(kernel_cap_install(t, c->sel, obj, c->rights, pt, ps), AMBER_OK);
			done[i] = true;
			left--;
		}
		assert_true(left < before);
	}
}

/* Build fresh objects and import the snapshot, threads in `order`. */
static void restore(const struct snap *sn, struct world *x, const unsigned order[NTHREADS])
{
	build(x, false);
	struct kobj *n[R_COUNT];
	world_objs(x, n);
	install_caps(x->ta, &sn->caps[0], sn, n);
	install_caps(x->tb, &sn->caps[1], sn, n);

	struct kgate *gates[3] = { x->g1, x->g2, x->g3 };
	for (unsigned i = 0; i < 3; i++) {
		struct kthread *b = (struct kthread *)restored(sn, n, sn->gates[i].bound_thread_id);
		assert_int_equal(kernel_gate_import(gates[i], &sn->gates[i], b), AMBER_OK);
	}
	struct kirq *irqs[2] = { x->irq, x->irq2 };
	for (unsigned i = 0; i < 2; i++) {
		struct kthread *a = (struct kthread *)restored(sn, n, sn->irqs[i].attached_thread_id);
		assert_int_equal(kernel_irq_import(irqs[i], &sn->irqs[i], a), AMBER_OK);
	}
	/* The threads' memory (with their UTCBs) comes back as it was. */
	for (unsigned i = 0; i < NTHREADS; i++) {
		struct fx_thread *t = world_thread(x, i);
		struct amber_utcb *self = t->u->self;
		memcpy(t->u, sn->utcb[i], AMBER_UTCB_SIZE);
		t->u->self = self;
	}
	for (unsigned k = 0; k < NTHREADS; k++) {
		unsigned i = order[k];
		const struct kernel_thread_ipc_state *s = &sn->threads[i];
		struct kernel_thread_ipc_refs refs = {
			.send_gate = (struct kgate *)restored(sn, n, s->send_gate_id),
			.partner = (struct kthread *)restored(sn, n, s->partner_id),
			.reply_to = (struct kthread *)restored(sn, n, s->reply_to_id),
			.wait_irq = (struct kirq *)restored(sn, n, s->wait_irq_id),
		};
		assert_int_equal(kernel_thread_ipc_import(world_thread(x, i)->k, s, &refs), AMBER_OK);
		assert_int_equal(kernel_thread_state(world_thread(x, i)->k), s->state);
	}
}

/* ---- observations ---- */

struct obs {
	unsigned n;
	int64_t v[512];
};
static void ob(struct obs *o, int64_t v)
{
	assert_true(o->n < 512);
	o->v[o->n++] = v;
}
static void ob_thread(struct obs *o, const struct fx_thread *t)
{
	ob(o, 0x7777); /* separator */
	ob(o, kernel_thread_state(t->k));
	ob(o, fx_done(t));
	if (!fx_done(t))
		return;
	ob(o, t->u->error);
	ob(o, (int64_t)t->u->tag);
	ob(o, (int64_t)t->u->label);
	unsigned n = amber_tag_words(t->u->tag) + amber_tag_items(t->u->tag);
	for (unsigned i = 0; i < n; i++)
		ob(o, (int64_t)t->u->mr[i]);
}
static int64_t role_of(const struct world *x, uint64_t id)
{
	struct kobj *o[R_COUNT];
	world_objs(x, o);
	if (id == 0)
		return -1;
	if (id == kernel_object_id(fx_core()))
		return 100;
	for (unsigned i = 0; i < R_COUNT; i++)
		if (o[i]->id == id)
			return i;
	return -2;
}
/* A task's capabilities, with ids replaced by roles. */
static void ob_caps(struct obs *o, const struct world *x, struct ktask *t)
{
	struct caplist l = { 0 };
	kernel_space_enumerate(t, collect, &l);
	ob(o, 0x5555);
	for (unsigned i = 0; i < l.n; i++) {
		const struct kernel_cap_info *c = &l.info[i];
		int64_t pr = role_of(x, c->parent_task_id);
		ob(o, c->sel);
		ob(o, c->kind);
		ob(o, role_of(x, c->object_id));
		ob(o, (int64_t)c->badge);
		ob(o, c->rights);
		ob(o, pr);
		ob(o, pr == 100 ? 0 : c->parent_sel);
	}
}
static void ob_all(struct obs *o, const struct world *x)
{
	for (unsigned i = 0; i < NTHREADS; i++)
		ob_thread(o, world_thread(x, i));
	ob_caps(o, x, x->ta);
	ob_caps(o, x, x->tb);
	ob(o, x->irq->pending);
	ob(o, x->irq2->pending);
	ob(o, role_of(x, x->g1->bound ? x->g1->bound->obj.id : 0));
	ob(o, (int64_t)x->g1->label);
}

/* ---- round trip driver ---- */

typedef void (*scenario_fn)(struct world *x);
typedef void (*continue_fn)(struct world *x, struct obs *o);

static const unsigned ORDER_FWD[NTHREADS] = { 0, 1, 2, 3 };
static const unsigned ORDER_REV[NTHREADS] = { 3, 2, 1, 0 };

static void run(scenario_fn setup, continue_fn cont, const unsigned *order, struct obs *o)
{
	struct world x, y, *cur = &x;
	fx_clock = 5000000;
	build(&x, true);
	setup(&x);
	if (order) {
		checkpoint(&x, &snap);
		destroy_all(&snap);
		fx_clock += 123456789; /* restored much later: only remaining time counts */
		restore(&snap, &y, order);
		cur = &y;
	}
	ob_all(o, cur);
	cont(cur, o);
	ob_all(o, cur);
	cap_space_clear(fx_core());
}

static void round_trip(scenario_fn setup, continue_fn cont, const unsigned *order)
{
	static struct obs straight, restored_run;
	memset(&straight, 0, sizeof(straight));
	memset(&restored_run, 0, sizeof(restored_run));
	run(setup, cont, NULL, &straight);
	run(setup, cont, order, &restored_run);
	assert_true(straight.n > 20);
	assert_int_equal(straight.n, restored_run.n);
	for (unsigned i = 0; i < straight.n; i++)
		if (straight.v[i] != restored_run.v[i])
			fail_msg("observation %u differs: %lld straight, %lld restored", i, (long long)straight.v[i],
				 (long long)restored_run.v[i]);
}

/* ---- scenario A: queued call (with a capability) and queued send ---- */

static void setup_queued(struct world *x)
{
	/* s is busy: both clients queue. */
	x->c1->u->br[0] = amber_rcv_window(200, 1);
	x->c1->u->mr[0] = 0xc1;
	x->c1->u->mr[1] = 0xc2;
	x->c1->u->mr[2] = amber_map_item(30, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	fx_call(x->c1, 20, amber_tag(0x600d, 2, 1), FX_NEVER, 5000);
	assert_int_equal(kernel_thread_state(x->c1->k), KTHREAD_SEND);
	x->c1->u->mr[0] = 0xbad; /* in kernel memory already */
	fx_advance(100);
	x->c2->u->mr[0] = 0xd1;
	fx_send(x->c2, 21, amber_tag(0x700d, 1, 0), 1000);
	assert_int_equal(kernel_thread_state(x->c2->k), KTHREAD_SEND);
	fx_advance(400); /* c2 has 600us left */
}

static void cont_queued(struct world *x, struct obs *o)
{
	fx_advance(599);
	assert_false(fx_done(x->c2));
	x->s->u->br[0] = amber_rcv_window(100, 2);
	fx_wait(x->s, FX_NEVER);
	assert_int_equal(fx_err(x->s), AMBER_OK);
	assert_int_equal(x->s->u->label, 0x1111);
	assert_int_equal(x->s->u->tag, amber_tag(0x600d, 2, 1));
	assert_int_equal(x->s->u->mr[0], 0xc1);
	assert_int_equal(x->s->u->mr[2], amber_map_item(100, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT));
	assert_ptr_equal(cap_slot(x->tb, 100)->obj, &x->g3->obj);
	assert_ptr_equal(cap_slot(x->tb, 100)->parent, cap_slot(x->ta, 30));
	assert_int_equal(kernel_thread_state(x->c1->k), KTHREAD_REPLY_WAIT);
	ob_thread(o, x->s);
	ob_caps(o, x, x->tb);

	/* Reply with a capability into c1's window of the call, and take c2's message. */
	x->s->u->mr[0] = 0x5e;
	x->s->u->mr[1] = amber_map_item(100, AMBER_RIGHT_INVOKE);
	fx_reply_wait(x->s, amber_tag(0, 1, 1), FX_NEVER);
	assert_int_equal(fx_err(x->c1), AMBER_OK);
	assert_int_equal(x->c1->u->mr[1], amber_map_item(200, AMBER_RIGHT_INVOKE));
	assert_int_equal(fx_err(x->s), AMBER_OK);
	assert_int_equal(x->s->u->label, 0x2222);
	assert_int_equal(x->s->u->mr[0], 0xd1);
	assert_int_equal(fx_err(x->c2), AMBER_OK);
	ob_all(o, x);
	fx_advance(100000);
}

static void cont_queued_timeouts(struct world *x, struct obs *o)
{
	(void)o;
	fx_advance(599);
	assert_false(fx_done(x->c2));
	fx_advance(1);
	assert_int_equal(fx_err(x->c2), AMBER_ERR_TIMEOUT);
	assert_false(fx_done(x->c1)); /* infinite send timeout */
	fx_advance(1000000);
	assert_false(fx_done(x->c1));
	/* The reply timeout (5000) starts at delivery. */
	x->s->u->br[0] = amber_rcv_window(100, 1);
	fx_wait(x->s, FX_NEVER);
	assert_int_equal(x->s->u->label, 0x1111);
	fx_advance(4999);
	assert_false(fx_done(x->c1));
	fx_advance(1);
	assert_int_equal(fx_err(x->c1), AMBER_ERR_TIMEOUT);
	fx_reply(x->s, 0);
	assert_int_equal(fx_err(x->s), AMBER_ERR_NO_PARTNER);
}

static void test_export_queued_state(void **state)
{
	(void)state;
	struct world x;
	fx_clock = 5000000;
	build(&x, true);
	setup_queued(&x);
	struct kernel_thread_ipc_state s;
	kernel_thread_ipc_export(x.c1->k, &s);
	assert_int_equal(s.state, KTHREAD_SEND);
	assert_true(s.send_is_call);
	assert_int_equal(s.op_seq, x.c1->u->entry_seq);
	assert_int_equal(s.msg_tag, amber_tag(0x600d, 2, 1));
	assert_int_equal(s.msg_mr[0], 0xc1);
	assert_int_equal(s.msg_mr[2], amber_map_item(30, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT));
	assert_int_equal(s.rcv_window, amber_rcv_window(200, 1));
	assert_int_equal(s.rcv_timeout_us, 5000);
	assert_int_equal(s.remaining_us, KERNEL_NO_DEADLINE);
	assert_int_equal(s.send_gate_id, kernel_object_id(x.g1));
	assert_int_equal(s.partner_id, kernel_object_id(x.s->k));
	assert_int_equal(s.reply_to_id, 0);
	assert_int_equal(s.queue_pos, 0);
	kernel_thread_ipc_export(x.c2->k, &s);
	assert_int_equal(s.state, KTHREAD_SEND);
	assert_int_equal(s.queue_pos, 1);
	assert_false(s.send_is_call);
	assert_int_equal(s.remaining_us, 600);
	assert_int_equal(s.send_gate_id, kernel_object_id(x.g2));
	kernel_thread_ipc_export(x.s->k, &s);
	assert_int_equal(s.state, KTHREAD_READY);
	assert_int_equal(s.remaining_us, KERNEL_NO_DEADLINE);
	struct kernel_gate_state g;
	kernel_gate_export(x.g2, &g);
	assert_int_equal(g.label, 0x2222);
	assert_int_equal(g.bound_thread_id, kernel_object_id(x.s->k));
	struct kernel_irq_state i;
	kernel_irq_export(x.irq, &i);
	assert_int_equal(i.attached_thread_id, kernel_object_id(x.w->k));
	assert_int_equal(i.label, 0x4444);
	assert_int_equal(i.pending, 0);
}

static void test_round_trip_queued(void **state)
{
	(void)state;
	round_trip(setup_queued, cont_queued, ORDER_FWD);
}

/* Senders imported in reverse order still queue in their exported order. */
static void test_round_trip_queued_reverse(void **state)
{
	(void)state;
	round_trip(setup_queued, cont_queued, ORDER_REV);
}

static void test_round_trip_queued_timeouts(void **state)
{
	(void)state;
	round_trip(setup_queued, cont_queued_timeouts, ORDER_FWD);
}

/* ---- scenario B: a call awaiting its reply, a closed IRQ receive, pending IRQs ---- */

static void setup_reply_wait(struct world *x)
{
	fx_wait(x->s, FX_NEVER);
	x->c1->u->mr[0] = 0xabc;
	x->c1->u->br[0] = amber_rcv_window(300, 1);
	fx_call(x->c1, 20, amber_tag(0x11, 1, 0), FX_NEVER, 3000);
	assert_int_equal(fx_err(x->s), AMBER_OK);
	assert_int_equal(kernel_thread_state(x->c1->k), KTHREAD_REPLY_WAIT);
	/* w waits for its IRQ. */
	x->w->u->mr[0] = AMBER_IRQ_RECEIVE;
	fx_call(x->w, 40, amber_tag(AMBER_PROTO_IRQ, 1, 0), FX_NEVER, 2000);
	assert_int_equal(kernel_thread_state(x->w->k), KTHREAD_IRQ_WAIT);
	/* irq2 is attached to s, which is busy: triggers are counted. */
	assert_int_equal(fx_invoke(x->c2, 43, AMBER_PROTO_IRQ, 1, AMBER_IRQ_TRIGGER, 0, 0, 0), AMBER_OK);
	assert_int_equal(fx_invoke(x->c2, 43, AMBER_PROTO_IRQ, 1, AMBER_IRQ_TRIGGER, 0, 0, 0), AMBER_OK);
	assert_int_equal(x->irq2->pending, 2);
	fx_advance(500);
}

static void cont_reply_wait(struct world *x, struct obs *o)
{
	x->s->u->mr[0] = 0xdef;
	x->s->u->mr[1] = amber_map_item(2, AMBER_RIGHT_INVOKE); /* pass s's own thread cap */
	fx_reply(x->s, amber_tag(0x12, 1, 1));
	assert_int_equal(fx_err(x->s), AMBER_OK);
	assert_int_equal(fx_err(x->c1), AMBER_OK);
	assert_int_equal(x->c1->u->mr[0], 0xdef);
	assert_int_equal(x->c1->u->mr[1], amber_map_item(300, AMBER_RIGHT_INVOKE));
	assert_ptr_equal(cap_slot(x->ta, 300)->obj, &x->s->k->obj);
	ob_all(o, x);

	assert_int_equal(fx_invoke(x->c2, 41, AMBER_PROTO_IRQ, 1, AMBER_IRQ_TRIGGER, 0, 0, 0), AMBER_OK);
	assert_int_equal(fx_err(x->w), AMBER_OK);
	assert_int_equal(x->w->u->label, 0x4444);
	assert_int_equal(x->irq->pending, 0);
	ob_thread(o, x->w);

	for (unsigned i = 0; i < 2; i++) {
		fx_wait(x->s, FX_NEVER);
		assert_int_equal(fx_err(x->s), AMBER_OK);
		assert_int_equal(x->s->u->label, 0x5555);
		ob_thread(o, x->s);
	}
	fx_wait(x->s, FX_POLL);
	assert_int_equal(fx_err(x->s), AMBER_ERR_TIMEOUT);
}

static void cont_reply_wait_timeouts(struct world *x, struct obs *o)
{
	(void)o;
	fx_advance(1499);
	assert_false(fx_done(x->w));
	fx_advance(1);
	assert_int_equal(fx_err(x->w), AMBER_ERR_TIMEOUT);
	assert_false(fx_done(x->c1));
	fx_advance(999);
	assert_false(fx_done(x->c1));
	fx_advance(1);
	assert_int_equal(fx_err(x->c1), AMBER_ERR_TIMEOUT);
	fx_reply(x->s, amber_tag(0, 0, 0));
	assert_int_equal(fx_err(x->s), AMBER_ERR_NO_PARTNER);
	/* The IRQ wait is over: the next trigger is counted. */
	assert_int_equal(fx_invoke(x->c2, 41, AMBER_PROTO_IRQ, 1, AMBER_IRQ_TRIGGER, 0, 0, 0), AMBER_OK);
	assert_int_equal(x->irq->pending, 1);
}

static void test_round_trip_reply_wait(void **state)
{
	(void)state;
	round_trip(setup_reply_wait, cont_reply_wait, ORDER_FWD);
	round_trip(setup_reply_wait, cont_reply_wait, ORDER_REV); /* server before its caller */
}

static void test_round_trip_reply_wait_timeouts(void **state)
{
	(void)state;
	round_trip(setup_reply_wait, cont_reply_wait_timeouts, ORDER_FWD);
	round_trip(setup_reply_wait, cont_reply_wait_timeouts, ORDER_REV);
}

/* ---- scenario C: an open wait with a timeout, by a server that owes a reply ---- */

static void setup_recv(struct world *x)
{
	fx_wait(x->s, FX_NEVER);
	fx_call(x->c1, 20, amber_tag(0x21, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(x->s), AMBER_OK);
	x->s->u->br[0] = amber_rcv_window(100, 1);
	fx_wait(x->s, 1000);
	assert_int_equal(kernel_thread_state(x->s->k), KTHREAD_RECV);
	fx_advance(400);
}

static void cont_recv(struct world *x, struct obs *o)
{
	fx_advance(599);
	assert_false(fx_done(x->s));
	x->c2->u->mr[0] = 0x99;
	x->c2->u->mr[1] = amber_map_item(31, AMBER_RIGHTS_ALL);
	fx_send(x->c2, 21, amber_tag(0x22, 1, 1), FX_POLL);
	assert_int_equal(fx_err(x->c2), AMBER_OK);
	assert_int_equal(fx_err(x->s), AMBER_OK);
	assert_int_equal(x->s->u->label, 0x2222);
	assert_int_equal(x->s->u->mr[1], amber_map_item(100, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT));
	assert_ptr_equal(cap_slot(x->tb, 100)->parent, cap_slot(x->ta, 31));
	ob_all(o, x);
	/* The reply owed to c1 survived. */
	fx_reply(x->s, amber_tag(0x23, 0, 0));
	assert_int_equal(fx_err(x->s), AMBER_OK);
	assert_int_equal(fx_err(x->c1), AMBER_OK);
	assert_int_equal(amber_tag_label(x->c1->u->tag), 0x23);
}

static void cont_recv_timeout(struct world *x, struct obs *o)
{
	(void)o;
	fx_advance(599);
	assert_false(fx_done(x->s));
	fx_advance(1);
	assert_int_equal(fx_err(x->s), AMBER_ERR_TIMEOUT);
	fx_send(x->c2, 21, amber_tag(0x22, 0, 0), FX_POLL);
	assert_int_equal(fx_err(x->c2), AMBER_ERR_TIMEOUT);
	fx_reply(x->s, amber_tag(0x23, 0, 0));
	assert_int_equal(fx_err(x->c1), AMBER_OK);
}

static void test_round_trip_recv(void **state)
{
	(void)state;
	round_trip(setup_recv, cont_recv, ORDER_FWD);
	round_trip(setup_recv, cont_recv, ORDER_REV);
	round_trip(setup_recv, cont_recv_timeout, ORDER_FWD);
}

/* ---- inconsistent imports are refused without changes ---- */

static void expect_unchanged(struct fx_thread *t, const struct kernel_thread_ipc_state *before)
{
	struct kernel_thread_ipc_state now;
	kernel_thread_ipc_export(t->k, &now);
	assert_memory_equal(&now, before, sizeof(now));
}

static enum kcore_result never_called(void *ctx, struct kcore_request *req, int *error)
{
	(void)ctx;
	(void)req;
	(void)error;
	fail_msg("core handler called");
	return KCORE_REPLY;
}

static void test_import_refuses_inconsistent(void **state)
{
	(void)state;
	struct world x;
	fx_clock = 5000000;
	build(&x, true);
	struct fx_thread *t = fx_thread(x.ta, "fresh");
	struct kernel_thread_ipc_state before, s;
	kernel_thread_ipc_export(t->k, &before);
	struct kernel_thread_ipc_refs none = { 0 };

	/* A bad state. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_DEAD;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &none), AMBER_ERR_INVALID_ARG);
	s.state = (enum kthread_state)99;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &none), AMBER_ERR_INVALID_ARG);
	expect_unchanged(t, &before);

	/* reply_to id and reference disagree. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_RECV;
	s.remaining_us = 100;
	s.reply_to_id = 1234;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &none), AMBER_ERR_INVALID_ARG);
	s.reply_to_id = 0;
	struct kernel_thread_ipc_refs r = { .reply_to = x.c1->k };
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	expect_unchanged(t, &before);
	assert_int_equal(kernel_next_deadline(), KERNEL_NO_DEADLINE);

	/* SEND: no gate, an unbound gate, a core gate, a malformed message. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_SEND;
	s.msg_tag = amber_tag(1, 1, 0);
	s.remaining_us = KERNEL_NO_DEADLINE;
	s.send_gate_id = 77;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &none), AMBER_ERR_INVALID_ARG);
	r = (struct kernel_thread_ipc_refs){ .send_gate = x.g3 };
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	struct kgate *cg;
	assert_int_equal(kernel_create_core_gate(fx_core(), fx_core_sel(), 1, never_called, NULL, &cg), AMBER_OK);
	r.send_gate = cg;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	r.send_gate = x.g1;
	s.msg_tag = amber_tag(1, 1, 0) | (1ull << 20);
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	s.msg_tag = amber_tag(1, 60, 5);
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	/* ... or a message to itself (the send would have failed with SELF). */
	s.msg_tag = amber_tag(1, 1, 0);
	struct kgate *own = fx_gate_to(t, 6, x.ta, 50, AMBER_RIGHTS_ALL);
	r.send_gate = own;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	assert_null(t->k->sendq_head);
	expect_unchanged(t, &before);
	assert_null(x.s->k->sendq_head);

	/* REPLY_WAIT: partner id and reference disagree; the partner owes another reply. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_REPLY_WAIT;
	s.remaining_us = KERNEL_NO_DEADLINE;
	s.partner_id = 5;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &none), AMBER_ERR_INVALID_ARG);
	s.partner_id = 0;
	r = (struct kernel_thread_ipc_refs){ .partner = x.s->k };
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	/* Waiting for its own reply. */
	s.partner_id = kernel_object_id(t->k);
	r.partner = t->k;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	assert_null(t->k->reply_to);
	r.partner = x.s->k;
	s.partner_id = 0;
	fx_wait(x.s, FX_NEVER);
	fx_call(x.c1, 20, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_ptr_equal(x.s->k->reply_to, x.c1->k);
	s.partner_id = kernel_object_id(x.s->k);
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_SLOT_BUSY);
	assert_ptr_equal(x.s->k->reply_to, x.c1->k);
	expect_unchanged(t, &before);

	/* A server claiming to owe a reply to a thread that waits for someone else. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_READY;
	s.remaining_us = KERNEL_NO_DEADLINE;
	s.reply_to_id = kernel_object_id(x.c1->k);
	r = (struct kernel_thread_ipc_refs){ .reply_to = x.c1->k };
	assert_int_not_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_OK);
	assert_ptr_equal(x.c1->k->partner, x.s->k);
	expect_unchanged(t, &before);
	/* ... or that is not waiting for a reply at all. */
	r.reply_to = x.c2->k;
	fx_send(x.c2, 21, amber_tag(1, 0, 0), FX_NEVER); /* queued: s is busy */
	assert_int_equal(kernel_thread_state(x.c2->k), KTHREAD_SEND);
	assert_int_not_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_OK);
	assert_ptr_equal(x.c2->k->partner, x.s->k);
	expect_unchanged(t, &before);

	/* IRQ_WAIT on an IRQ not attached to the thread. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_IRQ_WAIT;
	s.remaining_us = KERNEL_NO_DEADLINE;
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &none), AMBER_ERR_INVALID_ARG);
	r = (struct kernel_thread_ipc_refs){ .wait_irq = x.irq };
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_ERR_INVALID_ARG);
	expect_unchanged(t, &before);

	/* A thread that is not READY cannot be imported into. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_RECV;
	s.remaining_us = KERNEL_NO_DEADLINE;
	fx_wait(t, FX_NEVER);
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &none), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_thread_state(t->k), KTHREAD_RECV);
	kernel_thread_cancel(t->k);

	/* IRQ and gate imports that disagree with their references. */
	struct kernel_irq_state is = { .attached_thread_id = 9, .label = 1, .pending = 4 };
	assert_int_equal(kernel_irq_import(x.irq2, &is, NULL), AMBER_ERR_INVALID_ARG);
	is.attached_thread_id = 0;
	assert_int_equal(kernel_irq_import(x.irq2, &is, x.w->k), AMBER_ERR_INVALID_ARG);
	assert_ptr_equal(x.irq2->attached, x.s->k);
	assert_int_equal(x.irq2->label, 0x5555);
	assert_int_equal(x.irq2->pending, 0);
	struct kernel_gate_state gs = { .label = 5, .bound_thread_id = 9 };
	assert_int_equal(kernel_gate_import(x.g3, &gs, NULL), AMBER_ERR_INVALID_ARG);
	gs.bound_thread_id = 0;
	assert_int_equal(kernel_gate_import(x.g3, &gs, x.s->k), AMBER_ERR_INVALID_ARG);
	assert_int_equal(x.g3->label, 0x3333);
	assert_null(x.g3->bound);

	/* The thread is still usable, and a consistent import works. */
	memset(&s, 0, sizeof(s));
	s.state = KTHREAD_SEND;
	s.op_seq = t->u->entry_seq + 1;
	s.msg_tag = amber_tag(0x31, 1, 0);
	s.msg_mr[0] = 0x4242;
	s.remaining_us = KERNEL_NO_DEADLINE;
	r = (struct kernel_thread_ipc_refs){ .send_gate = x.g1 };
	assert_int_equal(kernel_thread_ipc_import(t->k, &s, &r), AMBER_OK);
	t->u->entry_seq = s.op_seq;
	assert_ptr_equal(x.s->k->sendq_tail, t->k);
	fx_reply(x.s, 0);
	assert_int_equal(fx_err(x.c1), AMBER_OK);
	fx_wait(x.s, FX_NEVER); /* c2 first */
	assert_int_equal(fx_err(x.c2), AMBER_OK);
	fx_wait(x.s, FX_NEVER);
	assert_int_equal(x.s->u->mr[0], 0x4242);
	assert_int_equal(x.s->u->label, 0x1111);
	assert_int_equal(fx_err(t), AMBER_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_export_queued_state),
		FX_TEST(test_round_trip_queued),
		FX_TEST(test_round_trip_queued_reverse),
		FX_TEST(test_round_trip_queued_timeouts),
		FX_TEST(test_round_trip_reply_wait),
		FX_TEST(test_round_trip_reply_wait_timeouts),
		FX_TEST(test_round_trip_recv),
		FX_TEST(test_import_refuses_inconsistent),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
