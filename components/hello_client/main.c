/*
 * hello_client: the client half of the demo (protocol: amber/hello.h).
 *
 * Gets a session to "hello" from the parent (the server's gate lands in a
 * slot of ours), makes a few RPCs, then hands the server an IRQ it created
 * and attached to its own thread, and sleeps on that IRQ until the server
 * has triggered it the promised number of times. Ends the server with QUIT
 * and exits with 0 if everything went as expected.
 */
#include <amber/error.h>
#include <amber/hello.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/string.h>

enum {
	HELLO_SEL = AMBER_SEL_FIRST_FREE, /* the server's gate */
	IRQ_SEL = AMBER_SEL_FIRST_FREE + 1, /* our IRQ, lent to the server */
};
#define IRQ_LABEL 0x697271u /* "irq" */
#define SESSION_TIMEOUT_US 10000000u /* the server may start after us */
#define IRQ_TIMEOUT_US 5000000u

static int failures;

static void fail(const char *what, int err)
{
	failures++;
	amber_log("FAIL: %s (%s)", what, amber_error_name(err));
}

/* CALL the server with mr[0..words) already set; checks IPC error and status. */
static int hello_call(unsigned words, unsigned items)
{
	struct amber_utcb *u = amber_utcb();
	int err = amber_ipc_call(HELLO_SEL, amber_tag(AMBER_HELLO_PROTO, words, items), AMBER_TIMEOUT_NEVER,
				 AMBER_TIMEOUT_NEVER);
	if (err)
		return err;
	if (amber_tag_words(u->tag) < 1)
		return AMBER_ERR_INVALID_ARG;
	return (int)(int64_t)u->mr[0];
}

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	int err = amber_parent_session(AMBER_HELLO_SERVICE, HELLO_SEL, SESSION_TIMEOUT_US);
	if (err) {
		fail("session \"hello\"", err);
		return 1;
	}
	amber_log("got a session to \"hello\"");

	/* ADD */
	u->mr[0] = AMBER_HELLO_ADD;
	u->mr[1] = 2;
	u->mr[2] = 3;
	err = hello_call(3, 0);
	if (err)
		fail("add", err);
	else {
		uint64_t sum = u->mr[1];
		amber_log("add(2, 3) = %lu", (unsigned long)sum);
		if (sum != 5)
			fail("add result", AMBER_ERR_INVALID_ARG);
	}

	/* COUNT: ADD and this one */
	u->mr[0] = AMBER_HELLO_COUNT;
	err = hello_call(1, 0);
	if (err)
		fail("count", err);
	else {
		uint64_t count = u->mr[1];
		amber_log("count = %lu", (unsigned long)count);
		if (count != 2)
			fail("count result", AMBER_ERR_INVALID_ARG);
	}

	/* ECHO */
	static const char greeting[] = "hello, amber";
	u->mr[0] = AMBER_HELLO_ECHO;
	err = hello_call(amber_mr_put_string(u, 1, greeting, sizeof greeting - 1), 0);
	if (err)
		fail("echo", err);
	else {
		char back[128];
		long len = amber_mr_get_string(u, 1, amber_tag_words(u->tag), back, sizeof back);
		amber_log("echo: \"%s\"", len < 0 ? "(malformed)" : back);
		if (len < 0 || strcmp(back, greeting) != 0)
			fail("echo result", AMBER_ERR_INVALID_ARG);
	}

	/* GIVE_IRQ: create an IRQ, attach it to ourselves, lend it to the server. */
	err = amber_factory_create_irq(AMBER_SEL_FACTORY, IRQ_SEL);
	if (err) {
		fail("create irq", err);
		return 1;
	}
	err = amber_irq_attach(IRQ_SEL, AMBER_SEL_THREAD, IRQ_LABEL);
	if (err) {
		fail("attach irq", err);
		return 1;
	}
	u->mr[0] = AMBER_HELLO_GIVE_IRQ;
	u->mr[1] = amber_map_item(IRQ_SEL, AMBER_RIGHT_INVOKE); /* the server may only trigger it */
	err = hello_call(1, 1);
	if (err) {
		fail("give irq", err);
		return 1;
	}
	unsigned expected = (unsigned)u->mr[1];
	amber_log("gave the server an irq, expecting %u wake-ups", expected);

	for (unsigned i = 1; i <= expected; i++) {
		err = amber_irq_receive(IRQ_SEL, IRQ_TIMEOUT_US);
		if (err) {
			fail("irq receive", err);
			break;
		}
		amber_log("irq woke me (%u/%u)", i, expected);
	}
	err = amber_irq_receive(IRQ_SEL, AMBER_TIMEOUT_POLL);
	if (err != AMBER_ERR_TIMEOUT)
		fail("no further irq pending", err);

	/* QUIT */
	u->mr[0] = AMBER_HELLO_QUIT;
	err = hello_call(1, 0);
	if (err)
		fail("quit", err);
	else
		amber_log("server quit");

	amber_log("done (%d failures)", failures);
	return failures ? 1 : 0;
}
