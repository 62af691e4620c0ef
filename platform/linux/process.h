/*
 * Component processes: the Linux side of a task.
 *
 * Core hosts every component in a Linux process that it controls entirely
 * with ptrace. The process starts from a tiny launcher binary; core then,
 * by injecting system calls through a trampoline page, maps the component's
 * dataspaces at fixed addresses, removes every other mapping (launcher,
 * stack, vDSO), installs the seccomp filter and sets the first thread's
 * registers. Later mappings and new threads are made the same way, so a
 * component never holds memory core does not know and never calls mmap or
 * clone itself.
 *
 * All ptrace requests run on one controller thread (ptrace binds a tracee
 * to the tracer thread). The functions below may be called from any thread
 * and block until the controller has done the work. Events (exits, faults,
 * forbidden system calls) are delivered on a separate event thread, so a
 * caller may hold a lock that an event handler also takes.
 *
 * Faults: a CPU exception of a thread (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 * SIGTRAP raised by the CPU) ends the process unless the caller installed
 * a `fault` handler. With one, the controller leaves the faulting thread
 * in its signal-delivery stop (held, like a stopped thread: registers can
 * be read and written, it lends itself to injection) and the rest of the
 * process runs on; the event thread then asks the handler. KILL ends the
 * process as without a handler (PROCESS_FAULT, same report); HOLD leaves
 * the thread stopped with the signal suppressed: process_thread_resume()
 * continues it without the signal, so the faulting instruction is retried
 * (or, after set_regs moved rip, whatever is there). A held thread is
 * killed with its process like any other.
 */
#ifndef AMBER_PLATFORM_PROCESS_H
#define AMBER_PLATFORM_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "dataspace.h"

struct process;

struct process_mapping {
	const struct dataspace *ds;
	uint64_t addr;   /* page-aligned address in the component */
	uint64_t offset; /* page-aligned offset into the dataspace */
	uint64_t size;   /* page-aligned length */
	int prot;        /* PROT_READ | PROT_WRITE | PROT_EXEC */
};

/* Where a new thread starts. */
struct thread_start {
	uint64_t ip;
	uint64_t sp;
	uint64_t tls_base; /* fs base: the thread pointer (a component thread's TCB) */
	uint64_t arg0;     /* rdi */
	uint64_t arg1;     /* rsi */
};

/*
 * The complete register state of a stopped thread. A thread stopped inside
 * a blocking system call (a futex wait) shows gp.orig_rax = the call and
 * gp.rax = -ERESTARTSYS (-512) or -ERESTART_RESTARTBLOCK (-516): on resume
 * the kernel restarts the call. To send such a thread elsewhere instead,
 * set gp.orig_rax = -1. xstate_size must stay what get_regs returned.
 */
#define THREAD_XSTATE_MAX 16384
struct thread_regs {
	struct user_regs_struct gp; /* general registers, rip, rflags, fs_base, gs_base */
	uint32_t xstate_size;       /* bytes used in xstate */
	uint8_t xstate[THREAD_XSTATE_MAX] __attribute__((aligned(64))); /* NT_X86_XSTATE: FPU, SSE, AVX */
};

/* Why a process ended; filled for process_events.exited. */
enum process_end {
	PROCESS_EXITED,          /* exit_group(code) */
	PROCESS_KILLED_BY_CORE,  /* process_kill() */
	PROCESS_FORBIDDEN_SYSCALL, /* seccomp: syscall `detail` */
	PROCESS_FAULT,           /* an unhandled fault (signal `detail`, at `fault_addr`) */
	PROCESS_SIGNALED,        /* killed by a signal from outside core */
};

struct process_exit_info {
	enum process_end how;
	int code;            /* exit code, signal or syscall number */
	pid_t tid;           /* thread that faulted or made the syscall */
	uint64_t fault_addr; /* for PROCESS_FAULT */
	uint64_t ip;         /* instruction pointer at the fault or syscall */
	char reason[160];    /* human-readable, e.g. "forbidden system call openat (257)" */
};

/* A fault of one thread; for process_events.fault. */
struct process_fault_info {
	int sig;             /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
	int code;            /* si_code: SEGV_MAPERR, SEGV_ACCERR, ILL_ILLOPN, ... */
	uint64_t addr;       /* si_addr: the faulting address (SIGSEGV/SIGBUS) */
	uint64_t ip;         /* rip at the stop (after an int3, before a ud2) */
	char reason[160];    /* as reported should the process be killed */
};

enum process_fault_action {
	PROCESS_FAULT_KILL, /* end the process (PROCESS_FAULT) */
	PROCESS_FAULT_HOLD, /* keep the thread stopped; process_thread_resume retries */
};

struct process_events {
	/* A single thread left with exit(2); the process still runs. */
	void (*thread_exited)(struct process *p, pid_t tid, void *ctx);
	/* The whole process is gone; all its threads are reaped. */
	void (*exited)(struct process *p, const struct process_exit_info *info, void *ctx);
	/* Thread `tid` faulted and is held stopped. NULL: faults kill at once. */
	enum process_fault_action (*fault)(struct process *p, pid_t tid, const struct process_fault_info *info,
					   void *ctx);
};

/* Start the controller and event threads. `launcher` is the path of the
 * amber-launch binary. Call once. 0 or -errno.
 * Blocks SIGCHLD in the calling thread: the controller reads it from a
 * signalfd, so every thread of amber-core must block it. Call this before
 * creating any other thread (they inherit the mask); -EINVAL if a thread
 * exists that does not block it. */
int process_system_start(const char *launcher, const struct process_events *ev, void *ctx);

/* Kill every remaining process and stop the controller. Not from an
 * event handler. */
void process_system_stop(void);

/* Run fn(arg) on the event thread once every event queued before has been
 * handled: whatever a handler was given then is no longer in use (a
 * caller freeing what handlers get, core's components, waits for this).
 * Also from a handler (it runs after that one returns). 0, or -ENOMEM,
 * or -ESHUTDOWN once the system stops (fn never runs then). */
int process_post_call(void (*fn)(void *arg), void *arg);

/*
 * Create a process whose memory is exactly `maps` (plus the trampoline
 * page) and whose first thread is stopped, ready to start at `start`.
 * `user` is stored for the caller (process_user()). 0 or -errno.
 */
int process_spawn(struct process **out, const char *name, const struct process_mapping *maps,
		  size_t nmaps, const struct thread_start *start, void *user);

pid_t process_pid(const struct process *p);
void *process_user(const struct process *p);
const char *process_name(const struct process *p);

/* Map or unmap a range in a running process. 0 or -errno. */
int process_map(struct process *p, const struct process_mapping *m);
int process_unmap(struct process *p, uint64_t addr, uint64_t size);
/* Several of those in order, with one thread borrowed once: ops[i].ds set
 * maps, NULL unmaps ops[i].addr and size; results[i] is each one's 0 or
 * -errno. 0, or -errno if none was carried out (all results say so). */
int process_remap(struct process *p, const struct process_mapping *ops, size_t n, int *results);

/* Create another thread, stopped, ready to start at `start`. 0 or -errno. */
int process_thread_create(struct process *p, const struct thread_start *start, pid_t *tid);

/* Stop a thread wherever it is (user code or a system call) / let it run.
 * Both are no-ops if the thread already is in that state. -ESRCH if the
 * thread or process is gone. Resuming a thread held on a fault continues
 * it without the signal: the faulting instruction is retried. */
int process_thread_stop(struct process *p, pid_t tid);
int process_thread_resume(struct process *p, pid_t tid);

/* A userfaultfd of the process's memory, for core to write-protect it
 * while a checkpoint copies it (core/cr_copy.c): made inside the process by
 * an injected userfaultfd(UFFD_USER_MODE_ONLY) the first time it is asked
 * for, fetched with pidfd_getfd, UFFDIO_API done (write-protection of
 * shared memory), and kept until the process is gone. The fd, owned by the
 * process (do not close it), or -errno. */
int process_uffd(struct process *p);
/* The same, but its write-protection is asynchronous: a write to a
 * protected page lifts the protection by itself, in the kernel, and the
 * page counts as written until process_scan_written protects it again.
 * -EINVAL where the kernel lacks it (before Linux 6.7). */
int process_uffd_async(struct process *p);
/* Protect again, in [addr, addr+size) of its mappings registered with
 * process_uffd_async, every page written since they were protected, and
 * tell fn of each run of them (PAGEMAP_SCAN with PM_SCAN_WP_MATCHING:
 * the same atomic step). 0 or -errno. */
typedef void (*process_written_fn)(void *ctx, uint64_t addr, uint64_t size);
int process_scan_written(struct process *p, uint64_t addr, uint64_t size, process_written_fn fn, void *ctx);

/* Stop every thread of the process (a checkpoint's freeze): out[i] gets
 * each live thread and whether it ran before (else core held it: paused,
 * not started, or on a fault). Returns how many, or -ESRCH (gone or dying),
 * -EAGAIN (a thread is exiting: try again), -E2BIG (more than max). On an
 * error the threads it stopped that ran run again: nothing stays stopped. */
struct process_frozen {
	pid_t tid;
	int was_running;
};
int process_freeze(struct process *p, struct process_frozen *out, size_t max);

/* Read or write the full state of a stopped thread. -EBUSY if it runs. */
int process_thread_get_regs(struct process *p, pid_t tid, struct thread_regs *regs);
int process_thread_set_regs(struct process *p, pid_t tid, const struct thread_regs *regs);

/* Kill the process; `reason` is reported in process_exit_info. */
void process_kill(struct process *p, const char *reason);

/* Free a process, normally after its `exited` event. A live process is
 * killed first. No events for it are delivered once this returns. */
void process_destroy(struct process *p);

#endif
