/*
 * The components amber-core runs: how many are live (amber-core ends when
 * none is), their ids, and the ones created at run time (children, child.c),
 * which amber-core stops and frees at its end like the scenario's. The
 * scenario's own list stays main.c's; it is only made known here so that
 * `amber ps` (ps.c) can walk every component.
 */
#include <stdatomic.h>
#include <errno.h>
#include <pthread.h>

#include "core.h"

static struct component *created; /* kernel lock */
static struct component *scenario; /* set before any component starts */
static unsigned next_id = 1;
static pthread_mutex_t live_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond; /* on CLOCK_MONOTONIC */
static unsigned live;

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
	pthread_mutex_unlock(&live_mutex);
	return done;
}

/* What the run's exit status reports besides how it ended (main.c). */
static atomic_bool start_failed, component_failed;

void core_note_start_failure(void) { atomic_store(&start_failed, true); }
void core_note_component_failure(void) { atomic_store(&component_failed, true); }
bool core_start_failures(void) { return atomic_load(&start_failed); }
bool core_component_failures(void) { return atomic_load(&component_failed); }
