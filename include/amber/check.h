/*
 * Self-checks for test components, in the one log format the integration
 * tests parse:
 *
 *   ok: <what>
 *   FAIL: <what> (got <X> expected <Y>)
 *   done: <N> ok, <M> failed
 *
 * Errors print as NAME(value), e.g. "INVALID_CAP(-1)".
 */
#ifndef AMBER_CHECK_H
#define AMBER_CHECK_H

#include <stdint.h>

#include "abi.h"

/* An operation's result against one expected error (or AMBER_OK). */
int amber_check_err(const char *what, int got, int expected);
/* ... against either of two acceptable errors. */
int amber_check_err2(const char *what, int got, int expected1, int expected2);
/* A value against the expected one. */
int amber_check_val(const char *what, uint64_t got, uint64_t expected);
/* A free capability slot; logs a FAIL line if none is left (and returns
 * AMBER_SEL_INVALID, which every later check then reports as an error). */
amber_sel_t amber_check_slot(void);
/* Log "done: N ok, M failed" and return M. */
int amber_check_done(void);

#endif
