/*
 * test_rom_watch: a "config" ROM that changes under a running component.
 *
 * Opens its "config" ROM, registers a signal context with ROM SIGH, logs
 * "config: TEXT", then waits (at most WAIT_US) for the change signal that
 * amber-core submits when a SIGHUP made it re-read the scenario with a
 * different <config> (tests/integration/test_rom_watch.c). It then attaches
 * the ROM again (DATASPACE hands out the new version), logs "new config:
 * TEXT" and ends with "done: N ok, M failed" (amber/check.h); the exit code
 * is the number of failures.
 */
#include <stdbool.h>

#include <amber/check.h>
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/signal.h>
#include <amber/string.h>
#include <amber/timer.h>

#define WAIT_US 10000000u /* 10 s */
#define NAP_US 20000u     /* 20 ms */

static volatile uint32_t changes;

static void changed(void *arg, uint32_t count)
{
	(void)arg;
	changes += count;
}

int main(void)
{
	struct amber_rom rom;
	struct amber_signal_receiver rcv;
	struct amber_signal_context ctx;
	struct amber_timer naps;
	if (!amber_check_err("open the config ROM", amber_rom_open(&rom, "config"), AMBER_OK) ||
	    !amber_check_err("attach it", amber_rom_attach(&rom), AMBER_OK) ||
	    !amber_check_err("a signal receiver", amber_signal_receiver_create(&rcv, 0), AMBER_OK) ||
	    !amber_check_err("a signal context", amber_signal_context_create(&rcv, &ctx, changed, 0), AMBER_OK) ||
	    !amber_check_err("ROM SIGH", amber_rom_sigh(rom.session, ctx.sel), AMBER_OK) ||
	    !amber_check_err("a Timer session to nap with", amber_timer_open(&naps), AMBER_OK))
		return amber_check_done();
	amber_log("config: %s", rom.data);

	uint64_t waited = 0;
	while (!changes && waited < WAIT_US) {
		amber_timer_sleep_us(&naps, NAP_US);
		waited += NAP_US;
	}
	if (!amber_check_val("the config changed (a ROM signal)", changes != 0, 1))
		return amber_check_done();
	amber_check_err("attach it again", amber_rom_attach(&rom), AMBER_OK);
	amber_log("new config: %s", rom.data);
	amber_check_err("detach it", amber_rom_detach(&rom), AMBER_OK);
	return amber_check_done();
}
