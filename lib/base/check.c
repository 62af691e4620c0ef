/*
 * Self-check reporting for test components (amber/check.h).
 *
 * Why in the runtime: the integration tests grep for exactly these lines,
 * so the format is written in one place rather than copied into every
 * test component. Each check returns 1 if it passed.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/error.h>
#include <amber/log.h>

static unsigned passed, failed;

static int pass(const char *what)
{
	passed++;
	amber_log("ok: %s", what);
	return 1;
}

int amber_check_err(const char *what, int got, int expected)
{
	if (got == expected)
		return pass(what);
	failed++;
	amber_log("FAIL: %s (got %s(%d) expected %s(%d))", what, amber_error_name(got), got,
		  amber_error_name(expected), expected);
	return 0;
}

int amber_check_err2(const char *what, int got, int expected1, int expected2)
{
	if (got == expected1 || got == expected2)
		return pass(what);
	failed++;
	amber_log("FAIL: %s (got %s(%d) expected %s(%d) or %s(%d))", what, amber_error_name(got), got,
		  amber_error_name(expected1), expected1, amber_error_name(expected2), expected2);
	return 0;
}

int amber_check_val(const char *what, uint64_t got, uint64_t expected)
{
	if (got == expected)
		return pass(what);
	failed++;
	amber_log("FAIL: %s (got %lu expected %lu)", what, (unsigned long)got, (unsigned long)expected);
	return 0;
}

int amber_check_done(void)
{
	amber_log("done: %u ok, %u failed", passed, failed);
	return (int)failed;
}

amber_sel_t amber_check_slot(void)
{
	amber_sel_t s = amber_cap_alloc();
	if (s == AMBER_SEL_INVALID)
		amber_log("FAIL: out of capability slots");
	return s;
}
