/*
 * amber-core: the kernel, core's services and the component processes in
 * one trusted host process.
 *
 *   amber-core [--timeout SECONDS] [--components DIR[:DIR...]] [--control NAME | --no-control]
 *              (SCENARIO.xml | --restore DIR)
 *
 * Starts every component of the scenario and runs until all of them have
 * ended (exit status 0), a start failed (1), the timeout passed (2), or
 * SIGINT/SIGTERM arrived (3). Component output appears as "[name] text",
 * core's own reports as "core: text". With --restore, the checkpoint image
 * in DIR (a whole system) is what starts instead (cr_boot); if it cannot
 * be restored, amber-core says why and exits with 1.
 *
 * The control socket (control.c, docs/amber-command.md) lets the `amber`
 * command list, checkpoint and restore the running components. It is
 * named "default" unless --control says otherwise, and a second amber-core
 * with the same name refuses to start: `amber` addresses a system by its
 * name, which must therefore be unambiguous. --no-control runs without it.
 *
 * SIGHUP re-reads the scenario file (Genode's dynamic config update): every
 * running component of the scenario whose <config> text changed gets the
 * new version of its "config" ROM (rom_update, which signals its ROM SIGH).
 * A file that does not parse changes nothing ("core: reload: FILE:LINE:
 * reason"); components added to or removed from the file are ignored, and
 * so are init's children (their config comes from init's compact tree).
 */
#include <errno.h>
#include <libgen.h>
#include <libxml/parser.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "core.h"
#include "cr.h"
#include "cr_lazy.h"
#include "image/image.h"
#include "platform/linux/kernel_entry.h"
#include "scenario.h"

static struct component *components;
static void free_list(struct component *c)
{
	while (c) {
		struct component *next = c->next;
		core_component_free(c);
		c = next;
	}
}

static void on_exited(struct process *p, const struct process_exit_info *info, void *ctx)
{
	(void)ctx;
	struct component *c = process_user(p);
	kernel_lock();
	if (c->restoring) {
		/* A restore or checkpoint --kill ends it and accounts for it. */
		kernel_unlock();
		return;
	}
	bool crash = info->how == PROCESS_FAULT || info->how == PROCESS_FORBIDDEN_SYSCALL || info->how == PROCESS_SIGNALED;
	if (crash && c->rollback) {
		kernel_unlock();
		int r = cr_rollback_on_crash(c, info->reason);
		if (r > 0)
			return;
		if (r < 0) { /* ended, not restored: the parent learns of the crash */
			kernel_lock();
			child_ended(c, info);
			kernel_unlock();
			core_component_ended();
			return;
		}
		kernel_lock();
		if (c->restoring) { /* a restore took it meanwhile */
			kernel_unlock();
			return;
		}
	}
	/* Claimed: a restore waits until this end is over, parent notice and
	 * all, before it looks at the component. */
	c->ending = c->exiting = true;
	c->crashed = !(info->how == PROCESS_EXITED || (info->how == PROCESS_KILLED_BY_CORE && c->exit_requested));
	log_flush(c);
	int code = info->how == PROCESS_EXITED ? info->code : c->exit_requested ? c->exit_code : 0;
	if (c->crashed || code != 0)
		core_note_component_failure();
	if (info->how == PROCESS_EXITED) {
		core_report("%s exited with code %d", c->name, info->code);
	} else if (info->how == PROCESS_KILLED_BY_CORE && c->exit_requested) {
		core_report("%s exited with code %d", c->name, c->exit_code);
	} else {
		core_report("%s killed: %s", c->name, info->reason);
	}
	kernel_unlock();
	component_cleanup(c);
	kernel_lock();
	child_ended(c, info);
	core_component_ended(); /* before a restore can count it live again */
	c->exiting = false;
	kernel_unlock();
	/* A rolled-back component still ending held up its reaping (a child
	 * of one that had ended before the restore): it may go now. This is
	 * the event thread, where reaping runs. */
	core_components_reap();
}

static void on_thread_exited(struct process *p, pid_t tid, void *ctx)
{
	(void)ctx;
	cpu_thread_exited(process_user(p), tid);
}

static enum process_fault_action on_fault(struct process *p, pid_t tid, const struct process_fault_info *info,
				       void *ctx)
{
	(void)ctx;
	return cpu_thread_fault(process_user(p), tid, info);
}

/* A component broke the kernel-entry protocol: end it. Kernel lock held. */
static void on_violation(struct ktask *t, const char *why)
{
	struct component *c = kernel_task_platform(t);
	if (c && c->process)
		process_kill(c->process, why);
}

static void kill_all(const char *why)
{
	kernel_lock();
	for (struct component *c = components; c; c = c->next)
		if (c->process)
			process_kill(c->process, why);
	for (struct component *c = core_components_created(); c; c = c->next)
		if (c->process)
			process_kill(c->process, why);
	kernel_unlock();
}

/* SIGHUP: parse the scenario again and hand changed configs to the
 * running components, by name. */
static void reload(const char *scenario, const char *components_dir)
{
	char err[512];
	struct component *fresh = NULL;
	if (scenario_load(scenario, components_dir, &fresh, err, sizeof(err)) < 0) {
		core_report("reload: %s", err);
		return;
	}
	kernel_lock();
	for (struct component *n = fresh; n; n = n->next) {
		struct component *c = components;
		while (c && strcmp(c->name, n->name) != 0)
			c = c->next;
		if (!c || c->state != COMPONENT_RUNNING || c->ending)
			continue;
		if (c->has_config == n->has_config && c->config_len == n->config_len &&
		    (!c->config_len || memcmp(c->config, n->config, c->config_len) == 0))
			continue;
		if (rom_update(c, "config", n->config ? n->config : "", n->config_len) == AMBER_OK)
			core_report("reload: config of %s changed", c->name);
		else
			core_report("reload: config of %s not changed: too large", c->name);
	}
	kernel_unlock();
	free_list(fresh);
}

static void usage(void)
{
	fprintf(stderr, "usage: amber-core [--timeout SECONDS] [--strict] [--components DIR[:DIR...]] [--control NAME | --no-control]\n"
			"                  (SCENARIO.xml | --restore DIR [--key FILE] [--lazy])\n");
	exit(1);
}

int main(int argc, char **argv)
{
	long timeout_s = 0;
	const char *components_dir = NULL, *scenario = NULL, *restore_dir = NULL, *key_file = NULL;
	bool lazy = false;
	const char *control_name = CONTROL_NAME_DEFAULT;
	bool control = true, strict = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			char *end;
			timeout_s = strtol(argv[++i], &end, 10);
			if (*end || timeout_s < 0)
				usage();
		} else if (strcmp(argv[i], "--components") == 0 && i + 1 < argc) {
			components_dir = argv[++i];
		} else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
			control_name = argv[++i];
		} else if (strcmp(argv[i], "--no-control") == 0) {
			control = false;
		} else if (strcmp(argv[i], "--strict") == 0) {
			strict = true;
		} else if (strcmp(argv[i], "--restore") == 0 && i + 1 < argc && !restore_dir) {
			restore_dir = argv[++i];
		} else if (strcmp(argv[i], "--lazy") == 0 && !lazy) {
			lazy = true;
		} else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc && !key_file) {
			key_file = argv[++i];
		} else if (argv[i][0] == '-' || scenario) {
			usage();
		} else {
			scenario = argv[i];
		}
	}
	if (!scenario == !restore_dir || ((key_file || lazy) && !restore_dir))
		usage();
	/* The key first: a key file that will not do stops everything. */
	struct image_key key = { { 0 } };
	char keyerr[512];
	if (key_file && image_key_load(key_file, &key, keyerr, sizeof(keyerr)) < 0) {
		fprintf(stderr, "amber-core: %s\n", keyerr);
		return 1;
	}

	core_components_init();

	/* Signals are taken synchronously by this thread only. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "amber-core: cannot find its own binary\n");
		return 1;
	}
	exe[n] = '\0';
	char *dir = dirname(exe);
	char launcher[PATH_MAX + 32], default_components[PATH_MAX + 32];
	snprintf(launcher, sizeof(launcher), "%s/amber-launch", dir);
	snprintf(default_components, sizeof(default_components), "%s/components", dir);
	if (!components_dir)
		components_dir = default_components;
	rom_init(components_dir);
	cpu_share_init();

	char err[512];
	if (scenario && scenario_load(scenario, components_dir, &components, err, sizeof(err)) < 0) {
		fprintf(stderr, "amber-core: %s\n", err);
		return 1;
	}

	/* The name is taken before anything starts: a system that cannot be
	 * addressed should not run (and no thread may run yet, control.h). */
	if (control) {
		if (control_open(control_name, err, sizeof(err)) < 0) {
			fprintf(stderr, "amber-core: %s\n", err);
			free_list(components);
			xmlCleanupParser();
			return 1;
		}
		core_report("control socket %s", control_path());
	}

	const struct process_events events = { .thread_exited = on_thread_exited, .exited = on_exited,
					       .fault = on_fault };
	int e = process_system_start(launcher, &events, NULL);
	if (e < 0) {
		fprintf(stderr, "amber-core: cannot start process control: %s\n", strerror(-e));
		control_stop();
		return 1;
	}
	if ((e = kernel_entry_system_start(on_violation)) < 0) {
		fprintf(stderr, "amber-core: cannot start the kernel: %s\n", strerror(-e));
		control_stop();
		return 1;
	}

	int status = 0;
	/* Ids first: a component started may create children, which take the
	 * next ones. */
	for (struct component *c = components; c; c = c->next)
		c->id = core_component_next_id();
	core_components_set_scenario(components);
	if (control && control_start(err, sizeof(err)) < 0) {
		core_report("%s; `amber` cannot reach this system", err);
		control_stop();
	}
	bool run = true;
	if (restore_dir && cr_boot(restore_dir, key_file ? &key : NULL, lazy, err, sizeof(err)) < 0) {
		fprintf(stderr, "amber-core: %s\n", err);
		kill_all("restore failed"); /* whatever it started */
		status = 1;
		run = false;
	}
	image_key_clear(&key);
	for (struct component *c = components; c; c = c->next) {
		core_component_live();
		if (component_start(c, err, sizeof(err)) < 0) {
			core_report("cannot start %s: %s", c->name, err);
			core_note_start_failure();
			if (c->state != COMPONENT_RUNNING) {
				/* Never ran: `amber ps` shows it crashed, not new. */
				kernel_lock();
				c->state = COMPONENT_ENDED;
				c->crashed = true;
				kernel_unlock();
				core_component_ended();
			}
		}
	}

	/* Wake every 100 ms to look for SIGINT/SIGTERM/SIGHUP and the timeout. */
	/* Saturated: a --timeout too large for microseconds is no timeout. */
	uint64_t end_us = UINT64_MAX, now_us = kernel_entry_now_us();
	if (timeout_s && (uint64_t)timeout_s < (UINT64_MAX - now_us) / 1000000u)
		end_us = now_us + (uint64_t)timeout_s * 1000000u;
	while (run) {
		struct timespec step;
		clock_gettime(CLOCK_MONOTONIC, &step);
		step.tv_nsec += 100 * 1000 * 1000;
		if (step.tv_nsec >= 1000000000L) {
			step.tv_sec++;
			step.tv_nsec -= 1000000000L;
		}
		if (core_components_wait(&step))
			break;
		struct timespec zero = { 0, 0 };
		int sig = sigtimedwait(&sigs, NULL, &zero);
		if (sig == SIGHUP && scenario) {
			reload(scenario, components_dir);
		} else if (sig == SIGHUP) {
			core_report("reload: no scenario file to read (restored from %s)", restore_dir);
		} else if (sig > 0) {
			core_report("signal %d: stopping all components", sig);
			kill_all("amber-core stopping");
			status = 3;
			break;
		}
		if (kernel_entry_now_us() >= end_us) {
			core_report("timeout after %ld s: stopping all components", timeout_s);
			kill_all("timeout");
			status = 2;
			break;
		}
	}
	/* No request may reach components or the process layer being taken
	 * down; one in progress is finished first, and a restore refused
	 * from here on. One that finished meanwhile after a signal or the
	 * timeout brought components back that must end too. */
	core_components_stop();
	control_stop();
	if (status == 2 || status == 3)
		kill_all(status == 2 ? "timeout" : "amber-core stopping");
	cr_lazy_shutdown(); /* a loader still going stops (kill_all ended its set) */
	struct timespec grace;
	clock_gettime(CLOCK_MONOTONIC, &grace);
	grace.tv_sec += 5;
	if (!core_components_wait(&grace))
		core_report("components did not end in time");

	process_system_stop();
	as_queue_stop(); /* mappings still queued fail now; their workers hold components */
	core_timeouts_stop();
	kernel_entry_system_stop();
	cpu_share_stop();
	free_list(components);
	free_list(core_components_created());
	xmlCleanupParser();
	/* A start that failed, also a child's, fails the run; a component's
	 * non-zero exit or crash does so only when asked (--strict). */
	if (status == 0 && core_start_failures())
		status = 1;
	else if (status == 0 && strict && core_component_failures())
		status = 4;
	core_output_stop(); /* every line queued is written before we go */
	return status;
}
