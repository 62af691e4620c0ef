/*
 * hello_server: the server half of the demo (protocol: amber/hello.h).
 *
 * Creates a gate bound to its own thread, announces it to the parent as
 * "hello" and serves requests in a reply-and-wait loop. GIVE_IRQ shows
 * capability transfer: the client's IRQ arrives in the receive window, and
 * after replying the server triggers it to wake the client.
 *
 * Every IPC (logging included) overwrites the UTCB, so each request is
 * copied out before anything is logged, and the reply is written last.
 */
#include <amber/error.h>
#include <amber/hello.h>
#include <amber/ipc.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/protocols.h>

enum {
	GATE_SEL = AMBER_SEL_FIRST_FREE, /* our service gate */
	RCV_SEL = AMBER_SEL_FIRST_FREE + 1, /* receive window: one slot for a client's IRQ */
};
#define GATE_LABEL 0x68656c6cu /* "hell": tells our gate apart in utcb->label */
#define MAX_ERRORS 100 /* consecutive receive errors before giving up */

enum action { REPLY, REPLY_THEN_TRIGGER, REPLY_THEN_QUIT };

struct request {
	amber_tag_t tag;
	amber_word_t label;
	amber_word_t mr[AMBER_MR_COUNT];
};

static uint64_t served;

/* Handle one request; leaves the reply in the UTCB and its tag in *reply. */
static enum action handle(struct amber_utcb *u, amber_tag_t *reply, amber_sel_t *irq)
{
	struct request rq;
	rq.tag = u->tag;
	rq.label = u->label;
	unsigned words = amber_tag_words(rq.tag), items = amber_tag_items(rq.tag);
	for (unsigned i = 0; i < words + items && i < AMBER_MR_COUNT; i++)
		rq.mr[i] = u->mr[i];
	served++;

	int64_t status = AMBER_OK;
	amber_word_t result = 0;
	enum action act = REPLY;
	char text[AMBER_MSG_STRING_MAX + 1];
	long text_len = -1;

	if (rq.label != GATE_LABEL || amber_tag_label(rq.tag) != AMBER_HELLO_PROTO || words < 1) {
		amber_log("unexpected message (gate label %#lx, tag %#lx)", (unsigned long)rq.label,
			  (unsigned long)rq.tag);
		status = AMBER_ERR_PROTO;
	} else {
		switch (rq.mr[0]) {
		case AMBER_HELLO_ADD:
			if (words < 3) {
				status = AMBER_ERR_INVALID_ARG;
				break;
			}
			result = rq.mr[1] + rq.mr[2];
			amber_log("add(%lu, %lu) = %lu", (unsigned long)rq.mr[1], (unsigned long)rq.mr[2],
				  (unsigned long)result);
			break;
		case AMBER_HELLO_ECHO:
			/* nothing was logged yet: the UTCB still holds the request */
			text_len = amber_mr_get_string(u, 1, words, text, sizeof text);
			if (text_len < 0) {
				status = AMBER_ERR_INVALID_ARG;
				break;
			}
			amber_log("echo \"%s\"", text);
			break;
		case AMBER_HELLO_COUNT:
			result = served;
			amber_log("count = %lu", (unsigned long)served);
			break;
		case AMBER_HELLO_GIVE_IRQ:
			if (items != 1 || words + 1 > AMBER_MR_COUNT) {
				amber_log("give_irq without a capability");
				status = AMBER_ERR_ITEM;
				break;
			}
			*irq = amber_item_sel(rq.mr[words]);
			result = AMBER_HELLO_IRQ_TRIGGERS;
			amber_log("received irq capability in slot %u (rights %#x)", *irq,
				  amber_item_rights(rq.mr[words]));
			act = REPLY_THEN_TRIGGER;
			break;
		case AMBER_HELLO_QUIT:
			amber_log("quit requested after %lu requests", (unsigned long)served);
			act = REPLY_THEN_QUIT;
			break;
		default:
			amber_log("unknown method %lu", (unsigned long)rq.mr[0]);
			status = AMBER_ERR_OPCODE;
			break;
		}
	}

	/* Build the reply now that all logging is done. */
	u->mr[0] = (amber_word_t)status;
	unsigned reply_words = 1;
	if (status == AMBER_OK && text_len >= 0)
		reply_words = amber_mr_put_string(u, 1, text, (size_t)text_len);
	else if (status == AMBER_OK && act != REPLY_THEN_QUIT) {
		u->mr[1] = result;
		reply_words = 2;
	}
	*reply = amber_tag(AMBER_HELLO_PROTO, reply_words, 0);
	return status == AMBER_OK ? act : REPLY;
}

int main(void)
{
	struct amber_utcb *u = amber_utcb();
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, GATE_SEL, AMBER_SEL_THREAD, GATE_LABEL);
	if (err) {
		amber_log("FAIL: cannot create gate (%s)", amber_error_name(err));
		return 1;
	}
	err = amber_parent_announce(AMBER_HELLO_SERVICE, GATE_SEL);
	if (err) {
		amber_log("FAIL: cannot announce \"hello\" (%s)", amber_error_name(err));
		return 1;
	}
	amber_log("announced service \"hello\", waiting for requests");

	unsigned errors = 0;
	u->br[0] = amber_rcv_window(RCV_SEL, 1);
	err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	for (;;) {
		if (err) {
			/* e.g. the caller vanished before our reply: just wait again */
			if (++errors > MAX_ERRORS) {
				amber_log("FAIL: giving up after %u receive errors", MAX_ERRORS);
				return 1;
			}
			amber_log("receive/reply failed (%s), waiting again", amber_error_name(err));
			u->br[0] = amber_rcv_window(RCV_SEL, 1);
			err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
			continue;
		}
		errors = 0;
		amber_tag_t reply;
		amber_sel_t irq = AMBER_SEL_INVALID;
		enum action act = handle(u, &reply, &irq);

		if (act == REPLY) {
			u->br[0] = amber_rcv_window(RCV_SEL, 1);
			err = amber_ipc_reply_and_wait(reply, AMBER_TIMEOUT_NEVER);
			continue;
		}

		err = amber_ipc_reply(reply);
		if (err)
			amber_log("reply failed (%s)", amber_error_name(err));
		if (act == REPLY_THEN_QUIT) {
			amber_log("bye");
			return 0;
		}

		/* REPLY_THEN_TRIGGER: wake the client through its own IRQ. */
		for (unsigned i = 1; i <= AMBER_HELLO_IRQ_TRIGGERS; i++) {
			err = amber_irq_trigger(irq);
			if (err)
				amber_log("FAIL: trigger irq (%s)", amber_error_name(err));
			else
				amber_log("triggered the client's irq (%u/%u)", i, AMBER_HELLO_IRQ_TRIGGERS);
		}
		err = amber_task_delete(AMBER_SEL_TASK, irq); /* free the window slot */
		if (err)
			amber_log("FAIL: delete irq capability (%s)", amber_error_name(err));
		u->br[0] = amber_rcv_window(RCV_SEL, 1);
		err = amber_ipc_wait(AMBER_TIMEOUT_NEVER);
	}
}
