/*
 * Checkpoint/restore through the amber command, against real amber-cores:
 * the image is what the live system was (slot by slot, with amber diff),
 * a restore brings back exactly that, the seed's four capabilities work
 * after a restore, and bad requests and damaged images change nothing.
 * (tools/cr_diff.c compares whole runs at random points; this file checks
 * the individual promises.)
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <time.h>

#include "harness.h"
#include "image/image.h"

static char img_a[128], img_b[128], img_c[128], img_m[128];


#define LIVE_EXPECT(lc, text, seconds)                                                             \
	do {                                                                                       \
		if (!live_wait_for(lc, text, seconds)) {                                           \
			run_dump(&(lc)->r);                                                        \
			fail_msg("missing: %s", text);                                             \
		}                                                                                  \
	} while (0)

/* amber-core on `scenario`, until `ready` appears. */
static void up(struct live_core *lc, const char *scenario, const char *ready)
{
	if (!live_start(lc, scenario, NULL, NULL, ready, 60)) {
		run_dump(&lc->r);
		fail_msg("amber-core did not come up (%s)", ready);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(img_a, sizeof(img_a), "/tmp/amber-test-cr-%d-a", (int)getpid());
	snprintf(img_b, sizeof(img_b), "/tmp/amber-test-cr-%d-b", (int)getpid());
	snprintf(img_c, sizeof(img_c), "/tmp/amber-test-cr-%d-c", (int)getpid());
	snprintf(img_m, sizeof(img_m), "/tmp/amber-test-cr-%d-m", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	harness_remove_tree(img_a);
	harness_remove_tree(img_b);
	harness_remove_tree(img_c);
	harness_remove_tree(img_m);
	return 0;
}

static void checkpoint(struct live_core *lc, const char *name, const char *dir, bool kill)
{
	struct cli_run r;
	if (kill)
		amber(&r, "-s", lc->name, "checkpoint", "--kill", name, dir, NULL);
	else
		amber(&r, "-s", lc->name, "checkpoint", name, dir, NULL);
	if (r.status != 0) { /* what amber-core said about it */
		live_wait_for(lc, "\001", 1);
		run_dump(&lc->r);
	}
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "checkpointed"));
	cli_run_free(&r);
}

static void restore(struct live_core *lc, const char *dir)
{
	struct cli_run r;
	amber(&r, "-s", lc->name, "restore", dir, NULL);
	if (r.status != 0) { /* what amber-core said about it */
		live_wait_for(lc, "\001", 1);
		run_dump(&lc->r);
	}
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "restored"));
	cli_run_free(&r);
}

/* amber diff A B: how many differences (its lines), asserting it ran. */
static int diff_lines(const char *a, const char *b, struct cli_run *r)
{
	amber(r, "diff", a, b, NULL);
	CLI_EXPECT(r, r->status == 0 || r->status == 1);
	int n = 0;
	for (const char *p = r->out; *p; p++)
		n += *p == '\n';
	return n;
}

/* ---- the image is the system, and restore brings it back exactly ------------- */

/* Idle components do not change: restored and checkpointed again, the two
 * images must agree in every slot, badge, object id, thread state,
 * register, IRQ, session and byte of memory. For a component alone, for a
 * subtree (init and its children), and for a child alone. */
static void restore_is_exact(void **state)
{
	(void)state;
	const char *names[] = { "solo", "init", "init/idle_a" };
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	if (!live_start(&lc, "scenarios/cr_idle.xml", NULL, NULL, "[solo] cr_idle: idle", 60) ||
	    !live_wait_for(&lc, "[init -> idle_b] cr_idle: idle", 20)) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		harness_remove_tree(img_a);
		harness_remove_tree(img_b);
		checkpoint(&lc, names[i], img_a, false);
		restore(&lc, img_a);
		checkpoint(&lc, names[i], img_b, false);
		struct cli_run r;
		int n = diff_lines(img_a, img_b, &r);
		if (n != 0) {
			cli_run_dump(&r);
			fail_msg("%s: restored and checkpointed again, %d differences", names[i], n);
		}
		cli_run_free(&r);
	}
	/* Twice from one image, and after --kill: the same again. */
	restore(&lc, img_a);
	checkpoint(&lc, "init/idle_a", img_b, true);
	restore(&lc, img_b);
	harness_remove_tree(img_b);
	checkpoint(&lc, "init/idle_a", img_b, false);
	struct cli_run r;
	int n = diff_lines(img_a, img_b, &r);
	if (n != 0) {
		cli_run_dump(&r);
		fail_msg("after --kill and restore: %d differences", n);
	}
	cli_run_free(&r);
	/* amber inspect --diff against the live component says the same. */
	amber(&r, "-s", lc.name, "inspect", "--diff", img_b, "init/idle_a", NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	live_stop(&lc);
	run_free(&lc.r);
}

/* ---- the seed's four capabilities ------------------------------------------- */

/* CAP4 during construction: the checkpoint catches the signal-handler
 * thread calling the constructor capability; restored, construction
 * completes, the slot is free from then on, and the component runs to
 * its end. */
static void cap4_during_construction(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_counter.xml", "cr_counter: constructing");
	checkpoint(&lc, "cr_counter", img_a, true); /* within its 200 ms construction */
	struct cli_run r;
	amber(&r, "inspect", img_a, NULL);
	/* The constructor capability: a gate in slot 25, an RPC capability;
	 * none if the checkpoint came only after construction. */
	CLI_EXPECT(&r, r.status == 0);
	bool caught = strstr(r.out, "       25 gate") != NULL;
	cli_run_free(&r);
	if (!caught || run_has(&lc.r, "cr_counter: 50 steps")) {
		live_stop(&lc);
		run_free(&lc.r);
		skip(); /* the machine was too slow to catch construction */
	}
	restore(&lc, img_a);
	LIVE_EXPECT(&lc, "cr_counter: 50 steps", 10);
	LIVE_EXPECT(&lc, "step 1: heap 1092cf99 sum 1, constructor slot free", 10);
	LIVE_EXPECT(&lc, "cr_counter: done after 50 steps, sum 1275", 10);
	LIVE_EXPECT(&lc, "core: cr_counter exited with code 0", 10);
	if (run_has(&lc.r, "constructor slot HELD") || run_has(&lc.r, "MISMATCH")) {
		run_dump(&lc.r);
		fail_msg("the constructor slot or the sum is wrong after the restore");
	}
	live_stop(&lc);
	run_free(&lc.r);
}

/* CAP1-3 and CAP4 afterwards: a checkpoint after construction has no
 * constructor capability; restored, the periodic signal wakes the
 * restored signal-handler thread (CAP3) and its handler runs in the
 * entrypoint (CAP2, the steps go on), and at the end the RPC entrypoint
 * is destroyed through its exit capability (CAP1). Checkpointed again
 * right after the restore, the semaphore IRQ is attached to the same
 * thread with the same badge as label, and every slot is as it was. */
static void caps_after_restore(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_counter_long.xml", "] step 5:");
	checkpoint(&lc, "cr_counter", img_a, false);
	struct cli_run r;
	amber(&r, "inspect", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && !strstr(r.out, "       25 gate") && strstr(r.out, "semaphore of signal source"));
	cli_run_free(&r);
	restore(&lc, img_a);
	checkpoint(&lc, "cr_counter", img_b, false);
	diff_lines(img_a, img_b, &r);
	/* The component ran on between the two: memory, registers and its
	 * threads' states may differ, and so may an IRQ's pending count (a
	 * signal submitted and not yet taken at the second cut); its
	 * capabilities and the rest of its IRQs may not. */
	for (const char *l = r.out; *l;) {
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), l);
		if (strstr(line, ": slot ") || (strstr(line, ": irq ") && !strstr(line, ": pending "))) {
			cli_run_dump(&r);
			fail_msg("a capability or IRQ differs after the restore: %s", line);
		}
		l += len + (eol != NULL);
	}
	cli_run_free(&r);
	LIVE_EXPECT(&lc, "cr_counter: done after 200 steps, sum 20100", 20);
	LIVE_EXPECT(&lc, "core: cr_counter exited with code 0", 10);
	if (run_has(&lc.r, "destroying the entrypoint failed") || run_has(&lc.r, "MISMATCH") ||
	    run_has(&lc.r, "constructor slot HELD")) {
		run_dump(&lc.r);
		fail_msg("CAP1 or the workload failed after the restore");
	}
	live_stop(&lc);
	run_free(&lc.r);
}

/* ---- errors change nothing ---------------------------------------------------- */

static void flip_byte(const char *path, long at)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char b;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

/* Copy image `from` into `to` with `change` made to its metadata (with
 * the image library, as a tool or an attacker could); change's result. */
static unsigned rewrite_image(const char *from, const char *to, unsigned (*change)(AmberImg__Image *img))
{
	AmberImg__Image *img;
	char err[512], gen[512];
	assert_int_equal(image_read(from, &img, err, sizeof(err)), 0);
	assert_int_equal(image_current(from, gen, sizeof(gen), err, sizeof(err)), 0);
	struct image_memory *mem = calloc(img->n_dataspaces + 1, sizeof(*mem));
	uint8_t **bytes = calloc(img->n_dataspaces + 1, sizeof(*bytes));
	for (size_t i = 0; i < img->n_dataspaces; i++) {
		bytes[i] = calloc(1, img->dataspaces[i]->size);
		assert_int_equal(image_read_pages(gen, img, (unsigned)i, bytes[i], err, sizeof(err)), 0);
		mem[i] = (struct image_memory){ .bytes = bytes[i], .size = img->dataspaces[i]->size };
	}
	unsigned result = change(img);
	assert_int_equal(image_write(to, img, mem, err, sizeof(err)), 0);
	for (size_t i = 0; i < img->n_dataspaces; i++)
		free(bytes[i]);
	free(bytes);
	free(mem);
	image_free(img);
	return result;
}

/* The last slot derived from core's names core's task, never a gate: the
 * object it names is gone. Returns the slot. */
static unsigned forget_object(AmberImg__Image *img)
{
	AmberImg__Component *m = img->components[0];
	AmberImg__Cap *victim = NULL;
	for (size_t i = 0; i < m->n_caps; i++)
		if (m->caps[i]->parent_task_id == img->core_task_id && m->caps[i]->kind == 3 /* gate */)
			victim = m->caps[i];
	assert_non_null(victim);
	victim->object_id = 1;
	return victim->sel;
}

/* The root's RAM quota below what its dataspaces hold. */
static unsigned shrink_quota(AmberImg__Image *img)
{
	img->components[0]->ram_quota = 4096;
	return 0;
}

/* What image_check lets through but a restore cannot use (core's
 * cr_image_validate): no first thread, an ELF segment outside the image
 * area, an attachment over the stack. */
static unsigned drop_first_thread(AmberImg__Image *img)
{
	AmberImg__Component *m = img->components[0];
	for (size_t i = 0; i < m->n_threads; i++)
		if (m->threads[i]->index == 0) {
			amber_img__thread__free_unpacked(m->threads[i], NULL);
			m->threads[i] = m->threads[--m->n_threads];
			return 0;
		}
	fail_msg("no first thread in the image");
	return 0;
}

static unsigned segment_elsewhere(AmberImg__Image *img)
{
	assert_true(img->components[0]->n_segments > 0);
	img->components[0]->segments[0]->addr = 0x70000000; /* above AMBER_IMAGE_END */
	return 0;
}

static unsigned region_over_stack(AmberImg__Image *img)
{
	AmberImg__Component *m = img->components[0];
	for (size_t i = 0; i < m->n_regions; i++)
		if (!m->regions[i]->managed_gate_id) {
			m->regions[i]->addr = 0x50000000 - 0x1000; /* the stack's last page */
			m->regions[i]->size = 0x1000;
			return 0;
		}
	fail_msg("no attachment in the image");
	return 0;
}

/* Slots spread over more leaves of the space than the component's caps
 * quota lets its task make (docs/abi.md). */
static unsigned spread_slots(AmberImg__Image *img)
{
	AmberImg__Component *m = img->components[0];
	assert_true(m->n_caps >= 2 && m->kernel_quota < 4096);
	m->caps[m->n_caps - 2]->sel = 30000;
	m->caps[m->n_caps - 1]->sel = 50000;
	return 0;
}

static void bad_images_change_nothing(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_idle.xml", "[solo] cr_idle: idle");
	checkpoint(&lc, "solo", img_a, false);
	char pages[256], meta[256];
	snprintf(pages, sizeof(pages), "%s/current/pages.bin", img_a);
	snprintf(meta, sizeof(meta), "%s/current/image.pb", img_a);
	struct stat st;
	assert_int_equal(stat(pages, &st), 0);
	flip_byte(pages, st.st_size - 100);
	struct cli_run r;
	amber(&r, "-s", lc.name, "restore", img_a, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "pages.bin") && strstr(r.err, "checksum"));
	cli_run_free(&r);
	flip_byte(pages, st.st_size - 100);
	flip_byte(meta, 40);
	amber(&r, "-s", lc.name, "restore", img_a, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "image.pb"));
	cli_run_free(&r);
	/* Well formed, but more RAM than the quota it names: refused before
	 * any of it is read into memory. */
	flip_byte(meta, 40);
	rewrite_image(img_a, img_b, shrink_quota);
	amber(&r, "-s", lc.name, "restore", img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "exceed its RAM quota"));
	cli_run_free(&r);
	struct {
		unsigned (*change)(AmberImg__Image *img);
		const char *why;
	} bad[] = {
		{ drop_first_thread, "no first thread" },
		{ segment_elsewhere, "lies outside the ELF image area" },
		{ region_over_stack, "is not attachable" },
		{ spread_slots, "its slots are in 3 leaves of 4096, its caps quota of 48 allows 2" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rewrite_image(img_a, img_b, bad[i].change);
		amber(&r, "-s", lc.name, "restore", img_b, NULL);
		CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "image.pb: component ") && strstr(r.err, bad[i].why));
		cli_run_free(&r);
	}
	/* Nobody was torn down for it: solo still runs and still answers. */
	amber(&r, "-s", lc.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "solo") && strstr(r.out, "running"));
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "checkpoint", "nosuch", img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, "no component of that name"));
	cli_run_free(&r);
	live_stop(&lc);
	run_free(&lc.r);
}

/* A crashed component rolls back to its checkpoint: killed from outside
 * after the checkpoint (reported as any crash), restored in place while
 * the rest of the system runs on, it runs to its end. */
static void restore_after_crash(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_idle.xml", "[counter] step 3:");
	checkpoint(&lc, "counter", img_a, false);
	/* Its process, named after it, a child of this amber-core. */
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "pkill -KILL -P %d -f '^\\[counter\\]$'", lc.pid);
	assert_int_equal(system(cmd), 0);
	LIVE_EXPECT(&lc, "core: counter killed", 10);
	struct cli_run r;
	amber(&r, "-s", lc.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "crashed"));
	cli_run_free(&r);
	restore(&lc, img_a);
	LIVE_EXPECT(&lc, "[counter] cr_counter: done after 50 steps, sum 1275", 10);
	LIVE_EXPECT(&lc, "core: counter exited with code 0", 10);
	live_stop(&lc);
	run_free(&lc.r);
}

/* checkpoint --rollback: when the component crashes later, core rolls it
 * back to that checkpoint by itself, reporting both, and nobody else is
 * told of the crash. */
static void rollback_policy(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_idle.xml", "[counter] step 3:");
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "--rollback", "counter", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "rolls back to it should it crash"));
	cli_run_free(&r);
	LIVE_EXPECT(&lc, "[counter] step 10:", 10);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "pkill -KILL -P %d -f '^\\[counter\\]$'", lc.pid);
	assert_int_equal(system(cmd), 0);
	LIVE_EXPECT(&lc, "core: counter crashed: killed by SIGKILL", 10);
	LIVE_EXPECT(&lc, "core: counter rolled back to its checkpoint", 10);
	LIVE_EXPECT(&lc, "[counter] cr_counter: done after 50 steps, sum 1275", 10);
	LIVE_EXPECT(&lc, "core: counter exited with code 0", 10);
	if (run_has(&lc.r, "core: counter killed")) {
		run_dump(&lc.r);
		fail_msg("the crash was reported as an end, not rolled back");
	}
	live_stop(&lc);
	run_free(&lc.r);

	/* The policy is in the image: a system booted from it rolls back too. */
	amber(&r, "inspect", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "policy: rolled back to its image should it crash"));
	cli_run_free(&r);
	static struct live_core fresh;
	if (!live_start(&fresh, NULL, img_a, NULL, "core: counter restored from", 60)) {
		run_dump(&fresh.r);
		fail_msg("amber run --restore did not bring the counter back");
	}
	snprintf(cmd, sizeof(cmd), "pkill -KILL -P %d -f '^\\[counter\\]$'", fresh.pid);
	assert_int_equal(system(cmd), 0);
	LIVE_EXPECT(&fresh, "core: counter rolled back to its checkpoint", 10);
	LIVE_EXPECT(&fresh, "[counter] cr_counter: done after 50 steps, sum 1275", 10);
	live_stop(&fresh);
	run_free(&fresh.r);
}

/* checkpoint --kill keeps the stopped server's place: a client outside
 * the image that keeps calling it waits while it is stopped (no error, no
 * answer) and, after the restore, goes on with the counter the image
 * holds, one more per call. */
static void kill_keeps_callers_waiting(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_calls.xml", "[cr_caller] cr_caller: call 5 = 5");
	checkpoint(&lc, "rpc_counter_server", img_a, true);
	int before = run_count(&lc.r, "cr_caller: call");
	struct timespec t = { 0, 400 * 1000 * 1000 };
	nanosleep(&t, NULL);
	struct cli_run r;
	amber(&r, "-s", lc.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "rpc_counter_server  stopped"));
	cli_run_free(&r);
	/* 20 periods went by: at most the call in flight at the cut was answered. */
	int during = run_count(&lc.r, "cr_caller: call");
	if (during > before + 1) {
		run_dump(&lc.r);
		fail_msg("%d calls were answered while the server was stopped", during - before);
	}
	restore(&lc, img_a);
	LIVE_EXPECT(&lc, "[cr_caller] cr_caller: call 80 = 80", 20);
	LIVE_EXPECT(&lc, "[cr_caller] done: 4 ok, 0 failed", 10);
	LIVE_EXPECT(&lc, "core: cr_caller exited with code 0", 10);
	if (run_has(&lc.r, "FAIL")) {
		run_dump(&lc.r);
		fail_msg("the client saw an error or a gap");
	}
	live_stop(&lc);
	run_free(&lc.r);
}

/* A checkpoint of a component that writes its memory all the time: its
 * pages are stored after the thaw, each page it writes meanwhile copied
 * first (core/cr_copy.c). The pause does not include storing them, some
 * pages are copied on a write, and the restored memory is the memory of
 * one moment: cr_writer checks every page before it writes it again. */
static void copy_on_write_is_consistent(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_writer.xml", "[cr_writer] cr_writer: step 16384, memory consistent");
	/* Whether it wrote while its pages were stored depends on the
	 * scheduler (two CPUs, core storing on one): up to five tries. */
	struct cli_run r;
	unsigned long pages = 0;
	for (int tries = 0; tries < 5 && pages == 0; tries++) {
		amber(&r, "-s", lc.name, "checkpoint", "cr_writer", img_a, NULL);
		CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "checkpointed") && strstr(r.out, "copied on a write"));
		const char *cow = strstr(r.out, "ms, ");
		pages = cow ? strtoul(cow + 4, NULL, 10) : 0;
		cli_run_free(&r);
	}
	if (pages == 0)
		fail_msg("no page was copied on a write in five checkpoints");
	restore(&lc, img_a);
	LIVE_EXPECT(&lc, "[cr_writer] cr_writer: done", 30);
	LIVE_EXPECT(&lc, "core: cr_writer exited with code 0", 10);
	if (run_has(&lc.r, "FAIL")) {
		run_dump(&lc.r);
		fail_msg("the restored memory was not the memory of one moment");
	}
	live_stop(&lc);
	run_free(&lc.r);
}

/* ---- incremental checkpoints ------------------------------------------------- */

static void checkpoint_on(struct live_core *lc, const char *name, const char *parent, const char *dir)
{
	struct cli_run r;
	amber(&r, "-s", lc->name, "checkpoint", "--parent", parent, name, dir, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "; incremental: "));
	cli_run_free(&r);
}

static long long pages_bytes(const char *dir)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/current/pages.bin", dir);
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* Idle components write nothing between two checkpoints: against the
 * first, the second stores little beyond the UTCB areas (core's, always
 * whole), and its memory read through the chain is the first's, byte for
 * byte, in every dataspace of init and its children. */
static void incremental_stores_what_was_written(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_idle.xml", "[init -> idle_b] cr_idle: idle");
	/* "idle" is printed just before its threads block: until two full
	 * images agree, they may still be on the way. */
	struct cli_run r;
	checkpoint(&lc, "init", img_c, false);
	for (int tries = 0;; tries++) {
		harness_remove_tree(img_a);
		checkpoint(&lc, "init", img_a, false);
		bool same = diff_lines(img_c, img_a, &r) == 0;
		cli_run_free(&r);
		if (same)
			break;
		if (tries == 10)
			fail_msg("init and its children do not come to rest");
		harness_remove_tree(img_c);
		checkpoint(&lc, "init", img_c, false);
	}
	checkpoint_on(&lc, "init", img_a, img_b);
	long long full = pages_bytes(img_a), incr = pages_bytes(img_b);
	if (full <= 0 || incr <= 0 || incr * 4 > full)
		fail_msg("pages.bin: %lld bytes in full, %lld against it", full, incr);
	if (diff_lines(img_a, img_b, &r) != 0) {
		cli_run_dump(&r);
		fail_msg("the incremental image differs from the full one");
	}
	cli_run_free(&r);
	amber(&r, "inspect", img_b, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "  parent ") && strstr(r.out, ", full\n") &&
			       strstr(r.out, "over parent dataspace"));
	cli_run_free(&r);
	/* Against an image that is not its last checkpoint: stored whole. */
	harness_remove_tree(img_c);
	amber(&r, "-s", lc.name, "checkpoint", "--parent", img_a, "init", img_c, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "stored whole"));
	cli_run_free(&r);
	live_stop(&lc);
	run_free(&lc.r);
}

/* A component that writes all the time (cr_writer checks every page
 * before it writes it again): a chain of three images restores to the
 * memory of one moment, in place and merged into one; a chain with a
 * parent gone is refused, naming it, and the component runs on. An idle
 * component keeps the system up should cr_writer finish before the
 * restore (a slow machine, the sanitizers): the restore brings it back
 * then too. */
static void incremental_chain_restores(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_writer_idle.xml", "[cr_writer] cr_writer: step 16384, memory consistent");
	checkpoint(&lc, "cr_writer", img_a, false);
	checkpoint_on(&lc, "cr_writer", img_a, img_b);
	checkpoint_on(&lc, "cr_writer", img_b, img_c);
	struct cli_run r;
	amber(&r, "inspect", img_c, NULL);
	const char *second = r.out ? strstr(r.out, "  parent ") : NULL;
	CLI_EXPECT(&r, r.status == 0 && second && strstr(second + 1, "  parent ") && strstr(r.out, ", full\n"));
	cli_run_free(&r);
	amber(&r, "merge", img_c, img_m, NULL);
	CLI_EXPECT(&r, r.status == 0);
	cli_run_free(&r);
	if (diff_lines(img_c, img_m, &r) != 0) {
		cli_run_dump(&r);
		fail_msg("the merged image differs from its chain");
	}
	cli_run_free(&r);

	char moved[160];
	snprintf(moved, sizeof(moved), "%s.moved", img_a);
	if (rename(img_a, moved) < 0)
		fail_msg("rename %s: %s", img_a, strerror(errno));
	amber(&r, "-s", lc.name, "restore", img_c, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, img_a) && strstr(r.err, "parent image"));
	cli_run_free(&r);
	if (rename(moved, img_a) < 0)
		fail_msg("rename %s: %s", moved, strerror(errno));

	restore(&lc, img_c);
	LIVE_EXPECT(&lc, "[cr_writer] cr_writer: done", 30);
	LIVE_EXPECT(&lc, "core: cr_writer exited with code 0", 10);
	if (run_has(&lc.r, "FAIL")) {
		run_dump(&lc.r);
		fail_msg("the memory restored from the chain was not the memory of one moment");
	}
	live_stop(&lc);
	run_free(&lc.r);
}

/* checkpoint --every: chains of --chain images, a full one first; a chain
 * before the previous one goes once a new one has begun, and what is left
 * restores. */
static void periodic_checkpoints(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_idle.xml", "[init -> idle_b] cr_idle: idle");
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "--every", "20ms", "--chain", "3", "--count", "7", "solo", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0);
	int lines = 0, full = 0;
	for (const char *p = r.out; (p = strstr(p, "/ckpt-")); p++) {
		const char *eol = strchr(p, '\n');
		lines++;
		full += eol && eol - p > 6 && !strncmp(eol - 6, ", full", 6);
	}
	if (lines != 7 || full != 3) {
		cli_run_dump(&r);
		fail_msg("%d checkpoints, %d full: want 7 and 3 (chains of 3)", lines, full);
	}
	cli_run_free(&r);
	char p[256];
	struct stat st;
	for (int n = 1; n <= 7; n++) {
		snprintf(p, sizeof(p), "%s/ckpt-%06d", img_a, n);
		if ((stat(p, &st) == 0) != (n >= 4))
			fail_msg("%s: %s", p, n >= 4 ? "missing" : "should have been removed");
	}
	snprintf(p, sizeof(p), "%s/ckpt-000006", img_a);
	restore(&lc, p); /* through ckpt-000005 and ckpt-000004 */
	live_stop(&lc);
	run_free(&lc.r);
}

/* checkpoint --hold-output: from that cut on, the counter's lines are
 * printed only once a later checkpoint has committed; a rollback to the
 * last image throws away what it held, and the restored run prints those
 * steps again; `amber release` lets the rest out. So every step is
 * printed exactly once, in order, although the run went back in time
 * (without holding, the steps between the image and the rollback would be
 * printed twice). */
static void held_output_is_never_repeated(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_counter_endless.xml", "] step 5:");
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "--hold-output", "cr_counter", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "held until the next checkpoint"));
	cli_run_free(&r);
	live_wait_for(&lc, "cr_counter: done", 1); /* what was printed before the cut comes in */
	int held = run_count(&lc.r, "[cr_counter] step ");
	live_wait_for(&lc, "cr_counter: done", 1);
	assert_int_equal(run_count(&lc.r, "[cr_counter] step "), held);
	checkpoint(&lc, "cr_counter", img_b, false); /* the policy stays: lines up to here go out */
	if (!live_wait_count(&lc, "[cr_counter] step ", held + 1, 10)) {
		run_dump(&lc.r);
		fail_msg("the lines held before the second checkpoint were not printed after it");
	}
	live_wait_for(&lc, "cr_counter: done", 1);
	restore(&lc, img_b);
	live_wait_for(&lc, "cr_counter: done", 1);
	checkpoint(&lc, "cr_counter", img_c, false);
	amber(&r, "-s", lc.name, "release", "cr_counter", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "no longer held"));
	cli_run_free(&r);
	int printed = run_count(&lc.r, "[cr_counter] step ");
	if (!live_wait_count(&lc, "[cr_counter] step ", printed + 5, 10)) {
		run_dump(&lc.r);
		fail_msg("no lines after the release");
	}
	live_stop(&lc);
	/* Steps 1, 2, ... each once, in order, with none missing. */
	unsigned want = 1;
	for (const char *p = lc.r.output; (p = strstr(p, "[cr_counter] step ")); p++) {
		unsigned k = (unsigned)strtoul(p + strlen("[cr_counter] step "), NULL, 10);
		if (k != want) {
			run_dump(&lc.r);
			fail_msg("step %u printed where step %u should be", k, want);
		}
		want++;
	}
	assert_true(want > (unsigned)printed + 5);
	run_free(&lc.r);
}

/* An image whose slot names an object that no longer exists: a restore
 * refuses it and changes nothing; restore --partial restores the rest,
 * leaves that slot empty and says which it was. (The image is altered with
 * the image library, as a component holding a capability to an outside
 * object that ended would have it.) */
static void partial_restore(void **state)
{
	(void)state;
	static struct live_core lc; /* the harness keeps it in a list: it must outlive a failed check */
	up(&lc, "scenarios/cr_idle.xml", "[solo] cr_idle: idle");
	checkpoint(&lc, "solo", img_a, false);
	/* The last slot derived from core's: now it names an object that is gone. */
	unsigned sel = rewrite_image(img_a, img_b, forget_object);
	char slot[32];
	snprintf(slot, sizeof(slot), "slot %u", sel);

	struct cli_run r;
	amber(&r, "-s", lc.name, "restore", img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.err, slot) && strstr(r.err, "gone"));
	cli_run_free(&r);
	amber(&r, "-s", lc.name, "restore", "--partial", img_b, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "not restored (--partial)") && strstr(r.out, slot));
	cli_run_free(&r);
	/* Every other slot came back: the original image differs in that slot
	 * only (the component may have noticed the empty slot since, so its
	 * threads and memory are not compared). */
	harness_remove_tree(img_b);
	checkpoint(&lc, "solo", img_b, false);
	amber(&r, "diff", img_a, img_b, NULL);
	CLI_EXPECT(&r, r.status == 1 && strstr(r.out, slot));
	char line[128];
	snprintf(line, sizeof(line), "component solo: %s: only in the first image", slot);
	int slots = 0;
	for (const char *p = r.out; (p = strstr(p, ": slot ")); p++)
		slots++;
	CLI_EXPECT(&r, strstr(r.out, line) && slots == 1);
	cli_run_free(&r);
	live_stop(&lc);
	run_free(&lc.r);
}

/* Genode names have dots ("bomb_g5.1"): a child so named runs, and the
 * amber command's path naming ("init/idle.a") reaches it for a
 * checkpoint and a restore. */
static void dotted_child_names(void **state)
{
	(void)state;
	char path[sizeof(img_b) + 8];
	snprintf(path, sizeof(path), "%s.xml", img_b);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("<scenario>\n"
	      "  <component name=\"init\" caps=\"200\" ram=\"4M\"><config>\n"
	      "    <default-route><any-service><parent/></any-service></default-route>\n"
	      "    <start name=\"idle.a\" caps=\"48\" ram=\"1M\"><binary name=\"cr_idle\"/></start>\n"
	      "  </config></component>\n"
	      "</scenario>\n",
	      f);
	fclose(f);
	static struct live_core lc;
	up(&lc, path, "[init -> idle.a] cr_idle: idle");
	struct cli_run r;
	amber(&r, "-s", lc.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "idle.a"));
	cli_run_free(&r);
	checkpoint(&lc, "init/idle.a", img_a, true);
	restore(&lc, img_a);
	live_stop(&lc);
	unlink(path);
	EXPECT_NOT(&lc.r, "FAIL");
	run_free(&lc.r);
}

/* Two threads' unfinished LOG lines go into the image, each with its
 * thread, and each goes on after a restore with its own thread's rest
 * (components/cr_log_halves). */
static void unfinished_lines_per_thread(void **state)
{
	(void)state;
	char path[sizeof(img_b) + 8];
	snprintf(path, sizeof(path), "%s.xml", img_b);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("<scenario>\n  <component name=\"halves\" binary=\"cr_log_halves\" caps=\"64\" ram=\"2M\"/>\n</scenario>\n", f);
	fclose(f);
	static struct live_core lc;
	up(&lc, path, "[halves] halves written");
	checkpoint(&lc, "halves", img_a, true);
	struct cli_run r;
	amber(&r, "inspect", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "\"first thread: first half, \"") &&
			       strstr(r.out, "\"second thread: first half, \""));
	cli_run_free(&r);
	restore(&lc, img_a);
	LIVE_EXPECT(&lc, "[halves] halves: done", 20);
	live_stop(&lc);
	unlink(path);
	EXPECT(&lc.r, "[halves] first thread: first half, first rest");
	EXPECT(&lc.r, "[halves] second thread: first half, second rest");
	EXPECT_NOT(&lc.r, "[halves] first rest");
	EXPECT_NOT(&lc.r, "[halves] second rest");
	run_free(&lc.r);
}

/* Destroyed threads take no space in a checkpoint: after 513 threads were
 * destroyed, the image of components/test_thread_destroy holds its first
 * thread and the two it kept, and so does one taken after a restore. */
static void destroyed_threads_are_not_saved(void **state)
{
	(void)state;
	char path[sizeof(img_b) + 8];
	snprintf(path, sizeof(path), "%s.xml", img_b);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("<scenario>\n  <component name=\"td\" binary=\"test_thread_destroy\" caps=\"64\" ram=\"32M\"/>\n</scenario>\n",
	      f);
	fclose(f);
	static struct live_core lc;
	/* 1000 thread creations and ends: slow under ASan on a busy machine */
	if (!live_start(&lc, path, NULL, NULL, NULL, 300)) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	LIVE_EXPECT(&lc, "[td] destroyed: idle", 240);
	EXPECT(&lc.r, "[td] done: 20 ok, 0 failed");
	/* The sleeping thread it destroyed left its Timer session with a
	 * one-shot of up to 1 s pending. Restored, it would fire between the
	 * restore and the second checkpoint (its signal reaches the first
	 * thread's wait, a UTCB changes) and the images differ rightly: let
	 * it fire first. */
	usleep(1500 * 1000);
	checkpoint(&lc, "td", img_a, true);
	struct cli_run r;
	amber(&r, "inspect", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "threads (3):"));
	cli_run_free(&r);
	restore(&lc, img_a);
	checkpoint(&lc, "td", img_b, false);
	int n = diff_lines(img_a, img_b, &r);
	if (n != 0) {
		cli_run_dump(&r);
		fail_msg("restored and checkpointed again, %d differences", n);
	}
	cli_run_free(&r);
	live_stop(&lc);
	unlink(path);
	run_free(&lc.r);
}

/* _Thread_local values survive a checkpoint --kill and a restore mid-run:
 * every thread's TLS block is memory of the component and its fs base a
 * register of the thread, so each thread finds its own copies again. The
 * workload's lines after the restore are a function of the round alone. */
static void thread_local_storage_survives(void **state)
{
	(void)state;
	char path[sizeof(img_b) + 8];
	snprintf(path, sizeof(path), "%s.xml", img_b);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("<scenario>\n  <component name=\"test_tls\" caps=\"48\" ram=\"2M\">\n"
	      "    <config><tls rounds=\"100\"/></config>\n  </component>\n</scenario>\n",
	      f);
	fclose(f);
	static struct live_core lc;
	if (!live_start(&lc, path, NULL, NULL, NULL, 120)) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	LIVE_EXPECT(&lc, "tls: round 5 main 500 ", 60);
	checkpoint(&lc, "test_tls", img_a, true);
	restore(&lc, img_a);
	LIVE_EXPECT(&lc, "tls: round 100 main 10000 worker0 100102000 worker1 200102001 worker2 300102002", 90);
	LIVE_EXPECT(&lc, "core: test_tls exited with code 0", 30);
	EXPECT(&lc.r, "[test_tls] done: 8 ok, 0 failed");
	EXPECT_NOT(&lc.r, "FAIL");
	live_stop(&lc);
	unlink(path);
	run_free(&lc.r);
}

/* A thread bound to a CPU (CPU session AFFINITY) is bound there again
 * after a checkpoint --kill and a restore: the image keeps the location,
 * and the restored Linux threads, which start unbound, are placed before
 * they run. The workload reads the binding back from Linux every round. */
static void thread_affinity_survives(void **state)
{
	(void)state;
	cpu_set_t cpus;
	assert_int_equal(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	unsigned last = (unsigned)CPU_COUNT(&cpus) - 1; /* amber-core inherits the mask */
	char path[sizeof(img_b) + 8], want[96], bound[64];
	snprintf(path, sizeof(path), "%s.xml", img_b);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("<scenario>\n  <component name=\"test_affinity\" caps=\"32\" ram=\"1M\">\n"
	      "    <config><affinity rounds=\"80\"/></config>\n  </component>\n</scenario>\n",
	      f);
	fclose(f);
	static struct live_core lc;
	if (!live_start(&lc, path, NULL, NULL, NULL, 120)) {
		run_dump(&lc.r);
		fail_msg("amber-core did not come up");
	}
	snprintf(want, sizeof(want), "affinity: round 5 main 0/0 worker %u/%u", last, last);
	LIVE_EXPECT(&lc, want, 60);
	checkpoint(&lc, "test_affinity", img_a, true);
	struct cli_run r;
	snprintf(bound, sizeof(bound), "bound to CPU location %u", last);
	amber(&r, "inspect", img_a, NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, bound) && strstr(r.out, "bound to CPU location 0"));
	cli_run_free(&r);
	restore(&lc, img_a);
	snprintf(want, sizeof(want), "affinity: round 80 main 0/0 worker %u/%u", last, last);
	LIVE_EXPECT(&lc, want, 90);
	LIVE_EXPECT(&lc, "core: test_affinity exited with code 0", 30);
	EXPECT(&lc.r, "[test_affinity] done: 8 ok, 0 failed");
	EXPECT_NOT(&lc.r, "MISPLACED");
	EXPECT_NOT(&lc.r, "FAIL");
	live_stop(&lc);
	unlink(path);
	run_free(&lc.r);
}

int main(void)
{
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	if (getenv("AMBER_TEST_FILTER")) /* one test by name (a glob), while working on it */
		cmocka_set_test_filter(getenv("AMBER_TEST_FILTER"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(restore_is_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(cap4_during_construction, setup, teardown),
		cmocka_unit_test_setup_teardown(caps_after_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_images_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(restore_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(partial_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(rollback_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(kill_keeps_callers_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_on_write_is_consistent, setup, teardown),
		cmocka_unit_test_setup_teardown(incremental_stores_what_was_written, setup, teardown),
		cmocka_unit_test_setup_teardown(incremental_chain_restores, setup, teardown),
		cmocka_unit_test_setup_teardown(periodic_checkpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(held_output_is_never_repeated, setup, teardown),
		cmocka_unit_test_setup_teardown(dotted_child_names, setup, teardown),
		cmocka_unit_test_setup_teardown(unfinished_lines_per_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(destroyed_threads_are_not_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(thread_local_storage_survives, setup, teardown),
		cmocka_unit_test_setup_teardown(thread_affinity_survives, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
