/*
 * The control socket's server: a thread of amber-core that answers the
 * `amber` command (docs/amber-command.md).
 *
 * One request per connection, one connection at a time: a request line,
 * then data lines and a final "OK ..." or "ERR ...", then the server
 * closes. Checkpoint and restore are long, rare and must not overlap, so
 * serving one at a time costs nothing and needs no locking of its own;
 * the price is that a client must not be able to stall the thread, hence
 * the deadline on reading a request and the send timeout.
 *
 * Who may connect: the socket is 0600 in a 0700 directory of amber-core's
 * user, and every connection's peer credentials (SO_PEERCRED) must show
 * that same uid; a connection from anyone else is answered with an ERR
 * line and closed, unread.
 *
 * One name, one system: NAME.lock next to the socket is held with flock
 * for amber-core's lifetime, so two amber-cores starting at once cannot
 * both decide that an existing socket is stale and take it over.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "control.h"
#include "core.h"
#include "cr.h"
#include "image/image.h"

#define CONTROL_MSG_MAX 1024
#define CONTROL_MAX_FIELDS 8

static struct {
	int listen_fd, lock_fd;
	int wake[2];             /* control_stop writes to wake[1] */
	bool thread_started;
	pthread_t thread;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
} ctl = { .listen_fd = -1, .lock_fd = -1, .wake = { -1, -1 } };

const char *control_path(void) { return ctl.path; }

/* An existing directory must be a real one (no symlink), this user's,
 * and closed to everyone else: otherwise another user could have placed
 * or could replace our socket. */
static int check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(dir, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory; refusing to put the control socket there", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s belongs to uid %u, not to uid %u; refusing to put the control socket there",
			 dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s has mode %04o, open to group or others; refusing to put the control socket there "
			 "(chmod 700 it)",
			 dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Hold NAME.lock. The file may be removed by the amber-core that held it
 * just before we locked it: then ours is a lock on nothing, and we try
 * the new file. 1 locked, 0 someone else holds it, -1 error. */
static int take_lock(char *err, size_t errlen)
{
	for (int tries = 0; tries < 16; tries++) {
		int fd = open(ctl.lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", ctl.lock_path, strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				return 0;
			snprintf(err, errlen, "%s: %s", ctl.lock_path, strerror(e));
			return -1;
		}
		struct stat held, now;
		if (fstat(fd, &held) == 0 && stat(ctl.lock_path, &now) == 0 && held.st_dev == now.st_dev &&
		    held.st_ino == now.st_ino) {
			ctl.lock_fd = fd;
			return 1;
		}
		close(fd);
	}
	snprintf(err, errlen, "%s: cannot take the lock (it keeps changing)", ctl.lock_path);
	return -1;
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return rc;
}

static void already_running(const char *name, char *err, size_t errlen)
{
	snprintf(err, errlen, "an Amber system named '%s' is already running (control socket %s); "
			      "stop it, or give this one another name with --control NAME",
		 name, ctl.path);
}

static void close_all(void)
{
	if (ctl.listen_fd >= 0) {
		close(ctl.listen_fd);
		ctl.listen_fd = -1;
		unlink(ctl.path);
	}
	if (ctl.lock_fd >= 0) {
		/* Unlinked while still held: whoever opened it meanwhile sees
		 * the inode change and retries (take_lock). */
		unlink(ctl.lock_path);
		close(ctl.lock_fd);
		ctl.lock_fd = -1;
	}
	for (int i = 0; i < 2; i++) {
		if (ctl.wake[i] >= 0)
			close(ctl.wake[i]);
		ctl.wake[i] = -1;
	}
}

int control_open(const char *name, char *err, size_t errlen)
{
	char dir[sizeof(ctl.path)];
	if (control_socket_path(name, ctl.path, sizeof(ctl.path), err, errlen) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", ctl.path);
	*strrchr(dir, '/') = '\0';
	if (mkdir(dir, 0700) == 0) {
		/* The umask may have taken bits we need; it cannot have added any. */
		chmod(dir, 0700);
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (check_dir(dir, err, errlen) < 0)
		goto fail;

	snprintf(ctl.lock_path, sizeof(ctl.lock_path), "%.*s.lock", (int)(strlen(ctl.path) - 5), ctl.path);
	int locked = take_lock(err, errlen);
	if (locked <= 0) {
		if (locked == 0)
			already_running(name, err, errlen);
		goto fail;
	}

	struct stat st;
	if (lstat(ctl.path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", ctl.path);
			goto fail;
		}
		/* Under the lock nobody else should serve it; an amber-core
		 * from before locks existed might. */
		if (connect_to(ctl.path) == 0) {
			already_running(name, err, errlen);
			goto fail;
		}
		unlink(ctl.path); /* stale: its amber-core died without removing it */
	}

	ctl.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl.listen_fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", ctl.path);
	/* Mode 0600 from its first moment: bind creates the file with the
	 * umask applied, and no thread runs yet that could create files. */
	mode_t old = umask(0177);
	int rc = bind(ctl.listen_fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	umask(old);
	if (rc < 0) {
		close(ctl.listen_fd);
		ctl.listen_fd = -1;
		if (e == EADDRINUSE)
			already_running(name, err, errlen);
		else
			snprintf(err, errlen, "cannot bind %s: %s", ctl.path, strerror(e));
		goto fail;
	}
	if (chmod(ctl.path, 0600) < 0 || listen(ctl.listen_fd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", ctl.path, strerror(errno));
		goto fail;
	}
	if (pipe2(ctl.wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close_all();
	ctl.path[0] = '\0';
	return -1;
}

/* ---- one connection ------------------------------------------------------ */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a client that went away must not SIGPIPE amber-core. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* gone, or the send timeout passed */
		buf += n;
		len -= (size_t)n;
	}
}

/* The final line. A message from cr_* or strerror is one line by
 * contract; should one not be, it must not end the answer early. */
static void finish(FILE *data, const char *status, const char *msg)
{
	fprintf(data, "%s", status);
	if (msg && *msg) {
		fputc(' ', data);
		for (const char *p = msg; *p; p++)
			fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, data);
	}
	fputc('\n', data);
}

/* Read the request line: until the newline, within CONTROL_TIMEOUT_S in
 * total (one byte at a time would otherwise keep us forever). The line
 * without its newline into buf. 0, or -1 with the reason in msg. */
static int read_request(int fd, char *buf, size_t *len, char *msg, size_t msglen)
{
	size_t have = 0;
	uint64_t deadline = now_ms() + CONTROL_TIMEOUT_S * 1000u;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			snprintf(msg, msglen, "timeout: no complete request line within %d s", CONTROL_TIMEOUT_S);
			return -1;
		}
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = ctl.wake[0], .events = POLLIN } };
		int n = poll(p, 2, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(msg, msglen, "poll: %s", strerror(errno));
			return -1;
		}
		if (p[1].revents) {
			snprintf(msg, msglen, "amber-core is stopping");
			return -1;
		}
		if (!p[0].revents)
			continue;
		ssize_t k = recv(fd, buf + have, CONTROL_REQUEST_MAX + 1 - have, MSG_DONTWAIT);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			snprintf(msg, msglen, "recv: %s", strerror(errno));
			return -1;
		}
		if (k == 0) {
			snprintf(msg, msglen, "malformed request: %s",
				 have ? "it does not end with a newline" : "empty (the connection closed)");
			return -1;
		}
		char *nl = memchr(buf + have, '\n', (size_t)k);
		have += (size_t)k;
		if (nl) {
			size_t line = (size_t)(nl - buf);
			if (line + 1 > CONTROL_REQUEST_MAX)
				break;
			if (line + 1 != have) {
				snprintf(msg, msglen, "malformed request: more than one line");
				return -1;
			}
			*len = line;
			buf[line] = '\0';
			return 0;
		}
		if (have >= CONTROL_REQUEST_MAX)
			break;
	}
	snprintf(msg, msglen, "malformed request: longer than %d bytes", CONTROL_REQUEST_MAX);
	return -1;
}

/* Split at TABs, checking the characters: fields into f, their number. */
static int split(char *line, size_t len, char **f, char *msg, size_t msglen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			snprintf(msg, msglen, "malformed request: control character 0x%02x at byte %zu", ch, i);
			return -1;
		}
	}
	int n = 0;
	char *p = line;
	for (;;) {
		if (n == CONTROL_MAX_FIELDS) {
			snprintf(msg, msglen, "malformed request: more than %d fields", CONTROL_MAX_FIELDS);
			return -1;
		}
		f[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	for (int i = 0; i < n; i++) {
		if (!*f[i]) {
			snprintf(msg, msglen, "malformed request: field %d is empty", i + 1);
			return -1;
		}
	}
	return n;
}

static bool absolute_dir(const char *dir, char *msg, size_t msglen)
{
	if (dir[0] == '/')
		return true;
	snprintf(msg, msglen, "malformed request: DIR must be an absolute path, not '%.200s'", dir);
	return false;
}

/* --key=FILE: amber-core reads the key file itself (same uid as the
 * client), so the key never passes through the socket. NULL: no key. */
#define KEY_FLAG "--key="

static bool load_key(const char *file, struct image_key *key, char *msg, size_t msglen)
{
	if (!file)
		return true;
	if (file[0] != '/') {
		snprintf(msg, msglen, "malformed request: the key file must be an absolute path, not '%.200s'", file);
		return false;
	}
	return image_key_load(file, key, msg, msglen) == 0;
}

static void handle_request(int fd, FILE *out)
{
	struct image_key key = { { 0 } };
	char buf[CONTROL_REQUEST_MAX + 2], msg[CONTROL_MSG_MAX] = "";
	size_t len;
	char *f[CONTROL_MAX_FIELDS];
	if (read_request(fd, buf, &len, msg, sizeof(msg)) < 0) {
		finish(out, "ERR", msg);
		return;
	}
	int n = split(buf, len, f, msg, sizeof(msg));
	if (n < 0) {
		finish(out, "ERR", msg);
		return;
	}

	if (strcmp(f[0], "ps") == 0) {
		if (n != 1) {
			finish(out, "ERR", "malformed request: ps takes no arguments");
			return;
		}
		char *text = NULL;
		size_t tlen = 0;
		FILE *t = open_memstream(&text, &tlen);
		if (!t) {
			finish(out, "ERR", "out of memory");
			return;
		}
		cr_ps(t);
		fclose(t);
		size_t lines = 0;
		for (size_t i = 0; i < tlen; i++)
			lines += text[i] == '\n';
		fwrite(text, 1, tlen, out);
		free(text);
		snprintf(msg, sizeof(msg), "%zu component%s", lines, lines == 1 ? "" : "s");
		finish(out, "OK", msg);
	} else if (strcmp(f[0], "stats") == 0) {
		if (n != 1) {
			finish(out, "ERR", "malformed request: stats takes no arguments");
			return;
		}
		size_t k = cr_stats(out);
		snprintf(msg, sizeof(msg), "core and %zu running component%s", k, k == 1 ? "" : "s");
		finish(out, "OK", msg);
	} else if (strcmp(f[0], "checkpoint") == 0) {
		struct cr_options o = { 0 };
		const char *keyfile = NULL;
		bool bad = n < 3 || n > 8;
		for (int k = 3; k < n && !bad; k++) {
			if (strcmp(f[k], "--kill") == 0 && !o.kill)
				o.kill = true;
			else if (strcmp(f[k], "--rollback") == 0 && !o.rollback)
				o.rollback = true;
			else if (strcmp(f[k], "--hold-output") == 0 && !o.hold_output)
				o.hold_output = true;
			else if (strncmp(f[k], "--parent=", 9) == 0 && !o.parent)
				o.parent = f[k] + 9;
			else if (!strncmp(f[k], KEY_FLAG, strlen(KEY_FLAG)) && !keyfile)
				keyfile = f[k] + strlen(KEY_FLAG);
			else
				bad = true;
		}
		if (bad) {
			finish(out, "ERR", "malformed request: checkpoint<TAB>NAME<TAB>DIR[<TAB>--kill][<TAB>--rollback]"
					   "[<TAB>--hold-output][<TAB>--parent=DIR][<TAB>--key=FILE]");
			return;
		}
		if (o.parent && !absolute_dir(o.parent, msg, sizeof(msg))) {
			finish(out, "ERR", msg);
			return;
		}
		if (!absolute_dir(f[2], msg, sizeof(msg)) || !load_key(keyfile, &key, msg, sizeof(msg))) {
			finish(out, "ERR", msg);
			return;
		}
		o.key = keyfile ? &key : NULL;
		int rc = cr_checkpoint(f[1], f[2], &o, msg, sizeof(msg));
		image_key_clear(&key);
		msg[sizeof(msg) - 1] = '\0';
		core_report("control: checkpoint %s into %s%s%s: %s", f[1], f[2], o.kill ? " (--kill)" : "",
			    o.rollback ? " (--rollback)" : "",
			    *msg ? msg : rc == 0 ? "done" : "failed");
		if (rc == 0 && !*msg)
			snprintf(msg, sizeof(msg), "checkpointed %.200s into %.500s", f[1], f[2]);
		finish(out, rc == 0 ? "OK" : "ERR", *msg ? msg : "checkpoint failed");
	} else if (strcmp(f[0], "release") == 0) {
		if (n != 2) {
			finish(out, "ERR", "malformed request: release<TAB>NAME");
			return;
		}
		int rc = cr_release_output(f[1], msg, sizeof(msg));
		core_report("control: release %s: %s", f[1], msg);
		finish(out, rc == 0 ? "OK" : "ERR", msg);
	} else if (strcmp(f[0], "restore") == 0) {
		struct cr_options o = { 0 };
		const char *keyfile = NULL;
		bool bad = n < 2 || n > 5;
		for (int k = 2; k < n && !bad; k++) {
			if (strcmp(f[k], "--partial") == 0 && !o.partial)
				o.partial = true;
			else if (strcmp(f[k], "--lazy") == 0 && !o.lazy)
				o.lazy = true;
			else if (!strncmp(f[k], KEY_FLAG, strlen(KEY_FLAG)) && !keyfile)
				keyfile = f[k] + strlen(KEY_FLAG);
			else
				bad = true;
		}
		if (bad) {
			finish(out, "ERR", "malformed request: restore<TAB>DIR[<TAB>--partial][<TAB>--lazy][<TAB>--key=FILE]");
			return;
		}
		if (!absolute_dir(f[1], msg, sizeof(msg)) || !load_key(keyfile, &key, msg, sizeof(msg))) {
			finish(out, "ERR", msg);
			return;
		}
		o.key = keyfile ? &key : NULL;
		int rc = cr_restore(f[1], &o, msg, sizeof(msg));
		image_key_clear(&key);
		msg[sizeof(msg) - 1] = '\0';
		core_report("control: restore %s%s%s: %s", f[1], o.partial ? " (--partial)" : "", o.lazy ? " (--lazy)" : "",
			    *msg ? msg : rc == 0 ? "done" : "failed");
		if (rc == 0 && !*msg)
			snprintf(msg, sizeof(msg), "restored %.500s", f[1]);
		finish(out, rc == 0 ? "OK" : "ERR", *msg ? msg : "restore failed");
	} else {
		snprintf(msg, sizeof(msg), "malformed request: unknown request '%.64s' (ps, stats, checkpoint, release, restore)", f[0]);
		finish(out, "ERR", msg);
	}
}

/* Closing with unread input would make the client's read fail with
 * ECONNRESET instead of seeing the end of the answer: take what is there. */
static void drain(int fd)
{
	shutdown(fd, SHUT_WR);
	char junk[4096];
	for (int i = 0; i < 16 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
		;
}

static void handle(int fd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || clen != sizeof(cred) ||
	    cred.uid != geteuid()) {
		char line[160];
		int n = snprintf(line, sizeof(line), "ERR permission denied: only uid %u may control this amber-core\n",
				 (unsigned)geteuid());
		core_report("control: refused a connection from uid %d, pid %d", clen == sizeof(cred) ? (int)cred.uid : -1,
			    clen == sizeof(cred) ? (int)cred.pid : -1);
		struct timeval tv = { .tv_sec = CONTROL_TIMEOUT_S };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		send_all(fd, line, (size_t)n);
		drain(fd);
		return;
	}
	struct timeval tv = { .tv_sec = CONTROL_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	/* The whole answer is assembled first and sent after the handler
	 * returned: no handler writes to the client while it holds a lock. */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out) {
		static const char oom[] = "ERR out of memory\n";
		send_all(fd, oom, sizeof(oom) - 1);
		return;
	}
	handle_request(fd, out);
	fclose(out);
	send_all(fd, text, len);
	free(text);
	drain(fd);
	cr_checkpoint_track(); /* what a checkpoint left for after its answer */
}

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = ctl.listen_fd, .events = POLLIN }, { .fd = ctl.wake[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			core_report("control: poll: %s; the control socket is no longer served", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (!p[0].revents)
			continue;
		int fd = accept4(ctl.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: the next poll would return at once. */
				struct timespec ms = { 0, 100 * 1000 * 1000 };
				nanosleep(&ms, NULL);
			}
			continue;
		}
		handle(fd);
		close(fd);
	}
}

int control_start(char *err, size_t errlen)
{
	if (ctl.listen_fd < 0) {
		snprintf(err, errlen, "the control socket is not open");
		return -1;
	}
	/* Signals stay with main's thread and the process layer's: this
	 * thread takes none. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&ctl.thread, NULL, serve, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "cannot start the control thread: %s", strerror(e));
		return -1;
	}
	ctl.thread_started = true;
	return 0;
}

void control_stop(void)
{
	if (ctl.thread_started) {
		char b = 1;
		while (write(ctl.wake[1], &b, 1) < 0 && errno == EINTR)
			;
		pthread_join(ctl.thread, NULL);
		ctl.thread_started = false;
	}
	close_all();
}
