/*
 * Signal receivers, contexts and the transmitter (amber/signal.h).
 *
 * Why one fetch per wake-up: core keeps exactly one trigger of the
 * semaphore outstanding while contexts are pending at the source (it
 * triggers when the first one is queued and again after a fetch that
 * leaves more), so "receive, fetch one, deliver" neither misses a signal
 * nor wakes for nothing. A fetch that finds nothing (a trigger whose
 * context was freed meanwhile) just goes back to sleep.
 *
 * Why the handler thread waits for `state`: core attaches the semaphore
 * to the thread, so the thread must exist before the source does; it
 * starts, waits until the creator has the source (RUNNING) or gave up
 * (FAILED), and only then blocks on the semaphore. Destroying frees the
 * source in core, which destroys the semaphore: the blocked thread wakes
 * with CANCELED (or finds the slot empty), sees STOPPING and ends.
 */
#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/pd.h>
#include <amber/signal.h>
#include <amber/signal_source.h>

enum { STARTING = 0, RUNNING = 1, STOPPING = 2, FAILED = 3 };

static uint32_t state_of(const struct amber_signal_receiver *r)
{
	return __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
}

static void set_state(struct amber_signal_receiver *r, uint32_t s)
{
	__atomic_store_n(&r->state, s, __ATOMIC_RELEASE);
}

/* ---- the signal-handler thread --------------------------------------------- */

static void handler_thread(void *arg)
{
	struct amber_signal_receiver *r = arg;
	while (state_of(r) == STARTING)
		amber_sys_yield();
	if (state_of(r) == RUNNING && r->started)
		r->started(r);
	while (state_of(r) == RUNNING) {
		int err = amber_irq_receive(r->sem, AMBER_TIMEOUT_NEVER); /* blocks on CAP3 */
		if (err)
			break; /* CANCELED or gone: the source was freed */
		uint64_t imprint;
		uint32_t count;
		if (amber_signal_wait_for_signal(r->source, &imprint, &count) != AMBER_OK)
			continue; /* nothing pending after all */
		__atomic_add_fetch(&r->fetched, 1, __ATOMIC_RELAXED);
		r->deliver(r, imprint, count);
	}
}

static int on_handler_thread(const struct amber_signal_receiver *r)
{
	return (uint64_t)(uintptr_t)amber_utcb() == r->thread.utcb;
}

/* ---- slots --------------------------------------------------------------------- */

amber_sel_t amber_signal_alloc_slots(void)
{
	amber_sel_t held[16], found = AMBER_SEL_INVALID;
	unsigned n = 0;
	while (n < sizeof(held) / sizeof(held[0])) {
		amber_sel_t s = amber_cap_alloc();
		if (s == AMBER_SEL_INVALID)
			break;
		if (s + 1 < AMBER_CAP_SLOTS && amber_cap_reserve(s + 1, 1) == AMBER_OK) {
			found = s;
			break;
		}
		held[n++] = s; /* its neighbour is taken: try the next */
	}
	while (n)
		amber_cap_free(held[--n]);
	return found;
}

/* ---- receiver -------------------------------------------------------------------- */

int amber_signal_receiver_create(struct amber_signal_receiver *r, amber_signal_deliver deliver)
{
	return amber_signal_receiver_create_hooked(r, deliver, 0);
}

int amber_signal_receiver_create_hooked(struct amber_signal_receiver *r, amber_signal_deliver deliver,
					amber_signal_started started)
{
	amber_sel_t pd = amber_env_pd();
	if (pd == AMBER_SEL_INVALID)
		return AMBER_ERR_NO_PARTNER;
	r->deliver = deliver ? deliver : amber_signal_dispatch;
	r->started = started;
	r->lock = (struct amber_lock)AMBER_LOCK_INIT;
	r->contexts = 0;
	r->dispatching = 0;
	r->dispatch_utcb = 0;
	r->fetched = 0;
	r->badge = 0;
	set_state(r, STARTING);
	r->source = amber_signal_alloc_slots();
	if (r->source == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	r->sem = r->source + 1;
	int err = amber_thread_create(&r->thread, handler_thread, r);
	if (err) {
		amber_cap_free(r->source);
		amber_cap_free(r->sem);
		return err;
	}
	err = amber_pd_alloc_signal_source(pd, r->thread.sel, r->source, &r->badge);
	if (err) {
		set_state(r, FAILED);
		amber_thread_join(&r->thread);
		amber_cap_free(r->source);
		amber_cap_free(r->sem);
		return err;
	}
	set_state(r, RUNNING);
	return AMBER_OK;
}

int amber_signal_receiver_destroy(struct amber_signal_receiver *r)
{
	if (on_handler_thread(r))
		return AMBER_ERR_SELF;
	while (r->contexts)
		amber_signal_context_destroy(r->contexts);
	set_state(r, STOPPING);
	int err = amber_pd_free_signal_source(amber_env_pd(), r->source);
	amber_thread_join(&r->thread);
	amber_cap_free(r->source);
	amber_cap_free(r->sem);
	return err;
}

/* ---- contexts ------------------------------------------------------------------- */

int amber_signal_context_create(struct amber_signal_receiver *r, struct amber_signal_context *ctx,
				amber_signal_handler handler, void *arg)
{
	ctx->handler = handler;
	ctx->arg = arg;
	ctx->receiver = r;
	ctx->sel = amber_cap_alloc();
	if (ctx->sel == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	int err = amber_pd_alloc_context(amber_env_pd(), r->source, (amber_word_t)(uintptr_t)ctx, ctx->sel);
	if (err) {
		amber_cap_free(ctx->sel);
		ctx->sel = AMBER_SEL_INVALID;
		return err;
	}
	amber_lock_acquire(&r->lock);
	ctx->next = r->contexts;
	r->contexts = ctx;
	amber_lock_release(&r->lock);
	return AMBER_OK;
}

int amber_signal_context_destroy(struct amber_signal_context *ctx)
{
	struct amber_signal_receiver *r = ctx->receiver;
	amber_lock_acquire(&r->lock);
	for (struct amber_signal_context **pp = &r->contexts; *pp; pp = &(*pp)->next) {
		if (*pp == ctx) {
			*pp = ctx->next;
			break;
		}
	}
	amber_lock_release(&r->lock);
	int err = amber_pd_free_context(amber_env_pd(), ctx->sel);
	amber_cap_free(ctx->sel);
	ctx->sel = AMBER_SEL_INVALID;
	/* No new dispatch can find it now; wait for one that did, unless that
	 * is us (a handler destroying its own context). */
	uint64_t me = (uint64_t)(uintptr_t)amber_utcb();
	for (;;) {
		amber_lock_acquire(&r->lock);
		int busy = r->dispatching == ctx && r->dispatch_utcb != me;
		amber_lock_release(&r->lock);
		if (!busy)
			break;
		amber_sys_yield();
	}
	return err;
}

void amber_signal_dispatch(struct amber_signal_receiver *r, uint64_t imprint, uint32_t count)
{
	struct amber_signal_context *ctx = 0;
	amber_lock_acquire(&r->lock);
	for (struct amber_signal_context *c = r->contexts; c; c = c->next)
		if ((uint64_t)(uintptr_t)c == imprint)
			ctx = c;
	r->dispatching = ctx;
	r->dispatch_utcb = (uint64_t)(uintptr_t)amber_utcb();
	amber_lock_release(&r->lock);
	if (!ctx)
		return; /* freed after core queued it */
	ctx->handler(ctx->arg, count);
	amber_lock_acquire(&r->lock);
	r->dispatching = 0;
	amber_lock_release(&r->lock);
}

/* ---- the objects' methods ------------------------------------------------------- */

int amber_signal_submit(amber_sel_t context, uint32_t count)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_SIGNAL_CONTEXT_SUBMIT;
	u->mr[1] = count;
	return amber_ipc_call(context, amber_tag(AMBER_PROTO_SIGNAL_CONTEXT, 2, 0), AMBER_TIMEOUT_NEVER,
			      AMBER_TIMEOUT_NEVER);
}

int amber_signal_wait_for_signal(amber_sel_t source, uint64_t *imprint, uint32_t *count)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_SIGNAL_SOURCE_WAIT_FOR_SIGNAL;
	int err = amber_ipc_call(source, amber_tag(AMBER_PROTO_SIGNAL_SOURCE, 1, 0), AMBER_TIMEOUT_NEVER,
				 AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 2)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK) {
		*imprint = u->mr[0];
		*count = (uint32_t)u->mr[1];
	}
	return err;
}
