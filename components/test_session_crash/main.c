/*
 * test_session_crash: a component that dies holding everything core's
 * sessions can give: heap chunks, dataspaces attached twice, a dataspace
 * another component has attached, RPC capabilities, and threads that spin,
 * wait in IPC, are paused, or were never started. Core must release all
 * of it (and detach the shared dataspace from the peer) while the other
 * components keep running.
 *
 * It serves "ramshare" (amber/test_protocols.h) on its first thread: GET
 * hands out the shared dataspace, CRASH makes it fault after replying.
 */
#include <amber/cap_alloc.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/test_protocols.h>
#include <amber/thread.h>

static volatile uint64_t spins;

static void spinner(void *arg)
{
	(void)arg;
	for (;;)
		spins++;
}

static void waiter(void *arg)
{
	(void)arg;
	for (;;)
		amber_ipc_wait(AMBER_TIMEOUT_NEVER); /* an RPC cap is bound to us; nobody calls */
}

static int fail(const char *what, int err)
{
	amber_log("FAIL: %s (%s)", what, amber_error_name(err));
	return 1;
}

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	amber_sel_t pd = amber_env_pd(), cpu = amber_env_cpu(), rm = amber_env_rm();
	amber_sel_t shared = amber_cap_alloc(), gate = amber_cap_alloc(), rpc = amber_cap_alloc();
	amber_sel_t idle = amber_cap_alloc();
	struct amber_thread spin, wait, paused;
	uint64_t addr, addr2;
	int err;

	if (!amber_malloc(100) || !amber_malloc(100000))
		return fail("malloc", AMBER_ERR_QUOTA);
	if ((err = amber_pd_alloc_ram(pd, 3 * AMBER_PAGE_SIZE, shared)) ||
	    (err = amber_rm_attach(rm, shared, 0, 0, 0, AMBER_RM_WRITABLE, &addr)) ||
	    (err = amber_rm_attach(rm, shared, 0, 0, 0, 0, &addr2)))
		return fail("shared dataspace", err);
	*(volatile uint32_t *)(uintptr_t)addr = AMBER_TEST_RAMSHARE_MAGIC;
	if ((err = amber_thread_create(&spin, spinner, 0)) || (err = amber_thread_create(&wait, waiter, 0)) ||
	    (err = amber_thread_create(&paused, spinner, 0)) || (err = amber_cpu_pause(cpu, paused.sel)) ||
	    (err = amber_cpu_create_thread(cpu, "idle", idle, 0)) ||
	    (err = amber_pd_alloc_rpc_cap(pd, wait.sel, rpc, 0)))
		return fail("threads", err);
	if ((err = amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, 1)) ||
	    (err = amber_parent_announce(AMBER_TEST_RAMSHARE_SERVICE, gate)))
		return fail("announce", err);
	amber_log("crash: ready with 5 threads, shared dataspace at %#lx and %#lx", (unsigned long)addr,
		  (unsigned long)addr2);

	u->br[0] = 0;
	err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	for (;;) {
		amber_word_t method = err ? 0 : u->mr[0];
		if (method == AMBER_TEST_RAMSHARE_GET) {
			u->mr[0] = amber_map_item(shared, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
			err = amber_ipc_reply_and_wait(amber_tag(AMBER_TEST_RAMSHARE_PROTO, 0, 1), AMBER_TIMEOUT_NEVER);
			continue;
		}
		if (method == AMBER_TEST_RAMSHARE_CRASH) {
			amber_ipc_reply(amber_tag(AMBER_TEST_RAMSHARE_PROTO, 0, 0));
			amber_log("crash: faulting now (spun %lu times)", (unsigned long)spins);
			uintptr_t bad = 0x10;
			__asm__("" : "+r"(bad)); /* hide the constant from the compiler */
			*(volatile uint32_t *)bad = 1;
			return fail("did not fault", 0);
		}
		err = amber_ipc_reply_and_wait(amber_tag(AMBER_TEST_RAMSHARE_PROTO, 0, 0), AMBER_TIMEOUT_NEVER);
	}
}
