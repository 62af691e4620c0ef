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
/* Region-map fault notification: `context` (AMBER_SEL_INVALID: forget it)
 * gets a signal when a thread touches an unattached address, or writes or
 * executes where a managed dataspace does not allow it (amber/rm_session.h).
 * An ATTACH that allows the access resumes the thread. On a managed map
 * (`rm` its capability): the faults inside its dataspace's attachments. */
int amber_rm_sigh(amber_sel_t rm, amber_sel_t context);
/* The oldest unresolved page fault: the thread's index (amber/cpu.h), the
 * address (on a managed map: the offset in the map) and the access (enum
 * amber_rm_access: READ, WRITE or EXEC); pointers may be NULL.
 * AMBER_ERR_TIMEOUT if there is none. */
int amber_rm_fault_state(amber_sel_t rm, unsigned *thread_index, uint64_t *addr, unsigned *access);
/* A managed dataspace of `size` bytes: its region map's capability goes
 * to slot `map` (attach and detach in it with amber_rm_attach/detach; the
 * address is the exact offset in the map). */
int amber_rm_create_managed(amber_sel_t rm, uint64_t size, amber_sel_t map);
/* The dataspace of managed map `map` to slot `dst`. */
int amber_rm_managed_dataspace(amber_sel_t map, amber_sel_t dst);

#endif
