/*
 * Integration-test harness. amber-core runs as a child process with its
 * output in a pipe; a generous --timeout keeps a broken scenario from
 * hanging the suite, and a watchdog kill covers a hung amber-core.
 *
 * Every amber-core gets a control name of its own, test-PID-N: test
 * programs run one after another but their amber-cores may overlap (and
 * other checkouts run theirs), and a name may serve one system only. So
 * every test also runs with the control socket, as users do.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

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

void harness_control_name(char *out, size_t len)
{
	static unsigned n;
	snprintf(out, len, "test-%d-%u", (int)getpid(), ++n);
}

/* Start amber-core on the scenario `path`, or with --restore restore_dir,
 * with its output in a pipe (*fd); components_dir NULL: the default; name
 * NULL: a fresh control name. Returns its pid. */
/* One more amber-core option for the next run (run_scenario_text_opt). */
static const char *extra_option;

static pid_t spawn_core(const char *path, const char *restore_dir, const char *components_dir, const char *name,
			int timeout_s, int *fd)
{
	char core[512], tmo[16], own_name[64];
	snprintf(core, sizeof(core), "%s/amber-core", build_dir());
	snprintf(tmo, sizeof(tmo), "%d", timeout_s);
	if (!name) {
		harness_control_name(own_name, sizeof(own_name));
		name = own_name;
	}
	const char *argv[12];
	size_t n = 0;
	argv[n++] = core;
	argv[n++] = "--timeout";
	argv[n++] = tmo;
	argv[n++] = "--control";
	argv[n++] = name;
	if (extra_option)
		argv[n++] = extra_option;
	if (components_dir) {
		argv[n++] = "--components";
		argv[n++] = components_dir;
	}
	if (restore_dir) {
		argv[n++] = "--restore";
		argv[n++] = restore_dir;
	} else {
		argv[n++] = path;
	}
	argv[n] = NULL;

	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execv(core, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", core, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	*fd = fds[0];
	return pid;
}

static void run_core(struct run *r, const char *path, const char *components_dir, int timeout_s,
		     run_action action, void *arg)
{
	memset(r, 0, sizeof(*r));
	append(r, "", 0);
	int fd;
	pid_t pid = spawn_core(path, NULL, components_dir, NULL, timeout_s, &fd);
	time_t hard_deadline = time(NULL) + timeout_s + 20;
	char buf[4096];
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, 500);
		if (n > 0) {
			ssize_t k = read(fd, buf, sizeof(buf));
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
	close(fd);
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

void run_scenario_text_opt(struct run *r, const char *xml, const char *option, int timeout_s)
{
	extra_option = option;
	run_scenario_text_in(r, xml, NULL, timeout_s);
	extra_option = NULL;
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

/* ---- a system that keeps running ----------------------------------------- */

static struct live_core *live_list; /* for live_stop_all */

/* Whatever amber-core wrote within poll_ms goes into lc->r; its end of
 * output closes lc->fd. */
static void live_read_some(struct live_core *lc, int poll_ms)
{
	char buf[4096];
	struct pollfd p = { .fd = lc->fd, .events = POLLIN };
	if (poll(&p, 1, poll_ms) <= 0)
		return;
	ssize_t k = read(lc->fd, buf, sizeof(buf));
	if (k <= 0) {
		close(lc->fd);
		lc->fd = -1;
		return;
	}
	append(&lc->r, buf, (size_t)k);
}

/* Read what amber-core wrote until `text` is in it, it closed its output,
 * or `seconds` passed. */
static bool live_read(struct live_core *lc, const char *text, int seconds)
{
	time_t deadline = time(NULL) + seconds;
	for (;;) {
		if (text && run_has(&lc->r, text))
			return true;
		if (lc->fd < 0 || time(NULL) > deadline)
			return false;
		live_read_some(lc, 200);
	}
}

bool live_start(struct live_core *lc, const char *path, const char *restore_dir, const char *name, const char *ready,
		int timeout_s)
{
	memset(lc, 0, sizeof(*lc));
	append(&lc->r, "", 0);
	if (name)
		snprintf(lc->name, sizeof(lc->name), "%s", name);
	else
		harness_control_name(lc->name, sizeof(lc->name));
	lc->pid = spawn_core(path, restore_dir, NULL, lc->name, timeout_s, &lc->fd);
	lc->next = live_list;
	live_list = lc;
	bool up = live_read(lc, ready ? ready : "core: control socket ", 20);
	const char *line = strstr(lc->r.output, "core: control socket ");
	if (line) {
		line += strlen("core: control socket ");
		size_t n = strcspn(line, "\n");
		if (n < sizeof(lc->socket) && line[n] == '\n')
			memcpy(lc->socket, line, n);
	}
	return up;
}

bool live_start_opt(struct live_core *lc, const char *path, const char *restore_dir, const char *option,
		    const char *ready, int timeout_s)
{
	extra_option = option;
	bool up = live_start(lc, path, restore_dir, NULL, ready, timeout_s);
	extra_option = NULL;
	return up;
}

bool live_wait_for(struct live_core *lc, const char *text, int seconds) { return live_read(lc, text, seconds); }

void live_stop(struct live_core *lc)
{
	if (lc->pid <= 0)
		return;
	kill(lc->pid, SIGTERM);
	live_read(lc, NULL, 20);
	if (lc->fd >= 0) {
		kill(lc->pid, SIGKILL);
		append(&lc->r, "\nharness: amber-core hung and was killed\n", 41);
		close(lc->fd);
		lc->fd = -1;
	}
	int st;
	waitpid(lc->pid, &st, 0);
	lc->r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	lc->pid = 0;
	for (struct live_core **p = &live_list; *p; p = &(*p)->next) {
		if (*p == lc) {
			*p = lc->next;
			break;
		}
	}
}

bool live_ended(struct live_core *lc, int seconds)
{
	live_read(lc, NULL, seconds);
	return lc->fd < 0;
}

void live_stop_all(void)
{
	while (live_list) {
		struct live_core *lc = live_list;
		live_stop(lc);
		run_free(&lc->r);
	}
}

/* ---- the amber command ----------------------------------------------------- */

static void append_to(char **buf, size_t *len, const char *data, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);
	if (!p)
		abort();
	*buf = p;
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void run_amber(struct cli_run *r, const char *const *args)
{
	memset(r, 0, sizeof(*r));
	size_t olen = 0, elen = 0;
	append_to(&r->out, &olen, "", 0);
	append_to(&r->err, &elen, "", 0);
	char amber[512];
	snprintf(amber, sizeof(amber), "%s/amber", build_dir());
	size_t nargs = 0;
	while (args[nargs])
		nargs++;
	const char **argv = calloc(nargs + 2, sizeof(*argv));
	if (!argv)
		abort();
	argv[0] = amber;
	memcpy(argv + 1, args, nargs * sizeof(*argv));

	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(amber, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", amber, strerror(errno));
		_exit(127);
	}
	free(argv);
	close(out[1]);
	close(err[1]);
	int fds[2] = { out[0], err[0] };
	time_t deadline = time(NULL) + 60;
	char buf[4096];
	while (fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd p[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = fds[1], .events = POLLIN } };
		if (time(NULL) > deadline) {
			kill(pid, SIGKILL);
			append_to(&r->err, &elen, "\nharness: amber hung and was killed\n", 36);
			break;
		}
		if (poll(p, 2, 500) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (fds[i] < 0 || !p[i].revents)
				continue;
			ssize_t k = read(fds[i], buf, sizeof(buf));
			if (k <= 0) {
				close(fds[i]);
				fds[i] = -1;
			} else if (i == 0) {
				append_to(&r->out, &olen, buf, (size_t)k);
			} else {
				append_to(&r->err, &elen, buf, (size_t)k);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	int st;
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void cli_run_free(struct cli_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void cli_run_dump(const struct cli_run *r)
{
	fprintf(stderr, "---- amber (status %d) stdout ----\n%s---- stderr ----\n%s---- end ----\n", r->status, r->out,
		r->err);
}

void amber(struct cli_run *r, const char *first, ...)
{
	const char *args[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	run_amber(r, args);
}

bool harness_private_runtime_dir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/amber-xdg-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return false;
	}
	setenv("XDG_RUNTIME_DIR", dir, 1);
	return true;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void harness_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *run_lines_of(const struct run *r, const char *prefix)
{
	char *out = calloc(1, r->len + 1);
	assert_non_null(out);
	size_t n = 0, plen = strlen(prefix);
	for (const char *p = r->output; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
		if (len >= plen && strncmp(p, prefix, plen) == 0) {
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	return out;
}

void expect_victims_intact(struct run *r)
{
	const char *victim = "[example_threads]";
	struct run alone;
	run_scenario_file(&alone, "scenarios/example_threads.xml", 30);
	assert_int_equal(alone.status, 0);
	char *want = run_lines_of(&alone, victim), *got = run_lines_of(r, victim);
	bool same = strcmp(want, got) == 0 && strstr(want, "threads: done") != NULL;
	if (!same) {
		run_dump(r);
		fprintf(stderr, "expected the victim's lines:\n%s", want);
	}
	free(want);
	free(got);
	run_free(&alone);
	if (!same) {
		run_free(r);
		fail_msg("the victim's output differs from its output alone");
	}
	EXPECT(r, "core: example_threads exited with code 0");
	EXPECT(r, "[hello_client] done (0 failures)");
	EXPECT(r, "core: hello_server exited with code 0");
}

/* ---- long runs: counting lines, and output not kept ----------------------- */

bool live_wait_count(struct live_core *lc, const char *text, int count, int seconds)
{
	time_t deadline = time(NULL) + seconds;
	while (run_count(&lc->r, text) < count) {
		if (lc->fd < 0 || time(NULL) > deadline)
			return false;
		live_read_some(lc, 50);
	}
	return true;
}

void live_discard(struct live_core *lc)
{
	char buf[65536];
	struct pollfd p = { .fd = lc->fd, .events = POLLIN };
	while (lc->fd >= 0 && poll(&p, 1, 0) > 0) {
		ssize_t k = read(lc->fd, buf, sizeof(buf));
		if (k <= 0) {
			close(lc->fd);
			lc->fd = -1;
			break;
		}
	}
	free(lc->r.output);
	memset(&lc->r, 0, sizeof(lc->r));
	append(&lc->r, "", 0);
}
