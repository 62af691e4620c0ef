/*
 * Kernel entry: decode the operation a thread put into its UTCB and
 * dispatch it. Everything read from the UTCB is read once, here, into
 * kernel memory: the component may change its UTCB at any moment.
 *
 * Invoking a capability either sends a message through a gate (IPC) or,
 * when the object is a kernel object or the tag names the gate protocol,
 * runs one of the object's methods (as Fiasco.OC's protocol labels do).
 */
#include <string.h>

#include "object.h"

static enum amber_proto kind_protocol(enum amber_kind k)
{
	switch (k) {
	case AMBER_KIND_TASK: return AMBER_PROTO_TASK;
	case AMBER_KIND_THREAD: return AMBER_PROTO_THREAD;
	case AMBER_KIND_GATE: return AMBER_PROTO_GATE;
	case AMBER_KIND_IRQ: return AMBER_PROTO_IRQ;
	case AMBER_KIND_FACTORY: return AMBER_PROTO_FACTORY;
	case AMBER_KIND_NONE: break;
	}
	return 0;
}

/* Run a kernel-object method and complete the caller unless it blocked. */
static void invoke_object(struct kthread *t, struct kcap *c, const struct kmsg *in, uint64_t rcv_timeout_us)
{
	struct kmsg out = { 0 };
	bool blocked = false;
	int err;

	if (amber_tag_label(in->tag) != kind_protocol(c->obj->kind)) {
		err = AMBER_ERR_PROTO;
	} else if (amber_tag_words(in->tag) < 1 || amber_tag_items(in->tag) != 0) {
		err = AMBER_ERR_OPCODE;
	} else {
		switch (c->obj->kind) {
		case AMBER_KIND_TASK: err = task_invoke(t, c, in, &out); break;
		case AMBER_KIND_THREAD: err = thread_invoke(t, (struct kthread *)c->obj, in, &out); break;
		case AMBER_KIND_GATE: err = gate_invoke(t, c, in, &out); break;
		case AMBER_KIND_IRQ: err = irq_invoke(t, c, in, &out, rcv_timeout_us, &blocked); break;
		case AMBER_KIND_FACTORY: err = factory_invoke(t, c, in, &out); break;
		default: err = AMBER_ERR_PROTO; break;
		}
	}
	if (blocked)
		return;
	if (t->utcb && err == AMBER_OK) {
		memcpy(t->utcb->mr, out.mr, amber_tag_words(out.tag) * sizeof(amber_word_t));
		t->utcb->tag = out.tag;
	}
	thread_complete(t, err);
}

void kernel_thread_entry(struct kthread *t)
{
	struct amber_utcb *u = t->utcb;
	if (!u || t->state == KTHREAD_DEAD || !t->task)
		return;
	uint32_t seq = __atomic_load_n(&u->entry_seq, __ATOMIC_ACQUIRE) & AMBER_SEQ_MASK;
	if (seq == t->op_seq)
		return; /* nothing new */
	if (t->state != KTHREAD_READY) {
		/* Only another thread of the same component can ring the doorbell
		 * of a thread that is blocked in the kernel. */
		if (kernel_plat.task_violation)
			kernel_plat.task_violation(t->task, "kernel entry by a thread blocked in the kernel");
		return;
	}
	t->op_seq = seq;

	uint32_t op = u->op;
	amber_sel_t sel = u->sel;
	uint64_t snd_timeout = u->snd_timeout_us, rcv_timeout = u->rcv_timeout_us;
	struct kmsg m = { .tag = u->tag };

	if (op == AMBER_OP_WAIT) {
		ipc_wait(t, rcv_timeout);
		return;
	}
	if (op != AMBER_OP_CALL && op != AMBER_OP_SEND && op != AMBER_OP_REPLY && op != AMBER_OP_REPLY_WAIT) {
		thread_complete(t, AMBER_ERR_BAD_OP);
		return;
	}
	int err = ipc_check_tag(m.tag);
	if (err) {
		thread_complete(t, err);
		return;
	}
	memcpy(m.mr, u->mr, (amber_tag_words(m.tag) + amber_tag_items(m.tag)) * sizeof(amber_word_t));

	if (op == AMBER_OP_REPLY || op == AMBER_OP_REPLY_WAIT) {
		ipc_reply(t, &m, op == AMBER_OP_REPLY_WAIT, rcv_timeout);
		return;
	}

	struct kcap *c = cap_lookup(t->task, sel);
	if (!c) {
		thread_complete(t, AMBER_ERR_INVALID_CAP);
		return;
	}
	if (c->obj->kind == AMBER_KIND_GATE && amber_tag_label(m.tag) != AMBER_PROTO_GATE) {
		if (!(c->rights & AMBER_RIGHT_INVOKE)) {
			thread_complete(t, AMBER_ERR_RIGHTS);
			return;
		}
		t->rcv_window = u->br[0];
		ipc_send(t, (struct kgate *)c->obj, op == AMBER_OP_CALL, &m, snd_timeout, rcv_timeout);
		return;
	}
	invoke_object(t, c, &m, rcv_timeout);
}
