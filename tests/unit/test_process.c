/*
 * Tests of platform/linux: real component processes built from the tiny
 * programs in tests/programs/ (built into $AMBER_BUILD/tests/programs/).
 *
 * The test is its own minimal "core": it loads a program's PT_LOAD
 * segments into dataspaces with libelf, adds a stack and a two-page
 * shared "UTCB" area, spawns the process and talks to it through shared
 * memory and futexes (see tests/programs/echo.S for the protocol).
 * Timings are printed, not asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "amber/abi.h"
#include "platform/linux/dataspace.h"
#include "platform/linux/maps.h"
#include "platform/linux/process.h"

#define TP_MAX_SEGS 4
#define TP_STACK_SIZE (64 * 1024)
#define TP_WAIT_MS 5000

/* Command codes and page layout of echo.S. */
enum { CMD_PING = 0, CMD_READ = 1, CMD_EXIT_GROUP = 2, CMD_EXIT = 3, CMD_TLS = 4, CMD_GETPID = 5 };
struct echo_page {
	volatile uint32_t req, ack;
	volatile uint64_t cmd, arg, result;
	volatile uint64_t counter, r13, xmm1; /* spin.S */
	volatile uint64_t use_timeout;       /* echo.S: futex wait with... */
	struct timespec timeout;             /* ...this relative timeout */
};
_Static_assert(offsetof(struct echo_page, use_timeout) == 56, "echo.S layout");
_Static_assert(offsetof(struct echo_page, timeout) == 64, "echo.S layout");

/* A test process and everything it is made of. */
struct tproc {
	struct process *p;
	struct dataspace seg[TP_MAX_SEGS], stack, utcb;
	int nseg;
	struct process_mapping maps[TP_MAX_SEGS + 2];
	size_t nmaps;
	struct thread_start start;

	/* Filled by the event handlers (under ev_lock). */
	int exited;
	struct process_exit_info info;
	pid_t thread_exits[8];
	int nthread_exits;
};

static char build_dir[PATH_MAX];
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;

/* ---- helpers -------------------------------------------------------- */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void on_thread_exited(struct process *p, pid_t tid, void *ctx)
{
	struct tproc *tp = process_user(p);
	(void)ctx;
	pthread_mutex_lock(&ev_lock);
	if (tp->nthread_exits < 8)
		tp->thread_exits[tp->nthread_exits++] = tid;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

static void on_exited(struct process *p, const struct process_exit_info *info, void *ctx)
{
	struct tproc *tp = process_user(p);
	(void)ctx;
	pthread_mutex_lock(&ev_lock);
	tp->exited = 1;
	tp->info = *info;
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

static int wait_exit(struct tproc *tp)
{
	struct timespec dl;
	int rc = 0;

	deadline_in(&dl, TP_WAIT_MS);
	pthread_mutex_lock(&ev_lock);
	while (!tp->exited && rc == 0)
		rc = pthread_cond_timedwait(&ev_cond, &ev_lock, &dl);
	rc = tp->exited;
	pthread_mutex_unlock(&ev_lock);
	return rc;
}

static int wait_thread_exits(struct tproc *tp, int n)
{
	struct timespec dl;
	int rc = 0;

	deadline_in(&dl, TP_WAIT_MS);
	pthread_mutex_lock(&ev_lock);
	while (tp->nthread_exits < n && rc == 0)
		rc = pthread_cond_timedwait(&ev_cond, &ev_lock, &dl);
	rc = tp->nthread_exits >= n;
	pthread_mutex_unlock(&ev_lock);
	return rc;
}

static long futex(volatile uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static struct echo_page *page_of(struct tproc *tp, int thread)
{
	return (struct echo_page *)(tp->utcb.local + (size_t)thread * AMBER_PAGE_SIZE);
}

/* Post a request to an echo.S thread without waiting for the answer. */
static uint32_t echo_post(struct echo_page *pg, uint64_t cmd, uint64_t arg)
{
	uint32_t req;

	pg->cmd = cmd;
	pg->arg = arg;
	req = __atomic_add_fetch(&pg->req, 1, __ATOMIC_SEQ_CST);
	futex(&pg->req, FUTEX_WAKE, INT_MAX, NULL);
	return req;
}

/* One request to an echo.S thread; 0 with the result, or -ETIMEDOUT. */
static int echo_call(struct echo_page *pg, uint64_t cmd, uint64_t arg, uint64_t *result)
{
	const struct timespec slice = {0, 10 * 1000 * 1000L};
	double until = now_us() + TP_WAIT_MS * 1000.0;
	uint32_t req = echo_post(pg, cmd, arg);

	for (;;) {
		uint32_t ack = __atomic_load_n(&pg->ack, __ATOMIC_SEQ_CST);
		if (ack == req)
			break;
		if (now_us() > until)
			return -ETIMEDOUT;
		futex(&pg->ack, FUTEX_WAIT, ack, &slice);
	}
	if (result)
		*result = pg->result;
	return 0;
}

/* Wait until a volatile word has the value (spin.S mirrors). */
static int wait_value(volatile uint64_t *w, uint64_t v)
{
	double until = now_us() + TP_WAIT_MS * 1000.0;
	while (*w != v) {
		if (now_us() > until)
			return 0;
		usleep(100);
	}
	return 1;
}

/* Wait until a volatile word changes from `old`. */
static int wait_change(volatile uint64_t *w, uint64_t old)
{
	double until = now_us() + TP_WAIT_MS * 1000.0;
	while (*w == old) {
		if (now_us() > until)
			return 0;
		usleep(100);
	}
	return 1;
}

/* Wait until thread `tid` sleeps in futex(2) (/proc/PID/task/TID/syscall),
 * so a stop is sure to catch it inside the system call. */
static int wait_in_futex(pid_t pid, pid_t tid)
{
	double until = now_us() + TP_WAIT_MS * 1000.0;
	char path[96], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	while (now_us() < until) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (strncmp(buf, "202 ", 4) == 0)
				return 1;
		}
		usleep(200);
	}
	return 0;
}

static void find_build_dir(void)
{
	const char *env = getenv("AMBER_BUILD");
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n;

	snprintf(build_dir, sizeof(build_dir), "%s", env ? env : "build");
	if (env)
		return;
	/* Not set: the test lives in BUILD/tests/, so look there first
	 * (make SAN=1 builds into build-san). */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *dir = dirname(dirname(exe));
	snprintf(probe, sizeof(probe), "%s/amber-launch", dir);
	if (access(probe, X_OK) == 0)
		snprintf(build_dir, sizeof(build_dir), "%s", dir);
}

/* Load a program's PT_LOAD segments into dataspaces: a minimal ELF loader. */
static int load_program(struct tproc *tp, const char *name)
{
	char path[PATH_MAX + 64];
	GElf_Ehdr eh;
	size_t nph;
	Elf *elf;
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/tests/programs/%s", build_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || !gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &nph) != 0)
		goto out;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		uint64_t start, end;
		struct dataspace *ds;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (tp->nseg == TP_MAX_SEGS)
			goto out;
		start = ph.p_vaddr & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
		end = (ph.p_vaddr + ph.p_memsz + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
		ds = &tp->seg[tp->nseg++];
		if (dataspace_create(ds, end - start, name) < 0)
			goto out;
		if (ph.p_filesz &&
		    pread(fd, ds->local + (ph.p_vaddr - start), ph.p_filesz, (off_t)ph.p_offset) !=
			    (ssize_t)ph.p_filesz)
			goto out;
		tp->maps[tp->nmaps++] = (struct process_mapping){
			ds, start, 0, end - start,
			((ph.p_flags & PF_R) ? PROT_READ : 0) | ((ph.p_flags & PF_W) ? PROT_WRITE : 0) |
				((ph.p_flags & PF_X) ? PROT_EXEC : 0)};
	}
	tp->start.ip = eh.e_entry;
	rc = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}

/* Spawn `name` with a stack and two shared pages at AMBER_UTCB_AREA (one
 * per echo thread); the first thread gets page 0 in rdi and as fs base. */
static int tproc_spawn(struct tproc *tp, const char *name)
{
	memset(tp, 0, sizeof(*tp));
	if (load_program(tp, name) < 0)
		return -ENOEXEC;
	if (dataspace_create(&tp->stack, TP_STACK_SIZE, "stack") < 0 ||
	    dataspace_create(&tp->utcb, 2 * AMBER_PAGE_SIZE, "utcb") < 0)
		return -ENOMEM;
	tp->maps[tp->nmaps++] = (struct process_mapping){
		&tp->stack, AMBER_STACK_AREA - TP_STACK_SIZE, 0, TP_STACK_SIZE, PROT_READ | PROT_WRITE};
	tp->maps[tp->nmaps++] = (struct process_mapping){&tp->utcb, AMBER_UTCB_AREA, 0,
							 2 * AMBER_PAGE_SIZE, PROT_READ | PROT_WRITE};
	tp->start.sp = AMBER_STACK_AREA;
	tp->start.tls_base = AMBER_UTCB_AREA;
	tp->start.arg0 = AMBER_UTCB_AREA;
	tp->start.arg1 = 0;
	return process_spawn(&tp->p, name, tp->maps, tp->nmaps, &tp->start, tp);
}

static int tproc_run(struct tproc *tp, const char *name)
{
	int rc = tproc_spawn(tp, name);
	if (rc == 0)
		rc = process_thread_resume(tp->p, process_pid(tp->p));
	return rc;
}

/* Heap-allocated: a failed assertion leaves the test early, and the
 * process's events must not then write into a dead stack frame. */
static struct tproc *tproc_alloc(void)
{
	struct tproc *tp = calloc(1, sizeof(*tp));
	assert_non_null(tp);
	return tp;
}

/* Destroy the process (no more events after this) and free everything. */
static void tproc_free(struct tproc *tp)
{
	if (tp->p)
		process_destroy(tp->p);
	tp->p = NULL;
	for (int i = 0; i < tp->nseg; i++)
		dataspace_destroy(&tp->seg[i]);
	dataspace_destroy(&tp->stack);
	dataspace_destroy(&tp->utcb);
	free(tp);
}

/* ---- setup ------------------------------------------------------------ */

static int group_setup(void **state)
{
	static const struct process_events ev = {on_thread_exited, on_exited, NULL} /* faults kill at once */;
	char launcher[PATH_MAX + 32];
	(void)state;

	find_build_dir();
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	snprintf(launcher, sizeof(launcher), "%s/amber-launch", build_dir);
	if (process_system_start(launcher, &ev, NULL) != 0) {
		fprintf(stderr, "process_system_start(%s) failed\n", launcher);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	process_system_stop();
	return 0;
}

/* ---- tests ------------------------------------------------------------ */

static void test_exit_code(void **state)
{
	struct tproc *tp = tproc_alloc();
	(void)state;

	assert_int_equal(tproc_run(tp, "exit42"), 0);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_EXITED);
	assert_int_equal(tp->info.code, 42);
	/* Requests on a dead process fail cleanly. */
	assert_int_equal(process_thread_stop(tp->p, process_pid(tp->p)), -ESRCH);
	assert_int_equal(process_unmap(tp->p, AMBER_DYNAMIC_BASE, AMBER_PAGE_SIZE), -ESRCH);
	tproc_free(tp);
}

static void test_forbidden_syscall(void **state)
{
	struct tproc *tp = tproc_alloc();
	char proc[64];
	(void)state;

	assert_int_equal(tproc_run(tp, "getpid"), 0);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_FORBIDDEN_SYSCALL);
	assert_int_equal(tp->info.code, SYS_getpid);
	assert_non_null(strstr(tp->info.reason, "forbidden system call getpid (39)"));
	assert_int_equal(tp->info.ip, tp->start.ip + 5); /* the syscall, after a 5-byte mov */
	snprintf(proc, sizeof(proc), "/proc/%d", (int)process_pid(tp->p));
	assert_int_not_equal(access(proc, F_OK), 0); /* killed and reaped */
	tproc_free(tp);
}

static void test_self_mmap_killed(void **state)
{
	struct tproc *tp = tproc_alloc();
	(void)state;

	assert_int_equal(tproc_run(tp, "mmap"), 0);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_FORBIDDEN_SYSCALL);
	assert_int_equal(tp->info.code, SYS_mmap);
	assert_string_equal(tp->info.reason, "forbidden system call mmap (9)");
	tproc_free(tp);
}

static void test_segfault(void **state)
{
	struct tproc *tp = tproc_alloc();
	(void)state;

	assert_int_equal(tproc_run(tp, "segv"), 0);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_FAULT);
	assert_int_equal(tp->info.code, SIGSEGV);
	assert_int_equal(tp->info.fault_addr, 0xdead000);
	assert_int_equal(tp->info.ip, tp->start.ip + 7); /* the load, after a 7-byte mov */
	assert_non_null(strstr(tp->info.reason, "SIGSEGV at 0xdead000"));
	tproc_free(tp);
}

/* The component's memory is exactly its dataspaces plus the trampoline. */
static void test_maps_exact(void **state)
{
	struct maps_entry *e;
	struct tproc *tp = tproc_alloc();
	size_t n, k = 0;
	(void)state;

	assert_int_equal(tproc_spawn(tp, "echo"), 0);
	assert_int_equal(maps_read(process_pid(tp->p), &e, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].path, "[vsyscall]") == 0)
			continue;
		assert_true(e[i].shared);
		assert_non_null(strstr(e[i].path, "memfd:amber:"));
		if (e[i].start == AMBER_TRAMPOLINE_ADDR) {
			assert_int_equal(e[i].end, AMBER_TRAMPOLINE_ADDR + AMBER_PAGE_SIZE);
			assert_int_equal(e[i].prot, PROT_READ | PROT_EXEC);
			continue;
		}
		size_t j = 0;
		while (j < tp->nmaps && tp->maps[j].addr != e[i].start)
			j++;
		assert_true(j < tp->nmaps);
		assert_int_equal(e[i].end, tp->maps[j].addr + tp->maps[j].size);
		assert_int_equal(e[i].prot, tp->maps[j].prot);
		assert_non_null(strstr(e[i].path, tp->maps[j].ds->name));
		k++;
	}
	assert_int_equal(k, tp->nmaps);
	free(e);
	tproc_free(tp);
}

/* Shared memory both ways, futex wake from core. */
static void test_echo_futex(void **state)
{
	struct tproc *tp = tproc_alloc();
	uint64_t r;
	(void)state;

	assert_int_equal(tproc_run(tp, "echo"), 0);
	for (uint64_t i = 0; i < 100; i++) {
		assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, i * 3, &r), 0);
		assert_int_equal(r, i * 3 + 1);
	}
	/* fs base is the UTCB page: %fs:16 is the arg word. */
	assert_int_equal(echo_call(page_of(tp, 0), CMD_TLS, 0xfeedface, &r), 0);
	assert_int_equal(r, 0xfeedface);
	echo_post(page_of(tp, 0), CMD_EXIT_GROUP, 7);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_EXITED);
	assert_int_equal(tp->info.code, 7);
	assert_int_equal(tp->info.tid, process_pid(tp->p));
	tproc_free(tp);
}

/* process_map into a running process (blocked in futex wait), then the
 * program reads it; process_unmap, then reading it faults. */
static void test_map_unmap_running(void **state)
{
	const uint64_t where = AMBER_DYNAMIC_BASE;
	struct dataspace ds;
	struct tproc *tp = tproc_alloc();
	uint64_t r;
	(void)state;

	assert_int_equal(tproc_run(tp, "echo"), 0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 1, &r), 0);
	assert_int_equal(dataspace_create(&ds, 2 * AMBER_PAGE_SIZE, "extra"), 0);
	((volatile uint64_t *)ds.local)[0] = 0x5eed5eed;
	((volatile uint64_t *)(ds.local + AMBER_PAGE_SIZE))[0] = 0xabcdef;

	struct process_mapping m = {&ds, where, AMBER_PAGE_SIZE, AMBER_PAGE_SIZE, PROT_READ};
	assert_int_equal(process_map(tp->p, &m), 0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_READ, where, &r), 0);
	assert_int_equal(r, 0xabcdef); /* offset honoured */
	m.offset = 0;
	assert_int_equal(process_map(tp->p, &m), 0); /* replaces */
	assert_int_equal(echo_call(page_of(tp, 0), CMD_READ, where, &r), 0);
	assert_int_equal(r, 0x5eed5eed);
	((volatile uint64_t *)ds.local)[0] = 42; /* core writes, component sees */
	assert_int_equal(echo_call(page_of(tp, 0), CMD_READ, where, &r), 0);
	assert_int_equal(r, 42);

	/* Bad requests are refused before anything is injected. */
	struct process_mapping bad = {&ds, AMBER_TRAMPOLINE_ADDR, 0, AMBER_PAGE_SIZE, PROT_READ};
	assert_int_equal(process_map(tp->p, &bad), -EINVAL);
	bad.addr = where + 1;
	assert_int_equal(process_map(tp->p, &bad), -EINVAL);
	bad.addr = where;
	bad.size = 4 * AMBER_PAGE_SIZE; /* beyond the dataspace */
	assert_int_equal(process_map(tp->p, &bad), -EINVAL);
	assert_int_equal(process_unmap(tp->p, AMBER_TRAMPOLINE_ADDR, AMBER_PAGE_SIZE), -EINVAL);

	assert_int_equal(process_unmap(tp->p, where, AMBER_PAGE_SIZE), 0);
	echo_post(page_of(tp, 0), CMD_READ, where);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_FAULT);
	assert_int_equal(tp->info.fault_addr, where);
	tproc_free(tp);
	dataspace_destroy(&ds);
}

/* process_remap: mappings of two dataspaces and an unmapping in one
 * request, in order, each with its own result (a bad one refused alone);
 * then reading the unmapped page faults. */
static void test_remap_batch(void **state)
{
	const uint64_t at = AMBER_DYNAMIC_BASE, page = AMBER_PAGE_SIZE;
	struct dataspace a, b;
	struct tproc *tp = tproc_alloc();
	uint64_t r;
	(void)state;

	assert_int_equal(tproc_run(tp, "echo"), 0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 1, &r), 0);
	assert_int_equal(dataspace_create(&a, 2 * page, "remap-a"), 0);
	assert_int_equal(dataspace_create(&b, page, "remap-b"), 0);
	((volatile uint64_t *)a.local)[0] = 0xa0;
	((volatile uint64_t *)(a.local + page))[0] = 0xa1;
	((volatile uint64_t *)b.local)[0] = 0xb0;

	struct process_mapping ops[] = {
		{ &a, at, 0, page, PROT_READ },                 /* a's memfd fetched once for these two */
		{ &a, at + 2 * page, page, page, PROT_READ },
		{ &b, at + 4 * page, 0, page, PROT_READ },       /* then b's */
		{ &a, AMBER_TRAMPOLINE_ADDR, 0, page, PROT_READ }, /* refused, the rest goes on */
		{ &a, at + 6 * page, 0, page, PROT_READ },      /* a again after b */
		{ NULL, at + 2 * page, 0, page, 0 },            /* an unmapping */
	};
	int rc[6] = { 1, 1, 1, 1, 1, 1 };
	assert_int_equal(process_remap(tp->p, ops, 6, rc), 0);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], 0);
	assert_int_equal(rc[2], 0);
	assert_int_equal(rc[3], -EINVAL);
	assert_int_equal(rc[4], 0);
	assert_int_equal(rc[5], 0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_READ, at, &r), 0);
	assert_int_equal(r, 0xa0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_READ, at + 4 * page, &r), 0);
	assert_int_equal(r, 0xb0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_READ, at + 6 * page, &r), 0);
	assert_int_equal(r, 0xa0);

	echo_post(page_of(tp, 0), CMD_READ, at + 2 * page);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_FAULT);
	assert_int_equal(tp->info.fault_addr, at + 2 * page);
	tproc_free(tp);
	dataspace_destroy(&a);
	dataspace_destroy(&b);
}

/* A second thread runs echo.S on page 1 with its own fs base, exits
 * alone with exit(2), and the first thread carries on. */
static void test_thread_create(void **state)
{
	struct thread_start ts;
	struct tproc *tp = tproc_alloc();
	pid_t tid = 0;
	uint64_t r;
	(void)state;

	assert_int_equal(tproc_run(tp, "echo"), 0);
	ts = tp->start;
	ts.sp = AMBER_STACK_AREA - TP_STACK_SIZE / 2;
	ts.tls_base = AMBER_UTCB_AREA + AMBER_PAGE_SIZE;
	ts.arg0 = AMBER_UTCB_AREA + AMBER_PAGE_SIZE;
	assert_int_equal(process_thread_create(tp->p, &ts, &tid), 0);
	assert_true(tid > 0 && tid != process_pid(tp->p));

	/* Created stopped: its registers are what we asked for. */
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	assert_non_null(regs);
	assert_int_equal(process_thread_get_regs(tp->p, tid, regs), 0);
	assert_int_equal(regs->gp.rip, ts.ip);
	assert_int_equal(regs->gp.rsp, ts.sp);
	assert_int_equal(regs->gp.rdi, ts.arg0);
	assert_int_equal(regs->gp.fs_base, ts.tls_base);
	free(regs);

	assert_int_equal(process_thread_resume(tp->p, tid), 0);
	assert_int_equal(echo_call(page_of(tp, 1), CMD_PING, 10, &r), 0);
	assert_int_equal(r, 11);
	assert_int_equal(echo_call(page_of(tp, 1), CMD_TLS, 0x77, &r), 0);
	assert_int_equal(r, 0x77);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 20, &r), 0);
	assert_int_equal(r, 21);

	echo_post(page_of(tp, 1), CMD_EXIT, 0);
	assert_true(wait_thread_exits(tp, 1));
	assert_int_equal(tp->thread_exits[0], tid);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 30, &r), 0);
	assert_int_equal(r, 31);
	assert_int_equal(process_thread_stop(tp->p, tid), -ESRCH);
	assert_false(tp->exited);

	/* Another thread on the same page (reset: it starts with no request
	 * seen), while the first is blocked in its futex wait. */
	memset(page_of(tp, 1), 0, sizeof(struct echo_page));
	assert_int_equal(process_thread_create(tp->p, &ts, &tid), 0);
	assert_int_equal(process_thread_resume(tp->p, tid), 0);
	assert_int_equal(echo_call(page_of(tp, 1), CMD_PING, 40, &r), 0);
	assert_int_equal(r, 41);

	echo_post(page_of(tp, 0), CMD_EXIT_GROUP, 3);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_EXITED);
	assert_int_equal(tp->info.code, 3);
	assert_int_equal(tp->nthread_exits, 1); /* a group exit is not a thread exit */
	tproc_free(tp);
}

/* Stop a thread in user code, read and change its registers (a general
 * register and an XMM register through the XSAVE area), resume it. */
static void test_regs_spin(void **state)
{
	struct echo_page *pg;
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	struct tproc *tp = tproc_alloc();
	pid_t tid;
	uint64_t c, xmm0, xmm1;
	(void)state;

	assert_non_null(regs);
	assert_int_equal(tproc_spawn(tp, "spin"), 0);
	tid = process_pid(tp->p);
	pg = page_of(tp, 0);
	assert_int_equal(process_thread_resume(tp->p, tid), 0);
	assert_int_equal(process_thread_resume(tp->p, tid), 0); /* idempotent */
	assert_true(wait_value(&pg->r13, 7));
	assert_int_equal(process_thread_get_regs(tp->p, tid, regs), -EBUSY);

	assert_int_equal(process_thread_stop(tp->p, tid), 0);
	assert_int_equal(process_thread_stop(tp->p, tid), 0); /* idempotent */
	c = pg->counter;
	usleep(20000);
	assert_int_equal(pg->counter, c); /* really stopped */

	assert_int_equal(process_thread_get_regs(tp->p, tid, regs), 0);
	assert_int_equal(regs->gp.r13, 7);
	assert_int_equal(regs->gp.rbx, AMBER_UTCB_AREA);
	assert_true(regs->xstate_size >= 576);
	memcpy(&xmm0, regs->xstate + 160, 8); /* FXSAVE layout: xmm0 at 160 */
	assert_int_equal(xmm0, 0x1122334455667788ull);

	regs->gp.r13 = 99;
	xmm1 = 0x0badc0ffee0ddf00ull;
	memcpy(regs->xstate + 176, &xmm1, 8);
	regs->xstate[512] |= 2; /* XSTATE_BV: SSE state is in the buffer */
	assert_int_equal(process_thread_set_regs(tp->p, tid, regs), 0);

	/* Round trip before running. */
	memset(regs->xstate, 0, regs->xstate_size);
	assert_int_equal(process_thread_get_regs(tp->p, tid, regs), 0);
	memcpy(&c, regs->xstate + 176, 8);
	assert_int_equal(c, xmm1);
	assert_int_equal(regs->gp.r13, 99);

	assert_int_equal(process_thread_resume(tp->p, tid), 0);
	assert_true(wait_value(&pg->r13, 99));
	assert_true(wait_value(&pg->xmm1, xmm1));

	/* Injecting into it while it runs user code leaves it undisturbed. */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(process_map(tp->p, &tp->maps[tp->nmaps - 1]), 0);
		assert_int_equal(process_unmap(tp->p, AMBER_DYNAMIC_BASE, AMBER_PAGE_SIZE), 0);
	}
	c = pg->counter;
	assert_true(wait_value(&pg->r13, 99)); /* still running, registers intact */
	assert_true(pg->xmm1 == xmm1);
	assert_true(wait_change(&pg->counter, c));

	/* Killing it is reported as core's doing, with core's reason. */
	process_kill(tp->p, "test is done");
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_KILLED_BY_CORE);
	assert_string_equal(tp->info.reason, "test is done");
	free(regs);
	tproc_free(tp);
}

/* Stop a thread blocked in FUTEX_WAIT: it is inside the system call
 * (orig_rax = futex, rax = -ERESTARTSYS, or -ERESTART_RESTARTBLOCK and
 * later restart_syscall with a timeout); after resume it is still waiting
 * and wakeable. Also inject into it while it is blocked (process_map). */
static void stop_in_futex(int use_timeout)
{
	struct thread_regs *regs = aligned_alloc(64, sizeof(*regs));
	struct tproc *tp = tproc_alloc();
	struct dataspace ds;
	pid_t tid;
	uint64_t r;

	assert_non_null(regs);
	assert_int_equal(tproc_spawn(tp, "echo"), 0);
	page_of(tp, 0)->use_timeout = (uint64_t)use_timeout;
	page_of(tp, 0)->timeout.tv_sec = 30;
	tid = process_pid(tp->p);
	assert_int_equal(process_thread_resume(tp->p, tid), 0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 1, &r), 0);

	for (int round = 0; round < 3; round++) {
		assert_true(wait_in_futex(tid, tid));
		assert_int_equal(process_thread_stop(tp->p, tid), 0);
		assert_int_equal(process_thread_get_regs(tp->p, tid, regs), 0);
		if (use_timeout) {
			assert_true(regs->gp.orig_rax == SYS_futex ||
				    regs->gp.orig_rax == SYS_restart_syscall);
			assert_int_equal((int64_t)regs->gp.rax, -516); /* ERESTART_RESTARTBLOCK */
		} else {
			assert_int_equal(regs->gp.orig_rax, SYS_futex);
			assert_int_equal((int64_t)regs->gp.rax, -512); /* ERESTARTSYS */
		}
		assert_int_equal(process_thread_resume(tp->p, tid), 0);
		usleep(5000);
		/* Still blocked: nothing was acknowledged... */
		assert_int_equal(page_of(tp, 0)->ack, page_of(tp, 0)->req);
		/* ...and a stop/resume again, without looking at it. */
		assert_int_equal(process_thread_stop(tp->p, tid), 0);
		assert_int_equal(process_thread_resume(tp->p, tid), 0);
		assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 100 + round, &r), 0);
		assert_int_equal(r, 101 + round);
	}

	/* Injection into the blocked thread, which must keep waiting. */
	assert_true(wait_in_futex(tid, tid));
	assert_int_equal(dataspace_create(&ds, AMBER_PAGE_SIZE, "blocked"), 0);
	((volatile uint64_t *)ds.local)[0] = 0x600d;
	struct process_mapping m = {&ds, AMBER_DYNAMIC_BASE, 0, AMBER_PAGE_SIZE, PROT_READ};
	assert_int_equal(process_map(tp->p, &m), 0);
	assert_int_equal(process_map(tp->p, &m), 0);
	usleep(5000);
	assert_int_equal(page_of(tp, 0)->ack, page_of(tp, 0)->req);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_READ, AMBER_DYNAMIC_BASE, &r), 0);
	assert_int_equal(r, 0x600d);

	free(regs);
	tproc_free(tp);
	dataspace_destroy(&ds);
}

static void test_stop_in_futex(void **state)
{
	(void)state;
	stop_in_futex(0);
}

static void test_stop_in_futex_timeout(void **state)
{
	(void)state;
	stop_in_futex(1);
}

/* Killing one process, or a process killed from outside, does not disturb
 * another; forbidden calls from a multi-page program also end it. */
static void test_isolation(void **state)
{
	struct tproc *a = tproc_alloc(), *b = tproc_alloc(), *c = tproc_alloc();
	uint64_t r;
	(void)state;

	/* A child of core that is not a component: its status is not ours. */
	pid_t other = fork();
	if (other == 0)
		_exit(7);
	assert_true(other > 0);

	assert_int_equal(tproc_run(a, "echo"), 0);
	assert_int_equal(tproc_run(b, "echo"), 0);
	assert_int_equal(tproc_run(c, "echo"), 0);
	assert_int_equal(echo_call(page_of(a, 0), CMD_PING, 1, &r), 0);
	assert_int_equal(echo_call(page_of(b, 0), CMD_PING, 2, &r), 0);

	process_kill(a->p, "isolation");
	assert_true(wait_exit(a));
	assert_int_equal(a->info.how, PROCESS_KILLED_BY_CORE);
	kill(process_pid(c->p), SIGTERM);
	assert_true(wait_exit(c));
	assert_int_equal(c->info.how, PROCESS_SIGNALED);
	assert_int_equal(c->info.code, SIGTERM);

	for (int i = 0; i < 10; i++) {
		assert_int_equal(echo_call(page_of(b, 0), CMD_PING, (uint64_t)i, &r), 0);
		assert_int_equal(r, (uint64_t)i + 1);
	}
	/* Harmless signals from outside are dropped. */
	kill(process_pid(b->p), SIGCHLD);
	kill(process_pid(b->p), SIGSTOP);
	kill(process_pid(b->p), SIGCONT);
	assert_int_equal(echo_call(page_of(b, 0), CMD_PING, 5, &r), 0);
	assert_int_equal(r, 6);

	int status = 0;
	assert_int_equal(waitpid(other, &status, 0), other);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);

	echo_post(page_of(b, 0), CMD_GETPID, 0);
	assert_true(wait_exit(b));
	assert_int_equal(b->info.how, PROCESS_FORBIDDEN_SYSCALL);
	assert_int_equal(b->info.code, SYS_getpid);

	tproc_free(a);
	tproc_free(b);
	tproc_free(c);
}

/* Refused spawns. */
static void test_spawn_invalid(void **state)
{
	struct tproc *tp = tproc_alloc();
	struct process *p = NULL;
	(void)state;

	assert_int_equal(tproc_spawn(tp, "echo"), 0);
	tproc_free(tp);

	tp = tproc_alloc();
	assert_int_equal(load_program(tp, "echo"), 0);
	tp->maps[tp->nmaps] = tp->maps[0]; /* overlap */
	assert_int_equal(process_spawn(&p, "overlap", tp->maps, tp->nmaps + 1, &tp->start, tp), -EINVAL);
	assert_null(p);
	tp->maps[tp->nmaps].addr = AMBER_TRAMPOLINE_ADDR;
	assert_int_equal(process_spawn(&p, "tramp", tp->maps, tp->nmaps + 1, &tp->start, tp), -EINVAL);
	tproc_free(tp);
}

/* The spares: blank processes, children of this one still named after
 * the launcher, up to max pids into out. How many. */
static int spare_pids(pid_t *out, int max)
{
	int n = 0;
	char path[300], text[512];
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	for (struct dirent *e; n < max && (e = readdir(d));) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (k <= 0)
			continue;
		text[k] = '\0';
		char comm[32], st;
		int pid, ppid;
		if (sscanf(text, "%d (%31[^)]) %c %d", &pid, comm, &st, &ppid) == 4 && ppid == (int)getpid() &&
		    strcmp(comm, "amber-launch") == 0)
			out[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

static int wait_spares(pid_t *out, int max, int want)
{
	int n = 0;
	for (int i = 0; i < 200 && (n = spare_pids(out, max)) < want; i++)
		usleep(10000);
	return n;
}

/* A spawn takes a spare (named then, after its filter is in), a spare
 * killed from outside is replaced unnoticed, and the pool fills again. */
static void test_spares(void **state)
{
	pid_t spares[8];
	char path[64], comm[32] = "";
	(void)state;

	assert_int_equal(wait_spares(spares, 8, 2), 2); /* AMBER_SPARES's default */
	struct tproc *tp = tproc_alloc();
	assert_int_equal(tproc_spawn(tp, "exit42"), 0);
	assert_true(process_pid(tp->p) == spares[0] || process_pid(tp->p) == spares[1]);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)process_pid(tp->p));
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	assert_string_equal(comm, "exit42\n");
	assert_int_equal(process_thread_resume(tp->p, process_pid(tp->p)), 0);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.code, 42);
	tproc_free(tp);

	int n = wait_spares(spares, 8, 2);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		assert_int_equal(kill(spares[i], SIGKILL), 0);
	tp = tproc_alloc();
	assert_int_equal(tproc_run(tp, "exit42"), 0);
	assert_true(wait_exit(tp));
	assert_int_equal(tp->info.how, PROCESS_EXITED);
	assert_int_equal(tp->info.code, 42);
	for (int i = 0; i < n; i++)
		assert_int_not_equal(process_pid(tp->p), spares[i]);
	tproc_free(tp);
	pid_t again[8];
	assert_int_equal(wait_spares(again, 8, 2), 2);
	for (int i = 0; i < 2; i++)
		assert_true(again[i] != spares[0] && again[i] != spares[1]);
}

/* process_post_call: fn runs once, on the event thread, after the events
 * queued before it (here: the exit, already delivered). */
struct posted {
	int runs, saw_exit;
	pthread_t thread;
	struct tproc *tp;
};

static void posted_call(void *arg)
{
	struct posted *x = arg;
	pthread_mutex_lock(&ev_lock);
	x->runs++;
	x->saw_exit = x->tp->exited;
	x->thread = pthread_self();
	pthread_cond_broadcast(&ev_cond);
	pthread_mutex_unlock(&ev_lock);
}

static void test_post_call(void **state)
{
	struct posted x = { .tp = tproc_alloc() };
	struct timespec dl;
	(void)state;

	assert_int_equal(tproc_run(x.tp, "exit42"), 0);
	assert_true(wait_exit(x.tp));
	assert_int_equal(process_post_call(posted_call, &x), 0);
	deadline_in(&dl, TP_WAIT_MS);
	pthread_mutex_lock(&ev_lock);
	while (!x.runs && pthread_cond_timedwait(&ev_cond, &ev_lock, &dl) == 0)
		;
	pthread_mutex_unlock(&ev_lock);
	assert_int_equal(x.runs, 1);
	assert_true(x.saw_exit);
	assert_false(pthread_equal(x.thread, pthread_self()));
	tproc_free(x.tp);
}

/* Not asserted: how long things take. */
static void test_timing(void **state)
{
	const int spawns = 20, calls = 200;
	struct tproc *tp = tproc_alloc();
	double t0, spawn_us = 0, stopped_us, blocked_us, tc_us;
	pid_t tid;
	uint64_t r;
	(void)state;

	for (int i = 0; i < spawns; i++) {
		t0 = now_us();
		assert_int_equal(tproc_spawn(tp, "echo"), 0);
		spawn_us += now_us() - t0;
		tproc_free(tp);
		tp = tproc_alloc();
	}

	/* One injected munmap, through a held thread: the injected system
	 * call plus the request round trip to the controller. */
	assert_int_equal(tproc_spawn(tp, "echo"), 0);
	t0 = now_us();
	for (int i = 0; i < calls; i++)
		assert_int_equal(process_unmap(tp->p, AMBER_DYNAMIC_BASE, AMBER_PAGE_SIZE), 0);
	stopped_us = (now_us() - t0) / calls;

	/* The same into a thread blocked in futex wait: interrupt, inject,
	 * restore, restart the wait. */
	assert_int_equal(process_thread_resume(tp->p, process_pid(tp->p)), 0);
	assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 1, &r), 0);
	t0 = now_us();
	for (int i = 0; i < calls; i++)
		assert_int_equal(process_unmap(tp->p, AMBER_DYNAMIC_BASE, AMBER_PAGE_SIZE), 0);
	blocked_us = (now_us() - t0) / calls;

	struct thread_start ts = tp->start;
	ts.arg0 = ts.tls_base = AMBER_UTCB_AREA + AMBER_PAGE_SIZE;
	t0 = now_us();
	assert_int_equal(process_thread_create(tp->p, &ts, &tid), 0);
	tc_us = now_us() - t0;
	assert_int_equal(echo_call(page_of(tp, 0), CMD_PING, 1, &r), 0);

	printf("[ TIMING   ] spawn (fork, exec, setup, verify): %.0f us\n", spawn_us / spawns);
	printf("[ TIMING   ] injected munmap, held thread: %.1f us\n", stopped_us);
	printf("[ TIMING   ] injected munmap, thread in futex wait: %.1f us\n", blocked_us);
	printf("[ TIMING   ] thread create: %.0f us\n", tc_us);
	tproc_free(tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_forbidden_syscall),
		cmocka_unit_test(test_self_mmap_killed),
		cmocka_unit_test(test_segfault),
		cmocka_unit_test(test_maps_exact),
		cmocka_unit_test(test_echo_futex),
		cmocka_unit_test(test_map_unmap_running),
		cmocka_unit_test(test_remap_batch),
		cmocka_unit_test(test_thread_create),
		cmocka_unit_test(test_regs_spin),
		cmocka_unit_test(test_stop_in_futex),
		cmocka_unit_test(test_stop_in_futex_timeout),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_spawn_invalid),
		cmocka_unit_test(test_spares),
		cmocka_unit_test(test_post_call),
		cmocka_unit_test(test_timing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
