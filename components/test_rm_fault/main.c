/*
 * test_rm_fault: region-map faults of a managed dataspace, as on Genode
 * (amber/rm_session.h): they go to the map's own fault handler (map SIGH),
 * the map's FAULT_STATE says READ, WRITE or EXEC at an offset in the map,
 * and an ATTACH that resolves the fault resumes the thread by itself. The
 * component's RM SIGH context gets none of them. Its map:
 *
 *   page 0  a RAM dataspace attached read-only: a write is a WRITE fault;
 *           the handler detaches it and attaches it writable again
 *   page 1  a RAM dataspace holding `ret`, not executable: a call is an
 *           EXEC fault; the handler attaches it executable
 *   page 2  nothing: a read is a READ fault; the handler attaches a page
 *   page 3  read-only again, with <config><rm park="1"/></config> only: a write
 *           stays held (a checkpoint/restore may happen meanwhile) until a
 *           new config arrives; then it is resolved like page 0
 *   page 4  nothing: a write is a READ fault (Linux does not tell it from
 *           a read there); the handler attaches a page read-only, and the
 *           retried write is a WRITE fault; then it attaches it writable
 *
 * Nobody calls RESUME. amber/check.h style; the exit code is the number of
 * failures (tests/integration/test_managed.c).
 */
#include <stdbool.h>
#include <stdint.h>

#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/rom.h>
#include <amber/signal.h>
#include <amber/string.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define PAGE ((uint64_t)AMBER_PAGE_SIZE)
#define PAGES 5u
#define WAIT_US 20000000u   /* a fault handled */
#define PARK_US 300000000u  /* the config change, after a checkpoint and a restore */
#define NAP_US 2000u
#define RET 0xc3

static amber_sel_t pd, rm, map, ro_ds, code_ds, park_ds, late_ds;
static uint64_t base;
static struct amber_timer naps;
static struct amber_signal_receiver rcv;
static struct amber_signal_context rm_ctx, map_ctx, rom_ctx;

/* What the handler saw per page, and how resolving it went. */
static volatile unsigned seen_access[PAGES], seen_index[PAGES], faults[PAGES];
static volatile uint64_t seen_addr[PAGES];
static volatile int resolve_err[PAGES];
static volatile unsigned first_access4; /* page 4's first fault */
static volatile int park_release, config_changes, own_signals;

/* Detach what is at page `page` of the map (if anything) and attach ds
 * there with flags: the fault's thread goes on by itself. */
static int reattach(unsigned page, amber_sel_t ds, unsigned flags, bool detach)
{
	int e = detach ? amber_rm_detach(map, page * PAGE) : AMBER_OK;
	return e != AMBER_OK ? e : amber_rm_attach(map, ds, page * PAGE, 0, PAGE, flags, 0);
}

static int resolve(unsigned page)
{
	switch (page) {
	case 0: return reattach(0, ro_ds, AMBER_RM_WRITABLE, true);
	case 1: return reattach(1, code_ds, AMBER_RM_WRITABLE | AMBER_RM_EXECUTABLE, true);
	case 2: {
		amber_sel_t ds = amber_cap_alloc();
		int e = amber_pd_alloc_ram(pd, PAGE, ds);
		if (e == AMBER_OK) {
			uint64_t at = 0;
			e = amber_rm_attach(rm, ds, 0, 0, PAGE, AMBER_RM_WRITABLE, &at);
			if (e == AMBER_OK)
				*(volatile uint64_t *)(uintptr_t)at = 0x5eed;
		}
		return e != AMBER_OK ? e : reattach(2, ds, 0, false);
	}
	case 3: return reattach(3, park_ds, AMBER_RM_WRITABLE, true);
	default:
		if (faults[4] == 1) {
			first_access4 = seen_access[4];
			return reattach(4, late_ds, 0, false);
		}
		return reattach(4, late_ds, AMBER_RM_WRITABLE, true);
	}
}

/* The map's handler: FAULT_STATE gives an offset in the map. */
static void on_map_fault(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
	unsigned index = 0, access = 0;
	uint64_t addr = 0;
	if (amber_rm_fault_state(map, &index, &addr, &access) != AMBER_OK || addr >= PAGES * PAGE)
		return;
	unsigned page = (unsigned)(addr / PAGE);
	faults[page]++;
	seen_access[page] = access;
	seen_index[page] = index;
	seen_addr[page] = addr;
	if (page == 3 && !park_release) {
		amber_log("rm_fault: a thread is held in a WRITE fault");
		return;
	}
	resolve_err[page] = resolve(page);
}

static void on_own_fault(void *arg, uint32_t count)
{
	(void)arg;
	own_signals += (int)count;
}

static void on_config(void *arg, uint32_t count)
{
	(void)arg;
	config_changes += (int)count;
}

/* ---- the workers ------------------------------------------------------------ */

static volatile int done[PAGES];
static volatile uint64_t got[PAGES];

static void write_worker(void *arg)
{
	unsigned page = (unsigned)(uintptr_t)arg;
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(base + page * PAGE + 8);
	*p = 0xab00 + page;
	got[page] = *p;
	done[page] = 1;
}

static void exec_worker(void *arg)
{
	(void)arg;
	void (*fn)(void) = (void (*)(void))(uintptr_t)(base + PAGE);
	fn();
	done[1] = 1;
}

static void read_worker(void *arg)
{
	(void)arg;
	got[2] = *(volatile uint64_t *)(uintptr_t)(base + 2 * PAGE);
	done[2] = 1;
}

static int wait_for(volatile int *v, uint64_t us)
{
	for (uint64_t waited = 0; !*v && waited < us; waited += NAP_US)
		amber_timer_sleep_us(&naps, NAP_US);
	return *v;
}

/* ---- the checks ------------------------------------------------------------ */

/* A RAM page in slot ds, its first byte `first`, all else zero. */
static bool ram_page(amber_sel_t ds, uint8_t first)
{
	uint64_t at = 0;
	if (amber_pd_alloc_ram(pd, PAGE, ds) != AMBER_OK || amber_rm_attach(rm, ds, 0, 0, PAGE, AMBER_RM_WRITABLE, &at))
		return false;
	*(volatile uint8_t *)(uintptr_t)at = first;
	return true;
}

static bool setup(void)
{
	pd = amber_env_pd();
	rm = amber_env_rm();
	map = amber_cap_alloc();
	ro_ds = amber_cap_alloc();
	code_ds = amber_cap_alloc();
	park_ds = amber_cap_alloc();
	late_ds = amber_cap_alloc();
	amber_sel_t mds = amber_cap_alloc();
	return amber_check_err("a timer", amber_timer_open(&naps), AMBER_OK) &&
	       amber_check_err("a signal receiver", amber_signal_receiver_create(&rcv, 0), AMBER_OK) &&
	       amber_check_err("an RM fault context", amber_signal_context_create(&rcv, &rm_ctx, on_own_fault, 0),
			       AMBER_OK) &&
	       amber_check_err("a context for the map's faults",
			       amber_signal_context_create(&rcv, &map_ctx, on_map_fault, 0), AMBER_OK) &&
	       amber_check_err("RM SIGH", amber_rm_sigh(rm, rm_ctx.sel), AMBER_OK) &&
	       amber_check_err("a managed map of 5 pages", amber_rm_create_managed(rm, PAGES * PAGE, map), AMBER_OK) &&
	       amber_check_err("its dataspace", amber_rm_managed_dataspace(map, mds), AMBER_OK) &&
	       amber_check_err("the map's SIGH", amber_rm_sigh(map, map_ctx.sel), AMBER_OK) &&
	       amber_check_err("attached writable and executable",
			       amber_rm_attach(rm, mds, 0, 0, 0, AMBER_RM_WRITABLE | AMBER_RM_EXECUTABLE, &base), AMBER_OK) &&
	       amber_check_val("four RAM pages", ram_page(ro_ds, 'r') && ram_page(code_ds, RET) && ram_page(park_ds, 'p') &&
					 ram_page(late_ds, 'l'), 1) &&
	       amber_check_err("page 0 read-only", amber_rm_attach(map, ro_ds, 0, 0, PAGE, 0, 0), AMBER_OK) &&
	       amber_check_err("page 1 writable, not executable",
			       amber_rm_attach(map, code_ds, PAGE, 0, PAGE, AMBER_RM_WRITABLE, 0), AMBER_OK) &&
	       amber_check_err("page 3 read-only", amber_rm_attach(map, park_ds, 3 * PAGE, 0, PAGE, 0, 0), AMBER_OK);
}

/* One worker faulting on `page`: the handler saw `access` at `addr` and
 * resolved it, and the worker went on without a RESUME. */
static void one_fault(const char *what, unsigned page, void (*entry)(void *), unsigned access, uint64_t addr)
{
	struct amber_thread w;
	amber_log("%s", what);
	if (!amber_check_err("a worker", amber_thread_create(&w, entry, (void *)(uintptr_t)page), AMBER_OK))
		return;
	amber_check_val("it completes once the handler attached", wait_for(&done[page], WAIT_US), 1);
	amber_check_val("RM faults", faults[page], page == 4 ? 2 : 1);
	amber_check_val("the map's FAULT_STATE: the access", seen_access[page], access);
	amber_check_val("the map's FAULT_STATE: the offset in the map", seen_addr[page], addr);
	amber_check_val("the map's FAULT_STATE: the worker's index", seen_index[page], amber_cpu_thread_index(w.utcb));
	amber_check_err("the handler's DETACH and ATTACH", resolve_err[page], AMBER_OK);
	amber_check_err("the worker ends", amber_thread_join(&w), AMBER_OK);
}

static void faults_of_each_kind(void)
{
	one_fault("a write to a read-only page", 0, write_worker, AMBER_RM_ACCESS_WRITE, 8);
	amber_check_val("the write went through", got[0], 0xab00);
	amber_check_val("it is in the dataspace", ((volatile uint8_t *)(uintptr_t)base)[0], 'r');

	one_fault("a call into a page that is not executable", 1, exec_worker, AMBER_RM_ACCESS_EXEC, PAGE);

	one_fault("a read of a page the map has nothing at", 2, read_worker, AMBER_RM_ACCESS_READ, 2 * PAGE);
	amber_check_val("it read what the handler attached", got[2], 0x5eed);

	one_fault("a write to a page the map has nothing at", 4, write_worker, AMBER_RM_ACCESS_WRITE, 4 * PAGE + 8);
	amber_check_val("its first fault said READ", first_access4, AMBER_RM_ACCESS_READ);
	amber_check_val("the write went through", got[4], 0xab04);
}

/* The write to page 3 stays held until the config changes. */
static void parked_write(void)
{
	struct amber_rom config;
	struct amber_thread w;
	if (!amber_check_err("the config ROM", amber_rom_open(&config, "config"), AMBER_OK) ||
	    !amber_check_err("a ROM context", amber_signal_context_create(&rcv, &rom_ctx, on_config, 0), AMBER_OK) ||
	    !amber_check_err("ROM SIGH", amber_rom_sigh(config.session, rom_ctx.sel), AMBER_OK) ||
	    !amber_check_err("a worker writing to page 3", amber_thread_create(&w, write_worker, (void *)3), AMBER_OK))
		return;
	int changed = wait_for(&config_changes, PARK_US);
	amber_check_val("a new config arrived", changed != 0, 1);
	amber_check_val("the write is still held", done[3], 0);
	unsigned index = 0, access = 0;
	uint64_t addr = 0;
	amber_check_err("the map's FAULT_STATE (after a restore too)", amber_rm_fault_state(map, &index, &addr, &access),
			AMBER_OK);
	amber_check_val("it reports the held write", access == AMBER_RM_ACCESS_WRITE && addr == 3 * PAGE + 8 &&
							     index == amber_cpu_thread_index(w.utcb), 1);
	amber_check_err("the component's own FAULT_STATE has none", amber_rm_fault_state(rm, 0, 0, 0),
			AMBER_ERR_TIMEOUT);
	park_release = 1;
	/* The handler had its signal already: resolve it here. */
	amber_check_err("detach page 3 and attach it writable", resolve(3), AMBER_OK);
	amber_check_val("the held write completes", wait_for(&done[3], WAIT_US), 1);
	amber_check_val("it went through", got[3], 0xab03);
	amber_check_val("one RM fault for it", faults[3], 1);
	amber_check_err("the worker ends", amber_thread_join(&w), AMBER_OK);
}

int main(void)
{
	if (!setup())
		return amber_check_done();
	faults_of_each_kind();
	const char *config = 0;
	if (amber_rom_config(&config, 0) == AMBER_OK && amber_config_number(config, "park", 0) == 1)
		parked_write();
	amber_check_val("no fault went to the component's RM SIGH", own_signals, 0);
	return amber_check_done();
}
