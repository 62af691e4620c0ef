/*
 * cr_log_halves: two threads with an unfinished LOG line each across a
 * checkpoint (tests/integration/test_cr.c). Each writes the first half of
 * its line, the main thread says "halves written", and after a second
 * each thread writes the rest: restored in between, each line must come
 * out whole, with its own thread's rest.
 */
#include <amber/log.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/timer.h>

static struct amber_timer timers[2];
static volatile int halves;

static void half(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	amber_log_write(i ? "second thread: first half, " : "first thread: first half, ", i ? 27 : 26);
	__atomic_add_fetch(&halves, 1, __ATOMIC_SEQ_CST);
	amber_timer_open(&timers[i]);
	amber_timer_sleep_us(&timers[i], 1500000);
	amber_log_write(i ? "second rest\n" : "first rest\n", i ? 12 : 11);
}

int main(void)
{
	struct amber_thread t[2];
	amber_thread_create(&t[0], half, (void *)0);
	amber_thread_create(&t[1], half, (void *)1);
	while (__atomic_load_n(&halves, __ATOMIC_SEQ_CST) < 2)
		amber_sys_yield();
	amber_log("halves written");
	amber_thread_join(&t[0]);
	amber_thread_join(&t[1]);
	amber_log("halves: done");
	return 0;
}
