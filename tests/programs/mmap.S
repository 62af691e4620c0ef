/* Calls mmap(2) itself. The filter traces mmap (core injects it), so core
 * sees a seccomp stop outside an injection and must kill the process. */
	.text
	.globl _start
_start:
	xor	%edi, %edi		/* addr */
	mov	$4096, %esi		/* length */
	mov	$3, %edx		/* PROT_READ | PROT_WRITE */
	mov	$0x22, %r10d		/* MAP_PRIVATE | MAP_ANONYMOUS */
	mov	$-1, %r8
	xor	%r9d, %r9d
	mov	$9, %eax		/* SYS_mmap */
	syscall
	xor	%edi, %edi
	mov	$231, %eax		/* not reached */
	syscall
	ud2

	.section .note.GNU-stack, "", @progbits
