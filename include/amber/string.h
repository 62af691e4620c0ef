/*
 * The string and memory functions of the freestanding runtime.
 *
 * The mem* functions carry their standard names on purpose: the compiler
 * emits calls to memcpy, memset, memmove and memcmp on its own (struct
 * copies, array initialisers) even with -fno-builtin, so they must exist
 * under exactly these names. The str* functions keep the standard names
 * for familiarity; amber_strlcpy is the bounded copy to use instead of
 * strncpy.
 */
#ifndef AMBER_STRING_H
#define AMBER_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* Copy at most size-1 bytes of src and NUL-terminate (if size > 0).
 * Returns strlen(src): a result >= size means the copy was cut. */
size_t amber_strlcpy(char *dst, const char *src, size_t size);

#endif
