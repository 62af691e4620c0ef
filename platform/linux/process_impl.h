/*
 * Internals of the process module, shared by its three files:
 *
 *   process.c  the public API, the controller thread that owns every
 *              tracee, the request queue into it and the event thread;
 *   spawn.c    making a component process: clone, seize, exec the launcher,
 *              then set it up by system-call injection;
 *   tracee.c   what happens to a traced thread: interpreting wait statuses
 *              (exits, faults, forbidden calls), stopping, borrowing a
 *              thread for injection, registers, killing, reaping.
 *
 * Everything below except the fields marked otherwise belongs to the
 * controller thread and is touched by no other thread.
 */
#ifndef AMBER_PLATFORM_PROCESS_IMPL_H
#define AMBER_PLATFORM_PROCESS_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "platform/linux/dataspace.h"
#include "platform/linux/process.h"
#include "platform/linux/seccomp.h"

enum thread_state {
	THREAD_RUNNING, /* resumed by core (or on its way out) */
	THREAD_STOPPED, /* held in a ptrace stop by core */
	THREAD_GONE,    /* reaped; freed at the next garbage collection */
};

struct thread {
	pid_t tid;
	enum thread_state state;
	int want_stop;   /* a PTRACE_EVENT_STOP now is one we asked for */
	int exiting;     /* past PTRACE_EVENT_EXIT: no injection, no regs */
	int report_exit; /* left with exit(2) while others ran: report it */
	int fault_held;  /* in the signal-delivery stop of a fault, signal suppressed */
	struct thread *next;
};

struct process {
	/* Fixed at spawn; read by any thread. */
	char name[32];
	pid_t pid;
	void *user;

	/* Any thread. */
	atomic_int refs;       /* the caller's, plus one per queued event */
	atomic_int destroyed;  /* process_destroy ran: deliver no more events */

	/* Controller only. */
	struct thread *threads;
	int linked;            /* on the controller's list */
	int dying;             /* SIGKILL sent or exit_group seen: no new requests */
	int killed;            /* SIGKILL sent */
	int dead;              /* the leader is reaped: everything is gone */
	int ended;             /* `end` holds the first reason recorded */
	int uffd;              /* core's copy of its userfaultfd (spawn_uffd), or -1 */
	int uffd_async;        /* the same with asynchronous write-protection, or -1 */
	int pagemap;           /* its /proc/PID/pagemap (process_scan_written), or -1 */
	struct process_exit_info end;
	struct process *next;
};

/* Shared read-only state of the module, set up by process_system_start. */
struct process_globals {
	const char *launcher;
	struct dataspace trampoline; /* `syscall; int3`, R-X in every component */
	uint64_t trampoline_inode;
	struct filter_prog filter;
	int core_pidfd;              /* amber-core itself, for the children's fd 3 */
	/* The FPU/vector state of a freshly exec'd thread: new threads start
	 * with it, not with a copy of whichever thread was borrowed. */
	uint8_t *init_xstate;
	uint32_t init_xstate_size;
};
extern struct process_globals process_g;

/* process.c */
void process_post_thread_exited(struct process *p, pid_t tid);
void process_post_exited(struct process *p, const struct process_exit_info *info);
/* A fault handler is installed: hold faulting threads and post the fault. */
int process_fault_handled(void);
void process_post_fault(struct process *p, pid_t tid, const struct process_fault_info *info);
void process_unref(struct process *p);

/* tracee.c */
struct thread *tracee_add(struct process *p, pid_t tid, enum thread_state state);
struct thread *tracee_find(struct process *p, pid_t tid);
int tracee_handle(struct process *p, struct thread *t, int status);
int tracee_stray(void *ctx, pid_t tid, int status);
int tracee_wait_stop(struct process *p, struct thread *t);
int tracee_stop(struct process *p, struct thread *t);
int tracee_borrow(struct process *p, struct thread **out, int *was_running);
void tracee_return(struct process *p, struct thread *t, int was_running);
int tracee_inject(struct process *p, struct thread *t, uint64_t gadget, long nr, uint64_t a0,
		  uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, int64_t *ret);
int tracee_set_start(struct process *p, struct thread *t, const struct thread_start *start);
int tracee_get_regs(struct thread *t, struct thread_regs *regs);
int tracee_set_regs(struct thread *t, const struct thread_regs *regs);
void tracee_kill(struct process *p, enum process_end how, int code, pid_t tid, uint64_t addr,
		 uint64_t ip, const char *reason);
void tracee_poll(struct process *p);
void tracee_reap_all(struct process *p);
void tracee_collect(struct process *p);

/* spawn.c */
int spawn_process(struct process *p, const struct process_mapping *maps, size_t nmaps,
		  const struct thread_start *start);
/* spawn_process in two halves: a sandboxed process that is nobody yet (a
 * spare), and what makes it the component: its name, its memory, its first
 * thread's start. On an error with p->pid set the caller kills and reaps. */
int spawn_check(const struct process_mapping *maps, size_t nmaps, const struct thread_start *start);
int spawn_blank(struct process *p);
int spawn_finish(struct process *p, const struct process_mapping *maps, size_t nmaps,
		 const struct thread_start *start);
int spawn_check_mapping(const struct process_mapping *m);
int spawn_map(struct process *p, const struct process_mapping *m);
int spawn_unmap(struct process *p, uint64_t addr, uint64_t size);
int spawn_remap(struct process *p, const struct process_mapping *ops, size_t n, int *rc);
int spawn_thread(struct process *p, const struct thread_start *start, pid_t *tid);
int spawn_uffd(struct process *p, bool async);

#endif
