/*
 * test_squat: tries to take service names that are not its own (tracker
 * issue 10, "Isolation"). It creates one gate bound to its own thread and
 *   1. announces it as "hello", before the real hello_server can: at the
 *      top level core refuses (RIGHTS: the scenario names another provider),
 *      under init the name is its own but clients are routed by init;
 *   2. announces the same gate under "sq0", "sq1", ... until the parent
 *      refuses (config <squat names="N"/>, default 200): init's table used
 *      to be shared by all children and filled up, so a later server could
 *      not announce; now each child has a limit of its own.
 * It logs what came back and exits: "squat: hello: ERR",
 * "squat: N names announced, then ERR".
 */
#include <amber/error.h>
#include <amber/kobj.h>
#include <amber/log.h>
#include <amber/parent.h>
#include <amber/rom.h>

#define GATE_SEL 40u

int main(void)
{
	unsigned names = 200;
	const char *config;
	if (amber_rom_config(&config, 0) == AMBER_OK)
		names = amber_config_number(config, "names", names);
	int err = amber_factory_create_gate(AMBER_SEL_FACTORY, GATE_SEL, AMBER_SEL_THREAD, 1);
	if (err) {
		amber_log("FAIL: cannot create a gate: %s", amber_error_name(err));
		return 1;
	}
	amber_log("squat: hello: %s", amber_error_name(amber_parent_announce("hello", GATE_SEL)));
	unsigned n = 0;
	err = AMBER_OK;
	while (n < names) {
		char name[16] = "sq";
		unsigned v = n, len = 2;
		char digits[10];
		unsigned d = 0;
		do
			digits[d++] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		while (d)
			name[len++] = digits[--d];
		name[len] = '\0';
		if ((err = amber_parent_announce(name, GATE_SEL)) != AMBER_OK)
			break;
		n++;
	}
	amber_log("squat: %u names announced, then %s", n, n < names ? amber_error_name(err) : "stopped");
	return 0;
}
