/*
 * Kernel state that is not an object: the lock, the host hooks, and core's
 * own task, whose capability space holds the root capability of every
 * object core creates (as Genode's core holds its objects).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "object.h"

struct kernel_platform kernel_plat;

static pthread_mutex_t kernel_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct ktask *core_task;

void kernel_init(const struct kernel_platform *plat)
{
	kernel_plat = *plat;
	kernel_lock();
	if (!core_task) {
		/* Core's task is not named by any capability; it lives as long
		 * as the kernel. Its slot 1 names itself, like a component's. */
		core_task = kobj_alloc(AMBER_KIND_TASK, sizeof(*core_task));
		if (!core_task) {
			fprintf(stderr, "kernel: out of memory\n");
			abort();
		}
		snprintf(core_task->name, sizeof(core_task->name), "core");
		cap_space_init(core_task); /* no limit: it grows with what core hosts */
	}
	kernel_unlock();
}

void kernel_lock(void) { pthread_mutex_lock(&kernel_mutex); }
void kernel_unlock(void) { pthread_mutex_unlock(&kernel_mutex); }

struct ktask *kernel_core_task(void) { return core_task; }

uint64_t kernel_now(void) { return kernel_plat.now_us ? kernel_plat.now_us() : 0; }
