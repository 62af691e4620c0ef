/*
 * test_root_client: a client of test_root_server's "sessions" (the root
 * interface, amber/root.h): opens sessions with arguments and donated
 * quota, is refused by the server (RIGHTS, QUOTA) and by its parent (QUOTA:
 * more than it has), upgrades one, closes one, and ends with the other
 * still open, so that the server learns of its end. Each session is an
 * object of its own at the server. With <client hold_ms="N"/> it waits N
 * ms with both sessions open ("client: holding"), for a checkpoint of the
 * server, and then checks that the open sessions still work.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/error.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/rom.h>
#include <amber/root.h>
#include <amber/rpc.h>
#include <amber/test_root.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/timer.h>

static uint64_t add(amber_sel_t session, uint64_t n, int *err)
{
	uint64_t r = 0;
	*err = amber_rpc_call_words(session, AMBER_TEST_ROOT_PROTO, AMBER_TEST_ROOT_ADD, 1, &n, 1, &r);
	return r;
}

static uint64_t ram_quota(void)
{
	uint64_t quota = 0, used = 0;
	amber_pd_quota(amber_env_pd(), &quota, &used);
	return quota;
}

/* <client impatient="1"/>: against a slow server, a SESSION call that
 * times out, then one the component ends during (another thread exits
 * it): the parent closes both sessions at the server once they are made. */
static void leave_soon(void *arg)
{
	(void)arg;
	struct amber_timer timer;
	if (amber_timer_open(&timer) == AMBER_OK)
		amber_timer_sleep_us(&timer, 100000);
	amber_log("client: leaving while a SESSION call waits");
	amber_exit(0);
}

static int impatient(void)
{
	amber_sel_t a = amber_check_slot();
	amber_check_err("a SESSION call that stops waiting -> TIMEOUT",
			amber_parent_session_arg(AMBER_TEST_ROOT_SERVICE, "ram_quota=4K", a, 100000), AMBER_ERR_TIMEOUT);
	static struct amber_thread t;
	amber_check_err("a thread that ends the component", amber_thread_create(&t, leave_soon, 0), AMBER_OK);
	amber_parent_session_arg(AMBER_TEST_ROOT_SERVICE, "ram_quota=4K", a, AMBER_TIMEOUT_NEVER);
	amber_log("client: FAIL: the SESSION call came back");
	return 1;
}

int main(void)
{
	const char *config = 0;
	unsigned hold_ms = 0;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		hold_ms = amber_config_number(config, "hold_ms", 0);
		if (amber_config_number(config, "impatient", 0))
			return impatient();
	}
	amber_sel_t a = amber_check_slot(), b = amber_check_slot(), x = amber_check_slot();
	int err;
	uint64_t q0 = ram_quota();
	amber_check_err("open session a with 8 KiB and 2 caps",
			amber_parent_session_arg(AMBER_TEST_ROOT_SERVICE, "ram_quota=8K, cap_quota=2", a,
						 AMBER_TIMEOUT_NEVER),
			AMBER_OK);
	amber_check_val("the donation left our RAM quota", q0 - ram_quota(), 8192);
	amber_check_val("a: add 5", add(a, 5, &err), 5);
	amber_check_val("a: add 3", add(a, 3, &err), 8);
	amber_check_err("open session b with 4 KiB",
			amber_parent_session_arg(AMBER_TEST_ROOT_SERVICE, "ram_quota=4K", b, AMBER_TIMEOUT_NEVER),
			AMBER_OK);
	amber_check_val("b is a session of its own: add 1", add(b, 1, &err), 1);
	uint64_t q1 = ram_quota();
	amber_check_err("a session the server denies -> RIGHTS",
			amber_parent_session_arg(AMBER_TEST_ROOT_SERVICE, "deny, ram_quota=4K", x, AMBER_TIMEOUT_NEVER),
			AMBER_ERR_RIGHTS);
	amber_check_val("a refused session's donation comes back", ram_quota(), q1);
	amber_check_err("no RAM for the server -> QUOTA",
			amber_parent_session_arg(AMBER_TEST_ROOT_SERVICE, "cap_quota=1", x, AMBER_TIMEOUT_NEVER),
			AMBER_ERR_QUOTA);
	amber_check_err("more quota than we have -> QUOTA",
			amber_parent_session_arg(AMBER_TEST_ROOT_SERVICE, "ram_quota=1G", x, AMBER_TIMEOUT_NEVER),
			AMBER_ERR_QUOTA);
	amber_check_val("nothing of it stays away", ram_quota(), q1);
	amber_check_err("upgrade a by 4 KiB and 1 cap", amber_parent_session_upgrade(a, 4096, 1), AMBER_OK);
	amber_check_val("the upgrade left our RAM quota", q1 - ram_quota(), 4096);
	amber_check_err("upgrade something that is no session -> INVALID_ARG",
			amber_parent_session_upgrade(AMBER_SEL_LOG, 4096, 0), AMBER_ERR_INVALID_ARG);
	uint64_t open = 0;
	amber_check_err("ask the server how many are open",
			amber_rpc_call_words(a, AMBER_TEST_ROOT_PROTO, AMBER_TEST_ROOT_OPEN, 0, 0, 1, &open), AMBER_OK);
	amber_check_val("two sessions are open", open, 2);

	if (hold_ms) {
		struct amber_timer timer;
		amber_log("client: holding");
		if (amber_timer_open(&timer) == AMBER_OK) {
			amber_timer_sleep_us(&timer, (uint64_t)hold_ms * 1000);
			amber_timer_close(&timer);
		}
		amber_log("client: held");
	}
	amber_check_val("a still works: add 1", add(a, 1, &err), 9);
	amber_check_val("b still works: add 1", add(b, 1, &err), 2);

	uint64_t q2 = ram_quota();
	amber_check_err("close b", amber_parent_close(b), AMBER_OK);
	amber_check_val("b's slot is empty", amber_cap_info_of(b).kind, AMBER_KIND_NONE);
	add(b, 1, &err);
	amber_check_err("a call on closed b -> INVALID_CAP", err, AMBER_ERR_INVALID_CAP);
	/* The server answers CLOSE when its entrypoint gets to it. */
	for (unsigned i = 0; i < 100000 && ram_quota() == q2; i++)
		amber_sys_yield();
	amber_check_val("b's donation came back", ram_quota() - q2, 4096);
	amber_log("client: leaving with session a open");
	return amber_check_done() ? 1 : 0;
}
