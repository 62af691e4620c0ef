/*
 * Small helpers shared by checkpoint/restore's walkers and the modules'
 * save and load functions: building protobuf-c messages by hand (every
 * part malloc'd, so protobuf_c_message_free_unpacked frees a saved image
 * exactly as it frees a read one) and lookups during a load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_state.h"
#include "image/image.h"

int cr_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void *cr_append(void *array_ptr, size_t *n, void *item)
{
	/* The capacity is the next power of two at or above n, so it need not
	 * be kept: grow when n reaches one. One realloc per item made a
	 * component's thousands of capabilities quadratic to save. */
	void **array = array_ptr;
	if ((*n & (*n - 1)) == 0) {
		void **grown = realloc(array, (*n ? 2 * *n : 1) * sizeof(*array));
		if (!grown)
			abort(); /* core's own memory: as for any malloc in core */
		array = grown;
	}
	array[(*n)++] = item;
	return array;
}

void *cr_new(size_t size, void (*init)(void *))
{
	void *m = malloc(size);
	if (!m)
		abort();
	init(m);
	return m;
}

char *cr_strdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

unsigned cr_session_index(const struct component *c, const struct core_session *ss)
{
	unsigned i = 0;
	for (const struct core_session *s = c->sessions; s; s = s->next, i++)
		if (s == ss)
			return i;
	return UINT32_MAX;
}

int cr_save_ds(struct cr_save *s, const void *key, const struct dataspace *mem, AmberImg__DataspaceKind kind,
	       unsigned owner, uint64_t gate_id, bool writable, unsigned session, uint32_t *index)
{
	AmberImg__Image *img = s->img;
	for (size_t i = 0; i < img->n_dataspaces; i++) {
		if (s->keys[i] == key) {
			*index = (uint32_t)i;
			return 0;
		}
	}
	if (img->n_dataspaces == s->cap_ds) {
		size_t cap = s->cap_ds ? 2 * s->cap_ds : 64;
		const struct dataspace **m = realloc(s->mem, cap * sizeof(*m));
		const void **k = m ? realloc(s->keys, cap * sizeof(*k)) : NULL;
		if (m)
			s->mem = m;
		if (!m || !k)
			abort();
		s->keys = k;
		s->cap_ds = cap;
	}
	AmberImg__Dataspace *d = CR_NEW(AmberImg__Dataspace, amber_img__dataspace__init);
	d->kind = kind;
	d->size = mem->size;
	d->owner = owner;
	d->gate_id = gate_id;
	d->writable = writable;
	d->session = session;
	d->name = cr_strdup(mem->name);
	if (gate_id) {
		struct kobj *g = kernel_object_by_id(gate_id);
		struct kernel_gate_state gs = { 0 };
		if (g && kernel_object_kind(g) == AMBER_KIND_GATE)
			kernel_gate_export((struct kgate *)g, &gs);
		d->has_label = true;
		d->label = gs.label;
	}
	s->mem[img->n_dataspaces] = mem;
	s->keys[img->n_dataspaces] = key;
	*index = (uint32_t)img->n_dataspaces;
	CR_APPEND(img, dataspaces, d);
	return 0;
}

struct component *cr_load_component(struct cr_load *l, unsigned id)
{
	for (size_t i = 0; i < l->img->n_components; i++)
		if (l->img->components[i]->id == id)
			return l->set[i];
	return NULL;
}

struct kobj *cr_object(uint64_t id, enum amber_kind kind)
{
	struct kobj *o = id ? kernel_object_by_id(id) : NULL;
	return o && kernel_object_kind(o) == kind ? o : NULL;
}

int cr_force_id(struct cr_load *l, uint64_t id, const char *what)
{
	if (kernel_object_id_force(id) != AMBER_OK)
		return cr_fail(l->err, l->errlen, "%s: %s: object id %llu is in use by a live object", l->c->name,
			       what, (unsigned long long)id);
	return 0;
}

int cr_load_memory(struct cr_load *l, unsigned index, struct dataspace *out)
{
	struct dataspace *m = l->mem && index < l->img->n_dataspaces ? &l->mem[index] : NULL;
	if (!m || m->fd < 0)
		return cr_fail(l->err, l->errlen, "%s: dataspace %u: no memory for it (used twice in the image?)",
			       l->c->name, index);
	*out = *m;
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	return 0;
}

struct core_session *cr_load_session(struct cr_load *l, unsigned i, const char *what)
{
	if (i >= l->m->n_sessions || !l->sessions[i]) {
		cr_fail(l->err, l->errlen, "%s: %s names session %u, which the image does not have", l->c->name, what, i);
		return NULL;
	}
	return l->sessions[i];
}

void cr_remember_key(struct component *c, const struct image_key *key)
{
	c->image_signed = key != NULL;
	if (key)
		memcpy(c->image_key, key->k, sizeof(c->image_key));
	else
		memset(c->image_key, 0, sizeof(c->image_key));
}
