/*
 * CPU placement of component threads (the CPU session's AFFINITY).
 *
 * The affinity space is the CPUs amber-core itself may run on, in
 * ascending order: location i is the i-th of them. A thread is bound with
 * sched_setaffinity on its Linux thread id, which needs no ptrace stop.
 */
#ifndef AMBER_PLATFORM_CPU_AFFINITY_H
#define AMBER_PLATFORM_CPU_AFFINITY_H

#include <sys/types.h>

/* The number of locations (at least 1), and the Linux CPU of location i. */
unsigned cpu_space_size(void);
int cpu_space_cpu(unsigned location);

/* Bind thread `tid` to the CPU of `location`, or to the whole space when
 * location < 0. 0 or -errno. */
int cpu_thread_bind(pid_t tid, long location);

/* Where thread `tid` of process `pid` is bound (a location, or -1 if it
 * may run on several CPUs) and where it ran last (a location, or -1 if
 * outside the space), as Linux reports them. 0 or -errno. */
int cpu_thread_binding(pid_t pid, pid_t tid, long *bound, long *last);

#endif
