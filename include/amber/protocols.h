/*
 * Protocols of the services every component starts with: its parent and
 * core's LOG. Each is a gate; the tag label names the protocol and mr[0]
 * the method. Strings travel packed into message words, preceded by their
 * length in bytes.
 */
#ifndef AMBER_PROTOCOLS_H
#define AMBER_PROTOCOLS_H

#include "abi.h"

/* Longest string that fits into one message after method and length words. */
#define AMBER_MSG_STRING_MAX ((AMBER_MR_COUNT - 2u) * 8u)

/* ---- LOG (gate in AMBER_SEL_LOG) ------------------------------------------
 * LOG_WRITE: mr[1] = length, mr[2..] = bytes. Core prints complete lines,
 * prefixed with the component's label: "[label] text". */
#define AMBER_PROTO_LOG 0x1001u
enum amber_log_method { AMBER_LOG_WRITE = 1 };

/* ---- Parent (gate in AMBER_SEL_PARENT) -------------------------------------
 * ANNOUNCE: mr[1] = length, mr[2..] = service name; one map item: the
 *   service's gate. The parent hands that gate to clients asking for it.
 * SESSION: mr[1] = length, mr[2..] = service name, optionally followed by a
 *   second string, the session argument (length word, then the bytes); the
 *   reply carries one map item, the service's gate. Blocks until a
 *   component announces the service (subject to the caller's receive
 *   timeout). It must be a call: a SESSION sent with SEND is dropped and
 *   makes nothing. Core keeps at most 64 waiting SESSION calls per
 *   component (QUOTA beyond), each only while its caller waits.
 *   The names "PD", "CPU", "RM", "ROM" and "Timer" are core's
 *   own services (pd_session.h, cpu_session.h, rm_session.h,
 *   rom_session.h, timer_session.h): each request creates a new session at
 *   once, and nobody can announce them.
 *   "ROM" needs the argument (the module's name); core's other services
 *   refuse one (INVALID_ARG); services announced with ANNOUNCE gates ignore
 *   it; with ANNOUNCE_ROOT the server gets it (below).
 * EXIT: mr[1] = exit code. The parent ends the component.
 * CLOSE: one map item: a session capability from SESSION. For a session of
 *   core's own services opened by or for the caller, core closes it: what
 *   the session made goes (Timer: its timeout; ROM: its dataspace copy,
 *   detached everywhere; RM: its attachments; CPU: its threads; PD: its
 *   dataspaces, detached everywhere and given back to the RAM quota, its
 *   RPC capabilities, signal sources and contexts), then its gate, which
 *   revokes every copy: a later call through any of them is
 *   AMBER_ERR_INVALID_CAP (the slot is empty). For a capability to an
 *   announced service the parent drops nothing and answers 0 (announced
 *   services are not session objects yet). Anything else, a session of
 *   another component, the LOG or the parent gate: AMBER_ERR_INVALID_ARG.
 * UPGRADE: mr[1] = RAM bytes, mr[2] = caps: the caller asks for that much
 *   more quota (Genode's resource request). init answers from its own
 *   spare quota (PD TRANSFER_QUOTA to the child) and refuses with QUOTA
 *   when it has not that much free; core, the parent of the scenario's
 *   components, has no spare quota: OPCODE.
 *
 * The root interface (Genode's Root::session/upgrade/close, in the
 * asynchronous form of Genode's parent: session requests the server
 * fetches, and responses it gives; amber/root.h; docs/services.md):
 * ANNOUNCE_ROOT: mr[1] = length, mr[2..] = service name; one map item: a
 *   signal context of the server's. Like ANNOUNCE, but every session is an
 *   object of the server: a client's SESSION becomes a CREATE request, its
 *   CLOSE or its end a CLOSE request, its SESSION_UPGRADE an UPGRADE
 *   request; the parent submits the context whenever one is waiting.
 * SESSION_REQUEST: the next waiting request for the caller's root
 *   services -> mr[0] = kind (enum amber_root_request_kind; NONE: none
 *   waits), mr[1] = the session's id, mr[2] = RAM bytes and mr[3] = caps
 *   the client donated (CREATE: in all; UPGRADE: this much more; CLOSE:
 *   what goes back), mr[4..] = the service name, the client's label and
 *   the session arguments, three strings.
 * SESSION_RESPONSE: mr[1] = id, mr[2] = 0 or a negative enum amber_error.
 *   To a CREATE with 0, one map item: the session capability (a gate of
 *   the server's), which the client's SESSION call returns; with an error,
 *   the client's SESSION returns that error (the donation goes back). To
 *   UPGRADE and CLOSE: the server is done (CLOSE: the record goes, the
 *   donation returns to the client). INVALID_ARG for an id the caller has
 *   no request for.
 * SESSION_UPGRADE: mr[1] = RAM bytes, mr[2] = caps; one map item: a
 *   session of a root service: the parent moves that much of the client's
 *   quota to the server and tells it (UPGRADE). QUOTA if the client has
 *   not that much unused. */
#define AMBER_PROTO_PARENT 0x1002u
enum amber_parent_method {
	AMBER_PARENT_ANNOUNCE = 1,
	AMBER_PARENT_SESSION = 2,
	AMBER_PARENT_EXIT = 3,
	AMBER_PARENT_CLOSE = 4,
	AMBER_PARENT_UPGRADE = 5,
	AMBER_PARENT_ANNOUNCE_ROOT = 6,
	AMBER_PARENT_SESSION_REQUEST = 7,
	AMBER_PARENT_SESSION_RESPONSE = 8,
	AMBER_PARENT_SESSION_UPGRADE = 9,
};

enum amber_root_request_kind {
	AMBER_ROOT_NONE = 0,
	AMBER_ROOT_CREATE = 1,
	AMBER_ROOT_UPGRADE = 2,
	AMBER_ROOT_CLOSE = 3,
};

#endif
