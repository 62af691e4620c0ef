/*
 * cr_idle: a component whose every thread blocks for good, holding the
 * objects a framework component has: the main entrypoint (exit, signal
 * proxy; CAP1, CAP2), its signal-handler thread on the semaphore IRQ
 * (CAP3), an RPC entrypoint with a thread of its own, a Timer session, a
 * signal handler, heap memory and its config ROM. Nothing changes once it
 * said "idle", so a checkpoint taken after a restore must equal the image
 * restored, slot for slot and byte for byte (tests/integration/test_cr.c).
 */
#include <amber/component.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/log.h>
#include <amber/rpc_entrypoint.h>
#include <amber/signal.h>
#include <amber/timer.h>

static struct {
	struct amber_rpc_entrypoint ep;
	struct amber_rpc_object obj;
	struct amber_timer timer;
	struct amber_signal_context handler;
	uint64_t *memory;
} s;

static int dispatch(struct amber_rpc_object *o, amber_word_t op, struct amber_rpc_msg *args, struct amber_rpc_msg *res)
{
	(void)o;
	(void)op;
	(void)args;
	res->words = 0;
	return AMBER_OK;
}

static void tick(void *arg, uint32_t count)
{
	(void)arg;
	amber_log("cr_idle: unexpected signal (%u)", count);
}

void component_construct(struct amber_env *env)
{
	int err;
	const char *what = "heap";
	s.memory = amber_malloc(64 * 1024);
	if (s.memory)
		for (unsigned i = 0; i < 8192; i++)
			s.memory[i] = i * 2654435761u;
	amber_rpc_object_init(&s.obj, 0x2601u, dispatch, 0);
	if (!s.memory || (what = "RPC entrypoint", err = amber_rpc_ep_create(&s.ep)) ||
	    (what = "RPC object", err = amber_rpc_ep_manage(&s.ep, &s.obj)) ||
	    (what = "Timer session", err = amber_timer_open(&s.timer)) ||
	    (what = "signal handler", err = amber_entrypoint_signal_handler(env->ep, &s.handler, tick, 0)) ||
	    (what = "timer signal", err = amber_timer_sigh(&s.timer, s.handler.sel))) {
		amber_log("cr_idle: %s failed", what);
		amber_entrypoint_exit(env->ep, 1);
		return;
	}
	amber_log("cr_idle: idle");
}
