/*
 * Reader of the compact configuration tree (amber/config_tree.h).
 *
 * Why everything is checked up front: the blob comes from core, but it is
 * read from a dataspace, and a reader that follows unchecked offsets is
 * one bug away from reading anywhere. amber_config_open checks every
 * index and offset once; the accessors then need no checks. No libc: the
 * same file is built for the host by tests/unit/test_config_tree.c.
 */
#include <amber/abi.h>
#include <amber/config_tree.h>

static int same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* A string offset with its NUL inside the string area. */
static int string_ok(const struct amber_config *t, uint32_t off)
{
	if (off >= t->strings_size)
		return 0;
	for (uint32_t i = off; i < t->strings_size; i++)
		if (t->strings[i] == '\0')
			return 1;
	return 0;
}

int amber_config_open(struct amber_config *t, const void *data, size_t size)
{
	const struct amber_config_header *h = data;
	if (!data || ((uintptr_t)data & 3u) || size < sizeof(*h))
		return AMBER_ERR_INVALID_ARG;
	if (h->magic != AMBER_CONFIG_MAGIC || h->version != AMBER_CONFIG_VERSION || h->size > size ||
	    h->nnodes == 0 || h->nnodes > (1u << 20) || h->nattrs > (1u << 20))
		return AMBER_ERR_INVALID_ARG;
	uint64_t need = sizeof(*h) + (uint64_t)h->nnodes * sizeof(struct amber_config_node) +
			(uint64_t)h->nattrs * sizeof(struct amber_config_attr) + h->strings_size;
	if (need != h->size)
		return AMBER_ERR_INVALID_ARG;
	t->base = data;
	t->nodes = (const struct amber_config_node *)(t->base + sizeof(*h));
	t->attrs = (const struct amber_config_attr *)(t->nodes + h->nnodes);
	t->strings = (const char *)(t->attrs + h->nattrs);
	t->nnodes = h->nnodes;
	t->nattrs = h->nattrs;
	t->strings_size = h->strings_size;
	t->size = h->size;
	for (uint32_t i = 0; i < t->nnodes; i++) {
		const struct amber_config_node *n = &t->nodes[i];
		if (!string_ok(t, n->name))
			return AMBER_ERR_INVALID_ARG;
		if (n->first_child != AMBER_CONFIG_NONE && (n->first_child <= i || n->first_child >= t->nnodes))
			return AMBER_ERR_INVALID_ARG;
		if (n->next_sibling != AMBER_CONFIG_NONE && (n->next_sibling <= i || n->next_sibling >= t->nnodes))
			return AMBER_ERR_INVALID_ARG;
		if (n->first_attr > t->nattrs || n->nattrs > t->nattrs - n->first_attr)
			return AMBER_ERR_INVALID_ARG;
		if (n->text != AMBER_CONFIG_NONE &&
		    (n->text >= t->strings_size || n->text_len >= t->strings_size - n->text ||
		     t->strings[n->text + n->text_len] != '\0'))
			return AMBER_ERR_INVALID_ARG;
	}
	if (t->nodes[0].next_sibling != AMBER_CONFIG_NONE)
		return AMBER_ERR_INVALID_ARG;
	for (uint32_t i = 0; i < t->nattrs; i++)
		if (!string_ok(t, t->attrs[i].name) || !string_ok(t, t->attrs[i].value))
			return AMBER_ERR_INVALID_ARG;
	return AMBER_OK;
}

const char *amber_config_name(const struct amber_config *t, uint32_t node)
{
	return node < t->nnodes ? t->strings + t->nodes[node].name : "";
}

uint32_t amber_config_line(const struct amber_config *t, uint32_t node)
{
	return node < t->nnodes ? t->nodes[node].line : 0;
}

static uint32_t matching(const struct amber_config *t, uint32_t n, const char *name)
{
	while (n != AMBER_CONFIG_NONE && name && !same(t->strings + t->nodes[n].name, name))
		n = t->nodes[n].next_sibling;
	return n;
}

uint32_t amber_config_child(const struct amber_config *t, uint32_t node, const char *name)
{
	return node < t->nnodes ? matching(t, t->nodes[node].first_child, name) : AMBER_CONFIG_NONE;
}

uint32_t amber_config_next(const struct amber_config *t, uint32_t node, const char *name)
{
	return node < t->nnodes ? matching(t, t->nodes[node].next_sibling, name) : AMBER_CONFIG_NONE;
}

const char *amber_config_attr(const struct amber_config *t, uint32_t node, const char *name)
{
	if (node >= t->nnodes)
		return 0;
	const struct amber_config_node *n = &t->nodes[node];
	for (uint32_t i = 0; i < n->nattrs; i++) {
		const struct amber_config_attr *a = &t->attrs[n->first_attr + i];
		if (same(t->strings + a->name, name))
			return t->strings + a->value;
	}
	return 0;
}

int amber_config_attr_u64(const struct amber_config *t, uint32_t node, const char *name, uint64_t *out)
{
	const char *v = amber_config_attr(t, node, name);
	if (!v || !*v)
		return AMBER_ERR_INVALID_ARG;
	uint64_t x = 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || x > (UINT64_MAX - 9) / 10)
			return AMBER_ERR_INVALID_ARG;
		x = x * 10 + (uint64_t)(*v - '0');
	}
	*out = x;
	return AMBER_OK;
}

int amber_config_text(const struct amber_config *t, uint32_t node, uint32_t *offset, uint32_t *len)
{
	if (node >= t->nnodes || t->nodes[node].text == AMBER_CONFIG_NONE)
		return AMBER_ERR_INVALID_ARG;
	*offset = (uint32_t)((const uint8_t *)(t->strings + t->nodes[node].text) - t->base);
	*len = t->nodes[node].text_len;
	return AMBER_OK;
}
