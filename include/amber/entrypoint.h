/*
 * The Entrypoint (Genode's Entrypoint): the thread in which a framework
 * component's code runs, serving its RPC objects and its signal handlers
 * one at a time, so component code needs no locks.
 *
 * An entrypoint is
 *   - an RPC entrypoint (amber/rpc_entrypoint.h) in the *calling* thread
 *     (amber_rpc_ep_create_here; the main entrypoint lives in the
 *     component's initial thread), with its exit capability (CAP1);
 *   - a signal receiver (amber/signal.h) whose signal-handler thread
 *     blocks on the source's semaphore IRQ (CAP3);
 *   - the SIGNAL-PROXY object (CAP2), an RPC object of the entrypoint with
 *     a badge from core: the signal-handler thread's `deliver` calls it
 *     with (imprint, count), and the entrypoint thread runs the handler
 *     (amber_signal_dispatch) between two RPC calls;
 *   - while it is being constructed, the CONSTRUCTOR object (CAP4), a
 *     temporary RPC capability: once the signal-handler thread runs, it
 *     calls the constructor capability (its `started` hook); the
 *     entrypoint's loop takes that call and runs the component's
 *     construct function in the entrypoint thread, then frees the
 *     capability (FREE_RPC_CAP, the call is answered) — Genode's
 *     `_constructor_cap`, which Entrypoint's constructor calls once to run
 *     Component::construct in the entrypoint's context and dissolves.
 *
 * Signals submitted while the component is constructing wait until
 * construct returns (the signal-handler thread is in the constructor call).
 * A construct function, handler or RPC function must not wait for a
 * signal or a call of its own entrypoint: that would wait for itself.
 */
#ifndef AMBER_ENTRYPOINT_H
#define AMBER_ENTRYPOINT_H

#include "abi.h"
#include "env.h"
#include "rpc_entrypoint.h"
#include "signal.h"

#define AMBER_EP_CONSTRUCTOR_PROTO 0x1101u
#define AMBER_EP_CONSTRUCT 1u
#define AMBER_EP_SIGNAL_PROXY_PROTO 0x1102u
#define AMBER_EP_SIGNAL_PROXY_DELIVER 1u /* imprint, count */

enum amber_ep_state {
	AMBER_EP_NONE = 0,
	AMBER_EP_CONSTRUCTING = 1, /* the constructor capability exists */
	AMBER_EP_RUNNING = 2,      /* construct returned, the capability is freed */
	AMBER_EP_EXITED = 3,       /* the loop ended, everything is released */
};

typedef void (*amber_construct_fn)(struct amber_env *env);

struct amber_entrypoint {
	struct amber_rpc_entrypoint rpc;       /* loop, objects, exit capability (CAP1) */
	struct amber_signal_receiver receiver; /* source, handler thread, semaphore (CAP3) */
	struct amber_rpc_object signal_proxy;  /* CAP2 */
	struct amber_rpc_object constructor;   /* CAP4, while CONSTRUCTING */
	struct amber_env *env;
	amber_construct_fn construct;
	volatile uint32_t state;               /* enum amber_ep_state */
	int exit_code;
	uint64_t proxied;                      /* signals delivered through the proxy */
};

/* Make the calling thread an entrypoint: RPC entrypoint, signal-proxy
 * and constructor objects, signal receiver. `construct(env)` runs in this
 * thread as soon as amber_entrypoint_run() serves the constructor call;
 * env->ep is set to ep. 0 or an amber_error (nothing is left behind then). */
int amber_entrypoint_construct(struct amber_entrypoint *ep, struct amber_env *env, amber_construct_fn construct);

/* Serve RPC calls and signals in the calling (the entrypoint's) thread
 * until amber_entrypoint_exit(); then release the entrypoint (signal
 * proxy, receiver and its thread and contexts, the RPC objects still
 * managed, the exit capability) and return the exit code. */
int amber_entrypoint_run(struct amber_entrypoint *ep);

/* Leave the loop: from the entrypoint's own thread (a construct function,
 * signal handler or RPC function) once the current one returns; from any
 * other thread through the exit capability (CAP1), waiting for that. */
void amber_entrypoint_exit(struct amber_entrypoint *ep, int code);

/* RPC objects served by the entrypoint (amber/rpc_entrypoint.h). */
int amber_entrypoint_manage(struct amber_entrypoint *ep, struct amber_rpc_object *obj);
int amber_entrypoint_dissolve(struct amber_entrypoint *ep, struct amber_rpc_object *obj);

/* Genode's Signal_handler: a signal context of the entrypoint's receiver
 * whose handler runs in the entrypoint thread; ctx->sel is the context
 * capability (give it to the Timer, to other components). Destroy with
 * amber_signal_context_destroy(ctx). */
int amber_entrypoint_signal_handler(struct amber_entrypoint *ep, struct amber_signal_context *ctx,
				    amber_signal_handler handler, void *arg);

/* The constructor capability's slot while the entrypoint is
 * constructing, AMBER_SEL_INVALID afterwards. */
amber_sel_t amber_entrypoint_constructor_cap(const struct amber_entrypoint *ep);
/* The signal-proxy capability's slot. */
amber_sel_t amber_entrypoint_signal_proxy_cap(const struct amber_entrypoint *ep);
/* 1 if the caller runs in the entrypoint's thread. */
int amber_entrypoint_on_thread(const struct amber_entrypoint *ep);

#endif
