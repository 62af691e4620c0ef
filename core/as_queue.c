/*
 * Address-space work: the mappings core changes in a component's process
 * (mmap and munmap by system-call injection, each a few hundred
 * microseconds, and a request may need hundreds) are carried out without
 * the kernel lock, in the order core decided them.
 *
 * Under the lock a handler decides and records the change (rm_session.c
 * updates its lists at once) and queues the injection on the target
 * component's queue (as_map, as_unmap). One worker thread per component
 * with work drains its queue in order, each injection without the lock,
 * so the process always ends up as the records say, and another
 * component's requests, IPC and injections go on meanwhile. A request that
 * queued work is answered when all of it is done (as_serve wraps the
 * handler: it becomes a deferred reply); the caller waits for its own work
 * only, and that work runs on its target's queue, not on a shared one.
 *
 * Who waits for a queue: the component's end (stop_entry_threads, before
 * its process goes), a checkpoint of it (its tasks frozen first, so its own
 * threads queue nothing new), amber-core's end (as_queue_stop). A target
 * that dies meanwhile makes its injections fail with ESRCH; nothing else
 * changes. An attachment whose mapping failed is removed again before the
 * reply (its undo). The memfd of a mapping is dup'd when it is queued, so
 * a dataspace freed meanwhile cannot hand its descriptor number to another
 * file before the injection reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "cr_copy.h"

/* Queued changes a worker makes with one request to the process layer (one
 * thread borrowed, the memfd fetched once): fewer round trips and
 * injections for the churning component, while the controller thread,
 * which serves every component, is not held for long by one. */
#define AS_BATCH 32

/* One request's work: answered when `pending` reaches 0. */
struct as_job {
	struct kthread *caller;   /* NULL: nobody waits (abandoned, or a SEND) */
	struct component *requester;
	unsigned pending;         /* its operations not done yet */
	int error;                /* the handler's answer */
	amber_tag_t reply_tag;
	amber_word_t reply_mr[AMBER_MR_COUNT];
	int failed;               /* the first failed mapping's -errno, 0 if none */
	struct as_undo undo;      /* what to take back if a mapping failed */
};

struct as_op {
	struct as_op *next;
	struct as_job *job;       /* NULL: nobody waits for it */
	bool map;
	struct dataspace mem;     /* map: the memfd dup'd, its size and id */
	struct process_mapping m; /* m.ds = &mem; unmap: addr and size only */
};

static struct as_job *current;   /* the request being handled, kernel lock held */
static unsigned workers;         /* worker threads alive */

static void job_finish(struct as_job *j)
{
	int error = j->error;
	if (j->failed && j->undo.fn)
		error = j->undo.fn(&j->undo, j->failed);
	if (j->requester)
		j->requester->as_jobs--;
	if (j->caller)
		kernel_core_reply(j->caller, error, j->reply_tag, j->reply_mr);
	free(j);
}

static void job_abandoned(void *ctx)
{
	((struct as_job *)ctx)->caller = NULL; /* the work still goes on: the records already say so */
}

static void op_done(struct as_op *op, int rc)
{
	struct as_job *j = op->job;
	if (op->mem.fd >= 0)
		close(op->mem.fd);
	free(op);
	if (!j)
		return;
	if (rc < 0 && !j->failed)
		j->failed = rc;
	if (--j->pending == 0 && j != current)
		job_finish(j);
}

/* Carry out op for c (kernel lock held: the fallback without a worker). */
static int op_run(struct process *p, const struct as_op *op)
{
	if (!p)
		return -ESRCH;
	return op->map ? process_map(p, &op->m) : process_unmap(p, op->m.addr, op->m.size);
}

static void *worker(void *arg)
{
	struct component *c = arg;
	struct as_op *batch[AS_BATCH];
	struct process_mapping ops[AS_BATCH];
	int rc[AS_BATCH];
	kernel_lock();
	while (c->as_head) {
		size_t n = 0;
		for (; n < AS_BATCH && c->as_head; n++) {
			struct as_op *op = c->as_head;
			c->as_head = op->next;
			batch[n] = op;
			ops[n] = op->m;
			if (!op->map)
				ops[n].ds = NULL;
		}
		if (!c->as_head)
			c->as_tail = NULL;
		/* c->as_ops still counts them, so c->process stays; ending: it goes
		 * as a whole. */
		struct process *p = c->ending ? NULL : c->process;
		kernel_unlock();
		if (p)
			process_remap(p, ops, n, rc);
		else
			for (size_t i = 0; i < n; i++)
				rc[i] = -ESRCH;
		kernel_lock();
		/* All made: a thread held on a fault they resolve goes on,
		 * before the handler's ATTACH is answered. */
		if (p && !c->as_head && c->process == p)
			cpu_resume_resolved(c);
		for (size_t i = 0; i < n; i++) {
			/* A checkpoint copying this dataspace protects the new
			 * mapping too (by the dataspace's id: it may be gone). */
			if (rc[i] == 0 && batch[i]->map && c->process == p)
				cr_copy_mapped(c, &batch[i]->m);
			op_done(batch[i], rc[i]);
			c->as_ops--;
		}
	}
	c->as_worker = false;
	workers--;
	kernel_unlock();
	return NULL;
}

/* Queue op on c; without a worker thread (none could be made) it is done
 * here and now, with the lock held, as before there were queues. */
static void enqueue(struct component *c, struct as_op *op)
{
	op->job = current;
	if (current)
		current->pending++;
	c->as_ops++;
	if (c->as_tail)
		c->as_tail->next = op;
	else
		c->as_head = op;
	c->as_tail = op;
	if (c->as_worker)
		return;
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	c->as_worker = pthread_create(&t, &attr, worker, c) == 0;
	pthread_attr_destroy(&attr);
	if (c->as_worker) {
		workers++;
		return;
	}
	/* The queue was empty (no worker): op is its only entry. */
	c->as_head = c->as_tail = NULL;
	int rc = op_run(c->process, op);
	if (rc == 0 && op->map)
		cr_copy_mapped(c, &op->m);
	op_done(op, rc);
	c->as_ops--;
}

int as_map(struct component *c, const struct process_mapping *m)
{
	if (!c->process || c->ending)
		return -ESRCH;
	struct as_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->map = true;
	op->mem = *m->ds;
	op->mem.local = NULL;
	op->mem.fd = fcntl(m->ds->fd, F_DUPFD_CLOEXEC, 0);
	if (op->mem.fd < 0) {
		int e = -errno;
		free(op);
		return e;
	}
	op->m = *m;
	op->m.ds = &op->mem;
	enqueue(c, op);
	return 0;
}

int as_unmap(struct component *c, uint64_t addr, uint64_t size)
{
	if (!c->process || c->ending)
		return -ESRCH;
	struct as_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM; /* left mapped; it goes with the process */
	op->mem.fd = -1;
	op->m.addr = addr;
	op->m.size = size;
	enqueue(c, op);
	return 0;
}

void as_undo_on_failure(const struct as_undo *u)
{
	if (current)
		current->undo = *u;
}

enum kcore_result as_serve(kernel_core_handler h, void *ctx, struct kcore_request *req, int *error)
{
	struct as_job *j = calloc(1, sizeof(*j));
	if (!j) {
		*error = AMBER_ERR_QUOTA;
		service_drop_items(req);
		return KCORE_REPLY;
	}
	current = j;
	enum kcore_result res = h(ctx, req, error);
	current = NULL;
	if (j->pending == 0) {
		/* Nothing queued, or done already (no worker): answer now. */
		if (j->failed && j->undo.fn)
			*error = j->undo.fn(&j->undo, j->failed);
		free(j);
		return res;
	}
	if (res == KCORE_DEFER || !req->is_call) {
		/* The handler answers by itself, or nobody waits: the work goes
		 * on, owned by nobody. */
		j->caller = NULL;
		return res;
	}
	j->caller = req->caller;
	j->error = *error;
	j->reply_tag = req->reply_tag;
	memcpy(j->reply_mr, req->reply_mr, sizeof(j->reply_mr));
	j->requester = kernel_task_platform(kernel_thread_task(req->caller));
	if (j->requester)
		j->requester->as_jobs++;
	req->abandoned = job_abandoned;
	req->abandoned_ctx = j;
	return KCORE_DEFER;
}

bool as_idle(const struct component *c)
{
	return c->as_ops == 0 && c->as_jobs == 0;
}

void as_queue_stop(void)
{
	kernel_lock();
	while (workers) {
		kernel_unlock();
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		kernel_lock();
	}
	kernel_unlock();
}
