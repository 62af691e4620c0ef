/*
 * Component processes: the public API, the controller thread and the
 * event thread.
 *
 * ptrace binds a tracee to the one thread that attached it, so a single
 * controller thread owns every component thread: it clones and seizes them,
 * injects their system calls, stops and resumes them and reaps them. The
 * public functions are callable from any thread: each posts a request on a
 * queue, pokes the controller through an eventfd and sleeps on a semaphore
 * until the controller has carried it out. They must not be called on the
 * controller itself, which they detect.
 *
 * The controller sleeps in poll() on two descriptors: the eventfd, and a
 * signalfd for SIGCHLD, which the kernel sends the tracer for every stop
 * and exit of a tracee. SIGCHLD must therefore be blocked in every thread
 * of amber-core (a thread that had it unblocked would silently swallow it),
 * which is why process_system_start() blocks it in the caller and must run
 * before other threads exist. On a wakeup the controller peeks at pending
 * statuses (waitid WNOWAIT) and collects them with waitpid(tid) for known
 * threads only: it never reaps "any child", so it cannot steal the exit
 * status of children other parts of core may have. A slow periodic poll of
 * every thread backs up the signalfd should a SIGCHLD be lost anyway.
 *
 * Exits and faults are delivered to the caller's handlers on a separate event thread
 * through a queue, never on the controller: a handler may take a lock that
 * a thread blocked in a request holds, and may itself call the API. A
 * process carries a reference count (the caller's, plus one per queued
 * event), so it stays valid while an event about it is in flight; after
 * process_destroy() no more of its events are delivered.
 */
#include "platform/linux/process_impl.h"
#include "platform/linux/uffd_compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "amber/abi.h"

#define PROCESS_BACKUP_POLL_MS 500
#define PROCESS_POLL_BUDGET 256 /* statuses handled before requests get a turn */
#define PROCESS_SPARES_MAX 4     /* blank processes kept for spawns (AMBER_SPARES) */
#define PROCESS_SPARES_DEFAULT 2

struct process_globals process_g;

enum request_kind {
	REQ_SPAWN,
	REQ_MAP,
	REQ_UNMAP,
	REQ_REMAP,
	REQ_THREAD_CREATE,
	REQ_STOP,
	REQ_RESUME,
	REQ_GET_REGS,
	REQ_SET_REGS,
	REQ_KILL,
	REQ_KILL_FAULT,
	REQ_DESTROY,
	REQ_SHUTDOWN,
	REQ_FREEZE,
	REQ_UFFD,
	REQ_UFFD_ASYNC,
};

/* Lives on the caller's stack until `done` is posted. */
struct request {
	enum request_kind kind;
	struct process *p;
	pid_t tid;
	const struct process_mapping *maps;
	size_t nmaps;
	const struct thread_start *start;
	uint64_t addr, size;
	struct thread_regs *regs_out;
	const struct thread_regs *regs_in;
	pid_t *tid_out;
	const char *name, *reason;
	const struct process_fault_info *fault;
	struct process_frozen *frozen;
	int *results;
	void *user;
	struct process **out;
	int result;
	sem_t done;
	struct request *next;
};

enum event_kind { EV_THREAD_EXITED, EV_EXITED, EV_FAULT, EV_CALL };

struct event {
	enum event_kind kind;
	struct process *p;        /* NULL for EV_CALL */
	void (*fn)(void *arg);    /* EV_CALL */
	void *arg;
	pid_t tid;
	struct process_exit_info info;
	struct process_fault_info fault;
	struct event *next;
};

static struct {
	int running;
	pthread_t controller, events;
	int sigfd, reqfd;

	pthread_mutex_t req_lock;
	struct request *req_head, *req_tail;
	int accepting;

	struct process *procs; /* controller only */
	int shutdown;          /* controller only */

	/* Controller only: blank processes (spawn_blank) a spawn takes first. */
	struct process *spares[PROCESS_SPARES_MAX];
	int nspares, spares_wanted, spare_failures;

	pthread_mutex_t ev_lock;
	pthread_cond_t ev_cond;
	struct event *ev_head, *ev_tail;
	int ev_stop;
	struct process_events handlers;
	void *handlers_ctx;
} sys;

static int process_call(struct request *r);

/* ---- references and events ---------------------------------------- */

void process_unref(struct process *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	while (p->threads) {
		struct thread *t = p->threads;
		p->threads = t->next;
		free(t);
	}
	if (p->uffd >= 0)
		close(p->uffd);
	if (p->uffd_async >= 0)
		close(p->uffd_async);
	if (p->pagemap >= 0)
		close(p->pagemap);
	free(p);
}

/* Queue e for the event thread; ev_lock held. */
static void ev_append_locked(struct event *e)
{
	if (sys.ev_tail)
		sys.ev_tail->next = e;
	else
		sys.ev_head = e;
	sys.ev_tail = e;
	pthread_cond_signal(&sys.ev_cond);
}

static void process_post(struct event *e)
{
	atomic_fetch_add(&e->p->refs, 1);
	pthread_mutex_lock(&sys.ev_lock);
	ev_append_locked(e);
	pthread_mutex_unlock(&sys.ev_lock);
}

void process_post_thread_exited(struct process *p, pid_t tid)
{
	struct event *e = calloc(1, sizeof(*e));
	if (!e) {
		fprintf(stderr, "amber: process %s: thread %d exit not reported (no memory)\n", p->name,
			(int)tid);
		return;
	}
	e->kind = EV_THREAD_EXITED;
	e->p = p;
	e->tid = tid;
	process_post(e);
}

void process_post_exited(struct process *p, const struct process_exit_info *info)
{
	struct event *e = calloc(1, sizeof(*e));
	if (!e) {
		fprintf(stderr, "amber: process %s: exit not reported (no memory)\n", p->name);
		return;
	}
	e->kind = EV_EXITED;
	e->p = p;
	e->info = *info;
	process_post(e);
}

int process_post_call(void (*fn)(void *arg), void *arg)
{
	if (!sys.running)
		return -ESHUTDOWN;
	struct event *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->kind = EV_CALL;
	e->fn = fn;
	e->arg = arg;
	/* Queued only while the event thread takes more: it delivers
	 * everything queued before it ends. */
	pthread_mutex_lock(&sys.ev_lock);
	int stopping = sys.ev_stop;
	if (!stopping)
		ev_append_locked(e);
	pthread_mutex_unlock(&sys.ev_lock);
	if (stopping)
		free(e);
	return stopping ? -ESHUTDOWN : 0;
}

int process_fault_handled(void) { return sys.handlers.fault != NULL; }

void process_post_fault(struct process *p, pid_t tid, const struct process_fault_info *info)
{
	struct event *e = calloc(1, sizeof(*e));
	if (!e) {
		/* Cannot ask: end it as without a handler. */
		tracee_kill(p, PROCESS_FAULT, info->sig, tid, info->addr, info->ip, info->reason);
		return;
	}
	e->kind = EV_FAULT;
	e->p = p;
	e->tid = tid;
	e->fault = *info;
	process_post(e);
}

static void process_kill_fault(struct process *p, pid_t tid, const struct process_fault_info *info)
{
	struct request r = {.kind = REQ_KILL_FAULT, .p = p, .tid = tid, .fault = info};
	process_call(&r);
}

static void *process_event_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sys.ev_lock);
	for (;;) {
		struct event *e;

		while (!sys.ev_head && !sys.ev_stop)
			pthread_cond_wait(&sys.ev_cond, &sys.ev_lock);
		if (!sys.ev_head)
			break; /* stopping, and everything is delivered */
		e = sys.ev_head;
		sys.ev_head = e->next;
		if (!sys.ev_head)
			sys.ev_tail = NULL;
		pthread_mutex_unlock(&sys.ev_lock);

		if (e->kind == EV_CALL) {
			e->fn(e->arg);
			free(e);
			pthread_mutex_lock(&sys.ev_lock);
			continue;
		}
		if (!atomic_load(&e->p->destroyed)) {
			if (e->kind == EV_EXITED && sys.handlers.exited)
				sys.handlers.exited(e->p, &e->info, sys.handlers_ctx);
			else if (e->kind == EV_THREAD_EXITED && sys.handlers.thread_exited)
				sys.handlers.thread_exited(e->p, e->tid, sys.handlers_ctx);
			else if (e->kind == EV_FAULT &&
				 sys.handlers.fault(e->p, e->tid, &e->fault, sys.handlers_ctx) != PROCESS_FAULT_HOLD)
				process_kill_fault(e->p, e->tid, &e->fault);
		}
		process_unref(e->p);
		free(e);
		pthread_mutex_lock(&sys.ev_lock);
	}
	pthread_mutex_unlock(&sys.ev_lock);
	return NULL;
}

/* ---- the controller ------------------------------------------------ */

static void ctl_link(struct process *p)
{
	p->linked = 1;
	p->next = sys.procs;
	sys.procs = p;
}

static void ctl_unlink(struct process *p)
{
	for (struct process **pp = &sys.procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->linked = 0;
	p->next = NULL;
}

static void ctl_kill_and_reap(struct process *p, const char *reason)
{
	if (!p->dead) {
		tracee_kill(p, PROCESS_KILLED_BY_CORE, 0, 0, 0, 0, reason);
		tracee_reap_all(p);
	}
}

static struct process *ctl_new_process(const char *name, void *user)
{
	struct process *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	atomic_init(&p->destroyed, 0);
	p->uffd = p->uffd_async = p->pagemap = -1;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	p->user = user;
	return p;
}

/* A spare that will not be used: gone without a trace. */
static void ctl_drop_spare(struct process *p, const char *why)
{
	atomic_store(&p->destroyed, 1);
	if (p->pid > 0)
		ctl_kill_and_reap(p, why);
	if (p->linked)
		ctl_unlink(p);
	process_unref(p);
}

static bool ctl_requests_waiting(void)
{
	pthread_mutex_lock(&sys.req_lock);
	bool waiting = sys.req_head != NULL;
	pthread_mutex_unlock(&sys.req_lock);
	return waiting;
}

/* Between requests, when none waits: make spares up to the number wanted.
 * One takes a few milliseconds of the controller (a request that comes
 * meanwhile waits for it); three failures in a row stop it for good. */
static void ctl_refill_spares(void)
{
	while (sys.nspares < sys.spares_wanted && sys.spare_failures < 3 && !sys.shutdown &&
	       !ctl_requests_waiting()) {
		struct process *p = ctl_new_process("amber-spare", NULL);
		if (!p)
			return;
		atomic_store(&p->destroyed, 1); /* nobody's yet: no events */
		int rc = spawn_blank(p);
		if (rc < 0) {
			sys.spare_failures++;
			ctl_drop_spare(p, "spare setup failed");
			return;
		}
		sys.spare_failures = 0;
		ctl_link(p); /* its stops and its end are collected like anyone's */
		sys.spares[sys.nspares++] = p;
	}
}

static int ctl_spawn(struct request *r)
{
	int rc = spawn_check(r->maps, r->nmaps, r->start);
	if (rc < 0)
		return rc;
	/* A spare first: it only needs its name, memory and first thread. */
	while (sys.nspares > 0) {
		struct process *p = sys.spares[--sys.nspares];
		snprintf(p->name, sizeof(p->name), "%s", r->name ? r->name : "");
		p->user = r->user;
		if (spawn_finish(p, r->maps, r->nmaps, r->start) == 0) {
			atomic_store(&p->destroyed, 0);
			*r->out = p;
			return 0;
		}
		ctl_drop_spare(p, "setup failed"); /* killed meanwhile, say: a new one */
	}

	struct process *p = ctl_new_process(r->name, r->user);
	if (!p)
		return -ENOMEM;
	rc = spawn_process(p, r->maps, r->nmaps, r->start);
	if (rc < 0) {
		/* Never seen by the caller: no events, just make it vanish. */
		atomic_store(&p->destroyed, 1);
		if (p->pid > 0)
			ctl_kill_and_reap(p, "setup failed");
		process_unref(p);
		return rc;
	}
	ctl_link(p);
	*r->out = p;
	return 0;
}

static struct thread *ctl_thread(struct request *r, int *rc)
{
	struct thread *t;

	*rc = -ESRCH;
	if (!r->p->linked || r->p->dying)
		return NULL;
	t = tracee_find(r->p, r->tid);
	if (!t || t->exiting)
		return NULL;
	*rc = 0;
	return t;
}

/* Stop every thread, noting which ran: one request for the whole process,
 * so a checkpoint's pause does not pay a round trip per thread. */
/* A freeze given up half-way: the first n threads it stopped that ran
 * run again, or the caller, told only of the failure, would leave them
 * stopped for good. */
static void ctl_unfreeze(struct process *p, const struct process_frozen *out, int n)
{
	for (int j = 0; j < n; j++) {
		if (!out[j].was_running)
			continue;
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->tid == out[j].tid && t->state != THREAD_RUNNING && t->state != THREAD_GONE &&
			    ptrace(PTRACE_CONT, t->tid, 0, 0) == 0)
				t->state = THREAD_RUNNING;
	}
}

static int ctl_freeze(struct process *p, struct process_frozen *out, uint64_t max)
{
	if (!p->linked || p->dying || p->dead)
		return -ESRCH;
	int n = 0;
	for (struct thread *t = p->threads; t; t = t->next) {
		if (t->state == THREAD_GONE)
			continue;
		if (t->exiting || (uint64_t)n >= max) {
			ctl_unfreeze(p, out, n);
			return t->exiting ? -EAGAIN : -E2BIG;
		}
		out[n].tid = t->tid;
		out[n].was_running = t->state == THREAD_RUNNING;
		int rc = tracee_stop(p, t);
		if (rc < 0) {
			ctl_unfreeze(p, out, n);
			return p->dying ? -ESRCH : -EAGAIN;
		}
		n++;
	}
	return n;
}

static int ctl_run(struct request *r)
{
	struct process *p = r->p;
	struct thread *t;
	int rc;

	switch (r->kind) {
	case REQ_SPAWN:
		return ctl_spawn(r);
	case REQ_MAP:
		return p->linked && !p->dying ? spawn_map(p, r->maps) : -ESRCH;
	case REQ_UNMAP:
		return p->linked && !p->dying ? spawn_unmap(p, r->addr, r->size) : -ESRCH;
	case REQ_REMAP:
		if (p->linked && !p->dying)
			return spawn_remap(p, r->maps, r->nmaps, r->results);
		for (size_t i = 0; i < r->nmaps; i++)
			r->results[i] = -ESRCH;
		return -ESRCH;
	case REQ_THREAD_CREATE:
		return p->linked && !p->dying ? spawn_thread(p, r->start, r->tid_out) : -ESRCH;
	case REQ_STOP:
		if ((t = ctl_thread(r, &rc)))
			rc = tracee_stop(p, t);
		return rc;
	case REQ_RESUME:
		if (!(t = ctl_thread(r, &rc)) || t->state == THREAD_RUNNING)
			return rc;
		/* Signal 0: a held fault's signal stays suppressed. */
		if (ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
			return -ESRCH;
		t->state = THREAD_RUNNING;
		t->fault_held = 0;
		return 0;
	case REQ_GET_REGS:
		if (!(t = ctl_thread(r, &rc)))
			return rc;
		return t->state == THREAD_STOPPED ? tracee_get_regs(t, r->regs_out) : -EBUSY;
	case REQ_SET_REGS:
		if (!(t = ctl_thread(r, &rc)))
			return rc;
		return t->state == THREAD_STOPPED ? tracee_set_regs(t, r->regs_in) : -EBUSY;
	case REQ_KILL:
		if (p->linked && !p->dead)
			tracee_kill(p, PROCESS_KILLED_BY_CORE, 0, 0, 0, 0, r->reason);
		return 0;
	case REQ_KILL_FAULT:
		if (p->linked && !p->dead)
			tracee_kill(p, PROCESS_FAULT, r->fault->sig, r->tid, r->fault->addr, r->fault->ip,
				    r->fault->reason);
		return 0;
	case REQ_DESTROY:
		atomic_store(&p->destroyed, 1);
		if (p->linked) {
			ctl_kill_and_reap(p, "destroyed by core");
			ctl_unlink(p);
		}
		return 0;
	case REQ_FREEZE:
		return ctl_freeze(p, r->frozen, r->size);
	case REQ_UFFD:
	case REQ_UFFD_ASYNC:
		return p->linked && !p->dying ? spawn_uffd(p, r->kind == REQ_UFFD_ASYNC) : -ESRCH;
	case REQ_SHUTDOWN:
		while (sys.nspares > 0)
			ctl_drop_spare(sys.spares[--sys.nspares], "core is shutting down");
		while (sys.procs) {
			struct process *q = sys.procs;
			ctl_kill_and_reap(q, "core is shutting down");
			ctl_unlink(q);
		}
		sys.shutdown = 1;
		return 0;
	}
	return -EINVAL;
}

/* Between requests: forget reaped threads and finished processes. */
static void ctl_collect(void)
{
	struct process *p = sys.procs;

	while (p) {
		struct process *next = p->next;
		tracee_collect(p);
		if (p->dead)
			ctl_unlink(p);
		p = next;
	}
}

static void ctl_poll_all(void)
{
	for (struct process *p = sys.procs; p; p = p->next)
		if (!p->dead)
			tracee_poll(p);
}

static struct thread *ctl_find_tid(pid_t tid, struct process **pp)
{
	for (struct process *p = sys.procs; p; p = p->next) {
		struct thread *t = p->dead ? NULL : tracee_find(p, tid);
		if (t) {
			*pp = p;
			return t;
		}
	}
	return NULL;
}

/*
 * Handle what is pending. waitid(WNOWAIT) peeks at the first child with a
 * status without consuming it, so usually we go straight to the thread
 * concerned instead of asking every thread. If the child is not one of
 * ours (another part of core forked it), its status must stay for its
 * owner, and we fall back to asking each of our threads.
 */
static void ctl_poll_pending(void)
{
	for (int budget = PROCESS_POLL_BUDGET;; budget--) {
		struct process *p;
		struct thread *t;
		siginfo_t si;
		int status;

		if (budget == 0) {
			/* A flood (signals from outside): let requests run and
			 * come back at once through the eventfd. */
			uint64_t one = 1;
			if (write(sys.reqfd, &one, sizeof(one)) < 0) {
				/* the counter is already nonzero */
			}
			return;
		}
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0 ||
		    si.si_pid == 0)
			return;
		t = ctl_find_tid(si.si_pid, &p);
		if (!t) {
			ctl_poll_all();
			return;
		}
		if (waitpid(t->tid, &status, __WALL | WNOHANG) != t->tid) {
			ctl_poll_all();
			return;
		}
		tracee_handle(p, t, status);
	}
}

static void ctl_run_requests(void)
{
	struct request *r;

	pthread_mutex_lock(&sys.req_lock);
	r = sys.req_head;
	sys.req_head = sys.req_tail = NULL;
	pthread_mutex_unlock(&sys.req_lock);

	while (r) {
		struct request *next = r->next; /* r is gone once done is posted */
		r->result = ctl_run(r);
		ctl_collect();
		sem_post(&r->done);
		r = next;
	}
}

static void *process_controller(void *arg)
{
	(void)arg;
	while (!sys.shutdown) {
		struct pollfd fds[2] = {{sys.sigfd, POLLIN, 0}, {sys.reqfd, POLLIN, 0}};
		struct signalfd_siginfo ssi;
		uint64_t count;

		int n = poll(fds, 2, PROCESS_BACKUP_POLL_MS);

		if (n < 0 && errno != EINTR)
			break;
		/* Drain first: a SIGCHLD arriving after this is a new wakeup. */
		while (read(sys.sigfd, &ssi, sizeof(ssi)) == sizeof(ssi))
			;
		if (n == 0)
			ctl_poll_all(); /* the backup: ask every thread */
		else
			ctl_poll_pending();
		ctl_collect();
		if (read(sys.reqfd, &count, sizeof(count)) < 0) {
			/* EAGAIN: no new requests; the queue is checked anyway */
		}
		ctl_run_requests();
		ctl_refill_spares();
	}

	/* Refuse new requests and fail the ones that slipped in. */
	pthread_mutex_lock(&sys.req_lock);
	sys.accepting = 0;
	pthread_mutex_unlock(&sys.req_lock);
	for (struct request *r = sys.req_head, *next; r; r = next) {
		next = r->next;
		r->result = -ESRCH;
		sem_post(&r->done);
	}
	sys.req_head = sys.req_tail = NULL;
	return NULL;
}

static int process_call(struct request *r)
{
	uint64_t one = 1;

	if (!sys.running)
		return -ESRCH;
	if (pthread_equal(pthread_self(), sys.controller))
		return -EDEADLK;
	sem_init(&r->done, 0, 0);
	r->next = NULL;
	pthread_mutex_lock(&sys.req_lock);
	if (!sys.accepting) {
		pthread_mutex_unlock(&sys.req_lock);
		sem_destroy(&r->done);
		return -ESRCH;
	}
	if (sys.req_tail)
		sys.req_tail->next = r;
	else
		sys.req_head = r;
	sys.req_tail = r;
	pthread_mutex_unlock(&sys.req_lock);
	if (write(sys.reqfd, &one, sizeof(one)) < 0) {
		/* Only EAGAIN at a counter overflow: the controller is awake. */
	}
	while (sem_wait(&r->done) < 0 && errno == EINTR)
		;
	sem_destroy(&r->done);
	return r->result;
}

/* ---- start and stop ------------------------------------------------- */

/* Does every thread of amber-core block SIGCHLD? (/proc/self/task/N/status) */
static int process_sigchld_blocked_everywhere(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int ok = 1;

	if (!d)
		return 1; /* cannot tell; trust the documentation */
	while (ok && (de = readdir(d))) {
		char path[64], line[128];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.16s/status", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long mask;
			if (sscanf(line, "SigBlk: %llx", &mask) == 1) {
				ok = (mask >> (SIGCHLD - 1)) & 1;
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
	return ok;
}

static int process_make_trampoline(void)
{
	static const uint8_t code[] = {0x0f, 0x05, 0xcc}; /* syscall; int3 */
	struct stat st;
	int rc = dataspace_create(&process_g.trampoline, AMBER_PAGE_SIZE, "trampoline");

	if (rc < 0)
		return rc;
	memset(process_g.trampoline.local, 0xcc, AMBER_PAGE_SIZE);
	memcpy(process_g.trampoline.local, code, sizeof(code));
	/* Core's own view becomes read-only too: nothing may change it. */
	mprotect(process_g.trampoline.local, AMBER_PAGE_SIZE, PROT_READ);
	if (fstat(process_g.trampoline.fd, &st) < 0)
		return -errno;
	process_g.trampoline_inode = (uint64_t)st.st_ino;
	return 0;
}

static void process_release_globals(void)
{
	if (sys.sigfd >= 0)
		close(sys.sigfd);
	if (sys.reqfd >= 0)
		close(sys.reqfd);
	if (process_g.core_pidfd >= 0)
		close(process_g.core_pidfd);
	sys.sigfd = sys.reqfd = process_g.core_pidfd = -1;
	dataspace_destroy(&process_g.trampoline);
	filter_free(&process_g.filter);
	free(process_g.init_xstate);
	free((void *)process_g.launcher);
	memset(&process_g, 0, sizeof(process_g));
	process_g.core_pidfd = -1;
}

int process_system_start(const char *launcher, const struct process_events *ev, void *ctx)
{
	sigset_t chld, all, old;
	int rc;

	if (sys.running)
		return -EALREADY;
	memset(&sys, 0, sizeof(sys));
	memset(&process_g, 0, sizeof(process_g));
	sys.sigfd = sys.reqfd = process_g.core_pidfd = -1;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	if (!process_sigchld_blocked_everywhere()) {
		fprintf(stderr, "amber: process_system_start: a thread does not block SIGCHLD; "
				"call it before creating threads\n");
		return -EINVAL;
	}
	if (access(launcher, X_OK) < 0)
		return -errno;

	process_g.launcher = strdup(launcher);
	rc = process_g.launcher ? filter_build(&process_g.filter) : -ENOMEM;
	if (rc == 0)
		rc = process_make_trampoline();
	if (rc == 0) {
		process_g.core_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		sys.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
		sys.reqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (process_g.core_pidfd < 0 || sys.sigfd < 0 || sys.reqfd < 0)
			rc = -errno;
	}
	if (rc < 0) {
		process_release_globals();
		return rc;
	}

	pthread_mutex_init(&sys.req_lock, NULL);
	pthread_mutex_init(&sys.ev_lock, NULL);
	pthread_cond_init(&sys.ev_cond, NULL);
	if (ev)
		sys.handlers = *ev;
	sys.handlers_ctx = ctx;
	sys.accepting = 1;
	const char *spares = getenv("AMBER_SPARES");
	sys.spares_wanted = spares ? atoi(spares) : PROCESS_SPARES_DEFAULT;
	if (sys.spares_wanted < 0 || sys.spares_wanted > PROCESS_SPARES_MAX)
		sys.spares_wanted = PROCESS_SPARES_DEFAULT;

	/* Both threads run with every signal blocked: nothing interrupts a
	 * ptrace sequence, and signals for core go to its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&sys.events, NULL, process_event_thread, NULL);
	if (rc == 0) {
		rc = -pthread_create(&sys.controller, NULL, process_controller, NULL);
		if (rc < 0) {
			pthread_mutex_lock(&sys.ev_lock);
			sys.ev_stop = 1;
			pthread_cond_signal(&sys.ev_cond);
			pthread_mutex_unlock(&sys.ev_lock);
			pthread_join(sys.events, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		process_release_globals();
		return rc;
	}
	sys.running = 1;
	return 0;
}

void process_system_stop(void)
{
	struct request r = {.kind = REQ_SHUTDOWN};

	if (!sys.running)
		return;
	process_call(&r);
	pthread_join(sys.controller, NULL);

	pthread_mutex_lock(&sys.ev_lock);
	sys.ev_stop = 1;
	pthread_cond_signal(&sys.ev_cond);
	pthread_mutex_unlock(&sys.ev_lock);
	pthread_join(sys.events, NULL);

	pthread_mutex_destroy(&sys.req_lock);
	pthread_mutex_destroy(&sys.ev_lock);
	pthread_cond_destroy(&sys.ev_cond);
	process_release_globals();
	sys.running = 0;
}

/* ---- the API -------------------------------------------------------- */

int process_spawn(struct process **out, const char *name, const struct process_mapping *maps,
		  size_t nmaps, const struct thread_start *start, void *user)
{
	struct process *p = NULL;
	struct request r = {.kind = REQ_SPAWN, .maps = maps, .nmaps = nmaps, .start = start,
			    .name = name, .user = user, .out = &p};
	int rc;

	if (!out || !start || (nmaps && !maps))
		return -EINVAL;
	rc = process_call(&r);
	*out = rc == 0 ? p : NULL;
	return rc;
}

pid_t process_pid(const struct process *p) { return p->pid; }
void *process_user(const struct process *p) { return p->user; }
const char *process_name(const struct process *p) { return p->name; }

int process_map(struct process *p, const struct process_mapping *m)
{
	struct request r = {.kind = REQ_MAP, .p = p, .maps = m};
	return m ? process_call(&r) : -EINVAL;
}

int process_unmap(struct process *p, uint64_t addr, uint64_t size)
{
	struct request r = {.kind = REQ_UNMAP, .p = p, .addr = addr, .size = size};
	return process_call(&r);
}

int process_remap(struct process *p, const struct process_mapping *ops, size_t n, int *results)
{
	struct request r = {.kind = REQ_REMAP, .p = p, .maps = ops, .nmaps = n, .results = results};
	if (n == 0 || !ops || !results)
		return -EINVAL;
	int rc = process_call(&r);
	if (rc == -ESRCH || rc == -EDEADLK) /* not carried out at all */
		for (size_t i = 0; i < n; i++)
			results[i] = rc;
	return rc;
}

int process_thread_create(struct process *p, const struct thread_start *start, pid_t *tid)
{
	pid_t dummy;
	struct request r = {.kind = REQ_THREAD_CREATE, .p = p, .start = start,
			    .tid_out = tid ? tid : &dummy};
	return start ? process_call(&r) : -EINVAL;
}

int process_thread_stop(struct process *p, pid_t tid)
{
	struct request r = {.kind = REQ_STOP, .p = p, .tid = tid};
	return process_call(&r);
}

int process_freeze(struct process *p, struct process_frozen *out, size_t max)
{
	struct request r = {.kind = REQ_FREEZE, .p = p, .frozen = out, .size = max};
	return process_call(&r);
}

int process_uffd(struct process *p)
{
	struct request r = {.kind = REQ_UFFD, .p = p};
	return process_call(&r);
}

int process_uffd_async(struct process *p)
{
	struct request r = {.kind = REQ_UFFD_ASYNC, .p = p};
	return process_call(&r);
}

int process_scan_written(struct process *p, uint64_t addr, uint64_t size, process_written_fn fn, void *ctx)
{
	if (p->pagemap < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)p->pid);
		p->pagemap = open(path, O_RDONLY | O_CLOEXEC);
		if (p->pagemap < 0)
			return -errno;
	}
	struct page_region v[256];
	for (uint64_t at = addr; at < addr + size;) {
		struct pm_scan_arg a = {
			.size = sizeof(a), .flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, .start = at,
			.end = addr + size, .vec = (uint64_t)(uintptr_t)v, .vec_len = 256,
			.category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN,
		};
		long n = ioctl(p->pagemap, PAGEMAP_SCAN, &a);
		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++)
			fn(ctx, v[i].start, v[i].end - v[i].start);
		if (a.walk_end <= at)
			return -EIO; /* no progress: never loop */
		at = a.walk_end;
	}
	return 0;
}

int process_thread_resume(struct process *p, pid_t tid)
{
	struct request r = {.kind = REQ_RESUME, .p = p, .tid = tid};
	return process_call(&r);
}

int process_thread_get_regs(struct process *p, pid_t tid, struct thread_regs *regs)
{
	struct request r = {.kind = REQ_GET_REGS, .p = p, .tid = tid, .regs_out = regs};
	return regs ? process_call(&r) : -EINVAL;
}

int process_thread_set_regs(struct process *p, pid_t tid, const struct thread_regs *regs)
{
	struct request r = {.kind = REQ_SET_REGS, .p = p, .tid = tid, .regs_in = regs};
	return regs ? process_call(&r) : -EINVAL;
}

void process_kill(struct process *p, const char *reason)
{
	struct request r = {.kind = REQ_KILL, .p = p, .reason = reason ? reason : "killed by core"};
	process_call(&r);
}

void process_destroy(struct process *p)
{
	struct request r = {.kind = REQ_DESTROY, .p = p};

	if (!p)
		return;
	atomic_store(&p->destroyed, 1);
	process_call(&r); /* fails harmlessly once the system is stopped */
	process_unref(p);
}
