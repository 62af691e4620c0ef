/*
 * test_rm_crash: a page fault first thing: a write to an address of the
 * attachable range where nothing is attached (an RM fault, not a CPU
 * exception). components/test_monitor watches it from before its start.
 */
#include <stdint.h>

#include <amber/log.h>

int main(void)
{
	*(volatile uint64_t *)0x0000000200000000ull = 1;
	amber_log("FAIL: the write to an unattached address went through");
	return 1;
}
