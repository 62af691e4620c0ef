/*
 * The checkpoint image library on a synthetic image: three components
 * with threads, sessions, capabilities, attachments and signal objects,
 * and dataspaces that are sparse, all zero, without bytes (NULL) or
 * managed. It is written, read back and compared; written again over
 * itself; and then damaged on disk in the ways a disk or a careless copy
 * damages files, each of which image_read or image_read_pages must refuse
 * with a message that names the file and the record. Finally inspect and
 * diff, whose output other tools read.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "image/image.h"
#include "image/inspect.h"
#include "image/internal.h"

#define PAGE 4096u

/* ---- a synthetic image -------------------------------------------------- */

/* Dataspaces, by index. */
enum {
	DS_SEG_ROOT, DS_STACK_ROOT, DS_UTCB_ROOT, /* init -> hello */
	DS_SEG_W, DS_STACK_W, DS_UTCB_W,          /* init -> hello -> worker */
	DS_SEG_L, DS_STACK_L, DS_UTCB_L,          /* init -> hello -> logger */
	DS_SPARSE,                                /* RAM, non-zero runs at pages 1-2, 5, 15 */
	DS_ZERO,                                  /* RAM, every byte zero */
	DS_NULL,                                  /* RAM, given as NULL bytes */
	DS_ROM,                                   /* the ROM session's copy of "config" */
	DS_MANAGED,                               /* a managed dataspace: no bytes of its own */
	NDS
};

struct fixture {
	AmberImg__Image *img;
	struct image_memory mem[NDS];
	uint8_t *bytes[NDS];
	char dir[64];
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	assert_non_null(p);
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	assert_non_null(p);
	return p;
}

/* Everything malloc'd, so that image_free (protobuf-c's free_unpacked
 * with the default allocator) frees a built image as it frees a read one. */
static void *dup_init(const void *init, size_t size)
{
	void *p = xcalloc(1, size);
	memcpy(p, init, size);
	return p;
}
#define NEW(type, init) ((type *)dup_init(&(type)init, sizeof(type)))
#define ARRAY(msg, field, n) ((msg)->n_##field = (n), (msg)->field = xcalloc((n), sizeof(*(msg)->field)))

static AmberImg__Dataspace *dataspace(unsigned kind, uint64_t size, uint32_t owner, uint64_t gate, bool w,
				      uint32_t session, const char *name)
{
	AmberImg__Dataspace *d = NEW(AmberImg__Dataspace, AMBER_IMG__DATASPACE__INIT);
	d->kind = (AmberImg__DataspaceKind)kind;
	d->size = size;
	d->owner = owner;
	d->gate_id = gate;
	d->writable = w;
	d->session = session;
	d->name = xstrdup(name);
	return d;
}

static AmberImg__Cap *cap(uint32_t sel, uint32_t kind, uint64_t obj, uint64_t badge, uint32_t rights,
			  uint64_t ptask, uint32_t psel)
{
	AmberImg__Cap *c = NEW(AmberImg__Cap, AMBER_IMG__CAP__INIT);
	c->sel = sel;
	c->kind = kind;
	c->object_id = obj;
	c->badge = badge;
	c->rights = rights;
	c->parent_task_id = ptask;
	c->parent_sel = psel;
	return c;
}

static AmberImg__Thread *thread(uint32_t index, uint64_t obj, uint32_t session, uint32_t ipc_state)
{
	AmberImg__Thread *t = NEW(AmberImg__Thread, AMBER_IMG__THREAD__INIT);
	t->index = index;
	t->object_id = obj;
	t->name = xstrdup(index ? "worker" : "main");
	t->run_state = AMBER_IMG__RUN_STATE__RUNNING;
	struct user_regs_struct regs = { .rip = 0x10001000 + index, .rsp = 0x7fff0000 - index * 0x1000 };
	t->gp_regs.len = sizeof(regs);
	t->gp_regs.data = xcalloc(1, sizeof(regs));
	memcpy(t->gp_regs.data, &regs, sizeof(regs));
	t->xstate.len = 512;
	t->xstate.data = xcalloc(1, 512);
	t->xstate.data[0] = (uint8_t)(0x7f + index);
	t->ipc = NEW(AmberImg__ThreadIpc, AMBER_IMG__THREAD_IPC__INIT);
	t->ipc->state = ipc_state;
	t->ipc->remaining_us = ipc_state == 3 ? 250000 : UINT64_MAX;
	ARRAY(t->ipc, msg_mr, 2);
	t->ipc->msg_mr[0] = 42;
	t->fault = NEW(AmberImg__Fault, AMBER_IMG__FAULT__INIT);
	t->session = session;
	t->started = true;
	return t;
}

static AmberImg__Session *session(uint32_t kind, uint64_t gate)
{
	AmberImg__Session *s = NEW(AmberImg__Session, AMBER_IMG__SESSION__INIT);
	s->kind = kind;
	s->gate_id = gate;
	return s;
}

/* A small component: task, factory, one thread, its segment, stack and UTCBs. */
static AmberImg__Component *component(uint32_t id, const char *name, uint32_t parent, uint64_t obj,
				      unsigned ds_base)
{
	AmberImg__Component *c = NEW(AmberImg__Component, AMBER_IMG__COMPONENT__INIT);
	c->id = id;
	c->name = xstrdup(name);
	c->binary = xstrdup(strrchr(name, ' ') + 1);
	c->parent_id = parent;
	c->kernel_quota = 64;
	c->ram_quota = 1 << 20;
	c->task_id = obj;
	c->factory_id = obj + 1;
	c->factory_quota = 64;
	c->parent_gate_id = obj + 2;
	c->log_gate_id = 7;
	ARRAY(c, caps, 5);
	c->caps[0] = cap(1, 1, obj, 0, 7, 1, 100 + id);
	c->caps[1] = cap(2, 2, obj + 3, 0, 7, 1, 101 + id);
	c->caps[2] = cap(3, 5, obj + 1, 0, 7, 1, 102 + id);
	c->caps[3] = cap(4, 3, obj + 2, 0x40 + id, 5, 1, 103 + id);
	c->caps[4] = cap(5, 3, 7, 0x10, 5, 1, 9);
	ARRAY(c, threads, 1);
	c->threads[0] = thread(0, obj + 3, 0, 3);
	ARRAY(c, segments, 1);
	c->segments[0] = NEW(AmberImg__Segment, AMBER_IMG__SEGMENT__INIT);
	c->segments[0]->dataspace = ds_base;
	c->segments[0]->addr = 0x10000000;
	c->segments[0]->size = 2 * PAGE;
	c->segments[0]->prot = 5;
	c->stack = ds_base + 1;
	c->utcbs = ds_base + 2;
	c->config.len = 5;
	c->config.data = (uint8_t *)xstrdup("<c/>\n");
	c->log_line.len = 3;
	c->log_line.data = (uint8_t *)xstrdup("hal");
	c->log_lines = 12;
	return c;
}

/* The root, init -> hello, has everything else: sessions of every kind, a
 * second thread, RAM, ROM and managed dataspaces, attachments, signal
 * objects, an RPC capability, a service, a pending request and children. */
static void build_root(AmberImg__Component *c)
{
	ARRAY(c, sessions, 5);
	c->sessions[0] = session(0, 200); /* PD */
	c->sessions[1] = session(1, 201); /* CPU */
	c->sessions[2] = session(2, 202); /* RM */
	c->sessions[3] = session(3, 203); /* ROM */
	c->sessions[3]->rom = NEW(AmberImg__RomSession, AMBER_IMG__ROM_SESSION__INIT);
	c->sessions[3]->rom->module = xstrdup("config");
	c->sessions[3]->rom->config = true;
	c->sessions[3]->rom->version = 1;
	c->sessions[3]->rom->dataspace = DS_ROM;
	c->sessions[3]->rom->size = 5;
	c->sessions[4] = session(4, 204); /* Timer */
	c->sessions[4]->timer = NEW(AmberImg__TimerSession, AMBER_IMG__TIMER_SESSION__INIT);
	c->sessions[4]->timer->elapsed_us = 123456;
	c->sessions[4]->timer->context_id = 230;
	c->sessions[4]->timer->period_us = 100000;
	c->sessions[4]->timer->scheduled = true;
	c->sessions[4]->timer->remaining_us = 40000;

	AmberImg__Thread **t = realloc(c->threads, 2 * sizeof(*t));
	assert_non_null(t);
	c->threads = t;
	c->threads[1] = thread(1, 210, 1, 0);
	c->n_threads = 2;

	/* caps 16..: an RPC gate, a RAM dataspace, a signal source and its
	 * semaphore, a signal context and a factory-made IRQ */
	AmberImg__Cap **caps = realloc(c->caps, 11 * sizeof(*caps));
	assert_non_null(caps);
	c->caps = caps;
	c->caps[5] = cap(16, 3, 220, 0x99, 7, 1, 40);
	c->caps[6] = cap(17, 3, 221, 0x31, 5, 1, 41);
	c->caps[7] = cap(18, 3, 222, 0x32, 1, 1, 42);
	c->caps[8] = cap(19, 4, 223, 0x32, 1, 1, 43);
	c->caps[9] = cap(20, 3, 230, 0x33, 5, 1, 44);
	c->caps[10] = cap(21, 4, 240, 0, 3, 10, 3); /* derived from slot 3 (factory) of its own task */
	c->n_caps = 11;

	ARRAY(c, objects, 1);
	c->objects[0] = NEW(AmberImg__KernelObject, AMBER_IMG__KERNEL_OBJECT__INIT);
	c->objects[0]->id = 240;
	c->objects[0]->kind = 4;
	c->objects[0]->charged_factory_id = 11;
	ARRAY(c, irqs, 1);
	c->irqs[0] = NEW(AmberImg__IrqState, AMBER_IMG__IRQ_STATE__INIT);
	c->irqs[0]->irq_id = 223;
	c->irqs[0]->attached_thread_id = 210;
	c->irqs[0]->label = 0x32;

	ARRAY(c, regions, 3);
	for (unsigned k = 0; k < 3; k++)
		c->regions[k] = NEW(AmberImg__Region, AMBER_IMG__REGION__INIT);
	c->regions[0]->dataspace = DS_SPARSE;
	c->regions[0]->addr = 0x20000000;
	c->regions[0]->size = 16 * PAGE;
	c->regions[0]->flags = 1;
	c->regions[0]->session = 2;
	c->regions[1]->dataspace = DS_MANAGED;
	c->regions[1]->addr = 0x21000000;
	c->regions[1]->size = 4 * PAGE;
	c->regions[1]->session = 2;
	c->regions[2]->dataspace = DS_ZERO;          /* inside the managed map */
	c->regions[2]->addr = PAGE;
	c->regions[2]->size = PAGE;
	c->regions[2]->session = 2;
	c->regions[2]->managed_gate_id = 250;
	ARRAY(c, managed, 1);
	c->managed[0] = NEW(AmberImg__Managed, AMBER_IMG__MANAGED__INIT);
	c->managed[0]->gate_id = 250;
	c->managed[0]->dataspace = DS_MANAGED;
	c->managed[0]->size = 4 * PAGE;
	c->managed[0]->session = 2;

	ARRAY(c, rpc_caps, 1);
	c->rpc_caps[0] = NEW(AmberImg__RpcCap, AMBER_IMG__RPC_CAP__INIT);
	c->rpc_caps[0]->gate_id = 220;
	c->rpc_caps[0]->badge = 0x99;
	c->rpc_caps[0]->thread_id = 210;
	ARRAY(c, signal_sources, 1);
	c->signal_sources[0] = NEW(AmberImg__SignalSource, AMBER_IMG__SIGNAL_SOURCE__INIT);
	c->signal_sources[0]->gate_id = 222;
	c->signal_sources[0]->badge = 0x32;
	c->signal_sources[0]->irq_id = 223;
	c->signal_sources[0]->thread_id = 210;
	ARRAY(c, signal_contexts, 1);
	c->signal_contexts[0] = NEW(AmberImg__SignalContext, AMBER_IMG__SIGNAL_CONTEXT__INIT);
	c->signal_contexts[0]->gate_id = 230;
	c->signal_contexts[0]->badge = 0x33;
	c->signal_contexts[0]->source_gate_id = 222;
	c->signal_contexts[0]->imprint = 0xfeed;
	c->signal_contexts[0]->count = 2;
	ARRAY(c, services, 1);
	c->services[0] = NEW(AmberImg__Service, AMBER_IMG__SERVICE__INIT);
	c->services[0]->name = xstrdup("Hello");
	c->services[0]->gate_id = 260;
	c->services[0]->from_sel = 16;
	ARRAY(c, pending, 1);
	c->pending[0] = NEW(AmberImg__PendingSession, AMBER_IMG__PENDING_SESSION__INIT);
	c->pending[0]->name = xstrdup("Timer");
	c->pending[0]->thread_id = 12;
	ARRAY(c, children, 2);
	for (unsigned k = 0; k < 2; k++) {
		c->children[k] = NEW(AmberImg__Child, AMBER_IMG__CHILD__INIT);
		c->children[k]->gate_id = 270 + k;
		c->children[k]->child_id = 3 + k;
	}
	c->ndataspaces = 3;
	c->ram_used = 18 * PAGE;
}

static uint8_t *pages(unsigned n)
{
	void *p = NULL;
	assert_int_equal(posix_memalign(&p, PAGE, n * PAGE), 0);
	memset(p, 0, n * PAGE);
	return p;
}

static void build(struct fixture *f)
{
	AmberImg__Image *img = NEW(AmberImg__Image, AMBER_IMG__IMAGE__INIT);
	f->img = img;
	img->format_version = IMAGE_FORMAT_VERSION;
	img->root = xstrdup("init -> hello");
	img->cut_time_us = 5000000;
	img->wall_time_s = 1790000000;
	img->core_task_id = 1;
	img->next_object_id = 1000;
	img->next_badge = 0x100;
	img->next_component_id = 5;
	img->scenario_dir = xstrdup("build/components");
	img->xstate_size = 512;
	ARRAY(img, components, 3);
	img->components[0] = component(2, "init -> hello", 1, 10, DS_SEG_ROOT);
	img->components[1] = component(3, "init -> hello -> worker", 2, 20, DS_SEG_W);
	img->components[2] = component(4, "init -> hello -> logger", 2, 30, DS_SEG_L);
	build_root(img->components[0]);

	ARRAY(img, dataspaces, NDS);
	static const char *comp_names[] = { "hello", "worker", "logger" };
	for (unsigned k = 0; k < 3; k++) {
		char n[32];
		snprintf(n, sizeof(n), "elf0:%s", comp_names[k]);
		img->dataspaces[3 * k] = dataspace(0, 2 * PAGE, 2 + k, 0, false, 0, n);
		img->dataspaces[3 * k + 1] = dataspace(1, 4 * PAGE, 2 + k, 0, true, 0, "stack");
		img->dataspaces[3 * k + 2] = dataspace(2, 2 * PAGE, 2 + k, 0, true, 0, "utcb");
	}
	img->dataspaces[DS_SPARSE] = dataspace(3, 16 * PAGE, 2, 221, true, 1, "ram:init -> hello");
	img->dataspaces[DS_ZERO] = dataspace(3, 2 * PAGE, 2, 224, true, 1, "ram:zero");
	img->dataspaces[DS_NULL] = dataspace(3, 3 * PAGE, 3, 225, true, 0, "ram:null");
	img->dataspaces[DS_ROM] = dataspace(4, PAGE, 0, 226, false, 0, "rom:config");
	img->dataspaces[DS_MANAGED] = dataspace(5, 4 * PAGE, 0, 227, false, 0, "managed");

	unsigned npages[NDS] = { 2, 4, 2, 2, 4, 2, 2, 4, 2, 16, 2, 3, 1, 4 };
	for (unsigned i = 0; i < NDS; i++) {
		f->mem[i].size = npages[i] * PAGE;
		if (i == DS_NULL || i == DS_MANAGED)
			continue;
		f->bytes[i] = pages(npages[i]);
		f->mem[i].bytes = f->bytes[i];
		if (i == DS_ZERO)
			continue;
		/* a recognizable first page; the stacks use their last page, as stacks do */
		uint8_t *p = f->bytes[i] + (i == DS_STACK_ROOT ? 3 * PAGE : 0);
		snprintf((char *)p, PAGE, "dataspace %u", i);
	}
	uint8_t *s = f->bytes[DS_SPARSE];
	memset(s, 0, PAGE); /* page 0 zero; runs 1-2, 5, 15 */
	s[1 * PAGE + 7] = 1;
	s[2 * PAGE + 4095] = 2;
	s[5 * PAGE] = 3;
	s[15 * PAGE + 100] = 4;
	memcpy(f->bytes[DS_ROM], "<c/>\n", 5);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/amber-test-image-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	build(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	image_free(f->img);
	for (unsigned i = 0; i < NDS; i++)
		free(f->bytes[i]);
	free(f);
	return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static char err[1024];

static void write_ok(struct fixture *f, const char *dir)
{
	if (image_write(dir, f->img, f->mem, err, sizeof(err)) != 0)
		fail_msg("image_write: %s", err);
}

static AmberImg__Image *read_ok(const char *dir)
{
	AmberImg__Image *img = NULL;
	if (image_read(dir, &img, err, sizeof(err)) != 0)
		fail_msg("image_read: %s", err);
	return img;
}

/* image_read fails, and err is `prefix` (the file) followed by `what`. */
static void read_fails(const char *dir, const char *file, const char *what)
{
	AmberImg__Image *img = NULL;
	err[0] = '\0';
	assert_int_equal(image_read(dir, &img, err, sizeof(err)), -1);
	assert_null(img);
	char want[512];
	snprintf(want, sizeof(want), "%s/gen-000001/%s: ", dir, file);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
		fail_msg("got \"%s\", expected \"%s...%s...\"", err, want, what);
}

static void expect_err(const char *what)
{
	if (!strstr(err, what))
		fail_msg("got \"%s\", expected \"...%s...\"", err, what);
}

static void path_of(char *out, size_t len, const struct fixture *f, const char *file)
{
	snprintf(out, len, "%s/gen-000001/%s", f->dir, file);
}

static long file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

static void flip_byte(const char *path, long off)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void put_u32(const char *path, long off, uint32_t v)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	assert_int_equal(pwrite(fd, b, 4, off), 4);
	close(fd);
}

/* Replace image.pb by `img` with a correct header: what a buggy writer
 * would produce, for the checks beyond the checksum. */
static void rewrite_meta(const struct fixture *f, const AmberImg__Image *img)
{
	char path[512];
	path_of(path, sizeof(path), f, "image.pb");
	size_t len = amber_img__image__get_packed_size(img);
	uint8_t *buf = xcalloc(1, 32 + len);
	amber_img__image__pack(img, buf + 32);
	uint64_t sum = XXH3_64bits(buf + 32, len);
	memcpy(buf, "AMBRIMG", 8);
	buf[8] = 1;
	for (unsigned i = 0; i < 8; i++) {
		buf[16 + i] = (uint8_t)((uint64_t)len >> (8 * i));
		buf[24 + i] = (uint8_t)(sum >> (8 * i));
	}
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, 32 + len, fp), 32 + len);
	fclose(fp);
	free(buf);
}

static unsigned count_entries(const char *dir, const char *prefix)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls -a %s | grep -c '^%s' || true", dir, prefix);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	unsigned n = 0;
	assert_int_equal(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

static void expect_current(const char *dir, const char *gen)
{
	char link[512], target[64];
	snprintf(link, sizeof(link), "%s/current", dir);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, gen);
}

/* Every dataspace reads back as it was given (NULL: zeros). */
static void expect_pages(const struct fixture *f, const char *dir, const AmberImg__Image *img)
{
	for (unsigned i = 0; i < NDS; i++) {
		uint8_t *dst = xcalloc(1, f->mem[i].size);
		if (image_read_pages(dir, img, i, dst, err, sizeof(err)) != 0)
			fail_msg("image_read_pages %u: %s", i, err);
		if (f->mem[i].bytes)
			assert_memory_equal(dst, f->mem[i].bytes, f->mem[i].size);
		else
			for (size_t k = 0; k < f->mem[i].size; k++)
				assert_int_equal(dst[k], 0);
		free(dst);
	}
}

/* ---- memory read from files (what a checkpoint and a restore use) ---------- */

/* A memfd holding `bytes`: its zero pages written as holes, except the
 * first zero page, written out (data that reads as zero). */
static int memfd_of(const uint8_t *bytes, size_t size)
{
	int fd = memfd_create("test-image", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	bool zero_written = false;
	for (size_t off = 0; bytes && off < size; off += PAGE) {
		bool zero = true;
		for (size_t k = 0; k < PAGE && zero; k++)
			zero = bytes[off + k] == 0;
		if (zero && zero_written)
			continue;
		zero_written |= zero;
		assert_int_equal(pwrite(fd, bytes + off, PAGE, (off_t)off), PAGE);
	}
	return fd;
}

/* The fixture's image written into dir from memfds holding its memory (a
 * checkpoint's way), one dataspace at a time; the memfds go to fds. */
static void write_from_memfds(struct fixture *f, const char *dir, int fds[NDS])
{
	struct image_writer *w;
	assert_int_equal(image_begin(dir, &w, err, sizeof(err)), 0);
	for (unsigned i = 0; i < NDS; i++) {
		fds[i] = memfd_of(f->mem[i].bytes, f->mem[i].size);
		struct image_memory m = { .size = f->mem[i].size, .has_fd = true, .fd = fds[i] };
		if (image_add_memory(w, f->img, i, &m, err, sizeof(err)) != 0)
			fail_msg("image_add_memory %u: %s", i, err);
	}
	if (image_commit(w, f->img, err, sizeof(err)) != 0)
		fail_msg("image_commit: %s", err);
}

static void test_memory_from_files(void **state)
{
	struct fixture *f = *state;
	/* The sparse dataspace grows to 640 pages with runs across the 1 MiB
	 * (256-page) reads of the writer: 250-270 and 500-530. */
	const size_t big = 640 * PAGE;
	free(f->bytes[DS_SPARSE]);
	f->bytes[DS_SPARSE] = pages(640);
	for (size_t p = 250; p < 270; p++)
		f->bytes[DS_SPARSE][p * PAGE + p % PAGE] = (uint8_t)(p | 1);
	for (size_t p = 500; p < 530; p++)
		f->bytes[DS_SPARSE][p * PAGE + 9] = 0x5a;
	f->bytes[DS_SPARSE][3 * PAGE] = 7;
	f->mem[DS_SPARSE] = (struct image_memory){ .bytes = f->bytes[DS_SPARSE], .size = big };
	f->img->dataspaces[DS_SPARSE]->size = big;
	char from_bytes[128], from_files[128];
	snprintf(from_bytes, sizeof(from_bytes), "%s/bytes", f->dir);
	snprintf(from_files, sizeof(from_files), "%s/files", f->dir);
	write_ok(f, from_bytes);
	size_t n = f->img->dataspaces[DS_SPARSE]->n_extents;
	assert_int_equal(n, 3);
	AmberImg__Extent want[3];
	for (size_t k = 0; k < n; k++)
		want[k] = *f->img->dataspaces[DS_SPARSE]->extents[k];

	/* The same memory from memfds, in steps: the same runs and checksums. */
	int fds[NDS];
	write_from_memfds(f, from_files, fds);
	const AmberImg__Dataspace *d = f->img->dataspaces[DS_SPARSE];
	assert_int_equal(d->n_extents, n);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(d->extents[k]->offset, want[k].offset);
		assert_int_equal(d->extents[k]->length, want[k].length);
		assert_int_equal(d->extents[k]->xxh3, want[k].xxh3);
	}
	assert_int_equal(d->extents[1]->offset, 250 * PAGE);
	assert_int_equal(d->extents[1]->length, 20 * PAGE);
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/current/pages.bin", from_bytes);
	snprintf(b, sizeof(b), "%s/current/pages.bin", from_files);
	assert_int_equal(file_size(a), file_size(b));

	/* And back into fresh memfds, checked on the way. */
	AmberImg__Image *img = read_ok(from_files);
	for (unsigned i = 0; i < NDS; i++) {
		close(fds[i]);
		fds[i] = memfd_of(NULL, f->mem[i].size);
	}
	if (image_load_memory(from_files, img, fds, err, sizeof(err)) != 0)
		fail_msg("image_load_memory: %s", err);
	for (unsigned i = 0; i < NDS; i++) {
		uint8_t *got = xcalloc(1, f->mem[i].size);
		assert_int_equal(pread(fds[i], got, f->mem[i].size, 0), (ssize_t)f->mem[i].size);
		if (f->mem[i].bytes)
			assert_memory_equal(got, f->mem[i].bytes, f->mem[i].size);
		free(got);
	}
	/* A damaged run is named, whatever reached the files before it. */
	flip_byte(b, 32 + 5);
	assert_int_equal(image_load_memory(from_files, img, fds, err, sizeof(err)), -1);
	expect_err("checksum mismatch");
	for (unsigned i = 0; i < NDS; i++)
		close(fds[i]);
	image_free(img);
}

/* A file large enough for several store workers (image.c): its chunks'
 * runs are put back in the dataspace's order, every byte reads back, and
 * the content hash is the memory's, wherever the writer cut the runs. */
static void test_memory_stored_in_parallel(void **state)
{
	struct fixture *f = *state;
	const size_t big = 3072 * PAGE; /* 12 MiB: 12 chunks */
	free(f->bytes[DS_SPARSE]);
	f->bytes[DS_SPARSE] = pages(3072);
	for (size_t p = 0; p < 3072; p++)
		if (p % 700 != 5) /* runs longer than a chunk, zero pages between */
			memset(f->bytes[DS_SPARSE] + p * PAGE, (int)(p % 251) + 1, 64);
	f->mem[DS_SPARSE] = (struct image_memory){ .bytes = f->bytes[DS_SPARSE], .size = big };
	f->img->dataspaces[DS_SPARSE]->size = big;
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/parallel", f->dir);
	int fds[NDS];
	write_from_memfds(f, dir, fds);
	const AmberImg__Dataspace *d = f->img->dataspaces[DS_SPARSE];
	uint64_t stored = 0;
	for (size_t k = 0; k < d->n_extents; k++) {
		if (k)
			assert_true(d->extents[k]->offset >= d->extents[k - 1]->offset + d->extents[k - 1]->length);
		stored += d->extents[k]->length;
	}
	assert_int_equal(stored, (3072 - 5) * PAGE); /* the 5 zero pages are not stored */
	AmberImg__Image *img = read_ok(dir);
	expect_pages(f, dir, img);
	struct img_view v;
	if (img_view_load(dir, &v, err, sizeof(err)) != 0)
		fail_msg("img_view_load: %s", err);
	assert_int_equal(v.content[DS_SPARSE], img_memory_content_hash(f->bytes[DS_SPARSE], big));
	img_view_free(&v);

	/* Loaded by several workers too: every byte in place. */
	for (unsigned i = 0; i < NDS; i++) {
		close(fds[i]);
		fds[i] = memfd_of(NULL, f->mem[i].size);
	}
	if (image_load_memory(dir, img, fds, err, sizeof(err)) != 0)
		fail_msg("image_load_memory: %s", err);
	uint8_t *got = xcalloc(1, big);
	assert_int_equal(pread(fds[DS_SPARSE], got, big, 0), (ssize_t)big);
	assert_memory_equal(got, f->bytes[DS_SPARSE], big);
	free(got);
	/* A damaged extent late in the file is found and named, whichever
	 * worker reads it. */
	const AmberImg__Extent *last = d->extents[d->n_extents - 1];
	char pages[512], want[64];
	snprintf(pages, sizeof(pages), "%s/current/pages.bin", dir);
	flip_byte(pages, (long)last->file_offset + 100);
	assert_int_equal(image_load_memory(dir, img, fds, err, sizeof(err)), -1);
	expect_err("checksum mismatch");
	snprintf(want, sizeof(want), "extent %zu at offset 0x%llx", d->n_extents - 1, (unsigned long long)last->offset);
	expect_err(want);
	image_free(img);
	for (unsigned i = 0; i < NDS; i++)
		close(fds[i]);
}

/* ---- the plan of a lazy restore ------------------------------------------- */

struct planned {
	struct {
		unsigned ds, depth;
		int fd;
		uint64_t off, len, file_off;
	} v[64];
	size_t n;
};

static int note_extent(void *ctx, unsigned ds, unsigned depth, int pages_fd, const AmberImg__Extent *e)
{
	struct planned *p = ctx;
	assert_true(p->n < 64);
	p->v[p->n].ds = ds;
	p->v[p->n].depth = depth;
	p->v[p->n].fd = dup(pages_fd); /* open only during the call */
	p->v[p->n].off = e->offset;
	p->v[p->n].len = e->length;
	p->v[p->n].file_off = e->file_offset;
	p->n++;
	return 0;
}

/* image_plan_memory through an incremental image names, for every page,
 * the extent image_load_memory takes it from: placed in the order told
 * (the parent's first), the extents make the same memory, a zero page
 * stored by the child over the parent's data included. */
static void test_plan_through_chain(void **state)
{
	struct fixture *f = *state;
	char parent[128], child[128], gen[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s/parent", f->dir);
	snprintf(child, sizeof(child), "%s/child", f->dir);
	write_ok(f, parent);
	const size_t size = f->mem[DS_SPARSE].size;
	/* Since the parent: page 1 changed, page 5 zeroed, page 9 written. */
	uint8_t *now = pages((unsigned)(size / PAGE));
	memcpy(now, f->bytes[DS_SPARSE], size);
	now[1 * PAGE + 7] ^= 0x33;
	memset(now + 5 * PAGE, 0, PAGE);
	memset(now + 9 * PAGE, 0x9c, PAGE);
	uint8_t written[64] = { 0 };
	written[1] = written[5] = written[9] = 1;
	uint64_t meta;
	if (image_identity(parent, gen, sizeof(gen), &meta, err, sizeof(err)) != 0)
		fail_msg("image_identity: %s", err);
	AmberImg__Dataspace *d = f->img->dataspaces[DS_SPARSE];
	d->has_parent_dataspace = true;
	d->parent_dataspace = DS_SPARSE + 1;
	f->img->parent_image = strdup(gen);
	f->img->has_parent_meta_xxh3 = true;
	f->img->parent_meta_xxh3 = meta;
	struct image_writer *w;
	assert_int_equal(image_begin(child, &w, err, sizeof(err)), 0);
	int fd = memfd_of(now, size);
	for (unsigned i = 0; i < NDS; i++) {
		struct image_memory m = { .size = size, .has_fd = true, .fd = fd, .store_only = written };
		if (image_add_memory(w, f->img, i, i == DS_SPARSE ? &m : &f->mem[i], err, sizeof(err)) != 0)
			fail_msg("image_add_memory %u: %s", i, err);
	}
	if (image_commit(w, f->img, err, sizeof(err)) != 0)
		fail_msg("image_commit: %s", err);
	close(fd);

	AmberImg__Image *img = read_ok(child);
	int tags[NDS];
	for (unsigned i = 0; i < NDS; i++)
		tags[i] = i == DS_SPARSE ? 0 : -1;
	struct planned p = { .n = 0 };
	assert_int_equal(image_current(child, gen, sizeof(gen), err, sizeof(err)), 0);
	if (image_plan_memory(gen, img, tags, note_extent, &p, err, sizeof(err)) != 0)
		fail_msg("image_plan_memory: %s", err);
	uint8_t *got = pages((unsigned)(size / PAGE));
	bool parent_seen = false;
	for (size_t k = 0; k < p.n; k++) {
		assert_int_equal(p.v[k].ds, 0);
		assert_true(p.v[k].off + p.v[k].len <= size);
		assert_int_equal(pread(p.v[k].fd, got + p.v[k].off, p.v[k].len, (off_t)p.v[k].file_off),
				 (ssize_t)p.v[k].len);
		parent_seen |= p.v[k].depth == 1;
		if (k)
			assert_true(p.v[k].depth <= p.v[k - 1].depth); /* the farthest parent first */
		close(p.v[k].fd);
	}
	assert_true(parent_seen);
	assert_memory_equal(got, now, size);

	/* image_load_memory agrees, and a parent gone is refused by both. */
	int fds[NDS];
	for (unsigned i = 0; i < NDS; i++)
		fds[i] = i == DS_SPARSE ? memfd_of(NULL, size) : -1;
	if (image_load_memory(child, img, fds, err, sizeof(err)) != 0)
		fail_msg("image_load_memory: %s", err);
	assert_int_equal(pread(fds[DS_SPARSE], got, size, 0), (ssize_t)size);
	assert_memory_equal(got, now, size);
	close(fds[DS_SPARSE]);
	char moved[160];
	snprintf(moved, sizeof(moved), "%s.moved", parent);
	assert_int_equal(rename(parent, moved), 0);
	p.n = 0;
	assert_int_equal(image_plan_memory(gen, img, tags, note_extent, &p, err, sizeof(err)), -1);
	expect_err("its parent image");
	assert_int_equal(p.n, 0);
	assert_int_equal(rename(moved, parent), 0);
	free(got);
	free(now);
	image_free(img);
}

/* ---- round trip and replacement ------------------------------------------ */

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir);
	expect_current(f->dir, "gen-000001");

	/* Extents: runs of non-zero pages only. */
	const AmberImg__Dataspace *sp = f->img->dataspaces[DS_SPARSE];
	assert_int_equal(sp->n_extents, 3);
	assert_int_equal(sp->extents[0]->offset, PAGE);
	assert_int_equal(sp->extents[0]->length, 2 * PAGE);
	assert_int_equal(sp->extents[1]->offset, 5 * PAGE);
	assert_int_equal(sp->extents[2]->offset, 15 * PAGE);
	assert_int_equal(sp->extents[0]->xxh3, XXH3_64bits(f->bytes[DS_SPARSE] + PAGE, 2 * PAGE));
	assert_int_equal(f->img->dataspaces[DS_ZERO]->n_extents, 0);
	assert_int_equal(f->img->dataspaces[DS_NULL]->n_extents, 0);
	assert_int_equal(f->img->dataspaces[DS_MANAGED]->n_extents, 0);
	assert_int_equal(f->img->dataspaces[DS_STACK_ROOT]->n_extents, 1);
	assert_int_equal(f->img->dataspaces[DS_STACK_ROOT]->extents[0]->offset, 3 * PAGE);

	/* pages.bin: the header and the non-zero pages, nothing else */
	char path[512];
	path_of(path, sizeof(path), f, "pages.bin");
	unsigned stored = 4 /* sparse */ + 9 /* segments, stacks, utcbs: one page each */ + 1 /* rom */;
	assert_int_equal(file_size(path), 32 + stored * PAGE);

	AmberImg__Image *img = read_ok(f->dir);
	assert_string_equal(img->root, "init -> hello");
	assert_int_equal(img->n_components, 3);
	assert_int_equal(img->n_dataspaces, NDS);
	assert_string_equal(img->components[1]->name, "init -> hello -> worker");
	const AmberImg__Component *c = img->components[0];
	assert_int_equal(c->n_caps, 11);
	assert_int_equal(c->caps[5]->badge, 0x99);
	assert_int_equal(c->n_threads, 2);
	assert_int_equal(c->threads[1]->gp_regs.len, sizeof(struct user_regs_struct));
	assert_memory_equal(c->threads[1]->gp_regs.data, f->img->components[0]->threads[1]->gp_regs.data,
			    sizeof(struct user_regs_struct));
	assert_string_equal(c->sessions[3]->rom->module, "config");
	assert_int_equal(c->sessions[4]->timer->period_us, 100000);
	assert_int_equal(img->dataspaces[DS_SPARSE]->n_extents, 3);
	expect_pages(f, f->dir, img);

	/* The generation's directory, and a copy of it read as it is. */
	char cur[512], want[512];
	assert_int_equal(image_current(f->dir, cur, sizeof(cur), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/gen-000001", f->dir);
	assert_string_equal(cur, want);
	assert_int_equal(image_current(cur, path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, cur);
	AmberImg__Image *copy = read_ok(cur);
	expect_pages(f, cur, copy);
	image_free(copy);
	image_free(img);
}

static void test_replace(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir);
	f->bytes[DS_SPARSE][8 * PAGE] = 9; /* a new run */
	f->bytes[DS_SPARSE][5 * PAGE] = 0; /* a run gone */
	write_ok(f, f->dir);
	expect_current(f->dir, "gen-000002");
	assert_int_equal(count_entries(f->dir, "gen-"), 1);
	assert_int_equal(count_entries(f->dir, "\\.tmp-"), 0);
	assert_int_equal(count_entries(f->dir, "\\.current-"), 0);
	AmberImg__Image *img = read_ok(f->dir);
	assert_int_equal(img->dataspaces[DS_SPARSE]->n_extents, 3);
	assert_int_equal(img->dataspaces[DS_SPARSE]->extents[1]->offset, 8 * PAGE);
	expect_pages(f, f->dir, img);
	image_free(img);
}

/* A crash after the new generation was complete but before `current`
 * switched, plus a temporary directory of a crash before that: the old
 * image is the image. The next write goes above the stray generation and
 * clears both away. */
static void test_crash_before_switch(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir);
	char p[512];
	snprintf(p, sizeof(p), "%s/.tmp-crash1", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/.tmp-crash1/pages.bin", f->dir);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("half", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/gen-000002", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/gen-000002/image.pb", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("AMBRIMG garbage of an unpublished generation", fp);
	fclose(fp);

	AmberImg__Image *img = read_ok(f->dir);
	assert_string_equal(img->root, "init -> hello");
	expect_pages(f, f->dir, img);
	image_free(img);

	write_ok(f, f->dir);
	expect_current(f->dir, "gen-000003");
	assert_int_equal(count_entries(f->dir, "gen-"), 1);
	assert_int_equal(count_entries(f->dir, "\\.tmp-"), 0);
	img = read_ok(f->dir);
	expect_pages(f, f->dir, img);
	image_free(img);
}

/* ---- damaged files --------------------------------------------------------- */

static void test_bad_magic(void **state)
{
	struct fixture *f = *state;
	char p[512];
	write_ok(f, f->dir);
	path_of(p, sizeof(p), f, "image.pb");
	flip_byte(p, 0);
	read_fails(f->dir, "image.pb", "not an Amber image (bad magic)");
}

static void test_wrong_version(void **state)
{
	struct fixture *f = *state;
	char p[512];
	write_ok(f, f->dir);
	path_of(p, sizeof(p), f, "image.pb");
	put_u32(p, 8, 7);
	read_fails(f->dir, "image.pb", "format version 7, this amber reads 1");
	/* and in pages.bin */
	put_u32(p, 8, 1);
	path_of(p, sizeof(p), f, "pages.bin");
	put_u32(p, 8, 2);
	read_fails(f->dir, "pages.bin", "format version 2, this amber reads 1");
}

static void test_truncated_meta(void **state)
{
	struct fixture *f = *state;
	char p[512], want[128];
	write_ok(f, f->dir);
	path_of(p, sizeof(p), f, "image.pb");
	long size = file_size(p);
	assert_int_equal(truncate(p, size - 10), 0);
	snprintf(want, sizeof(want), "truncated: header says %ld bytes, file has %ld", size - 32, size - 42);
	read_fails(f->dir, "image.pb", want);
	assert_int_equal(truncate(p, 20), 0);
	read_fails(f->dir, "image.pb", "truncated: 20 bytes, shorter than the 32-byte header");
}

static void test_flipped_payload(void **state)
{
	struct fixture *f = *state;
	char p[512];
	write_ok(f, f->dir);
	path_of(p, sizeof(p), f, "image.pb");
	flip_byte(p, file_size(p) / 2);
	read_fails(f->dir, "image.pb", "checksum mismatch (stored 0x");
	expect_err(", computed 0x");
}

/* A damaged page run: image_read is content (image.pb is intact), the
 * dataspace that holds the run is refused and nothing of it is copied;
 * the other dataspaces still read. */
static void test_flipped_page(void **state)
{
	struct fixture *f = *state;
	char p[512], want[768];
	write_ok(f, f->dir);
	const AmberImg__Extent *e = f->img->dataspaces[DS_SPARSE]->extents[1];
	path_of(p, sizeof(p), f, "pages.bin");
	flip_byte(p, (long)e->file_offset + 17);
	AmberImg__Image *img = read_ok(f->dir);
	uint8_t *dst = xcalloc(1, 16 * PAGE);
	assert_int_equal(image_read_pages(f->dir, img, DS_SPARSE, dst, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: dataspace %u (ram:init -> hello) extent 1 at offset 0x5000: checksum mismatch",
		 p, DS_SPARSE);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got \"%s\", expected \"%s...\"", err, want);
	for (size_t k = 0; k < 16 * PAGE; k++)
		assert_int_equal(dst[k], 0);
	free(dst);
	dst = xcalloc(1, 4 * PAGE);
	assert_int_equal(image_read_pages(f->dir, img, DS_STACK_ROOT, dst, err, sizeof(err)), 0);
	assert_memory_equal(dst, f->bytes[DS_STACK_ROOT], 4 * PAGE);
	free(dst);
	image_free(img);
}

static void test_truncated_pages(void **state)
{
	struct fixture *f = *state;
	char p[512], want[128];
	write_ok(f, f->dir);
	path_of(p, sizeof(p), f, "pages.bin");
	long size = file_size(p);
	assert_int_equal(truncate(p, size - PAGE), 0);
	snprintf(want, sizeof(want), "truncated: header says %ld bytes, file has %ld", size - 32, size - 32 - PAGE);
	read_fails(f->dir, "pages.bin", want);
}

static void test_index_out_of_range(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir);
	f->img->components[0]->segments[0]->dataspace = 99;
	rewrite_meta(f, f->img);
	char want[128];
	snprintf(want, sizeof(want), "component 2 (init -> hello): segment 0: dataspace 99 out of range (the image has %u)",
		 NDS);
	read_fails(f->dir, "image.pb", want);
	/* and image_write does not write it in the first place */
	char other[128];
	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(image_write(other, f->img, f->mem, err, sizeof(err)), -1);
	expect_err("refusing to write an invalid image: component 2 (init -> hello): segment 0: dataspace 99");
	assert_int_equal(count_entries(other, "gen-"), 0);
	assert_int_equal(count_entries(other, "\\.tmp-"), 0);
	assert_int_equal(count_entries(other, "current"), 0);
}

static void test_overlapping_extents(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir);
	AmberImg__Extent **e = f->img->dataspaces[DS_SPARSE]->extents;
	e[1]->offset = 2 * PAGE; /* extent 0 covers pages 1-2 */
	rewrite_meta(f, f->img);
	char want[160];
	snprintf(want, sizeof(want), "dataspace %u (ram:init -> hello) extent 1 at offset 0x2000: overlaps", DS_SPARSE);
	read_fails(f->dir, "image.pb", want);
	/* the page reader checks an image that did not come from image_read */
	uint8_t *dst = xcalloc(1, 16 * PAGE);
	assert_int_equal(image_read_pages(f->dir, f->img, DS_SPARSE, dst, err, sizeof(err)), -1);
	expect_err(want);
	free(dst);
}

static void test_missing_directory(void **state)
{
	struct fixture *f = *state;
	char p[512];
	snprintf(p, sizeof(p), "%s/nowhere", f->dir);
	AmberImg__Image *img = NULL;
	assert_int_equal(image_read(p, &img, err, sizeof(err)), -1);
	char want[600];
	snprintf(want, sizeof(want), "%s: No such file or directory", p);
	assert_string_equal(err, want);
	/* a directory without an image */
	assert_int_equal(image_read(f->dir, &img, err, sizeof(err)), -1);
	expect_err("no image");
	assert_null(img);
}

/* ---- image_check ------------------------------------------------------------- */

static const AmberImg__Component *C0(const AmberImg__Image *img) { return img->components[0]; }

struct bad_case {
	const char *name;
	void (*damage)(AmberImg__Image *img);
	const char *msg;
};

static void dmg_regs(AmberImg__Image *i) { i->components[0]->threads[1]->gp_regs.len = 12; }
static void dmg_xstate(AmberImg__Image *i) { i->components[1]->threads[0]->xstate.len = 64; }
static void dmg_dup_id(AmberImg__Image *i) { i->components[2]->id = 3; }
static void dmg_zero_id(AmberImg__Image *i) { i->components[1]->id = 0; }
static void dmg_parent(AmberImg__Image *i) { i->components[1]->parent_id = 4; }
static void dmg_root(AmberImg__Image *i) { i->components[0]->name[0] = 'x'; }
static void dmg_sel(AmberImg__Image *i) { i->components[1]->caps[4]->sel = 65536; }
static void dmg_dup_sel(AmberImg__Image *i) { i->components[1]->caps[4]->sel = 4; }
static void dmg_cap_kind(AmberImg__Image *i) { i->components[1]->caps[0]->kind = 9; }
static void dmg_thread_idx(AmberImg__Image *i) { i->components[0]->threads[1]->index = 256; }
static void dmg_dup_thread(AmberImg__Image *i) { i->components[0]->threads[1]->index = 0; }
static void dmg_thread_sess(AmberImg__Image *i) { i->components[0]->threads[1]->session = 0; }
static void dmg_ipc(AmberImg__Image *i) { i->components[0]->threads[0]->ipc->state = 5; }
static void dmg_run(AmberImg__Image *i) { i->components[0]->threads[0]->run_state = 9; }
static void dmg_no_rom(AmberImg__Image *i)
{
	amber_img__rom_session__free_unpacked(i->components[0]->sessions[3]->rom, NULL);
	i->components[0]->sessions[3]->rom = NULL;
}
static void dmg_extra_timer(AmberImg__Image *i)
{
	i->components[0]->sessions[0]->timer = NEW(AmberImg__TimerSession, AMBER_IMG__TIMER_SESSION__INIT);
}
static void dmg_region_sess(AmberImg__Image *i) { i->components[0]->regions[0]->session = 5; }
static void dmg_region_kind(AmberImg__Image *i) { i->components[0]->regions[0]->session = 0; }
static void dmg_region_end(AmberImg__Image *i) { i->components[0]->regions[0]->offset = PAGE; }
static void dmg_region_overlap(AmberImg__Image *i) { i->components[0]->regions[1]->addr = 0x2000f000; }
static void dmg_stack(AmberImg__Image *i) { i->components[2]->stack = DS_SPARSE; }
static void dmg_utcbs(AmberImg__Image *i) { i->components[2]->utcbs = NDS; }
static void dmg_managed(AmberImg__Image *i) { i->components[0]->managed[0]->dataspace = DS_ROM; }
static void dmg_rom_ds(AmberImg__Image *i) { i->components[0]->sessions[3]->rom->dataspace = 100; }
static void dmg_rpc_sess(AmberImg__Image *i) { C0(i)->rpc_caps[0]->session = 7; }
static void dmg_ds_size(AmberImg__Image *i) { i->dataspaces[DS_ZERO]->size = 5000; }
static void dmg_ds_session(AmberImg__Image *i) { i->dataspaces[DS_ROM]->session = 1; }
static void dmg_ds_owner(AmberImg__Image *i) { i->dataspaces[DS_NULL]->owner = 77; }
static void dmg_extent_end(AmberImg__Image *i) { i->dataspaces[DS_SPARSE]->extents[2]->length = 2 * PAGE; }
static void dmg_extent_file(AmberImg__Image *i) { i->dataspaces[DS_SPARSE]->extents[2]->file_offset = 1 << 30; }
static void dmg_version(AmberImg__Image *i) { i->format_version = 2; }
static void dmg_xstate_max(AmberImg__Image *i) { i->xstate_size = 16448; }

static const struct bad_case bad_cases[] = {
	{ "regs", dmg_regs, "component 2 (init -> hello): thread 1: gp_regs is 12 bytes, expected 216" },
	{ "xstate", dmg_xstate, "component 3 (init -> hello -> worker): thread 0: xstate is 64 bytes, expected 512" },
	{ "dup id", dmg_dup_id, "component 3 (init -> hello -> logger): id 3 used twice" },
	{ "zero id", dmg_zero_id, "component 0 (init -> hello -> worker): id 0" },
	{ "parent", dmg_parent, "component 3 (init -> hello -> worker): parent 4 is not a component before it" },
	{ "root", dmg_root, "the first component is not the root 'init -> hello'" },
	{ "sel", dmg_sel, "component 3 (init -> hello -> worker): slot 65536 out of range [1, 65536)" },
	{ "dup sel", dmg_dup_sel, "component 3 (init -> hello -> worker): slot 4 twice" },
	{ "cap kind", dmg_cap_kind, "slot 1: unknown kind 9" },
	{ "thread index", dmg_thread_idx, "component 2 (init -> hello): thread 256: index out of range [0, 256)" },
	{ "dup thread", dmg_dup_thread, "component 2 (init -> hello): thread 0 twice" },
	{ "thread session", dmg_thread_sess, "thread 1: session 0 is a PD session, expected CPU" },
	{ "ipc state", dmg_ipc, "thread 0: unknown IPC state 5" },
	{ "run state", dmg_run, "thread 0: unknown run state 9" },
	{ "no rom", dmg_no_rom, "session 3: a ROM session without ROM state" },
	{ "extra timer", dmg_extra_timer, "session 0: a PD session with timer state" },
	{ "region session", dmg_region_sess, "region 0: session 5 out of range (the component has 5)" },
	{ "region kind", dmg_region_kind, "region 0: session 0 is a PD session, expected RM" },
	{ "region end", dmg_region_end, "region 0: [0x1000, +0x10000) of dataspace 9 (ram:init -> hello) runs past its end" },
	{ "region overlap", dmg_region_overlap, "region 1 at 0x2000f000 overlaps region 0 at 0x20000000" },
	{ "stack", dmg_stack, "stack: dataspace 9 (ram:init -> hello) is a RAM dataspace, expected stack" },
	{ "utcbs", dmg_utcbs, "utcbs: dataspace 14 out of range (the image has 14)" },
	{ "managed", dmg_managed, "managed map 0: dataspace 12 (rom:config) is a ROM dataspace, expected managed" },
	{ "rom ds", dmg_rom_ds, "session 3: dataspace 100 out of range" },
	{ "rpc session", dmg_rpc_sess, "rpc cap 0: session 7 out of range" },
	{ "ds size", dmg_ds_size, "dataspace 10 (ram:zero): size 0x1388 is not a positive multiple of 4096" },
	{ "ds session", dmg_ds_session, "dataspace 12 (rom:config): session 1 on a ROM dataspace without an owner" },
	{ "ds owner", dmg_ds_owner, "dataspace 11 (ram:null): owner 77 is not a component of the image" },
	{ "extent end", dmg_extent_end, "dataspace 9 (ram:init -> hello) extent 2 at offset 0xf000: length 0x2000 runs past" },
	{ "extent file", dmg_extent_file, "extent 2 at offset 0xf000: file bytes [0x40000000, +0x1000) outside pages.bin" },
	{ "version", dmg_version, "format version 2, this amber reads 1" },
	{ "xstate max", dmg_xstate_max, "xstate size 16448 above 16384" },
};

static void test_check_rejects(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir); /* fills the extents */
	uint64_t pages_size = 14 * PAGE;
	assert_int_equal(image_check(f->img, pages_size, err, sizeof(err)), 0);
	for (size_t k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
		const struct bad_case *b = &bad_cases[k];
		size_t len = amber_img__image__get_packed_size(f->img);
		uint8_t *buf = xcalloc(1, len);
		amber_img__image__pack(f->img, buf);
		AmberImg__Image *img = amber_img__image__unpack(NULL, len, buf);
		free(buf);
		assert_non_null(img);
		b->damage(img);
		err[0] = '\0';
		int rc = image_check(img, pages_size, err, sizeof(err));
		if (rc != -1 || !strstr(err, b->msg))
			fail_msg("%s: rc %d, got \"%s\", expected \"...%s...\"", b->name, rc, err, b->msg);
		image_free(img);
	}
}

/* ---- inspect and diff ------------------------------------------------------------ */

struct output {
	char *text;
	size_t len;
	FILE *f;
};

static void out_open(struct output *o)
{
	o->text = NULL;
	o->f = open_memstream(&o->text, &o->len);
	assert_non_null(o->f);
}

static void out_close(struct output *o)
{
	fclose(o->f);
	if (getenv("IMAGE_TEST_SHOW")) /* to look at what people get */
		fputs(o->text, stderr);
}

static void expect_in(const struct output *o, const char *what)
{
	if (!strstr(o->text, what))
		fail_msg("\"%s\" not in the output:\n%s", what, o->text);
}

/* The content checksum as docs/image-format.md defines it. */
static void hash_u64(XXH3_state_t *st, uint64_t v)
{
	uint8_t b[8];
	for (unsigned k = 0; k < 8; k++)
		b[k] = (uint8_t)(v >> (8 * k));
	XXH3_64bits_update(st, b, 8);
}

static uint64_t content_hash(const struct fixture *f, unsigned i)
{
	XXH3_state_t *st = XXH3_createState();
	XXH3_64bits_reset(st);
	hash_u64(st, f->mem[i].size);
	for (size_t off = 0; f->mem[i].bytes && off < f->mem[i].size;) {
		size_t end = off;
		while (end < f->mem[i].size && memcmp(f->mem[i].bytes + end, (uint8_t[PAGE]){ 0 }, PAGE))
			end += PAGE;
		if (end > off) {
			hash_u64(st, off);
			hash_u64(st, end - off);
			XXH3_64bits_update(st, f->mem[i].bytes + off, end - off);
			off = end;
		} else
			off += PAGE;
	}
	uint64_t h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

static void test_inspect(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir);
	struct output o;
	out_open(&o);
	if (image_inspect(f->dir, false, o.f, err, sizeof(err)) != 0)
		fail_msg("image_inspect: %s", err);
	out_close(&o);
	expect_in(&o, "Amber image ");
	expect_in(&o, "/gen-000001\n");
	/* the tree */
	expect_in(&o, "\n  2 init -> hello  [hello]  kernel quota 64, factory 0/64, RAM 73728/1048576 bytes, 3 dataspaces\n"
		      "    3 init -> hello -> worker  [worker]");
	expect_in(&o, "child of component 1 (not in the image)");
	/* threads */
	expect_in(&o, "  0 main  object 13, running, ipc RECV (250000 us), rip 0x10001000 rsp 0x7fff0000");
	expect_in(&o, "  1 worker  object 210, running, ipc READY (no timeout), rip 0x10001001 rsp 0x7ffef000, CPU session 1");
	/* slots: kind, badge, rights, object, what it is, where from */
	expect_in(&o, "16 gate     0x99               icg    220      rpc cap, bound to thread 1; derived from core");
	expect_in(&o, "17 gate     0x31               i-g    221      dataspace ram:init -> hello; derived from core");
	expect_in(&o, "18 gate     0x32               i--    222      signal source;");
	expect_in(&o, "19 irq      0x32               i--    223      semaphore of signal source 222;");
	expect_in(&o, "20 gate     0x33               i-g    230      signal context, 2 pending;");
	expect_in(&o, "21 irq      0x0                ic-    240      irq made by the factory; derived from slot 3 of task 10 (init -> hello)");
	expect_in(&o, " 3 factory  0x0                icg    11       factory;");
	expect_in(&o, " 4 gate     0x42               i-g    12       parent gate;");
	expect_in(&o, " 5 gate     0x10               i-g    7        core service LOG;");
	/* sessions, signal objects, memory */
	expect_in(&o, "  0 PD    gate 200\n");
	expect_in(&o, "  3 ROM   gate 203, module \"config\" (config) version 1, 5 bytes in dataspace 12 (rom:config)");
	expect_in(&o, "  4 Timer gate 204, elapsed 123456 us, context 230, fires in 40000 us, every 100000 us");
	expect_in(&o, "signal context: gate 230, badge 0x33, source 222, imprint 0xfeed, 2 pending");
	expect_in(&o, "region 2 in managed map 250 at 0x1000 +0x1000 r, dataspace 10 (ram:zero)");
	expect_in(&o, "log: 12 lines, unfinished \"hal\"");
	/* dataspaces with what is stored and the content's checksum */
	char line[256];
	uint64_t sum = content_hash(f, DS_SPARSE);
	snprintf(line, sizeof(line), "     9 RAM            65536      16384       3     2 0x%016llx ram:init -> hello (gate 221)",
		 (unsigned long long)sum);
	expect_in(&o, line);
	free(o.text);

	/* every page is checked: a damaged run makes inspect fail */
	char p[512];
	path_of(p, sizeof(p), f, "pages.bin");
	flip_byte(p, (long)f->img->dataspaces[DS_ROM]->extents[0]->file_offset);
	out_open(&o);
	assert_int_equal(image_inspect(f->dir, false, o.f, err, sizeof(err)), -1);
	out_close(&o);
	free(o.text);
	expect_err("dataspace 12 (rom:config) extent 0 at offset 0x0: checksum mismatch");
}

/* JSON: valid (checked by Python's parser where there is one), with
 * strings escaped, invalid UTF-8 replaced, and the derived facts. */
static void test_inspect_json(void **state)
{
	struct fixture *f = *state;
	static const char line[] = "\x01q\"b\\n\n\xff\xc3\xa9\xe2\x82"; /* control, quote, backslash, newline, bad, é, cut */
	AmberImg__Component *c = f->img->components[0];
	free(c->log_line.data);
	c->log_line.len = sizeof(line) - 1;
	c->log_line.data = xcalloc(1, sizeof(line));
	memcpy(c->log_line.data, line, sizeof(line));
	write_ok(f, f->dir);
	char path[512];
	snprintf(path, sizeof(path), "%s/inspect.json", f->dir);
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	if (image_inspect(f->dir, true, out, err, sizeof(err)) != 0)
		fail_msg("image_inspect: %s", err);
	fclose(out);

	if (system("python3 -c pass 2>/dev/null") == 0) {
		char cmd[2048];
		snprintf(cmd, sizeof(cmd),
			 "python3 -c 'import json,sys\n"
			 "d = json.load(open(sys.argv[1]))\n"
			 "c = d[\"image\"][\"components\"][0]\n"
			 "assert d[\"image\"][\"root\"] == \"init -> hello\", d[\"image\"][\"root\"]\n"
			 "assert c[\"log_line\"] == \"\\x01q\\\"b\\\\n\\n\\ufffd\\u00e9\\ufffd\\ufffd\", repr(c[\"log_line\"])\n"
			 "cap = [x for x in c[\"caps\"] if x[\"sel\"] == 16][0]\n"
			 "assert cap[\"refers_to\"] == \"rpc cap, bound to thread 1\", cap\n"
			 "assert cap[\"rights_letters\"] == \"icg\" and cap[\"kind_name\"] == \"gate\", cap\n"
			 "t = c[\"threads\"][1]\n"
			 "assert t[\"gp_regs\"][\"rip\"] == \"0x0000000010001001\" and t[\"ipc\"][\"state_name\"] == \"READY\", t\n"
			 "assert t[\"run_state\"] == \"RUNNING\" and t[\"xstate\"][\"bytes\"] == 512, t\n"
			 "assert c[\"sessions\"][3][\"rom\"][\"module\"] == \"config\" and c[\"sessions\"][0][\"rom\"] is None\n"
			 "ds = d[\"image\"][\"dataspaces\"][9]\n"
			 "assert ds[\"kind\"] == \"DS_RAM\" and ds[\"stored_bytes\"] == 16384 and len(ds[\"extents\"]) == 3, ds\n"
			 "assert d[\"files\"][\"pages.bin\"][\"bytes\"] == 14 * 4096\n"
			 "' %s",
			 path);
		assert_int_equal(system(cmd), 0);
	} else {
		/* no Python: at least balanced braces and brackets outside strings */
		FILE *in = fopen(path, "r");
		assert_non_null(in);
		int depth = 0, ch;
		bool str = false, esc = false;
		while ((ch = fgetc(in)) != EOF) {
			if (str) {
				assert_true(ch >= 0x20);
				esc = !esc && ch == '\\';
				str = esc || ch != '"';
			} else if (ch == '"')
				str = true;
			else if (ch == '{' || ch == '[')
				depth++;
			else if (ch == '}' || ch == ']')
				assert_true(--depth >= 0);
		}
		fclose(in);
		assert_int_equal(depth, 0);
		assert_false(str);
	}
}

static int diff(const char *a, const char *b, const struct image_diff_options *o, struct output *out)
{
	out_open(out);
	int n = image_diff_opts(a, b, o, out->f, err, sizeof(err));
	out_close(out);
	if (n < 0)
		fail_msg("image_diff: %s", err);
	return n;
}

static void test_diff(void **state)
{
	struct fixture *f = *state;
	char a[256], b[256];
	struct output o;
	snprintf(a, sizeof(a), "%s/a", f->dir);
	snprintf(b, sizeof(b), "%s/b", f->dir);
	write_ok(f, a);

	/* the same state, checkpointed later: nothing differs */
	AmberImg__Component *c = f->img->components[0];
	f->img->cut_time_us += 1000;
	f->img->wall_time_s += 1;
	c->sessions[4]->timer->elapsed_us += 1000;
	c->sessions[4]->timer->remaining_us -= 1000;
	c->threads[0]->ipc->remaining_us -= 1000;
	write_ok(f, b);
	assert_int_equal(diff(a, b, NULL, &o), 0);
	assert_string_equal(o.text, "");
	free(o.text);
	/* unless asked to compare the clocks, and then within the tolerance */
	struct image_diff_options opt = { .timing = true };
	assert_int_equal(diff(a, b, &opt, &o), 3);
	expect_in(&o, "component init -> hello: session 4: timer: elapsed_us 123456 -> 124456\n");
	expect_in(&o, "component init -> hello: thread 0: ipc: remaining_us 250000 -> 249000\n");
	free(o.text);
	opt.tolerance_us = 1000;
	assert_int_equal(diff(a, b, &opt, &o), 0);
	free(o.text);

	/* one badge: one line that names the slot */
	c->caps[5]->badge = 0x9a;
	write_ok(f, b);
	assert_int_equal(diff(a, b, NULL, &o), 1);
	assert_string_equal(o.text, "component init -> hello: slot 16: badge 0x99 -> 0x9a\n");
	free(o.text);

	/* a slot gone, a page changed, a register, a state, a component */
	c->caps[5]->badge = 0x99;
	c->n_caps--; /* slot 21 */
	f->bytes[DS_SPARSE][5 * PAGE + 1] = 0x77;
	struct user_regs_struct *r = (struct user_regs_struct *)c->threads[1]->gp_regs.data;
	r->rip += 2;
	c->threads[1]->ipc->state = 3;
	c->threads[1]->run_state = AMBER_IMG__RUN_STATE__PAUSED;
	free(f->img->components[2]->name);
	f->img->components[2]->name = xstrdup("init -> hello -> printer");
	write_ok(f, b);
	c->n_caps++; /* for image_free */
	int n = diff(a, b, NULL, &o);
	expect_in(&o, "component init -> hello: slot 21: only in the first image\n");
	expect_in(&o, "component init -> hello: thread 1: run_state RUNNING -> PAUSED\n");
	expect_in(&o, "component init -> hello: thread 1: registers differ (rip)\n");
	expect_in(&o, "component init -> hello: thread 1: ipc: state READY -> RECV\n");
	expect_in(&o, "component init -> hello -> logger: only in the first image\n");
	expect_in(&o, "component init -> hello -> printer: only in the second image\n");
	expect_in(&o, "dataspace ram:init -> hello of init -> hello (RAM) gate 221: content differs (xxh3 0x");
	/* the logger's dataspaces have no owner of that name any more */
	expect_in(&o, "dataspace stack of init -> hello -> logger (stack): only in the first image\n");
	expect_in(&o, "dataspace stack of init -> hello -> printer (stack): only in the second image\n");
	assert_int_equal(n, 13);
	free(o.text);

	/* an image that cannot be read is an error, not a difference */
	snprintf(b, sizeof(b), "%s/none", f->dir);
	out_open(&o);
	assert_int_equal(image_diff(a, b, o.f, err, sizeof(err)), -1);
	out_close(&o);
	free(o.text);
	expect_err("none: No such file or directory");
}

/* A FIFO in place of a file is refused at once, not waited on (open()
 * of a FIFO blocks until a writer comes: it used to hang a restore).
 * alarm() turns a hang into a failure. */
static void test_fifo_refused(void **state)
{
	struct fixture *f = *state;
	write_ok(f, f->dir);
	char path[600];
	alarm(10);
	const char *files[] = { "pages.bin", "image.pb" };
	for (size_t i = 0; i < 2; i++) {
		path_of(path, sizeof(path), f, files[i]);
		char saved[700];
		snprintf(saved, sizeof(saved), "%s.saved", path);
		assert_int_equal(rename(path, saved), 0);
		assert_int_equal(mkfifo(path, 0600), 0);
		read_fails(f->dir, files[i], "not a regular file");
		assert_int_equal(unlink(path), 0);
		assert_int_equal(rename(saved, path), 0);
	}
	snprintf(path, sizeof(path), "%s/keyfifo", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	struct image_key key;
	assert_int_equal(image_key_load(path, &key, err, sizeof(err)), -1);
	expect_err("not a regular file");
	alarm(0);
	image_free(read_ok(f->dir));
}

/* ---- signed images ---------------------------------------------------------- */

static void key_file(const char *path, const char *text, mode_t mode)
{
	FILE *k = fopen(path, "w");
	assert_non_null(k);
	fputs(text, k);
	fclose(k);
	assert_int_equal(chmod(path, mode), 0);
}

/* Written with a writer told to sign: verified by its key, refused by
 * another, refused unsigned, refused after a changed byte in any of the
 * three files; key files checked; the key never in a message. */
static void test_signed(void **state)
{
	struct fixture *f = *state;
	char k1[600], k2[600], path[700], unsigned_dir[600];
	snprintf(k1, sizeof(k1), "%s/k1", f->dir);
	snprintf(k2, sizeof(k2), "%s/k2", f->dir);
	key_file(k1, "secret-one-0123456789abcdefghijklmn", 0600);
	key_file(k2, "secret-two-0123456789abcdefghijklmn", 0400);
	struct image_key key1, key2;
	assert_int_equal(image_key_load(k1, &key1, err, sizeof(err)), 0);
	assert_int_equal(image_key_load(k2, &key2, err, sizeof(err)), 0);
	assert_memory_not_equal(key1.k, key2.k, sizeof(key1.k));

	char img_dir[600];
	snprintf(img_dir, sizeof(img_dir), "%s/img", f->dir);
	struct image_writer *w;
	assert_int_equal(image_begin(img_dir, &w, err, sizeof(err)), 0);
	image_writer_sign(w, &key1);
	for (unsigned i = 0; i < f->img->n_dataspaces; i++)
		assert_int_equal(image_add_memory(w, f->img, i, &f->mem[i], err, sizeof(err)), 0);
	if (image_commit(w, f->img, err, sizeof(err)) != 0)
		fail_msg("image_commit: %s", err);
	snprintf(path, sizeof(path), "%s/gen-000001/signature", img_dir);
	assert_int_equal(file_size(path), 64);

	AmberImg__Image *img = NULL;
	assert_int_equal(image_verify(img_dir, &key1, err, sizeof(err)), 0);
	if (image_read_signed(img_dir, &key1, &img, err, sizeof(err)) != 0)
		fail_msg("image_read_signed: %s", err);
	assert_string_equal(img->root, "init -> hello");
	image_free(img);
	img = NULL;
	assert_int_equal(image_read_signed(img_dir, &key2, &img, err, sizeof(err)), -1);
	assert_null(img);
	expect_err("/gen-000001/signature: the signature does not match");
	/* Unsigned, with a key; without a key a signed image reads as any. */
	snprintf(unsigned_dir, sizeof(unsigned_dir), "%s/plain", f->dir);
	write_ok(f, unsigned_dir);
	assert_int_equal(image_read_signed(unsigned_dir, &key1, &img, err, sizeof(err)), -1);
	expect_err("the image is not signed");
	image_free(read_ok(img_dir));

	/* One byte changed anywhere, even where the checksums would not look
	 * (the header's unused field of pages.bin is checked, but the
	 * signature comes first and says so). */
	const char *files[] = { "image.pb", "pages.bin", "signature" };
	const long at[] = { 40, 32 + 100, 40 };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/gen-000001/%s", img_dir, files[i]);
		flip_byte(path, at[i]);
		assert_int_equal(image_read_signed(img_dir, &key1, &img, err, sizeof(err)), -1);
		expect_err("the signature does not match");
		assert_int_equal(image_verify(img_dir, &key1, err, sizeof(err)), -1);
		flip_byte(path, at[i]);
	}
	assert_int_equal(image_verify(img_dir, &key1, err, sizeof(err)), 0);
	/* A signature file that is not one. */
	snprintf(path, sizeof(path), "%s/gen-000001/signature", img_dir);
	put_u32(path, 12, 2);
	assert_int_equal(image_verify(img_dir, &key1, err, sizeof(err)), -1);
	expect_err("signature: unknown flags 0x2");

	/* Key files: too short, too long, open to others, not a file. */
	key_file(k2, "short", 0600);
	assert_int_equal(image_key_load(k2, &key2, err, sizeof(err)), -1);
	expect_err("5 bytes, a key needs at least 32");
	key_file(k2, "secret-two-0123456789abcdefghijklmn", 0644);
	assert_int_equal(image_key_load(k2, &key2, err, sizeof(err)), -1);
	expect_err("mode 0644 lets group or others at it");
	assert_null(strstr(err, "secret"));
	key_file(k2, "secret-two-0123456789abcdefghijklmn", 0604);
	assert_int_equal(image_key_load(k2, &key2, err, sizeof(err)), -1);
	expect_err("mode 0604");
	char big[IMAGE_KEY_FILE_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	key_file(k2, big, 0600);
	assert_int_equal(image_key_load(k2, &key2, err, sizeof(err)), -1);
	expect_err("not a key file");
	assert_int_equal(image_key_load(f->dir, &key2, err, sizeof(err)), -1);
	expect_err("not a regular file");
	image_key_clear(&key1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_from_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_stored_in_parallel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_through_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_extents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inspect_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_refused, setup, teardown),
	};
	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
