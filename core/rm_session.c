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
 * Protocol: include/amber/rm_session.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "amber/rm_session.h"
#include "core.h"

struct rm_region {
	struct rm_region *next;    /* the component's attachments, by address */
	struct rm_region *ds_next; /* the dataspace's attachments */
	struct component *c;
	const struct core_session *session; /* the RM session that attached it */
	struct core_ds *ds;
	uint64_t addr, size, offset;
	unsigned flags;            /* enum amber_rm_flags */
};

#define PAGE ((uint64_t)AMBER_PAGE_SIZE)

static const struct {
	uint64_t start, end;
} reserved[] = {
	{ AMBER_IMAGE_BASE, AMBER_IMAGE_END },
	{ AMBER_UTCB_AREA, AMBER_UTCB_AREA + AMBER_UTCB_AREA_SIZE },
	{ AMBER_TRAMPOLINE_ADDR, AMBER_TRAMPOLINE_ADDR + AMBER_PAGE_SIZE },
	{ AMBER_STACK_AREA - AMBER_STACK_SIZE, AMBER_STACK_AREA },
};

static bool attachable(uint64_t addr, uint64_t size)
{
	if (addr < AMBER_RM_MIN || addr >= AMBER_RM_END || size > AMBER_RM_END - addr)
		return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (addr < reserved[i].end && reserved[i].start < addr + size)
			return false;
	return true;
}

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

void rm_region_remove(struct rm_region *r, bool unmap)
{
	struct component *c = r->c;
	if (unmap && c->process && !c->ending)
		process_unmap(c->process, r->addr, r->size); /* fails only if it is dying */
	for (struct rm_region **pp = &c->regions; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	c->nregions--;
	for (struct rm_region **pp = core_ds_regions(r->ds); *pp; pp = &(*pp)->ds_next) {
		if (*pp == r) {
			*pp = r->ds_next;
			break;
		}
	}
	free(r);
}

static int attach(struct core_session *s, struct kcore_request *req)
{
	struct component *c = s->c;
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	struct core_ds *ds = core_ds_lookup(req->items[0]);
	service_drop_items(req);
	if (!ds || amber_tag_words(req->tag) < 5)
		return AMBER_ERR_INVALID_ARG;
	uint64_t addr = req->mr[1], offset = req->mr[2], size = req->mr[3], flags = req->mr[4];
	uint64_t ds_size = core_ds_memory(ds)->size;

	if (flags & ~(uint64_t)(AMBER_RM_WRITABLE | AMBER_RM_EXECUTABLE))
		return AMBER_ERR_INVALID_ARG;
	if ((flags & AMBER_RM_WRITABLE) && !core_ds_writable(ds))
		return AMBER_ERR_RIGHTS;
	if ((offset | addr) & (PAGE - 1) || offset >= ds_size)
		return AMBER_ERR_INVALID_ARG;
	if (size == 0)
		size = ds_size - offset;
	else if (size > ds_size)
		return AMBER_ERR_INVALID_ARG;
	size = (size + PAGE - 1) & ~(PAGE - 1);
	if (size > ds_size - offset)
		return AMBER_ERR_INVALID_ARG;
	if (c->nregions >= AMBER_RM_MAX_REGIONS)
		return AMBER_ERR_QUOTA;
	if (addr == 0) {
		addr = choose(c, size);
		if (addr == 0)
			return AMBER_ERR_QUOTA;
	} else if (!attachable(addr, size)) {
		return AMBER_ERR_INVALID_ARG;
	} else if (region_at(c, addr, size)) {
		return AMBER_ERR_SLOT_BUSY;
	}

	struct rm_region *r = calloc(1, sizeof(*r));
	if (!r)
		return AMBER_ERR_QUOTA;
	int prot = PROT_READ | ((flags & AMBER_RM_WRITABLE) ? PROT_WRITE : 0) |
		   ((flags & AMBER_RM_EXECUTABLE) ? PROT_EXEC : 0);
	struct process_mapping m = { core_ds_memory(ds), addr, offset, size, prot };
	int e = process_map(c->process, &m);
	if (e < 0) {
		free(r);
		return e == -ESRCH ? AMBER_ERR_NO_PARTNER : AMBER_ERR_INVALID_ARG;
	}
	*r = (struct rm_region){ .c = c, .session = s, .ds = ds, .addr = addr, .size = size, .offset = offset,
				 .flags = (unsigned)flags };
	struct rm_region **pp = &c->regions;
	while (*pp && (*pp)->addr < addr)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	c->nregions++;
	struct rm_region **dl = core_ds_regions(ds);
	r->ds_next = *dl;
	*dl = r;

	req->reply_mr[0] = addr;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 1, 0);
	return AMBER_OK;
}

bool rm_fault_unattached(struct component *c, uint64_t addr)
{
	return attachable(addr & ~(PAGE - 1), PAGE) && !region_at(c, addr, 1);
}

static int fault_state(struct component *c, struct kcore_request *req)
{
	unsigned index = 0;
	const struct core_fault *f = cpu_oldest_rm_fault(c, &index);
	if (!f)
		return AMBER_ERR_TIMEOUT;
	req->reply_mr[0] = index;
	req->reply_mr[1] = f->addr;
	req->reply_mr[2] = f->access;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 3, 0);
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

enum kcore_result rm_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct core_session *s = ctx;
	struct component *c = s->c;
	req->reply_tag = amber_tag(AMBER_PROTO_RM, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_RM)
		*error = AMBER_ERR_PROTO;
	else if (amber_tag_words(req->tag) < 1)
		*error = AMBER_ERR_OPCODE;
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
	else
		*error = AMBER_ERR_OPCODE;
	service_drop_items(req);
	return KCORE_REPLY;
}

void rm_forget(struct component *c)
{
	while (c->regions)
		rm_region_remove(c->regions, false);
}

void rm_close(struct core_session *s)
{
	struct component *c = s->c;
	for (struct rm_region *r = c->regions, *next; r; r = next) {
		next = r->next;
		if (r->session == s)
			rm_region_remove(r, true);
	}
}
