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

#include "elf_loader.h"
#include "kernel/kernel.h"
#include "platform/linux/dataspace.h"
#include "platform/linux/process.h"

#define COMPONENT_NAME_MAX 32
#define LOG_LINE_MAX 1024
#define DEFAULT_RAM_QUOTA (4ull << 20) /* the scenario's `ram` default */
#define CORE_MAX_SESSIONS 32           /* PD, CPU and RM sessions per component */
#define CORE_MAX_THREADS 256           /* UTCB slots; slot 0 is the first thread */

/* A session of one of core's own services: a gate in core's task whose
 * handler gets the session (session.c). */
enum core_service { CORE_SERVICE_PD, CORE_SERVICE_CPU, CORE_SERVICE_RM };
struct core_session {
	struct core_session *next;
	enum core_service kind;
	struct component *c; /* whose PD, threads, address space */
	amber_sel_t sel;     /* the gate's root capability in core's task */
};
struct core_thread;  /* cpu_session.c */
struct rm_region;    /* rm_session.c */
struct rpc_cap;      /* pd_session.c */

enum component_state { COMPONENT_NEW, COMPONENT_RUNNING, COMPONENT_ENDED };

struct component {
	struct component *next;
	unsigned id;
	char name[COMPONENT_NAME_MAX];
	char binary[512];
	unsigned kernel_quota; /* objects its factory may create */
	uint64_t ram_quota;    /* bytes of RAM dataspaces it may hold (PD) */
	enum component_state state;
	bool ending;           /* component_cleanup has begun: sessions refuse */

	/* Memory: every byte the process has. */
	struct elf_image image;
	struct dataspace stack;
	struct dataspace utcbs;

	/* Kernel objects; the root capabilities live in core's task. */
	struct ktask *task;
	struct kthread *thread;
	amber_sel_t task_sel, thread_sel, factory_sel, parent_sel, log_sel;
	struct process *process;

	/* Core's sessions (session.c) and what they made; every object's
	 * root capability is in core's task, and component_cleanup deletes
	 * them all. */
	struct core_session *sessions;
	unsigned nsessions;
	uint64_t ram_used;                             /* PD: bytes charged */
	unsigned ndataspaces;                          /* PD: RAM dataspaces it owns */
	struct rpc_cap *rpc_caps;                      /* PD: ALLOC_RPC_CAP gates */
	unsigned nrpc_caps;
	uint64_t next_badge;
	struct core_thread *threads[CORE_MAX_THREADS]; /* CPU: by UTCB slot; [0] unused */
	struct rm_region *regions;                     /* RM: attachments, by address */
	unsigned nregions;

	/* LOG: the line being assembled. */
	char line[LOG_LINE_MAX];
	size_t line_len;

	/* How it ended. */
	bool exit_requested;
	int exit_code;
};

/* ---- component.c ---- */
/* Load, create kernel objects, spawn and start. 0, or -1 with err. */
int component_start(struct component *c, char *err, size_t errlen);
/* After its process is gone: revoke and destroy everything it had. Called
 * without the kernel lock. */
void component_cleanup(struct component *c);

/* ---- log.c ---- */
enum kcore_result log_handle(void *ctx, struct kcore_request *req, int *error);
void log_flush(struct component *c);

/* ---- parent.c ---- */
enum kcore_result parent_handle(void *ctx, struct kcore_request *req, int *error);
void parent_forget(struct component *c);

/* ---- session.c: core's own services (PD, CPU, RM) ---- */
/* Is `name` a service core provides itself? */
bool core_service_name(const char *name);
/* A new session of that service for c: its gate's root capability in
 * core's task goes to *sel. AMBER_OK or an amber_error. */
int core_session_open(struct component *c, const char *name, amber_sel_t *sel);
/* Everything the sessions of an ending component made: entry threads must
 * be stopped already (cpu_threads_stopping). Kernel lock held. */
void core_sessions_close(struct component *c);

/* ---- pd_session.c ---- */
enum kcore_result pd_handle(void *ctx, struct kcore_request *req, int *error);
void pd_forget(struct component *c);

/* ---- dataspace.c: RAM dataspaces core handed out ---- */
struct core_ds;
/* A new dataspace owned by c, with its gate (root in core's task). */
int core_ds_alloc(struct component *c, size_t size, struct core_ds **out);
/* The dataspace behind a capability in core's task, or NULL. */
struct core_ds *core_ds_lookup(amber_sel_t core_sel);
amber_sel_t core_ds_sel(const struct core_ds *ds);
struct component *core_ds_owner(const struct core_ds *ds);
const struct dataspace *core_ds_memory(const struct core_ds *ds);
bool core_ds_writable(const struct core_ds *ds);
/* Detach everywhere, revoke, release the memory and the owner's charge. */
void core_ds_free(struct core_ds *ds);
/* Every dataspace c owns. */
void core_ds_free_all(struct component *c);
/* The list of a dataspace's attachments (rm_session.c keeps it). */
struct rm_region **core_ds_regions(struct core_ds *ds);

/* ---- rm_session.c ---- */
enum kcore_result rm_handle(void *ctx, struct kcore_request *req, int *error);
/* Remove an attachment from both lists; unmap it if the process lives. */
void rm_region_remove(struct rm_region *r, bool unmap);
/* Forget c's attachments (its process is gone). */
void rm_forget(struct component *c);

/* ---- cpu_session.c ---- */
enum kcore_result cpu_handle(void *ctx, struct kcore_request *req, int *error);
/* A thread of c left with exit(2). Event thread, kernel lock NOT held. */
void cpu_thread_exited(struct component *c, pid_t tid);
/* The threads c's CPU sessions made, whose entry threads must be stopped
 * before core_sessions_close; marks them gone. Kernel lock held. Returns
 * how many were written to out (at most CORE_MAX_THREADS). */
unsigned cpu_threads_stopping(struct component *c, struct kthread **out);
void cpu_forget(struct component *c);

/* ---- service.c: helpers for service handlers ---- */
/* A string sent as mr[first] = length, mr[first+1..] = bytes. */
int service_string(const struct kcore_request *req, unsigned first, char *out, size_t outlen);
/* Delete capabilities a request brought along that the handler does not keep. */
void service_drop_items(struct kcore_request *req);

/* Print "core: ..." as one line. */
void core_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
