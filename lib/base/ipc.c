/*
 * IPC wrappers: fill the operation fields of the UTCB and enter the kernel.
 *
 * Why thin: the message itself (mr[], br[]) is written by the caller
 * directly into the UTCB, as in L4; these functions only add the
 * operation, selector, timeouts and tag, so an IPC costs no copying in the
 * runtime. Results stay in the UTCB (amber/ipc.h).
 */
#include <amber/ipc.h>

static inline int enter(struct amber_utcb *u, uint32_t op, amber_sel_t sel, amber_tag_t tag,
			uint64_t snd_timeout_us, uint64_t rcv_timeout_us)
{
	u->op = op;
	u->sel = sel;
	u->tag = tag;
	u->snd_timeout_us = snd_timeout_us;
	u->rcv_timeout_us = rcv_timeout_us;
	return amber_kernel_entry(u);
}

int amber_ipc_call(amber_sel_t sel, amber_tag_t tag, uint64_t snd_timeout_us, uint64_t rcv_timeout_us)
{
	return enter(amber_utcb(), AMBER_OP_CALL, sel, tag, snd_timeout_us, rcv_timeout_us);
}

int amber_ipc_call_rcv(amber_sel_t sel, amber_tag_t tag, amber_sel_t rcv_base, unsigned rcv_count)
{
	struct amber_utcb *u = amber_utcb();
	amber_word_t saved = u->br[0];
	u->br[0] = amber_rcv_window(rcv_base, rcv_count);
	int err = enter(u, AMBER_OP_CALL, sel, tag, AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	u->br[0] = saved;
	return err;
}

int amber_ipc_send(amber_sel_t sel, amber_tag_t tag, uint64_t snd_timeout_us)
{
	return enter(amber_utcb(), AMBER_OP_SEND, sel, tag, snd_timeout_us, AMBER_TIMEOUT_POLL);
}

int amber_ipc_wait(uint64_t rcv_timeout_us)
{
	return enter(amber_utcb(), AMBER_OP_WAIT, AMBER_SEL_INVALID, 0, AMBER_TIMEOUT_POLL, rcv_timeout_us);
}

int amber_ipc_reply_and_wait(amber_tag_t reply, uint64_t rcv_timeout_us)
{
	return enter(amber_utcb(), AMBER_OP_REPLY_WAIT, AMBER_SEL_INVALID, reply, AMBER_TIMEOUT_POLL,
		     rcv_timeout_us);
}

int amber_ipc_reply(amber_tag_t reply)
{
	return enter(amber_utcb(), AMBER_OP_REPLY, AMBER_SEL_INVALID, reply, AMBER_TIMEOUT_POLL,
		     AMBER_TIMEOUT_POLL);
}
