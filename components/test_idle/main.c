/*
 * test_idle: a component that stays, for tests that look at a running
 * system from outside (`amber ps`, tests/integration/test_control.c). It
 * starts a second thread and an IRQ for each thread to wait on, says so,
 * and then both threads wait forever; only amber-core's end, or its
 * parent's, ends it.
 */
#include <amber/cap_alloc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/thread.h>

static amber_sel_t irq[2];

/* Only the attached thread may receive (else INVALID_ARG at once, and the
 * loop would spin): each thread attaches its own IRQ first. */
_Noreturn static void wait_forever(unsigned i)
{
	int err = amber_irq_attach(irq[i], amber_thread_self(), 1);
	if (err)
		amber_log("test_idle: cannot attach an IRQ: %d", err);
	for (;;)
		amber_irq_receive(irq[i], AMBER_TIMEOUT_NEVER);
}

static void second(void *arg)
{
	(void)arg;
	wait_forever(1);
}

int main(void)
{
	static struct amber_thread t;
	for (unsigned i = 0; i < 2; i++) {
		irq[i] = amber_cap_alloc();
		int err = amber_factory_create_irq(AMBER_SEL_FACTORY, irq[i]);
		if (err) {
			amber_log("test_idle: cannot create an IRQ: %d", err);
			return 1;
		}
	}
	int err = amber_thread_create(&t, second, 0);
	if (err) {
		amber_log("test_idle: cannot start a thread: %d", err);
		return 1;
	}
	amber_log("test_idle: idle with 2 threads");
	wait_forever(0);
}
