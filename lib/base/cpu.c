/*
 * CPU session client (amber/cpu.h).
 *
 * Why the thread travels as a map item with all rights: core checks
 * CONTROL on it and identifies it by its object, so a component can only
 * control threads it holds a full capability to.
 */
#include <amber/cpu.h>
#include <amber/ipc.h>
#include <amber/string.h>

static int thread_call(amber_sel_t cpu, amber_word_t method, amber_sel_t thread, unsigned words)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = method;
	u->mr[words] = amber_map_item(thread, AMBER_RIGHTS_ALL);
	return amber_ipc_call(cpu, amber_tag(AMBER_PROTO_CPU, words, 1), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_cpu_create_thread(amber_sel_t cpu, const char *name, amber_sel_t dst, uint64_t *utcb)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_CPU_CREATE_THREAD;
	unsigned words = amber_mr_put_string(u, 1, name, strnlen(name, 31));
	int err = amber_ipc_call_rcv(cpu, amber_tag(AMBER_PROTO_CPU, words, 0), dst, 1);
	if (err == AMBER_OK && (amber_tag_items(u->tag) != 1 || amber_tag_words(u->tag) < 2))
		err = AMBER_ERR_ITEM;
	if (err == AMBER_OK && utcb)
		*utcb = u->mr[1];
	return err;
}

int amber_cpu_start(amber_sel_t cpu, amber_sel_t thread, uint64_t ip, uint64_t sp, uint64_t tcb)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[1] = ip;
	u->mr[2] = sp;
	u->mr[3] = tcb;
	return thread_call(cpu, AMBER_CPU_START, thread, 4);
}

int amber_cpu_pause(amber_sel_t cpu, amber_sel_t thread) { return thread_call(cpu, AMBER_CPU_PAUSE, thread, 1); }

int amber_cpu_resume(amber_sel_t cpu, amber_sel_t thread) { return thread_call(cpu, AMBER_CPU_RESUME, thread, 1); }

int amber_cpu_kill_thread(amber_sel_t cpu, amber_sel_t thread)
{
	return thread_call(cpu, AMBER_CPU_KILL_THREAD, thread, 1);
}

int amber_cpu_state(amber_sel_t cpu, amber_sel_t thread, struct amber_thread_state *state)
{
	_Static_assert(sizeof(struct amber_thread_state) ==
			       (AMBER_CPU_STATE_WORDS + AMBER_CPU_STATE_FAULT_WORDS) * sizeof(uint64_t),
		       "STATE words, in protocol order");
	struct amber_utcb *u = amber_utcb();
	int err = thread_call(cpu, AMBER_CPU_STATE, thread, 1);
	unsigned words = amber_tag_words(u->tag);
	if (err == AMBER_OK && words < AMBER_CPU_STATE_WORDS)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK && state) {
		/* A core without the fault words: not held on a fault. */
		size_t n = words >= AMBER_CPU_STATE_WORDS + AMBER_CPU_STATE_FAULT_WORDS ? sizeof(*state)
											 : AMBER_CPU_STATE_WORDS * sizeof(uint64_t);
		memset(state, 0, sizeof(*state));
		memcpy(state, u->mr, n);
	}
	return err;
}

int amber_cpu_set_state(amber_sel_t cpu, amber_sel_t thread, const struct amber_thread_state *state)
{
	struct amber_utcb *u = amber_utcb();
	memcpy(&u->mr[1], state, AMBER_CPU_SET_STATE_WORDS * sizeof(uint64_t)); /* rip .. r15 */
	return thread_call(cpu, AMBER_CPU_SET_STATE, thread, 1 + AMBER_CPU_SET_STATE_WORDS);
}

int amber_cpu_sigh(amber_sel_t cpu, amber_sel_t context)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_CPU_SIGH;
	unsigned items = 0;
	if (context != AMBER_SEL_INVALID) {
		u->mr[1] = amber_map_item(context, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
		items = 1;
	}
	return amber_ipc_call(cpu, amber_tag(AMBER_PROTO_CPU, 1, items), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_cpu_state_full_size(amber_sel_t cpu, uint64_t *size)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_CPU_STATE_FULL_SIZE;
	int err = amber_ipc_call(cpu, amber_tag(AMBER_PROTO_CPU, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK && size)
		*size = u->mr[0];
	return err;
}

static int full_call(amber_sel_t cpu, amber_word_t method, amber_sel_t thread, amber_sel_t ds)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = method;
	u->mr[1] = amber_map_item(thread, AMBER_RIGHTS_ALL);
	u->mr[2] = amber_map_item(ds, AMBER_RIGHT_INVOKE | AMBER_RIGHT_GRANT);
	return amber_ipc_call(cpu, amber_tag(AMBER_PROTO_CPU, 1, 2), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
}

int amber_cpu_state_full(amber_sel_t cpu, amber_sel_t thread, amber_sel_t ds, uint64_t *size)
{
	struct amber_utcb *u = amber_utcb();
	int err = full_call(cpu, AMBER_CPU_STATE_FULL, thread, ds);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK && size)
		*size = u->mr[0];
	return err;
}

int amber_cpu_set_state_full(amber_sel_t cpu, amber_sel_t thread, amber_sel_t ds)
{
	return full_call(cpu, AMBER_CPU_SET_STATE_FULL, thread, ds);
}

int amber_cpu_affinity_space(amber_sel_t cpu, unsigned *n)
{
	struct amber_utcb *u = amber_utcb();
	u->mr[0] = AMBER_CPU_AFFINITY_SPACE;
	int err = amber_ipc_call(cpu, amber_tag(AMBER_PROTO_CPU, 1, 0), AMBER_TIMEOUT_NEVER, AMBER_TIMEOUT_NEVER);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 1)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK)
		*n = (unsigned)u->mr[0];
	return err;
}

int amber_cpu_affinity(amber_sel_t cpu, amber_sel_t thread, amber_word_t location)
{
	amber_utcb()->mr[1] = location;
	return thread_call(cpu, AMBER_CPU_AFFINITY, thread, 2);
}

int amber_cpu_affinity_state(amber_sel_t cpu, amber_sel_t thread, amber_word_t *bound, amber_word_t *last)
{
	struct amber_utcb *u = amber_utcb();
	int err = thread_call(cpu, AMBER_CPU_AFFINITY_STATE, thread, 1);
	if (err == AMBER_OK && amber_tag_words(u->tag) < 2)
		err = AMBER_ERR_PROTO;
	if (err == AMBER_OK) {
		*bound = u->mr[0];
		*last = u->mr[1];
	}
	return err;
}
