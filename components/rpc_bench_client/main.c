/*
 * rpc_bench_client: the active half of the RPC benchmark (amber/rpc_bench.h).
 *
 * Like bench_ping, but every round trip goes through the runtime: the
 * client stub (amber_rpc_call_words) packs opcode and argument, the
 * server's entrypoint finds the object by badge, its dispatch function
 * computes x + 1, and the result comes back and is checked. The harness
 * timestamps "ping: start N" and "ping: done N" (components have no
 * clock). Counts can be overridden with -D.
 */
#include <amber/cap_alloc.h>
#include <amber/error.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/rpc.h>
#include <amber/rpc_bench.h>

#ifndef RPC_BENCH_CALLS
#define RPC_BENCH_CALLS 200000u
#endif
#ifndef RPC_BENCH_WARMUP
#define RPC_BENCH_WARMUP 1000u
#endif
#define SESSION_TIMEOUT_US 10000000u

static int calls(amber_sel_t pong, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		amber_word_t x = i, y = 0;
		int err = amber_rpc_call_words(pong, AMBER_RPC_BENCH_PROTO, AMBER_RPC_BENCH_ADD_ONE, 1, &x, 1, &y);
		if (err || y != x + 1) {
			amber_log("ping: FAIL call %u of %u (%s, %lu)", i + 1, n, amber_error_name(err), (unsigned long)y);
			return 1;
		}
	}
	return 0;
}

int main(void)
{
	amber_sel_t pong = amber_cap_alloc();
	int err = amber_parent_session(AMBER_RPC_BENCH_SERVICE, pong, SESSION_TIMEOUT_US);
	if (err) {
		amber_log("ping: FAIL session \"%s\" (%s)", AMBER_RPC_BENCH_SERVICE, amber_error_name(err));
		return 1;
	}
	amber_log("ping: warmup %u", RPC_BENCH_WARMUP);
	if (calls(pong, RPC_BENCH_WARMUP))
		return 1;
	amber_log("ping: start %u", RPC_BENCH_CALLS);
	if (calls(pong, RPC_BENCH_CALLS))
		return 1;
	amber_log("ping: done %u", RPC_BENCH_CALLS);
	err = amber_rpc_call_words(pong, AMBER_RPC_BENCH_PROTO, AMBER_RPC_BENCH_QUIT, 0, 0, 0, 0);
	if (err)
		amber_log("ping: FAIL quit (%s)", amber_error_name(err));
	return err ? 1 : 0;
}
