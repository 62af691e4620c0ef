/*
 * RM session client (amber/rm.h).
 *
 * Why so thin: core does all the work (checking the range against the
 * fixed layout and the other attachments, mapping by injection); the
 * component only names the dataspace by capability and the numbers.
 */
#include <amber/ipc.h>
#include <amber/rm.h>

int amber_rm_attach(amber_sel_t rm, amber_sel_t ds, uint64_t addr, uint64_t offset, uint64_t size,
		    unsigned flags, uint64_t *out)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_RM_ATTACH;
	u->mr[1] = addr;
	u->mr[2] = offset;
	u->mr[3] = size;
	u->mr[4] = flags;
	u->mr[5] = amber_map_item(ds, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	int err = amber_ipc_call(rm, amber_tag(AMBER_PROTO_RM, 5, 1), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK && out)
		*out = u->mr[0];
	return err;
}

int amber_rm_detach(amber_sel_t rm, uint64_t addr)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_RM_DETACH;
	u->mr[1] = addr;
	return amber_ipc_call(rm, amber_tag(AMBER_PROTO_RM, 2, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_rm_sigh(amber_sel_t rm, amber_sel_t context)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_RM_SIGH;
	unsigned items = 0;
	if (context != AMBER_SEL_INVALID) {
		u->mr[1] = amber_map_item(context, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
		items = 1;
	}
	return amber_ipc_call(rm, amber_tag(AMBER_PROTO_RM, 1, items), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_rm_fault_state(amber_sel_t rm, unsigned *thread_index, uint64_t *addr, unsigned *access)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_RM_FAULT_STATE;
	int err = amber_ipc_call(rm, amber_tag(AMBER_PROTO_RM, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 3)
		err = AMBER_ERR_PROTO;
	if (err != AMBER_OK)
		return err;
	if (thread_index)
		*thread_index = (unsigned)u->mr[0];
	if (addr)
		*addr = u->mr[1];
	if (access)
		*access = (unsigned)u->mr[2];
	return AMBER_OK;
}

static int item_call(amber_sel_t sel, unsigned words, amber_sel_t dst)
{
	struct amber_utcb *u = amber_utcb();
	int err = amber_ipc_call_rcv(sel, amber_tag(AMBER_PROTO_RM, words, 0), dst, 1);
	return err ? err : amber_tag_items(u->tag) == 1 ? AMBER_OK : AMBER_ERR_ITEM;
}

int amber_rm_create_managed(amber_sel_t rm, uint64_t size, amber_sel_t map)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_RM_CREATE_MANAGED;
	u->mr[1] = size;
	return item_call(rm, 2, map);
}

int amber_rm_managed_dataspace(amber_sel_t map, amber_sel_t dst)
{
	amber_utcb()->mr[0] = AMBER_RM_DATASPACE;
	return item_call(map, 1, dst);
}
