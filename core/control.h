/*
 * The control socket: how the `amber` command reaches a running amber-core
 * (docs/amber-command.md has the protocol).
 *
 * One Unix stream socket per system name, in a directory only its user
 * can enter:
 *
 *   $XDG_RUNTIME_DIR/amber/NAME.sock   if XDG_RUNTIME_DIR is set and writable
 *   /tmp/amber-UID/NAME.sock           otherwise
 *
 * The path rule is here, as inline functions, because both sides need it:
 * amber-core (control.c) and the amber command (cli/), which links none of
 * core's objects.
 */
#ifndef AMBER_CORE_CONTROL_H
#define AMBER_CORE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#define CONTROL_NAME_DEFAULT "default"
#define CONTROL_NAME_MAX 64       /* characters of a system name */
#define CONTROL_REQUEST_MAX 4096  /* bytes of a request line, its newline included */
#define CONTROL_TIMEOUT_S 5       /* to send a request, and to take the answer */

/* A system name becomes a file name: 1 to CONTROL_NAME_MAX of
 * [A-Za-z0-9._-], not starting with '.' (no "..", no hidden files). */
static inline bool control_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CONTROL_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* The socket directory of this user into dir. 0, or -1 if it does not fit. */
static inline int control_dir(char *dir, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	if (xdg && xdg[0] == '/' && access(xdg, W_OK | X_OK) == 0)
		n = snprintf(dir, len, "%s/amber", xdg);
	else
		n = snprintf(dir, len, "/tmp/amber-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The socket of system `name` into path (at most sizeof(sun_path) bytes
 * with its NUL). 0, or -1 with a reason in err. */
static inline int control_socket_path(const char *name, char *path, size_t len, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (!control_name_valid(name)) {
		snprintf(err, errlen,
			 "invalid system name '%.*s': use 1 to %d of the characters A-Z a-z 0-9 . _ -, "
			 "not starting with '.'",
			 CONTROL_NAME_MAX + 8, name, CONTROL_NAME_MAX);
		return -1;
	}
	int n = -1;
	if (control_dir(dir, sizeof(dir)) == 0)
		n = snprintf(path, len < sizeof(dir) ? len : sizeof(dir), "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= sizeof(dir) || (size_t)n >= len) {
		snprintf(err, errlen, "the control socket's path for '%s' is too long for a Unix socket", name);
		return -1;
	}
	return 0;
}

/* ---- amber-core's side (control.c) ---- */

/* Take the name: create the directory (mode 0700; an existing one must be
 * this user's and closed to others), refuse if a live amber-core serves
 * the name, remove a stale socket, bind and listen (mode 0600). Call
 * before any thread is started (it sets the umask for the bind). 0, or -1
 * with a message in err. */
int control_open(const char *name, char *err, size_t errlen);
/* The socket's path ("" before control_open). */
const char *control_path(void);
/* Serve the socket in a thread of its own, one connection at a time. */
int control_start(char *err, size_t errlen);
/* Stop the thread (a request being handled is finished first), remove the
 * socket and the lock. Safe to call if nothing was opened. */
void control_stop(void);

#endif
