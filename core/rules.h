/*
 * Rules core applies both to what a running component asks for and to
 * what an image says (core/cr_validate.c): pure functions of their
 * arguments, so that the image fuzzer (tests/fuzz/) can call them without
 * a running core.
 */
#ifndef AMBER_CORE_RULES_H
#define AMBER_CORE_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* May [addr, addr + size) be attached in a component's address space:
 * inside [AMBER_RM_MIN, AMBER_RM_END) and clear of the ELF image area,
 * the UTCBs, the trampoline page and the first thread's stack? */
bool core_attachable(uint64_t addr, uint64_t size);

/* A ROM module name: 1 to AMBER_ROM_NAME_MAX - 1 of [A-Za-z0-9._-], not
 * starting with '.', no "..": a plain file name in the components
 * directory. */
bool core_module_name_ok(const char *s);

#endif
