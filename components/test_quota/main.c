/*
 * test_quota: quota transfer between PDs (PD TRANSFER_QUOTA) and the
 * parent's UPGRADE, checked from a component (amber/check.h).
 *
 * Without a config (a scenario's component): it creates a child (never
 * started: its quotas are all that matter here), opens a PD session for
 * it, moves RAM and caps to it through the child capability and through
 * that PD session and sees both sides' QUOTA change; too much is QUOTA
 * with nothing moved, a capability that is neither target INVALID_ARG,
 * zero a no-op; killing the child gives everything back. Core, its parent,
 * refuses UPGRADE (OPCODE).
 *
 * With a config holding <upgrade/> (a child of init): it allocates RAM
 * until QUOTA, asks init for more (amber_parent_upgrade), and then the
 * allocation succeeds; asking for more than init has is QUOTA.
 * tests/integration/test_quota.c runs both (scenarios/quota.xml).
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/child.h>
#include <amber/env.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rom.h>
#include <amber/signal.h>

#define KiB 1024ull
#define CHILD_RAM (64 * KiB)
#define CHILD_CAPS 8u

static amber_sel_t pd;

static void ram(amber_sel_t s, uint64_t *quota, uint64_t *used)
{
	*quota = *used = ~0ull;
	amber_pd_quota(s, quota, used);
}

static uint64_t caps(amber_sel_t s)
{
	uint64_t q = ~0ull;
	amber_pd_caps(s, &q, 0);
	return q;
}

static void ignore(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
}

static void transfers(void)
{
	static struct amber_signal_receiver receiver;
	static struct amber_signal_context exit_ctx;
	amber_sel_t gate = amber_cap_alloc(), child = amber_cap_alloc(), kid_pd = amber_cap_alloc();
	uint64_t q0, u0, q, u, kq, ku;
	ram(pd, &q0, &u0);
	uint64_t c0 = caps(pd);
	amber_check_val("caps quota reported", c0 > CHILD_CAPS + 8 && c0 != ~0ull, 1);
	amber_check_err("gate for the child", amber_factory_create_gate(AMBER_SEL_FACTORY, gate, 0, 1), AMBER_OK);
	amber_check_err("signal receiver", amber_signal_receiver_create(&receiver, 0), AMBER_OK);
	amber_check_err("exit context", amber_signal_context_create(&receiver, &exit_ctx, ignore, 0), AMBER_OK);
	uint64_t c1 = caps(pd); /* the gate, the receiver's objects */
	struct amber_child_args a = { .name = "kid", .binary = "test_quota", .caps = CHILD_CAPS, .ram = CHILD_RAM,
				      .parent_gate = gate, .exit_sigh = exit_ctx.sel, .config_ds = AMBER_SEL_INVALID };
	amber_check_err("create the child", amber_pd_create_child(pd, &a, child), AMBER_OK);
	amber_check_err("a PD session for the child", amber_child_session(child, "PD", 0, kid_pd), AMBER_OK);
	ram(pd, &q, &u);
	amber_check_val("parent's RAM after create", q, q0 - CHILD_RAM);
	amber_check_val("parent's caps after create", caps(pd), c1 - CHILD_CAPS);
	ram(kid_pd, &kq, &ku);
	amber_check_val("child's RAM", kq, CHILD_RAM);
	amber_check_val("child's caps", caps(kid_pd), CHILD_CAPS);

	amber_check_err("transfer via the child capability",
			amber_pd_transfer_quota(pd, child, 128 * KiB, 4), AMBER_OK);
	ram(pd, &q, &u);
	ram(kid_pd, &kq, &ku);
	amber_check_val("parent's RAM after transfer", q, q0 - CHILD_RAM - 128 * KiB);
	amber_check_val("child's RAM after transfer", kq, CHILD_RAM + 128 * KiB);
	amber_check_val("parent's caps after transfer", caps(pd), c1 - CHILD_CAPS - 4);
	amber_check_val("child's caps after transfer", caps(kid_pd), CHILD_CAPS + 4);

	amber_check_err("transfer via the child's PD session (rounded to a page)",
			amber_pd_transfer_quota(pd, kid_pd, 100, 1), AMBER_OK);
	ram(pd, &q, &u);
	ram(kid_pd, &kq, &ku);
	amber_check_val("parent's RAM after 2nd transfer", q, q0 - CHILD_RAM - 128 * KiB - AMBER_PAGE_SIZE);
	amber_check_val("child's RAM after 2nd transfer", kq, CHILD_RAM + 128 * KiB + AMBER_PAGE_SIZE);
	amber_check_val("parent's caps after 2nd transfer", caps(pd), c1 - CHILD_CAPS - 5);
	amber_check_val("child's caps after 2nd transfer", caps(kid_pd), CHILD_CAPS + 5);

	uint64_t pq = q, pc = caps(pd);
	amber_check_err("more RAM than is free", amber_pd_transfer_quota(pd, child, q0 * 2, 0), AMBER_ERR_QUOTA);
	amber_check_err("more caps than are unused", amber_pd_transfer_quota(pd, child, 0, pc + 1), AMBER_ERR_QUOTA);
	amber_check_err("enough RAM but too many caps", amber_pd_transfer_quota(pd, child, 4096, 100000),
			AMBER_ERR_QUOTA);
	ram(pd, &q, &u);
	ram(kid_pd, &kq, &ku);
	amber_check_val("refused: parent's RAM unchanged", q, pq);
	amber_check_val("refused: parent's caps unchanged", caps(pd), pc);
	amber_check_val("refused: child's RAM unchanged", kq, CHILD_RAM + 128 * KiB + AMBER_PAGE_SIZE);
	amber_check_val("refused: child's caps unchanged", caps(kid_pd), CHILD_CAPS + 5);

	amber_check_err("forged target: a plain gate", amber_pd_transfer_quota(pd, gate, 4096, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("forged target: the parent gate", amber_pd_transfer_quota(pd, AMBER_SEL_PARENT, 4096, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("forged target: the signal context",
			amber_pd_transfer_quota(pd, exit_ctx.sel, 4096, 1), AMBER_ERR_INVALID_ARG);
	amber_check_err("zero is a no-op", amber_pd_transfer_quota(pd, child, 0, 0), AMBER_OK);
	amber_check_err("to itself is a no-op", amber_pd_transfer_quota(pd, pd, 4096, 1), AMBER_OK);
	ram(pd, &q, &u);
	amber_check_val("no-ops: RAM unchanged", q, pq);
	amber_check_val("no-ops: caps unchanged", caps(pd), pc);

	amber_check_err("kill the child", amber_child_kill(child, AMBER_CHILD_KILL, 0), AMBER_OK);
	ram(pd, &q, &u);
	amber_check_val("RAM back after the child ended", q, q0);
	amber_check_val("caps back after the child ended", caps(pd), c1);
	amber_check_err("transfer to an ended child", amber_pd_transfer_quota(pd, child, 4096, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("core refuses UPGRADE", amber_parent_upgrade(4096, 1), AMBER_ERR_OPCODE);
}

static void upgrade(void)
{
	uint64_t q0, u0, q, u;
	ram(pd, &q0, &u0);
	uint64_t c0 = caps(pd);
	int err = AMBER_OK;
	unsigned n = 0;
	while (n < 200 && (err = amber_pd_alloc_ram(pd, 16 * KiB, amber_cap_alloc())) == AMBER_OK)
		n++;
	amber_check_err("allocate until QUOTA", err, AMBER_ERR_QUOTA);
	amber_check_err("ask init for more", amber_parent_upgrade(64 * KiB, 2), AMBER_OK);
	ram(pd, &q, &u);
	amber_check_val("RAM quota grew", q, q0 + 64 * KiB);
	amber_check_val("caps quota grew", caps(pd), c0 + 2);
	amber_check_err("now the allocation succeeds", amber_pd_alloc_ram(pd, 16 * KiB, amber_cap_alloc()), AMBER_OK);
	amber_check_err("more than init has", amber_parent_upgrade(1ull << 36, 0), AMBER_ERR_QUOTA);
	amber_check_err("more caps than init has", amber_parent_upgrade(0, 1u << 30), AMBER_ERR_QUOTA);
	ram(pd, &q, &u);
	amber_check_val("refused: RAM quota unchanged", q, q0 + 64 * KiB);
}

static int has_upgrade_node(void)
{
	const char *text = 0;
	if (amber_rom_config(&text, 0) != AMBER_OK || !text)
		return 0;
	static const char want[] = "upgrade";
	for (const char *p = text; *p; p++) {
		unsigned i = 0;
		while (want[i] && p[i] == want[i])
			i++;
		if (!want[i])
			return 1;
	}
	return 0;
}

int main(void)
{
	pd = amber_env_pd();
	if (pd == AMBER_SEL_INVALID) {
		amber_log("no PD session");
		return 1;
	}
	if (has_upgrade_node())
		upgrade();
	else
		transfers();
	return amber_check_done() ? 1 : 0;
}
