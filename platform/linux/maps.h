/*
 * Reading /proc/PID/maps: the kernel's own account of a process's memory.
 *
 * Core uses it to prove, after setting up a component, that the process
 * holds exactly the dataspaces core mapped and nothing else.
 */
#ifndef AMBER_PLATFORM_MAPS_H
#define AMBER_PLATFORM_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct maps_entry {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	uint64_t inode;
	int prot;            /* PROT_READ | PROT_WRITE | PROT_EXEC */
	int shared;          /* 's' rather than 'p' */
	char path[96];       /* "/memfd:amber:x (deleted)", "[vsyscall]", "" */
};

/* Read all mappings of `pid` into a malloc'd array. 0 or -errno. */
int maps_read(pid_t pid, struct maps_entry **out, size_t *count);

#endif
