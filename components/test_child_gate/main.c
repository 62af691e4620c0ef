/*
 * test_child_gate: a parent revokes the gate it gave its child (found by
 * components/hostile_fuzzer, tracker issue 10). Core kept the child's
 * parent gate as a slot of its own task holding a copy derived from the
 * parent's gate; revoking the gate emptied that slot, core reused it for
 * the next object it made (here: the root capability of a thread of
 * ours), and the child's end then deleted whatever was there: our thread
 * was freed under its CPU session (a use-after-free in amber-core) and a
 * started child got that thread as its parent capability.
 *
 * Three children of cr_idle, each after its gate was deleted and core has
 * made threads of ours: one never started and killed, one whose start
 * must be refused, one started before the revoke (its first call to us
 * held unanswered, so it lives on) and killed. Our threads
 * must live through all of it.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/child.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/kobj.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/ipc.h>
#include <amber/syscall.h>
#include <amber/thread.h>

#define THREADS 4u
#define SOURCE 200u /* the source and its semaphore: two neighbouring slots */

static amber_sel_t pd, cpu, ctx;
static unsigned made;
static struct amber_thread holder;
static volatile int held;

/* Takes the running child's first call to its parent and never answers:
 * the child stays blocked (alive) through the revoke. */
static void hold(void *arg)
{
	(void)arg;
	if (amber_ipc_wait(AMBER_TIMEOUT_NEVER) == AMBER_OK)
		__atomic_store_n(&held, 1, __ATOMIC_RELEASE);
	for (;;)
		amber_ipc_wait(AMBER_TIMEOUT_NEVER);
}

/* A child of cr_idle with a fresh gate, then the gate deleted. */
static amber_sel_t child_with_revoked_gate(const char *name, int start_first)
{
	amber_sel_t gate = amber_check_slot(), child = amber_check_slot();
	amber_check_err("a gate for the child",
			amber_factory_create_gate(AMBER_SEL_FACTORY, gate, start_first ? holder.sel : AMBER_SEL_THREAD, 7),
			AMBER_OK);
	struct amber_child_args a = { .name = name, .binary = "cr_idle", .caps = 8, .ram = 2u << 20,
				      .parent_gate = gate, .exit_sigh = ctx, .config_ds = AMBER_SEL_INVALID };
	amber_check_err("create the child", amber_pd_create_child(pd, &a, child), AMBER_OK);
	if (start_first) {
		amber_check_err("start it", amber_child_start(child), AMBER_OK);
		while (!__atomic_load_n(&held, __ATOMIC_ACQUIRE))
			amber_sys_yield();
	}
	amber_check_err("delete its gate (revokes core's copy)", amber_task_delete(AMBER_SEL_TASK, gate), AMBER_OK);
	return child;
}

/* Core makes objects: the first lands in the slot the revoke freed. */
static amber_sel_t threads[3][THREADS];
static void make_threads(void)
{
	for (unsigned i = 0; i < THREADS; i++) {
		threads[made][i] = amber_check_slot();
		amber_check_err("core makes a thread of ours",
				amber_cpu_create_thread(cpu, "bystander", threads[made][i], 0), AMBER_OK);
	}
	made++;
}

static void threads_intact(const char *what)
{
	unsigned alive = 0;
	for (unsigned k = 0; k < made; k++)
		for (unsigned i = 0; i < THREADS; i++)
			alive += amber_cap_info_of(threads[k][i]).kind == AMBER_KIND_THREAD;
	amber_check_val(what, alive, made * THREADS);
}

static void wait_ended(amber_sel_t child)
{
	enum amber_child_state st = AMBER_CHILD_RUNNING;
	int code = 0;
	char why[64];
	for (unsigned i = 0; i < 1000000 && (st == AMBER_CHILD_RUNNING || st == AMBER_CHILD_CREATED); i++) {
		if (amber_child_exit_status(child, &st, &code, why, sizeof why))
			break;
		amber_sys_yield();
	}
	amber_check_val("the child has ended (killed)", st, AMBER_CHILD_KILLED);
}

int main(void)
{
	pd = amber_env_pd();
	cpu = amber_env_cpu();
	ctx = amber_check_slot();
	amber_check_err("reserve two slots", amber_cap_reserve(SOURCE, 2), AMBER_OK);
	amber_check_err("a signal source", amber_pd_alloc_signal_source(pd, AMBER_SEL_THREAD, SOURCE, 0), AMBER_OK);
	amber_check_err("an exit context", amber_pd_alloc_context(pd, SOURCE, 1, ctx), AMBER_OK);
	amber_check_err("a thread to hold the child's call", amber_thread_create(&holder, hold, 0), AMBER_OK);

	amber_sel_t a = child_with_revoked_gate("never", 0);
	make_threads();
	amber_check_err("kill the child that never started", amber_child_kill(a, AMBER_CHILD_KILL, 0), AMBER_OK);
	threads_intact("our threads live on after the unstarted child's end");

	amber_sel_t b = child_with_revoked_gate("refused", 0);
	make_threads();
	amber_check_err("a child whose parent gate is gone does not start", amber_child_start(b), AMBER_ERR_INVALID_ARG);
	threads_intact("our threads live on after the refused start");

	amber_sel_t c = child_with_revoked_gate("running", 1);
	make_threads();
	amber_check_err("kill the running child", amber_child_kill(c, AMBER_CHILD_KILL, 0), AMBER_OK);
	wait_ended(c);
	threads_intact("our threads live on after the running child's end");
	amber_exit(amber_check_done());
}
