/*
 * rpc_counter_server: an RPC server with state, written with the
 * runtime's entrypoint (protocol: amber/rpc_counter.h).
 *
 * One entrypoint serves every counter: the first is announced as service
 * "counter", CREATE makes more on the heap (a capability result), CLOSE
 * dissolves one, ADD_FROM takes a counter's capability as argument: when
 * the capability names one of our own counters, the capability map has
 * folded it onto that counter's slot and amber_rpc_ep_lookup finds the
 * object, so we read it directly (calling it would be a call to our own
 * thread, which the kernel refuses with SELF); any other counter is asked
 * with an RPC. QUIT wakes the first thread (an IRQ attached to it), which
 * destroys the entrypoint through its exit capability and ends.
 */
#include <amber/cap_alloc.h>
#include <amber/cap_map.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/rpc_counter.h>
#include <amber/rpc_entrypoint.h>

struct counter {
	struct amber_rpc_object rpc;
	uint64_t value;
	unsigned id;
};

static struct amber_rpc_entrypoint ep;
static struct counter first;
static amber_sel_t quit_irq;
static unsigned next_id = 1, live = 1;

static int dispatch(struct amber_rpc_object *obj, amber_word_t op, struct amber_rpc_msg *args,
		    struct amber_rpc_msg *res);

static int ret_value(struct amber_rpc_msg *res, uint64_t v)
{
	res->w[0] = v;
	res->words = 1;
	return AMBER_OK;
}

static int add_from(struct counter *c, amber_sel_t other, struct amber_rpc_msg *res)
{
	uint64_t v = 0;
	struct amber_rpc_object *o = amber_rpc_ep_lookup(&ep, other);
	if (o) {
		struct counter *oc = o->state;
		v = oc->value;
		amber_log("add_from: counter %u is one of ours (slot %u, badge %s): %lu", oc->id, other,
			  amber_cap_map_badge(other) ? "in the map" : "MISSING", (unsigned long)v);
	} else {
		int err = amber_counter_get(other, &v);
		if (err) {
			amber_log("add_from: the capability in slot %u is no counter we can ask (%s)", other,
				  amber_error_name(err));
			return AMBER_ERR_INVALID_ARG;
		}
		amber_log("add_from: asked a foreign counter: %lu", (unsigned long)v);
	}
	c->value += v;
	return ret_value(res, c->value);
}

static int create(uint64_t initial, struct amber_rpc_msg *res)
{
	struct counter *n = amber_malloc(sizeof(*n));
	if (!n)
		return AMBER_ERR_QUOTA;
	amber_rpc_object_init(&n->rpc, AMBER_COUNTER_PROTO, dispatch, n);
	n->value = initial;
	n->id = ++next_id;
	int err = amber_rpc_ep_manage(&ep, &n->rpc);
	if (err) {
		amber_free(n);
		return err;
	}
	live++;
	amber_log("created counter %u = %lu (slot %u)", n->id, (unsigned long)initial, n->rpc.cap);
	res->cap[0] = n->rpc.cap;
	res->caps = 1;
	return AMBER_OK;
}

static int dispatch(struct amber_rpc_object *obj, amber_word_t op, struct amber_rpc_msg *args,
		    struct amber_rpc_msg *res)
{
	struct counter *c = obj->state;
	uint64_t old;
	switch (op) {
	case AMBER_COUNTER_INCREMENT:
		if (args->words < 1)
			return AMBER_ERR_INVALID_ARG;
		c->value += args->w[0];
		return ret_value(res, c->value);
	case AMBER_COUNTER_GET:
		return ret_value(res, c->value);
	case AMBER_COUNTER_RESET:
		old = c->value;
		c->value = 0;
		return ret_value(res, old);
	case AMBER_COUNTER_ADD_FROM:
		if (args->caps != 1)
			return AMBER_ERR_INVALID_ARG;
		return add_from(c, args->cap[0], res);
	case AMBER_COUNTER_CREATE:
		return create(args->words ? args->w[0] : 0, res);
	case AMBER_COUNTER_SELF:
		res->cap[0] = obj->cap;
		res->caps = 1;
		return AMBER_OK;
	case AMBER_COUNTER_CLOSE:
		if (c == &first)
			return AMBER_ERR_INVALID_ARG;
		amber_log("closing counter %u", c->id);
		amber_rpc_ep_dissolve(&ep, obj);
		amber_free(c);
		live--;
		return AMBER_OK;
	case AMBER_COUNTER_QUIT:
		if (c != &first)
			return AMBER_ERR_INVALID_ARG;
		amber_irq_trigger(quit_irq);
		return AMBER_OK;
	default:
		return AMBER_ERR_OPCODE;
	}
}

int main(void)
{
	quit_irq = amber_cap_alloc();
	int err = amber_factory_create_irq(AMBER_SEL_FACTORY, quit_irq);
	if (!err)
		err = amber_irq_attach(quit_irq, AMBER_SEL_THREAD, 1);
	if (!err)
		err = amber_rpc_ep_create(&ep);
	amber_rpc_object_init(&first.rpc, AMBER_COUNTER_PROTO, dispatch, &first);
	first.id = 1;
	if (!err)
		err = amber_rpc_ep_manage(&ep, &first.rpc);
	if (err) {
		amber_log("FAIL: setup (%s)", amber_error_name(err));
		return 1;
	}
	/* Said before it is done: once announced, a client's first call may
	 * be logged by the entrypoint before this thread logs anything, and
	 * the output is compared line by line (tools/cr_diff.c). */
	amber_log("announcing \"counter\" (slot %u); exit capability in slot %u", first.rpc.cap, ep.exit_obj.cap);
	err = amber_parent_announce(AMBER_COUNTER_SERVICE, first.rpc.cap);
	if (err) {
		amber_log("FAIL: announce (%s)", amber_error_name(err));
		return 1;
	}

	err = amber_irq_receive(quit_irq, AMBER_TIMEOUT_NEVER);
	uint64_t served = ep.served;
	unsigned left = live;
	err = amber_rpc_ep_destroy(&ep);
	amber_log("quit: served %lu calls; destroyed the entrypoint with %u counters through its exit capability (%s)",
		  (unsigned long)served, left, amber_error_name(err));
	return err ? 1 : 0;
}
