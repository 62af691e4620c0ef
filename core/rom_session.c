/*
 * The ROM session: read-only modules as dataspaces.
 *
 * As in Genode, a component asks for a "ROM" session and names the module
 * (Genode: by the session label; here by the session argument, parent.c).
 * The module is either the component's "config", the children of its
 * <config> node in the scenario (scenario.c keeps them in the component),
 * or a file of the components directory: the binaries.
 *
 * Core copies the module into a new dataspace of its own when the session
 * is opened (dataspace.c: no owner, so charged to core and not to the
 * component's RAM quota, and read-only, so RM refuses a writable
 * attachment and a write through the read-only mapping faults). A copy
 * rather than the file itself: the module cannot change under the
 * component, and a checkpoint finds all of it in core's memory. The copy
 * goes with the session (parent CLOSE, or the end of the component).
 *
 * A new version of "config" (rom_update) makes DATASPACE hand out a new
 * copy and free the old one, as Genode's dynamic ROMs do, and core submits
 * a signal to the context SIGH registered (signal.c). Core keeps the
 * context by its id, not its capability: ids are never reused, and a
 * context freed meanwhile simply gets nothing.
 *
 * Handlers run with the kernel lock held, so reading a binary module
 * (a few hundred KiB from the page cache) briefly holds up other IPC.
 *
 * Protocol: include/amber/rom_session.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amber/rom_session.h"
#include "core.h"
#include "rules.h"
#include "cr_state.h"

struct rom_session {
	struct component *c;
	char name[AMBER_ROM_NAME_MAX];
	bool config;          /* the "config" module, which rom_update may change */
	unsigned version;     /* the c->config_version that ds holds */
	struct core_ds *ds;   /* the version handed out */
	uint64_t size;        /* its bytes */
	uint64_t sigh;        /* the signal context's id (signal.c), or 0 */
};

static char modules_dir[PATH_MAX]; /* the components path: DIR[:DIR...] */

void rom_init(const char *components_path)
{
	snprintf(modules_dir, sizeof(modules_dir), "%s", components_path ? components_path : "");
}

const char *rom_dir(void) { return modules_dir; }

int components_path_find(const char *path, const char *name, char *out, size_t outlen)
{
	bool first = true;
	for (const char *dir = path ? path : ""; *dir;) {
		size_t len = strcspn(dir, ":");
		char file[PATH_MAX];
		if (len && (size_t)snprintf(file, sizeof(file), "%.*s/%s", (int)len, dir, name) < sizeof(file)) {
			struct stat st;
			if (first)
				snprintf(out, outlen, "%s", file);
			first = false;
			if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && (size_t)snprintf(out, outlen, "%s", file) < outlen)
				return 0;
		}
		dir += len + (dir[len] == ':');
	}
	if (first)
		snprintf(out, outlen, "%s", name);
	return -1;
}

static int refuse(struct component *c, const char *name, int error, const char *why)
{
	core_report("%s: ROM session '%s' refused: %s", c->name, name, why);
	return error;
}

/* A new read-only dataspace for `len` bytes and at least one zero after them. */
static int new_ds(const char *name, size_t len, struct core_ds **out)
{
	char ds_name[32];
	snprintf(ds_name, sizeof(ds_name), "rom:%.27s", name);
	return core_ds_alloc_rom(len + 1, ds_name, out);
}

static int copy_bytes(const char *name, const void *bytes, size_t len, struct core_ds **out)
{
	int err = new_ds(name, len, out);
	if (err == AMBER_OK && len)
		memcpy(core_ds_memory(*out)->local, bytes, len);
	return err;
}

/* A file of the components directory into a new dataspace. */
static int copy_file(struct component *c, const char *name, struct core_ds **out, uint64_t *size)
{
	char path[PATH_MAX + AMBER_ROM_NAME_MAX + 1];
	if (!modules_dir[0])
		return refuse(c, name, AMBER_ERR_INVALID_ARG, "no components directory");
	components_path_find(modules_dir, name, path, sizeof(path)); /* not there: open says so */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block core */
	if (fd < 0)
		return refuse(c, name, AMBER_ERR_INVALID_ARG, errno == ENOENT ? "no such module" : strerror(errno));
	struct stat st;
	int err = AMBER_OK;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		err = refuse(c, name, AMBER_ERR_INVALID_ARG, "not a regular file");
	else if ((uint64_t)st.st_size > AMBER_ROM_MODULE_MAX)
		err = refuse(c, name, AMBER_ERR_INVALID_ARG, "larger than AMBER_ROM_MODULE_MAX");
	else if ((err = new_ds(name, (size_t)st.st_size, out)) != AMBER_OK)
		refuse(c, name, err, "core has no room for it");
	if (err) {
		close(fd);
		return err;
	}
	uint8_t *to = core_ds_memory(*out)->local;
	size_t want = (size_t)st.st_size, got = 0;
	while (got < want) {
		ssize_t n = read(fd, to + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shorter than it was a moment ago: take what is there */
		got += (size_t)n;
	}
	close(fd);
	*size = got;
	return AMBER_OK;
}

int rom_session_create(struct component *c, const char *name, void **data)
{
	if (!core_module_name_ok(name))
		return refuse(c, name, AMBER_ERR_INVALID_ARG, "not a valid module name");
	struct rom_session *r = calloc(1, sizeof(*r));
	if (!r)
		return AMBER_ERR_QUOTA;
	r->c = c;
	snprintf(r->name, sizeof(r->name), "%s", name);
	int err;
	if (strcmp(name, AMBER_ROM_CONFIG) == 0) {
		r->config = true;
		if (!c->has_config)
			err = refuse(c, name, AMBER_ERR_INVALID_ARG, "the scenario gives the component no <config>");
		else if ((err = copy_bytes(name, c->config, c->config_len, &r->ds)) != AMBER_OK)
			refuse(c, name, err, "core has no room for it");
		r->size = c->config_len;
		r->version = c->config_version;
	} else {
		err = copy_file(c, name, &r->ds, &r->size);
	}
	if (err) {
		free(r);
		return err;
	}
	*data = r;
	return AMBER_OK;
}

void rom_session_destroy(void *data)
{
	struct rom_session *r = data;
	if (r->ds)
		core_ds_free(r->ds); /* detached wherever it is attached, every capability revoked */
	free(r);
}

/* DATASPACE: the current version, copied anew if the module changed. */
static int dataspace(struct rom_session *r, struct kcore_request *req)
{
	struct component *c = r->c;
	if (r->config && r->version != c->config_version) {
		struct core_ds *ds;
		int err = copy_bytes(r->name, c->config, c->config_len, &ds);
		if (err)
			return err;
		core_ds_free(r->ds);
		r->ds = ds;
		r->size = c->config_len;
		r->version = c->config_version;
	}
	req->reply_mr[0] = r->size;
	req->reply_mr[1] = amber_map_item(core_ds_sel(r->ds), AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	req->reply_tag = amber_tag(AMBER_PROTO_ROM, 1, 1);
	return AMBER_OK;
}

static int sigh(struct rom_session *r, struct kcore_request *req)
{
	uint64_t id = req->nitems == 1 ? signal_context_id(req->items[0]) : 0;
	if (req->nitems > 1 || (req->nitems == 1 && id == 0))
		return AMBER_ERR_INVALID_ARG;
	r->sigh = id;
	return AMBER_OK;
}

static enum kcore_result rom_handle_serve(void *ctx, struct kcore_request *req, int *error)
{
	struct core_session *s = ctx;
	struct rom_session *r = s->data;
	req->reply_tag = amber_tag(AMBER_PROTO_ROM, 0, 0);
	if (amber_tag_label(req->tag) != AMBER_PROTO_ROM) {
		*error = AMBER_ERR_PROTO;
	} else if (amber_tag_words(req->tag) < 1) {
		*error = AMBER_ERR_OPCODE;
	} else if (s->c->ending) {
		*error = AMBER_ERR_NO_PARTNER;
	} else {
		switch (req->mr[0]) {
		case AMBER_ROM_DATASPACE: *error = dataspace(r, req); break;
		case AMBER_ROM_SIZE:
			req->reply_mr[0] = r->size;
			req->reply_tag = amber_tag(AMBER_PROTO_ROM, 1, 0);
			*error = AMBER_OK;
			break;
		case AMBER_ROM_SIGH: *error = sigh(r, req); break;
		default: *error = AMBER_ERR_OPCODE; break;
		}
	}
	service_drop_items(req);
	return KCORE_REPLY;
}

/* Mappings it changes are made without the kernel lock (as_queue.c). */
enum kcore_result rom_handle(void *ctx, struct kcore_request *req, int *error)
{
	return as_serve(rom_handle_serve, ctx, req, error);
}

int rom_update(struct component *c, const char *name, const void *bytes, size_t len)
{
	if (strcmp(name, AMBER_ROM_CONFIG) != 0 || len > AMBER_ROM_CONFIG_MAX)
		return AMBER_ERR_INVALID_ARG;
	char *copy = malloc(len + 1);
	if (!copy)
		return AMBER_ERR_QUOTA;
	if (len)
		memcpy(copy, bytes, len);
	copy[len] = '\0';
	free(c->config);
	c->config = copy;
	c->config_len = len;
	c->has_config = true;
	c->config_version++;
	for (struct core_session *s = c->sessions; s; s = s->next) {
		struct rom_session *r = s->data;
		if (s->kind == CORE_SERVICE_ROM && r->config && r->sigh)
			signal_submit(r->sigh, 1); /* a context freed meanwhile gets nothing */
	}
	return AMBER_OK;
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

/* The copy handed out is saved as it is, not read again from the module:
 * a restored component sees exactly the bytes it saw. */
int rom_session_save(struct cr_save *s, void *data, AmberImg__Session *m)
{
	struct rom_session *r = data;
	AmberImg__RomSession *x = CR_NEW(AmberImg__RomSession, amber_img__rom_session__init);
	m->rom = x;
	x->module = cr_strdup(r->name);
	x->config = r->config;
	x->version = r->version;
	x->size = r->size;
	x->sigh = r->sigh;
	return cr_save_ds(s, r->ds, core_ds_memory(r->ds), AMBER_IMG__DATASPACE_KIND__DS_ROM, 0,
			  kernel_object_id(kernel_cap_object(kernel_core_task(), core_ds_sel(r->ds), NULL, NULL)),
			  false, 0, &x->dataspace);
}

int rom_session_load(struct cr_load *l, const AmberImg__RomSession *m, void **data)
{
	/* cr_image_validate: m->module is a module name. */
	struct rom_session *r = calloc(1, sizeof(*r));
	if (!r)
		return cr_fail(l->err, l->errlen, "%s: no memory for a ROM session", l->c->name);
	r->c = l->c;
	snprintf(r->name, sizeof(r->name), "%s", m->module);
	r->config = m->config;
	r->version = m->version;
	r->size = m->size;
	r->sigh = m->sigh;
	if (core_ds_load(l, m->dataspace, &r->ds) < 0) {
		free(r);
		return -1;
	}
	*data = r;
	return 0;
}
