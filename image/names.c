/*
 * The names image/ prints for the numbers an image stores: kinds, states,
 * rights, registers. One table each, so that check messages, inspect and
 * diff call a thing the same.
 */
#include <stddef.h>
#include <string.h>
#include <sys/user.h>

#include "amber/abi.h"
#include "image/internal.h"

#define NAME(table, i) ((i) < sizeof(table) / sizeof((table)[0]) && (table)[i] ? (table)[i] : "unknown")

const char *img_ds_kind_name(unsigned k)
{
	static const char *names[] = { "segment", "stack", "UTCB area", "RAM", "ROM", "managed" };
	return NAME(names, k);
}

/* enum core_service */
const char *img_session_kind_name(unsigned k)
{
	static const char *names[] = { "PD", "CPU", "RM", "ROM", "Timer" };
	return NAME(names, k);
}

/* enum amber_kind */
const char *img_cap_kind_name(unsigned k)
{
	static const char *names[] = { [AMBER_KIND_TASK] = "task", [AMBER_KIND_THREAD] = "thread",
				       [AMBER_KIND_GATE] = "gate", [AMBER_KIND_IRQ] = "irq",
				       [AMBER_KIND_FACTORY] = "factory" };
	return NAME(names, k);
}

/* enum kthread_state */
const char *img_ipc_state_name(unsigned s)
{
	static const char *names[] = { "READY", "SEND", "REPLY_WAIT", "RECV", "IRQ_WAIT" };
	return NAME(names, s);
}

const char *img_run_state_name(unsigned s)
{
	static const char *names[] = { "running", "not started", "paused", "fault held" };
	return NAME(names, s);
}

/* enum core_fault_kind */
const char *img_fault_kind_name(unsigned k)
{
	static const char *names[] = { "none", "CPU", "RM" };
	return NAME(names, k);
}

/* enum amber_rm_access */
const char *img_rm_access_name(unsigned a)
{
	static const char *names[] = { "read or write", "read", "write", "exec" };
	return NAME(names, a);
}

void img_rights(char out[4], unsigned rights)
{
	out[0] = rights & AMBER_RIGHT_INVOKE ? 'i' : '-';
	out[1] = rights & AMBER_RIGHT_CONTROL ? 'c' : '-';
	out[2] = rights & AMBER_RIGHT_GRANT ? 'g' : '-';
	out[3] = '\0';
}

#define REG(r) { #r, offsetof(struct user_regs_struct, r) }
const struct img_reg img_regs[] = {
	REG(rip), REG(rsp), REG(rbp), REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi),
	REG(r8), REG(r9), REG(r10), REG(r11), REG(r12), REG(r13), REG(r14), REG(r15), REG(orig_rax),
	REG(eflags), REG(cs), REG(ss), REG(ds), REG(es), REG(fs), REG(gs), REG(fs_base), REG(gs_base),
};
const size_t img_nregs = sizeof(img_regs) / sizeof(img_regs[0]);

uint64_t img_reg(const ProtobufCBinaryData *gp, size_t offset)
{
	uint64_t v = 0;
	if (gp->data && offset + sizeof(v) <= gp->len)
		memcpy(&v, gp->data + offset, sizeof(v));
	return v;
}
