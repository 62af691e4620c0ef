/*
 * cr_caller: a client that keeps calling a server that is checkpointed
 * with --kill and restored (tests/integration/test_cr.c).
 *
 * Every 20 ms it increments the counter of rpc_counter_server by one and
 * checks that the value is one more than the last: while the server is
 * stopped its calls must wait, not fail, and after the restore they must
 * go on from the counter the image holds. Any error or gap is a FAIL; the
 * exit code is the number of failures. At the end it ends the server.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/rpc_counter.h>
#include <amber/timer.h>

#define SESSION_TIMEOUT_US 10000000u
#define CALLS 80
#define PERIOD_US 20000u

int main(void)
{
	struct amber_timer timer;
	amber_sel_t counter = amber_cap_alloc();
	if (!amber_check_err("timer", amber_timer_open(&timer), AMBER_OK) ||
	    !amber_check_err("session \"counter\"",
			     amber_parent_session(AMBER_COUNTER_SERVICE, counter, SESSION_TIMEOUT_US), AMBER_OK))
		return amber_check_done();
	uint64_t last = 0;
	for (unsigned i = 1; i <= CALLS; i++) {
		uint64_t v = 0;
		int err = amber_counter_increment(counter, 1, &v);
		if (err != AMBER_OK) {
			amber_check_err("increment", err, AMBER_OK);
			break;
		}
		if (i > 1 && v != last + 1) {
			amber_log("FAIL: call %u: counter %lu after %lu", i, (unsigned long)v, (unsigned long)last);
			break;
		}
		last = v;
		amber_log("cr_caller: call %u = %lu", i, (unsigned long)v);
		amber_timer_sleep_us(&timer, PERIOD_US);
	}
	/* The server ends with us, so that the scenario ends by itself. QUIT
	 * goes to the counter's own capability (the parent's copy has no
	 * badge). */
	amber_sel_t root = AMBER_SEL_INVALID;
	if (amber_check_err("SELF", amber_counter_self(counter, &root), AMBER_OK))
		amber_check_err("QUIT", amber_counter_quit(root), AMBER_OK);
	amber_log("cr_caller: done");
	return amber_check_done();
}
