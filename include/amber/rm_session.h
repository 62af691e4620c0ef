/*
 * The RM (region map) session of core: what is mapped where in the
 * component's own address space.
 *
 * Obtained from the parent with the name AMBER_RM_SERVICE; core answers it
 * itself. Every RM session of a component describes that component's
 * address space (one region map per component for now). Tag label
 * AMBER_PROTO_RM, mr[0] the method; refusals come back as the IPC result.
 *
 *   ATTACH  mr[1] = address (0: core chooses), mr[2] = offset into the
 *           dataspace, mr[3] = size (0: the rest of the dataspace from the
 *           offset; otherwise rounded up to whole pages), mr[4] = flags
 *           (AMBER_RM_WRITABLE, AMBER_RM_EXECUTABLE; always readable);
 *           one map item: the dataspace (any dataspace core handed out,
 *           also another component's)
 *           -> mr[0] = the address.
 *           Errors: INVALID_ARG for an item that is not a dataspace, an
 *           unaligned address or offset, unknown flags, a range outside
 *           the dataspace, or an address range that is not attachable
 *           (below AMBER_RM_MIN, at or above AMBER_RM_END, or touching the
 *           image area, the UTCB area, the trampoline page or the first
 *           thread's stack); SLOT_BUSY if it overlaps an attachment; RIGHTS
 *           for WRITABLE on a read-only dataspace; QUOTA when core finds no
 *           room or the component has AMBER_RM_MAX_REGIONS attachments.
 *           Core chooses the lowest free address from AMBER_DYNAMIC_BASE up
 *           and keeps a page unmapped on both sides, so that running off
 *           the end of an attachment (a stack) faults.
 *   DETACH  mr[1] = any address inside an attachment: removes it.
 *           INVALID_ARG if there is none.
 */
#ifndef AMBER_RM_SESSION_H
#define AMBER_RM_SESSION_H

#include "abi.h"

#define AMBER_RM_SERVICE "RM"
#define AMBER_PROTO_RM 0x1005u

#define AMBER_RM_MIN 0x0000000000010000ull /* lowest attachable address */
#define AMBER_RM_END 0x0000700000000000ull /* first address above the attachable range */
#define AMBER_RM_MAX_REGIONS 256u          /* attachments per component */

enum amber_rm_method {
	AMBER_RM_ATTACH = 1,
	AMBER_RM_DETACH = 2,
};

enum amber_rm_flags {
	AMBER_RM_WRITABLE = 1u << 0,
	AMBER_RM_EXECUTABLE = 1u << 1,
};

#endif
