/*
 * test_exit: ends at once with exit code 3, for the tests of amber-core's
 * exit status (--strict: a component's non-zero exit fails the run).
 */
#include <amber/log.h>

int main(void)
{
	amber_log("test_exit: exiting with code 3");
	return 3;
}
