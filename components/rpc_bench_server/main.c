/*
 * rpc_bench_server: the passive half of the RPC benchmark
 * (amber/rpc_bench.h). One object on an entrypoint; ADD_ONE is served by
 * the runtime's loop (lookup by badge, unpack, dispatch, reply-and-wait),
 * nothing is logged while the benchmark runs. QUIT wakes the first thread,
 * which destroys the entrypoint and ends.
 */
#include <amber/cap_alloc.h>
#include <amber/error.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/rpc_bench.h>
#include <amber/rpc_entrypoint.h>

static struct amber_rpc_entrypoint ep;
static struct amber_rpc_object obj;
static amber_sel_t quit_irq;

static int dispatch(struct amber_rpc_object *o, amber_word_t op, struct amber_rpc_msg *args,
		    struct amber_rpc_msg *res)
{
	(void)o;
	switch (op) {
	case AMBER_RPC_BENCH_ADD_ONE:
		if (args->words < 1)
			return AMBER_ERR_INVALID_ARG;
		res->w[0] = args->w[0] + 1;
		res->words = 1;
		return AMBER_OK;
	case AMBER_RPC_BENCH_QUIT:
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
	amber_rpc_object_init(&obj, AMBER_RPC_BENCH_PROTO, dispatch, 0);
	if (!err)
		err = amber_rpc_ep_manage(&ep, &obj);
	if (!err)
		err = amber_parent_announce(AMBER_RPC_BENCH_SERVICE, obj.cap);
	if (err) {
		amber_log("pong: FAIL setup (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("pong: ready");
	amber_irq_receive(quit_irq, AMBER_TIMEOUT_NEVER);
	uint64_t served = ep.served;
	err = amber_rpc_ep_destroy(&ep);
	amber_log("pong: quit after %lu calls (%s)", (unsigned long)served, amber_error_name(err));
	return err ? 1 : 0;
}
