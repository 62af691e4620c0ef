/*
 * test_rom: core's ROM service checked from a component.
 *
 * scenarios/rom.xml runs it twice with different <config> nodes (as
 * test_rom and test_rom_second); the integration test also runs it without
 * one. Each instance checks that its "config" ROM holds exactly one of the
 * two known texts (and logs which), reads a binary module, and tries what
 * must be refused. Each check logs "ok: <what>" or "FAIL: <what> (...)",
 * the run ends with "done: N ok, M failed" (amber/check.h), and the exit
 * code is the number of failures.
 */
#include <stdbool.h>

#include <amber/cap_alloc.h>
#include <amber/check.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/printf.h>
#include <amber/protocols.h>
#include <amber/rm.h>
#include <amber/rom.h>
#include <amber/string.h>

#define PAGE AMBER_PAGE_SIZE
#define T_US 2000000u /* 2 s */

/* The children of the two <config> nodes of scenarios/rom.xml, as core
 * serializes them: trimmed, inner white space and comments kept, entities
 * escaped. */
static const char first[] = "<greeting text=\"hello &amp; welcome\"/>\n"
			    "      <!-- comments stay -->\n"
			    "      <list><item>1</item><item>two</item></list>";
static const char second[] = "<greeting text=\"second\"/>";

static struct amber_utcb *u;
static amber_sel_t pd;

static uint64_t ram_used(void)
{
	uint64_t used = ~0ull;
	amber_pd_quota(pd, 0, &used);
	return used;
}

static uint64_t round_page(uint64_t n) { return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1); }

/* ---- the config ROM ---------------------------------------------------- */

static void config(void)
{
	struct amber_rom rom;
	int err = amber_rom_open(&rom, AMBER_ROM_CONFIG);
	if (err == AMBER_ERR_INVALID_ARG) {
		/* Only the instance the scenario gives no <config> gets here. */
		amber_check_err("no <config>: the config ROM is refused", err, AMBER_ERR_INVALID_ARG);
		const char *text = 0;
		amber_check_err("and amber_rom_config says so too", amber_rom_config(&text, 0), AMBER_ERR_INVALID_ARG);
		return;
	}
	if (!amber_check_err("open the config ROM", err, AMBER_OK))
		return;
	amber_check_val("the ROM session is a gate", amber_cap_info_of(rom.session).kind, AMBER_KIND_GATE);

	uint64_t size = 0;
	amber_check_err("ROM SIZE", amber_rom_size(rom.session, &size), AMBER_OK);
	if (!amber_check_err("attach the config ROM", amber_rom_attach(&rom), AMBER_OK))
		return;
	amber_check_val("SIZE is the size the attachment reports", rom.size, size);
	amber_check_val("the dataspace capability is a gate", amber_cap_info_of(rom.ds).kind, AMBER_KIND_GATE);
	amber_check_val("it is attached in the dynamic area", (uint64_t)(uintptr_t)rom.data >= AMBER_DYNAMIC_BASE, 1);

	bool is_first = rom.size == sizeof(first) - 1 && memcmp(rom.data, first, sizeof(first) - 1) == 0;
	bool is_second = rom.size == sizeof(second) - 1 && memcmp(rom.data, second, sizeof(second) - 1) == 0;
	if (is_second)
		amber_check_val("the config is the second component's", 1, 1);
	else
		amber_check_val("the config is the first component's", is_first, 1);
	amber_log("config (%lu bytes): %s", (unsigned long)rom.size, rom.data);

	uint64_t ds_size = 0;
	amber_check_err("dataspace SIZE", amber_dataspace_size(rom.ds, &ds_size), AMBER_OK);
	amber_check_val("the dataspace is the module and a zero, page-rounded", ds_size, round_page(rom.size + 1));
	unsigned zero = 1;
	for (uint64_t i = rom.size; i < ds_size; i++)
		zero &= rom.data[i] == 0;
	amber_check_val("after the module it reads as zero", zero, 1);

	const char *text = 0, *again = 0;
	uint64_t len = 0;
	amber_check_err("amber_rom_config", amber_rom_config(&text, &len), AMBER_OK);
	amber_check_val("gives the same text", text && len == rom.size && strcmp(text, rom.data) == 0, 1);
	amber_check_err("amber_rom_config again", amber_rom_config(&again, 0), AMBER_OK);
	amber_check_val("keeps its attachment", again == text, 1);

	/* The same dataspace each time; another session makes its own copy. */
	amber_sel_t ds2 = amber_check_slot();
	amber_check_err("DATASPACE again", amber_rom_dataspace(rom.session, ds2, 0), AMBER_OK);
	amber_check_val("it is the same dataspace", amber_cap_info_of(ds2).object_id, amber_cap_info_of(rom.ds).object_id);
	amber_task_delete(AMBER_SEL_TASK, ds2);
	struct amber_rom other;
	if (amber_check_err("a second session on the config ROM", amber_rom_open(&other, AMBER_ROM_CONFIG), AMBER_OK) &&
	    amber_check_err("attach it", amber_rom_attach(&other), AMBER_OK)) {
		amber_check_val("it is a copy of its own", amber_cap_info_of(other.ds).object_id != amber_cap_info_of(rom.ds).object_id, 1);
		amber_check_val("with the same content", strcmp(other.data, rom.data), 0);
		amber_check_err("detach it", amber_rom_detach(&other), AMBER_OK);
	}

	/* Read-only. */
	amber_sel_t rm = amber_env_rm();
	uint64_t addr = 0;
	amber_check_err("attach the config ROM writable -> RIGHTS",
			amber_rm_attach(rm, rom.ds, 0, 0, 0, AMBER_RM_WRITABLE, &addr), AMBER_ERR_RIGHTS);
	amber_check_err("writable and executable -> RIGHTS",
			amber_rm_attach(rm, rom.ds, 0, 0, 0, AMBER_RM_WRITABLE | AMBER_RM_EXECUTABLE, &addr),
			AMBER_ERR_RIGHTS);
	amber_check_err("free the ROM dataspace as RAM -> INVALID_ARG", amber_pd_free_ram(pd, rom.ds),
			AMBER_ERR_INVALID_ARG);
	amber_check_val("its capability is untouched", amber_cap_info_of(rom.ds).kind, AMBER_KIND_GATE);

	/* Detach and attach again. */
	amber_check_err("attach again (detaches the first attachment)", amber_rom_attach(&rom), AMBER_OK);
	amber_check_val("the new one reads the same", rom.size == len && memcmp(rom.data, text, len) == 0, 1);
	amber_check_err("detach", amber_rom_detach(&rom), AMBER_OK);
	amber_check_val("the dataspace slot is given back", rom.ds, AMBER_SEL_INVALID);

	/* Signal handler: a signal context (through the PD's methods, with
	 * the first thread as the source's handler thread). The module does
	 * not change here: tests/unit/test_rom.c sees the signal. */
	amber_sel_t irq = amber_check_slot(), source = amber_check_slot(), semaphore = amber_check_slot(), ctx = amber_check_slot();
	amber_check_val("two adjacent slots for the source and its semaphore", semaphore, source + 1);
	amber_factory_create_irq(AMBER_SEL_FACTORY, irq);
	u->mr[0] = AMBER_PD_ALLOC_SIGNAL_SOURCE;
	u->mr[1] = amber_map_item(AMBER_SEL_THREAD, AMBER_RIGHTS_ALL);
	amber_check_err("a signal source", amber_ipc_call_rcv(pd, amber_tag(AMBER_PROTO_PD, 1, 1), source, 2), AMBER_OK);
	u->mr[0] = AMBER_PD_ALLOC_CONTEXT;
	u->mr[1] = 0x5157;
	u->mr[2] = amber_map_item(source, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	amber_check_err("a signal context", amber_ipc_call_rcv(pd, amber_tag(AMBER_PROTO_PD, 2, 1), ctx, 1), AMBER_OK);
	amber_check_err("SIGH with the signal context", amber_rom_sigh(rom.session, ctx), AMBER_OK);
	amber_check_val("our capability stays", amber_cap_info_of(ctx).kind, AMBER_KIND_GATE);
	amber_check_err("SIGH again replaces it", amber_rom_sigh(rom.session, ctx), AMBER_OK);
	amber_check_err("SIGH with an IRQ -> INVALID_ARG", amber_rom_sigh(rom.session, irq), AMBER_ERR_INVALID_ARG);
	amber_check_err("SIGH with the LOG gate -> INVALID_ARG", amber_rom_sigh(rom.session, AMBER_SEL_LOG),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("SIGH without one forgets it", amber_rom_sigh(rom.session, AMBER_SEL_INVALID), AMBER_OK);
	u->mr[0] = AMBER_ROM_SIGH;
	u->mr[1] = amber_map_item(ctx, AMBER_RIGHT_INVOKE);
	u->mr[2] = amber_map_item(ctx, AMBER_RIGHT_INVOKE);
	amber_check_err("SIGH with two capabilities -> INVALID_ARG",
			amber_ipc_call(rom.session, amber_tag(AMBER_PROTO_ROM, 1, 2), T_US, T_US), AMBER_ERR_INVALID_ARG);
	amber_check_val("the irq is untouched", amber_cap_info_of(irq).kind, AMBER_KIND_IRQ);

	/* Protocol errors. */
	u->mr[0] = 99;
	amber_check_err("unknown ROM method -> OPCODE",
			amber_ipc_call(rom.session, amber_tag(AMBER_PROTO_ROM, 1, 0), T_US, T_US), AMBER_ERR_OPCODE);
	u->mr[0] = AMBER_ROM_SIZE;
	amber_check_err("ROM with the PD label -> PROTO",
			amber_ipc_call(rom.session, amber_tag(AMBER_PROTO_PD, 1, 0), T_US, T_US), AMBER_ERR_PROTO);
	amber_check_err("ROM without a method -> OPCODE",
			amber_ipc_call(rom.session, amber_tag(AMBER_PROTO_ROM, 0, 0), T_US, T_US), AMBER_ERR_OPCODE);
}

/* ---- a binary module ------------------------------------------------------ */

static void binary(void)
{
	struct amber_rom rom;
	if (!amber_check_err("open the ROM 'hello_server'", amber_rom_open(&rom, "hello_server"), AMBER_OK) ||
	    !amber_check_err("attach it", amber_rom_attach(&rom), AMBER_OK))
		return;
	amber_check_val("it is bigger than an ELF header", rom.size > 64, 1);
	amber_check_val("it starts with the ELF magic",
			rom.data[0] == 0x7f && rom.data[1] == 'E' && rom.data[2] == 'L' && rom.data[3] == 'F', 1);
	amber_check_val("it is a 64-bit ELF file", (uint64_t)rom.data[4], 2);
	amber_check_val("a zero follows it", (uint64_t)rom.data[rom.size], 0);
	uint64_t ds_size = 0;
	amber_dataspace_size(rom.ds, &ds_size);
	amber_check_val("its dataspace is page-rounded", ds_size, round_page(rom.size + 1));
	amber_check_err("attach it writable -> RIGHTS",
			amber_rm_attach(amber_env_rm(), rom.ds, 0, 0, 0, AMBER_RM_WRITABLE, 0), AMBER_ERR_RIGHTS);
	uint64_t x = 0;
	amber_check_err("attach it executable (read-only)",
			amber_rm_attach(amber_env_rm(), rom.ds, 0, 0, 0, AMBER_RM_EXECUTABLE, &x), AMBER_OK);
	amber_check_val("the executable attachment shows the same bytes",
			memcmp((const void *)(uintptr_t)x, rom.data, rom.size), 0);
	amber_check_err("detach that", amber_rm_detach(amber_env_rm(), x), AMBER_OK);
	amber_check_err("detach the module", amber_rom_detach(&rom), AMBER_OK);
}

/* ---- what is refused --------------------------------------------------------- */

static void refused(void)
{
	static const char *const bad[] = {
		"",               /* empty */
		"..",             /* the parent directory */
		".",              /* the directory itself */
		"../hello_server", /* climbing out */
		"../../etc/passwd",
		"hello/server",   /* a path */
		"/etc/passwd",    /* an absolute path */
		".hidden",        /* not starting with '.' */
		"a..b",           /* no ".." anywhere */
		"with space",     /* outside [A-Za-z0-9._-] */
		"no_such_module", /* valid, but not there */
		"0123456789012345678901234567890123456789012345678901234567890123", /* 64 characters */
	};
	char what[128];
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct amber_rom rom;
		amber_snprintf(what, sizeof(what), "ROM '%s' -> INVALID_ARG", bad[i]);
		amber_check_err(what, amber_rom_open(&rom, bad[i]), AMBER_ERR_INVALID_ARG);
	}
	amber_sel_t s = amber_check_slot();
	amber_check_err("ROM without a module name -> INVALID_ARG", amber_parent_session(AMBER_ROM_SERVICE, s, T_US),
			AMBER_ERR_INVALID_ARG);
	amber_check_err("PD with a session argument -> INVALID_ARG", amber_parent_session_arg("PD", "x", s, T_US),
			AMBER_ERR_INVALID_ARG);
	amber_check_val("the slot of a refused session stays empty", amber_cap_info_of(s).kind, AMBER_KIND_NONE);
	amber_sel_t gate = amber_check_slot();
	amber_factory_create_gate(AMBER_SEL_FACTORY, gate, AMBER_SEL_THREAD, 0x77);
	amber_check_err("announcing a service named ROM -> INVALID_ARG", amber_parent_announce("ROM", gate),
			AMBER_ERR_INVALID_ARG);
	static char name[401], arg[129]; /* 50 and 16 words: with the method and lengths, 69 > 64 */
	memset(name, 'n', sizeof(name) - 1);
	memset(arg, 'a', sizeof(arg) - 1);
	amber_check_err("a name and argument too long for one message -> INVALID_ARG",
			amber_parent_session_arg(name, arg, s, T_US), AMBER_ERR_INVALID_ARG);
}

int main(void)
{
	u = amber_utcb();
	amber_log("test_rom: start");
	pd = amber_check_slot();
	amber_parent_session(AMBER_PD_SERVICE, pd, T_US);
	uint64_t before = ram_used();
	config();
	binary();
	refused();
	amber_check_val("ROM modules are not charged to the component's RAM quota", ram_used(), before);
	return amber_check_done();
}
