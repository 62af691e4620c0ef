/*
 * test_lock_victim: how much a component gets done while another one
 * keeps core busy (tracker issue 10, "Starvation"). Config
 * <victim delay="MS" ms="MS"/> (defaults 300 and 2000): it waits `delay`
 * (the other one is busy by then), then for `ms` asks its Timer session
 * for the time over and over, each a call into core, and logs
 * "victim: N calls in MS ms". A core that holds its kernel lock for
 * another component's slow work lets hardly any through. With ms="0" it
 * calls without end and logs nothing: make bench's IPC flood of core.
 */
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/timer.h>

int main(void)
{
	unsigned delay = 300, ms = 2000;
	const char *config;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		delay = amber_config_number(config, "delay", delay);
		ms = amber_config_number(config, "ms", ms);
	}
	struct amber_timer timer;
	if (amber_timer_open(&timer))
		return 1;
	amber_timer_sleep_us(&timer, (uint64_t)delay * 1000u);
	uint64_t t0 = 0, now = 0, calls = 0;
	if (amber_timer_elapsed_us(&timer, &t0))
		return 1;
	do {
		if (amber_timer_elapsed_us(&timer, &now))
			return 1;
		calls++;
	} while (ms == 0 || now - t0 < (uint64_t)ms * 1000u);
	amber_log("victim: %lu calls in %u ms", (unsigned long)calls, ms);
	amber_timer_close(&timer);
	return 0;
}
