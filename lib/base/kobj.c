/*
 * Kernel-object stubs: factory, IRQ, task and gate methods.
 *
 * Why one generic call: every method is the same CALL with the object's
 * protocol as tag label, the method in mr[0] and plain words as arguments
 * (abi.h); the stubs only name the arguments. Kernel objects answer at
 * once, so only IRQ receive passes a receive timeout.
 */
#include <amber/ipc.h>
#include <amber/kobj.h>

int amber_kobj_call(amber_sel_t obj, uint32_t proto, unsigned words, uint64_t rcv_timeout_us)
{
	return amber_ipc_call(obj, amber_tag(proto, words, 0), AMBER_TIMEOUT_NEVER, rcv_timeout_us);
}

static int call(amber_sel_t obj, uint32_t proto, unsigned words, amber_word_t method, amber_word_t a1,
		amber_word_t a2, amber_word_t a3)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = method;
	u->mr[1] = a1;
	u->mr[2] = a2;
	u->mr[3] = a3;
	return amber_kobj_call(obj, proto, words, AMBER_TIMEOUT_NEVER);
}

/* ---- factory ---- */

int amber_factory_create_gate(amber_sel_t factory, amber_sel_t dst, amber_sel_t thread, amber_word_t label)
{
	return call(factory, AMBER_PROTO_FACTORY, 4, AMBER_FACTORY_CREATE_GATE, dst, thread, label);
}

int amber_factory_create_irq(amber_sel_t factory, amber_sel_t dst)
{
	return call(factory, AMBER_PROTO_FACTORY, 2, AMBER_FACTORY_CREATE_IRQ, dst, 0, 0);
}

/* ---- IRQ ---- */

int amber_irq_trigger(amber_sel_t irq)
{
	return call(irq, AMBER_PROTO_IRQ, 1, AMBER_IRQ_TRIGGER, 0, 0, 0);
}

int amber_irq_attach(amber_sel_t irq, amber_sel_t thread, amber_word_t label)
{
	return call(irq, AMBER_PROTO_IRQ, 3, AMBER_IRQ_ATTACH, thread, label, 0);
}

int amber_irq_detach(amber_sel_t irq)
{
	return call(irq, AMBER_PROTO_IRQ, 1, AMBER_IRQ_DETACH, 0, 0, 0);
}

int amber_irq_receive(amber_sel_t irq, uint64_t timeout_us)
{
	amber_utcb()->mr[0] = AMBER_IRQ_RECEIVE;
	return amber_kobj_call(irq, AMBER_PROTO_IRQ, 1, timeout_us);
}

/* ---- task ---- */

int amber_task_map(amber_sel_t task, amber_sel_t src, amber_sel_t dst, unsigned rights)
{
	return call(task, AMBER_PROTO_TASK, 4, AMBER_TASK_MAP, src, dst, rights);
}

int amber_task_unmap(amber_sel_t task, amber_sel_t sel)
{
	return call(task, AMBER_PROTO_TASK, 2, AMBER_TASK_UNMAP, sel, 0, 0);
}

int amber_task_delete(amber_sel_t task, amber_sel_t sel)
{
	return call(task, AMBER_PROTO_TASK, 2, AMBER_TASK_DELETE, sel, 0, 0);
}

int amber_task_cap_info(amber_sel_t task, amber_sel_t sel, struct amber_cap_info *info)
{
	int err = call(task, AMBER_PROTO_TASK, 2, AMBER_TASK_CAP_INFO, sel, 0, 0);
	if (err == AMBER_OK && info) {
		const struct amber_utcb *u = amber_utcb();
		info->kind = (unsigned)u->mr[0];
		info->rights = (unsigned)u->mr[1];
		info->object_id = u->mr[2];
	}
	return err;
}

struct amber_cap_info amber_cap_info_of(amber_sel_t sel)
{
	struct amber_cap_info ci = { 0, 0, 0 };
	if (amber_task_cap_info(AMBER_SEL_TASK, sel, &ci) != AMBER_OK)
		ci = (struct amber_cap_info){ 0, 0, 0 };
	return ci;
}

/* ---- gate ---- */

int amber_gate_bind(amber_sel_t gate, amber_sel_t thread, amber_word_t label)
{
	return call(gate, AMBER_PROTO_GATE, 3, AMBER_GATE_BIND, thread, label, 0);
}
