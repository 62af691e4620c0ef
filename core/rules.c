/* core/rules.h: the address-space layout and module names. */
#include <string.h>

#include "amber/abi.h"
#include "amber/rm_session.h"
#include "amber/rom_session.h"
#include "core/rules.h"

static const struct {
	uint64_t start, end;
} reserved[] = {
	{ AMBER_IMAGE_BASE, AMBER_IMAGE_END },
	{ AMBER_UTCB_AREA, AMBER_UTCB_AREA + AMBER_UTCB_AREA_SIZE },
	{ AMBER_TRAMPOLINE_ADDR, AMBER_TRAMPOLINE_ADDR + AMBER_PAGE_SIZE },
	{ AMBER_STACK_AREA - AMBER_STACK_SIZE, AMBER_STACK_AREA },
};

bool core_attachable(uint64_t addr, uint64_t size)
{
	if (addr < AMBER_RM_MIN || addr >= AMBER_RM_END || size > AMBER_RM_END - addr)
		return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (addr < reserved[i].end && reserved[i].start < addr + size)
			return false;
	return true;
}

bool core_module_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= AMBER_ROM_NAME_MAX || s[0] == '.' || strstr(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}
