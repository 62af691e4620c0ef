/*
 * RPC entrypoints (amber/rpc_entrypoint.h).
 *
 * Why the loop marks the object it dispatches (ep->current) under the
 * same lock as the table lookup: dissolve() removes the object under that
 * lock, so afterwards either the loop has not found it (and answers
 * INVALID_CAP) or it shows in `current` until the dispatch is over, which
 * is what dissolve waits for before the owner may free the object.
 *
 * Why destroy() revokes the objects before calling the exit capability:
 * the exit call queues behind callers that are waiting for the thread, and
 * one of them might wait for something only the destroyer would do after
 * destroy() returned. Revoking the gates takes every queued caller off the
 * queue with NO_PARTNER at once; the exit call then only waits for the
 * dispatch that is running.
 *
 * Why a call that brought or returns capabilities ends with a reply and
 * then a wait instead of one reply-and-wait: result capabilities belong to
 * the object, which may be dissolved as soon as `current` is cleared, and
 * argument capabilities the dispatch function did not keep are released
 * only after the reply (which may return them, as Genode's reference
 * counting keeps them alive until the reply is sent); and clearing
 * `current` before the wait keeps dissolve from waiting for the next call.
 * Calls with words only keep the one kernel entry.
 */
#include <amber/cap_alloc.h>
#include <amber/cap_map.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/pd.h>
#include <amber/rpc_entrypoint.h>
#include <amber/string.h>
#include <amber/syscall.h>

static unsigned bucket_of(uint64_t badge) { return (unsigned)(badge % AMBER_RPC_EP_BUCKETS); }

static struct amber_rpc_object *find(struct amber_rpc_entrypoint *ep, uint64_t badge)
{
	struct amber_rpc_object *o = ep->bucket[bucket_of(badge)];
	while (o && o->badge != badge)
		o = o->next;
	return o;
}

static void unlink_obj(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *obj)
{
	for (struct amber_rpc_object **pp = &ep->bucket[bucket_of(obj->badge)]; *pp; pp = &(*pp)->next) {
		if (*pp == obj) {
			*pp = obj->next;
			obj->next = 0;
			ep->objects--;
			return;
		}
	}
}

static int on_ep_thread(const struct amber_rpc_entrypoint *ep)
{
	return (uint64_t)(uintptr_t)amber_utcb() == ep->thread.utcb;
}

static void set_current(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *o)
{
	__atomic_store_n(&ep->current, o, __ATOMIC_RELEASE);
}

/* ---- the loop ---------------------------------------------------------- */

static amber_word_t window_word(struct amber_rpc_entrypoint *ep)
{
	if (ep->window == AMBER_SEL_INVALID)
		ep->window = amber_cap_alloc_run(AMBER_RPC_MAX_CAPS);
	return ep->window == AMBER_SEL_INVALID ? 0 : amber_rcv_window(ep->window, AMBER_RPC_MAX_CAPS);
}

/* Capabilities that arrived now live where they landed (bits of `kept`):
 * the rest of the window goes back, and a fresh window is taken. */
static void renew_window(struct amber_rpc_entrypoint *ep, unsigned kept)
{
	for (unsigned i = 0; i < AMBER_RPC_MAX_CAPS; i++)
		if (!(kept & (1u << i)))
			amber_cap_free(ep->window + i);
	ep->window = amber_cap_alloc_run(AMBER_RPC_MAX_CAPS);
}

/* Delete the capabilities of a message that is refused. */
static void drop_items(struct amber_utcb *u)
{
	unsigned words = amber_tag_words(u->tag), items = amber_tag_items(u->tag);
	amber_sel_t sel[AMBER_MAX_ITEMS];
	for (unsigned i = 0; i < items; i++)
		sel[i] = amber_item_sel(u->mr[words + i]);
	for (unsigned i = 0; i < items; i++)
		amber_task_delete(AMBER_SEL_TASK, sel[i]);
}

/* Serve the message in u for obj (NULL: no such object); leaves the reply
 * in u and returns its tag. */
static amber_tag_t serve(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *obj, struct amber_utcb *u,
			 struct amber_rpc_msg *args, struct amber_rpc_msg *res)
{
	uint32_t proto = amber_tag_label(u->tag);
	amber_word_t opcode = amber_tag_words(u->tag) ? u->mr[0] : 0;
	unsigned kept = 0;
	int status;
	if (!obj || proto != obj->proto || amber_tag_words(u->tag) < 1) {
		status = !obj ? AMBER_ERR_INVALID_CAP : AMBER_ERR_PROTO;
		drop_items(u);
	} else {
		status = amber_rpc_unpack(u, 1, args, &kept);
	}
	if (status == AMBER_OK) {
		ep->served++;
		res->words = 0;
		res->caps = 0;
		status = obj->dispatch(obj, opcode, args, res); /* obj may be gone from here on */
	} else {
		args->caps = 0;
	}
	if (kept)
		renew_window(ep, kept);
	amber_tag_t tag = 0;
	if (status == AMBER_OK)
		tag = amber_rpc_pack(u, 1, proto, res, &status);
	if (status != AMBER_OK)
		tag = amber_tag(proto, 1, 0);
	u->mr[0] = (amber_word_t)(int64_t)status;
	return tag;
}

/* The argument capabilities the dispatch function did not keep: released
 * after the reply, which may have returned them. */
static void release_args(struct amber_rpc_msg *args)
{
	for (unsigned i = 0; i < args->caps; i++)
		if (args->cap[i] != AMBER_SEL_INVALID)
			amber_cap_map_release(args->cap[i]);
	args->caps = 0;
}

/* The receive loop; returns when ep->exit is set. */
static void ep_loop(struct amber_rpc_entrypoint *ep)
{
	struct amber_utcb *u = amber_utcb();
	struct amber_rpc_msg args, res;
	u->br[0] = window_word(ep);
	int err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	for (;;) {
		if (err) {
			/* e.g. the caller vanished before our reply */
			u->br[0] = window_word(ep);
			err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
			continue;
		}
		amber_lock_acquire(&ep->lock);
		struct amber_rpc_object *obj = find(ep, u->label);
		set_current(ep, obj);
		amber_lock_release(&ep->lock);

		amber_tag_t reply = serve(ep, obj, u, &args, &res);
		if (__atomic_load_n(&ep->exit, __ATOMIC_ACQUIRE)) {
			set_current(ep, 0);
			amber_ipc_reply(reply);
			release_args(&args);
			return; /* the thread ends; destroy() joins it */
		}
		if (amber_tag_items(reply) || args.caps) {
			amber_ipc_reply(reply); /* a caller that went away is no concern of ours */
			release_args(&args);
			set_current(ep, 0);
			u->br[0] = window_word(ep);
			err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
			continue;
		}
		set_current(ep, 0);
		u->br[0] = window_word(ep);
		err = amber_ipc_reply_and_wait(reply, AMBER_TIMEOUT_NEVER);
	}
}

static void ep_main(void *arg)
{
	struct amber_rpc_entrypoint *ep = arg;
	/* Genode's delay_start: run once construction is complete. */
	while (__atomic_load_n(&ep->state, __ATOMIC_ACQUIRE) == AMBER_RPC_EP_STARTING)
		amber_sys_yield();
	if (__atomic_load_n(&ep->state, __ATOMIC_ACQUIRE) != AMBER_RPC_EP_RUNNING)
		return;
	ep_loop(ep);
}

static int exit_dispatch(struct amber_rpc_object *obj, amber_word_t opcode, struct amber_rpc_msg *args,
			 struct amber_rpc_msg *res)
{
	(void)args;
	(void)res;
	if (opcode != AMBER_RPC_EXIT)
		return AMBER_ERR_OPCODE;
	struct amber_rpc_entrypoint *ep = obj->state;
	__atomic_store_n(&ep->exit, 1u, __ATOMIC_RELEASE);
	return AMBER_OK;
}

/* ---- managing objects ------------------------------------------------------ */

void amber_rpc_object_init(struct amber_rpc_object *obj, uint32_t proto, amber_rpc_dispatch_t dispatch, void *state)
{
	memset(obj, 0, sizeof(*obj));
	obj->proto = proto;
	obj->dispatch = dispatch;
	obj->state = state;
}

static int manage(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *obj)
{
	if (!obj->dispatch || obj->ep)
		return AMBER_ERR_INVALID_ARG;
	amber_sel_t pd = amber_env_pd();
	if (pd == AMBER_SEL_INVALID)
		return AMBER_ERR_NO_PARTNER;
	amber_sel_t sel = amber_cap_alloc();
	if (sel == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	amber_word_t badge = 0;
	int err = amber_pd_alloc_rpc_cap(pd, ep->thread.sel, sel, &badge);
	if (err == AMBER_OK) {
		err = amber_cap_map_insert(badge, sel);
		if (err)
			amber_pd_free_rpc_cap(pd, sel);
	}
	if (err) {
		amber_cap_free(sel);
		return err;
	}
	obj->badge = badge;
	obj->cap = sel;
	obj->ep = ep;
	amber_lock_acquire(&ep->lock);
	obj->next = ep->bucket[bucket_of(badge)];
	ep->bucket[bucket_of(badge)] = obj;
	ep->objects++;
	amber_lock_release(&ep->lock);
	return AMBER_OK;
}

/* Free the object's capability (revoking every copy) and our reference. */
static int release_cap(struct amber_rpc_object *obj)
{
	int err = amber_pd_free_rpc_cap(amber_env_pd(), obj->cap);
	amber_cap_map_unref(obj->cap);
	obj->cap = AMBER_SEL_INVALID;
	obj->badge = 0;
	obj->ep = 0;
	return err;
}

int amber_rpc_ep_manage(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *obj)
{
	if (__atomic_load_n(&ep->state, __ATOMIC_ACQUIRE) != AMBER_RPC_EP_RUNNING)
		return AMBER_ERR_NO_PARTNER;
	return manage(ep, obj);
}

int amber_rpc_ep_dissolve(struct amber_rpc_entrypoint *ep, struct amber_rpc_object *obj)
{
	if (obj->ep != ep || obj == &ep->exit_obj)
		return AMBER_ERR_INVALID_ARG;
	amber_lock_acquire(&ep->lock);
	unlink_obj(ep, obj);
	amber_lock_release(&ep->lock);
	int err = release_cap(obj);
	if (!on_ep_thread(ep))
		while (__atomic_load_n(&ep->current, __ATOMIC_ACQUIRE) == obj)
			amber_sys_yield();
	return err;
}

struct amber_rpc_object *amber_rpc_ep_lookup(struct amber_rpc_entrypoint *ep, amber_sel_t sel)
{
	uint64_t badge = amber_cap_map_badge(sel);
	if (!badge)
		return 0;
	amber_lock_acquire(&ep->lock);
	struct amber_rpc_object *o = find(ep, badge);
	amber_lock_release(&ep->lock);
	/* A capability that claimed the badge but is another object has a slot
	 * of its own (amber_cap_map_receive), so the slot decides. */
	return o && o->cap == sel && o != &ep->exit_obj ? o : 0;
}

/* ---- life cycle -------------------------------------------------------------- */

static void free_window(struct amber_rpc_entrypoint *ep)
{
	if (ep->window == AMBER_SEL_INVALID)
		return;
	for (unsigned i = 0; i < AMBER_RPC_MAX_CAPS; i++)
		amber_cap_free(ep->window + i);
	ep->window = AMBER_SEL_INVALID;
}

int amber_rpc_ep_create(struct amber_rpc_entrypoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->window = amber_cap_alloc_run(AMBER_RPC_MAX_CAPS);
	if (ep->window == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	ep->state = AMBER_RPC_EP_STARTING;
	int err = amber_thread_create(&ep->thread, ep_main, ep);
	if (err) {
		free_window(ep);
		ep->state = AMBER_RPC_EP_NONE;
		return err;
	}
	amber_rpc_object_init(&ep->exit_obj, AMBER_RPC_EXIT_PROTO, exit_dispatch, ep);
	err = manage(ep, &ep->exit_obj);
	if (err) {
		__atomic_store_n(&ep->state, AMBER_RPC_EP_ABORTED, __ATOMIC_RELEASE);
		amber_thread_join(&ep->thread);
		free_window(ep);
		return err;
	}
	__atomic_store_n(&ep->state, AMBER_RPC_EP_RUNNING, __ATOMIC_RELEASE);
	return AMBER_OK;
}

int amber_rpc_ep_create_here(struct amber_rpc_entrypoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->window = amber_cap_alloc_run(AMBER_RPC_MAX_CAPS);
	if (ep->window == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	ep->here = 1;
	ep->thread.sel = amber_thread_self();
	ep->thread.stack_ds = AMBER_SEL_INVALID;
	ep->thread.utcb = (uint64_t)(uintptr_t)amber_utcb();
	amber_rpc_object_init(&ep->exit_obj, AMBER_RPC_EXIT_PROTO, exit_dispatch, ep);
	int err = manage(ep, &ep->exit_obj);
	if (err) {
		free_window(ep);
		return err;
	}
	__atomic_store_n(&ep->state, AMBER_RPC_EP_RUNNING, __ATOMIC_RELEASE);
	return AMBER_OK;
}

int amber_rpc_ep_serve(struct amber_rpc_entrypoint *ep)
{
	if (!ep->here || __atomic_load_n(&ep->state, __ATOMIC_ACQUIRE) != AMBER_RPC_EP_RUNNING)
		return AMBER_ERR_INVALID_ARG;
	if (!on_ep_thread(ep) || ep->serving)
		return AMBER_ERR_SELF;
	ep->serving = 1;
	__atomic_store_n(&ep->exit, 0u, __ATOMIC_RELEASE);
	ep_loop(ep);
	ep->serving = 0;
	return AMBER_OK;
}

/* Take every object but the exit object out of the table and free its
 * capability: queued callers fail now. */
static void dissolve_all(struct amber_rpc_entrypoint *ep)
{
	struct amber_rpc_object *left = 0;
	amber_lock_acquire(&ep->lock);
	for (unsigned b = 0; b < AMBER_RPC_EP_BUCKETS; b++) {
		for (struct amber_rpc_object **pp = &ep->bucket[b]; *pp;) {
			struct amber_rpc_object *o = *pp;
			if (o == &ep->exit_obj) {
				pp = &o->next;
				continue;
			}
			*pp = o->next;
			o->next = left;
			left = o;
			ep->objects--;
		}
	}
	amber_lock_release(&ep->lock);
	while (left) {
		struct amber_rpc_object *o = left;
		left = o->next;
		o->next = 0;
		release_cap(o);
	}
}

static void release_exit_obj(struct amber_rpc_entrypoint *ep)
{
	amber_lock_acquire(&ep->lock);
	unlink_obj(ep, &ep->exit_obj);
	amber_lock_release(&ep->lock);
	release_cap(&ep->exit_obj);
	free_window(ep);
	__atomic_store_n(&ep->state, AMBER_RPC_EP_DESTROYED, __ATOMIC_RELEASE);
}

int amber_rpc_ep_destroy(struct amber_rpc_entrypoint *ep)
{
	if (ep->here) {
		if (__atomic_load_n(&ep->state, __ATOMIC_ACQUIRE) != AMBER_RPC_EP_RUNNING)
			return AMBER_ERR_INVALID_ARG;
		if (!on_ep_thread(ep) || ep->serving)
			return AMBER_ERR_SELF;
		dissolve_all(ep);
		release_exit_obj(ep);
		return AMBER_OK;
	}
	if (on_ep_thread(ep))
		return AMBER_ERR_SELF;
	if (__atomic_load_n(&ep->state, __ATOMIC_ACQUIRE) != AMBER_RPC_EP_RUNNING)
		return AMBER_ERR_INVALID_ARG;

	/* 1. Dissolve what is left: queued callers fail now. A dispatch that
	 *    is running ends before the exit call is taken. */
	dissolve_all(ep);

	/* 2. Leave the loop through the exit capability. */
	int err = amber_rpc_call(ep->exit_obj.cap, AMBER_RPC_EXIT_PROTO, AMBER_RPC_EXIT, 0, 0);

	/* 3. Wait for the thread to end (core revokes its capability), free
	 *    its stack, the exit capability and the window. */
	amber_thread_join(&ep->thread);
	release_exit_obj(ep);
	return err;
}
