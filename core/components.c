/*
 * The components amber-core runs: how many are live (amber-core ends when
 * none is), their ids, and the ones created at run time (children, child.c),
 * which amber-core stops and frees at its end like the scenario's. The
 * scenario's own list stays main.c's; it is only made known here so that
 * `amber ps` (ps.c) can walk every component.
 *
 * An ended component stays, for `amber ps`, for its parent's EXIT_STATUS
 * and as the place a restore by name or id brings it back to. One kind is
 * freed: a component a restore rolled back (made after its image's cut, so
 * it never was in the restored timeline, restore.c). Nothing needs it: its
 * parent's record of it went with the parent's teardown, and an image that
 * holds it gets a fresh struct from the restore (restore.c, fresh_member).
 * So a restore repeated over and over keeps core's memory flat however
 * many children each rolled-back timeline made. The other ended components
 * need no reaping: a parent keeps at most AMBER_CHILD_MAX children, ended
 * ones included, and a parent that ended makes no more.
 */
#include <stdatomic.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core.h"

static struct component *created; /* kernel lock */
static struct component *scenario; /* set before any component starts */
static unsigned next_id = 1;
static pthread_mutex_t live_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond; /* on CLOCK_MONOTONIC */
static unsigned live;
static bool stopping; /* the run ends: nothing may bring a component back */

void core_components_init(void)
{
	pthread_condattr_t cattr;
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&live_cond, &cattr);
	pthread_condattr_destroy(&cattr);
}

unsigned core_component_next_id(void) { return next_id++; }
unsigned core_component_id_peek(void) { return next_id; }

void core_component_ids_above(unsigned id)
{
	if (id >= next_id)
		next_id = id + 1;
}



/* Every component, scenario's first: visit(c) for each. */
void core_components_each(void (*visit)(struct component *c, void *ctx), void *ctx)
{
	for (struct component *c = scenario; c; c = c->next)
		visit(c, ctx);
	for (struct component *c = created; c; c = c->next)
		visit(c, ctx);
}

static struct component *by_id_in(struct component *list, unsigned id)
{
	for (struct component *c = list; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

struct component *core_component_by_id(unsigned id)
{
	struct component *c = by_id_in(scenario, id);
	if (!c)
		c = by_id_in(created, id);
	return c && c->state == COMPONENT_RUNNING && !c->ending ? c : NULL;
}

/* A restored component of a fresh system: its id is the image's. */
void core_component_adopt(struct component *c)
{
	core_component_ids_above(c->id);
	c->next = created;
	created = c;
}

void core_component_register(struct component *c)
{
	c->id = next_id++;
	c->next = created;
	created = c;
}

struct component *core_components_created(void) { return created; }

unsigned core_components_count(void)
{
	unsigned n = 0;
	for (struct component *c = scenario; c; c = c->next)
		n++;
	for (struct component *c = created; c; c = c->next)
		n++;
	return n;
}

bool core_component_id_known(unsigned id) { return by_id_in(scenario, id) || by_id_in(created, id); }

/* ---- rolled back by a restore ---------------------------------------------- */

static unsigned rolled_back; /* marked and not freed yet: the reaper's work */

static void mark(struct component *c)
{
	if (!c->rolled_back) {
		c->rolled_back = true;
		rolled_back++;
	}
}

void core_component_roll_back(struct component *c) { mark(c); }

void core_components_roll_back_below(void)
{
	/* Those an ended parent no longer listed as children (their records
	 * went with its end) still point at it. The list's order says nothing
	 * of who is below whom (restored ones keep old ids): repeat until
	 * nothing more is marked. */
	for (bool more = rolled_back > 0; more;) {
		more = false;
		for (struct component *x = created; x; x = x->next)
			if (!x->rolled_back && x->parent && x->parent->rolled_back) {
				mark(x);
				more = true;
			}
	}
}

void core_component_keep(struct component *c)
{
	if (c->rolled_back) {
		c->rolled_back = false;
		rolled_back--;
	}
}

/* Does anything still refer to c? Its own end must be over (cleanup, exit
 * handling, work for its calls, a held LOG call), no record of a parent
 * may name it, and no component may have it as parent: children go
 * first. */
static bool in_use(const struct component *c)
{
	if (c->state != COMPONENT_ENDED || c->exiting || c->restoring || c->cr_busy || c->cr_pins || c->entry_stops ||
	    c->as_ops || c->as_jobs || c->as_worker || c->log_waits || c->process)
		return true;
	if (child_recorded(c))
		return true;
	for (const struct component *x = created; x; x = x->next) /* the scenario's have no parent */
		if (x->parent == c)
			return true;
	return false;
}

void core_component_free(struct component *c)
{
	free(c->config);
	free(c->held);
	free(c);
}

/* One pass: the unused ones out of the list, onto *gone. How many. */
static unsigned unlink_unused(struct component **gone)
{
	unsigned n = 0;
	for (struct component **pp = &created; *pp;) {
		struct component *c = *pp;
		if (c->rolled_back && !in_use(c)) {
			*pp = c->next;
			rolled_back--;
			c->next = *gone;
			*gone = c;
			n++;
		} else {
			pp = &c->next;
		}
	}
	return n;
}

void core_components_reap(void)
{
	struct component *gone = NULL;
	kernel_lock();
	/* Each pass frees the leaves; their parents are leaves in the next. */
	while (rolled_back && unlink_unused(&gone))
		;
	kernel_unlock();
	while (gone) {
		struct component *next = gone->next;
		core_component_free(gone);
		gone = next;
	}
}

static void reap_call(void *arg)
{
	(void)arg;
	core_components_reap();
}

void core_components_reap_later(void)
{
	/* Not queued (no memory, or amber-core is ending): the next reap, or
	 * amber-core's end, frees them. */
	(void)process_post_call(reap_call, NULL);
}

void core_components_set_scenario(struct component *list) { scenario = list; }

struct component *core_components_scenario(void) { return scenario; }

void core_component_live(void)
{
	pthread_mutex_lock(&live_mutex);
	live++;
	pthread_mutex_unlock(&live_mutex);
}

void core_component_ended(void)
{
	pthread_mutex_lock(&live_mutex);
	live--;
	pthread_cond_broadcast(&live_cond);
	pthread_mutex_unlock(&live_mutex);
}

bool core_components_wait(const struct timespec *deadline)
{
	pthread_mutex_lock(&live_mutex);
	while (live > 0) {
		if (pthread_cond_timedwait(&live_cond, &live_mutex, deadline) == ETIMEDOUT)
			break;
	}
	bool done = live == 0;
	stopping |= done; /* decided with the count: a restore holds it above 0 or is refused */
	pthread_mutex_unlock(&live_mutex);
	return done;
}

bool core_components_hold(void)
{
	pthread_mutex_lock(&live_mutex);
	bool ok = !stopping;
	if (ok)
		live++;
	pthread_mutex_unlock(&live_mutex);
	return ok;
}

void core_components_stop(void)
{
	pthread_mutex_lock(&live_mutex);
	stopping = true;
	pthread_mutex_unlock(&live_mutex);
}

/* What the run's exit status reports besides how it ended (main.c). */
static atomic_bool start_failed, component_failed;

void core_note_start_failure(void) { atomic_store(&start_failed, true); }
void core_note_component_failure(void) { atomic_store(&component_failed, true); }
bool core_start_failures(void) { return atomic_load(&start_failed); }
bool core_component_failures(void) { return atomic_load(&component_failed); }
