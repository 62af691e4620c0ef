/*
 * The amber command's parts (docs/amber-command.md): amber.c parses the
 * command line and runs the commands, client.c talks to amber-core's
 * control socket, ps.c formats `amber ps`, periodic.c takes checkpoints
 * again and again (checkpoint --every).
 */
#ifndef AMBER_CLI_H
#define AMBER_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses shared by all commands. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* amber-core said ERR, or it could not be reached */
#define CLI_EXIT_USAGE 2 /* the command line is wrong */

/* amber-core's answer to one request. */
struct cli_answer {
	char **lines;   /* the data lines, without newlines */
	size_t nlines;
	bool ok;        /* the final line was OK (else ERR) */
	char *message;  /* the final line's message ("" if none) */
	char *buf;      /* what the lines point into */
};

/* Send one request (its fields are joined with TABs) to system `name` and
 * read the whole answer. `timeout_s` bounds each wait for the answer
 * (0: wait as long as amber-core works on it). 0 with the answer, or -1
 * after printing why there is none ("amber: ..." on stderr). */
int cli_request(const char *name, const char *const *fields, size_t nfields, int timeout_s, struct cli_answer *a);
void cli_answer_free(struct cli_answer *a);

/* The same, for commands: print the data lines to stdout, then the OK
 * message, or "amber: MESSAGE" on stderr for ERR. An exit status. */
int cli_simple_request(const char *name, const char *const *fields, size_t nfields);

/* DIR as an absolute path for amber-core, which has a working directory
 * of its own: realpath of DIR, or, if DIR does not exist yet, realpath of
 * its parent plus its last element. 0, or -1 after printing why. */
int cli_absolute_dir(const char *dir, char *out, size_t outlen);

/* "10ms", "1.5s", "500us" into microseconds (100 us to a day). 0 or -1. */
int cli_parse_period(const char *text, long long *us);

/* `amber checkpoint --every`: checkpoints of component into DIR/ckpt-N
 * every every_us, chains of `chain` images (a full one, then incremental
 * ones), `count` of them (0: until SIGINT/SIGTERM), each signed when
 * key_field ("--key=FILE") is not NULL; with hold_output, NAME's output
 * is held from the first checkpoint until the run ends (then released).
 * An exit status. */
int cli_periodic(const char *name, const char *component, const char *dir, long long every_us, unsigned chain,
		 unsigned long count, const char *key_field, bool hold_output);

/* `amber ps`: an exit status. */
int cli_ps(const char *name);

#endif
