/*
 * Loading a component's ELF file into dataspaces.
 */
#ifndef AMBER_CORE_ELF_LOADER_H
#define AMBER_CORE_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "platform/linux/dataspace.h"

#define ELF_MAX_SEGMENTS 8

struct elf_segment {
	struct dataspace ds;
	uint64_t addr; /* page-aligned */
	uint64_t size; /* page-aligned */
	int prot;
};

/* The PT_TLS segment: every thread's TLS block is a copy of it (the
 * initial image at `image`, filesz bytes, then zeros up to memsz). All 0
 * without one. */
struct elf_tls {
	uint64_t image, filesz, memsz, align;
};

struct elf_image {
	uint64_t entry;
	struct elf_tls tls;
	unsigned nsegments;
	struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/* Load a freestanding static ELF executable linked into the component image
 * area. 0, or -1 with a reason in `err`. */
int elf_load(const char *path, struct elf_image *img, char *err, size_t errlen);
void elf_unload(struct elf_image *img);

#endif
