/*
 * The root interface: a server that knows its clients' sessions (Genode's
 * Root::session, upgrade and close).
 *
 * A service announced with amber_parent_announce(name, gate) hands every
 * client the same gate; the server never learns who opens, how much quota
 * comes with it, or when a client is gone. A service announced with
 * amber_parent_announce_root(name, context) has one session object per
 * client, made by the server: the parent (core at the top level) turns a
 * client's SESSION into a CREATE request with the client's label, the
 * session arguments and the quota it donates ("ram_quota=8K, cap_quota=2"
 * in the arguments, moved from the client's quota to the server's first),
 * SESSION_UPGRADE into an UPGRADE request (more quota), and the client's
 * CLOSE of the session, or the client's end, into a CLOSE request. The
 * parent submits the signal context whenever a request waits; the server
 * fetches requests and answers each (protocol: amber/protocols.h,
 * ANNOUNCE_ROOT .. SESSION_UPGRADE; docs/services.md).
 *
 * struct amber_root does the bookkeeping as Genode's Root_component does:
 * call amber_root_dispatch() from the context's signal handler and it runs
 * the server's session, upgrade and close functions for each request, and
 * answers the parent. A session function returns 0 with the session's
 * capability (a gate bound to a thread of the server, e.g. an RPC object
 * of its entrypoint) and a handle for the later calls, or a negative
 * enum amber_error, which the client's amber_parent_session returns
 * (RIGHTS for Genode's Service_denied, QUOTA for Insufficient_ram_quota;
 * the donation then goes back to the client).
 *
 * Limits: at the top level only (children of init announce to init,
 * which hands out the announced gate as before); the session argument is
 * at most 63 bytes.
 */
#ifndef AMBER_ROOT_H
#define AMBER_ROOT_H

#include "abi.h"
#include "protocols.h"

#define AMBER_ROOT_TEXT_MAX 72u

struct amber_root_request {
	unsigned kind;       /* enum amber_root_request_kind */
	uint64_t id;         /* the parent's id of the session */
	uint64_t ram, caps;  /* CREATE: donated; UPGRADE: this much more; CLOSE: in all */
	char service[AMBER_ROOT_TEXT_MAX];
	char label[AMBER_ROOT_TEXT_MAX]; /* who asked: the client's name */
	char args[AMBER_ROOT_TEXT_MAX];  /* the session argument ("" none) */
};

/* ---- the protocol ---- */
/* Announce `name` with the signal context `context` (a capability from
 * amber_signal_context_create) that the parent submits for requests. */
int amber_parent_announce_root(const char *name, amber_sel_t context);
/* The next request (kind AMBER_ROOT_NONE: none waits). */
int amber_root_fetch(struct amber_root_request *r);
/* Answer request `id`: status 0 or a negative amber_error; a CREATE
 * answered with 0 carries the session capability `cap`. */
int amber_root_respond(uint64_t id, int status, amber_sel_t cap);
/* Client: donate more quota to the server of `session` (UPGRADE). */
int amber_parent_session_upgrade(amber_sel_t session, uint64_t ram, uint64_t caps);

/* ---- the bookkeeping ---- */
struct amber_root_ops {
	/* A new session for r->label: 0 with *cap and *handle set, or an error. */
	int (*session)(void *ctx, const struct amber_root_request *r, amber_sel_t *cap, void **handle);
	/* More quota for the session (may be NULL). */
	void (*upgrade)(void *ctx, void *handle, const struct amber_root_request *r);
	/* The session is gone (closed, or its client ended): free it. */
	void (*close)(void *ctx, void *handle, const struct amber_root_request *r);
};

struct amber_root_session; /* one entry per open session (heap) */

struct amber_root {
	const struct amber_root_ops *ops;
	void *ctx;
	struct amber_root_session *sessions;
	unsigned open;       /* sessions open now */
};

/* Handle every waiting request: the signal handler's job. The number
 * handled. */
unsigned amber_root_dispatch(struct amber_root *root);

#endif
