/*
 * CPU placement of component threads (cpu_affinity.h).
 */
#include "platform/linux/cpu_affinity.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	unsigned n;
	int cpu[CPU_SETSIZE];
	cpu_set_t all;
} space;
static pthread_once_t space_once = PTHREAD_ONCE_INIT;

/* Read once: core's own mask at the time, taken as the machine it has. */
static void space_init(void)
{
	CPU_ZERO(&space.all);
	if (sched_getaffinity(getpid(), sizeof(space.all), &space.all) < 0)
		CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &space.all);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &space.all))
			space.cpu[space.n++] = c;
}

unsigned cpu_space_size(void)
{
	pthread_once(&space_once, space_init);
	return space.n;
}

int cpu_space_cpu(unsigned location)
{
	pthread_once(&space_once, space_init);
	return location < space.n ? space.cpu[location] : -1;
}

static long location_of(int cpu)
{
	for (unsigned i = 0; i < space.n; i++)
		if (space.cpu[i] == cpu)
			return (long)i;
	return -1;
}

int cpu_thread_bind(pid_t tid, long location)
{
	pthread_once(&space_once, space_init);
	cpu_set_t set = space.all;
	if (location >= 0) {
		if ((unsigned long)location >= space.n)
			return -EINVAL;
		CPU_ZERO(&set);
		CPU_SET(space.cpu[location], &set);
	}
	return sched_setaffinity(tid, sizeof(set), &set) < 0 ? -errno : 0;
}

/* Field 39 of /proc/PID/task/TID/stat: the CPU it ran on last. The
 * command (field 2) may hold spaces and parentheses: count from its end. */
static int last_cpu(pid_t pid, pid_t tid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	int cpu = -1;
	unsigned field = 2;
	char *save = NULL;
	for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (++field == 39) {
			cpu = atoi(tok);
			break;
		}
	return cpu < 0 ? -EIO : cpu;
}

int cpu_thread_binding(pid_t pid, pid_t tid, long *bound, long *last)
{
	pthread_once(&space_once, space_init);
	cpu_set_t set;
	if (sched_getaffinity(tid, sizeof(set), &set) < 0)
		return -errno;
	int cpu = last_cpu(pid, tid);
	if (cpu < 0)
		return cpu;
	*bound = -1;
	if (CPU_COUNT(&set) == 1)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				*bound = location_of(c);
	*last = location_of(cpu);
	return 0;
}
