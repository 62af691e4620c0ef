/*
 * Client of core's RM session (amber/rm_session.h): attach dataspaces to
 * the component's own address space and detach them. Returns 0 or a
 * negative enum amber_error; overwrites the UTCB like all IPC.
 */
#ifndef AMBER_RM_H
#define AMBER_RM_H

#include "abi.h"
#include "rm_session.h"

/* Attach `size` bytes (0: all) of dataspace `ds` from `offset` at `addr`
 * (0: core chooses) with `flags` (AMBER_RM_WRITABLE, AMBER_RM_EXECUTABLE);
 * the address goes to *out (may be NULL). */
int amber_rm_attach(amber_sel_t rm, amber_sel_t ds, uint64_t addr, uint64_t offset, uint64_t size,
		    unsigned flags, uint64_t *out);
/* Detach the attachment that contains `addr`. */
int amber_rm_detach(amber_sel_t rm, uint64_t addr);

#endif
