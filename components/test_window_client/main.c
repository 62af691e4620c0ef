/*
 * test_window_client: sends more capabilities than the "window" server's
 * receive window holds (amber/test_protocols.h). Two map items into a
 * window of one must fail with AMBER_ERR_RCV_WINDOW in the sender; one
 * item and no item must still work afterwards. Logs ok/FAIL lines and
 * "done: N ok, M failed" (amber/check.h).
 */
#include <amber/check.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/test_protocols.h>

enum { SERVER_SEL = AMBER_SEL_FIRST_FREE, IRQ_1, IRQ_2 };
#define SESSION_TIMEOUT_US 10000000u
#define T_US 2000000u

static int ping(amber_word_t method, unsigned items)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = method;
	u->mr[1] = amber_map_item(IRQ_1, AMBER_RIGHT_INVOKE);
	u->mr[2] = amber_map_item(IRQ_2, AMBER_RIGHT_INVOKE);
	return amber_ipc_call(SERVER_SEL, amber_tag(AMBER_TEST_WINDOW_PROTO, 1, items), T_US, T_US);
}

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	amber_log("test_window_client: start");
	if (!amber_check_err("session \"window\"",
			     amber_parent_session(AMBER_TEST_WINDOW_SERVICE, SERVER_SEL, SESSION_TIMEOUT_US), AMBER_OK))
		return amber_check_done();
	amber_check_err("create irq 1", amber_factory_create_irq(AMBER_SEL_FACTORY, IRQ_1), AMBER_OK);
	amber_check_err("create irq 2", amber_factory_create_irq(AMBER_SEL_FACTORY, IRQ_2), AMBER_OK);

	amber_check_err("two items into a window of one -> RCV_WINDOW", ping(AMBER_TEST_WINDOW_PING, 2),
			AMBER_ERR_RCV_WINDOW);
	/* Results are read before logging, which reuses the UTCB. */
	int err = ping(AMBER_TEST_WINDOW_PING, 1);
	amber_word_t received = u->mr[1];
	if (amber_check_err("one item into a window of one", err, AMBER_OK))
		amber_check_val("server received one item", received, 1);
	err = ping(AMBER_TEST_WINDOW_PING, 0);
	received = u->mr[1];
	if (amber_check_err("no item after the failure", err, AMBER_OK))
		amber_check_val("server received no item", received, 0);
	amber_check_err("quit the server", ping(AMBER_TEST_WINDOW_QUIT, 0), AMBER_OK);
	return amber_check_done();
}
