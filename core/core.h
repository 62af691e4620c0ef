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

enum component_state { COMPONENT_NEW, COMPONENT_RUNNING, COMPONENT_ENDED };

struct component {
	struct component *next;
	unsigned id;
	char name[COMPONENT_NAME_MAX];
	char binary[512];
	unsigned kernel_quota; /* objects its factory may create */
	enum component_state state;

	/* Memory: every byte the process has. */
	struct elf_image image;
	struct dataspace stack;
	struct dataspace utcbs;

	/* Kernel objects; the root capabilities live in core's task. */
	struct ktask *task;
	struct kthread *thread;
	amber_sel_t task_sel, thread_sel, factory_sel, parent_sel, log_sel;
	struct process *process;

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

/* ---- service.c: helpers for service handlers ---- */
/* A string sent as mr[first] = length, mr[first+1..] = bytes. */
int service_string(const struct kcore_request *req, unsigned first, char *out, size_t outlen);
/* Delete capabilities a request brought along that the handler does not keep. */
void service_drop_items(struct kcore_request *req);

/* Print "core: ..." as one line. */
void core_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
