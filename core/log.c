/*
 * LOG service: components write text, core prints whole lines prefixed
 * with the component's name. Control characters are replaced, so a
 * component cannot forge another component's line or a core report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amber/protocols.h"
#include "core.h"
#include "cr_state.h"

void log_flush(struct component *c)
{
	if (c->line_len == 0)
		return;
	printf("[%s] %.*s\n", c->name, (int)c->line_len, c->line);
	fflush(stdout);
	c->line_len = 0;
	c->log_lines++;
}

static void log_put(struct component *c, char ch)
{
	if (ch == '\n') {
		if (c->line_len == 0) {
			printf("[%s]\n", c->name);
			fflush(stdout);
			c->log_lines++;
		}
		log_flush(c);
		return;
	}
	if ((unsigned char)ch < 0x20 && ch != '\t')
		ch = '?';
	if ((unsigned char)ch == 0x7f)
		ch = '?';
	c->line[c->line_len++] = ch;
	if (c->line_len == sizeof(c->line))
		log_flush(c);
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
