/*
 * image_inspect: an image for people, or as JSON for tools.
 *
 * The human form is a report: the files and their checksums, the
 * component tree, then each component's threads, capability space slot by
 * slot, memory, sessions and signal objects, then the dataspaces. Numbers
 * are named where the image only stores them (kinds, states, rights) and
 * object ids are resolved to what they are when the image knows it: a
 * slot shows "rpc cap, bound to thread 2" rather than a bare gate id.
 *
 * The JSON form walks the protobuf descriptors, so it holds every field
 * of the image, also ones added to the schema later, and adds the derived
 * facts (names, what a slot refers to, content checksums) beside them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "amber/abi.h"
#include "image/inspect.h"
#include "image/internal.h"

/* ---- loading --------------------------------------------------------- */

/* A dataspace of an incremental image is what its parents hold with its
 * own pages over them: its content checksum is of that, so that equal
 * memory shows equal checksums in a chain and in a full image. */
static int chain_content(const char *dir, struct img_view *v, char *err, size_t errlen)
{
	size_t n = v->img->n_dataspaces;
	int *fds = malloc((n + 1) * sizeof(*fds));
	if (!fds)
		return img_fail(err, errlen, "%s: out of memory", dir);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const AmberImg__Dataspace *d = v->img->dataspaces[i];
		fds[i] = -1;
		if (!d->parent_dataspace || rc)
			continue;
		fds[i] = memfd_create("amber-inspect", MFD_CLOEXEC);
		if (fds[i] < 0 || ftruncate(fds[i], (off_t)d->size) < 0)
			rc = img_fail(err, errlen, "%s: memory for dataspace %zu: %s", dir, i, strerror(errno));
	}
	if (rc == 0)
		rc = image_load_memory(dir, v->img, fds, err, errlen);
	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		uint64_t size = v->img->dataspaces[i]->size;
		void *m = rc ? MAP_FAILED : mmap(NULL, size, PROT_READ, MAP_SHARED, fds[i], 0);
		if (m != MAP_FAILED) {
			v->content[i] = img_memory_content_hash(m, size);
			munmap(m, size);
		} else if (rc == 0) {
			rc = img_fail(err, errlen, "%s: mapping dataspace %zu: %s", dir, i, strerror(errno));
		}
		close(fds[i]);
	}
	free(fds);
	return rc;
}

int img_view_load(const char *dir, struct img_view *v, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	if (img_read_info(dir, NULL, &v->img, &v->info, err, errlen) < 0)
		return -1;
	size_t n = v->img->n_dataspaces;
	v->content = calloc(n ? n : 1, sizeof(*v->content));
	v->stored = calloc(n ? n : 1, sizeof(*v->stored));
	struct img_pages p;
	if (!v->content || !v->stored) {
		img_view_free(v);
		return img_fail(err, errlen, "%s: out of memory", dir);
	}
	if (img_pages_open(v->info.gen, &p, err, errlen) < 0) {
		img_view_free(v);
		return -1;
	}
	int rc = img_pages_file_hash(&p, &v->pages_xxh3, err, errlen);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = img_pages_content_hash(&p, v->img, (unsigned)i, &v->content[i], err, errlen);
		for (size_t k = 0; k < v->img->dataspaces[i]->n_extents; k++)
			v->stored[i] += v->img->dataspaces[i]->extents[k]->length;
	}
	img_pages_close(&p);
	if (rc == 0 && v->img->parent_image)
		rc = chain_content(dir, v, err, errlen);
	if (rc < 0)
		img_view_free(v);
	return rc;
}

void img_view_free(struct img_view *v)
{
	image_free(v->img);
	free(v->content);
	free(v->stored);
	memset(v, 0, sizeof(*v));
}

/* ---- what an object id is ----------------------------------------------- */

/* Every id the image knows something about, with what it is and whose. */
struct ref {
	uint64_t id;
	size_t seq;  /* the first description of an id wins: the more specific */
	int comp;    /* index of the component it belongs to; -1: nobody's */
	char text[96];
};

struct refs {
	struct ref *r;
	size_t n, cap;
};

static void ref_add(struct refs *t, uint64_t id, int comp, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void ref_add(struct refs *t, uint64_t id, int comp, const char *fmt, ...)
{
	if (!id)
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct ref *r = realloc(t->r, cap * sizeof(*r));
		if (!r)
			return; /* descriptions are a courtesy: fewer of them, not a failure */
		t->r = r;
		t->cap = cap;
	}
	struct ref *r = &t->r[t->n];
	r->id = id;
	r->seq = t->n++;
	r->comp = comp;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct ref *ref_find(const struct refs *t, uint64_t id)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) { /* the first entry with r->id >= id */
		size_t mid = lo + (hi - lo) / 2;
		if (t->r[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->r[lo].id == id ? &t->r[lo] : NULL;
}

/* "thread 2" for a thread object of component co, by its UTCB index. */
static void thread_name(char *out, size_t len, const AmberImg__Component *co, uint64_t id)
{
	for (size_t k = 0; k < co->n_threads; k++)
		if (co->threads[k]->object_id == id) {
			snprintf(out, len, "thread %u", co->threads[k]->index);
			return;
		}
	snprintf(out, len, "thread object %llu", (unsigned long long)id);
}

static void refs_build(const AmberImg__Image *img, struct refs *t)
{
	char th[48];
	for (size_t ci = 0; ci < img->n_components; ci++) {
		const AmberImg__Component *co = img->components[ci];
		int c = (int)ci;
		for (size_t k = 0; k < co->n_rpc_caps; k++) {
			thread_name(th, sizeof(th), co, co->rpc_caps[k]->thread_id);
			ref_add(t, co->rpc_caps[k]->gate_id, c, "rpc cap, bound to %s", th);
		}
		for (size_t k = 0; k < co->n_signal_sources; k++) {
			const AmberImg__SignalSource *s = co->signal_sources[k];
			ref_add(t, s->gate_id, c, "signal source");
			ref_add(t, s->irq_id, c, "semaphore of signal source %llu", (unsigned long long)s->gate_id);
		}
		for (size_t k = 0; k < co->n_signal_contexts; k++)
			ref_add(t, co->signal_contexts[k]->gate_id, c, "signal context, %u pending",
				co->signal_contexts[k]->count);
		for (size_t k = 0; k < co->n_sessions; k++)
			ref_add(t, co->sessions[k]->gate_id, c, "core service %s session",
				img_session_kind_name(co->sessions[k]->kind));
		for (size_t k = 0; k < co->n_managed; k++)
			ref_add(t, co->managed[k]->gate_id, c, "managed map of dataspace %u", co->managed[k]->dataspace);
		for (size_t k = 0; k < co->n_services; k++)
			ref_add(t, co->services[k]->gate_id, c, "service %s", co->services[k]->name);
		for (size_t k = 0; k < co->n_root_sessions; k++)
			ref_add(t, co->root_sessions[k]->gate_id, c, "root session %llu of %s",
				(unsigned long long)co->root_sessions[k]->id, co->root_sessions[k]->service);
		for (size_t k = 0; k < co->n_children; k++)
			ref_add(t, co->children[k]->gate_id, c, "child, component %u", co->children[k]->child_id);
		ref_add(t, co->task_id, c, "task");
		ref_add(t, co->factory_id, c, "factory");
		for (size_t k = 0; k < co->n_threads; k++)
			ref_add(t, co->threads[k]->object_id, c, "thread %u", co->threads[k]->index);
		ref_add(t, co->parent_gate_id, c, "parent gate");
		for (size_t k = 0; k < co->n_objects; k++)
			ref_add(t, co->objects[k]->id, c, "%s made by the factory",
				co->objects[k]->kind == AMBER_KIND_IRQ ? "irq" : "gate");
	}
	for (size_t i = 0; i < img->n_dataspaces; i++)
		ref_add(t, img->dataspaces[i]->gate_id, -1, "dataspace %s", img->dataspaces[i]->name);
	for (size_t ci = 0; ci < img->n_components; ci++)
		ref_add(t, img->components[ci]->log_gate_id, -1, "core service LOG");
	if (t->n)
		qsort(t->r, t->n, sizeof(*t->r), ref_cmp);
}

/* What object id refers to, seen from component ci; "" if the image
 * does not know (an object outside it). */
static void refers_to(char *out, size_t len, const AmberImg__Image *img, const struct refs *t, size_t ci,
		      uint64_t id)
{
	const struct ref *r = ref_find(t, id);
	if (!r)
		snprintf(out, len, "%s", "");
	else if (r->comp < 0 || (size_t)r->comp == ci)
		snprintf(out, len, "%s", r->text);
	else
		snprintf(out, len, "%s of %s", r->text, img->components[r->comp]->name);
}

static int component_of_task(const AmberImg__Image *img, uint64_t task)
{
	for (size_t ci = 0; ci < img->n_components; ci++)
		if (img->components[ci]->task_id == task)
			return (int)ci;
	return -1;
}

static void derived_from(char *out, size_t len, const AmberImg__Image *img, const AmberImg__Cap *c)
{
	if (c->parent_task_id == 0) {
		snprintf(out, len, "root capability");
		return;
	}
	if (c->parent_task_id == img->core_task_id) {
		snprintf(out, len, "derived from core");
		return;
	}
	int owner = component_of_task(img, c->parent_task_id);
	if (owner >= 0)
		snprintf(out, len, "derived from slot %u of task %llu (%s)", c->parent_sel,
			 (unsigned long long)c->parent_task_id, img->components[owner]->name);
	else
		snprintf(out, len, "derived from slot %u of task %llu", c->parent_sel,
			 (unsigned long long)c->parent_task_id);
}

/* ---- for people -------------------------------------------------------------- */

/* Text from an image as it is, but with control characters escaped: a
 * name or a log line must not drive the terminal. */
static void put_text(FILE *out, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
			fprintf(out, s[i] == '\\' ? "\\\\" : "\\x%02x", s[i]);
		else
			fputc(s[i], out);
	}
}

static void put_str(FILE *out, const char *s) { put_text(out, (const uint8_t *)s, strlen(s)); }

static void put_us(FILE *out, uint64_t us)
{
	if (us == UINT64_MAX)
		fprintf(out, "no timeout");
	else
		fprintf(out, "%llu us", (unsigned long long)us);
}

/* An incremental image's parents, nearest first, as far as they read. */
static void print_chain(const AmberImg__Image *img, FILE *out)
{
	char at[PATH_MAX], err[512];
	uint64_t want = img->parent_meta_xxh3;
	if (!img->parent_image)
		return;
	snprintf(at, sizeof(at), "%s", img->parent_image);
	for (unsigned depth = 0; depth < 64; depth++) {
		AmberImg__Image *p = NULL;
		struct img_info info;
		fprintf(out, "  parent         ");
		put_str(out, at);
		if (img_read_info(at, NULL, &p, &info, err, sizeof(err)) < 0) {
			fprintf(out, ": cannot read it: %s\n", err);
			return;
		}
		fprintf(out, "%s, %s\n", info.meta_xxh3 == want ? "" : " (NOT the image it was taken against)",
			p->parent_image ? "incremental" : "full");
		bool more = p->parent_image != NULL;
		if (more) {
			snprintf(at, sizeof(at), "%s", p->parent_image);
			want = p->parent_meta_xxh3;
		}
		image_free(p);
		if (!more)
			return;
	}
}

static void print_summary(const struct img_view *v, FILE *out)
{
	const AmberImg__Image *img = v->img;
	char when[64] = "?";
	time_t t = (time_t)img->wall_time_s;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(out, "Amber image %s\n", v->info.gen);
	fprintf(out, "  root           ");
	put_str(out, img->root);
	fprintf(out, " (%zu components, %zu dataspaces)\n", img->n_components, img->n_dataspaces);
	fprintf(out, "  format         %u\n", img->format_version);
	fprintf(out, "  taken          %s, core clock %llu us\n", when, (unsigned long long)img->cut_time_us);
	fprintf(out, "  scenario dir   ");
	put_str(out, img->scenario_dir);
	fprintf(out, "\n  xstate         %u bytes\n", img->xstate_size);
	fprintf(out, "  allocators     next object %llu, next badge 0x%llx, next component %u; core task %llu\n",
		(unsigned long long)img->next_object_id, (unsigned long long)img->next_badge,
		img->next_component_id, (unsigned long long)img->core_task_id);
	fprintf(out, "  image.pb       %llu bytes, xxh3 0x%016llx\n", (unsigned long long)v->info.meta_length,
		(unsigned long long)v->info.meta_xxh3);
	fprintf(out, "  pages.bin      %llu bytes, xxh3 0x%016llx\n", (unsigned long long)v->info.pages_length,
		(unsigned long long)v->pages_xxh3);
	print_chain(img, out);
}

static void print_tree(const AmberImg__Image *img, size_t ci, unsigned depth, FILE *out)
{
	const AmberImg__Component *co = img->components[ci];
	fprintf(out, "  %*s%u ", 2 * depth, "", co->id);
	put_str(out, co->name);
	fprintf(out, "  [");
	put_str(out, co->binary);
	fprintf(out, "]  kernel quota %u, factory %u/%u, RAM %llu/%llu bytes, %u dataspaces\n", co->kernel_quota,
		co->factory_used, co->factory_quota, (unsigned long long)co->ram_used,
		(unsigned long long)co->ram_quota, co->ndataspaces);
	/* image_check: a parent comes before its children, so this ends */
	for (size_t k = ci + 1; k < img->n_components; k++)
		if (img->components[k]->parent_id == co->id)
			print_tree(img, k, depth + 1, out);
}

static void print_threads(const AmberImg__Component *co, FILE *out)
{
	fprintf(out, "  threads (%zu):\n", co->n_threads);
	for (size_t k = 0; k < co->n_threads; k++) {
		const AmberImg__Thread *t = co->threads[k];
		const AmberImg__ThreadIpc *ipc = t->ipc;
		fprintf(out, "    %3u ", t->index);
		put_str(out, t->name);
		fprintf(out, "  object %llu, %s%s, ipc %s (", (unsigned long long)t->object_id,
			img_run_state_name(t->run_state), t->started ? "" : ", never started",
			img_ipc_state_name(ipc->state));
		put_us(out, ipc->remaining_us);
		fprintf(out, "), rip 0x%llx rsp 0x%llx",
			(unsigned long long)img_reg(&t->gp_regs, img_regs[0].offset),
			(unsigned long long)img_reg(&t->gp_regs, img_regs[1].offset));
		if (t->index)
			fprintf(out, ", CPU session %u", t->session);
		if (t->has_cpu)
			fprintf(out, ", bound to CPU location %u", t->cpu);
		if (ipc->send_gate_id)
			fprintf(out, ", sending to gate %llu", (unsigned long long)ipc->send_gate_id);
		if (ipc->partner_id)
			fprintf(out, ", partner %llu", (unsigned long long)ipc->partner_id);
		if (ipc->reply_to_id)
			fprintf(out, ", owes a reply to %llu", (unsigned long long)ipc->reply_to_id);
		if (ipc->wait_irq_id)
			fprintf(out, ", waits for irq %llu", (unsigned long long)ipc->wait_irq_id);
		if (t->fault->kind)
			fprintf(out, ", %s fault sig %d at 0x%llx ip 0x%llx", img_fault_kind_name(t->fault->kind),
				t->fault->sig, (unsigned long long)t->fault->addr, (unsigned long long)t->fault->ip);
		if (t->fault->kind == 2) /* CORE_FAULT_RM: what FAULT_STATE reports */
			fprintf(out, " (%s)", img_rm_access_name(t->fault->access));
		fputc('\n', out);
	}
}

static void print_caps(const AmberImg__Image *img, const struct refs *refs, size_t ci, FILE *out)
{
	const AmberImg__Component *co = img->components[ci];
	char rights[4], what[160], from[160];
	fprintf(out, "  capability space (%zu slots used):\n", co->n_caps);
	fprintf(out, "    %5s %-8s %-18s %-6s %-8s %s\n", "slot", "kind", "badge", "rights", "object", "refers to");
	for (size_t k = 0; k < co->n_caps; k++) {
		const AmberImg__Cap *c = co->caps[k];
		img_rights(rights, c->rights);
		refers_to(what, sizeof(what), img, refs, ci, c->object_id);
		derived_from(from, sizeof(from), img, c);
		fprintf(out, "    %5u %-8s 0x%-16llx %-6s %-8llu ", c->sel, img_cap_kind_name(c->kind),
			(unsigned long long)c->badge, rights, (unsigned long long)c->object_id);
		put_str(out, what[0] ? what : "?");
		fprintf(out, "; %s\n", from);
	}
}

static void print_ds_ref(const AmberImg__Image *img, uint32_t i, FILE *out)
{
	fprintf(out, "dataspace %u (", i);
	put_str(out, img->dataspaces[i]->name);
	fputc(')', out);
}

static void print_memory(const AmberImg__Image *img, const AmberImg__Component *co, FILE *out)
{
	fprintf(out, "  memory:\n");
	for (size_t k = 0; k < co->n_segments; k++) {
		const AmberImg__Segment *s = co->segments[k];
		fprintf(out, "    segment %zu at 0x%llx +0x%llx %c%c%c, ", k, (unsigned long long)s->addr,
			(unsigned long long)s->size, s->prot & 1 ? 'r' : '-', s->prot & 2 ? 'w' : '-',
			s->prot & 4 ? 'x' : '-');
		print_ds_ref(img, s->dataspace, out);
		fputc('\n', out);
	}
	fprintf(out, "    stack ");
	print_ds_ref(img, co->stack, out);
	fprintf(out, ", UTCBs ");
	print_ds_ref(img, co->utcbs, out);
	fputc('\n', out);
	for (size_t k = 0; k < co->n_regions; k++) {
		const AmberImg__Region *r = co->regions[k];
		fprintf(out, "    region %zu", k);
		if (r->managed_gate_id)
			fprintf(out, " in managed map %llu", (unsigned long long)r->managed_gate_id);
		fprintf(out, " at 0x%llx +0x%llx %s%s, ", (unsigned long long)r->addr, (unsigned long long)r->size,
			r->flags & 1 ? "w" : "r", r->flags & 2 ? "x" : "");
		print_ds_ref(img, r->dataspace, out);
		fprintf(out, " offset 0x%llx, RM session %u\n", (unsigned long long)r->offset, r->session);
	}
	for (size_t k = 0; k < co->n_managed; k++) {
		const AmberImg__Managed *m = co->managed[k];
		fprintf(out, "    managed map %llu, 0x%llx bytes, ", (unsigned long long)m->gate_id,
			(unsigned long long)m->size);
		print_ds_ref(img, m->dataspace, out);
		fprintf(out, ", RM session %u\n", m->session);
	}
}

static void print_sessions(const AmberImg__Image *img, const AmberImg__Component *co, FILE *out)
{
	fprintf(out, "  sessions (%zu):\n", co->n_sessions);
	for (size_t k = 0; k < co->n_sessions; k++) {
		const AmberImg__Session *s = co->sessions[k];
		fprintf(out, "    %2zu %-5s gate %llu", k, img_session_kind_name(s->kind), (unsigned long long)s->gate_id);
		if (s->rom) {
			fprintf(out, ", module \"");
			put_str(out, s->rom->module);
			fprintf(out, "\"%s version %u, %llu bytes in ", s->rom->config ? " (config)" : "", s->rom->version,
				(unsigned long long)s->rom->size);
			print_ds_ref(img, s->rom->dataspace, out);
			if (s->rom->sigh)
				fprintf(out, ", signals context %llu", (unsigned long long)s->rom->sigh);
		}
		if (s->timer) {
			const AmberImg__TimerSession *t = s->timer;
			fprintf(out, ", elapsed %llu us, context %llu", (unsigned long long)t->elapsed_us,
				(unsigned long long)t->context_id);
			if (t->scheduled)
				fprintf(out, ", fires in %llu us%s", (unsigned long long)t->remaining_us,
					t->period_us ? "" : " (once)");
			if (t->period_us)
				fprintf(out, ", every %llu us", (unsigned long long)t->period_us);
		}
		fputc('\n', out);
	}
}

static void print_objects(const AmberImg__Component *co, FILE *out)
{
	char th[48];
	for (size_t k = 0; k < co->n_objects; k++) {
		const AmberImg__KernelObject *o = co->objects[k];
		fprintf(out, "  kernel object %llu: %s, label 0x%llx", (unsigned long long)o->id, img_cap_kind_name(o->kind),
			(unsigned long long)o->label);
		if (o->bound_thread_id) {
			thread_name(th, sizeof(th), co, o->bound_thread_id);
			fprintf(out, ", bound to %s", th);
		}
		if (o->charged_factory_id)
			fprintf(out, ", charged to factory %llu", (unsigned long long)o->charged_factory_id);
		fputc('\n', out);
	}
	for (size_t k = 0; k < co->n_irqs; k++) {
		const AmberImg__IrqState *q = co->irqs[k];
		fprintf(out, "  irq %llu: label 0x%llx, %u pending", (unsigned long long)q->irq_id,
			(unsigned long long)q->label, q->pending);
		if (q->attached_thread_id) {
			thread_name(th, sizeof(th), co, q->attached_thread_id);
			fprintf(out, ", attached to %s (place %u)", th, q->attach_order);
		}
		fputc('\n', out);
	}
	for (size_t k = 0; k < co->n_rpc_caps; k++) {
		const AmberImg__RpcCap *r = co->rpc_caps[k];
		thread_name(th, sizeof(th), co, r->thread_id);
		fprintf(out, "  rpc cap: gate %llu, badge 0x%llx, bound to %s, PD session %u\n",
			(unsigned long long)r->gate_id, (unsigned long long)r->badge, th, r->session);
	}
	for (size_t k = 0; k < co->n_signal_sources; k++) {
		const AmberImg__SignalSource *s = co->signal_sources[k];
		thread_name(th, sizeof(th), co, s->thread_id);
		fprintf(out, "  signal source: gate %llu, badge 0x%llx, semaphore %llu, handler %s, PD session %u\n",
			(unsigned long long)s->gate_id, (unsigned long long)s->badge, (unsigned long long)s->irq_id, th,
			s->session);
	}
	for (size_t k = 0; k < co->n_signal_contexts; k++) {
		const AmberImg__SignalContext *s = co->signal_contexts[k];
		fprintf(out, "  signal context: gate %llu, badge 0x%llx, source %llu, imprint 0x%llx, %u pending",
			(unsigned long long)s->gate_id, (unsigned long long)s->badge, (unsigned long long)s->source_gate_id,
			(unsigned long long)s->imprint, s->count);
		if (s->count)
			fprintf(out, " (queue place %u)", s->queue_pos);
		fprintf(out, ", PD session %u\n", s->session);
	}
	for (size_t k = 0; k < co->n_services; k++) {
		fprintf(out, "  service \"");
		put_str(out, co->services[k]->name);
		fprintf(out, "\": gate %llu, from slot %u\n", (unsigned long long)co->services[k]->gate_id,
			co->services[k]->from_sel);
	}
	for (size_t k = 0; k < co->n_root_services; k++) {
		fprintf(out, "  root service \"");
		put_str(out, co->root_services[k]->name);
		fprintf(out, "\": signal context %llu\n", (unsigned long long)co->root_services[k]->context_id);
	}
	for (size_t k = 0; k < co->n_root_sessions; k++) {
		const AmberImg__RootSession *r = co->root_sessions[k];
		fprintf(out, "  root session %llu of \"", (unsigned long long)r->id);
		put_str(out, r->service);
		fprintf(out, "\" for component %u (\"", r->client_id);
		put_str(out, r->label);
		fprintf(out, "\", args \"");
		put_str(out, r->args);
		fprintf(out, "\"): %s, gate %llu, %llu bytes and %llu caps donated\n", r->closing ? "closing" : "open",
			(unsigned long long)r->gate_id, (unsigned long long)r->ram, (unsigned long long)r->caps);
	}
	for (size_t k = 0; k < co->n_pending; k++) {
		fprintf(out, "  pending session request \"");
		put_str(out, co->pending[k]->name);
		fprintf(out, "\" from thread object %llu\n", (unsigned long long)co->pending[k]->thread_id);
	}
	for (size_t k = 0; k < co->n_children; k++)
		fprintf(out, "  child: component %u, gate %llu\n", co->children[k]->child_id,
			(unsigned long long)co->children[k]->gate_id);
}

static void print_component(const AmberImg__Image *img, const struct refs *refs, size_t ci, FILE *out)
{
	const AmberImg__Component *co = img->components[ci];
	fprintf(out, "\nComponent %u: ", co->id);
	put_str(out, co->name);
	fprintf(out, "\n  binary ");
	put_str(out, co->binary);
	if (co->parent_id == 0)
		fprintf(out, ", started by the scenario\n");
	else if (ci == 0)
		fprintf(out, ", child of component %u (not in the image)\n", co->parent_id);
	else
		fprintf(out, ", child of component %u\n", co->parent_id);
	fprintf(out, "  task %llu, factory %llu (%u of %u objects), parent gate %llu, LOG gate %llu\n",
		(unsigned long long)co->task_id, (unsigned long long)co->factory_id, co->factory_used,
		co->factory_quota, (unsigned long long)co->parent_gate_id, (unsigned long long)co->log_gate_id);
	fprintf(out, "  quotas: kernel %u; RAM %llu of %llu bytes used, %u dataspaces\n", co->kernel_quota,
		(unsigned long long)co->ram_used, (unsigned long long)co->ram_quota, co->ndataspaces);
	if (co->rollback)
		fprintf(out, "  policy: rolled back to its image should it crash (checkpoint --rollback)\n");
	if (co->n_provides) {
		fprintf(out, "  provides:");
		for (size_t i = 0; i < co->n_provides; i++)
			fprintf(out, " %s", co->provides[i]);
		fprintf(out, "\n");
	}
	if (co->has_routes && co->routes) {
		fprintf(out, "  route (first match):");
		for (size_t i = 0; i < co->n_routes; i++) {
			const AmberImg__Route *r = co->routes[i];
			fprintf(out, "%s %s -> %s", i ? "," : "", r->service && r->service[0] ? r->service : "*",
				r->child && r->child[0] ? r->child : "core");
		}
		fprintf(out, "\n");
	} else if (co->has_routes) {
		fprintf(out, "  route: none (no service may be asked for)\n");
	}
	if (co->has_hold_output && co->hold_output)
		fprintf(out, "  policy: LOG output held until a later checkpoint commits (checkpoint --hold-output)\n");
	fprintf(out, "  signal handlers: CPU %llu, RM %llu, exit %llu; faults so far %llu\n",
		(unsigned long long)co->cpu_sigh, (unsigned long long)co->rm_sigh, (unsigned long long)co->exit_sigh,
		(unsigned long long)co->fault_seq);
	if (co->has_config)
		fprintf(out, "  config: %zu bytes, version %u\n", co->config.len, co->config_version);
	fprintf(out, "  log: %llu lines", (unsigned long long)co->log_lines);
	if (co->log_line.len) {
		fprintf(out, ", unfinished \"");
		put_text(out, co->log_line.data, co->log_line.len);
		fputc('"', out);
	}
	for (size_t i = 0; i < co->n_log_pending; i++) {
		fprintf(out, ", unfinished (thread %llu) \"", (unsigned long long)co->log_pending[i]->thread_id);
		put_text(out, co->log_pending[i]->text.data, co->log_pending[i]->text.len);
		fputc('"', out);
	}
	fputc('\n', out);
	print_threads(co, out);
	print_caps(img, refs, ci, out);
	print_memory(img, co, out);
	print_sessions(img, co, out);
	print_objects(co, out);
}

static void print_dataspaces(const struct img_view *v, FILE *out)
{
	const AmberImg__Image *img = v->img;
	fprintf(out, "\nDataspaces (%zu):\n", img->n_dataspaces);
	fprintf(out, "  %4s %-9s %10s %10s %7s %5s %-18s %s\n", "idx", "kind", "size", "stored", "extents", "owner",
		"content xxh3", "name");
	for (size_t i = 0; i < img->n_dataspaces; i++) {
		const AmberImg__Dataspace *d = img->dataspaces[i];
		fprintf(out, "  %4zu %-9s %10llu %10llu %7zu %5u 0x%016llx ", i, img_ds_kind_name(d->kind),
			(unsigned long long)d->size, (unsigned long long)v->stored[i], d->n_extents, d->owner,
			(unsigned long long)v->content[i]);
		put_str(out, d->name);
		if (d->gate_id)
			fprintf(out, " (gate %llu)", (unsigned long long)d->gate_id);
		fprintf(out, "%s", d->writable ? "" : " read-only");
		if (d->parent_dataspace)
			fprintf(out, ", over parent dataspace %u", d->parent_dataspace - 1);
		if (d->session)
			fprintf(out, ", PD session %u", d->session - 1);
		fputc('\n', out);
	}
}

static void print_human(const struct img_view *v, const struct refs *refs, FILE *out)
{
	print_summary(v, out);
	fprintf(out, "\nComponents:\n");
	print_tree(v->img, 0, 0, out);
	for (size_t ci = 0; ci < v->img->n_components; ci++)
		print_component(v->img, refs, ci, out);
	print_dataspaces(v, out);
}

/* ---- JSON ------------------------------------------------------------------ */

/* A writer that places the commas and indents. */
struct jw {
	FILE *f;
	int depth;
	bool first[64];
	/* for the derived fields */
	const struct img_view *v;
	const struct refs *refs;
	size_t comp; /* the component being written */
};

/* A JSON string from arbitrary bytes: escapes what JSON requires, keeps
 * valid UTF-8 and replaces invalid bytes by U+FFFD, so that any image
 * yields valid JSON. */
static void json_string(FILE *f, const uint8_t *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc(c, f);
		else {
			/* lead byte: how many continuation bytes, and the range of
			 * the first one (no overlong forms, no surrogates) */
			unsigned more = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
			uint8_t lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
			uint8_t hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
			bool ok = more && n - i > more && s[i + 1] >= lo && s[i + 1] <= hi;
			for (unsigned k = 2; ok && k <= more; k++)
				ok = (s[i + k] & 0xc0) == 0x80;
			if (!ok) {
				fputs("\\ufffd", f);
				i++;
				continue;
			}
			fwrite(s + i, 1, more + 1, f);
			i += more + 1;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

static void jw_key(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (w->depth)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	if (key) {
		json_string(w->f, (const uint8_t *)key, strlen(key));
		fputs(": ", w->f);
	}
}

static void jw_open(struct jw *w, const char *key, char brace)
{
	jw_key(w, key);
	fputc(brace, w->f);
	if (w->depth + 1 < (int)(sizeof(w->first) / sizeof(w->first[0])))
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char brace)
{
	bool empty = w->first[w->depth];
	w->depth--;
	if (!empty)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	fputc(brace, w->f);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

static void jw_hex(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "\"0x%016llx\"", (unsigned long long)v);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s)
		json_string(w->f, (const uint8_t *)s, strlen(s));
	else
		fputs("null", w->f);
}

static void jw_bytes_text(struct jw *w, const char *key, const ProtobufCBinaryData *b)
{
	jw_key(w, key);
	json_string(w->f, b->data ? b->data : (const uint8_t *)"", b->len);
}

static void jw_msg(struct jw *w, const char *key, const ProtobufCMessage *m);

static bool is(const ProtobufCMessage *m, const ProtobufCMessageDescriptor *d) { return m->descriptor == d; }

/* Fields written another way than their type says: returns true if done. */
static bool json_field(struct jw *w, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	if (is(m, &amber_img__thread__descriptor) && !strcmp(f->name, "gp_regs")) {
		const ProtobufCBinaryData *b = (const ProtobufCBinaryData *)(base + f->offset);
		jw_open(w, f->name, '{');
		for (size_t k = 0; k < img_nregs; k++)
			jw_hex(w, img_regs[k].name, img_reg(b, img_regs[k].offset));
		jw_close(w, '}');
		return true;
	}
	if (is(m, &amber_img__thread__descriptor) && !strcmp(f->name, "xstate")) {
		/* up to 16 KiB of FPU state: its size and checksum say enough */
		const ProtobufCBinaryData *b = (const ProtobufCBinaryData *)(base + f->offset);
		jw_open(w, f->name, '{');
		jw_u64(w, "bytes", b->len);
		jw_hex(w, "xxh3", XXH3_64bits(b->data, b->len));
		jw_close(w, '}');
		return true;
	}
	if (f->type == PROTOBUF_C_TYPE_BYTES && f->label != PROTOBUF_C_LABEL_REPEATED &&
	    (is(m, &amber_img__component__descriptor) || is(m, &amber_img__log_line__descriptor))) {
		/* config, log_line, an unfinished line's text: text */
		jw_bytes_text(w, f->name, (const ProtobufCBinaryData *)(base + f->offset));
		return true;
	}
	if (!strcmp(f->name, "xxh3") && f->type == PROTOBUF_C_TYPE_UINT64) {
		jw_hex(w, f->name, *(const uint64_t *)(base + f->offset));
		return true;
	}
	return false;
}

/* The derived facts, after a message's own fields. */
static void json_extra(struct jw *w, const ProtobufCMessage *m)
{
	const AmberImg__Image *img = w->v->img;
	char buf[160];
	if (is(m, &amber_img__cap__descriptor)) {
		const AmberImg__Cap *c = (const AmberImg__Cap *)m;
		char rights[4];
		img_rights(rights, c->rights);
		jw_str(w, "kind_name", img_cap_kind_name(c->kind));
		jw_str(w, "rights_letters", rights);
		refers_to(buf, sizeof(buf), img, w->refs, w->comp, c->object_id);
		jw_str(w, "refers_to", buf[0] ? buf : NULL);
		derived_from(buf, sizeof(buf), img, c);
		jw_str(w, "derived_from", buf);
	} else if (is(m, &amber_img__thread_ipc__descriptor)) {
		jw_str(w, "state_name", img_ipc_state_name(((const AmberImg__ThreadIpc *)m)->state));
	} else if (is(m, &amber_img__session__descriptor)) {
		jw_str(w, "kind_name", img_session_kind_name(((const AmberImg__Session *)m)->kind));
	} else if (is(m, &amber_img__dataspace__descriptor)) {
		const AmberImg__Dataspace *d = (const AmberImg__Dataspace *)m;
		size_t i = 0;
		while (i < img->n_dataspaces && img->dataspaces[i] != d)
			i++;
		if (i < img->n_dataspaces) {
			jw_u64(w, "index", i);
			jw_u64(w, "stored_bytes", w->v->stored[i]);
			jw_hex(w, "content_xxh3", w->v->content[i]);
		}
	}
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default: /* 32-bit integers, enums, float */
		return 4;
	}
}

static void jw_value(struct jw *w, const char *key, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		jw_key(w, key);
		fprintf(w->f, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		jw_u64(w, key, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		jw_key(w, key);
		fprintf(w->f, "%lld", (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		jw_u64(w, key, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		jw_key(w, key);
		fprintf(w->f, "%.9g", (double)*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		jw_key(w, key);
		fprintf(w->f, "%.17g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		jw_key(w, key);
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", w->f);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		if (ev)
			jw_str(w, key, ev->name);
		else {
			jw_key(w, key);
			fprintf(w->f, "%d", v);
		}
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		jw_str(w, key, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		jw_key(w, key);
		fputc('"', w->f);
		for (size_t k = 0; k < b->len; k++)
			fprintf(w->f, "%02x", b->data[k]);
		fputc('"', w->f);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		jw_msg(w, key, *(const ProtobufCMessage *const *)p);
		break;
	}
}

static void jw_msg(struct jw *w, const char *key, const ProtobufCMessage *m)
{
	if (!m) {
		jw_key(w, key);
		fputs("null", w->f);
		return;
	}
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	if (is(m, &amber_img__component__descriptor)) {
		const AmberImg__Image *img = w->v->img;
		for (w->comp = 0; w->comp < img->n_components; w->comp++)
			if (&img->components[w->comp]->base == m)
				break;
	}
	jw_open(w, key, '{');
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (json_field(w, m, f))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(const char *const *)(base + f->offset);
			jw_open(w, f->name, '[');
			for (size_t k = 0; k < n; k++)
				jw_value(w, NULL, f, arr + k * elem_size(f->type));
			jw_close(w, ']');
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
			   f->type != PROTOBUF_C_TYPE_STRING && !*(const protobuf_c_boolean *)(base + f->quantifier_offset)) {
			jw_key(w, f->name); /* an optional scalar not set */
			fputs("null", w->f);
		} else
			jw_value(w, f->name, f, base + f->offset);
	}
	json_extra(w, m);
	jw_close(w, '}');
}

static void print_json(const struct img_view *v, const struct refs *refs, const char *dir, FILE *out)
{
	struct jw w = { .f = out, .v = v, .refs = refs };
	w.first[0] = true;
	jw_open(&w, NULL, '{');
	jw_str(&w, "dir", dir);
	jw_str(&w, "generation", v->info.gen);
	jw_open(&w, "files", '{');
	jw_open(&w, "image.pb", '{');
	jw_u64(&w, "bytes", v->info.meta_length);
	jw_hex(&w, "xxh3", v->info.meta_xxh3);
	jw_close(&w, '}');
	jw_open(&w, "pages.bin", '{');
	jw_u64(&w, "bytes", v->info.pages_length);
	jw_hex(&w, "xxh3", v->pages_xxh3);
	jw_close(&w, '}');
	jw_close(&w, '}');
	jw_msg(&w, "image", &v->img->base);
	jw_close(&w, '}');
	fputc('\n', out);
}

int image_inspect(const char *dir, bool json, FILE *out, char *err, size_t errlen)
{
	struct img_view v;
	struct refs refs = { 0 };
	if (img_view_load(dir, &v, err, errlen) < 0)
		return -1;
	refs_build(v.img, &refs);
	if (json)
		print_json(&v, &refs, dir, out);
	else
		print_human(&v, &refs, out);
	free(refs.r);
	img_view_free(&v);
	if (fflush(out) == EOF || ferror(out))
		return img_fail(err, errlen, "cannot write the output");
	return 0;
}
