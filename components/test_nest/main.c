/*
 * test_nest: a subtree of several generations, for the quotas a killed
 * subtree gives back (core/child.c give_back).
 *
 * Each generation is this binary; its RAM quota says which one it is. The
 * top (at least TOP_RAM) makes a child with a quarter of its RAM, which
 * makes one with a quarter of its own, and so on while a quarter is at
 * least LEAF_RAM: 16M -> nest.1 (4M) -> nest.2 (1M) -> nest.3 (256K, the
 * leaf). Every generation is its child's parent: it forwards the child's
 * session requests to core through the child capability and its
 * announcement up to its own parent, so the leaf's announcement reaching
 * the top says the whole subtree runs. The top then kills nest.1 (three
 * generations end) and checks that its RAM and caps quotas come back in
 * full, twice over; and that a child name core refuses is refused with a
 * reason (core reports it).
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/child.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/printf.h>
#include <amber/protocols.h>
#include <amber/signal.h>
#include <amber/string.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define TOP_RAM (8u << 20)
#define LEAF_RAM (256u << 10)
#define NAME_MAX 32

static amber_sel_t child = AMBER_SEL_INVALID; /* the child capability */
static volatile int subtree_ready, child_ended;
static int is_top;

/* The child's parent protocol: sessions of core's from core, its
 * announcement up the chain (at the top: the subtree runs). */
static void serve(void)
{
	struct amber_utcb *u = amber_utcb();
	amber_sel_t window = amber_cap_alloc();
	int have_reply = 0;
	amber_tag_t reply = 0;
	for (;;) {
		u->br[0] = amber_rcv_window(window, 1);
		int err = have_reply ? amber_ipc_reply_and_wait(reply, AMBER_TIMEOUT_NEVER) : amber_ipc_wait(AMBER_TIMEOUT_NEVER);
		have_reply = 0;
		if (err || amber_tag_label(u->tag) != AMBER_PROTO_PARENT)
			continue;
		unsigned words = amber_tag_words(u->tag), items = amber_tag_items(u->tag);
		char name[NAME_MAX], arg[64];
		amber_word_t op = words ? u->mr[0] : 0, code = words >= 2 ? u->mr[1] : 0;
		long len = words >= 2 ? amber_mr_get_string(u, 1, words, name, sizeof name) : -1, arg_len = -1;
		if (len >= 0 && op == AMBER_PARENT_SESSION && words > 2 + amber_string_words((size_t)len))
			arg_len = amber_mr_get_string(u, 2 + amber_string_words((size_t)len), words, arg, sizeof arg);
		int status = AMBER_ERR_OPCODE;
		amber_sel_t give = AMBER_SEL_INVALID;
		if (op == AMBER_PARENT_EXIT) {
			amber_child_kill(child, AMBER_CHILD_EXIT, (int)(int64_t)code);
			continue;
		} else if (op == AMBER_PARENT_SESSION && len >= 0) {
			give = amber_cap_alloc();
			status = amber_child_session(child, name, arg_len >= 0 ? arg : 0, give);
			if (status)
				give = AMBER_SEL_INVALID;
		} else if (op == AMBER_PARENT_ANNOUNCE && len >= 0 && items == 1) {
			if (is_top) {
				subtree_ready = 1;
				status = AMBER_OK;
			} else {
				status = amber_parent_announce(name, window);
			}
			window = amber_cap_alloc(); /* the gate stays where it landed */
		}
		if (give != AMBER_SEL_INVALID) {
			u->mr[0] = amber_map_item(give, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
			reply = amber_tag(AMBER_PROTO_PARENT, 0, 1);
		} else {
			u->mr[0] = (amber_word_t)(int64_t)status;
			reply = amber_tag(AMBER_PROTO_PARENT, 1, 0);
		}
		have_reply = 1;
	}
}

static void serve_thread(void *arg)
{
	(void)arg;
	serve();
}

static void on_child_exit(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
	child_ended = 1;
}

static struct amber_signal_receiver receiver;
static struct amber_signal_context exit_ctx;

/* A child of this binary with `ram`, its parent gate bound to `server`. */
static int make_child(const char *name, uint64_t ram, uint64_t caps, amber_sel_t server)
{
	amber_sel_t gate = amber_cap_alloc();
	struct amber_child_args a = { .name = name, .binary = "test_nest", .caps = caps, .ram = ram,
				      .parent_gate = gate, .exit_sigh = exit_ctx.sel, .config_ds = AMBER_SEL_INVALID };
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, gate, server, 1);
	if (!err)
		err = amber_pd_create_child(amber_env_pd(), &a, child);
	if (!err)
		err = amber_child_start(child);
	return err;
}

static void wait_for(volatile int *flag, struct amber_timer *t)
{
	for (unsigned i = 0; i < 500 && !*flag; i++)
		amber_timer_sleep_us(t, 10000);
}

static void top(uint64_t ram0, uint64_t caps0)
{
	static struct amber_thread server;
	static struct amber_timer timer;
	amber_check_err("a Timer", amber_timer_open(&timer), AMBER_OK);
	amber_check_err("the server thread", amber_thread_create(&server, serve_thread, 0), AMBER_OK);

	amber_sel_t bad = child;
	int err = amber_pd_create_child(amber_env_pd(),
					&(struct amber_child_args){ .name = "Bad name", .binary = "test_nest", .caps = 8,
								    .ram = LEAF_RAM, .parent_gate = AMBER_SEL_PARENT,
								    .exit_sigh = exit_ctx.sel, .config_ds = AMBER_SEL_INVALID },
					bad);
	amber_check_err("a child name with a blank is refused", err, AMBER_ERR_INVALID_ARG);

	for (int round = 1; round <= 2; round++) {
		uint64_t ram, used, caps, caps_used;
		subtree_ready = child_ended = 0;
		amber_check_err("nest.1 with three generations", make_child("nest.1", ram0 / 4, 96, server.sel), AMBER_OK);
		wait_for(&subtree_ready, &timer);
		amber_check_val("the leaf nest.3 announced itself through nest.2 and nest.1", subtree_ready, 1);
		amber_pd_quota(amber_env_pd(), &ram, &used);
		amber_check_val("RAM quota while nest.1 lives", ram, ram0 - ram0 / 4);
		amber_check_err("kill nest.1", amber_child_kill(child, AMBER_CHILD_KILL, 0), AMBER_OK);
		wait_for(&child_ended, &timer);
		amber_check_val("nest.1 has ended", child_ended, 1);
		/* nest.2 and nest.3 may end after nest.1's end was signalled. */
		for (unsigned i = 0; i < 200; i++) {
			amber_pd_quota(amber_env_pd(), &ram, &used);
			if (ram == ram0)
				break;
			amber_timer_sleep_us(&timer, 10000);
		}
		amber_pd_caps(amber_env_pd(), &caps, &caps_used);
		amber_log("round %d: RAM quota %llu of %llu, caps quota %llu of %llu", round, (unsigned long long)ram,
			  (unsigned long long)ram0, (unsigned long long)caps, (unsigned long long)caps0);
		amber_check_val("all the RAM lent to the subtree came back", ram, ram0);
		amber_check_val("all the caps lent to the subtree came back", caps, caps0);
		amber_task_delete(AMBER_SEL_TASK, child);
	}
	amber_exit(amber_check_done());
}

int main(void)
{
	uint64_t ram0, used, caps0, caps_used;
	child = amber_cap_alloc();
	int err = amber_pd_quota(amber_env_pd(), &ram0, &used);
	if (!err)
		err = amber_pd_caps(amber_env_pd(), &caps0, &caps_used);
	if (!err)
		err = amber_signal_receiver_create(&receiver, 0);
	if (!err)
		err = amber_signal_context_create(&receiver, &exit_ctx, on_child_exit, 0);
	if (err) {
		amber_log("FAIL: setup (%d)", err);
		return 1;
	}
	is_top = ram0 >= TOP_RAM;
	if (is_top) {
		top(ram0, caps0);
		return 0;
	}
	if (ram0 / 4 < LEAF_RAM) { /* the leaf: tell the top the subtree runs */
		amber_sel_t gate = amber_cap_alloc();
		amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, 1);
		err = amber_parent_announce("leaf", gate);
		amber_log("leaf with %llu bytes: announced (%d)", (unsigned long long)ram0, err);
		for (;;)
			amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	}
	char name[NAME_MAX];
	/* nest.N makes nest.N+1: N from the RAM quota (the top has 16M) */
	int gen = 0;
	for (uint64_t r = ram0; r < (16u << 20); r *= 4)
		gen++;
	amber_snprintf(name, sizeof name, "nest.%d", gen + 1);
	err = make_child(name, ram0 / 4, caps0 / 2, AMBER_SEL_THREAD);
	amber_log("%llu bytes: made %s (%d)", (unsigned long long)ram0, name, err);
	serve();
	return 0;
}
