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
 *   SIGH    one map item: a signal context (of any component), or no item
 *           to forget it. One per component (the last SIGH on any of its RM
 *           sessions). A region-map fault keeps the thread stopped and
 *           submits one signal to the context (Genode's region-map fault
 *           handler). Region-map faults are: touching an address in the
 *           attachable range that has nothing mapped (no attachment, or a
 *           part of a managed dataspace its map does not cover), and,
 *           inside an attachment of a managed dataspace, a write where it
 *           is not writable or an instruction fetch where it is not
 *           executable. The handler asks FAULT_STATE and ATTACHes what
 *           allows the access there (in the map, after a DETACH if
 *           something is attached there already: as on Genode, an ATTACH
 *           over an attachment is SLOT_BUSY). Once that ATTACH's mappings
 *           are made, core resumes every thread held on a fault it
 *           resolves, before the ATTACH is answered; the access is retried.
 *           (RESUME through the CPU session still works, as before.) A
 *           wrong access inside any other attachment (a write to a
 *           read-only one) is a CPU exception (CPU SIGH), as is a fault
 *           outside the attachable range.
 *   FAULT_STATE -> mr[0] = the faulting thread's index (amber/cpu.h; 0 is
 *           the first thread), mr[1] = the fault address, mr[2] = the
 *           access (enum amber_rm_access): the oldest fault whose thread is
 *           still held. TIMEOUT if there is none.
 *   CREATE_MANAGED mr[1] = size (rounded up to pages, at most
 *           AMBER_RM_MANAGED_MAX) -> mr[0] = the size, one map item: a new
 *           empty region map (Genode's managed dataspace), a core gate
 *           with this protocol:
 *             ATTACH as above, but mr[1] is the exact offset in the map
 *               (0 is an offset, not "core chooses"; no guard pages):
 *               INVALID_ARG for a range outside the map, a managed
 *               dataspace (no nesting yet) or what ATTACH refuses;
 *               SLOT_BUSY for an overlap; QUOTA past AMBER_RM_MAX_REGIONS.
 *             DETACH mr[1] = any offset inside a sub-attachment.
 *             SIGH as above, for the map: region-map faults inside any
 *               attachment of the managed dataspace (in any component)
 *               go to this context instead of the component's RM SIGH
 *               (Genode: the managed dataspace's region map has a fault
 *               handler of its own); the component's FAULT_STATE then
 *               leaves them out.
 *             FAULT_STATE as above, but only faults inside attachments of
 *               the managed dataspace, mr[1] the offset in the map (of the
 *               first attachment, in any component, that has one held).
 *             DATASPACE -> mr[0] = the size, one map item: the managed
 *               dataspace (no owner, not charged to any quota).
 *           Attaching the managed dataspace (ATTACH above) maps what the
 *           map holds there (protection: both attachments' flags); later
 *           ATTACH/DETACH in the map are mapped/unmapped wherever it is
 *           attached. Parts the map does not cover stay unmapped: touching
 *           them is an RM fault (SIGH) like any unattached address. The map
 *           belongs to the RM session that created it: closing it (or the
 *           component's end) detaches and revokes it everywhere. QUOTA past
 *           AMBER_RM_MAX_MANAGED per component; INVALID_ARG for size 0.
 */
#ifndef AMBER_RM_SESSION_H
#define AMBER_RM_SESSION_H

#include "abi.h"

#define AMBER_RM_SERVICE "RM"
#define AMBER_PROTO_RM 0x1005u

#define AMBER_RM_MIN 0x0000000000010000ull /* lowest attachable address */
#define AMBER_RM_END 0x0000700000000000ull /* first address above the attachable range */
#define AMBER_RM_MAX_REGIONS 256u          /* attachments per component (and per managed map) */
#define AMBER_RM_MAX_MANAGED 16u           /* managed maps per component */
#define AMBER_RM_MANAGED_MAX (1ull << 30)  /* bytes per managed map */

enum amber_rm_method {
	AMBER_RM_ATTACH = 1,
	AMBER_RM_DETACH = 2,
	AMBER_RM_SIGH = 3,
	AMBER_RM_FAULT_STATE = 4,
	AMBER_RM_CREATE_MANAGED = 5,
	AMBER_RM_DATASPACE = 6, /* only on a managed map */
};

/* Genode's Region_map::State::Fault_type. On a page with nothing mapped
 * Linux does not tell a read from a write: both are READ (a write faults
 * again, as WRITE, if what the handler attached there is read-only). */
enum amber_rm_access {
	AMBER_RM_ACCESS_UNKNOWN = 0, /* older cores: a read or a write */
	AMBER_RM_ACCESS_READ = 1,    /* a read, or a write to a page with nothing mapped */
	AMBER_RM_ACCESS_WRITE = 2,   /* a write where the mapping is not writable */
	AMBER_RM_ACCESS_EXEC = 3,    /* an instruction fetch (the address is rip, or the
				      * next page of an instruction running into it) */
};

enum amber_rm_flags {
	AMBER_RM_WRITABLE = 1u << 0,
	AMBER_RM_EXECUTABLE = 1u << 1,
};

#endif
