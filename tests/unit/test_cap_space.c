/*
 * Capability spaces, the mapping database, task and factory methods, and
 * the checks every kernel entry makes on selectors, protocols and rights.
 */
#include "tests/unit/kernel_fixture.h"

#define SEL_TASK AMBER_SEL_TASK
#define SEL_FACTORY AMBER_SEL_FACTORY

/* ---- selectors ---- */

static void test_invalid_selectors(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	struct fx_thread *t = fx_thread(a, "t");
	const amber_sel_t bad[] = { AMBER_SEL_INVALID, AMBER_CAP_SLOTS, AMBER_CAP_SLOTS + 1, 0xffffffffu, 100 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_call(t, bad[i], amber_tag(7, 1, 0), FX_NEVER, FX_NEVER);
		assert_int_equal(fx_err(t), AMBER_ERR_INVALID_CAP);
		assert_int_equal(t->u->tag, 0);
		fx_send(t, bad[i], amber_tag(7, 0, 0), FX_NEVER);
		assert_int_equal(fx_err(t), AMBER_ERR_INVALID_CAP);
		fx_call(t, bad[i], amber_tag(AMBER_PROTO_TASK, 2, 0), FX_NEVER, FX_NEVER);
		assert_int_equal(fx_err(t), AMBER_ERR_INVALID_CAP);
	}
	assert_int_equal(kernel_thread_state(t->k), KTHREAD_READY);
	assert_int_equal(t->wakes, 3 * sizeof(bad) / sizeof(bad[0]));
}

/* A slot freed by delete is empty again. */
static void test_deleted_slot_is_invalid(void **state)
{
	(void)state;
	amber_sel_t ts;
	struct ktask *a = fx_task_sel("a", &ts);
	struct fx_thread *t = fx_thread(a, "t");
	fx_give(ts, a, SEL_TASK, AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, SEL_TASK, 0, 0), AMBER_OK);
	assert_int_equal(kernel_cap_delete(a, SEL_TASK), AMBER_OK);
	assert_int_equal(kernel_cap_delete(a, SEL_TASK), AMBER_ERR_INVALID_CAP);
	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, SEL_TASK, 0, 0),
			 AMBER_ERR_INVALID_CAP);
}

/* ---- protocols and opcodes ---- */

static void test_wrong_protocol(void **state)
{
	(void)state;
	amber_sel_t ts, fs, is;
	struct ktask *a = fx_task_sel("a", &ts);
	struct fx_thread *t = fx_thread(a, "t");
	assert_int_equal(kernel_create_factory(fx_core(), fs = fx_core_sel(), 4, NULL), AMBER_OK);
	fx_irq(&is);
	fx_give(ts, a, 20, AMBER_RIGHTS_ALL);
	fx_give(fs, a, 21, AMBER_RIGHTS_ALL);
	fx_give(is, a, 22, AMBER_RIGHTS_ALL);
	fx_give(t->core_sel, a, 23, AMBER_RIGHTS_ALL);

	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_FACTORY, 2, AMBER_TASK_CAP_INFO, 20, 0, 0), AMBER_ERR_PROTO);
	assert_int_equal(fx_invoke(t, 20, 0, 2, AMBER_TASK_CAP_INFO, 20, 0, 0), AMBER_ERR_PROTO);
	assert_int_equal(fx_invoke(t, 21, AMBER_PROTO_TASK, 2, AMBER_FACTORY_CREATE_IRQ, 30, 0, 0), AMBER_ERR_PROTO);
	assert_int_equal(fx_invoke(t, 22, AMBER_PROTO_GATE, 1, AMBER_IRQ_TRIGGER, 0, 0, 0), AMBER_ERR_PROTO);
	assert_int_equal(fx_invoke(t, 23, AMBER_PROTO_IRQ, 1, 1, 0, 0, 0), AMBER_ERR_PROTO);
	/* Nothing was created by the rejected factory call. */
	assert_int_equal(fx_kind(a, 30), AMBER_KIND_NONE);
}

static void test_bad_opcode(void **state)
{
	(void)state;
	amber_sel_t ts, fs;
	struct ktask *a = fx_task_sel("a", &ts);
	struct fx_thread *t = fx_thread(a, "t");
	assert_int_equal(kernel_create_factory(fx_core(), fs = fx_core_sel(), 4, NULL), AMBER_OK);
	fx_give(ts, a, SEL_TASK, AMBER_RIGHTS_ALL);
	fx_give(fs, a, SEL_FACTORY, AMBER_RIGHTS_ALL);
	fx_give(t->core_sel, a, AMBER_SEL_THREAD, AMBER_RIGHTS_ALL);

	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 2, 99, 1, 0, 0), AMBER_ERR_OPCODE);
	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 0, AMBER_TASK_CAP_INFO, 1, 0, 0), AMBER_ERR_OPCODE);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 2, 0, 30, 0, 0), AMBER_ERR_OPCODE);
	assert_int_equal(fx_invoke(t, AMBER_SEL_THREAD, AMBER_PROTO_THREAD, 1, 1, 0, 0, 0), AMBER_ERR_OPCODE);
	/* Map items to a kernel object are not a method call. */
	t->u->mr[0] = AMBER_TASK_CAP_INFO;
	t->u->mr[1] = SEL_TASK;
	t->u->mr[2] = amber_map_item(SEL_TASK, AMBER_RIGHTS_ALL);
	fx_call(t, SEL_TASK, amber_tag(AMBER_PROTO_TASK, 2, 1), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(t), AMBER_ERR_OPCODE);
}

/* ---- task methods ---- */

static void test_task_cap_info(void **state)
{
	(void)state;
	amber_sel_t ts;
	struct ktask *a = fx_task_sel("a", &ts);
	struct fx_thread *t = fx_thread(a, "t");
	amber_sel_t gs;
	struct kgate *g = fx_gate(0x77, NULL, &gs);
	fx_give(ts, a, SEL_TASK, AMBER_RIGHT_INVOKE);
	fx_give(ts, a, 40, AMBER_RIGHT_CONTROL);
	fx_give(gs, a, 41, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_int_equal(fx_kind(a, 41), AMBER_KIND_GATE);

	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, 41, 0, 0), AMBER_OK);
	assert_int_equal(amber_tag_words(t->u->tag), 3);
	assert_int_equal(amber_tag_label(t->u->tag), AMBER_PROTO_TASK);
	assert_int_equal(t->u->mr[0], AMBER_KIND_GATE);
	assert_int_equal(t->u->mr[1], AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_int_equal(t->u->mr[2], kernel_object_id(g));

	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, 500, 0, 0), AMBER_OK);
	assert_int_equal(t->u->mr[0], AMBER_KIND_NONE);
	assert_int_equal(t->u->mr[1], 0);
	assert_int_equal(t->u->mr[2], 0);
	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, 0, 0, 0),
			 AMBER_ERR_INVALID_ARG);
	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, AMBER_CAP_SLOTS, 0, 0),
			 AMBER_ERR_INVALID_ARG);
	/* CAP_INFO needs INVOKE. */
	assert_int_equal(fx_invoke(t, 40, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, 41, 0, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(t->u->tag, 0);
}

static void test_task_map_rights(void **state)
{
	(void)state;
	amber_sel_t as, bs, gs;
	struct ktask *a = fx_task_sel("a", &as);
	struct ktask *b = fx_task_sel("b", &bs);
	struct fx_thread *t = fx_thread(a, "t");
	fx_gate(5, NULL, &gs);
	fx_give(bs, a, 20, AMBER_RIGHTS_ALL);                       /* task b, full */
	fx_give(bs, a, 21, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT); /* task b, no CONTROL */
	fx_give(gs, a, 30, AMBER_RIGHTS_ALL);                       /* gate, grantable */
	fx_give(gs, a, 31, AMBER_RIGHT_INVOKE | AMBER_RIGHT_CONTROL); /* gate, not grantable */

	/* Mapping into a task needs CONTROL on the task capability... */
	assert_int_equal(fx_invoke(t, 21, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 50, AMBER_RIGHTS_ALL),
			 AMBER_ERR_RIGHTS);
	/* ... and GRANT on the capability passed on. */
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 31, 50, AMBER_RIGHTS_ALL),
			 AMBER_ERR_RIGHTS);
	assert_int_equal(fx_kind(b, 50), AMBER_KIND_NONE);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 99, 50, AMBER_RIGHTS_ALL),
			 AMBER_ERR_INVALID_CAP);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 0, AMBER_RIGHTS_ALL),
			 AMBER_ERR_INVALID_ARG);
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, AMBER_CAP_SLOTS, AMBER_RIGHTS_ALL),
			 AMBER_ERR_INVALID_ARG);

	/* Rights are reduced by the mask, and the result is derived from the source. */
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 50, AMBER_RIGHT_INVOKE), AMBER_OK);
	assert_int_equal(fx_kind(b, 50), AMBER_KIND_GATE);
	assert_int_equal(fx_rights(b, 50), AMBER_RIGHT_INVOKE);
	assert_ptr_equal(cap_slot(b, 50)->parent, cap_slot(a, 30));
	assert_int_equal(fx_invoke(t, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 50, AMBER_RIGHTS_ALL),
			 AMBER_ERR_SLOT_BUSY);
	assert_int_equal(fx_rights(b, 50), AMBER_RIGHT_INVOKE);
}

/* a -> b -> c: unmap at a revokes b and c (transitively), keeps a. */
static void test_unmap_transitive(void **state)
{
	(void)state;
	amber_sel_t as, bs, cs, gs;
	struct ktask *a = fx_task_sel("a", &as);
	struct ktask *b = fx_task_sel("b", &bs);
	struct ktask *c = fx_task_sel("c", &cs);
	struct fx_thread *ta = fx_thread(a, "ta");
	struct fx_thread *tb = fx_thread(b, "tb");
	struct kgate *g = fx_gate(9, NULL, &gs);
	fx_give(gs, a, 30, AMBER_RIGHTS_ALL);
	fx_give(as, a, SEL_TASK, AMBER_RIGHTS_ALL);
	fx_give(bs, a, 20, AMBER_RIGHTS_ALL);
	fx_give(cs, b, 20, AMBER_RIGHTS_ALL);
	fx_give(bs, b, SEL_TASK, AMBER_RIGHTS_ALL);

	assert_int_equal(fx_invoke(ta, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 31, AMBER_RIGHTS_ALL), AMBER_OK);
	assert_int_equal(fx_invoke(tb, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 31, 32, AMBER_RIGHTS_ALL), AMBER_OK);
	/* A sibling of b's cap, derived from a's too, in a itself. */
	assert_int_equal(fx_invoke(ta, SEL_TASK, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 33, AMBER_RIGHTS_ALL),
			 AMBER_OK);
	assert_int_equal(fx_kind(b, 31), AMBER_KIND_GATE);
	assert_int_equal(fx_kind(c, 32), AMBER_KIND_GATE);
	assert_int_equal(g->obj.ncaps, 5); /* core, a:30, b:31, c:32, a:33 */

	/* Unmap needs CONTROL on the task capability. */
	fx_give(as, a, 21, AMBER_RIGHT_INVOKE);
	assert_int_equal(fx_invoke(ta, 21, AMBER_PROTO_TASK, 2, AMBER_TASK_UNMAP, 30, 0, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(ta, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_UNMAP, 300, 0, 0),
			 AMBER_ERR_INVALID_CAP);

	assert_int_equal(fx_invoke(ta, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_UNMAP, 30, 0, 0), AMBER_OK);
	assert_int_equal(fx_kind(a, 30), AMBER_KIND_GATE);
	assert_int_equal(fx_rights(a, 30), AMBER_RIGHTS_ALL);
	assert_int_equal(fx_kind(b, 31), AMBER_KIND_NONE);
	assert_int_equal(fx_kind(c, 32), AMBER_KIND_NONE);
	assert_int_equal(fx_kind(a, 33), AMBER_KIND_NONE);
	assert_null(cap_slot(a, 30)->child);
	assert_int_equal(g->obj.ncaps, 2);
	assert_true(fx_alive(kernel_object_id(g)));
}

static void test_delete_removes_subtree(void **state)
{
	(void)state;
	amber_sel_t as, bs, gs;
	struct ktask *a = fx_task_sel("a", &as);
	struct ktask *b = fx_task_sel("b", &bs);
	struct fx_thread *ta = fx_thread(a, "ta");
	struct kgate *g = fx_gate(9, NULL, &gs);
	fx_give(gs, a, 30, AMBER_RIGHTS_ALL);
	fx_give(as, a, SEL_TASK, AMBER_RIGHTS_ALL);
	fx_give(bs, a, 20, AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(ta, 20, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 31, AMBER_RIGHTS_ALL), AMBER_OK);
	assert_int_equal(kernel_cap_map(b, 31, b, 32, AMBER_RIGHT_INVOKE), AMBER_OK);
	/* An unrelated derivation from core's root survives. */
	fx_give(gs, b, 40, AMBER_RIGHT_INVOKE);

	assert_int_equal(fx_invoke(ta, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_DELETE, 30, 0, 0), AMBER_OK);
	assert_int_equal(fx_kind(a, 30), AMBER_KIND_NONE);
	assert_int_equal(fx_kind(b, 31), AMBER_KIND_NONE);
	assert_int_equal(fx_kind(b, 32), AMBER_KIND_NONE);
	assert_int_equal(fx_kind(b, 40), AMBER_KIND_GATE);
	assert_int_equal(g->obj.ncaps, 2);
	/* The slot can be reused. */
	fx_give(gs, a, 30, AMBER_RIGHT_INVOKE);
	assert_int_equal(fx_rights(a, 30), AMBER_RIGHT_INVOKE);
	assert_int_equal(fx_invoke(ta, SEL_TASK, AMBER_PROTO_TASK, 2, AMBER_TASK_DELETE, 31, 0, 0),
			 AMBER_ERR_INVALID_CAP);
}

/* Destroying an object needs its last capability gone, wherever it is. */
static void test_last_cap_destroys_object(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	amber_sel_t gs, is;
	struct kgate *g = fx_gate(1, NULL, &gs);
	struct kirq *irq = fx_irq(&is);
	uint64_t gid = kernel_object_id(g), iid = kernel_object_id(irq);
	fx_give(gs, a, 20, AMBER_RIGHTS_ALL);
	assert_int_equal(kernel_cap_map(a, 20, a, 21, AMBER_RIGHTS_ALL), AMBER_OK);

	/* Deleting derived capabilities leaves the object. */
	assert_int_equal(kernel_cap_delete(a, 21), AMBER_OK);
	assert_true(fx_alive(gid));
	assert_int_equal(g->obj.ncaps, 2);
	/* Deleting the root revokes the derived one and destroys the object. */
	assert_int_equal(kernel_cap_delete(fx_core(), gs), AMBER_OK);
	assert_int_equal(fx_kind(a, 20), AMBER_KIND_NONE);
	assert_false(fx_alive(gid));

	/* A root capability installed elsewhere keeps the object after core's goes. */
	assert_int_equal(kernel_cap_install(a, 22, kernel_object_by_id(iid), AMBER_RIGHT_INVOKE, NULL, 0), AMBER_OK);
	assert_int_equal(kernel_cap_delete(fx_core(), is), AMBER_OK);
	assert_true(fx_alive(iid));
	assert_int_equal(kernel_cap_delete(a, 22), AMBER_OK);
	assert_false(fx_alive(iid));
}

/* Deleting a task's last capability destroys the task, its space, and kills its threads. */
static void test_task_destroy(void **state)
{
	(void)state;
	amber_sel_t as;
	struct ktask *a = fx_task_sel("a", &as);
	struct ktask *b = fx_task("b");
	struct fx_thread *ta = fx_thread(a, "ta");
	struct fx_thread *tb = fx_thread(b, "tb");
	amber_sel_t gs;
	struct kgate *g = fx_gate(3, tb, &gs);
	fx_give(gs, a, 20, AMBER_RIGHTS_ALL);
	/* A root capability only a's space holds: it dies with a. */
	struct kirq *irq;
	assert_int_equal(kernel_create_irq(a, 21, &irq), AMBER_OK);
	uint64_t iid = kernel_object_id(irq), aid = kernel_object_id(a);
	fx_give(as, a, SEL_TASK, AMBER_RIGHTS_ALL); /* a names itself */

	fx_wait(ta, FX_NEVER);
	assert_false(fx_done(ta));
	unsigned w = ta->wakes;
	assert_int_equal(kernel_cap_delete(fx_core(), as), AMBER_OK);
	assert_false(fx_alive(aid));
	assert_false(fx_alive(iid));
	assert_int_equal(g->obj.ncaps, 1);
	assert_int_equal(fx_err(ta), AMBER_ERR_CANCELED);
	assert_int_equal(ta->wakes, w + 1);
	assert_int_equal(kernel_thread_state(ta->k), KTHREAD_DEAD);
	assert_null(kernel_thread_task(ta->k));
	/* A dead thread's doorbell is ignored. */
	fx_wait(ta, FX_NEVER);
	assert_false(fx_done(ta));
	assert_int_equal(fx_violations, 0);
	/* A gate bound to a dead thread has no partner. */
	fx_gate_to(ta, 4, b, 21, AMBER_RIGHTS_ALL);
	fx_call(tb, 21, amber_tag(1, 0, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(tb), AMBER_ERR_NO_PARTNER);
}

/* ---- core interface ---- */

static void test_kernel_cap_map_and_install(void **state)
{
	(void)state;
	struct ktask *a = fx_task("a");
	amber_sel_t gs;
	struct kgate *g = fx_gate(1, NULL, &gs);
	assert_int_equal(kernel_cap_map(fx_core(), 4000, a, 20, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_CAP);
	assert_int_equal(kernel_cap_map(fx_core(), 0, a, 20, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_CAP);
	assert_int_equal(kernel_cap_map(fx_core(), gs, a, 0, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_cap_map(fx_core(), gs, a, AMBER_CAP_SLOTS, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_cap_map(fx_core(), gs, a, 20, AMBER_RIGHT_INVOKE | 0xf0), AMBER_OK);
	assert_int_equal(fx_rights(a, 20), AMBER_RIGHT_INVOKE);
	assert_int_equal(kernel_cap_map(fx_core(), gs, a, 20, AMBER_RIGHTS_ALL), AMBER_ERR_SLOT_BUSY);
	/* Rights only shrink along a derivation. */
	assert_int_equal(kernel_cap_map(a, 20, a, 21, AMBER_RIGHTS_ALL), AMBER_OK);
	assert_int_equal(fx_rights(a, 21), AMBER_RIGHT_INVOKE);

	/* kernel_cap_install: the parent must name the same object. */
	amber_sel_t is;
	struct kirq *irq = fx_irq(&is);
	assert_int_equal(kernel_cap_install(a, 22, &irq->obj, AMBER_RIGHTS_ALL, a, 20), AMBER_ERR_INVALID_CAP);
	assert_int_equal(kernel_cap_install(a, 22, &g->obj, AMBER_RIGHTS_ALL, a, 30), AMBER_ERR_INVALID_CAP);
	assert_int_equal(kernel_cap_install(a, 20, &g->obj, AMBER_RIGHTS_ALL, NULL, 0), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(kernel_cap_install(a, 0, &g->obj, AMBER_RIGHTS_ALL, NULL, 0), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_cap_install(a, 22, NULL, AMBER_RIGHTS_ALL, NULL, 0), AMBER_ERR_INVALID_ARG);
	assert_int_equal(fx_kind(a, 22), AMBER_KIND_NONE);
	assert_int_equal(kernel_cap_install(a, 22, &g->obj, AMBER_RIGHTS_ALL, a, 21), AMBER_OK);
	assert_ptr_equal(cap_slot(a, 22)->parent, cap_slot(a, 21));
	/* It is a real child: deleting core's root takes it along. */
	assert_int_equal(kernel_cap_delete(fx_core(), gs), AMBER_OK);
	assert_int_equal(fx_kind(a, 22), AMBER_KIND_NONE);

	/* kernel_cap_alloc */
	assert_int_equal(kernel_cap_alloc(a, 0), 1);
	assert_int_equal(kernel_cap_alloc(a, 20), 20);
	fx_give(is, a, 20, AMBER_RIGHTS_ALL);
	assert_int_equal(kernel_cap_alloc(a, 20), 21);
	assert_int_equal(kernel_cap_alloc(a, AMBER_CAP_SLOTS), AMBER_SEL_INVALID);
}

static void test_create_slot_checks(void **state)
{
	(void)state;
	struct ktask *core = fx_core();
	amber_sel_t s = fx_core_sel();
	struct kgate *g;
	assert_int_equal(kernel_create_gate(core, s, 1, NULL, &g), AMBER_OK);
	assert_int_equal(kernel_create_gate(core, s, 1, NULL, NULL), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(kernel_create_task(core, s, "x", NULL), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(kernel_create_irq(core, s, NULL), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(kernel_create_factory(core, s, 1, NULL), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(kernel_create_thread(core, s, core, "x", NULL, 0, NULL), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(kernel_create_task(core, 0, "x", NULL), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_create_irq(core, AMBER_CAP_SLOTS, NULL), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_create_factory(core, 0, 1, NULL), AMBER_ERR_INVALID_ARG);
	assert_int_equal(kernel_create_core_gate(core, s, 1, NULL, NULL, NULL), AMBER_ERR_SLOT_BUSY);
	assert_int_equal(fx_kind(core, s), AMBER_KIND_GATE);
	assert_int_equal(g->obj.ncaps, 1);
}

/* ---- enumerate ---- */

struct enum_rec {
	unsigned n;
	struct kernel_cap_info info[16];
};
static void enum_visit(void *ctx, const struct kernel_cap_info *info)
{
	struct enum_rec *r = ctx;
	assert_true(r->n < 16);
	r->info[r->n++] = *info;
}

static void test_enumerate(void **state)
{
	(void)state;
	amber_sel_t as, gs, is;
	struct ktask *a = fx_task_sel("a", &as);
	struct fx_thread *t = fx_thread(a, "t");
	struct kgate *g = fx_gate(0xabcdef0123ull, t, &gs);
	struct kirq *irq = fx_irq(&is);
	fx_give(t->core_sel, a, AMBER_SEL_THREAD, AMBER_RIGHTS_ALL);
	fx_give(is, a, 40, AMBER_RIGHTS_ALL);
	fx_give(gs, a, 30, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_int_equal(kernel_cap_map(a, 30, a, 31, AMBER_RIGHT_INVOKE), AMBER_OK);
	assert_int_equal(fx_invoke(t, 40, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, AMBER_SEL_THREAD, 0x55, 0), AMBER_OK);

	struct enum_rec r = { 0 };
	kernel_space_enumerate(a, enum_visit, &r);
	assert_int_equal(r.n, 4);
	/* slot order */
	assert_int_equal(r.info[0].sel, AMBER_SEL_THREAD);
	assert_int_equal(r.info[0].kind, AMBER_KIND_THREAD);
	assert_int_equal(r.info[0].object_id, kernel_object_id(t->k));
	assert_int_equal(r.info[0].badge, 0);
	assert_int_equal(r.info[0].rights, AMBER_RIGHTS_ALL);
	assert_int_equal(r.info[0].parent_task_id, kernel_object_id(fx_core()));
	assert_int_equal(r.info[0].parent_sel, t->core_sel);

	assert_int_equal(r.info[1].sel, 30);
	assert_int_equal(r.info[1].kind, AMBER_KIND_GATE);
	assert_int_equal(r.info[1].object_id, kernel_object_id(g));
	assert_int_equal(r.info[1].badge, 0xabcdef0123ull);
	assert_int_equal(r.info[1].rights, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_int_equal(r.info[1].parent_task_id, kernel_object_id(fx_core()));
	assert_int_equal(r.info[1].parent_sel, gs);

	assert_int_equal(r.info[2].sel, 31);
	assert_int_equal(r.info[2].rights, AMBER_RIGHT_INVOKE);
	assert_int_equal(r.info[2].parent_task_id, kernel_object_id(a));
	assert_int_equal(r.info[2].parent_sel, 30);

	assert_int_equal(r.info[3].sel, 40);
	assert_int_equal(r.info[3].kind, AMBER_KIND_IRQ);
	assert_int_equal(r.info[3].object_id, kernel_object_id(irq));
	assert_int_equal(r.info[3].badge, 0x55);

	/* Core's roots have no parent. */
	struct enum_rec rc = { 0 };
	kernel_space_enumerate(fx_core(), enum_visit, &rc);
	assert_int_equal(rc.n, 4);
	for (unsigned i = 0; i < rc.n; i++) {
		assert_int_equal(rc.info[i].parent_task_id, 0);
		assert_int_equal(rc.info[i].parent_sel, 0);
	}
	assert_int_equal(rc.info[0].sel, as);
	assert_int_equal(rc.info[0].kind, AMBER_KIND_TASK);
}

/* ---- a space that grows ---- */

struct walk_rec {
	unsigned n;
	amber_sel_t last;
	bool ordered;
};
static void count_visit(void *ctx, const struct kernel_cap_info *info)
{
	struct walk_rec *r = ctx;
	r->ordered = r->ordered && info->sel > r->last;
	r->last = info->sel;
	r->n++;
}

/* Leaves are made on first use, anywhere up to the maximum selector, and
 * every walk sees the slots in all of them, in selector order. */
static void test_space_grows(void **state)
{
	(void)state;
	amber_sel_t is;
	struct ktask *a = fx_task("a");
	fx_irq(&is);
	assert_int_equal(kernel_task_leaves(a), 0);
	assert_null(cap_slot(a, 20));
	const amber_sel_t far[] = { 20, AMBER_CAP_LEAF_SLOTS - 1, AMBER_CAP_LEAF_SLOTS, 10000,
				    AMBER_CAP_SLOTS - 1 };
	for (unsigned i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		fx_give(is, a, far[i], AMBER_RIGHTS_ALL);
		assert_int_equal(fx_kind(a, far[i]), AMBER_KIND_IRQ);
		assert_int_equal(cap_slot(a, far[i])->sel, far[i]);
	}
	assert_int_equal(kernel_task_leaves(a), 4); /* leaves 0, 1, 2 and the last */
	assert_null(cap_slot(a, 3 * AMBER_CAP_LEAF_SLOTS)); /* never used: never made */
	assert_int_equal(kernel_cap_map(fx_core(), is, a, AMBER_CAP_SLOTS, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_ARG);

	struct walk_rec r = { 0, 0, true };
	kernel_space_enumerate(a, count_visit, &r);
	assert_int_equal(r.n, 5);
	assert_true(r.ordered);
	assert_int_equal(r.last, AMBER_CAP_SLOTS - 1);

	/* A slot above the first leaf works as any other: derive from it. */
	assert_int_equal(kernel_cap_map(a, 10000, a, 10001, AMBER_RIGHT_INVOKE), AMBER_OK);
	assert_ptr_equal(cap_slot(a, 10001)->parent, cap_slot(a, 10000));
	struct kernel_cap_info info;
	assert_int_equal(kernel_cap_info_of(a, 10001, &info), AMBER_OK);
	assert_int_equal(info.parent_sel, 10000);
	assert_int_equal(kernel_cap_delete(a, 10000), AMBER_OK);
	assert_int_equal(fx_kind(a, 10001), AMBER_KIND_NONE);
	/* Deleting the root takes the copies in every leaf. */
	assert_int_equal(kernel_cap_delete(fx_core(), is), AMBER_OK);
	r = (struct walk_rec){ 0, 0, true };
	kernel_space_enumerate(a, count_visit, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(kernel_task_leaves(a), 4); /* kept until the task ends */
}

/* A task limited by its caps quota makes the leaves those fill and one
 * more; past that, every way into a new leaf is refused with QUOTA. */
static void test_space_limit(void **state)
{
	(void)state;
	amber_sel_t is, ts;
	struct ktask *a = fx_task_sel("a", &ts);
	struct fx_thread *t = fx_thread(a, "t");
	fx_irq(&is);
	fx_give(ts, a, SEL_TASK, AMBER_RIGHTS_ALL);
	kernel_task_limit_slots(a, 64);
	fx_give(is, a, 30, AMBER_RIGHTS_ALL);
	fx_give(is, a, 50000, AMBER_RIGHTS_ALL); /* the one leaf more */
	assert_int_equal(kernel_task_leaves(a), 2);
	assert_int_equal(kernel_cap_map(fx_core(), is, a, 20000, AMBER_RIGHTS_ALL), AMBER_ERR_QUOTA);
	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 20000, AMBER_RIGHTS_ALL),
			 AMBER_ERR_QUOTA);
	assert_int_equal(kernel_create_irq(a, 20000, NULL), AMBER_ERR_QUOTA);
	/* Slots in leaves it has are still free to use. */
	assert_int_equal(fx_invoke(t, SEL_TASK, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, 30, 50001, AMBER_RIGHTS_ALL),
			 AMBER_OK);
	/* More quota, more leaves; less never takes leaves away. */
	kernel_task_limit_slots(a, 3 * AMBER_CAP_LEAF_SLOTS);
	fx_give(is, a, 20000, AMBER_RIGHTS_ALL);
	assert_int_equal(kernel_task_leaves(a), 3);
	kernel_task_limit_slots(a, 1);
	assert_int_equal(fx_kind(a, 20000), AMBER_KIND_IRQ);
	assert_int_equal(kernel_cap_map(fx_core(), is, a, 30000, AMBER_RIGHTS_ALL), AMBER_ERR_QUOTA);
	assert_int_equal(kernel_cap_map(fx_core(), is, a, 20001, AMBER_RIGHTS_ALL), AMBER_OK);
}

static void edge_count(void *ctx, struct ktask *owner, const struct kernel_cap_info *info)
{
	(void)owner;
	struct walk_rec *r = ctx;
	r->ordered = r->ordered && info->sel > r->last;
	r->last = info->sel;
	r->n++;
}

/* 10,000 capabilities in one space: the allocator hands out slots in
 * order across leaves and finds a freed one again, and the derivation
 * walk visits every child, oldest first. */
static void test_ten_thousand(void **state)
{
	(void)state;
	enum { N = 10000 };
	amber_sel_t is;
	struct ktask *a = fx_task("a");
	fx_irq(&is);
	amber_sel_t first = kernel_cap_alloc(a, AMBER_SEL_FIRST_FREE);
	assert_int_equal(first, AMBER_SEL_FIRST_FREE);
	for (unsigned i = 0; i < N; i++) {
		amber_sel_t s = kernel_cap_alloc(a, AMBER_SEL_FIRST_FREE);
		assert_int_equal(s, first + i);
		fx_give(is, a, s, AMBER_RIGHTS_ALL);
	}
	assert_int_equal(kernel_task_leaves(a), (first + N) / AMBER_CAP_LEAF_SLOTS + 1);
	assert_int_equal(kernel_cap_delete(a, 5000), AMBER_OK);
	assert_int_equal(kernel_cap_alloc(a, AMBER_SEL_FIRST_FREE), 5000);
	assert_int_equal(kernel_cap_alloc(a, 5001), first + N);
	fx_give(is, a, 5000, AMBER_RIGHTS_ALL);
	assert_int_equal(kernel_cap_alloc(a, AMBER_SEL_FIRST_FREE), first + N);

	struct walk_rec r = { 0, 0, true };
	kernel_space_enumerate(a, count_visit, &r);
	assert_int_equal(r.n, N);
	assert_true(r.ordered);
	r = (struct walk_rec){ 0, 0, true };
	kernel_cap_walk_derived(fx_core(), is, edge_count, &r);
	assert_int_equal(r.n, N);
	/* 5000 was given last, so it comes last, and the rest in slot order. */
	assert_int_equal(r.last, 5000);
	/* Copies go one by one, oldest first (the end of the sibling list):
	 * the rest stay linked, in order. */
	for (amber_sel_t s = first; s < first + N / 2; s++)
		if (s != 5000)
			assert_int_equal(kernel_cap_delete(a, s), AMBER_OK);
	r = (struct walk_rec){ 0, 0, true };
	kernel_cap_walk_derived(fx_core(), is, edge_count, &r);
	assert_int_equal(r.n, N / 2 + 1);
	assert_int_equal(r.last, 5000);
	assert_int_equal(kernel_cap_delete(fx_core(), is), AMBER_OK);
	r = (struct walk_rec){ 0, 0, true };
	kernel_space_enumerate(a, count_visit, &r);
	assert_int_equal(r.n, 0);
}

/* ---- factories ---- */

static void test_factory(void **state)
{
	(void)state;
	amber_sel_t fs;
	struct ktask *a = fx_task("a");
	struct fx_thread *t = fx_thread(a, "t");
	struct fx_thread *srv = fx_thread(a, "srv");
	struct kfactory *f;
	assert_int_equal(kernel_create_factory(fx_core(), fs = fx_core_sel(), 2, &f), AMBER_OK);
	fx_give(fs, a, SEL_FACTORY, AMBER_RIGHTS_ALL);
	fx_give(fs, a, 10, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	fx_give(srv->core_sel, a, 11, AMBER_RIGHTS_ALL);
	fx_give(srv->core_sel, a, 12, AMBER_RIGHT_INVOKE);

	/* Creating needs CONTROL. */
	assert_int_equal(fx_invoke(t, 10, AMBER_PROTO_FACTORY, 2, AMBER_FACTORY_CREATE_IRQ, 30, 0, 0), AMBER_ERR_RIGHTS);
	assert_int_equal(fx_kind(a, 30), AMBER_KIND_NONE);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 2, AMBER_FACTORY_CREATE_IRQ, 0, 0, 0),
			 AMBER_ERR_INVALID_ARG);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 2, AMBER_FACTORY_CREATE_IRQ, 11, 0, 0),
			 AMBER_ERR_SLOT_BUSY);
	/* Binding needs a thread capability with CONTROL. */
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 4, AMBER_FACTORY_CREATE_GATE, 31, 12, 7),
			 AMBER_ERR_RIGHTS);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 4, AMBER_FACTORY_CREATE_GATE, 31, 10, 7),
			 AMBER_ERR_INVALID_ARG);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 4, AMBER_FACTORY_CREATE_GATE, 31, 99, 7),
			 AMBER_ERR_INVALID_CAP);
	assert_int_equal(f->used, 0);
	assert_int_equal(fx_kind(a, 31), AMBER_KIND_NONE);

	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 2, AMBER_FACTORY_CREATE_IRQ, 30, 0, 0), AMBER_OK);
	assert_int_equal(fx_kind(a, 30), AMBER_KIND_IRQ);
	assert_int_equal(fx_rights(a, 30), AMBER_RIGHTS_ALL);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 4, AMBER_FACTORY_CREATE_GATE, 31, 11, 0x42),
			 AMBER_OK);
	assert_int_equal(fx_kind(a, 31), AMBER_KIND_GATE);
	assert_int_equal(f->used, 2);
	/* Quota exhausted: nothing created. */
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 2, AMBER_FACTORY_CREATE_IRQ, 32, 0, 0),
			 AMBER_ERR_QUOTA);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 4, AMBER_FACTORY_CREATE_GATE, 32, 0, 0),
			 AMBER_ERR_QUOTA);
	assert_int_equal(fx_kind(a, 32), AMBER_KIND_NONE);

	/* The created gate is bound to srv with its label. */
	fx_wait(srv, FX_NEVER);
	t->u->mr[0] = 0x1234;
	fx_call(t, 31, amber_tag(0x99, 1, 0), FX_NEVER, FX_NEVER);
	assert_int_equal(fx_err(srv), AMBER_OK);
	assert_int_equal(srv->u->label, 0x42);
	assert_int_equal(srv->u->mr[0], 0x1234);
	fx_reply(srv, amber_tag(0, 0, 0));
	assert_int_equal(fx_err(t), AMBER_OK);

	/* Destroying a created object returns its quota. */
	assert_int_equal(kernel_cap_delete(a, 30), AMBER_OK);
	assert_int_equal(f->used, 1);
	assert_int_equal(fx_invoke(t, SEL_FACTORY, AMBER_PROTO_FACTORY, 2, AMBER_FACTORY_CREATE_IRQ, 32, 0, 0), AMBER_OK);
	assert_int_equal(f->used, 2);
	/* A factory destroyed before its objects: the objects stay valid. */
	uint64_t irq_id = kernel_object_id(cap_slot(a, 32)->obj);
	assert_int_equal(kernel_cap_delete(fx_core(), fs), AMBER_OK);
	assert_int_equal(fx_kind(a, SEL_FACTORY), AMBER_KIND_NONE);
	assert_true(fx_alive(irq_id));
	assert_null(cap_slot(a, 32)->obj->charged);
	assert_int_equal(kernel_cap_delete(a, 32), AMBER_OK);
	assert_false(fx_alive(irq_id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_invalid_selectors),
		FX_TEST(test_deleted_slot_is_invalid),
		FX_TEST(test_wrong_protocol),
		FX_TEST(test_bad_opcode),
		FX_TEST(test_task_cap_info),
		FX_TEST(test_task_map_rights),
		FX_TEST(test_unmap_transitive),
		FX_TEST(test_delete_removes_subtree),
		FX_TEST(test_last_cap_destroys_object),
		FX_TEST(test_task_destroy),
		FX_TEST(test_kernel_cap_map_and_install),
		FX_TEST(test_create_slot_checks),
		FX_TEST(test_enumerate),
		FX_TEST(test_space_grows),
		FX_TEST(test_space_limit),
		FX_TEST(test_ten_thousand),
		FX_TEST(test_factory),
	};
	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
