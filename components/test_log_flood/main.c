/*
 * test_log_flood: THREADS threads write LOG lines as fast as they can
 * (tracker issue 10, "LOG and CPU": eight threads made about 100 MB/s,
 * printed by core under the kernel lock, and slowed every component down
 * when core's output was a slow pipe). Core's rate limit must hold its
 * threads back, each one's lines complete and in order; the components
 * next to it must not notice.
 *
 * Each thread writes LINES lines of about 200 bytes (config
 * <flood lines="N"/>; 0: without end, for `make bench`); then the main
 * thread logs how long that took by its Timer session and "flood: done".
 */
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define THREADS 8
#define LINES 20000

static unsigned lines = LINES;

static void flood(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; !lines || i < lines; i++)
		amber_log("flood %u/%u: ........................................................................"
			  "......................................................................................"
			  "........................",
			  id, i);
}

int main(void)
{
	static struct amber_thread threads[THREADS];
	struct amber_timer timer;
	if (amber_timer_open(&timer))
		return 1;
	const char *config;
	if (amber_rom_config(&config, 0) == AMBER_OK)
		lines = amber_config_number(config, "lines", LINES);
	amber_log("flood: %u threads, %u lines each", THREADS, lines);
	uint64_t t0 = 0, t1 = 0;
	amber_timer_elapsed_us(&timer, &t0);
	for (unsigned i = 0; i < THREADS; i++)
		if (amber_thread_create(&threads[i], flood, (void *)(uintptr_t)i))
			return 1;
	for (unsigned i = 0; i < THREADS; i++)
		amber_thread_join(&threads[i]);
	amber_timer_elapsed_us(&timer, &t1);
	amber_log("flood: took %lu ms", (unsigned long)((t1 - t0) / 1000u));
	amber_log("flood: done");
	amber_timer_close(&timer);
	return 0;
}
