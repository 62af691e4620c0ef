/*
 * The parent protocol (amber/protocols.h) from the child's side: announce a
 * service, ask for a session, exit.
 */
#ifndef AMBER_PARENT_H
#define AMBER_PARENT_H

#include "abi.h"

/* Announce `gate_sel` as service `name`. The parent receives the gate with
 * INVOKE|GRANT (never CONTROL: clients must not rebind it). */
int amber_parent_announce(const char *name, amber_sel_t gate_sel);

/* Ask for a session to service `name`; the service's gate lands in slot
 * `dst_sel`. Blocks until some component announces it, at most `timeout_us`
 * (AMBER_TIMEOUT_NEVER to wait forever). Returns 0, the IPC error, a
 * negative status the parent put into mr[0], or AMBER_ERR_ITEM if the reply
 * carried no capability. */
int amber_parent_session(const char *name, amber_sel_t dst_sel, uint64_t timeout_us);

/* The same with a session argument (NULL: none), sent as a second string
 * after the name: for "ROM", the module's name (amber/rom_session.h).
 * AMBER_ERR_INVALID_ARG if name and argument do not fit one message. */
int amber_parent_session_arg(const char *name, const char *arg, amber_sel_t dst_sel, uint64_t timeout_us);

/* Give a session back (AMBER_PARENT_CLOSE): for a session of core's
 * services, core releases what it made and revokes every copy of it, so
 * the slot is empty afterwards (calls through it: AMBER_ERR_INVALID_CAP);
 * the slot stays allocated, amber_cap_free it. 0 for an announced
 * service's gate (nothing is dropped). AMBER_ERR_INVALID_ARG for an empty
 * slot (closed before) or a capability that is no session of ours.
 * Closing one of amber_env's default sessions makes amber_env ask for a
 * new one next time; what the runtime made from it (thread stacks, heap
 * chunks, threads) goes with it: that is the component's own business. */
int amber_parent_close(amber_sel_t session_sel);

/* Tell the parent we are done; it ends the component. Falls back to
 * exit_group if the parent returns. */
_Noreturn void amber_exit(int code);

#endif
