/*
 * The seam between checkpoint/restore's walkers (checkpoint.c, restore.c)
 * and the modules whose state they carry.
 *
 * Each kind of core object saves and loads its own state in its own file
 * (signal.c knows signal sources, timer_session.c timers, ...), as gVisor's
 * types do; the walkers only decide the order and the atomic cut. Save
 * functions run with the kernel lock held, at the cut. Load functions run
 * with the kernel lock held too, in the order restore.c documents, and
 * create every object with the id it had (kernel_object_id_force).
 *
 * Save and load return 0, or -1 after writing a message that names the
 * object (cr_fail).
 */
#ifndef AMBER_CORE_CR_STATE_H
#define AMBER_CORE_CR_STATE_H

#include <stdarg.h>

#include "core.h"
#include "cr.h"
#include "image/amber_image.pb-c.h"

/* ---- saving ------------------------------------------------------------- */
struct cr_save {
	AmberImg__Image *img;
	uint64_t now_us;         /* the cut: one clock reading for everything */
	const struct dataspace **mem; /* mem[i]: core's view of img->dataspaces[i] */
	const void **keys;       /* what each saved dataspace is (its core_ds or dataspace) */
	size_t cap_ds;
	char *err;
	size_t errlen;
};

/* Save a dataspace (once per key); its index to *index. */
int cr_save_ds(struct cr_save *s, const void *key, const struct dataspace *mem, AmberImg__DataspaceKind kind,
	       unsigned owner, uint64_t gate_id, bool writable, unsigned session, uint32_t *index);
/* The place of session `ss` in c's session list (what Session records
 * and the records naming a session store). */
unsigned cr_session_index(const struct component *c, const struct core_session *ss);

int cr_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* c's image_dir was signed with (or verified against) key, NULL: none;
 * a rollback to it verifies the same. */
void cr_remember_key(struct component *c, const struct image_key *key);

/* Append item to a repeated field (n_field, field) of a protobuf-c message. */
void *cr_append(void *array_ptr, size_t *n, void *item);
#define CR_APPEND(msg, field, item) ((msg)->field = cr_append((msg)->field, &(msg)->n_##field, (item)))
/* A new message of a type, initialised (NULL on no memory). */
#define CR_NEW(type, init) cr_new(sizeof(type), (void (*)(void *))(init))
void *cr_new(size_t size, void (*init)(void *));
char *cr_strdup(const char *s);

/* ---- loading ------------------------------------------------------------- */
struct cr_load {
	const AmberImg__Image *img;
	const char *dir;                 /* the generation's directory (pages) */
	struct component **set;          /* set[i] is img->components[i] */
	struct core_ds **ds;             /* RAM/ROM/managed dataspaces by image index */
	struct dataspace *mem;           /* every dataspace's memory by image index, filled
					    and checked before the lock (fd < 0: none) */
	const AmberImg__Component *m;    /* the component being loaded */
	struct component *c;
	struct core_session **sessions;  /* c's restored sessions by image index */
	struct core_session ***sessions_of; /* the same for every component of the set */
	struct kept *kept;               /* in place: outside holders and waiters (restore.c) */
	struct cr_lazy *lazy;            /* --lazy: which pages to load later (cr_lazy.h) */
	char pending[160];               /* a slot still waiting for its parent */
	bool fallback;                   /* derive from core's root what waits in vain */
	bool partial;                    /* restore --partial: leave out what cannot come back */
	struct cr_skipped {
		struct component *c;
		amber_sel_t sel;
	} skipped[64];
	size_t nskipped;
	char report[1024];               /* --partial: what was left out, slot by slot */
	char *err;
	size_t errlen;
};

/* The component of the set with image id `id`, or NULL. */
struct component *cr_load_component(struct cr_load *l, unsigned id);
/* A live kernel object by id and kind (NULL if none). */
struct kobj *cr_object(uint64_t id, enum amber_kind kind);
/* Dataspace `index` of the image, its content already in (cr_load_memory
 * moves it out of l->mem). 0, or -1 with a message. */
int cr_load_memory(struct cr_load *l, unsigned index, struct dataspace *out);
/* Force the next object's id; fails with a message naming `what`. */
int cr_force_id(struct cr_load *l, uint64_t id, const char *what);
/* The restored session with image index i (NULL and a message if none). */
struct core_session *cr_load_session(struct cr_load *l, unsigned i, const char *what);

/* ---- the walkers ------------------------------------------------------------ */
/* The component a user names: its label ("init -> hello") or its path of
 * start names ("init/hello"). Kernel lock held. */
struct component *cr_find(const char *name);
/* root and its descendants, parents before children (malloc'd). */
void cr_collect(struct component *root, struct component ***out, size_t *n);
/* checkpoint --kill: end the set's processes and release their memory,
 * children first, without telling parent or peers; they show as stopped.
 * Their kernel objects stay, their tasks frozen: calls to them queue
 * until the restore (component_stop). Without the kernel lock. */
void cr_stop(struct component **set, size_t n);
/* child.c: walking a component's child capabilities. */
struct core_child *child_next(const struct core_child *k);
struct component *child_component(const struct core_child *k);

/* ---- the modules ---------------------------------------------------------- */
/* component.c: memory, task, factory, first thread, parent and LOG gates. */
int component_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int component_load(struct cr_load *l);
/* Its stack and UTCBs' content, once its threads exist. */
int component_load_memory(struct cr_load *l);
/* A child's parent gate, once its parent's capabilities are back. */
int component_load_parent_gate(struct cr_load *l);
/* Bytes of memory a running component holds (ELF, stack, UTCBs, RAM). */
size_t component_memory_bytes(struct component *c);
/* The mappings a restored process starts with (segments, stack, UTCBs). */
size_t component_fixed_mappings(struct component *c, struct process_mapping *maps, size_t max);
/* session.c */
int session_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int session_load(struct cr_load *l);
/* rom_session.c / timer_session.c: a session's own state. */
int rom_session_save(struct cr_save *s, void *data, AmberImg__Session *m);
int rom_session_load(struct cr_load *l, const AmberImg__RomSession *m, void **data);
int timer_session_save(struct cr_save *s, void *data, AmberImg__Session *m);
int timer_session_load(struct cr_load *l, const AmberImg__TimerSession *m, void **data);
/* cpu_session.c: threads (kernel objects at load; registers once the
 * process exists). */
int cpu_save(struct cr_save *s, struct component *c, AmberImg__Component *m, const struct process_frozen *frozen,
	     size_t nfrozen);
int cpu_load(struct cr_load *l);
int cpu_load_process(struct cr_load *l);
pid_t cpu_thread_tid(struct component *c, unsigned index);
/* pd_session.c and dataspace.c and signal.c */
int pd_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int pd_load(struct cr_load *l);
int core_ds_save_owned(struct cr_save *s, struct component *c);
int core_ds_load(struct cr_load *l, unsigned index, struct core_ds **out);
int signal_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int signal_load(struct cr_load *l);
/* rm_session.c: regions at load, their mappings once the process exists. */
int rm_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int rm_load(struct cr_load *l);
int rm_load_process(struct cr_load *l);
/* parent.c, child.c, log.c */
int parent_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int parent_load(struct cr_load *l);
int root_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int root_load(struct cr_load *l);
int child_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int child_load(struct cr_load *l);
int log_save(struct cr_save *s, struct component *c, AmberImg__Component *m);
int log_load(struct cr_load *l);

#endif
