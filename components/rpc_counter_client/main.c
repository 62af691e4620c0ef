/*
 * rpc_counter_client: calls rpc_counter_server through the client stubs of
 * amber/rpc_counter.h: plain calls, a capability result (CREATE, SELF), a
 * capability argument (ADD_FROM), the errors a server returns, and what
 * the capability map does with a capability we hold already.
 *
 * The parent hands over the service's capability without a badge (the
 * parent protocol carries none), so the first SELF brings the same
 * counter back with its badge in a new slot: from then on the map knows
 * it. Checks log "ok:" / "FAIL:" (amber/check.h); exit code = failures.
 */
#include <amber/cap_alloc.h>
#include <amber/cap_map.h>
#include <amber/check.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/rpc_counter.h>

#define SESSION_TIMEOUT_US 10000000u

int main(void)
{
	amber_sel_t session = amber_cap_alloc();
	if (!amber_check_err("session \"counter\"", amber_parent_session(AMBER_COUNTER_SERVICE, session, SESSION_TIMEOUT_US),
			     AMBER_OK))
		return amber_check_done();
	uint64_t v = 0;
	amber_check_err("increment by 5", amber_counter_increment(session, 5, &v), AMBER_OK);
	amber_check_err("increment by 2", amber_counter_increment(session, 2, &v), AMBER_OK);
	amber_check_err("get", amber_counter_get(session, &v), AMBER_OK);
	amber_check_val("the counter is 7", v, 7);
	amber_log("counter 1 = %lu", (unsigned long)v);

	/* The parent's copy has no badge: SELF returns the same counter with one. */
	amber_sel_t root = AMBER_SEL_INVALID;
	amber_check_err("SELF on the session capability", amber_counter_self(session, &root), AMBER_OK);
	amber_check_val("it names the same counter", amber_cap_info_of(root).object_id == amber_cap_info_of(session).object_id && root != session, 1);
	amber_check_val("and is in our capability map now", amber_cap_map_badge(root) != 0, 1);
	/* Badges are global, handed out in the order anyone asks: their values
	 * differ from run to run with several components, so they are not
	 * printed (output stays comparable, tools/cr_diff.c). */
	amber_log("the parent's capability had no badge; SELF brought it with %s into slot %u",
		  amber_cap_map_badge(root) ? "a badge" : "FAIL: no badge", root);
	amber_task_delete(AMBER_SEL_TASK, session);
	amber_cap_free(session);

	amber_sel_t c2 = AMBER_SEL_INVALID, c3 = AMBER_SEL_INVALID, again = AMBER_SEL_INVALID;
	amber_check_err("CREATE a counter at 100 (a capability result)", amber_counter_create(root, 100, &c2), AMBER_OK);
	amber_check_val("it is in our map with one reference", amber_cap_map_refs(c2), 1);
	amber_check_val("it is at 100", amber_counter_get(c2, &v) == AMBER_OK && v == 100, 1);
	amber_log("got counter 2 in slot %u, %s", c2,
		  amber_cap_map_badge(c2) && amber_cap_map_badge(c2) != amber_cap_map_badge(root) ? "a badge of its own"
												     : "FAIL: its badge is not its own");

	amber_check_err("ADD_FROM counter 2 into counter 1 (a capability argument)", amber_counter_add_from(root, c2, &v),
			AMBER_OK);
	amber_check_val("counter 1 is 107", v, 107);

	amber_check_err("SELF on counter 2", amber_counter_self(c2, &again), AMBER_OK);
	amber_check_val("it came back in the slot we have for it", again, c2);
	amber_check_val("with a second reference", amber_cap_map_refs(c2), 2);
	amber_log("SELF of counter 2 came back in slot %u, the slot we have (references: %u)", again,
		  amber_cap_map_refs(c2));
	amber_cap_map_release(again);
	amber_check_val("one reference again", amber_cap_map_refs(c2), 1);

	amber_check_err("CREATE a counter at 5", amber_counter_create(root, 5, &c3), AMBER_OK);
	amber_check_err("ADD_FROM counter 3 into counter 2", amber_counter_add_from(c2, c3, &v), AMBER_OK);
	amber_check_val("counter 2 is 105", v, 105);
	amber_check_err("ADD_FROM counter 1 into counter 3", amber_counter_add_from(c3, root, &v), AMBER_OK);
	amber_check_val("counter 3 is 112", v, 112);
	amber_check_err("RESET counter 1", amber_counter_reset(root, &v), AMBER_OK);
	amber_check_val("it was 107", v, 107);
	amber_check_val("it is 0", amber_counter_get(root, &v) == AMBER_OK && v == 0, 1);
	amber_check_val("counter 2 kept its value", amber_counter_get(c2, &v) == AMBER_OK && v == 105, 1);

	amber_check_err("unknown function -> OPCODE", amber_rpc_call_words(root, AMBER_COUNTER_PROTO, 99, 0, 0, 0, 0),
			AMBER_ERR_OPCODE);
	amber_check_err("another interface -> PROTO", amber_rpc_call_words(root, 0x9999, AMBER_COUNTER_GET, 0, 0, 1, &v),
			AMBER_ERR_PROTO);
	amber_check_err("INCREMENT without its argument -> INVALID_ARG",
			amber_rpc_call_words(root, AMBER_COUNTER_PROTO, AMBER_COUNTER_INCREMENT, 0, 0, 1, &v),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("ADD_FROM a capability that is no counter -> INVALID_ARG",
			amber_counter_add_from(root, AMBER_SEL_LOG, &v), AMBER_ERR_INVALID_ARG);
	amber_check_err("CLOSE the first counter -> INVALID_ARG", amber_counter_close(root), AMBER_ERR_INVALID_ARG);

	amber_check_err("CLOSE counter 3", amber_counter_close(c3), AMBER_OK);
	amber_check_err("then calling it -> INVALID_CAP (revoked)", amber_counter_get(c3, &v), AMBER_ERR_INVALID_CAP);
	amber_check_err("release our reference to it", amber_cap_map_release(c3), AMBER_OK);
	amber_check_err("release counter 2 (the server keeps it)", amber_cap_map_release(c2), AMBER_OK);
	amber_check_val("our map holds only counter 1 now", amber_cap_map_count(), 1);
	amber_check_err("QUIT", amber_counter_quit(root), AMBER_OK);
	return amber_check_done();
}
