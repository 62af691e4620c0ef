/*
 * Client stubs of PD CREATE_CHILD and the child capability (amber/child.h).
 */
#include <amber/child.h>
#include <amber/ipc.h>
#include <amber/pd_session.h>
#include <amber/string.h>

int amber_pd_create_child(amber_sel_t pd, const struct amber_child_args *a, amber_sel_t dst)
{
	struct amber_utcb *u = amber_utcb();
	size_t nlen = strlen(a->name), blen = strlen(a->binary);
	if (8u + amber_string_words(nlen) + amber_string_words(blen) + 3u > AMBER_MR_COUNT)
		return AMBER_ERR_INVALID_ARG;
	u->mr[0] = AMBER_PD_CREATE_CHILD;
	u->mr[1] = a->caps;
	u->mr[2] = a->ram;
	u->mr[3] = a->config_offset;
	u->mr[4] = a->config_ds != AMBER_SEL_INVALID ? a->config_len : 0;
	unsigned words = amber_mr_put_string(u, 5, a->name, nlen);
	words = amber_mr_put_string(u, words, a->binary, blen);
	u->mr[words++] = a->log_rate;
	u->mr[words++] = a->cpu_weight;
	unsigned items = 0;
	u->mr[words + items++] = amber_map_item(a->parent_gate, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	u->mr[words + items++] = amber_map_item(a->exit_sigh, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	if (a->config_ds != AMBER_SEL_INVALID && a->config_len)
		u->mr[words + items++] = amber_map_item(a->config_ds, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	int err = amber_ipc_call_rcv(pd, amber_tag(AMBER_PROTO_PD, words, items), dst, 1);
	if (err == AMBER_OK && amber_tag_items(u->tag) != 1)
		err = AMBER_ERR_ITEM;
	return err;
}

static int call(amber_sel_t child, unsigned words)
{
	return amber_ipc_call(child, amber_tag(AMBER_PROTO_CHILD, words, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_child_start(amber_sel_t child)
{
	amber_utcb()->mr[0] = AMBER_CHILD_START;
	return call(child, 1);
}

int amber_child_kill(amber_sel_t child, enum amber_child_kill_mode mode, int code)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_CHILD_KILL_METHOD;
	u->mr[1] = (amber_word_t)mode;
	u->mr[2] = (amber_word_t)(int64_t)code;
	return call(child, 3);
}

int amber_child_exit_status(amber_sel_t child, enum amber_child_state *state, int *code, char *reason,
			    size_t reason_size)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_CHILD_EXIT_STATUS;
	int err = call(child, 1);
	if (err)
		return err;
	unsigned words = amber_tag_words(u->tag);
	if (words < 3)
		return AMBER_ERR_PROTO;
	*state = (enum amber_child_state)u->mr[0];
	*code = (int)(int64_t)u->mr[1];
	if (reason && reason_size && amber_mr_get_string(u, 2, words, reason, reason_size) < 0)
		reason[0] = '\0';
	return AMBER_OK;
}

int amber_child_session(amber_sel_t child, const char *name, const char *arg, amber_sel_t dst)
{
	struct amber_utcb *u = amber_utcb();
	size_t len = strlen(name), arg_len = arg ? strlen(arg) : 0;
	if (2u + amber_string_words(len) + (arg ? 1u + amber_string_words(arg_len) : 0u) > AMBER_MR_COUNT)
		return AMBER_ERR_INVALID_ARG;
	u->mr[0] = AMBER_CHILD_SESSION;
	unsigned words = amber_mr_put_string(u, 1, name, len);
	if (arg)
		words = amber_mr_put_string(u, words, arg, arg_len);
	int err = amber_ipc_call_rcv(child, amber_tag(AMBER_PROTO_CHILD, words, 0), dst, 1);
	if (err == AMBER_OK && amber_tag_items(u->tag) != 1)
		err = AMBER_ERR_ITEM;
	return err;
}

int amber_child_close(amber_sel_t child, amber_sel_t session)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_CHILD_CLOSE;
	u->mr[1] = amber_map_item(session, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(child, amber_tag(AMBER_PROTO_CHILD, 1, 1), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}
