/*
 * test_session_flood: session requests that nobody waits for (tracker
 * issue 10, "Core crashes"). Runs with ram="64K" (and caps="300", which
 * pay for its threads and waiting requests in core) and still used to
 * grow amber-core without bound: every SESSION request for a name nobody
 * announces left a record in core, also when it was sent with SEND, which
 * takes no reply.
 *
 * 1. SEND: many SESSION requests for an unannounced name and for "CPU";
 *    core must make nothing (tests/integration/test_core_crashes.c
 *    watches amber-core's memory meanwhile); a CALL still gets a session.
 * 2. Timeouts: many CALLs that time out; each record must go with its
 *    caller's wait, or the limit below would be reached.
 * 3. The limit: CORE_MAX_PENDING_SESSIONS (64) threads wait for "late";
 *    one more is refused with QUOTA; the announcement answers all 64.
 * 4. The end: threads still wait for "never" when the component exits.
 */
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/protocols.h>
#include <amber/string.h>
#include <amber/syscall.h>
#include <amber/tls.h>

#define SENDS 200000
#define CORE_SENDS 1000
#define TIMEOUTS 500
#define LIMIT 64 /* CORE_MAX_PENDING_SESSIONS */
#define WAITERS (LIMIT + 3)
#define STACK_SIZE 4096

/* Stacks in the image: the 64K RAM quota would not hold them. */
static char stacks[WAITERS][STACK_SIZE] __attribute__((aligned(16)));
static amber_sel_t slots[WAITERS];
static const char *volatile wanted = "late";
static volatile int results[WAITERS];
static unsigned next_index, entered, answered;

static void waiter(void)
{
	unsigned i = __atomic_fetch_add(&next_index, 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&entered, 1, __ATOMIC_RELEASE);
	int err;
	/* QUOTA: the probe below took the last place for a moment. */
	while ((err = amber_parent_session(wanted, slots[i], AMBER_TIMEOUT_NEVER)) == AMBER_ERR_QUOTA)
		amber_sys_yield();
	results[i] = err;
	__atomic_add_fetch(&answered, 1, __ATOMIC_RELEASE);
	amber_sys_exit_thread(0);
}

/* SESSION name with SEND: no reply, nothing to wait for. */
static int send_session(const char *name)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PARENT_SESSION;
	unsigned words = amber_mr_put_string(u, 1, name, strlen(name));
	return amber_ipc_send(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, words, 0), AMBER_TIMEOUT_NEVER);
}

static void start_waiters(unsigned first, unsigned n)
{
	amber_sel_t cpu = amber_env_cpu(), th = amber_check_slot();
	for (unsigned i = first; i < first + n; i++) {
		slots[i] = amber_check_slot();
		uint64_t utcb = 0, top = 0, tcb = 0;
		int err = amber_cpu_create_thread(cpu, "waiter", th, &utcb);
		if (!err)
			tcb = amber_tls_setup((uint64_t)(uintptr_t)stacks[i], (uint64_t)(uintptr_t)&stacks[i][STACK_SIZE],
					      utcb, 256, &top);
		if (!err)
			err = amber_cpu_start(cpu, th, (uint64_t)(uintptr_t)waiter, top - 8, tcb);
		if (err) {
			amber_check_err("start a waiter", err, AMBER_OK);
			return;
		}
		/* The thread's capability is not needed: core revokes it when
		 * the thread ends; the slot is taken once per waiter. */
		th = amber_check_slot();
	}
	while (__atomic_load_n(&entered, __ATOMIC_ACQUIRE) < first + n)
		amber_sys_yield();
	for (unsigned i = 0; i < 1000; i++) /* and into core */
		amber_sys_yield();
}

static void flood(void)
{
	amber_log("flood: sending %u session requests", SENDS);
	/* A pause, so that the test samples amber-core before the flood. */
	for (unsigned i = 0; i < 20000; i++)
		amber_sys_yield();
	unsigned ok = 0;
	for (unsigned i = 0; i < SENDS; i++)
		ok += send_session("nobody") == AMBER_OK;
	amber_log("flood: sent %u session requests", ok);
	amber_check_val("every SEND was taken", ok, SENDS);

	ok = 0;
	for (unsigned i = 0; i < CORE_SENDS; i++)
		ok += send_session("CPU") == AMBER_OK;
	amber_check_val("CPU sessions sent with SEND", ok, CORE_SENDS);
	amber_sel_t s = amber_check_slot();
	amber_check_err("a CALL still gets a CPU session (SENDs made none)",
			amber_parent_session("CPU", s, AMBER_TIMEOUT_NEVER), AMBER_OK);
	amber_check_err("and closes it", amber_parent_close(s), AMBER_OK);
}

static void timeouts(void)
{
	amber_sel_t s = amber_check_slot();
	unsigned timed_out = 0;
	for (unsigned i = 0; i < TIMEOUTS; i++)
		timed_out += amber_parent_session("nobody", s, i % 2 ? 100 : AMBER_TIMEOUT_POLL) == AMBER_ERR_TIMEOUT;
	amber_check_val("calls for a name nobody announces time out", timed_out, TIMEOUTS);
}

static void limit(void)
{
	start_waiters(0, LIMIT);
	/* Until every waiter is in core, a probe waits and times out. */
	amber_sel_t probe = amber_check_slot();
	int err = AMBER_ERR_TIMEOUT;
	for (unsigned tries = 0; tries < 500 && err == AMBER_ERR_TIMEOUT; tries++)
		err = amber_parent_session("late", probe, 10000);
	amber_check_err("one more waiting call than the limit -> QUOTA", err, AMBER_ERR_QUOTA);

	amber_sel_t gate = amber_check_slot();
	amber_check_err("a gate (the one cap)", amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, 7),
			AMBER_OK);
	amber_check_err("announce late", amber_parent_announce("late", gate), AMBER_OK);
	while (__atomic_load_n(&answered, __ATOMIC_ACQUIRE) < LIMIT)
		amber_sys_yield();
	unsigned ok = 0;
	for (unsigned i = 0; i < LIMIT; i++)
		ok += results[i] == AMBER_OK && amber_cap_info_of(slots[i]).kind == AMBER_KIND_GATE;
	amber_check_val("the announcement answered every waiter", ok, LIMIT);
	amber_check_err("a new call is answered at once", amber_parent_session("late", probe, AMBER_TIMEOUT_POLL),
			AMBER_OK);
}

int main(void)
{
	flood();
	timeouts();
	limit();
	/* Threads that still wait when the component ends. */
	wanted = "never";
	start_waiters(LIMIT, WAITERS - LIMIT);
	amber_log("flood: exiting with %u calls waiting", WAITERS - LIMIT);
	amber_exit(amber_check_done());
}
