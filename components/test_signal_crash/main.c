/*
 * test_signal_crash: a component that dies in the middle of signalling. It
 * holds a signal receiver (handler thread blocked on its semaphore), a
 * second source whose semaphore is attached to its first thread with
 * signals pending, contexts, one of which another component holds
 * (test_signal_peer), and two Timer sessions, one periodic at the shortest
 * period and one a long one-shot. Then it faults. Core must release all of
 * it, cancel the timeouts, and revoke the peer's copy of the context,
 * while the other components keep running.
 */
#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/error.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/ipc.h>
#include <amber/signal.h>
#include <amber/test_protocols.h>
#include <amber/timer.h>

static volatile uint32_t ticks, peer_signals;

static void tick(void *arg, uint32_t count)
{
	(void)arg;
	ticks += count;
}

static void from_peer(void *arg, uint32_t count)
{
	(void)arg;
	peer_signals += count;
}

static int fail(const char *what, int err)
{
	amber_log("FAIL: %s (%s)", what, amber_error_name(err));
	return 1;
}

int main(void)
{
	static struct amber_signal_receiver r;
	static struct amber_signal_context c_tick, c_peer, c_idle;
	static struct amber_timer periodic, once, naps;
	struct amber_utcb *u = amber_utcb();
	amber_sel_t pd = amber_env_pd(), raw = amber_signal_alloc_slots(), raw_ctx = amber_cap_alloc();
	amber_sel_t peer = amber_cap_alloc();
	int err;

	if ((err = amber_signal_receiver_create(&r, 0)) || (err = amber_signal_context_create(&r, &c_tick, tick, 0)) ||
	    (err = amber_signal_context_create(&r, &c_peer, from_peer, 0)) ||
	    (err = amber_signal_context_create(&r, &c_idle, tick, 0)))
		return fail("receiver", err);
	/* A source nobody fetches from, its semaphore on this thread, two
	 * signals pending. */
	if ((err = amber_pd_alloc_signal_source(pd, AMBER_SEL_THREAD, raw, 0)) ||
	    (err = amber_pd_alloc_context(pd, raw, 42, raw_ctx)) || (err = amber_signal_submit(raw_ctx, 2)))
		return fail("raw source", err);
	if ((err = amber_timer_open(&periodic)) || (err = amber_timer_sigh(&periodic, c_tick.sel)) ||
	    (err = amber_timer_trigger_periodic(&periodic, AMBER_TIMER_MIN_PERIOD_US)))
		return fail("periodic timer", err);
	if ((err = amber_timer_open(&once)) || (err = amber_timer_sigh(&once, c_idle.sel)) ||
	    (err = amber_timer_trigger_once(&once, 60000000)))
		return fail("one-shot timer", err);
	if ((err = amber_timer_open(&naps)))
		return fail("naps", err);
	for (unsigned i = 0; i < 1000 && ticks < 10; i++)
		amber_timer_sleep_us(&naps, 1000);
	if (ticks < 10)
		return fail("the periodic timer ticks", AMBER_ERR_TIMEOUT);

	if ((err = amber_parent_session(AMBER_TEST_SIGPEER_SERVICE, peer, 10000000)))
		return fail("sigpeer session", err);
	u->mr[0] = AMBER_TEST_SIGPEER_HOLD;
	u->mr[1] = amber_map_item(c_peer.sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	if ((err = amber_ipc_call(peer, amber_tag(AMBER_TEST_SIGPEER_PROTO, 1, 1), 10000000, 10000000)))
		return fail("HOLD", err);
	for (unsigned i = 0; i < 5000 && !peer_signals; i++)
		amber_timer_sleep_us(&naps, 1000);
	if (!peer_signals)
		return fail("the peer's signal", AMBER_ERR_TIMEOUT);
	amber_log("crash: ready: %u ticks, the peer's signal arrived; faulting now", ticks);
	uintptr_t bad = 0x10;
	__asm__("" : "+r"(bad));
	*(volatile uint32_t *)bad = 1;
	return fail("did not fault", 0);
}
