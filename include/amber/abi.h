/*
 * The Amber component ABI: everything a component and the kernel agree on.
 *
 * A component talks to the kernel only through its thread's UTCB (user
 * thread control block) and one "kernel entry" primitive. The UTCB layout,
 * the operation codes, the message tag, map items, error codes and the
 * initial capability slots are defined here and nowhere else. Nothing in
 * this file depends on Linux: a bare-metal kernel would provide the same
 * UTCB and enter the kernel with a trap instead of the futex doorbell that
 * the hosted kernel uses (see docs/abi.md, "Kernel entry").
 *
 * The file is shared by the freestanding component runtime and amber-core,
 * so it uses only <stdint.h> and <stddef.h>.
 */
#ifndef AMBER_ABI_H
#define AMBER_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t amber_word_t;
typedef uint32_t amber_sel_t; /* capability selector: a slot in the caller's capability space */

/* ---- Sizes --------------------------------------------------------- */

#define AMBER_PAGE_SIZE 4096u
#define AMBER_UTCB_SIZE 4096u
#define AMBER_MR_COUNT 64u    /* message registers (words) per UTCB */
#define AMBER_BR_COUNT 4u     /* buffer registers (receive descriptors) */
#define AMBER_TLS_WORDS 16u   /* words reserved for the runtime's thread-local data */
#define AMBER_MAX_ITEMS 8u    /* map items per message */
/* Selectors run from 1 to AMBER_CAP_SLOTS - 1: the most slots a capability
 * space can have. The kernel makes them in leaves of AMBER_CAP_LEAF_SLOTS
 * when first used, as far as the task's caps quota allows (docs/abi.md). */
#define AMBER_CAP_SLOTS 65536u
#define AMBER_CAP_LEAF_SLOTS 4096u

/* ---- Capability selectors ------------------------------------------ */

#define AMBER_SEL_INVALID 0u /* slot 0 is never valid */

/* Slots filled by the kernel/core before a component's first instruction. */
enum amber_initial_sel {
	AMBER_SEL_TASK = 1,    /* the component's own task (protection domain) */
	AMBER_SEL_THREAD = 2,  /* the component's first thread */
	AMBER_SEL_FACTORY = 3, /* a factory limited by the component's kernel-object quota */
	AMBER_SEL_PARENT = 4,  /* gate to the component's parent (announce, session) */
	AMBER_SEL_LOG = 5,     /* gate to core's LOG service, labelled with the component's name */
	AMBER_SEL_FIRST_FREE = 16, /* first slot the component may allocate itself */
};

/* ---- Rights --------------------------------------------------------- */

enum amber_rights {
	AMBER_RIGHT_INVOKE = 1u << 0,  /* call a gate, trigger or receive an IRQ, use an object */
	AMBER_RIGHT_CONTROL = 1u << 1, /* change an object: bind, attach, create, map, unmap */
	AMBER_RIGHT_GRANT = 1u << 2,   /* pass the capability on with a map item */
	AMBER_RIGHTS_ALL = 7u,
};

/* ---- Operations (kernel entry) --------------------------------------- */

enum amber_op {
	AMBER_OP_CALL = 1,       /* send to sel, then wait for the reply from the same partner */
	AMBER_OP_SEND = 2,       /* send to sel, do not wait for a reply */
	AMBER_OP_WAIT = 3,       /* open wait: receive from any gate bound to / IRQ attached to me */
	AMBER_OP_REPLY_WAIT = 4, /* reply to the last caller (if any), then open wait */
	AMBER_OP_REPLY = 5,      /* reply to the last caller, do not wait */
};

/* Timeouts, in microseconds. */
#define AMBER_TIMEOUT_NEVER UINT64_MAX
#define AMBER_TIMEOUT_POLL 0u

/* ---- Message tag ------------------------------------------------------
 *
 *   bits  0..6   words: untyped words in mr[0..words)
 *   bits  8..11  items: map items in mr[words..words+items)
 *   bits 16..23  flags (must be zero)
 *   bits 32..63  label: the protocol; kernel objects check it, gates pass it on
 */
typedef uint64_t amber_tag_t;

static inline amber_tag_t amber_tag(uint32_t label, unsigned words, unsigned items)
{
	return ((uint64_t)label << 32) | ((uint64_t)(items & 0xfu) << 8) | (words & 0x7fu);
}
static inline unsigned amber_tag_words(amber_tag_t t) { return (unsigned)(t & 0x7fu); }
static inline unsigned amber_tag_items(amber_tag_t t) { return (unsigned)((t >> 8) & 0xfu); }
static inline unsigned amber_tag_flags(amber_tag_t t) { return (unsigned)((t >> 16) & 0xffu); }
static inline uint32_t amber_tag_label(amber_tag_t t) { return (uint32_t)(t >> 32); }
#define AMBER_TAG_RESERVED_MASK 0x00000000fffff080ull /* bits 7, 12..31 must be zero */

/* ---- Map items ----------------------------------------------------------
 *
 * One word: bits 0..7 type, bits 8..15 rights mask, bits 32..63 selector.
 * Sent: the selector names a capability in the sender's space; the receiver
 * gets it with (sender's rights & mask). Received: the kernel rewrites the
 * item so that the selector names the slot it was put in and the rights are
 * those the receiver holds.
 */
enum amber_item_type { AMBER_ITEM_MAP = 1 };

static inline amber_word_t amber_map_item(amber_sel_t sel, unsigned rights)
{
	return ((uint64_t)sel << 32) | ((uint64_t)(rights & 0xffu) << 8) | AMBER_ITEM_MAP;
}
static inline unsigned amber_item_type(amber_word_t w) { return (unsigned)(w & 0xffu); }
static inline unsigned amber_item_rights(amber_word_t w) { return (unsigned)((w >> 8) & 0xffu); }
static inline amber_sel_t amber_item_sel(amber_word_t w) { return (amber_sel_t)(w >> 32); }

/* Receive window in br[0]: capabilities arrive in slots [base, base+count). */
static inline amber_word_t amber_rcv_window(amber_sel_t base, unsigned count)
{
	return ((uint64_t)base << 32) | count;
}
static inline amber_sel_t amber_rcv_window_base(amber_word_t w) { return (amber_sel_t)(w >> 32); }
static inline unsigned amber_rcv_window_count(amber_word_t w) { return (unsigned)(w & 0xffffffffu); }

/* ---- Errors (negative values in utcb->error) ------------------------- */

enum amber_error {
	AMBER_OK = 0,
	AMBER_ERR_INVALID_CAP = -1,  /* selector out of range or slot empty */
	AMBER_ERR_PROTO = -2,        /* object does not speak the tag's protocol (wrong kind) */
	AMBER_ERR_RIGHTS = -3,       /* capability lacks a right the operation needs */
	AMBER_ERR_MSG_TAG = -4,      /* malformed tag: reserved bits, too many words or items */
	AMBER_ERR_ITEM = -5,         /* malformed map item, or it names an invalid capability */
	AMBER_ERR_RCV_WINDOW = -6,   /* receive window invalid or too small for the items sent */
	AMBER_ERR_TIMEOUT = -7,      /* the timeout expired before the operation completed */
	AMBER_ERR_CANCELED = -8,     /* the operation was cancelled (pause, checkpoint, kill) */
	AMBER_ERR_NO_PARTNER = -9,   /* gate unbound, receiver or caller gone, nothing to reply to */
	AMBER_ERR_QUOTA = -10,       /* kernel-object quota exhausted */
	AMBER_ERR_INVALID_ARG = -11, /* bad argument to a kernel-object method */
	AMBER_ERR_SLOT_BUSY = -12,   /* destination slot is not free */
	AMBER_ERR_OPCODE = -13,      /* unknown method of a kernel object */
	AMBER_ERR_BAD_OP = -14,      /* unknown operation in utcb->op */
	AMBER_ERR_SELF = -15,        /* operation would deadlock on the caller itself */
};

/* ---- Kernel-object protocols ---------------------------------------------
 *
 * Invoking a capability to a kernel object (not a gate) with AMBER_OP_CALL
 * runs a method: tag label = the object's protocol, mr[0] = method, mr[1..]
 * arguments. Results come back in mr[] with utcb->error set.
 */
enum amber_proto {
	AMBER_PROTO_TASK = 0xfff0,
	AMBER_PROTO_THREAD = 0xfff1,
	AMBER_PROTO_IRQ = 0xfff2,
	AMBER_PROTO_FACTORY = 0xfff3,
	AMBER_PROTO_GATE = 0xfff4,
};

enum amber_factory_method {
	/* mr[1] = destination slot in the caller's space. */
	AMBER_FACTORY_CREATE_GATE = 1, /* mr[2] = thread sel to bind (or 0), mr[3] = label */
	AMBER_FACTORY_CREATE_IRQ = 2,
};

enum amber_irq_method {
	AMBER_IRQ_TRIGGER = 1, /* needs INVOKE */
	AMBER_IRQ_ATTACH = 2,  /* mr[1] = thread sel, mr[2] = label; needs CONTROL */
	AMBER_IRQ_DETACH = 3,  /* needs CONTROL */
	AMBER_IRQ_RECEIVE = 4, /* block until triggered; rcv timeout applies; needs INVOKE */
};

enum amber_task_method {
	AMBER_TASK_CAP_INFO = 1, /* mr[1] = sel -> mr[0] = kind, mr[1] = rights, mr[2] = object id */
	AMBER_TASK_MAP = 2,      /* mr[1] = src sel, mr[2] = dst sel (in the invoked task), mr[3] = rights mask */
	AMBER_TASK_UNMAP = 3,    /* mr[1] = sel: revoke every capability derived from it */
	AMBER_TASK_DELETE = 4,   /* mr[1] = sel: free the slot (and its derived capabilities) */
};

enum amber_gate_method {
	AMBER_GATE_BIND = 1, /* mr[1] = thread sel, mr[2] = label; needs CONTROL */
};

/* Object kinds, as reported by AMBER_TASK_CAP_INFO and the export interface. */
enum amber_kind {
	AMBER_KIND_NONE = 0,
	AMBER_KIND_TASK = 1,
	AMBER_KIND_THREAD = 2,
	AMBER_KIND_GATE = 3,
	AMBER_KIND_IRQ = 4,
	AMBER_KIND_FACTORY = 5,
};

/* ---- The UTCB --------------------------------------------------------
 *
 * One page per thread, mapped at a fixed address in the component and
 * known to the kernel. The thread finds it through its thread control
 * block (struct amber_tcb below, word 1: %fs:8), not through the TLS base
 * itself, which belongs to the thread's C11 _Thread_local variables.
 */
struct amber_utcb {
	struct amber_utcb *self; /* set by the kernel */

	/* Kernel entry: the thread bumps entry_seq; the kernel sets
	 * done_seq = entry_seq when the operation has completed. Numbers use
	 * AMBER_SEQ_MASK; AMBER_SEQ_SLEEPING marks that the side waiting for
	 * the word is asleep and must be woken (see docs/abi.md). */
	volatile uint32_t entry_seq;
	volatile uint32_t done_seq;

	/* In: the operation. */
	uint32_t op;         /* enum amber_op */
	amber_sel_t sel;     /* capability invoked (CALL, SEND) */
	uint64_t snd_timeout_us;
	uint64_t rcv_timeout_us;

	/* In and out. */
	amber_tag_t tag;      /* message tag of the message sent / received */
	int64_t error;        /* out: enum amber_error */
	amber_word_t label;   /* out: label of the gate or IRQ the message came through */
	uint32_t spin_rounds; /* set by the kernel: times to yield before sleeping on done_seq */
	uint32_t spin_pauses; /* set by the kernel: pause-and-check steps after each yield */
	uint64_t reserved[6];

	amber_word_t mr[AMBER_MR_COUNT];
	amber_word_t br[AMBER_BR_COUNT];
	amber_word_t tls[AMBER_TLS_WORDS]; /* owned by the runtime; the kernel never touches it */
};

_Static_assert(sizeof(struct amber_utcb) <= AMBER_UTCB_SIZE, "UTCB must fit one page");

/* ---- The thread control block and thread-local storage -------------
 *
 * x86-64 TLS, variant II, as the psABI has it: a thread's TLS base
 * register (fs) points at its thread control block (TCB), whose first word
 * points to itself; the thread's copy of the ELF's PT_TLS segment (the TLS
 * block: .tdata copied, .tbss zeroed) lies right below it, so the compiler
 * reaches a _Thread_local variable at a fixed negative offset from fs. The
 * TCB also holds the thread's UTCB address (one load, %fs:8, as on
 * Genode's x86-64, where the UTCB is found without taking the TLS base)
 * and the description of the PT_TLS segment, so that any thread can lay
 * out the TLS of a new one. Core lays out the first thread's at the top of
 * its stack (AMBER_STACK_AREA); amber_tls_setup (amber/tls.h) lays out a
 * new thread's, and CPU START takes its TCB address as the fs base.
 */
struct amber_tcb {
	struct amber_tcb *self;   /* %fs:0, the psABI's thread pointer */
	struct amber_utcb *utcb;  /* %fs:8 */
	uint64_t tls_image;       /* PT_TLS: address of the initial image (.tdata) */
	uint64_t tls_filesz;      /* bytes of the initial image */
	uint64_t tls_memsz;       /* bytes of the TLS block (.tdata + .tbss) */
	uint64_t stack_guard;     /* %fs:0x28, where gcc's -fstack-protector looks */
	uint64_t tls_align;       /* alignment of the TLS block (a power of two, >= 1) */
	uint64_t reserved;
};

_Static_assert(offsetof(struct amber_tcb, utcb) == 8, "the runtime loads the UTCB from %fs:8");
_Static_assert(offsetof(struct amber_tcb, stack_guard) == 0x28, "gcc's stack-protector word is %fs:0x28");

#define AMBER_TCB_ALIGN 64u            /* a TCB is aligned at least this much */
#define AMBER_TLS_MAX_SIZE 0x10000u    /* the TLS block of a component: at most 64 KiB */
#define AMBER_TLS_MAX_ALIGN AMBER_PAGE_SIZE

/* Where a TLS area goes in [base, top): the TCB as high as its alignment
 * allows, the TLS block (memsz bytes, aligned `align`) below it, and the
 * stack below that (16-byte aligned). 0 if it does not fit with at least
 * `min_stack` bytes of stack left; core and the runtime both use this,
 * so the first thread and all others look the same. */
static inline int amber_tls_layout(uint64_t base, uint64_t top, uint64_t memsz, uint64_t align, uint64_t min_stack,
				   uint64_t *tcb, uint64_t *stack_top)
{
	if (align == 0)
		align = 1;
	if (memsz > AMBER_TLS_MAX_SIZE || align > AMBER_TLS_MAX_ALIGN || (align & (align - 1)))
		return 0;
	uint64_t tcb_align = align > AMBER_TCB_ALIGN ? align : AMBER_TCB_ALIGN;
	uint64_t block = (memsz + align - 1) & ~(align - 1);
	uint64_t need = sizeof(struct amber_tcb) + tcb_align + block + 16 + min_stack;
	if (top < base || top - base < need)
		return 0;
	uint64_t t = (top - sizeof(struct amber_tcb)) & ~(tcb_align - 1);
	*tcb = t;
	*stack_top = (t - block) & ~(uint64_t)15;
	return 1;
}

/* Doorbell words (entry_seq, done_seq): a 31-bit sequence number, and a
 * flag the waiting side sets before it sleeps so that the other side only
 * pays for a wake-up when someone actually sleeps. */
#define AMBER_SEQ_MASK 0x7fffffffu
#define AMBER_SEQ_SLEEPING 0x80000000u

/* ---- Address-space layout of a component ---------------------------------
 *
 * Fixed so that images and restores are byte-identical. Component ELF
 * files must be linked inside [AMBER_IMAGE_BASE, AMBER_IMAGE_END).
 */
#define AMBER_IMAGE_BASE 0x0000000001000000ull /* ELF segments */
#define AMBER_IMAGE_END 0x0000000040000000ull
#define AMBER_UTCB_AREA 0x0000000040000000ull /* utcb of thread i at AREA + i*UTCB_SIZE */
#define AMBER_UTCB_AREA_SIZE 0x0000000000100000ull /* 256 threads */
#define AMBER_TRAMPOLINE_ADDR 0x0000000040200000ull /* core's syscall trampoline page */
#define AMBER_STACK_AREA 0x0000000050000000ull /* first thread's stack grows down from here */
#define AMBER_STACK_SIZE 0x0000000000040000ull /* 256 KiB */
#define AMBER_DYNAMIC_BASE 0x0000000100000000ull /* region-map attachments without a fixed address */

#endif /* AMBER_ABI_H */
