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
/* sel was closed (amber_parent_close): if it is one of the sessions above,
 * forget it, so the next call asks the parent for a new one. */
void amber_env_forget(amber_sel_t sel);

/* What a framework component's component_construct(env) gets (Genode's
 * Env, amber/component.h): its main entrypoint and its sessions. */
struct amber_entrypoint;
struct amber_env {
	struct amber_entrypoint *ep; /* the main entrypoint (amber/entrypoint.h) */
	amber_sel_t parent;          /* AMBER_SEL_PARENT */
	amber_sel_t pd, cpu, rm;     /* amber_env_pd(), _cpu(), _rm() */
};

#endif
