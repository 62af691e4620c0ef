/*
 * Core: the services every component starts with, and the bookkeeping of
 * the components core hosts. Core runs inside amber-core next to the
 * kernel; its service handlers run with the kernel lock held, which also
 * protects everything declared here.
 */
#ifndef AMBER_CORE_CORE_H
#define AMBER_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "elf_loader.h"
#include "kernel/kernel.h"
#include "platform/linux/dataspace.h"
#include "platform/linux/process.h"

#define COMPONENT_NAME_MAX 32           /* a name in a scenario or init's <start> */
#define COMPONENT_LABEL_MAX 72          /* what core calls it: "init -> hello_server" */
#define LOG_LINE_MAX 1024
#define LOG_PENDING_MAX 16 /* unfinished LOG lines kept per component (one per writing thread) */
#define LOG_RATE_DEFAULT 1000u          /* LOG lines per second a component may print */
#define LOG_BURST_SECONDS 1u            /* ... and at once: this many seconds' worth */
#define LOG_LINE_UNIT 128u              /* a line counts once per this many bytes begun */
#define LOG_RATE_MAX 1000000u
#define LOG_HELD_MAX (256u << 10)       /* held output (--hold-output) past which writers wait */
#define DEFAULT_RAM_QUOTA (4ull << 20) /* the scenario's `ram` default */
#define CORE_MAX_SESSIONS 32           /* PD, CPU and RM sessions per component */
#define CORE_MAX_THREADS 256           /* UTCB slots; slot 0 is the first thread */
#define CORE_MAX_PENDING_SESSIONS 64   /* SESSION calls waiting for an announcement, per
					* component: one per thread init serves children with */
#define CORE_CAP_BUDGET (AMBER_CAP_SLOTS - 64u) /* core's space, less what core keeps for itself */
#define CORE_MAX_PROVIDES 16           /* services a scenario component may provide */
#define CORE_MAX_ROUTES 16             /* entries of a scenario component's <route> */
#define CORE_SERVICE_NAME_MAX 64       /* a service's name, NUL included */
#define CPU_WEIGHT_DEFAULT 100u        /* a component's CPU share (cpu_share.c) */
#define CPU_WEIGHT_MAX 10000u

/* A session of one of core's own services: a gate in core's task whose
 * handler gets the session (session.c). */
enum core_service { CORE_SERVICE_PD, CORE_SERVICE_CPU, CORE_SERVICE_RM, CORE_SERVICE_ROM, CORE_SERVICE_TIMER };
struct core_session {
	struct core_session *next;
	enum core_service kind;
	struct component *c; /* whose PD, threads, address space */
	amber_sel_t sel;     /* the gate's root capability in core's task */
	void *data;          /* the service's own state (ROM: struct rom_session) */
};
struct core_thread;  /* cpu_session.c */
struct rm_region;    /* rm_session.c */
struct rpc_cap;      /* pd_session.c */
struct core_child;   /* child.c */
struct log_wait;     /* log.c */
/* A thread's LOG line not finished yet: the thread's kernel object id (as
 * the kernel and checkpoints know it) and its text. */
struct log_pending {
	uint64_t thread_id;
	size_t len;
	char text[LOG_LINE_MAX];
};

enum component_state { COMPONENT_NEW, COMPONENT_RUNNING, COMPONENT_ENDED };

/* A thread held stopped on a fault (cpu_session.c): what CPU STATE and
 * RM FAULT_STATE report until the thread is resumed. */
enum core_fault_kind { CORE_FAULT_NONE, CORE_FAULT_CPU, CORE_FAULT_RM };
struct core_fault {
	enum core_fault_kind kind;
	int sig;
	uint64_t addr, ip;
	unsigned access; /* enum amber_rm_access */
	uint64_t seq;    /* the component's fault counter: oldest first */
};

/* One entry of a scenario component's <route>: which service (""
 * for <any-service>) goes where: a sibling that provides it (<child
 * name=.../>), or core (<parent/>: child[0] == '\0'). */
struct core_route {
	char service[CORE_SERVICE_NAME_MAX];
	char child[COMPONENT_NAME_MAX];
	int line; /* in the scenario file, for the checks after parsing */
};

struct component {
	struct component *next;
	unsigned id;
	char name[COMPONENT_LABEL_MAX];
	char binary[512];
	unsigned kernel_quota; /* objects its factory may create */
	uint64_t ram_quota;    /* bytes of RAM dataspaces it may hold (PD) */
	enum component_state state;
	bool ending;           /* component_cleanup has begun: sessions refuse */
	bool exiting;          /* its exit event is being handled (cleanup, parent
				* notice): a restore waits until that is over */
	unsigned entry_stops;  /* thread exits and CPU session closes still stopping
				* entry threads (without the kernel lock) */

	/* Memory: every byte the process has. */
	struct elf_image image;
	struct dataspace stack;
	struct dataspace utcbs;

	/* Kernel objects; the root capabilities live in core's task. */
	struct ktask *task;
	struct kthread *thread;
	amber_sel_t task_sel, thread_sel, factory_sel, parent_sel, log_sel;
	struct process *process;

	/* Parent (parent.c): its SESSION calls waiting for an announcement, and
	 * the services the scenario lets it announce (<provides>). */
	unsigned npending_sessions;
	char provides[CORE_MAX_PROVIDES][CORE_SERVICE_NAME_MAX];
	unsigned nprovides;
	bool announce_refused; /* core said so once */
	/* Its <route> (scenario.c), if it has one: the services it may ask for,
	 * first match. Without one it may ask for any. */
	struct core_route routes[CORE_MAX_ROUTES];
	unsigned nroutes;
	bool has_routes;
	bool route_refused;    /* core said so once */
	bool caps_exhausted;   /* core_quota_take refused: said once */

	/* CPU share (cpu_share.c): its weight, 0: CPU_WEIGHT_DEFAULT. */
	unsigned cpu_weight;
	int cpu_group;         /* joined a cgroup of its own: 1; nice only: 0 */

	/* Core's sessions (session.c) and what they made; every object's
	 * root capability is in core's task, and component_cleanup deletes
	 * them all. */
	struct core_session *sessions;
	unsigned nsessions;
	uint64_t ram_used;                             /* PD: bytes charged */
	unsigned ndataspaces;                          /* PD: RAM dataspaces it owns */
	struct rpc_cap *rpc_caps;                      /* PD: ALLOC_RPC_CAP gates */
	unsigned nrpc_caps;
	struct core_thread *threads[CORE_MAX_THREADS]; /* CPU: by UTCB slot; [0] unused */
	struct rm_region *regions;                     /* RM: attachments, by address */
	unsigned nregions;
	uint64_t cpu_sigh, rm_sigh;                    /* CPU / RM SIGH: signal context ids, or 0 */
	struct core_fault first_fault;                 /* the first thread's held fault */
	unsigned first_placed;                         /* the first thread's AFFINITY location + 1; 0: none */
	uint64_t fault_seq;

	/* ROM: the scenario's <config> (the "config" module), if it has one. */
	char *config;          /* serialized children of <config>, NUL-terminated (malloc) */
	size_t config_len;
	bool has_config;
	unsigned config_version; /* bumped by rom_update */

	/* LOG: each writing thread's unfinished line (log.c), oldest first. */
	struct log_pending line[LOG_PENDING_MAX];
	unsigned nlines;
	uint64_t log_lines;    /* lines printed so far */
	/* LOG rate limit (log.c): lines per second, 0: LOG_RATE_DEFAULT. */
	unsigned log_rate;
	uint64_t log_tat_us;        /* when its budget is back to full (GCRA) */
	uint64_t log_dropped;       /* SENT lines over its rate, not yet reported */
	struct log_wait *log_waits; /* calls held back until its rate allows them */
	uint64_t log_dropped_full;  /* lines core's output had no room for, not yet reported */
	uint64_t log_dropped_held;  /* SENT lines its full held output had no room for */
	/* Output commit (checkpoint --hold-output, log.c): whole lines wait in
	 * `held` until a checkpoint that covers them has committed, so that a
	 * rollback neither repeats nor loses a line. Positions count every byte
	 * ever held: held_base is where held[0] stands. */
	bool hold_output;
	char *held;
	size_t held_len, held_cap;
	uint64_t held_base;
	uint64_t log_note_us;       /* when it was last reported */

	/* Address-space work (as_queue.c): mappings core changes in its
	 * process without the kernel lock, in the order decided. */
	struct as_op *as_head, *as_tail;
	unsigned as_ops;       /* queued or being carried out: its end waits for them */
	unsigned as_jobs;      /* its calls answered once such work (anywhere) is done */
	bool as_worker;        /* a worker thread drains the queue */

	/* Checkpoint/restore (checkpoint.c, restore.c). */
	bool cr_busy;          /* a checkpoint copies its memory: cleanup waits */
	unsigned cr_pins;      /* checkpoints whose set still names it: not freed */
	bool restoring;        /* restore tears it down: no exit event, no parent notice */
	bool stopped;          /* checkpoint --kill: no process, its place kept for a restore */
	bool crashed;          /* ended by a fault, a forbidden call or a kill */
	bool rolled_back;      /* a restore ended it as made after its image's cut: it
				* never was in the restored timeline, and core frees it
				* once nothing refers to it (components.c) */
	char image_dir[256];   /* its last image (ps), "" if none */
	bool rollback;         /* checkpoint --rollback: a crash restores image_dir instead */
	/* image_dir was signed with (checkpoint) or verified against (restore)
	 * this key (struct image_key's bytes): a rollback verifies it too. */
	bool image_signed;
	unsigned char image_key[32];

	/* How it ended. */
	bool exit_requested;
	int exit_code;

	/* Children (child.c): a parent's list, and a child's side. */
	struct core_child *children;  /* the children this component created */
	unsigned nchildren;
	struct component *parent;     /* the component that created it; NULL: the scenario's */
	amber_sel_t parent_gate;      /* a child's parent gate (core's task) until it starts */
	uint64_t parent_gate_id;      /* its object: the parent may revoke the gate, and core
				       * reuses the emptied slot (component_parent_gate_held) */
	uint64_t exit_sigh;           /* signal context id submitted to when it ends */
	int end_state;                /* enum amber_child_state */
	int end_code;
	char end_reason[160];
};

/* ---- component.c ---- */
/* Load, create kernel objects, spawn and start. 0, or -1 with err. */
int component_start(struct component *c, char *err, size_t errlen);
/* The same with the kernel lock held (a child started by its parent). */
int component_start_locked(struct component *c, char *err, size_t errlen);
/* After its process is gone: revoke and destroy everything it had. Called
 * without the kernel lock. */
void component_cleanup(struct component *c);
/* Does core's slot `sel` (a child's parent_gate or parent_sel) still hold
 * the parent's gate? A parent that deleted or unmapped the gate it gave
 * emptied it, and core may have put another object there since. */
bool component_parent_gate_held(const struct component *c, amber_sel_t sel);
/* checkpoint --kill: end its process and give its memory's pages back,
 * but keep its kernel objects, sessions and capabilities, its task
 * frozen, so that calls to it queue until a restore replaces it (which
 * ends it then with component_cleanup). Without the kernel lock. */
void component_stop(struct component *c);

/* ---- components.c: the components amber-core runs ---- */
void core_components_init(void);
/* A new id (main.c numbers the scenario's before any starts; then with the
 * kernel lock held). */
unsigned core_component_next_id(void);
/* A component created at run time (a child): an id, and a place in the
 * list amber-core stops and frees at its end. Kernel lock held. */
void core_component_register(struct component *c);
/* Checkpoint/restore: the scenario's list (main.c sets it), every
 * component, id allocation around restored ids, and a restored component
 * taken into the created list with its own id. Kernel lock held. */
void core_components_each(void (*visit)(struct component *c, void *ctx), void *ctx);
unsigned core_component_id_peek(void);
void core_component_ids_above(unsigned id);
void core_component_adopt(struct component *c);
/* The running component with that id (not ending), or NULL. */
struct component *core_component_by_id(unsigned id);
struct component *core_components_created(void);
/* The scenario's components (main.c's list; parent NULL), for those who
 * walk all components (`amber ps`). Set once before any starts. */
void core_components_set_scenario(struct component *list);
struct component *core_components_scenario(void);
/* Every component core keeps, ended ones included (`amber stats`). */
unsigned core_components_count(void);
/* Is a component with that id known, in any state? */
bool core_component_id_known(unsigned id);
/* A restore ended c as made after its image's cut: `amber ps` no longer
 * shows it, restores by name no longer find it, and it is freed once
 * nothing refers to it. Then everything below a rolled-back one is too.
 * Kernel lock held. */
void core_component_roll_back(struct component *c);
void core_components_roll_back_below(void);
/* A restore takes c by its id after all: it is kept. Kernel lock held. */
void core_component_keep(struct component *c);
/* Free the rolled-back components nothing refers to any more. On the
 * process layer's event thread only (core_components_reap_later), so that
 * no event handler still holds one; without the kernel lock. */
void core_components_reap(void);
/* Have core_components_reap run on the event thread, after every event
 * queued so far. Any thread, kernel lock held or not. */
void core_components_reap_later(void);
/* What core keeps for a component that ended or never started. */
void core_component_free(struct component *c);
/* It is about to start / it has ended: amber-core runs while any lives. */
void core_component_live(void);
void core_component_ended(void);
/* Wait until none is live or `deadline` (CLOCK_MONOTONIC) passes; when
 * none is, the run is ending from then on (core_components_stop). */
bool core_components_wait(const struct timespec *deadline);
/* A restore keeps the run going while it works (hold counts as a live
 * component until core_component_ended), or is refused (false) once the
 * run is ending: the components had all ended, or core was told to stop.
 * Otherwise a restore finished during the shutdown would bring components
 * back into a core taking its lazy loaders and processes down. */
bool core_components_hold(void);
void core_components_stop(void);
/* A component or child could not be started (no binary, not loadable):
 * amber-core ends with status 1. A component (children included) exited
 * with a non-zero code or crashed: status 4 under --strict. */
void core_note_start_failure(void);
void core_note_component_failure(void);
bool core_start_failures(void);
bool core_component_failures(void);

/* ---- child.c: children a component creates (amber/child.h) ---- */
int child_create(struct component *parent, struct kcore_request *req); /* PD CREATE_CHILD */
/* The child `item` (a capability in core's task) is a child capability of
 * `parent` for: that child, else NULL (PD TRANSFER_QUOTA). */
struct component *child_by_cap(struct component *parent, amber_sel_t item);
/* After c's cleanup: record how it ended, give its quotas back to its
 * parent, notify the parent. Kernel lock held. */
void child_ended(struct component *c, const struct process_exit_info *info);
/* The parent p ends: its children are killed, its child capabilities go. */
void child_forget(struct component *p);
/* Does c's parent still keep its record of c (EXIT_STATUS and the rest)? */
bool child_recorded(const struct component *c);

/* ---- core_quota.c: what core keeps for a component, paid from its caps ---- */
#define CORE_CHILD_COST 6 /* the child capability and the child's five roots in core */
/* The slots of core's space (and records) core holds for c now. */
unsigned core_quota_held(struct component *c);
/* Can c pay n more? AMBER_OK or QUOTA (quota - factory's used - held). */
int core_quota_take(struct component *c, unsigned n);
/* Move RAM (rounded up to pages) and caps from src's quota to dst's (PD
 * TRANSFER_QUOTA, session donations, root.c); dst NULL or ending: they
 * only leave src. QUOTA if src has not that much unused. */
int core_quota_transfer(struct component *src, struct component *dst, uint64_t ram, uint64_t caps);
/* Make c's factory count what core holds for it (after the factory exists). */
void core_quota_attach(struct component *c);
/* Each module's part of the count. */
unsigned signal_held(const struct component *c);    /* 2 per source, 1 per context */
unsigned rm_managed_held(const struct component *c); /* 2 per managed map */
unsigned parent_held(const struct component *c);     /* announced names, waiting SESSIONs */

/* ---- cpu_share.c: a CPU share per component ---- */
/* Find a cgroup CPU controller amber-core may use; report what it uses. */
void cpu_share_init(void);
/* Its new process (stopped, one thread) gets c's weight: a cgroup of its
 * own (made and joined soon after by cpu_share.c's worker: until then it
 * runs in amber-core's group), or else a nice value its threads inherit.
 * Without the kernel lock or with it (no waiting). */
void cpu_share_join(struct component *c, pid_t pid);
/* Its process is gone: remove its cgroup. */
void cpu_share_leave(struct component *c);
/* The end of amber-core: remove what is left. */
void cpu_share_stop(void);
/* Which mechanism: "cgroup v2", "cgroup v1", "nice". */
const char *cpu_share_mechanism(void);

/* ---- log.c ---- */
enum kcore_result log_handle(void *ctx, struct kcore_request *req, int *error);
/* Print its unfinished line, and report lines it had dropped (its end). */
void log_flush(struct component *c);
/* Forget the unfinished lines without printing them (they are in an image). */
void log_discard(struct component *c);
/* A thread ended: its unfinished line is printed as it stands. */
void log_thread_ended(struct component *c, uint64_t thread_id);
/* Output commit: where a checkpoint's cut stands in c's held lines; print
 * those before `mark` (the checkpoint committed); stop holding (print all). */
uint64_t log_held_mark(const struct component *c);
void log_release(struct component *c, uint64_t mark);
void log_hold_stop(struct component *c);

/* ---- output.c: core's stdout, written by a thread of its own ---- */
/* Queue `n` bytes (whole lines) for stdout; any lock may be held. false if
 * there is no room (a component's line: the caller counts it dropped). */
bool core_output(const char *text, size_t n, bool from_core);
/* Wait until everything queued is written. */
void core_output_flush(void);
/* At the end of amber-core: write what is queued, stop the thread. */
void core_output_stop(void);

/* ---- parent.c ---- */
enum kcore_result parent_handle(void *ctx, struct kcore_request *req, int *error);
void parent_forget(struct component *c);
/* Is the gate (in core's task) bound to a thread of c: one c serves? */
bool parent_gate_served_by(const struct component *c, amber_sel_t core_sel);
/* root.c answers the waiting SESSION call of that thread: parent.c
 * forgets its record of the wait. */
void parent_pending_release(uint64_t thread_id);

/* ---- root.c: the root interface of component-provided services ---- */
bool root_service_exists(const char *name);
/* ANNOUNCE_ROOT, checked by parent.c: `name` served by `server`, whose
 * signal context `context_id` hears of waiting requests. */
int root_service_add(struct component *server, const char *name, uint64_t context_id);
/* A client's SESSION of a root service (args: the session argument or
 * NULL): a CREATE request; the reply waits for the server's answer. */
enum kcore_result root_session_open(struct component *client, const char *name, const char *args,
				    struct kcore_request *req, int *error);
/* CLOSE: is `item` (core's task) an open root session of c? Then it closes. */
bool root_close(struct component *c, amber_sel_t item);
int root_upgrade(struct component *c, struct kcore_request *req);   /* SESSION_UPGRADE */
int root_fetch(struct component *c, struct kcore_request *req);     /* SESSION_REQUEST */
int root_respond(struct component *c, struct kcore_request *req);   /* SESSION_RESPONSE */
unsigned root_held(const struct component *c); /* its root services and its sessions as a client */
/* The same as root_session_open for a SESSION call that waited for the
 * announcement (parent.c keeps that wait's record): the new session's id. */
int root_session_create(struct component *client, const char *name, const char *args, uint64_t waiter_id,
			uint64_t *id);
/* That waiting call stopped waiting (no kernel calls). */
void root_waiter_gone(uint64_t id);
/* c ends (or is torn down for a restore, c->restoring): its sessions as a
 * client close, its services and their sessions go. */
void root_forget(struct component *c);
/* A restore has loaded everything: requests that came meanwhile are
 * signalled now (the servers' signal state is in place). */
void root_restored(void);

/* ---- session.c: core's own services (PD, CPU, RM) ---- */
/* Is `name` a service core provides itself? */
bool core_service_name(const char *name);
/* A new session of that service for c: its gate's root capability in
 * core's task goes to *sel. AMBER_OK or an amber_error. */
int core_session_open(struct component *c, const char *name, amber_sel_t *sel);
/* The same with the session argument (NULL: none): ROM needs one, the
 * module's name; the other services take none. */
int core_session_open_arg(struct component *c, const char *name, const char *arg, amber_sel_t *sel);
/* Everything the sessions of an ending component made: entry threads must
 * be stopped already (cpu_threads_stopping). Kernel lock held. */
void core_sessions_close(struct component *c);
/* Parent (or child capability) CLOSE: req->items[0] names a session of c
 * (by the identity of its gate). Releases what it made and deletes its
 * gate; a CPU session with threads defers the reply until their entry
 * threads are stopped (a helper thread). INVALID_ARG if it is none of c's
 * sessions. Kernel lock held; drops the request's items. */
enum kcore_result core_session_close_request(struct component *c, struct kcore_request *req, int *error);

/* ---- as_queue.c: address-space work without the kernel lock ---- */
struct as_op;
/* Queue mapping m (or unmapping a range) in c's process, after what is
 * queued there already. 0, or -ESRCH if c has no process or is ending
 * (nothing to do), -errno. Kernel lock held. */
int as_map(struct component *c, const struct process_mapping *m);
int as_unmap(struct component *c, uint64_t addr, uint64_t size);
/* Run a core handler so that the work it queues is answered for when it is
 * done: the reply is deferred until then (a call) or the work goes on alone
 * (a SEND, or a handler that defers by itself). Kernel lock held. */
enum kcore_result as_serve(kernel_core_handler h, void *ctx, struct kcore_request *req, int *error);
/* If a mapping the request being served queued fails: fn takes back what
 * the handler recorded and returns the error to answer with. */
struct as_undo {
	int (*fn)(const struct as_undo *u, int failed);
	struct component *c;
	uint64_t addr, serial;
};
void as_undo_on_failure(const struct as_undo *u);
/* No work queued for c's process and none of its calls waiting for work. */
bool as_idle(const struct component *c);
/* amber-core's end: wait until no worker thread is left. Without the lock. */
void as_queue_stop(void);

/* ---- pd_session.c ---- */
enum kcore_result pd_handle(void *ctx, struct kcore_request *req, int *error);
void pd_forget(struct component *c);
/* A PD session closes: its dataspaces, RPC capabilities, signal objects. */
void pd_close(struct core_session *s);

/* ---- dataspace.c: RAM dataspaces core handed out ---- */
struct core_ds;
/* A new dataspace owned by c, with its gate (root in core's task). */
int core_ds_alloc(struct component *c, size_t size, struct core_ds **out);
/* The PD session that allocated it (for closing that session). */
void core_ds_set_session(struct core_ds *ds, const struct core_session *s);
/* Free every dataspace that session allocated; how many. */
unsigned core_ds_free_session(const struct core_session *s);
/* The dataspace behind a capability in core's task, or NULL. */
struct core_ds *core_ds_lookup(amber_sel_t core_sel);
amber_sel_t core_ds_sel(const struct core_ds *ds);
struct component *core_ds_owner(const struct core_ds *ds);
const struct dataspace *core_ds_memory(const struct core_ds *ds);
bool core_ds_writable(const struct core_ds *ds);
/* Core is about to write its memory itself (dataspace.h `writes`). */
void core_ds_note_write(struct core_ds *ds);
/* Detach everywhere, revoke, release the memory and the owner's charge. */
void core_ds_free(struct core_ds *ds);
/* A read-only dataspace charged to core (no owner): ROM modules. */
int core_ds_alloc_rom(size_t size, const char *name, struct core_ds **out);
/* Every dataspace c owns. */
void core_ds_free_all(struct component *c);
/* Give the pages of every dataspace c owns back (component_stop). */
void core_ds_release_pages(struct component *c);
/* The list of a dataspace's attachments (rm_session.c keeps it). */
struct rm_region **core_ds_regions(struct core_ds *ds);
/* A managed dataspace (RM CREATE_MANAGED): no owner, not charged; its
 * contents are the region map m. core_ds_managed: m, or NULL for others. */
struct rm_managed;
int core_ds_alloc_managed(size_t size, struct rm_managed *m, struct core_ds **out);
struct rm_managed *core_ds_managed(const struct core_ds *ds);
/* The live dataspace whose gate has that object id, or NULL. */
struct core_ds *core_ds_by_gate(uint64_t gate_id);
const struct core_session *core_ds_session(const struct core_ds *ds);
void core_ds_set_managed(struct core_ds *ds, struct rm_managed *m);

/* ---- rm_session.c ---- */
enum kcore_result rm_handle(void *ctx, struct kcore_request *req, int *error);
/* Is a SIGSEGV (si_code `code`, at addr, rip ip) a region-map fault RM
 * SIGH handles? An attachable address with nothing attached (READ, or
 * EXEC for a fetch), or a denied write (WRITE) or fetch (EXEC) inside an
 * attachment of a managed dataspace. Its access (enum amber_rm_access)
 * to *access. */
bool rm_fault_access(struct component *c, int code, uint64_t addr, uint64_t ip, unsigned *access);
/* Whose signal context a region-map fault at addr goes to: the managed
 * map's SIGH for an address in an attachment of a map that has one, else
 * c's RM SIGH (0: none). */
uint64_t rm_fault_sigh(struct component *c, uint64_t addr);
/* Does what is mapped at f's address now allow its access? */
bool rm_fault_resolved(struct component *c, const struct core_fault *f);
/* Remove an attachment from both lists; unmap it if the process lives. */
void rm_region_remove(struct rm_region *r, bool unmap);
/* Forget c's attachments (its process is gone). */
void rm_forget(struct component *c);
/* An RM session closes: its attachments go (unmapped). */
void rm_close(struct core_session *s);

/* ---- rom_session.c ---- */
/* Where binary modules come from (main.c; NULL: none). */
/* The components path: folders searched in order for binaries and ROM
 * modules (`--components DIR[:DIR...]`). */
void rom_init(const char *components_path);
const char *rom_dir(void); /* that path as given ("" if none) */
/* The first file `name` in path's folders: 0 and its path in out, or -1
 * (out then names it in the first folder, for messages). */
int components_path_find(const char *path, const char *name, char *out, size_t outlen);
/* A new ROM session's state for module `name` of c: AMBER_OK or an
 * amber_error (core reports why it refused). */
int rom_session_create(struct component *c, const char *name, void **data);
void rom_session_destroy(void *data);
enum kcore_result rom_handle(void *ctx, struct kcore_request *req, int *error);
/* A new version of c's module `name` (only "config" can change): later
 * DATASPACE requests hand out a copy of it, and every ROM session of c for
 * that module that has a signal handler is notified. Kernel lock held.
 * AMBER_OK, or AMBER_ERR_INVALID_ARG for another name or one too big. */
int rom_update(struct component *c, const char *name, const void *bytes, size_t len);

/* ---- signal.c: signal sources and contexts (PD methods) ---- */
int signal_alloc_source(struct core_session *s, struct kcore_request *req);
int signal_free_source(struct component *c, struct kcore_request *req);
int signal_alloc_context(struct core_session *s, struct kcore_request *req);
int signal_free_context(struct component *c, struct kcore_request *req);
int signal_submit_request(struct kcore_request *req);
/* The id of the signal context behind a capability in core's task, or 0.
 * Ids are never reused: keep a context by id, not by pointer or slot. */
uint64_t signal_context_id(amber_sel_t core_sel);
/* Core's own submit (Timer, ROM): count (1 .. UINT32_MAX) to the context
 * with that id. AMBER_OK, INVALID_ARG (no such context, bad count) or
 * NO_PARTNER (its source is gone). Kernel lock held. */
int signal_submit(uint64_t context_id, uint64_t count);
/* Free c's sources and contexts (from pd_forget). */
void signal_forget(struct component *c);
/* Free the sources and contexts a PD session made (it closes). */
void signal_close_session(const struct core_session *s);

/* ---- timeout.c: core's one timeout thread ---- */
/* Embed one, set `fire`, schedule it: fire runs on core's timeout thread
 * with the kernel lock held, once the deadline has passed. */
struct core_timeout {
	uint64_t deadline_us;  /* core_time_us() */
	unsigned index;        /* place in the heap; 0: not scheduled */
	void (*fire)(struct core_timeout *t, uint64_t now_us);
};
uint64_t core_time_us(void); /* CLOCK_MONOTONIC */
/* (Re)schedule t; kernel lock held. AMBER_OK or QUOTA. */
int core_timeout_schedule(struct core_timeout *t, uint64_t deadline_us);
void core_timeout_cancel(struct core_timeout *t);
bool core_timeout_scheduled(const struct core_timeout *t);
/* At the end of amber-core, without the kernel lock: stop the thread. */
void core_timeouts_stop(void);

/* ---- timer_session.c ---- */
int timer_session_create(void **data);
void timer_session_destroy(void *data);
enum kcore_result timer_handle(void *ctx, struct kcore_request *req, int *error);

/* ---- cpu_session.c ---- */
enum kcore_result cpu_handle(void *ctx, struct kcore_request *req, int *error);
/* A thread of c left with exit(2). Event thread, kernel lock NOT held. */
void cpu_thread_exited(struct component *c, pid_t tid);
/* A thread of c faulted and is held stopped: hold it and submit the RM or
 * CPU signal context, or have it killed. Event thread, kernel lock NOT held. */
enum process_fault_action cpu_thread_fault(struct component *c, pid_t tid, const struct process_fault_info *fi);
/* The oldest held RM fault of c that `take` accepts: its thread's index
 * (0: first thread) to *index. */
typedef bool (*rm_fault_filter)(struct component *c, const struct core_fault *f, const void *ctx);
const struct core_fault *cpu_oldest_rm_fault(struct component *c, rm_fault_filter take, const void *ctx,
					     unsigned *index);
/* Resume c's threads held on RM faults that are resolved now. Kernel
 * lock held; call only when c's mappings are carried out (as_queue). Not
 * while a checkpoint has c frozen (cr_busy): its thaw calls it. */
void cpu_resume_resolved(struct component *c);
/* SIGH's argument: the context's id to *out (0: none). AMBER_OK or INVALID_ARG. */
int cpu_sigh_request(struct kcore_request *req, uint64_t *out);
/* The threads c's CPU sessions made, whose entry threads must be stopped
 * before core_sessions_close; marks them gone. Kernel lock held. Returns
 * how many were written to out (at most CORE_MAX_THREADS). */
unsigned cpu_threads_stopping(struct component *c, struct kthread **out);
/* The same without marking them ending (component_stop). */
unsigned cpu_threads_live(struct component *c, struct kthread **out);
void cpu_forget(struct component *c);
/* A CPU session closes: its threads are marked gone and stopped (ptrace),
 * their entry threads written to out, their records to recs (both at most
 * CORE_MAX_THREADS). They stay in c->threads, skipped by
 * cpu_threads_stopping, until cpu_close_finish (kernel lock held, after
 * the entry threads were stopped without it) deletes them. */
unsigned cpu_close(struct core_session *s, struct kthread **out, struct core_thread **recs);
void cpu_close_finish(struct component *c, struct core_thread **recs, unsigned n);
/* No helper could be started: leave them to the component's end. */
void cpu_close_undo(struct core_thread **recs, unsigned n);
/* Threads c's CPU sessions made that are not closed. */
unsigned cpu_thread_count(struct component *c);

/* ---- service.c: helpers for service handlers ---- */
/* A string sent as mr[first] = length, mr[first+1..] = bytes. */
int service_string(const struct kcore_request *req, unsigned first, char *out, size_t outlen);
/* Delete capabilities a request brought along that the handler does not keep. */
void service_drop_items(struct kcore_request *req);

/* A badge no RPC object of any component has had: badges are global, as
 * in Genode, so a badge alone names one object everywhere. */
uint64_t core_new_badge(void);
void core_badges_above(uint64_t badge); /* restore: new badges continue above */
uint64_t core_badge_last(void);

/* Print "core: ..." as one line. */
void core_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
