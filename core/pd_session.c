/*
 * The PD session: RAM dataspaces within a quota, and RPC capabilities.
 *
 * RAM is charged to the component (all its PD sessions share the quota
 * the scenario's `ram` attribute sets), page by page as allocated.
 * Dataspaces are RPC objects of core (dataspace.c). An RPC capability is
 * a gate bound to one of the component's threads with a badge core
 * chooses, so a server can tell its objects apart by utcb->label without
 * trusting the badge to itself; core keeps the gate's root capability, so
 * FREE_RPC_CAP (or the component's end) revokes every copy. Signal
 * sources and contexts are PD objects too; their logic is in signal.c.
 *
 * Protocol: include/amber/pd_session.h.
 */
#include <stdlib.h>

#include "amber/pd_session.h"
#include "core.h"
#include "cr_state.h"
#include "image/image.h"

struct rpc_cap {
	struct rpc_cap *next;
	amber_sel_t sel;  /* the gate's root capability in core's task */
	uint64_t gate_id;
	uint64_t badge;
	const struct core_session *session; /* the PD session that made it */
};

static int alloc_ram(struct core_session *s, struct kcore_request *req)
{
	struct component *c = s->c;
	if (amber_tag_words(req->tag) < 2 || req->nitems != 0)
		return AMBER_ERR_INVALID_ARG;
	uint64_t size = req->mr[1];
	if (size == 0)
		return AMBER_ERR_INVALID_ARG;
	if (size > c->ram_quota)
		return AMBER_ERR_QUOTA;
	uint64_t rounded = (size + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
	if (rounded > c->ram_quota - c->ram_used || c->ndataspaces >= AMBER_PD_MAX_DATASPACES ||
	    core_quota_take(c, 1))
		return AMBER_ERR_QUOTA;
	struct core_ds *ds;
	int err = core_ds_alloc(c, rounded, &ds);
	if (err)
		return err;
	core_ds_set_session(ds, s);
	c->ram_used += rounded;
	c->ndataspaces++;
	req->reply_mr[0] = rounded;
	req->reply_mr[1] = amber_map_item(core_ds_sel(ds), AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	req->reply_tag = amber_tag(AMBER_PROTO_PD, 1, 1);
	return AMBER_OK;
}

static int free_ram(struct component *c, struct kcore_request *req)
{
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	struct core_ds *ds = core_ds_lookup(req->items[0]);
	service_drop_items(req);
	if (!ds || core_ds_owner(ds) != c)
		return AMBER_ERR_INVALID_ARG;
	core_ds_free(ds);
	return AMBER_OK;
}

static int alloc_rpc_cap(struct core_session *s, struct kcore_request *req)
{
	struct component *c = s->c;
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	enum amber_kind kind;
	unsigned rights;
	struct kobj *o = kernel_cap_object(kernel_core_task(), req->items[0], &kind, &rights);
	service_drop_items(req);
	if (!o || kind != AMBER_KIND_THREAD || kernel_thread_task((struct kthread *)o) != c->task)
		return AMBER_ERR_INVALID_ARG;
	if (!(rights & AMBER_RIGHT_CONTROL))
		return AMBER_ERR_RIGHTS;
	if (c->nrpc_caps >= AMBER_PD_MAX_RPC_CAPS || core_quota_take(c, 1))
		return AMBER_ERR_QUOTA;
	struct ktask *core = kernel_core_task();
	amber_sel_t sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if (sel == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	struct rpc_cap *r = calloc(1, sizeof(*r));
	if (!r)
		return AMBER_ERR_QUOTA;
	struct kgate *g;
	r->badge = core_new_badge();
	int err = kernel_create_gate(core, sel, r->badge, (struct kthread *)o, &g);
	if (err) {
		free(r);
		return err;
	}
	r->sel = sel;
	r->session = s;
	r->gate_id = kernel_object_id(g);
	r->next = c->rpc_caps;
	c->rpc_caps = r;
	c->nrpc_caps++;
	req->reply_mr[0] = r->badge;
	req->reply_mr[1] = amber_map_item(sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	req->reply_tag = amber_tag(AMBER_PROTO_PD, 1, 1);
	return AMBER_OK;
}

static int free_rpc_cap(struct component *c, struct kcore_request *req)
{
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	struct kobj *o = kernel_cap_object(kernel_core_task(), req->items[0], NULL, NULL);
	uint64_t id = kernel_object_id(o);
	service_drop_items(req);
	for (struct rpc_cap **pp = &c->rpc_caps; *pp; pp = &(*pp)->next) {
		struct rpc_cap *r = *pp;
		if (!o || r->gate_id != id)
			continue;
		*pp = r->next;
		kernel_cap_delete(kernel_core_task(), r->sel); /* revokes every copy */
		free(r);
		c->nrpc_caps--;
		return AMBER_OK;
	}
	return AMBER_ERR_INVALID_ARG;
}

/* The caps quota: the factory's while the component runs, else what it
 * will get at its start. */
static void caps_info(const struct component *c, uint64_t *quota, uint64_t *used)
{
	uint32_t q, u;
	if (c->state == COMPONENT_RUNNING && !c->ending &&
	    kernel_factory_info(kernel_core_task(), c->factory_sel, &q, &u) == AMBER_OK) {
		*quota = q;
		*used = (uint64_t)u + core_quota_held((struct component *)c); /* what core keeps counts too */
	} else {
		*quota = c->state == COMPONENT_NEW ? c->kernel_quota : 0;
		*used = 0;
	}
}

/* kernel_quota is a component's total: its factory's quota plus what its
 * live children hold (CREATE_CHILD lends, give_back returns). Moving caps
 * changes the totals of both sides and of all their ancestors (common
 * ancestors cancel out), so every give_back stays exact. */
static void caps_total_adjust(struct component *c, uint64_t caps, bool add)
{
	for (; c; c = c->parent) {
		c->kernel_quota = add ? c->kernel_quota + (unsigned)caps
				      : c->kernel_quota >= caps ? c->kernel_quota - (unsigned)caps : 0;
		if (c->task) /* its space may grow as far as its caps do */
			kernel_task_limit_slots(c->task, c->kernel_quota);
	}
}

static int transfer_quota(struct component *src, struct kcore_request *req)
{
	if (amber_tag_words(req->tag) < 3 || req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	struct ktask *core = kernel_core_task();
	uint64_t ram = req->mr[1], caps = req->mr[2];
	struct component *dst = child_by_cap(src, req->items[0]);
	if (!dst) {
		struct core_session *t = kernel_core_gate_ctx(core, req->items[0], pd_handle);
		dst = t ? t->c : NULL;
	}
	service_drop_items(req);
	if (!dst || dst->state == COMPONENT_ENDED || dst->ending)
		return AMBER_ERR_INVALID_ARG;
	return core_quota_transfer(src, dst, ram, caps);
}

int core_quota_transfer(struct component *src, struct component *dst, uint64_t ram, uint64_t caps)
{
	struct ktask *core = kernel_core_task();
	if (dst && (dst->state == COMPONENT_ENDED || dst->ending))
		dst = NULL;
	if ((ram == 0 && caps == 0) || dst == src)
		return AMBER_OK;
	if (ram > (1ull << 40) || caps > UINT32_MAX)
		return AMBER_ERR_QUOTA;
	ram = (ram + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
	if (ram > src->ram_quota - src->ram_used)
		return AMBER_ERR_QUOTA;
	if (caps) {
		if (src->state != COMPONENT_RUNNING || core_quota_take(src, (unsigned)caps) != AMBER_OK ||
		    kernel_factory_adjust(core, src->factory_sel, -(int64_t)caps) != AMBER_OK)
			return AMBER_ERR_QUOTA; /* not that much unused */
		int err = AMBER_OK;
		if (!dst)
			err = AMBER_OK;
		else if (dst->state == COMPONENT_RUNNING)
			err = kernel_factory_adjust(core, dst->factory_sel, (int64_t)caps);
		else if (caps > UINT32_MAX - dst->kernel_quota)
			err = AMBER_ERR_QUOTA;
		if (err) {
			kernel_factory_adjust(core, src->factory_sel, (int64_t)caps);
			return AMBER_ERR_QUOTA;
		}
		caps_total_adjust(src, caps, false);
		if (dst)
			caps_total_adjust(dst, caps, true);
	}
	src->ram_quota -= ram;
	if (dst)
		dst->ram_quota += ram;
	return AMBER_OK;
}

static enum kcore_result pd_handle_serve(void *ctx, struct kcore_request *req, int *error)
{
	struct core_session *s = ctx;
	struct component *c = s->c;
	req->reply_tag = amber_tag(AMBER_PROTO_PD, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_PD) {
		*error = AMBER_ERR_PROTO;
	} else if (amber_tag_words(req->tag) < 1) {
		*error = AMBER_ERR_OPCODE;
	} else if (c->ending) {
		*error = AMBER_ERR_NO_PARTNER;
	} else {
		switch (req->mr[0]) {
		case AMBER_PD_ALLOC_RAM: *error = alloc_ram(s, req); break;
		case AMBER_PD_FREE_RAM: *error = free_ram(c, req); break;
		case AMBER_PD_QUOTA:
			req->reply_mr[0] = c->ram_quota;
			req->reply_mr[1] = c->ram_used;
			caps_info(c, &req->reply_mr[2], &req->reply_mr[3]);
			req->reply_tag = amber_tag(AMBER_PROTO_PD, 4, 0);
			*error = AMBER_OK;
			break;
		case AMBER_PD_ALLOC_RPC_CAP: *error = alloc_rpc_cap(s, req); break;
		case AMBER_PD_FREE_RPC_CAP: *error = free_rpc_cap(c, req); break;
		case AMBER_PD_ALLOC_SIGNAL_SOURCE: *error = signal_alloc_source(s, req); break;
		case AMBER_PD_FREE_SIGNAL_SOURCE: *error = signal_free_source(c, req); break;
		case AMBER_PD_ALLOC_CONTEXT: *error = signal_alloc_context(s, req); break;
		case AMBER_PD_FREE_CONTEXT: *error = signal_free_context(c, req); break;
		case AMBER_PD_SUBMIT: *error = signal_submit_request(req); break;
		case AMBER_PD_CREATE_CHILD: *error = child_create(c, req); break;
		case AMBER_PD_TRANSFER_QUOTA: *error = transfer_quota(c, req); break;
		default: *error = AMBER_ERR_OPCODE; break;
		}
	}
	service_drop_items(req);
	return KCORE_REPLY;
}

/* Mappings it changes are made without the kernel lock (as_queue.c). */
enum kcore_result pd_handle(void *ctx, struct kcore_request *req, int *error)
{
	return as_serve(pd_handle_serve, ctx, req, error);
}

void pd_forget(struct component *c)
{
	signal_forget(c);
	while (c->rpc_caps) {
		struct rpc_cap *r = c->rpc_caps;
		c->rpc_caps = r->next;
		kernel_cap_delete(kernel_core_task(), r->sel);
		free(r);
	}
	c->nrpc_caps = 0;
	core_ds_free_all(c);
}

void pd_close(struct core_session *s)
{
	struct component *c = s->c;
	signal_close_session(s);
	for (struct rpc_cap **pp = &c->rpc_caps; *pp;) {
		struct rpc_cap *r = *pp;
		if (r->session != s) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		kernel_cap_delete(kernel_core_task(), r->sel); /* revokes every copy */
		free(r);
		c->nrpc_caps--;
	}
	core_ds_free_session(s); /* detached everywhere, given back to the quota */
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

int pd_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	for (struct rpc_cap *r = c->rpc_caps; r; r = r->next) {
		AmberImg__RpcCap *x = CR_NEW(AmberImg__RpcCap, amber_img__rpc_cap__init);
		struct kobj *g = kernel_cap_object(kernel_core_task(), r->sel, NULL, NULL);
		struct kernel_gate_state gs;
		kernel_gate_export((struct kgate *)g, &gs);
		x->gate_id = r->gate_id;
		x->badge = r->badge;
		x->thread_id = gs.bound_thread_id;
		x->session = cr_session_index(c, r->session);
		CR_APPEND(m, rpc_caps, x);
	}
	if (core_ds_save_owned(s, c) < 0)
		return -1;
	return signal_save(s, c, m);
}

/* RPC capabilities keep their badges: the component's capability map and
 * its entrypoints' tables, keyed by badge, stay valid byte for byte. One
 * whose thread has ended is unbound, as it was. */
int pd_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct ktask *core = kernel_core_task();
	/* Backwards: core keeps dataspaces newest first, so making them in
	 * reverse saved order keeps the order (and the next checkpoint's). */
	for (size_t i = l->img->n_dataspaces; i-- > 0;) {
		const AmberImg__Dataspace *d = l->img->dataspaces[i];
		struct core_ds *ds;
		if (d->kind == AMBER_IMG__DATASPACE_KIND__DS_RAM && d->owner == c->id && core_ds_load(l, (unsigned)i, &ds) < 0)
			return -1;
	}
	struct rpc_cap **tail = &c->rpc_caps;
	c->rpc_caps = NULL;
	c->nrpc_caps = 0;
	for (size_t i = 0; i < l->m->n_rpc_caps; i++) {
		const AmberImg__RpcCap *x = l->m->rpc_caps[i];
		struct kobj *t = cr_object(x->thread_id, AMBER_KIND_THREAD);
		struct core_session *ss = cr_load_session(l, x->session, "an RPC capability");
		if (!ss)
			return -1;
		if (x->thread_id && (!t || kernel_thread_task((struct kthread *)t) != c->task))
			return cr_fail(l->err, l->errlen, "%s: RPC capability (badge %llu) bound to thread %llu, none of its own",
				       c->name, (unsigned long long)x->badge, (unsigned long long)x->thread_id);
		struct rpc_cap *r = calloc(1, sizeof(*r));
		if (!r)
			return cr_fail(l->err, l->errlen, "%s: no memory for an RPC capability", c->name);
		r->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, x->gate_id, "RPC capability") < 0 ||
		    kernel_create_gate(core, r->sel, x->badge, x->thread_id ? (struct kthread *)t : NULL, NULL) !=
			    AMBER_OK) {
			free(r);
			return l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: cannot create an RPC capability", c->name);
		}
		r->gate_id = x->gate_id;
		r->badge = x->badge;
		r->session = ss;
		*tail = r;
		tail = &r->next;
		c->nrpc_caps++;
	}
	return signal_load(l);
}
