/*
 * test_badcaps: the kernel's error paths, checked from a component.
 *
 * Each check logs "ok: <what>" or "FAIL: <what> (got X expected Y)" and
 * the run ends with "done: N ok, M failed" (amber/check.h); the exit code
 * is the number of failures. Only the component's own capabilities are
 * used: bad selectors, wrong protocols, malformed tags and map items,
 * missing partners, IRQ timeouts and pending counts, reduced rights,
 * revocation and cap_info. Blocking operations carry finite timeouts so a
 * kernel bug shows up as a FAIL line rather than a hang.
 */
#include <amber/check.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/protocols.h>

enum {
	IRQ_A = AMBER_SEL_FIRST_FREE, /* an IRQ we create */
	IRQ_B,                        /* IRQ_A mapped with INVOKE only */
	FACT_D,                       /* our factory mapped without CONTROL */
	GATE_G,                       /* an unbound gate */
	GATE_SELF,                    /* a gate bound to our own thread */
	SPARE,                        /* stays empty */
};
#define EMPTY_SEL 4000u
#define LAST_SEL (AMBER_CAP_SLOTS - 1u)
#define FAR_SEL 99999u
#define IRQ_LABEL 0xbadcu
#define T_US 1000000u /* 1 s */

static struct amber_utcb *u;

/* CAP_INFO on our own task: a harmless method to carry odd tags. */
static int task_info_with_tag(amber_sel_t sel, amber_tag_t tag)
{
	u->mr[0] = AMBER_TASK_CAP_INFO;
	u->mr[1] = AMBER_SEL_TASK;
	return amber_ipc_call(sel, tag, T_US, T_US);
}

static const amber_tag_t task_tag = ((uint64_t)AMBER_PROTO_TASK << 32) | 2u; /* 2 words, no items */

static void check_kind(const char *what, amber_sel_t sel, unsigned kind)
{
	struct amber_cap_info ci;
	int err = amber_task_cap_info(AMBER_SEL_TASK, sel, &ci);
	if (err)
		amber_check_err(what, err, AMBER_OK);
	else
		amber_check_val(what, ci.kind, kind);
}

static void invalid_selectors(void)
{
	amber_check_err("invoke slot 0 -> INVALID_CAP", task_info_with_tag(0, task_tag), AMBER_ERR_INVALID_CAP);
	amber_check_err("invoke the last slot (empty) -> INVALID_CAP", task_info_with_tag(LAST_SEL, task_tag),
			AMBER_ERR_INVALID_CAP);
	amber_check_err("invoke slot AMBER_CAP_SLOTS (out of range) -> INVALID_CAP",
			task_info_with_tag(AMBER_CAP_SLOTS, task_tag), AMBER_ERR_INVALID_CAP);
	amber_check_err("invoke slot 99999 (out of range) -> INVALID_CAP", task_info_with_tag(FAR_SEL, task_tag),
			AMBER_ERR_INVALID_CAP);
}

static void initial_kinds(void)
{
	check_kind("cap_info: slot 1 is a task", AMBER_SEL_TASK, AMBER_KIND_TASK);
	check_kind("cap_info: slot 2 is a thread", AMBER_SEL_THREAD, AMBER_KIND_THREAD);
	check_kind("cap_info: slot 3 is a factory", AMBER_SEL_FACTORY, AMBER_KIND_FACTORY);
	check_kind("cap_info: slot 4 (parent) is a gate", AMBER_SEL_PARENT, AMBER_KIND_GATE);
	check_kind("cap_info: slot 5 (log) is a gate", AMBER_SEL_LOG, AMBER_KIND_GATE);
}

static void objects_and_methods(void)
{
	amber_check_err("factory creates an irq", amber_factory_create_irq(AMBER_SEL_FACTORY, IRQ_A), AMBER_OK);
	struct amber_cap_info ci = { 0, 0, 0 };
	if (amber_check_err("cap_info of the new irq", amber_task_cap_info(AMBER_SEL_TASK, IRQ_A, &ci), AMBER_OK)) {
		amber_check_val("new irq: kind IRQ", ci.kind, AMBER_KIND_IRQ);
		amber_check_val("new irq: all rights", ci.rights, AMBER_RIGHTS_ALL);
	}

	u->mr[0] = AMBER_GATE_BIND;
	u->mr[1] = AMBER_SEL_THREAD;
	u->mr[2] = 0;
	amber_check_err("invoke an irq with the gate protocol -> PROTO", amber_kobj_call(IRQ_A, AMBER_PROTO_GATE, 3, T_US),
			AMBER_ERR_PROTO);
	u->mr[0] = 99;
	amber_check_err("unknown irq method -> OPCODE", amber_kobj_call(IRQ_A, AMBER_PROTO_IRQ, 1, T_US),
			AMBER_ERR_OPCODE);
	u->mr[0] = 99;
	u->mr[1] = SPARE;
	amber_check_err("unknown factory method -> OPCODE", amber_kobj_call(AMBER_SEL_FACTORY, AMBER_PROTO_FACTORY, 2, T_US),
			AMBER_ERR_OPCODE);

	amber_check_err("factory create into an occupied slot -> SLOT_BUSY",
			amber_factory_create_irq(AMBER_SEL_FACTORY, IRQ_A), AMBER_ERR_SLOT_BUSY);
	amber_check_err2("factory create into slot 0 -> INVALID_ARG or INVALID_CAP",
			 amber_factory_create_irq(AMBER_SEL_FACTORY, 0), AMBER_ERR_INVALID_ARG, AMBER_ERR_INVALID_CAP);
	amber_check_err2("factory create into slot 99999 -> INVALID_ARG or INVALID_CAP",
			 amber_factory_create_irq(AMBER_SEL_FACTORY, FAR_SEL), AMBER_ERR_INVALID_ARG,
			 AMBER_ERR_INVALID_CAP);
	amber_check_err2("task map into slot 0 -> INVALID_ARG or INVALID_CAP",
			 amber_task_map(AMBER_SEL_TASK, IRQ_A, 0, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_ARG,
			 AMBER_ERR_INVALID_CAP);
	amber_check_err2("task map into slot 99999 -> INVALID_ARG or INVALID_CAP",
			 amber_task_map(AMBER_SEL_TASK, IRQ_A, FAR_SEL, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_ARG,
			 AMBER_ERR_INVALID_CAP);
	amber_check_err("task map from an empty slot -> INVALID_CAP",
			amber_task_map(AMBER_SEL_TASK, EMPTY_SEL, SPARE, AMBER_RIGHTS_ALL), AMBER_ERR_INVALID_CAP);
}

static void malformed_tags(void)
{
	amber_check_err("tag with reserved bit 7 -> MSG_TAG", task_info_with_tag(AMBER_SEL_TASK, task_tag | 1ull << 7),
			AMBER_ERR_MSG_TAG);
	amber_check_err("tag with reserved bit 12 -> MSG_TAG",
			task_info_with_tag(AMBER_SEL_TASK, task_tag | 1ull << 12), AMBER_ERR_MSG_TAG);
	amber_check_err("tag with flags set -> MSG_TAG", task_info_with_tag(AMBER_SEL_TASK, task_tag | 1ull << 16),
			AMBER_ERR_MSG_TAG);
	amber_check_err("tag with 65 words -> MSG_TAG",
			task_info_with_tag(AMBER_SEL_TASK, amber_tag(AMBER_PROTO_TASK, 65, 0)), AMBER_ERR_MSG_TAG);
	for (unsigned i = 60; i < AMBER_MR_COUNT; i++)
		u->mr[i] = amber_map_item(AMBER_SEL_TASK, AMBER_RIGHT_INVOKE);
	u->mr[0] = AMBER_TASK_CAP_INFO;
	u->mr[1] = AMBER_SEL_TASK;
	amber_check_err("tag with 60 words + 5 items -> MSG_TAG",
			amber_ipc_call(AMBER_SEL_TASK, amber_tag(AMBER_PROTO_TASK, 60, 5), T_US, T_US), AMBER_ERR_MSG_TAG);
	for (unsigned i = 2; i < 2 + AMBER_MAX_ITEMS + 1; i++)
		u->mr[i] = amber_map_item(AMBER_SEL_TASK, AMBER_RIGHT_INVOKE);
	u->mr[0] = AMBER_TASK_CAP_INFO;
	u->mr[1] = AMBER_SEL_TASK;
	amber_check_err("tag with 9 items (more than AMBER_MAX_ITEMS) -> MSG_TAG",
			amber_ipc_call(AMBER_SEL_TASK, amber_tag(AMBER_PROTO_TASK, 2, AMBER_MAX_ITEMS + 1), T_US, T_US),
			AMBER_ERR_MSG_TAG);
}

/* Bad map items go to the parent gate (an ANNOUNCE, whose receiver has a
 * receive window), so only the item itself can be at fault. */
static int announce_with_item(amber_word_t item)
{
	static const char name[] = "badcaps-bogus";
	u->mr[0] = AMBER_PARENT_ANNOUNCE;
	unsigned words = amber_mr_put_string(u, 1, name, sizeof name - 1);
	u->mr[words] = item;
	return amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, words, 1), T_US, T_US);
}

static void bad_items(void)
{
	amber_check_err("map item naming an empty slot -> ITEM",
			announce_with_item(amber_map_item(EMPTY_SEL, AMBER_RIGHT_INVOKE)), AMBER_ERR_ITEM);
	amber_check_err("map item of an unknown type -> ITEM",
			announce_with_item(((uint64_t)AMBER_SEL_LOG << 32) | (AMBER_RIGHT_INVOKE << 8) | 0x7fu),
			AMBER_ERR_ITEM);
}

static void no_partner(void)
{
	amber_check_err("reply without a caller -> NO_PARTNER", amber_ipc_reply(amber_tag(0, 0, 0)),
			AMBER_ERR_NO_PARTNER);
	amber_check_err("open wait (poll) with nothing to receive -> TIMEOUT", amber_ipc_wait(AMBER_TIMEOUT_POLL),
			AMBER_ERR_TIMEOUT);
	amber_check_err("reply_wait without a caller only waits (poll) -> TIMEOUT",
			amber_ipc_reply_and_wait(amber_tag(0, 0, 0), AMBER_TIMEOUT_POLL), AMBER_ERR_TIMEOUT);

	u->op = 99;
	u->sel = AMBER_SEL_INVALID;
	u->tag = 0;
	u->snd_timeout_us = AMBER_TIMEOUT_POLL;
	u->rcv_timeout_us = AMBER_TIMEOUT_POLL;
	amber_check_err("unknown operation 99 -> BAD_OP", amber_kernel_entry(u), AMBER_ERR_BAD_OP);

	amber_check_err("factory creates an unbound gate",
			amber_factory_create_gate(AMBER_SEL_FACTORY, GATE_G, AMBER_SEL_INVALID, 0x9a7e), AMBER_OK);
	check_kind("cap_info: the new gate is a gate", GATE_G, AMBER_KIND_GATE);
	amber_check_err("call an unbound gate -> NO_PARTNER", amber_ipc_call(GATE_G, amber_tag(0x1234, 0, 0), T_US, T_US),
			AMBER_ERR_NO_PARTNER);
	amber_check_err("factory creates a gate bound to our thread",
			amber_factory_create_gate(AMBER_SEL_FACTORY, GATE_SELF, AMBER_SEL_THREAD, 0x5e1f), AMBER_OK);
	amber_check_err("call a gate bound to ourselves -> SELF",
			amber_ipc_call(GATE_SELF, amber_tag(0x1234, 0, 0), T_US, T_US), AMBER_ERR_SELF);
	amber_check_err("delete the self-bound gate", amber_task_delete(AMBER_SEL_TASK, GATE_SELF), AMBER_OK);
}

static void irq_pending(void)
{
	amber_check_err("attach the irq to our thread", amber_irq_attach(IRQ_A, AMBER_SEL_THREAD, IRQ_LABEL), AMBER_OK);
	amber_check_err("irq receive (poll), nothing pending -> TIMEOUT", amber_irq_receive(IRQ_A, AMBER_TIMEOUT_POLL),
			AMBER_ERR_TIMEOUT);
	amber_check_err("irq receive (1000 us), nothing pending -> TIMEOUT", amber_irq_receive(IRQ_A, 1000),
			AMBER_ERR_TIMEOUT);
	amber_check_err("trigger the irq (1st)", amber_irq_trigger(IRQ_A), AMBER_OK);
	amber_check_err("trigger the irq (2nd)", amber_irq_trigger(IRQ_A), AMBER_OK);
	amber_check_err("receive the 1st pending trigger", amber_irq_receive(IRQ_A, AMBER_TIMEOUT_POLL), AMBER_OK);
	amber_check_err("receive the 2nd pending trigger", amber_irq_receive(IRQ_A, AMBER_TIMEOUT_POLL), AMBER_OK);
	amber_check_err("no 3rd trigger pending -> TIMEOUT", amber_irq_receive(IRQ_A, AMBER_TIMEOUT_POLL),
			AMBER_ERR_TIMEOUT);

	amber_check_err("trigger the irq (for an open wait)", amber_irq_trigger(IRQ_A), AMBER_OK);
	/* Take the results out of the UTCB before logging overwrites it. */
	int werr = amber_ipc_wait(T_US);
	amber_tag_t tag = u->tag;
	amber_word_t label = u->label;
	if (amber_check_err("open wait receives the attached irq", werr, AMBER_OK)) {
		amber_check_val("irq message: utcb label = the attach label", label, IRQ_LABEL);
		amber_check_val("irq message: tag label = AMBER_PROTO_IRQ", amber_tag_label(tag), AMBER_PROTO_IRQ);
		amber_check_val("irq message: no words", amber_tag_words(tag), 0);
	}
}

static void reduced_rights(void)
{
	struct amber_cap_info ci = { 0, 0, 0 }, ci_a = { 0, 0, 0 };

	amber_check_err("map the factory without CONTROL",
			amber_task_map(AMBER_SEL_TASK, AMBER_SEL_FACTORY, FACT_D, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT),
			AMBER_OK);
	if (amber_check_err("cap_info of the reduced factory", amber_task_cap_info(AMBER_SEL_TASK, FACT_D, &ci),
			    AMBER_OK)) {
		amber_check_val("reduced factory: kind FACTORY", ci.kind, AMBER_KIND_FACTORY);
		amber_check_val("reduced factory: rights INVOKE|GRANT", ci.rights, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	}
	amber_check_err("create through a factory without CONTROL -> RIGHTS", amber_factory_create_irq(FACT_D, SPARE),
			AMBER_ERR_RIGHTS);
	amber_check_err("delete the reduced factory", amber_task_delete(AMBER_SEL_TASK, FACT_D), AMBER_OK);
	amber_check_err("invoke the deleted slot -> INVALID_CAP", amber_factory_create_irq(FACT_D, SPARE),
			AMBER_ERR_INVALID_CAP);

	amber_check_err("map the irq with INVOKE only", amber_task_map(AMBER_SEL_TASK, IRQ_A, IRQ_B, AMBER_RIGHT_INVOKE),
			AMBER_OK);
	if (amber_check_err("cap_info of the derived irq", amber_task_cap_info(AMBER_SEL_TASK, IRQ_B, &ci), AMBER_OK) &&
	    amber_check_err("cap_info of the source irq", amber_task_cap_info(AMBER_SEL_TASK, IRQ_A, &ci_a), AMBER_OK)) {
		amber_check_val("derived irq: rights INVOKE", ci.rights, AMBER_RIGHT_INVOKE);
		amber_check_val("derived irq: same object as the source", ci.object_id, ci_a.object_id);
	}
	amber_check_err("attach through an INVOKE-only irq -> RIGHTS", amber_irq_attach(IRQ_B, AMBER_SEL_THREAD, 1),
			AMBER_ERR_RIGHTS);
	amber_check_err("map item of a capability without GRANT -> RIGHTS",
			announce_with_item(amber_map_item(IRQ_B, AMBER_RIGHT_INVOKE)), AMBER_ERR_RIGHTS);
	amber_check_err("trigger through the INVOKE-only irq", amber_irq_trigger(IRQ_B), AMBER_OK);
	amber_check_err("receive that trigger through the source", amber_irq_receive(IRQ_A, T_US), AMBER_OK);
}

static void revocation(void)
{
	amber_check_err("unmap the source irq", amber_task_unmap(AMBER_SEL_TASK, IRQ_A), AMBER_OK);
	amber_check_err("the derived irq is revoked -> INVALID_CAP", amber_irq_trigger(IRQ_B), AMBER_ERR_INVALID_CAP);
	check_kind("unmap keeps the source itself", IRQ_A, AMBER_KIND_IRQ);
	amber_check_err("detach the irq", amber_irq_detach(IRQ_A), AMBER_OK);
	amber_check_err("delete the irq", amber_task_delete(AMBER_SEL_TASK, IRQ_A), AMBER_OK);
	amber_check_err("the deleted irq -> INVALID_CAP", amber_irq_trigger(IRQ_A), AMBER_ERR_INVALID_CAP);
}

/* Core, as the parent of a top-level component, takes an announcement
 * only of a gate the component serves itself. */
static void announce_only_own_gates(void)
{
	amber_check_err("announce core's LOG gate -> RIGHTS", amber_parent_announce("squat-log", AMBER_SEL_LOG),
			AMBER_ERR_RIGHTS);
	amber_check_err("announce an unbound gate -> RIGHTS", amber_parent_announce("squat-unbound", GATE_G),
			AMBER_ERR_RIGHTS);
	amber_check_err("a gate bound to our thread", amber_factory_create_gate(AMBER_SEL_FACTORY, SPARE, AMBER_SEL_THREAD, 0x0e1f),
			AMBER_OK);
	amber_check_err("announce it", amber_parent_announce("own", SPARE), AMBER_OK);
}

int main(void)
{
	u = amber_utcb();
	amber_log("test_badcaps: start");
	invalid_selectors();
	initial_kinds();
	objects_and_methods();
	malformed_tags();
	bad_items();
	no_partner();
	irq_pending();
	reduced_rights();
	revocation();
	announce_only_own_gates();
	return amber_check_done();
}
