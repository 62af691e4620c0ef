/*
 * test_monitor: a parent installs CPU and RM fault handlers on its
 * children's sessions before the children run (Genode's monitor pattern),
 * so a fault in a child's very first steps is a signal to the parent, not
 * the child's death.
 *
 * Its children: test_crash (a CPU exception: a write to 0x10) and
 * test_rm_crash (an RM fault: a write to an unattached address), each with
 * both handlers set before START; and test_crash without handlers, which
 * dies of its fault.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/child.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/signal.h>
#include <amber/timer.h>

static struct amber_signal_receiver rcv;
static struct amber_signal_context cpu_ctx, rm_ctx, exit_ctx;
static volatile uint32_t cpu_signals, rm_signals, exits;
static struct amber_timer timer;

static void count(void *arg, uint32_t n) { *(volatile uint32_t *)arg += n; }

static void wait_for(volatile uint32_t *v)
{
	for (unsigned i = 0; i < 500 && !*v; i++)
		amber_timer_sleep_us(&timer, 10000);
}

static enum amber_child_state state_of(amber_sel_t child)
{
	enum amber_child_state st = AMBER_CHILD_CREATED;
	int code;
	amber_child_exit_status(child, &st, &code, 0, 0);
	return st;
}

/* Create `name` from `binary`, with handlers or without, and start it. */
static amber_sel_t run_child(const char *name, const char *binary, int handlers)
{
	amber_sel_t gate = amber_cap_alloc(), child = amber_cap_alloc(), cpu = amber_cap_alloc(), rm = amber_cap_alloc();
	struct amber_child_args a = { .name = name, .binary = binary, .caps = 32, .ram = 1u << 20,
				      .parent_gate = gate, .exit_sigh = exit_ctx.sel, .config_ds = AMBER_SEL_INVALID };
	amber_check_err("a parent gate", amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, 1),
			AMBER_OK);
	amber_check_err("create the child", amber_pd_create_child(amber_env_pd(), &a, child), AMBER_OK);
	if (handlers) {
		amber_check_err("its CPU session", amber_child_session(child, "CPU", 0, cpu), AMBER_OK);
		amber_check_err("its RM session", amber_child_session(child, "RM", 0, rm), AMBER_OK);
		amber_check_err("CPU SIGH before it started", amber_cpu_sigh(cpu, cpu_ctx.sel), AMBER_OK);
		amber_check_err("RM SIGH before it started", amber_rm_sigh(rm, rm_ctx.sel), AMBER_OK);
	}
	amber_check_err("start it", amber_child_start(child), AMBER_OK);
	return child;
}

static int monitor(void)
{
	amber_check_err("a Timer", amber_timer_open(&timer), AMBER_OK);

	amber_sel_t c = run_child("cpu.fault", "test_crash", 1);
	wait_for(&cpu_signals);
	amber_check_val("its CPU exception came to the CPU handler", cpu_signals, 1);
	amber_check_val("not to the RM handler", rm_signals, 0);
	amber_check_val("it is held, not killed", state_of(c), AMBER_CHILD_RUNNING);
	amber_check_err("kill it", amber_child_kill(c, AMBER_CHILD_KILL, 0), AMBER_OK);
	wait_for(&exits);

	cpu_signals = exits = 0;
	c = run_child("rm.fault", "test_rm_crash", 1);
	wait_for(&rm_signals);
	amber_check_val("its page fault came to the RM handler", rm_signals, 1);
	amber_check_val("not to the CPU handler", cpu_signals, 0);
	amber_check_val("it is held, not killed", state_of(c), AMBER_CHILD_RUNNING);
	amber_check_err("kill it", amber_child_kill(c, AMBER_CHILD_KILL, 0), AMBER_OK);
	wait_for(&exits);

	exits = 0;
	c = run_child("unwatched", "test_crash", 0);
	wait_for(&exits);
	amber_check_val("without handlers the fault kills it", state_of(c), AMBER_CHILD_KILLED);
	return amber_check_done();
}

int main(void)
{
	if (amber_signal_receiver_create(&rcv, 0) ||
	    amber_signal_context_create(&rcv, &cpu_ctx, count, (void *)&cpu_signals) ||
	    amber_signal_context_create(&rcv, &rm_ctx, count, (void *)&rm_signals) ||
	    amber_signal_context_create(&rcv, &exit_ctx, count, (void *)&exits)) {
		amber_log("FAIL: signal setup");
		return 1;
	}
	return monitor();
}
