/*
 * Memory and string functions for freestanding components.
 *
 * Why they exist even though nobody "uses libc": GCC emits calls to memcpy,
 * memset, memmove and memcmp by itself (struct copies, zeroing arrays),
 * -fno-builtin notwithstanding. Loop-pattern recognition is switched off
 * for this file so that the compiler does not turn the loops below into
 * calls to themselves. Copies go a word at a time when both pointers
 * allow it: messages and log lines are copied word-sized into the UTCB.
 */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

#include <stdint.h>

#include <amber/string.h>

typedef uint64_t __attribute__((may_alias, aligned(1))) word_u; /* unaligned-safe word */

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n >= 8) {
		*(word_u *)d = *(const word_u *)s;
		d += 8;
		s += 8;
		n -= 8;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d == s || n == 0)
		return dst;
	if ((uintptr_t)d - (uintptr_t)s >= n) { /* no harmful overlap: forward */
		while (n--)
			*d++ = *s++;
	} else { /* dst starts inside src: backward */
		d += n;
		s += n;
		while (n--)
			*--d = *--s;
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = (unsigned char)c * 0x0101010101010101ull;
	while (n >= 8) {
		*(word_u *)d = w;
		d += 8;
		n -= 8;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;
	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a < (unsigned char)*b ? -1 : (unsigned char)*a > (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		if (!*a)
			break;
	}
	return 0;
}

size_t amber_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
