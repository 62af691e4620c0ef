/*
 * test_session_peer: attaches a dataspace that another component
 * (test_session_crash) owns, then makes the owner crash. Core frees the
 * owner's dataspaces and detaches them everywhere, so the peer's
 * capability is revoked and its attachment is gone, without the peer
 * having to do anything (and without touching the memory afterwards).
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/test_protocols.h>

#define T_US 10000000u

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	amber_sel_t svc = amber_cap_alloc(), ds = amber_cap_alloc();
	amber_sel_t rm = amber_env_rm(), pd = amber_env_pd();
	uint64_t addr = 0, used = 0;
	struct amber_cap_info ci;

	if (!amber_check_err("session to ramshare", amber_parent_session(AMBER_TEST_RAMSHARE_SERVICE, svc, T_US),
			     AMBER_OK))
		return amber_check_done();
	u->mr[0] = AMBER_TEST_RAMSHARE_GET;
	amber_check_err("get the owner's dataspace",
			amber_ipc_call_rcv(svc, amber_tag(AMBER_TEST_RAMSHARE_PROTO, 1, 0), ds, 1), AMBER_OK);
	if (amber_check_err("attach it", amber_rm_attach(rm, ds, 0, 0, 0, 0, &addr), AMBER_OK))
		amber_check_val("it holds the owner's magic word", *(volatile uint32_t *)(uintptr_t)addr,
				AMBER_TEST_RAMSHARE_MAGIC);
	amber_check_err("it is not ours to free -> INVALID_ARG", amber_pd_free_ram(pd, ds), AMBER_ERR_INVALID_ARG);
	amber_check_err("our quota", amber_pd_quota(pd, 0, &used), AMBER_OK);
	amber_check_val("it is not charged to us", used, 0);

	u->mr[0] = AMBER_TEST_RAMSHARE_CRASH;
	amber_check_err("make the owner crash", amber_ipc_call(svc, amber_tag(AMBER_TEST_RAMSHARE_PROTO, 1, 0), T_US, T_US),
			AMBER_OK);
	unsigned rounds = 0;
	while (amber_task_cap_info(AMBER_SEL_TASK, ds, &ci) == AMBER_OK && ci.kind != AMBER_KIND_NONE &&
	       rounds++ < 2000000)
		amber_sys_yield();
	amber_check_val("core revoked the dead owner's dataspace", ci.kind, AMBER_KIND_NONE);
	amber_check_err("and detached it from us: detach -> INVALID_ARG", amber_rm_detach(rm, addr),
			AMBER_ERR_INVALID_ARG);
	return amber_check_done();
}
