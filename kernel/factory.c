/*
 * Factories: create gates and IRQs into a slot the caller names, within a
 * quota of live objects. A component gets a factory limited to what its
 * configuration allows, so creating kernel objects cannot exhaust
 * amber-core's memory.
 */
#include "object.h"

void factory_destroy(struct kfactory *f)
{
	for (struct kobj *o = kobj_first(); o; o = o->next)
		if (o->charged == f)
			o->charged = NULL;
}

static void charge(struct kfactory *f, struct kobj *o)
{
	o->charged = f;
	f->used++;
}

int factory_invoke(struct kthread *caller, struct kcap *c, const struct kmsg *in, struct kmsg *out)
{
	struct kfactory *f = (struct kfactory *)c->obj;
	struct ktask *task = caller->task;
	amber_sel_t dst = (amber_sel_t)in->mr[1];
	out->tag = amber_tag(AMBER_PROTO_FACTORY, 0, 0);

	if (in->mr[0] != AMBER_FACTORY_CREATE_GATE && in->mr[0] != AMBER_FACTORY_CREATE_IRQ)
		return AMBER_ERR_OPCODE;
	if (!(c->rights & AMBER_RIGHT_CONTROL))
		return AMBER_ERR_RIGHTS;
	int claimed = cap_slot_claim(task, dst);
	if (claimed != AMBER_OK)
		return claimed;
	if ((uint64_t)f->used + (f->held ? f->held(f->held_ctx) : 0) >= f->quota)
		return AMBER_ERR_QUOTA;

	if (in->mr[0] == AMBER_FACTORY_CREATE_IRQ) {
		struct kirq *irq;
		int err = kernel_create_irq(task, dst, &irq);
		if (!err)
			charge(f, &irq->obj);
		return err;
	}

	struct kthread *bound = NULL;
	amber_sel_t tsel = (amber_sel_t)in->mr[2];
	if (tsel != AMBER_SEL_INVALID) {
		struct kcap *tc = cap_lookup(task, tsel);
		if (!tc)
			return AMBER_ERR_INVALID_CAP;
		if (tc->obj->kind != AMBER_KIND_THREAD)
			return AMBER_ERR_INVALID_ARG;
		if (!(tc->rights & AMBER_RIGHT_CONTROL))
			return AMBER_ERR_RIGHTS;
		bound = (struct kthread *)tc->obj;
	}
	struct kgate *g;
	int err = kernel_create_gate(task, dst, in->mr[3], bound, &g);
	if (!err)
		charge(f, &g->obj);
	return err;
}

int kernel_create_factory(struct ktask *space, amber_sel_t sel, uint32_t quota, struct kfactory **out)
{
	int claimed = cap_slot_claim(space, sel);
	if (claimed != AMBER_OK)
		return claimed;
	struct kfactory *f = kobj_alloc(AMBER_KIND_FACTORY, sizeof(*f));
	if (!f)
		return AMBER_ERR_QUOTA;
	f->quota = quota;
	cap_install(space, sel, &f->obj, AMBER_RIGHTS_ALL, NULL);
	if (out)
		*out = f;
	return AMBER_OK;
}

int kernel_factory_adjust(struct ktask *space, amber_sel_t sel, int64_t delta)
{
	struct kcap *c = cap_lookup(space, sel);
	if (!c)
		return AMBER_ERR_INVALID_CAP;
	if (c->obj->kind != AMBER_KIND_FACTORY)
		return AMBER_ERR_INVALID_ARG;
	struct kfactory *f = (struct kfactory *)c->obj;
	if (delta < 0) {
		uint64_t take = (uint64_t)(-delta);
		if (f->used > f->quota || take > (uint64_t)(f->quota - f->used))
			return AMBER_ERR_QUOTA;
		f->quota -= (uint32_t)take;
	} else if ((uint64_t)delta > (uint64_t)(UINT32_MAX - f->quota)) {
		return AMBER_ERR_INVALID_ARG;
	} else {
		f->quota += (uint32_t)delta;
	}
	return AMBER_OK;
}

int kernel_factory_info(struct ktask *space, amber_sel_t sel, uint32_t *quota, uint32_t *used)
{
	struct kcap *c = cap_lookup(space, sel);
	if (!c)
		return AMBER_ERR_INVALID_CAP;
	if (c->obj->kind != AMBER_KIND_FACTORY)
		return AMBER_ERR_INVALID_ARG;
	const struct kfactory *f = (const struct kfactory *)c->obj;
	*quota = f->quota;
	*used = f->used;
	return AMBER_OK;
}

int kernel_factory_set_held(struct ktask *space, amber_sel_t sel, unsigned (*held)(void *ctx), void *ctx)
{
	struct kcap *c = cap_lookup(space, sel);
	if (!c || c->obj->kind != AMBER_KIND_FACTORY)
		return AMBER_ERR_INVALID_ARG;
	((struct kfactory *)c->obj)->held = held;
	((struct kfactory *)c->obj)->held_ctx = ctx;
	return AMBER_OK;
}

int kernel_factory_charge(struct ktask *space, amber_sel_t sel, struct kobj *o)
{
	struct kcap *c = cap_lookup(space, sel);
	if (!c || c->obj->kind != AMBER_KIND_FACTORY || !o || o->charged)
		return AMBER_ERR_INVALID_ARG;
	charge((struct kfactory *)c->obj, o);
	return AMBER_OK;
}
