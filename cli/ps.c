/*
 * `amber ps`: amber-core's component lines (core/cr.h: ID, DEPTH, NAME,
 * STATE, THREADS, CAPS, MEMORY_BYTES, IMAGE, TAB-separated) as a table
 * for people: children indented under their parent by the last part of
 * their label, memory in KiB/MiB. The raw lines are for programs; the
 * table is not meant to be parsed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PS_FIELDS 8
#define PS_INDENT 2
#define PS_MAX_DEPTH 64

struct ps_row {
	unsigned depth;
	const char *name, *state, *threads, *caps, *image;
	char memory[32];
};

static void human_size(const char *bytes, char *out, size_t len)
{
	char *end;
	unsigned long long b = strtoull(bytes, &end, 10);
	if (*end || !*bytes)
		snprintf(out, len, "%s", bytes);
	else if (b < 1024)
		snprintf(out, len, "%llu B", b);
	else if (b < 1024ull * 1024)
		snprintf(out, len, "%.1f KiB", (double)b / 1024);
	else if (b < 1024ull * 1024 * 1024)
		snprintf(out, len, "%.1f MiB", (double)b / (1024.0 * 1024));
	else
		snprintf(out, len, "%.1f GiB", (double)b / (1024.0 * 1024 * 1024));
}

/* "init -> hello_server" is shown as "hello_server" under init. */
static const char *short_name(const char *label)
{
	const char *p = label, *last = label;
	while ((p = strstr(p, " -> ")) != NULL) {
		p += 4;
		last = p;
	}
	return last;
}

static int parse_row(char *line, struct ps_row *r)
{
	char *f[PS_FIELDS];
	int n = 0;
	for (char *p = line; n < PS_FIELDS; n++) {
		f[n] = p;
		char *tab = strchr(p, '\t');
		if (!tab) {
			n++;
			break;
		}
		*tab = '\0';
		p = tab + 1;
	}
	if (n != PS_FIELDS)
		return -1;
	char *end;
	unsigned long depth = strtoul(f[1], &end, 10);
	if (*end || !*f[1])
		return -1;
	r->depth = depth > PS_MAX_DEPTH ? PS_MAX_DEPTH : (unsigned)depth;
	r->name = short_name(f[2]);
	r->state = f[3];
	/* A component that is not running has nothing to count. */
	bool idle = strcmp(r->state, "running") != 0;
	r->threads = idle && strcmp(f[4], "0") == 0 ? "-" : f[4];
	r->caps = idle && strcmp(f[5], "0") == 0 ? "-" : f[5];
	if (idle && strcmp(f[6], "0") == 0)
		snprintf(r->memory, sizeof(r->memory), "-");
	else
		human_size(f[6], r->memory, sizeof(r->memory));
	r->image = f[7];
	return 0;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

int cli_ps(const char *name)
{
	static const char *const req[] = { "ps" };
	struct cli_answer a;
	if (cli_request(name, req, 1, 30, &a) < 0)
		return CLI_EXIT_FAIL;
	if (!a.ok) {
		fprintf(stderr, "amber: %s\n", a.message);
		cli_answer_free(&a);
		return CLI_EXIT_FAIL;
	}
	struct ps_row *rows = calloc(a.nlines ? a.nlines : 1, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "amber: out of memory\n");
		cli_answer_free(&a);
		return CLI_EXIT_FAIL;
	}
	size_t w_name = 4, w_state = 5, w_threads = 7, w_caps = 4, w_mem = 6;
	for (size_t i = 0; i < a.nlines; i++) {
		char copy[64];
		snprintf(copy, sizeof(copy), "%.60s", a.lines[i]);
		if (parse_row(a.lines[i], &rows[i]) < 0) {
			fprintf(stderr, "amber: amber-core sent a line `amber ps` does not understand: %s\n", copy);
			free(rows);
			cli_answer_free(&a);
			return CLI_EXIT_FAIL;
		}
		struct ps_row *r = &rows[i];
		w_name = max_sz(w_name, PS_INDENT * r->depth + strlen(r->name));
		w_state = max_sz(w_state, strlen(r->state));
		w_threads = max_sz(w_threads, strlen(r->threads));
		w_caps = max_sz(w_caps, strlen(r->caps));
		w_mem = max_sz(w_mem, strlen(r->memory));
	}
	printf("%-*s  %-*s  %*s  %*s  %*s  %s\n", (int)w_name, "NAME", (int)w_state, "STATE", (int)w_threads, "THREADS",
	       (int)w_caps, "CAPS", (int)w_mem, "MEMORY", "IMAGE");
	for (size_t i = 0; i < a.nlines; i++) {
		struct ps_row *r = &rows[i];
		int indent = (int)(PS_INDENT * r->depth);
		printf("%*s%-*s  %-*s  %*s  %*s  %*s  %s\n", indent, "", (int)w_name - indent, r->name, (int)w_state,
		       r->state, (int)w_threads, r->threads, (int)w_caps, r->caps, (int)w_mem, r->memory, r->image);
	}
	free(rows);
	cli_answer_free(&a);
	return CLI_EXIT_OK;
}
