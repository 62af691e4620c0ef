/*
 * Timer session client and sleeping (amber/timer.h).
 *
 * Why sleep attaches a semaphore to the sleeper instead of using a signal
 * receiver: a receiver has a signal-handler thread, and the sleeper would
 * still need something to block on until that thread tells it. Letting
 * core attach the source's semaphore to the sleeping thread itself makes
 * the sleeper its own signal-handler thread: three IPCs per sleep and no
 * extra thread. Core delivers the expiry only once the deadline has
 * passed, so a wake-up with a signal is never early; one without (a
 * trigger whose context is gone) just blocks again.
 */
#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/signal.h>
#include <amber/thread.h>
#include <amber/timer.h>

static int call(const struct amber_timer *t, amber_word_t method, amber_word_t arg, unsigned words, unsigned items)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = method;
	u->mr[1] = arg;
	return amber_ipc_call(t->session, amber_tag(AMBER_PROTO_TIMER, words, items), AMBER_TIMEOUT_NEVER,
			      AMBER_TIMEOUT_NEVER);
}

int amber_timer_open(struct amber_timer *t)
{
	t->sleep_source = t->sleep_context = t->sleep_thread = AMBER_SEL_INVALID;
	t->session = amber_cap_alloc();
	if (t->session == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	int err = amber_parent_session(AMBER_TIMER_SERVICE, t->session, AMBER_TIMEOUT_NEVER);
	if (err) {
		amber_cap_free(t->session);
		t->session = AMBER_SEL_INVALID;
	}
	return err;
}

static void sleep_release(struct amber_timer *t)
{
	amber_sel_t pd = amber_env_pd();
	if (t->sleep_context != AMBER_SEL_INVALID) {
		amber_pd_free_context(pd, t->sleep_context);
		amber_cap_free(t->sleep_context);
	}
	if (t->sleep_source != AMBER_SEL_INVALID) {
		amber_pd_free_signal_source(pd, t->sleep_source);
		amber_cap_free(t->sleep_source);
		amber_cap_free(t->sleep_source + 1);
	}
	t->sleep_source = t->sleep_context = t->sleep_thread = AMBER_SEL_INVALID;
}

int amber_timer_close(struct amber_timer *t)
{
	if (t->session == AMBER_SEL_INVALID)
		return AMBER_ERR_INVALID_ARG;
	sleep_release(t); /* PD objects: not the session's own */
	/* Deleting our capability alone would leave the session, its
	 * timeout and its handler in core until we end: give it back. */
	int err = amber_parent_close(t->session);
	if (err)
		amber_task_delete(AMBER_SEL_TASK, t->session); /* our copy at least */
	amber_cap_free(t->session);
	t->session = AMBER_SEL_INVALID;
	return err;
}

int amber_timer_elapsed_us(const struct amber_timer *t, uint64_t *us)
{
	int err = call(t, AMBER_TIMER_ELAPSED_US, 0, 1, 0);
	if (err == AMBER_OK && amber_tag_words(amber_utcb()->tag) < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK)
		*us = amber_utcb()->mr[0];
	return err;
}

int amber_timer_sigh(const struct amber_timer *t, amber_sel_t context)
{
	if (context == AMBER_SEL_INVALID)
		return call(t, AMBER_TIMER_SIGH, 0, 1, 0);
	return call(t, AMBER_TIMER_SIGH, amber_map_item(context, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT), 1, 1);
}

int amber_timer_trigger_once(const struct amber_timer *t, uint64_t us)
{
	return call(t, AMBER_TIMER_TRIGGER_ONCE, us, 2, 0);
}

int amber_timer_trigger_periodic(const struct amber_timer *t, uint64_t us)
{
	return call(t, AMBER_TIMER_TRIGGER_PERIODIC, us, 2, 0);
}

/* A source whose semaphore is attached to the calling thread, a context of
 * it, and that context as the session's signal handler. */
static int sleep_prepare(struct amber_timer *t)
{
	amber_sel_t self = amber_thread_self(), pd = amber_env_pd();
	if (t->sleep_thread == self)
		return AMBER_OK;
	sleep_release(t);
	if (pd == AMBER_SEL_INVALID)
		return AMBER_ERR_NO_PARTNER;
	amber_sel_t source = amber_signal_alloc_slots(), context = amber_cap_alloc();
	int err = source == AMBER_SEL_INVALID || context == AMBER_SEL_INVALID ? AMBER_ERR_QUOTA : AMBER_OK;
	if (!err && (err = amber_pd_alloc_signal_source(pd, self, source, 0)) == AMBER_OK) {
		t->sleep_source = source;
		source = AMBER_SEL_INVALID;
		if ((err = amber_pd_alloc_context(pd, t->sleep_source, 0, context)) == AMBER_OK) {
			t->sleep_context = context;
			context = AMBER_SEL_INVALID;
			err = amber_timer_sigh(t, t->sleep_context);
		}
	}
	if (source != AMBER_SEL_INVALID) {
		amber_cap_free(source);
		amber_cap_free(source + 1);
	}
	amber_cap_free(context);
	if (err)
		sleep_release(t);
	else
		t->sleep_thread = self;
	return err;
}

int amber_timer_sleep_us(struct amber_timer *t, uint64_t us)
{
	int err = sleep_prepare(t);
	if (err)
		return err;
	if ((err = amber_timer_trigger_once(t, us)))
		return err;
	for (;;) {
		if ((err = amber_irq_receive(t->sleep_source + 1, AMBER_TIMEOUT_NEVER)))
			return err;
		uint64_t imprint;
		uint32_t count;
		if (amber_signal_wait_for_signal(t->sleep_source, &imprint, &count) == AMBER_OK)
			return AMBER_OK;
	}
}
