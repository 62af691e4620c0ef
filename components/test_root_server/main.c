/*
 * test_root_server: a server that knows its clients' sessions (the root
 * interface, amber/root.h), as a Genode server's Root_component does.
 *
 * It announces "sessions" with ANNOUNCE_ROOT. For each client's session it
 * makes an RPC object of its own with a per-session sum and a heap buffer
 * (what it holds for that client), and logs the client's label, the
 * arguments and the donated quota. It refuses a session whose arguments
 * say "deny" (RIGHTS, Genode's Service_denied) or that donates less than
 * 4 KiB of RAM (QUOTA, Insufficient_ram_quota; core moves RAM in pages). On UPGRADE it logs the quota; on
 * CLOSE, whether the client closed the session or ended, it frees the
 * object and the buffer. Every event logs how many sessions are open.
 * Once <server closes="N"/> sessions have closed and none is open, it
 * ends (exit code 0). <server delay_ms="N"/> makes it announce only after
 * N ms, so that clients ask before the announcement; <server slow_ms="N"/>
 * takes N ms to make each session.
 */
#include <amber/component.h>
#include <amber/error.h>
#include <amber/heap.h>
#include <amber/log.h>
#include <amber/rom.h>
#include <amber/root.h>
#include <amber/signal.h>
#include <amber/string.h>
#include <amber/test_root.h>
#include <amber/timer.h>

#define BUFFER_BYTES 1024u

struct session {
	struct amber_rpc_object rpc;
	unsigned number;
	char label[AMBER_ROOT_TEXT_MAX];
	uint64_t sum;
	uint8_t *buffer; /* what the server holds for this client */
};

static struct {
	struct amber_env *env;
	struct amber_root root;
	struct amber_signal_context requests;
	unsigned made, closed, expected_closes, buffers_live, slow_ms;
} s;

static int dispatch(struct amber_rpc_object *obj, amber_word_t op, struct amber_rpc_msg *args,
		    struct amber_rpc_msg *res)
{
	struct session *x = obj->state;
	if (op == AMBER_TEST_ROOT_ADD && args->words >= 1) {
		x->sum += args->w[0];
		res->w[0] = x->sum;
	} else if (op == AMBER_TEST_ROOT_OPEN) {
		res->w[0] = s.root.open;
	} else {
		return AMBER_ERR_OPCODE;
	}
	res->words = 1;
	return AMBER_OK;
}

static int contains(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (; *text; text++)
		if (strncmp(text, word, n) == 0)
			return 1;
	return 0;
}

static int open_session(void *ctx, const struct amber_root_request *r, amber_sel_t *cap, void **handle)
{
	(void)ctx;
	if (contains(r->args, "deny")) {
		amber_log("server: session for %s refused: denied (args \"%s\")", r->label, r->args);
		return AMBER_ERR_RIGHTS;
	}
	if (r->ram < 4096) {
		amber_log("server: session for %s refused: %lu bytes donated, 4096 needed", r->label,
			  (unsigned long)r->ram);
		return AMBER_ERR_QUOTA;
	}
	if (s.slow_ms) {
		/* A slow server: clients that stop waiting get their session
		 * closed by the parent once it is made. */
		struct amber_timer timer;
		if (amber_timer_open(&timer) == AMBER_OK) {
			amber_timer_sleep_us(&timer, (uint64_t)s.slow_ms * 1000);
			amber_timer_close(&timer);
		}
	}
	struct session *x = amber_malloc(sizeof(*x));
	uint8_t *buffer = amber_malloc(BUFFER_BYTES);
	if (!x || !buffer) {
		amber_free(x);
		amber_free(buffer);
		return AMBER_ERR_QUOTA;
	}
	memset(x, 0, sizeof(*x));
	amber_rpc_object_init(&x->rpc, AMBER_TEST_ROOT_PROTO, dispatch, x);
	int err = amber_rpc_ep_manage(&s.env->ep->rpc, &x->rpc);
	if (err) {
		amber_free(buffer);
		amber_free(x);
		return err;
	}
	x->number = ++s.made;
	x->buffer = buffer;
	s.buffers_live++;
	amber_strlcpy(x->label, r->label, sizeof(x->label));
	*cap = x->rpc.cap;
	*handle = x;
	amber_log("server: session %u for %s (args \"%s\", %lu bytes, %lu caps donated), %u open", x->number, r->label,
		  r->args, (unsigned long)r->ram, (unsigned long)r->caps, s.root.open + 1);
	return AMBER_OK;
}

static void upgrade_session(void *ctx, void *handle, const struct amber_root_request *r)
{
	(void)ctx;
	struct session *x = handle;
	amber_log("server: session %u of %s upgraded by %lu bytes, %lu caps", x->number, x->label,
		  (unsigned long)r->ram, (unsigned long)r->caps);
}

static void close_session(void *ctx, void *handle, const struct amber_root_request *r)
{
	(void)ctx;
	struct session *x = handle;
	amber_rpc_ep_dissolve(&s.env->ep->rpc, &x->rpc);
	amber_free(x->buffer);
	s.buffers_live--;
	s.closed++;
	amber_log("server: session %u of %s closed (sum %lu, %lu bytes go back), %u open", x->number, x->label,
		  (unsigned long)x->sum, (unsigned long)r->ram, s.root.open);
	amber_free(x);
}

static const struct amber_root_ops ops = { open_session, upgrade_session, close_session };

static void requests(void *arg, uint32_t count)
{
	(void)arg;
	(void)count;
	amber_root_dispatch(&s.root);
	if (s.closed >= s.expected_closes && s.root.open == 0) {
		amber_log("server: %u sessions closed, %u buffers left", s.closed, s.buffers_live);
		amber_entrypoint_exit(s.env->ep, s.buffers_live == 0 ? 0 : 1);
	}
}

void component_construct(struct amber_env *env)
{
	const char *config = 0;
	s.env = env;
	s.expected_closes = 2;
	unsigned delay_ms = 0;
	if (amber_rom_config(&config, 0) == AMBER_OK) {
		s.expected_closes = amber_config_number(config, "closes", 2);
		delay_ms = amber_config_number(config, "delay_ms", 0);
		s.slow_ms = amber_config_number(config, "slow_ms", 0);
	}
	if (delay_ms) {
		/* Clients that ask meanwhile wait for the announcement. */
		struct amber_timer timer;
		if (amber_timer_open(&timer) == AMBER_OK) {
			amber_timer_sleep_us(&timer, (uint64_t)delay_ms * 1000);
			amber_timer_close(&timer);
		}
	}
	s.root.ops = &ops;
	int err = amber_entrypoint_signal_handler(env->ep, &s.requests, requests, 0);
	if (!err)
		err = amber_parent_announce_root(AMBER_TEST_ROOT_SERVICE, s.requests.sel);
	if (err) {
		amber_log("server: FAIL: announce (%s)", amber_error_name(err));
		amber_entrypoint_exit(env->ep, 1);
		return;
	}
	amber_log("server: serving \"%s\" until %u sessions have closed", AMBER_TEST_ROOT_SERVICE, s.expected_closes);
}
