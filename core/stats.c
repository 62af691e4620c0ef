/*
 * `amber stats`: what a long run of checkpoints and restores must not make
 * grow (tools/soak, docs/trust.md). One line for core, one per running
 * component (core/cr.h has the format). Counts are taken with the kernel
 * lock held; /proc is read after it is dropped, so a slow /proc never
 * holds up the kernel.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "cr.h"

struct stat_line {
	unsigned id, caps, threads;
	int pid;
	char name[COMPONENT_LABEL_MAX];
};

static void count_slot(void *ctx, const struct kernel_cap_info *info)
{
	(void)info;
	(*(unsigned *)ctx)++;
}

/* Entries of /proc/PID/DIR ("fd", "task"), -1 if it is gone. */
static long proc_entries(int pid, const char *dir)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, dir);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Resident memory in KiB (statm's second field), -1 if it is gone. */
static long proc_rss_kib(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	unsigned long size, resident;
	int k = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	return k == 2 ? (long)(resident * (unsigned long)sysconf(_SC_PAGESIZE) / 1024) : -1;
}

size_t cr_stats(FILE *out)
{
	size_t n = 0, cap = 0;
	struct stat_line *v = NULL;
	kernel_lock();
	size_t objects = kernel_object_count();
	unsigned core_caps = 0; /* core's own space: child and service gates, what it lends */
	kernel_space_enumerate(kernel_core_task(), count_slot, &core_caps);
	unsigned kept = core_components_count(); /* ended ones too: what core keeps */
	struct component *lists[] = { core_components_scenario(), core_components_created() };
	for (size_t l = 0; l < 2; l++) {
		for (struct component *c = lists[l]; c; c = c->next) {
			/* As in ps: only a running component's objects are there to count. */
			if (c->state != COMPONENT_RUNNING || !c->process || c->stopped)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				struct stat_line *p = realloc(v, cap * sizeof(*v));
				if (!p)
					break;
				v = p;
			}
			struct stat_line *s = &v[n++];
			memset(s, 0, sizeof(*s));
			s->id = c->id;
			s->pid = (int)process_pid(c->process);
			s->threads = (c->thread ? 1 : 0) + cpu_thread_count(c);
			if (c->task)
				kernel_space_enumerate(c->task, count_slot, &s->caps);
			snprintf(s->name, sizeof(s->name), "%s", c->name);
		}
	}
	kernel_unlock();

	int self = (int)getpid();
	fprintf(out, "core\t%d\t%ld\t%ld\t%ld\t%zu\t%u\t%u\n", self, proc_rss_kib(self), proc_entries(self, "fd"),
		proc_entries(self, "task"), objects, core_caps, kept);
	for (size_t i = 0; i < n; i++) {
		for (char *p = v[i].name; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		fprintf(out, "%u\t%s\t%d\t%ld\t%ld\t%u\t%u\n", v[i].id, v[i].name, v[i].pid, proc_rss_kib(v[i].pid),
			proc_entries(v[i].pid, "fd"), v[i].threads, v[i].caps);
	}
	free(v);
	return n;
}
