/*
 * A request/response loop over a shared page (address in rdi), driven by
 * core through shared futexes. Several threads may run it, each on its
 * own page. Page layout:
 *   +0  u32 req   core increments it and futex-wakes it
 *   +4  u32 ack   set to req when the request is done, then futex-woken
 *   +8  u64 cmd   +16 u64 arg   +24 u64 result
 *   +56 u64 nonzero: wait with the relative timeout (struct timespec) at +64
 * Commands:
 *   0 PING        result = arg + 1
 *   1 READ        result = *(u64 *)arg
 *   2 EXIT_GROUP  exit_group(arg)
 *   3 EXIT        exit(arg): only this thread
 *   4 TLS         result = %fs:16 (the arg field if fs_base is the page)
 *   5 GETPID      a forbidden system call
 */
	.text
	.globl _start
_start:
	mov	%rdi, %rbx		/* the page */
	xor	%r12d, %r12d		/* last request seen */
wait:
	mov	(%rbx), %eax
	cmp	%eax, %r12d
	jne	handle
	mov	%rbx, %rdi		/* futex_wait(&req, last, timeout) */
	xor	%esi, %esi		/* FUTEX_WAIT (shared) */
	mov	%r12d, %edx
	xor	%r10d, %r10d		/* no timeout, unless +56 says so */
	cmpq	$0, 56(%rbx)
	je	1f
	lea	64(%rbx), %r10
1:	mov	$202, %eax		/* SYS_futex */
	syscall
	jmp	wait
handle:
	mov	%eax, %r12d
	mov	8(%rbx), %rax
	mov	16(%rbx), %rdi
	cmp	$0, %rax
	je	ping
	cmp	$1, %rax
	je	read
	cmp	$2, %rax
	je	exit_group
	cmp	$3, %rax
	je	exit
	cmp	$4, %rax
	je	tls
	cmp	$5, %rax
	je	getpid
	jmp	reply
ping:
	lea	1(%rdi), %rax
	mov	%rax, 24(%rbx)
	jmp	reply
read:
	mov	(%rdi), %rax
	mov	%rax, 24(%rbx)
	jmp	reply
tls:
	mov	%fs:16, %rax
	mov	%rax, 24(%rbx)
	jmp	reply
exit_group:
	mov	$231, %eax
	syscall
	ud2
exit:
	mov	$60, %eax
	syscall
	ud2
getpid:
	mov	$39, %eax
	syscall
reply:
	mov	%r12d, 4(%rbx)
	lea	4(%rbx), %rdi		/* futex_wake(&ack, INT_MAX) */
	mov	$1, %esi		/* FUTEX_WAKE */
	mov	$0x7fffffff, %edx
	mov	$202, %eax
	syscall
	jmp	wait

	.section .note.GNU-stack, "", @progbits
