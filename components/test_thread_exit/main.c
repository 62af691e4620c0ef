/*
 * test_thread_exit: the first thread leaves with exit(2) while a second
 * thread carries on. Core must clean up after the first thread alone (its
 * capability is revoked) and keep serving the rest of the component: the
 * second thread logs, allocates, starts a thread of its own, and ends the
 * component through its parent.
 */
#include <amber/check.h>
#include <amber/heap.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/string.h>
#include <amber/syscall.h>
#include <amber/thread.h>

static volatile int ran;

static void helper(void *arg)
{
	(void)arg;
	ran = 1;
}

static void survivor(void *arg)
{
	(void)arg;
	struct amber_cap_info ci = { 0, 0, 0 };
	unsigned rounds = 0;
	while (amber_task_cap_info(AMBER_SEL_TASK, AMBER_SEL_THREAD, &ci) == AMBER_OK && ci.kind != AMBER_KIND_NONE &&
	       rounds++ < 2000000)
		amber_sys_yield();
	amber_check_val("core revoked the ended first thread", ci.kind, AMBER_KIND_NONE);
	char *p = amber_malloc(1000);
	if (amber_check_val("the heap still works", p != 0, 1)) {
		memset(p, 1, 1000);
		amber_free(p);
	}
	struct amber_thread t;
	if (amber_check_err("a new thread can be created", amber_thread_create(&t, helper, 0), AMBER_OK)) {
		amber_check_err("and joined", amber_thread_join(&t), AMBER_OK);
		amber_check_val("it ran", ran, 1);
	}
	amber_exit(amber_check_done());
}

int main(void)
{
	static struct amber_thread t;
	if (!amber_check_err("start the second thread", amber_thread_create(&t, survivor, 0), AMBER_OK))
		return amber_check_done();
	amber_log("first thread: leaving");
	amber_sys_exit_thread(0);
}
