/*
 * Framework components (Genode's Component::construct).
 *
 * A component that defines
 *
 *     void component_construct(struct amber_env *env);
 *
 * and no `int main(void)` is started by the runtime's own main
 * (lib/base/component.c, a weak definition, so the choice is made at link
 * time: a component's own main wins): it fills in `env`, constructs the
 * main Entrypoint (amber/entrypoint.h) in the initial thread, and the
 * initial thread then runs the entrypoint's loop, in which
 * component_construct(env) is called first (through the constructor
 * capability); afterwards the loop serves the RPC objects and signal
 * handlers the component set up, forever. The component ends with
 * amber_entrypoint_exit(env->ep, code) (clean: the runtime releases the
 * entrypoint, then the process exits with `code`) or amber_exit(code).
 */
#ifndef AMBER_COMPONENT_H
#define AMBER_COMPONENT_H

#include "entrypoint.h"
#include "env.h"

void component_construct(struct amber_env *env);

#endif
