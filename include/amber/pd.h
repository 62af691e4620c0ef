/*
 * Client of core's PD session (amber/pd_session.h): RAM dataspaces and RPC
 * capabilities. `pd` is the session's selector (from amber_parent_session
 * with AMBER_PD_SERVICE, or amber_env_pd()). Every function returns 0 or
 * a negative enum amber_error and, like all IPC, overwrites the UTCB.
 */
#ifndef AMBER_PD_H
#define AMBER_PD_H

#include "abi.h"
#include "pd_session.h"

/* A new zero-filled RAM dataspace of at least `size` bytes in slot `dst`. */
int amber_pd_alloc_ram(amber_sel_t pd, size_t size, amber_sel_t dst);
/* Free it: detached everywhere, and slot `ds` is empty afterwards. */
int amber_pd_free_ram(amber_sel_t pd, amber_sel_t ds);
/* The RAM quota and what is in use, in bytes (either pointer may be NULL). */
int amber_pd_quota(amber_sel_t pd, uint64_t *quota, uint64_t *used);
/* The caps (kernel-object) quota and how many objects are live. */
int amber_pd_caps(amber_sel_t pd, uint64_t *quota, uint64_t *used);
/* Move `ram` bytes of RAM quota and `caps` of caps quota to `target`: a PD
 * session capability or a child capability (Genode's transfer_quota). */
int amber_pd_transfer_quota(amber_sel_t pd, amber_sel_t target, uint64_t ram, uint64_t caps);
/* Ask the parent for `ram` bytes and `caps` more quota (parent protocol
 * UPGRADE, amber/protocols.h): 0, QUOTA if the parent refuses. */
int amber_parent_upgrade(uint64_t ram, uint64_t caps);
/* A gate bound to `thread` with a badge core chooses, in slot `dst`;
 * the badge goes to *badge (may be NULL). */
int amber_pd_alloc_rpc_cap(amber_sel_t pd, amber_sel_t thread, amber_sel_t dst, amber_word_t *badge);
/* Destroy such a gate: every copy is revoked, slot `gate` is empty. */
int amber_pd_free_rpc_cap(amber_sel_t pd, amber_sel_t gate);

/* Signals (amber/signal_source.h; amber/signal.h builds on these). A
 * signal source for the signal-handler thread `thread`: the source lands
 * in slot `dst`, its blocking semaphore (an IRQ core attached to `thread`,
 * INVOKE only) in slot `dst + 1`; both slots must be free. *badge (may be
 * NULL) is the semaphore's label. */
int amber_pd_alloc_signal_source(amber_sel_t pd, amber_sel_t thread, amber_sel_t dst, amber_word_t *badge);
int amber_pd_free_signal_source(amber_sel_t pd, amber_sel_t source);
/* A signal context of `source` with `imprint`, in slot `dst`. */
int amber_pd_alloc_context(amber_sel_t pd, amber_sel_t source, amber_word_t imprint, amber_sel_t dst);
int amber_pd_free_context(amber_sel_t pd, amber_sel_t context);
/* Submit `count` to any signal context (needs GRANT on it to send it). */
int amber_pd_submit(amber_sel_t pd, amber_sel_t context, uint64_t count);

/* The size of a dataspace in bytes. */
int amber_dataspace_size(amber_sel_t ds, uint64_t *size);

#endif
