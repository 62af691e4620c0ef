/*
 * The first instructions of a thread made by amber_thread_create().
 *
 * Why assembly: core starts the thread with nothing but ip and sp, so the
 * entry function and its argument wait on the new stack: [rsp] = entry,
 * [rsp+8] = arg, with rsp 16-byte aligned. This moves them into the first
 * two argument registers, clears the frame pointer (the outermost frame)
 * and calls amber_thread_main, which never returns.
 */
	.text
	.globl amber_thread_trampoline
	.type amber_thread_trampoline, @function
amber_thread_trampoline:
	mov	(%rsp), %rdi
	mov	8(%rsp), %rsi
	xor	%ebp, %ebp
	and	$-16, %rsp
	call	amber_thread_main
	ud2
	.size amber_thread_trampoline, . - amber_thread_trampoline

	.section .note.GNU-stack, "", @progbits
