/*
 * test_timer_churn: Timer and ROM sessions opened and closed many more
 * times than a component may hold sessions at once (tracker issue 10,
 * "Timer sessions leak": amber_timer_close once only deleted the
 * component's capability, and 30 cycles exhausted core's limit).
 *
 * 1. How many Timer sessions it can hold at once (until QUOTA).
 * 2. CYCLES rounds of open, use, close: a sleep (sleep objects), a running
 *    periodic timeout with a handler, a pending one-shot, nothing; and a
 *    ROM session attached and closed (amber_rom_close).
 * 3. It can hold exactly as many sessions as in 1: none was left in core.
 * Its end must not report Timer sessions or ROM modules released.
 */
#include <amber/check.h>
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/signal.h>
#include <amber/timer.h>

#define CYCLES 200 /* CORE_MAX_SESSIONS is 32 */
#define MOST 64

static struct amber_timer held[MOST];
static volatile unsigned ticks;

static void tick(void *arg, uint32_t count)
{
	(void)arg;
	ticks += count;
}

/* Open Timer sessions until core refuses, then close them all. */
static unsigned capacity(void)
{
	unsigned n = 0;
	int err = AMBER_OK;
	while (n < MOST && (err = amber_timer_open(&held[n])) == AMBER_OK)
		n++;
	amber_check_err("the last open is refused with QUOTA", err, AMBER_ERR_QUOTA);
	for (unsigned i = 0; i < n; i++)
		if (amber_timer_close(&held[i]) != AMBER_OK)
			amber_check_err("close a held session", AMBER_ERR_INVALID_ARG, AMBER_OK);
	return n;
}

int main(void)
{
	static struct amber_signal_receiver rcv;
	static struct amber_signal_context ctx;
	amber_check_err("a signal receiver", amber_signal_receiver_create(&rcv, 0), AMBER_OK);
	amber_check_err("a context", amber_signal_context_create(&rcv, &ctx, tick, 0), AMBER_OK);

	unsigned before = capacity();
	amber_log("churn: %u timers at once", before);

	unsigned failed = 0;
	for (unsigned i = 0; i < CYCLES; i++) {
		struct amber_timer t;
		int err = amber_timer_open(&t);
		if (!err && i % 4 == 0)
			err = amber_timer_sleep_us(&t, 100);
		if (!err && i % 4 == 1 && !(err = amber_timer_sigh(&t, ctx.sel)))
			err = amber_timer_trigger_periodic(&t, 1000);
		if (!err && i % 4 == 2)
			err = amber_timer_trigger_once(&t, 1000000);
		if (!err)
			err = amber_timer_close(&t);
		struct amber_rom rom;
		if (!err && !(err = amber_rom_open(&rom, "test_timer_churn")) && !(err = amber_rom_attach(&rom)))
			err = amber_rom_close(&rom);
		if (err && failed++ == 0)
			amber_check_err("a cycle", err, AMBER_OK);
	}
	amber_check_val("cycles that failed", failed, 0);
	amber_log("churn: %u cycles done", CYCLES);

	amber_check_val("as many timers at once as before", capacity(), before);
	amber_check_err("close a closed timer -> INVALID_ARG", amber_timer_close(&held[0]), AMBER_ERR_INVALID_ARG);
	amber_signal_context_destroy(&ctx);
	amber_signal_receiver_destroy(&rcv);
	return amber_check_done() ? 1 : 0;
}
