/*
 * Restore: bring the components of an image back, in place of the live
 * ones of the same name or into a fresh system (docs/checkpoint-restore.md).
 */
#include <stdio.h>

#include "cr.h"

int cr_restore(const char *dir, const struct cr_options *o, char *msg, size_t msglen)
{
	(void)o;
	snprintf(msg, msglen, "cannot restore %s: not implemented yet", dir);
	return -1;
}

int cr_boot(const char *dir, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "cannot restore %s: not implemented yet", dir);
	return -1;
}
