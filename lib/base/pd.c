/*
 * PD session client (amber/pd.h) and the dataspace's SIZE method.
 *
 * Why the capability always goes as a map item: core identifies a
 * dataspace or thread by the object behind the capability it receives,
 * never by a number the component names, so there is nothing to forge.
 * Items are sent with INVOKE|GRANT|CONTROL masks as each method needs.
 */
#include <amber/ipc.h>
#include <amber/pd.h>
#include <amber/protocols.h>

static int expect_item(const struct amber_utcb *u, int err)
{
	return err ? err : amber_tag_items(u->tag) == 1 ? AMBER_OK : AMBER_ERR_ITEM;
}

int amber_pd_alloc_ram(amber_sel_t pd, size_t size, amber_sel_t dst)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_ALLOC_RAM;
	u->mr[1] = size;
	return expect_item(u, amber_ipc_call_rcv(pd, amber_tag(AMBER_PROTO_PD, 2, 0), dst, 1));
}

int amber_pd_free_ram(amber_sel_t pd, amber_sel_t ds)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_FREE_RAM;
	u->mr[1] = amber_map_item(ds, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 1, 1), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_pd_quota(amber_sel_t pd, uint64_t *quota, uint64_t *used)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_QUOTA;
	int err = amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 2)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK) {
		if (quota)
			*quota = u->mr[0];
		if (used)
			*used = u->mr[1];
	}
	return err;
}

int amber_pd_caps(amber_sel_t pd, uint64_t *quota, uint64_t *used)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_QUOTA;
	int err = amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 4)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK) {
		if (quota)
			*quota = u->mr[2];
		if (used)
			*used = u->mr[3];
	}
	return err;
}

int amber_pd_transfer_quota(amber_sel_t pd, amber_sel_t target, uint64_t ram, uint64_t caps)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_TRANSFER_QUOTA;
	u->mr[1] = ram;
	u->mr[2] = caps;
	u->mr[3] = amber_map_item(target, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 3, 1), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_parent_upgrade(uint64_t ram, uint64_t caps)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PARENT_UPGRADE;
	u->mr[1] = ram;
	u->mr[2] = caps;
	int err = amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, 3, 0), AMBER_TIMEOUT_NEVER,
				 AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) >= 1 && (int64_t)u->mr[0] < 0)
		err = (int)(int64_t)u->mr[0]; /* init answers with a status word */
	return err;
}

int amber_pd_alloc_rpc_cap(amber_sel_t pd, amber_sel_t thread, amber_sel_t dst, amber_word_t *badge)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_ALLOC_RPC_CAP;
	u->mr[1] = amber_map_item(thread, AMBER_RIGHTS_ALL);
	int err = expect_item(u, amber_ipc_call_rcv(pd, amber_tag(AMBER_PROTO_PD, 1, 1), dst, 1));
	if (err == AMBER_OK && badge)
		*badge = u->mr[0];
	return err;
}

int amber_pd_free_rpc_cap(amber_sel_t pd, amber_sel_t gate)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_FREE_RPC_CAP;
	u->mr[1] = amber_map_item(gate, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, 1, 1), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_pd_alloc_signal_source(amber_sel_t pd, amber_sel_t thread, amber_sel_t dst, amber_word_t *badge)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_ALLOC_SIGNAL_SOURCE;
	u->mr[1] = amber_map_item(thread, AMBER_RIGHTS_ALL);
	int err = amber_ipc_call_rcv(pd, amber_tag(AMBER_PROTO_PD, 1, 1), dst, 2);
	if (err == AMBER_OK && amber_tag_items(u->tag) != 2)
		err = AMBER_ERR_ITEM;
	if (err == AMBER_OK && badge)
		*badge = u->mr[0];
	return err;
}

static int pd_item_call(amber_sel_t pd, amber_word_t method, amber_sel_t sel, unsigned words)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = method;
	u->mr[words] = amber_map_item(sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(pd, amber_tag(AMBER_PROTO_PD, words, 1), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_pd_free_signal_source(amber_sel_t pd, amber_sel_t source)
{
	return pd_item_call(pd, AMBER_PD_FREE_SIGNAL_SOURCE, source, 1);
}

int amber_pd_alloc_context(amber_sel_t pd, amber_sel_t source, amber_word_t imprint, amber_sel_t dst)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PD_ALLOC_CONTEXT;
	u->mr[1] = imprint;
	u->mr[2] = amber_map_item(source, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return expect_item(u, amber_ipc_call_rcv(pd, amber_tag(AMBER_PROTO_PD, 2, 1), dst, 1));
}

int amber_pd_free_context(amber_sel_t pd, amber_sel_t context)
{
	return pd_item_call(pd, AMBER_PD_FREE_CONTEXT, context, 1);
}

int amber_pd_submit(amber_sel_t pd, amber_sel_t context, uint64_t count)
{
	amber_utcb()->mr[1] = count;
	return pd_item_call(pd, AMBER_PD_SUBMIT, context, 2);
}

int amber_dataspace_size(amber_sel_t ds, uint64_t *size)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_DATASPACE_SIZE;
	int err = amber_ipc_call(ds, amber_tag(AMBER_PROTO_DATASPACE, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK && size)
		*size = u->mr[0];
	return err;
}
