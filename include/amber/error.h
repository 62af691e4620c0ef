/*
 * Names for enum amber_error values, for log lines.
 */
#ifndef AMBER_ERROR_H
#define AMBER_ERROR_H

/* "OK", "INVALID_CAP", "PROTO", ...; "?" for values abi.h does not define. */
const char *amber_error_name(long err);

#endif
