/*
 * The RM session: attaching dataspaces to the component's own address
 * space, and detaching them.
 *
 * Core maps a dataspace into the component's process itself (process_map,
 * by system-call injection); the component never maps anything. Every
 * attachment is recorded twice: in the component's list, sorted by
 * address (what its address space holds; a checkpoint will need it), and
 * in the dataspace's list (so that freeing a dataspace detaches it
 * everywhere). The fixed parts of the layout (abi.h: image area, UTCB area,
 * trampoline, first stack) can never be attached over.
 *
 * A managed dataspace (CREATE_MANAGED, Genode's managed dataspace) is a
 * region map of its own, 0-based, reached by a core gate of its own, and
 * a dataspace (owner-less, not charged) whose attachments show that map.
 * Its sub-attachments are rm_regions too (`in` set, no component), in the
 * map's list and in their dataspace's list; every attachment of the
 * managed dataspace maps, for each sub-attachment, the part the two have
 * in common, and a sub-ATTACH or DETACH maps or unmaps that part in every
 * attachment. Nothing else is mapped there: touching the rest faults like
 * any unattached address. The map, its dataspace and its gate belong to
 * the RM session that created it and go with it (or with the component).
 * A map may have a fault handler of its own (map SIGH): region-map faults
 * inside its dataspace's attachments go there, not to the component's.
 *
 * Protocol: include/amber/rm_session.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "amber/rm_session.h"
#include "core.h"
#include "rules.h"
#include "cr_copy.h"
#include "cr_lazy.h"
#include "cr_state.h"

struct rm_region {
	struct rm_region *next;    /* the component's attachments, by address */
	struct rm_region *ds_next; /* the dataspace's attachments */
	struct component *c;
	const struct core_session *session; /* the RM session that attached it */
	struct core_ds *ds;
	uint64_t addr, size, offset;
	unsigned flags;            /* enum amber_rm_flags */
	struct rm_managed *in;     /* a sub-attachment of this managed map (c is NULL) */
	uint64_t serial;           /* which attachment: an undo finds it by this */
};

struct rm_managed {
	struct rm_managed *next;   /* all managed maps */
	struct component *c;       /* whose RM session created it */
	const struct core_session *session;
	struct core_ds *ds;        /* the managed dataspace */
	amber_sel_t sel;           /* root capability of the map's gate in core's task */
	uint64_t size;
	struct rm_region *subs;    /* sub-attachments, by address */
	unsigned nsubs;
	uint64_t sigh;             /* its fault handler (a context id); 0: the component's RM SIGH */
};

static struct rm_managed *managed_all;
static uint64_t serial_last;

#define PAGE ((uint64_t)AMBER_PAGE_SIZE)

static struct rm_region *region_at(struct component *c, uint64_t addr, uint64_t size)
{
	for (struct rm_region *r = c->regions; r && r->addr < addr + size; r = r->next)
		if (addr < r->addr + r->size)
			return r;
	return NULL;
}

/* The lowest address from AMBER_DYNAMIC_BASE up with `size` bytes and a
 * free page on either side; 0 if there is none. */
static uint64_t choose(struct component *c, uint64_t size)
{
	uint64_t at = AMBER_DYNAMIC_BASE;
	for (struct rm_region *r = c->regions; r; r = r->next) {
		if (r->addr + r->size + PAGE <= at)
			continue;
		if (size + PAGE <= r->addr && at <= r->addr - size - PAGE)
			break;
		at = r->addr + r->size + PAGE;
	}
	return at < AMBER_RM_END && size <= AMBER_RM_END - at ? at : 0;
}

static int prot_of(unsigned flags)
{
	return PROT_READ | ((flags & AMBER_RM_WRITABLE) ? PROT_WRITE : 0) |
	       ((flags & AMBER_RM_EXECUTABLE) ? PROT_EXEC : 0);
}

/* A new mapping in c, queued (as_queue.c): made without the kernel lock,
 * and a checkpoint copying its dataspace protects it too. */
static int map_into(struct component *c, const struct process_mapping *m)
{
	cr_lazy_touch(m->ds); /* a mapping the loader does not know of */
	return as_map(c, m);
}

/* Attachment r of a managed dataspace, sub-attachment sub of its map: the
 * part both cover, as mapped in r's component. false if they do not meet. */
static bool managed_overlap(const struct rm_region *r, const struct rm_region *sub, struct process_mapping *m)
{
	uint64_t lo = r->offset > sub->addr ? r->offset : sub->addr;
	uint64_t r_end = r->offset + r->size, s_end = sub->addr + sub->size;
	uint64_t hi = r_end < s_end ? r_end : s_end;
	*m = (struct process_mapping){ core_ds_memory(sub->ds), r->addr + (lo - r->offset),
				       sub->offset + (lo - sub->addr), hi - lo, prot_of(r->flags & sub->flags) };
	return lo < hi;
}

/* Map (or unmap) that part in r's component (queued). */
static int managed_part(const struct rm_region *r, const struct rm_region *sub, bool map)
{
	struct component *c = r->c;
	struct process_mapping m;
	if (!managed_overlap(r, sub, &m) || !c->process || c->ending)
		return 0;
	if (!map) {
		cr_lazy_touch(m.ds); /* its pages would stay missing */
		return as_unmap(c, m.addr, m.size); /* fails only if it is dying */
	}
	return map_into(c, &m);
}

void rm_region_remove(struct rm_region *r, bool unmap)
{
	struct component *c = r->c;
	if (r->in) {
		struct rm_managed *m = r->in;
		for (struct rm_region *a = unmap ? *core_ds_regions(m->ds) : NULL; a; a = a->ds_next)
			managed_part(a, r, false);
		for (struct rm_region **pp = &m->subs; *pp; pp = &(*pp)->next) {
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		}
		m->nsubs--;
	} else {
		if (unmap && c->process && !c->ending) {
			cr_lazy_touch(core_ds_memory(r->ds)); /* its pages would stay missing */
			as_unmap(c, r->addr, r->size); /* fails only if it is dying */
		}
		for (struct rm_region **pp = &c->regions; *pp; pp = &(*pp)->next) {
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		}
		c->nregions--;
	}
	for (struct rm_region **pp = core_ds_regions(r->ds); *pp; pp = &(*pp)->ds_next) {
		if (*pp == r) {
			*pp = r->ds_next;
			break;
		}
	}
	free(r);
}

/* The arguments of an ATTACH, on a component's or a managed region map:
 * one dataspace item; mr[1..4] = address, offset, size (0: the rest),
 * flags. Checks everything that does not depend on the map itself and
 * drops the received item. */
struct attach_args {
	struct core_ds *ds;
	uint64_t addr, offset, size, flags;
};

static int attach_args(struct kcore_request *req, struct attach_args *a)
{
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	a->ds = core_ds_lookup(req->items[0]);
	service_drop_items(req);
	if (!a->ds || amber_tag_words(req->tag) < 5)
		return AMBER_ERR_INVALID_ARG;
	a->addr = req->mr[1];
	a->offset = req->mr[2];
	a->size = req->mr[3];
	a->flags = req->mr[4];
	uint64_t ds_size = core_ds_memory(a->ds)->size;

	if (a->flags & ~(uint64_t)(AMBER_RM_WRITABLE | AMBER_RM_EXECUTABLE))
		return AMBER_ERR_INVALID_ARG;
	if ((a->flags & AMBER_RM_WRITABLE) && !core_ds_writable(a->ds))
		return AMBER_ERR_RIGHTS;
	if ((a->offset | a->addr) & (PAGE - 1) || a->offset >= ds_size)
		return AMBER_ERR_INVALID_ARG;
	if (a->size == 0)
		a->size = ds_size - a->offset;
	else if (a->size > ds_size)
		return AMBER_ERR_INVALID_ARG;
	a->size = (a->size + PAGE - 1) & ~(PAGE - 1);
	if (a->size > ds_size - a->offset)
		return AMBER_ERR_INVALID_ARG;
	return AMBER_OK;
}

static struct rm_region *region_by_serial(struct component *c, uint64_t addr, uint64_t serial)
{
	struct rm_region *r = region_at(c, addr, 1);
	return r && r->serial == serial ? r : NULL;
}

/* A mapping of attachment u->serial failed (now that it was carried out):
 * it goes again, unless a DETACH took it meanwhile. */
static int attach_failed(const struct as_undo *u, int failed)
{
	struct rm_region *r = region_by_serial(u->c, u->addr, u->serial);
	if (r)
		rm_region_remove(r, true);
	return failed == -ESRCH ? AMBER_ERR_NO_PARTNER : AMBER_ERR_INVALID_ARG;
}

/* Threads held on faults an ATTACH resolved go on once its mappings are
 * made: now if nothing is queued (or it was done at once), else when c's
 * queue is drained (as_queue.c). */
static void resume_when_mapped(struct component *c)
{
	if (c && c->as_ops == 0)
		cpu_resume_resolved(c);
}

static int attach(struct core_session *s, struct kcore_request *req)
{
	struct component *c = s->c;
	struct attach_args a;
	int err = attach_args(req, &a);
	if (err)
		return err;
	struct core_ds *ds = a.ds;
	uint64_t addr = a.addr, offset = a.offset, size = a.size, flags = a.flags;
	if (c->nregions >= AMBER_RM_MAX_REGIONS)
		return AMBER_ERR_QUOTA;
	if (addr == 0) {
		addr = choose(c, size);
		if (addr == 0)
			return AMBER_ERR_QUOTA;
	} else if (!core_attachable(addr, size)) {
		return AMBER_ERR_INVALID_ARG;
	} else if (region_at(c, addr, size)) {
		return AMBER_ERR_SLOT_BUSY;
	}

	struct rm_region *r = calloc(1, sizeof(*r));
	if (!r)
		return AMBER_ERR_QUOTA;
	*r = (struct rm_region){ .c = c, .session = s, .ds = ds, .addr = addr, .size = size, .offset = offset,
				 .flags = (unsigned)flags, .serial = ++serial_last };
	/* The mappings are queued (as_queue.c) and the reply waits for them;
	 * one that fails then takes the attachment back (attach_failed). */
	int e = 0;
	struct rm_managed *managed = core_ds_managed(ds);
	if (managed) {
		/* Only what its map holds; the rest stays unmapped. */
		for (struct rm_region *sub = managed->subs; sub && e >= 0; sub = sub->next)
			e = managed_part(r, sub, true);
	} else {
		struct process_mapping m = { core_ds_memory(ds), addr, offset, size, prot_of((unsigned)flags) };
		e = map_into(c, &m);
	}
	if (e < 0) {
		/* Nothing queued could be taken back: what was, unmaps it again. */
		if (managed)
			as_unmap(c, addr, size);
		free(r);
		return e == -ESRCH ? AMBER_ERR_NO_PARTNER : AMBER_ERR_INVALID_ARG;
	}
	as_undo_on_failure(&(struct as_undo){ attach_failed, c, addr, r->serial });
	struct rm_region **pp = &c->regions;
	while (*pp && (*pp)->addr < addr)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	c->nregions++;
	struct rm_region **dl = core_ds_regions(ds);
	r->ds_next = *dl;
	*dl = r;
	resume_when_mapped(c);

	req->reply_mr[0] = addr;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 1, 0);
	return AMBER_OK;
}

/* The sub-attachment of managed map m covering offset `at`, or NULL. */
static const struct rm_region *managed_sub_at(const struct rm_managed *m, uint64_t at)
{
	for (const struct rm_region *sub = m->subs; sub && sub->addr <= at; sub = sub->next)
		if (at < sub->addr + sub->size)
			return sub;
	return NULL;
}

/* What core mapped at addr: false if nothing; else the flags it has (both
 * attachments' for a managed dataspace) and whether it is one. */
static bool mapped_at(struct component *c, uint64_t addr, unsigned *flags, bool *managed)
{
	struct rm_region *r = region_at(c, addr, 1);
	struct rm_managed *m = r ? core_ds_managed(r->ds) : NULL;
	*managed = m != NULL;
	if (!m) {
		*flags = r ? r->flags : 0;
		return r != NULL;
	}
	const struct rm_region *sub = managed_sub_at(m, addr - r->addr + r->offset);
	*flags = sub ? r->flags & sub->flags : 0;
	return sub != NULL;
}

/* An instruction fetch faults at rip, or, for an instruction that runs
 * into the next page, at that page's start a few bytes further. */
static bool is_fetch(uint64_t addr, uint64_t ip)
{
	return addr == ip || (addr > ip && addr - ip < 16 && (addr & (PAGE - 1)) == 0);
}

static unsigned flags_needed(unsigned access)
{
	return access == AMBER_RM_ACCESS_WRITE ? AMBER_RM_WRITABLE
	       : access == AMBER_RM_ACCESS_EXEC ? AMBER_RM_EXECUTABLE
						: 0;
}

bool rm_fault_access(struct component *c, int code, uint64_t addr, uint64_t ip, unsigned *access)
{
	unsigned flags;
	bool managed;
	if (!core_attachable(addr & ~(PAGE - 1), PAGE))
		return false;
	bool mapped = mapped_at(c, addr, &flags, &managed);
	if (code == SEGV_MAPERR && !mapped) {
		/* Linux does not say whether a missing page was read or
		 * written: READ (a write faults again as WRITE if what the
		 * handler attaches is read-only). */
		*access = is_fetch(addr, ip) ? AMBER_RM_ACCESS_EXEC : AMBER_RM_ACCESS_READ;
		return true;
	}
	if (code != SEGV_ACCERR || !mapped || !managed)
		return false; /* a wrong access to a plain attachment: a CPU exception */
	/* Always readable: what was denied is a fetch or a write. */
	if (is_fetch(addr, ip) && !(flags & AMBER_RM_EXECUTABLE))
		*access = AMBER_RM_ACCESS_EXEC;
	else if (!(flags & AMBER_RM_WRITABLE))
		*access = AMBER_RM_ACCESS_WRITE;
	else
		return false;
	return true;
}

bool rm_fault_resolved(struct component *c, const struct core_fault *f)
{
	unsigned flags;
	bool managed;
	unsigned need = flags_needed(f->access);
	return mapped_at(c, f->addr, &flags, &managed) && (flags & need) == need;
}

/* The managed map whose attachment in c holds addr, or NULL. */
static struct rm_managed *managed_at(struct component *c, uint64_t addr)
{
	struct rm_region *r = region_at(c, addr, 1);
	return r ? core_ds_managed(r->ds) : NULL;
}

uint64_t rm_fault_sigh(struct component *c, uint64_t addr)
{
	struct rm_managed *m = managed_at(c, addr);
	return m && m->sigh ? m->sigh : c->rm_sigh;
}

/* A fault the component's own FAULT_STATE reports: not one a managed
 * map's handler got (Genode: it is that region map's fault). */
static bool own_fault(struct component *c, const struct core_fault *f, const void *ctx)
{
	(void)ctx;
	struct rm_managed *m = managed_at(c, f->addr);
	return !m || !m->sigh;
}

static void fault_reply(struct kcore_request *req, unsigned index, uint64_t addr, unsigned access)
{
	req->reply_mr[0] = index;
	req->reply_mr[1] = addr;
	req->reply_mr[2] = access;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 3, 0);
}

static int fault_state(struct component *c, struct kcore_request *req)
{
	unsigned index = 0;
	const struct core_fault *f = cpu_oldest_rm_fault(c, own_fault, NULL, &index);
	if (!f)
		return AMBER_ERR_TIMEOUT;
	fault_reply(req, index, f->addr, f->access);
	return AMBER_OK;
}

static int detach(struct component *c, struct kcore_request *req)
{
	if (amber_tag_words(req->tag) < 2 || req->nitems != 0)
		return AMBER_ERR_INVALID_ARG;
	struct rm_region *r = region_at(c, req->mr[1], 1);
	if (!r)
		return AMBER_ERR_INVALID_ARG;
	rm_region_remove(r, true);
	return AMBER_OK;
}

/* ---- managed dataspaces ------------------------------------------------ */

static int managed_attach(struct rm_managed *m, struct kcore_request *req)
{
	struct attach_args a;
	int err = attach_args(req, &a);
	if (err)
		return err;
	if (core_ds_managed(a.ds))
		return AMBER_ERR_INVALID_ARG; /* nesting managed maps: not yet */
	struct core_ds *ds = a.ds;
	uint64_t addr = a.addr, offset = a.offset, size = a.size, flags = a.flags;
	if (addr >= m->size || size > m->size - addr)
		return AMBER_ERR_INVALID_ARG;
	for (struct rm_region *o = m->subs; o && o->addr < addr + size; o = o->next)
		if (addr < o->addr + o->size)
			return AMBER_ERR_SLOT_BUSY;
	if (m->nsubs >= AMBER_RM_MAX_REGIONS)
		return AMBER_ERR_QUOTA;
	struct rm_region *r = calloc(1, sizeof(*r));
	if (!r)
		return AMBER_ERR_QUOTA;
	*r = (struct rm_region){ .ds = ds, .addr = addr, .size = size, .offset = offset, .flags = (unsigned)flags,
				 .in = m };
	struct rm_region **pp = &m->subs;
	while (*pp && (*pp)->addr < addr)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	m->nsubs++;
	struct rm_region **dl = core_ds_regions(ds);
	r->ds_next = *dl;
	*dl = r;
	/* Wherever the managed dataspace is attached (a process that is
	 * dying refuses; it is cleaned up with it). */
	for (struct rm_region *a = *core_ds_regions(m->ds); a; a = a->ds_next) {
		managed_part(a, r, true);
		resume_when_mapped(a->c);
	}
	req->reply_mr[0] = addr;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 1, 0);
	return AMBER_OK;
}

/* A fault inside attachment ctx (of a managed dataspace). */
static bool fault_in(struct component *c, const struct core_fault *f, const void *ctx)
{
	(void)c;
	const struct rm_region *a = ctx;
	return f->addr >= a->addr && f->addr - a->addr < a->size;
}

/* The map's FAULT_STATE: the oldest held fault in one of its attachments
 * (the first such component's), the address as an offset in the map. */
static int managed_fault_state(struct rm_managed *m, struct kcore_request *req)
{
	for (const struct rm_region *a = *core_ds_regions(m->ds); a; a = a->ds_next) {
		unsigned index = 0;
		const struct core_fault *f = a->c ? cpu_oldest_rm_fault(a->c, fault_in, a, &index) : NULL;
		if (f) {
			fault_reply(req, index, f->addr - a->addr + a->offset, f->access);
			return AMBER_OK;
		}
	}
	return AMBER_ERR_TIMEOUT;
}

static int managed_detach(struct rm_managed *m, struct kcore_request *req)
{
	if (amber_tag_words(req->tag) < 2 || req->nitems != 0)
		return AMBER_ERR_INVALID_ARG;
	uint64_t at = req->mr[1];
	for (struct rm_region *r = m->subs; r && r->addr <= at; r = r->next) {
		if (at < r->addr + r->size) {
			rm_region_remove(r, true);
			return AMBER_OK;
		}
	}
	return AMBER_ERR_INVALID_ARG;
}

static enum kcore_result managed_serve(void *ctx, struct kcore_request *req, int *error)
{
	struct rm_managed *m = ctx;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_RM)
		*error = AMBER_ERR_PROTO;
	else if (amber_tag_words(req->tag) < 1)
		*error = AMBER_ERR_OPCODE;
	else if (m->c->ending)
		*error = AMBER_ERR_NO_PARTNER;
	else if (req->mr[0] == AMBER_RM_ATTACH)
		*error = managed_attach(m, req);
	else if (req->mr[0] == AMBER_RM_DETACH)
		*error = managed_detach(m, req);
	else if (req->mr[0] == AMBER_RM_SIGH)
		*error = cpu_sigh_request(req, &m->sigh);
	else if (req->mr[0] == AMBER_RM_FAULT_STATE)
		*error = managed_fault_state(m, req);
	else if (req->mr[0] == AMBER_RM_DATASPACE) {
		req->reply_mr[0] = m->size;
		req->reply_mr[1] = amber_map_item(core_ds_sel(m->ds), AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
		req->reply_tag = amber_tag(AMBER_PROTO_RM, 1, 1);
		*error = AMBER_OK;
	} else
		*error = AMBER_ERR_OPCODE;
	service_drop_items(req);
	return KCORE_REPLY;
}

/* Its mappings are made without the kernel lock; the reply waits for them. */
static enum kcore_result managed_handle(void *ctx, struct kcore_request *req, int *error)
{
	return as_serve(managed_serve, ctx, req, error);
}

static int create_managed(struct core_session *s, struct kcore_request *req)
{
	if (amber_tag_words(req->tag) < 2 || req->nitems != 0)
		return AMBER_ERR_INVALID_ARG;
	uint64_t size = req->mr[1];
	if (size == 0 || size > AMBER_RM_MANAGED_MAX)
		return AMBER_ERR_INVALID_ARG;
	size = (size + PAGE - 1) & ~(PAGE - 1);
	unsigned n = 0;
	for (struct rm_managed *o = managed_all; o; o = o->next)
		n += o->c == s->c;
	if (n >= AMBER_RM_MAX_MANAGED || core_quota_take(s->c, 2))
		return AMBER_ERR_QUOTA;
	struct ktask *core = kernel_core_task();
	struct rm_managed *m = calloc(1, sizeof(*m));
	if (!m)
		return AMBER_ERR_QUOTA;
	/* The dataspace first: its gate takes a slot of core's task. */
	int err = core_ds_alloc_managed(size, m, &m->ds);
	if (err) {
		free(m);
		return err;
	}
	amber_sel_t sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if (sel == AMBER_SEL_INVALID) {
		core_ds_free(m->ds);
		free(m);
		return AMBER_ERR_QUOTA;
	}
	err = kernel_create_core_gate(core, sel, s->c->id, managed_handle, m, NULL);
	if (err) {
		core_ds_free(m->ds);
		free(m);
		return err;
	}
	m->c = s->c;
	m->session = s;
	m->sel = sel;
	m->size = size;
	m->next = managed_all;
	managed_all = m;
	req->reply_mr[0] = size;
	req->reply_mr[1] = amber_map_item(sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 1, 1);
	return AMBER_OK;
}

/* Its sub-attachments (unmapped where it is attached), its dataspace
 * (detached everywhere, revoked), its gate (revoked). */
static void managed_free(struct rm_managed *m)
{
	for (struct rm_managed **pp = &managed_all; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	while (m->subs)
		rm_region_remove(m->subs, true);
	core_ds_free(m->ds);
	kernel_cap_delete(kernel_core_task(), m->sel);
	free(m);
}

static void managed_free_where(const struct component *c, const struct core_session *s)
{
	struct rm_managed **pp = &managed_all;
	while (*pp) {
		if ((c && (*pp)->c == c) || (s && (*pp)->session == s))
			managed_free(*pp); /* unlinks it: *pp is the next one */
		else
			pp = &(*pp)->next;
	}
}

unsigned rm_managed_held(const struct component *c)
{
	unsigned n = 0;
	for (struct rm_managed *o = managed_all; o; o = o->next)
		n += 2 * (o->c == c);
	return n;
}

static enum kcore_result rm_serve(void *ctx, struct kcore_request *req, int *error)
{
	struct core_session *s = ctx;
	struct component *c = s->c;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_RM)
		*error = AMBER_ERR_PROTO;
	else if (amber_tag_words(req->tag) < 1)
		*error = AMBER_ERR_OPCODE;
	else if (req->mr[0] == AMBER_RM_SIGH && c->state == COMPONENT_NEW && !c->ending)
		*error = cpu_sigh_request(req, &c->rm_sigh); /* before the child's first instruction */
	else if (c->ending || !c->process)
		*error = AMBER_ERR_NO_PARTNER;
	else if (req->mr[0] == AMBER_RM_ATTACH)
		*error = attach(s, req);
	else if (req->mr[0] == AMBER_RM_DETACH)
		*error = detach(c, req);
	else if (req->mr[0] == AMBER_RM_SIGH)
		*error = cpu_sigh_request(req, &c->rm_sigh);
	else if (req->mr[0] == AMBER_RM_FAULT_STATE)
		*error = fault_state(c, req);
	else if (req->mr[0] == AMBER_RM_CREATE_MANAGED)
		*error = create_managed(s, req);
	else
		*error = AMBER_ERR_OPCODE;
	service_drop_items(req);
	return KCORE_REPLY;
}

/* Its mappings are made without the kernel lock; the reply waits for them. */
enum kcore_result rm_handle(void *ctx, struct kcore_request *req, int *error)
{
	return as_serve(rm_serve, ctx, req, error);
}

void rm_forget(struct component *c)
{
	while (c->regions)
		rm_region_remove(c->regions, false);
	managed_free_where(c, NULL);
}

void rm_close(struct core_session *s)
{
	struct component *c = s->c;
	for (struct rm_region *r = c->regions, *next; r; r = next) {
		next = r->next;
		if (r->session == s)
			rm_region_remove(r, true);
	}
	managed_free_where(NULL, s);
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* The dataspace an attachment shows: saved by whoever saves it first (its
 * owner's PD, a ROM session, or here), once. One owned by a component
 * outside the checkpointed set is saved too, but restored by finding the
 * live one with its gate's id. */
static int save_region_ds(struct cr_save *s, struct core_ds *ds, uint32_t *index)
{
	struct component *owner = core_ds_owner(ds);
	AmberImg__DataspaceKind kind = core_ds_managed(ds)     ? AMBER_IMG__DATASPACE_KIND__DS_MANAGED
				       : owner		      ? AMBER_IMG__DATASPACE_KIND__DS_RAM
								      : AMBER_IMG__DATASPACE_KIND__DS_ROM;
	uint64_t gate = kernel_object_id(kernel_cap_object(kernel_core_task(), core_ds_sel(ds), NULL, NULL));
	unsigned session = owner && core_ds_session(ds) ? cr_session_index(owner, core_ds_session(ds)) + 1 : 0;
	return cr_save_ds(s, ds, core_ds_memory(ds), kind, owner ? owner->id : 0, gate, core_ds_writable(ds), session,
			  index);
}

static int save_region(struct cr_save *s, struct component *c, AmberImg__Component *m, const struct rm_region *r,
		       uint64_t managed_gate)
{
	AmberImg__Region *x = CR_NEW(AmberImg__Region, amber_img__region__init);
	save_region_ds(s, r->ds, &x->dataspace);
	x->addr = r->addr;
	x->size = r->size;
	x->offset = r->offset;
	x->flags = r->flags;
	/* A sub-attachment has no session of its own: its map's stands in
	 * (every region names one), and the load leaves it out again. */
	x->session = cr_session_index(c, r->in ? r->in->session : r->session);
	x->managed_gate_id = managed_gate;
	CR_APPEND(m, regions, x);
	return 0;
}

int rm_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	for (struct rm_managed *g = managed_all; g; g = g->next) {
		if (g->c != c)
			continue;
		AmberImg__Managed *x = CR_NEW(AmberImg__Managed, amber_img__managed__init);
		x->gate_id = kernel_object_id(kernel_cap_object(kernel_core_task(), g->sel, NULL, NULL));
		save_region_ds(s, g->ds, &x->dataspace);
		x->size = g->size;
		x->session = cr_session_index(c, g->session);
		x->has_sigh = g->sigh != 0;
		x->sigh = g->sigh;
		CR_APPEND(m, managed, x);
		for (struct rm_region *r = g->subs; r; r = r->next)
			save_region(s, c, m, r, x->gate_id);
	}
	for (struct rm_region *r = c->regions; r; r = r->next)
		save_region(s, c, m, r, 0);
	return 0;
}

static struct core_ds *load_region_ds(struct cr_load *l, uint32_t index)
{
	const AmberImg__Dataspace *d = l->img->dataspaces[index];
	if (l->ds[index])
		return l->ds[index];
	if (d->owner && !cr_load_component(l, d->owner)) {
		struct core_ds *ds = core_ds_by_gate(d->gate_id); /* outside the set: the live one */
		if (ds && core_ds_memory(ds)->size == d->size)
			return ds;
	}
	cr_fail(l->err, l->errlen, "%s: an attachment shows dataspace %u (%s), which is gone", l->c->name, index,
		d->name);
	return NULL;
}

int rm_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct ktask *core = kernel_core_task();
	for (size_t i = 0; i < l->m->n_managed; i++) {
		const AmberImg__Managed *x = l->m->managed[i];
		struct core_session *ss = cr_load_session(l, x->session, "a managed dataspace");
		if (!ss)
			return -1;
		struct rm_managed *g = calloc(1, sizeof(*g));
		if (!g)
			return cr_fail(l->err, l->errlen, "%s: no memory for a managed dataspace", c->name);
		if (core_ds_load(l, x->dataspace, &g->ds) < 0) {
			free(g);
			return -1;
		}
		core_ds_set_managed(g->ds, g);
		g->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, x->gate_id, "managed dataspace") < 0 ||
		    kernel_create_core_gate(core, g->sel, c->id, managed_handle, g, NULL) != AMBER_OK) {
			core_ds_free(g->ds);
			free(g);
			return l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: cannot create a managed dataspace", c->name);
		}
		g->c = c;
		g->session = ss;
		g->size = x->size;
		g->sigh = x->has_sigh ? x->sigh : 0;
		g->next = managed_all;
		managed_all = g;
	}
	for (size_t i = 0; i < l->m->n_regions; i++) {
		const AmberImg__Region *x = l->m->regions[i];
		struct core_session *ss = cr_load_session(l, x->session, "an attachment");
		struct core_ds *ds = ss ? load_region_ds(l, x->dataspace) : NULL;
		if (!ds)
			return -1;
		struct rm_managed *in = NULL;
		if (x->managed_gate_id) {
			for (in = managed_all; in; in = in->next)
				if (in->c == c && kernel_object_id(kernel_cap_object(core, in->sel, NULL, NULL)) == x->managed_gate_id)
					break;
			if (!in)
				return cr_fail(l->err, l->errlen, "%s: a sub-attachment of managed dataspace %llu, which it lacks",
					       c->name, (unsigned long long)x->managed_gate_id);
		}
		if (x->size == 0 || x->offset > core_ds_memory(ds)->size || x->size > core_ds_memory(ds)->size - x->offset ||
		    (!in && !core_attachable(x->addr, x->size)) || ((x->flags & AMBER_RM_WRITABLE) && !core_ds_writable(ds)))
			return cr_fail(l->err, l->errlen, "%s: attachment at 0x%llx does not fit its dataspace or layout",
				       c->name, (unsigned long long)x->addr);
		struct rm_region *r = calloc(1, sizeof(*r));
		if (!r)
			return cr_fail(l->err, l->errlen, "%s: no memory for an attachment", c->name);
		*r = (struct rm_region){ .c = in ? NULL : c, .session = in ? NULL : ss, .ds = ds, .addr = x->addr, .size = x->size,
					 .offset = x->offset, .flags = x->flags, .in = in };
		struct rm_region **pp = in ? &in->subs : &c->regions;
		while (*pp && (*pp)->addr < r->addr)
			pp = &(*pp)->next;
		r->next = *pp;
		*pp = r;
		if (in)
			in->nsubs++;
		else
			c->nregions++;
		struct rm_region **dl = core_ds_regions(ds);
		r->ds_next = *dl;
		*dl = r;
	}
	return 0;
}

int rm_load_process(struct cr_load *l)
{
	struct component *c = l->c;
	for (struct rm_region *r = c->regions; r; r = r->next) {
		struct rm_managed *g = core_ds_managed(r->ds);
		int e = 0;
		if (g) {
			/* Here and now, not queued: the threads start after this. */
			struct process_mapping m;
			for (struct rm_region *sub = g->subs; sub && e >= 0; sub = sub->next)
				if (managed_overlap(r, sub, &m))
					e = process_map(c->process, &m);
		} else {
			struct process_mapping m = { core_ds_memory(r->ds), r->addr, r->offset, r->size, prot_of(r->flags) };
			e = process_map(c->process, &m);
		}
		if (e < 0)
			return cr_fail(l->err, l->errlen, "%s: cannot map the attachment at 0x%llx: %s", c->name,
				       (unsigned long long)r->addr, strerror(-e));
	}
	return 0;
}

void rm_each_mapping(struct component *c, rm_mapping_visitor visit, void *ctx)
{
	struct process_mapping fixed[ELF_MAX_SEGMENTS + 2];
	size_t n = component_fixed_mappings(c, fixed, sizeof(fixed) / sizeof(fixed[0]));
	for (size_t i = 0; i < n; i++)
		visit(ctx, c, &fixed[i]);
	for (const struct rm_region *r = c->regions; r; r = r->next) {
		struct rm_managed *g = core_ds_managed(r->ds);
		if (!g) {
			struct process_mapping m = { core_ds_memory(r->ds), r->addr, r->offset, r->size, prot_of(r->flags) };
			visit(ctx, c, &m);
			continue;
		}
		struct process_mapping m;
		for (const struct rm_region *sub = g->subs; sub; sub = sub->next)
			if (managed_overlap(r, sub, &m))
				visit(ctx, c, &m);
	}
}
