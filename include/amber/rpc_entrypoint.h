/*
 * RPC entrypoints (Genode's Rpc_entrypoint): a thread that serves any
 * number of RPC objects.
 *
 * An RPC object is a badge, an interface (the protocol its calls carry),
 * a dispatch function and a state pointer. manage() asks core for an RPC
 * capability bound to the entrypoint's thread (PD ALLOC_RPC_CAP; core
 * chooses the badge), records it in the capability map and in the
 * entrypoint's object table; the entrypoint's loop takes each call, finds
 * the object by the badge the kernel delivers in utcb->label, unpacks the
 * arguments (amber/rpc.h), calls the dispatch function and replies with
 * its status and results. dissolve() takes the object out of the table,
 * frees the capability (core revokes every copy) and waits until a
 * dispatch of the object that is running has ended.
 *
 * The exit capability: at construction the entrypoint manages one more
 * object of its own, whose only function makes the loop end. destroy()
 * first dissolves every object still managed, so that callers queued for
 * them fail at once with NO_PARTNER (later callers with INVALID_CAP: their
 * copies are revoked), then calls the exit capability: the entrypoint
 * thread finishes the call it is serving, takes the exit call, replies and
 * leaves its loop and ends; destroy() waits until core has cleaned up
 * after the thread, then frees the exit capability, the stack and the
 * receive window. A caller blocked on an entrypoint that is destroyed
 * therefore gets an error, never a hang, unless the object it called
 * never returns from its dispatch function.
 *
 * Rules: an entrypoint and its objects must stay in memory (and the
 * objects unchanged) until dissolve()/destroy() returns. Objects of an
 * entrypoint cannot be called from its own thread (the kernel answers
 * SELF); use amber_rpc_ep_lookup() to reach a local object instead.
 * destroy() from the entrypoint's own thread fails with SELF. The
 * entrypoint uses the component's PD, CPU and RM sessions (amber/env.h).
 */
#ifndef AMBER_RPC_ENTRYPOINT_H
#define AMBER_RPC_ENTRYPOINT_H

#include "abi.h"
#include "lock.h"
#include "rpc.h"
#include "thread.h"

/* The exit object's interface. */
#define AMBER_RPC_EXIT_PROTO 0x1100u
#define AMBER_RPC_EXIT 1u

#define AMBER_RPC_EP_BUCKETS 64u

struct amber_rpc_object;

/* Serve one call of `opcode`. args: the arguments; each capability in
 * args->cap[] is one reference the function owns: it keeps it by setting
 * the entry to AMBER_SEL_INVALID (and later gives it back with
 * amber_cap_map_release), otherwise the entrypoint releases it after the
 * reply is sent (so an argument may also be returned as a result). res:
 * empty on entry; the result words and the capabilities to return (sent
 * as copies; the server keeps its own).
 * Return 0 or a negative amber_error for the caller (results are then not
 * sent); an unknown opcode is AMBER_ERR_OPCODE. The function runs on the
 * entrypoint's thread and may make IPC, but not to objects of its own
 * entrypoint. */
typedef int (*amber_rpc_dispatch_t)(struct amber_rpc_object *obj, amber_word_t opcode, struct amber_rpc_msg *args,
				    struct amber_rpc_msg *res);

struct amber_rpc_object {
	/* Set by amber_rpc_object_init. */
	uint32_t proto;                /* calls with another tag label get PROTO */
	amber_rpc_dispatch_t dispatch;
	void *state;                   /* the object's own data */
	/* Set by manage, cleared by dissolve. */
	uint64_t badge;
	amber_sel_t cap;               /* the object's capability: hand this out */
	struct amber_rpc_entrypoint *ep;
	struct amber_rpc_object *next; /* the entrypoint's bucket chain */
};

enum amber_rpc_ep_state {
	AMBER_RPC_EP_NONE = 0,
	AMBER_RPC_EP_STARTING = 1,
	AMBER_RPC_EP_RUNNING = 2,
	AMBER_RPC_EP_ABORTED = 3, /* construction failed: the thread leaves at once */
	AMBER_RPC_EP_DESTROYED = 4,
};

struct amber_rpc_entrypoint {
	struct amber_thread thread;
	struct amber_rpc_object exit_obj; /* exit_obj.cap is the exit capability */
	struct amber_lock lock;           /* bucket, objects */
	struct amber_rpc_object *bucket[AMBER_RPC_EP_BUCKETS];
	unsigned objects;                 /* managed, the exit object included */
	struct amber_rpc_object *current; /* being dispatched (atomic) */
	amber_sel_t window;               /* AMBER_RPC_MAX_CAPS receive slots, or 0 */
	volatile uint32_t state;          /* enum amber_rpc_ep_state */
	volatile uint32_t exit;           /* set by the exit object */
	uint64_t served;                  /* calls dispatched (statistics) */
	uint32_t here;                    /* made by create_here: thread is the creator's */
	volatile uint32_t serving;        /* create_here: amber_rpc_ep_serve runs */
};

/* Fill in an object before managing it. */
void amber_rpc_object_init(struct amber_rpc_object *obj, uint32_t proto, amber_rpc_dispatch_t dispatch, void *state);

/* Start an entrypoint: its thread, receive window and exit capability.
 * 0 or a negative amber_error (nothing is left behind then). */
int amber_rpc_ep_create(struct amber_rpc_entrypoint *ep);

/* Serve `obj` on `ep`: obj->cap and obj->badge are set. INVALID_ARG if
 * obj is managed already or has no dispatch function, NO_PARTNER if ep
 * does not run, or PD ALLOC_RPC_CAP's error (QUOTA: 256 per component). */
int amber_rpc_ep_manage(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *obj);

/* Stop serving `obj`; every copy of its capability is revoked. Returns
 * when no dispatch of obj runs any more (at once on ep's own thread).
 * INVALID_ARG if obj is not managed by ep. */
int amber_rpc_ep_dissolve(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *obj);

/* The object of `ep` that capability `sel` names (a capability that came
 * back in a message maps onto the object's own slot), or NULL. The
 * result is stable only on ep's thread or while nobody dissolves. */
struct amber_rpc_object *amber_rpc_ep_lookup(struct amber_rpc_entrypoint *ep, amber_sel_t sel);

/* An entrypoint in the calling thread (the main entrypoint of
 * amber/entrypoint.h, in the initial thread): no thread of its own is
 * created, ep->thread names the caller (stack_ds AMBER_SEL_INVALID).
 * Objects can be managed at once; their calls wait until the caller runs
 * the loop with amber_rpc_ep_serve(). It has an exit capability too. */
int amber_rpc_ep_create_here(struct amber_rpc_entrypoint *ep);

/* Run the loop of such an entrypoint in its thread until the exit
 * capability is called or a dispatch function sets ep->exit (the call
 * being served is answered first). INVALID_ARG if ep is not one of
 * create_here's, SELF from another thread or from within the loop. */
int amber_rpc_ep_serve(struct amber_rpc_entrypoint *ep);

/* Dissolve what is still managed, stop the thread through the exit
 * capability, wait for it to end and release everything. 0 or the error
 * of the exit call; SELF on ep's own thread; INVALID_ARG if ep does not
 * run. */
int amber_rpc_ep_destroy(struct amber_rpc_entrypoint *ep);
/* For an entrypoint of create_here, destroy() is called from its own
 * thread when amber_rpc_ep_serve is not running (SELF otherwise): it
 * dissolves everything, the exit capability included, and frees the
 * receive window; the thread itself goes on. */

#endif
