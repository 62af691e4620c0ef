/*
 * cr_caps: holds many capabilities, for checkpoint/restore at scale
 * (tests/integration/test_cr_scale.c, bench/cr_bench.c's scale runs,
 * docs/trust.md). It creates <caps count="N"/> IRQs, each in a slot of its
 * own, says how many it holds, and waits. That a restore brings back every
 * one of them, slot by slot, the test checks with `amber diff`. Its caps
 * quota must be above N: every IRQ is charged to it.
 *
 * <caps rpc="M"/> also allocates M RPC capabilities (at most
 * AMBER_PD_MAX_RPC_CAPS) from its PD session: each is a gate whose root
 * lives in core's own capability space, so many of these components make
 * core's space grow past its first leaf.
 */
#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rom.h>

int main(void)
{
	const char *config = 0;
	unsigned n = 100, rpc = 0;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		n = amber_config_number(config, "count", 100);
		rpc = amber_config_number(config, "rpc", 0);
	}
	amber_sel_t first = AMBER_SEL_INVALID, wait = amber_cap_alloc();
	/* The IRQ it waits on, attached so that the wait blocks. */
	int err = amber_factory_create_irq(AMBER_SEL_FACTORY, wait);
	if (!err)
		err = amber_irq_attach(wait, AMBER_SEL_THREAD, 1);
	if (err) {
		amber_log("cr_caps: creating the IRQ it waits on failed: %d", err);
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		amber_sel_t sel = amber_cap_alloc();
		if (sel == AMBER_SEL_INVALID) {
			amber_log("cr_caps: no free slot after %u capabilities", i);
			return 1;
		}
		if (first == AMBER_SEL_INVALID)
			first = sel;
		err = amber_factory_create_irq(AMBER_SEL_FACTORY, sel);
		if (err) {
			amber_log("cr_caps: creating IRQ %u failed: %d", i, err);
			return 1;
		}
	}
	for (unsigned i = 0; i < rpc; i++) {
		amber_sel_t sel = amber_cap_alloc();
		amber_word_t badge;
		err = sel == AMBER_SEL_INVALID ? AMBER_ERR_QUOTA
					       : amber_pd_alloc_rpc_cap(amber_env_pd(), AMBER_SEL_THREAD, sel, &badge);
		if (err) {
			amber_log("cr_caps: RPC capability %u failed: %d", i, err);
			return 1;
		}
	}
	if (rpc)
		amber_log("cr_caps: holding %u RPC capabilities", rpc);
	amber_log("cr_caps: holding %u capabilities from slot %u", n, first);
	for (;;)
		amber_irq_receive(wait, AMBER_TIMEOUT_NEVER);
}
