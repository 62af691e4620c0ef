/*
 * The parent protocol, child side: announce, session, exit.
 *
 * Why the status convention: the protocol (amber/protocols.h) defines what
 * a successful reply carries, not how a parent refuses. The runtime reads
 * a reply whose mr[0] is negative as that error (an enum amber_error), so
 * a parent can refuse without inventing a second channel.
 */
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/parent.h>
#include <amber/protocols.h>
#include <amber/string.h>

static int reply_status(const struct amber_utcb *u)
{
	if (amber_tag_words(u->tag) >= 1 && (int64_t)u->mr[0] < 0)
		return (int)(int64_t)u->mr[0];
	return AMBER_OK;
}

int amber_parent_announce(const char *name, amber_sel_t gate_sel)
{
	struct amber_utcb *u = amber_utcb();
	size_t len = strlen(name);
	if (len > AMBER_MSG_STRING_MAX - 8u) /* leave a word for the map item */
		return AMBER_ERR_INVALID_ARG;
	u->mr[0] = AMBER_PARENT_ANNOUNCE;
	unsigned words = amber_mr_put_string(u, 1, name, len);
	u->mr[words] = amber_map_item(gate_sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	int err = amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, words, 1), AMBER_TIMEOUT_NEVER,
				 AMBER_TIMEOUT_NEVER);
	return err ? err : reply_status(u);
}

int amber_parent_session(const char *name, amber_sel_t dst_sel, uint64_t timeout_us)
{
	return amber_parent_session_arg(name, 0, dst_sel, timeout_us);
}

int amber_parent_session_arg(const char *name, const char *arg, amber_sel_t dst_sel, uint64_t timeout_us)
{
	struct amber_utcb *u = amber_utcb();
	size_t len = strlen(name), arg_len = arg ? strlen(arg) : 0;
	unsigned need = 2u + amber_string_words(len) + (arg ? 1u + amber_string_words(arg_len) : 0u);
	if (len > AMBER_MSG_STRING_MAX || arg_len > AMBER_MSG_STRING_MAX || need > AMBER_MR_COUNT)
		return AMBER_ERR_INVALID_ARG;
	amber_word_t saved_window = u->br[0];
	u->br[0] = amber_rcv_window(dst_sel, 1);
	u->mr[0] = AMBER_PARENT_SESSION;
	unsigned words = amber_mr_put_string(u, 1, name, len);
	if (arg)
		words = amber_mr_put_string(u, words, arg, arg_len);
	int err = amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, words, 0), AMBER_TIMEOUT_NEVER,
				 timeout_us);
	u->br[0] = saved_window;
	if (err)
		return err;
	if (amber_tag_items(u->tag) != 1) {
		int status = reply_status(u);
		return status ? status : AMBER_ERR_ITEM;
	}
	return AMBER_OK;
}

int amber_parent_close(amber_sel_t session_sel)
{
	/* An empty slot has nothing to close (a session closed before):
	 * the kernel would refuse the item with ITEM, say INVALID_ARG. */
	struct amber_cap_info ci = { 0, 0, 0 };
	if (amber_task_cap_info(AMBER_SEL_TASK, session_sel, &ci) != AMBER_OK || ci.kind == AMBER_KIND_NONE)
		return AMBER_ERR_INVALID_ARG;
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PARENT_CLOSE;
	u->mr[1] = amber_map_item(session_sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	int err = amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, 1, 1), AMBER_TIMEOUT_NEVER,
				 AMBER_TIMEOUT_NEVER);
	if (!err)
		err = reply_status(u);
	if (!err)
		amber_env_forget(session_sel); /* one of env's sessions: asked for anew */
	return err;
}

_Noreturn void amber_exit(int code)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PARENT_EXIT;
	u->mr[1] = (amber_word_t)(int64_t)code;
	amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, 2, 0), AMBER_TIMEOUT_NEVER,
		       AMBER_TIMEOUT_NEVER);
	amber_sys_exit_group(code);
}
