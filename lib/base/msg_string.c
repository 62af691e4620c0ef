/*
 * Strings in messages: a length word, then the bytes packed into the
 * following words (amber/protocols.h). Shared by LOG, the parent protocol
 * and any service that passes names or text.
 *
 * Why here and checked: the receiver must never trust the length word; a
 * string that claims to reach past the message's word count is rejected.
 */
#include <amber/ipc.h>
#include <amber/string.h>

unsigned amber_mr_put_string(struct amber_utcb *u, unsigned idx, const char *s, size_t len)
{
	if (idx >= AMBER_MR_COUNT)
		return AMBER_MR_COUNT;
	size_t room = (size_t)(AMBER_MR_COUNT - idx - 1u) * 8u;
	if (len > room)
		len = room;
	unsigned words = amber_string_words(len);
	u->mr[idx] = len;
	if (words)
		u->mr[idx + words] = 0; /* deterministic padding in the last word */
	memcpy(&u->mr[idx + 1u], s, len);
	return idx + 1u + words;
}

long amber_mr_get_string(const struct amber_utcb *u, unsigned idx, unsigned words, char *buf, size_t size)
{
	if (words > AMBER_MR_COUNT || idx >= words)
		return AMBER_ERR_INVALID_ARG;
	uint64_t len = u->mr[idx];
	if (len > (uint64_t)(words - idx - 1u) * 8u)
		return AMBER_ERR_INVALID_ARG;
	if (size) {
		size_t n = len < size - 1 ? (size_t)len : size - 1;
		memcpy(buf, &u->mr[idx + 1u], n);
		buf[n] = '\0';
	}
	return (long)len;
}
