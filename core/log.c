/*
 * LOG service: components write text, core prints whole lines prefixed
 * with the component's name. Control characters are replaced, so a
 * component cannot forge another component's line or a core report.
 *
 * Lines go to core's output queue (output.c), not to stdout: the handler
 * runs with the kernel lock held and must not wait for a slow reader.
 * Each component may print LOG_RATE_DEFAULT lines per second (scenario
 * attribute `log_rate`), LOG_BURST_SECONDS seconds' worth at once; lines
 * over that, or lines the queue has no room for, are dropped and counted,
 * and core reports the count at most once a second while the component
 * writes, and at its end. log_lines counts the lines printed, not those
 * dropped: a restored run's output is compared from there (cr_diff).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amber/protocols.h"
#include "core.h"
#include "cr_state.h"

#define LOG_NOTE_US 1000000u /* at most one "dropped" report a second */

static void note_dropped(struct component *c, uint64_t now, bool end)
{
	if (!c->log_dropped && !c->log_dropped_full)
		return;
	if (!end && now - c->log_note_us < LOG_NOTE_US)
		return;
	unsigned rate = c->log_rate ? c->log_rate : LOG_RATE_DEFAULT;
	if (c->log_dropped)
		core_report("%s: %llu LOG line%s dropped: over its rate of %u lines/s", c->name,
			    (unsigned long long)c->log_dropped, c->log_dropped == 1 ? "" : "s", rate);
	if (c->log_dropped_full)
		core_report("%s: %llu LOG line%s dropped: core's output is behind", c->name,
			    (unsigned long long)c->log_dropped_full, c->log_dropped_full == 1 ? "" : "s");
	c->log_dropped = c->log_dropped_full = 0;
	c->log_note_us = now;
}

/* The generic cell rate algorithm: a line costs 1/rate seconds of budget,
 * and the budget holds LOG_BURST_SECONDS. */
static bool within_rate(struct component *c, uint64_t now)
{
	unsigned rate = c->log_rate ? c->log_rate : LOG_RATE_DEFAULT;
	uint64_t cost = 1000000u / rate, burst = (uint64_t)LOG_BURST_SECONDS * 1000000u;
	uint64_t tat = c->log_tat_us > now ? c->log_tat_us : now;
	if (tat - now + cost > burst)
		return false;
	c->log_tat_us = tat + cost;
	return true;
}

/* The line assembled in c->line, printed or dropped. */
static void emit(struct component *c)
{
	uint64_t now = core_time_us();
	note_dropped(c, now, false);
	if (!within_rate(c, now)) {
		c->log_dropped++;
		return;
	}
	char out[COMPONENT_LABEL_MAX + LOG_LINE_MAX + 8];
	int n = c->line_len ? snprintf(out, sizeof(out), "[%s] %.*s\n", c->name, (int)c->line_len, c->line)
			    : snprintf(out, sizeof(out), "[%s]\n", c->name);
	if (!core_output(out, (size_t)n, false)) {
		c->log_dropped_full++;
		return;
	}
	c->log_lines++;
}

void log_flush(struct component *c)
{
	if (c->line_len) {
		emit(c);
		c->line_len = 0;
	}
	note_dropped(c, core_time_us(), true);
}

static void log_put(struct component *c, char ch)
{
	if (ch == '\n') {
		emit(c); /* an empty line too: "[name]" */
		c->line_len = 0;
		return;
	}
	if ((unsigned char)ch < 0x20 && ch != '\t')
		ch = '?';
	if ((unsigned char)ch == 0x7f)
		ch = '?';
	c->line[c->line_len++] = ch;
	if (c->line_len == sizeof(c->line)) {
		emit(c);
		c->line_len = 0;
	}
}

enum kcore_result log_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct component *c = ctx;
	unsigned words = amber_tag_words(req->tag);
	req->reply_tag = amber_tag(AMBER_PROTO_LOG, 0, 0);
	service_drop_items(req);

	if (amber_tag_label(req->tag) != AMBER_PROTO_LOG) {
		*error = AMBER_ERR_PROTO;
		return KCORE_REPLY;
	}
	if (words < 2 || req->mr[0] != AMBER_LOG_WRITE) {
		*error = AMBER_ERR_OPCODE;
		return KCORE_REPLY;
	}
	uint64_t len = req->mr[1];
	if (len > (uint64_t)(words - 2) * sizeof(amber_word_t)) {
		*error = AMBER_ERR_INVALID_ARG;
		return KCORE_REPLY;
	}
	const char *bytes = (const char *)&req->mr[2];
	for (uint64_t i = 0; i < len; i++)
		log_put(c, bytes[i]);
	*error = AMBER_OK;
	return KCORE_REPLY;
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* The unfinished line, and how many lines it wrote: a differential test
 * compares a restored run's output from exactly that line on. */
int log_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	(void)s;
	m->log_line.len = c->line_len;
	m->log_line.data = malloc(c->line_len ? c->line_len : 1);
	if (!m->log_line.data)
		abort();
	memcpy(m->log_line.data, c->line, c->line_len);
	m->log_lines = c->log_lines;
	return 0;
}

int log_load(struct cr_load *l)
{
	struct component *c = l->c;
	if (l->m->log_line.len > sizeof(c->line))
		return cr_fail(l->err, l->errlen, "%s: LOG line of %zu bytes", c->name, l->m->log_line.len);
	if (l->m->log_line.len)
		memcpy(c->line, l->m->log_line.data, l->m->log_line.len);
	c->line_len = l->m->log_line.len;
	c->log_lines = l->m->log_lines;
	return 0;
}
