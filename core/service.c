/*
 * Helpers shared by core's service handlers: decoding strings from message
 * words, releasing capabilities a request carried, and core's reports.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

int service_string(const struct kcore_request *req, unsigned first, char *out, size_t outlen)
{
	unsigned words = amber_tag_words(req->tag);
	if (words < first + 1)
		return AMBER_ERR_INVALID_ARG;
	uint64_t len = req->mr[first];
	if (len > (uint64_t)(words - first - 1) * sizeof(amber_word_t) || len >= outlen)
		return AMBER_ERR_INVALID_ARG;
	memcpy(out, &req->mr[first + 1], (size_t)len);
	out[len] = '\0';
	if (strlen(out) != len)
		return AMBER_ERR_INVALID_ARG; /* embedded NUL */
	return AMBER_OK;
}

void service_drop_items(struct kcore_request *req)
{
	for (unsigned i = 0; i < req->nitems; i++)
		kernel_cap_delete(kernel_core_task(), req->items[i]);
	req->nitems = 0;
}

static uint64_t next_badge; /* the last one handed out; under the kernel lock */

/* Restore: badges continue above every restored one, also in a fresh
 * system, so a new badge never collides with an old one. */
void core_badges_above(uint64_t badge)
{
	if (badge > next_badge)
		next_badge = badge;
}

uint64_t core_badge_last(void) { return next_badge; }

uint64_t core_new_badge(void)
{
	return ++next_badge;
}

void core_report(const char *fmt, ...)
{
	char msg[512], line[520];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int n = snprintf(line, sizeof(line), "core: %s\n", msg);
	core_output(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, true);
}
