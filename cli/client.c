/*
 * The control socket's client: one connection per request, as the
 * protocol has it (docs/amber-command.md). The socket's path comes from
 * the same rule amber-core uses (core/control.h), so that `amber -s NAME`
 * finds the amber-core started with `--control NAME` by the same user.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "core/control.h"

static int connect_system(const char *name)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], err[256];
	if (control_socket_path(name, path, sizeof(path), err, sizeof(err)) < 0) {
		fprintf(stderr, "amber: %s\n", err);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "amber: socket: %s\n", strerror(errno));
		return -1;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		/* No file, or a file nobody listens on (its amber-core died). */
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "amber: no Amber system named '%s' is running (no socket at %s)\n", name, path);
		else
			fprintf(stderr, "amber: cannot connect to %s: %s\n", path, strerror(e));
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Split the answer into lines; the last one is the status. */
static int parse_answer(struct cli_answer *a, size_t len)
{
	if (len == 0 || a->buf[len - 1] != '\n') {
		fprintf(stderr, "amber: amber-core closed the connection %s\n",
			len ? "in the middle of its answer" : "without an answer");
		return -1;
	}
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += a->buf[i] == '\n';
	a->lines = calloc(n, sizeof(*a->lines));
	if (!a->lines) {
		fprintf(stderr, "amber: out of memory\n");
		return -1;
	}
	char *p = a->buf;
	for (size_t i = 0; i < n; i++) {
		char *nl = strchr(p, '\n');
		*nl = '\0';
		a->lines[i] = p;
		p = nl + 1;
	}
	char *last = a->lines[n - 1];
	a->nlines = n - 1;
	if (strncmp(last, "OK", 2) == 0 && (last[2] == ' ' || last[2] == '\0')) {
		a->ok = true;
		a->message = last[2] ? last + 3 : last + 2;
	} else if (strncmp(last, "ERR", 3) == 0 && (last[3] == ' ' || last[3] == '\0')) {
		a->ok = false;
		a->message = last[3] ? last + 4 : last + 3;
	} else {
		fprintf(stderr, "amber: amber-core's answer does not end in OK or ERR: %.200s\n", last);
		return -1;
	}
	return 0;
}

int cli_request(const char *name, const char *const *fields, size_t nfields, int timeout_s, struct cli_answer *a)
{
	memset(a, 0, sizeof(*a));
	char req[CONTROL_REQUEST_MAX + 1];
	size_t len = 0;
	for (size_t i = 0; i < nfields; i++) {
		size_t n = strlen(fields[i]);
		for (size_t k = 0; k < n; k++) {
			unsigned char ch = (unsigned char)fields[i][k];
			if (ch < 0x20 || ch == 0x7f) {
				fprintf(stderr, "amber: '%s' contains a control character, which a request cannot carry\n",
					fields[i]);
				return -1;
			}
		}
		if (len + n + 1 > CONTROL_REQUEST_MAX) {
			fprintf(stderr, "amber: the request is longer than %d bytes\n", CONTROL_REQUEST_MAX);
			return -1;
		}
		memcpy(req + len, fields[i], n);
		len += n;
		req[len++] = i + 1 < nfields ? '\t' : '\n';
	}

	int fd = connect_system(name);
	if (fd < 0)
		return -1;
	if (timeout_s > 0) {
		struct timeval tv = { .tv_sec = timeout_s };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (send_all(fd, req, len) < 0) {
		fprintf(stderr, "amber: cannot send the request: %s\n", strerror(errno));
		close(fd);
		return -1;
	}

	size_t have = 0, cap = 0;
	for (;;) {
		if (have + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 16384;
			char *p = realloc(a->buf, cap);
			if (!p) {
				fprintf(stderr, "amber: out of memory\n");
				close(fd);
				cli_answer_free(a);
				return -1;
			}
			a->buf = p;
		}
		ssize_t n = recv(fd, a->buf + have, cap - have - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* The server closes after its answer; ECONNRESET can stand for
		 * that end as well (it had not read all we sent). */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n < 0) {
			int e = errno;
			close(fd);
			cli_answer_free(a);
			if (e == EAGAIN || e == EWOULDBLOCK)
				fprintf(stderr, "amber: no answer from amber-core within %d s\n", timeout_s);
			else
				fprintf(stderr, "amber: cannot read the answer: %s\n", strerror(e));
			return -1;
		}
		have += (size_t)n;
	}
	close(fd);
	if (!a->buf) {
		fprintf(stderr, "amber: amber-core closed the connection without an answer\n");
		return -1;
	}
	a->buf[have] = '\0';
	if (parse_answer(a, have) < 0) {
		cli_answer_free(a);
		return -1;
	}
	return 0;
}

void cli_answer_free(struct cli_answer *a)
{
	free(a->lines);
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

int cli_simple_request(const char *name, const char *const *fields, size_t nfields)
{
	struct cli_answer a;
	if (cli_request(name, fields, nfields, 0, &a) < 0)
		return CLI_EXIT_FAIL;
	for (size_t i = 0; i < a.nlines; i++)
		printf("%s\n", a.lines[i]);
	int status = CLI_EXIT_OK;
	if (a.ok) {
		if (*a.message)
			printf("%s\n", a.message);
	} else {
		fprintf(stderr, "amber: %s\n", *a.message ? a.message : "amber-core refused the request");
		status = CLI_EXIT_FAIL;
	}
	cli_answer_free(&a);
	return status;
}

int cli_absolute_dir(const char *dir, char *out, size_t outlen)
{
	char buf[PATH_MAX];
	if (!*dir) {
		fprintf(stderr, "amber: an empty directory name\n");
		return -1;
	}
	if (realpath(dir, buf)) {
		if ((size_t)snprintf(out, outlen, "%s", buf) >= outlen)
			goto too_long;
		return 0;
	}
	if (errno != ENOENT) {
		fprintf(stderr, "amber: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	/* It does not exist yet (checkpoint creates it): its parent must. */
	char *d = strdup(dir), *b = strdup(dir);
	if (!d || !b) {
		free(d);
		free(b);
		fprintf(stderr, "amber: out of memory\n");
		return -1;
	}
	const char *parent = dirname(d), *base = basename(b);
	int rc = -1;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0) {
		fprintf(stderr, "amber: %s: %s\n", dir, strerror(ENOENT));
	} else if (!realpath(parent, buf)) {
		fprintf(stderr, "amber: %s: cannot use its parent directory %s: %s\n", dir, parent, strerror(errno));
	} else {
		int n = snprintf(out, outlen, "%s/%s", strcmp(buf, "/") == 0 ? "" : buf, base);
		rc = n < 0 || (size_t)n >= outlen ? -2 : 0;
	}
	free(d);
	free(b);
	if (rc != -2)
		return rc;
too_long:
	fprintf(stderr, "amber: %s: the path is too long\n", dir);
	return -1;
}
