/*
 * test_cpu_victim: a fixed amount of computing, timed (tracker issue 10,
 * "CPU"). Config <work rounds="N" delay="MS"/>: it waits MS ms (default
 * 300: a spinner next to it is up by then), computes N rounds (default 400)
 * of a loop and logs "victim: took T ms". The test compares T with and
 * without a spinning component next to it.
 */
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/timer.h>

static volatile uint64_t sink;

static uint64_t round_of_work(uint64_t x)
{
	for (unsigned i = 0; i < 1000000u; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

int main(void)
{
	unsigned rounds = 400, delay = 300;
	const char *config;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		rounds = amber_config_number(config, "rounds", rounds);
		delay = amber_config_number(config, "delay", delay);
	}
	struct amber_timer timer;
	if (amber_timer_open(&timer))
		return 1;
	amber_timer_sleep_us(&timer, (uint64_t)delay * 1000u);
	uint64_t t0 = 0, t1 = 0, x = 1;
	amber_timer_elapsed_us(&timer, &t0);
	for (unsigned r = 0; r < rounds; r++)
		x = round_of_work(x);
	amber_timer_elapsed_us(&timer, &t1);
	sink = x;
	amber_log("victim: took %lu ms", (unsigned long)((t1 - t0) / 1000u));
	amber_timer_close(&timer);
	return 0;
}
