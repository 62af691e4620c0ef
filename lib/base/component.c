/*
 * The start path of framework components (amber/component.h).
 *
 * Why a weak main: start.c calls main(). A component that defines its own
 * main never pulls this object out of the archive (nothing else refers to
 * it), and if it did, its strong main would win. A component that only
 * defines component_construct leaves main undefined, so the linker takes
 * this object, whose main builds the main entrypoint in the initial
 * thread and runs it. component_construct is a weak reference here so that
 * a component with neither links and says so at start-up.
 */
#include <amber/component.h>
#include <amber/error.h>
#include <amber/log.h>

extern void component_construct(struct amber_env *env) __attribute__((weak));
int main(void) __attribute__((weak));

int main(void)
{
	static struct amber_env env;
	static struct amber_entrypoint ep;
	if (!component_construct) {
		amber_log("component: neither main nor component_construct");
		return 1;
	}
	env.parent = AMBER_SEL_PARENT;
	env.pd = amber_env_pd();
	env.cpu = amber_env_cpu();
	env.rm = amber_env_rm();
	int err = amber_entrypoint_construct(&ep, &env, component_construct);
	if (err) {
		amber_log("component: constructing the entrypoint failed: %s", amber_error_name(err));
		return 1;
	}
	return amber_entrypoint_run(&ep);
}
