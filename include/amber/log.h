/*
 * Logging through core's LOG service (the gate in AMBER_SEL_LOG).
 *
 * Core prints complete lines as "[component] text". amber_log() formats one
 * line (printf subset of amber/printf.h), adds the '\n' if the format did
 * not end with one, and sends it in as many LOG_WRITE messages as needed.
 * It uses the UTCB like any IPC: copy a received message out first.
 */
#ifndef AMBER_LOG_H
#define AMBER_LOG_H

#include <stdarg.h>
#include <stddef.h>

void amber_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void amber_vlog(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Send raw bytes (no newline added). 0 or a negative enum amber_error. */
int amber_log_write(const char *s, size_t len);

#endif
