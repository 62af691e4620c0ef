/*
 * Building a component process, and changing it later, by injection.
 *
 * A component process must contain nothing but memory core knows about,
 * and core must never depend on code the component controls. So core does
 * not exec the component: it clones a child (CLONE_VM, no copy of core's
 * page tables), has the child exec a launcher that
 * never runs (it is seized before execve and stops at PTRACE_EVENT_EXEC),
 * and then makes the child's system calls for it (inject.c):
 *
 *   2. map the trampoline page         pidfd_getfd + mmap + close, via
 *                                      the launcher's gadget
 *   3. prctl(PR_SET_NO_NEW_PRIVS), seccomp(SECCOMP_SET_MODE_FILTER) with
 *      the BPF written into the launcher's scratch area
 *   1. prctl(PR_SET_NAME)              from the launcher's scratch area
 *   4. munmap everything below and above the trampoline: the launcher,
 *      [stack], [vdso], [vvar]... ([vsyscall] is not a VMA and stays)
 *   5. map every dataspace             pidfd_getfd + mmap + close
 *   6. set the first thread's registers, leave it stopped
 *   7. check /proc/PID/maps: exactly the dataspaces and the trampoline.
 *
 * From step 3 on every injected call goes through the trampoline and
 * passes the filter as SECCOMP_RET_TRACE. Steps 2 and 3 make a process
 * that is nobody yet (spawn_blank): process.c keeps a few of those as
 * spares, so that a start or restore only does the rest (spawn_finish). The child keeps one file
 * descriptor, 3, a pidfd of amber-core, so that pidfd_getfd(3, fd) can
 * fetch any memfd from core; a dataspace fd lives in the component only
 * between its pidfd_getfd and its close.
 */
#include "platform/linux/process_impl.h"
#include "platform/linux/uffd_compat.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "amber/abi.h"
#include "platform/linux/compat.h"
#include "platform/linux/inject.h"
#include "platform/linux/launcher.h"
#include "platform/linux/maps.h"

#define SPAWN_CORE_FD 3 /* the child's pidfd of amber-core */
#define SPAWN_PTRACE_OPTIONS                                                                      \
	(PTRACE_O_TRACECLONE | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |  \
	 PTRACE_O_EXITKILL)
#define SPAWN_CLONE_FLAGS                                                                         \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

/* The kernel's struct sigaction for rt_sigaction(2). */
struct spawn_ksigaction {
	unsigned long handler, flags, restorer, mask;
};

/* A system call without errno: the child below shares core's memory and
 * thread-local storage until its execve, so it must write neither. */
__attribute__((no_sanitize("address", "undefined"))) static inline long
spawn_raw(long nr, long a0, long a1, long a2, long a3)
{
	long ret;
	register long r10 __asm__("r10") = a3;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

struct spawn_args {
	int core_pidfd, go_fd;
	const char *launcher;
};

/*
 * The child, until execve. It is cloned with CLONE_VM, so that core's
 * page tables need not be copied (a fork of amber-core took 4-6 ms): it
 * runs on its own small stack, in core's memory, next to core's threads.
 * So only raw system calls here (no errno, no malloc, no locks, nothing a
 * sanitizer intercepts) and no writes but to its stack. Fails with the
 * errno as exit status, which spawn_fork() turns back.
 */
__attribute__((noreturn, no_sanitize("address", "undefined"))) static int spawn_child(void *arg)
{
	static const struct spawn_ksigaction dfl; /* SIG_DFL, no flags */
	const struct spawn_args *a = arg;
	const int core_pidfd = a->core_pidfd;
	const char *launcher = a->launcher;
	const unsigned long empty = 0;
	char *const argv[] = {(char *)"amber-launch", NULL};
	char *const envp[] = {NULL};
	char go;
	long fd;

	/* A clean slate: core's signal mask and ignored signals would
	 * survive execve (the handler table is the child's own copy). */
	spawn_raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&empty, 0, sizeof(empty));
	for (int sig = 1; sig < 65; sig++)
		spawn_raw(SYS_rt_sigaction, sig, (long)&dfl, 0, sizeof(dfl.mask));

	/* fd 3 = core's pidfd; the go pipe above it, closed by execve like
	 * every other descriptor. */
	fd = spawn_raw(SYS_fcntl, a->go_fd, F_DUPFD_CLOEXEC, SPAWN_CORE_FD + 1, 0);
	if (fd < 0)
		spawn_raw(SYS_exit_group, -fd, 0, 0, 0);
	const int go_fd = (int)fd;
	if (core_pidfd == SPAWN_CORE_FD)
		fd = spawn_raw(SYS_fcntl, SPAWN_CORE_FD, F_SETFD, 0, 0);
	else
		fd = spawn_raw(SYS_dup3, core_pidfd, SPAWN_CORE_FD, 0, 0);
	if (fd < 0)
		spawn_raw(SYS_exit_group, -fd, 0, 0, 0);
	spawn_raw(SYS_close_range, 0, SPAWN_CORE_FD - 1, 0, 0);
	spawn_raw(SYS_close_range, SPAWN_CORE_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC, 0);

	/* Wait until core has seized us, so the exec is traced. */
	if (spawn_raw(SYS_read, go_fd, (long)&go, 1, 0) != 1)
		spawn_raw(SYS_exit_group, ECANCELED, 0, 0, 0);
	long rc = spawn_raw(SYS_execve, (long)launcher, (long)argv, (long)envp, 0);
	spawn_raw(SYS_exit_group, -rc, 0, 0, 0);
	__builtin_unreachable();
}

#define SPAWN_CHILD_STACK (64 * 1024)

/* Seize the child, let it exec the launcher, and wait for the stop before
 * the launcher's first instruction. On return the child has exec'd or is
 * gone: it no longer runs on core's memory. *exists: it is still to be
 * reaped (stopped, or killed after a failure). */
static int spawn_seize(pid_t pid, int go, bool *exists)
{
	int status, rc, exec_seen = 0;

	if (ptrace(PTRACE_SEIZE, pid, 0, SPAWN_PTRACE_OPTIONS) < 0) {
		rc = -errno;
		kill(pid, SIGKILL);
		close(go);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return rc;
	}
	rc = write(go, "g", 1) == 1 ? 0 : -EIO;
	close(go);

	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -ECHILD;
		}
		if (WIFEXITED(status))
			return WEXITSTATUS(status) ? -WEXITSTATUS(status) : -ENOEXEC;
		if (WIFSIGNALED(status))
			return -ECHILD;
		if (WIFSTOPPED(status) && status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
			/* The exec stop is inside execve, whose return value
			 * would overwrite an injected rax. Move on to a stop
			 * after the return, before the launcher's first
			 * instruction: the interrupt traps on the way out. */
			if (exec_seen || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
			    ptrace(PTRACE_CONT, pid, 0, 0) < 0) {
				rc = -ECHILD;
				break;
			}
			exec_seen = 1;
			continue;
		}
		if (WIFSTOPPED(status) && exec_seen && status >> 16 == PTRACE_EVENT_STOP)
			break;
		/* A stray signal or event: drop it. */
		ptrace(PTRACE_CONT, pid, 0, 0);
	}
	*exists = true;
	if (rc < 0)
		kill(pid, SIGKILL); /* the caller reaps */
	return rc;
}

/* Clone, seize, exec the launcher; returns with the child stopped before
 * the launcher's first instruction. */
static int spawn_fork(pid_t *out)
{
	int go[2], rc;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	void *stack = mmap(NULL, SPAWN_CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		rc = -errno;
		close(go[0]);
		close(go[1]);
		return rc;
	}
	struct spawn_args args = { process_g.core_pidfd, go[0], process_g.launcher };
	pid_t pid = clone(spawn_child, (char *)stack + SPAWN_CHILD_STACK, CLONE_VM | SIGCHLD, &args);
	if (pid < 0) {
		rc = -errno;
		close(go[1]);
	} else {
		bool exists = false;
		rc = spawn_seize(pid, go[1], &exists);
		if (exists)
			*out = pid;
	}
	close(go[0]);
	munmap(stack, SPAWN_CHILD_STACK); /* exec'd or gone: no longer its stack */
	return rc;
}

/* One injected call; the result, or -errno from the call or the injection. */
static int64_t spawn_sys(struct process *p, struct thread *t, uint64_t gadget, long nr, uint64_t a0,
			 uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	int64_t ret;
	int rc = tracee_inject(p, t, gadget, nr, a0, a1, a2, a3, a4, a5, &ret);
	return rc < 0 ? rc : ret;
}

static int spawn_is_err(int64_t v) { return v < 0 && v >= -4095; }

int spawn_check_mapping(const struct process_mapping *m)
{
	const uint64_t page = AMBER_PAGE_SIZE - 1;

	if (!m->ds || m->size == 0 || (m->addr | m->offset | m->size) & page)
		return -EINVAL;
	if (m->offset > m->ds->size || m->size > m->ds->size - m->offset)
		return -EINVAL;
	if (m->addr >= LINUX_USER_TOP || m->size > LINUX_USER_TOP - m->addr)
		return -EINVAL;
	if (m->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	/* The trampoline is core's: no one maps over it. */
	if (m->addr < AMBER_TRAMPOLINE_ADDR + AMBER_PAGE_SIZE &&
	    AMBER_TRAMPOLINE_ADDR < m->addr + m->size)
		return -EINVAL;
	return 0;
}

/* Registers the kernel would refuse once the thread exists. */
static int spawn_check_start(const struct thread_start *start)
{
	if (start->ip >= LINUX_USER_TOP || start->sp > LINUX_USER_TOP ||
	    start->tls_base >= LINUX_USER_TOP)
		return -EINVAL;
	return 0;
}

/* pidfd_getfd + mmap + close. `remote_fd` caches the last dataspace's fd
 * in the component so consecutive mappings of one dataspace share it. */
static int spawn_map_one(struct process *p, struct thread *t, uint64_t gadget,
			 const struct process_mapping *m, int flags)
{
	int64_t fd, addr, rc;

	fd = spawn_sys(p, t, gadget, SYS_pidfd_getfd, SPAWN_CORE_FD, (uint64_t)m->ds->fd, 0, 0, 0,
		       0);
	if (fd < 0)
		return (int)fd;
	addr = spawn_sys(p, t, gadget, SYS_mmap, m->addr, m->size, (uint64_t)m->prot,
			 (uint64_t)(MAP_SHARED | flags), (uint64_t)fd, m->offset);
	rc = spawn_sys(p, t, gadget, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0);
	if (spawn_is_err(addr))
		return (int)addr;
	if ((uint64_t)addr != m->addr) {
		/* A kernel that ignores MAP_FIXED_NOREPLACE put it elsewhere. */
		spawn_sys(p, t, gadget, SYS_munmap, (uint64_t)addr, m->size, 0, 0, 0, 0);
		return -EEXIST;
	}
	return rc < 0 ? (int)rc : 0;
}

static int spawn_call_ok(int64_t v) { return v < 0 ? (int)v : 0; }

/* Remember the XSAVE state of a thread nothing has run on yet. */
static void spawn_capture_xstate(pid_t tid)
{
	struct thread_regs *r;
	struct thread t = {.tid = tid};

	if (process_g.init_xstate)
		return;
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return;
	if (tracee_get_regs(&t, r) == 0 && r->xstate_size) {
		process_g.init_xstate = malloc(r->xstate_size);
		if (process_g.init_xstate) {
			memcpy(process_g.init_xstate, r->xstate, r->xstate_size);
			process_g.init_xstate_size = r->xstate_size;
		}
	}
	free(r);
}

struct spawn_expect {
	uint64_t addr, size, offset, inode;
	int prot;
};

static int spawn_expect_cmp(const void *a, const void *b)
{
	const struct spawn_expect *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * The guarantee: the process has exactly the expected mappings (the kernel
 * may have merged neighbours with contiguous offsets into one VMA), plus
 * [vsyscall], which is not a real VMA and cannot be removed.
 */
static int spawn_verify_maps(struct process *p, const struct process_mapping *maps, size_t nmaps)
{
	struct spawn_expect *exp;
	struct maps_entry *e = NULL;
	size_t ne = 0, k = 0, i;
	struct stat st;
	int rc = 0;

	exp = calloc(nmaps + 1, sizeof(*exp));
	if (!exp)
		return -ENOMEM;
	for (i = 0; i < nmaps; i++) {
		if (fstat(maps[i].ds->fd, &st) < 0) {
			rc = -errno;
			goto out;
		}
		exp[i] = (struct spawn_expect){maps[i].addr, maps[i].size, maps[i].offset,
					       (uint64_t)st.st_ino, maps[i].prot};
	}
	exp[nmaps] = (struct spawn_expect){AMBER_TRAMPOLINE_ADDR, AMBER_PAGE_SIZE, 0,
					   process_g.trampoline_inode, PROT_READ | PROT_EXEC};
	qsort(exp, nmaps + 1, sizeof(*exp), spawn_expect_cmp);

	rc = maps_read(p->pid, &e, &ne);
	if (rc < 0)
		goto out;
	for (i = 0; i < ne && rc == 0; i++) {
		uint64_t at = e[i].start;
		if (strcmp(e[i].path, "[vsyscall]") == 0)
			continue;
		while (at < e[i].end && k <= nmaps && exp[k].addr == at && exp[k].prot == e[i].prot &&
		       e[i].shared && exp[k].inode == e[i].inode &&
		       exp[k].offset == e[i].offset + (at - e[i].start)) {
			at += exp[k].size;
			k++;
		}
		if (at != e[i].end) {
			fprintf(stderr, "amber: process %s: unexpected mapping %llx-%llx %s\n", p->name,
				(unsigned long long)e[i].start, (unsigned long long)e[i].end,
				e[i].path);
			rc = -EFAULT;
		}
	}
	if (rc == 0 && k != nmaps + 1) {
		fprintf(stderr, "amber: process %s: mapping at %llx is missing\n", p->name,
			(unsigned long long)exp[k].addr);
		rc = -EFAULT;
	}
out:
	free(e);
	free(exp);
	return rc;
}

/* Steps 2 and 3: a sandboxed process that is nobody yet. */
static int spawn_setup_blank(struct process *p, struct thread *t)
{
	const struct process_mapping tramp = {&process_g.trampoline, AMBER_TRAMPOLINE_ADDR, 0,
					      AMBER_PAGE_SIZE, PROT_READ | PROT_EXEC};
	struct sock_fprog fprog;
	uint64_t gadget = LAUNCHER_SYSCALL_ADDR, word;
	const uint64_t prog_addr = LAUNCHER_SCRATCH_ADDR + 64;
	size_t prog_size = process_g.filter.len * sizeof(struct sock_filter);
	int rc;

	rc = inject_peek(t->tid, LAUNCHER_SYSCALL_ADDR, &word);
	if (rc < 0 || (word & 0xffffff) != LAUNCHER_GADGET_BYTES)
		return -ENOEXEC; /* not our launcher */
	spawn_capture_xstate(t->tid);

	/* 2. The trampoline, while the launcher's gadget still exists. */
	rc = spawn_map_one(p, t, gadget, &tramp, MAP_FIXED_NOREPLACE);
	if (rc < 0)
		return rc;

	/* 3. The sandbox. */
	if (64 + prog_size > LAUNCHER_SCRATCH_SIZE)
		return -E2BIG;
	fprog.len = process_g.filter.len;
	fprog.filter = (struct sock_filter *)(uintptr_t)prog_addr;
	rc = inject_write(t->tid, prog_addr, process_g.filter.insns, prog_size);
	if (rc == 0)
		rc = inject_write(t->tid, LAUNCHER_SCRATCH_ADDR, &fprog, sizeof(fprog));
	if (rc < 0)
		return rc;
	rc = spawn_call_ok(spawn_sys(p, t, gadget, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0));
	if (rc == 0)
		rc = spawn_call_ok(spawn_sys(p, t, gadget, SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
					     LAUNCHER_SCRATCH_ADDR, 0, 0, 0));
	return rc;
}

/* Steps 1 and 4 to 7: the blank process becomes the component. */
static int spawn_setup_finish(struct process *p, struct thread *t, const struct process_mapping *maps,
			      size_t nmaps, const struct thread_start *start)
{
	const uint64_t gadget = AMBER_TRAMPOLINE_ADDR;
	char comm[16];
	int rc;

	/* 1. A name for ps and top (the launcher's would be misleading),
	 * from the launcher's scratch area while it is there. */
	memset(comm, 0, sizeof(comm));
	memcpy(comm, p->name, strnlen(p->name, sizeof(comm) - 1));
	rc = inject_write(t->tid, LAUNCHER_SCRATCH_ADDR, comm, sizeof(comm));
	if (rc < 0)
		return rc;
	rc = spawn_call_ok(spawn_sys(p, t, gadget, SYS_prctl, PR_SET_NAME, LAUNCHER_SCRATCH_ADDR, 0, 0, 0, 0));
	if (rc < 0)
		return rc;

	/* 4. Everything but the trampoline goes, in two calls. */
	rc = spawn_call_ok(spawn_sys(p, t, gadget, SYS_munmap, 0, AMBER_TRAMPOLINE_ADDR, 0, 0, 0, 0));
	if (rc == 0)
		rc = spawn_call_ok(spawn_sys(p, t, gadget, SYS_munmap,
					     AMBER_TRAMPOLINE_ADDR + AMBER_PAGE_SIZE,
					     LINUX_USER_TOP - AMBER_TRAMPOLINE_ADDR - AMBER_PAGE_SIZE,
					     0, 0, 0, 0));
	if (rc < 0)
		return rc;

	/* 5. The component's memory. */
	for (size_t i = 0; i < nmaps; i++) {
		rc = spawn_map_one(p, t, gadget, &maps[i], MAP_FIXED_NOREPLACE);
		if (rc < 0)
			return rc;
	}

	/* 6. Ready to run, but held. */
	rc = tracee_set_start(p, t, start);
	if (rc < 0)
		return rc;

	/* 7. Trust, but verify. */
	return spawn_verify_maps(p, maps, nmaps);
}

int spawn_check(const struct process_mapping *maps, size_t nmaps, const struct thread_start *start)
{
	int rc = spawn_check_start(start);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nmaps; i++) {
		rc = spawn_check_mapping(&maps[i]);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (maps[i].addr < maps[j].addr + maps[j].size &&
			    maps[j].addr < maps[i].addr + maps[i].size)
				return -EINVAL;
	}
	return 0;
}

int spawn_blank(struct process *p)
{
	struct thread *t;
	pid_t pid = 0;
	int rc = spawn_fork(&pid);
	if (pid > 0) {
		p->pid = pid;
		t = tracee_add(p, pid, THREAD_STOPPED);
		if (!t) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
				;
			p->pid = 0;
			return -ENOMEM;
		}
		if (rc == 0)
			rc = spawn_setup_blank(p, t);
	}
	return rc; /* on error with p->pid set, the caller kills and reaps */
}

int spawn_finish(struct process *p, const struct process_mapping *maps, size_t nmaps,
		 const struct thread_start *start)
{
	int rc = spawn_check(maps, nmaps, start);
	if (rc < 0)
		return rc;
	struct thread *t = p->threads;
	if (!t || t->next || t->state != THREAD_STOPPED || p->dead || p->dying)
		return -ESRCH; /* a spare that was killed meanwhile */
	return spawn_setup_finish(p, t, maps, nmaps, start);
}

int spawn_process(struct process *p, const struct process_mapping *maps, size_t nmaps,
		  const struct thread_start *start)
{
	int rc = spawn_check(maps, nmaps, start);
	if (rc == 0)
		rc = spawn_blank(p);
	if (rc == 0)
		rc = spawn_finish(p, maps, nmaps, start);
	return rc; /* on error with p->pid set, the caller kills and reaps */
}

int spawn_map(struct process *p, const struct process_mapping *m)
{
	struct thread *t;
	int was_running, rc;

	rc = spawn_check_mapping(m);
	if (rc < 0)
		return rc;
	rc = tracee_borrow(p, &t, &was_running);
	if (rc < 0)
		return rc;
	rc = spawn_map_one(p, t, AMBER_TRAMPOLINE_ADDR, m, MAP_FIXED);
	tracee_return(p, t, was_running);
	return rc;
}

static int spawn_check_unmap(uint64_t addr, uint64_t size)
{
	if (size == 0 || (addr | size) & (AMBER_PAGE_SIZE - 1) || addr >= LINUX_USER_TOP ||
	    size > LINUX_USER_TOP - addr)
		return -EINVAL;
	if (addr < AMBER_TRAMPOLINE_ADDR + AMBER_PAGE_SIZE && AMBER_TRAMPOLINE_ADDR < addr + size)
		return -EINVAL;
	return 0;
}

/* A run of changes with one borrowed thread, in order: a mapping (ds set),
 * or an unmapping (ds NULL). The memfd goes into the process once per run
 * of mappings of the same dataspace (by id), not once per mapping: a
 * managed dataspace attached 200 times costs 200 mmaps, not 600 calls. */
int spawn_remap(struct process *p, const struct process_mapping *ops, size_t n, int *rc)
{
	struct thread *t;
	int was_running, e;
	int64_t fd = -1;
	uint64_t fd_of = 0; /* the dataspace id fd shows */

	e = tracee_borrow(p, &t, &was_running);
	for (size_t i = 0; i < n; i++)
		rc[i] = e;
	if (e < 0)
		return e;
	for (size_t i = 0; i < n; i++) {
		const struct process_mapping *m = &ops[i];
		if (!m->ds) {
			rc[i] = spawn_check_unmap(m->addr, m->size);
			if (rc[i] == 0)
				rc[i] = spawn_call_ok(spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_munmap, m->addr, m->size,
								0, 0, 0, 0));
			continue;
		}
		rc[i] = spawn_check_mapping(m);
		if (rc[i] < 0)
			continue;
		if (fd < 0 || fd_of != m->ds->id) {
			if (fd >= 0)
				spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0);
			fd = spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_pidfd_getfd, SPAWN_CORE_FD,
				       (uint64_t)m->ds->fd, 0, 0, 0, 0);
			fd_of = m->ds->id;
			if (fd < 0) {
				rc[i] = (int)fd;
				continue;
			}
		}
		int64_t addr = spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_mmap, m->addr, m->size, (uint64_t)m->prot,
					 (uint64_t)(MAP_SHARED | MAP_FIXED), (uint64_t)fd, m->offset);
		if (spawn_is_err(addr)) {
			rc[i] = (int)addr;
		} else if ((uint64_t)addr != m->addr) {
			spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_munmap, (uint64_t)addr, m->size, 0, 0, 0, 0);
			rc[i] = -EEXIST;
		}
	}
	if (fd >= 0)
		spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0);
	tracee_return(p, t, was_running);
	return 0;
}

int spawn_unmap(struct process *p, uint64_t addr, uint64_t size)
{
	struct thread *t;
	int was_running, rc;

	rc = spawn_check_unmap(addr, size);
	if (rc < 0)
		return rc;
	rc = tracee_borrow(p, &t, &was_running);
	if (rc < 0)
		return rc;
	rc = spawn_call_ok(spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_munmap, addr, size, 0, 0, 0, 0));
	tracee_return(p, t, was_running);
	return rc;
}

int spawn_uffd(struct process *p, bool async)
{
	struct thread *t;
	int was_running, rc;
	int *have = async ? &p->uffd_async : &p->uffd;

	if (*have >= 0)
		return *have;
	rc = tracee_borrow(p, &t, &was_running);
	if (rc < 0)
		return rc;
	/* User-mode faults only: the component makes no system call that
	 * writes its memory, and it needs no privilege. */
	int64_t fd = spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY,
			       0, 0, 0, 0, 0);
	int mine = -1;
	if (spawn_is_err(fd)) {
		rc = (int)fd;
	} else {
		int pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
		mine = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
		rc = mine < 0 ? -errno : 0;
		if (pidfd >= 0)
			close(pidfd);
		spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0);
	}
	tracee_return(p, t, was_running);
	if (rc < 0)
		return rc;
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	if (async)
		api.features |= UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
	if (ioctl(mine, UFFDIO_API, &api) < 0) {
		rc = -errno;
		close(mine);
		return rc;
	}
	*have = mine;
	return mine;
}

int spawn_thread(struct process *p, const struct thread_start *start, pid_t *tid)
{
	struct thread *t, *nt;
	int was_running, rc;
	int64_t ntid;

	rc = spawn_check_start(start);
	if (rc < 0)
		return rc;
	rc = tracee_borrow(p, &t, &was_running);
	if (rc < 0)
		return rc;
	/* The new thread is auto-attached (PTRACE_O_TRACECLONE) and first
	 * stops in PTRACE_EVENT_STOP; its registers are set there. */
	ntid = spawn_sys(p, t, AMBER_TRAMPOLINE_ADDR, SYS_clone, SPAWN_CLONE_FLAGS, start->sp, 0, 0, 0,
			 0);
	tracee_return(p, t, was_running);
	if (ntid <= 0)
		return ntid < 0 ? (int)ntid : -EIO;
	nt = tracee_add(p, (pid_t)ntid, THREAD_RUNNING);
	if (!nt) {
		tracee_kill(p, PROCESS_KILLED_BY_CORE, 0, (pid_t)ntid, 0, 0, "out of memory");
		return -ENOMEM;
	}
	rc = tracee_wait_stop(p, nt);
	if (rc == 0)
		rc = tracee_set_start(p, nt, start);
	if (rc == 0)
		*tid = (pid_t)ntid;
	return rc;
}
