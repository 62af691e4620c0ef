/*
 * Scenarios: which components amber-core starts.
 */
#ifndef AMBER_CORE_SCENARIO_H
#define AMBER_CORE_SCENARIO_H

#include <stddef.h>

#include "core.h"

/* Parse `path` and append a component (state NEW) per <component> node to
 * *list, resolving binaries in `components_dir`. 0, or -1 with "FILE:LINE:
 * reason" in err and nothing appended. */
int scenario_load(const char *path, const char *components_dir, struct component **list, char *err,
		  size_t errlen);

#endif
