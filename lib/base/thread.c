/*
 * Threads on top of the CPU, PD and RM sessions (amber/thread.h).
 *
 * Why join polls the capability: a thread cannot tell anyone that it has
 * left its stack, because it runs on it until its very last instruction.
 * Core learns of the exit from Linux and then deletes the thread's kernel
 * object, which revokes the component's capability; once the slot is
 * empty, nothing runs on the stack any more and it can be freed.
 */
#include <amber/cap_alloc.h>
#include <amber/cpu.h>
#include <amber/env.h>
#include <amber/kobj.h>
#include <amber/pd.h>
#include <amber/rm.h>
#include <amber/syscall.h>
#include <amber/thread.h>
#include <amber/tls.h>

extern char amber_thread_trampoline[];
_Noreturn void amber_thread_main(void (*entry)(void *), void *arg);

_Noreturn void amber_thread_main(void (*entry)(void *), void *arg)
{
	entry(arg);
	amber_sys_exit_thread(0);
}

/* The TLS area (TCB and TLS block) sits on top of a full-size stack. */
uint64_t amber_thread_stack_ram(void)
{
	return AMBER_THREAD_STACK_SIZE + ((amber_tls_area_size() + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1));
}

static void release_stack(struct amber_thread *t, int attached)
{
	if (attached)
		amber_rm_detach(amber_env_rm(), t->stack);
	amber_pd_free_ram(amber_env_pd(), t->stack_ds);
	amber_cap_free(t->stack_ds);
}

int amber_thread_create(struct amber_thread *t, void (*entry)(void *arg), void *arg)
{
	amber_sel_t pd = amber_env_pd(), cpu = amber_env_cpu(), rm = amber_env_rm();
	if (pd == AMBER_SEL_INVALID || cpu == AMBER_SEL_INVALID || rm == AMBER_SEL_INVALID)
		return AMBER_ERR_NO_PARTNER;
	t->stack_ds = amber_cap_alloc();
	t->sel = amber_cap_alloc();
	if (t->stack_ds == AMBER_SEL_INVALID || t->sel == AMBER_SEL_INVALID) {
		amber_cap_free(t->stack_ds);
		amber_cap_free(t->sel);
		return AMBER_ERR_QUOTA;
	}
	uint64_t size = amber_thread_stack_ram();
	int err = amber_pd_alloc_ram(pd, size, t->stack_ds);
	if (err) {
		amber_cap_free(t->stack_ds);
		amber_cap_free(t->sel);
		return err;
	}
	err = amber_rm_attach(rm, t->stack_ds, 0, 0, 0, AMBER_RM_WRITABLE, &t->stack);
	if (err) {
		release_stack(t, 0);
		amber_cap_free(t->sel);
		return err;
	}
	err = amber_cpu_create_thread(cpu, "thread", t->sel, &t->utcb);
	if (err) {
		release_stack(t, 1);
		amber_cap_free(t->sel);
		return err;
	}
	((struct amber_utcb *)(uintptr_t)t->utcb)->tls[AMBER_TLS_THREAD_SEL] = t->sel; /* amber_thread_self */
	uint64_t stack_top;
	uint64_t tcb = amber_tls_setup(t->stack, t->stack + size, t->utcb, AMBER_THREAD_STACK_SIZE - 64, &stack_top);
	/* entry and arg for the trampoline, at a 16-byte aligned stack top */
	uint64_t *top = (uint64_t *)(uintptr_t)stack_top;
	top[-2] = (uint64_t)(uintptr_t)entry;
	top[-1] = (uint64_t)(uintptr_t)arg;
	err = tcb ? amber_cpu_start(cpu, t->sel, (uint64_t)(uintptr_t)amber_thread_trampoline,
				    (uint64_t)(uintptr_t)&top[-2], tcb)
		  : AMBER_ERR_QUOTA;
	if (err) {
		/* Created but never started: it stays until the component ends;
		 * keep its slot, release the stack. */
		release_stack(t, 1);
		return err;
	}
	return AMBER_OK;
}

amber_sel_t amber_thread_self(void)
{
	amber_sel_t sel = (amber_sel_t)amber_utcb()->tls[AMBER_TLS_THREAD_SEL];
	return sel ? sel : AMBER_SEL_THREAD; /* the first thread's UTCB starts zeroed */
}

int amber_thread_destroy(struct amber_thread *t)
{
	int err = amber_cpu_kill_thread(amber_env_cpu(), t->sel);
	if (err)
		return err; /* not a live thread of ours: nothing to wait for */
	return amber_thread_join(t);
}

int amber_thread_join(struct amber_thread *t)
{
	struct amber_cap_info info;
	while (amber_task_cap_info(AMBER_SEL_TASK, t->sel, &info) == AMBER_OK && info.kind != AMBER_KIND_NONE)
		amber_sys_yield();
	amber_cap_free(t->sel);
	int err = amber_rm_detach(amber_env_rm(), t->stack);
	int err2 = amber_pd_free_ram(amber_env_pd(), t->stack_ds);
	amber_cap_free(t->stack_ds);
	return err ? err : err2;
}
