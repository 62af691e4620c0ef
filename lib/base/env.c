/*
 * The component's default PD, CPU and RM sessions (amber/env.h).
 *
 * Why lazily: a component that never creates a thread or allocates memory
 * should not hold sessions (each is an object in core). The selectors
 * come from the slot allocator; the parent answers core's services at
 * once, so asking under the lock does not block for long.
 */
#include <amber/cap_alloc.h>
#include <amber/cpu_session.h>
#include <amber/env.h>
#include <amber/lock.h>
#include <amber/parent.h>
#include <amber/pd_session.h>
#include <amber/rm_session.h>

static struct amber_lock lock = AMBER_LOCK_INIT;
static amber_sel_t pd, cpu, rm;

static amber_sel_t session(amber_sel_t *cache, const char *name)
{
	amber_lock_acquire(&lock);
	if (*cache == AMBER_SEL_INVALID) {
		amber_sel_t sel = amber_cap_alloc();
		if (sel != AMBER_SEL_INVALID && amber_parent_session(name, sel, AMBER_TIMEOUT_NEVER) == AMBER_OK)
			*cache = sel;
		else
			amber_cap_free(sel);
	}
	amber_sel_t s = *cache;
	amber_lock_release(&lock);
	return s;
}

amber_sel_t amber_env_pd(void) { return session(&pd, AMBER_PD_SERVICE); }
amber_sel_t amber_env_cpu(void) { return session(&cpu, AMBER_CPU_SERVICE); }
amber_sel_t amber_env_rm(void) { return session(&rm, AMBER_RM_SERVICE); }

void amber_env_forget(amber_sel_t sel)
{
	amber_lock_acquire(&lock);
	amber_sel_t *cached[] = { &pd, &cpu, &rm };
	for (unsigned i = 0; i < 3; i++)
		if (sel != AMBER_SEL_INVALID && *cached[i] == sel)
			*cached[i] = AMBER_SEL_INVALID;
	amber_lock_release(&lock);
}
