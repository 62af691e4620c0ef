/*
 * The ROM session of core: a read-only module (a component binary, or the
 * component's configuration) as a dataspace.
 *
 * A component asks its parent for a session with the service name
 * AMBER_ROM_SERVICE and the module's name as the session argument (the
 * second string of AMBER_PARENT_SESSION, amber/protocols.h); as in Genode,
 * where the session label names the module. Modules:
 *
 *   "config"   the component's own configuration: the children of the
 *              <config> node of its <component> in the scenario, serialized
 *              as XML, leading and trailing white space removed. Only if
 *              the scenario gives it a <config>.
 *   any other  a file of that name in the components directory (the
 *              binaries), at most AMBER_ROM_MODULE_MAX bytes.
 *
 * Names are 1 to AMBER_ROM_NAME_MAX - 1 characters of [A-Za-z0-9._-] and
 * do not start with '.'; anything else, or a module that does not exist,
 * is refused with AMBER_ERR_INVALID_ARG (core reports why).
 *
 * Core copies the module into a new dataspace when the session is opened:
 * read-only (RM ATTACH with AMBER_RM_WRITABLE is refused with RIGHTS),
 * charged to core and not to the component's RAM quota, and released
 * with the session (CLOSE, or the end of the component). The dataspace is
 * page-rounded and zero-filled past the module, and always holds at least
 * one zero byte after it, so a config can be read as a C string.
 *
 * Tag label AMBER_PROTO_ROM, mr[0] the method; refusals come back as the
 * IPC result.
 *
 *   DATASPACE  -> mr[0] = the module's size in bytes; one map item (mr[1]):
 *              the dataspace (INVOKE|GRANT). The same dataspace every time,
 *              until the module changes: then core copies the new version
 *              into a new dataspace and frees the old one (detaching it
 *              wherever it is attached), as Genode's dynamic ROMs do.
 *   SIZE       -> mr[0] = the size in bytes of the version DATASPACE hands
 *              out (taken when the session was opened or at the last
 *              DATASPACE).
 *   SIGH       one map item: a signal context (amber/signal_source.h, of
 *              any component); core submits one signal to it whenever the
 *              module changes. A later SIGH replaces it, one without an
 *              item forgets it. INVALID_ARG for anything but a signal
 *              context. Only "config" can change, and only through core
 *              (rom_update); binaries never change.
 */
#ifndef AMBER_ROM_SESSION_H
#define AMBER_ROM_SESSION_H

#include "abi.h"

#define AMBER_ROM_SERVICE "ROM"
#define AMBER_PROTO_ROM 0x1007u

#define AMBER_ROM_CONFIG "config"               /* the component's own configuration */
#define AMBER_ROM_NAME_MAX 64u                  /* including the terminating NUL */
#define AMBER_ROM_MODULE_MAX (16ull << 20)      /* largest module core copies */
#define AMBER_ROM_CONFIG_MAX (64u << 10)        /* largest <config> a scenario may give */

enum amber_rom_method {
	AMBER_ROM_DATASPACE = 1,
	AMBER_ROM_SIZE = 2,
	AMBER_ROM_SIGH = 3,
};

#endif
