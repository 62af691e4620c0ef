/*
 * amber_log: printf-style lines to core's LOG service.
 *
 * Why streaming: the formatter writes into a buffer the size of one
 * LOG_WRITE message (AMBER_MSG_STRING_MAX bytes) that is sent whenever it
 * fills, so a line of any length goes out in several messages and core
 * reassembles it (it prints complete lines). The line is closed with '\n'
 * unless the format already ended with one. The buffer is on the stack, so
 * threads may log concurrently; each uses its own UTCB.
 */
#include <amber/ipc.h>
#include <amber/log.h>
#include <amber/printf.h>
#include <amber/protocols.h>

int amber_log_write(const char *s, size_t len)
{
	struct amber_utcb *u = amber_utcb();
	while (len) {
		size_t chunk = len < AMBER_MSG_STRING_MAX ? len : AMBER_MSG_STRING_MAX;
		u->mr[0] = AMBER_LOG_WRITE;
		unsigned words = amber_mr_put_string(u, 1, s, chunk);
		int err = amber_ipc_call(AMBER_SEL_LOG, amber_tag(AMBER_PROTO_LOG, words, 0), AMBER_TIMEOUT_NEVER,
					 AMBER_TIMEOUT_NEVER);
		if (err)
			return err;
		s += chunk;
		len -= chunk;
	}
	return 0;
}

struct line {
	size_t len;
	char last;
	char buf[AMBER_MSG_STRING_MAX];
};

static void line_put(char c, void *ctx)
{
	struct line *l = ctx;
	if (l->len == sizeof l->buf) {
		amber_log_write(l->buf, l->len);
		l->len = 0;
	}
	l->buf[l->len++] = c;
	l->last = c;
}

void amber_vlog(const char *fmt, va_list ap)
{
	struct line l;
	l.len = 0;
	l.last = 0;
	amber_vformat(line_put, &l, fmt, ap);
	if (l.last != '\n')
		line_put('\n', &l);
	amber_log_write(l.buf, l.len);
}

void amber_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	amber_vlog(fmt, ap);
	va_end(ap);
}
