/*
 * test_faults: faults as signals (CPU SIGH, RM SIGH), checked from a
 * component (amber/check.h: "ok: ...", "done: N ok, M failed", the exit
 * code is the number of failures).
 *
 * Worker threads fault on purpose; the handlers run in a signal receiver's
 * handler thread while the faulting thread sits stopped in core:
 *
 *   - a page fault on an unattached address in the dynamic area: the RM
 *     handler asks FAULT_STATE and attaches a RAM dataspace there, which
 *     resumes the worker: its access is retried (write, then read back);
 *   - ud2 (SIGILL): the CPU handler reads STATE, moves rip past it with
 *     SET_STATE and resumes;
 *   - int3 (SIGTRAP): rip is already past it; the handler sends the thread
 *     to a recovery function instead, with an argument in rdi;
 *   - a write to a read-only attachment: a CPU exception, not an RM fault;
 *     the handler attaches the memory writable again and resumes;
 *   - a worker parked on a page fault nobody resolves (FAULT_STATE keeps
 *     reporting it: it is the oldest): the rest of the component (and the
 *     others in the scenario) run on, and the component ends with it still
 *     stopped (tests/integration/test_faults.c checks
 *     the cleanup).
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/signal.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define PAGE ((uint64_t)AMBER_PAGE_SIZE)
#define FAULT_ADDR 0x0000000200000120ull  /* unattached, in the dynamic area */
#define PARK_ADDR 0x0000000300000000ull   /* never resolved */
#define RO_ADDR 0x0000000280000000ull     /* attached read-only */
#define LINUX_SIGILL 4
#define LINUX_SIGTRAP 5
#define LINUX_SIGSEGV 11
#define WAIT_US 10000000u
#define NAP_US 2000u

static amber_sel_t pd, cpu, rm;
static struct amber_timer naps;
static struct amber_signal_receiver rcv;
static struct amber_signal_context rm_ctx, cpu_ctx;

/* The workers the handlers know, by index (amber_cpu_thread_index). */
static struct amber_thread w_fault, w_ud2, w_int3, w_ro, w_park;
static struct amber_thread *const workers[] = { &w_fault, &w_ud2, &w_int3, &w_ro, &w_park };

/* What the handlers saw. */
static volatile uint32_t rm_signals, cpu_signals;
static volatile int rm_err, rm_index, rm_access, rm_attach_err, rm_state_stop, rm_state_sig;
static volatile uint64_t rm_addr, rm_state_fault_addr;
static volatile uint64_t ill_rip, ill_sig, trap_rip, trap_sig, ro_sig, ro_addr, ro_stop;
static volatile int cpu_errors;
static volatile int parked;

static amber_sel_t thread_sel(unsigned index)
{
	for (unsigned i = 0; i < sizeof(workers) / sizeof(workers[0]); i++)
		if (workers[i]->sel && amber_cpu_thread_index(workers[i]->utcb) == index)
			return workers[i]->sel;
	return AMBER_SEL_INVALID;
}

static void on_rm_fault(void *arg, uint32_t count)
{
	(void)arg;
	unsigned index = ~0u, access = ~0u;
	uint64_t addr = 0;
	rm_signals += count;
	int err = amber_rm_fault_state(rm, &index, &addr, &access);
	rm_err = err;
	if (err != AMBER_OK)
		return;
	if (addr >= PARK_ADDR && addr < PARK_ADDR + PAGE) {
		parked = 1; /* leave it stopped */
		return;
	}
	rm_index = (int)index;
	rm_addr = addr;
	rm_access = (int)access;
	amber_sel_t t = thread_sel(index);
	struct amber_thread_state st;
	if (amber_cpu_state(cpu, t, &st) == AMBER_OK) {
		rm_state_stop = (int)st.stop;
		rm_state_sig = (int)st.signal;
		rm_state_fault_addr = st.fault_addr;
	}
	amber_sel_t ds = amber_cap_alloc();
	int e = amber_pd_alloc_ram(pd, PAGE, ds);
	if (e == AMBER_OK)
		e = amber_rm_attach(rm, ds, addr & ~(PAGE - 1), 0, PAGE, AMBER_RM_WRITABLE, 0);
	rm_attach_err = e; /* the ATTACH resumed the worker: no RESUME */
}

static void recovered(uint64_t magic);

static void on_cpu_fault(void *arg, uint32_t count)
{
	(void)arg;
	cpu_signals += count;
	for (unsigned i = 0; i < sizeof(workers) / sizeof(workers[0]); i++) {
		struct amber_thread *w = workers[i];
		struct amber_thread_state st;
		if (!w->sel || amber_cpu_state(cpu, w->sel, &st) != AMBER_OK || st.stop != AMBER_CPU_STOP_EXCEPTION)
			continue; /* running, or not held on an exception */
		int e = AMBER_OK;
		if (w == &w_ud2) {
			ill_rip = st.rip;
			ill_sig = st.signal;
			st.rip += 2; /* ud2 is 0f 0b */
			e = amber_cpu_set_state(cpu, w->sel, &st);
		} else if (w == &w_int3) {
			trap_rip = st.rip;
			trap_sig = st.signal;
			st.rip = (uint64_t)(uintptr_t)recovered;
			st.rsp = ((st.rsp - 256) & ~15ull) - 8; /* as if called */
			st.rdi = 0xfeed;
			e = amber_cpu_set_state(cpu, w->sel, &st);
		} else if (w == &w_ro) {
			ro_sig = st.signal;
			ro_addr = st.fault_addr;
			ro_stop = st.stop;
			amber_sel_t ds = amber_cap_alloc();
			e = amber_rm_detach(rm, RO_ADDR);
			if (e == AMBER_OK)
				e = amber_pd_alloc_ram(pd, PAGE, ds);
			if (e == AMBER_OK)
				e = amber_rm_attach(rm, ds, RO_ADDR, 0, PAGE, AMBER_RM_WRITABLE, 0);
		}
		if (e == AMBER_OK)
			e = amber_cpu_resume(cpu, w->sel);
		if (e != AMBER_OK)
			cpu_errors++;
	}
}

/* ---- the workers ------------------------------------------------------------ */

static volatile uint64_t fault_read, ro_read, magic_seen;
static volatile int fault_done, ud2_done, int3_after, ro_done;
extern char test_faults_ud2[], test_faults_after_ud2[], test_faults_after_int3[];

static void fault_worker(void *arg)
{
	(void)arg;
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)FAULT_ADDR;
	*p = 0x1234abcd;
	fault_read = *p;
	fault_done = 1;
}

static __attribute__((noinline)) void do_ud2(void)
{
	__asm__ volatile(".globl test_faults_ud2\ntest_faults_ud2: ud2\n"
			 ".globl test_faults_after_ud2\ntest_faults_after_ud2:\n" ::: "memory");
}

static void ud2_worker(void *arg)
{
	(void)arg;
	do_ud2();
	ud2_done = 1;
}

static void recovered(uint64_t magic)
{
	magic_seen = magic;
	amber_sys_exit_thread(0);
}

static void int3_worker(void *arg)
{
	(void)arg;
	__asm__ volatile("int3\n.globl test_faults_after_int3\ntest_faults_after_int3:\n" ::: "memory");
	int3_after = 1; /* never: the handler sent the thread elsewhere */
}

static void ro_worker(void *arg)
{
	(void)arg;
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)RO_ADDR;
	*p = 77;
	ro_read = *p;
	ro_done = 1;
}

static void park_worker(void *arg)
{
	(void)arg;
	(void)*(volatile uint64_t *)(uintptr_t)PARK_ADDR;
	amber_log("FAIL: the parked worker ran on");
}

static int wait_for(volatile int *v)
{
	for (unsigned i = 0; i < WAIT_US / NAP_US && !*v; i++)
		amber_timer_sleep_us(&naps, NAP_US);
	return *v;
}

/* ---- the checks ------------------------------------------------------------ */

static void setup(void)
{
	pd = amber_env_pd();
	cpu = amber_env_cpu();
	rm = amber_env_rm();
	if (!amber_check_val("PD, CPU and RM sessions",
			     pd != AMBER_SEL_INVALID && cpu != AMBER_SEL_INVALID && rm != AMBER_SEL_INVALID, 1) ||
	    !amber_check_err("a timer", amber_timer_open(&naps), AMBER_OK) ||
	    !amber_check_err("a signal receiver", amber_signal_receiver_create(&rcv, 0), AMBER_OK) ||
	    !amber_check_err("an RM fault context", amber_signal_context_create(&rcv, &rm_ctx, on_rm_fault, 0),
			     AMBER_OK) ||
	    !amber_check_err("a CPU exception context", amber_signal_context_create(&rcv, &cpu_ctx, on_cpu_fault, 0),
			     AMBER_OK))
		amber_exit(amber_check_done());
	amber_check_err("FAULT_STATE without a fault -> TIMEOUT", amber_rm_fault_state(rm, 0, 0, 0), AMBER_ERR_TIMEOUT);
	amber_check_err("CPU SIGH with something else than a context -> INVALID_ARG", amber_cpu_sigh(cpu, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("RM SIGH with something else than a context -> INVALID_ARG", amber_rm_sigh(rm, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("CPU SIGH", amber_cpu_sigh(cpu, cpu_ctx.sel), AMBER_OK);
	amber_check_err("RM SIGH", amber_rm_sigh(rm, rm_ctx.sel), AMBER_OK);
}

static void park(void)
{
	if (!amber_check_err("a worker to park", amber_thread_create(&w_park, park_worker, 0), AMBER_OK))
		return;
	if (!amber_check_val("it faults and the RM handler leaves it stopped", wait_for(&parked), 1))
		return;
	amber_log("parked: a thread sits stopped on a fault");
	struct amber_thread_state st;
	amber_check_err("STATE of the parked thread", amber_cpu_state(cpu, w_park.sel, &st), AMBER_OK);
	amber_check_val("stopped by a page fault", st.stop, AMBER_CPU_STOP_PAGE_FAULT);
	amber_check_val("SIGSEGV", st.signal, LINUX_SIGSEGV);
	amber_check_val("at the address it touched", st.fault_addr, PARK_ADDR);
	unsigned index = 0;
	uint64_t addr = 0;
	amber_check_err("FAULT_STATE", amber_rm_fault_state(rm, &index, &addr, 0), AMBER_OK);
	amber_check_val("the parked thread's fault", index, amber_cpu_thread_index(w_park.utcb));
	amber_check_val("its address", addr, PARK_ADDR);
}

static void page_fault(void)
{
	uint32_t before = rm_signals;
	if (!amber_check_err("a worker touching unattached memory", amber_thread_create(&w_fault, fault_worker, 0),
			     AMBER_OK))
		return;
	if (!amber_check_val("it completes once the handler attached memory", wait_for(&fault_done), 1))
		return;
	amber_check_val("an RM fault signal arrived", rm_signals > before, 1);
	amber_check_err("FAULT_STATE in the handler", rm_err, AMBER_OK);
	amber_check_val("FAULT_STATE: the worker's index", (uint64_t)rm_index, amber_cpu_thread_index(w_fault.utcb));
	amber_check_val("FAULT_STATE: the address", rm_addr, FAULT_ADDR);
	/* A write, but Linux does not tell it from a read on a missing page. */
	amber_check_val("FAULT_STATE: the access is READ (a data access)", (uint64_t)rm_access,
			AMBER_RM_ACCESS_READ);
	amber_check_val("STATE in the handler: stopped by a page fault", (uint64_t)rm_state_stop,
			AMBER_CPU_STOP_PAGE_FAULT);
	amber_check_val("STATE in the handler: SIGSEGV", (uint64_t)rm_state_sig, LINUX_SIGSEGV);
	amber_check_val("STATE in the handler: the fault address", rm_state_fault_addr, FAULT_ADDR);
	amber_check_err("the handler attached a RAM dataspace there, which resumed the worker", rm_attach_err,
			AMBER_OK);
	amber_check_val("the worker read back what it wrote", fault_read, 0x1234abcd);
	amber_check_val("we see it too", *(volatile uint64_t *)(uintptr_t)FAULT_ADDR, 0x1234abcd);
	amber_check_err("the worker ends", amber_thread_join(&w_fault), AMBER_OK);
	w_fault.sel = 0;
}

static void exceptions(void)
{
	uint32_t rm_before = rm_signals, cpu_before = cpu_signals;
	if (amber_check_err("a worker executing ud2", amber_thread_create(&w_ud2, ud2_worker, 0), AMBER_OK) &&
	    amber_check_val("it completes after SET_STATE moved rip past ud2", wait_for(&ud2_done), 1)) {
		amber_check_val("a CPU exception signal arrived", cpu_signals > cpu_before, 1);
		amber_check_val("STATE: SIGILL", ill_sig, LINUX_SIGILL);
		amber_check_val("STATE: rip is the ud2", ill_rip, (uint64_t)(uintptr_t)test_faults_ud2);
		amber_check_err("the worker ends", amber_thread_join(&w_ud2), AMBER_OK);
		w_ud2.sel = 0;
	}

	cpu_before = cpu_signals;
	if (amber_check_err("a worker executing int3", amber_thread_create(&w_int3, int3_worker, 0), AMBER_OK) &&
	    amber_check_err("it ends in the recovery function SET_STATE sent it to", amber_thread_join(&w_int3),
			    AMBER_OK)) {
		w_int3.sel = 0;
		amber_check_val("a CPU exception signal arrived", cpu_signals > cpu_before, 1);
		amber_check_val("STATE: SIGTRAP", trap_sig, LINUX_SIGTRAP);
		amber_check_val("STATE: rip is past the int3", trap_rip, (uint64_t)(uintptr_t)test_faults_after_int3);
		amber_check_val("the recovery function got rdi", magic_seen, 0xfeed);
		amber_check_val("the code after int3 never ran", (uint64_t)int3_after, 0);
	}

	amber_sel_t ds = amber_cap_alloc();
	cpu_before = cpu_signals;
	if (amber_check_err("a RAM dataspace", amber_pd_alloc_ram(pd, PAGE, ds), AMBER_OK) &&
	    amber_check_err("attached read-only", amber_rm_attach(rm, ds, RO_ADDR, 0, PAGE, 0, 0), AMBER_OK) &&
	    amber_check_err("a worker writing to it", amber_thread_create(&w_ro, ro_worker, 0), AMBER_OK) &&
	    amber_check_val("it completes once the handler made it writable", wait_for(&ro_done), 1)) {
		amber_check_val("a CPU exception signal arrived", cpu_signals > cpu_before, 1);
		amber_check_val("STATE: a CPU exception, not a page fault", ro_stop, AMBER_CPU_STOP_EXCEPTION);
		amber_check_val("STATE: SIGSEGV", ro_sig, LINUX_SIGSEGV);
		amber_check_val("STATE: the address", ro_addr, RO_ADDR);
		amber_check_val("the write went through", ro_read, 77);
		amber_check_err("the worker ends", amber_thread_join(&w_ro), AMBER_OK);
		w_ro.sel = 0;
	}
	amber_check_val("no RM fault signal for these", rm_signals, rm_before);
	amber_check_val("the handlers made no errors", (uint64_t)cpu_errors, 0);
}

int main(void)
{
	setup();
	page_fault();
	/* From here on FAULT_STATE would report the parked fault (the oldest
	 * unresolved one), so it is the last page fault we make. */
	park();
	exceptions();
	/* Give the other components time to run while the parked thread
	 * stays stopped (sheep_counter counts for half a second in
	 * scenarios/faults.xml); then end with it still stopped. */
	amber_timer_sleep_us(&naps, 1500000);
	struct amber_thread_state st;
	amber_check_err("the parked thread is still stopped", amber_cpu_state(cpu, w_park.sel, &st), AMBER_OK);
	amber_check_val("on its page fault", st.stop, AMBER_CPU_STOP_PAGE_FAULT);
	amber_exit(amber_check_done());
}
