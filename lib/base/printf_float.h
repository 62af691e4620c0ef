/*
 * The floating-point conversions of the runtime's printf (printf.c):
 * fmt_float turns a double into the text of %f %F %e %E %g %G without
 * sign or padding, which printf.c adds as for numbers.
 */
#ifndef AMBER_PRINTF_FLOAT_H
#define AMBER_PRINTF_FLOAT_H

/* Digits one conversion computes at most: 309 integer digits of DBL_MAX
 * and 1074 fraction digits of the smallest subnormal, with room. */
#define FMT_FLOAT_DIGITS 1400

struct fmt_float {
	int negative; /* the sign bit (also -0.0 and -nan, as C prints them) */
	int special;  /* inf or nan: no zero padding */
	int len;
	char body[FMT_FLOAT_DIGITS + 16];
	/* A precision beyond the digits a double has: `zeros` more '0's
	 * belong at body[zeros_at] (before an exponent). */
	int zeros, zeros_at;
};

/* conv: f F e E g G; prec -1: the default 6; alt: the '#' flag. */
void fmt_float(struct fmt_float *f, double v, char conv, int prec, int alt);

#endif
