/*
 * example_threads: several threads, the heap, and the runtime's ways of
 * synchronising them; a workload for checkpoint/restore.
 *
 * The main thread starts WORKERS threads (amber_thread_create). Each worker
 * creates an IRQ, attaches it to itself and reports "ready" to the main
 * thread by an IPC call to a gate bound to the main thread; the IRQ is then
 * the worker's "go" semaphore. For each of ROUNDS rounds the main thread
 * triggers every worker's IRQ; the worker computes a checksum over heap
 * buffers of varied sizes (amber_malloc/amber_free, some of them large
 * enough for a chunk of their own), adds it to a total shared by all
 * workers under a lock, and reports it by another IPC call. The main
 * thread collects the reports (they arrive in any order), logs them in
 * worker order and checks the shared total, then lets the workers end and
 * joins them. Everything it logs is deterministic:
 *
 *   threads: round 1 worker 0 sum ...   (ROUNDS x WORKERS lines)
 *   threads: total ... (matches)
 *   threads: done
 *
 * The exit code is 0, or 1 if anything went wrong ("threads: FAIL: ...").
 */
#include <amber/cap_alloc.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/lock.h>
#include <amber/log.h>
#include <amber/thread.h>

#define WORKERS 4u
#define ROUNDS 3u
#define PROTO 0x4501u
#define GATE_LABEL 0x74687264u /* "thrd" */
enum { MSG_READY = 1, MSG_RESULT = 2 };

struct worker {
	unsigned index;
	struct amber_thread thread;
	amber_sel_t go;           /* IRQ attached to the worker: one trigger per round */
	volatile unsigned quit;   /* read after a trigger: end instead of computing */
};

static struct worker workers[WORKERS];
static amber_sel_t gate;                 /* bound to the main thread */
static struct amber_lock lock = AMBER_LOCK_INIT;
static uint64_t shared_total;            /* under lock */
static unsigned shared_allocs;           /* under lock */
static uint64_t results[ROUNDS][WORKERS];

static uint64_t next_random(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

/* One round of one worker: three buffers of different sizes, filled from a
 * seeded generator, combined, and freed in another order than allocated. */
static uint64_t compute(unsigned w, unsigned round, unsigned *allocs)
{
	static const size_t base[3] = { 700, 3000, 9000 };
	uint64_t seed = 0x9e3779b97f4a7c15ull * (w + 1) + round;
	uint32_t *buf[3];
	size_t len[3];
	uint64_t sum = 0;
	for (unsigned b = 0; b < 3; b++) {
		len[b] = base[b] + 517u * w + 131u * round * (b + 1);
		buf[b] = amber_malloc(len[b] * sizeof(uint32_t));
		if (!buf[b]) {
			for (unsigned k = 0; k < b; k++)
				amber_free(buf[k]);
			return 0;
		}
		(*allocs)++;
		for (size_t i = 0; i < len[b]; i++)
			buf[b][i] = (uint32_t)next_random(&seed);
	}
	for (unsigned b = 0; b < 3; b++)
		for (size_t i = 0; i < len[b]; i++)
			sum += ((uint64_t)buf[b][i] * (i % 97 + 1)) ^ buf[(b + 1) % 3][i % len[(b + 1) % 3]];
	amber_free(buf[1]);
	amber_free(buf[0]);
	amber_free(buf[2]);
	return sum;
}

/* An IPC call to the main thread: words in mr[0..n) are already set. */
static int report(unsigned words)
{
	return amber_ipc_call(gate, amber_tag(PROTO, words, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

static void work(void *arg)
{
	struct worker *wk = arg;
	struct amber_utcb *u = amber_utcb();
	int err = amber_irq_attach(wk->go, amber_thread_self(), wk->index + 1);
	u->mr[0] = MSG_READY;
	u->mr[1] = wk->index;
	u->mr[2] = (amber_word_t)(int64_t)err;
	report(3);
	if (err)
		return;
	for (unsigned round = 0;; round++) {
		if (amber_irq_receive(wk->go, AMBER_TIMEOUT_NEVER) != AMBER_OK || wk->quit)
			return;
		unsigned allocs = 0;
		uint64_t sum = compute(wk->index, round, &allocs);
		amber_lock_acquire(&lock);
		shared_total += sum;
		shared_allocs += allocs;
		amber_lock_release(&lock);
		u->mr[0] = MSG_RESULT;
		u->mr[1] = wk->index;
		u->mr[2] = round;
		u->mr[3] = sum;
		report(4);
	}
}

/* Take `n` reports from the workers; each is answered at once. */
static int collect(unsigned n, unsigned type)
{
	struct amber_utcb *u = amber_utcb();
	int bad = 0;
	for (unsigned i = 0; i < n; i++) {
		int err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
		if (err || u->label != GATE_LABEL || amber_tag_words(u->tag) < 3 || u->mr[0] != type ||
		    u->mr[1] >= WORKERS) {
			bad++;
			continue;
		}
		unsigned w = (unsigned)u->mr[1];
		if (type == MSG_READY && u->mr[2] != 0)
			bad++;
		if (type == MSG_RESULT && amber_tag_words(u->tag) == 4 && u->mr[2] < ROUNDS)
			results[u->mr[2]][w] = u->mr[3];
		u->mr[0] = 0;
		amber_ipc_reply(amber_tag(PROTO, 1, 0));
	}
	return bad;
}

int main(void)
{
	int err, failures = 0;
	gate = amber_cap_alloc();
	if ((err = amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, GATE_LABEL))) {
		amber_log("threads: FAIL: gate (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("threads: starting %u workers for %u rounds", WORKERS, ROUNDS);
	for (unsigned w = 0; w < WORKERS; w++) {
		workers[w].index = w;
		workers[w].go = amber_cap_alloc();
		if ((err = amber_factory_create_irq(AMBER_SEL_FACTORY, workers[w].go)) ||
		    (err = amber_thread_create(&workers[w].thread, work, &workers[w]))) {
			amber_log("threads: FAIL: worker %u (%s)", w, amber_error_name(err));
			return 1;
		}
	}
	if (collect(WORKERS, MSG_READY)) {
		amber_log("threads: FAIL: not every worker got ready");
		return 1;
	}
	amber_log("threads: all %u workers ready", WORKERS);

	uint64_t total = 0;
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned w = 0; w < WORKERS; w++)
			amber_irq_trigger(workers[w].go);
		if (collect(WORKERS, MSG_RESULT)) {
			amber_log("threads: FAIL: bad report in round %u", r + 1);
			failures++;
		}
		for (unsigned w = 0; w < WORKERS; w++) {
			amber_log("threads: round %u worker %u sum %lu", r + 1, w, (unsigned long)results[r][w]);
			total += results[r][w];
			if (results[r][w] == 0)
				failures++;
		}
	}

	for (unsigned w = 0; w < WORKERS; w++) {
		workers[w].quit = 1;
		amber_irq_trigger(workers[w].go);
	}
	for (unsigned w = 0; w < WORKERS; w++) {
		if ((err = amber_thread_join(&workers[w].thread))) {
			amber_log("threads: FAIL: join worker %u (%s)", w, amber_error_name(err));
			failures++;
		}
		amber_task_delete(AMBER_SEL_TASK, workers[w].go);
		amber_cap_free(workers[w].go);
	}

	amber_lock_acquire(&lock);
	uint64_t shared = shared_total;
	unsigned allocs = shared_allocs;
	amber_lock_release(&lock);
	int match = shared == total && allocs == 3u * WORKERS * ROUNDS;
	amber_log("threads: total %lu over %u allocations (%s)", (unsigned long)total, allocs,
		  match ? "matches the shared total" : "FAIL: differs from the shared total");
	if (!match)
		failures++;
	if (failures)
		amber_log("threads: FAIL: %d failures", failures);
	else
		amber_log("threads: done");
	return failures ? 1 : 0;
}
