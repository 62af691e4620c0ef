/*
 * amber-launch: the first program of every component process.
 *
 * It is only a vessel. Core seizes the forked child before execve, so the
 * process stops at PTRACE_EVENT_EXEC before this code's first instruction;
 * core then injects system calls through the gadget below, installs the
 * seccomp filter, maps the component and unmaps this binary. The gadget
 * and the scratch area live at fixed addresses (launcher.h, asserted in
 * launcher.ld) so core needs no symbol lookup.
 *
 * If it ever runs anyway (started by hand, or a core bug), it just sleeps
 * in pause(2) and does nothing.
 */
#include "../linux/launcher.h"

	.section .text.gadget, "ax", @progbits
	.globl launcher_gadget
launcher_gadget:
	syscall
	int3

	.text
	.globl _start
_start:
	mov	$34, %eax	/* SYS_pause */
	syscall
	jmp	_start

	.bss
	.balign 4096
	.globl launcher_scratch
launcher_scratch:
	.skip	LAUNCHER_SCRATCH_SIZE

	.section .note.GNU-stack, "", @progbits
