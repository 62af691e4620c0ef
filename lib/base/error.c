/*
 * Error names for log lines: "FAIL: ... (got INVALID_CAP (-1) ...)" reads
 * better than bare numbers, and the names match enum amber_error.
 */
#include <amber/abi.h>
#include <amber/error.h>

const char *amber_error_name(long err)
{
	static const char *const names[] = {
		"OK",       "INVALID_CAP", "PROTO",       "RIGHTS",    "MSG_TAG", "ITEM",
		"RCV_WINDOW", "TIMEOUT",   "CANCELED",    "NO_PARTNER", "QUOTA",  "INVALID_ARG",
		"SLOT_BUSY", "OPCODE",     "BAD_OP",      "SELF",
	};
	if (err > 0 || -err >= (long)(sizeof names / sizeof names[0]))
		return "?";
	return names[-err];
}
