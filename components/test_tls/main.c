/*
 * test_tls: _Thread_local variables in the main thread and in WORKERS
 * threads; a workload for checkpoint/restore.
 *
 * Every thread has its own copy of the four thread-local variables below:
 * initialised ones (.tdata) start with their initial value in every new
 * thread, whatever the creator did to its own copy, zero ones (.tbss) at
 * zero, an over-aligned one at its alignment. Each worker checks that
 * when it starts and reports the addresses of its copies; the main thread
 * checks that no two threads share one ("ok:"/"FAIL:" lines).
 *
 * Then, in each of `rounds` rounds (<config><tls rounds="N"/></config>,
 * default ROUNDS), paced by a Timer so that a checkpoint lands mid-run,
 * the main thread triggers every worker's IRQ; worker w adds w + 1 to its
 * counter, bumps its other thread-local variables and reports their sum by
 * an IPC call to a gate bound to the main thread; the main thread adds 100
 * to its own counter and logs, in a fixed order:
 *
 *   tls: round R main 100R worker0 V0 worker1 V1 worker2 V2
 *
 * where V_w is a function of R and w alone: a restore that lost a TLS
 * block, swapped two or gave a thread a wrong fs base prints other
 * numbers (or faults). Exit code 0, or 1 on any FAIL.
 */
#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/error.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define WORKERS 3u
#define ROUNDS 40u
#define PERIOD_US 20000u
#define PROTO 0x4502u
#define GATE_LABEL 0x746c73u /* "tls" */
enum { MSG_READY = 1, MSG_RESULT = 2 };

static _Thread_local uint64_t counter;          /* .tbss */
static _Thread_local uint64_t start_value = 1000; /* .tdata */
static _Thread_local uint32_t calls = 7;          /* .tdata, not a multiple of 8 */
static _Thread_local _Alignas(64) char name[24];  /* .tbss, over-aligned */

struct worker {
	unsigned index;
	struct amber_thread thread;
	amber_sel_t go;         /* IRQ attached to the worker: one trigger per round */
	volatile unsigned quit; /* read after a trigger: end instead of counting */
	uint64_t addr[3];       /* its copies of counter, start_value and name */
	uint64_t fresh;         /* 1 if its copies started as a new thread's must */
	uint64_t value;         /* its last report */
};

static struct worker workers[WORKERS];
static amber_sel_t gate;

static int report(unsigned words)
{
	return amber_ipc_call(gate, amber_tag(PROTO, words, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

/* A value only this thread's own copies produce after `counter` rounds. */
static uint64_t tls_value(void)
{
	return counter * 1000000 + (start_value - 1000) * 1000 + (calls - 7) * 10 + (uint64_t)(name[0] - 'a');
}

static void work(void *arg)
{
	struct worker *wk = arg;
	struct amber_utcb *u = amber_utcb();
	wk->fresh = counter == 0 && start_value == 1000 && calls == 7 && name[0] == 0 &&
		    ((uintptr_t)name & 63) == 0 && amber_tcb()->self == amber_tcb();
	wk->addr[0] = (uint64_t)(uintptr_t)&counter;
	wk->addr[1] = (uint64_t)(uintptr_t)&start_value;
	wk->addr[2] = (uint64_t)(uintptr_t)name;
	name[0] = (char)('a' + wk->index);
	int err = amber_irq_attach(wk->go, amber_thread_self(), wk->index + 1);
	u->mr[0] = MSG_READY;
	u->mr[1] = wk->index;
	u->mr[2] = (amber_word_t)(int64_t)err;
	report(3);
	if (err)
		return;
	for (;;) {
		if (amber_irq_receive(wk->go, AMBER_TIMEOUT_NEVER) != AMBER_OK || wk->quit)
			return;
		counter += wk->index + 1;
		start_value++;
		calls += 2;
		u->mr[0] = MSG_RESULT;
		u->mr[1] = wk->index;
		u->mr[2] = tls_value();
		report(3);
	}
}

/* Take `n` reports of `type` from the workers; each is answered at once. */
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
		if (type == MSG_READY && u->mr[2] != 0)
			bad++;
		if (type == MSG_RESULT)
			workers[u->mr[1]].value = u->mr[2];
		amber_ipc_reply(amber_tag(PROTO, 0, 0));
	}
	return bad;
}

static int distinct_copies(void)
{
	uint64_t mine[3] = { (uint64_t)(uintptr_t)&counter, (uint64_t)(uintptr_t)&start_value,
			     (uint64_t)(uintptr_t)name };
	for (unsigned v = 0; v < 3; v++)
		for (unsigned a = 0; a < WORKERS; a++) {
			if (workers[a].addr[v] == mine[v])
				return 0;
			for (unsigned b = a + 1; b < WORKERS; b++)
				if (workers[a].addr[v] == workers[b].addr[v])
					return 0;
		}
	return 1;
}

int main(void)
{
	const char *config = 0;
	unsigned rounds = ROUNDS;
	if (amber_rom_config(&config, 0) == AMBER_OK)
		rounds = amber_config_number(config, "rounds", ROUNDS);
	struct amber_timer timer;
	int err;
	gate = amber_cap_alloc();
	if ((err = amber_timer_open(&timer)) ||
	    (err = amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, GATE_LABEL))) {
		amber_log("tls: FAIL: setup (%s)", amber_error_name(err));
		return 1;
	}
	amber_check_val("the first thread starts with fresh copies",
			counter == 0 && start_value == 1000 && calls == 7 && name[0] == 0, 1);
	amber_check_val("its over-aligned variable is aligned", (uintptr_t)name & 63, 0);
	amber_check_val("its TCB names its UTCB", (uint64_t)(uintptr_t)amber_tcb()->utcb, AMBER_UTCB_AREA);
	/* New threads must not inherit these: they start from the ELF's image. */
	start_value = 5000;
	calls = 1;
	name[0] = 'm';

	for (unsigned w = 0; w < WORKERS; w++) {
		workers[w].index = w;
		workers[w].go = amber_cap_alloc();
		if ((err = amber_factory_create_irq(AMBER_SEL_FACTORY, workers[w].go)) ||
		    (err = amber_thread_create(&workers[w].thread, work, &workers[w]))) {
			amber_log("tls: FAIL: worker %u (%s)", w, amber_error_name(err));
			return 1;
		}
	}
	if (collect(WORKERS, MSG_READY)) {
		amber_log("tls: FAIL: not every worker got ready");
		return 1;
	}
	for (unsigned w = 0; w < WORKERS; w++)
		amber_check_val("a worker starts with fresh copies", workers[w].fresh, 1);
	amber_check_val("no two threads share a copy", distinct_copies(), 1);
	amber_check_val("the first thread's copies are its own", start_value == 5000 && calls == 1 && name[0] == 'm',
			1);
	amber_log("tls: %u workers, %u rounds", WORKERS, rounds);

	int failures = 0;
	for (unsigned r = 1; r <= rounds; r++) {
		amber_timer_sleep_us(&timer, PERIOD_US);
		for (unsigned w = 0; w < WORKERS; w++)
			amber_irq_trigger(workers[w].go);
		if (collect(WORKERS, MSG_RESULT)) {
			amber_log("tls: FAIL: bad report in round %u", r);
			failures++;
		}
		counter += 100;
		amber_log("tls: round %u main %lu worker0 %lu worker1 %lu worker2 %lu", r, (unsigned long)counter,
			  (unsigned long)workers[0].value, (unsigned long)workers[1].value,
			  (unsigned long)workers[2].value);
		for (unsigned w = 0; w < WORKERS; w++) {
			uint64_t want = (uint64_t)r * (w + 1) * 1000000 + r * 1000 + r * 20 + w;
			if (workers[w].value != want) {
				amber_log("tls: FAIL: worker %u in round %u: %lu, not %lu", w, r,
					  (unsigned long)workers[w].value, (unsigned long)want);
				failures++;
			}
		}
		if (counter != 100ull * r || start_value != 5000 || calls != 1 || name[0] != 'm') {
			amber_log("tls: FAIL: the first thread's copies changed in round %u", r);
			failures++;
		}
	}
	for (unsigned w = 0; w < WORKERS; w++) {
		workers[w].quit = 1;
		amber_irq_trigger(workers[w].go);
	}
	for (unsigned w = 0; w < WORKERS; w++)
		if ((err = amber_thread_join(&workers[w].thread))) {
			amber_log("tls: FAIL: join worker %u (%s)", w, amber_error_name(err));
			failures++;
		}
	amber_log("tls: done");
	return failures || amber_check_done() ? 1 : 0;
}
