/*
 * The component seccomp filter: what a component may ask Linux directly.
 *
 * A component talks to the kernel through its UTCB and a futex doorbell,
 * so it needs almost nothing from Linux. The policy has three outcomes:
 *
 *   ALLOW  futex(FUTEX_WAIT|FUTEX_WAKE) (shared futexes: the UTCB is a
 *          shared mapping core also waits on), exit, exit_group,
 *          sched_yield, and restart_syscall (the kernel itself issues it
 *          when a futex wait with a timeout is resumed after a ptrace stop).
 *   TRACE  the calls core injects: mmap, munmap, mprotect, clone,
 *          pidfd_getfd, close, userfaultfd, prctl(PR_SET_NAME). Core is the tracer and sees a
 *          PTRACE_EVENT_SECCOMP stop for each; it lets the call through only
 *          while it is injecting into exactly that thread, and otherwise
 *          kills the process (the component tried to call it itself).
 *          libseccomp cannot match the instruction pointer, which is why the
 *          decision is made by the tracer and not by the filter.
 *   TRAP   everything else, and every call made with another ABI (int 0x80,
 *          x32): SIGSYS, which core sees as a signal-delivery stop, reports
 *          as "forbidden system call NAME (NR)" and answers with SIGKILL.
 *
 * The filter is exported as BPF once and installed in each component by
 * injecting prctl(PR_SET_NO_NEW_PRIVS) and seccomp(SECCOMP_SET_MODE_FILTER).
 */
#include "platform/linux/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/linux/compat.h"

static const int filter_allowed[] = {
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
};

static const int filter_traced[] = {
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect),
	SCMP_SYS(clone), SCMP_SYS(pidfd_getfd), SCMP_SYS(close), SCMP_SYS(userfaultfd),
};

#define FILTER_COUNT(a) (sizeof(a) / sizeof((a)[0]))

int filter_is_traced(long nr)
{
	for (size_t i = 0; i < FILTER_COUNT(filter_traced); i++)
		if (filter_traced[i] == nr)
			return 1;
	return 0;
}

void filter_syscall_name(uint32_t arch, long nr, char *buf, size_t len)
{
	/* libseccomp's arch tokens are the AUDIT_ARCH_* values siginfo has. */
	char *name = seccomp_syscall_resolve_num_arch(arch, (int)nr);
	snprintf(buf, len, "%s", name ? name : "unknown");
	free(name);
}

static int filter_rules(scmp_filter_ctx ctx)
{
	int rc;

	/* A foreign ABI must not bypass the filter, nor kill just one thread. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	if (rc < 0)
		return rc;

	/* futex: only the two shared operations; the op is an int but the
	 * comparison covers the whole register, so garbage in the upper half
	 * is refused rather than guessed about. */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
			      SCMP_A1(SCMP_CMP_EQ, FUTEX_WAIT));
	if (rc < 0)
		return rc;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
			      SCMP_A1(SCMP_CMP_EQ, FUTEX_WAKE));
	if (rc < 0)
		return rc;

	for (size_t i = 0; i < FILTER_COUNT(filter_allowed); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, filter_allowed[i], 0);
		if (rc < 0)
			return rc;
	}
	/* The trace data is the syscall number, for a tracer's convenience;
	 * core reads the number from the registers anyway. */
	for (size_t i = 0; i < FILTER_COUNT(filter_traced); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE((uint32_t)filter_traced[i]),
				      filter_traced[i], 0);
		if (rc < 0)
			return rc;
	}
	/* A spare process is named when it becomes a component, after its
	 * filter is in place (spawn.c): prctl(PR_SET_NAME) alone is traced. */
	return seccomp_rule_add(ctx, SCMP_ACT_TRACE((uint32_t)SCMP_SYS(prctl)), SCMP_SYS(prctl), 1,
				SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
}

/* libseccomp exports to a file descriptor; a memfd (unlike a pipe) cannot
 * block however large the program grows. */
static int filter_export(scmp_filter_ctx ctx, struct filter_prog *out)
{
	struct stat st;
	ssize_t n;
	int fd, rc;

	fd = memfd_create("amber:bpf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		goto out;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		rc = -EINVAL;
		goto out;
	}
	out->insns = malloc((size_t)st.st_size);
	if (!out->insns) {
		rc = -ENOMEM;
		goto out;
	}
	n = pread(fd, out->insns, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		free(out->insns);
		out->insns = NULL;
		rc = n < 0 ? -errno : -EIO;
		goto out;
	}
	out->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	rc = 0;
out:
	close(fd);
	return rc;
}

int filter_build(struct filter_prog *out)
{
	scmp_filter_ctx ctx;
	int rc;

	memset(out, 0, sizeof(*out));
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	rc = filter_rules(ctx);
	if (rc == 0)
		rc = filter_export(ctx, out);
	seccomp_release(ctx);
	return rc;
}

void filter_free(struct filter_prog *prog)
{
	free(prog->insns);
	prog->insns = NULL;
	prog->len = 0;
}
