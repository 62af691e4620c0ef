/*
 * test_close_race: closes CPU sessions while their threads exit (tracker
 * issue 10, "Core crashes"). Each round opens a CPU session, starts a
 * thread that exits at once and closes the session a little later, by a
 * delay that changes from round to round, so that the close lands before,
 * during and after core's cleanup of the exited thread. Core used to free
 * such a thread on its exit path while the close still stopped it.
 *
 * Core must survive every round; afterwards the component checks that core
 * still serves it (sessions, threads, UTCB slots) and exits.
 * tests/integration/test_core_crashes.c runs it next to a victim.
 */
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/tls.h>

#define ROUNDS 1500
#define STACKS 8
#define STACK_SIZE 4096

/* Stacks in the image: the component's RAM quota stays untouched. */
static char stacks[STACKS][STACK_SIZE] __attribute__((aligned(16)));
static volatile unsigned leaving; /* rounds whose thread reached its exit */

static void leaver(void)
{
	__atomic_add_fetch(&leaving, 1, __ATOMIC_RELEASE);
	amber_sys_exit_thread(0);
}

static void wait_empty(amber_sel_t sel)
{
	while (amber_cap_info_of(sel).kind != AMBER_KIND_NONE)
		amber_sys_yield();
}

static volatile int helper_ran;
static void helper(void *arg)
{
	(void)arg;
	helper_ran = 1;
}

int main(void)
{
	amber_sel_t cpu = amber_check_slot(), th = amber_check_slot();
	unsigned done = 0, errors = 0, quota = 0;
	int first_err = AMBER_OK;
	amber_log("race: %u rounds of open CPU, start a leaving thread, close", ROUNDS);
	for (unsigned round = 0; round < ROUNDS; round++) {
		int err = amber_parent_session("CPU", cpu, AMBER_TIMEOUT_NEVER);
		uint64_t utcb = 0;
		if (!err)
			err = amber_cpu_create_thread(cpu, "leaver", th, &utcb);
		if (!err) {
			unsigned before = leaving;
			char *stack = stacks[round % STACKS];
			uint64_t top = 0, tcb = amber_tls_setup((uint64_t)(uintptr_t)stack,
							   (uint64_t)(uintptr_t)stack + STACK_SIZE, utcb, 256, &top);
			err = amber_cpu_start(cpu, th, (uint64_t)(uintptr_t)leaver, top - 8, tcb);
			/* Mostly after the thread is on its way out, by a delay
			 * that sweeps over core's exit handling. */
			for (unsigned spins = 0; !err && leaving == before && spins < 100000; spins++)
				amber_sys_yield();
			for (unsigned k = 0; k < (round % 64) * 16; k++)
				__asm__ volatile("pause");
		}
		if (err == AMBER_ERR_QUOTA) {
			quota++; /* closed threads that never got to exit keep their UTCB slots */
			break;
		}
		int cerr = amber_parent_close(cpu);
		if (err || cerr) {
			if (!errors)
				first_err = err ? err : cerr;
			errors++;
		}
		/* The exit path may still hold the thread's capability. */
		wait_empty(th);
		wait_empty(cpu);
		done++;
	}
	amber_log("race: %u rounds done, %u threads reached their exit", done, leaving);
	amber_check_val("every round ran", done, ROUNDS);
	amber_check_err("no round failed (first error)", first_err, AMBER_OK);
	amber_check_val("no round ran out of UTCB slots", quota, 0);

	/* Core still serves this component. */
	struct amber_thread t;
	if (amber_check_err("a thread can still be created", amber_thread_create(&t, helper, 0), AMBER_OK)) {
		amber_check_err("and joined", amber_thread_join(&t), AMBER_OK);
		amber_check_val("it ran", helper_ran, 1);
	}
	amber_check_err("a CPU session can still be opened", amber_parent_session("CPU", cpu, AMBER_TIMEOUT_NEVER),
			AMBER_OK);
	amber_check_err("and closed", amber_parent_close(cpu), AMBER_OK);
	amber_exit(amber_check_done());
}
