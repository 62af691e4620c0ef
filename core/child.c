/*
 * Children: components a component (init) creates, as Genode's init
 * creates its children through core's PD and CPU services.
 *
 * PD CREATE_CHILD makes a component much like a scenario's, with three
 * differences. Its slot 4 is not core's parent gate but the gate its
 * parent passed for it, so the child's ANNOUNCE, SESSION and EXIT go to
 * the parent, which routes them. Its quotas come out of the parent's: the
 * RAM quota and the factory's quota shrink by what the child gets, and
 * grow again when the child has ended. And core calls it "PARENT -> NAME"
 * in its LOG lines and reports, as Genode labels a child's sessions.
 *
 * The parent gets a child capability, a core gate, to start it, end it,
 * learn how it ended, and open sessions of core's services for it (which
 * act on the child, as if the child had asked core itself). When the child
 * ends, core reports it as for every component, gives the quotas back and
 * submits to the signal context the parent gave at creation. When the
 * parent ends, its children are killed.
 *
 * Protocol: include/amber/child.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amber/child.h"
#include "amber/pd_session.h"
#include "amber/protocols.h"
#include "amber/rom_session.h"
#include "core.h"
#include "cr_lazy.h"
#include "cr_state.h"
#include "scenario.h"

struct core_child {
	struct core_child *next;
	struct component *child;
	struct component *parent;
	amber_sel_t sel; /* the child capability's gate, root in core's task */
};

/* The quotas of a child that ended go back to its parent. Caps: its
 * kernel_quota is a total that includes what its own children hold, and
 * goes back whole, or not at all if the parent ends too (the parent's
 * total covers it). RAM: ram_quota is only what the child did not lend,
 * so each member of an ending subtree gives its own part back, to the
 * nearest ancestor that still runs: whichever order the generations end
 * in, that ancestor gets everything it lent. */
static void give_back(struct component *c)
{
	struct component *p = c->parent;
	if (!p || c->kernel_quota == 0)
		return;
	if (!p->ending && p->state == COMPONENT_RUNNING) {
		if (p->factory_sel != AMBER_SEL_INVALID)
			kernel_factory_adjust(kernel_core_task(), p->factory_sel, (int64_t)c->kernel_quota);
	}
	struct component *a = p;
	while (a && (a->ending || a->state != COMPONENT_RUNNING) && a->parent)
		a = a->parent;
	if (a && !a->ending && a->state == COMPONENT_RUNNING)
		a->ram_quota += c->ram_quota;
	c->kernel_quota = 0; /* given back once */
	c->ram_quota = 0;
}

/* A child that never ran ends here. */
static void end_unstarted(struct component *c, const char *why)
{
	c->state = COMPONENT_ENDED;
	c->end_state = AMBER_CHILD_KILLED;
	snprintf(c->end_reason, sizeof(c->end_reason), "%.150s", why);
	/* Only if it is still the gate: a revoke by the parent empties the
	 * slot, and core may have put another object there since. */
	if (c->parent_gate != AMBER_SEL_INVALID && component_parent_gate_held(c, c->parent_gate))
		kernel_cap_delete(kernel_core_task(), c->parent_gate);
	c->parent_gate = AMBER_SEL_INVALID;
	give_back(c);
}

static int child_start(struct component *c)
{
	if (c->state != COMPONENT_NEW || c->ending)
		return AMBER_ERR_INVALID_ARG;
	if (!component_parent_gate_held(c, c->parent_gate)) {
		/* Its slot 4 would be derived from whatever core keeps there now. */
		core_report("cannot start %s: its parent gate was revoked", c->name);
		end_unstarted(c, "its parent gate was revoked before it started");
		return AMBER_ERR_INVALID_ARG;
	}
	char err[512];
	core_component_live();
	if (component_start_locked(c, err, sizeof(err)) < 0) {
		core_report("cannot start %s: %s", c->name, err);
		core_note_start_failure();
		if (c->state != COMPONENT_RUNNING) {
			end_unstarted(c, err);
			core_component_ended();
		}
		return AMBER_ERR_INVALID_ARG;
	}
	c->end_state = AMBER_CHILD_RUNNING;
	return AMBER_OK;
}

static int child_kill(struct component *c, struct kcore_request *req)
{
	if (amber_tag_words(req->tag) < 3 || req->mr[1] > AMBER_CHILD_EXIT)
		return AMBER_ERR_INVALID_ARG;
	if (c->state == COMPONENT_NEW) {
		end_unstarted(c, "killed by its parent before it started");
		return AMBER_OK;
	}
	if (c->state == COMPONENT_RUNNING && c->process && !c->ending) {
		if (req->mr[1] == AMBER_CHILD_EXIT) {
			c->exit_requested = true;
			c->exit_code = (int)(int64_t)req->mr[2];
			process_kill(c->process, "exit");
		} else {
			process_kill(c->process, "killed by its parent");
		}
	}
	return AMBER_OK;
}

static int child_exit_status(struct component *c, struct kcore_request *req)
{
	req->reply_mr[0] = (amber_word_t)c->end_state;
	req->reply_mr[1] = (amber_word_t)(int64_t)c->end_code;
	size_t len = strnlen(c->end_reason, sizeof(c->end_reason) - 1);
	if (len > (AMBER_MR_COUNT - 3) * sizeof(amber_word_t))
		len = (AMBER_MR_COUNT - 3) * sizeof(amber_word_t);
	req->reply_mr[2] = len;
	memset(&req->reply_mr[3], 0, (len + 7) / 8 * sizeof(amber_word_t));
	memcpy(&req->reply_mr[3], c->end_reason, len);
	req->reply_tag = amber_tag(AMBER_PROTO_CHILD, 3 + (unsigned)((len + 7) / 8), 0);
	return AMBER_OK;
}

static int child_session(struct component *c, struct kcore_request *req)
{
	char name[64], arg[64];
	int err = service_string(req, 1, name, sizeof(name));
	if (err)
		return err;
	unsigned arg_at = 2 + (unsigned)((strlen(name) + sizeof(amber_word_t) - 1) / sizeof(amber_word_t));
	bool has_arg = amber_tag_words(req->tag) > arg_at;
	if (has_arg && (err = service_string(req, arg_at, arg, sizeof(arg))))
		return err;
	if (!core_service_name(name))
		return AMBER_ERR_INVALID_ARG;
	if (c->state == COMPONENT_ENDED || c->ending)
		return AMBER_ERR_NO_PARTNER;
	amber_sel_t sel;
	err = core_session_open_arg(c, name, has_arg ? arg : NULL, &sel);
	if (err == AMBER_OK) {
		req->reply_tag = amber_tag(AMBER_PROTO_CHILD, 0, 1);
		req->reply_mr[0] = amber_map_item(sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	}
	return err;
}

static enum kcore_result child_handle(void *ctx, struct kcore_request *req, int *error)
{
	struct core_child *k = ctx;
	struct component *c = k->child;
	req->reply_tag = amber_tag(AMBER_PROTO_CHILD, 0, 0);
	if (amber_tag_label(req->tag) == AMBER_PROTO_CHILD && amber_tag_words(req->tag) >= 1 &&
	    req->mr[0] == AMBER_CHILD_CLOSE && !k->parent->ending) {
		if (c->state != COMPONENT_RUNNING || c->ending) {
			service_drop_items(req);
			*error = AMBER_ERR_NO_PARTNER;
			return KCORE_REPLY;
		}
		return core_session_close_request(c, req, error);
	}
	service_drop_items(req);
	if (amber_tag_label(req->tag) != AMBER_PROTO_CHILD) {
		*error = AMBER_ERR_PROTO;
	} else if (amber_tag_words(req->tag) < 1) {
		*error = AMBER_ERR_OPCODE;
	} else if (k->parent->ending) {
		*error = AMBER_ERR_NO_PARTNER;
	} else {
		switch (req->mr[0]) {
		case AMBER_CHILD_START: *error = child_start(c); break;
		case AMBER_CHILD_KILL_METHOD: *error = child_kill(c, req); break;
		case AMBER_CHILD_EXIT_STATUS: *error = child_exit_status(c, req); break;
		case AMBER_CHILD_SESSION: *error = child_session(c, req); break;
		default: *error = AMBER_ERR_OPCODE; break;
		}
	}
	return KCORE_REPLY;
}

/* Keep items[0] (the parent gate), drop the others. */
static void drop_but_first(struct kcore_request *req)
{
	for (unsigned i = 1; i < req->nitems; i++)
		kernel_cap_delete(kernel_core_task(), req->items[i]);
	req->nitems = 0;
}

static int create(struct component *p, struct kcore_request *req)
{
	unsigned words = amber_tag_words(req->tag);
	char name[COMPONENT_NAME_MAX], binary[COMPONENT_NAME_MAX];
	if (words < 7 || req->nitems < 2 || req->nitems > 3)
		return AMBER_ERR_INVALID_ARG;
	uint64_t caps = req->mr[1], ram = req->mr[2], cfg_off = req->mr[3], cfg_len = req->mr[4];
	if (service_string(req, 5, name, sizeof(name))) {
		core_report("%s: cannot create a child: its name is not a string of at most %d bytes", p->name,
			    COMPONENT_NAME_MAX - 1);
		return AMBER_ERR_INVALID_ARG;
	}
	if (!scenario_valid_name(name)) {
		const char *why = scenario_name_problem(name);
		for (char *q = name; *q; q++) /* the report must not carry its control characters */
			if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f)
				*q = '?';
		core_report("%s: cannot create child '%s': %s", p->name, name, why);
		return AMBER_ERR_INVALID_ARG;
	}
	unsigned bin_at = 6 + (unsigned)((strlen(name) + 7) / 8);
	if (service_string(req, bin_at, binary, sizeof(binary)) || !scenario_valid_name(binary)) {
		core_report("%s: cannot create child '%s': its binary is not a plain file name", p->name, name);
		return AMBER_ERR_INVALID_ARG;
	}
	/* Optional after the binary: LOG rate and CPU weight (0: default),
	 * never more than the parent's own. */
	unsigned opt_at = bin_at + 1 + (unsigned)((strlen(binary) + 7) / 8);
	uint64_t log_rate = words > opt_at ? req->mr[opt_at] : 0;
	uint64_t cpu_weight = words > opt_at + 1 ? req->mr[opt_at + 1] : 0;
	if (log_rate > (p->log_rate ? p->log_rate : LOG_RATE_DEFAULT) ||
	    cpu_weight > (p->cpu_weight ? p->cpu_weight : CPU_WEIGHT_DEFAULT))
		return AMBER_ERR_QUOTA;
	enum amber_kind kind = AMBER_KIND_NONE;
	if (!kernel_cap_object(kernel_core_task(), req->items[0], &kind, NULL) || kind != AMBER_KIND_GATE)
		return AMBER_ERR_INVALID_ARG;
	uint64_t sigh = signal_context_id(req->items[1]);
	if (!sigh)
		return AMBER_ERR_INVALID_ARG;
	const uint8_t *cfg = NULL;
	if (cfg_len || req->nitems == 3) {
		struct core_ds *ds = req->nitems == 3 ? core_ds_lookup(req->items[2]) : NULL;
		if (!ds || cfg_len == 0 || cfg_len > AMBER_ROM_CONFIG_MAX ||
		    cfg_off > core_ds_memory(ds)->size || cfg_len > core_ds_memory(ds)->size - cfg_off)
			return AMBER_ERR_INVALID_ARG;
		cr_lazy_touch(core_ds_memory(ds)); /* core reads it itself */
		cfg = (const uint8_t *)core_ds_memory(ds)->local + cfg_off;
	}
	if (caps == 0 || caps > AMBER_CAP_SLOTS || ram == 0 || ram > (16ull << 30))
		return AMBER_ERR_INVALID_ARG;
	ram = (ram + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
	/* Its caps and what core keeps for it (CORE_CHILD_COST) come out of the
	 * parent's unused caps. */
	if (p->nchildren >= AMBER_CHILD_MAX || ram > p->ram_quota - p->ram_used ||
	    core_quota_take(p, (unsigned)caps + CORE_CHILD_COST))
		return AMBER_ERR_QUOTA;
	struct component *c = calloc(1, sizeof(*c));
	struct core_child *k = calloc(1, sizeof(*k));
	if (!c || !k) {
		free(c);
		free(k);
		return AMBER_ERR_QUOTA;
	}
	snprintf(c->name, sizeof(c->name), "%.36s -> %.31s", p->name, name);
	if (components_path_find(rom_dir(), binary, c->binary, sizeof(c->binary)) < 0 || access(c->binary, R_OK) != 0) {
		core_report("%s: cannot create child '%s': no binary '%s'", p->name, name, binary);
		core_note_start_failure();
		free(c);
		free(k);
		return AMBER_ERR_INVALID_ARG;
	}
	if (cfg) {
		c->config = malloc(cfg_len + 1);
		if (!c->config) {
			free(c);
			free(k);
			return AMBER_ERR_QUOTA;
		}
		memcpy(c->config, cfg, cfg_len);
		c->config[cfg_len] = '\0';
		c->config_len = cfg_len;
		c->has_config = true;
	}
	struct ktask *core = kernel_core_task();
	k->sel = kernel_cap_alloc(core, AMBER_SEL_FIRST_FREE);
	int err = k->sel == AMBER_SEL_INVALID ? AMBER_ERR_QUOTA : AMBER_OK;
	if (!err)
		err = kernel_factory_adjust(core, p->factory_sel, -(int64_t)caps);
	if (!err) {
		err = kernel_create_core_gate(core, k->sel, 0, child_handle, k, NULL);
		if (err)
			kernel_factory_adjust(core, p->factory_sel, (int64_t)caps);
	}
	if (err) {
		free(c->config);
		free(c);
		free(k);
		return err;
	}
	p->ram_quota -= ram;
	c->kernel_quota = (unsigned)caps;
	c->ram_quota = ram;
	c->log_rate = (unsigned)log_rate;
	c->cpu_weight = (unsigned)cpu_weight;
	c->parent = p;
	c->parent_gate = req->items[0];
	c->parent_gate_id = kernel_object_id(kernel_cap_object(core, c->parent_gate, NULL, NULL));
	c->exit_sigh = sigh;
	c->end_state = AMBER_CHILD_CREATED;
	core_component_register(c);
	k->child = c;
	k->parent = p;
	k->next = p->children;
	p->children = k;
	p->nchildren++;
	drop_but_first(req);
	req->reply_tag = amber_tag(AMBER_PROTO_PD, 0, 1);
	req->reply_mr[0] = amber_map_item(k->sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return AMBER_OK;
}

struct component *child_by_cap(struct component *p, amber_sel_t item)
{
	struct core_child *k = kernel_core_gate_ctx(kernel_core_task(), item, child_handle);
	return k && k->parent == p ? k->child : NULL;
}

int child_create(struct component *p, struct kcore_request *req)
{
	int err = create(p, req);
	if (err)
		service_drop_items(req);
	return err;
}

void child_ended(struct component *c, const struct process_exit_info *info)
{
	if (!c->parent)
		return;
	if (info->how == PROCESS_EXITED) {
		c->end_state = AMBER_CHILD_EXITED;
		c->end_code = info->code;
	} else if (info->how == PROCESS_KILLED_BY_CORE && c->exit_requested) {
		c->end_state = AMBER_CHILD_EXITED;
		c->end_code = c->exit_code;
	} else {
		c->end_state = AMBER_CHILD_KILLED;
		snprintf(c->end_reason, sizeof(c->end_reason), "%s", info->reason);
	}
	give_back(c);
	if (!c->parent->ending && c->exit_sigh)
		signal_submit(c->exit_sigh, 1);
}

bool child_recorded(const struct component *c)
{
	for (const struct core_child *k = c->parent ? c->parent->children : NULL; k; k = k->next)
		if (k->child == c)
			return true;
	return false;
}

void child_forget(struct component *p)
{
	while (p->children) {
		struct core_child *k = p->children;
		p->children = k->next;
		kernel_cap_delete(kernel_core_task(), k->sel);
		struct component *c = k->child;
		if (c->state == COMPONENT_NEW)
			end_unstarted(c, "its parent ended");
		else if (c->process && !c->ending)
			process_kill(c->process, "its parent ended");
		free(k);
	}
	p->nchildren = 0;
}

/* ---- checkpoint/restore (cr_state.h) --------------------------------------- */

int child_save(struct cr_save *s, struct component *c, AmberImg__Component *m)
{
	(void)s;
	for (struct core_child *k = c->children; k; k = k->next) {
		AmberImg__Child *x = CR_NEW(AmberImg__Child, amber_img__child__init);
		x->gate_id = kernel_object_id(kernel_cap_object(kernel_core_task(), k->sel, NULL, NULL));
		x->child_id = k->child->id;
		CR_APPEND(m, children, x);
	}
	return 0;
}

/* The child capabilities, in their saved order; the children themselves
 * are members of the restored set (a checkpoint takes all descendants). */
int child_load(struct cr_load *l)
{
	struct component *c = l->c;
	struct core_child **tail = &c->children;
	c->children = NULL;
	c->nchildren = 0;
	for (size_t i = 0; i < l->m->n_children; i++) {
		const AmberImg__Child *x = l->m->children[i];
		struct component *child = cr_load_component(l, x->child_id);
		if (!child || child->parent != c)
			return cr_fail(l->err, l->errlen, "%s: child %u is not in the image", c->name, x->child_id);
		struct core_child *k = calloc(1, sizeof(*k));
		if (!k)
			return cr_fail(l->err, l->errlen, "%s: no memory for a child", c->name);
		k->child = child;
		k->parent = c;
		k->sel = kernel_cap_alloc(kernel_core_task(), AMBER_SEL_FIRST_FREE);
		if (cr_force_id(l, x->gate_id, "child capability") < 0 ||
		    kernel_create_core_gate(kernel_core_task(), k->sel, 0, child_handle, k, NULL) != AMBER_OK) {
			free(k);
			return l->err[0] ? -1 : cr_fail(l->err, l->errlen, "%s: cannot create a child capability", c->name);
		}
		*tail = k;
		tail = &k->next;
		c->nchildren++;
	}
	return 0;
}

struct core_child *child_next(const struct core_child *k) { return k->next; }
struct component *child_component(const struct core_child *k) { return k->child; }
