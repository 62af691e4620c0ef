/*
 * test_crash: a component that faults. It writes to address 0x10, which is
 * never mapped; core must report the fault and end the component.
 */
#include <stdint.h>

#include <amber/log.h>

int main(void)
{
	amber_log("test_crash: writing to address 0x10");
	uintptr_t addr = 0x10;
	__asm__("" : "+r"(addr)); /* hide the constant so the compiler does not reason about it */
	*(volatile uint32_t *)addr = 0xdead;
	amber_log("FAIL: the write to 0x10 did not fault");
	return 1;
}
