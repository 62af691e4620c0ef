/*
 * test_sessions: core's PD, CPU and RM sessions and the runtime built on
 * them (threads, heap), checked from a component.
 *
 * Each check logs "ok: <what>" or "FAIL: <what> (...)" and the run ends
 * with "done: N ok, M failed" (amber/check.h); the exit code is the number
 * of failures. The scenario gives this component ram="3M" (the checks of
 * the quota depend on it). Detaching memory and then touching it is not
 * tried: the component would fault. Blocking calls whose answer is in
 * doubt carry finite timeouts, so a bug shows as a FAIL line, not a hang.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/heap.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/lock.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/protocols.h>
#include <amber/rm.h>
#include <amber/string.h>
#include <amber/thread.h>
#include <amber/tls.h>

#define RAM_QUOTA (3u << 20) /* the scenario's ram="3M" */
#define PAGE AMBER_PAGE_SIZE
#define T_US 2000000u        /* 2 s */
#define SERVER_PROTO 0x2201u
enum { SERVER_ADD_ONE = 1, SERVER_QUIT = 2 };

static struct amber_utcb *u;
static amber_sel_t pd, cpu, rm, irq, own_gate;

static uint64_t ram_used(void)
{
	uint64_t used = ~0ull;
	amber_pd_quota(pd, 0, &used);
	return used;
}

/* ---- sessions -------------------------------------------------------- */

static void sessions(void)
{
	pd = amber_check_slot();
	cpu = amber_check_slot();
	rm = amber_check_slot();
	amber_check_err("PD session from the parent", amber_parent_session("PD", pd, T_US), AMBER_OK);
	amber_check_err("CPU session from the parent", amber_parent_session("CPU", cpu, T_US), AMBER_OK);
	amber_check_err("RM session from the parent", amber_parent_session("RM", rm, T_US), AMBER_OK);
	amber_check_val("the PD session is a gate", amber_cap_info_of(pd).kind, AMBER_KIND_GATE);
	amber_check_val("the CPU session is a gate", amber_cap_info_of(cpu).kind, AMBER_KIND_GATE);
	amber_check_val("the RM session is a gate", amber_cap_info_of(rm).kind, AMBER_KIND_GATE);

	amber_sel_t pd2 = amber_check_slot();
	amber_check_err("a second PD session", amber_parent_session("PD", pd2, T_US), AMBER_OK);
	amber_check_val("each session request makes a new session object", amber_cap_info_of(pd2).object_id != amber_cap_info_of(pd).object_id, 1);
	amber_check_err("delete our copy of the second session", amber_task_delete(AMBER_SEL_TASK, pd2), AMBER_OK);
	amber_cap_free(pd2);

	irq = amber_check_slot();
	own_gate = amber_check_slot();
	amber_check_err("factory creates an irq", amber_factory_create_irq(AMBER_SEL_FACTORY, irq), AMBER_OK);
	amber_check_err("factory creates a gate",
			amber_factory_create_gate(AMBER_SEL_FACTORY, own_gate, AMBER_SEL_THREAD, 0x77), AMBER_OK);
	amber_check_err("announcing a service named PD -> INVALID_ARG", amber_parent_announce("PD", own_gate),
			AMBER_ERR_INVALID_ARG);

	u->mr[0] = AMBER_PD_QUOTA;
	amber_check_err("PD with the RM protocol label -> PROTO",
			amber_ipc_call(pd, amber_tag(AMBER_PROTO_RM, 1, 0), T_US, T_US), AMBER_ERR_PROTO);
	u->mr[0] = 99;
	amber_check_err("unknown PD method -> OPCODE", amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 1, 0), T_US, T_US),
			AMBER_ERR_OPCODE);
	u->mr[0] = 99;
	amber_check_err("unknown RM method -> OPCODE", amber_ipc_call(rm, amber_tag(AMBER_PROTO_RM, 1, 0), T_US, T_US),
			AMBER_ERR_OPCODE);
	u->mr[0] = 99;
	amber_check_err("unknown CPU method -> OPCODE",
			amber_ipc_call(cpu, amber_tag(AMBER_PROTO_CPU, 1, 0), T_US, T_US), AMBER_ERR_OPCODE);
}

/* ---- RAM and attachments ----------------------------------------------- */

static void ram_and_attach(void)
{
	uint64_t quota = 0, used = ~0ull;
	amber_check_err("PD quota", amber_pd_quota(pd, &quota, &used), AMBER_OK);
	amber_check_val("the quota is the scenario's ram=\"3M\"", quota, RAM_QUOTA);
	amber_check_val("nothing is used yet", used, 0);

	amber_sel_t ds = amber_check_slot();
	uint64_t size = 0;
	amber_check_err("alloc 10000 bytes of RAM", amber_pd_alloc_ram(pd, 10000, ds), AMBER_OK);
	amber_check_val("the dataspace capability is a gate", amber_cap_info_of(ds).kind, AMBER_KIND_GATE);
	amber_check_err("dataspace SIZE", amber_dataspace_size(ds, &size), AMBER_OK);
	amber_check_val("its size is rounded up to pages", size, 3 * PAGE);
	amber_check_val("the quota is charged", ram_used(), 3 * PAGE);

	uint64_t a = 0, b = 0, c = 0, d = 0;
	amber_check_err("attach it writable, core chooses", amber_rm_attach(rm, ds, 0, 0, 0, AMBER_RM_WRITABLE, &a),
			AMBER_OK);
	amber_check_val("the address is in the dynamic area", a >= AMBER_DYNAMIC_BASE && a % PAGE == 0, 1);
	uint32_t *w = (uint32_t *)(uintptr_t)a;
	unsigned zero = 1, same = 1;
	for (unsigned i = 0; i < size / 4; i++)
		zero &= w[i] == 0;
	amber_check_val("new RAM reads as zero", zero, 1);
	for (unsigned i = 0; i < size / 4; i++)
		w[i] = 0xa5000000u + i;
	for (unsigned i = 0; i < size / 4; i++)
		same &= w[i] == 0xa5000000u + i;
	amber_check_val("written RAM reads back", same, 1);

	amber_check_err("attach it again read-only", amber_rm_attach(rm, ds, 0, 0, 0, 0, &b), AMBER_OK);
	amber_check_val("at a different address, with a guard page", b >= a + size + PAGE || b + size + PAGE <= a, 1);
	const uint32_t *r = (const uint32_t *)(uintptr_t)b;
	same = 1;
	for (unsigned i = 0; i < size / 4; i++)
		same &= r[i] == 0xa5000000u + i;
	amber_check_val("the second attachment shows the same memory", same, 1);
	w[7] = 0x12345678u;
	amber_check_val("a write through the first shows in the second", r[7], 0x12345678u);

	amber_check_err("attach page 1 only (offset 4096, size 4096)",
			amber_rm_attach(rm, ds, 0, PAGE, PAGE, 0, &c), AMBER_OK);
	amber_check_val("it shows page 1", *(const uint32_t *)(uintptr_t)c, 0xa5000000u + PAGE / 4);
	uint64_t fixed = AMBER_DYNAMIC_BASE + 0x40000000ull;
	amber_check_err("attach at a chosen free address", amber_rm_attach(rm, ds, fixed, 0, 0, 0, &d), AMBER_OK);
	amber_check_val("it is there", d, fixed);
	amber_check_val("and shows the memory", *(const uint32_t *)(uintptr_t)d, 0xa5000000u);

	/* what may not be attached */
	amber_check_err("attach at an unaligned address -> INVALID_ARG",
			amber_rm_attach(rm, ds, fixed + 0x100000 + 8, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("attach at an unaligned offset -> INVALID_ARG", amber_rm_attach(rm, ds, 0, 8, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach beyond the dataspace -> INVALID_ARG", amber_rm_attach(rm, ds, 0, PAGE, 3 * PAGE, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach at an offset past the end -> INVALID_ARG", amber_rm_attach(rm, ds, 0, 3 * PAGE, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach with unknown flags -> INVALID_ARG", amber_rm_attach(rm, ds, 0, 0, 0, 0x80, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach over the image area -> INVALID_ARG",
			amber_rm_attach(rm, ds, AMBER_IMAGE_BASE + 0x100000, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("attach over the UTCB area -> INVALID_ARG", amber_rm_attach(rm, ds, AMBER_UTCB_AREA, 0, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach over the trampoline -> INVALID_ARG",
			amber_rm_attach(rm, ds, AMBER_TRAMPOLINE_ADDR - PAGE, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("attach over the first stack -> INVALID_ARG",
			amber_rm_attach(rm, ds, AMBER_STACK_AREA - PAGE, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("attach at page 0 -> INVALID_ARG", amber_rm_attach(rm, ds, PAGE, 0, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach above the attachable range -> INVALID_ARG",
			amber_rm_attach(rm, ds, AMBER_RM_END - PAGE, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("attach overlapping an attachment -> SLOT_BUSY",
			amber_rm_attach(rm, ds, fixed + PAGE, 0, 0, 0, 0), AMBER_ERR_SLOT_BUSY);
	amber_check_err("attach overlapping an attachment's start -> SLOT_BUSY",
			amber_rm_attach(rm, ds, fixed - PAGE, 0, 0, 0, 0), AMBER_ERR_SLOT_BUSY);

	amber_check_err("detach the second attachment (by an inner address)", amber_rm_detach(rm, b + 100), AMBER_OK);
	amber_check_err("detach it again -> INVALID_ARG", amber_rm_detach(rm, b), AMBER_ERR_INVALID_ARG);
	amber_check_err("detach the page-1 attachment", amber_rm_detach(rm, c), AMBER_OK);
	amber_check_err("detach the fixed attachment", amber_rm_detach(rm, d), AMBER_OK);
	amber_check_err("detach where nothing is attached -> INVALID_ARG", amber_rm_detach(rm, fixed + 0x10000000ull),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach where a detached attachment was", amber_rm_attach(rm, ds, fixed, 0, 0, 0, &d), AMBER_OK);
	amber_check_val("memory survives detaching", *(const uint32_t *)(uintptr_t)d, 0xa5000000u);
	amber_check_err("detach it", amber_rm_detach(rm, d), AMBER_OK);

	/* The dataspace is still attached at a: freeing detaches it (Genode). */
	amber_check_err("free the attached dataspace", amber_pd_free_ram(pd, ds), AMBER_OK);
	amber_check_val("its capability is revoked", amber_cap_info_of(ds).kind, AMBER_KIND_NONE);
	amber_check_err("its attachment went with it: detach -> INVALID_ARG", amber_rm_detach(rm, a),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach the freed dataspace -> ITEM (empty slot)", amber_rm_attach(rm, ds, 0, 0, 0, 0, 0),
			AMBER_ERR_ITEM);
	amber_check_err("free it again -> ITEM", amber_pd_free_ram(pd, ds), AMBER_ERR_ITEM);
	amber_check_val("the quota is returned", ram_used(), 0);
	amber_cap_free(ds);
}

/* ---- forged and foreign capabilities --------------------------------- */

static void forged(void)
{
	amber_check_err("attach the LOG gate -> INVALID_ARG", amber_rm_attach(rm, AMBER_SEL_LOG, 0, 0, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach an IRQ -> INVALID_ARG", amber_rm_attach(rm, irq, 0, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("attach the PD session -> INVALID_ARG", amber_rm_attach(rm, pd, 0, 0, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("attach our own gate -> INVALID_ARG", amber_rm_attach(rm, own_gate, 0, 0, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("free the LOG gate as RAM -> INVALID_ARG", amber_pd_free_ram(pd, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("free an IRQ as RAM -> INVALID_ARG", amber_pd_free_ram(pd, irq), AMBER_ERR_INVALID_ARG);
	u->mr[0] = AMBER_RM_ATTACH;
	u->mr[1] = u->mr[2] = u->mr[3] = u->mr[4] = 0;
	amber_check_err("attach without a capability -> INVALID_ARG",
			amber_ipc_call(rm, amber_tag(AMBER_PROTO_RM, 5, 0), T_US, T_US), AMBER_ERR_INVALID_ARG);
	u->mr[0] = AMBER_PD_FREE_RAM;
	amber_check_err("free without a capability -> INVALID_ARG",
			amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 1, 0), T_US, T_US), AMBER_ERR_INVALID_ARG);
	amber_check_val("the LOG gate is untouched", amber_cap_info_of(AMBER_SEL_LOG).kind, AMBER_KIND_GATE);
	amber_check_val("the irq is untouched", amber_cap_info_of(irq).kind, AMBER_KIND_IRQ);
}

/* ---- quota ------------------------------------------------------------- */

static void quota(void)
{
	amber_sel_t ds = amber_check_slot(), ds2 = amber_check_slot();
	uint64_t before = ram_used(), free_bytes = RAM_QUOTA - before;
	amber_check_err("alloc 0 bytes -> INVALID_ARG", amber_pd_alloc_ram(pd, 0, ds), AMBER_ERR_INVALID_ARG);
	amber_check_err("alloc more than is left -> QUOTA", amber_pd_alloc_ram(pd, free_bytes + PAGE, ds),
			AMBER_ERR_QUOTA);
	amber_check_err("alloc far more than the quota -> QUOTA", amber_pd_alloc_ram(pd, 1ull << 40, ds),
			AMBER_ERR_QUOTA);
	amber_check_err("alloc exactly what is left", amber_pd_alloc_ram(pd, free_bytes, ds), AMBER_OK);
	amber_check_val("all of the quota is used", ram_used(), RAM_QUOTA);
	amber_check_err("one page more -> QUOTA", amber_pd_alloc_ram(pd, 1, ds2), AMBER_ERR_QUOTA);
	amber_check_val("the slot of a refused alloc stays empty", amber_cap_info_of(ds2).kind, AMBER_KIND_NONE);
	amber_check_err("free it", amber_pd_free_ram(pd, ds), AMBER_OK);
	amber_check_val("the quota is back", ram_used(), before);
	amber_check_err("a page can be had again", amber_pd_alloc_ram(pd, 1, ds2), AMBER_OK);
	amber_check_err("free the page", amber_pd_free_ram(pd, ds2), AMBER_OK);
	amber_cap_free(ds);
	amber_cap_free(ds2);
}

/* ---- heap ---------------------------------------------------------------- */

static void heap(void)
{
	static const unsigned sizes[] = { 1, 7, 16, 17, 100, 1000, 4000, 4096, 10000, 16000, 20000, 70000, 200000 };
	enum { N = 3 * (sizeof(sizes) / sizeof(sizes[0])) };
	static uint8_t *p[N];
	uint64_t before = ram_used();
	unsigned ok = 1, aligned = 1, intact = 1;

	amber_check_val("malloc(0) is NULL", (uint64_t)(uintptr_t)amber_malloc(0), 0);
	for (unsigned i = 0; i < N; i++) {
		unsigned n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		p[i] = amber_malloc(n);
		ok &= p[i] != 0;
		if (!p[i])
			continue;
		aligned &= ((uintptr_t)p[i] & 15u) == 0;
		memset(p[i], (int)(i + 1), n);
	}
	amber_check_val("malloc of 39 blocks of 13 sizes (1 byte .. 200 KB)", ok, 1);
	amber_check_val("every block is 16-byte aligned", aligned, 1);
	for (unsigned i = 0; i < N; i++) {
		unsigned n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		for (unsigned k = 0; p[i] && k < n; k++)
			intact &= p[i][k] == (uint8_t)(i + 1);
	}
	amber_check_val("no two blocks overlap", intact, 1);
	amber_check_val("the heap's RAM is charged to the quota", ram_used() > before, 1);

	for (unsigned i = 1; i < N; i += 2) {
		amber_free(p[i]);
		p[i] = 0;
	}
	ok = 1;
	for (unsigned i = 1; i < N; i += 2) {
		unsigned n = sizes[(N - i) % (sizeof(sizes) / sizeof(sizes[0]))];
		p[i] = amber_malloc(n);
		ok &= p[i] != 0;
		if (p[i])
			memset(p[i], 0xee, n);
	}
	amber_check_val("malloc again into the freed half", ok, 1);
	intact = 1;
	for (unsigned i = 0; i < N; i += 2) {
		unsigned n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		for (unsigned k = 0; p[i] && k < n; k++)
			intact &= p[i][k] == (uint8_t)(i + 1);
	}
	amber_check_val("the other half is untouched", intact, 1);
	for (unsigned i = 0; i < N; i++)
		amber_free(p[i]);
	amber_free(0);
	amber_check_val("after freeing everything the heap holds no chunk", amber_heap_chunks(), 0);
	amber_check_val("and the quota is back where it was", ram_used(), before);

	uint8_t *big = amber_malloc(4u << 20);
	amber_check_val("malloc beyond the quota is NULL", (uint64_t)(uintptr_t)big, 0);
	amber_check_val("and leaves nothing behind", ram_used(), before);
}

/* ---- RPC capabilities: a server thread ---------------------------------- */

static void server(void *arg)
{
	(void)arg;
	struct amber_utcb *s = amber_utcb();
	s->br[0] = 0;
	int err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	for (;;) {
		if (err) {
			err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
			continue;
		}
		amber_word_t method = s->mr[0], value = s->mr[1], label = s->label;
		s->mr[0] = value + 1;
		s->mr[1] = label;
		if (method == SERVER_QUIT) {
			amber_ipc_reply(amber_tag(SERVER_PROTO, 2, 0));
			return; /* the runtime ends the thread */
		}
		err = amber_ipc_reply_and_wait(amber_tag(SERVER_PROTO, 2, 0), AMBER_TIMEOUT_NEVER);
	}
}

/* The answer, copied out of the UTCB (every check logs, which is IPC). */
static amber_word_t answer, answer_label;

static int server_call(amber_sel_t gate, amber_word_t method, amber_word_t value, uint64_t timeout_us)
{
	u->mr[0] = method;
	u->mr[1] = value;
	int err = amber_ipc_call(gate, amber_tag(SERVER_PROTO, 2, 0), T_US, timeout_us);
	answer = err ? 0 : u->mr[0];
	answer_label = err ? 0 : u->mr[1];
	return err;
}

static void rpc_caps(void)
{
	struct amber_thread srv;
	amber_sel_t gate = amber_check_slot(), gate2 = amber_check_slot(), spare = amber_check_slot();
	amber_word_t badge = 0, badge2 = 0;
	if (!amber_check_err("create the server thread", amber_thread_create(&srv, server, 0), AMBER_OK))
		return;
	amber_check_err("ALLOC_RPC_CAP for the server thread", amber_pd_alloc_rpc_cap(pd, srv.sel, gate, &badge),
			AMBER_OK);
	amber_check_val("core chose a nonzero badge", badge != 0, 1);
	amber_check_err("a second RPC cap for the same thread", amber_pd_alloc_rpc_cap(pd, srv.sel, gate2, &badge2),
			AMBER_OK);
	amber_check_val("with a different badge", badge2 != badge && badge2 != 0, 1);
	struct amber_cap_info ci = { 0, 0, 0 };
	amber_task_cap_info(AMBER_SEL_TASK, gate, &ci);
	amber_check_val("the RPC cap is a gate with INVOKE|GRANT", ci.kind == AMBER_KIND_GATE &&
			ci.rights == (AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT), 1);
	amber_check_err("rebinding it -> RIGHTS", amber_gate_bind(gate, AMBER_SEL_THREAD, 1), AMBER_ERR_RIGHTS);

	if (amber_check_err("call the server through the first cap", server_call(gate, SERVER_ADD_ONE, 41, T_US),
			    AMBER_OK)) {
		amber_check_val("the server answers", answer, 42);
		amber_check_val("it saw the badge core returned", answer_label, badge);
	}
	if (amber_check_err("call through the second cap", server_call(gate2, SERVER_ADD_ONE, 1, T_US), AMBER_OK))
		amber_check_val("it saw the second badge", answer_label, badge2);

	amber_check_err("ALLOC_RPC_CAP for the LOG gate -> INVALID_ARG",
			amber_pd_alloc_rpc_cap(pd, AMBER_SEL_LOG, spare, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("ALLOC_RPC_CAP for an IRQ -> INVALID_ARG", amber_pd_alloc_rpc_cap(pd, irq, spare, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("FREE_RPC_CAP of the LOG gate -> INVALID_ARG", amber_pd_free_rpc_cap(pd, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("FREE_RPC_CAP of our own gate -> INVALID_ARG", amber_pd_free_rpc_cap(pd, own_gate),
			AMBER_ERR_INVALID_ARG);

	/* A paused server blocked in IPC stays blocked; resumed, it goes on. */
	amber_check_err("pause the server (blocked in a wait)", amber_cpu_pause(cpu, srv.sel), AMBER_OK);
	amber_check_err("a call to the paused server times out", server_call(gate, SERVER_ADD_ONE, 1, 300000),
			AMBER_ERR_TIMEOUT);
	amber_check_err("resume the server", amber_cpu_resume(cpu, srv.sel), AMBER_OK);
	if (amber_check_err("call the resumed server", server_call(gate, SERVER_ADD_ONE, 99, T_US), AMBER_OK))
		amber_check_val("it answers", answer, 100);

	amber_check_err("FREE_RPC_CAP of the second cap", amber_pd_free_rpc_cap(pd, gate2), AMBER_OK);
	amber_check_val("its capability is revoked", amber_cap_info_of(gate2).kind, AMBER_KIND_NONE);
	amber_check_err("calling it -> INVALID_CAP", server_call(gate2, SERVER_ADD_ONE, 1, T_US), AMBER_ERR_INVALID_CAP);
	amber_check_err("FREE_RPC_CAP of it again -> ITEM", amber_pd_free_rpc_cap(pd, gate2), AMBER_ERR_ITEM);

	if (amber_check_err("tell the server to quit", server_call(gate, SERVER_QUIT, 0, T_US), AMBER_OK))
		amber_check_val("it answers before it goes", answer_label, badge);
	amber_check_err("join the server thread", amber_thread_join(&srv), AMBER_OK);
	amber_check_err("a call to the RPC cap of the ended thread -> NO_PARTNER",
			server_call(gate, SERVER_ADD_ONE, 1, T_US), AMBER_ERR_NO_PARTNER);
	amber_check_err("FREE_RPC_CAP of the first cap", amber_pd_free_rpc_cap(pd, gate), AMBER_OK);
	amber_cap_free(gate);
	amber_cap_free(gate2);
	amber_cap_free(spare);
}

/* ---- threads ----------------------------------------------------------- */

static volatile uint64_t counter;
static struct amber_lock counter_lock = AMBER_LOCK_INIT;

static void add(void *arg)
{
	amber_lock_acquire(&counter_lock);
	counter += (uint64_t)(uintptr_t)arg;
	amber_lock_release(&counter_lock);
}

static void threads(void)
{
	struct amber_thread t[4];
	uint64_t first_utcb = 0;
	unsigned ok = 1, reused = 1;
	uint64_t before = ram_used();
	for (unsigned i = 0; i < 5; i++) {
		ok &= amber_thread_create(&t[0], add, (void *)(uintptr_t)(1u << i)) == AMBER_OK;
		if (i == 0)
			first_utcb = t[0].utcb;
		reused &= t[0].utcb == first_utcb;
		ok &= amber_thread_join(&t[0]) == AMBER_OK;
	}
	amber_check_val("create, start and join 5 threads one after another", ok, 1);
	amber_check_val("each ran once", counter, 31);
	amber_check_val("the UTCB area holds the thread's UTCB",
			first_utcb > AMBER_UTCB_AREA && first_utcb < AMBER_UTCB_AREA + AMBER_UTCB_AREA_SIZE, 1);
	amber_check_val("an ended thread's UTCB slot is used again", reused, 1);

	ok = 1;
	counter = 0;
	for (unsigned i = 0; i < 4; i++)
		ok &= amber_thread_create(&t[i], add, (void *)(uintptr_t)(i + 1)) == AMBER_OK;
	for (unsigned i = 0; i < 4; i++)
		ok &= amber_thread_join(&t[i]) == AMBER_OK;
	amber_check_val("4 threads at once", ok, 1);
	amber_check_val("all of them ran", counter, 10);
	amber_check_val("their stacks are freed", ram_used(), before);

	amber_check_err("START of the first thread -> INVALID_ARG",
			amber_cpu_start(cpu, AMBER_SEL_THREAD, (uint64_t)(uintptr_t)add, AMBER_STACK_AREA - 64,
					(uint64_t)(uintptr_t)amber_tcb()),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("STATE of the running first thread -> INVALID_ARG",
			amber_cpu_state(cpu, AMBER_SEL_THREAD, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("STATE of the LOG gate -> INVALID_ARG", amber_cpu_state(cpu, AMBER_SEL_LOG, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("PAUSE of an IRQ -> INVALID_ARG", amber_cpu_pause(cpu, irq), AMBER_ERR_INVALID_ARG);

	char name[48];
	memset(name, 'n', sizeof(name));
	u->mr[0] = AMBER_CPU_CREATE_THREAD;
	unsigned words = amber_mr_put_string(u, 1, name, sizeof(name));
	amber_check_err("CREATE_THREAD with a 48-byte name -> INVALID_ARG",
			amber_ipc_call(cpu, amber_tag(AMBER_PROTO_CPU, words, 0), T_US, T_US), AMBER_ERR_INVALID_ARG);

	/* A thread that is never started (core releases it at the end). */
	amber_sel_t idle = amber_check_slot();
	uint64_t idle_utcb = 0;
	struct amber_thread_state st;
	amber_check_err("create a thread and leave it unstarted", amber_cpu_create_thread(cpu, "idle", idle, &idle_utcb),
			AMBER_OK);
	amber_check_val("it is a thread", amber_cap_info_of(idle).kind, AMBER_KIND_THREAD);
	amber_check_err("PAUSE of an unstarted thread -> INVALID_ARG", amber_cpu_pause(cpu, idle), AMBER_ERR_INVALID_ARG);
	amber_check_err("RESUME of an unstarted thread -> INVALID_ARG", amber_cpu_resume(cpu, idle),
			AMBER_ERR_INVALID_ARG);
	if (amber_check_err("STATE of an unstarted thread", amber_cpu_state(cpu, idle, &st), AMBER_OK))
		amber_check_val("it has no TCB yet: fs base 0", st.fs_base, 0);
	(void)idle_utcb;
}

/* ---- pause, state, resume ------------------------------------------------- */

struct spin {
	volatile uint64_t counter; /* published by the loop */
	volatile uint64_t stop;
};
void test_spin(void *arg);
extern const char test_spin_loop[], test_spin_end[];

/* Count in rbx, publish it, until told to stop: STATE can see rbx grow. */
__asm__(".text\n"
	".globl test_spin, test_spin_loop, test_spin_end\n"
	".type test_spin, @function\n"
	"test_spin:\n"
	"	push %rbx\n"
	"	xor %ebx, %ebx\n"
	"test_spin_loop:\n"
	"	inc %rbx\n"
	"	mov %rbx, (%rdi)\n"
	"	cmpq $0, 8(%rdi)\n"
	"	je test_spin_loop\n"
	"test_spin_end:\n"
	"	pop %rbx\n"
	"	ret\n"
	".size test_spin, . - test_spin\n");

static int in_loop(uint64_t ip)
{
	return ip >= (uint64_t)(uintptr_t)test_spin_loop && ip <= (uint64_t)(uintptr_t)test_spin_end;
}

static void pause_state_resume(void)
{
	static struct spin s;
	struct amber_thread t;
	struct amber_thread_state st1, st2, st3;
	if (!amber_check_err("start a spinning thread", amber_thread_create(&t, test_spin, &s), AMBER_OK))
		return;
	for (unsigned i = 0; i < 100000 && s.counter < 1000; i++)
		amber_sys_yield();
	amber_check_val("it spins", s.counter >= 1000, 1);

	amber_check_err("pause it", amber_cpu_pause(cpu, t.sel), AMBER_OK);
	amber_check_err("pausing twice is harmless", amber_cpu_pause(cpu, t.sel), AMBER_OK);
	uint64_t c1 = s.counter;
	if (amber_check_err("STATE of the paused thread", amber_cpu_state(cpu, t.sel, &st1), AMBER_OK)) {
		amber_check_val("its ip is in the spin loop", in_loop(st1.rip), 1);
		const struct amber_tcb *tcb = (const struct amber_tcb *)(uintptr_t)st1.fs_base;
		amber_check_val("its fs base is a TCB on its stack", st1.fs_base > t.stack && tcb->self == tcb, 1);
		amber_check_val("its TCB names its UTCB", (uint64_t)(uintptr_t)tcb->utcb, t.utcb);
		amber_check_val("its sp is on its stack, below its TCB",
				st1.rsp > t.stack && st1.rsp < st1.fs_base &&
					st1.rsp >= st1.fs_base - amber_tls_area_size() - AMBER_THREAD_STACK_SIZE,
				1);
		/* Paused between `inc` and `mov`, rbx is one ahead of memory. */
		amber_check_val("its rbx is the published count (or one ahead)", st1.rbx == c1 || st1.rbx == c1 + 1, 1);
	}
	for (unsigned i = 0; i < 200; i++)
		amber_sys_yield();
	amber_check_val("a paused thread does not run", s.counter, c1);
	if (amber_check_err("STATE again", amber_cpu_state(cpu, t.sel, &st2), AMBER_OK))
		amber_check_val("the same state", st2.rip == st1.rip && st2.rbx == st1.rbx, 1);

	amber_check_err("resume it", amber_cpu_resume(cpu, t.sel), AMBER_OK);
	for (unsigned i = 0; i < 100000 && s.counter < c1 + 1000; i++)
		amber_sys_yield();
	amber_check_val("it runs again", s.counter >= c1 + 1000, 1);
	amber_check_err("STATE of a running thread -> INVALID_ARG", amber_cpu_state(cpu, t.sel, &st3),
			AMBER_ERR_INVALID_ARG);

	amber_check_err("pause it again", amber_cpu_pause(cpu, t.sel), AMBER_OK);
	if (amber_check_err("STATE after the second pause", amber_cpu_state(cpu, t.sel, &st3), AMBER_OK)) {
		amber_check_val("its ip is still in the loop", in_loop(st3.rip), 1);
		amber_check_val("it moved on between the pauses (rbx grew by 1000 and more)", st3.rbx >= st1.rbx + 1000, 1);
		amber_log("spin: ip %#lx rbx %lu, then ip %#lx rbx %lu", (unsigned long)st1.rip, (unsigned long)st1.rbx,
			  (unsigned long)st3.rip, (unsigned long)st3.rbx);
	}
	s.stop = 1;
	amber_check_err("resume it to let it end", amber_cpu_resume(cpu, t.sel), AMBER_OK);
	amber_check_err("join it", amber_thread_join(&t), AMBER_OK);
	amber_check_err("PAUSE of the ended thread -> ITEM (its capability is gone)", amber_cpu_pause(cpu, t.sel),
			AMBER_ERR_ITEM);
}

int main(void)
{
	u = amber_utcb();
	amber_log("test_sessions: start");
	sessions();
	ram_and_attach();
	forged();
	quota();
	heap();
	rpc_caps();
	threads();
	pause_state_resume();
	return amber_check_done();
}
