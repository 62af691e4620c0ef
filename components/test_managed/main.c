/*
 * test_managed: a managed dataspace (RM CREATE_MANAGED, amber/rm_session.h)
 * checked from a component: populate its map with two RAM dataspaces,
 * read and write through the attachment of the managed dataspace, replace
 * one sub-attachment, and the refusals. A detached part is never touched
 * again (the component would fault). amber/check.h style: "done: N ok, M
 * failed", the exit code is the number of failures.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rm.h>

#define PAGE AMBER_PAGE_SIZE
#define MANAGED_SIZE (16u * PAGE)

static uint64_t fill(amber_sel_t rm, amber_sel_t ds, uint8_t byte)
{
	uint64_t at = 0;
	if (amber_rm_attach(rm, ds, 0, 0, 0, AMBER_RM_WRITABLE, &at) != AMBER_OK)
		return 0;
	volatile uint8_t *p = (volatile uint8_t *)at;
	for (unsigned i = 0; i < 2 * PAGE; i++)
		p[i] = byte;
	return at;
}

int main(void)
{
	amber_sel_t pd = amber_env_pd(), rm = amber_env_rm();
	amber_sel_t map = amber_cap_alloc(), mds = amber_cap_alloc(), a = amber_cap_alloc(), b = amber_cap_alloc(),
		    c = amber_cap_alloc(), mds2 = amber_cap_alloc(), map2 = amber_cap_alloc();
	amber_log("test_managed: start");

	amber_check_err("CREATE_MANAGED of 0 bytes -> INVALID_ARG", amber_rm_create_managed(rm, 0, map),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("CREATE_MANAGED of 64 KiB", amber_rm_create_managed(rm, MANAGED_SIZE, map), AMBER_OK);
	amber_check_err("its dataspace", amber_rm_managed_dataspace(map, mds), AMBER_OK);
	uint64_t size = 0;
	amber_check_err("the managed dataspace answers SIZE", amber_dataspace_size(mds, &size), AMBER_OK);
	amber_check_val("its size", size, MANAGED_SIZE);

	amber_check_err("RAM a", amber_pd_alloc_ram(pd, 2 * PAGE, a), AMBER_OK);
	amber_check_err("RAM b", amber_pd_alloc_ram(pd, 2 * PAGE, b), AMBER_OK);
	amber_check_err("RAM c", amber_pd_alloc_ram(pd, 2 * PAGE, c), AMBER_OK);
	uint64_t pa = fill(rm, a, 'a'), pb = fill(rm, b, 'b'), pc = fill(rm, c, 'c');
	amber_check_val("a, b and c are attached and filled", pa && pb && pc, 1);

	uint64_t base = 0, got = 1;
	amber_check_err("attach the (empty) managed dataspace", amber_rm_attach(rm, mds, 0, 0, 0, AMBER_RM_WRITABLE, &base),
			AMBER_OK);
	amber_check_err("sub-attach a at offset 0", amber_rm_attach(map, a, 0, 0, 0, AMBER_RM_WRITABLE, &got), AMBER_OK);
	amber_check_val("at offset 0", got, 0);
	amber_check_err("sub-attach b at offset 8 pages",
			amber_rm_attach(map, b, 8 * PAGE, 0, 0, AMBER_RM_WRITABLE, &got), AMBER_OK);
	amber_check_val("at offset 8 pages", got, 8 * PAGE);

	volatile uint8_t *m = (volatile uint8_t *)base;
	amber_check_val("a's bytes through the managed mapping", m[0] == 'a' && m[2 * PAGE - 1] == 'a', 1);
	amber_check_val("b's bytes through the managed mapping", m[8 * PAGE] == 'b' && m[10 * PAGE - 1] == 'b', 1);
	m[5] = 'X';
	m[8 * PAGE + 7] = 'Y';
	amber_check_val("a write through the managed mapping shows in a", ((volatile uint8_t *)pa)[5], 'X');
	amber_check_val("a write through the managed mapping shows in b", ((volatile uint8_t *)pb)[7], 'Y');
	((volatile uint8_t *)pa)[6] = 'Z';
	amber_check_val("a write to a shows in the managed mapping", m[6], 'Z');

	uint64_t base2 = 0;
	amber_check_err("attach the managed dataspace's second half elsewhere",
			amber_rm_attach(rm, mds, 0, 8 * PAGE, 8 * PAGE, 0, &base2), AMBER_OK);
	amber_check_val("b at its start", ((volatile uint8_t *)base2)[7], 'Y');

	amber_check_err("overlapping sub-attachment -> SLOT_BUSY",
			amber_rm_attach(map, c, PAGE, 0, 0, AMBER_RM_WRITABLE, 0), AMBER_ERR_SLOT_BUSY);
	amber_check_err("sub-attachment past the end -> INVALID_ARG",
			amber_rm_attach(map, c, 15 * PAGE, 0, 0, AMBER_RM_WRITABLE, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("sub-attachment far outside -> INVALID_ARG",
			amber_rm_attach(map, c, 1ull << 40, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("unaligned sub-attachment -> INVALID_ARG", amber_rm_attach(map, c, 100, 0, 0, 0, 0),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("the managed dataspace inside its own map -> INVALID_ARG",
			amber_rm_attach(map, mds, 12 * PAGE, 0, PAGE, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("a second managed map", amber_rm_create_managed(rm, 4 * PAGE, map2), AMBER_OK);
	amber_check_err("its dataspace", amber_rm_managed_dataspace(map2, mds2), AMBER_OK);
	amber_check_err("nesting a managed dataspace -> INVALID_ARG",
			amber_rm_attach(map, mds2, 12 * PAGE, 0, 0, 0, 0), AMBER_ERR_INVALID_ARG);
	amber_check_err("DETACH of an empty offset -> INVALID_ARG", amber_rm_detach(map, 4 * PAGE),
			AMBER_ERR_INVALID_ARG);

	amber_check_err("detach b inside the managed map", amber_rm_detach(map, 9 * PAGE), AMBER_OK);
	amber_check_err("attach c where b was", amber_rm_attach(map, c, 8 * PAGE, 0, 0, AMBER_RM_WRITABLE, 0),
			AMBER_OK);
	amber_check_val("c's bytes through the managed mapping", m[8 * PAGE] == 'c' && m[10 * PAGE - 1] == 'c', 1);
	amber_check_val("c's bytes in the second attachment too", ((volatile uint8_t *)base2)[PAGE], 'c');
	amber_check_val("b itself is unchanged", ((volatile uint8_t *)pb)[7], 'Y');
	amber_check_val("a still shows", m[5], 'X');

	amber_check_err("detach the managed dataspace", amber_rm_detach(rm, base), AMBER_OK);
	amber_check_err("and the second attachment", amber_rm_detach(rm, base2), AMBER_OK);
	amber_check_val("a is untouched by that", ((volatile uint8_t *)pa)[5], 'X');
	/* The maps, a sub-attachment and an attachment of c are left for
	 * core to release at the end. */
	amber_check_err("re-attach the managed dataspace", amber_rm_attach(rm, mds, 0, 0, 0, 0, &base), AMBER_OK);
	amber_check_val("it shows a again", ((volatile uint8_t *)base)[6], 'Z');
	return amber_check_done();
}
