/*
 * A CPU share per component (tracker issue 10, "CPU"): without one, a
 * component with eight spinning threads gets eight times the CPU of a
 * component with one, and slows it down.
 *
 * Each component's process goes into a cgroup of its own with its weight
 * (scenario or <start> attribute `cpu_weight`, 1..10000, default 100), so
 * the Linux scheduler divides CPU time between components by weight,
 * however many threads each has. All of them sit in one group of
 * amber-core's, "amber-PID", next to amber-core itself, whose own weight is
 * the sum of its members' (so each component weighs against the rest of the
 * machine as much as one process of its weight would, and a second
 * component does not halve the first one's share):
 *
 *   cgroup v2 with the cpu controller: GROUP/amber-PID/cNN, cpu.weight;
 *   cgroup v1 cpu controller:          MOUNT/amber-PID/cNN, cpu.shares =
 *                                      weight * 1024 / 100.
 *
 * amber-core removes its groups as components end and at its exit
 * (atexit), and at its start the empty groups of amber-cores that are
 * gone (killed before they could).
 *
 * A worker thread makes the groups and moves the processes (see "the
 * worker" below): that waits on the kernel, so it is never done on the
 * path of a start or restore, nor under the kernel lock.
 *
 * The group is made in core's own cgroup (v2: below the mount's root, whose
 * subtree_control must offer cpu). Without a writable controller (no root,
 * a read-only /sys/fs/cgroup) core says so once and falls back to nice
 * values: a weight below 100 becomes the nice value with that weight
 * relative to nice 0 (each nice step is 1.25x), set on the first thread
 * before it runs, which every thread it creates inherits. That bounds a
 * component marked with a low weight, but not one with many threads and
 * the default weight: only cgroups share per component.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdint.h>

#include "core.h"

enum mechanism { NICE, CGROUP_V1, CGROUP_V2 };

static enum mechanism mech = NICE;
static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t weight_sum; /* of the components in their groups */
static char base[1200]; /* .../amber-PID */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int e = n < 0 ? -errno : 0;
	close(fd);
	return e;
}

static bool read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

/* Is `name` one of the comma-separated list's elements? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* The mount point of the cgroup hierarchy that has `controller` (v1), or
 * of cgroup2 (controller NULL). */
static bool find_mount(const char *controller, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	if (!f)
		return false;
	char line[1024], dev[256], dir[512], type[64], opts[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s %63s %511s", dev, dir, type, opts) != 4)
			continue;
		if (controller ? strcmp(type, "cgroup") != 0 : strcmp(type, "cgroup2") != 0)
			continue;
		if (controller && !in_list(opts, controller))
			continue;
		snprintf(out, len, "%s", dir);
		found = true;
	}
	fclose(f);
	return found;
}

/* Core's own cgroup in the hierarchy: v1 by controller, v2 ("0::PATH"). */
static void own_path(const char *controller, char *out, size_t len)
{
	char text[4096];
	snprintf(out, len, "/");
	if (!read_file("/proc/self/cgroup", text, sizeof(text)))
		return;
	for (char *l = text, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		bool match = controller ? in_list(c1 + 1, controller) : strcmp(l, "0") == 0 && c1[1] == '\0';
		if (match) {
			snprintf(out, len, "%s", c2 + 1);
			return;
		}
	}
}

/* Remove a group and the empty component groups in it; false if busy. */
static bool remove_group(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		char path[1400];
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] != 'c' || e->d_name[1] < '0' || e->d_name[1] > '9')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			(void)rmdir(path);
		}
		closedir(d);
	}
	return rmdir(dir) == 0 || errno == ENOENT;
}

/* Groups "amber-PID" in `parent` whose amber-core is gone. */
static void remove_stale(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d)
		return;
	char path[1400];
	for (struct dirent *e; (e = readdir(d));) {
		char *end;
		if (strncmp(e->d_name, "amber-", 6) != 0)
			continue;
		long pid = strtol(e->d_name + 6, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		(void)remove_group(path);
	}
	closedir(d);
}

static bool try_v2(void)
{
	char mnt[512], own[256], path[1400], ctl[256];
	if (!find_mount(NULL, mnt, sizeof(mnt)))
		return false;
	own_path(NULL, own, sizeof(own));
	/* A process may not sit in a cgroup whose children have controllers,
	 * except the root: make amber's group next to core's own, under its
	 * parent. */
	char parent[256];
	snprintf(parent, sizeof(parent), "%s", own);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s%s/cgroup.controllers", mnt, parent);
	if (!read_file(path, ctl, sizeof(ctl)) || !strstr(ctl, "cpu"))
		return false;
	snprintf(path, sizeof(path), "%s%s/cgroup.subtree_control", mnt, parent);
	if (write_file(path, "+cpu") < 0)
		return false;
	snprintf(path, sizeof(path), "%s%s", mnt, parent);
	remove_stale(path);
	snprintf(base, sizeof(base), "%s%s/amber-%d", mnt, parent, (int)getpid());
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", base);
	if (write_file(path, "+cpu") < 0) {
		rmdir(base);
		return false;
	}
	return true;
}

static bool try_v1(void)
{
	char mnt[512], own[256];
	if (!find_mount("cpu", mnt, sizeof(mnt)))
		return false;
	own_path("cpu", own, sizeof(own));
	char dir[1400];
	snprintf(dir, sizeof(dir), "%s%s", mnt, own);
	remove_stale(dir);
	snprintf(base, sizeof(base), "%s%s%samber-%d", mnt, own, own[strlen(own) - 1] == '/' ? "" : "/",
		 (int)getpid());
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return false;
	char path[1400];
	snprintf(path, sizeof(path), "%s/cpu.shares", base);
	if (access(path, W_OK) != 0) {
		rmdir(base);
		return false;
	}
	return true;
}

void cpu_share_init(void)
{
	if (getenv("AMBER_NO_CGROUP")) { /* tests of the fallback */
		mech = NICE;
	} else if (try_v2()) {
		mech = CGROUP_V2;
	} else if (try_v1()) {
		mech = CGROUP_V1;
	} else {
		mech = NICE;
		base[0] = '\0';
	}
	if (mech != NICE)
		atexit(cpu_share_stop); /* also the early returns of main */
	if (mech == NICE)
		core_report("CPU shares: no writable cgroup CPU controller; cpu_weight below %u lowers a "
			    "component's nice value instead, and components are not shared per component",
			    CPU_WEIGHT_DEFAULT);
}

const char *cpu_share_mechanism(void)
{
	return mech == CGROUP_V2 ? "cgroup v2" : mech == CGROUP_V1 ? "cgroup v1" : "nice";
}

static unsigned weight_of(const struct component *c)
{
	return c->cpu_weight ? c->cpu_weight : CPU_WEIGHT_DEFAULT;
}

/* The value of cpu.weight (v2) or cpu.shares (v1) for weight w. */
static void weight_text(uint64_t w, char *out, size_t len)
{
	if (mech == CGROUP_V2)
		snprintf(out, len, "%llu", (unsigned long long)(w < 1 ? 1 : w > CPU_WEIGHT_MAX ? CPU_WEIGHT_MAX : w));
	else
		snprintf(out, len, "%llu", (unsigned long long)(w * 1024u / 100u < 2 ? 2 : w * 1024u / 100u > 262144u ? 262144u : w * 1024u / 100u));
}

/* amber-PID weighs the sum of its members' weights. */
static void base_weight_add(int64_t delta)
{
	pthread_mutex_lock(&sum_lock);
	weight_sum += (uint64_t)delta;
	char path[1400], text[32];
	snprintf(path, sizeof(path), "%s/%s", base, mech == CGROUP_V2 ? "cpu.weight" : "cpu.shares");
	weight_text(weight_sum ? weight_sum : CPU_WEIGHT_DEFAULT, text, sizeof(text));
	(void)write_file(path, text);
	pthread_mutex_unlock(&sum_lock);
}

static void nice_fallback(const char *who, unsigned w, pid_t pid)
{
	if (w >= CPU_WEIGHT_DEFAULT)
		return; /* raising a share needs privileges nice does not grant */
	/* The nice value whose weight relative to nice 0 comes closest. */
	int nice = 0;
	for (double rel = 1.0; nice < 19 && rel * 1.25 * 1.118 <= (double)CPU_WEIGHT_DEFAULT / w; rel *= 1.25)
		nice++;
	if (setpriority(PRIO_PROCESS, (id_t)pid, nice) < 0 && errno != ESRCH)
		core_report("%s: cannot lower its priority: %s", who, strerror(errno));
}

/* ---- the worker ---------------------------------------------------------------
 *
 * Moving a process into a cgroup waits for an RCU grace period in the
 * kernel (the cgroup threadgroup lock): 1-20 ms here, too long for a
 * component start or a restore, which call this with the kernel lock held.
 * So a worker thread makes, fills and removes the groups in the order they
 * were asked for; a new process runs in amber-core's own group until its
 * turn. The worker knows components only by id, pid and weight. */

struct share_job {
	struct share_job *next;
	bool join; /* else leave */
	unsigned id, weight;
	pid_t pid;
};

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cond = PTHREAD_COND_INITIALIZER;
static struct share_job *jobs, **jobs_tail = &jobs;
static bool worker_started, worker_stop, worker_busy;
static pthread_t worker;

/* Worker only: the ids whose group it made, with their weights. */
static struct joined {
	struct joined *next;
	unsigned id, weight;
} *joined;

static void id_path(unsigned id, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s/c%u%s%s", base, id, file ? "/" : "", file ? file : "");
}

static void join_now(const struct share_job *j)
{
	char path[1400], text[32];
	id_path(j->id, NULL, path, sizeof(path));
	int e = mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
	if (e == 0) {
		weight_text(j->weight, text, sizeof(text));
		id_path(j->id, mech == CGROUP_V2 ? "cpu.weight" : "cpu.shares", path, sizeof(path));
		e = write_file(path, text);
	}
	if (e == 0) {
		snprintf(text, sizeof(text), "%d", (int)j->pid);
		id_path(j->id, "cgroup.procs", path, sizeof(path));
		e = write_file(path, text);
	}
	struct joined *k = e == 0 ? malloc(sizeof(*k)) : NULL;
	if (!k) {
		char who[32];
		snprintf(who, sizeof(who), "component %u", j->id);
		if (e != -ESRCH) /* not ended already */
			core_report("%s: cannot join its cgroup (%s): nice instead", who, strerror(e ? -e : ENOMEM));
		id_path(j->id, NULL, path, sizeof(path));
		rmdir(path);
		nice_fallback(who, j->weight, j->pid);
		return;
	}
	*k = (struct joined){ joined, j->id, j->weight };
	joined = k;
	base_weight_add(j->weight);
}

static void leave_now(const struct share_job *j)
{
	for (struct joined **pp = &joined; *pp; pp = &(*pp)->next) {
		struct joined *k = *pp;
		if (k->id != j->id)
			continue;
		char path[1400];
		id_path(k->id, NULL, path, sizeof(path));
		/* Its threads may take a moment to leave after the process was reaped. */
		for (int i = 0; i < 100 && rmdir(path) < 0 && errno == EBUSY; i++)
			usleep(1000);
		base_weight_add(-(int64_t)k->weight);
		*pp = k->next;
		free(k);
		return;
	}
}

static void *share_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&job_lock);
	for (;;) {
		while (!jobs && !worker_stop)
			pthread_cond_wait(&job_cond, &job_lock);
		if (!jobs)
			break;
		struct share_job *j = jobs;
		jobs = j->next;
		if (!jobs)
			jobs_tail = &jobs;
		worker_busy = true;
		pthread_mutex_unlock(&job_lock);
		if (j->join)
			join_now(j);
		else
			leave_now(j);
		free(j);
		pthread_mutex_lock(&job_lock);
		worker_busy = false;
		pthread_cond_broadcast(&job_cond);
	}
	pthread_mutex_unlock(&job_lock);
	return NULL;
}

static bool post(bool join, unsigned id, unsigned weight, pid_t pid)
{
	struct share_job *j = malloc(sizeof(*j));
	if (!j)
		return false;
	*j = (struct share_job){ NULL, join, id, weight, pid };
	pthread_mutex_lock(&job_lock);
	bool ok = !worker_stop && (worker_started || (worker_started = pthread_create(&worker, NULL, share_worker,
										 NULL) == 0));
	if (ok) {
		*jobs_tail = j;
		jobs_tail = &j->next;
		pthread_cond_broadcast(&job_cond);
	}
	pthread_mutex_unlock(&job_lock);
	if (!ok)
		free(j);
	return ok;
}

void cpu_share_join(struct component *c, pid_t pid)
{
	c->cpu_group = mech != NICE && post(true, c->id, weight_of(c), pid);
	if (!c->cpu_group)
		nice_fallback(c->name, weight_of(c), pid);
}

void cpu_share_leave(struct component *c)
{
	if (c->cpu_group)
		(void)post(false, c->id, 0, 0);
	c->cpu_group = 0;
}

void cpu_share_stop(void)
{
	if (mech == NICE || !base[0])
		return;
	pthread_mutex_lock(&job_lock);
	bool started = worker_started;
	worker_stop = true; /* what is queued is done first */
	pthread_cond_broadcast(&job_cond);
	pthread_mutex_unlock(&job_lock);
	if (started)
		pthread_join(worker, NULL);
	/* Groups of components that ended without cleanup (amber-core's end). */
	for (int i = 0; i < 100 && !remove_group(base) && errno == EBUSY; i++)
		usleep(1000);
	base[0] = '\0';
}
