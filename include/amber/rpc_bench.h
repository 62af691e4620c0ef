/*
 * The RPC benchmark interface (components/rpc_bench_server, rpc_bench_client):
 * one function through the whole runtime, client stub, entrypoint, dispatch
 * function and reply, to compare with the null IPC of amber/bench.h.
 *
 *   ADD_ONE  x -> x + 1
 *   QUIT     the server ends
 */
#ifndef AMBER_RPC_BENCH_H
#define AMBER_RPC_BENCH_H

#define AMBER_RPC_BENCH_SERVICE "rpc_pong"
#define AMBER_RPC_BENCH_PROTO 0x2003u

enum amber_rpc_bench_op {
	AMBER_RPC_BENCH_ADD_ONE = 1,
	AMBER_RPC_BENCH_QUIT = 2,
};

#endif
