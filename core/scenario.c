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
 * 1 to LOG_RATE_MAX; log.c); cpu_weight: its CPU share relative to the
 * others' (default CPU_WEIGHT_DEFAULT, 1 to CPU_WEIGHT_MAX; cpu_share.c).
 * Anything else is an error that names the line.
 *
 * A <component> may name the services it provides, as in Genode's init:
 *
 *     <component name="hello_server">
 *       <provides> <service name="hello"/> </provides>
 *     </component>
 *
 * Only a component that provides a name may announce it (parent.c), so no
 * component can take a service's name before its real server announces
 * it; each name may be provided by one component of the scenario.
 *
 * A <component> may restrict the services it may ask for with a <route>,
 * as a <start> in init's configuration does: the first entry that matches
 * the name (<service name="..."> or <any-service>) says where the session
 * comes from, <parent/> (core's services: PD, CPU, RM, ROM, Timer) or
 * <child name="..."/> (the sibling that provides it). A request that no
 * entry allows is refused (parent.c). Without a <route> a component may
 * ask for any service:
 *
 *     <component name="hello_client">
 *       <route>
 *         <service name="hello"> <child name="hello_server"/> </service>
 *         <any-service> <parent/> </any-service>
 *       </route>
 *     </component>
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

unsigned scenario_parse_number(const char *s, unsigned max)
{
	char *end;
	unsigned long v = s[0] >= '0' && s[0] <= '9' ? strtoul(s, &end, 10) : 0;
	return v == 0 || *end || v > max ? 0 : (unsigned)v;
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

/* <provides>: <service name="..."/> nodes, each a name the component may
 * announce. */
static int parse_provides(xmlNode *node, const char *path, struct component *c, char *err, size_t errlen)
{
	if (node->properties)
		return fail(err, errlen, path, xmlGetLineNo(node), "unknown attribute '%s' of <provides>",
			    (const char *)node->properties->name);
	for (xmlNode *n = node->children; n; n = n->next) {
		if (n->type == XML_COMMENT_NODE || (n->type == XML_TEXT_NODE && xmlIsBlankNode(n)))
			continue;
		long line = xmlGetLineNo(n);
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "service") != 0)
			return fail(err, errlen, path, line, "<provides> holds only <service name=\"...\"/>");
		for (xmlAttr *a = n->properties; a; a = a->next)
			if (strcmp((const char *)a->name, "name") != 0)
				return fail(err, errlen, path, line, "unknown attribute '%s' of <service>", (const char *)a->name);
		xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
		int rc = 0;
		if (!name || !name[0] || strlen((const char *)name) >= CORE_SERVICE_NAME_MAX)
			rc = fail(err, errlen, path, line, "a provided service needs a name of 1 to %d characters",
				  CORE_SERVICE_NAME_MAX - 1);
		else if (core_service_name((const char *)name))
			rc = fail(err, errlen, path, line, "'%s' is one of core's services", (const char *)name);
		else if (c->nprovides >= CORE_MAX_PROVIDES)
			rc = fail(err, errlen, path, line, "more than %d provided services", CORE_MAX_PROVIDES);
		for (unsigned i = 0; rc == 0 && i < c->nprovides; i++)
			if (strcmp(c->provides[i], (const char *)name) == 0)
				rc = fail(err, errlen, path, line, "service '%s' provided twice", (const char *)name);
		if (rc == 0)
			snprintf(c->provides[c->nprovides++], CORE_SERVICE_NAME_MAX, "%s", (const char *)name);
		xmlFree(name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Only `allowed` (NULL-terminated) attributes on n: 0, or -1 naming the first other. */
static int only_attributes(xmlNode *n, const char *const *allowed, const char *path, char *err, size_t errlen)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		bool ok = false;
		for (const char *const *w = allowed; *w && !ok; w++)
			ok = strcmp((const char *)a->name, *w) == 0;
		if (!ok)
			return fail(err, errlen, path, xmlGetLineNo(n), "unknown attribute '%s' of <%s>",
				    (const char *)a->name, (const char *)n->name);
	}
	return 0;
}

static bool ignorable(const xmlNode *n)
{
	return n->type == XML_COMMENT_NODE || (n->type == XML_TEXT_NODE && xmlIsBlankNode((xmlNode *)n));
}

/* One <service name="..."> or <any-service> of a <route>, and its one target. */
static int parse_route_entry(xmlNode *n, const char *path, struct component *c, char *err, size_t errlen)
{
	static const char *const named[] = { "name", NULL }, *const none[] = { NULL };
	long line = xmlGetLineNo(n);
	bool any = strcmp((const char *)n->name, "any-service") == 0;
	if (n->type != XML_ELEMENT_NODE || (!any && strcmp((const char *)n->name, "service") != 0))
		return fail(err, errlen, path, line, "<route> holds only <service name=\"...\"> and <any-service>");
	if (only_attributes(n, any ? none : named, path, err, errlen) < 0)
		return -1;
	if (c->nroutes >= CORE_MAX_ROUTES)
		return fail(err, errlen, path, line, "more than %d route entries", CORE_MAX_ROUTES);
	struct core_route *r = &c->routes[c->nroutes];
	memset(r, 0, sizeof(*r));
	r->line = (int)line;
	if (!any) {
		xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
		bool ok = name && name[0] && strlen((const char *)name) < CORE_SERVICE_NAME_MAX;
		if (ok)
			snprintf(r->service, sizeof(r->service), "%s", (const char *)name);
		xmlFree(name);
		if (!ok)
			return fail(err, errlen, path, line, "a routed service needs a name of 1 to %d characters",
				    CORE_SERVICE_NAME_MAX - 1);
	}
	xmlNode *target = NULL;
	for (xmlNode *t = n->children; t; t = t->next) {
		if (ignorable(t))
			continue;
		if (target || t->type != XML_ELEMENT_NODE)
			return fail(err, errlen, path, xmlGetLineNo(t), "a route entry holds one target, <parent/> or <child name=\"...\"/>");
		target = t;
	}
	if (!target)
		return fail(err, errlen, path, line, "a route entry needs a target, <parent/> or <child name=\"...\"/>");
	if (strcmp((const char *)target->name, "parent") == 0) {
		if (only_attributes(target, none, path, err, errlen) < 0)
			return -1;
		if (!any && !core_service_name(r->service))
			return fail(err, errlen, path, line, "'%s' is none of core's services: route it to the <child> that provides it",
				    r->service);
	} else if (strcmp((const char *)target->name, "child") == 0) {
		if (only_attributes(target, named, path, err, errlen) < 0)
			return -1;
		xmlChar *child = xmlGetProp(target, (const xmlChar *)"name");
		bool ok = child && scenario_valid_name((const char *)child);
		if (ok)
			snprintf(r->child, sizeof(r->child), "%s", (const char *)child);
		xmlFree(child);
		if (!ok)
			return fail(err, errlen, path, xmlGetLineNo(target), "<child> needs the name of a component");
	} else {
		return fail(err, errlen, path, xmlGetLineNo(target), "unknown route target <%s>",
			    (const char *)target->name);
	}
	c->nroutes++;
	return 0;
}

static int parse_route(xmlNode *node, const char *path, struct component *c, char *err, size_t errlen)
{
	static const char *const none[] = { NULL };
	if (c->has_routes)
		return fail(err, errlen, path, xmlGetLineNo(node), "more than one <route> in component '%s'", c->name);
	if (only_attributes(node, none, path, err, errlen) < 0)
		return -1;
	c->has_routes = true;
	for (xmlNode *n = node->children; n; n = n->next)
		if (!ignorable(n) && parse_route_entry(n, path, c, err, errlen) < 0)
			return -1;
	return 0;
}

/* After all components are read: a route to a sibling names one that
 * provides what is routed to it. */
static int check_routes(const struct component *head, const char *path, char *err, size_t errlen)
{
	for (const struct component *c = head; c; c = c->next) {
		for (unsigned i = 0; i < c->nroutes; i++) {
			const struct core_route *r = &c->routes[i];
			if (!r->child[0])
				continue;
			const struct component *to = head;
			while (to && strcmp(to->name, r->child) != 0)
				to = to->next;
			if (!to)
				return fail(err, errlen, path, r->line, "component '%s' routes to '%s', which the scenario does not have",
					    c->name, r->child);
			if (to == c)
				return fail(err, errlen, path, r->line, "component '%s' routes to itself", c->name);
			bool provided = !r->service[0];
			for (unsigned k = 0; k < to->nprovides && !provided; k++)
				provided = strcmp(to->provides[k], r->service) == 0;
			if (!provided)
				return fail(err, errlen, path, r->line,
					    "component '%s' routes '%s' to '%s', which does not provide it (<provides>)", c->name,
					    r->service, r->child);
		}
	}
	return 0;
}

/* The children of <component>: at most one <config>, <provides>, <route>,
 * comments, white space. */
static int parse_children(xmlNode *node, const char *path, struct component *c, bool is_init, char *err,
			  size_t errlen)
{
	for (xmlNode *n = node->children; n; n = n->next) {
		if (n->type == XML_COMMENT_NODE || (n->type == XML_TEXT_NODE && xmlIsBlankNode(n)))
			continue;
		if (n->type != XML_ELEMENT_NODE)
			return fail(err, errlen, path, content_line(n, xmlGetLineNo(node)),
				    "unexpected content in <component>");
		if (strcmp((const char *)n->name, "provides") == 0) {
			if (parse_provides(n, path, c, err, errlen) < 0)
				return -1;
			continue;
		}
		if (strcmp((const char *)n->name, "route") == 0) {
			if (parse_route(n, path, c, err, errlen) < 0)
				return -1;
			continue;
		}
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
		    strcmp(an, "log_rate") && strcmp(an, "cpu_weight"))
			return fail(err, errlen, path, line, "unknown attribute '%s'", an);
	}
	xmlChar *name = xmlGetProp(node, (const xmlChar *)"name");
	xmlChar *binary = xmlGetProp(node, (const xmlChar *)"binary");
	xmlChar *caps = xmlGetProp(node, (const xmlChar *)"caps");
	xmlChar *ram = xmlGetProp(node, (const xmlChar *)"ram");
	xmlChar *log_rate = xmlGetProp(node, (const xmlChar *)"log_rate");
	xmlChar *cpu_weight = xmlGetProp(node, (const xmlChar *)"cpu_weight");
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
	if (log_rate && (c->log_rate = scenario_parse_number((const char *)log_rate, LOG_RATE_MAX)) == 0) {
		rc = fail(err, errlen, path, line, "log_rate must be a number of lines per second from 1 to %u",
			  LOG_RATE_MAX);
		goto out;
	}
	if (cpu_weight && (c->cpu_weight = scenario_parse_number((const char *)cpu_weight, CPU_WEIGHT_MAX)) == 0) {
		rc = fail(err, errlen, path, line, "cpu_weight must be a number from 1 to %u", CPU_WEIGHT_MAX);
		goto out;
	}
	snprintf(c->name, sizeof(c->name), "%s", (const char *)name);
	/* The first folder of the components path that has it; if none has,
	 * starting it fails later and names the file in the first folder. */
	if (components_path_find(dir, bin, c->binary, sizeof(c->binary)) < 0 && strlen(c->binary) + 1 >= sizeof(c->binary))
		rc = fail(err, errlen, path, line, "binary path too long");
	else
		rc = parse_children(node, path, c, strcmp(bin, "init") == 0, err, errlen);
out:
	xmlFree(name);
	xmlFree(binary);
	xmlFree(caps);
	xmlFree(ram);
	xmlFree(log_rate);
	xmlFree(cpu_weight);
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
		for (struct component *o = head; o && rc == 0; o = o->next)
			for (unsigned i = 0; i < o->nprovides && rc == 0; i++)
				for (unsigned j = 0; j < c->nprovides && rc == 0; j++)
					if (strcmp(o->provides[i], c->provides[j]) == 0)
						rc = fail(err, errlen, path, xmlGetLineNo(n),
							  "service '%s' is provided by '%s' already", c->provides[j], o->name);
		if (rc < 0) {
			free(c->config);
			free(c);
			goto out;
		}
		*tail = c;
		tail = &c->next;
		count++;
	}
	if (count == 0)
		rc = fail(err, errlen, path, xmlGetLineNo(root), "the scenario has no components");
	if (rc == 0)
		rc = check_routes(head, path, err, errlen);
	/* Everything core keeps for a component is paid from its caps, plus its
	 * five roots (task, thread, factory, parent, LOG): the caps together
	 * are what core's capability space must hold. */
	uint64_t need = 0;
	for (struct component *c = head; c; c = c->next)
		need += c->kernel_quota + 5;
	if (rc == 0 && need > CORE_CAP_BUDGET)
		rc = fail(err, errlen, path, xmlGetLineNo(root),
			  "the components' caps together need %llu slots of core's capability space, which has %u",
			  (unsigned long long)need, CORE_CAP_BUDGET);
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
