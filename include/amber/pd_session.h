/*
 * The PD (protection domain) session of core, and the dataspaces it hands
 * out.
 *
 * A component obtains a PD session from its parent (AMBER_PARENT_SESSION
 * with the name AMBER_PD_SERVICE); core answers it itself, and every
 * request creates a new session object. Sessions are gates: the tag label
 * is AMBER_PROTO_PD, mr[0] the method, arguments in mr[1..], capability
 * arguments as map items after the words. Core reports a refused request
 * as the IPC result (utcb->error); results come back in mr[].
 *
 *   ALLOC_RAM     mr[1] = size in bytes
 *                 -> mr[0] = size (rounded up to whole pages), one map item
 *                    (mr[1]): a new zero-filled RAM dataspace (INVOKE|GRANT).
 *                 Charged against the component's RAM quota (the scenario's
 *                 `ram` attribute): QUOTA when it would be exceeded, or when
 *                 the component holds AMBER_PD_MAX_DATASPACES already;
 *                 INVALID_ARG for size 0.
 *   FREE_RAM      one map item: a dataspace this component allocated. Core
 *                 detaches it from every region map it is attached to (also
 *                 other components'), revokes every capability to it and
 *                 returns its size to the quota. INVALID_ARG if the item is
 *                 not such a dataspace.
 *   QUOTA         -> mr[0] = RAM quota, mr[1] = bytes in use, mr[2] = caps
 *                    (kernel-object) quota: the factory's while the
 *                    component runs (what it lent to children excluded),
 *                    the quota it will start with before, mr[3] = caps in
 *                    use (live objects of its factory).
 *   TRANSFER_QUOTA mr[1] = RAM bytes (rounded up to pages), mr[2] = caps;
 *                 one map item: the target, a PD session capability (of any
 *                 component) or a child capability of the caller. Moves
 *                 that much of the caller's unallocated RAM quota and unused
 *                 factory quota to the target's (Genode's transfer_quota):
 *                 QUOTA if the caller has not that much free (nothing
 *                 moves), INVALID_ARG for anything else as the item or a
 *                 target that has ended; both 0, or the caller itself as
 *                 target: OK, nothing moves. What a child got comes back
 *                 to its parent when it ends, as its CREATE_CHILD quota.
 *   ALLOC_RPC_CAP one map item: a thread of this component (CONTROL needed)
 *                 -> mr[0] = badge, one map item (mr[1]): a new gate bound to
 *                    that thread with that badge (INVOKE|GRANT). Core chooses
 *                    the badge: nonzero and unique among this component's
 *                    RPC capabilities, so a server can tell its objects apart
 *                    by utcb->label. At most AMBER_PD_MAX_RPC_CAPS (QUOTA).
 *   FREE_RPC_CAP  one map item: a gate from ALLOC_RPC_CAP. Core deletes its
 *                 own capability, which revokes every copy.
 *
 * Signals (amber/signal_source.h has the objects' own protocols):
 *   ALLOC_SIGNAL_SOURCE  one map item: a thread of this component (CONTROL
 *                 needed), the signal-handler thread
 *                 -> mr[0] = the source's badge, two map items: mr[1] the
 *                    signal source (INVOKE|GRANT), mr[2] its blocking
 *                    semaphore, an IRQ core created and attached to that
 *                    thread with the badge as label (INVOKE only: it can be
 *                    received on, by that thread, but not attached elsewhere).
 *                 At most AMBER_PD_MAX_SIGNAL_SOURCES (QUOTA).
 *   FREE_SIGNAL_SOURCE   one map item: a source from ALLOC_SIGNAL_SOURCE.
 *                 Revokes the source and its semaphore (a thread blocked on
 *                 it gets CANCELED); its contexts stay, orphaned: SUBMIT to
 *                 them answers NO_PARTNER, FREE_CONTEXT still works.
 *   ALLOC_CONTEXT mr[1] = imprint (any 64-bit value: what WAIT_FOR_SIGNAL
 *                 returns for this context); one map item: a signal source
 *                 of this component
 *                 -> one map item (mr[0]): the signal context (INVOKE|GRANT).
 *                 At most AMBER_PD_MAX_SIGNAL_CONTEXTS (QUOTA).
 *   FREE_CONTEXT  one map item: a context this component allocated. Revokes
 *                 every copy; a pending signal of it is dropped.
 *   SUBMIT        mr[1] = count (1 .. UINT32_MAX); one map item: any signal
 *                 context (also another component's). Adds count to the
 *                 context's pending signal (amber/signal_source.h).
 * A capability that is not what the method expects is INVALID_ARG.
 *
 * Dataspace (AMBER_PROTO_DATASPACE), the capability ALLOC_RAM returns:
 *   SIZE          -> mr[0] = size in bytes
 * Core recognises a dataspace passed to it (RM ATTACH, PD FREE_RAM) by the
 * identity of the object behind the capability; anything else is refused.
 */
#ifndef AMBER_PD_SESSION_H
#define AMBER_PD_SESSION_H

#include "abi.h"

#define AMBER_PD_SERVICE "PD"
#define AMBER_PROTO_PD 0x1003u
#define AMBER_PROTO_DATASPACE 0x1006u

#define AMBER_PD_MAX_DATASPACES 256u /* live RAM dataspaces per component */
#define AMBER_PD_MAX_RPC_CAPS 256u   /* live RPC capabilities per component */
#define AMBER_PD_MAX_SIGNAL_SOURCES 16u   /* live signal sources per component */
#define AMBER_PD_MAX_SIGNAL_CONTEXTS 256u /* live signal contexts per component */

enum amber_pd_method {
	AMBER_PD_ALLOC_RAM = 1,
	AMBER_PD_FREE_RAM = 2,
	AMBER_PD_QUOTA = 3,
	AMBER_PD_ALLOC_RPC_CAP = 4,
	AMBER_PD_FREE_RPC_CAP = 5,
	AMBER_PD_ALLOC_SIGNAL_SOURCE = 6,
	AMBER_PD_FREE_SIGNAL_SOURCE = 7,
	AMBER_PD_ALLOC_CONTEXT = 8,
	AMBER_PD_FREE_CONTEXT = 9,
	AMBER_PD_SUBMIT = 10,
	AMBER_PD_CREATE_CHILD = 11, /* amber/child.h */
	AMBER_PD_TRANSFER_QUOTA = 12,
};

enum amber_dataspace_method {
	AMBER_DATASPACE_SIZE = 1,
};

#endif
