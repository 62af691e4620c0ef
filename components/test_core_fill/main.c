/*
 * test_core_fill: tries to fill core's capability space (tracker issue 10,
 * "core's capability space"). Every object core makes for a component
 * keeps a root capability in core's one space (then 4096 slots); core's own
 * per-kind limits (32 sessions, 256 RPC capabilities, 256 dataspaces, ...)
 * let one component hold over a thousand of them whatever its caps, so
 * four such components filled core, and nobody could open a session.
 * Now what core keeps is paid from the component's caps quota.
 *
 * It takes as many RPC capabilities, RAM dataspaces (one page each) and
 * sessions as core gives it, until each is refused, then logs how many
 * it got and what its caps quota says: "fill: N objects held by core,
 * caps quota Q, used U". It keeps them all until it exits.
 */
#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/error.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>

int main(void)
{
	amber_sel_t pd = amber_env_pd();
	if (pd == AMBER_SEL_INVALID) {
		amber_log("FAIL: no PD session");
		return 1;
	}
	unsigned n = 0;
	int err = AMBER_OK;
	for (unsigned i = 0; i < 300 && err == AMBER_OK; i++) {
		amber_word_t badge;
		amber_sel_t sel = amber_cap_alloc();
		if ((err = amber_pd_alloc_rpc_cap(pd, AMBER_SEL_THREAD, sel, &badge)) == AMBER_OK)
			n++;
	}
	amber_log("fill: RPC capabilities refused: %s", amber_error_name(err));
	err = AMBER_OK;
	for (unsigned i = 0; i < 300 && err == AMBER_OK; i++) {
		amber_sel_t sel = amber_cap_alloc();
		if ((err = amber_pd_alloc_ram(pd, 4096, sel)) == AMBER_OK)
			n++;
	}
	amber_log("fill: dataspaces refused: %s", amber_error_name(err));
	err = AMBER_OK;
	for (unsigned i = 0; i < 40 && err == AMBER_OK; i++) {
		amber_sel_t sel = amber_cap_alloc();
		if ((err = amber_parent_session("Timer", sel, AMBER_TIMEOUT_NEVER)) == AMBER_OK)
			n++;
	}
	amber_log("fill: sessions refused: %s", amber_error_name(err));
	uint64_t quota = 0, used = 0;
	amber_pd_caps(pd, &quota, &used);
	amber_log("fill: %u objects held by core, caps quota %llu, used %llu", n, (unsigned long long)quota,
		  (unsigned long long)used);
	return 0;
}
