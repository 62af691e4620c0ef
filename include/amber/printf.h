/*
 * A small printf for components: %d %i %u %x %X %o %p %s %c %%, and
 * %f %F %e %E %g %G (exact, correctly rounded; L: a long double printed as
 * a double), flags '-' '0' '+' ' ' '#', width and precision (also '*'),
 * length modifiers hh h l ll z j t.
 */
#ifndef AMBER_PRINTF_H
#define AMBER_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Format to a character sink; returns the number of characters produced. */
int amber_vformat(void (*out)(char c, void *ctx), void *ctx, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* C semantics: at most size-1 characters plus NUL; returns the length the
 * whole output would have had. */
int amber_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
int amber_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
