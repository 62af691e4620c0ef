/*
 * sheep_counter: counts sheep on a periodic timer signal, "1 sheep",
 * "2 sheep", ..., and exits after SHEEP_MAX of them.
 *
 * A framework component (amber/component.h): component_construct opens a
 * Timer session, registers a signal handler with the main entrypoint and
 * starts a periodic timeout, and returns; the initial thread then runs the
 * entrypoint's loop. Each expiry wakes the entrypoint's signal-handler
 * thread, which blocks on the signal source's semaphore IRQ (core attached
 * it, the seed's CAP3), and which forwards the signal through the
 * entrypoint's signal-proxy capability (CAP2), so count_sheep runs in the
 * entrypoint thread, the initial thread. The entrypoint was constructed
 * with its temporary constructor capability (CAP4) and has its exit
 * capability (CAP1). That makes it the workload for checkpoint/restore:
 * restored, it must go on counting where it stopped, at the same pace.
 *
 * SHEEP_MAX and PERIOD_US are fixed for now; they will come from the
 * component's config ROM.
 */
#include <amber/component.h>
#include <amber/error.h>
#include <amber/log.h>
#include <amber/signal.h>
#include <amber/timer.h>

#define SHEEP_MAX 10u
#define PERIOD_US 50000u /* 50 ms */

struct counter {
	unsigned sheep;
	struct amber_env *env;
	struct amber_timer timer;
	struct amber_signal_context handler; /* Genode's Signal_handler */
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
		amber_timer_close(&c->timer);
		amber_log("sheep_counter: done, %u sheep", c->sheep);
		/* after this handler: the entrypoint is released, exit code 0 */
		amber_entrypoint_exit(c->env->ep, 0);
	}
}

static void fail(struct amber_env *env, const char *what, int err)
{
	amber_log("sheep_counter: %s failed: %s", what, amber_error_name(err));
	amber_entrypoint_exit(env->ep, 1);
}

void component_construct(struct amber_env *env)
{
	static struct counter c;
	int err;

	c.env = env;
	const char *what = "Timer session";
	if ((err = amber_timer_open(&c.timer)) ||
	    (what = "signal handler", err = amber_entrypoint_signal_handler(env->ep, &c.handler, count_sheep, &c)) ||
	    (what = "periodic timeout", err = amber_timer_sigh(&c.timer, c.handler.sel)) ||
	    (err = amber_timer_trigger_periodic(&c.timer, PERIOD_US))) {
		fail(env, what, err);
		return;
	}
	amber_log("sheep_counter: counting %u sheep, one every %u ms", SHEEP_MAX, PERIOD_US / 1000u);
}
