/*
 * test_dier_client: calls the "dier" server, which exits instead of
 * replying. The call must end with AMBER_ERR_NO_PARTNER or
 * AMBER_ERR_CANCELED, not hang (a TIMEOUT after 5 s is a failure). A second
 * call through the now dead gate must fail too. Logs ok/FAIL lines and
 * "done: N ok, M failed" (amber/check.h).
 */
#include <amber/check.h>
#include <amber/ipc.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/test_protocols.h>

enum { DIER_SEL = AMBER_SEL_FIRST_FREE };
#define SESSION_TIMEOUT_US 10000000u
#define T_US 5000000u

int main(void)
{
	amber_log("test_dier_client: start");
	if (!amber_check_err("session \"dier\"", amber_parent_session(AMBER_TEST_DIER_SERVICE, DIER_SEL, SESSION_TIMEOUT_US),
			     AMBER_OK))
		return amber_check_done();
	amber_check_err2("call to a server that exits -> NO_PARTNER or CANCELED",
			 amber_ipc_call(DIER_SEL, amber_tag(AMBER_TEST_DIER_PROTO, 0, 0), T_US, T_US),
			 AMBER_ERR_NO_PARTNER, AMBER_ERR_CANCELED);
	amber_check_err2("call after the server died -> NO_PARTNER or INVALID_CAP",
			 amber_ipc_call(DIER_SEL, amber_tag(AMBER_TEST_DIER_PROTO, 0, 0), T_US, T_US),
			 AMBER_ERR_NO_PARTNER, AMBER_ERR_INVALID_CAP);
	return amber_check_done();
}
