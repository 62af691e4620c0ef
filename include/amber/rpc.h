/*
 * RPC: calling objects that an entrypoint serves (amber/rpc_entrypoint.h),
 * Genode's RPC framework as a C idiom.
 *
 * An interface is a protocol number (the tag label) and an opcode per
 * function. Arguments are words and capabilities, results are words and
 * capabilities, and the outcome is the return value: 0 or a negative
 * enum amber_error, either from the kernel (the IPC failed: INVALID_CAP,
 * NO_PARTNER, ...) or from the server (OPCODE for an unknown function,
 * PROTO for the wrong interface, or whatever the function returned). An
 * interface header usually wraps each function in a small inline stub, see
 * include/amber/rpc_counter.h.
 *
 * On the wire (one IPC call, one reply):
 *
 *   request  tag label = protocol
 *            mr[0]                      opcode
 *            mr[1 .. 1+n)               argument words
 *            mr[1+n .. 1+n+c)           the badge of each capability argument
 *                                       (0 if the sender has none for it)
 *            then c map items           the capabilities (INVOKE|GRANT)
 *   reply    mr[0]                      status: 0 or a negative amber_error
 *            mr[1 ..], badges, items    results, laid out as the arguments
 *                                       (only when the status is 0)
 *
 * The badge next to each map item is what Genode on Fiasco.OC carries too:
 * the receiver looks it up in its capability map (amber/cap_map.h) and,
 * if it holds that capability already, drops the new copy and uses the
 * slot it has, so a capability never occupies two slots. The sender takes
 * the badge from its own map; the receiver trusts it only after the
 * kernel has confirmed that both slots name the same object.
 *
 * Capability ownership: the caller keeps the capabilities it passes;
 * every capability in the results is one reference the caller now holds
 * and gives back with amber_cap_map_release().
 */
#ifndef AMBER_RPC_H
#define AMBER_RPC_H

#include "abi.h"

#define AMBER_RPC_MAX_WORDS 48u /* argument or result words per call */
#define AMBER_RPC_MAX_CAPS 4u   /* capabilities per call, each way */

/* The arguments or the results of one call. */
struct amber_rpc_msg {
	unsigned words; /* used entries of w[] */
	unsigned caps;  /* used entries of cap[]; see amber_rpc_call for results */
	amber_word_t w[AMBER_RPC_MAX_WORDS];
	amber_sel_t cap[AMBER_RPC_MAX_CAPS];
};

/* Call function `opcode` of interface `proto` on the object `obj`.
 * `args` may be NULL (no arguments). `res` may be NULL (no results
 * wanted); otherwise set res->caps to the number of capabilities the
 * caller accepts (0 .. AMBER_RPC_MAX_CAPS) before the call: that many
 * slots are opened as the receive window. Afterwards res holds the result
 * words and capabilities. A server that returns more capabilities than
 * accepted fails the call with RCV_WINDOW; more words than fit, with PROTO.
 * Waits forever for the reply. */
int amber_rpc_call(amber_sel_t obj, uint32_t proto, amber_word_t opcode, const struct amber_rpc_msg *args,
		   struct amber_rpc_msg *res);

/* The same with a limit (microseconds) on the wait for the server to take
 * the call and again on the wait for its reply (TIMEOUT). */
int amber_rpc_call_timeout(amber_sel_t obj, uint32_t proto, amber_word_t opcode, const struct amber_rpc_msg *args,
			   struct amber_rpc_msg *res, uint64_t timeout_us);

/* Words only: `nargs` argument words in, `nres` result words out (NULL
 * if nres is 0). A reply with fewer result words fails with PROTO. */
int amber_rpc_call_words(amber_sel_t obj, uint32_t proto, amber_word_t opcode, unsigned nargs,
			 const amber_word_t *args, unsigned nres, amber_word_t *res);

/* ---- the message layout, shared by client and entrypoint ---------------- */

/* Write m's words, badges and map items into u->mr from index `first`;
 * returns the tag for it (label `proto`). INVALID_ARG (as a zero tag and
 * *err) if m does not fit the limits above. */
amber_tag_t amber_rpc_pack(struct amber_utcb *u, unsigned first, uint32_t proto, const struct amber_rpc_msg *m,
			   int *err);

/* Read a received message from index `first` on into m, capabilities
 * through the capability map: bit i of the returned *kept is set if the
 * capability landed in slot window+i stays there (it is now m->cap[i]'s
 * slot); otherwise that window slot is free again (a duplicate). A
 * malformed message (words < first + items, or over the limits) deletes
 * every received capability and fails with PROTO. */
int amber_rpc_unpack(struct amber_utcb *u, unsigned first, struct amber_rpc_msg *m, unsigned *kept);

#endif
