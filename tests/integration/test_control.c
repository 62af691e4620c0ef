/*
 * The control socket (core/control.c) and the amber command (cli/) against
 * real amber-cores: `amber ps` shows the component tree with the right
 * states, malformed requests get ERR and the server goes on, a silent
 * client cannot block others, checkpoint and restore pass amber-core's
 * answer on, the socket and its directory are closed to others, peer
 * credentials are checked, and a name serves one system only.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* init with children that stay, one that crashes and one that ends; a
 * second top-level component next to it. */
static const char tree_xml[] =
	"<scenario>\n"
	"  <component name=\"init\" caps=\"200\" ram=\"8M\">\n"
	"    <config>\n"
	"      <default-route><any-service><parent/></any-service></default-route>\n"
	"      <start name=\"idle_a\" caps=\"16\" ram=\"1M\"><binary name=\"test_idle\"/></start>\n"
	"      <start name=\"test_crash\" caps=\"16\" ram=\"1M\"/>\n"
	"      <start name=\"sheep_counter\" caps=\"32\" ram=\"1M\"/>\n"
	"      <start name=\"idle_b\" caps=\"16\" ram=\"1M\"><binary name=\"test_idle\"/></start>\n"
	"    </config>\n"
	"  </component>\n"
	"  <component name=\"solo\" binary=\"test_idle\" caps=\"16\"/>\n"
	"</scenario>\n";

static const char idle_xml[] = "<scenario>\n  <component name=\"solo\" binary=\"test_idle\" caps=\"16\"/>\n</scenario>\n";

static char scenario_path[64];

static void write_scenario(const char *xml)
{
	snprintf(scenario_path, sizeof(scenario_path), "/tmp/amber-scenario-XXXXXX");
	int fd = mkstemp(scenario_path);
	assert_true(fd >= 0);
	size_t n = strlen(xml);
	assert_int_equal(write(fd, xml, n), (ssize_t)n);
	close(fd);
}

static int teardown(void **state)
{
	(void)state;
	live_stop_all();
	if (scenario_path[0])
		unlink(scenario_path);
	scenario_path[0] = '\0';
	return 0;
}

/* A system running test_idle, ready for requests. */
static void start_idle(struct live_core *lc)
{
	write_scenario(idle_xml);
	if (!live_start(lc, scenario_path, NULL, NULL, "[solo] test_idle: idle with 2 threads", 60) || !lc->socket[0]) {
		run_dump(&lc->r);
		fail_msg("amber-core did not come up");
	}
}


/* ---- the raw protocol --------------------------------------------------------- */

static int connect_raw(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct timeval tv = { .tv_sec = 20 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

/* Everything the server sends until it closes (malloc'd). */
static char *read_all(int fd)
{
	size_t len = 0;
	char *buf = malloc(1);
	assert_non_null(buf);
	for (;;) {
		char chunk[4096];
		ssize_t k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		char *p = realloc(buf, len + (size_t)k + 1);
		assert_non_null(p);
		buf = p;
		memcpy(buf + len, chunk, (size_t)k);
		len += (size_t)k;
	}
	buf[len] = '\0';
	return buf;
}

/* Send `n` bytes (then half-close with `eof`) and take the answer. */
static char *raw(const char *path, const char *bytes, size_t n, bool eof)
{
	int fd = connect_raw(path);
	if (n)
		assert_int_equal(send(fd, bytes, n, MSG_NOSIGNAL), (ssize_t)n);
	if (eof)
		shutdown(fd, SHUT_WR);
	char *answer = read_all(fd);
	close(fd);
	return answer;
}

static const char *last_line(const char *text)
{
	size_t n = strlen(text);
	if (n && text[n - 1] == '\n')
		n--;
	while (n && text[n - 1] != '\n')
		n--;
	return text + n;
}

/* ---- amber ps ------------------------------------------------------------------ */

/* The row of `name` (as shown, indentation included) in `amber ps`: its
 * whitespace-separated columns. */
static bool ps_row(const char *out, unsigned row, const char *shown, char cols[6][64])
{
	const char *line = out;
	for (unsigned i = 0; i < row && line; i++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line || strncmp(line, shown, strlen(shown)) != 0 || line[strlen(shown)] != ' ')
		return false;
	char copy[512];
	snprintf(copy, sizeof(copy), "%.*s", (int)strcspn(line, "\n"), line);
	/* MEMORY is "1.3 MiB": two words, rejoined. */
	char *save, *w[8];
	unsigned n = 0;
	for (char *t = strtok_r(copy, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (n < 6)
		return false;
	snprintf(cols[0], 64, "%s", w[0]);
	snprintf(cols[1], 64, "%s", w[1]);
	snprintf(cols[2], 64, "%s", w[2]);
	snprintf(cols[3], 64, "%s", w[3]);
	if (n == 7)
		snprintf(cols[4], 64, "%s %s", w[4], w[5]);
	else
		snprintf(cols[4], 64, "%s", w[4]);
	snprintf(cols[5], 64, "%s", w[n - 1]);
	return true;
}

static void ps_shows_the_tree(void **state)
{
	(void)state;
	struct live_core lc;
	write_scenario(tree_xml);
	live_start(&lc, scenario_path, NULL, NULL, NULL, 60);
	const char *ready[] = { "[init -> idle_a] test_idle: idle with 2 threads",
				"[init -> idle_b] test_idle: idle with 2 threads", "[solo] test_idle: idle with 2 threads",
				"[init] child test_crash crashed", "[init] child sheep_counter exited with code 0" };
	for (size_t i = 0; i < sizeof(ready) / sizeof(ready[0]); i++) {
		if (!live_wait_for(&lc, ready[i], 20)) {
			run_dump(&lc.r);
			fail_msg("missing: %s", ready[i]);
		}
	}

	struct cli_run r;
	amber(&r, "-s", lc.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0);
	CLI_EXPECT(&r, r.err[0] == '\0');
	CLI_EXPECT(&r, strncmp(r.out, "NAME ", 5) == 0);
	CLI_EXPECT(&r, strstr(r.out, "STATE") && strstr(r.out, "THREADS") && strstr(r.out, "CAPS") &&
			       strstr(r.out, "MEMORY") && strstr(r.out, "IMAGE"));
	/* Children under their parent in the order init created them,
	 * indented by depth, by the last part of their label. */
	const struct {
		const char *shown, *state, *threads;
	} rows[] = {
		{ "init", "running", NULL },		{ "  idle_a", "running", "2" }, { "  test_crash", "crashed", "-" },
		{ "  sheep_counter", "exited", "-" }, { "  idle_b", "running", "2" }, { "solo", "running", "2" },
	};
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char cols[6][64];
		if (!ps_row(r.out, i + 1, rows[i].shown, cols)) {
			cli_run_dump(&r);
			fail_msg("row %u is not '%s'", i + 1, rows[i].shown);
		}
		if (strcmp(cols[1], rows[i].state) != 0 || (rows[i].threads && strcmp(cols[2], rows[i].threads) != 0)) {
			cli_run_dump(&r);
			fail_msg("row %s: state %s threads %s", rows[i].shown, cols[1], cols[2]);
		}
		if (strcmp(rows[i].state, "running") == 0) {
			/* Capabilities: at least the five initial ones; memory in KiB or MiB. */
			CLI_EXPECT(&r, atoi(cols[3]) >= 5);
			CLI_EXPECT(&r, strstr(cols[4], "KiB") || strstr(cols[4], "MiB"));
		} else {
			CLI_EXPECT(&r, strcmp(cols[3], "-") == 0 && strcmp(cols[4], "-") == 0);
		}
		CLI_EXPECT(&r, strcmp(cols[5], "-") == 0);
	}
	cli_run_free(&r);

	/* The lines behind it: ID, DEPTH, the full label, numbers. */
	char *ans = raw(lc.socket, "ps\n", 3, false);
	unsigned id, depth, threads, caps;
	unsigned long long mem;
	char name[80], st[16];
	const char *line = strstr(ans, "\tinit -> idle_a\t");
	assert_non_null(line);
	while (line > ans && line[-1] != '\n')
		line--;
	assert_int_equal(sscanf(line, "%u\t%u\t%79[^\t]\t%15[^\t]\t%u\t%u\t%llu\t", &id, &depth, name, st, &threads,
				&caps, &mem),
			 7);
	assert_int_equal(depth, 1);
	assert_string_equal(st, "running");
	assert_int_equal(threads, 2);
	/* Stack, UTCBs and the image: more than a few pages. */
	assert_true(mem > 64 * 1024);
	assert_string_equal(last_line(ans), "OK 6 components\n");
	free(ans);

	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
}

/* ---- the protocol's rules ---------------------------------------------------------- */

static void malformed_requests_get_err(void **state)
{
	(void)state;
	struct live_core lc;
	start_idle(&lc);

	char longer[5000];
	memset(longer, 'p', sizeof(longer));
	const struct {
		const char *bytes;
		size_t n;
		bool eof;
		const char *expect;
	} cases[] = {
		{ "ps", 2, true, "ERR malformed request: it does not end with a newline" },
		{ "", 0, true, "ERR malformed request: empty" },
		{ "ps\r\n", 4, false, "ERR malformed request: control character 0x0d at byte 2" },
		{ "p\0s\n", 4, false, "ERR malformed request: control character 0x00 at byte 1" },
		{ longer, sizeof(longer), false, "ERR malformed request: longer than 4096 bytes" },
		{ "frobnicate\n", 11, false, "ERR malformed request: unknown request 'frobnicate'" },
		{ "ps\textra\n", 9, false, "ERR malformed request: ps takes no arguments" },
		{ "checkpoint\tinit\n", 16, false, "ERR malformed request: checkpoint<TAB>NAME<TAB>DIR" },
		{ "checkpoint\t\t/tmp/x\n", 19, false, "ERR malformed request: field 2 is empty" },
		{ "checkpoint\tinit\trelative\n", 25, false, "ERR malformed request: DIR must be an absolute path" },
		{ "checkpoint\tinit\t/tmp/x\t--kil\n", 29, false, "ERR malformed request: checkpoint<TAB>NAME" },
		{ "restore\n", 8, false, "ERR malformed request: restore<TAB>DIR[<TAB>--partial]" },
		{ "restore\t/tmp/x\t--all\n", 21, false, "ERR malformed request: restore<TAB>DIR" },
		{ "restore\t/tmp/x\t--key=k\n", 23, false, "ERR malformed request: the key file must be an absolute path" },
		{ "restore\t/tmp/x\t--key=/a\t--key=/b\n", 33, false, "ERR malformed request: restore<TAB>DIR" },
		{ "checkpoint\tinit\t/tmp/x\t--key=/nonexistent-key\n", 46, false,
		  "ERR key file /nonexistent-key: No such file or directory" },
		{ "ps\nps\n", 6, false, "ERR malformed request: more than one line" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *ans = raw(lc.socket, cases[i].bytes, cases[i].n, cases[i].eof);
		/* One line, the final one, and nothing else. */
		if (strncmp(ans, cases[i].expect, strlen(cases[i].expect)) != 0 || strchr(ans, '\n') != ans + strlen(ans) - 1)
			fail_msg("case %zu: got '%s', want '%s'", i, ans, cases[i].expect);
		free(ans);
	}

	/* It still serves, and it is still one system. */
	char *ans = raw(lc.socket, "ps\n", 3, false);
	assert_non_null(strstr(ans, "\tsolo\trunning\t2\t"));
	assert_string_equal(last_line(ans), "OK 1 component\n");
	free(ans);
	live_stop(&lc);
	assert_int_equal(lc.r.status, 3);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A client that connects and never sends holds the control thread for
 * the request timeout (5 s) at most; the next one is answered after it. */
static void silent_client_does_not_block(void **state)
{
	(void)state;
	struct live_core lc;
	start_idle(&lc);

	int silent = connect_raw(lc.socket);
	double t0 = now_s();
	char *ans = raw(lc.socket, "ps\n", 3, false);
	double waited = now_s() - t0;
	assert_string_equal(last_line(ans), "OK 1 component\n");
	free(ans);
	if (waited > 9.0)
		fail_msg("the second client waited %.1f s", waited);
	char *timeout = read_all(silent);
	close(silent);
	assert_string_equal(timeout, "ERR timeout: no complete request line within 5 s\n");
	free(timeout);

	/* One byte at a time does not stretch it either: the 5 s are for
	 * the whole line. */
	int slow = connect_raw(lc.socket);
	t0 = now_s();
	while (now_s() - t0 < 9) {
		send(slow, "p", 1, MSG_NOSIGNAL);
		struct pollfd p = { .fd = slow, .events = POLLIN };
		if (poll(&p, 1, 300) > 0)
			break;
	}
	waited = now_s() - t0;
	char *cut = read_all(slow);
	close(slow);
	assert_string_equal(cut, "ERR timeout: no complete request line within 5 s\n");
	free(cut);
	if (waited > 8.0)
		fail_msg("a client sending a byte at a time was served for %.1f s", waited);

	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
}

/* ---- checkpoint, restore: amber-core's answer passed on ---------------------------- */

static void checkpoint_and_restore_pass_errors_on(void **state)
{
	(void)state;
	struct live_core lc;
	start_idle(&lc);
	char cwd[PATH_MAX], expect[PATH_MAX + 128];
	assert_non_null(getcwd(cwd, sizeof(cwd)));

	/* A component that does not exist and an image that does not: what
	 * is checked is how amber passes amber-core's ERR on. */
	struct cli_run r;
	amber(&r, "-s", lc.name, "checkpoint", "nosuch", "build/amber-test-img", NULL);
	CLI_EXPECT(&r, r.status == 1);
	CLI_EXPECT(&r, r.out[0] == '\0');
	CLI_EXPECT(&r, strncmp(r.err, "amber: cannot checkpoint nosuch", 31) == 0);
	CLI_EXPECT(&r, strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
	cli_run_free(&r);

	/* DIR goes to amber-core absolute (it has a working directory of
	 * its own), even if it does not exist yet. */
	amber(&r, "-s", lc.name, "restore", "--partial", "build/amber-test-img", NULL);
	snprintf(expect, sizeof(expect), "%s/build/amber-test-img", cwd);
	CLI_EXPECT(&r, r.status == 1);
	CLI_EXPECT(&r, strncmp(r.err, "amber: ", 7) == 0 && strstr(r.err, expect));
	cli_run_free(&r);
	/* amber-core logs what it was asked to do. */
	snprintf(expect, sizeof(expect), "core: control: checkpoint nosuch into %s/build/amber-test-img:", cwd);
	if (!live_wait_for(&lc, expect, 5)) {
		run_dump(&lc.r);
		fail_msg("missing: %s", expect);
	}
	snprintf(expect, sizeof(expect), "core: control: restore %s/build/amber-test-img (--partial):", cwd);
	if (!live_wait_for(&lc, expect, 5)) {
		run_dump(&lc.r);
		fail_msg("missing: %s", expect);
	}

	/* A parent that does not exist is refused before anything is sent. */
	amber(&r, "-s", lc.name, "checkpoint", "solo", "/nonexistent-amber-dir/img", NULL);
	CLI_EXPECT(&r, r.status == 1);
	CLI_EXPECT(&r, strstr(r.err, "amber: /nonexistent-amber-dir/img: cannot use its parent directory"));
	cli_run_free(&r);

	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
}

/* ---- names, files, permissions ---------------------------------------------------- */

static void no_system_is_a_clear_error(void **state)
{
	(void)state;
	char name[72], expect[256];
	harness_control_name(name, sizeof(name));
	const char *cmds[][4] = { { "ps", NULL }, { "checkpoint", "init", "/tmp/x", NULL }, { "restore", "/tmp", NULL } };
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args[8] = { "-s", name };
		for (size_t k = 0; cmds[i][k]; k++)
			args[2 + k] = cmds[i][k];
		struct cli_run r;
		run_amber(&r, args);
		snprintf(expect, sizeof(expect), "amber: no Amber system named '%s' is running (no socket at /", name);
		CLI_EXPECT(&r, r.status == 1);
		CLI_EXPECT(&r, strncmp(r.err, expect, strlen(expect)) == 0);
		snprintf(expect, sizeof(expect), "/%s.sock)\n", name);
		CLI_EXPECT(&r, strstr(r.err, expect));
		cli_run_free(&r);
	}
}

static void socket_and_directory_are_private(void **state)
{
	(void)state;
	struct live_core lc;
	start_idle(&lc);
	char dir[sizeof(lc.socket)];
	snprintf(dir, sizeof(dir), "%s", lc.socket);
	*strrchr(dir, '/') = '\0';
	struct stat st;
	assert_int_equal(stat(lc.socket, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
	/* $XDG_RUNTIME_DIR/amber/NAME.sock (main sets it). */
	char expect[256];
	snprintf(expect, sizeof(expect), "%s/amber/%s.sock", getenv("XDG_RUNTIME_DIR"), lc.name);
	assert_string_equal(lc.socket, expect);

	live_stop(&lc);
	assert_int_equal(lc.r.status, 3);
	run_free(&lc.r);
	/* Gone with its amber-core. */
	assert_int_equal(stat(lc.socket, &st), -1);
}

/* Only amber-core's uid may talk to it, even if the modes would let
 * someone else reach the socket. Needs root, to be someone else. */
static void other_users_are_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	struct live_core lc;
	start_idle(&lc);
	char dir[sizeof(lc.socket)];
	snprintf(dir, sizeof(dir), "%s", lc.socket);
	*strrchr(dir, '/') = '\0';
	/* All of it in this program's own XDG_RUNTIME_DIR (main): no other
	 * amber-core sees these modes. */
	assert_int_equal(chmod(getenv("XDG_RUNTIME_DIR"), 0711), 0);
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(chmod(lc.socket, 0666), 0);

	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", lc.socket);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			fprintf(stderr, "connect %s as uid 65534: %s\n", a.sun_path, strerror(errno));
			_exit(3);
		}
		send(fd, "ps\n", 3, MSG_NOSIGNAL);
		char buf[512];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			(void)!write(fds[1], buf, (size_t)n);
		_exit(0);
	}
	close(fds[1]);
	char *ans = read_all(fds[0]);
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	chmod(getenv("XDG_RUNTIME_DIR"), 0700);
	chmod(dir, 0700);
	chmod(lc.socket, 0600);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("the other user's client: status 0x%x (2: setuid, 3: connect)", st);
	assert_string_equal(ans, "ERR permission denied: only uid 0 may control this amber-core\n");
	free(ans);
	if (!live_wait_for(&lc, "core: control: refused a connection from uid 65534", 5)) {
		run_dump(&lc.r);
		fail_msg("amber-core did not report the refused connection");
	}

	/* A directory open to others is not used. */
	assert_int_equal(chmod(dir, 0755), 0);
	struct live_core other;
	live_start(&other, scenario_path, NULL, NULL, NULL, 60);
	bool ended = live_ended(&other, 20);
	chmod(dir, 0700);
	assert_true(ended);
	live_stop(&other);
	assert_int_equal(other.r.status, 1);
	EXPECT(&other.r, "has mode 0755, open to group or others; refusing to put the control socket there");
	run_free(&other.r);

	live_stop(&lc);
	EXPECT_CLEAN(&lc.r);
	run_free(&lc.r);
}

static void a_name_serves_one_system(void **state)
{
	(void)state;
	struct live_core first, second;
	start_idle(&first);

	live_start(&second, scenario_path, NULL, first.name, NULL, 60);
	assert_true(live_ended(&second, 20));
	live_stop(&second);
	assert_int_equal(second.r.status, 1);
	char expect[512];
	snprintf(expect, sizeof(expect), "amber-core: an Amber system named '%s' is already running (control socket %s)",
		 first.name, first.socket);
	EXPECT(&second.r, expect);
	EXPECT_NOT(&second.r, "[solo]");
	run_free(&second.r);

	/* The first one did not notice. */
	struct cli_run r;
	amber(&r, "-s", first.name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "solo "));
	cli_run_free(&r);

	/* A socket left behind by an amber-core that died is taken over. */
	char stale_name[72], stale_path[sizeof(first.socket)];
	harness_control_name(stale_name, sizeof(stale_name));
	snprintf(stale_path, sizeof(stale_path), "%s", first.socket);
	snprintf(strrchr(stale_path, '/') + 1, sizeof(stale_path) - (size_t)(strrchr(stale_path, '/') + 1 - stale_path),
		 "%s.sock", stale_name);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", stale_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	struct live_core third;
	bool up = live_start(&third, scenario_path, NULL, stale_name, "[solo] test_idle: idle with 2 threads", 60);
	if (!up)
		run_dump(&third.r);
	assert_true(up);
	amber(&r, "-s", stale_name, "ps", NULL);
	CLI_EXPECT(&r, r.status == 0 && strstr(r.out, "solo "));
	cli_run_free(&r);
	live_stop(&third);
	run_free(&third.r);

	live_stop(&first);
	EXPECT_CLEAN(&first.r);
	run_free(&first.r);
}

/* ---- the amber command itself ----------------------------------------------------- */

static void amber_run_is_amber_core(void **state)
{
	(void)state;
	char name[72], expect[160];
	harness_control_name(name, sizeof(name));
	/* Without XDG_RUNTIME_DIR: /tmp/amber-UID, for amber-core and amber alike. */
	char *xdg = strdup(getenv("XDG_RUNTIME_DIR"));
	unsetenv("XDG_RUNTIME_DIR");
	struct cli_run r;
	amber(&r, "-s", name, "run", "--timeout", "20", "scenarios/sheep_counter.xml", NULL);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	free(xdg);
	CLI_EXPECT(&r, r.status == 0);
	snprintf(expect, sizeof(expect), "core: control socket /tmp/amber-%u/%s.sock\n", (unsigned)geteuid(), name);
	CLI_EXPECT(&r, strncmp(r.out, expect, strlen(expect)) == 0);
	CLI_EXPECT(&r, strstr(r.out, "[sheep_counter] sheep_counter: done, 10 sheep"));
	CLI_EXPECT(&r, strstr(r.out, "core: sheep_counter exited with code 0"));
	cli_run_free(&r);

	/* amber-core's own failures keep its status. */
	amber(&r, "-s", name, "run", "--restore", "/nonexistent-amber-image", NULL);
	CLI_EXPECT(&r, r.status == 1);
	CLI_EXPECT(&r, strstr(r.err, "amber-core: "));
	cli_run_free(&r);
}

static void usage_errors(void **state)
{
	(void)state;
	const struct {
		const char *args[6];
		const char *expect;
	} cases[] = {
		{ { NULL }, "usage: amber [-s NAME] COMMAND" },
		{ { "frob", NULL }, "amber: unknown command 'frob'" },
		{ { "-x", "ps", NULL }, "amber: unknown option '-x'" },
		{ { "-s", NULL }, "amber: -s needs a system name" },
		{ { "-s", "../x", "ps", NULL }, "amber: invalid system name '../x'" },
		{ { "ps", "extra", NULL }, "amber: ps: takes no arguments" },
		{ { "checkpoint", "init", NULL }, "amber: checkpoint: wants NAME and DIR" },
		{ { "checkpoint", "--now", "init", "/tmp/x", NULL }, "amber: checkpoint: unknown option '--now'" },
		{ { "restore", NULL }, "amber: restore: wants one DIR" },
		{ { "run", NULL }, "amber: run: which scenario?" },
		{ { "run", "a.xml", "b.xml", NULL }, "amber: run: one scenario or --restore DIR, not also 'b.xml'" },
		{ { "run", "--timeout", "soon", "a.xml", NULL }, "amber: run: --timeout takes whole seconds" },
		{ { "inspect", NULL }, "amber: inspect: wants one DIR" },
		{ { "inspect", "--json", "--diff", "a", "b", NULL }, "amber: inspect: --json and --diff" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_run r;
		run_amber(&r, cases[i].args);
		if (r.status != 2 || !strstr(r.err, cases[i].expect)) {
			cli_run_dump(&r);
			fail_msg("case %zu: want status 2 and '%s'", i, cases[i].expect);
		}
		cli_run_free(&r);
	}

	struct cli_run r;
	amber(&r, "--help", NULL);
	CLI_EXPECT(&r, r.status == 0 && strncmp(r.out, "usage: amber [-s NAME] COMMAND", 30) == 0 && !r.err[0]);
	cli_run_free(&r);
}

static void inspect_reports_errors(void **state)
{
	(void)state;
	struct cli_run r;
	amber(&r, "inspect", "/nonexistent-amber-image", NULL);
	CLI_EXPECT(&r, r.status == 1 && strncmp(r.err, "amber: ", 7) == 0);
	cli_run_free(&r);

	/* Not a directory: a live component, which needs a running system. */
	char name[72];
	harness_control_name(name, sizeof(name));
	amber(&r, "-s", name, "inspect", "--diff", "/nonexistent-amber-image", "init", NULL);
	CLI_EXPECT(&r, r.status == 2 && strstr(r.err, "amber: no Amber system named"));
	CLI_EXPECT(&r, strstr(r.err, "init is not a directory, so it was taken for a component"));
	cli_run_free(&r);
}

int main(void)
{
	/* A runtime directory of our own: the tests change modes in it, and
	 * it is the XDG_RUNTIME_DIR case of the socket's location. */
	char xdg[64];
	if (!harness_private_runtime_dir(xdg, sizeof(xdg)))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(ps_shows_the_tree, teardown),
		cmocka_unit_test_teardown(malformed_requests_get_err, teardown),
		cmocka_unit_test_teardown(silent_client_does_not_block, teardown),
		cmocka_unit_test_teardown(checkpoint_and_restore_pass_errors_on, teardown),
		cmocka_unit_test_teardown(no_system_is_a_clear_error, teardown),
		cmocka_unit_test_teardown(socket_and_directory_are_private, teardown),
		cmocka_unit_test_teardown(other_users_are_refused, teardown),
		cmocka_unit_test_teardown(a_name_serves_one_system, teardown),
		cmocka_unit_test_teardown(amber_run_is_amber_core, teardown),
		cmocka_unit_test_teardown(usage_errors, teardown),
		cmocka_unit_test_teardown(inspect_reports_errors, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	harness_remove_tree(xdg);
	return failed;
}
