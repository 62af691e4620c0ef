/*
 * The compact configuration tree: how core hands a component a configuration
 * it has parsed and validated (init's "config" ROM, docs/architecture.md).
 *
 * Components are freestanding and cannot link an XML parser, and none is
 * written by hand: core parses the scenario with libxml2, checks init's
 * configuration completely (element and attribute names, values, quotas,
 * routes) and serializes it into this flat form. A component reads it
 * with the small reader below (lib/base/config_tree.c), which checks every
 * offset before it follows one, so a damaged blob is refused, never
 * trusted.
 *
 * Layout (all numbers little-endian uint32_t, the blob 4-byte aligned):
 *
 *   header   struct amber_config_header
 *   nodes    nnodes x struct amber_config_node, in document order (pre-order):
 *            node 0 is the root; a node's first child and next sibling
 *            always have a larger index than the node itself
 *   attrs    nattrs x struct amber_config_attr; node i owns
 *            attrs[first_attr .. first_attr + nattrs)
 *   strings  NUL-terminated strings; names, values and texts are byte
 *            offsets into this area
 *
 * Elements keep their names and attributes (with values as core
 * normalized them: sizes and numbers as plain decimal bytes); text is
 * not kept, except that a node may carry one opaque text: for init, a
 * <start>'s <config> carries its children serialized as XML, the child's
 * own "config" ROM module.
 */
#ifndef AMBER_CONFIG_TREE_H
#define AMBER_CONFIG_TREE_H

#include <stddef.h>
#include <stdint.h>

#define AMBER_CONFIG_MAGIC 0x54434d41u /* "AMCT" */
#define AMBER_CONFIG_VERSION 1u
#define AMBER_CONFIG_NONE 0xffffffffu  /* no node, no text */

struct amber_config_header {
	uint32_t magic, version;
	uint32_t nnodes, nattrs;
	uint32_t strings_size; /* bytes of the string area */
	uint32_t size;         /* bytes of the whole blob */
};

struct amber_config_node {
	uint32_t name;         /* string offset */
	uint32_t first_child;  /* node index or AMBER_CONFIG_NONE */
	uint32_t next_sibling; /* node index or AMBER_CONFIG_NONE */
	uint32_t first_attr, nattrs;
	uint32_t text, text_len; /* string offset or AMBER_CONFIG_NONE; length without the NUL */
	uint32_t line;         /* line in the scenario file, for messages */
};

struct amber_config_attr {
	uint32_t name, value; /* string offsets */
};

/* ---- reader (lib/base/config_tree.c; no libc, also built for the host) ---- */
struct amber_config {
	const uint8_t *base;
	const struct amber_config_node *nodes;
	const struct amber_config_attr *attrs;
	const char *strings;
	uint32_t nnodes, nattrs, strings_size, size;
};

/* Check the whole blob; 0 or AMBER_ERR_INVALID_ARG. */
int amber_config_open(struct amber_config *t, const void *data, size_t size);
static inline uint32_t amber_config_root(const struct amber_config *t) { (void)t; return 0; }
const char *amber_config_name(const struct amber_config *t, uint32_t node);
uint32_t amber_config_line(const struct amber_config *t, uint32_t node);
/* First child / next sibling named `name` (NULL: any), or AMBER_CONFIG_NONE. */
uint32_t amber_config_child(const struct amber_config *t, uint32_t node, const char *name);
uint32_t amber_config_next(const struct amber_config *t, uint32_t node, const char *name);
/* An attribute's value, or NULL. */
const char *amber_config_attr(const struct amber_config *t, uint32_t node, const char *name);
/* A decimal attribute; 0 or AMBER_ERR_INVALID_ARG (missing, malformed). */
int amber_config_attr_u64(const struct amber_config *t, uint32_t node, const char *name, uint64_t *out);
/* A node's text: its offset in the blob and length; 0, or
 * AMBER_ERR_INVALID_ARG if it has none. */
int amber_config_text(const struct amber_config *t, uint32_t node, uint32_t *offset, uint32_t *len);

#endif
