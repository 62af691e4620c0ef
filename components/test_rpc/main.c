/*
 * test_rpc: the runtime's RPC layer checked from a component: the
 * capability map, dispatch by badge on an entrypoint, errors returned to
 * the caller, capability arguments and results with duplicate detection,
 * dissolve, and destroying an entrypoint through its exit capability,
 * also while a client thread is blocked calling it.
 *
 * Client and server live in this one component (the entrypoint's thread
 * serves, the first thread and helper threads call), so they share one
 * capability map: a capability of our own object that comes back in a
 * message must map onto the slot the object has. Each check logs "ok:" or
 * "FAIL:" (amber/check.h); the exit code is the number of failures.
 * Calls whose answer is in doubt carry finite timeouts, so a bug shows as
 * a FAIL line, not a hang.
 */
#include <amber/cap_alloc.h>
#include <amber/cap_map.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/heap.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rpc.h>
#include <amber/rpc_entrypoint.h>
#include <amber/string.h>
#include <amber/syscall.h>
#include <amber/thread.h>

#define T_US 2000000u /* 2 s */
#define PROTO 0x2301u
#define SPIN_LIMIT 20000000u /* yields before a wait counts as hung */

enum op {
	OP_GET = 1,      /* -> value */
	OP_ADD,          /* x -> value */
	OP_ECHO_CAPS,    /* caps -> for each: its slot here, its badge; the same caps back */
	OP_HOLD,         /* cap: keep it -> its slot, its references */
	OP_IS_HELD,      /* cap -> 1 if it is the held capability's slot */
	OP_DROP,         /* release the held capability */
	OP_SLOW,         /* wait until `release` is set */
	OP_CALL_SELF,    /* -> the error of calling our own capability */
	OP_DESTROY_OWN,  /* -> the error of destroying our own entrypoint */
	OP_CLOSE,        /* dissolve and free this (heap) object */
	OP_KEEP_ECHO,    /* cap: keep it and return it */
	OP_RELEASE_KEPT, /* release what KEEP_ECHO kept */
};

struct obj {
	struct amber_rpc_object rpc;
	uint64_t value;
	int heap;
};

static amber_sel_t held = AMBER_SEL_INVALID, kept_cap = AMBER_SEL_INVALID;
static volatile int in_slow, release;

static int dispatch(struct amber_rpc_object *o, amber_word_t opcode, struct amber_rpc_msg *args,
		    struct amber_rpc_msg *res)
{
	struct obj *me = o->state;
	switch (opcode) {
	case OP_GET:
		res->w[0] = me->value;
		res->words = 1;
		return AMBER_OK;
	case OP_ADD:
		if (args->words < 1)
			return AMBER_ERR_INVALID_ARG;
		me->value += args->w[0];
		res->w[0] = me->value;
		res->words = 1;
		return AMBER_OK;
	case OP_ECHO_CAPS:
		for (unsigned i = 0; i < args->caps; i++) {
			res->w[2 * i] = args->cap[i];
			res->w[2 * i + 1] = amber_cap_map_badge(args->cap[i]);
			res->cap[i] = args->cap[i];
		}
		res->words = 2 * args->caps;
		res->caps = args->caps;
		return AMBER_OK;
	case OP_HOLD:
		if (args->caps != 1 || held != AMBER_SEL_INVALID)
			return AMBER_ERR_INVALID_ARG;
		held = args->cap[0];
		args->cap[0] = AMBER_SEL_INVALID; /* keep the reference */
		res->w[0] = held;
		res->w[1] = amber_cap_map_refs(held);
		res->words = 2;
		return AMBER_OK;
	case OP_IS_HELD:
		if (args->caps != 1)
			return AMBER_ERR_INVALID_ARG;
		res->w[0] = args->cap[0] == held;
		res->words = 1;
		return AMBER_OK;
	case OP_DROP:
		if (held == AMBER_SEL_INVALID)
			return AMBER_ERR_INVALID_ARG;
		amber_cap_map_release(held);
		held = AMBER_SEL_INVALID;
		return AMBER_OK;
	case OP_SLOW:
		in_slow = 1;
		for (unsigned i = 0; i < SPIN_LIMIT && !release; i++)
			amber_sys_yield();
		in_slow = 0;
		return release ? AMBER_OK : AMBER_ERR_TIMEOUT;
	case OP_CALL_SELF:
		res->w[0] = (amber_word_t)(int64_t)amber_rpc_call_words(o->cap, PROTO, OP_GET, 0, 0, 0, 0);
		res->words = 1;
		return AMBER_OK;
	case OP_DESTROY_OWN:
		res->w[0] = (amber_word_t)(int64_t)amber_rpc_ep_destroy(o->ep);
		res->words = 1;
		return AMBER_OK;
	case OP_KEEP_ECHO:
		if (args->caps != 1 || kept_cap != AMBER_SEL_INVALID)
			return AMBER_ERR_INVALID_ARG;
		kept_cap = res->cap[0] = args->cap[0];
		args->cap[0] = AMBER_SEL_INVALID;
		res->caps = 1;
		return AMBER_OK;
	case OP_RELEASE_KEPT:
		if (kept_cap == AMBER_SEL_INVALID)
			return AMBER_ERR_INVALID_ARG;
		amber_cap_map_release(kept_cap);
		kept_cap = AMBER_SEL_INVALID;
		return AMBER_OK;
	case OP_CLOSE:
		if (!me->heap)
			return AMBER_ERR_INVALID_ARG;
		amber_rpc_ep_dissolve(o->ep, o);
		amber_free(me);
		return AMBER_OK;
	default:
		return AMBER_ERR_OPCODE;
	}
}

static void obj_init(struct obj *o, uint64_t value)
{
	amber_rpc_object_init(&o->rpc, PROTO, dispatch, o);
	o->value = value;
	o->heap = 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static struct amber_utcb *u;

static uint64_t ram_used(void)
{
	uint64_t used = ~0ull;
	amber_pd_quota(amber_env_pd(), 0, &used);
	return used;
}

static int get(amber_sel_t cap, uint64_t *value)
{
	return amber_rpc_call_words(cap, PROTO, OP_GET, 0, 0, 1, value);
}

/* One more round trip to the entrypoint serving `cap`: whatever it does
 * after a reply (releasing argument capabilities) is done by then. */
static void sync_with(amber_sel_t cap)
{
	uint64_t v;
	get(cap, &v);
}

static int call(amber_sel_t cap, amber_word_t op, struct amber_rpc_msg *args, struct amber_rpc_msg *res)
{
	return amber_rpc_call_timeout(cap, PROTO, op, args, res, T_US);
}

/* A copy of `sel` in a new slot (to see revocation after the original
 * slot has been freed and perhaps reused). */
static amber_sel_t copy_of(amber_sel_t sel)
{
	amber_sel_t c = amber_check_slot();
	amber_task_map(AMBER_SEL_TASK, sel, c, AMBER_RIGHTS_ALL);
	return c;
}

static void drop(amber_sel_t sel)
{
	amber_task_delete(AMBER_SEL_TASK, sel);
	amber_cap_free(sel);
}

/* ---- the capability map ------------------------------------------------------ */

static void cap_map(void)
{
	const uint64_t B1 = 0x5eed0001ull, B2 = 0x5eed0002ull;
	unsigned count0 = amber_cap_map_count();
	amber_sel_t s = amber_check_slot(), t = amber_check_slot(), c = amber_check_slot(), q = amber_check_slot();
	amber_check_err("a gate to put into the map", amber_factory_create_gate(AMBER_SEL_FACTORY, s, 0, 0), AMBER_OK);
	amber_check_err("and another one", amber_factory_create_gate(AMBER_SEL_FACTORY, t, 0, 0), AMBER_OK);

	amber_check_err("insert with badge 0 -> INVALID_ARG", amber_cap_map_insert(0, s), AMBER_ERR_INVALID_ARG);
	amber_check_err("insert of slot 0 -> INVALID_ARG", amber_cap_map_insert(B1, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("insert of an initial slot -> INVALID_ARG", amber_cap_map_insert(B1, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("insert of a slot past the end -> INVALID_ARG", amber_cap_map_insert(B1, AMBER_CAP_SLOTS),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("insert (badge, slot)", amber_cap_map_insert(B1, s), AMBER_OK);
	amber_check_val("one entry more", amber_cap_map_count(), count0 + 1);
	amber_check_val("find by badge gives the slot", amber_cap_map_find(B1), s);
	amber_check_val("the badge of the slot", amber_cap_map_badge(s), B1);
	amber_check_val("one reference", amber_cap_map_refs(s), 1);
	amber_check_val("the table is indexed by slot", amber_cap_map_table.entry[s].badge, B1);
	amber_check_val("an unknown badge is not found", amber_cap_map_find(B2), AMBER_SEL_INVALID);
	amber_check_val("a slot not in the map has badge 0", amber_cap_map_badge(t), 0);
	amber_check_err("insert of a slot that is in the map -> SLOT_BUSY", amber_cap_map_insert(B2, s),
			AMBER_ERR_SLOT_BUSY);
	amber_check_err("ref", amber_cap_map_ref(s), AMBER_OK);
	amber_check_val("two references", amber_cap_map_refs(s), 2);
	amber_check_err("unref", amber_cap_map_unref(s), AMBER_OK);
	amber_check_val("one reference again", amber_cap_map_refs(s), 1);
	amber_check_val("the capability is still there", amber_cap_info_of(s).kind, AMBER_KIND_GATE);
	amber_check_err("ref of a slot not in the map -> INVALID_ARG", amber_cap_map_ref(t), AMBER_ERR_INVALID_ARG);
	amber_check_err("unref of a slot not in the map -> INVALID_ARG", amber_cap_map_unref(t), AMBER_ERR_INVALID_ARG);

	/* A second copy of the same object arrives with the badge. */
	amber_check_err("copy the gate into another slot", amber_task_map(AMBER_SEL_TASK, s, c, AMBER_RIGHTS_ALL),
			AMBER_OK);
	int kept = -1;
	amber_check_val("receiving the copy with the badge gives the slot we have", amber_cap_map_receive(B1, c, &kept),
			s);
	amber_check_val("the copy is not kept", kept, 0);
	amber_check_val("the copy's slot is empty", amber_cap_info_of(c).kind, AMBER_KIND_NONE);
	amber_check_val("and the entry has two references", amber_cap_map_refs(s), 2);
	amber_check_val("no new entry", amber_cap_map_count(), count0 + 1);

	/* A different object claims the badge: it gets its own entry. */
	amber_check_val("another object with the same badge keeps its slot", amber_cap_map_receive(B1, t, &kept), t);
	amber_check_val("it is kept", kept, 1);
	amber_check_val("with an entry of its own", amber_cap_map_badge(t) == B1 && amber_cap_map_refs(t) == 1, 1);
	amber_check_val("the first entry is untouched", amber_cap_map_refs(s), 2);
	amber_check_val("two entries with that badge", amber_cap_map_count(), count0 + 2);
	amber_check_err("copy the gate again", amber_task_map(AMBER_SEL_TASK, s, c, AMBER_RIGHTS_ALL), AMBER_OK);
	amber_check_val("a copy still finds the right one of the two", amber_cap_map_receive(B1, c, &kept), s);
	amber_check_val("three references", amber_cap_map_refs(s), 3);
	amber_check_val("a capability without a badge is left alone", amber_cap_map_receive(0, q, &kept), q);
	amber_check_val("kept, not in the map", kept == 1 && amber_cap_map_badge(q) == 0, 1);

	amber_check_err("unref the impostor", amber_cap_map_unref(t), AMBER_OK);
	amber_check_val("its last reference deleted it", amber_cap_info_of(t).kind, AMBER_KIND_NONE);
	for (unsigned i = 0; i < 2; i++)
		amber_cap_map_unref(s);
	amber_check_val("two unrefs leave one reference", amber_cap_map_refs(s), 1);
	amber_check_val("the gate lives", amber_cap_info_of(s).kind, AMBER_KIND_GATE);
	amber_check_err("the last unref", amber_cap_map_unref(s), AMBER_OK);
	amber_check_val("deletes the capability", amber_cap_info_of(s).kind, AMBER_KIND_NONE);
	amber_check_val("and the entry", amber_cap_map_find(B1), AMBER_SEL_INVALID);
	amber_check_val("the map is as before", amber_cap_map_count(), count0);
	amber_check_err("unref once too often -> INVALID_ARG", amber_cap_map_unref(s), AMBER_ERR_INVALID_ARG);

	amber_check_err("an IRQ (no badge)", amber_factory_create_irq(AMBER_SEL_FACTORY, q), AMBER_OK);
	amber_check_err("release of a capability not in the map", amber_cap_map_release(q), AMBER_OK);
	amber_check_val("deletes it", amber_cap_info_of(q).kind, AMBER_KIND_NONE);
	amber_cap_free(c);

	/* A slot past the first leaf: the kernel makes a leaf of its space
	 * (its caps quota allows one more), the map one of entries on the heap. */
	const amber_sel_t high = AMBER_CAP_LEAF_SLOTS + 904u;
	unsigned chunks0 = amber_heap_chunks();
	amber_check_err("reserve a slot past the first leaf", amber_cap_reserve(high, 1), AMBER_OK);
	amber_check_err("a gate in it", amber_factory_create_gate(AMBER_SEL_FACTORY, high, 0, 0), AMBER_OK);
	amber_check_err("insert it into the map", amber_cap_map_insert(B2, high), AMBER_OK);
	amber_check_val("the map's entries for that leaf came from the heap", amber_heap_chunks(), chunks0 + 1);
	amber_check_val("found by badge", amber_cap_map_find(B2), high);
	amber_check_val("with its badge", amber_cap_map_badge(high), B2);
	amber_check_val("a neighbour of it is not in the map", amber_cap_map_badge(high + 1), 0);
	amber_check_err("the last unref", amber_cap_map_unref(high), AMBER_OK);
	amber_check_val("deletes the capability", amber_cap_info_of(high).kind, AMBER_KIND_NONE);
	amber_check_val("the map is as before", amber_cap_map_count(), count0);
	amber_check_val("and the slot is free again", amber_cap_reserve(high, 1), AMBER_OK);
	amber_cap_free(high);

	/* Many entries, long chains. */
	enum { N = 600 };
	static amber_sel_t many[N];
	unsigned ok = 1;
	for (unsigned i = 0; i < N; i++) {
		many[i] = amber_check_slot();
		ok &= amber_cap_map_insert(0x1000ull + i * AMBER_CAP_MAP_BUCKETS, many[i]) == AMBER_OK;
	}
	amber_check_val("600 entries", ok && amber_cap_map_count() == count0 + N, 1);
	for (unsigned i = 0; i < N; i++)
		ok &= amber_cap_map_find(0x1000ull + i * AMBER_CAP_MAP_BUCKETS) == many[i];
	amber_check_val("each is found by its badge", ok, 1);
	for (unsigned i = 0; i < N; i += 2)
		ok &= amber_cap_map_unref(many[i]) == AMBER_OK;
	for (unsigned i = 0; i < N; i++)
		ok &= amber_cap_map_find(0x1000ull + i * AMBER_CAP_MAP_BUCKETS) == (i % 2 ? many[i] : AMBER_SEL_INVALID);
	amber_check_val("removing every other one leaves the rest findable", ok, 1);
	for (unsigned i = 1; i < N; i += 2)
		ok &= amber_cap_map_unref(many[i]) == AMBER_OK;
	amber_check_val("all removed", ok && amber_cap_map_count() == count0, 1);

	amber_sel_t run = amber_cap_alloc_run(4);
	ok = run != AMBER_SEL_INVALID;
	for (unsigned i = 0; ok && i < 4; i++)
		ok &= amber_cap_reserve(run + i, 1) == AMBER_ERR_SLOT_BUSY;
	amber_check_val("a run of 4 consecutive slots", ok, 1);
	for (unsigned i = 0; run != AMBER_SEL_INVALID && i < 4; i++)
		amber_cap_free(run + i);
}

/* ---- dispatch by badge ---------------------------------------------------------- */

static struct amber_rpc_entrypoint ep;
static struct obj a, b, c;

static void dispatch_by_badge(void)
{
	if (!amber_check_err("create an entrypoint", amber_rpc_ep_create(&ep), AMBER_OK))
		return;
	amber_check_val("its exit capability is an RPC gate in the map",
			amber_cap_info_of(ep.exit_obj.cap).kind == AMBER_KIND_GATE && amber_cap_map_badge(ep.exit_obj.cap) != 0, 1);
	obj_init(&a, 10);
	obj_init(&b, 20);
	obj_init(&c, 30);
	amber_check_err("manage object a", amber_rpc_ep_manage(&ep, &a.rpc), AMBER_OK);
	amber_check_err("manage object b", amber_rpc_ep_manage(&ep, &b.rpc), AMBER_OK);
	amber_check_err("manage object c", amber_rpc_ep_manage(&ep, &c.rpc), AMBER_OK);
	amber_check_err("manage a twice -> INVALID_ARG", amber_rpc_ep_manage(&ep, &a.rpc), AMBER_ERR_INVALID_ARG);
	amber_check_val("four objects with the exit object", ep.objects, 4);
	amber_check_val("badges are nonzero and distinct",
			a.rpc.badge && b.rpc.badge && c.rpc.badge && a.rpc.badge != b.rpc.badge &&
				b.rpc.badge != c.rpc.badge && a.rpc.badge != c.rpc.badge,
			1);
	amber_check_val("capabilities in distinct slots", a.rpc.cap != b.rpc.cap && b.rpc.cap != c.rpc.cap, 1);
	amber_check_val("a's capability is in the map under its badge", amber_cap_map_find(a.rpc.badge), a.rpc.cap);
	amber_check_val("lookup finds a by its capability", (uint64_t)(uintptr_t)amber_rpc_ep_lookup(&ep, a.rpc.cap),
			(uint64_t)(uintptr_t)&a.rpc);
	amber_check_val("lookup of the exit capability finds nothing",
			(uint64_t)(uintptr_t)amber_rpc_ep_lookup(&ep, ep.exit_obj.cap), 0);

	uint64_t va = 0, vb = 0, vc = 0;
	amber_check_err("GET a", get(a.rpc.cap, &va), AMBER_OK);
	amber_check_err("GET b", get(b.rpc.cap, &vb), AMBER_OK);
	amber_check_err("GET c", get(c.rpc.cap, &vc), AMBER_OK);
	amber_check_val("each call reached its own object", va == 10 && vb == 20 && vc == 30, 1);
	amber_word_t five = 5;
	amber_check_err("ADD 5 to b", amber_rpc_call_words(b.rpc.cap, PROTO, OP_ADD, 1, &five, 1, &vb), AMBER_OK);
	amber_check_val("b is 25", vb, 25);
	get(a.rpc.cap, &va);
	get(c.rpc.cap, &vc);
	amber_check_val("a and c are unchanged", va == 10 && vc == 30, 1);

	amber_check_err("unknown opcode -> OPCODE", amber_rpc_call_words(a.rpc.cap, PROTO, 99, 0, 0, 0, 0),
			AMBER_ERR_OPCODE);
	amber_check_err("wrong interface -> PROTO", amber_rpc_call_words(a.rpc.cap, PROTO + 1, OP_GET, 0, 0, 1, &va),
			AMBER_ERR_PROTO);
	amber_check_err("ADD without its argument -> INVALID_ARG (the function's error)",
			amber_rpc_call_words(a.rpc.cap, PROTO, OP_ADD, 0, 0, 1, &va), AMBER_ERR_INVALID_ARG);
	amber_check_err("expecting more result words than sent -> PROTO",
			amber_rpc_call_words(a.rpc.cap, PROTO, OP_GET, 0, 0, 2, &va), AMBER_ERR_PROTO);
	int err = amber_ipc_call(a.rpc.cap, amber_tag(PROTO, 0, 0), T_US, T_US);
	amber_check_val("a message without an opcode -> status PROTO",
			err == AMBER_OK && amber_tag_words(u->tag) == 1 && (int64_t)u->mr[0] == AMBER_ERR_PROTO, 1);
	amber_check_val("the entrypoint still serves", get(a.rpc.cap, &va) == AMBER_OK && va == 10, 1);
	struct amber_rpc_msg res = { .words = 0, .caps = 0 };
	amber_check_err("calling our own object from its entrypoint -> SELF (returned as result)",
			call(a.rpc.cap, OP_CALL_SELF, 0, &res), AMBER_OK);
	amber_check_val("the entrypoint thread got SELF", res.w[0], (amber_word_t)(int64_t)AMBER_ERR_SELF);
	amber_check_err("destroy from the entrypoint's own thread", call(a.rpc.cap, OP_DESTROY_OWN, 0, &res), AMBER_OK);
	amber_check_val("it is refused with SELF", res.w[0], (amber_word_t)(int64_t)AMBER_ERR_SELF);
	amber_check_err("the exit capability with an unknown opcode -> OPCODE",
			amber_rpc_call_words(ep.exit_obj.cap, AMBER_RPC_EXIT_PROTO, 77, 0, 0, 0, 0), AMBER_ERR_OPCODE);
	amber_check_val("and the entrypoint keeps running", get(b.rpc.cap, &vb) == AMBER_OK && vb == 25, 1);
}

/* ---- capability arguments and results ---------------------------------------------- */

static void cap_args_and_results(void)
{
	unsigned count0 = amber_cap_map_count();
	struct amber_rpc_msg args = { .words = 0, .caps = 1, .cap = { a.rpc.cap } };
	struct amber_rpc_msg res = { .words = 0, .caps = 1 };
	if (amber_check_err("ECHO a's own capability", call(c.rpc.cap, OP_ECHO_CAPS, &args, &res), AMBER_OK)) {
		amber_check_val("the server got it in a's slot (badge hit)", res.w[0], a.rpc.cap);
		amber_check_val("with a's badge", res.w[1], a.rpc.badge);
		amber_check_val("it came back in a's slot too", res.caps == 1 && res.cap[0] == a.rpc.cap, 1);
		sync_with(c.rpc.cap);
		amber_check_val("holding one more reference", amber_cap_map_refs(a.rpc.cap), 2);
		amber_check_err("release that reference", amber_cap_map_release(res.cap[0]), AMBER_OK);
		amber_check_val("back to one", amber_cap_map_refs(a.rpc.cap), 1);
	}
	amber_check_val("no entry was added", amber_cap_map_count(), count0);

	amber_sel_t irq = amber_check_slot();
	amber_factory_create_irq(AMBER_SEL_FACTORY, irq);
	args.cap[0] = irq;
	res.caps = 1;
	if (amber_check_err("ECHO an IRQ (a capability without a badge)", call(c.rpc.cap, OP_ECHO_CAPS, &args, &res),
			    AMBER_OK)) {
		amber_check_val("the server got it in a new slot, badge 0", res.w[0] != irq && res.w[1] == 0, 1);
		amber_check_val("it came back in another new slot", res.caps == 1 && res.cap[0] != irq, 1);
		sync_with(c.rpc.cap);
		amber_check_val("the server released its copy after the reply", amber_cap_info_of((amber_sel_t)res.w[0]).kind,
				AMBER_KIND_NONE);
		amber_check_val("which revoked ours, derived from it (mapping database)", amber_cap_info_of(res.cap[0]).kind,
				AMBER_KIND_NONE);
		amber_check_err("release our returned copy", amber_cap_map_release(res.cap[0]), AMBER_OK);
		amber_check_val("the IRQ itself stays", amber_cap_info_of(irq).kind, AMBER_KIND_IRQ);
	}
	res.caps = 1;
	if (amber_check_err("KEEP_ECHO the IRQ: the server keeps its copy", call(c.rpc.cap, OP_KEEP_ECHO, &args, &res),
			    AMBER_OK)) {
		sync_with(c.rpc.cap);
		amber_check_val("the returned copy names the same IRQ",
				res.caps == 1 && res.cap[0] != irq && amber_cap_info_of(res.cap[0]).object_id == amber_cap_info_of(irq).object_id,
				1);
		amber_check_err("the server releases it", call(c.rpc.cap, OP_RELEASE_KEPT, 0, 0), AMBER_OK);
		amber_check_val("and our copy goes with it", amber_cap_info_of(res.cap[0]).kind, AMBER_KIND_NONE);
		amber_cap_map_release(res.cap[0]);
	}

	struct amber_rpc_msg two = { .words = 0, .caps = 2, .cap = { b.rpc.cap, a.rpc.cap } };
	res.caps = 2;
	if (amber_check_err("ECHO two capabilities", call(c.rpc.cap, OP_ECHO_CAPS, &two, &res), AMBER_OK))
		amber_check_val("both came back in their slots, in order",
				res.caps == 2 && res.cap[0] == b.rpc.cap && res.cap[1] == a.rpc.cap, 1);
	for (unsigned i = 0; i < res.caps; i++)
		amber_cap_map_release(res.cap[i]);
	sync_with(c.rpc.cap);
	amber_check_val("references as before", amber_cap_map_refs(a.rpc.cap) == 1 && amber_cap_map_refs(b.rpc.cap) == 1,
			1);

	res.caps = 0;
	amber_check_err("results with a capability where none is accepted -> RCV_WINDOW",
			call(c.rpc.cap, OP_ECHO_CAPS, &args, &res), AMBER_ERR_RCV_WINDOW);
	res.caps = 1;
	amber_check_val("the server goes on", get(c.rpc.cap, &res.w[0]) == AMBER_OK, 1);

	struct amber_rpc_msg five = { .words = 0, .caps = AMBER_RPC_MAX_CAPS + 1, .cap = { irq, irq, irq, irq } };
	amber_check_err("5 capabilities -> INVALID_ARG", call(c.rpc.cap, OP_ECHO_CAPS, &five, &res),
			AMBER_ERR_INVALID_ARG);
	struct amber_rpc_msg big = { .words = AMBER_RPC_MAX_WORDS + 1, .caps = 0 };
	amber_check_err("too many words -> INVALID_ARG", call(c.rpc.cap, OP_GET, &big, &res), AMBER_ERR_INVALID_ARG);

	args.cap[0] = b.rpc.cap;
	res.caps = 0;
	if (amber_check_err("HOLD b's capability", call(c.rpc.cap, OP_HOLD, &args, &res), AMBER_OK)) {
		amber_check_val("the server holds it in b's slot", res.w[0], b.rpc.cap);
		amber_check_val("with two references", res.w[1], 2);
	}
	if (amber_check_err("IS_HELD with b's capability", call(c.rpc.cap, OP_IS_HELD, &args, &res), AMBER_OK))
		amber_check_val("the arriving copy is the held slot", res.w[0], 1);
	args.cap[0] = irq;
	if (amber_check_err("IS_HELD with the IRQ", call(c.rpc.cap, OP_IS_HELD, &args, &res), AMBER_OK))
		amber_check_val("is not", res.w[0], 0);
	amber_check_err("DROP", call(c.rpc.cap, OP_DROP, 0, 0), AMBER_OK);
	sync_with(c.rpc.cap);
	amber_check_val("b's references are back to one", amber_cap_map_refs(b.rpc.cap), 1);
	amber_check_val("no entry was added or lost", amber_cap_map_count(), count0);
	drop(irq);
}

/* ---- dissolve ------------------------------------------------------------------------------- */

static void dissolve(void)
{
	uint64_t v = 0, old_badge = c.rpc.badge;
	amber_sel_t copy = copy_of(c.rpc.cap);
	amber_check_err("dissolve c", amber_rpc_ep_dissolve(&ep, &c.rpc), AMBER_OK);
	amber_check_val("c is no longer managed", c.rpc.ep == 0 && c.rpc.cap == AMBER_SEL_INVALID, 1);
	amber_check_err("a copy of its capability -> INVALID_CAP (revoked)", get(copy, &v), AMBER_ERR_INVALID_CAP);
	amber_check_val("its entry is gone", amber_cap_map_find(old_badge), AMBER_SEL_INVALID);
	amber_check_err("dissolve c again -> INVALID_ARG", amber_rpc_ep_dissolve(&ep, &c.rpc), AMBER_ERR_INVALID_ARG);
	amber_check_err("dissolve the exit object -> INVALID_ARG", amber_rpc_ep_dissolve(&ep, &ep.exit_obj),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("manage c again", amber_rpc_ep_manage(&ep, &c.rpc), AMBER_OK);
	amber_check_val("with a new badge", c.rpc.badge != old_badge, 1);
	amber_check_val("and its state", get(c.rpc.cap, &v) == AMBER_OK && v == 30, 1);
	drop(copy);

	struct obj *h = amber_malloc(sizeof(*h));
	obj_init(h, 7);
	h->heap = 1;
	amber_check_err("manage an object on the heap", amber_rpc_ep_manage(&ep, &h->rpc), AMBER_OK);
	amber_sel_t hcopy = copy_of(h->rpc.cap);
	amber_check_val("it answers", get(hcopy, &v) == AMBER_OK && v == 7, 1);
	amber_check_err("CLOSE: it dissolves and frees itself in its own dispatch",
			amber_rpc_call_words(hcopy, PROTO, OP_CLOSE, 0, 0, 0, 0), AMBER_OK);
	amber_check_err("then it is gone", get(hcopy, &v), AMBER_ERR_INVALID_CAP);
	amber_check_val("three objects and the exit object", ep.objects, 4);
	drop(hcopy);
}

/* ---- destroy through the exit capability -------------------------------------------------- */

static void destroy(void)
{
	uint64_t v = 0;
	unsigned count0 = amber_cap_map_count();
	amber_sel_t exit_copy = copy_of(ep.exit_obj.cap), a_copy = copy_of(a.rpc.cap);
	amber_sel_t thread = ep.thread.sel;
	amber_check_err("destroy the entrypoint", amber_rpc_ep_destroy(&ep), AMBER_OK);
	amber_check_val("its thread is gone", amber_cap_info_of(thread).kind == AMBER_KIND_NONE, 1);
	amber_check_err("the exit gate is gone: calling it -> INVALID_CAP",
			amber_rpc_call_words(exit_copy, AMBER_RPC_EXIT_PROTO, AMBER_RPC_EXIT, 0, 0, 0, 0),
			AMBER_ERR_INVALID_CAP);
	amber_check_err("its objects are dissolved: calling a -> INVALID_CAP", get(a_copy, &v), AMBER_ERR_INVALID_CAP);
	amber_check_val("and unmanaged", a.rpc.ep == 0 && b.rpc.ep == 0 && c.rpc.ep == 0, 1);
	amber_check_val("the map lost a, b, c and the exit capability", amber_cap_map_count(), count0 - 4);
	amber_check_err("destroy twice -> INVALID_ARG", amber_rpc_ep_destroy(&ep), AMBER_ERR_INVALID_ARG);
	amber_check_err("manage on a destroyed entrypoint -> NO_PARTNER", amber_rpc_ep_manage(&ep, &a.rpc),
			AMBER_ERR_NO_PARTNER);
	drop(exit_copy);
	drop(a_copy);
}

/* ---- destroy while a client is blocked calling ---------------------------------------------- */

struct client {
	amber_sel_t cap;
	amber_word_t op;
	volatile int err;
	volatile int done;
	int set_release; /* let the slow call end once our call returned */
};

static void client_main(void *arg)
{
	struct client *cl = arg;
	int err = amber_rpc_call_timeout(cl->cap, PROTO, cl->op, 0, 0, T_US);
	cl->err = err;
	if (cl->set_release)
		release = 1;
	__atomic_store_n(&cl->done, 1, __ATOMIC_RELEASE);
}

/* Has the kernel taken the call of `sel` that the thread with this UTCB
 * made, and is the thread waiting? Its doorbell shows the call's number
 * and the flag the kernel's entry thread sets when it sleeps again, after
 * the operation (docs/abi.md), while the answer has not come. */
static int in_call(uint64_t utcb, amber_sel_t sel)
{
	const struct amber_utcb *tu = (const struct amber_utcb *)(uintptr_t)utcb;
	uint32_t e = __atomic_load_n(&tu->entry_seq, __ATOMIC_ACQUIRE);
	uint32_t d = __atomic_load_n(&tu->done_seq, __ATOMIC_ACQUIRE);
	return tu->op == AMBER_OP_CALL && tu->sel == sel && (e & AMBER_SEQ_SLEEPING) &&
	       (e & AMBER_SEQ_MASK) != (d & AMBER_SEQ_MASK);
}

static void destroy_while_blocked(void)
{
	static struct amber_rpc_entrypoint e2;
	static struct obj slow, other;
	uint64_t ram0 = ram_used();
	unsigned count0 = amber_cap_map_count();
	if (!amber_check_err("a second entrypoint", amber_rpc_ep_create(&e2), AMBER_OK))
		return;
	obj_init(&slow, 1);
	obj_init(&other, 2);
	amber_rpc_ep_manage(&e2, &slow.rpc);
	amber_rpc_ep_manage(&e2, &other.rpc);
	in_slow = 0;
	release = 0;

	static struct client c1, c2;
	struct amber_thread t1, t2;
	c1 = (struct client){ slow.rpc.cap, OP_SLOW, -99, 0, 0 };
	c2 = (struct client){ other.rpc.cap, OP_GET, -99, 0, 1 };
	amber_check_err("client 1 calls the slow function", amber_thread_create(&t1, client_main, &c1), AMBER_OK);
	unsigned i = 0;
	while (!in_slow && i++ < SPIN_LIMIT)
		amber_sys_yield();
	amber_check_val("the entrypoint is busy in it", in_slow, 1);
	amber_check_err("client 2 calls another object", amber_thread_create(&t2, client_main, &c2), AMBER_OK);
	i = 0;
	while (!in_call(t2.utcb, other.rpc.cap) && !c2.done && i++ < SPIN_LIMIT)
		amber_sys_yield();
	amber_check_val("client 2 is blocked in its call", in_call(t2.utcb, other.rpc.cap), 1);

	amber_check_err("destroy the entrypoint meanwhile", amber_rpc_ep_destroy(&e2), AMBER_OK);
	amber_check_val("client 2 returned", __atomic_load_n(&c2.done, __ATOMIC_ACQUIRE), 1);
	amber_check_err("with an error, not a hang", c2.err, AMBER_ERR_NO_PARTNER);
	amber_check_err("join client 2", amber_thread_join(&t2), AMBER_OK);
	amber_check_err("join client 1", amber_thread_join(&t1), AMBER_OK);
	amber_check_err("client 1's call, taken before, was answered", c1.err, AMBER_OK);
	amber_check_val("RAM as before", ram_used(), ram0);
	amber_check_val("capability map as before", amber_cap_map_count(), count0);
}

/* ---- many objects, and entrypoints one after another -------------------------------------------- */

static void many(void)
{
	enum { N = 100, ROUNDS = 10 };
	static struct obj objs[N];
	static struct amber_rpc_entrypoint e3;
	uint64_t ram0 = ram_used();
	unsigned count0 = amber_cap_map_count();
	if (!amber_check_err("an entrypoint for 100 objects", amber_rpc_ep_create(&e3), AMBER_OK))
		return;
	unsigned ok = 1;
	for (unsigned i = 0; i < N; i++) {
		obj_init(&objs[i], 1000 + i);
		ok &= amber_rpc_ep_manage(&e3, &objs[i].rpc) == AMBER_OK;
	}
	amber_check_val("manage 100 objects", ok, 1);
	for (unsigned i = 0; i < N; i++) {
		uint64_t v = 0;
		ok &= get(objs[i].rpc.cap, &v) == AMBER_OK && v == 1000 + i;
	}
	amber_check_val("each answers with its own state", ok, 1);
	for (unsigned i = 0; i < N; i += 2)
		ok &= amber_rpc_ep_dissolve(&e3, &objs[i].rpc) == AMBER_OK;
	amber_check_val("dissolve half of them", ok && e3.objects == N / 2 + 1, 1);
	for (unsigned i = 1; i < N; i += 2) {
		uint64_t v = 0;
		ok &= get(objs[i].rpc.cap, &v) == AMBER_OK && v == 1000 + i;
	}
	amber_check_val("the others still answer", ok, 1);
	amber_check_err("destroy it with 50 objects managed", amber_rpc_ep_destroy(&e3), AMBER_OK);
	amber_check_val("nothing left in the map", amber_cap_map_count(), count0);

	for (unsigned r = 0; r < ROUNDS; r++) {
		ok &= amber_rpc_ep_create(&e3) == AMBER_OK;
		obj_init(&objs[0], r);
		ok &= amber_rpc_ep_manage(&e3, &objs[0].rpc) == AMBER_OK;
		uint64_t v = ~0ull;
		ok &= get(objs[0].rpc.cap, &v) == AMBER_OK && v == r;
		ok &= amber_rpc_ep_destroy(&e3) == AMBER_OK;
	}
	amber_check_val("10 entrypoints created, called and destroyed", ok, 1);
	amber_check_val("RAM as before", ram_used(), ram0);
	amber_check_val("capability map as before", amber_cap_map_count(), count0);
}

int main(void)
{
	u = amber_utcb();
	amber_log("test_rpc: start");
	cap_map();
	dispatch_by_badge();
	cap_args_and_results();
	dissolve();
	destroy();
	destroy_while_blocked();
	many();
	return amber_check_done();
}
