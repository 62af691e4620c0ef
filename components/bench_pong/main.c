/*
 * bench_pong: the passive half of the null-IPC benchmark (amber/bench.h).
 *
 * Announces "pong" and answers every message with an empty reply in a
 * reply-and-wait loop: one kernel entry per round trip on this side. A
 * one-word message with AMBER_BENCH_QUIT ends it. Nothing is logged inside
 * the loop, which would distort the measurement.
 */
#include <amber/bench.h>
#include <amber/error.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>

enum { GATE_SEL = AMBER_SEL_FIRST_FREE };
#define GATE_LABEL 0x706f6e67u /* "pong" */
#define MAX_ERRORS 100

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, GATE_SEL, AMBER_SEL_THREAD, GATE_LABEL);
	if (!err)
		err = amber_parent_announce(AMBER_BENCH_SERVICE, GATE_SEL);
	if (err) {
		amber_log("pong: FAIL setup (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("pong: ready");

	unsigned errors = 0;
	uint64_t calls = 0;
	err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	for (;;) {
		if (err) {
			if (++errors > MAX_ERRORS) {
				amber_log("pong: FAIL too many errors, last %s", amber_error_name(err));
				return 1;
			}
			err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
			continue;
		}
		calls++;
		if (amber_tag_words(u->tag) >= 1 && u->mr[0] == AMBER_BENCH_QUIT) {
			amber_ipc_reply(amber_tag(AMBER_BENCH_PROTO, 0, 0));
			amber_log("pong: quit after %lu calls (%u errors)", (unsigned long)calls, errors);
			return 0;
		}
		err = amber_ipc_reply_and_wait(amber_tag(AMBER_BENCH_PROTO, 0, 0), AMBER_TIMEOUT_NEVER);
	}
}
