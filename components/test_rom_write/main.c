/*
 * test_rom_write: a component that writes to its read-only config ROM.
 *
 * It attaches its "config" module (read-only, the only way core maps a
 * ROM), reads it, logs the address and then writes to it: core must
 * report the fault at that address and end this component only.
 */
#include <amber/log.h>
#include <amber/rom.h>

int main(void)
{
	const char *text = 0;
	int err = amber_rom_config(&text, 0);
	if (err) {
		amber_log("FAIL: no config ROM (error %d)", err);
		return 1;
	}
	amber_log("config: %s", text);
	amber_log("writing to the config ROM at %p", (const void *)text);
	*(volatile char *)(uintptr_t)text = 'X';
	amber_log("FAIL: the write to the config ROM did not fault");
	return 1;
}
