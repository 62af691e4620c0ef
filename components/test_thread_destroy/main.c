/*
 * test_thread_destroy: threads ended from outside (amber_thread_destroy,
 * CPU KILL_THREAD) free their UTCB slot, kernel object and stack:
 *
 * 1. threads that block in IPC, spin, or sleep on a Timer are destroyed;
 *    each one's capability is gone afterwards;
 * 2. threads are created until core denies one (QUOTA: all UTCB slots),
 *    all destroyed, and exactly as many can be created again; RAM comes
 *    out even;
 * 3. the first thread and a destroyed one cannot be destroyed;
 * 4. at the end, WAIT_AT_END threads are left blocked and the component
 *    says "destroyed: idle" and waits, for a checkpoint (test_cr checks
 *    that only those threads are in the image).
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define MOST 300
#define WAIT_AT_END 2

static struct amber_thread threads[MOST];
static volatile unsigned spins;

static void block(void *arg)
{
	(void)arg;
	for (;;)
		amber_ipc_wait(AMBER_TIMEOUT_NEVER);
}

static void spin(void *arg)
{
	(void)arg;
	for (;;)
		spins++;
}

static void sleeper(void *arg)
{
	(void)arg;
	struct amber_timer t;
	amber_timer_open(&t);
	for (;;)
		amber_timer_sleep_us(&t, 1000000);
}

static int gone(const struct amber_thread *t)
{
	struct amber_cap_info info;
	return amber_task_cap_info(AMBER_SEL_TASK, t->sel, &info) != AMBER_OK || info.kind == AMBER_KIND_NONE;
}

static unsigned create_until_denied(int *last)
{
	unsigned n = 0;
	while (n < MOST && (*last = amber_thread_create(&threads[n], block, 0)) == AMBER_OK)
		n++;
	return n;
}

int main(void)
{
	uint64_t quota, used0, used;
	amber_pd_quota(amber_env_pd(), &quota, &used0);

	static void (*const kinds[])(void *) = { block, spin, sleeper };
	for (unsigned i = 0; i < 3; i++) {
		struct amber_thread t;
		amber_check_err("create a thread", amber_thread_create(&t, kinds[i], 0), AMBER_OK);
		if (kinds[i] == spin)
			while (!spins)
				amber_sys_yield();
		amber_sel_t sel = t.sel;
		amber_check_err(i == 0 ? "destroy one blocked in IPC" : i == 1 ? "destroy one spinning" : "destroy one sleeping",
				amber_thread_destroy(&t), AMBER_OK);
		t.sel = sel;
		amber_check_val("its capability is gone", gone(&t), 1);
	}
	/* One created but never started: it goes too. */
	struct amber_thread idle = { .sel = amber_cap_alloc() };
	uint64_t utcb;
	amber_check_err("create a thread, not started", amber_cpu_create_thread(amber_env_cpu(), "idle", idle.sel, &utcb),
			AMBER_OK);
	amber_check_err("destroy it", amber_cpu_kill_thread(amber_env_cpu(), idle.sel), AMBER_OK);
	for (unsigned i = 0; i < 100000 && !gone(&idle); i++)
		amber_sys_yield();
	amber_check_val("its capability is gone", gone(&idle), 1);
	amber_cap_free(idle.sel);

	unsigned before = spins;
	for (unsigned i = 0; i < 1000; i++)
		amber_sys_yield();
	amber_check_val("the spinning thread spins no more", spins, before);

	int last = 0;
	unsigned first = create_until_denied(&last);
	amber_check_err("creating threads ends in QUOTA", last, AMBER_ERR_QUOTA);
	amber_log("threads: %u at once", first);
	int failed = 0;
	for (unsigned i = 0; i < first; i++)
		failed |= amber_thread_destroy(&threads[i]) != AMBER_OK;
	amber_check_val("all of them destroyed", failed, 0);
	unsigned again = create_until_denied(&last);
	amber_check_val("as many again", again, first);
	for (unsigned i = WAIT_AT_END; i < again; i++)
		failed |= amber_thread_destroy(&threads[i]) != AMBER_OK;
	amber_check_val("destroyed again", failed, 0);

	/* Its slot is empty: the kernel refuses the map item. */
	amber_check_err("a destroyed thread cannot be destroyed",
			amber_cpu_kill_thread(amber_env_cpu(), threads[WAIT_AT_END].sel), AMBER_ERR_ITEM);
	amber_check_err("the first thread cannot be destroyed", amber_cpu_kill_thread(amber_env_cpu(), AMBER_SEL_THREAD),
			AMBER_ERR_INVALID_ARG);
	amber_pd_quota(amber_env_pd(), &quota, &used);
	amber_check_val("RAM: only the stacks of the threads left", used, used0 + WAIT_AT_END * amber_thread_stack_ram());
	amber_check_done();
	amber_log("destroyed: idle");
	for (;;)
		amber_ipc_wait(AMBER_TIMEOUT_NEVER);
}
