/*
 * The null-IPC benchmark protocol (components/bench_ping, bench_pong).
 *
 * A null call is a CALL with tag amber_tag(AMBER_BENCH_PROTO, 0, 0); pong
 * replies with the same empty tag. A message with one word, mr[0] =
 * AMBER_BENCH_QUIT, makes pong reply and exit.
 */
#ifndef AMBER_BENCH_H
#define AMBER_BENCH_H

#define AMBER_BENCH_SERVICE "pong"
#define AMBER_BENCH_PROTO 0x2002u
#define AMBER_BENCH_QUIT 1u

#endif
