/*
 * test_timeouts: timeouts near UINT64_MAX microseconds must not fire
 * (deadline arithmetic saturates: core's Timer sessions, the kernel's IPC
 * timeouts), and ordinary ones still must.
 *
 * The Timer session's signal source has its semaphore attached to this
 * thread, so an expiry is an IRQ this thread receives: with a bounded
 * receive ("nothing within 300 ms") or an open wait (any IPC timeout).
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/signal.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define QUIET_US 300000u /* how long a huge timeout is watched */

static struct amber_timer timer;
static amber_sel_t source, sem;

/* One expiry taken: the semaphore, then the signal. */
static int expiry(uint64_t within_us)
{
	int err = amber_irq_receive(sem, within_us);
	if (err)
		return err;
	uint64_t imprint;
	uint32_t count;
	return amber_signal_wait_for_signal(source, &imprint, &count);
}

static uint64_t elapsed(void)
{
	uint64_t us = 0;
	amber_timer_elapsed_us(&timer, &us);
	return us;
}

int main(void)
{
	amber_sel_t pd = amber_env_pd(), ctx = amber_cap_alloc();
	source = amber_signal_alloc_slots();
	sem = source + 1;
	amber_check_err("a Timer session", amber_timer_open(&timer), AMBER_OK);
	amber_check_err("a source on this thread", amber_pd_alloc_signal_source(pd, amber_thread_self(), source, 0),
			AMBER_OK);
	amber_check_err("a context", amber_pd_alloc_context(pd, source, 1, ctx), AMBER_OK);
	amber_check_err("the timer's handler", amber_timer_sigh(&timer, ctx), AMBER_OK);

	static const uint64_t huge[] = { UINT64_MAX, UINT64_MAX - 1, UINT64_MAX / 2 + 1, UINT64_MAX - 1000000u };
	for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		amber_check_err("a huge one-shot is accepted", amber_timer_trigger_once(&timer, huge[i]), AMBER_OK);
		amber_check_err("a huge one-shot does not fire", expiry(QUIET_US), AMBER_ERR_TIMEOUT);
		amber_check_err("a huge period is accepted", amber_timer_trigger_periodic(&timer, huge[i]), AMBER_OK);
		amber_check_err("a huge period does not fire", expiry(QUIET_US), AMBER_ERR_TIMEOUT);
	}

	amber_check_err("a 20 ms one-shot", amber_timer_trigger_once(&timer, 20000), AMBER_OK);
	amber_check_err("fires", expiry(2000000), AMBER_OK);
	amber_check_err("a 10 ms period", amber_timer_trigger_periodic(&timer, 10000), AMBER_OK);
	amber_check_err("fires", expiry(2000000), AMBER_OK);
	amber_check_err("and again", expiry(2000000), AMBER_OK);
	amber_check_err("stop the period", amber_timer_trigger_periodic(&timer, 0), AMBER_OK);
	while (expiry(0) == AMBER_OK) /* one that fired before the stop */
		;

	/* The kernel's IPC timeouts: a huge receive timeout is a long wait,
	 * not an expired one. The 100 ms one-shot ends each wait. */
	static const uint64_t waits[] = { UINT64_MAX - 1, UINT64_MAX - 2, UINT64_MAX / 2 + 1 };
	for (unsigned i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		uint64_t t0 = elapsed();
		amber_timer_trigger_once(&timer, 100000);
		int err = amber_irq_receive(sem, waits[i]);
		uint64_t took = elapsed() - t0;
		amber_check_err("an IRQ receive with a huge timeout waits for the IRQ", err, AMBER_OK);
		amber_check_val("it waited for the one-shot", took >= 90000, 1);
		uint64_t imprint;
		uint32_t count;
		amber_signal_wait_for_signal(source, &imprint, &count);

		t0 = elapsed();
		amber_timer_trigger_once(&timer, 100000);
		err = amber_ipc_wait(waits[i]);
		uint32_t label = amber_tag_label(amber_utcb()->tag); /* before the next IPC overwrites it */
		took = elapsed() - t0;
		amber_check_err("an open wait with a huge timeout gets the IRQ", err, AMBER_OK);
		amber_check_val("it is the semaphore's", label, AMBER_PROTO_IRQ);
		amber_check_val("it waited for the one-shot", took >= 90000, 1);
		amber_signal_wait_for_signal(source, &imprint, &count);
	}
	/* An ordinary IPC timeout still expires. */
	amber_check_err("a 50 ms receive timeout expires", amber_irq_receive(sem, 50000), AMBER_ERR_TIMEOUT);
	return amber_check_done();
}
