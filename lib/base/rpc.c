/*
 * RPC client stubs and the message layout (amber/rpc.h).
 *
 * Why the message is copied out of the UTCB before capabilities are
 * looked at: checking a badge hit is itself IPC (TASK_CAP_INFO), which
 * overwrites the message registers. Why the receive window is opened only
 * on request: a call that expects no capabilities (the common case, and
 * the benchmark's) then costs no slot allocation at all.
 */
#include <amber/cap_alloc.h>
#include <amber/cap_map.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/rpc.h>

amber_tag_t amber_rpc_pack(struct amber_utcb *u, unsigned first, uint32_t proto, const struct amber_rpc_msg *m,
			   int *err)
{
	unsigned words = m ? m->words : 0, caps = m ? m->caps : 0;
	if (words > AMBER_RPC_MAX_WORDS || caps > AMBER_RPC_MAX_CAPS || first + words + 2u * caps > AMBER_MR_COUNT) {
		*err = AMBER_ERR_INVALID_ARG;
		return 0;
	}
	for (unsigned i = 0; i < words; i++)
		u->mr[first + i] = m->w[i];
	unsigned n = first + words;
	for (unsigned i = 0; i < caps; i++) {
		u->mr[n + i] = amber_cap_map_badge(m->cap[i]);
		u->mr[n + caps + i] = amber_map_item(m->cap[i], AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	}
	*err = AMBER_OK;
	return amber_tag(proto, n + caps, caps);
}

int amber_rpc_unpack(struct amber_utcb *u, unsigned first, struct amber_rpc_msg *m, unsigned *kept)
{
	unsigned words = amber_tag_words(u->tag), items = amber_tag_items(u->tag);
	amber_word_t badge[AMBER_MAX_ITEMS];
	amber_sel_t sel[AMBER_MAX_ITEMS];
	for (unsigned i = 0; i < items; i++)
		sel[i] = amber_item_sel(u->mr[words + i]);
	*kept = 0;
	m->words = 0;
	m->caps = 0;
	if (words < first + items || words - first - items > AMBER_RPC_MAX_WORDS || items > AMBER_RPC_MAX_CAPS) {
		for (unsigned i = 0; i < items; i++)
			amber_task_delete(AMBER_SEL_TASK, sel[i]);
		return AMBER_ERR_PROTO;
	}
	unsigned n = words - first - items;
	for (unsigned i = 0; i < n; i++)
		m->w[i] = u->mr[first + i];
	for (unsigned i = 0; i < items; i++)
		badge[i] = u->mr[first + n + i];
	m->words = n;
	/* The UTCB may be overwritten from here on. */
	for (unsigned i = 0; i < items; i++) {
		int k;
		m->cap[i] = amber_cap_map_receive(badge[i], sel[i], &k);
		if (k)
			*kept |= 1u << i;
	}
	m->caps = items;
	return AMBER_OK;
}

static int call(amber_sel_t obj, uint32_t proto, amber_word_t opcode, const struct amber_rpc_msg *args,
		struct amber_rpc_msg *res, uint64_t timeout_us)
{
	struct amber_utcb *u = amber_utcb();
	int err;
	amber_tag_t tag = amber_rpc_pack(u, 1, proto, args, &err);
	if (err)
		return err;
	u->mr[0] = opcode;

	unsigned want = res ? res->caps : 0;
	if (want > AMBER_RPC_MAX_CAPS)
		want = AMBER_RPC_MAX_CAPS;
	amber_sel_t window = AMBER_SEL_INVALID;
	if (want) {
		window = amber_cap_alloc_run(want);
		if (window == AMBER_SEL_INVALID)
			return AMBER_ERR_QUOTA;
	}
	amber_word_t saved = u->br[0];
	u->br[0] = want ? amber_rcv_window(window, want) : 0;
	err = amber_ipc_call(obj, tag, timeout_us, timeout_us);
	u->br[0] = saved;

	unsigned kept = 0;
	if (err == AMBER_OK) {
		if (amber_tag_words(u->tag) < 1) {
			err = AMBER_ERR_PROTO;
		} else if ((int64_t)u->mr[0] != AMBER_OK) {
			err = (int)(int64_t)u->mr[0];
			if (err > 0 || err < -0x10000) /* not an amber_error */
				err = AMBER_ERR_PROTO;
		}
		if (err != AMBER_OK) {
			for (unsigned i = 0; i < amber_tag_items(u->tag); i++)
				amber_task_delete(AMBER_SEL_TASK, amber_item_sel(u->mr[amber_tag_words(u->tag) + i]));
		} else if (res) {
			err = amber_rpc_unpack(u, 1, res, &kept);
		}
	}
	for (unsigned i = 0; i < want; i++)
		if (!(kept & (1u << i)))
			amber_cap_free(window + i);
	if (err != AMBER_OK && res) { /* unpack keeps nothing when it fails */
		res->words = 0;
		res->caps = 0;
	}
	return err;
}

int amber_rpc_call(amber_sel_t obj, uint32_t proto, amber_word_t opcode, const struct amber_rpc_msg *args,
		   struct amber_rpc_msg *res)
{
	return call(obj, proto, opcode, args, res, AMBER_TIMEOUT_NEVER);
}

int amber_rpc_call_timeout(amber_sel_t obj, uint32_t proto, amber_word_t opcode, const struct amber_rpc_msg *args,
			   struct amber_rpc_msg *res, uint64_t timeout_us)
{
	return call(obj, proto, opcode, args, res, timeout_us);
}

int amber_rpc_call_words(amber_sel_t obj, uint32_t proto, amber_word_t opcode, unsigned nargs,
			 const amber_word_t *args, unsigned nres, amber_word_t *res)
{
	if (nargs > AMBER_RPC_MAX_WORDS || nres > AMBER_RPC_MAX_WORDS)
		return AMBER_ERR_INVALID_ARG;
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = opcode;
	for (unsigned i = 0; i < nargs; i++)
		u->mr[1 + i] = args[i];
	amber_word_t saved = u->br[0];
	u->br[0] = 0; /* no capabilities accepted */
	int err = amber_ipc_call(obj, amber_tag(proto, 1 + nargs, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	u->br[0] = saved;
	if (err)
		return err;
	unsigned words = amber_tag_words(u->tag);
	if (words < 1)
		return AMBER_ERR_PROTO;
	int64_t status = (int64_t)u->mr[0];
	if (status != AMBER_OK)
		return status > 0 || status < -0x10000 ? AMBER_ERR_PROTO : (int)status;
	if (words - 1 < nres)
		return AMBER_ERR_PROTO;
	for (unsigned i = 0; i < nres; i++)
		res[i] = u->mr[1 + i];
	return AMBER_OK;
}
