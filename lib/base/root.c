/*
 * The root interface (amber/root.h): the protocol stubs and the
 * bookkeeping that maps the parent's session ids to the server's handles.
 *
 * Why the bookkeeping lives in the server's heap: it is component state
 * like any other, so a checkpoint of the server keeps it with the
 * sessions' objects, and core keeps only what it needs to route requests.
 */
#include <amber/heap.h>
#include <amber/ipc.h>
#include <amber/root.h>
#include <amber/string.h>
#include <amber/syscall.h>

struct amber_root_session {
	struct amber_root_session *next;
	uint64_t id;
	void *handle;
};

int amber_parent_announce_root(const char *name, amber_sel_t context)
{
	struct amber_utcb *u = amber_utcb();
	size_t len = strlen(name);
	if (len > AMBER_MSG_STRING_MAX)
		return AMBER_ERR_INVALID_ARG;
	u->mr[0] = AMBER_PARENT_ANNOUNCE_ROOT;
	unsigned words = amber_mr_put_string(u, 1, name, len);
	u->mr[words] = amber_map_item(context, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, words, 1), AMBER_TIMEOUT_NEVER,
			      AMBER_TIMEOUT_NEVER);
}

/* A string of the reply at word *w into out (cut to fit). */
static void get_string(const struct amber_utcb *u, unsigned words, unsigned *w, char *out, size_t outlen)
{
	out[0] = 0;
	if (*w >= words)
		return;
	uint64_t len = u->mr[*w];
	unsigned n = (unsigned)((len + 7) / 8);
	if (*w + 1 + n > words)
		return;
	size_t take = len < outlen - 1 ? (size_t)len : outlen - 1;
	memcpy(out, &u->mr[*w + 1], take);
	out[take] = 0;
	*w += 1 + n;
}

int amber_root_fetch(struct amber_root_request *r)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PARENT_SESSION_REQUEST;
	int err = amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, 1, 0), AMBER_TIMEOUT_NEVER,
				 AMBER_TIMEOUT_NEVER);
	memset(r, 0, sizeof(*r));
	unsigned words = amber_tag_words(u->tag);
	if (err || words < 1)
		return err ? err : AMBER_ERR_PROTO;
	r->kind = (unsigned)u->mr[0];
	if (r->kind == AMBER_ROOT_NONE)
		return AMBER_OK;
	if (words < 4)
		return AMBER_ERR_PROTO;
	r->id = u->mr[1];
	r->ram = u->mr[2];
	r->caps = u->mr[3];
	unsigned w = 4;
	get_string(u, words, &w, r->service, sizeof(r->service));
	get_string(u, words, &w, r->label, sizeof(r->label));
	get_string(u, words, &w, r->args, sizeof(r->args));
	return AMBER_OK;
}

int amber_root_respond(uint64_t id, int status, amber_sel_t cap)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PARENT_SESSION_RESPONSE;
	u->mr[1] = id;
	u->mr[2] = (amber_word_t)(int64_t)status;
	unsigned items = 0;
	if (status == AMBER_OK && cap != AMBER_SEL_INVALID) {
		u->mr[3] = amber_map_item(cap, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
		items = 1;
	}
	return amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, 3, items), AMBER_TIMEOUT_NEVER,
			      AMBER_TIMEOUT_NEVER);
}

int amber_parent_session_upgrade(amber_sel_t session, uint64_t ram, uint64_t caps)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_PARENT_SESSION_UPGRADE;
	u->mr[1] = ram;
	u->mr[2] = caps;
	u->mr[3] = amber_map_item(session, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(AMBER_SEL_PARENT, amber_tag(AMBER_PROTO_PARENT, 3, 1), AMBER_TIMEOUT_NEVER,
			      AMBER_TIMEOUT_NEVER);
}

static struct amber_root_session *find(struct amber_root *root, uint64_t id, struct amber_root_session ***link)
{
	for (struct amber_root_session **p = &root->sessions; *p; p = &(*p)->next)
		if ((*p)->id == id) {
			if (link)
				*link = p;
			return *p;
		}
	return 0;
}

static void create(struct amber_root *root, const struct amber_root_request *r)
{
	struct amber_root_session *s = amber_malloc(sizeof(*s));
	amber_sel_t cap = AMBER_SEL_INVALID;
	void *handle = 0;
	int status = s ? root->ops->session(root->ctx, r, &cap, &handle) : AMBER_ERR_QUOTA;
	if (status != AMBER_OK) {
		amber_free(s);
		amber_root_respond(r->id, status, AMBER_SEL_INVALID);
		return;
	}
	if (amber_root_respond(r->id, AMBER_OK, cap) != AMBER_OK) {
		/* The parent took no session (a request a restore forgot):
		 * nobody can reach it, so it goes. */
		root->ops->close(root->ctx, handle, r);
		amber_free(s);
		return;
	}
	s->id = r->id;
	s->handle = handle;
	s->next = root->sessions;
	root->sessions = s;
	root->open++;
}

unsigned amber_root_dispatch(struct amber_root *root)
{
	unsigned n = 0;
	struct amber_root_request r;
	while (amber_root_fetch(&r) == AMBER_OK && r.kind != AMBER_ROOT_NONE) {
		n++;
		struct amber_root_session **link = 0, *s = find(root, r.id, &link);
		if (r.kind == AMBER_ROOT_CREATE) {
			create(root, &r);
			continue;
		}
		if (s && r.kind == AMBER_ROOT_UPGRADE && root->ops->upgrade)
			root->ops->upgrade(root->ctx, s->handle, &r);
		if (s && r.kind == AMBER_ROOT_CLOSE) {
			*link = s->next;
			root->open--;
			root->ops->close(root->ctx, s->handle, &r);
			amber_free(s);
		}
		amber_root_respond(r.id, AMBER_OK, AMBER_SEL_INVALID);
	}
	return n;
}
