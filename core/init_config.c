/*
 * init's configuration: checked by core, handed to init as a compact tree.
 *
 * Components cannot link libxml2, and nobody writes an XML parser by hand,
 * so core parses init's <config> when it loads the scenario, checks all of
 * it, and gives init the result as its "config" ROM module in the flat
 * form of amber/config_tree.h. Any error names the file and line, and
 * nothing starts. The grammar (Genode's init, a subset):
 *
 *   <config>
 *     <default-route> ROUTE-ENTRIES </default-route>          at most one
 *     <start name="NAME" caps="N" ram="SIZE"                   any number
 *            log_rate="N" cpu_weight="N">                     both optional
 *       <binary name="FILE"/>                                  optional, default NAME
 *       <config> ANYTHING </config>                            optional: the child's "config"
 *       <route> ROUTE-ENTRIES </route>                         optional
 *     </start>
 *   </config>
 *
 *   ROUTE-ENTRIES: <service name="S"> TARGET </service> and
 *                  <any-service> TARGET </any-service>, tried in order
 *   TARGET:        <parent/> or <child name="NAME"/>
 *
 * Checked: element and attribute names; start names ([a-z0-9_.-], no leading dot, unique);
 * binaries (plain file names); caps (1..AMBER_CAP_SLOTS) and ram (sizes as in the
 * scenario), defaults 64 and 4M (each child costs init CORE_CHILD_COST
 * caps more, what core keeps for it); log_rate and cpu_weight as in the
 * scenario, and not above init's own (a parent cannot give a child more
 * than it has; core checks it again at CREATE_CHILD); the sum of the children's caps and ram
 * within init's own quota; every <child name> names a <start> other than
 * the one whose route it is in. In the tree, caps and ram are decimal
 * numbers, every <start> has a <binary>, and a <start>'s <config> node
 * carries its children serialized as XML as its text (and no child nodes).
 */
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amber/config_tree.h"
#include "amber/rom_session.h"
#include "scenario.h"

#define MAX_STARTS 64

struct builder {
	struct amber_config_node *nodes;
	size_t nnodes, cap_nodes;
	struct amber_config_attr *attrs;
	size_t nattrs, cap_attrs;
	char *strings;
	size_t nstrings, cap_strings;
	bool oom;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem, bool *oom)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(p, n * elem);
	if (!q) {
		*oom = true;
		return p;
	}
	*cap = n;
	return q;
}

static uint32_t add_string(struct builder *b, const char *s, size_t len)
{
	b->strings = grow(b->strings, &b->cap_strings, b->nstrings + len + 1, 1, &b->oom);
	if (b->oom)
		return 0;
	uint32_t off = (uint32_t)b->nstrings;
	memcpy(b->strings + off, s, len);
	b->strings[off + len] = '\0';
	b->nstrings += len + 1;
	return off;
}

/* A new node as the last child of `parent` (AMBER_CONFIG_NONE: the root). */
static uint32_t add_node(struct builder *b, uint32_t parent, const char *name, long line)
{
	b->nodes = grow(b->nodes, &b->cap_nodes, b->nnodes + 1, sizeof(*b->nodes), &b->oom);
	if (b->oom)
		return 0;
	uint32_t i = (uint32_t)b->nnodes++;
	struct amber_config_node *n = &b->nodes[i];
	n->name = add_string(b, name, strlen(name));
	n->first_child = n->next_sibling = n->text = AMBER_CONFIG_NONE;
	n->text_len = 0;
	n->first_attr = (uint32_t)b->nattrs;
	n->nattrs = 0;
	n->line = line > 0 ? (uint32_t)line : 0;
	if (parent != AMBER_CONFIG_NONE) {
		uint32_t *link = &b->nodes[parent].first_child;
		while (*link != AMBER_CONFIG_NONE)
			link = &b->nodes[*link].next_sibling;
		*link = i;
	}
	return i;
}

/* Attributes belong to the node made last. */
static void add_attr(struct builder *b, uint32_t node, const char *name, const char *value)
{
	b->attrs = grow(b->attrs, &b->cap_attrs, b->nattrs + 1, sizeof(*b->attrs), &b->oom);
	if (b->oom || node + 1 != b->nnodes)
		return;
	b->attrs[b->nattrs].name = add_string(b, name, strlen(name));
	b->attrs[b->nattrs].value = add_string(b, value, strlen(value));
	b->nattrs++;
	b->nodes[node].nattrs++;
}

static void set_text(struct builder *b, uint32_t node, const char *text, size_t len)
{
	uint32_t off = add_string(b, text, len);
	if (!b->oom) {
		b->nodes[node].text = off;
		b->nodes[node].text_len = (uint32_t)len;
	}
}

static void builder_free(struct builder *b)
{
	free(b->nodes);
	free(b->attrs);
	free(b->strings);
}

/* The blob (malloc), or NULL. */
static char *builder_finish(struct builder *b, size_t *size)
{
	size_t strings = (b->nstrings + 3u) & ~(size_t)3u;
	size_t total = sizeof(struct amber_config_header) + b->nnodes * sizeof(*b->nodes) +
		       b->nattrs * sizeof(*b->attrs) + strings;
	char *blob = calloc(1, total + 1);
	if (!blob)
		return NULL;
	struct amber_config_header h = { AMBER_CONFIG_MAGIC, AMBER_CONFIG_VERSION, (uint32_t)b->nnodes,
					 (uint32_t)b->nattrs, (uint32_t)strings, (uint32_t)total };
	char *p = blob;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, b->nodes, b->nnodes * sizeof(*b->nodes));
	p += b->nnodes * sizeof(*b->nodes);
	if (b->nattrs)
		memcpy(p, b->attrs, b->nattrs * sizeof(*b->attrs));
	p += b->nattrs * sizeof(*b->attrs);
	memcpy(p, b->strings, b->nstrings);
	*size = total;
	return blob;
}

/* ---- checking ------------------------------------------------------------ */

struct ctx {
	const char *path;
	char *err;
	size_t errlen;
	struct builder b;
	char names[MAX_STARTS][COMPONENT_NAME_MAX];
	unsigned nstarts;
	/* <child name> references, checked once all <start>s are known */
	struct { char name[COMPONENT_NAME_MAX]; char from[COMPONENT_NAME_MAX]; long line; } refs[256];
	unsigned nrefs;
	unsigned log_rate, cpu_weight; /* init's own: a child's may not be more */
};

static int fail(struct ctx *x, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *x, long line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s:%ld: %s", x->path, line, msg);
	return -1;
}

static bool skippable(xmlNode *n)
{
	return n->type == XML_COMMENT_NODE || (n->type == XML_TEXT_NODE && xmlIsBlankNode(n));
}

/* Only the attributes listed (NULL-terminated) may appear. */
static int only_attrs(struct ctx *x, xmlNode *n, const char *const *allowed)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		bool ok = false;
		for (const char *const *p = allowed; *p && !ok; p++)
			ok = strcmp((const char *)a->name, *p) == 0;
		if (!ok)
			return fail(x, xmlGetLineNo(n), "unknown attribute '%s' of <%s>", (const char *)a->name,
				    (const char *)n->name);
	}
	return 0;
}

/* An element child, or an error for anything else. */
static int element(struct ctx *x, xmlNode *n, const char *in)
{
	if (n->type != XML_ELEMENT_NODE)
		return fail(x, xmlGetLineNo(n), "unexpected content in <%s>", in);
	return 0;
}

static int parse_target(struct ctx *x, xmlNode *entry, uint32_t into, const char *start)
{
	xmlNode *target = NULL;
	for (xmlNode *n = entry->children; n; n = n->next) {
		if (skippable(n))
			continue;
		if (element(x, n, (const char *)entry->name) < 0)
			return -1;
		if (target)
			return fail(x, xmlGetLineNo(n), "<%s> has more than one target", (const char *)entry->name);
		target = n;
	}
	if (!target)
		return fail(x, xmlGetLineNo(entry), "<%s> needs a target: <parent/> or <child name=\"...\"/>",
			    (const char *)entry->name);
	long line = xmlGetLineNo(target);
	if (target->children)
		return fail(x, line, "<%s> must be empty", (const char *)target->name);
	if (strcmp((const char *)target->name, "parent") == 0) {
		static const char *const none[] = { NULL };
		if (only_attrs(x, target, none) < 0)
			return -1;
		add_node(&x->b, into, "parent", line);
		return 0;
	}
	if (strcmp((const char *)target->name, "child") != 0)
		return fail(x, line, "unknown route target <%s>", (const char *)target->name);
	static const char *const child_attrs[] = { "name", NULL };
	if (only_attrs(x, target, child_attrs) < 0)
		return -1;
	xmlChar *name = xmlGetProp(target, (const xmlChar *)"name");
	int rc = 0;
	if (!name || !scenario_valid_name((const char *)name)) {
		rc = fail(x, line, "<child> needs the name of a <start>");
	} else if (start && strcmp(start, (const char *)name) == 0) {
		rc = fail(x, line, "child '%s' routes to itself", start);
	} else if (x->nrefs == sizeof(x->refs) / sizeof(x->refs[0])) {
		rc = fail(x, line, "too many routes");
	} else {
		snprintf(x->refs[x->nrefs].name, COMPONENT_NAME_MAX, "%s", (const char *)name);
		snprintf(x->refs[x->nrefs].from, COMPONENT_NAME_MAX, "%s", start ? start : "");
		x->refs[x->nrefs++].line = line;
		uint32_t t = add_node(&x->b, into, "child", line);
		add_attr(&x->b, t, "name", (const char *)name);
	}
	xmlFree(name);
	return rc;
}

/* <route> or <default-route>: `start` is the start's name, NULL for the default. */
static int parse_route(struct ctx *x, xmlNode *route, uint32_t parent, const char *start)
{
	static const char *const none[] = { NULL };
	if (only_attrs(x, route, none) < 0)
		return -1;
	uint32_t r = add_node(&x->b, parent, (const char *)route->name, xmlGetLineNo(route));
	for (xmlNode *n = route->children; n; n = n->next) {
		if (skippable(n))
			continue;
		if (element(x, n, (const char *)route->name) < 0)
			return -1;
		long line = xmlGetLineNo(n);
		uint32_t e;
		if (strcmp((const char *)n->name, "service") == 0) {
			static const char *const attrs[] = { "name", NULL };
			if (only_attrs(x, n, attrs) < 0)
				return -1;
			xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
			size_t len = name ? strlen((const char *)name) : 0;
			if (len == 0 || len > 63) {
				xmlFree(name);
				return fail(x, line, "<service> needs a name of 1 to 63 characters");
			}
			e = add_node(&x->b, r, "service", line);
			add_attr(&x->b, e, "name", (const char *)name);
			xmlFree(name);
		} else if (strcmp((const char *)n->name, "any-service") == 0) {
			if (only_attrs(x, n, none) < 0)
				return -1;
			e = add_node(&x->b, r, "any-service", line);
		} else {
			return fail(x, line, "unexpected element <%s> in <%s>: <service> or <any-service>",
				    (const char *)n->name, (const char *)route->name);
		}
		if (parse_target(x, n, e, start) < 0)
			return -1;
	}
	return 0;
}

/* A <start>'s <config>: its children as XML text, as the scenario's <config>. */
static int start_config(struct ctx *x, xmlNode *cfg, uint32_t start)
{
	static const char *const none[] = { NULL };
	if (only_attrs(x, cfg, none) < 0)
		return -1;
	xmlBufferPtr buf = xmlBufferCreate();
	if (!buf)
		return fail(x, xmlGetLineNo(cfg), "out of memory");
	for (xmlNode *n = cfg->children; n; n = n->next)
		xmlNodeDump(buf, cfg->doc, n, 0, 0);
	const char *text = (const char *)xmlBufferContent(buf);
	size_t len = (size_t)xmlBufferLength(buf);
	while (len && (*text == ' ' || *text == '\n' || *text == '\t' || *text == '\r')) {
		text++;
		len--;
	}
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\t' || text[len - 1] == '\r'))
		len--;
	int rc = 0;
	if (len > AMBER_ROM_CONFIG_MAX) {
		rc = fail(x, xmlGetLineNo(cfg), "<config> is %zu bytes, at most %u are allowed", len, AMBER_ROM_CONFIG_MAX);
	} else {
		uint32_t n = add_node(&x->b, start, "config", xmlGetLineNo(cfg));
		set_text(&x->b, n, text, len);
	}
	xmlBufferFree(buf);
	return rc;
}

/* A start's log_rate or cpu_weight: 1 .. max, and at most init's own. */
static int start_number(struct ctx *x, xmlNode *s, uint32_t node, const char *attr, unsigned max, unsigned own)
{
	xmlChar *v = xmlGetProp(s, (const xmlChar *)attr);
	if (!v)
		return 0;
	unsigned n = scenario_parse_number((const char *)v, max);
	xmlFree(v);
	if (n == 0)
		return fail(x, xmlGetLineNo(s), "%s must be a number from 1 to %u", attr, max);
	if (n > own)
		return fail(x, xmlGetLineNo(s), "%s %u is more than init's own %u", attr, n, own);
	char num[32];
	snprintf(num, sizeof(num), "%u", n);
	add_attr(&x->b, node, attr, num);
	return 0;
}

static int parse_start(struct ctx *x, xmlNode *s, uint64_t *caps_sum, uint64_t *ram_sum)
{
	static const char *const attrs[] = { "name", "caps", "ram", "log_rate", "cpu_weight", NULL };
	long line = xmlGetLineNo(s);
	if (only_attrs(x, s, attrs) < 0)
		return -1;
	xmlChar *name = xmlGetProp(s, (const xmlChar *)"name");
	xmlChar *caps = xmlGetProp(s, (const xmlChar *)"caps");
	xmlChar *ram = xmlGetProp(s, (const xmlChar *)"ram");
	int rc = 0;
	uint64_t c = 64, r = DEFAULT_RAM_QUOTA;
	if (!name || !scenario_valid_name((const char *)name)) {
		rc = fail(x, line, "<start> name '%s': %s", name ? (const char *)name : "",
			  name ? scenario_name_problem((const char *)name) : "there is none");
		goto out;
	}
	for (unsigned i = 0; i < x->nstarts; i++) {
		if (strcmp(x->names[i], (const char *)name) == 0) {
			rc = fail(x, line, "duplicate start name '%s'", (const char *)name);
			goto out;
		}
	}
	if (x->nstarts == MAX_STARTS) {
		rc = fail(x, line, "more than %d <start> nodes", MAX_STARTS);
		goto out;
	}
	snprintf(x->names[x->nstarts++], COMPONENT_NAME_MAX, "%s", (const char *)name);
	if (caps && (c = scenario_parse_caps((const char *)caps)) == 0) {
		rc = fail(x, line, "caps must be a number from 1 to %d", AMBER_CAP_SLOTS);
		goto out;
	}
	if (ram && (r = scenario_parse_size((const char *)ram)) == 0) {
		rc = fail(x, line, "ram must be a size like 65536, 512K, 4M or 1G (at most 16G)");
		goto out;
	}
	*caps_sum += c;
	*ram_sum += r;
	uint32_t node = add_node(&x->b, 0, "start", line);
	char num[32];
	add_attr(&x->b, node, "name", (const char *)name);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)c);
	add_attr(&x->b, node, "caps", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r);
	add_attr(&x->b, node, "ram", num);
	if ((rc = start_number(x, s, node, "log_rate", LOG_RATE_MAX, x->log_rate)) < 0 ||
	    (rc = start_number(x, s, node, "cpu_weight", CPU_WEIGHT_MAX, x->cpu_weight)) < 0)
		goto out;

	bool has_binary = false, has_config = false, has_route = false;
	for (xmlNode *n = s->children; n && rc == 0; n = n->next) {
		if (skippable(n))
			continue;
		if ((rc = element(x, n, "start")) < 0)
			break;
		long nl = xmlGetLineNo(n);
		const char *en = (const char *)n->name;
		if (strcmp(en, "binary") == 0) {
			static const char *const battrs[] = { "name", NULL };
			if (has_binary) {
				rc = fail(x, nl, "more than one <binary> in <start name=\"%s\">", (const char *)name);
				break;
			}
			has_binary = true;
			if ((rc = only_attrs(x, n, battrs)) < 0)
				break;
			xmlChar *bin = xmlGetProp(n, (const xmlChar *)"name");
			if (!bin || !scenario_valid_name((const char *)bin) || n->children)
				rc = fail(x, nl, "<binary> needs the name of a file in the components directory and no content");
			else
				add_attr(&x->b, add_node(&x->b, node, "binary", nl), "name", (const char *)bin);
			xmlFree(bin);
		} else if (strcmp(en, "config") == 0) {
			if (has_config) {
				rc = fail(x, nl, "more than one <config> in <start name=\"%s\">", (const char *)name);
				break;
			}
			has_config = true;
			rc = start_config(x, n, node);
		} else if (strcmp(en, "route") == 0) {
			if (has_route) {
				rc = fail(x, nl, "more than one <route> in <start name=\"%s\">", (const char *)name);
				break;
			}
			has_route = true;
			rc = parse_route(x, n, node, (const char *)name);
		} else {
			rc = fail(x, nl, "unexpected element <%s> in <start>", en);
		}
	}
	if (rc == 0 && !has_binary)
		add_attr(&x->b, add_node(&x->b, node, "binary", line), "name", (const char *)name);
out:
	xmlFree(name);
	xmlFree(caps);
	xmlFree(ram);
	return rc;
}

int init_config_parse(xmlNode *config, const char *path, struct component *c, char *err, size_t errlen)
{
	struct ctx *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->path = path;
	x->err = err;
	x->errlen = errlen;
	x->log_rate = c->log_rate ? c->log_rate : LOG_RATE_DEFAULT;
	x->cpu_weight = c->cpu_weight ? c->cpu_weight : CPU_WEIGHT_DEFAULT;
	int rc = 0;
	static const char *const none[] = { NULL };
	uint64_t caps_sum = 0, ram_sum = 0;
	bool has_default = false;
	if ((rc = only_attrs(x, config, none)) < 0)
		goto out;
	add_node(&x->b, AMBER_CONFIG_NONE, "config", xmlGetLineNo(config));
	for (xmlNode *n = config->children; n && rc == 0; n = n->next) {
		if (skippable(n))
			continue;
		if ((rc = element(x, n, "config")) < 0)
			break;
		if (strcmp((const char *)n->name, "start") == 0) {
			rc = parse_start(x, n, &caps_sum, &ram_sum);
			caps_sum += CORE_CHILD_COST; /* what core keeps for it, paid by init */
			if (rc == 0 && caps_sum > c->kernel_quota)
				rc = fail(x, xmlGetLineNo(n),
					  "the children need %llu caps (with %d each for what core keeps for a child), "
					  "more than init's %u",
					  (unsigned long long)caps_sum, CORE_CHILD_COST, c->kernel_quota);
			if (rc == 0 && ram_sum > c->ram_quota)
				rc = fail(x, xmlGetLineNo(n), "the children need %llu KiB of RAM, more than init's %llu KiB",
					  (unsigned long long)(ram_sum >> 10), (unsigned long long)(c->ram_quota >> 10));
		} else if (strcmp((const char *)n->name, "default-route") == 0) {
			if (has_default) {
				rc = fail(x, xmlGetLineNo(n), "more than one <default-route>");
				break;
			}
			has_default = true;
			rc = parse_route(x, n, 0, NULL);
		} else {
			rc = fail(x, xmlGetLineNo(n), "unexpected element <%s> in init's <config>: <start> or <default-route>",
				  (const char *)n->name);
		}
	}
	for (unsigned i = 0; rc == 0 && i < x->nrefs; i++) {
		bool known = false;
		for (unsigned j = 0; j < x->nstarts && !known; j++)
			known = strcmp(x->names[j], x->refs[i].name) == 0;
		if (!known)
			rc = fail(x, x->refs[i].line, "route to unknown child '%s'", x->refs[i].name);
	}
	if (rc == 0 && x->b.oom)
		rc = fail(x, xmlGetLineNo(config), "out of memory");
	if (rc == 0) {
		size_t size;
		char *blob = builder_finish(&x->b, &size);
		if (!blob) {
			rc = fail(x, xmlGetLineNo(config), "out of memory");
		} else if (size > AMBER_ROM_CONFIG_MAX) {
			free(blob);
			rc = fail(x, xmlGetLineNo(config), "init's configuration is %zu bytes, at most %u are allowed", size,
				  AMBER_ROM_CONFIG_MAX);
		} else {
			c->config = blob;
			c->config_len = size;
			c->has_config = true;
		}
	}
out:
	builder_free(&x->b);
	free(x);
	return rc;
}
