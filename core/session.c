/*
 * Core's own services, PD, CPU and RM, as sessions.
 *
 * As in Genode, a component reaches core's services through its parent:
 * asking for a session named "PD", "CPU" or "RM" makes core create a new
 * session object for the component (a gate in core's task whose handler
 * is the service) and hand out a capability to it. Later, init will route
 * such requests; for now the parent answers them itself (parent.c). A
 * session acts on the component that asked for it, whoever invokes it.
 *
 * Everything a session makes (dataspaces, attachments, threads, RPC
 * capabilities) is recorded in the component, and its root capability
 * stays in core's task; when the component ends, core_sessions_close()
 * releases all of it.
 */
#include <stdlib.h>
#include <string.h>

#include "amber/cpu_session.h"
#include "amber/pd_session.h"
#include "amber/rm_session.h"
#include "core.h"

static const struct {
	const char *name;
	enum core_service kind;
	kernel_core_handler handler;
} core_services[] = {
	{ AMBER_PD_SERVICE, CORE_SERVICE_PD, pd_handle },
	{ AMBER_CPU_SERVICE, CORE_SERVICE_CPU, cpu_handle },
	{ AMBER_RM_SERVICE, CORE_SERVICE_RM, rm_handle },
};
#define NSERVICES (sizeof(core_services) / sizeof(core_services[0]))

bool core_service_name(const char *name)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (strcmp(core_services[i].name, name) == 0)
			return true;
	return false;
}

int core_session_open(struct component *c, const char *name, amber_sel_t *sel)
{
	size_t i = 0;
	while (i < NSERVICES && strcmp(core_services[i].name, name) != 0)
		i++;
	if (i == NSERVICES)
		return AMBER_ERR_INVALID_ARG;
	if (c->ending || c->nsessions >= CORE_MAX_SESSIONS)
		return AMBER_ERR_QUOTA;
	struct ktask *core = kernel_core_task();
	amber_sel_t s = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	if (s == AMBER_SEL_INVALID)
		return AMBER_ERR_QUOTA;
	struct core_session *session = calloc(1, sizeof(*session));
	if (!session)
		return AMBER_ERR_QUOTA;
	session->kind = core_services[i].kind;
	session->c = c;
	session->sel = s;
	int err = kernel_create_core_gate(core, s, c->id, core_services[i].handler, session, NULL);
	if (err) {
		free(session);
		return err;
	}
	session->next = c->sessions;
	c->sessions = session;
	c->nsessions++;
	*sel = s;
	return AMBER_OK;
}

void core_sessions_close(struct component *c)
{
	unsigned threads = 0, dataspaces = c->ndataspaces, regions = c->nregions, rpc = c->nrpc_caps;
	for (unsigned i = 1; i < CORE_MAX_THREADS; i++)
		threads += c->threads[i] != NULL;
	uint64_t ram = c->ram_used;

	rm_forget(c);      /* its attachments: the process is gone, nothing to unmap */
	pd_forget(c);      /* RPC capabilities; dataspaces, detached from other components */
	cpu_forget(c);     /* threads (their entry threads are stopped) */
	while (c->sessions) {
		struct core_session *s = c->sessions;
		c->sessions = s->next;
		kernel_cap_delete(kernel_core_task(), s->sel);
		free(s);
	}
	c->nsessions = 0;
	if (threads || dataspaces || regions || rpc)
		core_report("%s: released %u thread%s, %u dataspace%s (%llu KiB), %u attachment%s, %u RPC capabilit%s",
			    c->name, threads, threads == 1 ? "" : "s", dataspaces, dataspaces == 1 ? "" : "s",
			    (unsigned long long)(ram >> 10), regions, regions == 1 ? "" : "s", rpc,
			    rpc == 1 ? "y" : "ies");
}
