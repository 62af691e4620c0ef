/*
 * test_forbidden: a component that makes a forbidden Linux system call.
 *
 * Components may only use futex, exit, exit_group and sched_yield; core's
 * seccomp filter must kill this one at getpid and report "forbidden system
 * call getpid". The raw syscall instruction is here on purpose: this is
 * the one kind of component that should contain one outside the runtime.
 */
#include <amber/log.h>

int main(void)
{
	amber_log("test_forbidden: calling getpid");
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(39L) : "rcx", "r11", "memory");
	amber_log("FAIL: getpid returned %ld, the component should have been killed", ret);
	return 1;
}
