/*
 * Scenarios: which components amber-core starts.
 */
#ifndef AMBER_CORE_SCENARIO_H
#define AMBER_CORE_SCENARIO_H

#include <stddef.h>

#include <libxml/tree.h>

#include "core.h"

/* Parse `path` and append a component (state NEW) per <component> node to
 * *list, resolving binaries in `components_dir`. 0, or -1 with "FILE:LINE:
 * reason" in err and nothing appended. */
int scenario_load(const char *path, const char *components_dir, struct component **list, char *err,
		  size_t errlen);

/* Shared with init_config.c: a component or start name ([a-z0-9_.-], 1 to
 * COMPONENT_NAME_MAX - 1 characters, no leading dot; scenario_name_problem
 * says why one is not, NULL if it is); a size ("4M": bytes, page-rounded,
 * 0 if malformed); a caps quota (1 .. AMBER_CAP_SLOTS, 0 if malformed). */
bool scenario_valid_name(const char *s);
const char *scenario_name_problem(const char *s);
uint64_t scenario_parse_size(const char *s);
unsigned scenario_parse_caps(const char *s);
/* A decimal number from 1 to max; 0 if malformed or out of range. */
unsigned scenario_parse_number(const char *s, unsigned max);

/* init_config.c: check init's <config> node and make c's "config" module
 * the compact tree (amber/config_tree.h). 0, or -1 with "FILE:LINE: reason". */
int init_config_parse(xmlNode *config, const char *path, struct component *c, char *err, size_t errlen);

#endif
