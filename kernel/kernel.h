/*
 * The Amber capability kernel: the interface core and the platform use.
 *
 * The kernel is a library inside amber-core. It owns kernel objects (tasks,
 * threads, IPC gates, IRQs, factories) and capability spaces, performs IPC
 * between threads through their UTCBs, and offers core the export/import
 * operations that checkpoint/restore needs. It knows nothing of Linux: the
 * platform layer tells it when a thread entered the kernel and is told,
 * through struct kernel_platform, when a thread's operation completed.
 *
 * Locking: one kernel lock (kernel_lock) protects all kernel state. Every
 * function here, except kernel_init, kernel_lock and kernel_unlock, must be
 * called with it held. No function blocks: a thread that has to wait is
 * marked blocked and its operation completes later, in whichever call
 * makes it possible (a reply, a trigger, a timeout, a cancel).
 */
#ifndef AMBER_KERNEL_H
#define AMBER_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amber/abi.h"

#define KERNEL_NAME_MAX 32
#define KERNEL_NO_DEADLINE UINT64_MAX

struct ktask;
struct kthread;
struct kgate;
struct kirq;
struct kfactory;
struct kobj;

enum kthread_state {
	KTHREAD_READY = 0,      /* running user code or stopped outside the kernel */
	KTHREAD_SEND = 1,       /* queued at a receiver, message in kernel memory */
	KTHREAD_REPLY_WAIT = 2, /* call delivered, waiting for the reply */
	KTHREAD_RECV = 3,       /* open wait */
	KTHREAD_IRQ_WAIT = 4,   /* waiting for one IRQ */
	KTHREAD_DEAD = 5,       /* its task is gone */
};

/* What the kernel needs from its host. */
struct kernel_platform {
	/* The thread's operation is complete and done_seq written; the thread
	 * had announced it sleeps (AMBER_SEQ_SLEEPING): wake it. */
	void (*thread_wake)(struct kthread *t);
	/* Monotonic time in microseconds. */
	uint64_t (*now_us)(void);
	/* The earliest timeout may have changed (kernel_next_deadline). */
	void (*deadline_changed)(void);
	/* A task broke the kernel-entry protocol; the platform should end it. */
	void (*task_violation)(struct ktask *t, const char *why);
	/* The thread object is about to be freed (optional). */
	void (*thread_destroyed)(struct kthread *t);
};

void kernel_init(const struct kernel_platform *plat);
void kernel_lock(void);
void kernel_unlock(void);

/* ---- Core services ---------------------------------------------------------
 * A gate created with a handler is served by core inside the kernel: a call
 * runs the handler at once with the message. Capabilities the caller sent are
 * already installed in core's task (items[i] name the slots); capabilities in
 * the reply are map items naming slots of core's task. A handler must not
 * destroy the calling thread: to end the caller's component, defer the
 * reply and let the platform end the process.
 */
struct kcore_request {
	struct kthread *caller;
	uint64_t label;                    /* the gate's badge */
	amber_tag_t tag;                   /* request */
	amber_word_t mr[AMBER_MR_COUNT];
	unsigned nitems;
	amber_sel_t items[AMBER_MAX_ITEMS]; /* received capabilities, in core's task */
	amber_tag_t reply_tag;             /* reply: words then map items in reply_mr */
	amber_word_t reply_mr[AMBER_MR_COUNT];
	bool is_call;                      /* false: a SEND, nobody waits for a reply */
	/* A handler that defers may set `abandoned`: the kernel calls it once,
	 * with the lock held, when the caller stops waiting without
	 * kernel_core_reply (timeout, cancel, its thread or task ends), and at
	 * once for a SEND, so core drops what it kept for the reply. It must
	 * not call into the kernel. */
	void (*abandoned)(void *ctx);
	void *abandoned_ctx;
};
enum kcore_result { KCORE_REPLY = 0, KCORE_DEFER = 1 };
/* Returns KCORE_REPLY (reply_tag/reply_mr are sent, reply error = *error) or
 * KCORE_DEFER (the caller stays blocked until kernel_core_reply or until
 * it stops waiting, see `abandoned`). */
typedef enum kcore_result (*kernel_core_handler)(void *ctx, struct kcore_request *req, int *error);

/* ---- Creating objects (core) -----------------------------------------------
 * Each creates the object and puts a capability with all rights into slot
 * `sel` of `space` (which must be free). Return 0 or an amber_error. */
struct ktask *kernel_core_task(void);
int kernel_create_task(struct ktask *space, amber_sel_t sel, const char *name, struct ktask **out);
/* Bound t's capability space by its caps quota: it may make the leaves
 * `slots` slots fill, and one more (never fewer than it has). A task not
 * limited may grow to AMBER_CAP_SLOTS; core's own task is never limited. */
void kernel_task_limit_slots(struct ktask *t, unsigned slots);
/* The leaves kernel_task_limit_slots lets a task with `slots` make (also
 * for checks of an image before any task exists, core/cr_validate.c). */
static inline unsigned kernel_space_leaves_for(unsigned slots)
{
	unsigned leaves = (unsigned)(((uint64_t)slots + AMBER_CAP_LEAF_SLOTS - 1) / AMBER_CAP_LEAF_SLOTS) + 1;
	return leaves < AMBER_CAP_SLOTS / AMBER_CAP_LEAF_SLOTS ? leaves : AMBER_CAP_SLOTS / AMBER_CAP_LEAF_SLOTS;
}
unsigned kernel_task_leaves(const struct ktask *t); /* leaves of slots made */
/* Capabilities ever installed in t: unchanged means no slot was filled
 * since (an index of t's slots need not be built again). */
uint64_t kernel_task_installs(const struct ktask *t);
int kernel_create_thread(struct ktask *space, amber_sel_t sel, struct ktask *task, const char *name,
			 struct amber_utcb *utcb, uint64_t utcb_addr, struct kthread **out);
int kernel_create_gate(struct ktask *space, amber_sel_t sel, uint64_t label, struct kthread *bound,
		       struct kgate **out);
int kernel_create_core_gate(struct ktask *space, amber_sel_t sel, uint64_t label,
			    kernel_core_handler handler, void *ctx, struct kgate **out);
int kernel_create_irq(struct ktask *space, amber_sel_t sel, struct kirq **out);
int kernel_create_factory(struct ktask *space, amber_sel_t sel, uint32_t quota, struct kfactory **out);
/* Move quota out of (delta < 0) or into (delta > 0) the factory in slot
 * `sel` of `space`: core's transfer of a parent's caps to a child. Taking
 * fails with AMBER_ERR_QUOTA unless that much of the quota is unused. */
int kernel_factory_adjust(struct ktask *space, amber_sel_t sel, int64_t delta);
/* The factory's quota and how much of it live objects use (PD QUOTA). */
int kernel_factory_info(struct ktask *space, amber_sel_t sel, uint32_t *quota, uint32_t *used);
/* Core charges what it keeps for the factory's component to the same
 * quota: `held(ctx)` is counted as used when the factory creates. */
int kernel_factory_set_held(struct ktask *space, amber_sel_t sel, unsigned (*held)(void *ctx), void *ctx);
/* The context of the core gate in slot `sel` of `space` if `handler` serves
 * it, else NULL: how core recognises its own session objects passed to it. */
void *kernel_core_gate_ctx(struct ktask *space, amber_sel_t sel, kernel_core_handler handler);

/* IRQs core uses itself (a signal source's blocking semaphore): attach to a
 * thread with a label, as AMBER_IRQ_ATTACH does, and trigger. Attach fails
 * with AMBER_ERR_INVALID_ARG for a thread whose task is gone. */
int kernel_irq_attach(struct kirq *irq, struct kthread *t, uint64_t label);
void kernel_irq_trigger(struct kirq *irq);

/* Derive a capability: dst gets (src rights & rights), as a child of src. */
int kernel_cap_map(struct ktask *src, amber_sel_t src_sel, struct ktask *dst, amber_sel_t dst_sel,
		   unsigned rights);
/* Delete a slot and everything derived from it. */
int kernel_cap_delete(struct ktask *t, amber_sel_t sel);
/* A free slot in t at or above `from`, or AMBER_SEL_INVALID. */
amber_sel_t kernel_cap_alloc(struct ktask *t, amber_sel_t from);
/* The object a slot names, its kind and rights (NULL if free). */
struct kobj *kernel_cap_object(struct ktask *t, amber_sel_t sel, enum amber_kind *kind, unsigned *rights);

/* ---- Threads (platform and core) --------------------------------------- */
/* The thread bumped its entry_seq: perform the operation in its UTCB. */
void kernel_thread_entry(struct kthread *t);
/* Abort the IPC the thread is blocked in with AMBER_ERR_CANCELED. */
void kernel_thread_cancel(struct kthread *t);
enum kthread_state kernel_thread_state(const struct kthread *t);
void kernel_thread_set_platform(struct kthread *t, void *p);
void *kernel_thread_platform(const struct kthread *t);
struct ktask *kernel_thread_task(const struct kthread *t);
const char *kernel_thread_name(const struct kthread *t);
struct amber_utcb *kernel_thread_utcb(const struct kthread *t);
void kernel_task_set_platform(struct ktask *t, void *p);
void *kernel_task_platform(const struct ktask *t);
const char *kernel_task_name(const struct ktask *t);
uint64_t kernel_object_id(const void *obj);

/* Reply to a caller whose core request was deferred. The caller must still
 * wait for core (it may have been cancelled or timed out meanwhile):
 * returns AMBER_ERR_NO_PARTNER otherwise. The request's `abandoned` is
 * not called. */
int kernel_core_reply(struct kthread *caller, int error, amber_tag_t tag, const amber_word_t *mr);
/* Still waiting for a deferred core reply? */
bool kernel_thread_awaits_core(const struct kthread *t);

/* ---- Timeouts ------------------------------------------------------------ */
uint64_t kernel_next_deadline(void); /* KERNEL_NO_DEADLINE if none */
void kernel_expire_timeouts(uint64_t now_us);

/* ---- Export / import (core only, for checkpoint/restore) ------------------- */
struct kernel_cap_info {
	amber_sel_t sel;
	enum amber_kind kind;
	uint64_t object_id;
	uint64_t badge;          /* gate label, IRQ attach label, 0 otherwise */
	unsigned rights;
	uint64_t parent_task_id; /* where it was derived from; 0: a root capability */
	amber_sel_t parent_sel;
};
typedef void (*kernel_cap_visitor)(void *ctx, const struct kernel_cap_info *info);
/* Visit every used slot of t in slot order. */
void kernel_space_enumerate(struct ktask *t, kernel_cap_visitor visit, void *ctx);
/* One slot's information. AMBER_OK or AMBER_ERR_INVALID_CAP (free). */
int kernel_cap_info_of(struct ktask *t, amber_sel_t sel, struct kernel_cap_info *info);
/* Install a capability to an existing object into a free slot, as a child of
 * (parent_task, parent_sel) when parent_task is not NULL. */
int kernel_cap_install(struct ktask *t, amber_sel_t sel, struct kobj *obj, unsigned rights,
		       struct ktask *parent_task, amber_sel_t parent_sel);

struct kernel_irq_state {
	uint64_t attached_thread_id; /* 0: not attached */
	uint64_t label;
	uint32_t pending;
};
void kernel_irq_export(const struct kirq *irq, struct kernel_irq_state *s);
/* `thread` is the restored counterpart of attached_thread_id (or NULL). */
int kernel_irq_import(struct kirq *irq, const struct kernel_irq_state *s, struct kthread *thread);

struct kernel_gate_state {
	uint64_t label;
	uint64_t bound_thread_id; /* 0: unbound or a core gate */
};
void kernel_gate_export(const struct kgate *g, struct kernel_gate_state *s);
int kernel_gate_import(struct kgate *g, const struct kernel_gate_state *s, struct kthread *bound);

/* IPC state of a thread: what it is blocked in, with whom, and the message
 * that is still in kernel memory. Object references are ids on export; the
 * importer passes the restored objects. */
struct kernel_thread_ipc_state {
	enum kthread_state state;
	uint32_t op_seq;
	bool send_is_call;
	amber_tag_t msg_tag;
	amber_word_t msg_mr[AMBER_MR_COUNT];
	amber_word_t rcv_window;
	uint64_t rcv_timeout_us;     /* the reply timeout of a queued call */
	uint64_t remaining_us;       /* of the current wait; KERNEL_NO_DEADLINE if none */
	uint64_t send_gate_id;       /* KTHREAD_SEND */
	uint32_t queue_pos;          /* KTHREAD_SEND: place in the receiver's queue, 0 = first */
	uint64_t partner_id;         /* KTHREAD_REPLY_WAIT; 0 = core */
	uint64_t reply_to_id;        /* caller owed a reply */
	uint64_t wait_irq_id;        /* KTHREAD_IRQ_WAIT */
};
void kernel_thread_ipc_export(const struct kthread *t, struct kernel_thread_ipc_state *s);
struct kernel_thread_ipc_refs {
	struct kgate *send_gate;
	struct kthread *partner;
	struct kthread *reply_to;
	struct kirq *wait_irq;
};
/* The thread must be KTHREAD_READY; it becomes blocked as described. Call
 * for all threads of a restored set before resuming any of them. */
int kernel_thread_ipc_import(struct kthread *t, const struct kernel_thread_ipc_state *s,
			     const struct kernel_thread_ipc_refs *refs);

/* ---- Identity and restore (core only) -------------------------------------- */
/* The next object created gets `id`, which no live object may have
 * (AMBER_ERR_SLOT_BUSY); fresh ids continue above it. */
int kernel_object_id_force(uint64_t id);
uint64_t kernel_object_id_next(void);      /* the id a fresh object would get */
size_t kernel_object_count(void);         /* live objects: what a leak makes grow */
void kernel_object_ids_above(uint64_t id); /* fresh ids from now on are > id */
/* The factory an object is charged to (0: none), and charging a restored
 * object to the restored factory in slot `sel` of `space`. */
uint64_t kernel_object_factory_id(const struct kobj *o);
int kernel_factory_charge(struct ktask *space, amber_sel_t sel, struct kobj *o);
/* An attached IRQ's place in its thread's list (0: first delivered). */
unsigned kernel_irq_attach_order(const struct kirq *irq);
/* Visit every capability derived from slot `sel` of t, depth first, each
 * before what was derived from it, siblings in the order they were made:
 * installing them in visiting order rebuilds the same tree. */
typedef void (*kernel_edge_visitor)(void *ctx, struct ktask *owner, const struct kernel_cap_info *info);
void kernel_cap_walk_derived(struct ktask *t, amber_sel_t sel, kernel_edge_visitor visit, void *ctx);
uint32_t kernel_thread_op_seq(const struct kthread *t);
/* A frozen task's threads are not served: the platform leaves an operation
 * a thread rang for unserved until the task is thawed, so no kernel
 * operation changes a component between a checkpoint's cut and the end of
 * its memory copy. Nor do they receive: senders queue and IRQs stay
 * pending, until the thaw delivers them (or, after checkpoint --kill,
 * the restore). */
void kernel_task_set_frozen(struct ktask *t, bool frozen);
/* Deliver to t's waiting threads what is queued or pending for them (a
 * restore, once its threads' IPC states and the parked senders are in). */
void kernel_task_deliver_held(struct ktask *t);
bool kernel_thread_frozen(const struct kthread *t);

/* Threads of other tasks waiting for a thread of `task`: queued at it, or
 * waiting for the reply it owes them. */
void kernel_threads_waiting_on(struct ktask *task, void (*visit)(void *ctx, struct kthread *t), void *ctx);
/* Take such a thread out of its wait without completing it (it sleeps on,
 * and is READY to the kernel), for kernel_thread_ipc_import to put back
 * on restored objects; or, if that cannot be, complete it with an error. */
void kernel_thread_park(struct kthread *t);
void kernel_thread_unpark_error(struct kthread *t, int error);

/* Find a live object by id (linear; for import and deferred replies). */
struct kobj *kernel_object_by_id(uint64_t id);
enum amber_kind kernel_object_kind(const struct kobj *o);

#endif
