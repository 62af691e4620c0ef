/*
 * test_window_server: the receiving half of the "receive window too small"
 * test (amber/test_protocols.h). Announces "window" and always waits with a
 * receive window of AMBER_TEST_WINDOW_SIZE (1) slot, answering PING with
 * the number of map items that arrived. A message with more items than
 * the window holds must fail in the sender (AMBER_ERR_RCV_WINDOW) without
 * disturbing this server.
 */
#include <amber/error.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/test_protocols.h>

enum { GATE_SEL = AMBER_SEL_FIRST_FREE, WINDOW_BASE = AMBER_SEL_FIRST_FREE + 4 };
#define GATE_LABEL 0x77696eu /* "win" */

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, GATE_SEL, AMBER_SEL_THREAD, GATE_LABEL);
	if (!err)
		err = amber_parent_announce(AMBER_TEST_WINDOW_SERVICE, GATE_SEL);
	if (err) {
		amber_log("FAIL: window server setup (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("window server: waiting with a receive window of %u", AMBER_TEST_WINDOW_SIZE);

	unsigned errors = 0;
	for (;;) {
		u->br[0] = amber_rcv_window(WINDOW_BASE, AMBER_TEST_WINDOW_SIZE);
		err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
		if (err) {
			amber_log("window server: receive failed (%s)", amber_error_name(err));
			if (++errors > 100)
				return 1;
			continue;
		}
		errors = 0;
		unsigned words = amber_tag_words(u->tag), items = amber_tag_items(u->tag);
		amber_word_t method = words ? u->mr[0] : 0;
		amber_sel_t got[AMBER_MAX_ITEMS];
		for (unsigned i = 0; i < items && i < AMBER_MAX_ITEMS && words + i < AMBER_MR_COUNT; i++)
			got[i] = amber_item_sel(u->mr[words + i]);

		amber_log("window server: got method %lu with %u item(s)", (unsigned long)method, items);
		for (unsigned i = 0; i < items && i < AMBER_MAX_ITEMS; i++)
			amber_task_delete(AMBER_SEL_TASK, got[i]); /* empty the window again */

		u->mr[0] = AMBER_OK;
		u->mr[1] = items;
		err = amber_ipc_reply(amber_tag(AMBER_TEST_WINDOW_PROTO, 2, 0));
		if (err)
			amber_log("window server: reply failed (%s)", amber_error_name(err));
		if (method == AMBER_TEST_WINDOW_QUIT) {
			amber_log("window server: bye");
			return 0;
		}
	}
}
