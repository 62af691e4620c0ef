/*
 * Integration-test harness: run a real amber-core on a scenario and look
 * at what it printed.
 */
#ifndef AMBER_TEST_HARNESS_H
#define AMBER_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct run {
	int status;   /* amber-core's exit status, or -1 if it was killed */
	char *output; /* stdout and stderr, NUL-terminated */
	size_t len;
};

/* Run amber-core on the scenario file `path` (relative to the source tree)
 * with `timeout_s` as its --timeout. */
void run_scenario_file(struct run *r, const char *path, int timeout_s);
/* Write `xml` to a temporary scenario file and run it. */
void run_scenario_text(struct run *r, const char *xml, int timeout_s);
/* The same with one more amber-core option ("--strict"). */
void run_scenario_text_opt(struct run *r, const char *xml, const char *option, int timeout_s);
/* The same with --components DIR. */
void run_scenario_text_in(struct run *r, const char *xml, const char *components_dir, int timeout_s);
/* The same as run_scenario_file (`path` may be absolute), calling
 * `action` with amber-core's pid and the output so far after each piece of
 * output until it returns true: to send amber-core a signal once a line
 * appeared (a reload on SIGHUP, say). */
typedef bool (*run_action)(int pid, const struct run *r, void *arg);
void run_scenario_with_action(struct run *r, const char *path, int timeout_s, run_action action, void *arg);
void run_free(struct run *r);

/* Does a line of the output contain `text`? */
bool run_has(const struct run *r, const char *text);
/* How many lines contain `text`? */
int run_count(const struct run *r, const char *text);
/* The lines of the output that start with `prefix`, joined: malloc'd. */
char *run_lines_of(const struct run *r, const char *prefix);
/* An attack ran next to the victims (example_threads and the hello pair):
 * they finished, and example_threads printed exactly what it prints
 * alone. Fails the test (freeing r) if not. */
void expect_victims_intact(struct run *r);
/* Print the output (for a failing test). */
void run_dump(const struct run *r);

/* Where the build lives: $AMBER_BUILD or "build". */
const char *build_dir(void);

/* A private XDG_RUNTIME_DIR (mode 0700, under /tmp) for the control
 * sockets of this test program: its path into dir, set in the
 * environment. False if it cannot be made. */
bool harness_private_runtime_dir(char *dir, size_t len);
/* Remove a directory tree (or file); a missing one is no error. */
void harness_remove_tree(const char *path);

/* A control name no other amber-core uses: "test-PID-N". */
void harness_control_name(char *out, size_t len);

/* A system that keeps running while a test talks to it (`amber ps`, the
 * control socket). */
struct live_core {
	struct live_core *next;
	int pid;
	int fd;           /* amber-core's output, -1 once it closed it */
	struct run r;     /* its output so far; status after live_stop */
	char name[72];    /* its control name */
	char socket[108]; /* from "core: control socket PATH" ("" if none); sun_path's size */
};
/* Start amber-core on the scenario file `path` (or restore_dir with
 * --restore; the other NULL) under control name `name` (NULL: a fresh
 * one) and --timeout timeout_s, and read its output until `ready`
 * appears (NULL: the control socket line), it ends or 20 s pass: whether
 * `ready` appeared. Stop it with live_stop. */
bool live_start(struct live_core *lc, const char *path, const char *restore_dir, const char *name, const char *ready,
		int timeout_s);
/* The same with one more amber-core option (e.g. "--lazy"), fresh name. */
bool live_start_opt(struct live_core *lc, const char *path, const char *restore_dir, const char *option,
		    const char *ready, int timeout_s);
/* Read more output until `text` appears (true) or `seconds` pass. */
bool live_wait_for(struct live_core *lc, const char *text, int seconds);
/* Did it end (close its output) within `seconds`? */
bool live_ended(struct live_core *lc, int seconds);
/* SIGTERM, the rest of its output, its status (then run_free(&lc->r)). */
void live_stop(struct live_core *lc);
/* Read more output until `text` is on `count` lines (true) or `seconds`
 * pass. */
bool live_wait_count(struct live_core *lc, const char *text, int count, int seconds);
/* Read what output there is now and forget all of it: a long run must
 * neither keep megabytes of lines nor let amber-core block on a full pipe. */
void live_discard(struct live_core *lc);
/* Stop every live_core still running and free its output: a test's
 * teardown, so that a failed check leaves no amber-core behind. */
void live_stop_all(void);

/* The amber command, build/amber ARGS... (NULL-terminated), with its
 * stdout and stderr apart. */
struct cli_run {
	int status; /* exit status, or -1 if it was killed */
	char *out, *err;
};
void run_amber(struct cli_run *r, const char *const *args);
/* The same with the arguments listed, NULL-terminated (at most 15). */
void amber(struct cli_run *r, const char *first, ...);
void cli_run_free(struct cli_run *r);
void cli_run_dump(const struct cli_run *r);

/* A check on an amber command's result: on failure its output is printed. */
#define CLI_EXPECT(r, cond)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			cli_run_dump(r);                                                           \
			fail_msg("amber: not true: %s", #cond);                                    \
		}                                                                                  \
	} while (0)

/* cmocka checks on the output (include <cmocka.h> first). On failure they
 * print the output and free it. */
#define EXPECT(r, text)                                                                            \
	do {                                                                                       \
		if (!run_has(r, text)) {                                                           \
			run_dump(r);                                                               \
			run_free(r);                                                               \
			fail_msg("missing: %s", text);                                             \
		}                                                                                  \
	} while (0)

#define EXPECT_NOT(r, text)                                                                        \
	do {                                                                                       \
		if (run_has(r, text)) {                                                            \
			run_dump(r);                                                               \
			run_free(r);                                                               \
			fail_msg("unexpected: %s", text);                                          \
		}                                                                                  \
	} while (0)

/* No sanitizer report and no hang in the output. */
#define EXPECT_CLEAN(r)                                                                            \
	do {                                                                                       \
		EXPECT_NOT(r, "Sanitizer");                                                        \
		EXPECT_NOT(r, "runtime error");                                                    \
		EXPECT_NOT(r, "harness: amber-core hung");                                         \
	} while (0)

/* At least `at_least` "[name] ok:" lines in the output. */
#define EXPECT_CHECKS(r, name, at_least)                                                           \
	do {                                                                                       \
		char expect_text_[128];                                                            \
		snprintf(expect_text_, sizeof(expect_text_), "[%s] ok:", name);                    \
		if (run_count(r, expect_text_) < (at_least)) {                                     \
			run_dump(r);                                                               \
			run_free(r);                                                               \
			fail_msg("%s: fewer than %d checks ran", name, (int)(at_least));           \
		}                                                                                  \
	} while (0)

/* A test component's verdict: "[name] done: ... 0 failed" after at least
 * `at_least` checks, no FAIL line, exit code 0, clean output. */
#define EXPECT_SELF_CHECKS(r, name, at_least)                                                      \
	do {                                                                                       \
		char expect_line_[128];                                                            \
		snprintf(expect_line_, sizeof(expect_line_), "[%s] done:", name);                  \
		EXPECT(r, expect_line_);                                                           \
		EXPECT(r, " 0 failed");                                                            \
		EXPECT_NOT(r, "FAIL");                                                             \
		snprintf(expect_line_, sizeof(expect_line_), "core: %s exited with code 0", name); \
		EXPECT(r, expect_line_);                                                           \
		EXPECT_CLEAN(r);                                                                   \
		EXPECT_CHECKS(r, name, at_least);                                                  \
	} while (0)

/* The demo pair: finishing proves amber-core and the other components
 * were not disturbed by whatever else a scenario did. */
#define HELLO_PAIR "  <component name=\"hello_server\" caps=\"16\"><provides><service name=\"hello\"/></provides></component>\n  <component name=\"hello_client\" caps=\"16\"/>\n"

#endif
