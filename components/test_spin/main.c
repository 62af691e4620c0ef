/*
 * test_spin: THREADS threads that spin without pause (tracker issue 10,
 * "CPU": eight such threads slowed a victim 2.8x, because Linux shared
 * the CPU per thread). Config <spin threads="N" ms="M"/> (defaults 16 and
 * 3000): the main thread sleeps M ms on its Timer, then stops them.
 */
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define MAX_THREADS 32

static volatile int stop;
static volatile unsigned long spins[MAX_THREADS];

static void spin(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	while (!stop)
		spins[id]++;
}

int main(void)
{
	static struct amber_thread threads[MAX_THREADS];
	unsigned n = 16, ms = 3000;
	const char *config;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		n = amber_config_number(config, "threads", n);
		ms = amber_config_number(config, "ms", ms);
	}
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	struct amber_timer timer;
	if (amber_timer_open(&timer))
		return 1;
	for (unsigned i = 0; i < n; i++)
		if (amber_thread_create(&threads[i], spin, (void *)(uintptr_t)i))
			return 1;
	amber_log("spin: %u threads for %u ms", n, ms);
	amber_timer_sleep_us(&timer, (uint64_t)ms * 1000u);
	stop = 1;
	for (unsigned i = 0; i < n; i++)
		amber_thread_join(&threads[i]);
	amber_log("spin: done");
	amber_timer_close(&timer);
	return 0;
}
