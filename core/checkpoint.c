/*
 * Checkpoint: freeze a component and its descendants at one atomic cut and
 * write them into an image (docs/checkpoint-restore.md).
 */
#include <stdio.h>

#include "cr.h"

int cr_checkpoint(const char *name, const char *dir, const struct cr_options *o, char *msg, size_t msglen)
{
	(void)dir;
	(void)o;
	snprintf(msg, msglen, "cannot checkpoint %s: not implemented yet", name);
	return -1;
}
