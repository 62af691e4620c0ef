/*
 * test_signals: signal sources, contexts and the Timer session, checked
 * from a component (amber/check.h: "ok: ...", "done: N ok, M failed", the
 * exit code is the number of failures).
 *
 * Timing: the machine may be a busy VM, so no check bounds how soon
 * something happens beyond what must hold (a timeout never fires early);
 * upper bounds are generous (WAIT_US) and waits poll in naps of 2 ms.
 * test_signal_peer (scenario signals.xml) submits from another component.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/protocols.h>
#include <amber/signal.h>
#include <amber/signal_source.h>
#include <amber/test_protocols.h>
#include <amber/timer.h>

#define T_US 10000000u    /* IPC timeouts where a partner might be missing */
#define WAIT_US 5000000u  /* the most any expected signal may take */
#define NAP_US 2000u

static struct amber_utcb *u;
static amber_sel_t pd, irq, own_gate;
static struct amber_timer naps, clock;
static struct amber_signal_receiver rcv;

/* What a context's handler saw. */
struct rec {
	char name;
	volatile uint32_t calls;
	volatile uint64_t sum;
	volatile uint32_t last;
	volatile uint64_t at_us;          /* clock's elapsed time at the last call */
	volatile uint64_t at_n_us, at_n;  /* ... when sum first reached `n` */
	uint64_t n;
};
static char order[16];
static volatile unsigned norder;

static void record(void *arg, uint32_t count)
{
	struct rec *r = arg;
	uint64_t now = 0;
	amber_timer_elapsed_us(&clock, &now);
	r->last = count;
	r->sum += count;
	r->at_us = now;
	if (r->n && !r->at_n && r->sum >= r->n) {
		r->at_n = r->sum;
		r->at_n_us = now;
	}
	if (norder < sizeof(order) - 1)
		order[norder++] = r->name;
	r->calls++;
}

/* A handler that holds the signal-handler thread until released, so that
 * signals pile up in core meanwhile. */
static volatile int blocker_in, blocker_release;
static void blocker(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
	blocker_in = 1;
	while (!blocker_release)
		amber_sys_yield();
	blocker_in = 0;
}

static uint64_t elapsed(void)
{
	uint64_t us = 0;
	amber_timer_elapsed_us(&clock, &us);
	return us;
}

/* Nap until *v >= n or WAIT_US passed; whether it got there. */
static int wait_for(volatile uint32_t *v, uint32_t n)
{
	for (unsigned i = 0; i < WAIT_US / NAP_US && *v < n; i++)
		amber_timer_sleep_us(&naps, NAP_US);
	return *v >= n;
}

static int wait_sum(volatile uint64_t *v, uint64_t n)
{
	for (unsigned i = 0; i < WAIT_US / NAP_US && *v < n; i++)
		amber_timer_sleep_us(&naps, NAP_US);
	return *v >= n;
}

static void nap(uint64_t us) { amber_timer_sleep_us(&naps, us); }

/* ---- the receiver and its semaphore (CAP3) ---------------------------------- */

static void receiver(void)
{
	if (!amber_check_err("create a signal receiver", amber_signal_receiver_create(&rcv, 0), AMBER_OK))
		amber_exit(amber_check_done());
	struct amber_cap_info src = amber_cap_info_of(rcv.source), sem = amber_cap_info_of(rcv.sem);
	amber_check_val("the signal source is a gate with INVOKE|GRANT",
			src.kind == AMBER_KIND_GATE && src.rights == (AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT), 1);
	amber_check_val("we hold its semaphore: an IRQ", sem.kind, AMBER_KIND_IRQ);
	amber_check_val("with INVOKE only", sem.rights, AMBER_RIGHT_INVOKE);
	amber_check_val("its label is the source's badge", rcv.badge != 0, 1);
	amber_check_err("attaching it to our first thread -> RIGHTS", amber_irq_attach(rcv.sem, AMBER_SEL_THREAD, 7),
			AMBER_ERR_RIGHTS);
	amber_check_err("detaching it -> RIGHTS", amber_irq_detach(rcv.sem), AMBER_ERR_RIGHTS);
	amber_check_err("receiving on it from the first thread -> INVALID_ARG (core attached it to the handler thread)",
			amber_irq_receive(rcv.sem, AMBER_TIMEOUT_POLL), AMBER_ERR_INVALID_ARG);
	u->mr[0] = amber_map_item(rcv.sem, AMBER_RIGHT_INVOKE);
	amber_check_err("passing it on -> RIGHTS (no GRANT)",
			amber_ipc_call(AMBER_SEL_LOG, amber_tag(AMBER_PROTO_LOG, 0, 1), T_US, T_US), AMBER_ERR_RIGHTS);
	amber_check_err("WAIT_FOR_SIGNAL with nothing pending -> TIMEOUT (never blocks)",
			amber_signal_wait_for_signal(rcv.source, &(uint64_t){ 0 }, &(uint32_t){ 0 }), AMBER_ERR_TIMEOUT);
	uint64_t before = rcv.fetched;
	amber_check_err("triggering it ourselves is allowed (INVOKE)", amber_irq_trigger(rcv.sem), AMBER_OK);
	nap(20000);
	amber_check_val("a wake-up without a signal delivers nothing", rcv.fetched, before);
}

/* ---- delivery ------------------------------------------------------------------ */

static struct rec a = { .name = 'A' }, b = { .name = 'B' }, c = { .name = 'C' }, e = { .name = 'E' };
static struct amber_signal_context ca, cb, cc, cx;

static void delivery(void)
{
	amber_check_err("context A", amber_signal_context_create(&rcv, &ca, record, &a), AMBER_OK);
	amber_check_err("context B", amber_signal_context_create(&rcv, &cb, record, &b), AMBER_OK);
	amber_check_err("context C", amber_signal_context_create(&rcv, &cc, record, &c), AMBER_OK);
	amber_check_err("context X (a handler that blocks)", amber_signal_context_create(&rcv, &cx, blocker, 0),
			AMBER_OK);
	struct amber_cap_info ci = amber_cap_info_of(ca.sel);
	amber_check_val("a context is a gate with INVOKE|GRANT",
			ci.kind == AMBER_KIND_GATE && ci.rights == (AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT), 1);

	amber_check_err("submit 3 to A", amber_signal_submit(ca.sel, 3), AMBER_OK);
	amber_check_val("A's handler runs", wait_for(&a.calls, 1), 1);
	amber_check_val("once", a.calls, 1);
	amber_check_val("with count 3", a.last, 3);

	/* Hold the handler thread in X, submit meanwhile, then let go. */
	norder = 0;
	amber_check_err("submit to X", amber_signal_submit(cx.sel, 1), AMBER_OK);
	for (unsigned i = 0; i < WAIT_US / NAP_US && !blocker_in; i++)
		nap(NAP_US);
	amber_check_val("X's handler holds the handler thread", blocker_in, 1);
	int ok = 1;
	for (unsigned i = 0; i < 3; i++)
		ok &= amber_signal_submit(ca.sel, 1) == AMBER_OK;
	for (unsigned i = 0; i < 2; i++)
		ok &= amber_signal_submit(cb.sel, 5) == AMBER_OK;
	ok &= amber_signal_submit(cc.sel, 1) == AMBER_OK;
	ok &= amber_pd_submit(pd, cc.sel, 2) == AMBER_OK;
	amber_check_val("submit A 3 x 1, B 2 x 5, C 1 and (through the PD) 2 while it is busy", ok, 1);
	nap(20000);
	amber_check_val("nothing is delivered meanwhile", a.calls + b.calls + c.calls, 1);
	blocker_release = 1;
	amber_check_val("A is delivered again", wait_for(&a.calls, 2), 1);
	amber_check_val("B is delivered", wait_for(&b.calls, 1), 1);
	amber_check_val("C is delivered", wait_for(&c.calls, 1), 1);
	amber_check_val("A's counts added up: 3", a.last, 3);
	amber_check_val("B's: 10", b.last, 10);
	amber_check_val("C's: 3", c.last, 3);
	nap(50000);
	amber_check_val("each once: A twice in all, B and C once", a.calls * 100 + b.calls * 10 + c.calls, 211);
	order[norder] = 0;
	amber_check_val("in the order they became pending (ABC)",
			norder == 3 && order[0] == 'A' && order[1] == 'B' && order[2] == 'C', 1);
}

/* ---- another component submits -------------------------------------------------- */

static amber_sel_t peer;

static int peer_submit(amber_sel_t ctx, uint64_t count, uint64_t times, uint64_t via, unsigned rights)
{
	u->mr[0] = AMBER_TEST_SIGPEER_SUBMIT;
	u->mr[1] = count;
	u->mr[2] = times;
	u->mr[3] = via;
	u->mr[4] = amber_map_item(ctx, rights);
	int err = amber_ipc_call(peer, amber_tag(AMBER_TEST_SIGPEER_PROTO, 4, 1), T_US, T_US);
	return err ? err : (int)(int64_t)u->mr[0];
}

static void other_component(void)
{
	peer = amber_check_slot();
	if (!amber_check_err("session to sigpeer", amber_parent_session(AMBER_TEST_SIGPEER_SERVICE, peer, T_US),
			     AMBER_OK))
		return;
	uint64_t sum = a.sum;
	amber_check_err("the peer submits 2 to A three times through its PD",
			peer_submit(ca.sel, 2, 3, AMBER_TEST_SIGPEER_VIA_PD, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT),
			AMBER_OK);
	amber_check_val("A receives 6 more", wait_sum(&a.sum, sum + 6), 1);
	amber_check_err("the peer submits 1 to B four times through the context",
			peer_submit(cb.sel, 1, 4, AMBER_TEST_SIGPEER_VIA_CONTEXT, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT),
			AMBER_OK);
	amber_check_val("B receives 4 more", wait_sum(&b.sum, 14), 1);
	amber_check_err("given without GRANT, the peer's PD submit -> RIGHTS",
			peer_submit(cc.sel, 1, 1, AMBER_TEST_SIGPEER_VIA_PD, AMBER_RIGHT_INVOKE), AMBER_ERR_RIGHTS);
	amber_check_err("but the context's own SUBMIT works (INVOKE)",
			peer_submit(cc.sel, 1, 1, AMBER_TEST_SIGPEER_VIA_CONTEXT, AMBER_RIGHT_INVOKE), AMBER_OK);
	amber_check_val("C receives it", wait_sum(&c.sum, 4), 1);
	amber_check_err("the peer submits 0 -> INVALID_ARG",
			peer_submit(cc.sel, 0, 1, AMBER_TEST_SIGPEER_VIA_PD, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT),
			AMBER_ERR_INVALID_ARG);
}

/* ---- a source we fetch from ourselves ------------------------------------------- */

static void own_source(void)
{
	amber_sel_t src = amber_signal_alloc_slots(), f = amber_check_slot(), g = amber_check_slot();
	uint64_t imprint = 0;
	uint32_t count = 0;
	if (!amber_check_err("a signal source for the first thread",
			     amber_pd_alloc_signal_source(pd, AMBER_SEL_THREAD, src, 0), AMBER_OK))
		return;
	amber_check_err("context F (imprint 0x1234)", amber_pd_alloc_context(pd, src, 0x1234, f), AMBER_OK);
	amber_check_err("context G (imprint 0x5678)", amber_pd_alloc_context(pd, src, 0x5678, g), AMBER_OK);
	amber_check_err("nothing pending: receive (poll) -> TIMEOUT", amber_irq_receive(src + 1, AMBER_TIMEOUT_POLL),
			AMBER_ERR_TIMEOUT);
	amber_signal_submit(f, 2);
	amber_signal_submit(f, 3);
	amber_check_err("F submitted twice: the semaphore was triggered", amber_irq_receive(src + 1, AMBER_TIMEOUT_POLL),
			AMBER_OK);
	amber_check_err("fetch", amber_signal_wait_for_signal(src, &imprint, &count), AMBER_OK);
	amber_check_val("F's imprint", imprint, 0x1234);
	amber_check_val("count 5", count, 5);
	amber_check_err("fetch again -> TIMEOUT", amber_signal_wait_for_signal(src, &imprint, &count), AMBER_ERR_TIMEOUT);
	amber_check_err("triggered once only: receive (poll) -> TIMEOUT", amber_irq_receive(src + 1, AMBER_TIMEOUT_POLL),
			AMBER_ERR_TIMEOUT);

	amber_signal_submit(g, 1);
	amber_signal_submit(f, 1);
	amber_check_err("F and G pending: one trigger", amber_irq_receive(src + 1, AMBER_TIMEOUT_POLL), AMBER_OK);
	amber_check_err("fetch G first", amber_signal_wait_for_signal(src, &imprint, &count), AMBER_OK);
	amber_check_val("G's imprint", imprint, 0x5678);
	amber_check_err("F still pending: core triggered again", amber_irq_receive(src + 1, AMBER_TIMEOUT_POLL),
			AMBER_OK);
	amber_check_err("fetch F", amber_signal_wait_for_signal(src, &imprint, &count), AMBER_OK);
	amber_check_val("F's imprint", imprint, 0x1234);
	amber_check_err("and no trigger is left", amber_irq_receive(src + 1, AMBER_TIMEOUT_POLL), AMBER_ERR_TIMEOUT);

	/* A freed context's pending signal is dropped. */
	amber_signal_submit(g, 1);
	amber_check_err("free the pending G", amber_pd_free_context(pd, g), AMBER_OK);
	amber_check_val("its capability is revoked", amber_cap_info_of(g).kind, AMBER_KIND_NONE);
	amber_check_err("its trigger is still there", amber_irq_receive(src + 1, AMBER_TIMEOUT_POLL), AMBER_OK);
	amber_check_err("but nothing to fetch", amber_signal_wait_for_signal(src, &imprint, &count), AMBER_ERR_TIMEOUT);
	amber_check_err("submit to the freed context -> INVALID_CAP", amber_signal_submit(g, 1), AMBER_ERR_INVALID_CAP);
	amber_check_err("through the PD -> ITEM", amber_pd_submit(pd, g, 1), AMBER_ERR_ITEM);
	amber_check_err("free it again -> ITEM", amber_pd_free_context(pd, g), AMBER_ERR_ITEM);

	/* A context whose source is gone. */
	amber_signal_submit(f, 1);
	amber_check_err("free the source", amber_pd_free_signal_source(pd, src), AMBER_OK);
	amber_check_val("the source is revoked", amber_cap_info_of(src).kind, AMBER_KIND_NONE);
	amber_check_val("so is its semaphore", amber_cap_info_of(src + 1).kind, AMBER_KIND_NONE);
	amber_check_val("F is still there", amber_cap_info_of(f).kind, AMBER_KIND_GATE);
	amber_check_err("submit to F -> NO_PARTNER", amber_signal_submit(f, 1), AMBER_ERR_NO_PARTNER);
	amber_check_err("through the PD -> NO_PARTNER", amber_pd_submit(pd, f, 1), AMBER_ERR_NO_PARTNER);
	amber_check_err("a context of the freed source -> ITEM", amber_pd_alloc_context(pd, src, 1, g), AMBER_ERR_ITEM);
	amber_check_err("free F", amber_pd_free_context(pd, f), AMBER_OK);
	amber_cap_free(src);
	amber_cap_free(src + 1);
	amber_cap_free(f);
	amber_cap_free(g);
}

/* ---- forged capabilities and bad arguments ---------------------------------------- */

static void errors(void)
{
	amber_sel_t spare = amber_signal_alloc_slots(), weak = amber_check_slot();
	amber_check_err("SUBMIT to the LOG gate -> INVALID_ARG", amber_pd_submit(pd, AMBER_SEL_LOG, 1),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("SUBMIT to an IRQ -> INVALID_ARG", amber_pd_submit(pd, irq, 1), AMBER_ERR_INVALID_ARG);
	amber_check_err("SUBMIT to a signal source -> INVALID_ARG", amber_pd_submit(pd, rcv.source, 1),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("SUBMIT to our own gate -> INVALID_ARG", amber_pd_submit(pd, own_gate, 1),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("SUBMIT 0 -> INVALID_ARG", amber_pd_submit(pd, ca.sel, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("SUBMIT 2^32 -> INVALID_ARG", amber_pd_submit(pd, ca.sel, 1ull << 32), AMBER_ERR_INVALID_ARG);
	amber_check_err("the context's SUBMIT of 0 -> INVALID_ARG", amber_signal_submit(ca.sel, 0), AMBER_ERR_INVALID_ARG);
	u->mr[0] = AMBER_PD_SUBMIT;
	u->mr[1] = 1;
	amber_check_err("SUBMIT without a capability -> INVALID_ARG",
			amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 2, 0), T_US, T_US), AMBER_ERR_INVALID_ARG);

	amber_check_err("ALLOC_CONTEXT of the LOG gate -> INVALID_ARG",
			amber_pd_alloc_context(pd, AMBER_SEL_LOG, 1, weak), AMBER_ERR_INVALID_ARG);
	amber_check_err("ALLOC_CONTEXT of a context -> INVALID_ARG", amber_pd_alloc_context(pd, ca.sel, 1, weak),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("ALLOC_CONTEXT of an IRQ -> INVALID_ARG", amber_pd_alloc_context(pd, irq, 1, weak),
			AMBER_ERR_INVALID_ARG);
	amber_check_val("a refused alloc leaves the slot empty", amber_cap_info_of(weak).kind, AMBER_KIND_NONE);
	amber_check_err("ALLOC_SIGNAL_SOURCE for the LOG gate -> INVALID_ARG",
			amber_pd_alloc_signal_source(pd, AMBER_SEL_LOG, spare, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("ALLOC_SIGNAL_SOURCE for an IRQ -> INVALID_ARG", amber_pd_alloc_signal_source(pd, irq, spare, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("a thread capability without CONTROL",
			amber_task_map(AMBER_SEL_TASK, AMBER_SEL_THREAD, weak, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT),
			AMBER_OK);
	amber_check_err("ALLOC_SIGNAL_SOURCE for it -> RIGHTS", amber_pd_alloc_signal_source(pd, weak, spare, 0),
			AMBER_ERR_RIGHTS);
	amber_task_delete(AMBER_SEL_TASK, weak);
	amber_check_err("FREE_SIGNAL_SOURCE of a context -> INVALID_ARG", amber_pd_free_signal_source(pd, ca.sel),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("FREE_SIGNAL_SOURCE of the LOG gate -> INVALID_ARG",
			amber_pd_free_signal_source(pd, AMBER_SEL_LOG), AMBER_ERR_INVALID_ARG);
	amber_check_err("FREE_CONTEXT of the signal source -> INVALID_ARG", amber_pd_free_context(pd, rcv.source),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("FREE_CONTEXT of the LOG gate -> INVALID_ARG", amber_pd_free_context(pd, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);

	u->mr[0] = 99;
	amber_check_err("unknown PD method -> OPCODE", amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 1, 0), T_US, T_US),
			AMBER_ERR_OPCODE);
	u->mr[0] = 2;
	amber_check_err("unknown source method -> OPCODE",
			amber_ipc_call(rcv.source, amber_tag(AMBER_PROTO_SIGNAL_SOURCE, 1, 0), T_US, T_US),
			AMBER_ERR_OPCODE);
	u->mr[0] = AMBER_SIGNAL_CONTEXT_SUBMIT;
	u->mr[1] = 1;
	amber_check_err("a context with the source's protocol -> PROTO",
			amber_ipc_call(ca.sel, amber_tag(AMBER_PROTO_SIGNAL_SOURCE, 2, 0), T_US, T_US), AMBER_ERR_PROTO);
	amber_check_err("a source with the context's protocol -> PROTO",
			amber_ipc_call(rcv.source, amber_tag(AMBER_PROTO_SIGNAL_CONTEXT, 2, 0), T_US, T_US),
			AMBER_ERR_PROTO);
	amber_cap_free(spare);
	amber_cap_free(spare + 1);
	amber_cap_free(weak);
}

/* ---- contexts going away while signals are in flight -------------------------------- */

static void context_lifetime(void)
{
	static struct amber_signal_context ce;
	amber_check_err("context E", amber_signal_context_create(&rcv, &ce, record, &e), AMBER_OK);
	amber_sel_t copy = amber_check_slot();
	amber_check_err("a copy of E's capability", amber_task_map(AMBER_SEL_TASK, ce.sel, copy, AMBER_RIGHT_INVOKE),
			AMBER_OK);
	blocker_release = 0;
	amber_signal_submit(cx.sel, 1);
	for (unsigned i = 0; i < WAIT_US / NAP_US && !blocker_in; i++)
		nap(NAP_US);
	amber_check_err("submit to E while the handler thread is busy", amber_signal_submit(copy, 1), AMBER_OK);
	amber_check_err("destroy E", amber_signal_context_destroy(&ce), AMBER_OK);
	amber_check_val("the copy is revoked with it", amber_cap_info_of(copy).kind, AMBER_KIND_NONE);
	amber_check_err("submit through the copy -> INVALID_CAP", amber_signal_submit(copy, 1), AMBER_ERR_INVALID_CAP);
	blocker_release = 1;
	nap(50000);
	amber_check_val("E's pending signal was dropped", e.calls, 0);
	amber_task_delete(AMBER_SEL_TASK, copy);
	amber_cap_free(copy);
}

/* ---- Timer ------------------------------------------------------------------------------ */

static struct rec t = { .name = 'T' };
static struct amber_signal_context ct;

static void timer(void)
{
	struct amber_timer tt;
	if (!amber_check_err("a Timer session for timeouts", amber_timer_open(&tt), AMBER_OK))
		return;
	amber_check_val("the session is a gate", amber_cap_info_of(tt.session).kind, AMBER_KIND_GATE);
	uint64_t prev = 0, e0 = elapsed();
	unsigned mono = 1;
	for (unsigned i = 0; i < 200; i++) {
		uint64_t now = elapsed();
		mono &= now >= prev;
		prev = now;
	}
	amber_check_val("ELAPSED_US never goes back (200 reads)", mono, 1);
	amber_check_val("the clock session was opened less than a minute ago", e0 < 60000000u, 1);
	uint64_t tt0 = 0;
	amber_timer_elapsed_us(&tt, &tt0);
	amber_check_val("a newer session counts from its own opening", tt0 <= elapsed(), 1);

	amber_check_err("context T", amber_signal_context_create(&rcv, &ct, record, &t), AMBER_OK);
	amber_check_err("SIGH T", amber_timer_sigh(&tt, ct.sel), AMBER_OK);

	/* once */
	uint64_t s0 = elapsed();
	amber_check_err("TRIGGER_ONCE 50 ms", amber_timer_trigger_once(&tt, 50000), AMBER_OK);
	if (amber_check_val("it fires", wait_for(&t.calls, 1), 1)) {
		amber_check_val("not before 50 ms", t.at_us - s0 >= 50000, 1);
		amber_check_val("and within 5 s", t.at_us - s0 < WAIT_US, 1);
		amber_log("one-shot of 50 ms: signal after %lu us", (unsigned long)(t.at_us - s0));
	}
	nap(150000);
	amber_check_val("once only", t.calls, 1);

	/* periodic */
	t.sum = 0;
	t.n = 5;
	s0 = elapsed();
	amber_check_err("TRIGGER_PERIODIC 20 ms", amber_timer_trigger_periodic(&tt, 20000), AMBER_OK);
	if (amber_check_val("it fires again and again (5 expiries)", wait_sum(&t.sum, 5), 1)) {
		amber_check_val("never more expiries than periods passed", t.at_n_us - s0 >= t.at_n * 20000, 1);
		amber_log("periodic of 20 ms: %lu expiries after %lu us", (unsigned long)t.at_n,
			  (unsigned long)(t.at_n_us - s0));
	}
	amber_check_err("TRIGGER_PERIODIC 0 stops it", amber_timer_trigger_periodic(&tt, 0), AMBER_OK);
	nap(10000);
	uint32_t calls = t.calls;
	nap(150000);
	amber_check_val("it stays stopped", t.calls <= calls + 1, 1);

	/* One timeout per session: a one-shot replaces the periodic. The
	 * handler moves to Q, which must then see the one-shot only. */
	static struct amber_signal_context cq;
	static struct rec q = { .name = 'Q' };
	amber_check_err("context Q", amber_signal_context_create(&rcv, &cq, record, &q), AMBER_OK);
	amber_check_err("periodic 20 ms again", amber_timer_trigger_periodic(&tt, 20000), AMBER_OK);
	nap(50000);
	amber_check_err("TRIGGER_ONCE 1 s replaces it", amber_timer_trigger_once(&tt, 1000000), AMBER_OK);
	amber_check_err("SIGH Q", amber_timer_sigh(&tt, cq.sel), AMBER_OK);
	amber_check_val("Q gets the one-shot", wait_for(&q.calls, 1), 1);
	nap(150000);
	amber_check_val("and nothing else: the periodic is gone", q.calls * 10 + q.sum, 11);
	amber_check_err("SIGH T again", amber_timer_sigh(&tt, ct.sel), AMBER_OK);
	calls = t.calls;
	amber_check_err("TRIGGER_ONCE 60 s", amber_timer_trigger_once(&tt, 60000000u), AMBER_OK);
	amber_check_err("TRIGGER_ONCE 10 ms replaces it", amber_timer_trigger_once(&tt, 10000), AMBER_OK);
	amber_check_val("it fires", wait_for(&t.calls, calls + 1), 1);

	/* no handler */
	amber_check_err("SIGH without a context", amber_timer_sigh(&tt, AMBER_SEL_INVALID), AMBER_OK);
	calls = t.calls;
	amber_check_err("TRIGGER_ONCE 1 ms", amber_timer_trigger_once(&tt, 1000), AMBER_OK);
	nap(50000);
	amber_check_val("expires unheard", t.calls, calls);

	/* sleep */
	s0 = elapsed();
	amber_check_err("sleep 30 ms", amber_timer_sleep_us(&naps, 30000), AMBER_OK);
	uint64_t slept = elapsed() - s0;
	amber_check_val("not less than 30 ms", slept >= 30000, 1);
	amber_check_val("and less than 5 s", slept < WAIT_US, 1);
	amber_check_err("sleep 0", amber_timer_sleep_us(&naps, 0), AMBER_OK);

	/* errors */
	amber_check_err("TRIGGER_PERIODIC 999 us -> INVALID_ARG", amber_timer_trigger_periodic(&tt, 999),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("TRIGGER_PERIODIC 1 us -> INVALID_ARG", amber_timer_trigger_periodic(&tt, 1),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("SIGH with the LOG gate -> INVALID_ARG", amber_timer_sigh(&tt, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("SIGH with a signal source -> INVALID_ARG", amber_timer_sigh(&tt, rcv.source),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("SIGH with an IRQ -> INVALID_ARG", amber_timer_sigh(&tt, irq), AMBER_ERR_INVALID_ARG);
	u->mr[0] = 99;
	amber_check_err("unknown Timer method -> OPCODE",
			amber_ipc_call(tt.session, amber_tag(AMBER_PROTO_TIMER, 1, 0), T_US, T_US), AMBER_ERR_OPCODE);
	u->mr[0] = AMBER_TIMER_TRIGGER_ONCE;
	amber_check_err("TRIGGER_ONCE without its argument -> INVALID_ARG",
			amber_ipc_call(tt.session, amber_tag(AMBER_PROTO_TIMER, 1, 0), T_US, T_US),
			AMBER_ERR_INVALID_ARG);

	/* a handler freed under a running periodic timeout */
	static struct amber_signal_context gone;
	static struct rec g = { .name = 'g' };
	amber_check_err("another context", amber_signal_context_create(&rcv, &gone, record, &g), AMBER_OK);
	amber_check_err("SIGH it", amber_timer_sigh(&tt, gone.sel), AMBER_OK);
	amber_check_err("periodic 1 ms", amber_timer_trigger_periodic(&tt, 1000), AMBER_OK);
	nap(20000);
	amber_check_err("free the context under it", amber_signal_context_destroy(&gone), AMBER_OK);
	nap(20000);
	amber_check_err("the session still answers", amber_timer_trigger_periodic(&tt, 0), AMBER_OK);
	amber_check_err("close the session", amber_timer_close(&tt), AMBER_OK);
}

int main(void)
{
	u = amber_utcb();
	amber_log("test_signals: start");
	pd = amber_env_pd();
	irq = amber_check_slot();
	own_gate = amber_check_slot();
	amber_check_err("factory creates an irq", amber_factory_create_irq(AMBER_SEL_FACTORY, irq), AMBER_OK);
	amber_check_err("factory creates a gate", amber_factory_create_gate(AMBER_SEL_FACTORY, own_gate, 0, 0x77),
			AMBER_OK);
	amber_check_err("a Timer session to nap with", amber_timer_open(&naps), AMBER_OK);
	amber_check_err("a Timer session to read the time", amber_timer_open(&clock), AMBER_OK);

	receiver();
	delivery();
	other_component();
	own_source();
	errors();
	context_lifetime();
	timer();

	amber_sel_t source = rcv.source, sem = rcv.sem;
	amber_check_err("destroy the receiver", amber_signal_receiver_destroy(&rcv), AMBER_OK);
	amber_check_val("its source is revoked", amber_cap_info_of(source).kind, AMBER_KIND_NONE);
	amber_check_val("its semaphore too", amber_cap_info_of(sem).kind, AMBER_KIND_NONE);
	amber_check_val("and its contexts", amber_cap_info_of(ca.sel).kind, AMBER_KIND_NONE);
	if (peer) {
		u->mr[0] = AMBER_TEST_SIGPEER_QUIT;
		amber_check_err("tell the peer to quit",
				amber_ipc_call(peer, amber_tag(AMBER_TEST_SIGPEER_PROTO, 1, 0), T_US, T_US), AMBER_OK);
	}
	return amber_check_done();
}
