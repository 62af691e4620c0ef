/*
 * The RAM dataspaces core handed out: a registry from capability to memory.
 *
 * A dataspace is an RPC object of core: a core gate (protocol
 * AMBER_PROTO_DATASPACE, badge = the dataspace's id) whose root capability
 * stays in core's task. Components hold capabilities derived from it and
 * pass them back to core (RM ATTACH, PD FREE_RAM) in map items; core then
 * holds a capability in its own task and finds the dataspace by the
 * identity of the object behind it (kernel_object_id), never by anything
 * the component says. A capability to anything else is not in this table.
 *
 * A dataspace may be attached anywhere (also by other components it was
 * given to); it keeps the list of its attachments, so that freeing it
 * detaches it everywhere, as Genode does.
 *
 * RAM dataspaces (PD) have an owner, are charged to it and are writable.
 * ROM dataspaces (rom_session.c) have no owner, are charged to core and
 * are read-only: RM ATTACH refuses to map them writable.
 */
#include <stdio.h>
#include <stdlib.h>

#include "amber/pd_session.h"
#include "core.h"
#include "cr_state.h"
#include "image/image.h"

struct core_ds {
	struct core_ds *next;
	struct dataspace mem;
	struct component *owner;  /* whose PD allocated it and is charged; NULL: core's (ROM) */
	const struct core_session *session; /* the PD session that allocated it, or NULL */
	amber_sel_t sel;          /* root capability of its gate in core's task */
	uint64_t gate_id;         /* the gate's object id */
	bool writable;            /* RAM dataspaces are; others may not be */
	struct rm_region *regions; /* attachments, in any component */
	struct rm_managed *managed; /* a managed dataspace's region map (rm_session.c), or NULL */
};

static struct core_ds *all_ds;

static enum kcore_result ds_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct core_ds *ds = ctx;
	service_drop_items(req);
	req->reply_tag = amber_tag(AMBER_PROTO_DATASPACE, 0, 0);
	*error = AMBER_OK;
	if (amber_tag_label(req->tag) != AMBER_PROTO_DATASPACE)
		*error = AMBER_ERR_PROTO;
	else if (amber_tag_words(req->tag) < 1 || req->mr[0] != AMBER_DATASPACE_SIZE)
		*error = AMBER_ERR_OPCODE;
	else {
		req->reply_mr[0] = ds->mem.size;
		req->reply_tag = amber_tag(AMBER_PROTO_DATASPACE, 1, 0);
	}
	return KCORE_REPLY;
}

/* mem: the memory, already made (a restore; taken over, also on failure),
 * or NULL to make it. */
static int ds_create(struct component *owner, size_t size, const char *name, bool writable,
		     struct dataspace *mem, struct core_ds **out)
{
	struct ktask *core = kernel_core_task();
	amber_sel_t sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	struct core_ds *ds = sel == AMBER_SEL_INVALID ? NULL : calloc(1, sizeof(*ds));
	if (!ds) {
		if (mem)
			dataspace_destroy(mem);
		return AMBER_ERR_QUOTA;
	}
	if (mem)
		ds->mem = *mem;
	else if (dataspace_create(&ds->mem, size, name) < 0) {
		free(ds);
		return AMBER_ERR_QUOTA;
	}
	struct kgate *g;
	int err = kernel_create_core_gate(core, sel, ds->mem.id, ds_handle, ds, &g);
	if (err) {
		dataspace_destroy(&ds->mem);
		free(ds);
		return err;
	}
	ds->owner = owner;
	ds->sel = sel;
	ds->gate_id = kernel_object_id(g);
	ds->writable = writable;
	ds->next = all_ds;
	all_ds = ds;
	*out = ds;
	return AMBER_OK;
}

int core_ds_alloc(struct component *c, size_t size, struct core_ds **out)
{
	char name[sizeof(((struct dataspace *)0)->name)];
	snprintf(name, sizeof(name), "ram:%.27s", c->name);
	return ds_create(c, size, name, true, NULL, out);
}

int core_ds_alloc_rom(size_t size, const char *name, struct core_ds **out)
{
	return ds_create(NULL, size, name, false, NULL, out);
}

struct core_ds *core_ds_lookup(amber_sel_t core_sel)
{
	enum amber_kind kind;
	struct kobj *o = kernel_cap_object(kernel_core_task(), core_sel, &kind, NULL);
	if (!o || kind != AMBER_KIND_GATE)
		return NULL;
	uint64_t id = kernel_object_id(o);
	for (struct core_ds *ds = all_ds; ds; ds = ds->next)
		if (ds->gate_id == id)
			return ds;
	return NULL;
}

amber_sel_t core_ds_sel(const struct core_ds *ds) { return ds->sel; }
struct component *core_ds_owner(const struct core_ds *ds) { return ds->owner; }
const struct dataspace *core_ds_memory(const struct core_ds *ds) { return &ds->mem; }
bool core_ds_writable(const struct core_ds *ds) { return ds->writable; }
void core_ds_note_write(struct core_ds *ds) { ds->mem.writes++; }
struct rm_region **core_ds_regions(struct core_ds *ds) { return &ds->regions; }
struct rm_managed *core_ds_managed(const struct core_ds *ds) { return ds->managed; }

int core_ds_alloc_managed(size_t size, struct rm_managed *m, struct core_ds **out)
{
	/* Its memfd stays sparse and unused (a reader of its bytes sees
	 * zeros): what the managed dataspace shows is its region map. */
	int err = ds_create(NULL, size, "managed", true, NULL, out);
	if (err == AMBER_OK)
		(*out)->managed = m;
	return err;
}

void core_ds_free(struct core_ds *ds)
{
	while (ds->regions)
		rm_region_remove(ds->regions, true); /* unmapped where the process lives */
	for (struct core_ds **pp = &all_ds; *pp; pp = &(*pp)->next) {
		if (*pp == ds) {
			*pp = ds->next;
			break;
		}
	}
	/* Revokes every capability to it; the gate (and its handler) is gone. */
	kernel_cap_delete(kernel_core_task(), ds->sel);
	if (ds->owner) {
		ds->owner->ram_used -= ds->mem.size;
		ds->owner->ndataspaces--;
	}
	dataspace_destroy(&ds->mem);
	free(ds);
}

void core_ds_set_session(struct core_ds *ds, const struct core_session *s) { ds->session = s; }

unsigned core_ds_free_session(const struct core_session *s)
{
	unsigned n = 0;
	struct core_ds **pp = &all_ds;
	while (*pp) {
		if ((*pp)->session == s) {
			core_ds_free(*pp); /* unlinks it: *pp is the next one */
			n++;
		} else {
			pp = &(*pp)->next;
		}
	}
	return n;
}

void core_ds_free_all(struct component *c)
{
	struct core_ds **pp = &all_ds;
	while (*pp) {
		if ((*pp)->owner == c)
			core_ds_free(*pp); /* unlinks it: *pp is the next one */
		else
			pp = &(*pp)->next;
	}
}

void core_ds_release_pages(struct component *c)
{
	for (struct core_ds *ds = all_ds; ds; ds = ds->next)
		if (ds->owner == c)
			dataspace_release_pages(&ds->mem);
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

int core_ds_save_owned(struct cr_save *s, struct component *c)
{
	for (struct core_ds *ds = all_ds; ds; ds = ds->next) {
		if (ds->owner != c)
			continue;
		uint32_t index;
		unsigned session = ds->session ? cr_session_index(c, ds->session) + 1 : 0;
		cr_save_ds(s, ds, &ds->mem, AMBER_IMG__DATASPACE_KIND__DS_RAM, c->id, ds->gate_id, ds->writable, session,
			   &index);
	}
	return 0;
}

/* Dataspace `index` of the image, made again with its gate's id around
 * its contents (read before the lock, restore.c), and charged to its owner as PD ALLOC_RAM would. */
int core_ds_load(struct cr_load *l, unsigned index, struct core_ds **out)
{
	const AmberImg__Dataspace *d = l->img->dataspaces[index];
	struct component *c = l->c;
	struct component *owner = d->kind == AMBER_IMG__DATASPACE_KIND__DS_RAM ? c : NULL;
	if (l->ds[index])
		return cr_fail(l->err, l->errlen, "%s: dataspace %u is used twice", c->name, index);
	if (owner && (d->size > owner->ram_quota || owner->ram_used > owner->ram_quota - d->size))
		return cr_fail(l->err, l->errlen, "%s: dataspace %u (%llu bytes) exceeds its RAM quota", c->name, index,
			       (unsigned long long)d->size);
	const struct core_session *session = NULL;
	if (d->session && !(session = cr_load_session(l, d->session - 1, "a dataspace")))
		return -1;
	if (cr_force_id(l, d->gate_id, "dataspace") < 0)
		return -1;
	struct core_ds *ds;
	struct dataspace mem;
	if (d->kind != AMBER_IMG__DATASPACE_KIND__DS_MANAGED && cr_load_memory(l, index, &mem) < 0)
		return -1;
	int err = d->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED
			  ? ds_create(NULL, d->size, "managed", true, NULL, &ds)
			  : ds_create(owner, d->size, d->name, d->kind == AMBER_IMG__DATASPACE_KIND__DS_RAM, &mem, &ds);
	if (err)
		return cr_fail(l->err, l->errlen, "%s: cannot create dataspace %u (error %d)", c->name, index, err);
	ds->session = session;
	if (d->has_label) { /* its badge, as components saw it */
		struct kernel_gate_state gs = { .label = d->label };
		kernel_gate_import((struct kgate *)kernel_cap_object(kernel_core_task(), ds->sel, NULL, NULL), &gs, NULL);
	}
	if (owner) {
		owner->ram_used += ds->mem.size;
		owner->ndataspaces++;
	}
	l->ds[index] = ds;
	*out = ds;
	return 0;
}

struct core_ds *core_ds_by_gate(uint64_t gate_id)
{
	for (struct core_ds *ds = all_ds; ds; ds = ds->next)
		if (ds->gate_id == gate_id)
			return ds;
	return NULL;
}

const struct core_session *core_ds_session(const struct core_ds *ds) { return ds->session; }
void core_ds_set_managed(struct core_ds *ds, struct rm_managed *m) { ds->managed = m; }
