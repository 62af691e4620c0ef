/*
 * LOG service: components write text, core prints whole lines prefixed
 * with the component's name. Control characters are replaced, so a
 * component cannot forge another component's line or a core report.
 *
 * Lines go to core's output queue (output.c), not to stdout: the handler
 * runs with the kernel lock held and must not wait for a slow reader.
 *
 * Each component may print LOG_RATE_DEFAULT lines per second (scenario
 * attribute `log_rate`; a line counts once per LOG_LINE_UNIT bytes begun),
 * LOG_BURST_SECONDS seconds' worth at once. A
 * writer over its rate is made to wait, not dropped: its call is held
 * (KCORE_DEFER, not yet looked at) on core's timeout thread until its
 * budget is back, then printed and answered. A waiting thread burns no
 * CPU, unlike one whose lines are dropped, which would only call again;
 * and nothing is lost, so output stays comparable. Only a SEND over the
 * rate (nobody waits for its reply) is dropped, and lines the output
 * queue has no room for (its reader is slow); both are counted, and core
 * reports the counts at most once a second and at the component's end.
 * log_lines counts the lines printed: a restored run's output is
 * compared from there (cr_diff). A held call is a call core deferred:
 * a checkpoint restarts it, and as it was not looked at, nothing is
 * printed twice.
 *
 * Output commit (checkpoint --hold-output, as TreeSLS does for external
 * output): a component's whole lines are held instead of printed until a
 * checkpoint whose cut comes after them has committed; a restore or
 * rollback throws away what is still held, since the restored run prints
 * it again. So a rollback never repeats a line and never loses one. Held
 * bytes are bounded (LOG_HELD_MAX): a writer past it waits like one over
 * its rate, until a checkpoint commits.
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
	if (!c->log_dropped && !c->log_dropped_full && !c->log_dropped_held)
		return;
	if (!end && now - c->log_note_us < LOG_NOTE_US)
		return;
	unsigned rate = c->log_rate ? c->log_rate : LOG_RATE_DEFAULT;
	if (c->log_dropped)
		core_report("%s: %llu LOG line%s dropped: sent over its rate of %u lines/s", c->name,
			    (unsigned long long)c->log_dropped, c->log_dropped == 1 ? "" : "s", rate);
	if (c->log_dropped_full)
		core_report("%s: %llu LOG line%s dropped: core's output is behind", c->name,
			    (unsigned long long)c->log_dropped_full, c->log_dropped_full == 1 ? "" : "s");
	if (c->log_dropped_held)
		core_report("%s: %llu LOG line%s dropped: sent while its held output was full", c->name,
			    (unsigned long long)c->log_dropped_held, c->log_dropped_held == 1 ? "" : "s");
	c->log_dropped = c->log_dropped_full = c->log_dropped_held = 0;
	c->log_note_us = now;
}

/* The generic cell rate algorithm: a line costs 1/rate seconds of budget
 * (log_tat_us moves on by that), and the budget holds LOG_BURST_SECONDS.
 * When the component may write again: now, or later. */
static uint64_t budget_back_us(const struct component *c)
{
	uint64_t burst = (uint64_t)LOG_BURST_SECONDS * 1000000u;
	return c->log_tat_us > burst ? c->log_tat_us - burst : 0;
}

/* Long lines count as several: what a component may put into core's
 * output queue is bounded in bytes too. */
static void charge(struct component *c, uint64_t now, size_t len)
{
	unsigned rate = c->log_rate ? c->log_rate : LOG_RATE_DEFAULT;
	uint64_t units = 1 + len / LOG_LINE_UNIT;
	c->log_tat_us = (c->log_tat_us > now ? c->log_tat_us : now) + units * 1000000u / rate;
}

/* A whole line into c's held output. A write adds a bounded amount past
 * LOG_HELD_MAX (writers wait there); only no memory loses the line. */
static bool hold(struct component *c, const char *line, size_t len)
{
	if (c->held_len + len > c->held_cap) {
		size_t cap = c->held_cap ? c->held_cap : 4096;
		while (cap < c->held_len + len)
			cap *= 2;
		char *p = realloc(c->held, cap);
		if (!p)
			return false;
		c->held = p;
		c->held_cap = cap;
	}
	memcpy(c->held + c->held_len, line, len);
	c->held_len += len;
	return true;
}

static bool held_full(const struct component *c) { return c->hold_output && c->held_len >= LOG_HELD_MAX; }

uint64_t log_held_mark(const struct component *c) { return c->held_base + c->held_len; }

void log_release(struct component *c, uint64_t mark)
{
	if (mark <= c->held_base)
		return; /* released or thrown away already */
	size_t n = mark - c->held_base < c->held_len ? (size_t)(mark - c->held_base) : c->held_len;
	for (size_t at = 0; at < n;) { /* line by line: core's output takes whole lines */
		const char *nl = memchr(c->held + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (c->held + at)) + 1 : n - at;
		if (!core_output(c->held + at, len, false))
			c->log_dropped_full++;
		at += len;
	}
	memmove(c->held, c->held + n, c->held_len - n);
	c->held_len -= n;
	c->held_base += n;
}

void log_hold_stop(struct component *c)
{
	log_release(c, log_held_mark(c));
	c->hold_output = false;
	free(c->held);
	c->held = NULL;
	c->held_cap = 0;
}

/* One line printed, or held (or dropped: no room). */
static void emit(struct component *c, const char *text, size_t len)
{
	uint64_t now = core_time_us();
	note_dropped(c, now, false);
	charge(c, now, len);
	char out[COMPONENT_LABEL_MAX + LOG_LINE_MAX + 8];
	int n = len ? snprintf(out, sizeof(out), "[%s] %.*s\n", c->name, (int)len, text)
		    : snprintf(out, sizeof(out), "[%s]\n", c->name);
	if (c->hold_output) {
		if (!hold(c, out, (size_t)n)) {
			c->log_dropped_held++;
			return;
		}
	} else if (!core_output(out, (size_t)n, false)) {
		c->log_dropped_full++;
		return;
	}
	c->log_lines++;
}

/* Unfinished lines, one per writing thread, in the order they began. */
static void pending_remove(struct component *c, struct log_pending *p)
{
	unsigned i = (unsigned)(p - c->line);
	memmove(&c->line[i], &c->line[i + 1], (c->nlines - i - 1) * sizeof(c->line[0]));
	c->nlines--;
}

static struct log_pending *pending_of(struct component *c, uint64_t thread_id, bool make)
{
	for (unsigned i = 0; i < c->nlines; i++)
		if (c->line[i].thread_id == thread_id)
			return &c->line[i];
	if (!make)
		return NULL;
	if (c->nlines == LOG_PENDING_MAX) { /* the oldest is printed as it stands */
		emit(c, c->line[0].text, c->line[0].len);
		pending_remove(c, &c->line[0]);
	}
	struct log_pending *p = &c->line[c->nlines++];
	p->thread_id = thread_id;
	p->len = 0;
	return p;
}

/* Its end: nothing will print these lines again, so held ones go out too. */
void log_flush(struct component *c)
{
	bool held = c->hold_output;
	log_hold_stop(c); /* the held lines came first */
	for (unsigned i = 0; i < c->nlines; i++)
		emit(c, c->line[i].text, c->line[i].len);
	c->nlines = 0;
	c->hold_output = held; /* the policy stays for a restore in its place */
	note_dropped(c, core_time_us(), true);
}

/* A restore: the image has the unfinished lines, and the restored run
 * prints what is held again. */
void log_discard(struct component *c)
{
	c->nlines = 0;
	c->held_base += c->held_len;
	c->held_len = 0;
}

void log_thread_ended(struct component *c, uint64_t thread_id)
{
	struct log_pending *p = pending_of(c, thread_id, false);
	if (p) {
		emit(c, p->text, p->len);
		pending_remove(c, p);
	}
}

/* One LOG_WRITE of one thread: its lines end at '\n'; text before the
 * first '\n', or without one, continues that thread's unfinished line, so
 * threads never mix. A line that would grow past LOG_LINE_MAX is printed
 * first, so lines are cut where a write begins, never inside one (a write
 * is at most AMBER_MSG_STRING_MAX bytes, less than the limit). */
static void write_text(struct component *c, uint64_t thread_id, const char *bytes, size_t len)
{
	while (len) {
		size_t seg = 0;
		while (seg < len && bytes[seg] != '\n')
			seg++;
		bool ends = seg < len;
		struct log_pending *p = pending_of(c, thread_id, seg || ends);
		if (p && p->len + seg > LOG_LINE_MAX) {
			emit(c, p->text, p->len);
			p->len = 0;
		}
		for (size_t i = 0; i < seg; i++) {
			char ch = bytes[i];
			if (((unsigned char)ch < 0x20 && ch != '\t') || (unsigned char)ch == 0x7f)
				ch = '?';
			if (p->len == LOG_LINE_MAX) { /* a longer write than any client sends */
				emit(c, p->text, p->len);
				p->len = 0;
			}
			p->text[p->len++] = ch;
		}
		if (ends) {
			emit(c, p->text, p->len); /* an empty line too: "[name]" */
			pending_remove(c, p);
			seg++;
		}
		bytes += seg;
		len -= seg;
	}
}

/* A LOG_WRITE message: 0, or an amber_error. */
static int write_message(struct component *c, uint64_t thread_id, amber_tag_t tag, const amber_word_t *mr)
{
	unsigned words = amber_tag_words(tag);
	if (amber_tag_label(tag) != AMBER_PROTO_LOG)
		return AMBER_ERR_PROTO;
	if (words < 2 || mr[0] != AMBER_LOG_WRITE)
		return AMBER_ERR_OPCODE;
	uint64_t len = mr[1];
	if (len > (uint64_t)(words - 2) * sizeof(amber_word_t))
		return AMBER_ERR_INVALID_ARG;
	write_text(c, thread_id, (const char *)&mr[2], (size_t)len);
	return AMBER_OK;
}

/* A call held until the component's budget is back (on core's timeout
 * thread). The caller is kept by id: it may stop waiting meanwhile. */
struct log_wait {
	struct core_timeout timeout; /* first: the fire function gets it */
	struct component *c;
	struct log_wait *next;       /* c->log_waits */
	uint64_t caller_id;
	amber_tag_t tag;
	amber_word_t mr[AMBER_MR_COUNT];
};

static void wait_unlink(struct log_wait *w)
{
	for (struct log_wait **pp = &w->c->log_waits; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

#define HELD_RETRY_US 5000u /* a writer waiting for a commit looks again this often */

static void wait_fire(struct core_timeout *t, uint64_t now)
{
	struct log_wait *w = (struct log_wait *)t;
	if (held_full(w->c) && !w->c->ending && core_timeout_schedule(&w->timeout, now + HELD_RETRY_US) == AMBER_OK)
		return; /* still no checkpoint has committed: on waiting */
	wait_unlink(w);
	struct kobj *o = kernel_object_by_id(w->caller_id);
	if (o && kernel_object_kind(o) == AMBER_KIND_THREAD) {
		int err = write_message(w->c, w->caller_id, w->tag, w->mr);
		amber_word_t mr[1] = { 0 };
		kernel_core_reply((struct kthread *)o, err, amber_tag(AMBER_PROTO_LOG, 0, 0), mr);
	}
	free(w);
}

/* The kernel: the caller stopped waiting (its thread or component ends). */
static void wait_abandoned(void *ctx)
{
	struct log_wait *w = ctx;
	core_timeout_cancel(&w->timeout);
	wait_unlink(w);
	free(w);
}

enum kcore_result log_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct component *c = ctx;
	req->reply_tag = amber_tag(AMBER_PROTO_LOG, 0, 0);
	service_drop_items(req);
	uint64_t now = core_time_us(), back = budget_back_us(c);
	if (held_full(c) && back <= now)
		back = now + HELD_RETRY_US;
	if (back > now && req->is_call && !c->ending) {
		struct log_wait *w = calloc(1, sizeof(*w));
		if (w) {
			w->timeout.fire = wait_fire;
			w->c = c;
			w->caller_id = kernel_object_id(req->caller);
			w->tag = req->tag;
			memcpy(w->mr, req->mr, sizeof(w->mr));
			if (core_timeout_schedule(&w->timeout, back) == AMBER_OK) {
				w->next = c->log_waits;
				c->log_waits = w;
				req->abandoned = wait_abandoned;
				req->abandoned_ctx = w;
				return KCORE_DEFER;
			}
			free(w);
		}
		/* No memory or no timeout thread: print it now, as before. */
	} else if (back > now && !req->is_call) {
		/* A SEND over the rate: nobody waits to be slowed down. */
		unsigned words = amber_tag_words(req->tag);
		uint64_t len = words >= 2 ? req->mr[1] : 0, lines = 0;
		const char *bytes = (const char *)&req->mr[2];
		for (uint64_t i = 0; i < len && i < (uint64_t)(words - 2) * sizeof(amber_word_t); i++)
			lines += bytes[i] == '\n';
		if (held_full(c))
			c->log_dropped_held += lines ? lines : 1;
		else
			c->log_dropped += lines ? lines : 1;
		note_dropped(c, now, false);
		*error = AMBER_OK;
		return KCORE_REPLY;
	}
	*error = write_message(c, kernel_object_id(req->caller), req->tag, req->mr);
	return KCORE_REPLY;
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* The unfinished lines, each with its thread, and how many lines it wrote:
 * a differential test compares a restored run's output from exactly that
 * line on. Thread ids survive a restore (the kernel objects keep theirs),
 * so each line goes on with its own thread's next write. */
int log_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	(void)s;
	m->log_line.len = 0; /* the one line of images before per-thread lines */
	m->log_line.data = malloc(1);
	if (!m->log_line.data)
		abort();
	for (unsigned i = 0; i < c->nlines; i++) {
		AmberImg__LogLine *x = CR_NEW(AmberImg__LogLine, amber_img__log_line__init);
		x->thread_id = c->line[i].thread_id;
		x->text.len = c->line[i].len;
		x->text.data = malloc(c->line[i].len ? c->line[i].len : 1);
		if (!x->text.data)
			abort();
		memcpy(x->text.data, c->line[i].text, c->line[i].len);
		CR_APPEND(m, log_pending, x);
	}
	m->log_lines = c->log_lines;
	m->has_hold_output = m->hold_output = c->hold_output;
	return 0;
}

static int load_line(struct cr_load *l, uint64_t thread_id, const ProtobufCBinaryData *text)
{
	struct component *c = l->c;
	if (text->len > LOG_LINE_MAX)
		return cr_fail(l->err, l->errlen, "%s: LOG line of %zu bytes", c->name, text->len);
	if (c->nlines == LOG_PENDING_MAX)
		return cr_fail(l->err, l->errlen, "%s: more than %d unfinished LOG lines", c->name, LOG_PENDING_MAX);
	struct log_pending *p = &c->line[c->nlines++];
	p->thread_id = thread_id;
	p->len = text->len;
	if (text->len)
		memcpy(p->text, text->data, text->len);
	return 0;
}

int log_load(struct cr_load *l)
{
	struct component *c = l->c;
	c->nlines = 0;
	/* An older image's one line: no thread known, it ends with the component. */
	if (l->m->log_line.len && load_line(l, 0, &l->m->log_line) < 0)
		return -1;
	for (size_t i = 0; i < l->m->n_log_pending; i++)
		if (load_line(l, l->m->log_pending[i]->thread_id, &l->m->log_pending[i]->text) < 0)
			return -1;
	c->log_lines = l->m->log_lines;
	c->hold_output |= l->m->has_hold_output && l->m->hold_output; /* a fresh system keeps the policy */
	return 0;
}
