/*
 * Stubs for invoking kernel objects: factory, IRQ, task, gate.
 *
 * Each stub is one CALL on the object's capability with the object's
 * protocol as tag label, the method in mr[0] and the arguments in mr[1..]
 * (abi.h). They return 0 or a negative enum amber_error and, like all IPC,
 * overwrite the UTCB message registers.
 */
#ifndef AMBER_KOBJ_H
#define AMBER_KOBJ_H

#include "abi.h"

/* Generic: invoke `obj` with protocol `proto`, mr[0..words) already filled. */
int amber_kobj_call(amber_sel_t obj, uint32_t proto, unsigned words, uint64_t rcv_timeout_us);

/* Factory: create an object in slot `dst` of the caller's space (needs CONTROL). */
int amber_factory_create_gate(amber_sel_t factory, amber_sel_t dst, amber_sel_t thread, amber_word_t label);
int amber_factory_create_irq(amber_sel_t factory, amber_sel_t dst);

/* IRQ: trigger (INVOKE), attach to a thread with a label / detach (CONTROL),
 * receive = block until triggered or the timeout expires (INVOKE). Triggers
 * that nobody received yet are counted and each is received once. */
int amber_irq_trigger(amber_sel_t irq);
int amber_irq_attach(amber_sel_t irq, amber_sel_t thread, amber_word_t label);
int amber_irq_detach(amber_sel_t irq);
int amber_irq_receive(amber_sel_t irq, uint64_t timeout_us);

/* Task: map `src` (caller's space) into slot `dst` of `task` with rights
 * (src's & mask); unmap = revoke everything derived from `sel`; delete =
 * free the slot and what was derived from it. */
int amber_task_map(amber_sel_t task, amber_sel_t src, amber_sel_t dst, unsigned rights);
int amber_task_unmap(amber_sel_t task, amber_sel_t sel);
int amber_task_delete(amber_sel_t task, amber_sel_t sel);

struct amber_cap_info {
	unsigned kind;      /* enum amber_kind */
	unsigned rights;    /* enum amber_rights mask */
	uint64_t object_id; /* the same object has the same id in every space */
};
int amber_task_cap_info(amber_sel_t task, amber_sel_t sel, struct amber_cap_info *info);
/* Slot `sel` of the caller's own space (AMBER_SEL_TASK): all zero, kind
 * AMBER_KIND_NONE and object id 0, if it is empty or cannot be read. */
struct amber_cap_info amber_cap_info_of(amber_sel_t sel);

/* Gate: bind to a thread with a label (CONTROL). */
int amber_gate_bind(amber_sel_t gate, amber_sel_t thread, amber_word_t label);

#endif
