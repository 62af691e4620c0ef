/*
 * Kernel constants newer than the build headers.
 *
 * Amber is built against Debian 12 (Linux 6.1 UAPI headers, glibc 2.36)
 * but runs on newer kernels. Every constant the platform layer needs that
 * those headers may lack is defined here, once, with the value the kernel
 * ABI fixes forever. Code that uses one must cope with the kernel
 * rejecting it (EINVAL) when it runs on an older kernel.
 */
#ifndef AMBER_PLATFORM_COMPAT_H
#define AMBER_PLATFORM_COMPAT_H

/* memfd_create: executable memfd, Linux 6.3 (older kernels: EINVAL). */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* siginfo si_code for SIGSYS raised by a seccomp SECCOMP_RET_TRAP. */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* close_range flag, Linux 5.11. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* seccomp(2) operation, Linux 3.17. */
#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif

/* futex(2) operations the filter allows (<linux/futex.h> clashes with
 * nothing, but keep all numbers the sandbox depends on in one place). */
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif
#ifndef FUTEX_WAKE
#define FUTEX_WAKE 1
#endif

/* ptrace events and options (glibc 2.36 has them; kept for older libcs). */
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* Highest user address + 1 with 4-level paging (TASK_SIZE_MAX). */
#define LINUX_USER_TOP 0x00007ffffffff000ull

#endif
