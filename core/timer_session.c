/*
 * The Timer session: monotonic time since the session was opened, and one
 * timeout (once or periodic) whose expiries are submitted as signals.
 *
 * Time is CLOCK_MONOTONIC as core reads it, minus the moment the session
 * was opened, so ELAPSED_US never goes back and never jumps. That must
 * survive a checkpoint: a restore sets `opened_us` so that the elapsed
 * time continues from the value it had at the checkpoint (now - elapsed),
 * and schedules the timeout with the time it had left, so that neither
 * the restored component nor its periodic signals see the gap.
 *
 * The timeout is a struct core_timeout on core's one timeout thread
 * (timeout.c); an expiry submits 1 to the session's signal context, which
 * is kept by id (signal.c), so a context freed meanwhile is simply not
 * found. Everything runs with the kernel lock held.
 *
 * Protocol: include/amber/timer_session.h.
 */
#include <stdlib.h>

#include "amber/timer_session.h"
#include "core.h"
#include "cr_state.h"

struct timer_session {
	struct core_timeout timeout; /* first: the fire function gets it */
	uint64_t opened_us;          /* core's clock when the session was opened */
	uint64_t context_id;         /* the signal context; 0: none */
	uint64_t period_us;          /* 0: once */
};

/* A deadline `b` after `a`, saturated below UINT64_MAX ("never"). The
 * bound is taken from `a`, the clock: b may be anything a component sends,
 * UINT64_MAX included (UINT64_MAX - 1 - b would wrap for that one). */
static uint64_t add_sat(uint64_t a, uint64_t b) { return b > UINT64_MAX - 1 - a ? UINT64_MAX - 1 : a + b; }

static void fire(struct core_timeout *t, uint64_t now)
{
	struct timer_session *ts = (struct timer_session *)t;
	if (ts->context_id)
		signal_submit(ts->context_id, 1); /* a freed context: nothing to do */
	if (!ts->period_us)
		return;
	/* The next period after now, on the original grid: no drift, and
	 * periods missed while core was busy are skipped, not fired in a row. */
	uint64_t late = now - t->deadline_us; /* fired at or after its deadline */
	core_timeout_schedule(t, add_sat(now, ts->period_us - late % ts->period_us));
}

int timer_session_create(void **data)
{
	struct timer_session *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return AMBER_ERR_QUOTA;
	ts->timeout.fire = fire;
	ts->opened_us = core_time_us();
	*data = ts;
	return AMBER_OK;
}

void timer_session_destroy(void *data)
{
	struct timer_session *ts = data;
	core_timeout_cancel(&ts->timeout);
	free(ts);
}

static int sigh(struct timer_session *ts, struct kcore_request *req)
{
	if (req->nitems > 1)
		return AMBER_ERR_INVALID_ARG;
	uint64_t id = req->nitems ? signal_context_id(req->items[0]) : 0;
	bool given = req->nitems == 1;
	service_drop_items(req);
	if (given && !id)
		return AMBER_ERR_INVALID_ARG;
	ts->context_id = id;
	return AMBER_OK;
}

static int trigger(struct timer_session *ts, const struct kcore_request *req, bool periodic)
{
	if (amber_tag_words(req->tag) < 2)
		return AMBER_ERR_INVALID_ARG;
	uint64_t us = req->mr[1];
	if (periodic && us == 0) {
		core_timeout_cancel(&ts->timeout);
		ts->period_us = 0;
		return AMBER_OK;
	}
	if (periodic && us < AMBER_TIMER_MIN_PERIOD_US)
		return AMBER_ERR_INVALID_ARG;
	int err = core_timeout_schedule(&ts->timeout, add_sat(core_time_us(), us));
	ts->period_us = err == AMBER_OK && periodic ? us : 0;
	return err;
}

enum kcore_result timer_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct core_session *s = ctx;
	struct timer_session *ts = s->data;
	req->reply_tag = amber_tag(AMBER_PROTO_TIMER, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_TIMER) {
		*error = AMBER_ERR_PROTO;
	} else if (amber_tag_words(req->tag) < 1) {
		*error = AMBER_ERR_OPCODE;
	} else if (s->c->ending || !ts) {
		*error = AMBER_ERR_NO_PARTNER;
	} else {
		switch (req->mr[0]) {
		case AMBER_TIMER_ELAPSED_US:
			req->reply_mr[0] = core_time_us() - ts->opened_us;
			req->reply_tag = amber_tag(AMBER_PROTO_TIMER, 1, 0);
			*error = AMBER_OK;
			break;
		case AMBER_TIMER_SIGH: *error = sigh(ts, req); break;
		case AMBER_TIMER_TRIGGER_ONCE: *error = trigger(ts, req, false); break;
		case AMBER_TIMER_TRIGGER_PERIODIC: *error = trigger(ts, req, true); break;
		default: *error = AMBER_ERR_OPCODE; break;
		}
	}
	service_drop_items(req);
	return KCORE_REPLY;
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* Elapsed time and the time left are saved, not absolute clock readings:
 * restored, the session's clock continues from where it stood and the
 * timeout fires after the time it had left, so the component sees neither
 * a jump nor a step back, and a periodic timeout keeps its phase. */
int timer_session_save(struct cr_save *s, void *data, AmberImg__Session *m)
{
	struct timer_session *ts = data;
	AmberImg__TimerSession *x = CR_NEW(AmberImg__TimerSession, amber_img__timer_session__init);
	m->timer = x;
	x->elapsed_us = s->now_us - ts->opened_us;
	x->context_id = ts->context_id;
	x->period_us = ts->period_us;
	x->scheduled = core_timeout_scheduled(&ts->timeout);
	x->remaining_us = x->scheduled && ts->timeout.deadline_us > s->now_us ? ts->timeout.deadline_us - s->now_us : 0;
	return 0;
}

int timer_session_load(struct cr_load *l, const AmberImg__TimerSession *m, void **data)
{
	uint64_t now = core_time_us();
	if (m->elapsed_us > now)
		return cr_fail(l->err, l->errlen, "%s: Timer session opened %llu us ago, before this system's clock began",
			       l->c->name, (unsigned long long)m->elapsed_us);
	struct timer_session *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return cr_fail(l->err, l->errlen, "%s: no memory for a Timer session", l->c->name);
	ts->timeout.fire = fire;
	ts->opened_us = now - m->elapsed_us;
	ts->context_id = m->context_id;
	ts->period_us = m->period_us;
	if (m->scheduled && core_timeout_schedule(&ts->timeout, add_sat(now, m->remaining_us)) != AMBER_OK) {
		free(ts);
		return cr_fail(l->err, l->errlen, "%s: cannot schedule its timeout", l->c->name);
	}
	*data = ts;
	return 0;
}
