/*
 * init: the first component, parent of the children its configuration
 * names, in the style of Genode's init (docs/architecture.md, "init").
 *
 * Core checked the configuration and hands it over as the compact tree of
 * amber/config_tree.h (init's "config" ROM). For each <start>, init makes
 *   - a thread that serves the parent protocol for that child alone, on a
 *     gate bound to it (the child's slot 4) and an IRQ that wakes it when
 *     a session request it deferred may be answerable now;
 *   - a signal context core submits to when the child ends;
 * and asks core for the child (PD CREATE_CHILD, amber/child.h), with caps
 * and RAM taken from init's own quotas, and starts it.
 *
 * A child's SESSION request is routed by its <route>, then <default-route>
 * (first match of <service name> or <any-service>):
 *   <parent/>        core's services ("PD", "CPU", "RM", "ROM", "Timer"):
 *                    init asks core for a session for the child (child
 *                    capability SESSION) and passes it on; other names
 *                    init asks its own parent for;
 *   <child name=X/>  the gate X announced; until X announces it the reply
 *                    waits (the serving thread blocks on its IRQ), and it
 *                    is refused if X ends first;
 *   no match         refused: the child gets AMBER_ERR_RIGHTS and init
 *                    logs why.
 * Init keeps its copy of every capability it passed on: the child's copy
 * is derived from it. A child's CLOSE of a session of core's is forwarded
 * through the child capability (CLOSE), and core closes it, revoking
 * init's copy too, whose slot init then frees; CLOSE of a gate announced
 * by a child or got from init's parent drops nothing and succeeds
 * (announced services are not session objects yet); anything else is
 * INVALID_ARG (core says so). A child's UPGRADE (more RAM and caps) is
 * answered from init's own spare quota: init transfers it to the child (PD
 * TRANSFER_QUOTA) and answers QUOTA when it has not that much free; there
 * is no per-child limit. Each child may announce at most as many services
 * as its caps quota, and at most MAX_CHILD_SERVICES: the table has room for
 * every child's, so one child cannot fill it for the others. A child's
 * EXIT ends it with its code. Init logs how each child ended ("child X
 * exited with code N", "child X crashed: ..."), keeps the others running, and exits with 0 once all have ended.
 */
#include <amber/cap_alloc.h>
#include <amber/child.h>
#include <amber/config_tree.h>
#include <amber/env.h>
#include <amber/error.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/lock.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/pd.h>
#include <amber/protocols.h>
#include <amber/rom.h>
#include <amber/signal.h>
#include <amber/string.h>
#include <amber/thread.h>

#define MAX_CHILDREN 64
#define MAX_GIVEN 32 /* sessions from the parent side recorded per child */
#define MAX_CHILD_SERVICES 16 /* names one child may announce (and not above its caps) */
#define MAX_SERVICES (MAX_CHILDREN * MAX_CHILD_SERVICES)
#define NAME_MAX 64
#define GATE_LABEL 0x696e6974000000ull /* "init" + child index */
#define DONE_LABEL 0x646f6e65u

struct child {
	char name[32];
	uint32_t start;           /* its <start> node */
	amber_sel_t cap, gate, irq;
	struct amber_thread thread;
	struct amber_signal_context exit_ctx;
	volatile int alive;       /* created and not yet reported ended */
	volatile int ended;       /* ended, or could not be created or started */
	unsigned nservices;       /* names it announced: at most its limit */
	unsigned max_services;    /* min(MAX_CHILD_SERVICES, its caps) */
	amber_sel_t given[MAX_GIVEN]; /* sessions passed on from the parent side */
	int given_core[MAX_GIVEN];    /* ... of core's services (closable) */
	unsigned ngiven;
};

struct service {
	int used;
	struct child *server;
	char name[NAME_MAX];
	amber_sel_t gate;
};

static struct amber_config cfg;
static struct amber_rom config_rom;
static struct amber_signal_receiver receiver;
static struct child children[MAX_CHILDREN];
static unsigned nchildren;
static struct service services[MAX_SERVICES];
static struct amber_lock lock = AMBER_LOCK_INIT; /* services, alive, live */
static unsigned live;
static amber_sel_t done_irq;

/* Wake every serving thread that may wait for an announcement. */
static void wake_waiters(void)
{
	for (unsigned i = 0; i < nchildren; i++)
		if (children[i].irq != AMBER_SEL_INVALID)
			amber_irq_trigger(children[i].irq);
}

static void child_exited(void *arg, uint32_t count)
{
	(void)count;
	struct child *ch = arg;
	enum amber_child_state state;
	int code = 0;
	char reason[160];
	if (!ch->alive || amber_child_exit_status(ch->cap, &state, &code, reason, sizeof reason) != AMBER_OK)
		return;
	if (state != AMBER_CHILD_EXITED && state != AMBER_CHILD_KILLED)
		return;
	if (state == AMBER_CHILD_EXITED)
		amber_log("child %s exited with code %d", ch->name, code);
	else
		amber_log("child %s crashed: %s", ch->name, reason);
	amber_lock_acquire(&lock);
	ch->alive = 0;
	ch->ended = 1;
	for (unsigned i = 0; i < MAX_SERVICES; i++)
		if (services[i].used && services[i].server == ch)
			services[i].used = 0; /* its gate is revoked anyway */
	ch->nservices = 0;
	unsigned left = --live;
	amber_lock_release(&lock);
	wake_waiters();
	if (left == 0)
		amber_irq_trigger(done_irq);
}

enum target { DENY, TO_PARENT, TO_CHILD };

/* The first entry of a route that matches: 1 and *t, or 0. */
static int route_in(uint32_t route, const char *service, enum target *t, const char **child)
{
	if (route == AMBER_CONFIG_NONE)
		return 0;
	for (uint32_t e = amber_config_child(&cfg, route, 0); e != AMBER_CONFIG_NONE; e = amber_config_next(&cfg, e, 0)) {
		const char *kind = amber_config_name(&cfg, e);
		const char *name = amber_config_attr(&cfg, e, "name");
		if (strcmp(kind, "any-service") != 0 && !(strcmp(kind, "service") == 0 && name && strcmp(name, service) == 0))
			continue;
		uint32_t target = amber_config_child(&cfg, e, 0);
		*t = DENY;
		if (target != AMBER_CONFIG_NONE && strcmp(amber_config_name(&cfg, target), "child") == 0) {
			*child = amber_config_attr(&cfg, target, "name");
			*t = *child ? TO_CHILD : DENY;
		} else if (target != AMBER_CONFIG_NONE) {
			*t = TO_PARENT;
		}
		return 1;
	}
	return 0;
}

/* The <route> of the child's <start>, then <default-route>: first match. */
static enum target route(struct child *ch, const char *service, const char **child)
{
	enum target t = DENY;
	if (route_in(amber_config_child(&cfg, ch->start, "route"), service, &t, child))
		return t;
	if (route_in(amber_config_child(&cfg, amber_config_root(&cfg), "default-route"), service, &t, child))
		return t;
	return DENY;
}

static struct child *child_by_name(const char *name)
{
	for (unsigned i = 0; i < nchildren; i++)
		if (strcmp(children[i].name, name) == 0)
			return &children[i];
	return 0;
}

static int is_core_service(const char *s)
{
	return !strcmp(s, "PD") || !strcmp(s, "CPU") || !strcmp(s, "RM") || !strcmp(s, "ROM") || !strcmp(s, "Timer");
}

/* Answer a session request: 0 and the capability in *out, or an error. */
static int session(struct child *ch, const char *service, const char *arg, amber_sel_t *out)
{
	const char *server_name = 0;
	enum target t = route(ch, service, &server_name);
	if (t == DENY) {
		amber_log("denied: child %s asked for service '%s', which no route of it allows", ch->name, service);
		return AMBER_ERR_RIGHTS;
	}
	if (t == TO_PARENT) {
		amber_sel_t sel = amber_cap_alloc();
		if (sel == AMBER_SEL_INVALID)
			return AMBER_ERR_QUOTA;
		int err = is_core_service(service) ? amber_child_session(ch->cap, service, arg, sel)
						   : amber_parent_session_arg(service, arg, sel, AMBER_TIMEOUT_NEVER);
		if (err) {
			amber_cap_free(sel);
			amber_log("child %s: session '%s' from the parent failed: %s", ch->name, service, amber_error_name(err));
			return err;
		}
		*out = sel; /* kept: the child's copy is derived from it */
		if (ch->ngiven < MAX_GIVEN) {
			ch->given[ch->ngiven] = sel;
			ch->given_core[ch->ngiven++] = is_core_service(service);
		}
		return AMBER_OK;
	}
	struct child *server = child_by_name(server_name);
	for (;;) {
		amber_lock_acquire(&lock);
		int gone = !server || server->ended;
		amber_sel_t gate = AMBER_SEL_INVALID;
		for (unsigned i = 0; i < MAX_SERVICES && !gone; i++)
			if (services[i].used && services[i].server == server && strcmp(services[i].name, service) == 0)
				gate = services[i].gate;
		amber_lock_release(&lock);
		if (gate != AMBER_SEL_INVALID) {
			*out = gate;
			return AMBER_OK;
		}
		if (gone) {
			amber_log("denied: child %s asked for service '%s' of child %s, which has ended", ch->name, service,
				  server_name);
			return AMBER_ERR_NO_PARTNER;
		}
		amber_irq_receive(ch->irq, AMBER_TIMEOUT_NEVER); /* an announcement or an end */
	}
}

/* The child gives a session back; `cap` is what it sent. */
static int close_session(struct child *ch, amber_sel_t cap)
{
	uint64_t id = amber_cap_info_of(cap).object_id;
	if (!id)
		return AMBER_ERR_INVALID_ARG;
	int other = 0;
	amber_lock_acquire(&lock);
	for (unsigned i = 0; i < MAX_SERVICES && !other; i++)
		other = services[i].used && amber_cap_info_of(services[i].gate).object_id == id;
	amber_lock_release(&lock);
	for (unsigned i = 0; i < ch->ngiven && !other; i++)
		other = !ch->given_core[i] && amber_cap_info_of(ch->given[i]).object_id == id;
	if (other)
		return AMBER_OK; /* an announced service: nothing to drop */
	int err = amber_child_close(ch->cap, cap);
	if (err)
		return err;
	for (unsigned i = 0; i < ch->ngiven;) {
		if (!amber_cap_info_of(ch->given[i]).object_id) { /* revoked by the close */
			amber_cap_free(ch->given[i]);
			ch->given[i] = ch->given[--ch->ngiven];
			ch->given_core[i] = ch->given_core[ch->ngiven];
		} else {
			i++;
		}
	}
	return AMBER_OK;
}

static int announce(struct child *ch, const char *name, amber_sel_t gate)
{
	amber_lock_acquire(&lock);
	int err = AMBER_ERR_QUOTA;
	for (unsigned i = 0; i < MAX_SERVICES; i++)
		if (services[i].used && services[i].server == ch && strcmp(services[i].name, name) == 0)
			err = AMBER_ERR_INVALID_ARG;
	/* Its own limit: the table has room for every child's, so no child
	 * can take the entries another server needs. */
	for (unsigned i = 0; i < MAX_SERVICES && err == AMBER_ERR_QUOTA && ch->nservices < ch->max_services; i++) {
		if (!services[i].used) {
			services[i].used = 1;
			services[i].server = ch;
			amber_strlcpy(services[i].name, name, sizeof services[i].name);
			services[i].gate = gate;
			ch->nservices++;
			err = AMBER_OK;
		}
	}
	amber_lock_release(&lock);
	if (err == AMBER_OK) {
		amber_log("child %s announces service '%s'", ch->name, name);
		wake_waiters();
	}
	return err;
}

/* The parent protocol for one child, in that child's own thread. */
static void serve(void *arg)
{
	struct child *ch = arg;
	struct amber_utcb *u = amber_utcb();
	amber_sel_t window = amber_cap_alloc();
	int have_reply = 0;
	amber_tag_t reply = 0;
	for (;;) {
		u->br[0] = amber_rcv_window(window, 1);
		int err = have_reply ? amber_ipc_reply_and_wait(reply, AMBER_TIMEOUT_NEVER) : amber_ipc_wait(AMBER_TIMEOUT_NEVER);
		have_reply = 0;
		if (err || amber_tag_label(u->tag) == AMBER_PROTO_IRQ)
			continue; /* a failed reply, or a wake-up nobody waits for */
		unsigned words = amber_tag_words(u->tag), items = amber_tag_items(u->tag);
		char name[NAME_MAX], sarg[NAME_MAX];
		long arg_len = -1;
		amber_word_t op = words ? u->mr[0] : 0;
		long len = words >= 2 ? amber_mr_get_string(u, 1, words, name, sizeof name) : -1;
		if (len >= 0 && op == AMBER_PARENT_SESSION) {
			unsigned at = 2 + amber_string_words((size_t)len);
			if (words > at)
				arg_len = amber_mr_get_string(u, at, words, sarg, sizeof sarg);
		}
		amber_word_t code = words >= 2 ? u->mr[1] : 0;
		int status = AMBER_OK;
		amber_sel_t give = AMBER_SEL_INVALID;
		if (u->label != GATE_LABEL + (uint64_t)(ch - children) || amber_tag_label(u->tag) != AMBER_PROTO_PARENT)
			status = AMBER_ERR_PROTO;
		else if (op == AMBER_PARENT_EXIT) {
			amber_child_kill(ch->cap, AMBER_CHILD_EXIT, (int)(int64_t)code);
			continue; /* never answered: the child ends */
		} else if (op == AMBER_PARENT_CLOSE) {
			status = items == 1 ? close_session(ch, window) : AMBER_ERR_INVALID_ARG;
			if (items)
				amber_task_delete(AMBER_SEL_TASK, window); /* our copy of it, if any is left */
			items = 0;
		} else if (op == AMBER_PARENT_UPGRADE) {
			amber_word_t ram = words >= 3 ? u->mr[1] : 0, caps = words >= 3 ? u->mr[2] : 0;
			status = words >= 3 && !items ? amber_pd_transfer_quota(amber_env_pd(), ch->cap, ram, caps)
						     : AMBER_ERR_INVALID_ARG;
			amber_log("child %s asks for %llu bytes and %llu caps more: %s", ch->name,
				  (unsigned long long)ram, (unsigned long long)caps,
				  status == AMBER_OK ? "granted" : amber_error_name(status));
		} else if (len < 0 || len >= NAME_MAX || arg_len >= NAME_MAX)
			status = op == AMBER_PARENT_ANNOUNCE || op == AMBER_PARENT_SESSION ? AMBER_ERR_INVALID_ARG : AMBER_ERR_OPCODE;
		else if (op == AMBER_PARENT_ANNOUNCE) {
			/* Core's names stay core's, as with core's parent. */
			status = items == 1 && name[0] && !is_core_service(name) ? announce(ch, name, window)
									 : AMBER_ERR_INVALID_ARG;
			if (status == AMBER_OK)
				window = amber_cap_alloc(); /* the gate stays where it landed */
		} else if (op == AMBER_PARENT_SESSION)
			status = session(ch, name, arg_len >= 0 ? sarg : 0, &give);
		else
			status = AMBER_ERR_OPCODE;
		if (items && status != AMBER_OK)
			amber_task_delete(AMBER_SEL_TASK, window); /* an item we do not keep */
		if (give != AMBER_SEL_INVALID) {
			u->mr[0] = amber_map_item(give, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
			reply = amber_tag(AMBER_PROTO_PARENT, 0, 1);
		} else {
			u->mr[0] = (amber_word_t)(int64_t)status;
			reply = amber_tag(AMBER_PROTO_PARENT, 1, 0);
		}
		have_reply = 1;
	}
}

static int start_child(struct child *ch, amber_sel_t pd)
{
	const char *what;
	int err;
	uint32_t binary = amber_config_child(&cfg, ch->start, "binary");
	uint32_t config = amber_config_child(&cfg, ch->start, "config");
	struct amber_child_args a = { .name = ch->name, .binary = amber_config_attr(&cfg, binary, "name"),
				      .config_ds = AMBER_SEL_INVALID };
	ch->cap = amber_cap_alloc();
	ch->gate = amber_cap_alloc();
	amber_sel_t irq = amber_cap_alloc();
	uint32_t off = 0, len = 0;
	if (config != AMBER_CONFIG_NONE && amber_config_text(&cfg, config, &off, &len) == AMBER_OK && len) {
		a.config_ds = config_rom.ds;
		a.config_offset = off;
		a.config_len = len;
	}
	if ((what = "config", err = (!a.binary || amber_config_attr_u64(&cfg, ch->start, "caps", &a.caps) ||
				     amber_config_attr_u64(&cfg, ch->start, "ram", &a.ram)) ? AMBER_ERR_INVALID_ARG : 0) ||
	    (what = "thread", err = amber_thread_create(&ch->thread, serve, ch)) ||
	    (what = "IRQ", err = amber_factory_create_irq(AMBER_SEL_FACTORY, irq)) ||
	    (what = "IRQ", err = amber_irq_attach(irq, ch->thread.sel, 1)) ||
	    (what = "gate", err = amber_factory_create_gate(AMBER_SEL_FACTORY, ch->gate, ch->thread.sel,
							    GATE_LABEL + (uint64_t)(ch - children))) ||
	    (what = "signal context", err = amber_signal_context_create(&receiver, &ch->exit_ctx, child_exited, ch))) {
		amber_log("cannot create child %s: %s: %s", ch->name, what, amber_error_name(err));
		return err;
	}
	ch->irq = irq;
	ch->max_services = a.caps < MAX_CHILD_SERVICES ? (unsigned)a.caps : MAX_CHILD_SERVICES;
	uint64_t v;
	if (amber_config_attr(&cfg, ch->start, "log_rate") && amber_config_attr_u64(&cfg, ch->start, "log_rate", &v) == AMBER_OK)
		a.log_rate = (uint32_t)v;
	if (amber_config_attr(&cfg, ch->start, "cpu_weight") && amber_config_attr_u64(&cfg, ch->start, "cpu_weight", &v) == AMBER_OK)
		a.cpu_weight = (uint32_t)v;
	a.parent_gate = ch->gate;
	a.exit_sigh = ch->exit_ctx.sel;
	if ((err = amber_pd_create_child(pd, &a, ch->cap))) {
		amber_log("cannot create child %s: %s", ch->name,
			  err == AMBER_ERR_QUOTA ? "not enough caps or RAM left in init's quota" : amber_error_name(err));
		return err;
	}
	amber_lock_acquire(&lock);
	ch->alive = 1;
	live++;
	amber_lock_release(&lock);
	if ((err = amber_child_start(ch->cap))) {
		amber_log("cannot start child %s: %s", ch->name, amber_error_name(err));
		amber_lock_acquire(&lock);
		ch->alive = 0;
		live--;
		amber_lock_release(&lock);
		return err;
	}
	return AMBER_OK;
}

int main(void)
{
	int err;
	if ((err = amber_rom_open(&config_rom, AMBER_ROM_CONFIG)) || (err = amber_rom_attach(&config_rom)) ||
	    (err = amber_config_open(&cfg, config_rom.data, config_rom.size))) {
		amber_log("no valid configuration: %s", amber_error_name(err));
		return 1;
	}
	amber_sel_t pd = amber_env_pd();
	done_irq = amber_cap_alloc();
	if (pd == AMBER_SEL_INVALID || (err = amber_signal_receiver_create(&receiver, 0)) ||
	    (err = amber_factory_create_irq(AMBER_SEL_FACTORY, done_irq)) ||
	    (err = amber_irq_attach(done_irq, AMBER_SEL_THREAD, DONE_LABEL))) {
		amber_log("cannot set up: %s", amber_error_name(err));
		return 1;
	}
	for (uint32_t s = amber_config_child(&cfg, 0, "start"); s != AMBER_CONFIG_NONE && nchildren < MAX_CHILDREN;
	     s = amber_config_next(&cfg, s, "start")) {
		struct child *ch = &children[nchildren++];
		ch->start = s;
		ch->irq = AMBER_SEL_INVALID;
		amber_strlcpy(ch->name, amber_config_attr(&cfg, s, "name"), sizeof ch->name);
	}
	for (unsigned i = 0; i < nchildren; i++) {
		if (start_child(&children[i], pd) != AMBER_OK) {
			children[i].ended = 1; /* whoever waits for its services is refused */
			wake_waiters();
		}
	}
	for (;;) {
		amber_lock_acquire(&lock);
		unsigned left = live;
		amber_lock_release(&lock);
		if (left == 0)
			break;
		amber_irq_receive(done_irq, AMBER_TIMEOUT_NEVER);
	}
	amber_log("all children have ended");
	return 0;
}
