/*
 * Object lifetime. Objects are allocated here, kept on one list (export
 * and id lookup walk it), and destroyed when their last capability is
 * deleted; destruction dispatches to the kind's own file, which unlinks
 * every reference other objects hold to it.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"

static struct kobj *all_objects;
static struct kthread *all_threads;
static uint64_t next_id = 1;
/* Objects by id: a restore looks up every object it makes (ids must be
 * free) and every one it refers to, so a walk of all objects per lookup
 * made restoring n objects O(n^2). */
#define ID_BUCKETS 4096u
static struct kobj *by_id[ID_BUCKETS];

static struct kobj **bucket(uint64_t id) { return &by_id[id % ID_BUCKETS]; }
/* Restore: the id the next object gets (0: the next fresh one). */
static uint64_t forced_id;

void *kobj_alloc(enum amber_kind kind, size_t size)
{
	struct kobj *o = calloc(1, size);
	if (!o)
		return NULL;
	o->kind = kind;
	if (forced_id) {
		o->id = forced_id;
		forced_id = 0;
	} else {
		o->id = next_id++;
	}
	o->next = all_objects;
	if (all_objects)
		all_objects->prev = o;
	all_objects = o;
	o->id_next = *bucket(o->id);
	*bucket(o->id) = o;
	if (kind == AMBER_KIND_THREAD) {
		struct kthread *t = (struct kthread *)o;
		t->thread_next = all_threads;
		if (all_threads)
			all_threads->thread_prev = t;
		all_threads = t;
	}
	return o;
}

struct kobj *kobj_first(void) { return all_objects; }
struct kthread *kthread_first(void) { return all_threads; }

void kobj_destroy(struct kobj *o)
{
	switch (o->kind) {
	case AMBER_KIND_TASK: task_destroy((struct ktask *)o); break;
	case AMBER_KIND_THREAD: thread_destroy((struct kthread *)o); break;
	case AMBER_KIND_GATE: gate_destroy((struct kgate *)o); break;
	case AMBER_KIND_IRQ: irq_destroy((struct kirq *)o); break;
	case AMBER_KIND_FACTORY: factory_destroy((struct kfactory *)o); break;
	case AMBER_KIND_NONE: break;
	}
	if (o->charged)
		o->charged->used--;
	if (o->kind == AMBER_KIND_THREAD) {
		struct kthread *t = (struct kthread *)o;
		if (t->thread_prev)
			t->thread_prev->thread_next = t->thread_next;
		else
			all_threads = t->thread_next;
		if (t->thread_next)
			t->thread_next->thread_prev = t->thread_prev;
	}
	if (o->prev)
		o->prev->next = o->next;
	else
		all_objects = o->next;
	if (o->next)
		o->next->prev = o->prev;
	for (struct kobj **pp = bucket(o->id); *pp; pp = &(*pp)->id_next) {
		if (*pp == o) {
			*pp = o->id_next;
			break;
		}
	}
	free(o);
}

/* Ids are identity a component can see (TASK_CAP_INFO): a restore gives
 * every object the id it had, and fresh ids continue above all of them,
 * so an id still names one object only. */
int kernel_object_id_force(uint64_t id)
{
	if (id == 0 || kernel_object_by_id(id))
		return AMBER_ERR_SLOT_BUSY;
	forced_id = id;
	if (id >= next_id)
		next_id = id + 1;
	return AMBER_OK;
}

uint64_t kernel_object_id_next(void) { return next_id; }

size_t kernel_object_count(void)
{
	size_t n = 0;
	for (struct kobj *o = all_objects; o; o = o->next)
		n++;
	return n;
}

void kernel_object_ids_above(uint64_t id)
{
	if (id >= next_id)
		next_id = id + 1;
}

uint64_t kernel_object_factory_id(const struct kobj *o) { return o && o->charged ? o->charged->obj.id : 0; }

struct kobj *kernel_object_by_id(uint64_t id)
{
	for (struct kobj *o = *bucket(id); o; o = o->id_next)
		if (o->id == id)
			return o;
	return NULL;
}

enum amber_kind kernel_object_kind(const struct kobj *o) { return o->kind; }

uint64_t kernel_object_id(const void *obj) { return obj ? ((const struct kobj *)obj)->id : 0; }
