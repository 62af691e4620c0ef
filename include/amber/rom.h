/*
 * Client of core's ROM session (amber/rom_session.h): read-only modules
 * (component binaries, the component's "config") as dataspaces, attached
 * read-only through the component's own RM session (amber_env_rm()).
 * Functions return 0 or a negative enum amber_error and, like all IPC,
 * overwrite the UTCB.
 */
#ifndef AMBER_ROM_H
#define AMBER_ROM_H

#include "abi.h"
#include "rom_session.h"

struct amber_rom {
	amber_sel_t session; /* the ROM session */
	amber_sel_t ds;      /* its dataspace while attached, else AMBER_SEL_INVALID */
	const char *data;    /* where it is attached (read-only), or NULL */
	uint64_t size;       /* the module's size in bytes (data[size] is 0) */
};

/* Ask the parent for a ROM session for module `name`. INVALID_ARG for a
 * name core does not know (core reports why). */
int amber_rom_open(struct amber_rom *rom, const char *name);
/* Attach the module read-only: rom->data and rom->size. Attaching again
 * detaches the previous attachment and fetches the current version. */
int amber_rom_attach(struct amber_rom *rom);
/* Detach it (the session stays open). */
int amber_rom_detach(struct amber_rom *rom);
/* Detach it and give the session back to the parent (amber_parent_close):
 * core frees the session's dataspace and forgets its signal handler.
 * INVALID_ARG if it is not open. Not for the module of amber_rom_config. */
int amber_rom_close(struct amber_rom *rom);

/* The component's "config" module as a NUL-terminated string, opened and
 * attached on first use and kept. INVALID_ARG if the scenario gives the
 * component no <config>. `len` may be NULL. Thread-safe. */
int amber_rom_config(const char **text, uint64_t *len);
/* A decimal attribute NAME="123" anywhere in a config text (a component's
 * config is XML, which components do not parse), or dflt. */
unsigned amber_config_number(const char *text, const char *name, unsigned dflt);

/* The protocol's methods. DATASPACE puts the dataspace into slot `dst`
 * and its size into *size (may be NULL). */
int amber_rom_dataspace(amber_sel_t rom, amber_sel_t dst, uint64_t *size);
int amber_rom_size(amber_sel_t rom, uint64_t *size);
/* Register signal context `sigh` for changes (AMBER_SEL_INVALID: none). */
int amber_rom_sigh(amber_sel_t rom, amber_sel_t sigh);

#endif
