/*
 * test_entrypoint: the Entrypoint and component_construct checked from
 * inside a framework component (amber/component.h, amber/entrypoint.h).
 *
 * Every check runs in the entrypoint thread (in component_construct, in
 * signal handlers, in RPC functions), which is also what makes the
 * runtime's unlocked check counters safe here; the client thread only
 * records what it saw and reports it through an RPC call.
 *
 * - component_construct runs in the main entrypoint, the initial thread,
 *   called through the constructor capability (CAP4) by the
 *   signal-handler thread; the constructor capability exists (a gate, in
 *   the capability map) during construction and is gone afterwards
 *   (TASK_CAP_INFO: NONE, not in the map);
 * - the signal-proxy capability (CAP2) and the exit capability (CAP1) are
 *   gates in the capability map; the semaphore (CAP3) is an IRQ attached
 *   to the signal-handler thread, which blocks on it when idle;
 * - signal handlers run in the entrypoint thread, a signal submitted
 *   during construction only after it;
 * - an RPC object of the entrypoint is served, by the same thread, while
 *   a periodic timer fires, never concurrently with a handler.
 * The exit code is the number of failures.
 */
#include <amber/cap_map.h>
#include <amber/check.h>
#include <amber/component.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/rpc.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define PROTO 0x2401u
#define PERIOD_US 5000u
#define BATCHES 5u
#define CALLS_PER_BATCH 20u
#define SPIN_LIMIT 20000000u
#define T_US 5000000u

enum { OP_ADD = 1, OP_STOP_TIMER, OP_REPORT };

static struct {
	struct amber_env *env;
	struct amber_entrypoint *ep;
	struct amber_timer timer;
	struct amber_signal_context tick_ctx, early_ctx, finish_ctx;
	struct amber_rpc_object obj;
	struct amber_thread client;
	amber_sel_t ctor_slot;
	uint64_t ctor_badge;
	int constructing;             /* inside component_construct */
	volatile uint32_t ticks, calls;
	unsigned ticks_between_calls; /* ticks handled while 0 < calls < all */
	unsigned busy, overlaps, wrong_thread;
	unsigned early_ran, early_during_construct;
	/* the client's findings, read in OP_REPORT */
	int client_errors;
	unsigned distinct_ticks;
	int waited_for_ticks;
	int sem_blocked;
} s;

static struct amber_cap_info info(amber_sel_t sel)
{
	struct amber_cap_info i = { 0, 0, 0 };
	amber_task_cap_info(AMBER_SEL_TASK, sel, &i);
	return i;
}

static int in_progress(const volatile struct amber_utcb *u)
{
	return (u->entry_seq & AMBER_SEQ_MASK) != (u->done_seq & AMBER_SEQ_MASK);
}

/* Is `t` blocked in a CALL on `sel` (with mr[0] = `method` if not ~0)? */
static int blocked_calling(const struct amber_thread *t, amber_sel_t sel, amber_word_t method)
{
	const volatile struct amber_utcb *u = (const volatile struct amber_utcb *)(uintptr_t)t->utcb;
	return u->op == AMBER_OP_CALL && u->sel == sel && (method == ~(amber_word_t)0 || u->mr[0] == method) &&
	       in_progress(u);
}

static int on_ep_thread(void)
{
	return amber_entrypoint_on_thread(s.ep) && amber_thread_self() == s.ep->rpc.thread.sel &&
	       (uint64_t)(uintptr_t)amber_utcb() == s.ep->rpc.thread.utcb;
}

/* Marks one handler or RPC function running; two at once would be a bug. */
static void enter(void)
{
	if (s.busy++)
		s.overlaps++;
	if (!on_ep_thread())
		s.wrong_thread++;
	for (int i = 0; i < 20; i++)
		amber_sys_yield(); /* widen the window for an overlap */
}

static void leave(void) { s.busy--; }

/* ---- signal handlers ----------------------------------------------------------- */

static void first_tick_checks(void)
{
	amber_check_val("the first timer signal is handled in the entrypoint thread", on_ep_thread(), 1);
	amber_check_val("which is the initial thread", amber_thread_self(), AMBER_SEL_THREAD);
	amber_check_val("the entrypoint is RUNNING after construction", s.ep->state, AMBER_EP_RUNNING);
	amber_check_val("the constructor capability is no more (query)", amber_entrypoint_constructor_cap(s.ep),
			AMBER_SEL_INVALID);
	amber_check_val("its slot is empty: TASK_CAP_INFO kind NONE", info(s.ctor_slot).kind, AMBER_KIND_NONE);
	amber_check_val("its badge is not in the capability map", amber_cap_map_find(s.ctor_badge),
			AMBER_SEL_INVALID);
	amber_check_val("the signal came through the signal proxy", s.ep->proxied >= 1, 1);
	amber_check_val("fetched by the signal-handler thread", s.ep->receiver.fetched >= 1, 1);
}

static void tick(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
	enter();
	if (s.ticks == 0)
		first_tick_checks();
	s.ticks++;
	if (s.calls > 0 && s.calls < BATCHES * CALLS_PER_BATCH)
		s.ticks_between_calls++;
	leave();
}

static void early(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
	enter();
	s.early_ran++;
	if (s.constructing)
		s.early_during_construct++;
	leave();
}

static void finish(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
	amber_check_err("the client thread ended", amber_thread_join(&s.client), AMBER_OK);
	amber_check_err("dissolve the RPC object", amber_entrypoint_dissolve(s.ep, &s.obj), AMBER_OK);
	amber_check_err("the signal proxy cannot be dissolved by the component",
			amber_entrypoint_dissolve(s.ep, &s.ep->signal_proxy), AMBER_ERR_INVALID_ARG);
	amber_timer_close(&s.timer);
	amber_check_err("destroy the early handler", amber_signal_context_destroy(&s.early_ctx), AMBER_OK);
	amber_check_err("and the timer's", amber_signal_context_destroy(&s.tick_ctx), AMBER_OK);
	int failed = amber_check_done();
	amber_entrypoint_exit(s.ep, failed); /* the runtime releases the entrypoint, then exits */
}

/* ---- the RPC object -------------------------------------------------------------- */

static void report_checks(void)
{
	amber_check_val("every client call succeeded", (uint64_t)s.client_errors, 0);
	amber_check_val("all client calls were served", s.calls, BATCHES * CALLS_PER_BATCH);
	amber_check_val("the client saw the timer advance between its batches", s.waited_for_ticks, 1);
	amber_check_val("RPC results carried different tick counts (signals handled between calls)",
			s.distinct_ticks >= BATCHES, 1);
	amber_check_val("timer handlers ran while the RPC calls went on", s.ticks_between_calls >= 1, 1);
	amber_check_val("handlers and RPC functions never overlapped", s.overlaps, 0);
	amber_check_val("all of them ran in the entrypoint thread", s.wrong_thread, 0);
	amber_check_val("the signal submitted during construction was handled once", s.early_ran, 1);
	amber_check_val("but not during construction", s.early_during_construct, 0);
	amber_check_val("the idle signal-handler thread blocks in IRQ RECEIVE on the semaphore (CAP3)", s.sem_blocked,
			1);
	amber_check_val("every signal was proxied", s.ep->proxied >= s.ticks + s.early_ran, 1);
}

static int dispatch(struct amber_rpc_object *o, amber_word_t opcode, struct amber_rpc_msg *args,
		    struct amber_rpc_msg *res)
{
	(void)o;
	(void)args;
	switch (opcode) {
	case OP_ADD:
		enter();
		s.calls++;
		res->w[0] = s.ticks;
		res->words = 1;
		leave();
		return AMBER_OK;
	case OP_STOP_TIMER:
		return amber_timer_trigger_periodic(&s.timer, 0);
	case OP_REPORT:
		report_checks();
		return AMBER_OK;
	default:
		return AMBER_ERR_OPCODE;
	}
}

/* ---- the client thread --------------------------------------------------------------- */

static void client(void *arg)
{
	(void)arg;
	uint64_t last = ~0ull;
	s.waited_for_ticks = 1;
	for (unsigned b = 0; b < BATCHES; b++) {
		uint64_t t = 0;
		for (unsigned i = 0; i < CALLS_PER_BATCH; i++) {
			if (amber_rpc_call_words(s.obj.cap, PROTO, OP_ADD, 0, 0, 1, &t))
				s.client_errors++;
			if (t != last)
				s.distinct_ticks++;
			last = t;
		}
		/* let the timer fire before the next batch */
		unsigned n = 0;
		while (__atomic_load_n(&s.ticks, __ATOMIC_ACQUIRE) <= t + 1 && n++ < SPIN_LIMIT)
			amber_sys_yield();
		if (n >= SPIN_LIMIT)
			s.waited_for_ticks = 0;
	}
	if (amber_rpc_call_words(s.obj.cap, PROTO, OP_STOP_TIMER, 0, 0, 0, 0))
		s.client_errors++;
	/* The signal-handler thread, idle now, must end up blocked on the
	 * semaphore and stay there. */
	unsigned stable = 0, n = 0;
	while (stable < 2000 && n++ < SPIN_LIMIT) {
		if (blocked_calling(&s.ep->receiver.thread, s.ep->receiver.sem, AMBER_IRQ_RECEIVE))
			stable++;
		else
			stable = 0;
		amber_sys_yield();
	}
	s.sem_blocked = stable >= 2000;
	if (amber_rpc_call_words(s.obj.cap, PROTO, OP_REPORT, 0, 0, 0, 0))
		s.client_errors++;
	amber_signal_submit(s.finish_ctx.sel, 1);
}

/* ---- construction ------------------------------------------------------------------- */

void component_construct(struct amber_env *env)
{
	s.env = env;
	s.ep = env->ep;
	s.constructing = 1;
	amber_log("ok: component_construct runs");
	amber_check_val("env names the main entrypoint", s.ep != 0, 1);
	amber_check_val("env's parent", env->parent, AMBER_SEL_PARENT);
	amber_check_val("env's PD session is the default one", env->pd, amber_env_pd());
	amber_check_val("construct runs in the entrypoint thread", on_ep_thread(), 1);
	amber_check_val("the main entrypoint is the initial thread", s.ep->rpc.thread.sel, AMBER_SEL_THREAD);
	amber_check_val("the entrypoint is CONSTRUCTING", s.ep->state, AMBER_EP_CONSTRUCTING);

	/* CAP4 */
	s.ctor_slot = amber_entrypoint_constructor_cap(s.ep);
	s.ctor_badge = amber_cap_map_badge(s.ctor_slot);
	amber_check_val("the constructor capability exists during construction", s.ctor_slot != AMBER_SEL_INVALID, 1);
	amber_check_val("it is a gate", info(s.ctor_slot).kind, AMBER_KIND_GATE);
	amber_check_val("in the capability map with core's badge",
			s.ctor_badge != 0 && amber_cap_map_find(s.ctor_badge) == s.ctor_slot, 1);
	amber_check_val("the signal-handler thread is the constructor's caller (blocked in the call)",
			blocked_calling(&s.ep->receiver.thread, s.ctor_slot, AMBER_EP_CONSTRUCT), 1);
	amber_check_err("calling it from the entrypoint thread -> SELF",
			amber_rpc_call(s.ctor_slot, AMBER_EP_CONSTRUCTOR_PROTO, AMBER_EP_CONSTRUCT, 0, 0), AMBER_ERR_SELF);

	/* CAP2 */
	amber_sel_t proxy = amber_entrypoint_signal_proxy_cap(s.ep);
	uint64_t pbadge = amber_cap_map_badge(proxy);
	amber_check_val("the signal proxy capability exists", proxy != AMBER_SEL_INVALID, 1);
	amber_check_val("it is a gate", info(proxy).kind, AMBER_KIND_GATE);
	amber_check_val("in the capability map with core's badge", pbadge != 0 && amber_cap_map_find(pbadge) == proxy, 1);
	amber_check_val("its badge is not the constructor's", pbadge != s.ctor_badge, 1);
	amber_check_val("the receiver delivers through it, not directly",
			s.ep->receiver.deliver != amber_signal_dispatch, 1);

	/* CAP1 */
	amber_sel_t exit_cap = s.ep->rpc.exit_obj.cap;
	amber_check_val("the exit capability is a gate", info(exit_cap).kind, AMBER_KIND_GATE);
	amber_check_val("in the capability map", amber_cap_map_badge(exit_cap) != 0, 1);

	/* CAP3 */
	struct amber_cap_info sem = info(s.ep->receiver.sem);
	amber_check_val("the semaphore is an IRQ with INVOKE only",
			sem.kind == AMBER_KIND_IRQ && sem.rights == AMBER_RIGHT_INVOKE, 1);
	amber_check_val("the signal-handler thread is not the entrypoint thread",
			s.ep->receiver.thread.sel != s.ep->rpc.thread.sel &&
				s.ep->receiver.thread.utcb != s.ep->rpc.thread.utcb,
			1);
	amber_check_err("receiving on the semaphore here -> INVALID_ARG (attached to the handler thread)",
			amber_irq_receive(s.ep->receiver.sem, AMBER_TIMEOUT_POLL), AMBER_ERR_INVALID_ARG);
	amber_check_val("the semaphore is not in the capability map (no badge)",
			amber_cap_map_badge(s.ep->receiver.sem), 0);

	/* Signal handlers and an RPC object of the entrypoint. */
	amber_check_err("signal handler: early", amber_entrypoint_signal_handler(s.ep, &s.early_ctx, early, 0),
			AMBER_OK);
	amber_check_err("signal handler: finish", amber_entrypoint_signal_handler(s.ep, &s.finish_ctx, finish, 0),
			AMBER_OK);
	amber_check_err("signal handler: timer ticks", amber_entrypoint_signal_handler(s.ep, &s.tick_ctx, tick, 0),
			AMBER_OK);
	amber_check_err("submit to the early handler during construction", amber_signal_submit(s.early_ctx.sel, 1),
			AMBER_OK);
	for (int i = 0; i < 2000; i++)
		amber_sys_yield();
	amber_check_val("it is not handled while constructing", s.early_ran, 0);

	amber_rpc_object_init(&s.obj, PROTO, dispatch, 0);
	amber_check_err("manage an RPC object", amber_entrypoint_manage(s.ep, &s.obj), AMBER_OK);
	amber_check_val("its capability is in the capability map", amber_cap_map_badge(s.obj.cap), s.obj.badge);
	amber_check_err("open a Timer session", amber_timer_open(&s.timer), AMBER_OK);
	amber_check_err("its signals go to the tick handler", amber_timer_sigh(&s.timer, s.tick_ctx.sel), AMBER_OK);
	amber_check_err("periodic timeout", amber_timer_trigger_periodic(&s.timer, PERIOD_US), AMBER_OK);
	amber_check_err("start the client thread", amber_thread_create(&s.client, client, 0), AMBER_OK);
	s.constructing = 0;
	amber_log("ok: component_construct returns");
}
