/*
 * test_dier: a server that dies while its caller waits for the reply.
 * Announces "dier"; on the first message it logs and exits without
 * replying. The kernel must then end the caller's wait with
 * AMBER_ERR_NO_PARTNER or AMBER_ERR_CANCELED (see test_dier_client).
 */
#include <amber/error.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/test_protocols.h>

enum { GATE_SEL = AMBER_SEL_FIRST_FREE };
#define GATE_LABEL 0x646965u /* "die" */

int main(void)
{
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, GATE_SEL, AMBER_SEL_THREAD, GATE_LABEL);
	if (!err)
		err = amber_parent_announce(AMBER_TEST_DIER_SERVICE, GATE_SEL);
	if (err) {
		amber_log("FAIL: dier setup (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("dier: waiting for a call");
	for (unsigned tries = 0; (err = amber_ipc_wait(AMBER_TIMEOUT_NEVER)) != AMBER_OK; tries++)
		if (tries == 100) {
			amber_log("FAIL: dier: receive keeps failing (%s)", amber_error_name(err));
			return 1;
		}
	amber_log("dier: called, exiting without a reply");
	return 0; /* exit_group while the caller waits */
}
