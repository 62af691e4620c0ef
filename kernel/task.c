/*
 * Tasks: a capability space (and, through the platform, an address
 * space). Task methods let a holder inspect slots, map capabilities into
 * the task, and revoke or delete them: Fiasco's l4_task_map / unmap.
 */
#include <stdio.h>

#include "object.h"

void task_destroy(struct ktask *t)
{
	/* Threads running in this task have nowhere to go. */
	for (struct kthread *th = kthread_first(); th; th = th->thread_next) {
		if (th->task == t) {
			thread_abort_ipc(th, AMBER_ERR_CANCELED);
			th->task = NULL;
			th->state = KTHREAD_DEAD;
			thread_release_waiters(th); /* a dead thread never receives nor replies */
		}
	}
	cap_space_clear(t);
}

int task_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out)
{
	struct ktask *t = (struct ktask *)c->obj;
	amber_sel_t sel = (amber_sel_t)in->mr[1];
	out->tag = amber_tag(AMBER_PROTO_TASK, 0, 0);

	switch (in->mr[0]) {
	case AMBER_TASK_CAP_INFO: {
		if (!(c->rights & AMBER_RIGHT_INVOKE))
			return AMBER_ERR_RIGHTS;
		if (!cap_slot_valid(sel))
			return AMBER_ERR_INVALID_ARG;
		struct kcap *x = cap_lookup(t, sel);
		out->mr[0] = x ? x->obj->kind : AMBER_KIND_NONE;
		out->mr[1] = x ? x->rights : 0;
		out->mr[2] = x ? x->obj->id : 0;
		out->tag = amber_tag(AMBER_PROTO_TASK, 3, 0);
		return AMBER_OK;
	}
	case AMBER_TASK_MAP: {
		if (!(c->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		struct kcap *src = cap_lookup(caller->task, sel);
		amber_sel_t dst = (amber_sel_t)in->mr[2];
		if (!src)
			return AMBER_ERR_INVALID_CAP;
		if (!(src->rights & AMBER_RIGHT_GRANT))
			return AMBER_ERR_RIGHTS;
		int claimed = cap_slot_claim(t, dst);
		if (claimed != AMBER_OK)
			return claimed;
		cap_install(t, dst, src->obj, src->rights & (unsigned)in->mr[3], src);
		return AMBER_OK;
	}
	case AMBER_TASK_UNMAP:
	case AMBER_TASK_DELETE: {
		if (!(c->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		struct kcap *x = cap_lookup(t, sel);
		if (!x)
			return AMBER_ERR_INVALID_CAP;
		if (in->mr[0] == AMBER_TASK_UNMAP)
			cap_revoke_children(x);
		else
			cap_delete(x);
		return AMBER_OK;
	}
	default:
		return AMBER_ERR_OPCODE;
	}
}

int kernel_create_task(struct ktask *space, amber_sel_t sel, const char *name, struct ktask **out)
{
	int claimed = cap_slot_claim(space, sel);
	if (claimed != AMBER_OK)
		return claimed;
	struct ktask *t = kobj_alloc(AMBER_KIND_TASK, sizeof(*t));
	if (!t)
		return AMBER_ERR_QUOTA;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	cap_space_init(t);
	cap_install(space, sel, &t->obj, AMBER_RIGHTS_ALL, NULL);
	if (out)
		*out = t;
	return AMBER_OK;
}

void kernel_task_limit_slots(struct ktask *t, unsigned slots)
{
	/* One leaf more than the slots fill: a component may put a few
	 * capabilities at selectors of its choosing anywhere in its space. */
	unsigned leaves = kernel_space_leaves_for(slots);
	t->leaf_limit = leaves > t->nleaves ? leaves : t->nleaves;
}

unsigned kernel_task_leaves(const struct ktask *t) { return t->nleaves; }
uint64_t kernel_task_installs(const struct ktask *t) { return t->installs; }

void kernel_task_set_platform(struct ktask *t, void *p) { t->platform = p; }
void *kernel_task_platform(const struct ktask *t) { return t->platform; }
const char *kernel_task_name(const struct ktask *t) { return t->name; }

void kernel_task_set_frozen(struct ktask *t, bool frozen)
{
	bool thaw = t->frozen && !frozen;
	t->frozen = frozen;
	if (thaw)
		kernel_task_deliver_held(t);
}

void kernel_task_deliver_held(struct ktask *t)
{
	for (struct kthread *th = kthread_first(); th; th = th->thread_next)
		if (th->task == t)
			ipc_deliver_held(th);
}
bool kernel_thread_frozen(const struct kthread *t) { return t->task && t->task->frozen; }
