/*
 * Child components: how a parent (init) has core create, start and end the
 * children it configures, and asks core for core's sessions on a child's
 * behalf (docs/services.md, "Children").
 *
 *   PD CREATE_CHILD (AMBER_PD_CREATE_CHILD)
 *       mr[1] = caps quota, mr[2] = ram quota (bytes, rounded up to pages),
 *       mr[3] = offset, mr[4] = length of the child's config in the
 *       dataspace item (length 0: the child has no config), mr[5..] = the
 *       child's name (string: length word, bytes), then the binary's name
 *       (a file of the components directory);
 *       items: [0] the parent gate: the gate the child's slot 4 will be
 *       (INVOKE|GRANT), [1] a signal context core submits to when the
 *       child ends, [2] (only with a config length) a dataspace holding the
 *       child's config, which core copies.
 *       -> one map item: the child capability (INVOKE|GRANT).
 *       The quotas move from the caller to the child: its RAM quota and
 *       its factory's quota shrink (QUOTA if it has not that much unused,
 *       or already has AMBER_CHILD_MAX children) and come back when the
 *       child has ended, with what it lent to children of its own. INVALID_ARG: a bad name, binary or item, a
 *       binary that does not exist, a config range outside the dataspace.
 *
 *   Child capability (AMBER_PROTO_CHILD):
 *     START        the child runs. INVALID_ARG if it was started before,
 *                  its parent gate was revoked meanwhile (the parent
 *                  deleted or unmapped the gate) or it cannot be loaded
 *                  (core reports why; it has then ended).
 *     KILL         mr[1] = AMBER_CHILD_KILL or AMBER_CHILD_EXIT, mr[2] =
 *                  exit code (EXIT: the child asked its parent to exit).
 *                  Ends it (a child never started just ends).
 *     EXIT_STATUS  -> mr[0] = enum amber_child_state, mr[1] = exit code
 *                  (EXITED), mr[2..] = string: why it was killed (KILLED).
 *     SESSION      mr[1..] = service name ("PD", "CPU", "RM", "ROM",
 *                  "Timer"), optionally the session argument (as with
 *                  the parent's SESSION) -> one map item: a new session of
 *                  core's for the child (acting on the child). The parent
 *                  forwards it to the child and must keep its own copy.
 *     CLOSE        one map item: a session of core's opened for the child
 *                  (by SESSION or by the child itself). Core closes it as
 *                  for the parent protocol's CLOSE (amber/protocols.h),
 *                  revoking every copy, the parent's included. INVALID_ARG
 *                  if it is none of the child's sessions.
 * The names core prints for a child (LOG lines, reports) are
 * "PARENT -> NAME", as Genode labels them.
 */
#ifndef AMBER_CHILD_H
#define AMBER_CHILD_H

#include "abi.h"

#define AMBER_PROTO_CHILD 0x1013u
#define AMBER_CHILD_MAX 64u /* children per parent, ended ones included */

enum amber_child_method {
	AMBER_CHILD_START = 1,
	AMBER_CHILD_KILL_METHOD = 2,
	AMBER_CHILD_EXIT_STATUS = 3,
	AMBER_CHILD_SESSION = 4,
	AMBER_CHILD_CLOSE = 5,
};

enum amber_child_kill_mode { AMBER_CHILD_KILL = 0, AMBER_CHILD_EXIT = 1 };

enum amber_child_state {
	AMBER_CHILD_CREATED = 0,
	AMBER_CHILD_RUNNING = 1,
	AMBER_CHILD_EXITED = 2,
	AMBER_CHILD_KILLED = 3,
};

/* ---- client stubs (lib/base/child.c); 0 or a negative amber_error ---- */
struct amber_child_args {
	const char *name, *binary;
	uint64_t caps, ram;
	amber_sel_t parent_gate, exit_sigh;
	amber_sel_t config_ds; /* AMBER_SEL_INVALID: no config */
	uint64_t config_offset, config_len;
	uint32_t log_rate, cpu_weight; /* 0: the default; at most the parent's own */
};
/* The child capability lands in `dst`. */
int amber_pd_create_child(amber_sel_t pd, const struct amber_child_args *a, amber_sel_t dst);
int amber_child_start(amber_sel_t child);
int amber_child_kill(amber_sel_t child, enum amber_child_kill_mode mode, int code);
/* `reason` (may be NULL) gets why it was killed, NUL-terminated. */
int amber_child_exit_status(amber_sel_t child, enum amber_child_state *state, int *code, char *reason,
			    size_t reason_size);
int amber_child_session(amber_sel_t child, const char *name, const char *arg, amber_sel_t dst);
int amber_child_close(amber_sel_t child, amber_sel_t session);

#endif
