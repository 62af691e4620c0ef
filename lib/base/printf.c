/*
 * A small printf core for components (no libc).
 *
 * Why a character sink: the formatter writes through a callback, so
 * amber_snprintf fills a buffer while amber_log streams straight into
 * LOG_WRITE messages of any length without a second buffer or a length
 * limit. Conversions: d i u x X o p s c %, and f F e E g G (printf_float.c;
 * L reads a long double and prints it as a double); flags - 0 + space #;
 * width and precision, also as '*'; length modifiers hh h l ll z j t. Behaviour
 * follows C for everything supported; an unknown conversion is printed as
 * it stands.
 */
#include <stdint.h>

#include <amber/printf.h>
#include <amber/string.h>

#include "printf_float.h"

struct spec {
	int left, zero, plus, space, alt;
	int width;
	int prec; /* -1: none */
};

struct sink {
	void (*out)(char c, void *ctx);
	void *ctx;
	int n;
};

static void put(struct sink *s, char c)
{
	s->out(c, s->ctx);
	s->n++;
}

static void pad(struct sink *s, char c, int count)
{
	while (count-- > 0)
		put(s, c);
}

static void put_number(struct sink *s, const struct spec *sp, uint64_t v, int negative, unsigned base,
		       int upper, int is_pointer)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24]; /* 2^64 in octal has 22 digits */
	int nd = 0;
	if (!(v == 0 && sp->prec == 0)) /* C: zero with precision 0 prints no digits */
		do {
			buf[nd++] = digits[v % base];
			v /= base;
		} while (v);

	char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
	const char *prefix = "";
	if (is_pointer || (sp->alt && base == 16 && nd && !(nd == 1 && buf[0] == '0')))
		prefix = upper ? "0X" : "0x";
	int zeros = sp->prec > nd ? sp->prec - nd : 0;
	if (sp->alt && base == 8 && zeros == 0 && (nd == 0 || buf[nd - 1] != '0'))
		zeros = 1; /* '#' with octal: the first digit is 0 */
	int len = (sign ? 1 : 0) + (int)strlen(prefix) + zeros + nd;

	if (!sp->left && !(sp->zero && sp->prec < 0))
		pad(s, ' ', sp->width - len);
	if (sign)
		put(s, sign);
	for (const char *p = prefix; *p; p++)
		put(s, *p);
	if (!sp->left && sp->zero && sp->prec < 0)
		pad(s, '0', sp->width - len);
	pad(s, '0', zeros);
	while (nd)
		put(s, buf[--nd]);
	if (sp->left)
		pad(s, ' ', sp->width - len);
}

static void put_string(struct sink *s, const struct spec *sp, const char *str)
{
	if (!str)
		str = "(null)";
	int len = (int)(sp->prec >= 0 ? strnlen(str, (size_t)sp->prec) : strlen(str));
	if (!sp->left)
		pad(s, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		put(s, str[i]);
	if (sp->left)
		pad(s, ' ', sp->width - len);
}

static void put_float(struct sink *s, const struct spec *sp, double v, char conv)
{
	struct fmt_float f;
	fmt_float(&f, v, conv, sp->prec, sp->alt);
	char sign = f.negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
	int len = (sign ? 1 : 0) + f.len + f.zeros;
	int zero_pad = sp->zero && !sp->left && !f.special;
	if (!sp->left && !zero_pad)
		pad(s, ' ', sp->width - len);
	if (sign)
		put(s, sign);
	if (zero_pad)
		pad(s, '0', sp->width - len);
	for (int i = 0; i < f.len; i++) {
		if (i == f.zeros_at)
			pad(s, '0', f.zeros);
		put(s, f.body[i]);
	}
	if (f.zeros_at == f.len)
		pad(s, '0', f.zeros);
	if (sp->left)
		pad(s, ' ', sp->width - len);
}

enum length { LEN_HH, LEN_H, LEN_INT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_LDOUBLE };

int amber_vformat(void (*out)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
{
	struct sink s = { out, ctx, 0 };
	va_list args;
	va_copy(args, ap);

	while (*fmt) {
		if (*fmt != '%') {
			put(&s, *fmt++);
			continue;
		}
		const char *start = fmt++;
		struct spec sp = { 0, 0, 0, 0, 0, 0, -1 };

		for (;; fmt++) {
			if (*fmt == '-') sp.left = 1;
			else if (*fmt == '0') sp.zero = 1;
			else if (*fmt == '+') sp.plus = 1;
			else if (*fmt == ' ') sp.space = 1;
			else if (*fmt == '#') sp.alt = 1;
			else break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(args, int);
			if (sp.width < 0) {
				sp.left = 1;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = 0;
			if (*fmt == '*') {
				sp.prec = va_arg(args, int);
				if (sp.prec < 0)
					sp.prec = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					sp.prec = sp.prec * 10 + (*fmt++ - '0');
			}
		}

		enum length len = LEN_INT;
		if (*fmt == 'h') {
			fmt++;
			len = LEN_H;
			if (*fmt == 'h') {
				fmt++;
				len = LEN_HH;
			}
		} else if (*fmt == 'l') {
			fmt++;
			len = LEN_LONG;
			if (*fmt == 'l') {
				fmt++;
				len = LEN_LLONG;
			}
		} else if (*fmt == 'L') {
			fmt++;
			len = LEN_LDOUBLE;
		} else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') {
			fmt++;
			len = LEN_SIZE; /* size_t, intmax_t, ptrdiff_t: all 64 bits here */
		}

		char conv = *fmt;
		if (conv)
			fmt++;
		switch (conv) {
		case 'd':
		case 'i': {
			int64_t v;
			switch (len) {
			case LEN_HH: v = (signed char)va_arg(args, int); break;
			case LEN_H: v = (short)va_arg(args, int); break;
			case LEN_INT: v = va_arg(args, int); break;
			case LEN_LONG: v = va_arg(args, long); break;
			case LEN_LLONG: v = va_arg(args, long long); break;
			default: v = va_arg(args, long); break;
			}
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			put_number(&s, &sp, mag, v < 0, 10, 0, 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uint64_t v;
			switch (len) {
			case LEN_HH: v = (unsigned char)va_arg(args, unsigned); break;
			case LEN_H: v = (unsigned short)va_arg(args, unsigned); break;
			case LEN_INT: v = va_arg(args, unsigned); break;
			case LEN_LONG: v = va_arg(args, unsigned long); break;
			case LEN_LLONG: v = va_arg(args, unsigned long long); break;
			default: v = va_arg(args, unsigned long); break;
			}
			unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
			put_number(&s, &sp, v, 0, base, conv == 'X', 0);
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(args, void *);
			put_number(&s, &sp, v, 0, 16, 0, 1);
			break;
		}
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G': {
			double v = len == LEN_LDOUBLE ? (double)va_arg(args, long double) : va_arg(args, double);
			put_float(&s, &sp, v, conv);
			break;
		}
		case 's':
			put_string(&s, &sp, va_arg(args, const char *));
			break;
		case 'c': {
			char c = (char)va_arg(args, int);
			if (!sp.left)
				pad(&s, ' ', sp.width - 1);
			put(&s, c);
			if (sp.left)
				pad(&s, ' ', sp.width - 1);
			break;
		}
		case '%':
			put(&s, '%');
			break;
		default: /* unknown or truncated: print the directive as written */
			for (const char *p = start; p < fmt; p++)
				put(&s, *p);
			break;
		}
	}
	va_end(args);
	return s.n;
}

struct buf_ctx {
	char *buf;
	size_t size;
	size_t pos;
};

static void buf_out(char c, void *ctx)
{
	struct buf_ctx *b = ctx;
	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int amber_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_ctx b = { buf, size, 0 };
	int n = amber_vformat(buf_out, &b, fmt, ap);
	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return n;
}

int amber_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = amber_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
