/*
 * crt0: the component's first instructions.
 *
 * Why: core starts the first thread at the ELF entry with rsp = 16-byte
 * aligned, just below the TLS area at the top of its stack, fs base = its
 * TCB (abi.h, struct amber_tcb) and rdi = 0; there
 * is no auxv, argv or environment to unpack. All _start has to do is make
 * the stack fit the SysV ABI (clear the frame pointer so debuggers see the
 * outermost frame, align, and let `call` push the return address), run the
 * C start function, and end the process with main's return value. The exit
 * goes through amber_sys_exit_group, so no syscall instruction lives here
 * and a bare-metal port only replaces the kernel-entry file.
 */
	.section .text.amber_start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	xor	%ebp, %ebp
	and	$-16, %rsp
	call	amber_start_c           /* rdi (core's start argument) passes through */
	mov	%eax, %edi
	call	amber_sys_exit_group
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
