/*
 * test_signal_peer: the other component of the signal tests. It serves
 * "sigpeer" (amber/test_protocols.h) on its first thread: it submits to
 * signal contexts it is sent (so a signal crosses components, as with
 * Genode's Signal_transmitter), or holds one until core revokes it because
 * its owner ended, and then checks that submitting to it fails cleanly.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/signal.h>
#include <amber/test_protocols.h>
#include <amber/timer.h>

#define WATCH_NAPS 1000u   /* of 10 ms: how long to wait for the revocation */

static int submit(amber_sel_t ctx, uint64_t count, uint64_t times, uint64_t via)
{
	int err = AMBER_ERR_INVALID_ARG;
	for (uint64_t i = 0; i < times; i++)
		err = via == AMBER_TEST_SIGPEER_VIA_PD ? amber_pd_submit(amber_env_pd(), ctx, count)
						       : amber_signal_submit(ctx, (uint32_t)count);
	return err;
}

/* The owner of `ctx` is about to end: wait until core revokes it. */
static void watch(amber_sel_t ctx)
{
	struct amber_timer naps;
	if (!amber_check_err("a Timer session for naps", amber_timer_open(&naps), AMBER_OK))
		return;
	unsigned n = 0;
	while (amber_cap_info_of(ctx).kind != AMBER_KIND_NONE && n++ < WATCH_NAPS)
		amber_timer_sleep_us(&naps, 10000);
	amber_check_val("core revoked the dead component's signal context", amber_cap_info_of(ctx).kind, AMBER_KIND_NONE);
	amber_check_err("submitting to it -> INVALID_CAP", amber_signal_submit(ctx, 1), AMBER_ERR_INVALID_CAP);
	amber_check_err("submitting to it through the PD -> ITEM", amber_pd_submit(amber_env_pd(), ctx, 1),
			AMBER_ERR_ITEM);
	amber_timer_close(&naps);
}

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	amber_sel_t gate = amber_cap_alloc(), ctx = amber_cap_alloc();
	if (!amber_check_err("create the service gate",
			     amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, 1), AMBER_OK) ||
	    !amber_check_err("announce sigpeer", amber_parent_announce(AMBER_TEST_SIGPEER_SERVICE, gate), AMBER_OK))
		return amber_check_done();

	u->br[0] = amber_rcv_window(ctx, 1);
	int err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	for (;;) {
		amber_word_t method = err ? 0 : u->mr[0];
		unsigned items = err ? 0 : amber_tag_items(u->tag);
		if (method == AMBER_TEST_SIGPEER_SUBMIT && items == 1 && amber_tag_words(u->tag) >= 4) {
			uint64_t count = u->mr[1], times = u->mr[2], via = u->mr[3];
			int result = submit(ctx, count, times, via);
			amber_task_delete(AMBER_SEL_TASK, ctx);
			u->br[0] = amber_rcv_window(ctx, 1);
			u->mr[0] = (amber_word_t)(int64_t)result;
			err = amber_ipc_reply_and_wait(amber_tag(AMBER_TEST_SIGPEER_PROTO, 1, 0), AMBER_TIMEOUT_NEVER);
			continue;
		}
		if (method == AMBER_TEST_SIGPEER_HOLD && items == 1) {
			amber_ipc_reply(amber_tag(AMBER_TEST_SIGPEER_PROTO, 0, 0));
			amber_check_err("a submit to the held context works while its owner lives",
					amber_signal_submit(ctx, 1), AMBER_OK);
			watch(ctx);
			break;
		}
		if (method == AMBER_TEST_SIGPEER_QUIT) {
			amber_ipc_reply(amber_tag(AMBER_TEST_SIGPEER_PROTO, 0, 0));
			break;
		}
		if (items)
			amber_task_delete(AMBER_SEL_TASK, ctx);
		u->br[0] = amber_rcv_window(ctx, 1);
		err = amber_ipc_reply_and_wait(amber_tag(AMBER_TEST_SIGPEER_PROTO, 0, 0), AMBER_TIMEOUT_NEVER);
	}
	return amber_check_done();
}
