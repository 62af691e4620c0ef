/*
 * Signals, the receiving and the sending side (Genode's Signal_receiver,
 * Signal_context and Signal_transmitter).
 *
 * A signal receiver is a signal source in core (amber/signal_source.h)
 * with a signal-handler thread of its own. Core created the source's
 * blocking semaphore, an IRQ, and attached it to that thread (the seed's
 * CAP3); the thread loops: block on the semaphore (IRQ receive), fetch one
 * signal (WAIT_FOR_SIGNAL: the imprint and count of a pending context),
 * hand it to the receiver's `deliver` function, and again.
 *
 * `deliver` is where the entrypoint will step in: by default it is
 * amber_signal_dispatch(), which runs the context's handler right there,
 * in the signal-handler thread; an entrypoint passes a deliver function
 * that forwards (imprint, count) through its signal-proxy capability and
 * calls amber_signal_dispatch() in the entrypoint's own thread.
 *
 * A context's imprint is the address of its struct amber_signal_context;
 * dispatch only follows it if that context is still registered with the
 * receiver, so a signal fetched just before its context went away is
 * dropped. amber_signal_context_destroy() waits until a handler of that
 * context that is running in another thread has returned. Dispatch runs
 * one handler at a time per calling thread; handlers may create and
 * destroy contexts, also their own.
 *
 * Anyone holding a context capability can submit to it: pass ctx->sel
 * (INVOKE is enough for amber_signal_submit; GRANT to pass it on).
 */
#ifndef AMBER_SIGNAL_H
#define AMBER_SIGNAL_H

#include "abi.h"
#include "lock.h"
#include "thread.h"

struct amber_signal_receiver;

/* A handler: `arg` as given to amber_signal_context_create, `count` the
 * number of submits since the context was last delivered (at least 1). */
typedef void (*amber_signal_handler)(void *arg, uint32_t count);
typedef void (*amber_signal_deliver)(struct amber_signal_receiver *r, uint64_t imprint, uint32_t count);
/* Called once by the signal-handler thread when it runs and the source
 * exists, before it first blocks on the semaphore (an entrypoint calls its
 * constructor capability from here, amber/entrypoint.h). */
typedef void (*amber_signal_started)(struct amber_signal_receiver *r);

struct amber_signal_context {
	amber_sel_t sel; /* the context capability: what senders need */
	amber_signal_handler handler;
	void *arg;
	struct amber_signal_receiver *receiver;
	struct amber_signal_context *next; /* the receiver's contexts */
};

struct amber_signal_receiver {
	amber_sel_t source;          /* the signal source */
	amber_sel_t sem;             /* its blocking semaphore: source + 1, INVOKE only */
	amber_word_t badge;          /* the semaphore's label */
	struct amber_thread thread;  /* the signal-handler thread the semaphore is attached to */
	amber_signal_deliver deliver;
	amber_signal_started started; /* NULL: none */
	struct amber_lock lock;      /* contexts, dispatching */
	struct amber_signal_context *contexts;
	struct amber_signal_context *dispatching; /* whose handler runs now */
	uint64_t dispatch_utcb;      /* in which thread (its UTCB) */
	volatile uint32_t state;     /* the handler thread's orders (signal.c) */
	volatile uint64_t fetched;   /* signals the handler thread fetched */
};

/* Start a receiver: a signal-handler thread, a signal source for it.
 * `deliver` NULL means amber_signal_dispatch. 0 or an amber_error. */
int amber_signal_receiver_create(struct amber_signal_receiver *r, amber_signal_deliver deliver);
/* The same with a `started` hook (may be NULL). */
int amber_signal_receiver_create_hooked(struct amber_signal_receiver *r, amber_signal_deliver deliver,
					amber_signal_started started);
/* Free its contexts and its source (the handler thread wakes with
 * CANCELED and ends), join the thread. Not from the handler thread
 * (AMBER_ERR_SELF). */
int amber_signal_receiver_destroy(struct amber_signal_receiver *r);

/* A new context of receiver r; its capability lands in ctx->sel. */
int amber_signal_context_create(struct amber_signal_receiver *r, struct amber_signal_context *ctx,
				amber_signal_handler handler, void *arg);
/* Free it in core (revoking every copy; a pending signal is dropped) and
 * forget it. May be called from its own handler. */
int amber_signal_context_destroy(struct amber_signal_context *ctx);

/* Run the handler of the context with that imprint, if it is r's. */
void amber_signal_dispatch(struct amber_signal_receiver *r, uint64_t imprint, uint32_t count);

/* Signal_transmitter: submit `count` (>= 1) to a context capability, the
 * context's own SUBMIT (no PD session needed; PD SUBMIT does the same). */
int amber_signal_submit(amber_sel_t context, uint32_t count);

/* The source's WAIT_FOR_SIGNAL: never blocks; AMBER_ERR_TIMEOUT if no
 * context is pending. */
int amber_signal_wait_for_signal(amber_sel_t source, uint64_t *imprint, uint32_t *count);

/* Two adjacent free slots (a signal source and its semaphore), or
 * AMBER_SEL_INVALID. */
amber_sel_t amber_signal_alloc_slots(void);

#endif
