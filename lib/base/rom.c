/*
 * ROM session client (amber/rom.h).
 *
 * Why the dataspace slot is kept while attached: the attachment lives on
 * in core regardless, but a component may pass the dataspace on or ask
 * for its size; detaching gives the slot back. Core may free a dataspace
 * when the module changes (a new version is a new dataspace), which also
 * removes its attachment, so detach and delete ignore "already gone".
 */
#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/lock.h>
#include <amber/parent.h>
#include <amber/rm.h>
#include <amber/rom.h>
#include <amber/string.h>

int amber_rom_dataspace(amber_sel_t rom, amber_sel_t dst, uint64_t *size)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_ROM_DATASPACE;
	int err = amber_ipc_call_rcv(rom, amber_tag(AMBER_PROTO_ROM, 1, 0), dst, 1);
	if (err == AMBER_OK && (amber_tag_words(u->tag) < 1 || amber_tag_items(u->tag) != 1))
		err = AMBER_ERR_ITEM;
	if (err == AMBER_OK && size)
		*size = u->mr[0];
	return err;
}

int amber_rom_size(amber_sel_t rom, uint64_t *size)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_ROM_SIZE;
	int err = amber_ipc_call(rom, amber_tag(AMBER_PROTO_ROM, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK && size)
		*size = u->mr[0];
	return err;
}

int amber_rom_sigh(amber_sel_t rom, amber_sel_t sigh)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_ROM_SIGH;
	unsigned items = 0;
	if (sigh != AMBER_SEL_INVALID) {
		u->mr[1] = amber_map_item(sigh, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
		items = 1;
	}
	return amber_ipc_call(rom, amber_tag(AMBER_PROTO_ROM, 1, items), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_rom_open(struct amber_rom *rom, const char *name)
{
	rom->session = rom->ds = AMBER_SEL_INVALID;
	rom->data = 0;
	rom->size = 0;
	amber_sel_t sel = amber_cap_alloc();
	if (sel == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	int err = amber_parent_session_arg(AMBER_ROM_SERVICE, name, sel, AMBER_TIMEOUT_NEVER);
	if (err) {
		amber_cap_free(sel);
		return err;
	}
	rom->session = sel;
	return AMBER_OK;
}

int amber_rom_detach(struct amber_rom *rom)
{
	if (!rom->data)
		return AMBER_OK;
	amber_sel_t rm = amber_env_rm();
	if (rm != AMBER_SEL_INVALID)
		amber_rm_detach(rm, (uint64_t)(uintptr_t)rom->data); /* gone already if core freed it */
	amber_task_delete(AMBER_SEL_TASK, rom->ds);
	amber_cap_free(rom->ds);
	rom->ds = AMBER_SEL_INVALID;
	rom->data = 0;
	return AMBER_OK;
}

int amber_rom_close(struct amber_rom *rom)
{
	if (rom->session == AMBER_SEL_INVALID)
		return AMBER_ERR_INVALID_ARG;
	amber_rom_detach(rom);
	int err = amber_parent_close(rom->session);
	if (err)
		amber_task_delete(AMBER_SEL_TASK, rom->session); /* our copy at least */
	amber_cap_free(rom->session);
	rom->session = AMBER_SEL_INVALID;
	return err;
}

int amber_rom_attach(struct amber_rom *rom)
{
	amber_sel_t rm = amber_env_rm();
	if (rm == AMBER_SEL_INVALID)
		return AMBER_ERR_NO_PARTNER;
	amber_sel_t ds = amber_cap_alloc();
	if (ds == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	uint64_t size = 0, addr = 0;
	int err = amber_rom_dataspace(rom->session, ds, &size);
	if (err) {
		amber_cap_free(ds);
		return err;
	}
	amber_rom_detach(rom);
	err = amber_rm_attach(rm, ds, 0, 0, 0, 0, &addr);
	if (err) {
		amber_task_delete(AMBER_SEL_TASK, ds);
		amber_cap_free(ds);
		return err;
	}
	rom->ds = ds;
	rom->data = (const char *)(uintptr_t)addr;
	rom->size = size;
	return AMBER_OK;
}

static struct amber_lock config_lock = AMBER_LOCK_INIT;
static struct amber_rom config;

int amber_rom_config(const char **text, uint64_t *len)
{
	int err = AMBER_OK;
	amber_lock_acquire(&config_lock);
	if (!config.data) {
		if (config.session == AMBER_SEL_INVALID)
			err = amber_rom_open(&config, AMBER_ROM_CONFIG);
		if (err == AMBER_OK)
			err = amber_rom_attach(&config);
	}
	if (err == AMBER_OK) {
		*text = config.data;
		if (len)
			*len = config.size;
	}
	amber_lock_release(&config_lock);
	return err;
}

unsigned amber_config_number(const char *text, const char *name, unsigned dflt)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p++) {
		if (strncmp(p, name, n) != 0 || p[n] != '=' || p[n + 1] != '"' || (p > text && p[-1] != ' '))
			continue;
		unsigned v = 0, digits = 0;
		for (p += n + 2; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
			v = v * 10u + (unsigned)(*p - '0');
		return digits && *p == '"' ? v : dflt;
	}
	return dflt;
}
