/*
 * The C side of component start-up.
 *
 * Why a separate step: crt0 is assembly only because the stack must be set
 * up before any C runs. Here we keep core's start argument (rdi; 0 today),
 * run the (rare) constructors the linker script collected in .init_array,
 * then main(): the component's own, or the runtime's weak one
 * (component.c), which runs a framework component's component_construct
 * in the main entrypoint.
 * Memory needs no preparation: core loads the image into zero-filled
 * dataspaces, so .bss is already zero.
 *
 * This object is in every component, so its two variables also guarantee
 * that the rodata and data segments of component.ld are never empty (an
 * empty PT_LOAD would get address 0, outside the image area).
 */
#include <amber/abi.h>

extern int main(void);
int amber_start_c(void *arg);

/* The start argument core passed in rdi. */
void *amber_start_arg;

/* Identifies the runtime in an image dump. */
const char amber_runtime_id[] = "amber-base runtime, abi 1";

typedef void (*amber_ctor_t)(void);
extern amber_ctor_t __init_array_start[] __attribute__((visibility("hidden")));
extern amber_ctor_t __init_array_end[] __attribute__((visibility("hidden")));

int amber_start_c(void *arg)
{
	amber_start_arg = arg;
	for (amber_ctor_t *c = __init_array_start; c < __init_array_end; c++)
		(*c)();
	return main();
}
