/*
 * The component's own sessions with core: one PD, one CPU and one RM
 * session, asked from the parent the first time they are needed and kept
 * for the component's life. amber/thread.h and amber/heap.h use them; a
 * component may too (or ask for sessions of its own). Thread-safe.
 */
#ifndef AMBER_ENV_H
#define AMBER_ENV_H

#include "abi.h"

/* The session's selector, or AMBER_SEL_INVALID if it cannot be had. */
amber_sel_t amber_env_pd(void);
amber_sel_t amber_env_cpu(void);
amber_sel_t amber_env_rm(void);

#endif
