/*
 * Scenario files, parsed with libxml2:
 *
 *   <scenario>
 *     <component name="hello_server" binary="hello_server" caps="64"/>
 *   </scenario>
 *
 * name: [a-z0-9_.-] without a leading dot, up to 31 characters, unique; binary: a file in the
 * components directory (default: the name); caps: how many kernel objects
 * the component's factory may create (default 64); ram: how much RAM its
 * PD sessions may allocate, in bytes or with a K, M or G suffix (default
 * 4M, at most 16G, rounded up to whole pages); log_rate: LOG lines per
 * second it may print before core holds it back (default LOG_RATE_DEFAULT,
 * 1 to LOG_RATE_MAX; log.c).
 * Anything else is an error that names the line.
 *
 * A <component> may hold one <config> node (no attributes): its children,
 * serialized as XML (xmlNodeDump) with leading and trailing white space
 * removed, become the component's "config" ROM module (rom_session.c), at
 * most AMBER_ROM_CONFIG_MAX bytes:
 *
 *     <component name="test_rom">
 *       <config><greeting text="hello"/></config>
 *     </component>
 *
 * A component whose binary is "init" must have a <config>, which is init's
 * configuration (<start>, <route>, ...): init_config.c checks it and makes
 * the compact tree of amber/config_tree.h init's "config" module instead.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amber/rom_session.h"
#include "scenario.h"

#define DEFAULT_CAPS 64
#define MAX_CAPS AMBER_CAP_SLOTS
#define MAX_RAM (16ull << 30)

static int fail(char *err, size_t errlen, const char *path, long line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%ld: %s", path, line, msg);
	return -1;
}

/* Genode names such as "bomb_g5.1" have dots; a leading dot is refused so
 * that no name reads as "." or ".." where names become paths. */
const char *scenario_name_problem(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return "the name is empty";
	if (n >= COMPONENT_NAME_MAX)
		return "the name is longer than 31 characters";
	if (s[0] == '.')
		return "the name starts with a dot";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		      s[i] == '.'))
			return "the name has a character other than a-z 0-9 _ - .";
	return NULL;
}

bool scenario_valid_name(const char *s) { return scenario_name_problem(s) == NULL; }

/* "4096", "512K", "4M", "1G": bytes, page-rounded; 0 if malformed. */
uint64_t scenario_parse_size(const char *s)
{
	uint64_t v = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9') {
		if (v > MAX_RAM)
			return 0;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (p == s)
		return 0;
	unsigned shift = 0;
	if (*p == 'K' || *p == 'k')
		shift = 10;
	else if (*p == 'M' || *p == 'm')
		shift = 20;
	else if (*p == 'G' || *p == 'g')
		shift = 30;
	if (shift)
		p++;
	if (*p || v == 0 || v > (MAX_RAM >> shift))
		return 0;
	v <<= shift;
	return (v + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
}

unsigned scenario_parse_caps(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || end == s || v < 1 || v > MAX_CAPS)
		return 0;
	return (unsigned)v;
}

static void free_list(struct component *c)
{
	while (c) {
		struct component *n = c->next;
		free(c->config);
		free(c);
		c = n;
	}
}

static bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* The <config> child: its children as XML text, trimmed, into c->config. */
static int parse_config(xmlNode *node, const char *path, struct component *c, char *err, size_t errlen)
{
	long line = xmlGetLineNo(node);
	if (c->has_config)
		return fail(err, errlen, path, line, "more than one <config> in component '%s'", c->name);
	if (node->properties)
		return fail(err, errlen, path, line, "unknown attribute '%s' of <config>",
			    (const char *)node->properties->name);
	xmlBufferPtr buf = xmlBufferCreate();
	if (!buf)
		return fail(err, errlen, path, line, "out of memory");
	int rc = 0;
	for (xmlNode *n = node->children; n && rc == 0; n = n->next)
		if (xmlNodeDump(buf, node->doc, n, 0, 0) < 0)
			rc = fail(err, errlen, path, xmlGetLineNo(n), "cannot serialize the <config>");
	const char *text = (const char *)xmlBufferContent(buf);
	size_t len = (size_t)xmlBufferLength(buf);
	while (len && is_space(*text)) {
		text++;
		len--;
	}
	while (len && is_space(text[len - 1]))
		len--;
	if (rc == 0 && len > AMBER_ROM_CONFIG_MAX)
		rc = fail(err, errlen, path, line, "<config> is %zu bytes, at most %u are allowed", len,
			  AMBER_ROM_CONFIG_MAX);
	if (rc == 0) {
		c->config = malloc(len + 1);
		if (!c->config) {
			rc = fail(err, errlen, path, line, "out of memory");
		} else {
			memcpy(c->config, text, len);
			c->config[len] = '\0';
			c->config_len = len;
			c->has_config = true;
		}
	}
	xmlBufferFree(buf);
	return rc;
}

/* The line of a node's first non-blank character. libxml2 records a text
 * node's line where the text ends, so count back from there. */
static long content_line(xmlNode *n, long floor)
{
	long line = xmlGetLineNo(n);
	const char *t = (const char *)n->content;
	if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && t) {
		const char *p = t;
		while (*p && is_space(*p))
			p++;
		for (const char *q = p; *q; q++)
			line -= *q == '\n';
	}
	return line < floor ? floor : line;
}

/* The children of <component>: at most one <config>, comments, white space. */
static int parse_children(xmlNode *node, const char *path, struct component *c, bool is_init, char *err,
			  size_t errlen)
{
	for (xmlNode *n = node->children; n; n = n->next) {
		if (n->type == XML_COMMENT_NODE || (n->type == XML_TEXT_NODE && xmlIsBlankNode(n)))
			continue;
		if (n->type != XML_ELEMENT_NODE)
			return fail(err, errlen, path, content_line(n, xmlGetLineNo(node)),
				    "unexpected content in <component>");
		if (strcmp((const char *)n->name, "config") != 0)
			return fail(err, errlen, path, xmlGetLineNo(n), "unexpected element '%s' in <component>",
				    (const char *)n->name);
		if (is_init) {
			if (c->has_config)
				return fail(err, errlen, path, xmlGetLineNo(n), "more than one <config> in component '%s'",
					    c->name);
			if (init_config_parse(n, path, c, err, errlen) < 0)
				return -1;
		} else if (parse_config(n, path, c, err, errlen) < 0) {
			return -1;
		}
	}
	if (is_init && !c->has_config)
		return fail(err, errlen, path, xmlGetLineNo(node), "init needs a <config> with its <start> nodes");
	return 0;
}

static int parse_component(xmlNode *node, const char *path, const char *dir, struct component *c,
			   struct component *others, char *err, size_t errlen)
{
	long line = xmlGetLineNo(node);
	for (xmlAttr *a = node->properties; a; a = a->next) {
		const char *an = (const char *)a->name;
		if (strcmp(an, "name") && strcmp(an, "binary") && strcmp(an, "caps") && strcmp(an, "ram") &&
		    strcmp(an, "log_rate"))
			return fail(err, errlen, path, line, "unknown attribute '%s'", an);
	}
	xmlChar *name = xmlGetProp(node, (const xmlChar *)"name");
	xmlChar *binary = xmlGetProp(node, (const xmlChar *)"binary");
	xmlChar *caps = xmlGetProp(node, (const xmlChar *)"caps");
	xmlChar *ram = xmlGetProp(node, (const xmlChar *)"ram");
	xmlChar *log_rate = xmlGetProp(node, (const xmlChar *)"log_rate");
	int rc = 0;
	if (!name || !scenario_valid_name((const char *)name)) {
		rc = fail(err, errlen, path, line, "component name '%s': %s", name ? (const char *)name : "",
			  name ? scenario_name_problem((const char *)name) : "there is none");
		goto out;
	}
	for (struct component *o = others; o; o = o->next) {
		if (strcmp(o->name, (const char *)name) == 0) {
			rc = fail(err, errlen, path, line, "duplicate component name '%s'", (const char *)name);
			goto out;
		}
	}
	const char *bin = binary ? (const char *)binary : (const char *)name;
	if (!scenario_valid_name(bin)) {
		rc = fail(err, errlen, path, line, "binary '%s' must be a plain file name: %s", bin,
			  scenario_name_problem(bin));
		goto out;
	}
	c->kernel_quota = DEFAULT_CAPS;
	if (caps) {
		c->kernel_quota = scenario_parse_caps((const char *)caps);
		if (c->kernel_quota == 0) {
			rc = fail(err, errlen, path, line, "caps must be a number from 1 to %d", MAX_CAPS);
			goto out;
		}
	}
	c->ram_quota = DEFAULT_RAM_QUOTA;
	if (ram) {
		c->ram_quota = scenario_parse_size((const char *)ram);
		if (c->ram_quota == 0) {
			rc = fail(err, errlen, path, line, "ram must be a size like 65536, 512K, 4M or 1G (at most 16G)");
			goto out;
		}
	}
	if (log_rate) {
		char *end;
		const char *v = (const char *)log_rate;
		unsigned long r = v[0] >= '0' && v[0] <= '9' ? strtoul(v, &end, 10) : 0;
		if (r == 0 || *end || r > LOG_RATE_MAX) {
			rc = fail(err, errlen, path, line, "log_rate must be a number of lines per second from 1 to %u",
				  LOG_RATE_MAX);
			goto out;
		}
		c->log_rate = (unsigned)r;
	}
	snprintf(c->name, sizeof(c->name), "%s", (const char *)name);
	if ((size_t)snprintf(c->binary, sizeof(c->binary), "%s/%s", dir, bin) >= sizeof(c->binary))
		rc = fail(err, errlen, path, line, "binary path too long");
	else
		rc = parse_children(node, path, c, strcmp(bin, "init") == 0, err, errlen);
out:
	xmlFree(name);
	xmlFree(binary);
	xmlFree(caps);
	xmlFree(ram);
	xmlFree(log_rate);
	return rc;
}

/* The first error of a file that is not well-formed: the one that names
 * the cause (an unclosed <config> makes libxml2 go on to "premature end of
 * data" at the end of the file). */
struct first_error {
	bool set;
	int line;
	char message[256];
};

#if LIBXML_VERSION >= 21200 /* the structured error handler's argument became const */
typedef const xmlError *scenario_xml_error;
#else
typedef xmlErrorPtr scenario_xml_error;
#endif

static void first_error(void *data, scenario_xml_error e)
{
	struct first_error *f = ((xmlParserCtxtPtr)data)->_private;
	if (f->set || !e || e->level < XML_ERR_ERROR)
		return;
	f->set = true;
	f->line = e->line;
	snprintf(f->message, sizeof(f->message), "%s", e->message ? e->message : "not well-formed");
}

int scenario_load(const char *path, const char *components_dir, struct component **list, char *err,
		  size_t errlen)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return fail(err, errlen, path, 0, "out of memory");
	struct first_error first = { false, 0, "" };
	ctxt->_private = &first;
	ctxt->sax->serror = first_error; /* called with ctxt->userData, the context itself */
	xmlDocPtr doc = xmlCtxtReadFile(ctxt, path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		int rc = first.set ? fail(err, errlen, path, first.line, "%s", first.message)
				   : fail(err, errlen, path, e ? e->line : 0, "%s",
					  e && e->message ? e->message : "cannot read the file");
		size_t n = strlen(err);
		if (n && err[n - 1] == '\n')
			err[n - 1] = '\0';
		xmlFreeParserCtxt(ctxt);
		return rc;
	}
	int rc = 0;
	struct component *head = NULL, **tail = &head;
	unsigned count = 0;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "scenario") != 0) {
		rc = fail(err, errlen, path, root ? xmlGetLineNo(root) : 1, "the root element must be <scenario>");
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next) {
		if (n->type == XML_TEXT_NODE && xmlIsBlankNode(n))
			continue;
		if (n->type == XML_COMMENT_NODE)
			continue;
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "component") != 0) {
			rc = fail(err, errlen, path, xmlGetLineNo(n), "unexpected %s '%s' in <scenario>",
				  n->type == XML_ELEMENT_NODE ? "element" : "content", (const char *)n->name);
			goto out;
		}
		struct component *c = calloc(1, sizeof(*c));
		if (!c) {
			rc = fail(err, errlen, path, xmlGetLineNo(n), "out of memory");
			goto out;
		}
		if (parse_component(n, path, components_dir, c, head, err, errlen) < 0) {
			free(c->config);
			free(c);
			rc = -1;
			goto out;
		}
		*tail = c;
		tail = &c->next;
		count++;
	}
	if (count == 0)
		rc = fail(err, errlen, path, xmlGetLineNo(root), "the scenario has no components");
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	if (rc < 0) {
		free_list(head);
		return -1;
	}
	struct component **end = list;
	while (*end)
		end = &(*end)->next;
	*end = head;
	return 0;
}
