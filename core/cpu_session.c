/*
 * The CPU session: threads of the component.
 *
 * A thread is three things: a kernel thread object (root capability in
 * core's task, UTCB in the component's UTCB dataspace at slot i), a Linux
 * thread in the component's process (created stopped by injecting clone),
 * and an entry thread in amber-core that runs the kernel when the thread
 * rings its doorbell. CREATE_THREAD makes all three and leaves the thread
 * stopped; START sets where it begins and lets it run. PAUSE, RESUME and
 * STATE use ptrace through the process layer; they also work on the first
 * thread, which component.c made.
 *
 * Locking: handlers run with the kernel lock held; the process_* calls are
 * synchronous requests to the process controller, which never takes the
 * kernel lock, so they may be made here. kernel_entry_stop joins an entry
 * thread that itself takes the kernel lock, so it is called without it:
 * a thread is first taken for teardown (no handler touches it any more),
 * then its entry thread is stopped, then its objects are released.
 *
 * Teardown: three paths stop a thread's entry thread and delete its kernel
 * object: its exit (cpu_thread_exited), the close of its session (a close
 * job, session.c) and the component's end. Whichever takes the thread
 * first, under the kernel lock, owns that teardown (`teardown`); the
 * others leave the thread and its kernel object alone. The component's end
 * waits for the others (c->entry_stops).
 *
 * Faults: the process layer asks cpu_thread_fault() on its event thread
 * whether to hold a faulting thread. With a CPU or RM SIGH context the
 * fault is recorded with the thread (what STATE and RM FAULT_STATE report)
 * and the context submitted; RESUME clears the record, and so does an RM
 * ATTACH that resolves an RM fault (cpu_resume_resolved).
 *
 * Protocol: include/amber/cpu_session.h.
 */
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "amber/cpu_session.h"
#include "amber/rm_session.h"
#include "core.h"
#include "cr_lazy.h"
#include "cr_state.h"
#include "platform/linux/compat.h"
#include "platform/linux/cpu_affinity.h"
#include "platform/linux/kernel_entry.h"

/* The registers in STATE's word order (amber/cpu_session.h): rip, rsp,
 * rax .. r15, rflags, fs_base. STATE, SET_STATE and the full-state blob
 * all use it, so the order is written down once. */
static const size_t state_reg_offset[AMBER_CPU_STATE_WORDS] = {
	offsetof(struct user_regs_struct, rip),    offsetof(struct user_regs_struct, rsp),
	offsetof(struct user_regs_struct, rax),    offsetof(struct user_regs_struct, rbx),
	offsetof(struct user_regs_struct, rcx),    offsetof(struct user_regs_struct, rdx),
	offsetof(struct user_regs_struct, rsi),    offsetof(struct user_regs_struct, rdi),
	offsetof(struct user_regs_struct, rbp),    offsetof(struct user_regs_struct, r8),
	offsetof(struct user_regs_struct, r9),     offsetof(struct user_regs_struct, r10),
	offsetof(struct user_regs_struct, r11),    offsetof(struct user_regs_struct, r12),
	offsetof(struct user_regs_struct, r13),    offsetof(struct user_regs_struct, r14),
	offsetof(struct user_regs_struct, r15),    offsetof(struct user_regs_struct, eflags),
	offsetof(struct user_regs_struct, fs_base),
};

static void regs_to_words(const struct user_regs_struct *g, uint64_t w[AMBER_CPU_STATE_WORDS])
{
	for (unsigned i = 0; i < AMBER_CPU_STATE_WORDS; i++)
		memcpy(&w[i], (const char *)g + state_reg_offset[i], sizeof(w[i]));
}

/* Write the first n registers of STATE's order. A new rip means the
 * thread continues elsewhere: no interrupted system call to restart. */
static void regs_from_words(struct user_regs_struct *g, const uint64_t *w, unsigned n)
{
	if (g->rip != w[0])
		g->orig_rax = (unsigned long long)-1;
	for (unsigned i = 0; i < n; i++)
		memcpy((char *)g + state_reg_offset[i], &w[i], sizeof(w[i]));
}

/* Who tears a thread down; anything but NONE: requests do not find it. */
enum teardown {
	TEARDOWN_NONE,    /* it runs (or waits to be started) */
	TEARDOWN_EXIT,    /* it exited: cpu_thread_exited stops, deletes and frees it */
	TEARDOWN_CLOSE,   /* its session closes: the close job stops it, cpu_close_finish deletes it */
	TEARDOWN_CLOSED,  /* closed: no kernel object; the record keeps the UTCB slot of its
			   * stopped Linux thread until that exits or the component ends */
	TEARDOWN_ORPHAN,  /* closed without a helper: the next exit or the component's end */
	TEARDOWN_END,     /* the component ends: component_cleanup, cpu_forget */
};

struct core_thread {
	struct kthread *k; /* NULL once closed */
	amber_sel_t sel;   /* root capability in core's task */
	uint64_t id;       /* the kernel object's id */
	pid_t tid;         /* the Linux thread */
	unsigned index;    /* UTCB slot */
	bool started;
	enum teardown teardown;
	bool exited;       /* its Linux thread is gone (TEARDOWN_CLOSE: free the slot at the end) */
	const struct core_session *session; /* the CPU session that made it; NULL once closed */
	struct core_fault fault; /* held on a fault (kind != NONE) */
	unsigned placed;   /* its AFFINITY location + 1; 0: none (anywhere) */
};

_Static_assert(CORE_MAX_THREADS == AMBER_CPU_MAX_THREADS, "one thread per UTCB slot");

/* A thread named by a request's map item: the first thread or one of ours. */
struct thread_ref {
	struct kthread *k;
	pid_t tid;
	struct core_thread *rec; /* NULL: the first thread */
};

static struct core_fault *fault_of(struct component *c, const struct thread_ref *ref)
{
	return ref->rec ? &ref->rec->fault : &c->first_fault;
}

static uint64_t utcb_addr(unsigned index) { return AMBER_UTCB_AREA + (uint64_t)index * AMBER_UTCB_SIZE; }

static int platform_error(int e) { return e == -ESRCH ? AMBER_ERR_NO_PARTNER : AMBER_ERR_INVALID_ARG; }

static int find_thread(struct component *c, struct kcore_request *req, struct thread_ref *ref)
{
	if (req->nitems != 1)
		return AMBER_ERR_INVALID_ARG;
	enum amber_kind kind;
	unsigned rights = 0;
	struct kobj *o = kernel_cap_object(kernel_core_task(), req->items[0], &kind, &rights);
	service_drop_items(req);
	if (!o || kind != AMBER_KIND_THREAD)
		return AMBER_ERR_INVALID_ARG;
	uint64_t id = kernel_object_id(o);
	memset(ref, 0, sizeof(*ref));
	if (c->thread && kernel_object_id(c->thread) == id) {
		ref->k = c->thread;
		ref->tid = process_pid(c->process);
	} else {
		for (unsigned i = 1; i < CORE_MAX_THREADS && !ref->k; i++) {
			struct core_thread *t = c->threads[i];
			if (t && t->teardown == TEARDOWN_NONE && t->id == id) {
				ref->k = t->k;
				ref->tid = t->tid;
				ref->rec = t;
			}
		}
		if (!ref->k)
			return AMBER_ERR_INVALID_ARG; /* not a thread of this component */
	}
	return rights & AMBER_RIGHT_CONTROL ? AMBER_OK : AMBER_ERR_RIGHTS;
}

static int create_thread(struct core_session *s, struct kcore_request *req)
{
	struct component *c = s->c;
	char name[KERNEL_NAME_MAX];
	int err = service_string(req, 1, name, sizeof(name));
	service_drop_items(req);
	if (err)
		return err;
	unsigned index = 1;
	while (index < CORE_MAX_THREADS && c->threads[index])
		index++;
	if (index == CORE_MAX_THREADS || core_quota_take(c, 1))
		return AMBER_ERR_QUOTA;
	struct ktask *core = kernel_core_task();
	amber_sel_t sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if (sel == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	struct core_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return AMBER_ERR_QUOTA;

	/* A slot may have been used before, and the component can write it. */
	struct amber_utcb *utcb = (struct amber_utcb *)(c->utcbs.local + (size_t)index * AMBER_UTCB_SIZE);
	memset(utcb, 0, AMBER_UTCB_SIZE);
	err = kernel_create_thread(core, sel, c->task, name[0] ? name : c->name, utcb, utcb_addr(index), &t->k);
	if (err) {
		free(t);
		return err;
	}
	/* Held stopped until START; until then it only lends itself to core's
	 * system-call injection, which restores its registers. It has no TCB
	 * before START names one: fs base 0. */
	struct thread_start start = { .ip = 0, .sp = 0, .tls_base = 0 };
	int e = process_thread_create(c->process, &start, &t->tid);
	if (e < 0) {
		kernel_cap_delete(core, sel);
		free(t);
		return e == -ESRCH ? AMBER_ERR_NO_PARTNER : AMBER_ERR_QUOTA;
	}
	t->sel = sel;
	t->session = s;
	t->id = kernel_object_id(t->k);
	t->index = index;
	c->threads[index] = t;
	if (kernel_entry_start(t->k) < 0)
		return AMBER_ERR_QUOTA; /* never started; released with the component */

	req->reply_mr[0] = index;
	req->reply_mr[1] = utcb_addr(index);
	req->reply_mr[2] = amber_map_item(sel, AMBER_RIGHTS_ALL);
	req->reply_tag = amber_tag(AMBER_PROTO_CPU, 2, 1);
	return AMBER_OK;
}

static int start_thread(struct component *c, struct kcore_request *req)
{
	uint64_t ip = req->mr[1], sp = req->mr[2], tcb = req->mr[3];
	struct thread_ref ref;
	int err = find_thread(c, req, &ref);
	if (err)
		return err;
	if (amber_tag_words(req->tag) < 4 || !ref.rec || ref.rec->started)
		return AMBER_ERR_INVALID_ARG;
	if (ip >= LINUX_USER_TOP || sp > LINUX_USER_TOP || tcb >= LINUX_USER_TOP)
		return AMBER_ERR_INVALID_ARG;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return AMBER_ERR_QUOTA;
	int e = process_thread_get_regs(c->process, ref.tid, regs);
	if (e == 0) {
		regs->gp.rip = ip;
		regs->gp.rsp = sp;
		regs->gp.fs_base = tcb; /* what the thread's TLS and its UTCB are found by */
		regs->gp.orig_rax = (unsigned long long)-1; /* not in a system call */
		e = process_thread_set_regs(c->process, ref.tid, regs);
	}
	free(regs);
	if (e == 0)
		e = process_thread_resume(c->process, ref.tid);
	if (e < 0)
		return platform_error(e);
	ref.rec->started = true;
	return AMBER_OK;
}

static int pause_resume(struct component *c, struct kcore_request *req, bool pause)
{
	struct thread_ref ref;
	int err = find_thread(c, req, &ref);
	if (err)
		return err;
	if (ref.rec && !ref.rec->started)
		return AMBER_ERR_INVALID_ARG;
	int e = pause ? process_thread_stop(c->process, ref.tid) : process_thread_resume(c->process, ref.tid);
	if (e == 0 && !pause)
		fault_of(c, &ref)->kind = CORE_FAULT_NONE; /* it retries; a new fault is a new record */
	return e < 0 ? platform_error(e) : AMBER_OK;
}

static int set_state(struct component *c, struct kcore_request *req)
{
	uint64_t w[AMBER_CPU_SET_STATE_WORDS];
	if (amber_tag_words(req->tag) < 1 + AMBER_CPU_SET_STATE_WORDS)
		return AMBER_ERR_INVALID_ARG;
	memcpy(w, &req->mr[1], sizeof(w));
	struct thread_ref ref;
	int err = find_thread(c, req, &ref);
	if (err)
		return err;
	if ((ref.rec && !ref.rec->started) || w[0] >= LINUX_USER_TOP)
		return AMBER_ERR_INVALID_ARG;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return AMBER_ERR_QUOTA;
	int e = process_thread_get_regs(c->process, ref.tid, regs);
	if (e == 0) {
		regs_from_words(&regs->gp, w, AMBER_CPU_SET_STATE_WORDS);
		e = process_thread_set_regs(c->process, ref.tid, regs);
	}
	free(regs);
	return e < 0 ? platform_error(e) : AMBER_OK; /* -EBUSY: it runs */
}

/* KILL_THREAD: the thread ends as if it had called exit(0), wherever it
 * is (user code, an IPC wait, held on a fault, never started): core points
 * it at the `syscall` of the trampoline page with exit's number, cancels a
 * system call it sits in (orig_rax -1, as inject.c does) and lets it go.
 * Its exit is then handled like any thread's (cpu_thread_exited: entry
 * thread stopped, object deleted, capability revoked, UTCB slot free); the
 * runtime waits for the revocation before it frees the stack. The first
 * thread cannot be killed alone: the component exits instead. */
static int kill_thread(struct component *c, struct kcore_request *req)
{
	struct thread_ref ref;
	int err = find_thread(c, req, &ref);
	if (err)
		return err;
	if (!ref.rec)
		return AMBER_ERR_INVALID_ARG;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return AMBER_ERR_QUOTA;
	int e = process_thread_stop(c->process, ref.tid);
	if (e == 0)
		e = process_thread_get_regs(c->process, ref.tid, regs);
	if (e == 0) {
		regs->gp.rip = AMBER_TRAMPOLINE_ADDR;
		regs->gp.rax = SYS_exit;
		regs->gp.rdi = 0;
		regs->gp.orig_rax = (unsigned long long)-1;
		e = process_thread_set_regs(c->process, ref.tid, regs);
	}
	if (e == 0) {
		ref.rec->fault.kind = CORE_FAULT_NONE; /* held on a fault: it goes all the same */
		e = process_thread_resume(c->process, ref.tid);
	}
	free(regs);
	return e < 0 ? platform_error(e) : AMBER_OK;
}

/* CPU SIGH and RM SIGH (rm_session.c): a context id, or 0 to forget. */
int cpu_sigh_request(struct kcore_request *req, uint64_t *out)
{
	uint64_t id = req->nitems == 1 ? signal_context_id(req->items[0]) : 0;
	if (req->nitems > 1 || (req->nitems == 1 && id == 0))
		return AMBER_ERR_INVALID_ARG;
	*out = id;
	return AMBER_OK;
}

/* ---- affinity ---- */

static unsigned *placed_of(struct component *c, const struct thread_ref *ref)
{
	return ref->rec ? &ref->rec->placed : &c->first_placed;
}

static int affinity(struct component *c, struct kcore_request *req)
{
	amber_word_t location = req->mr[1];
	struct thread_ref ref;
	int err = find_thread(c, req, &ref);
	if (err)
		return err;
	if (amber_tag_words(req->tag) < 2 || (location != AMBER_CPU_ANYWHERE && location >= cpu_space_size()))
		return AMBER_ERR_INVALID_ARG;
	long at = location == AMBER_CPU_ANYWHERE ? -1 : (long)location;
	int e = cpu_thread_bind(ref.tid, at);
	if (e < 0)
		return platform_error(e);
	*placed_of(c, &ref) = (unsigned)(at + 1);
	return AMBER_OK;
}

static int affinity_state(struct component *c, struct kcore_request *req)
{
	struct thread_ref ref;
	int err = find_thread(c, req, &ref);
	if (err)
		return err;
	long bound, last;
	int e = cpu_thread_binding(process_pid(c->process), ref.tid, &bound, &last);
	if (e < 0)
		return platform_error(e);
	req->reply_mr[0] = bound < 0 ? AMBER_CPU_ANYWHERE : (amber_word_t)bound;
	req->reply_mr[1] = last < 0 ? AMBER_CPU_ANYWHERE : (amber_word_t)last;
	req->reply_tag = amber_tag(AMBER_PROTO_CPU, 2, 0);
	return AMBER_OK;
}

/* A restored thread goes back to its location; on a machine with fewer
 * CPUs, to that location modulo the space. */
static int rebind(struct cr_load *l, pid_t tid, unsigned placed, unsigned index)
{
	if (!placed)
		return 0;
	int e = cpu_thread_bind(tid, (long)((placed - 1) % cpu_space_size()));
	if (e < 0)
		return cr_fail(l->err, l->errlen, "%s: thread %u: cannot place it on its CPU: %s", l->c->name, index,
			       strerror(-e));
	return 0;
}

static int thread_state(struct component *c, struct kcore_request *req)
{
	struct thread_ref ref;
	int err = find_thread(c, req, &ref);
	if (err)
		return err;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return AMBER_ERR_QUOTA;
	int e = process_thread_get_regs(c->process, ref.tid, regs);
	if (e == 0) {
		regs_to_words(&regs->gp, req->reply_mr);
		const struct core_fault *f = fault_of(c, &ref);
		req->reply_mr[AMBER_CPU_STATE_WORDS] = f->kind == CORE_FAULT_CPU  ? AMBER_CPU_STOP_EXCEPTION
						     : f->kind == CORE_FAULT_RM ? AMBER_CPU_STOP_PAGE_FAULT
										: AMBER_CPU_STOP_NONE;
		req->reply_mr[AMBER_CPU_STATE_WORDS + 1] = f->kind ? (uint64_t)f->sig : 0;
		req->reply_mr[AMBER_CPU_STATE_WORDS + 2] = f->kind ? f->addr : 0;
		req->reply_tag = amber_tag(AMBER_PROTO_CPU, AMBER_CPU_STATE_WORDS + AMBER_CPU_STATE_FAULT_WORDS, 0);
	}
	free(regs);
	return e < 0 ? platform_error(e) : AMBER_OK; /* -EBUSY: it runs */
}

/* ---- the full state (STATE_FULL, SET_STATE_FULL) ---- */

_Static_assert(sizeof(struct amber_cpu_state_blob) == 32, "the blob header is 32 bytes");
_Static_assert(AMBER_CPU_BLOB_GP_OFFSET >= sizeof(struct amber_cpu_state_blob) &&
		       AMBER_CPU_BLOB_GP_OFFSET + AMBER_CPU_STATE_WORDS * 8 <= AMBER_CPU_BLOB_XSTATE_OFFSET,
	       "blob parts do not overlap");

/* The XSAVE area's size for the features the OS enabled (CPUID 0xD.0
 * ebx), what ptrace's NT_X86_XSTATE gives; 0 without XSAVE. */
static uint32_t xstate_size_of_cpu(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
		return 0;
	if (__get_cpuid_max(0, NULL) < 0xd || !__get_cpuid_count(0xd, 0, &a, &b, &c, &d))
		return 0;
	return b > THREAD_XSTATE_MAX ? THREAD_XSTATE_MAX : b;
}

/* The thread (item 0) and the caller's RAM dataspace (item 1) of a
 * STATE_FULL/SET_STATE_FULL request; its memory in core. */
static int full_args(struct component *c, struct kcore_request *req, bool write, struct thread_ref *ref,
		     uint8_t **mem, size_t *size)
{
	if (req->nitems != 2)
		return AMBER_ERR_INVALID_ARG;
	struct core_ds *ds = core_ds_lookup(req->items[1]);
	kernel_cap_delete(kernel_core_task(), req->items[1]);
	req->nitems = 1;
	int err = find_thread(c, req, ref);
	if (err)
		return err;
	const struct dataspace *m = ds ? core_ds_memory(ds) : NULL;
	if (!ds || core_ds_owner(ds) != c || !m || !m->local || (write && !core_ds_writable(ds)))
		return AMBER_ERR_INVALID_ARG;
	cr_lazy_touch(m); /* core reads or writes it itself */
	if (write)
		core_ds_note_write(ds);
	*mem = m->local;
	*size = m->size;
	return AMBER_OK;
}

static int state_full(struct component *c, struct kcore_request *req)
{
	struct thread_ref ref;
	uint8_t *mem;
	size_t size;
	int err = full_args(c, req, true, &ref, &mem, &size);
	if (err)
		return err;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return AMBER_ERR_QUOTA;
	int e = process_thread_get_regs(c->process, ref.tid, regs);
	if (e < 0) {
		free(regs);
		return platform_error(e); /* -EBUSY: it runs */
	}
	uint32_t total = AMBER_CPU_BLOB_XSTATE_OFFSET + regs->xstate_size;
	if (size < total) {
		free(regs);
		return AMBER_ERR_INVALID_ARG;
	}
	uint64_t words[AMBER_CPU_STATE_WORDS];
	regs_to_words(&regs->gp, words);
	const struct amber_cpu_state_blob h = {
		.magic = AMBER_CPU_BLOB_MAGIC,
		.version = AMBER_CPU_BLOB_VERSION,
		.header_size = sizeof(h),
		.gp_offset = AMBER_CPU_BLOB_GP_OFFSET,
		.gp_size = sizeof(words),
		.xstate_offset = AMBER_CPU_BLOB_XSTATE_OFFSET,
		.xstate_size = regs->xstate_size,
		.total_size = total,
	};
	memset(mem, 0, AMBER_CPU_BLOB_XSTATE_OFFSET);
	memcpy(mem, &h, sizeof(h));
	memcpy(mem + AMBER_CPU_BLOB_GP_OFFSET, words, sizeof(words));
	memcpy(mem + AMBER_CPU_BLOB_XSTATE_OFFSET, regs->xstate, regs->xstate_size);
	free(regs);
	req->reply_mr[0] = total;
	req->reply_tag = amber_tag(AMBER_PROTO_CPU, 1, 0);
	return AMBER_OK;
}

static int set_state_full(struct component *c, struct kcore_request *req)
{
	struct thread_ref ref;
	uint8_t *mem;
	size_t size;
	int err = full_args(c, req, false, &ref, &mem, &size);
	if (err)
		return err;
	if (ref.rec && !ref.rec->started)
		return AMBER_ERR_INVALID_ARG;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return AMBER_ERR_QUOTA;
	int e = process_thread_get_regs(c->process, ref.tid, regs); /* running: -EBUSY */
	if (e < 0) {
		free(regs);
		return platform_error(e);
	}
	/* The component may change the dataspace meanwhile: copy, then check
	 * the copy only. */
	struct amber_cpu_state_blob h;
	uint64_t w[AMBER_CPU_STATE_WORDS];
	err = AMBER_ERR_INVALID_ARG;
	if (size < AMBER_CPU_BLOB_XSTATE_OFFSET)
		goto out;
	memcpy(&h, mem, sizeof(h));
	if (h.magic != AMBER_CPU_BLOB_MAGIC || h.version != AMBER_CPU_BLOB_VERSION || h.header_size != sizeof(h) ||
	    h.gp_offset != AMBER_CPU_BLOB_GP_OFFSET || h.gp_size != sizeof(w) ||
	    h.xstate_offset != AMBER_CPU_BLOB_XSTATE_OFFSET || h.xstate_size != regs->xstate_size ||
	    h.total_size != AMBER_CPU_BLOB_XSTATE_OFFSET + (uint64_t)h.xstate_size || h.total_size > size ||
	    h.reserved != 0)
		goto out;
	memcpy(w, mem + AMBER_CPU_BLOB_GP_OFFSET, sizeof(w));
	if (w[0] >= LINUX_USER_TOP || w[18] >= LINUX_USER_TOP)
		goto out;
	memcpy(regs->xstate, mem + AMBER_CPU_BLOB_XSTATE_OFFSET, h.xstate_size);
	regs_from_words(&regs->gp, w, AMBER_CPU_STATE_WORDS); /* Linux keeps only the user-changeable flags */
	e = process_thread_set_regs(c->process, ref.tid, regs); /* a bad XSAVE header: -EINVAL */
	err = e < 0 ? platform_error(e) : AMBER_OK;
out:
	free(regs);
	return err;
}

enum kcore_result cpu_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct core_session *s = ctx;
	struct component *c = s->c;
	req->reply_tag = amber_tag(AMBER_PROTO_CPU, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_CPU) {
		*error = AMBER_ERR_PROTO;
	} else if (amber_tag_words(req->tag) < 1) {
		*error = AMBER_ERR_OPCODE;
	} else if (req->mr[0] == AMBER_CPU_SIGH && c->state == COMPONENT_NEW && !c->ending) {
		/* A monitor sets its handler up before the child's first instruction. */
		*error = cpu_sigh_request(req, &c->cpu_sigh);
	} else if (c->ending || !c->process) {
		*error = AMBER_ERR_NO_PARTNER;
	} else {
		switch (req->mr[0]) {
		case AMBER_CPU_CREATE_THREAD: *error = create_thread(s, req); break;
		case AMBER_CPU_START: *error = start_thread(c, req); break;
		case AMBER_CPU_PAUSE: *error = pause_resume(c, req, true); break;
		case AMBER_CPU_RESUME: *error = pause_resume(c, req, false); break;
		case AMBER_CPU_STATE: *error = thread_state(c, req); break;
		case AMBER_CPU_SET_STATE: *error = set_state(c, req); break;
		case AMBER_CPU_SIGH: *error = cpu_sigh_request(req, &c->cpu_sigh); break;
		case AMBER_CPU_STATE_FULL: *error = state_full(c, req); break;
		case AMBER_CPU_SET_STATE_FULL: *error = set_state_full(c, req); break;
		case AMBER_CPU_KILL_THREAD: *error = kill_thread(c, req); break;
		case AMBER_CPU_AFFINITY: *error = affinity(c, req); break;
		case AMBER_CPU_AFFINITY_STATE: *error = affinity_state(c, req); break;
		case AMBER_CPU_AFFINITY_SPACE:
			req->reply_mr[0] = cpu_space_size();
			req->reply_tag = amber_tag(AMBER_PROTO_CPU, 1, 0);
			*error = AMBER_OK;
			break;
		case AMBER_CPU_STATE_FULL_SIZE:
			req->reply_mr[0] = AMBER_CPU_BLOB_XSTATE_OFFSET + xstate_size_of_cpu();
			req->reply_tag = amber_tag(AMBER_PROTO_CPU, 1, 0);
			*error = AMBER_OK;
			break;
		default: *error = AMBER_ERR_OPCODE; break;
		}
	}
	service_drop_items(req);
	return KCORE_REPLY;
}

/* Forget a record whose kernel object is gone: its UTCB slot is free. */
static void thread_free(struct component *c, struct core_thread *t)
{
	c->threads[t->index] = NULL;
	free(t);
}

void cpu_thread_exited(struct component *c, pid_t tid)
{
	struct ktask *core = kernel_core_task();
	kernel_lock();
	if (c->ending || !c->process) {
		kernel_unlock();
		return; /* component_cleanup takes care of everything */
	}
	if (tid == process_pid(c->process)) {
		/* The first thread left while others go on. */
		struct kthread *k = c->thread;
		c->thread = NULL;
		if (!k) {
			kernel_unlock();
			return;
		}
		log_thread_ended(c, kernel_object_id(k));
		c->entry_stops++;
		kernel_unlock();
		kernel_entry_stop(k);
		kernel_lock();
		kernel_cap_delete(core, c->thread_sel);
		c->thread_sel = AMBER_SEL_INVALID;
		c->entry_stops--;
		kernel_unlock();
		return;
	}
	struct core_thread *t = NULL;
	for (unsigned i = 1; i < CORE_MAX_THREADS && !t; i++)
		if (c->threads[i] && !c->threads[i]->exited && c->threads[i]->tid == tid)
			t = c->threads[i];
	if (!t || t->teardown == TEARDOWN_EXIT || t->teardown == TEARDOWN_END) {
		kernel_unlock();
		return;
	}
	t->exited = true;
	if (t->teardown == TEARDOWN_CLOSE || t->teardown == TEARDOWN_CLOSED) {
		/* The close owns the kernel object; only the slot is ours to
		 * give back, now or when the close job has finished. */
		if (t->teardown == TEARDOWN_CLOSED)
			thread_free(c, t);
		kernel_unlock();
		return;
	}
	t->teardown = TEARDOWN_EXIT; /* from NONE or ORPHAN: ours */
	log_thread_ended(c, t->id);
	c->entry_stops++;
	kernel_unlock();
	kernel_entry_stop(t->k);
	kernel_lock();
	kernel_cap_delete(core, t->sel); /* revokes the component's capability */
	thread_free(c, t);
	c->entry_stops--;
	kernel_unlock();
}

/* The fault record of thread tid, and its index; NULL if it is none of
 * c's (running) threads. */
static struct core_fault *fault_by_tid(struct component *c, pid_t tid, unsigned *index)
{
	if (c->thread && tid == process_pid(c->process)) {
		*index = 0;
		return &c->first_fault;
	}
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++) {
		struct core_thread *t = c->threads[i];
		if (t && t->teardown == TEARDOWN_NONE && t->started && t->tid == tid) {
			*index = i;
			return &t->fault;
		}
	}
	return NULL;
}

enum process_fault_action cpu_thread_fault(struct component *c, pid_t tid, const struct process_fault_info *fi)
{
	enum process_fault_action action = PROCESS_FAULT_KILL;
	kernel_lock();
	unsigned index;
	struct core_fault *f = c->ending || !c->process ? NULL : fault_by_tid(c, tid, &index);
	if (f) {
		unsigned access = AMBER_RM_ACCESS_UNKNOWN;
		bool page_fault = fi->sig == SIGSEGV && rm_fault_access(c, fi->code, fi->addr, fi->ip, &access);
		uint64_t rm_sigh = page_fault ? rm_fault_sigh(c, fi->addr) : 0;
		uint64_t sigh = rm_sigh ? rm_sigh : c->cpu_sigh;
		*f = (struct core_fault){
			.kind = rm_sigh ? CORE_FAULT_RM : CORE_FAULT_CPU,
			.sig = fi->sig,
			.addr = fi->addr,
			.ip = fi->ip,
			.access = access,
			.seq = ++c->fault_seq,
		};
		/* No context, or it is gone: nobody can handle it. */
		if (sigh && signal_submit(sigh, 1) == AMBER_OK)
			action = PROCESS_FAULT_HOLD;
		else
			f->kind = CORE_FAULT_NONE;
	}
	kernel_unlock();
	return action;
}

const struct core_fault *cpu_oldest_rm_fault(struct component *c, rm_fault_filter take, const void *ctx,
					     unsigned *index)
{
	const struct core_fault *best = NULL;
	if (c->thread && c->first_fault.kind == CORE_FAULT_RM && take(c, &c->first_fault, ctx)) {
		best = &c->first_fault;
		*index = 0;
	}
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++) {
		struct core_thread *t = c->threads[i];
		if (t && t->teardown == TEARDOWN_NONE && t->fault.kind == CORE_FAULT_RM &&
		    (!best || t->fault.seq < best->seq) && take(c, &t->fault, ctx)) {
			best = &t->fault;
			*index = i;
		}
	}
	return best;
}

/* As Genode's region map wakes its faulters: the access is retried. A
 * thread whose resume fails (it is gone) keeps its record for its end. */
static void resume_if_resolved(struct component *c, pid_t tid, struct core_fault *f)
{
	if (f->kind == CORE_FAULT_RM && rm_fault_resolved(c, f) && process_thread_resume(c->process, tid) == 0)
		f->kind = CORE_FAULT_NONE;
}

void cpu_resume_resolved(struct component *c)
{
	/* A checkpoint's frozen set stays as saved; its thaw calls this. */
	if (c->ending || !c->process || c->cr_busy)
		return;
	if (c->thread)
		resume_if_resolved(c, process_pid(c->process), &c->first_fault);
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++) {
		struct core_thread *t = c->threads[i];
		if (t && t->teardown == TEARDOWN_NONE && t->started)
			resume_if_resolved(c, t->tid, &t->fault);
	}
}

static unsigned live_threads(struct component *c, struct kthread **out, bool ending)
{
	unsigned n = 0;
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++) {
		struct core_thread *t = c->threads[i];
		/* Exits and closes in flight finished before (c->entry_stops);
		 * closed ones have no kernel object left. */
		if (t && (t->teardown == TEARDOWN_NONE || t->teardown == TEARDOWN_ORPHAN)) {
			if (ending)
				t->teardown = TEARDOWN_END;
			out[n++] = t->k;
		}
	}
	return n;
}

unsigned cpu_threads_stopping(struct component *c, struct kthread **out) { return live_threads(c, out, true); }

unsigned cpu_threads_live(struct component *c, struct kthread **out) { return live_threads(c, out, false); }

void cpu_forget(struct component *c)
{
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++) {
		struct core_thread *t = c->threads[i];
		if (!t)
			continue;
		if (t->sel != AMBER_SEL_INVALID)
			kernel_cap_delete(kernel_core_task(), t->sel);
		free(t);
		c->threads[i] = NULL;
	}
}

unsigned cpu_close(struct core_session *s, struct kthread **out, struct core_thread **recs)
{
	struct component *c = s->c;
	unsigned n = 0;
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++) {
		struct core_thread *t = c->threads[i];
		if (!t || t->session != s)
			continue;
		t->session = NULL; /* s is about to go */
		if (t->teardown != TEARDOWN_NONE)
			continue; /* its exit owns it already */
		/* Ours (no request finds it, its exit leaves it to us) and
		 * stopped where it is: the process layer cannot end one thread,
		 * so the Linux thread stays stopped until the component ends. */
		t->teardown = TEARDOWN_CLOSE;
		if (c->process && !c->ending)
			process_thread_stop(c->process, t->tid);
		out[n] = t->k;
		recs[n++] = t;
	}
	return n;
}

void cpu_close_finish(struct component *c, struct core_thread **recs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct core_thread *t = recs[i];
		kernel_cap_delete(kernel_core_task(), t->sel); /* revokes the component's capability */
		t->k = NULL;
		t->sel = AMBER_SEL_INVALID;
		t->teardown = TEARDOWN_CLOSED;
		/* A Linux thread that is stopped, not gone, still names its UTCB
		 * slot: keep it until that thread exits or the component ends. */
		if (t->exited)
			thread_free(c, t);
	}
}

void cpu_close_undo(struct core_thread **recs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		recs[i]->teardown = TEARDOWN_ORPHAN; /* the component's end stops them */
}

unsigned cpu_thread_count(struct component *c)
{
	unsigned n = 0;
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++)
		n += c->threads[i] && c->threads[i]->teardown != TEARDOWN_CLOSED;
	return n;
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* A thread stopped inside an interrupted system call (a futex wait) would
 * be restarted by Linux on resume, through state a new thread does not
 * have (a restart block). Save it as about to execute that call again:
 * rip back over the 2-byte `syscall`, rax the call's number. The runtime
 * re-checks its condition after any wake-up, so a restarted wait is safe. */
static void regs_restartable(struct user_regs_struct *g)
{
	long rax = (long)g->rax;
	if ((long)g->orig_rax >= 0 && (rax == -512 || rax == -513 || rax == -514 || rax == -516)) {
		g->rip -= 2;
		g->rax = g->orig_rax;
	}
	g->orig_rax = (unsigned long long)-1;
}

static void save_fault(AmberImg__Fault *x, const struct core_fault *f)
{
	x->kind = f->kind;
	x->sig = f->sig;
	x->addr = f->addr;
	x->ip = f->ip;
	x->access = f->access;
	x->seq = f->seq;
}

static int save_thread(struct cr_save *s, struct component *c, AmberImg__Component *m, unsigned index,
		       struct kthread *k, pid_t tid, const struct core_thread *rec, const struct process_frozen *frozen,
		       size_t nfrozen, struct thread_regs *regs)
{
	const struct process_frozen *f = NULL;
	for (size_t i = 0; i < nfrozen && !f; i++)
		if (frozen[i].tid == tid)
			f = &frozen[i];
	if (!f) /* its Linux thread left; core has not seen the exit yet */
		return cr_fail(s->err, s->errlen, "%s: thread %u (%s) is exiting; try again", c->name, index,
			       kernel_thread_name(k));
	int e = process_thread_get_regs(c->process, tid, regs);
	if (e < 0)
		return cr_fail(s->err, s->errlen, "%s: thread %u: cannot read its registers: %s", c->name, index,
			       strerror(-e));
	regs_restartable(&regs->gp);
	AmberImg__Thread *t = CR_NEW(AmberImg__Thread, amber_img__thread__init);
	t->index = index;
	t->object_id = kernel_object_id(k);
	t->name = cr_strdup(kernel_thread_name(k));
	const struct core_fault *fault = rec ? &rec->fault : &c->first_fault;
	t->started = rec ? rec->started : true;
	t->run_state = !t->started		    ? AMBER_IMG__RUN_STATE__NOT_STARTED
		       : fault->kind != CORE_FAULT_NONE ? AMBER_IMG__RUN_STATE__FAULT_HELD
		       : f->was_running		    ? AMBER_IMG__RUN_STATE__RUNNING
						    : AMBER_IMG__RUN_STATE__PAUSED;
	t->gp_regs.len = sizeof(regs->gp);
	t->gp_regs.data = malloc(sizeof(regs->gp));
	t->xstate.len = regs->xstate_size;
	t->xstate.data = malloc(regs->xstate_size ? regs->xstate_size : 1);
	if (!t->gp_regs.data || !t->xstate.data)
		abort();
	memcpy(t->gp_regs.data, &regs->gp, sizeof(regs->gp));
	memcpy(t->xstate.data, regs->xstate, regs->xstate_size);
	s->img->xstate_size = regs->xstate_size;
	t->fault = CR_NEW(AmberImg__Fault, amber_img__fault__init);
	save_fault(t->fault, fault);
	t->session = rec ? cr_session_index(c, rec->session) : 0;
	unsigned placed = rec ? rec->placed : c->first_placed;
	t->has_cpu = placed != 0;
	t->cpu = placed ? placed - 1 : 0;

	struct kernel_thread_ipc_state ipc;
	kernel_thread_ipc_export(k, &ipc);
	AmberImg__ThreadIpc *x = CR_NEW(AmberImg__ThreadIpc, amber_img__thread_ipc__init);
	t->ipc = x;
	x->state = ipc.state;
	x->op_seq = ipc.op_seq;
	x->send_is_call = ipc.send_is_call;
	x->msg_tag = ipc.msg_tag;
	x->n_msg_mr = AMBER_MR_COUNT;
	x->msg_mr = malloc(sizeof(ipc.msg_mr));
	if (!x->msg_mr)
		abort();
	memcpy(x->msg_mr, ipc.msg_mr, sizeof(ipc.msg_mr));
	x->rcv_window = ipc.rcv_window;
	x->rcv_timeout_us = ipc.rcv_timeout_us;
	x->remaining_us = ipc.remaining_us;
	x->send_gate_id = ipc.send_gate_id;
	x->queue_pos = ipc.queue_pos;
	x->partner_id = ipc.partner_id;
	x->reply_to_id = ipc.reply_to_id;
	x->wait_irq_id = ipc.wait_irq_id;
	CR_APPEND(m, threads, t);
	return 0;
}

int cpu_save(struct cr_save *s, struct component *c, AmberImg__Component *m, const struct process_frozen *frozen,
	     size_t nfrozen)
{
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return cr_fail(s->err, s->errlen, "no memory for registers");
	int rc = 0;
	if (c->thread)
		rc = save_thread(s, c, m, 0, c->thread, process_pid(c->process), NULL, frozen, nfrozen, regs);
	for (unsigned i = 1; i < CORE_MAX_THREADS && rc == 0; i++) {
		struct core_thread *t = c->threads[i];
		if (!t)
			continue;
		if (t->teardown == TEARDOWN_CLOSED)
			continue; /* no kernel object left; its slot is not kept by a restore */
		if (t->teardown != TEARDOWN_NONE || !t->k) {
			rc = cr_fail(s->err, s->errlen, "%s: thread %u is exiting; try again", c->name, i);
			break;
		}
		rc = save_thread(s, c, m, i, t->k, t->tid, t, frozen, nfrozen, regs);
	}
	free(regs);
	return rc;
}

static void load_fault(struct core_fault *f, const AmberImg__Fault *x)
{
	*f = (struct core_fault){ .kind = x->kind, .sig = x->sig, .addr = x->addr, .ip = x->ip, .access = x->access,
				  .seq = x->seq };
}

int cpu_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct ktask *core = kernel_core_task();
	c->thread = NULL;
	c->thread_sel = AMBER_SEL_INVALID;
	memset(&c->first_fault, 0, sizeof(c->first_fault));
	for (size_t i = 0; i < l->m->n_threads; i++) {
		const AmberImg__Thread *x = l->m->threads[i];
		if (x->index >= CORE_MAX_THREADS || (x->index && c->threads[x->index]) || (!x->index && c->thread))
			return cr_fail(l->err, l->errlen, "%s: thread %zu: UTCB slot %u is invalid or used twice", c->name,
				       i, x->index);
		struct amber_utcb *utcb = (struct amber_utcb *)(c->utcbs.local + (size_t)x->index * AMBER_UTCB_SIZE);
		amber_sel_t sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
		struct kthread *k;
		if (cr_force_id(l, x->object_id, "thread") < 0)
			return -1;
		if (kernel_create_thread(core, sel, c->task, x->name, utcb, utcb_addr(x->index), &k) != AMBER_OK)
			return cr_fail(l->err, l->errlen, "%s: cannot create thread %u", c->name, x->index);
		if (!x->index) {
			c->thread = k;
			c->thread_sel = sel;
			load_fault(&c->first_fault, x->fault);
			c->first_placed = x->has_cpu ? x->cpu + 1 : 0;
			continue;
		}
		struct core_thread *t = calloc(1, sizeof(*t));
		struct core_session *ss = cr_load_session(l, x->session, "a thread");
		if (!t || !ss) {
			free(t);
			kernel_cap_delete(core, sel);
			return l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: no memory for a thread", c->name);
		}
		t->k = k;
		t->sel = sel;
		t->id = x->object_id;
		t->index = x->index;
		t->started = x->started;
		t->session = ss;
		load_fault(&t->fault, x->fault);
		t->placed = x->has_cpu ? x->cpu + 1 : 0;
		c->threads[x->index] = t;
	}
	return 0;
}

static int set_regs(struct cr_load *l, pid_t tid, const AmberImg__Thread *x, struct thread_regs *regs)
{
	int e = process_thread_get_regs(l->c->process, tid, regs);
	if (e == 0 && regs->xstate_size != x->xstate.len)
		return cr_fail(l->err, l->errlen, "%s: thread %u: XSAVE area of %zu bytes, this machine has %u",
			       l->c->name, x->index, x->xstate.len, regs->xstate_size);
	if (e == 0) {
		memcpy(&regs->gp, x->gp_regs.data, sizeof(regs->gp));
		memcpy(regs->xstate, x->xstate.data, x->xstate.len);
		e = process_thread_set_regs(l->c->process, tid, regs);
	}
	if (e < 0)
		return cr_fail(l->err, l->errlen, "%s: thread %u: cannot set its registers: %s", l->c->name, x->index,
			       strerror(-e));
	return 0;
}

int cpu_load_process(struct cr_load *l)
{
	struct component *c = l->c;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	if (!regs)
		return cr_fail(l->err, l->errlen, "no memory for registers");
	int rc = 0;
	for (size_t i = 0; i < l->m->n_threads && rc == 0; i++) {
		const AmberImg__Thread *x = l->m->threads[i];
		pid_t tid = process_pid(c->process);
		if (x->index) {
			struct thread_start start = { .tls_base = utcb_addr(x->index) };
			int e = process_thread_create(c->process, &start, &tid);
			if (e < 0) {
				rc = cr_fail(l->err, l->errlen, "%s: cannot create thread %u: %s", c->name, x->index,
					     strerror(-e));
				break;
			}
			c->threads[x->index]->tid = tid;
		}
		rc = set_regs(l, tid, x, regs);
		if (rc == 0)
			rc = rebind(l, tid, x->has_cpu ? x->cpu + 1 : 0, x->index);
	}
	free(regs);
	return rc;
}

/* The Linux thread of a restored thread, by UTCB slot (0: the first). */
pid_t cpu_thread_tid(struct component *c, unsigned index)
{
	if (!index)
		return c->process ? process_pid(c->process) : 0;
	return index < CORE_MAX_THREADS && c->threads[index] ? c->threads[index]->tid : 0;
}
