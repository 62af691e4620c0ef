/*
 * The run's lifetime (core/components.c): amber-core runs while any
 * component lives; a restore holds the run open while it works, and once
 * the run is ending (every component ended, or core told to stop) a
 * restore is refused, so that it cannot bring components back into a core
 * that is taking its loaders and processes down (cr-diff caught lazily
 * restored components dying of zero pages that way).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "core/core.h"

static struct timespec in_ms(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += ms * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

static void a_hold_keeps_the_run_open_then_the_end_refuses_holds(void **state)
{
	(void)state;
	core_components_init();
	core_component_live(); /* one component runs */
	assert_true(core_components_hold()); /* a restore begins */
	core_component_ended(); /* the component ends during the restore */
	struct timespec soon = in_ms(20);
	assert_false(core_components_wait(&soon)); /* the restore keeps the run open */
	assert_true(core_components_hold()); /* and another may begin */
	core_component_ended();
	core_component_ended(); /* both restores done, nothing revived */
	struct timespec later = in_ms(20);
	assert_true(core_components_wait(&later)); /* the run ends here */
	assert_false(core_components_hold()); /* a restore now is refused */
	assert_true(core_components_wait(&later)); /* and nothing was counted */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_hold_keeps_the_run_open_then_the_end_refuses_holds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
