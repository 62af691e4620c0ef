/*
 * What core keeps for a component is paid from the component's caps quota
 * (tracker issue 10, "core's capability space"): every object core makes
 * on its behalf takes slots of core's own capability space (shared by all
 * components; 4096 slots then, now growing in leaves up to 65536), and one
 * component with caps="1" used to fill it by announcing one gate under
 * 4049 names.
 *
 * The charge is not tracked by increments but counted from what core
 * holds for the component, so it is exact after any release path and
 * after a restore: its sessions (a ROM session 2: the gate and its
 * dataspace copy), RAM dataspaces, RPC capabilities, threads, signal
 * sources (2: the gate and the semaphore) and contexts, managed maps (2:
 * the map and its dataspace), announced names, SESSION calls waiting for
 * an announcement, and children (CORE_CHILD_COST each: the child
 * capability and the child's own task, thread, factory, parent and LOG
 * roots). The factory sees it too: a component may create kernel objects
 * only as far as quota - used - charge allows, and TRANSFER_QUOTA and
 * CREATE_CHILD give away only what neither uses.
 *
 * Core's capacity then grows with what it hosts: the scenario's caps are
 * the budget, and a scenario whose components' caps (plus each one's five
 * roots) exceed core's space does not start (main.c).
 */
#include "core.h"

unsigned core_quota_held(struct component *c)
{
	unsigned n = 0;
	for (const struct core_session *s = c->sessions; s; s = s->next)
		n += s->kind == CORE_SERVICE_ROM ? 2 : 1;
	n += c->ndataspaces + c->nrpc_caps + cpu_thread_count(c) + signal_held(c) + rm_managed_held(c) +
	     parent_held(c) + c->nchildren * CORE_CHILD_COST;
	return n;
}

static unsigned held_hook(void *ctx)
{
	return core_quota_held(ctx);
}

void core_quota_attach(struct component *c)
{
	kernel_factory_set_held(kernel_core_task(), c->factory_sel, held_hook, c);
}

int core_quota_take(struct component *c, unsigned n)
{
	uint32_t quota, used;
	if (c->factory_sel == AMBER_SEL_INVALID ||
	    kernel_factory_info(kernel_core_task(), c->factory_sel, &quota, &used) != AMBER_OK)
		return AMBER_OK; /* not running: nothing is made for it anyway */
	unsigned held = core_quota_held(c);
	if ((uint64_t)used + held + n <= quota)
		return AMBER_OK;
	if (!c->caps_exhausted) /* said once: a component must not flood core's output */
		core_report("%s: caps quota used up (%u: %u kernel objects, %u held by core)", c->name, quota, used, held);
	c->caps_exhausted = true;
	return AMBER_ERR_QUOTA;
}
