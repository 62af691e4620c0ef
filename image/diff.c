/*
 * image_diff: what differs between two images, one line per difference.
 *
 * The main use is checking checkpoint/restore: checkpoint, restore,
 * checkpoint again, and the two images must agree. So records are matched
 * by what identifies them across a restore, never by their place in a
 * list: components by name, capabilities by slot, threads by UTCB index,
 * gates and IRQs by object id (restore keeps ids), attachments by address,
 * dataspaces by owner, kind and name. References to dataspaces, which
 * are indices, are compared by the dataspace they name, and a dataspace's
 * content by the checksum of its bytes, not by where its pages lie.
 *
 * The comparison walks the protobuf descriptors, so a field added to the
 * schema is compared without anyone remembering to add it here; only the
 * identities (key_of) and the exceptions (skip, special) are written out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amber/abi.h"
#include "image/inspect.h"
#include "image/internal.h"

struct side {
	const struct img_view *v;
	char **ds_key; /* per dataspace: its identity, as key_of gives it */
};

struct dctx {
	FILE *out;
	const struct image_diff_options *o;
	struct side a, b;
	int n; /* differences so far */
};

static void diff_line(struct dctx *d, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void diff_line(struct dctx *d, const char *path, const char *fmt, ...)
{
	va_list ap;
	fprintf(d->out, "%s: ", path[0] ? path : "image");
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
	d->n++;
}

static bool is(const ProtobufCMessageDescriptor *a, const ProtobufCMessageDescriptor *b) { return a == b; }

/* ---- identities ------------------------------------------------------------ */

/* key: what matches a record with its counterpart (zero-padded numbers,
 * so that sorting keys sorts numbers); label: how a line names it. */
static void key_of(const struct side *s, const ProtobufCMessage *m, size_t pos, char *key, size_t klen,
		   char *label, size_t llen)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (is(d, &amber_img__component__descriptor)) {
		const AmberImg__Component *c = (const AmberImg__Component *)m;
		snprintf(key, klen, "%s", c->name);
		snprintf(label, llen, "component %s", c->name);
	} else if (is(d, &amber_img__dataspace__descriptor)) {
		snprintf(key, klen, "%s", s->ds_key[pos]);
		snprintf(label, llen, "dataspace %s", s->ds_key[pos]);
	} else if (is(d, &amber_img__cap__descriptor)) {
		uint32_t sel = ((const AmberImg__Cap *)m)->sel;
		snprintf(key, klen, "%010u", sel);
		snprintf(label, llen, "slot %u", sel);
	} else if (is(d, &amber_img__thread__descriptor)) {
		uint32_t i = ((const AmberImg__Thread *)m)->index;
		snprintf(key, klen, "%010u", i);
		snprintf(label, llen, "thread %u", i);
	} else if (is(d, &amber_img__kernel_object__descriptor)) {
		uint64_t id = ((const AmberImg__KernelObject *)m)->id;
		snprintf(key, klen, "%020llu", (unsigned long long)id);
		snprintf(label, llen, "kernel object %llu", (unsigned long long)id);
	} else if (is(d, &amber_img__irq_state__descriptor)) {
		uint64_t id = ((const AmberImg__IrqState *)m)->irq_id;
		snprintf(key, klen, "%020llu", (unsigned long long)id);
		snprintf(label, llen, "irq %llu", (unsigned long long)id);
	} else if (is(d, &amber_img__region__descriptor)) {
		const AmberImg__Region *r = (const AmberImg__Region *)m;
		snprintf(key, klen, "%020llu %020llu", (unsigned long long)r->managed_gate_id, (unsigned long long)r->addr);
		if (r->managed_gate_id)
			snprintf(label, llen, "region 0x%llx in managed map %llu", (unsigned long long)r->addr,
				 (unsigned long long)r->managed_gate_id);
		else
			snprintf(label, llen, "region 0x%llx", (unsigned long long)r->addr);
	} else if (is(d, &amber_img__managed__descriptor)) {
		uint64_t id = ((const AmberImg__Managed *)m)->gate_id;
		snprintf(key, klen, "%020llu", (unsigned long long)id);
		snprintf(label, llen, "managed map %llu", (unsigned long long)id);
	} else if (is(d, &amber_img__rpc_cap__descriptor)) {
		uint64_t id = ((const AmberImg__RpcCap *)m)->gate_id;
		snprintf(key, klen, "%020llu", (unsigned long long)id);
		snprintf(label, llen, "rpc cap %llu", (unsigned long long)id);
	} else if (is(d, &amber_img__signal_source__descriptor)) {
		uint64_t id = ((const AmberImg__SignalSource *)m)->gate_id;
		snprintf(key, klen, "%020llu", (unsigned long long)id);
		snprintf(label, llen, "signal source %llu", (unsigned long long)id);
	} else if (is(d, &amber_img__signal_context__descriptor)) {
		uint64_t id = ((const AmberImg__SignalContext *)m)->gate_id;
		snprintf(key, klen, "%020llu", (unsigned long long)id);
		snprintf(label, llen, "signal context %llu", (unsigned long long)id);
	} else if (is(d, &amber_img__service__descriptor)) {
		const char *name = ((const AmberImg__Service *)m)->name;
		snprintf(key, klen, "%s", name);
		snprintf(label, llen, "service %s", name);
	} else if (is(d, &amber_img__pending_session__descriptor)) {
		const AmberImg__PendingSession *p = (const AmberImg__PendingSession *)m;
		snprintf(key, klen, "%020llu %s", (unsigned long long)p->thread_id, p->name);
		snprintf(label, llen, "pending session %s of thread object %llu", p->name,
			 (unsigned long long)p->thread_id);
	} else if (is(d, &amber_img__child__descriptor)) {
		uint64_t id = ((const AmberImg__Child *)m)->gate_id;
		snprintf(key, klen, "%020llu", (unsigned long long)id);
		snprintf(label, llen, "child %llu", (unsigned long long)id);
	} else {
		/* Sessions and segments: referred to by position, so the
		 * position is what they are. */
		const char *name = is(d, &amber_img__session__descriptor)   ? "session"
				   : is(d, &amber_img__segment__descriptor) ? "segment"
									    : d->short_name;
		snprintf(key, klen, "%020zu", pos);
		snprintf(label, llen, "%s %zu", name, pos);
	}
}

/* "ram:x of init -> hello", "rom:config of core", with "#2" for the
 * second of the same owner, kind and name. */
static int ds_keys(struct side *s, char *err, size_t errlen)
{
	const AmberImg__Image *img = s->v->img;
	s->ds_key = calloc(img->n_dataspaces ? img->n_dataspaces : 1, sizeof(*s->ds_key));
	if (!s->ds_key)
		return img_fail(err, errlen, "out of memory");
	for (size_t i = 0; i < img->n_dataspaces; i++) {
		const AmberImg__Dataspace *d = img->dataspaces[i];
		const char *owner = "core";
		for (size_t c = 0; c < img->n_components; c++)
			if (d->owner && img->components[c]->id == d->owner)
				owner = img->components[c]->name;
		unsigned nth = 1;
		for (size_t j = 0; j < i; j++)
			nth += img->dataspaces[j]->owner == d->owner && img->dataspaces[j]->kind == d->kind &&
			       !strcmp(img->dataspaces[j]->name, d->name);
		char buf[512], n[32] = "";
		if (d->gate_id) /* a restore keeps gate ids: the identity that survives */
			snprintf(n, sizeof(n), " gate %llu", (unsigned long long)d->gate_id);
		else if (nth > 1)
			snprintf(n, sizeof(n), " #%u", nth);
		snprintf(buf, sizeof(buf), "%s of %s (%s)%s", d->name, owner, img_ds_kind_name(d->kind), n);
		if (!(s->ds_key[i] = strdup(buf)))
			return img_fail(err, errlen, "out of memory");
	}
	return 0;
}

static void ds_keys_free(struct side *s)
{
	if (!s->ds_key)
		return;
	for (size_t i = 0; s->v->img && i < s->v->img->n_dataspaces; i++)
		free(s->ds_key[i]);
	free(s->ds_key);
	s->ds_key = NULL;
}

/* ---- fields ------------------------------------------------------------------ */

static bool field_is(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
		     const ProtobufCMessageDescriptor *want, const char *name)
{
	return d == want && !strcmp(f->name, name);
}

/* Never compared: when the checkpoint was taken, and where pages lie in
 * the file or in which parent image (the content is compared by checksum,
 * over the whole chain). Compared only when
 * asked: the clocks of timers and IPC timeouts, the allocators. */
enum treat { COMPARE, SKIP, TIMING, DATASPACE_REF };

static enum treat treat_of(const struct dctx *x, const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
	if (field_is(d, f, &amber_img__image__descriptor, "cut_time_us") ||
	    field_is(d, f, &amber_img__image__descriptor, "wall_time_s") ||
	    field_is(d, f, &amber_img__dataspace__descriptor, "extents") ||
	    field_is(d, f, &amber_img__dataspace__descriptor, "parent_dataspace") ||
	    field_is(d, f, &amber_img__image__descriptor, "parent_image") ||
	    field_is(d, f, &amber_img__image__descriptor, "parent_meta_xxh3"))
		return SKIP;
	if (field_is(d, f, &amber_img__image__descriptor, "next_object_id") ||
	    field_is(d, f, &amber_img__image__descriptor, "next_badge") ||
	    field_is(d, f, &amber_img__image__descriptor, "next_component_id"))
		return x->o->allocators ? COMPARE : SKIP;
	if (field_is(d, f, &amber_img__timer_session__descriptor, "elapsed_us") ||
	    field_is(d, f, &amber_img__timer_session__descriptor, "remaining_us") ||
	    field_is(d, f, &amber_img__thread_ipc__descriptor, "remaining_us"))
		return x->o->timing ? TIMING : SKIP;
	if (field_is(d, f, &amber_img__segment__descriptor, "dataspace") ||
	    field_is(d, f, &amber_img__region__descriptor, "dataspace") ||
	    field_is(d, f, &amber_img__managed__descriptor, "dataspace") ||
	    field_is(d, f, &amber_img__rom_session__descriptor, "dataspace") ||
	    field_is(d, f, &amber_img__component__descriptor, "stack") ||
	    field_is(d, f, &amber_img__component__descriptor, "utcbs"))
		return DATASPACE_REF;
	return COMPARE;
}

/* Fields people read in hex. */
static bool hex_field(const char *name)
{
	static const char *names[] = { "badge", "label", "addr", "offset", "imprint", "msg_tag", "rcv_window", "ip" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* A scalar field's value as text, by its type and what it means. */
static void value_text(char *out, size_t len, const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
		       const void *p)
{
	uint64_t u = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(out, len, "%d", *(const int32_t *)p);
		return;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(out, len, "%lld", (long long)*(const int64_t *)p);
		return;
	case PROTOBUF_C_TYPE_BOOL:
		snprintf(out, len, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
		return;
	case PROTOBUF_C_TYPE_FLOAT:
		snprintf(out, len, "%.9g", (double)*(const float *)p);
		return;
	case PROTOBUF_C_TYPE_DOUBLE:
		snprintf(out, len, "%.17g", *(const double *)p);
		return;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		if (ev)
			snprintf(out, len, "%s", ev->name);
		else
			snprintf(out, len, "%d", *(const int *)p);
		return;
	}
	case PROTOBUF_C_TYPE_STRING:
		snprintf(out, len, "\"%s\"", *(char *const *)p ? *(char *const *)p : "");
		return;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		u = *(const uint32_t *)p;
		break;
	default:
		u = *(const uint64_t *)p;
		break;
	}
	if (!strcmp(f->name, "kind") && d == &amber_img__cap__descriptor)
		snprintf(out, len, "%s", img_cap_kind_name((unsigned)u));
	else if (!strcmp(f->name, "kind") && d == &amber_img__kernel_object__descriptor)
		snprintf(out, len, "%s", img_cap_kind_name((unsigned)u));
	else if (!strcmp(f->name, "kind") && d == &amber_img__session__descriptor)
		snprintf(out, len, "%s", img_session_kind_name((unsigned)u));
	else if (!strcmp(f->name, "kind") && d == &amber_img__fault__descriptor)
		snprintf(out, len, "%s", img_fault_kind_name((unsigned)u));
	else if (!strcmp(f->name, "state") && d == &amber_img__thread_ipc__descriptor)
		snprintf(out, len, "%s", img_ipc_state_name((unsigned)u));
	else if (!strcmp(f->name, "rights")) {
		char r[4];
		img_rights(r, (unsigned)u);
		snprintf(out, len, "%s", r);
	} else if (u == UINT64_MAX && strstr(f->name, "_us"))
		snprintf(out, len, "none");
	else if (hex_field(f->name))
		snprintf(out, len, "0x%llx", (unsigned long long)u);
	else
		snprintf(out, len, "%llu", (unsigned long long)u);
}

static bool bytes_equal(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void diff_bytes(struct dctx *x, const char *path, const ProtobufCMessageDescriptor *d,
		       const ProtobufCFieldDescriptor *f, const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	if (bytes_equal(a, b))
		return;
	if (d == &amber_img__thread__descriptor && !strcmp(f->name, "gp_regs") && a->len == b->len) {
		char names[256] = "";
		size_t used = 0;
		for (size_t k = 0; k < img_nregs; k++)
			if (img_reg(a, img_regs[k].offset) != img_reg(b, img_regs[k].offset) && used < sizeof(names)) {
				int w = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", img_regs[k].name);
				used += w > 0 ? (size_t)w : 0;
			}
		diff_line(x, path, "registers differ (%s)", names);
	} else if (a->len != b->len)
		diff_line(x, path, "%s differs (%zu -> %zu bytes)", f->name, a->len, b->len);
	else
		diff_line(x, path, "%s differs", f->name);
}

static void diff_msg(struct dctx *x, const char *path, const ProtobufCMessage *a, const ProtobufCMessage *b);

/* ---- lists --------------------------------------------------------------------- */

struct keyed {
	char key[160];
	char label[200];
	size_t pos;
	bool taken;
};

static int keyed_cmp(const void *p, const void *q)
{
	const struct keyed *x = p, *y = q;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static struct keyed *keyed_list(const struct side *s, const ProtobufCMessage *const *m, size_t n)
{
	struct keyed *k = calloc(n ? n : 1, sizeof(*k));
	if (!k)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		key_of(s, m[i], i, k[i].key, sizeof(k[i].key), k[i].label, sizeof(k[i].label));
		k[i].pos = i;
	}
	return k;
}

/* The first untaken entry of sorted list b with key; NULL if none. */
static struct keyed *keyed_find(struct keyed *b, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(b[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && !strcmp(b[lo].key, key); lo++)
		if (!b[lo].taken)
			return &b[lo];
	return NULL;
}

static void join(char *out, size_t len, const char *path, const char *label)
{
	if (path[0])
		snprintf(out, len, "%s: %s", path, label);
	else
		snprintf(out, len, "%s", label);
}

static void diff_content(struct dctx *x, const char *path, size_t ia, size_t ib)
{
	const AmberImg__Dataspace *da = x->a.v->img->dataspaces[ia], *db = x->b.v->img->dataspaces[ib];
	if (da->size == db->size && x->a.v->content[ia] != x->b.v->content[ib])
		diff_line(x, path, "content differs (xxh3 0x%016llx -> 0x%016llx)",
			  (unsigned long long)x->a.v->content[ia], (unsigned long long)x->b.v->content[ib]);
}

/* Records in a's order, then b's records a has not. */
static void diff_list(struct dctx *x, const char *path, const ProtobufCMessage *const *ma, size_t na,
		      const ProtobufCMessage *const *mb, size_t nb)
{
	struct keyed *ka = keyed_list(&x->a, ma, na), *kb = keyed_list(&x->b, mb, nb);
	char sub[512];
	if (!ka || !kb) {
		diff_line(x, path, "out of memory comparing");
		goto out;
	}
	qsort(kb, nb, sizeof(*kb), keyed_cmp);
	for (size_t i = 0; i < na; i++) {
		struct keyed *m = keyed_find(kb, nb, ka[i].key);
		join(sub, sizeof(sub), path, ka[i].label);
		if (!m) {
			diff_line(x, sub, "only in the first image");
			continue;
		}
		m->taken = true;
		diff_msg(x, sub, ma[i], mb[m->pos]);
		if (ma[i]->descriptor == &amber_img__dataspace__descriptor)
			diff_content(x, sub, i, m->pos);
	}
	/* in b's own order */
	bool *left = calloc(nb ? nb : 1, sizeof(*left));
	if (!left) {
		diff_line(x, path, "out of memory comparing");
		goto out;
	}
	for (size_t i = 0; i < nb; i++)
		left[kb[i].pos] = !kb[i].taken;
	for (size_t i = 0; i < nb; i++)
		if (left[i]) {
			char key[160], label[200];
			key_of(&x->b, mb[i], i, key, sizeof(key), label, sizeof(label));
			join(sub, sizeof(sub), path, label);
			diff_line(x, sub, "only in the second image");
		}
	free(left);
out:
	free(ka);
	free(kb);
}

/* ---- messages ------------------------------------------------------------------- */

static uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

static void diff_field(struct dctx *x, const char *path, const ProtobufCMessage *a, const ProtobufCMessage *b,
		       const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = a->descriptor;
	const char *pa = (const char *)a + f->offset, *pb = (const char *)b + f->offset;
	char va[256], vb[256], sub[512];
	enum treat t = treat_of(x, d, f);
	if (t == SKIP)
		return;
	/* Slots of core's own task are not the component's to see, and a
	 * restore allocates them afresh: a capability derived from core's is
	 * compared by the object it names, not by core's slot. */
	if (field_is(d, f, &amber_img__cap__descriptor, "parent_sel") &&
	    ((const AmberImg__Cap *)a)->parent_task_id == x->a.v->img->core_task_id &&
	    ((const AmberImg__Cap *)b)->parent_task_id == x->b.v->img->core_task_id)
		return;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t na = *(const size_t *)((const char *)a + f->quantifier_offset);
		size_t nb = *(const size_t *)((const char *)b + f->quantifier_offset);
		const void *arr_a = *(const void *const *)pa, *arr_b = *(const void *const *)pb;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			diff_list(x, path, arr_a, na, arr_b, nb);
		else if (f->type == PROTOBUF_C_TYPE_UINT64 && (na != nb || (na && memcmp(arr_a, arr_b, na * 8))))
			diff_line(x, path, "%s differs", f->name); /* msg_mr */
		else if (f->type != PROTOBUF_C_TYPE_UINT64 && na != nb)
			diff_line(x, path, "%s: %zu -> %zu values", f->name, na, nb);
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessage *sa = *(const ProtobufCMessage *const *)pa;
		const ProtobufCMessage *sb = *(const ProtobufCMessage *const *)pb;
		join(sub, sizeof(sub), path, f->name);
		if (!sa != !sb)
			diff_line(x, sub, "only in the %s image", sa ? "first" : "second");
		else if (sa)
			diff_msg(x, sub, sa, sb);
		return;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING) {
		protobuf_c_boolean ha = *(const protobuf_c_boolean *)((const char *)a + f->quantifier_offset);
		protobuf_c_boolean hb = *(const protobuf_c_boolean *)((const char *)b + f->quantifier_offset);
		if (ha != hb) {
			diff_line(x, path, "%s only in the %s image", f->name, ha ? "first" : "second");
			return;
		}
		if (!ha)
			return;
	}
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		diff_bytes(x, path, d, f, (const ProtobufCBinaryData *)pa, (const ProtobufCBinaryData *)pb);
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;
		if (!sa != !sb || (sa && strcmp(sa, sb)))
			diff_line(x, path, "%s \"%s\" -> \"%s\"", f->name, sa ? sa : "(none)", sb ? sb : "(none)");
		return;
	}
	if (t == DATASPACE_REF) {
		uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
		const char *ka = x->a.ds_key[ia], *kb = x->b.ds_key[ib]; /* in range: image_check */
		if (strcmp(ka, kb))
			diff_line(x, path, "%s %s -> %s", f->name, ka, kb);
		return;
	}
	size_t sz = f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_INT64 ||
				    f->type == PROTOBUF_C_TYPE_FIXED64 || f->type == PROTOBUF_C_TYPE_SINT64 ||
				    f->type == PROTOBUF_C_TYPE_SFIXED64 || f->type == PROTOBUF_C_TYPE_DOUBLE
			    ? 8
			    : 4;
	if (!memcmp(pa, pb, sz))
		return;
	if (t == TIMING && sz == 8) {
		uint64_t ua = *(const uint64_t *)pa, ub = *(const uint64_t *)pb;
		if (ua != UINT64_MAX && ub != UINT64_MAX && absdiff(ua, ub) <= x->o->tolerance_us)
			return;
	}
	value_text(va, sizeof(va), d, f, pa);
	value_text(vb, sizeof(vb), d, f, pb);
	diff_line(x, path, "%s %s -> %s", f->name, va, vb);
}

static void diff_msg(struct dctx *x, const char *path, const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	const ProtobufCMessageDescriptor *d = a->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++)
		diff_field(x, path, a, b, &d->fields[i]);
}

int image_diff_opts(const char *a, const char *b, const struct image_diff_options *o, FILE *out, char *err,
		    size_t errlen)
{
	static const struct image_diff_options none;
	struct img_view va, vb;
	if (img_view_load(a, &va, err, errlen) < 0)
		return -1;
	if (img_view_load(b, &vb, err, errlen) < 0) {
		img_view_free(&va);
		return -1;
	}
	struct dctx x = { .out = out, .o = o ? o : &none, .a = { .v = &va }, .b = { .v = &vb } };
	int rc = 0;
	if (ds_keys(&x.a, err, errlen) < 0 || ds_keys(&x.b, err, errlen) < 0)
		rc = -1;
	else {
		diff_msg(&x, "", &va.img->base, &vb.img->base);
		rc = x.n;
	}
	ds_keys_free(&x.a);
	ds_keys_free(&x.b);
	img_view_free(&va);
	img_view_free(&vb);
	if (rc >= 0 && (fflush(out) == EOF || ferror(out)))
		return img_fail(err, errlen, "cannot write the output");
	return rc;
}

int image_diff(const char *a, const char *b, FILE *out, char *err, size_t errlen)
{
	return image_diff_opts(a, b, NULL, out, err, errlen);
}
