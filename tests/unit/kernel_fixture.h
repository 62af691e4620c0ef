/*
 * Shared fixture for the kernel's unit tests: a fake platform (clock,
 * wake-up and violation hooks) and simulated threads that enter the
 * kernel by writing their UTCB and bumping entry_seq, as the hosted
 * kernel-entry path does.
 *
 * Every test runs with the kernel lock held. Teardown deletes every
 * capability in core's task and checks that no kernel object and no
 * timeout survives, so each test also checks for leaks of the ones before.
 */
#ifndef AMBER_TEST_KERNEL_FIXTURE_H
#define AMBER_TEST_KERNEL_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/object.h"

#define FX_MAX_THREADS 64
#define FX_NEVER AMBER_TIMEOUT_NEVER
#define FX_POLL AMBER_TIMEOUT_POLL

struct fx_thread {
	struct kthread *k;
	struct amber_utcb *u;
	struct ktask *task;
	amber_sel_t core_sel; /* the thread's root capability in core's task */
	unsigned wakes;       /* thread_wake calls */
	bool destroyed;       /* thread_destroyed was called */
};

static uint64_t fx_clock;
static unsigned fx_violations;
static struct ktask *fx_violation_task;
static unsigned fx_deadline_changes;
static struct fx_thread fx_threads[FX_MAX_THREADS];
static unsigned fx_nthreads;

static void fx_hook_wake(struct kthread *t)
{
	struct fx_thread *f = kernel_thread_platform(t);
	/* The kernel publishes done_seq before it asks for the wake-up. */
	assert_non_null(t->utcb);
	assert_int_equal(t->utcb->done_seq, t->op_seq);
	if (f)
		f->wakes++;
}
static uint64_t fx_hook_now(void) { return fx_clock; }
static void fx_hook_deadline(void) { fx_deadline_changes++; }
static void fx_hook_violation(struct ktask *t, const char *why)
{
	(void)why;
	fx_violations++;
	fx_violation_task = t;
}
static void fx_hook_destroyed(struct kthread *t)
{
	struct fx_thread *f = kernel_thread_platform(t);
	if (f)
		f->destroyed = true;
}

static inline int fx_group_setup(void **state)
{
	(void)state;
	static const struct kernel_platform plat = {
		.thread_wake = fx_hook_wake,
		.now_us = fx_hook_now,
		.deadline_changed = fx_hook_deadline,
		.task_violation = fx_hook_violation,
		.thread_destroyed = fx_hook_destroyed,
	};
	kernel_init(&plat);
	return 0;
}

static inline int fx_setup(void **state)
{
	(void)state;
	kernel_lock();
	fx_clock = 1000000;
	fx_violations = 0;
	fx_violation_task = NULL;
	fx_deadline_changes = 0;
	fx_nthreads = 0;
	memset(fx_threads, 0, sizeof(fx_threads));
	return 0;
}

/* Everything a test created hangs off core's task; clearing it must free all. */
static inline int fx_teardown(void **state)
{
	(void)state;
	struct ktask *core = kernel_core_task();
	cap_space_clear(core);
	struct kobj *first = kobj_first();
	bool only_core = first == &core->obj && first->next == NULL;
	bool no_timeouts = kernel_next_deadline() == KERNEL_NO_DEADLINE;
	bool all_destroyed = true;
	for (unsigned i = 0; i < fx_nthreads; i++) {
		all_destroyed &= fx_threads[i].destroyed;
		free(fx_threads[i].u);
	}
	fx_nthreads = 0;
	kernel_unlock();
	assert_true(only_core);
	assert_true(no_timeouts);
	assert_true(all_destroyed);
	return 0;
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

/* ---- creating objects ---- */

static inline struct ktask *fx_core(void) { return kernel_core_task(); }

static inline amber_sel_t fx_core_sel(void)
{
	amber_sel_t s = kernel_cap_alloc(fx_core(), AMBER_SEL_FIRST_FREE);
	assert_int_not_equal(s, AMBER_SEL_INVALID);
	return s;
}

/* A component task; its root capability sits in core's task at *core_sel. */
static inline struct ktask *fx_task_sel(const char *name, amber_sel_t *core_sel)
{
	struct ktask *t = NULL;
	amber_sel_t s = fx_core_sel();
	assert_int_equal(kernel_create_task(fx_core(), s, name, &t), AMBER_OK);
	assert_non_null(t);
	if (core_sel)
		*core_sel = s;
	return t;
}
static inline struct ktask *fx_task(const char *name) { return fx_task_sel(name, NULL); }

static inline struct fx_thread *fx_thread(struct ktask *task, const char *name)
{
	assert_true(fx_nthreads < FX_MAX_THREADS);
	struct fx_thread *f = &fx_threads[fx_nthreads];
	memset(f, 0, sizeof(*f));
	f->u = aligned_alloc(AMBER_PAGE_SIZE, AMBER_UTCB_SIZE);
	assert_non_null(f->u);
	memset(f->u, 0, AMBER_UTCB_SIZE);
	fx_nthreads++;
	f->core_sel = fx_core_sel();
	f->task = task;
	uint64_t addr = AMBER_UTCB_AREA + (uint64_t)(fx_nthreads - 1) * AMBER_UTCB_SIZE;
	assert_int_equal(kernel_create_thread(fx_core(), f->core_sel, task, name, f->u, addr, &f->k), AMBER_OK);
	kernel_thread_set_platform(f->k, f);
	assert_ptr_equal(f->u->self, (struct amber_utcb *)(uintptr_t)addr);
	return f;
}

static inline struct kgate *fx_gate(uint64_t label, struct fx_thread *bound, amber_sel_t *core_sel)
{
	struct kgate *g = NULL;
	amber_sel_t s = fx_core_sel();
	assert_int_equal(kernel_create_gate(fx_core(), s, label, bound ? bound->k : NULL, &g), AMBER_OK);
	if (core_sel)
		*core_sel = s;
	return g;
}

static inline struct kirq *fx_irq(amber_sel_t *core_sel)
{
	struct kirq *irq = NULL;
	amber_sel_t s = fx_core_sel();
	assert_int_equal(kernel_create_irq(fx_core(), s, &irq), AMBER_OK);
	if (core_sel)
		*core_sel = s;
	return irq;
}

/* Give a component a capability from core's task. */
static inline void fx_give(amber_sel_t core_sel, struct ktask *t, amber_sel_t sel, unsigned rights)
{
	assert_int_equal(kernel_cap_map(fx_core(), core_sel, t, sel, rights), AMBER_OK);
}

/* A gate to `server` with `label`, mapped into `client_task` at `sel`. */
static inline struct kgate *fx_gate_to(struct fx_thread *server, uint64_t label, struct ktask *client_task,
				       amber_sel_t sel, unsigned rights)
{
	amber_sel_t cs;
	struct kgate *g = fx_gate(label, server, &cs);
	fx_give(cs, client_task, sel, rights);
	return g;
}

/* ---- simulated threads ---- */

/* Enter the kernel: write the operation and ring the doorbell. */
static inline void fx_enter(struct fx_thread *f, uint32_t op, amber_sel_t sel, amber_tag_t tag, uint64_t snd_us,
			    uint64_t rcv_us)
{
	f->u->op = op;
	f->u->sel = sel;
	f->u->tag = tag;
	f->u->snd_timeout_us = snd_us;
	f->u->rcv_timeout_us = rcv_us;
	f->u->error = 0x5a5a; /* poison: the kernel must write the result */
	f->u->entry_seq++;
	/* The simulated thread sleeps at once, so every completion wakes it. */
	f->u->done_seq |= AMBER_SEQ_SLEEPING;
	kernel_thread_entry(f->k);
}

static inline bool fx_done(const struct fx_thread *f)
{
	return (f->u->done_seq & AMBER_SEQ_MASK) == f->u->entry_seq;
}

/* The operation completed; its error. */
static inline int64_t fx_err(const struct fx_thread *f)
{
	assert_true(fx_done(f));
	return f->u->error;
}

static inline void fx_call(struct fx_thread *f, amber_sel_t sel, amber_tag_t tag, uint64_t snd_us, uint64_t rcv_us)
{
	fx_enter(f, AMBER_OP_CALL, sel, tag, snd_us, rcv_us);
}
static inline void fx_send(struct fx_thread *f, amber_sel_t sel, amber_tag_t tag, uint64_t snd_us)
{
	fx_enter(f, AMBER_OP_SEND, sel, tag, snd_us, FX_NEVER);
}
static inline void fx_wait(struct fx_thread *f, uint64_t rcv_us) { fx_enter(f, AMBER_OP_WAIT, 0, 0, 0, rcv_us); }
static inline void fx_reply(struct fx_thread *f, amber_tag_t tag) { fx_enter(f, AMBER_OP_REPLY, 0, tag, 0, 0); }
static inline void fx_reply_wait(struct fx_thread *f, amber_tag_t tag, uint64_t rcv_us)
{
	fx_enter(f, AMBER_OP_REPLY_WAIT, 0, tag, 0, rcv_us);
}

/* Run a kernel-object method (CALL with the object's protocol) and return its error. */
static inline int64_t fx_invoke(struct fx_thread *f, amber_sel_t sel, uint32_t proto, unsigned nwords,
				amber_word_t w0, amber_word_t w1, amber_word_t w2, amber_word_t w3)
{
	f->u->mr[0] = w0;
	f->u->mr[1] = w1;
	f->u->mr[2] = w2;
	f->u->mr[3] = w3;
	fx_call(f, sel, amber_tag(proto, nwords, 0), FX_NEVER, FX_NEVER);
	return fx_err(f);
}

static inline void fx_advance(uint64_t us)
{
	fx_clock += us;
	kernel_expire_timeouts(fx_clock);
}

/* The capability in t's slot: kind, rights (0/NONE when free). */
static inline enum amber_kind fx_kind(struct ktask *t, amber_sel_t sel)
{
	enum amber_kind k = AMBER_KIND_NONE;
	kernel_cap_object(t, sel, &k, NULL);
	return k;
}
static inline unsigned fx_rights(struct ktask *t, amber_sel_t sel)
{
	unsigned r = 0;
	if (!kernel_cap_object(t, sel, NULL, &r))
		return 0;
	return r;
}
static inline bool fx_alive(uint64_t id) { return kernel_object_by_id(id) != NULL; }

#endif
