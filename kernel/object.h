/*
 * Kernel objects and capability spaces: the data structures.
 *
 * Every object starts with a struct kobj. Objects are reference counted by
 * the capabilities that name them: when the last capability goes, the
 * object is destroyed (object.c). Capabilities live in per-task capability
 * spaces and form a derivation tree (the mapping database): each capability
 * knows the one it was mapped from and those mapped from it, so revoking is
 * a walk over an explicit tree, and export can name every relationship.
 *
 * Only files in kernel/ and the kernel's unit tests include this header;
 * core uses kernel.h.
 */
#ifndef AMBER_KERNEL_OBJECT_H
#define AMBER_KERNEL_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "amber/abi.h"
#include "kernel.h"

struct kobj {
	enum amber_kind kind;
	uint64_t id;              /* identity, unique for the kernel's lifetime */
	uint32_t ncaps;           /* capabilities naming this object */
	struct kfactory *charged; /* factory whose quota this object uses, if any */
	struct kobj *next, *prev; /* all live objects */
	struct kobj *id_next;     /* the same bucket of the id index (object.c) */
};

struct kcap {
	struct kobj *obj;      /* NULL: free slot */
	uint8_t rights;        /* enum amber_rights */
	amber_sel_t sel;       /* this slot's selector */
	struct ktask *owner;   /* task whose space holds this slot */
	struct kcap *parent;   /* capability this one was derived from */
	struct kcap *child;    /* first derived capability */
	struct kcap *sibling;  /* next capability derived from the same parent */
	struct kcap *prev_sibling; /* the one before it (NULL: first child); unlinking is O(1) */
};

/* A capability space grows in leaves of AMBER_CAP_LEAF_SLOTS slots, made
 * when a slot in them is first claimed and kept until the task ends (a
 * kcap is pointed to by its parent and children, so it never moves). */
#define KCAP_LEAVES (AMBER_CAP_SLOTS / AMBER_CAP_LEAF_SLOTS)
struct kcap_leaf {
	unsigned used; /* slots holding a capability */
	struct kcap slot[AMBER_CAP_LEAF_SLOTS];
};

struct ktask {
	struct kobj obj;
	char name[KERNEL_NAME_MAX];
	struct kcap_leaf *leaf[KCAP_LEAVES];
	unsigned nleaves;     /* leaves made */
	unsigned leaf_limit;  /* leaves it may have (kernel_task_limit_slots) */
	amber_sel_t free_hint; /* every slot from AMBER_SEL_FIRST_FREE up to it is in use */
	uint64_t installs;     /* capabilities ever installed (kernel_task_installs) */
	bool frozen;    /* a checkpoint holds it: its threads' calls wait */
	void *platform; /* the Linux process, owned by the platform layer */
};

/* A message in kernel memory: copied from the sender's UTCB when it is
 * sent, so the sender cannot change it while it waits to be delivered. */
struct kmsg {
	amber_tag_t tag;
	amber_word_t mr[AMBER_MR_COUNT]; /* words, then items */
};

struct kthread {
	struct kobj obj;
	char name[KERNEL_NAME_MAX];
	struct ktask *task;       /* capability space the thread uses; NULL once the task is gone */
	struct amber_utcb *utcb;  /* kernel's view of the UTCB; NULL for a thread without context */
	uint64_t utcb_addr;       /* UTCB address in the component */

	enum kthread_state state;
	uint32_t op_seq;          /* entry_seq of the operation in progress */

	/* KTHREAD_SEND: queued at `partner` (the gate's thread when it was sent). */
	struct kgate *send_gate;
	bool send_is_call;
	struct kmsg msg;
	struct kthread *queue_next;
	uint32_t queue_pos;       /* set by import only: keeps the exported FIFO order */
	/* Senders waiting for this thread to receive. */
	struct kthread *sendq_head, *sendq_tail;

	/* KTHREAD_SEND: the receiver; KTHREAD_REPLY_WAIT: the thread that owes
	 * the reply (NULL: core will reply, see kernel_core_reply). */
	struct kthread *partner;
	uint64_t rcv_timeout_us;  /* reply timeout, starts when the call is delivered */
	/* KTHREAD_REPLY_WAIT for core: the deferring handler's kcore_request
	 * `abandoned`, called if the wait ends without the reply. */
	void (*core_abandoned)(void *ctx);
	void *core_abandoned_ctx;
	/* The caller this thread owes a reply to. */
	struct kthread *reply_to;

	/* KTHREAD_IRQ_WAIT */
	struct kirq *wait_irq;
	struct kirq *attached_irqs; /* IRQs that deliver to this thread */

	amber_word_t rcv_window;  /* br[0] as of the last receive or call */

	uint64_t deadline_us;     /* KERNEL_NO_DEADLINE when not waiting with a timeout */
	struct kthread *timeout_next, *timeout_prev;
	bool on_timeout_list;

	void *platform;           /* the entry thread in core, owned by the platform layer */
	struct kthread *thread_next, *thread_prev; /* all live threads (kthread_first) */
};

struct kgate {
	struct kobj obj;
	uint64_t label;           /* the badge: delivered to the receiver of every message */
	struct kthread *bound;    /* receiver; NULL: unbound */
	kernel_core_handler handler; /* core service: runs in the kernel instead of a thread */
	void *handler_ctx;
};

struct kirq {
	struct kobj obj;
	struct kthread *attached; /* receiver of triggers; NULL: not attached */
	uint64_t label;           /* delivered with each trigger */
	uint32_t pending;         /* triggers not yet received */
	struct kirq *attach_next; /* IRQs attached to the same thread */
};

struct kfactory {
	struct kobj obj;
	uint32_t quota;           /* objects it may still create */
	uint32_t used;            /* objects it created that are alive */
	unsigned (*held)(void *ctx); /* what core holds on the same quota (or NULL) */
	void *held_ctx;
};

/* ---- object.c ---- */
void *kobj_alloc(enum amber_kind kind, size_t size);
void kobj_destroy(struct kobj *o);       /* called when ncaps drops to zero */
struct kobj *kobj_first(void);
/* All live threads: the walks that look for threads (a task's, those
 * queued at a gate) visit these, not every object, so destroying n gates
 * or tasks does not cost n times all objects. */
struct kthread *kthread_first(void);

/* ---- cap_space.c ---- */
struct kcap *cap_lookup(struct ktask *t, amber_sel_t sel); /* NULL if out of range or free */
struct kcap *cap_slot(struct ktask *t, amber_sel_t sel);   /* the slot, NULL if its leaf is not made */
bool cap_slot_valid(amber_sel_t sel);
bool cap_slot_free(struct ktask *t, amber_sel_t sel);
/* Make sel installable: AMBER_OK, or INVALID_ARG (out of range), SLOT_BUSY,
 * or QUOTA (its leaf would exceed the task's limit or memory). */
int cap_slot_claim(struct ktask *t, amber_sel_t sel);
void cap_space_init(struct ktask *t);
/* Put obj into a claimed free slot; parent may be NULL (a root capability). */
struct kcap *cap_install(struct ktask *t, amber_sel_t sel, struct kobj *obj, unsigned rights,
			 struct kcap *parent);
void cap_delete(struct kcap *c);          /* the slot and everything derived from it */
void cap_revoke_children(struct kcap *c); /* only what was derived from it */
void cap_space_clear(struct ktask *t); /* delete every slot and free the leaves */

/* ---- thread.c ---- */
void thread_complete(struct kthread *t, int error); /* finish the operation in progress */
void thread_block(struct kthread *t, enum kthread_state s, uint64_t timeout_us);
void thread_abort_ipc(struct kthread *t, int error); /* unlink from every wait, then complete */
void thread_unlink(struct kthread *t);             /* out of the queue or reply link it waits in */
void thread_destroy(struct kthread *t);
void thread_release_waiters(struct kthread *t); /* its caller and queued senders: NO_PARTNER */
int thread_invoke(struct kthread *caller, struct kthread *t, const struct kmsg *in, struct kmsg *out);

/* ---- ipc.c ---- */
int ipc_check_tag(amber_tag_t tag);
void ipc_send(struct kthread *t, struct kgate *g, bool is_call, const struct kmsg *m,
	      uint64_t snd_timeout_us, uint64_t rcv_timeout_us);
void ipc_reply(struct kthread *t, const struct kmsg *m, bool then_wait, uint64_t rcv_timeout_us);
void ipc_wait(struct kthread *t, uint64_t rcv_timeout_us);
void ipc_deliver_irq(struct kthread *t, struct kirq *irq);
/* t waits (RECV or IRQ_WAIT) and its task is not frozen: deliver what
 * came while it was (a pending IRQ, the first queued sender). */
void ipc_deliver_held(struct kthread *t);
void ipc_sendq_remove(struct kthread *receiver, struct kthread *sender);
/* Move map items from `from`'s space into `to`'s receive window; decode all,
 * then perform. Returns 0 or the error, writing rewritten items to out. */
int ipc_transfer_items(struct ktask *from, const struct kmsg *m, struct ktask *to, amber_word_t window,
		       amber_word_t *out_items, bool *receivers_fault);

/* ---- gate.c / irq.c / factory.c / task.c: kernel-object methods ---- */
int gate_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out);
int irq_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out,
	       uint64_t rcv_timeout_us, bool *blocked);
int factory_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out);
int task_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out);
void gate_destroy(struct kgate *g);
void irq_destroy(struct kirq *irq);
void irq_detach(struct kirq *irq);
void task_destroy(struct ktask *t);
void factory_destroy(struct kfactory *f);
struct kirq *irq_pending_for(struct kthread *t); /* an attached IRQ with pending > 0 */

/* ---- timeout.c ---- */
void timeout_arm(struct kthread *t, uint64_t timeout_us);
void timeout_disarm(struct kthread *t);

/* ---- kernel.c ---- */
extern struct kernel_platform kernel_plat;
uint64_t kernel_now(void);

#endif
