/*
 * %f %e %g for the runtime's printf (printf.c), without libc.
 *
 * Why exact big-integer arithmetic: a double is m * 2^e exactly, and C's
 * printf prints the decimal value of that, correctly rounded (to nearest,
 * ties to even). Scaling with floating-point multiplications would be off
 * in the last digits for large exponents and precisions; instead the value
 * is round(m * 2^e * 10^s) for the decimal shift s the conversion needs,
 * computed as a quotient N / D of integers of at most BIG_LIMBS * 32 bits.
 * Digits beyond the ones a double can have are zeros (a double has at most
 * 1074 binary, hence decimal, fraction digits and 767 significant ones):
 * they are not computed but counted (fmt_float.zeros) and printed by the
 * caller.
 */
#include <stdint.h>

#include "printf_float.h"

#define BIG_LIMBS 136 /* 4352 bits: m * 10^1104 and 2^1074 fit */

struct big {
	int n; /* limbs in use; the top one is nonzero, 0 for the value 0 */
	uint32_t l[BIG_LIMBS];
};

static void big_set(struct big *b, uint64_t v)
{
	b->n = 0;
	while (v) {
		b->l[b->n++] = (uint32_t)v;
		v >>= 32;
	}
}

static void big_trim(struct big *b)
{
	while (b->n && !b->l[b->n - 1])
		b->n--;
}

static void big_mul_small(struct big *b, uint32_t f)
{
	uint64_t carry = 0;
	for (int i = 0; i < b->n; i++) {
		uint64_t x = (uint64_t)b->l[i] * f + carry;
		b->l[i] = (uint32_t)x;
		carry = x >> 32;
	}
	if (carry && b->n < BIG_LIMBS)
		b->l[b->n++] = (uint32_t)carry;
}

static void big_mul_pow10(struct big *b, int k)
{
	for (; k >= 9; k -= 9)
		big_mul_small(b, 1000000000u);
	static const uint32_t p10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };
	if (k > 0)
		big_mul_small(b, p10[k]);
}

static void big_shl(struct big *b, int k)
{
	if (!b->n || !k)
		return;
	int words = k / 32, bits = k % 32;
	int n = b->n + words + 1;
	if (n > BIG_LIMBS)
		n = BIG_LIMBS; /* cannot happen for the shifts used here */
	for (int i = n - 1; i >= 0; i--) {
		int src = i - words;
		uint32_t hi = src >= 0 && src < b->n ? b->l[src] : 0;
		uint32_t lo = src - 1 >= 0 && src - 1 < b->n ? b->l[src - 1] : 0;
		b->l[i] = bits ? (hi << bits) | (lo >> (32 - bits)) : hi;
	}
	b->n = n;
	big_trim(b);
}

static int big_bits(const struct big *b)
{
	if (!b->n)
		return 0;
	return (b->n - 1) * 32 + (32 - __builtin_clz(b->l[b->n - 1]));
}

static int big_bit(const struct big *b, int i) { return i / 32 < b->n ? (b->l[i / 32] >> (i % 32)) & 1 : 0; }

static int big_cmp(const struct big *a, const struct big *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (int i = a->n - 1; i >= 0; i--)
		if (a->l[i] != b->l[i])
			return a->l[i] < b->l[i] ? -1 : 1;
	return 0;
}

static void big_sub(struct big *a, const struct big *b) /* a >= b */
{
	int64_t borrow = 0;
	for (int i = 0; i < a->n; i++) {
		int64_t x = (int64_t)a->l[i] - (i < b->n ? b->l[i] : 0) - borrow;
		borrow = x < 0;
		a->l[i] = (uint32_t)(x + (borrow ? (int64_t)1 << 32 : 0));
	}
	big_trim(a);
}

static void big_add_one(struct big *a)
{
	for (int i = 0; i < a->n; i++)
		if (++a->l[i])
			return;
	if (a->n < BIG_LIMBS)
		a->l[a->n++] = 1;
}

/* q = N / D rounded to nearest, ties to even (bitwise long division). */
static void big_div_round(struct big *q, const struct big *num, const struct big *den)
{
	struct big r = { 0, { 0 } };
	q->n = 0;
	int nb = big_bits(num);
	for (int i = 0; i < (nb + 31) / 32; i++)
		q->l[i] = 0;
	q->n = (nb + 31) / 32;
	for (int i = nb - 1; i >= 0; i--) {
		big_shl(&r, 1);
		if (big_bit(num, i)) {
			if (!r.n)
				r.n = 1;
			r.l[0] |= 1;
		}
		if (big_cmp(&r, den) >= 0) {
			big_sub(&r, den);
			q->l[i / 32] |= 1u << (i % 32);
		}
	}
	big_trim(q);
	big_shl(&r, 1); /* 2r against D: over half, or exactly half and odd */
	int c = big_cmp(&r, den);
	if (c > 0 || (c == 0 && q->n && (q->l[0] & 1)))
		big_add_one(q);
}

/* The decimal digits of b into out (most significant first, no leading
 * zeros, "0" for 0); their count. b is destroyed. */
static int big_digits(struct big *b, char *out, int size)
{
	char rev[FMT_FLOAT_DIGITS];
	int n = 0;
	while (b->n && n < (int)sizeof(rev)) {
		uint64_t rem = 0;
		for (int i = b->n - 1; i >= 0; i--) {
			uint64_t cur = (rem << 32) | b->l[i];
			b->l[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		big_trim(b);
		for (int k = 0; k < 9 && (b->n || rem) && n < (int)sizeof(rev); k++) {
			rev[n++] = (char)('0' + rem % 10);
			rem /= 10;
		}
	}
	if (!n)
		rev[n++] = '0';
	int len = n < size ? n : size;
	for (int i = 0; i < len; i++)
		out[i] = rev[n - 1 - i];
	return len;
}

/* round(m * 2^e * 10^s) as digits. */
static int scaled_digits(uint64_t m, int e, int s, char *out, int size)
{
	struct big n, d, r; /* on the stack: components print from several threads */
	big_set(&n, m);
	big_set(&d, 1);
	if (e > 0)
		big_shl(&n, e);
	else
		big_shl(&d, -e);
	if (s > 0)
		big_mul_pow10(&n, s);
	else
		big_mul_pow10(&d, -s);
	big_div_round(&r, &n, &d);
	return big_digits(&r, out, size);
}

static void put(struct fmt_float *f, char c)
{
	if (f->len < (int)sizeof(f->body))
		f->body[f->len++] = c;
}

/* %f: digits with the point `prec` from the right. */
static void fixed(struct fmt_float *f, uint64_t m, int e, int prec, int alt)
{
	int s = prec, frac_bits = e < 0 ? -e : 0;
	if (s > frac_bits) { /* exact from there on: zeros */
		f->zeros = prec - frac_bits;
		s = frac_bits;
	}
	char d[FMT_FLOAT_DIGITS];
	int n = scaled_digits(m, e, s, d, sizeof(d));
	int intlen = n > s ? n - s : 1;
	for (int i = 0; i < intlen; i++)
		put(f, n > s ? d[i] : '0');
	if (prec || alt)
		put(f, '.');
	for (int i = 0; i < s - n; i++) /* leading zeros of the fraction */
		put(f, '0');
	for (int i = n > s ? n - s : 0; i < n; i++)
		put(f, d[i]);
	f->zeros_at = f->len;
}

/* A first guess at floor(log10(m * 2^e)): off by at most one. */
static int guess_exp10(uint64_t m, int e)
{
	int bits = 64 - __builtin_clzll(m) + e; /* 2^(bits-1) <= v < 2^bits */
	/* log10(2) ~ 0.30103 = 78913 / 2^18 */
	return (int)(((int64_t)(bits - 1) * 78913) >> 18);
}

/* The p+1 significant digits of %e (and %g) and the decimal exponent. */
static int sig_digits(uint64_t m, int e, int p, char *d, int size, int *exp10)
{
	int x = guess_exp10(m, e);
	int n = 0;
	for (int tries = 0; tries < 4; tries++) {
		n = scaled_digits(m, e, p - x, d, size);
		if (n > p + 1)
			x++; /* rounded up to 10^(p+1), or the guess was low */
		else if (n < p + 1)
			x--;
		else
			break;
	}
	*exp10 = x;
	return n;
}

static void exponent(struct fmt_float *f, int x, int upper)
{
	put(f, upper ? 'E' : 'e');
	put(f, x < 0 ? '-' : '+');
	unsigned ux = (unsigned)(x < 0 ? -x : x);
	char buf[4];
	int n = 0;
	do {
		buf[n++] = (char)('0' + ux % 10);
		ux /= 10;
	} while (ux);
	if (n < 2)
		buf[n++] = '0';
	while (n)
		put(f, buf[--n]);
}

#define E_PREC_MAX 780 /* more significant digits than any double has */

static void scientific(struct fmt_float *f, uint64_t m, int e, int prec, int alt, int upper, int strip)
{
	int p = prec > E_PREC_MAX ? E_PREC_MAX : prec;
	char d[FMT_FLOAT_DIGITS];
	int x = 0, n;
	if (m == 0) {
		n = p + 1;
		for (int i = 0; i < n; i++)
			d[i] = '0';
	} else {
		n = sig_digits(m, e, p, d, sizeof(d), &x);
	}
	if (strip)
		while (n > 1 && d[n - 1] == '0')
			n--;
	put(f, d[0]);
	if (n > 1 || alt || (!strip && prec))
		put(f, '.');
	for (int i = 1; i < n; i++)
		put(f, d[i]);
	f->zeros_at = f->len;
	f->zeros = strip ? 0 : prec - p;
	exponent(f, x, upper);
}

void fmt_float(struct fmt_float *f, double v, char conv, int prec, int alt)
{
	union {
		double d;
		uint64_t u;
	} bits = { v };
	int upper = conv == 'F' || conv == 'E' || conv == 'G';
	f->len = f->zeros = f->zeros_at = 0;
	f->negative = (int)(bits.u >> 63);
	f->special = 0;
	int bexp = (int)((bits.u >> 52) & 0x7ff);
	uint64_t frac = bits.u & ((1ull << 52) - 1);
	if (bexp == 0x7ff) {
		const char *s = frac ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
		while (*s)
			put(f, *s++);
		f->special = 1;
		return;
	}
	/* v = m * 2^e */
	uint64_t m = bexp ? frac | (1ull << 52) : frac;
	int e = bexp ? bexp - 1075 : -1074;
	if (prec < 0)
		prec = 6;
	switch (conv) {
	case 'f':
	case 'F': fixed(f, m, e, prec, alt); break;
	case 'e':
	case 'E': scientific(f, m, e, prec, alt, upper, 0); break;
	default: { /* g, G: C's rule on the exponent %e would print */
		int p = prec ? prec : 1, x = 0;
		if (m) {
			char d[FMT_FLOAT_DIGITS];
			sig_digits(m, e, p - 1 > E_PREC_MAX ? E_PREC_MAX : p - 1, d, sizeof(d), &x);
		}
		if (x < p && x >= -4) {
			fixed(f, m, e, p - 1 - x, alt);
			if (!alt) { /* trailing zeros and a bare point go */
				f->zeros = 0;
				int has_point = 0;
				for (int i = 0; i < f->len; i++)
					has_point |= f->body[i] == '.';
				while (has_point && f->len && f->body[f->len - 1] == '0')
					f->len--;
				if (f->len && f->body[f->len - 1] == '.')
					f->len--;
				f->zeros_at = f->len;
			}
		} else {
			scientific(f, m, e, p - 1, alt, upper, !alt);
		}
		break;
	}
	}
}
