/*
 * TEMPORARY: image_inspect and image_diff until the image reader's
 * inspect.c arrives; delete this file at that merge.
 */
#include "image/inspect.h"

int image_inspect(const char *dir, bool json, FILE *out, char *err, size_t errlen)
{
	(void)dir;
	(void)json;
	(void)out;
	snprintf(err, errlen, "inspect: not available yet");
	return -1;
}

int image_diff(const char *a, const char *b, FILE *out, char *err, size_t errlen)
{
	(void)a;
	(void)b;
	(void)out;
	snprintf(err, errlen, "inspect: not available yet");
	return -1;
}
