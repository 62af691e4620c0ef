/*
 * test_affinity: threads placed on CPUs (CPU session AFFINITY); a workload
 * for checkpoint/restore.
 *
 * The first thread binds a spinning worker to the last location of the
 * affinity space and itself to location 0, checks that a location outside
 * the space is refused, and then, in each of `rounds` rounds
 * (<config><affinity rounds="N"/></config>, default ROUNDS) paced by a
 * Timer, asks core where each thread is bound and where it ran last (what
 * Linux says of the threads, not what core was told) and logs
 *
 *   affinity: round R main 0/0 worker W/W
 *
 * (bound/ran last) when both threads are where they were put. A thread
 * that is not, after a restore say, makes the line read otherwise.
 * Exit code 0, or 1 on any FAIL.
 */
#include <amber/check.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/error.h>
#include <amber/log.h>
#include <amber/printf.h>
#include <amber/rom.h>
#include <amber/string.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/timer.h>

#define ROUNDS 20u
#define PERIOD_US 50000u

static volatile unsigned quit;

static void spin(void *arg)
{
	(void)arg;
	while (!quit)
		amber_sys_yield();
}

/* "B/L" for a thread: where it is bound, where it ran last; "-" for anywhere. */
static void placement(amber_sel_t thread, char *out, size_t len)
{
	amber_word_t bound = 0, last = 0;
	int err = amber_cpu_affinity_state(amber_env_cpu(), thread, &bound, &last);
	if (err) {
		amber_snprintf(out, len, "%s", amber_error_name(err));
		return;
	}
	char b[24] = "-", l[24] = "-";
	if (bound != AMBER_CPU_ANYWHERE)
		amber_snprintf(b, sizeof(b), "%lu", (unsigned long)bound);
	if (last != AMBER_CPU_ANYWHERE)
		amber_snprintf(l, sizeof(l), "%lu", (unsigned long)last);
	amber_snprintf(out, len, "%s/%s", b, l);
}

int main(void)
{
	const char *config = 0;
	unsigned rounds = ROUNDS, space = 0;
	if (amber_rom_config(&config, 0) == AMBER_OK)
		rounds = amber_config_number(config, "rounds", ROUNDS);
	amber_sel_t cpu = amber_env_cpu();
	struct amber_timer timer;
	static struct amber_thread worker;
	if (!amber_check_err("a Timer session", amber_timer_open(&timer), AMBER_OK) ||
	    !amber_check_err("the affinity space", amber_cpu_affinity_space(cpu, &space), AMBER_OK) ||
	    !amber_check_err("a worker thread", amber_thread_create(&worker, spin, 0), AMBER_OK))
		return amber_check_done();
	unsigned last = space - 1;
	amber_log("affinity: space of %u CPU%s", space, space == 1 ? "" : "s");
	amber_check_err("a location outside the space is refused", amber_cpu_affinity(cpu, worker.sel, space),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("unbinding works", amber_cpu_affinity(cpu, worker.sel, AMBER_CPU_ANYWHERE), AMBER_OK);
	amber_check_err("the worker is bound", amber_cpu_affinity(cpu, worker.sel, last), AMBER_OK);
	amber_check_err("the first thread binds itself", amber_cpu_affinity(cpu, AMBER_SEL_THREAD, 0), AMBER_OK);

	char want_main[48], want_worker[48], got_main[48], got_worker[48];
	amber_snprintf(want_main, sizeof(want_main), "0/0");
	amber_snprintf(want_worker, sizeof(want_worker), "%u/%u", last, last);
	for (unsigned r = 1; r <= rounds; r++) {
		amber_timer_sleep_us(&timer, PERIOD_US);
		placement(AMBER_SEL_THREAD, got_main, sizeof(got_main));
		placement(worker.sel, got_worker, sizeof(got_worker));
		int ok = !strcmp(got_main, want_main) && !strcmp(got_worker, want_worker);
		amber_log("affinity: round %u main %s worker %s%s", r, got_main, got_worker, ok ? "" : " (MISPLACED)");
	}
	quit = 1;
	amber_check_err("the worker ends", amber_thread_join(&worker), AMBER_OK);
	return amber_check_done();
}
