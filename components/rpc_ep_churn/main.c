/*
 * rpc_ep_churn: RPC entrypoints created and destroyed in a loop, each one
 * called while it lives, to show that exit capabilities work and that
 * nothing leaks.
 *
 * ROUNDS times: create an entrypoint, manage OBJECTS objects on it, call
 * each (also with another one's capability as argument), keep a copy of
 * the exit capability, destroy the entrypoint, and check that the copy
 * and the objects' capabilities are revoked. Every BLOCKED_EVERY-th round
 * a client thread is blocked calling the entrypoint when it is destroyed
 * and must get an error. ROUNDS * (OBJECTS + 1) RPC capabilities and
 * ROUNDS threads are more than core gives a component at once (256 and
 * 255), so a leak of either would fail the later rounds. At the end, RAM
 * (PD QUOTA), free capability slots, capability-map entries and heap
 * chunks must be what they were before the first round.
 */
#include <amber/cap_alloc.h>
#include <amber/cap_map.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/heap.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rpc_entrypoint.h>
#include <amber/syscall.h>
#include <amber/thread.h>

#define ROUNDS 300u
#define OBJECTS 5u
#define BLOCKED_EVERY 10u
#define PROTO 0x2401u
#define T_US 2000000u
#define SPIN_LIMIT 20000000u

enum { OP_GET = 1, OP_ADD_FROM = 2, OP_SLOW = 3 };

struct obj {
	struct amber_rpc_object rpc;
	uint64_t value;
};

static struct amber_rpc_entrypoint ep;
static struct obj objs[OBJECTS];
static volatile int in_slow, release;

static int dispatch(struct amber_rpc_object *o, amber_word_t op, struct amber_rpc_msg *args,
		    struct amber_rpc_msg *res)
{
	struct obj *me = o->state;
	struct amber_rpc_object *other;
	switch (op) {
	case OP_GET:
		res->w[0] = me->value;
		res->words = 1;
		return AMBER_OK;
	case OP_ADD_FROM:
		other = args->caps == 1 ? amber_rpc_ep_lookup(o->ep, args->cap[0]) : 0;
		if (!other)
			return AMBER_ERR_INVALID_ARG;
		me->value += ((struct obj *)other->state)->value;
		res->w[0] = me->value;
		res->words = 1;
		return AMBER_OK;
	case OP_SLOW:
		in_slow = 1;
		for (unsigned i = 0; i < SPIN_LIMIT && !release; i++)
			amber_sys_yield();
		in_slow = 0;
		return AMBER_OK;
	default:
		return AMBER_ERR_OPCODE;
	}
}

static uint64_t ram_used(void)
{
	uint64_t used = ~0ull;
	amber_pd_quota(amber_env_pd(), 0, &used);
	return used;
}

/* Free capability slots, as the slot allocator counts them. */
static unsigned free_slots(void) { return AMBER_CAP_SLOTS - AMBER_SEL_FIRST_FREE - amber_cap_in_use(); }

struct client {
	amber_sel_t cap;
	amber_word_t op;
	int set_release;
	volatile int err;
};

static void client_main(void *arg)
{
	struct client *cl = arg;
	cl->err = amber_rpc_call_timeout(cl->cap, PROTO, cl->op, 0, 0, T_US);
	if (cl->set_release)
		release = 1;
}

/* Has the kernel taken the call of `sel` that the thread with this UTCB
 * made, and is the thread waiting? Its doorbell shows the call's number
 * and the flag the kernel's entry thread sets when it sleeps again, after
 * the operation (docs/abi.md), while the answer has not come. */
static int blocked_in_call(uint64_t utcb, amber_sel_t sel)
{
	const struct amber_utcb *tu = (const struct amber_utcb *)(uintptr_t)utcb;
	uint32_t e = __atomic_load_n(&tu->entry_seq, __ATOMIC_ACQUIRE);
	uint32_t d = __atomic_load_n(&tu->done_seq, __ATOMIC_ACQUIRE);
	return tu->op == AMBER_OP_CALL && tu->sel == sel && (e & AMBER_SEQ_SLEEPING) &&
	       (e & AMBER_SEQ_MASK) != (d & AMBER_SEQ_MASK);
}

/* One round; 0 or the first thing that went wrong (logged). */
static int round_trip(unsigned r, unsigned *blocked_errors)
{
	int err = amber_rpc_ep_create(&ep);
	if (err) {
		amber_log("FAIL: round %u: create (%d)", r, err);
		return 1;
	}
	for (unsigned i = 0; i < OBJECTS; i++) {
		amber_rpc_object_init(&objs[i].rpc, PROTO, dispatch, &objs[i]);
		objs[i].value = r * 100 + i;
		if ((err = amber_rpc_ep_manage(&ep, &objs[i].rpc))) {
			amber_log("FAIL: round %u: manage %u (%d)", r, i, err);
			return 1;
		}
	}
	for (unsigned i = 0; i < OBJECTS; i++) {
		uint64_t v = 0;
		err = amber_rpc_call_words(objs[i].rpc.cap, PROTO, OP_GET, 0, 0, 1, &v);
		if (err || v != r * 100 + i) {
			amber_log("FAIL: round %u: GET %u (%d, %lu)", r, i, err, (unsigned long)v);
			return 1;
		}
	}
	struct amber_rpc_msg args = { .words = 0, .caps = 1, .cap = { objs[1].rpc.cap } };
	struct amber_rpc_msg res = { .words = 0, .caps = 0 };
	err = amber_rpc_call(objs[0].rpc.cap, PROTO, OP_ADD_FROM, &args, &res);
	if (err || res.words != 1 || res.w[0] != 2 * r * 100 + 1) {
		amber_log("FAIL: round %u: ADD_FROM (%d)", r, err);
		return 1;
	}

	amber_sel_t exit_copy = amber_cap_alloc(), obj_copy = amber_cap_alloc();
	amber_task_map(AMBER_SEL_TASK, ep.exit_obj.cap, exit_copy, AMBER_RIGHTS_ALL);
	amber_task_map(AMBER_SEL_TASK, objs[2].rpc.cap, obj_copy, AMBER_RIGHTS_ALL);

	struct amber_thread t1, t2;
	static struct client c1, c2;
	int blocked = r % BLOCKED_EVERY == 0;
	if (blocked) {
		in_slow = 0;
		release = 0;
		c1 = (struct client){ objs[3].rpc.cap, OP_SLOW, 0, -99 };
		c2 = (struct client){ objs[4].rpc.cap, OP_GET, 1, -99 };
		amber_thread_create(&t1, client_main, &c1);
		for (unsigned i = 0; i < SPIN_LIMIT && !in_slow; i++)
			amber_sys_yield();
		amber_thread_create(&t2, client_main, &c2);
		for (unsigned i = 0; i < SPIN_LIMIT && !blocked_in_call(t2.utcb, objs[4].rpc.cap); i++)
			amber_sys_yield();
	}

	err = amber_rpc_ep_destroy(&ep);
	if (err) {
		amber_log("FAIL: round %u: destroy (%d)", r, err);
		return 1;
	}
	if (blocked) {
		amber_thread_join(&t1);
		amber_thread_join(&t2);
		if (c1.err != AMBER_OK || c2.err != AMBER_ERR_NO_PARTNER) {
			amber_log("FAIL: round %u: blocked clients got %d and %d", r, c1.err, c2.err);
			return 1;
		}
		++*blocked_errors;
	}
	int e1 = amber_rpc_call_words(exit_copy, AMBER_RPC_EXIT_PROTO, AMBER_RPC_EXIT, 0, 0, 0, 0);
	uint64_t v = 0;
	int e2 = amber_rpc_call_words(obj_copy, PROTO, OP_GET, 0, 0, 1, &v);
	if (e1 != AMBER_ERR_INVALID_CAP || e2 != AMBER_ERR_INVALID_CAP || amber_cap_info_of(exit_copy).kind != AMBER_KIND_NONE) {
		amber_log("FAIL: round %u: after destroy the exit capability gave %d, an object %d", r, e1, e2);
		return 1;
	}
	amber_cap_free(exit_copy);
	amber_cap_free(obj_copy);
	return 0;
}

int main(void)
{
	/* The default sessions take a slot each when first used: before counting. */
	amber_env_cpu();
	amber_env_rm();
	uint64_t ram0 = ram_used();
	unsigned slots0 = free_slots(), map0 = amber_cap_map_count(), chunks0 = amber_heap_chunks();
	amber_log("churn: %u rounds of create, manage %u objects, call, destroy (RAM used %lu, %u free slots)", ROUNDS,
		  OBJECTS, (unsigned long)ram0, slots0);
	unsigned done = 0, blocked_errors = 0;
	for (unsigned r = 0; r < ROUNDS; r++) {
		if (round_trip(r, &blocked_errors))
			break;
		done++;
		if ((r + 1) % 100 == 0)
			amber_log("churn: %u entrypoints so far", r + 1);
	}
	uint64_t ram1 = ram_used();
	unsigned slots1 = free_slots(), map1 = amber_cap_map_count(), chunks1 = amber_heap_chunks();
	amber_log("churn: after %u rounds RAM used %lu, %u free slots, %u map entries, %u heap chunks", done,
		  (unsigned long)ram1, slots1, map1, chunks1);
	amber_check_val("all rounds: create, manage, call, destroy through the exit capability", done, ROUNDS);
	amber_check_val("clients blocked at destroy got NO_PARTNER", blocked_errors, ROUNDS / BLOCKED_EVERY);
	amber_check_val("PD QUOTA: RAM used as before", ram1, ram0);
	amber_check_val("free capability slots as before", slots1, slots0);
	amber_check_val("capability map as before", map1, map0);
	amber_check_val("heap chunks as before", chunks1, chunks0);
	return amber_check_done();
}
