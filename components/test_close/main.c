/*
 * test_close: giving sessions back (parent CLOSE, amber_parent_close), for
 * each of core's services, checked from a component (amber/check.h).
 *
 * After a close the session's slot is empty, so a call through it is
 * INVALID_CAP; what the session made is gone: a PD session's dataspaces
 * (detached, the RAM quota used goes back), RPC capabilities and signal
 * objects, an RM session's attachments, a CPU session's threads, a ROM
 * session's dataspace, a Timer session's timeout. Memory that was detached
 * is never touched (it would fault). Runs from a scenario and under init
 * (tests/integration/test_close.c), where init routes the service it
 * announces, "close_echo", back to it.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/protocols.h>
#include <amber/rm.h>
#include <amber/rom.h>
#include <amber/timer.h>
#include <amber/tls.h>

#define T_US 2000000u
#define PAGE AMBER_PAGE_SIZE

static amber_sel_t pd, rm; /* sessions that stay open */

static amber_sel_t slot(void) { return amber_cap_alloc(); }

static uint64_t ram_used(void)
{
	uint64_t quota = 0, used = ~0ull;
	amber_pd_quota(pd, &quota, &used);
	return used;
}

static amber_sel_t open_session(const char *name, const char *arg)
{
	amber_sel_t s = slot();
	if (!amber_check_err(name, amber_parent_session_arg(name, arg, s, T_US), AMBER_OK))
		return AMBER_SEL_INVALID;
	return s;
}

static void env_sessions(void)
{
	amber_sel_t first = amber_env_rm();
	amber_check_err("close the env's RM session", amber_parent_close(first), AMBER_OK);
	amber_sel_t second = amber_env_rm();
	amber_check_val("env asks for a new RM session afterwards", second != first && amber_cap_info_of(second).kind == AMBER_KIND_GATE,
			1);
	amber_cap_free(first);
}

static void close_pd(void)
{
	amber_sel_t pd2 = open_session("PD", 0);
	uint64_t before = ram_used();
	amber_sel_t ds = slot(), rpc = slot(), src = slot(), irq = slot(), ctx = slot(), copy = slot();
	if (irq != src + 1)
		amber_log("FAIL: the source's semaphore needs the slot after it");
	amber_word_t badge = 0;
	uint64_t addr = 0;
	amber_check_err("PD2: alloc 64 KiB", amber_pd_alloc_ram(pd2, 64 << 10, ds), AMBER_OK);
	amber_check_val("the quota is charged", ram_used(), before + (64 << 10));
	amber_check_err("attach it (through the other RM session)", amber_rm_attach(rm, ds, 0, 0, 0, AMBER_RM_WRITABLE, &addr),
			AMBER_OK);
	((volatile uint32_t *)(uintptr_t)addr)[0] = 42;
	amber_check_err("PD2: an RPC capability", amber_pd_alloc_rpc_cap(pd2, AMBER_SEL_THREAD, rpc, &badge), AMBER_OK);
	amber_check_err("PD2: a signal source", amber_pd_alloc_signal_source(pd2, AMBER_SEL_THREAD, src, &badge),
			AMBER_OK);
	amber_check_err("PD2: a signal context", amber_pd_alloc_context(pd2, src, 7, ctx), AMBER_OK);
	amber_check_err("a copy of the PD2 session in another slot",
			amber_task_map(AMBER_SEL_TASK, pd2, copy, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT), AMBER_OK);

	amber_check_err("close PD2", amber_parent_close(pd2), AMBER_OK);
	amber_check_val("RAM used is back to what it was", ram_used(), before);
	amber_check_val("PD2's slot is empty", amber_cap_info_of(pd2).kind, AMBER_KIND_NONE);
	amber_check_val("the copy of PD2 is revoked too", amber_cap_info_of(copy).kind, AMBER_KIND_NONE);
	uint64_t q = 0, used = 0;
	amber_check_err("a call on the closed PD session -> INVALID_CAP", amber_pd_quota(pd2, &q, &used),
			AMBER_ERR_INVALID_CAP);
	amber_check_val("its dataspace is revoked", amber_cap_info_of(ds).kind, AMBER_KIND_NONE);
	amber_check_err("its dataspace was detached (DETACH there -> INVALID_ARG)", amber_rm_detach(rm, addr),
			AMBER_ERR_INVALID_ARG);
	amber_check_val("its RPC capability is revoked", amber_cap_info_of(rpc).kind, AMBER_KIND_NONE);
	amber_check_val("its signal source is revoked", amber_cap_info_of(src).kind, AMBER_KIND_NONE);
	amber_check_val("its signal context is revoked", amber_cap_info_of(ctx).kind, AMBER_KIND_NONE);
	amber_check_val("its semaphore is revoked", amber_cap_info_of(irq).kind, AMBER_KIND_NONE);
	amber_check_err("close PD2 again -> INVALID_ARG", amber_parent_close(pd2), AMBER_ERR_INVALID_ARG);
}

static void close_rm(void)
{
	amber_sel_t rm2 = open_session("RM", 0), ds = slot();
	uint64_t addr = 0, again = 0;
	amber_check_err("alloc a page", amber_pd_alloc_ram(pd, PAGE, ds), AMBER_OK);
	amber_check_err("RM2: attach it", amber_rm_attach(rm2, ds, 0, 0, 0, AMBER_RM_WRITABLE, &addr), AMBER_OK);
	amber_check_err("close RM2", amber_parent_close(rm2), AMBER_OK);
	amber_check_err("its attachment is gone (DETACH there -> INVALID_ARG)", amber_rm_detach(rm, addr),
			AMBER_ERR_INVALID_ARG);
	amber_check_val("the dataspace itself lives on", amber_cap_info_of(ds).kind, AMBER_KIND_GATE);
	amber_check_err("the address can be attached again", amber_rm_attach(rm, ds, addr, 0, 0, AMBER_RM_WRITABLE, &again),
			AMBER_OK);
	amber_check_val("at the same address", again, addr);
	amber_check_err("a call on the closed RM session -> INVALID_CAP", amber_rm_detach(rm2, addr), AMBER_ERR_INVALID_CAP);
	amber_check_err("free the page", amber_pd_free_ram(pd, ds), AMBER_OK);
}

static void spin(void)
{
	for (;;)
		__asm__ volatile("pause");
}

static void close_cpu(void)
{
	amber_sel_t cpu = open_session("CPU", 0), cpu2 = open_session("CPU", 0);
	amber_sel_t idle = slot(), running = slot(), stack = slot();
	uint64_t utcb = 0, sp = 0;
	struct amber_thread_state st;
	amber_check_err("CPU2: a thread never started", amber_cpu_create_thread(cpu2, "idle", idle, &utcb), AMBER_OK);
	amber_check_err("CPU2: a thread that will spin", amber_cpu_create_thread(cpu2, "spin", running, &utcb), AMBER_OK);
	amber_check_err("a stack for it", amber_pd_alloc_ram(pd, 4 * PAGE, stack), AMBER_OK);
	amber_check_err("attach the stack", amber_rm_attach(rm, stack, 0, 0, 0, AMBER_RM_WRITABLE, &sp), AMBER_OK);
	uint64_t top = 0, tcb = amber_tls_setup(sp, sp + 4 * PAGE, utcb, PAGE, &top);
	amber_check_err("start it spinning", amber_cpu_start(cpu2, running, (uint64_t)(uintptr_t)spin, top - 8, tcb),
			AMBER_OK);
	amber_check_err("close CPU2", amber_parent_close(cpu2), AMBER_OK);
	amber_check_val("the idle thread's slot is empty", amber_cap_info_of(idle).kind, AMBER_KIND_NONE);
	amber_check_val("the spinning thread's slot is empty", amber_cap_info_of(running).kind, AMBER_KIND_NONE);
	amber_check_err("STATE of it (other CPU session) -> ITEM", amber_cpu_state(cpu, running, &st), AMBER_ERR_ITEM);
	amber_check_err("a call on the closed CPU session -> INVALID_CAP", amber_cpu_state(cpu2, AMBER_SEL_THREAD, &st),
			AMBER_ERR_INVALID_CAP);
	amber_check_err("a new thread can be created", amber_cpu_create_thread(cpu, "after", idle, &utcb), AMBER_OK);
	amber_check_err("close the other CPU session", amber_parent_close(cpu), AMBER_OK);
	amber_check_val("its thread went with it", amber_cap_info_of(idle).kind, AMBER_KIND_NONE);
}

static void close_rom_and_timer(void)
{
	struct amber_rom rom;
	amber_check_err("open ROM hello_server", amber_rom_open(&rom, "hello_server"), AMBER_OK);
	amber_check_err("attach it", amber_rom_attach(&rom), AMBER_OK);
	uint64_t addr = (uint64_t)(uintptr_t)rom.data, size = 0;
	amber_check_err("close the ROM session", amber_parent_close(rom.session), AMBER_OK);
	amber_check_val("its dataspace is revoked", amber_cap_info_of(rom.ds).kind, AMBER_KIND_NONE);
	amber_check_err("and was detached (DETACH there -> INVALID_ARG)", amber_rm_detach(amber_env_rm(), addr),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("a call on the closed ROM session -> INVALID_CAP", amber_rom_size(rom.session, &size),
			AMBER_ERR_INVALID_CAP);

	amber_sel_t timer = open_session("Timer", 0);
	struct amber_timer t = { .session = timer };
	uint64_t us = 0;
	amber_check_err("Timer: periodic timeout", amber_timer_trigger_periodic(&t, 1000), AMBER_OK);
	amber_check_err("close the Timer session", amber_parent_close(timer), AMBER_OK);
	amber_check_err("a call on the closed Timer session -> INVALID_CAP", amber_timer_elapsed_us(&t, &us),
			AMBER_ERR_INVALID_CAP);
}

static void not_sessions(void)
{
	amber_check_err("close the LOG gate -> INVALID_ARG", amber_parent_close(AMBER_SEL_LOG), AMBER_ERR_INVALID_ARG);
	amber_check_err("close the parent gate -> INVALID_ARG", amber_parent_close(AMBER_SEL_PARENT),
			AMBER_ERR_INVALID_ARG);
	amber_sel_t ds = slot();
	amber_check_err("alloc a page", amber_pd_alloc_ram(pd, PAGE, ds), AMBER_OK);
	amber_check_err("close a dataspace -> INVALID_ARG", amber_parent_close(ds), AMBER_ERR_INVALID_ARG);
	amber_check_val("the dataspace is still there", amber_cap_info_of(ds).kind, AMBER_KIND_GATE);
	amber_check_err("close an empty slot -> INVALID_ARG", amber_parent_close(slot()), AMBER_ERR_INVALID_ARG);

	/* An announced service (our own, so that it outlives the check). */
	amber_sel_t gate = slot(), echo = slot();
	amber_check_err("a gate", amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, 0x55), AMBER_OK);
	amber_check_err("announce it as close_echo", amber_parent_announce("close_echo", gate), AMBER_OK);
	amber_check_err("a session to the announced service", amber_parent_session("close_echo", echo, T_US), AMBER_OK);
	amber_check_err("close it: nothing is dropped", amber_parent_close(echo), AMBER_OK);
	amber_check_val("the service's gate is still ours", amber_cap_info_of(echo).kind, AMBER_KIND_GATE);
}

int main(void)
{
	amber_log("test_close: start");
	env_sessions();
	pd = open_session("PD", 0);
	rm = open_session("RM", 0);
	close_pd();
	close_rm();
	close_cpu();
	close_rom_and_timer();
	not_sessions();
	return amber_check_done();
}
