/*
 * hostile_fuzzer: drives the kernel ABI and core's services with
 * pseudo-random requests (tracker issue 10, "A hostile-component fuzzer").
 *
 * Config: <fuzz seed="N" ops="M"/>. Each of the M operations is picked by
 * an xorshift generator seeded with N: raw kernel entries (random op,
 * selector, tag, words, map items, receive window, timeouts), kernel-object
 * methods (task, factory, IRQ, gate), parent requests (SESSION, ANNOUNCE,
 * CLOSE, UPGRADE), random methods on the PD, CPU, RM, ROM, Timer,
 * dataspace, signal and child capabilities it gets, calls while a second
 * thread scribbles over the caller's UTCB, and doorbell floods. A server
 * thread answers calls on gates bound to it with random replies. Nothing
 * depends on any result: the errors are only counted, and the summary is
 * logged at the end. The run then ends in one of five ways chosen by the
 * seed: exit, a forbidden system call, a doorbell rung on a thread blocked
 * in the kernel, exit_group behind the parent's back, or a page fault.
 *
 * What it never does, because it would only end or hang itself: invoke
 * the runtime's own sessions and slots (its selectors come from a private
 * pool at the top of the space, the initial slots and invalid values),
 * hand out a thread capability of its own threads with CONTROL (a CPU
 * session could pause them), wait without a finite timeout, ask the
 * parent to EXIT, detach memory it did not attach, or start a thread
 * anywhere but on a function of its own with a fresh stack.
 */
#include <amber/error.h>
#include <amber/cap_alloc.h>
#include <amber/cpu_session.h>
#include <amber/ipc.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd_session.h>
#include <amber/protocols.h>
#include <amber/rm_session.h>
#include <amber/rom.h>
#include <amber/rom_session.h>
#include <amber/signal_source.h>
#include <amber/child.h>
#include <amber/kobj.h>
#include <amber/pd.h>
#include <amber/string.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/timer_session.h>
#include <amber/tls.h>

#define POOL_BASE 3840u /* the fuzzer's own slots: [POOL_BASE, POOL_END) */
#define POOL_END 4096u
#define POOL_N (POOL_END - POOL_BASE)
#define SRV_BASE 3800u /* the server thread's receive window */
#define SRV_N 8u
#define SPINNERS 24u
#define SPIN_STACK 8192u
#define FIXED_RM_BASE 0x10000000000ull /* fixed-address attaches: far above the runtime's */
#define DEFAULT_OPS 2000u

#define NPROTOS 16u

/* What a pool slot is believed to hold: the protocol to speak to it (0:
 * empty or unknown). Only a hint: nothing relies on it. */
static uint32_t hint[POOL_N];

static struct {
	uint64_t ops, calls, scribbled, flood_entries, sessions, threads_started, children, sweeps;
	uint64_t ok_by[NPROTOS + 1]; /* successes by the protocol spoken, then any other */
	uint64_t err[17]; /* 0 .. -15, then anything else */
} st;

static struct amber_thread server, scribbler;
static volatile int stop;
static volatile int scribble_on;    /* main: scribble over my UTCB now */
static volatile unsigned scribble_ack; /* scribbler: I saw it off (counter) */
static struct amber_utcb *main_utcb;
static uint64_t fixed_attached[16];
static char spin_stacks[SPINNERS][SPIN_STACK] __attribute__((aligned(16)));
static unsigned spin_next;
static volatile unsigned spinners_live;

/* ---- randomness ---------------------------------------------------------- */

static uint64_t rnd_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ull;
}
static uint64_t rs; /* the main thread's generator */
static uint64_t rnd(void) { return rnd_next(&rs); }
static unsigned below(uint64_t *s, unsigned n) { return (unsigned)(rnd_next(s) % n); }
static unsigned pct(void) { return below(&rs, 100); }

static const uint32_t protos[] = {
	AMBER_PROTO_LOG,	   AMBER_PROTO_PARENT,	      AMBER_PROTO_PD,	  AMBER_PROTO_CPU,
	AMBER_PROTO_RM,		   AMBER_PROTO_DATASPACE,     AMBER_PROTO_ROM,	  AMBER_PROTO_SIGNAL_SOURCE,
	AMBER_PROTO_SIGNAL_CONTEXT, AMBER_PROTO_TIMER,	      AMBER_PROTO_CHILD,  AMBER_PROTO_TASK,
	AMBER_PROTO_THREAD,	   AMBER_PROTO_IRQ,	      AMBER_PROTO_FACTORY, AMBER_PROTO_GATE,
};
_Static_assert(sizeof protos / sizeof protos[0] == NPROTOS, "NPROTOS");

static uint32_t any_proto(uint64_t *s)
{
	unsigned r = below(s, 20);
	return r < NPROTOS ? protos[r] : (r == NPROTOS ? (uint32_t)rnd_next(s) : below(s, 4));
}

/* A selector to invoke or name: mostly the pool, never the runtime's slots. */
static amber_sel_t any_sel(uint64_t *s)
{
	unsigned r = below(s, 100);
	if (r < 60)
		return POOL_BASE + below(s, POOL_N);
	if (r < 75) {
		static const amber_sel_t initial[] = { AMBER_SEL_TASK, AMBER_SEL_FACTORY, AMBER_SEL_PARENT,
						       AMBER_SEL_LOG };
		return initial[below(s, 4)];
	}
	if (r < 80)
		return AMBER_SEL_THREAD; /* invoked, never handed out with CONTROL */
	if (r < 85)
		return 6 + below(s, 10); /* reserved */
	if (r < 90)
		return 0;
	if (r < 95)
		return AMBER_CAP_SLOTS + below(s, 3);
	return (amber_sel_t)rnd_next(s);
}

static amber_sel_t free_pool_slot(uint64_t *s)
{
	amber_sel_t sel = POOL_BASE + below(s, POOL_N);
	for (unsigned i = 0; i < 8 && hint[sel - POOL_BASE]; i++)
		sel = POOL_BASE + below(s, POOL_N);
	return sel;
}

static uint64_t timeout(uint64_t *s)
{
	static const uint64_t t[] = { 0, 0, 1, 10, 100, 1000, 5000, 20000 };
	return t[below(s, 8)];
}

/* Words that make code take unusual paths. */
static uint64_t word(uint64_t *s)
{
	switch (below(s, 14)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return below(s, 16);
	case 3: return (uint64_t)below(s, 64) * AMBER_PAGE_SIZE;
	case 4: return UINT64_MAX;
	case 5: return 1ull << 63;
	case 6: return (uint32_t)rnd_next(s);
	case 7: return any_sel(s);
	case 8: return AMBER_DYNAMIC_BASE + (uint64_t)below(s, 1024) * AMBER_PAGE_SIZE;
	case 9: return (uint64_t)1 << below(s, 64);
	case 10: return AMBER_PAGE_SIZE - 1 + below(s, 3);
	case 11: return 0x7fffffffull + below(s, 3);
	default: return rnd_next(s);
	}
}

static int own_thread_sel(amber_sel_t sel)
{
	return sel == AMBER_SEL_THREAD || sel == server.sel || sel == scribbler.sel;
}

/* A map item. Our own threads go only without CONTROL (see the top),
 * except to what we believe is a PD session (thread_items): signal sources
 * and RPC capabilities need a thread with CONTROL, and core keeps it. */
static amber_word_t item(uint64_t *s, int thread_items)
{
	unsigned r = below(s, 100);
	if (r < 8)
		return rnd_next(s); /* any junk: type, rights, selector */
	amber_sel_t sel = any_sel(s);
	if (thread_items && r < 20) {
		unsigned w = below(s, 3);
		sel = w == 0 ? AMBER_SEL_THREAD : w == 1 ? server.sel : scribbler.sel;
	}
	unsigned rights = below(s, 9) == 8 ? 0xffu : below(s, 8);
	if (own_thread_sel(sel) && !thread_items)
		rights &= ~(unsigned)AMBER_RIGHT_CONTROL;
	return amber_map_item(sel, rights);
}

static amber_word_t window(uint64_t *s)
{
	unsigned r = below(s, 100);
	if (r < 80)
		return amber_rcv_window(free_pool_slot(s), 1 + below(s, 4));
	if (r < 85)
		return 0;
	if (r < 90)
		return amber_rcv_window(POOL_BASE + below(s, POOL_N), 64 + below(s, 5000)); /* past the end */
	if (r < 95)
		return amber_rcv_window(any_sel(s), below(s, 9));
	return rnd_next(s);
}

/* ---- what we send ---------------------------------------------------------- */

static void put_string(struct amber_utcb *u, unsigned *idx, uint64_t *s)
{
	static const char *const names[] = { "PD",     "CPU",	 "RM",		"ROM",	       "Timer",
					     "LOG",    "Hello",	 "fz0",		"fz1",	       "config",
					     "cr_idle", "sheep_counter", "no_such", "hostile_fuzzer", "" };
	char buf[80];
	size_t len;
	if (below(s, 4)) {
		const char *n = names[below(s, sizeof names / sizeof names[0])];
		len = strlen(n);
		memcpy(buf, n, len);
	} else {
		len = below(s, sizeof buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)rnd_next(s);
	}
	if (*idx >= AMBER_MR_COUNT)
		return;
	if (below(s, 16) == 0) { /* a length word that lies */
		u->mr[(*idx)++] = word(s);
		return;
	}
	*idx = amber_mr_put_string(u, *idx, buf, len);
}

/* Keep requests from ending or crippling ourselves (see the top). */
static void tame(struct amber_utcb *u, uint32_t label, unsigned words)
{
	if (words == 0)
		return;
	if (label == AMBER_PROTO_PARENT && u->mr[0] == AMBER_PARENT_EXIT)
		u->mr[0] = AMBER_PARENT_UPGRADE;
	if (label == AMBER_PROTO_CPU && (u->mr[0] == AMBER_CPU_START || u->mr[0] == AMBER_CPU_SET_STATE) && words > 1)
		u->mr[1] = below(&rs, 2) ? 0 : 0xffff800000000000ull; /* never a user address */
	if (label == AMBER_PROTO_CPU && u->mr[0] == AMBER_CPU_SET_STATE_FULL)
		u->mr[0] = AMBER_CPU_STATE_FULL; /* a blob could carry a user rip */
	if (label == AMBER_PROTO_RM && u->mr[0] == AMBER_RM_DETACH && words > 1) {
		uint64_t a = u->mr[1];
		if (a < AMBER_RM_END && !(a >= FIXED_RM_BASE && a < FIXED_RM_BASE + (1ull << 30)))
			u->mr[1] = fixed_attached[below(&rs, 16)];
	}
	if (label == AMBER_PROTO_RM && u->mr[0] == AMBER_RM_ATTACH && words > 1 && u->mr[1] && below(&rs, 2))
		u->mr[1] = FIXED_RM_BASE + (uint64_t)below(&rs, 1u << 18) * AMBER_PAGE_SIZE;
}

static void count_ok(uint32_t label)
{
	unsigned i = 0;
	while (i < NPROTOS && protos[i] != label)
		i++;
	st.ok_by[i]++;
}

static void count(int err)
{
	st.calls++;
	if (err <= 0 && err >= -15)
		st.err[-err]++;
	else
		st.err[16]++;
}

/* Ring the doorbell for what the UTCB holds, with the scribbler at work
 * over it if `scribble`. */
static int enter(struct amber_utcb *u, int scribble)
{
	if (scribble) {
		st.scribbled++;
		__atomic_store_n(&scribble_on, 1, __ATOMIC_RELEASE);
	}
	int err = amber_kernel_entry(u);
	if (scribble) {
		unsigned seen = __atomic_load_n(&scribble_ack, __ATOMIC_ACQUIRE);
		__atomic_store_n(&scribble_on, 0, __ATOMIC_RELEASE);
		while (__atomic_load_n(&scribble_ack, __ATOMIC_ACQUIRE) == seen)
			amber_sys_yield();
		err = (int)u->error;
	}
	count(err);
	return err;
}

/* What arrived in the window of a successful call: hints for its slots. */
static void note_received(struct amber_utcb *u, amber_word_t win, uint32_t proto)
{
	unsigned n = amber_tag_items(u->tag);
	amber_sel_t base = amber_rcv_window_base(win);
	for (unsigned i = 0; i < n && i < 8; i++)
		if (base + i >= POOL_BASE && base + i < POOL_END)
			hint[base + i - POOL_BASE] = proto;
}

static uint32_t session_proto(const char *name)
{
	if (!strcmp(name, "PD"))
		return AMBER_PROTO_PD;
	if (!strcmp(name, "CPU"))
		return AMBER_PROTO_CPU;
	if (!strcmp(name, "RM"))
		return AMBER_PROTO_RM;
	if (!strcmp(name, "ROM"))
		return AMBER_PROTO_ROM;
	if (!strcmp(name, "Timer"))
		return AMBER_PROTO_TIMER;
	return 0x2000u; /* an announced service: some gate */
}

/* The protocol of what a successful request handed out. */
static uint32_t result_proto(uint32_t label, uint64_t method)
{
	switch (label) {
	case AMBER_PROTO_PD:
		return method == AMBER_PD_ALLOC_RAM		? AMBER_PROTO_DATASPACE
		       : method == AMBER_PD_ALLOC_SIGNAL_SOURCE ? AMBER_PROTO_SIGNAL_SOURCE
		       : method == AMBER_PD_ALLOC_CONTEXT	? AMBER_PROTO_SIGNAL_CONTEXT
		       : method == AMBER_PD_CREATE_CHILD	? AMBER_PROTO_CHILD
							: 0x2000u;
	case AMBER_PROTO_CPU: return AMBER_PROTO_THREAD;
	case AMBER_PROTO_RM: return method == AMBER_RM_CREATE_MANAGED ? AMBER_PROTO_RM : AMBER_PROTO_DATASPACE;
	case AMBER_PROTO_ROM: return AMBER_PROTO_DATASPACE;
	case AMBER_PROTO_CHILD: return AMBER_PROTO_TIMER; /* a session of some kind: a guess */
	case AMBER_PROTO_FACTORY: return method == AMBER_FACTORY_CREATE_IRQ ? AMBER_PROTO_IRQ : AMBER_PROTO_GATE;
	default: return 0x2000u;
	}
}

static unsigned max_method(uint32_t proto)
{
	switch (proto) {
	case AMBER_PROTO_PD: return 12;
	case AMBER_PROTO_CPU: return 10;
	case AMBER_PROTO_RM: return 6;
	case AMBER_PROTO_ROM: return 3;
	case AMBER_PROTO_TIMER: return 4;
	case AMBER_PROTO_CHILD: return 5;
	case AMBER_PROTO_PARENT: return 5;
	case AMBER_PROTO_TASK: return 4;
	case AMBER_PROTO_IRQ: return 4;
	case AMBER_PROTO_FACTORY: return 2;
	default: return 1;
	}
}

/* One request to `sel`: label, a method that mostly exists, words that
 * mostly make sense for it, a few items, a window. */
static void request(amber_sel_t sel, uint32_t label, int scribble)
{
	struct amber_utcb *u = main_utcb;
	unsigned method = below(&rs, 8) ? 1 + below(&rs, max_method(label)) : below(&rs, 20);
	unsigned idx = 1;
	u->mr[0] = method;
	int strings = (label == AMBER_PROTO_PARENT && (method == AMBER_PARENT_ANNOUNCE || method == AMBER_PARENT_SESSION)) ||
		      (label == AMBER_PROTO_CPU && method == AMBER_CPU_CREATE_THREAD) ||
		      (label == AMBER_PROTO_LOG && method == AMBER_LOG_WRITE) ||
		      (label == AMBER_PROTO_CHILD && method == AMBER_CHILD_SESSION);
	if (label == AMBER_PROTO_PD && method == AMBER_PD_CREATE_CHILD) {
		for (; idx < 5; idx++)
			u->mr[idx] = word(&rs);
		strings = 2;
	}
	if (strings) {
		put_string(u, &idx, &rs);
		if (strings == 2 || below(&rs, 3) == 0)
			put_string(u, &idx, &rs);
	} else {
		unsigned n = below(&rs, 10) ? below(&rs, 6) : below(&rs, 64);
		for (unsigned i = 0; i < n && idx < AMBER_MR_COUNT; i++)
			u->mr[idx++] = word(&rs);
	}
	unsigned words = below(&rs, 20) ? idx : below(&rs, AMBER_MR_COUNT + 1);
	unsigned items = below(&rs, 3) ? below(&rs, 3) : below(&rs, 10);
	if (words + items > AMBER_MR_COUNT)
		items = words >= AMBER_MR_COUNT ? 0 : AMBER_MR_COUNT - words;
	int thread_items = label != AMBER_PROTO_CPU && !(label == AMBER_PROTO_PARENT || label == AMBER_PROTO_LOG ||
							 label >= 0x2000u);
	for (unsigned i = 0; i < items; i++)
		u->mr[words + i] = item(&rs, thread_items && label == AMBER_PROTO_PD && hint[sel >= POOL_BASE && sel < POOL_END ? sel - POOL_BASE : 0] == AMBER_PROTO_PD && sel >= POOL_BASE && sel < POOL_END);
	tame(u, label, words);
	amber_tag_t tag = amber_tag(label, words, items);
	if (below(&rs, 25) == 0)
		tag |= (uint64_t)1 << below(&rs, 32); /* reserved bits, flags, bigger counts */
	amber_word_t win = window(&rs);
	u->op = below(&rs, 12) ? AMBER_OP_CALL : below(&rs, 3) ? AMBER_OP_SEND : below(&rs, 8);
	u->sel = sel;
	u->snd_timeout_us = timeout(&rs);
	u->rcv_timeout_us = timeout(&rs);
	u->tag = tag;
	u->br[0] = win;
	int err = enter(u, scribble);
	if (err == AMBER_OK)
		count_ok(label);
	if (err == AMBER_OK && u->op == AMBER_OP_CALL)
		note_received(u, win, result_proto(label, method));
	if (err == AMBER_OK && label == AMBER_PROTO_RM && method == AMBER_RM_ATTACH && u->mr[0] >= FIXED_RM_BASE &&
	    u->mr[0] < FIXED_RM_BASE + (1ull << 30))
		fixed_attached[below(&rs, 16)] = u->mr[0];
	u->br[0] = 0;
}

/* ---- operations -------------------------------------------------------------- */

static void op_session(void)
{
	static const char *const names[] = { "PD", "CPU", "RM", "ROM", "Timer", "PD", "CPU", "RM", "Timer", "fz0", "fz1", "LOG", "" };
	static const char *const roms[] = { "config", "hostile_fuzzer", "sheep_counter", "no_such", "" };
	const char *name = names[below(&rs, sizeof names / sizeof names[0])];
	const char *arg = !strcmp(name, "ROM") || below(&rs, 10) == 0 ? roms[below(&rs, 5)] : 0;
	amber_sel_t dst = free_pool_slot(&rs);
	int err = amber_parent_session_arg(name, arg, dst, timeout(&rs));
	count(err);
	st.sessions++;
	if (err == AMBER_OK)
		hint[dst - POOL_BASE] = session_proto(name);
}

static void op_service(int scribble)
{
	amber_sel_t sel = POOL_BASE + below(&rs, POOL_N);
	for (unsigned i = 0; i < 6 && !hint[sel - POOL_BASE]; i++)
		sel = POOL_BASE + below(&rs, POOL_N);
	uint32_t label = hint[sel - POOL_BASE];
	if (!label || below(&rs, 6) == 0)
		label = any_proto(&rs);
	if (below(&rs, 10) == 0)
		sel = any_sel(&rs);
	request(sel, label, scribble);
}

static void op_kernel_object(int scribble)
{
	static const uint32_t kp[] = { AMBER_PROTO_TASK, AMBER_PROTO_FACTORY, AMBER_PROTO_IRQ, AMBER_PROTO_GATE,
				       AMBER_PROTO_THREAD };
	uint32_t label = kp[below(&rs, 5)];
	amber_sel_t sel = label == AMBER_PROTO_TASK ? AMBER_SEL_TASK : label == AMBER_PROTO_FACTORY ? AMBER_SEL_FACTORY : any_sel(&rs);
	if (below(&rs, 8) == 0)
		sel = any_sel(&rs);
	struct amber_utcb *u = main_utcb;
	unsigned method = below(&rs, 10) ? 1 + below(&rs, max_method(label)) : below(&rs, 8);
	u->mr[0] = method;
	for (unsigned i = 1; i < 5; i++)
		u->mr[i] = word(&rs);
	/* Arguments that name slots or threads, mostly sensible ones. */
	amber_sel_t threads[] = { AMBER_SEL_THREAD, server.sel, scribbler.sel, POOL_BASE + below(&rs, POOL_N), 0 };
	if (label == AMBER_PROTO_FACTORY) {
		u->mr[1] = below(&rs, 4) ? free_pool_slot(&rs) : word(&rs);
		u->mr[2] = threads[below(&rs, 5)];
	} else if (label == AMBER_PROTO_IRQ && method == AMBER_IRQ_ATTACH) {
		u->mr[1] = threads[below(&rs, 5)];
	} else if (label == AMBER_PROTO_GATE) {
		u->mr[1] = threads[below(&rs, 5)];
	} else if (label == AMBER_PROTO_TASK) {
		/* MAP never copies a thread of ours; UNMAP and DELETE stay in the pool. */
		u->mr[1] = method == AMBER_TASK_CAP_INFO ? any_sel(&rs) : POOL_BASE + below(&rs, POOL_N);
		if (method == AMBER_TASK_MAP && below(&rs, 3) == 0) {
			static const amber_sel_t src[] = { AMBER_SEL_TASK, AMBER_SEL_FACTORY, AMBER_SEL_PARENT,
							   AMBER_SEL_LOG, 0, AMBER_CAP_SLOTS };
			u->mr[1] = src[below(&rs, 6)];
		}
		u->mr[2] = below(&rs, 5) ? free_pool_slot(&rs) : word(&rs);
		if (own_thread_sel((amber_sel_t)u->mr[1]) && method != AMBER_TASK_CAP_INFO)
			u->mr[1] = 0;
		if (own_thread_sel((amber_sel_t)u->mr[2]) && method != AMBER_TASK_MAP)
			u->mr[2] = 0;
	}
	if (label == AMBER_PROTO_TASK && method == AMBER_TASK_MAP && u->mr[2] >= POOL_BASE && u->mr[2] < POOL_END &&
	    u->mr[1] >= POOL_BASE && u->mr[1] < POOL_END)
		hint[u->mr[2] - POOL_BASE] = hint[u->mr[1] - POOL_BASE];
	unsigned words = below(&rs, 16) ? 1 + below(&rs, 4) : below(&rs, 70);
	u->op = below(&rs, 10) ? AMBER_OP_CALL : AMBER_OP_SEND;
	u->sel = sel;
	u->snd_timeout_us = timeout(&rs);
	u->rcv_timeout_us = timeout(&rs);
	u->tag = amber_tag(below(&rs, 12) ? label : any_proto(&rs), words, 0);
	if (words > AMBER_MR_COUNT)
		u->tag = ((uint64_t)label << 32) | words; /* beyond the tag's check */
	u->br[0] = 0;
	uint64_t a1 = u->mr[1], a2 = u->mr[2];
	int err = enter(u, scribble);
	if (err == AMBER_OK)
		count_ok(label);
	if (err == AMBER_OK && label == AMBER_PROTO_FACTORY && a1 >= POOL_BASE && a1 < POOL_END)
		hint[a1 - POOL_BASE] = method == AMBER_FACTORY_CREATE_IRQ ? AMBER_PROTO_IRQ : AMBER_PROTO_GATE;
	if (err == AMBER_OK && label == AMBER_PROTO_TASK && method == AMBER_TASK_DELETE && a1 >= POOL_BASE &&
	    a1 < POOL_END)
		hint[a1 - POOL_BASE] = 0;
	(void)a2;
}

/* A raw entry: any op, any selector (from any_sel), any tag. */
static void op_raw(int scribble)
{
	struct amber_utcb *u = main_utcb;
	for (unsigned i = 0; i < 8; i++)
		u->mr[i] = word(&rs);
	unsigned words = below(&rs, 10), items = below(&rs, 4);
	for (unsigned i = 0; i < items; i++)
		u->mr[words + i] = item(&rs, 0);
	tame(u, AMBER_PROTO_PARENT, words + items);
	u->op = below(&rs, 4) ? 1 + below(&rs, 5) : (uint32_t)word(&rs);
	u->sel = any_sel(&rs);
	u->snd_timeout_us = timeout(&rs);
	u->rcv_timeout_us = timeout(&rs);
	u->tag = below(&rs, 10) ? amber_tag(any_proto(&rs), words, items) : rnd();
	if (amber_tag_label(u->tag) == AMBER_PROTO_PARENT && u->mr[0] == AMBER_PARENT_EXIT)
		u->mr[0] = 0;
	u->br[0] = window(&rs);
	enter(u, scribble);
	u->br[0] = 0;
}

/* Many entries in a row, as fast as the doorbell goes. */
static void op_flood(void)
{
	struct amber_utcb *u = main_utcb;
	unsigned n = 50 + below(&rs, 400);
	for (unsigned i = 0; i < n; i++) {
		u->op = i & 1 ? 77 : AMBER_OP_REPLY;
		u->sel = 0;
		u->tag = 0;
		u->snd_timeout_us = 0;
		u->rcv_timeout_us = 0;
		(void)amber_kernel_entry(u);
	}
	st.flood_entries += n;
}

/* A thread of a CPU session we opened, on a stack nobody else uses: it
 * races the main thread on the pool (calls, deletes, closes) with
 * generator state of its own. */
static void spinner(void)
{
	__atomic_add_fetch(&spinners_live, 1, __ATOMIC_RELAXED);
	struct amber_utcb *u = amber_utcb();
	uint64_t s = (uint64_t)(uintptr_t)u | 1;
	for (unsigned i = 0; i < 200 && !stop; i++) {
		unsigned r = below(&s, 8);
		if (r == 0) {
			amber_sys_yield();
			continue;
		}
		unsigned words = 1 + below(&s, 4), items = below(&s, 3);
		uint32_t label = any_proto(&s);
		u->mr[0] = below(&s, 6);
		for (unsigned w = 1; w < words; w++)
			u->mr[w] = r == 1 ? POOL_BASE + below(&s, POOL_N) : word(&s);
		for (unsigned k = 0; k < items; k++)
			u->mr[words + k] = item(&s, 0);
		if (r == 2) { /* delete or unmap a pool slot */
			label = AMBER_PROTO_TASK;
			u->mr[0] = below(&s, 2) ? AMBER_TASK_DELETE : AMBER_TASK_UNMAP;
			u->mr[1] = POOL_BASE + below(&s, POOL_N);
			words = 2;
			items = 0;
		} else if (r == 3) { /* close a pool slot */
			label = AMBER_PROTO_PARENT;
			u->mr[0] = AMBER_PARENT_CLOSE;
			u->mr[1] = amber_map_item(POOL_BASE + below(&s, POOL_N), AMBER_RIGHTS_ALL);
			words = 1;
			items = 1;
		}
		if (label == AMBER_PROTO_PARENT && u->mr[0] == AMBER_PARENT_EXIT)
			u->mr[0] = AMBER_PARENT_UPGRADE;
		if (label == AMBER_PROTO_CPU || label == AMBER_PROTO_RM)
			u->mr[0] = below(&s, 2) ? AMBER_CPU_STATE_FULL_SIZE : 99; /* no START, DETACH, ... */
		u->op = below(&s, 8) ? AMBER_OP_CALL : 1 + below(&s, 5);
		u->sel = r == 2 ? AMBER_SEL_TASK : r == 3 ? AMBER_SEL_PARENT : below(&s, 4) ? POOL_BASE + below(&s, POOL_N) : any_sel(&s);
		u->snd_timeout_us = timeout(&s);
		u->rcv_timeout_us = timeout(&s);
		u->tag = amber_tag(label, words, items);
		u->br[0] = window(&s);
		(void)amber_kernel_entry(u);
	}
	__atomic_sub_fetch(&spinners_live, 1, __ATOMIC_RELAXED);
	amber_sys_exit_thread(0);
}

static void op_start_thread(void)
{
	amber_sel_t cpu = POOL_BASE + below(&rs, POOL_N);
	for (unsigned i = 0; i < 20 && hint[cpu - POOL_BASE] != AMBER_PROTO_CPU; i++)
		cpu = POOL_BASE + below(&rs, POOL_N);
	struct amber_utcb *u = main_utcb;
	amber_sel_t th = free_pool_slot(&rs);
	u->mr[0] = AMBER_CPU_CREATE_THREAD;
	unsigned w = amber_mr_put_string(u, 1, "fz", 2);
	u->br[0] = amber_rcv_window(th, 1);
	u->op = AMBER_OP_CALL;
	u->sel = cpu;
	u->snd_timeout_us = u->rcv_timeout_us = 1000000;
	u->tag = amber_tag(AMBER_PROTO_CPU, w, 0);
	int err = enter(u, 0);
	u->br[0] = 0;
	if (err || spin_next >= SPINNERS)
		return;
	hint[th - POOL_BASE] = AMBER_PROTO_THREAD;
	/* its TCB and (empty) TLS block at the top of its stack: the spinner
	 * finds its UTCB through it */
	char *stack = spin_stacks[spin_next++];
	uint64_t top = 0, tcb = amber_tls_setup((uint64_t)(uintptr_t)stack, (uint64_t)(uintptr_t)stack + SPIN_STACK,
						u->mr[1], 1024, &top);
	u->mr[0] = AMBER_CPU_START;
	u->mr[1] = (uint64_t)(uintptr_t)spinner;
	u->mr[2] = top - 8;
	u->mr[3] = tcb;
	u->mr[4] = amber_map_item(th, AMBER_RIGHTS_ALL);
	u->tag = amber_tag(AMBER_PROTO_CPU, 4, 1);
	u->op = AMBER_OP_CALL;
	u->sel = cpu;
	if (enter(u, 0) == AMBER_OK)
		st.threads_started++;
}

/* A pool slot believed to hold `proto`, or AMBER_SEL_INVALID. */
static amber_sel_t pool_with(uint32_t proto)
{
	amber_sel_t sel = POOL_BASE + below(&rs, POOL_N);
	for (unsigned i = 0; i < POOL_N; i++, sel = sel + 1 < POOL_END ? sel + 1 : POOL_BASE)
		if (hint[sel - POOL_BASE] == proto)
			return sel;
	return AMBER_SEL_INVALID;
}

static amber_sel_t open_session(const char *name, const char *arg)
{
	amber_sel_t dst = free_pool_slot(&rs);
	int err = amber_parent_session_arg(name, arg, dst, 1000000);
	count(err);
	st.sessions++;
	if (err)
		return AMBER_SEL_INVALID;
	hint[dst - POOL_BASE] = session_proto(name);
	count_ok(AMBER_PROTO_PARENT);
	return dst;
}

static amber_sel_t pool_session(uint32_t proto, const char *name)
{
	amber_sel_t s = pool_with(proto);
	return s != AMBER_SEL_INVALID && below(&rs, 4) ? s : open_session(name, 0);
}

/* Two free neighbouring pool slots (a signal source and its semaphore). */
static amber_sel_t free_pair(void)
{
	for (unsigned i = 0; i < 16; i++) {
		amber_sel_t sel = POOL_BASE + below(&rs, POOL_N - 1);
		if (!hint[sel - POOL_BASE] && !hint[sel + 1 - POOL_BASE])
			return sel;
	}
	return POOL_BASE;
}

/* A signal context of a source whose semaphore waits on the server
 * thread (or a spinner): the target of Timer, RM, CPU and ROM SIGHs. */
static amber_sel_t make_context(amber_sel_t pd)
{
	amber_sel_t src = pool_with(AMBER_PROTO_SIGNAL_SOURCE);
	if (src == AMBER_SEL_INVALID || below(&rs, 3) == 0) {
		amber_sel_t th = below(&rs, 4) ? server.sel : pool_with(AMBER_PROTO_THREAD);
		src = free_pair();
		int err = amber_pd_alloc_signal_source(pd, th, src, 0);
		count(err);
		if (err)
			return AMBER_SEL_INVALID;
		count_ok(AMBER_PROTO_PD);
		hint[src - POOL_BASE] = AMBER_PROTO_SIGNAL_SOURCE;
		hint[src + 1 - POOL_BASE] = AMBER_PROTO_IRQ;
	}
	amber_sel_t ctx = free_pool_slot(&rs);
	int err = amber_pd_alloc_context(pd, src, rnd(), ctx);
	count(err);
	if (err)
		return AMBER_SEL_INVALID;
	count_ok(AMBER_PROTO_PD);
	hint[ctx - POOL_BASE] = AMBER_PROTO_SIGNAL_CONTEXT;
	return ctx;
}

/* A chain that reaches deep state: a context, then Timer, RM, CPU or ROM
 * signals aimed at it, or signals submitted and fetched by hand. */
static void op_signals(void)
{
	amber_sel_t pd = pool_session(AMBER_PROTO_PD, "PD");
	if (pd == AMBER_SEL_INVALID)
		return;
	amber_sel_t ctx = make_context(pd);
	if (ctx == AMBER_SEL_INVALID)
		return;
	struct amber_utcb *u = main_utcb;
	static const struct {
		uint32_t proto;
		const char *name;
		unsigned sigh;
	} sighs[] = { { AMBER_PROTO_TIMER, "Timer", AMBER_TIMER_SIGH }, { AMBER_PROTO_RM, "RM", AMBER_RM_SIGH },
		      { AMBER_PROTO_CPU, "CPU", AMBER_CPU_SIGH }, { AMBER_PROTO_ROM, "ROM", AMBER_ROM_SIGH } };
	unsigned k = below(&rs, 5);
	if (k == 4) { /* submit and fetch by hand */
		u->mr[0] = AMBER_SIGNAL_CONTEXT_SUBMIT;
		u->mr[1] = below(&rs, 4) ? 1 + below(&rs, 5) : word(&rs);
		u->op = AMBER_OP_CALL;
		u->sel = ctx;
		u->tag = amber_tag(AMBER_PROTO_SIGNAL_CONTEXT, 2, 0);
		u->snd_timeout_us = u->rcv_timeout_us = 100000;
		if (enter(u, 0) == AMBER_OK)
			count_ok(AMBER_PROTO_SIGNAL_CONTEXT);
		return;
	}
	amber_sel_t s = sighs[k].proto == AMBER_PROTO_ROM ? pool_with(AMBER_PROTO_ROM) : pool_session(sighs[k].proto, sighs[k].name);
	if (s == AMBER_SEL_INVALID)
		s = open_session(sighs[k].name, sighs[k].proto == AMBER_PROTO_ROM ? "config" : 0);
	if (s == AMBER_SEL_INVALID)
		return;
	u->mr[0] = sighs[k].sigh;
	u->mr[1] = amber_map_item(ctx, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	u->op = AMBER_OP_CALL;
	u->sel = s;
	u->tag = amber_tag(sighs[k].proto, 1, 1);
	u->snd_timeout_us = u->rcv_timeout_us = 100000;
	if (enter(u, 0) == AMBER_OK)
		count_ok(sighs[k].proto);
	if (sighs[k].proto == AMBER_PROTO_TIMER) {
		u->mr[0] = below(&rs, 2) ? AMBER_TIMER_TRIGGER_PERIODIC : AMBER_TIMER_TRIGGER_ONCE;
		u->mr[1] = below(&rs, 4) ? 1000 + below(&rs, 5000) : word(&rs);
		u->op = AMBER_OP_CALL;
		u->sel = s;
		u->tag = amber_tag(AMBER_PROTO_TIMER, 2, 0);
		if (enter(u, 0) == AMBER_OK)
			count_ok(AMBER_PROTO_TIMER);
	}
	if (below(&rs, 3) == 0) { /* the context goes while it is registered */
		u->mr[0] = below(&rs, 2) ? AMBER_PD_FREE_CONTEXT : AMBER_PD_FREE_SIGNAL_SOURCE;
		amber_sel_t victim = u->mr[0] == AMBER_PD_FREE_CONTEXT ? ctx : pool_with(AMBER_PROTO_SIGNAL_SOURCE);
		u->mr[1] = amber_map_item(victim, AMBER_RIGHTS_ALL);
		u->op = AMBER_OP_CALL;
		u->sel = pd;
		u->tag = amber_tag(AMBER_PROTO_PD, 1, 1);
		if (enter(u, 0) == AMBER_OK) {
			count_ok(AMBER_PROTO_PD);
			if (victim >= POOL_BASE)
				hint[victim - POOL_BASE] = 0;
		}
	}
}

/* A child of ours: a parent gate bound to the server thread (which answers
 * the child at random), an exit context, a binary; started or not. */
static void op_child(void)
{
	static const char *const bins[] = { "cr_idle", "sheep_counter", "hello_client", "test_crash", "no_such" };
	amber_sel_t pd = pool_session(AMBER_PROTO_PD, "PD");
	if (pd == AMBER_SEL_INVALID)
		return;
	amber_sel_t ctx = make_context(pd);
	amber_sel_t gate = free_pool_slot(&rs);
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, gate, server.sel, rnd());
	count(err);
	if (err)
		return;
	hint[gate - POOL_BASE] = AMBER_PROTO_GATE;
	char name[8] = { 'c', (char)('a' + below(&rs, 26)), (char)('a' + below(&rs, 26)), 0 };
	struct amber_child_args a = {
		.name = name,
		.binary = bins[below(&rs, sizeof bins / sizeof bins[0])],
		.caps = below(&rs, 4) ? 2 + below(&rs, 12) : word(&rs),
		.ram = below(&rs, 4) ? (1u + below(&rs, 4)) << 20 : word(&rs),
		.parent_gate = gate,
		.exit_sigh = ctx,
		.config_ds = AMBER_SEL_INVALID,
	};
	amber_sel_t child = free_pool_slot(&rs);
	err = amber_pd_create_child(pd, &a, child);
	count(err);
	if (err)
		return;
	count_ok(AMBER_PROTO_PD);
	st.children++;
	hint[child - POOL_BASE] = AMBER_PROTO_CHILD;
	if (below(&rs, 4)) {
		err = amber_child_start(child);
		count(err);
	}
	if (below(&rs, 3) == 0) { /* and ends at once, or its PD session goes */
		err = below(&rs, 2) ? amber_child_kill(child, (enum amber_child_kill_mode)below(&rs, 2), 3)
				    : amber_parent_close(pd);
		count(err);
	}
}

/* Announce a gate bound to the server thread as "fz0" or "fz1", which the
 * other fuzzer of a scenario with two asks for: calls between components. */
static void op_announce(void)
{
	amber_sel_t gate = free_pool_slot(&rs);
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, gate, server.sel, rnd());
	count(err);
	if (err)
		return;
	hint[gate - POOL_BASE] = AMBER_PROTO_GATE;
	err = amber_parent_announce(below(&rs, 2) ? "fz0" : "fz1", gate);
	count(err);
	if (!err)
		count_ok(AMBER_PROTO_PARENT);
}

/* Give back everything in the pool: sessions closed, the rest deleted.
 * Creation and teardown in core again and again. */
static void op_sweep(void)
{
	st.sweeps++;
	for (amber_sel_t sel = POOL_BASE; sel < POOL_END; sel++) {
		if (!hint[sel - POOL_BASE])
			continue;
		count(amber_parent_close(sel)); /* a slot deleted unclosed keeps its session */
		count(amber_task_delete(AMBER_SEL_TASK, sel));
		hint[sel - POOL_BASE] = 0;
	}
}

/* ---- helper threads ---------------------------------------------------------- */

/* Answers what arrives on gates and IRQs bound to it with random replies. */
static void serve(void *arg)
{
	(void)arg;
	uint64_t s = rs ^ 0x5e17e5e17eull;
	struct amber_utcb *u = amber_utcb();
	while (!stop) {
		unsigned words = below(&s, 8), items = below(&s, 3) ? 0 : below(&s, 3);
		for (unsigned i = 0; i < words; i++)
			u->mr[i] = word(&s);
		for (unsigned i = 0; i < items; i++)
			u->mr[words + i] = item(&s, 0);
		u->br[0] = below(&s, 8) ? amber_rcv_window(SRV_BASE, SRV_N) : window(&s);
		int err = amber_ipc_reply_and_wait(amber_tag(any_proto(&s), words, items), 2000 + below(&s, 3000));
		if (err == AMBER_OK && amber_tag_items(u->tag))
			for (unsigned i = 0; i < SRV_N; i++) {
				u->mr[0] = AMBER_TASK_DELETE;
				u->mr[1] = SRV_BASE + i;
				u->op = AMBER_OP_CALL;
				u->sel = AMBER_SEL_TASK;
				u->tag = amber_tag(AMBER_PROTO_TASK, 2, 0);
				u->snd_timeout_us = u->rcv_timeout_us = 0;
				(void)amber_kernel_entry(u);
			}
	}
	u->br[0] = 0;
}

/* Writes junk over the main thread's inputs while it enters the kernel:
 * everything but self, the doorbell words and the runtime's words. */
static void scribble(void *arg)
{
	(void)arg;
	uint64_t s = rs ^ 0xc0ffee1234ull;
	unsigned acks = 0;
	while (!stop) {
		if (!__atomic_load_n(&scribble_on, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&scribble_ack, ++acks, __ATOMIC_RELEASE);
			amber_sys_yield();
			continue;
		}
		struct amber_utcb *u = main_utcb;
		switch (below(&s, 8)) {
		case 0: u->op = below(&s, 4) ? 1 + below(&s, 5) : (uint32_t)rnd_next(&s); break;
		case 1: u->sel = any_sel(&s); break;
		case 2: u->snd_timeout_us = timeout(&s); break;
		case 3: u->rcv_timeout_us = timeout(&s); break;
		case 4: u->tag = below(&s, 2) ? amber_tag(any_proto(&s), below(&s, 65), below(&s, 9)) : rnd_next(&s); break;
		case 5: u->br[0] = window(&s); break;
		case 6: u->mr[below(&s, 4)] = item(&s, 0); break;
		default: {
			unsigned i = below(&s, AMBER_MR_COUNT);
			u->mr[i] = word(&s);
			if (i == 0 && u->mr[0] == AMBER_PARENT_EXIT)
				u->mr[0] = 0;
		}
		}
		if (u->mr[0] == AMBER_PARENT_EXIT) /* another field made the parent's EXIT */
			u->mr[0] = 0;
	}
	__atomic_store_n(&scribble_ack, ++acks, __ATOMIC_RELEASE);
}

/* ---- the end ----------------------------------------------------------------- */

static void summary(unsigned seed, unsigned ops)
{
	amber_log("fuzz: seed %u, %u ops: %lu calls (%lu scribbled), %lu flood entries, %lu session requests, %lu threads started",
		  seed, ops, (unsigned long)st.calls, (unsigned long)st.scribbled, (unsigned long)st.flood_entries,
		  (unsigned long)st.sessions, (unsigned long)st.threads_started);
	amber_log("fuzz: %lu children, %lu sweeps; successes by protocol:", (unsigned long)st.children,
		  (unsigned long)st.sweeps);
	for (unsigned i = 0; i <= NPROTOS; i++)
		if (st.ok_by[i])
			amber_log("fuzz:   %x %lu", i < NPROTOS ? protos[i] : 0, (unsigned long)st.ok_by[i]);
	for (unsigned i = 0; i < 16; i++)
		if (st.err[i])
			amber_log("fuzz: %s %lu", amber_error_name(-(long)i), (unsigned long)st.err[i]);
	if (st.err[16])
		amber_log("fuzz: other results %lu", (unsigned long)st.err[16]);
}

/* Ring the doorbell of the server, which sits in its open wait. */
static void ring_blocked(void)
{
	struct amber_utcb *su = (struct amber_utcb *)(uintptr_t)server.utcb;
	for (unsigned i = 0; i < 1000; i++) {
		uint32_t seq = ((su->entry_seq & AMBER_SEQ_MASK) + 1u) & AMBER_SEQ_MASK;
		uint32_t old = __atomic_exchange_n(&su->entry_seq, seq, __ATOMIC_ACQ_REL);
		if (old & AMBER_SEQ_SLEEPING) {
			register long r10 __asm__("r10") = 0;
			long ret;
			__asm__ volatile("syscall"
					 : "=a"(ret)
					 : "a"(202L), "D"(&su->entry_seq), "S"(1L), "d"(1L), "r"(r10)
					 : "rcx", "r11", "memory");
		}
		amber_sys_yield();
	}
}

/* Register no fault handler through a new session of `name`. */
static int clear_sigh(const char *name, uint32_t proto, unsigned sigh)
{
	amber_sel_t sel = open_session(name, 0);
	struct amber_utcb *u = main_utcb;
	u->mr[0] = sigh;
	u->op = AMBER_OP_CALL;
	u->sel = sel;
	u->tag = amber_tag(proto, 1, 0);
	u->snd_timeout_us = u->rcv_timeout_us = 1000000;
	return sel != AMBER_SEL_INVALID && enter(u, 0) == AMBER_OK;
}

static _Noreturn void finale(unsigned how)
{
	switch (how) {
	case 1: { /* a forbidden system call: getpid */
		long ret;
		__asm__ volatile("syscall" : "=a"(ret) : "a"(39L) : "rcx", "r11", "memory");
		break;
	}
	case 2:
		ring_blocked();
		break;
	case 3:
		amber_sys_exit_group(0);
	case 4: { /* a fault nobody handles: first no RM or CPU handler (either would park us) */
		if (!clear_sigh("RM", AMBER_PROTO_RM, AMBER_RM_SIGH) || !clear_sigh("CPU", AMBER_PROTO_CPU, AMBER_CPU_SIGH)) {
			amber_log("fuzz: cannot clear the fault handlers: exit instead");
			amber_exit(0);
		}
		static volatile uintptr_t nowhere = 16;
		*(volatile int *)nowhere = 1;
		break;
	}
	default:
		break;
	}
	amber_exit(0);
}

int main(void)
{
	const char *config = 0;
	unsigned seed = 1, ops = DEFAULT_OPS;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		seed = amber_config_number(config, "seed", 1);
		ops = amber_config_number(config, "ops", DEFAULT_OPS);
	}
	rs = ((uint64_t)seed << 1 | 1) * 0x9e3779b97f4a7c15ull;
	main_utcb = amber_utcb();
	int err = amber_cap_reserve(SRV_BASE, POOL_END - SRV_BASE);
	if (!err)
		err = amber_thread_create(&server, serve, 0);
	if (!err)
		err = amber_thread_create(&scribbler, scribble, 0);
	if (err) {
		amber_log("fuzz: cannot start: %s", amber_error_name(err));
		amber_exit(1);
	}
	amber_log("fuzz: seed %u, %u ops", seed, ops);
	for (unsigned i = 0; i < ops; i++) {
		st.ops++;
		if (i % 256 == 255)
			op_sweep();
		unsigned r = pct();
		int scr = r >= 70 && r < 78;
		if (scr)
			r = below(&rs, 70);
		if (r < 12)
			op_session();
		else if (r < 45)
			op_service(scr);
		else if (r < 57)
			op_kernel_object(scr);
		else if (r < 70)
			op_raw(scr);
		else if (r < 80)
			op_flood();
		else if (r < 83)
			op_start_thread();
		else if (r < 85)
			op_signals();
		else if (r < 86)
			op_child();
		else if (r < 94) {
			/* Close a session, or anything else in the pool. */
			amber_sel_t sel = below(&rs, 10) ? POOL_BASE + below(&rs, POOL_N) : any_sel(&rs);
			int e = amber_parent_close(sel);
			count(e);
			if (e == AMBER_OK && sel >= POOL_BASE)
				hint[sel - POOL_BASE] = 0;
		} else if (r < 97)
			op_kernel_object(0);
		else
			op_announce();
	}
	summary(seed, ops);
	finale(seed % 5);
}
