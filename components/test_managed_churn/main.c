/*
 * test_managed_churn: the managed-dataspace churn of tracker issue 10
 * ("Starvation: one component freezes all others"). Config
 * <churn attachments="N" cycles="C"/> (defaults 200 and 40; C = 0: without
 * end): it attaches one managed dataspace N times, then, C times,
 * sub-attaches a RAM page into the map (core maps it into all N
 * attachments), writes a byte of that cycle through one attachment, reads
 * it back through another and through the page's own attachment, and
 * detaches it again (N unmappings). Each such request costs core hundreds
 * of injections; other components must not wait for them.
 * Output is deterministic (cr_diff): "churn: cycle K ok" every 10 cycles,
 * "churn: done, C cycles"; the exit code is the number of failures.
 */
#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/rom.h>

#define PAGE AMBER_PAGE_SIZE
#define MAX_ATTACHMENTS 240u

static uint64_t at[MAX_ATTACHMENTS];

static int fail(const char *what, unsigned n, int err)
{
	amber_log("churn: FAIL %s %u: error %d", what, n, err);
	return 1;
}

int main(void)
{
	unsigned n = 200, cycles = 40;
	const char *config;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		n = amber_config_number(config, "attachments", n);
		cycles = amber_config_number(config, "cycles", cycles);
	}
	if (n == 0 || n > MAX_ATTACHMENTS)
		n = MAX_ATTACHMENTS;
	amber_sel_t pd = amber_env_pd(), rm = amber_env_rm();
	amber_sel_t map = amber_cap_alloc(), mds = amber_cap_alloc(), page = amber_cap_alloc();
	int err;
	if ((err = amber_rm_create_managed(rm, PAGE, map)) || (err = amber_rm_managed_dataspace(map, mds)))
		return fail("managed dataspace", 0, err);
	if ((err = amber_pd_alloc_ram(pd, PAGE, page)))
		return fail("RAM", 0, err);
	uint64_t own = 0;
	if ((err = amber_rm_attach(rm, page, 0, 0, 0, AMBER_RM_WRITABLE, &own)))
		return fail("attach the page", 0, err);
	for (unsigned i = 0; i < n; i++)
		if ((err = amber_rm_attach(rm, mds, 0, 0, 0, AMBER_RM_WRITABLE, &at[i])))
			return fail("attach the managed dataspace, time", i + 1, err);
	amber_log("churn: %u attachments", n);

	for (unsigned c = 1; cycles == 0 || c <= cycles; c++) {
		uint64_t got = 1;
		if ((err = amber_rm_attach(map, page, 0, 0, 0, AMBER_RM_WRITABLE, &got)) || got != 0)
			return fail("sub-attach, cycle", c, err);
		uint8_t byte = (uint8_t)(c * 7u + 1u);
		volatile uint8_t *w = (volatile uint8_t *)at[c % n], *r = (volatile uint8_t *)at[(c + 1) % n];
		w[c % PAGE] = byte;
		if (r[c % PAGE] != byte || ((volatile uint8_t *)own)[c % PAGE] != byte)
			return fail("read back, cycle", c, 0);
		if ((err = amber_rm_detach(map, 0)))
			return fail("sub-detach, cycle", c, err);
		if (c % 10 == 0)
			amber_log("churn: cycle %u ok", c);
	}
	amber_log("churn: done, %u cycles", cycles);
	return 0;
}
