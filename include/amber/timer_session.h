/*
 * The Timer session of core: time and timeouts, delivered as signals.
 *
 * Obtained from the parent with the name AMBER_TIMER_SERVICE; core answers
 * it itself with a new session. Tag label AMBER_PROTO_TIMER, mr[0] the
 * method; refusals come back as the IPC result (utcb->error).
 *
 *   ELAPSED_US        -> mr[0] = microseconds since the session was opened.
 *                     Monotonic: it never goes back and never jumps.
 *   SIGH              one map item: a signal context (signal_source.h), any
 *                     component's; each expiry submits 1 to it. Without an
 *                     item: no context (expiries are dropped). INVALID_ARG
 *                     for a capability that is not a signal context.
 *   TRIGGER_ONCE      mr[1] = microseconds: one expiry that long from now.
 *   TRIGGER_PERIODIC  mr[1] = period in microseconds: an expiry every
 *                     period from now on; 0 stops. A period below
 *                     AMBER_TIMER_MIN_PERIOD_US is INVALID_ARG.
 * A session has one timeout: TRIGGER_ONCE and TRIGGER_PERIODIC replace
 * whatever was scheduled. A periodic timeout that falls behind (the
 * system was busy) skips the periods it missed instead of firing them in a
 * burst; the signal's count still says how many expiries the receiver has
 * not fetched yet.
 */
#ifndef AMBER_TIMER_SESSION_H
#define AMBER_TIMER_SESSION_H

#include "abi.h"

#define AMBER_TIMER_SERVICE "Timer"
#define AMBER_PROTO_TIMER 0x1012u
#define AMBER_TIMER_MIN_PERIOD_US 1000u

enum amber_timer_method {
	AMBER_TIMER_ELAPSED_US = 1,
	AMBER_TIMER_SIGH = 2,
	AMBER_TIMER_TRIGGER_ONCE = 3,
	AMBER_TIMER_TRIGGER_PERIODIC = 4,
};

#endif
