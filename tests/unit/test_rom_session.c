/*
 * Core's ROM service without processes: a component that exists only in
 * the kernel (a task and a simulated thread) opens PD and ROM sessions,
 * registers a signal context with SIGH, and core changes its "config"
 * with rom_update(): the context gets a signal, SIZE still describes the
 * version handed out, and the next DATASPACE hands out a new dataspace
 * with the new content while the old one is revoked. Ending the component
 * (core_sessions_close) releases all of it; the fixture's teardown checks
 * that no kernel object survives.
 */
#include <stdio.h>

#include "tests/unit/kernel_fixture.h"

#include "amber/pd_session.h"
#include "amber/rom_session.h"
#include "amber/signal_source.h"
#include "core/core.h"

enum {
	PD_SEL = 20,
	ROM_SEL = 21,
	THREAD_SEL = 22,
	SOURCE_SEL = 30, /* and its semaphore in 31 */
	CONTEXT_SEL = 32,
	DS_SEL = 33,     /* and 34, 35 for later versions */
	IRQ_SEL = 40,
};

static struct component comp;
static struct fx_thread *thr;

static int64_t call(amber_sel_t sel, amber_tag_t tag, amber_sel_t rcv, unsigned nrcv)
{
	thr->u->br[0] = amber_rcv_window(rcv, nrcv);
	fx_call(thr, sel, tag, FX_NEVER, FX_NEVER);
	return fx_err(thr);
}

static int64_t rom_call(unsigned method, amber_sel_t rcv)
{
	thr->u->mr[0] = method;
	return call(ROM_SEL, amber_tag(AMBER_PROTO_ROM, 1, 0), rcv, rcv ? 1 : 0);
}

static int64_t sigh(amber_sel_t sel)
{
	thr->u->mr[0] = AMBER_ROM_SIGH;
	thr->u->mr[1] = amber_map_item(sel, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return call(ROM_SEL, amber_tag(AMBER_PROTO_ROM, 1, sel ? 1 : 0), 0, 0);
}

/* WAIT_FOR_SIGNAL: the count of the context's pending signal, 0 if none. */
static uint64_t signals(void)
{
	thr->u->mr[0] = AMBER_SIGNAL_SOURCE_WAIT_FOR_SIGNAL;
	int64_t err = call(SOURCE_SEL, amber_tag(AMBER_PROTO_SIGNAL_SOURCE, 1, 0), 0, 0);
	if (err == AMBER_ERR_TIMEOUT)
		return 0;
	assert_int_equal(err, AMBER_OK);
	assert_int_equal(thr->u->mr[0], 0xfeed); /* the imprint */
	return thr->u->mr[1];
}

/* The bytes of the dataspace in the component's slot `sel`, through core. */
static void expect_content(amber_sel_t sel, const char *text)
{
	amber_sel_t s = fx_core_sel();
	assert_int_equal(kernel_cap_map(comp.task, sel, fx_core(), s, AMBER_RIGHT_INVOKE), AMBER_OK);
	struct core_ds *ds = core_ds_lookup(s);
	assert_non_null(ds);
	assert_false(core_ds_writable(ds));
	assert_null(core_ds_owner(ds)); /* charged to core */
	const struct dataspace *m = core_ds_memory(ds);
	assert_true(m->size >= strlen(text) + 1);
	assert_memory_equal(m->local, text, strlen(text) + 1);
	kernel_cap_delete(fx_core(), s);
}

static void setup_component(const char *config)
{
	memset(&comp, 0, sizeof(comp));
	snprintf(comp.name, sizeof(comp.name), "unit");
	comp.id = 1;
	comp.task = fx_task_sel("unit", &comp.task_sel);
	thr = fx_thread(comp.task, "unit");
	comp.thread = thr->k;
	comp.ram_quota = DEFAULT_RAM_QUOTA;
	comp.config = strdup(config);
	comp.config_len = strlen(config);
	comp.has_config = true;

	amber_sel_t pd, rom;
	assert_int_equal(core_session_open(&comp, AMBER_PD_SERVICE, &pd), AMBER_OK);
	assert_int_equal(core_session_open_arg(&comp, AMBER_ROM_SERVICE, AMBER_ROM_CONFIG, &rom), AMBER_OK);
	fx_give(pd, comp.task, PD_SEL, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	fx_give(rom, comp.task, ROM_SEL, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	fx_give(thr->core_sel, comp.task, THREAD_SEL, AMBER_RIGHTS_ALL);

	/* A signal source (handled by the thread) and a context. */
	thr->u->mr[0] = AMBER_PD_ALLOC_SIGNAL_SOURCE;
	thr->u->mr[1] = amber_map_item(THREAD_SEL, AMBER_RIGHTS_ALL);
	assert_int_equal(call(PD_SEL, amber_tag(AMBER_PROTO_PD, 1, 1), SOURCE_SEL, 2), AMBER_OK);
	thr->u->mr[0] = AMBER_PD_ALLOC_CONTEXT;
	thr->u->mr[1] = 0xfeed;
	thr->u->mr[2] = amber_map_item(SOURCE_SEL, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_int_equal(call(PD_SEL, amber_tag(AMBER_PROTO_PD, 2, 1), CONTEXT_SEL, 1), AMBER_OK);
}

static void end_component(void)
{
	comp.ending = true;
	core_sessions_close(&comp);
	assert_null(comp.sessions);
	free(comp.config);
	comp.config = NULL;
}

static void test_update_signals_and_new_version(void **state)
{
	(void)state;
	setup_component("<v1/>");

	assert_int_equal(rom_call(AMBER_ROM_DATASPACE, DS_SEL), AMBER_OK);
	assert_int_equal(thr->u->mr[0], 5);
	assert_int_equal(fx_kind(comp.task, DS_SEL), AMBER_KIND_GATE);
	expect_content(DS_SEL, "<v1/>");

	assert_int_equal(sigh(CONTEXT_SEL), AMBER_OK);
	assert_int_equal(signals(), 0);

	const char v2[] = "<v2 text=\"longer\"/>";
	assert_int_equal(rom_update(&comp, AMBER_ROM_CONFIG, v2, strlen(v2)), AMBER_OK);
	assert_int_equal(signals(), 1);
	assert_int_equal(signals(), 0);

	/* SIZE describes what was handed out until DATASPACE is asked again. */
	assert_int_equal(rom_call(AMBER_ROM_SIZE, 0), AMBER_OK);
	assert_int_equal(thr->u->mr[0], 5);
	expect_content(DS_SEL, "<v1/>");
	assert_int_equal(rom_call(AMBER_ROM_DATASPACE, DS_SEL + 1), AMBER_OK);
	assert_int_equal(thr->u->mr[0], strlen(v2));
	expect_content(DS_SEL + 1, v2);
	assert_int_equal(fx_kind(comp.task, DS_SEL), AMBER_KIND_NONE); /* the old version is revoked */
	assert_int_equal(rom_call(AMBER_ROM_SIZE, 0), AMBER_OK);
	assert_int_equal(thr->u->mr[0], strlen(v2));

	/* Unchanged: the same dataspace again. */
	assert_int_equal(rom_call(AMBER_ROM_DATASPACE, DS_SEL + 2), AMBER_OK);
	uint64_t a = kernel_object_id(kernel_cap_object(comp.task, DS_SEL + 1, NULL, NULL));
	uint64_t b = kernel_object_id(kernel_cap_object(comp.task, DS_SEL + 2, NULL, NULL));
	assert_int_equal(a, b);

	/* Two changes before the handler looks: one pending signal, count 2. */
	assert_int_equal(rom_update(&comp, AMBER_ROM_CONFIG, "", 0), AMBER_OK);
	assert_int_equal(rom_update(&comp, AMBER_ROM_CONFIG, "<v4/>", 5), AMBER_OK);
	assert_int_equal(signals(), 2);

	/* Only "config" changes, and only within the limit. */
	assert_int_equal(rom_update(&comp, "hello_server", "x", 1), AMBER_ERR_INVALID_ARG);
	static char big[AMBER_ROM_CONFIG_MAX + 1];
	assert_int_equal(rom_update(&comp, AMBER_ROM_CONFIG, big, sizeof(big)), AMBER_ERR_INVALID_ARG);
	assert_int_equal(signals(), 0);
	assert_string_equal(comp.config, "<v4/>");

	/* What SIGH accepts; without a context nothing is signalled. */
	amber_sel_t irq;
	fx_irq(&irq);
	fx_give(irq, comp.task, IRQ_SEL, AMBER_RIGHTS_ALL);
	assert_int_equal(sigh(IRQ_SEL), AMBER_ERR_INVALID_ARG);
	assert_int_equal(sigh(PD_SEL), AMBER_ERR_INVALID_ARG);
	assert_int_equal(sigh(0), AMBER_OK);
	assert_int_equal(rom_update(&comp, AMBER_ROM_CONFIG, "<v5/>", 5), AMBER_OK);
	assert_int_equal(signals(), 0);

	/* A context freed after SIGH: the update just finds nobody. */
	assert_int_equal(sigh(CONTEXT_SEL), AMBER_OK);
	thr->u->mr[0] = AMBER_PD_FREE_CONTEXT;
	thr->u->mr[1] = amber_map_item(CONTEXT_SEL, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	assert_int_equal(call(PD_SEL, amber_tag(AMBER_PROTO_PD, 1, 1), 0, 0), AMBER_OK);
	assert_int_equal(rom_update(&comp, AMBER_ROM_CONFIG, "<v6/>", 5), AMBER_OK);
	assert_int_equal(signals(), 0);

	end_component();
	assert_int_equal(fx_kind(comp.task, DS_SEL + 1), AMBER_KIND_NONE); /* released with the session */
	assert_int_equal(fx_kind(comp.task, ROM_SEL), AMBER_KIND_NONE);
}

static void test_sessions_refused(void **state)
{
	(void)state;
	setup_component("<x/>");
	amber_sel_t s;
	assert_int_equal(core_session_open_arg(&comp, AMBER_ROM_SERVICE, NULL, &s), AMBER_ERR_INVALID_ARG);
	assert_int_equal(core_session_open_arg(&comp, AMBER_ROM_SERVICE, "../config", &s), AMBER_ERR_INVALID_ARG);
	assert_int_equal(core_session_open_arg(&comp, AMBER_ROM_SERVICE, "hello_server", &s), AMBER_ERR_INVALID_ARG);
	assert_int_equal(core_session_open_arg(&comp, AMBER_PD_SERVICE, "x", &s), AMBER_ERR_INVALID_ARG);
	comp.has_config = false;
	assert_int_equal(core_session_open_arg(&comp, AMBER_ROM_SERVICE, AMBER_ROM_CONFIG, &s), AMBER_ERR_INVALID_ARG);
	/* rom_update gives a component without one a config */
	assert_int_equal(rom_update(&comp, AMBER_ROM_CONFIG, "<y/>", 4), AMBER_OK);
	assert_int_equal(core_session_open_arg(&comp, AMBER_ROM_SERVICE, AMBER_ROM_CONFIG, &s), AMBER_OK);
	end_component();
}

int main(void)
{
	rom_init(NULL); /* no components directory: binary modules are refused */
	const struct CMUnitTest tests[] = {
		FX_TEST(test_update_signals_and_new_version),
		FX_TEST(test_sessions_refused),
	};
	return cmocka_run_group_tests_name("core: ROM", tests, fx_group_setup, NULL);
}
