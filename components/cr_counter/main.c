/*
 * cr_counter: the checkpoint/restore workload. Every line it prints is a
 * function of the step number alone, so a run that was checkpointed and
 * restored (or rolled back) must print, from its checkpoint on, exactly
 * what an uninterrupted run prints.
 *
 * It uses the mechanisms in which the seed's four capabilities live: a
 * framework component (component_construct ran through the constructor
 * capability, CAP4), a periodic Timer signal whose handler runs in the
 * main entrypoint (signal-handler thread blocked on its semaphore IRQ,
 * CAP3, forwarding through the signal-proxy capability, CAP2), and an RPC
 * entrypoint with a thread of its own, called every step and destroyed at
 * the end through its exit capability (CAP1). Each step also changes a
 * heap buffer, so memory matters.
 *
 * Construction itself takes CONSTRUCT_US (a second Timer session sleeps in
 * component_construct), so a checkpoint can land while the signal-handler
 * thread is still blocked calling the constructor capability (CAP4); every
 * step logs whether that slot is free, which it must stay once
 * construction has ended.
 */
#include <amber/component.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/rpc_entrypoint.h>
#include <amber/signal.h>
#include <amber/timer.h>

#define STEPS 150u         /* default; config: <counter steps="N"/> */
#define PERIOD_US 20000u   /* 20 ms: 3 s in all */
#define BUF_WORDS 8192u  /* 64 KiB of heap */
#define CONSTRUCT_US 200000u
#define PROTO 0x2501u
#define OP_ADD 1u

struct adder {
	struct amber_rpc_object rpc;
	uint64_t sum;
};

static struct {
	struct amber_env *env;
	struct amber_timer timer;
	struct amber_signal_context handler;
	struct amber_rpc_entrypoint ep;
	struct adder adder;
	uint64_t *buf;
	unsigned step, steps;
	uint64_t sum;
	amber_sel_t constructor; /* the slot CAP4 had */
} s;

static const char *cap4_state(void)
{
	return amber_cap_info_of(s.constructor).kind == AMBER_KIND_NONE ? "free" : "HELD";
}

static int adder_dispatch(struct amber_rpc_object *o, amber_word_t op, struct amber_rpc_msg *args,
			  struct amber_rpc_msg *res)
{
	struct adder *a = o->state;
	if (op != OP_ADD || args->words != 1)
		return AMBER_ERR_OPCODE;
	a->sum += args->w[0];
	res->w[0] = a->sum;
	res->words = 1;
	return AMBER_OK;
}

static uint32_t heap_hash(void)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned i = 0; i < BUF_WORDS; i++)
		h = (h ^ s.buf[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32));
}

static void finish(int code)
{
	amber_timer_trigger_periodic(&s.timer, 0);
	amber_timer_close(&s.timer);
	int err = amber_rpc_ep_destroy(&s.ep); /* through its exit capability */
	if (err)
		amber_log("cr_counter: destroying the entrypoint failed: %s", amber_error_name(err));
	amber_entrypoint_exit(s.env->ep, err ? 1 : code);
}

static void step(void *arg, uint32_t count)
{
	(void)arg;
	(void)count; /* late expiries are skipped: the step count is the clock */
	if (s.step >= s.steps)
		return;
	s.step++;
	for (unsigned i = 0; i < 64; i++)
		s.buf[(s.step * 131u + i * 127u) % BUF_WORDS] += (uint64_t)s.step * 2654435761u + i;
	struct amber_rpc_msg args = { .words = 1, .w = { s.step } }, res = { 0 };
	int err = amber_rpc_call(s.adder.rpc.cap, PROTO, OP_ADD, &args, &res);
	if (err || res.words != 1) {
		amber_log("cr_counter: step %u: call failed: %s", s.step, amber_error_name(err));
		finish(1);
		return;
	}
	s.sum += s.step;
	amber_log("step %u: heap %08x sum %lu%s, constructor slot %s", s.step, heap_hash(), (unsigned long)res.w[0],
		  res.w[0] == s.sum ? "" : " MISMATCH", cap4_state());
	if (s.step == s.steps) {
		amber_log("cr_counter: done after %u steps, sum %lu", s.step, (unsigned long)s.sum);
		finish(0);
	}
}

void component_construct(struct amber_env *env)
{
	int err;
	const char *what = "heap";
	s.env = env;
	const char *config = 0;
	s.steps = amber_rom_config(&config, 0) == AMBER_OK ? amber_config_number(config, "steps", STEPS) : STEPS;
	s.constructor = amber_entrypoint_constructor_cap(env->ep);
	amber_log("cr_counter: constructing (constructor capability in slot %u: %s)", s.constructor,
		  amber_cap_info_of(s.constructor).kind == AMBER_KIND_GATE ? "a gate" : "MISSING");
	struct amber_timer slow;
	if ((err = amber_timer_open(&slow)) || (err = amber_timer_sleep_us(&slow, CONSTRUCT_US))) {
		amber_log("cr_counter: sleeping in construction failed: %s", amber_error_name(err));
		amber_entrypoint_exit(env->ep, 1);
		return;
	}
	amber_timer_close(&slow);
	s.buf = amber_malloc(BUF_WORDS * sizeof(uint64_t));
	if (!s.buf) {
		amber_log("cr_counter: no heap");
		amber_entrypoint_exit(env->ep, 1);
		return;
	}
	for (unsigned i = 0; i < BUF_WORDS; i++)
		s.buf[i] = i;
	amber_rpc_object_init(&s.adder.rpc, PROTO, adder_dispatch, &s.adder);
	if ((what = "RPC entrypoint", err = amber_rpc_ep_create(&s.ep)) ||
	    (what = "RPC object", err = amber_rpc_ep_manage(&s.ep, &s.adder.rpc)) ||
	    (what = "Timer session", err = amber_timer_open(&s.timer)) ||
	    (what = "signal handler", err = amber_entrypoint_signal_handler(env->ep, &s.handler, step, 0)) ||
	    (what = "timeout", err = amber_timer_sigh(&s.timer, s.handler.sel)) ||
	    (err = amber_timer_trigger_periodic(&s.timer, PERIOD_US))) {
		amber_log("cr_counter: %s failed: %s", what, amber_error_name(err));
		amber_entrypoint_exit(env->ep, 1);
		return;
	}
	amber_log("cr_counter: %u steps, one every %u ms", s.steps, PERIOD_US / 1000u);
}
