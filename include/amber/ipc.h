/*
 * Synchronous IPC, named after Fiasco's l4_ipc_* calls.
 *
 * The message lives in the calling thread's UTCB: put the words (and map
 * items after them) into amber_utcb()->mr[], pass the tag, and find the
 * result in the same UTCB afterwards (tag, label, mr[]). Every wrapper
 * returns utcb->error: 0 or a negative enum amber_error.
 *
 * Any IPC overwrites the UTCB, and that includes amber_log() and the
 * kernel-object stubs: copy what you need out of a received message before
 * calling anything else.
 *
 * Received map items land in the receive window that br[0] names; set it
 * with amber_rcv_window() before waiting or calling. The runtime never
 * changes br[0] behind your back (amber_parent_session() restores it).
 */
#ifndef AMBER_IPC_H
#define AMBER_IPC_H

#include "abi.h"
#include "syscall.h"

/* Send to the gate / object in `sel` and wait for the reply. */
int amber_ipc_call(amber_sel_t sel, amber_tag_t tag, uint64_t snd_timeout_us, uint64_t rcv_timeout_us);

/* A call whose reply may carry capabilities: they land in slots
 * [rcv_base, rcv_base + rcv_count). br[0] is restored afterwards. */
int amber_ipc_call_rcv(amber_sel_t sel, amber_tag_t tag, amber_sel_t rcv_base, unsigned rcv_count);

/* Send to `sel` without waiting for a reply. */
int amber_ipc_send(amber_sel_t sel, amber_tag_t tag, uint64_t snd_timeout_us);

/* Open wait: receive from any gate bound to / IRQ attached to this thread.
 * utcb->label tells which one. */
int amber_ipc_wait(uint64_t rcv_timeout_us);

/* Reply to the last caller (if any) and then wait openly. The reply never
 * blocks (send timeout 0): the caller is waiting for it. */
int amber_ipc_reply_and_wait(amber_tag_t reply, uint64_t rcv_timeout_us);

/* Reply to the last caller without waiting. */
int amber_ipc_reply(amber_tag_t reply);

/* ---- Strings in messages: a length word followed by the packed bytes ---- */

static inline unsigned amber_string_words(size_t len) { return (unsigned)((len + 7u) / 8u); }

/* Put `len` bytes of `s` as a string at mr[idx] (length) and mr[idx+1..];
 * the string is cut to what fits into the UTCB. Returns the index of the
 * first word after it, i.e. the word count if the string ends the message. */
unsigned amber_mr_put_string(struct amber_utcb *u, unsigned idx, const char *s, size_t len);

/* Copy the string at mr[idx] of a message of `words` words into buf (at
 * most size-1 bytes, NUL-terminated). Returns its full length, or
 * AMBER_ERR_INVALID_ARG if the length word or the bytes lie outside the
 * message. */
long amber_mr_get_string(const struct amber_utcb *u, unsigned idx, unsigned words, char *buf, size_t size);

#endif
