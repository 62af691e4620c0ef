/*
 * The component seccomp filter.
 *
 * Built with libseccomp and exported as classic BPF, because core installs
 * it in the component by injecting seccomp(2) rather than by loading it in
 * its own process. See seccomp.c for the policy.
 */
#ifndef AMBER_PLATFORM_SECCOMP_H
#define AMBER_PLATFORM_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

struct filter_prog {
	struct sock_filter *insns; /* malloc'd */
	unsigned short len;        /* instructions */
};

/* Build the component filter. 0 or -errno. */
int filter_build(struct filter_prog *out);
void filter_free(struct filter_prog *prog);

/* Is `nr` one of the calls the filter sends to core (SECCOMP_RET_TRACE)? */
int filter_is_traced(long nr);

/* "mmap" for (AUDIT_ARCH_X86_64, 9); "unknown" if libseccomp has no name. */
void filter_syscall_name(uint32_t arch, long nr, char *buf, size_t len);

#endif
