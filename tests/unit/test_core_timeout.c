/*
 * Core's timeout thread (core/timeout.c): timeouts fire once, not before
 * their deadline, in deadline order, whatever order they were scheduled
 * and cancelled in; a fire function can schedule itself again (periodic);
 * a timeout can be moved and cancelled. Real time, so deadlines are a few
 * milliseconds apart and only order and lower bounds are checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"

#define N 64

struct probe {
	struct core_timeout t;
	unsigned id;
	unsigned fired;
	uint64_t fired_at;
	unsigned repeat; /* schedule itself again this many times */
};

static struct probe probes[N];
static unsigned order[4 * N], norder; /* protected by the kernel lock */

static void fire(struct core_timeout *t, uint64_t now)
{
	struct probe *p = (struct probe *)t;
	p->fired++;
	p->fired_at = now;
	if (norder < 4 * N)
		order[norder++] = p->id;
	if (p->repeat) {
		p->repeat--;
		core_timeout_schedule(t, now + 2000);
	}
}

/* Wait (without the kernel lock) until `count` fires happened, at most 5 s. */
static unsigned wait_fires(unsigned count)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 500; i++) {
		kernel_lock();
		n = norder;
		kernel_unlock();
		if (n >= count)
			break;
		usleep(10000);
	}
	return n;
}

static void reset(void)
{
	kernel_lock();
	memset(probes, 0, sizeof(probes));
	norder = 0;
	for (unsigned i = 0; i < N; i++) {
		probes[i].id = i;
		probes[i].t.fire = fire;
	}
	kernel_unlock();
}

static void test_order_and_cancel(void **state)
{
	(void)state;
	reset();
	kernel_lock();
	uint64_t base = core_time_us() + 20000;
	for (unsigned i = 0; i < N; i++) {
		unsigned slot = (i * 37) % N; /* a permutation of 0..N-1 */
		assert_int_equal(core_timeout_schedule(&probes[i].t, base + slot * 1000), AMBER_OK);
	}
	for (unsigned i = 0; i < N; i += 5) {
		core_timeout_cancel(&probes[i].t);
		assert_false(core_timeout_scheduled(&probes[i].t));
		core_timeout_cancel(&probes[i].t); /* twice is harmless */
	}
	/* move one to the end and one to the front */
	assert_int_equal(core_timeout_schedule(&probes[1].t, base + N * 1000), AMBER_OK);
	assert_int_equal(core_timeout_schedule(&probes[2].t, base - 5000), AMBER_OK);
	kernel_unlock();

	unsigned expected = N - (N + 4) / 5;
	assert_int_equal(wait_fires(expected), expected);
	usleep(30000);
	kernel_lock();
	assert_int_equal(norder, expected); /* nothing fired twice */
	assert_int_equal(order[0], 2);
	assert_int_equal(order[expected - 1], 1);
	for (unsigned i = 0; i < N; i++) {
		struct probe *p = &probes[i];
		assert_int_equal(p->fired, i % 5 == 0 ? 0 : 1);
		if (p->fired)
			assert_true(p->fired_at >= p->t.deadline_us); /* never early */
		assert_false(core_timeout_scheduled(&p->t));
	}
	for (unsigned k = 1; k < expected; k++)
		assert_true(probes[order[k - 1]].t.deadline_us <= probes[order[k]].t.deadline_us);
	kernel_unlock();
}

static void test_fire_reschedules(void **state)
{
	(void)state;
	reset();
	kernel_lock();
	probes[0].repeat = 3;
	probes[1].repeat = 0;
	uint64_t now = core_time_us();
	core_timeout_schedule(&probes[0].t, now + 1000);
	core_timeout_schedule(&probes[1].t, now + 60000000); /* far away: cancelled below */
	kernel_unlock();
	assert_int_equal(wait_fires(4), 4);
	kernel_lock();
	assert_int_equal(probes[0].fired, 4);
	assert_false(core_timeout_scheduled(&probes[0].t));
	assert_true(core_timeout_scheduled(&probes[1].t));
	core_timeout_cancel(&probes[1].t);
	assert_int_equal(probes[1].fired, 0);
	kernel_unlock();
}

static int stop(void **state)
{
	(void)state;
	core_timeouts_stop();
	kernel_lock();
	/* After the stop nothing can be scheduled any more. */
	int err = core_timeout_schedule(&probes[0].t, core_time_us());
	kernel_unlock();
	return err == AMBER_ERR_NO_PARTNER ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_cancel),
		cmocka_unit_test(test_fire_reschedules),
	};
	return cmocka_run_group_tests_name("core timeouts", tests, NULL, stop);
}
