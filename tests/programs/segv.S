/* Loads from an unmapped address: a SIGSEGV core reports with the address. */
	.text
	.globl _start
_start:
	mov	$0xdead000, %rax
	mov	(%rax), %rax
	ud2

	.section .note.GNU-stack, "", @progbits
