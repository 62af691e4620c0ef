/*
 * Integration-test harness. amber-core runs as a child process with its
 * output in a pipe; a generous --timeout keeps a broken scenario from
 * hanging the suite, and a watchdog kill covers a hung amber-core.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

const char *build_dir(void)
{
	const char *b = getenv("AMBER_BUILD");
	return b && *b ? b : "build";
}

static void append(struct run *r, const char *buf, size_t n)
{
	char *p = realloc(r->output, r->len + n + 1);
	if (!p)
		abort();
	r->output = p;
	memcpy(r->output + r->len, buf, n);
	r->len += n;
	r->output[r->len] = '\0';
}

static void run_core(struct run *r, const char *path, const char *components_dir, int timeout_s,
		     run_action action, void *arg)
{
	memset(r, 0, sizeof(*r));
	append(r, "", 0);
	char core[512], tmo[16];
	snprintf(core, sizeof(core), "%s/amber-core", build_dir());
	snprintf(tmo, sizeof(tmo), "%d", timeout_s);

	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (components_dir)
			execl(core, core, "--timeout", tmo, "--components", components_dir, path, (char *)NULL);
		else
			execl(core, core, "--timeout", tmo, path, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", core, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	time_t hard_deadline = time(NULL) + timeout_s + 20;
	char buf[4096];
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int n = poll(&p, 1, 500);
		if (n > 0) {
			ssize_t k = read(fds[0], buf, sizeof(buf));
			if (k <= 0)
				break;
			append(r, buf, (size_t)k);
			if (action && action(pid, r, arg))
				action = NULL;
		}
		if (time(NULL) > hard_deadline) {
			kill(pid, SIGKILL);
			append(r, "\nharness: amber-core hung and was killed\n", 41);
			break;
		}
	}
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void run_scenario_file(struct run *r, const char *path, int timeout_s)
{
	run_core(r, path, NULL, timeout_s, NULL, NULL);
}

void run_scenario_with_action(struct run *r, const char *path, int timeout_s, run_action action, void *arg)
{
	run_core(r, path, NULL, timeout_s, action, arg);
}

void run_scenario_text_in(struct run *r, const char *xml, const char *components_dir, int timeout_s)
{
	char path[] = "/tmp/amber-scenario-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	size_t n = strlen(xml);
	if (write(fd, xml, n) != (ssize_t)n)
		abort();
	close(fd);
	run_core(r, path, components_dir, timeout_s, NULL, NULL);
	unlink(path);
}

void run_scenario_text(struct run *r, const char *xml, int timeout_s)
{
	run_scenario_text_in(r, xml, NULL, timeout_s);
}

void run_free(struct run *r)
{
	free(r->output);
	r->output = NULL;
}

int run_count(const struct run *r, const char *text)
{
	int count = 0;
	const char *line = r->output;
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		if (copy && strstr(copy, text))
			count++;
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return count;
}

bool run_has(const struct run *r, const char *text) { return run_count(r, text) > 0; }

void run_dump(const struct run *r)
{
	fprintf(stderr, "---- amber-core (status %d) ----\n%s---- end ----\n", r->status, r->output);
}
