/*
 * test_log_flood: THREADS threads write LOG lines as fast as they can
 * (tracker issue 10, "LOG and CPU": eight threads made about 100 MB/s,
 * printed by core under the kernel lock, and slowed every component down
 * when core's output was a slow pipe). Core's rate limit must drop most of
 * them and say so; the components next to it must not notice.
 *
 * Each thread writes LINES lines of about 200 bytes; then the main thread
 * logs "flood: done" (itself subject to the limit, so it waits a little
 * first, for the budget to come back).
 */
#include <amber/log.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define THREADS 8
#define LINES 20000

static void flood(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < LINES; i++)
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
	amber_log("flood: %u threads, %u lines each", THREADS, LINES);
	for (unsigned i = 0; i < THREADS; i++)
		if (amber_thread_create(&threads[i], flood, (void *)(uintptr_t)i))
			return 1;
	for (unsigned i = 0; i < THREADS; i++)
		amber_thread_join(&threads[i]);
	amber_timer_sleep_us(&timer, 100000); /* some budget back for the last line */
	amber_log("flood: done");
	amber_timer_close(&timer);
	return 0;
}
