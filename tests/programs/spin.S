/*
 * Spins in user code without system calls, mirroring registers into the
 * shared page at rdi so the test can observe set_regs:
 *   +32 counter (incremented each round)   +40 copy of r13
 *   +48 low quadword of xmm1
 * xmm0 holds 0x1122334455667788 for the xstate read check.
 */
	.text
	.globl _start
_start:
	mov	%rdi, %rbx
	movabs	$0x1122334455667788, %rax
	movq	%rax, %xmm0
	mov	$7, %r13
1:	incq	32(%rbx)
	mov	%r13, 40(%rbx)
	movq	%xmm1, 48(%rbx)
	jmp	1b

	.section .note.GNU-stack, "", @progbits
