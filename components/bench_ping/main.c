/*
 * bench_ping: the active half of the null-IPC benchmark (amber/bench.h).
 *
 * Components have no clock, so the host-side harness timestamps our log
 * lines: "ping: start N" right before the measured loop and "ping: done N"
 * right after it. A warm-up of BENCH_PING_WARMUP calls comes first (faults
 * in pages, wakes the threads up). Both counts can be overridden with -D.
 */
#include <amber/bench.h>
#include <amber/error.h>
#include <amber/ipc.h>
#include <amber/log.h>
#include <amber/parent.h>

#ifndef BENCH_PING_CALLS
#define BENCH_PING_CALLS 200000u
#endif
#ifndef BENCH_PING_WARMUP
#define BENCH_PING_WARMUP 1000u
#endif

enum { PONG_SEL = AMBER_SEL_FIRST_FREE };
#define SESSION_TIMEOUT_US 10000000u

static int null_calls(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int err = amber_ipc_call(PONG_SEL, amber_tag(AMBER_BENCH_PROTO, 0, 0), AMBER_TIMEOUT_NEVER,
					 AMBER_TIMEOUT_NEVER);
		if (err) {
			amber_log("ping: FAIL call %u of %u (%s)", i + 1, n, amber_error_name(err));
			return err;
		}
	}
	return 0;
}

int main(void)
{
	int err = amber_parent_session(AMBER_BENCH_SERVICE, PONG_SEL, SESSION_TIMEOUT_US);
	if (err) {
		amber_log("ping: FAIL session \"pong\" (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("ping: warmup %u", BENCH_PING_WARMUP);
	if (null_calls(BENCH_PING_WARMUP))
		return 1;

	amber_log("ping: start %u", BENCH_PING_CALLS);
	if (null_calls(BENCH_PING_CALLS))
		return 1;
	amber_log("ping: done %u", BENCH_PING_CALLS);

	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_BENCH_QUIT;
	err = amber_ipc_call(PONG_SEL, amber_tag(AMBER_BENCH_PROTO, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err)
		amber_log("ping: FAIL quit (%s)", amber_error_name(err));
	return err ? 1 : 0;
}
