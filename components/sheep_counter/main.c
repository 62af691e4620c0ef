/*
 * sheep_counter: counts sheep on a periodic timer signal, "1 sheep",
 * "2 sheep", ..., and exits after SHEEP_MAX of them.
 *
 * It is the smallest component that has every piece of signal state: a
 * Timer session with a periodic timeout, a signal receiver whose handler
 * thread blocks on the source's semaphore IRQ (core attached it, the
 * seed's CAP3), a signal context, and a first thread blocked on an IRQ of
 * its own until the handler says it is done. That makes it the workload
 * for checkpoint/restore: restored, it must go on counting where it
 * stopped, at the same pace.
 *
 * SHEEP_MAX and PERIOD_US are fixed for now; they will come from the
 * component's config ROM.
 */
#include <amber/cap_alloc.h>
#include <amber/error.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/signal.h>
#include <amber/timer.h>

#define SHEEP_MAX 10u
#define PERIOD_US 50000u /* 50 ms */

struct counter {
	unsigned sheep;
	amber_sel_t done; /* IRQ attached to the first thread */
	struct amber_timer timer;
};

static void count_sheep(void *arg, uint32_t count)
{
	struct counter *c = arg;
	(void)count; /* expiries we were too slow for are skipped, not counted twice */
	if (c->sheep >= SHEEP_MAX)
		return;
	c->sheep++;
	amber_log("%u sheep", c->sheep);
	if (c->sheep == SHEEP_MAX) {
		amber_timer_trigger_periodic(&c->timer, 0);
		amber_irq_trigger(c->done);
	}
}

static int fail(const char *what, int err)
{
	amber_log("sheep_counter: %s failed: %s", what, amber_error_name(err));
	return 1;
}

int main(void)
{
	static struct counter c;
	static struct amber_signal_receiver receiver;
	static struct amber_signal_context context;
	int err;

	c.done = amber_cap_alloc();
	if ((err = amber_factory_create_irq(AMBER_SEL_FACTORY, c.done)) ||
	    (err = amber_irq_attach(c.done, AMBER_SEL_THREAD, 0)))
		return fail("done IRQ", err);
	if ((err = amber_timer_open(&c.timer)))
		return fail("Timer session", err);
	if ((err = amber_signal_receiver_create(&receiver, 0)))
		return fail("signal receiver", err);
	if ((err = amber_signal_context_create(&receiver, &context, count_sheep, &c)))
		return fail("signal context", err);
	if ((err = amber_timer_sigh(&c.timer, context.sel)) ||
	    (err = amber_timer_trigger_periodic(&c.timer, PERIOD_US)))
		return fail("periodic timeout", err);
	amber_log("sheep_counter: counting %u sheep, one every %u ms", SHEEP_MAX, PERIOD_US / 1000u);

	while ((err = amber_irq_receive(c.done, AMBER_TIMEOUT_NEVER)) == AMBER_OK && c.sheep < SHEEP_MAX)
		;
	if (err)
		return fail("waiting", err);
	amber_signal_receiver_destroy(&receiver);
	amber_timer_close(&c.timer);
	amber_log("sheep_counter: done, %u sheep", c.sheep);
	return 0;
}
