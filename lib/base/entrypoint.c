/*
 * The Entrypoint (amber/entrypoint.h).
 *
 * Why the construct function runs inside the constructor object's
 * dispatch: that is "in the entrypoint's context" in the plainest sense,
 * on the entrypoint thread, inside its loop, exactly as Genode calls
 * Component::construct through `_constructor_cap`. The caller of the
 * constructor capability is the signal-handler thread, from its `started`
 * hook: so the call also says that the receiver is ready, and signals
 * wait until construction is over (the handler thread is in that call).
 * The constructor object dissolves itself when construct has returned;
 * the call is still answered (a dissolved object's running dispatch
 * replies as usual).
 *
 * Why the signal proxy is a synchronous RPC call: the handler thread
 * fetches one signal per semaphore wake-up and hands it over; while the
 * entrypoint runs the handler, the handler thread waits in the call, so
 * at most one signal is in flight and the count of a context keeps
 * accumulating in core meanwhile (Genode's signal proxy is a call too).
 *
 * Why run() releases the proxy before the receiver: the handler thread may
 * be calling the proxy when the loop ends; revoking the proxy capability
 * fails that call (NO_PARTNER / INVALID_CAP), so the thread gets back to
 * its semaphore, where freeing the source wakes it with CANCELED and it
 * ends; amber_signal_receiver_destroy joins it.
 */
#include <stddef.h>

#include <amber/entrypoint.h>
#include <amber/rpc.h>
#include <amber/string.h>
#include <amber/syscall.h>

static struct amber_entrypoint *ep_of_receiver(struct amber_signal_receiver *r)
{
	return (struct amber_entrypoint *)(void *)((char *)r - offsetof(struct amber_entrypoint, receiver));
}

/* ---- the signal proxy (CAP2) ---------------------------------------------------- */

/* The receiver's `deliver`, on the signal-handler thread. */
static void proxy_deliver(struct amber_signal_receiver *r, uint64_t imprint, uint32_t count)
{
	struct amber_entrypoint *ep = ep_of_receiver(r);
	amber_sel_t proxy = __atomic_load_n(&ep->signal_proxy.cap, __ATOMIC_ACQUIRE);
	if (proxy == AMBER_SEL_INVALID)
		return;
	amber_word_t args[2] = { imprint, count };
	amber_rpc_call_words(proxy, AMBER_EP_SIGNAL_PROXY_PROTO, AMBER_EP_SIGNAL_PROXY_DELIVER, 2, args, 0, 0);
	/* an error: the entrypoint is going away, the signal with it */
}

/* On the entrypoint thread. */
static int proxy_dispatch(struct amber_rpc_object *obj, amber_word_t opcode, struct amber_rpc_msg *args,
			  struct amber_rpc_msg *res)
{
	(void)res;
	struct amber_entrypoint *ep = obj->state;
	if (opcode != AMBER_EP_SIGNAL_PROXY_DELIVER)
		return AMBER_ERR_OPCODE;
	if (args->words < 2 || args->w[1] == 0 || args->w[1] > UINT32_MAX)
		return AMBER_ERR_INVALID_ARG;
	ep->proxied++;
	amber_signal_dispatch(&ep->receiver, args->w[0], (uint32_t)args->w[1]);
	return AMBER_OK;
}

/* ---- the constructor (CAP4) ----------------------------------------------------- */

/* The receiver's `started` hook, on the signal-handler thread. */
static void handler_thread_started(struct amber_signal_receiver *r)
{
	struct amber_entrypoint *ep = ep_of_receiver(r);
	amber_rpc_call(ep->constructor.cap, AMBER_EP_CONSTRUCTOR_PROTO, AMBER_EP_CONSTRUCT, 0, 0);
}

static int constructor_dispatch(struct amber_rpc_object *obj, amber_word_t opcode, struct amber_rpc_msg *args,
				struct amber_rpc_msg *res)
{
	(void)args;
	(void)res;
	struct amber_entrypoint *ep = obj->state;
	if (opcode != AMBER_EP_CONSTRUCT)
		return AMBER_ERR_OPCODE;
	if (__atomic_load_n(&ep->state, __ATOMIC_ACQUIRE) != AMBER_EP_CONSTRUCTING)
		return AMBER_ERR_INVALID_ARG;
	ep->construct(ep->env);
	amber_rpc_ep_dissolve(&ep->rpc, &ep->constructor); /* FREE_RPC_CAP: gone everywhere */
	__atomic_store_n(&ep->state, AMBER_EP_RUNNING, __ATOMIC_RELEASE);
	return AMBER_OK;
}

/* ---- life cycle -------------------------------------------------------------------- */

int amber_entrypoint_construct(struct amber_entrypoint *ep, struct amber_env *env, amber_construct_fn construct)
{
	if (!construct || !env)
		return AMBER_ERR_INVALID_ARG;
	memset(ep, 0, sizeof(*ep));
	ep->env = env;
	ep->construct = construct;
	ep->signal_proxy.cap = AMBER_SEL_INVALID;
	ep->constructor.cap = AMBER_SEL_INVALID;
	env->ep = ep;
	int err = amber_rpc_ep_create_here(&ep->rpc);
	if (err)
		return err;
	amber_rpc_object_init(&ep->signal_proxy, AMBER_EP_SIGNAL_PROXY_PROTO, proxy_dispatch, ep);
	amber_rpc_object_init(&ep->constructor, AMBER_EP_CONSTRUCTOR_PROTO, constructor_dispatch, ep);
	if ((err = amber_rpc_ep_manage(&ep->rpc, &ep->signal_proxy)) ||
	    (err = amber_rpc_ep_manage(&ep->rpc, &ep->constructor)))
		goto fail;
	__atomic_store_n(&ep->state, AMBER_EP_CONSTRUCTING, __ATOMIC_RELEASE);
	err = amber_signal_receiver_create_hooked(&ep->receiver, proxy_deliver, handler_thread_started);
	if (err)
		goto fail;
	return AMBER_OK;
fail:
	amber_rpc_ep_destroy(&ep->rpc); /* dissolves what was managed */
	ep->signal_proxy.cap = AMBER_SEL_INVALID;
	ep->constructor.cap = AMBER_SEL_INVALID;
	__atomic_store_n(&ep->state, AMBER_EP_NONE, __ATOMIC_RELEASE);
	return err;
}

int amber_entrypoint_run(struct amber_entrypoint *ep)
{
	int err = amber_rpc_ep_serve(&ep->rpc);
	if (err)
		return err;
	if (ep->signal_proxy.ep)
		amber_rpc_ep_dissolve(&ep->rpc, &ep->signal_proxy);
	amber_signal_receiver_destroy(&ep->receiver);
	amber_rpc_ep_destroy(&ep->rpc); /* the constructor if still there, the component's objects, CAP1 */
	__atomic_store_n(&ep->state, AMBER_EP_EXITED, __ATOMIC_RELEASE);
	return ep->exit_code;
}

void amber_entrypoint_exit(struct amber_entrypoint *ep, int code)
{
	ep->exit_code = code;
	if (amber_entrypoint_on_thread(ep))
		__atomic_store_n(&ep->rpc.exit, 1u, __ATOMIC_RELEASE);
	else
		amber_rpc_call(ep->rpc.exit_obj.cap, AMBER_RPC_EXIT_PROTO, AMBER_RPC_EXIT, 0, 0);
}

/* ---- objects and handlers --------------------------------------------------------- */

int amber_entrypoint_manage(struct amber_entrypoint *ep, struct amber_rpc_object *obj)
{
	return amber_rpc_ep_manage(&ep->rpc, obj);
}

int amber_entrypoint_dissolve(struct amber_entrypoint *ep, struct amber_rpc_object *obj)
{
	if (obj == &ep->signal_proxy || obj == &ep->constructor)
		return AMBER_ERR_INVALID_ARG;
	return amber_rpc_ep_dissolve(&ep->rpc, obj);
}

int amber_entrypoint_signal_handler(struct amber_entrypoint *ep, struct amber_signal_context *ctx,
				    amber_signal_handler handler, void *arg)
{
	return amber_signal_context_create(&ep->receiver, ctx, handler, arg);
}

amber_sel_t amber_entrypoint_constructor_cap(const struct amber_entrypoint *ep)
{
	return ep->constructor.ep ? ep->constructor.cap : AMBER_SEL_INVALID;
}

amber_sel_t amber_entrypoint_signal_proxy_cap(const struct amber_entrypoint *ep)
{
	return ep->signal_proxy.ep ? ep->signal_proxy.cap : AMBER_SEL_INVALID;
}

int amber_entrypoint_on_thread(const struct amber_entrypoint *ep)
{
	return (uint64_t)(uintptr_t)amber_utcb() == ep->rpc.thread.utcb;
}
