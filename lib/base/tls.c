/*
 * Thread-local storage for new threads (amber/tls.h).
 *
 * Why the template comes from the caller's TCB: core wrote the PT_TLS
 * segment's description into the first thread's TCB, and every TCB laid
 * out here copies it, so any thread can start another without the runtime
 * knowing the ELF file or a global that a checkpoint would have to agree
 * with. The initial image (.tdata) is never written: threads only ever
 * reach their own copies through fs.
 */
#include <amber/string.h>
#include <amber/syscall.h>
#include <amber/tls.h>

uint64_t amber_tls_area_size(void)
{
	const struct amber_tcb *me = amber_tcb();
	uint64_t align = me->tls_align > AMBER_TCB_ALIGN ? me->tls_align : AMBER_TCB_ALIGN;
	return sizeof(struct amber_tcb) + align + ((me->tls_memsz + align - 1) & ~(align - 1)) + 16;
}

uint64_t amber_tls_setup(uint64_t base, uint64_t top, uint64_t utcb, uint64_t min_stack, uint64_t *stack_top)
{
	const struct amber_tcb *me = amber_tcb();
	uint64_t tcb, sp;
	if (!amber_tls_layout(base, top, me->tls_memsz, me->tls_align, min_stack, &tcb, &sp))
		return 0;
	uint64_t align = me->tls_align ? me->tls_align : 1;
	uint8_t *block = (uint8_t *)(uintptr_t)(tcb - ((me->tls_memsz + align - 1) & ~(align - 1)));
	memcpy(block, (const void *)(uintptr_t)me->tls_image, me->tls_filesz);
	memset(block + me->tls_filesz, 0, me->tls_memsz - me->tls_filesz);
	struct amber_tcb *t = (struct amber_tcb *)(uintptr_t)tcb;
	*t = (struct amber_tcb){ .self = t,
				 .utcb = (struct amber_utcb *)(uintptr_t)utcb,
				 .tls_image = me->tls_image,
				 .tls_filesz = me->tls_filesz,
				 .tls_memsz = me->tls_memsz,
				 .stack_guard = me->stack_guard,
				 .tls_align = me->tls_align };
	*stack_top = sp;
	return tcb;
}
