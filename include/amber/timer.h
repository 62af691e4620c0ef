/*
 * Timer session client (amber/timer_session.h): time since the session was
 * opened, timeouts delivered as signals, and sleeping.
 *
 * amber_timer_sleep_us() blocks the calling thread on a one-shot timeout
 * without a thread of its own: the first sleep asks core for a signal
 * source whose blocking semaphore core attaches to the calling thread
 * (the same mechanism as a signal receiver's handler thread, amber/
 * signal.h) and a context of it, makes that context the session's signal
 * handler, and from then on a sleep is TRIGGER_ONCE, an IRQ receive on the
 * semaphore and one WAIT_FOR_SIGNAL. A sleep from another thread moves
 * the semaphore to that thread (a new source). So a timer that sleeps
 * serves one thread at a time, and its signal handler is the sleep's:
 * use a second timer for TRIGGER_* with a handler of your own.
 */
#ifndef AMBER_TIMER_H
#define AMBER_TIMER_H

#include "abi.h"
#include "timer_session.h"

struct amber_timer {
	amber_sel_t session;
	/* for sleeping (0 until the first sleep) */
	amber_sel_t sleep_source;  /* sleep_source + 1: its semaphore */
	amber_sel_t sleep_context;
	amber_sel_t sleep_thread;  /* the thread the semaphore is attached to */
};

/* A new Timer session from the parent. 0 or an amber_error. */
int amber_timer_open(struct amber_timer *t);
/* Free the sleep objects and give the session back to the parent
 * (amber_parent_close): core stops its timeout and forgets its handler,
 * and the session no longer counts against the component's session limit.
 * INVALID_ARG if it is not open. */
int amber_timer_close(struct amber_timer *t);

/* Microseconds since the session was opened; monotonic. */
int amber_timer_elapsed_us(const struct amber_timer *t, uint64_t *us);
/* The signal context that expiries are submitted to; AMBER_SEL_INVALID:
 * none. */
int amber_timer_sigh(const struct amber_timer *t, amber_sel_t context);
int amber_timer_trigger_once(const struct amber_timer *t, uint64_t us);
/* Every `us` from now (at least AMBER_TIMER_MIN_PERIOD_US); 0 stops. */
int amber_timer_trigger_periodic(const struct amber_timer *t, uint64_t us);

/* Block the calling thread for at least `us` microseconds. */
int amber_timer_sleep_us(struct amber_timer *t, uint64_t us);

#endif
