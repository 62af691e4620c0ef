/*
 * example_sessions: every core session from one framework component, one
 * log line per step, deterministic (a workload for checkpoint/restore).
 *
 * component_construct (in the main entrypoint):
 *   ROM    reads its config, e.g. <rounds count="4" period_ms="20"/>;
 *   PD     allocates a RAM dataspace within the ram quota;
 *   RM     attaches it writable, fills it, detaches it, attaches it again
 *          read-only and finds the same contents;
 *   CPU    starts a worker thread (amber_thread_create: CPU, PD and RM
 *          sessions underneath), pauses and resumes it;
 *   PD     gives the worker an RPC capability (ALLOC_RPC_CAP): its badge
 *          tells the worker's requests apart;
 *   Timer  a periodic timeout whose signal runs on_tick in the entrypoint.
 * Each tick is one round: the entrypoint calls the worker through the RPC
 * capability with the round's number, and the worker answers with a value
 * computed from the dataspace. After the last round the component stops
 * the timer, ends the worker, frees what it allocated, logs
 * "sessions: done, N rounds" and exits with 0 (1 and a "FAIL" line if a
 * step went wrong). LOG is every line it writes.
 */
#include <amber/cap_alloc.h>
#include <amber/component.h>
#include <amber/cpu.h>
#include <amber/error.h>
#include <amber/ipc.h>
#include <amber/log.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/rom.h>
#include <amber/string.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define DEFAULT_ROUNDS 3u
#define DEFAULT_PERIOD_MS 20u
#define RAM_BYTES 10000u
#define WORKER_PROTO 0x4502u
enum { WORKER_COMPUTE = 1, WORKER_QUIT = 2 };

struct state {
	struct amber_env *env;
	unsigned rounds, period_ms, round;
	amber_sel_t ds, rpc;
	amber_word_t badge;
	uint64_t size;
	const uint8_t *ro;           /* the dataspace, attached read-only */
	struct amber_thread worker;
	struct amber_timer timer;
	struct amber_signal_context tick;
	int failed;
};

static struct state st;

/* The unsigned value of attribute `name` in the config text, or `dflt`. */
/* The worker: serves its RPC capability until QUIT. */
static void worker(void *arg)
{
	struct state *s = arg;
	struct amber_utcb *u = amber_utcb();
	int err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	for (;;) {
		if (err) {
			err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
			continue;
		}
		amber_word_t op = amber_tag_words(u->tag) ? u->mr[0] : 0, arg1 = u->mr[1];
		if (u->label != s->badge || amber_tag_label(u->tag) != WORKER_PROTO) {
			u->mr[0] = (amber_word_t)(int64_t)AMBER_ERR_PROTO;
			err = amber_ipc_reply_and_wait(amber_tag(WORKER_PROTO, 1, 0), AMBER_TIMEOUT_NEVER);
			continue;
		}
		if (op == WORKER_QUIT) {
			u->mr[0] = AMBER_OK;
			amber_ipc_reply(amber_tag(WORKER_PROTO, 1, 0));
			return; /* the thread ends; its gate answers NO_PARTNER from now on */
		}
		/* COMPUTE: a checksum of the dataspace's bytes, weighted by the round */
		uint64_t sum = 0;
		for (uint64_t i = 0; i < s->size; i++)
			sum += (uint64_t)s->ro[i] * ((i + arg1) % 13u + 1u);
		u->mr[0] = AMBER_OK;
		u->mr[1] = sum;
		err = amber_ipc_reply_and_wait(amber_tag(WORKER_PROTO, 2, 0), AMBER_TIMEOUT_NEVER);
	}
}

static int worker_call(amber_word_t op, amber_word_t arg, uint64_t *result)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = op;
	u->mr[1] = arg;
	int err = amber_ipc_call(st.rpc, amber_tag(WORKER_PROTO, 2, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (!err)
		err = (int)(int64_t)u->mr[0];
	if (!err && result)
		*result = u->mr[1];
	return err;
}

static void finish(void)
{
	struct amber_env *env = st.env;
	int err;
	amber_timer_trigger_periodic(&st.timer, 0);
	amber_timer_close(&st.timer);
	amber_signal_context_destroy(&st.tick);
	amber_log("sessions: Timer: stopped after %u ticks", st.round);
	if ((err = worker_call(WORKER_QUIT, 0, 0)) || (err = amber_thread_join(&st.worker)))
		st.failed++, amber_log("sessions: FAIL: ending the worker (%s)", amber_error_name(err));
	else
		amber_log("sessions: CPU: the worker thread ended");
	if ((err = amber_pd_free_rpc_cap(env->pd, st.rpc)))
		st.failed++, amber_log("sessions: FAIL: FREE_RPC_CAP (%s)", amber_error_name(err));
	if ((err = amber_rm_detach(env->rm, (uint64_t)(uintptr_t)st.ro)) || (err = amber_pd_free_ram(env->pd, st.ds)))
		st.failed++, amber_log("sessions: FAIL: freeing the dataspace (%s)", amber_error_name(err));
	else
		amber_log("sessions: PD: freed the RPC capability and the dataspace");
	if (st.failed)
		amber_log("sessions: FAIL: %d steps failed", st.failed);
	else
		amber_log("sessions: done, %u rounds", st.round);
	amber_entrypoint_exit(env->ep, st.failed ? 1 : 0);
}

static void on_tick(void *arg, uint32_t count)
{
	struct state *s = arg;
	(void)count; /* ticks we were too slow for are skipped, not counted twice */
	if (s->round >= s->rounds)
		return;
	s->round++;
	uint64_t sum = 0;
	int err = worker_call(WORKER_COMPUTE, s->round, &sum);
	if (err) {
		s->failed++;
		amber_log("sessions: FAIL: round %u: the worker's RPC (%s)", s->round, amber_error_name(err));
	} else {
		amber_log("sessions: Timer: tick %u: the worker computed %lu", s->round, (unsigned long)sum);
	}
	if (s->round == s->rounds || s->failed)
		finish();
}

static int fail(const char *what, int err)
{
	amber_log("sessions: FAIL: %s (%s)", what, amber_error_name(err));
	amber_entrypoint_exit(st.env->ep, 1);
	return err;
}

void component_construct(struct amber_env *env)
{
	int err;
	uint64_t quota = 0, used = 0, at = 0;
	st.env = env;

	/* ROM: the config */
	const char *text = 0;
	uint64_t len = 0;
	err = amber_rom_config(&text, &len);
	st.rounds = err ? DEFAULT_ROUNDS : amber_config_number(text, "count", DEFAULT_ROUNDS);
	st.period_ms = err ? DEFAULT_PERIOD_MS : amber_config_number(text, "period_ms", DEFAULT_PERIOD_MS);
	if (st.rounds == 0 || st.period_ms == 0) {
		fail("config: count and period_ms must not be 0", AMBER_ERR_INVALID_ARG);
		return;
	}
	amber_log("sessions: ROM: %s: %u rounds, one every %u ms", err ? "no config, defaults" : "config",
		  st.rounds, st.period_ms);

	/* PD: RAM */
	st.ds = amber_cap_alloc();
	if ((err = amber_pd_quota(env->pd, &quota, &used)) || (err = amber_pd_alloc_ram(env->pd, RAM_BYTES, st.ds)) ||
	    (err = amber_dataspace_size(st.ds, &st.size))) {
		fail("PD: RAM", err);
		return;
	}
	amber_log("sessions: PD: allocated %u bytes of RAM: a dataspace of %lu bytes (quota %lu KiB)", RAM_BYTES,
		  (unsigned long)st.size, (unsigned long)(quota >> 10));

	/* RM: attach writable, fill, detach; attach read-only, check */
	if ((err = amber_rm_attach(env->rm, st.ds, 0, 0, 0, AMBER_RM_WRITABLE, &at))) {
		fail("RM: attach writable", err);
		return;
	}
	uint8_t *rw = (uint8_t *)(uintptr_t)at;
	uint64_t written = 0;
	for (uint64_t i = 0; i < st.size; i++) {
		rw[i] = (uint8_t)(i * 7u + i / 251u);
		written += rw[i];
	}
	if ((err = amber_rm_detach(env->rm, at)) || (err = amber_rm_attach(env->rm, st.ds, 0, 0, 0, 0, &at))) {
		fail("RM: detach and attach read-only", err);
		return;
	}
	st.ro = (const uint8_t *)(uintptr_t)at;
	uint64_t read = 0;
	for (uint64_t i = 0; i < st.size; i++)
		read += st.ro[i];
	amber_log("sessions: RM: wrote %lu bytes (sum %lu), detached, attached read-only: sum %lu (%s)",
		  (unsigned long)st.size, (unsigned long)written, (unsigned long)read,
		  read == written ? "same" : "FAIL: differs");
	if (read != written)
		st.failed++;

	/* CPU: a thread, paused and resumed; PD: an RPC capability for it */
	st.rpc = amber_cap_alloc();
	if ((err = amber_thread_create(&st.worker, worker, &st))) {
		fail("CPU: worker thread", err);
		return;
	}
	if ((err = amber_cpu_pause(env->cpu, st.worker.sel)) || (err = amber_cpu_resume(env->cpu, st.worker.sel))) {
		fail("CPU: pause and resume", err);
		return;
	}
	amber_log("sessions: CPU: started a worker thread, paused and resumed it");
	if ((err = amber_pd_alloc_rpc_cap(env->pd, st.worker.sel, st.rpc, &st.badge))) {
		fail("PD: RPC capability", err);
		return;
	}
	amber_log("sessions: PD: an RPC capability for the worker (badge %s)", st.badge ? "nonzero" : "FAIL: zero");

	/* Timer: periodic ticks to on_tick, in this entrypoint */
	const char *what = "Timer session";
	if ((err = amber_timer_open(&st.timer)) ||
	    (what = "signal handler", err = amber_entrypoint_signal_handler(env->ep, &st.tick, on_tick, &st)) ||
	    (what = "Timer sigh", err = amber_timer_sigh(&st.timer, st.tick.sel)) ||
	    (what = "periodic timeout", err = amber_timer_trigger_periodic(&st.timer, st.period_ms * 1000ull))) {
		fail(what, err);
		return;
	}
	amber_log("sessions: Timer: periodic timeout every %u ms", st.period_ms);
}
