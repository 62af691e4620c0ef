/*
 * The counter interface of components/rpc_counter_server, an example of
 * an RPC interface written with amber/rpc.h: one protocol number, an
 * opcode per function, and an inline client stub per function.
 *
 * The server announces one counter as service "counter"; CREATE makes
 * more (a capability result), ADD_FROM reads another counter (a
 * capability argument), SELF returns the capability of the counter it is
 * called on, so a client sees the capability map fold a capability it
 * holds already onto the slot it has.
 */
#ifndef AMBER_RPC_COUNTER_H
#define AMBER_RPC_COUNTER_H

#include "cap_map.h"
#include "rpc.h"

#define AMBER_COUNTER_SERVICE "counter"
#define AMBER_COUNTER_PROTO 0x3001u

enum amber_counter_op {
	AMBER_COUNTER_INCREMENT = 1, /* by -> value */
	AMBER_COUNTER_GET = 2,       /* -> value */
	AMBER_COUNTER_RESET = 3,     /* -> old value */
	AMBER_COUNTER_ADD_FROM = 4,  /* cap: a counter -> value + its value */
	AMBER_COUNTER_CREATE = 5,    /* initial -> cap: a new counter */
	AMBER_COUNTER_SELF = 6,      /* -> cap: this counter */
	AMBER_COUNTER_CLOSE = 7,     /* destroy this counter (not the first one) */
	AMBER_COUNTER_QUIT = 8,      /* the server ends (first counter only) */
};

static inline int amber_counter_increment(amber_sel_t c, uint64_t by, uint64_t *value)
{
	amber_word_t a = by;
	return amber_rpc_call_words(c, AMBER_COUNTER_PROTO, AMBER_COUNTER_INCREMENT, 1, &a, 1, value);
}

static inline int amber_counter_get(amber_sel_t c, uint64_t *value)
{
	return amber_rpc_call_words(c, AMBER_COUNTER_PROTO, AMBER_COUNTER_GET, 0, 0, 1, value);
}

static inline int amber_counter_reset(amber_sel_t c, uint64_t *old)
{
	return amber_rpc_call_words(c, AMBER_COUNTER_PROTO, AMBER_COUNTER_RESET, 0, 0, 1, old);
}

static inline int amber_counter_add_from(amber_sel_t c, amber_sel_t other, uint64_t *value)
{
	struct amber_rpc_msg args = { .words = 0, .caps = 1, .cap = { other } };
	struct amber_rpc_msg res = { .words = 0, .caps = 0 };
	int err = amber_rpc_call(c, AMBER_COUNTER_PROTO, AMBER_COUNTER_ADD_FROM, &args, &res);
	if (err == AMBER_OK && res.words < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK && value)
		*value = res.w[0];
	return err;
}

/* Capability results: *out is one reference the caller holds
 * (amber_cap_map_release gives it back). */
static inline int amber_counter_cap_call(amber_sel_t c, amber_word_t op, unsigned nargs, amber_word_t arg,
					 amber_sel_t *out)
{
	struct amber_rpc_msg args = { .words = nargs, .caps = 0, .w = { arg } };
	struct amber_rpc_msg res = { .words = 0, .caps = 1 };
	int err = amber_rpc_call(c, AMBER_COUNTER_PROTO, op, &args, &res);
	if (err == AMBER_OK && res.caps != 1) {
		for (unsigned i = 0; i < res.caps; i++)
			amber_cap_map_release(res.cap[i]);
		err = AMBER_ERR_PROTO;
	}
	if (err == AMBER_OK)
		*out = res.cap[0];
	return err;
}

static inline int amber_counter_create(amber_sel_t c, uint64_t initial, amber_sel_t *out)
{
	return amber_counter_cap_call(c, AMBER_COUNTER_CREATE, 1, initial, out);
}

static inline int amber_counter_self(amber_sel_t c, amber_sel_t *out)
{
	return amber_counter_cap_call(c, AMBER_COUNTER_SELF, 0, 0, out);
}

static inline int amber_counter_close(amber_sel_t c)
{
	return amber_rpc_call_words(c, AMBER_COUNTER_PROTO, AMBER_COUNTER_CLOSE, 0, 0, 0, 0);
}

static inline int amber_counter_quit(amber_sel_t c)
{
	return amber_rpc_call_words(c, AMBER_COUNTER_PROTO, AMBER_COUNTER_QUIT, 0, 0, 0, 0);
}

#endif
