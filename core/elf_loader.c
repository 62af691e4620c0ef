/*
 * ELF loader. Component binaries are static, non-PIE x86-64 executables
 * whose PT_LOAD segments lie in [AMBER_IMAGE_BASE, AMBER_IMAGE_END) and do
 * not share pages. Each segment becomes its own dataspace, so it can carry
 * its own rights and be checkpointed like any other memory. Everything is
 * checked before anything is created: a malformed file is an error with a
 * reason, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amber/abi.h"
#include "elf_loader.h"

#define PAGE_MASK ((uint64_t)AMBER_PAGE_SIZE - 1)
#define ELF_MAX_FILE (256u << 20)

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int read_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > ELF_MAX_FILE) {
		close(fd);
		return fail(err, errlen, "%s: not a regular file of sane size", path);
	}
	*size = (size_t)st.st_size;
	*data = malloc(*size);
	if (!*data) {
		close(fd);
		return fail(err, errlen, "out of memory");
	}
	size_t done = 0;
	while (done < *size) {
		ssize_t n = read(fd, *data + done, *size - done);
		if (n <= 0) {
			free(*data);
			close(fd);
			return fail(err, errlen, "%s: read failed", path);
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static int prot_of(uint32_t flags)
{
	return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
	       ((flags & PF_X) ? PROT_EXEC : 0);
}

/* PT_TLS (one at most): its limits are those of amber_tls_layout, so
 * that every thread's TLS area fits the stack it is made on. */
static int check_tls(const GElf_Phdr *ph, struct elf_tls *tls, char *err, size_t errlen)
{
	if (tls->memsz || tls->align)
		return fail(err, errlen, "more than one TLS segment");
	uint64_t align = ph->p_align ? ph->p_align : 1;
	if (ph->p_filesz > ph->p_memsz)
		return fail(err, errlen, "TLS segment: initial image larger than the segment");
	if (ph->p_memsz > AMBER_TLS_MAX_SIZE)
		return fail(err, errlen, "TLS segment of %llu bytes; _Thread_local data may take at most %u",
			    (unsigned long long)ph->p_memsz, AMBER_TLS_MAX_SIZE);
	if ((align & (align - 1)) || align > AMBER_TLS_MAX_ALIGN)
		return fail(err, errlen, "TLS segment aligned %llu bytes; at most %u, a power of two",
			    (unsigned long long)align, AMBER_TLS_MAX_ALIGN);
	*tls = (struct elf_tls){ .image = ph->p_vaddr, .filesz = ph->p_filesz, .memsz = ph->p_memsz, .align = align };
	return 0;
}

/* Does [addr, addr + len) lie in one loaded segment's file part? */
static bool in_segment(const struct elf_image *img, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < img->nsegments; i++) {
		const struct elf_segment *s = &img->segments[i];
		if (addr >= s->addr && addr <= s->addr + s->size && len <= s->addr + s->size - addr)
			return true;
	}
	return false;
}

/* Check the headers; fill img->segments' addr/size/prot (no dataspaces yet). */
static int check_elf(Elf *elf, size_t file_size, struct elf_image *img, GElf_Phdr *phdrs, char *err,
		     size_t errlen)
{
	GElf_Ehdr eh;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return fail(err, errlen, "not an ELF file");
	if (gelf_getclass(elf) != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return fail(err, errlen, "not an x86-64 ELF64 file");
	if (eh.e_type != ET_EXEC)
		return fail(err, errlen, "not a static executable (e_type %u)", (unsigned)eh.e_type);
	size_t nph;
	if (elf_getphdrnum(elf, &nph) != 0)
		return fail(err, errlen, "bad program headers");

	img->entry = eh.e_entry;
	img->nsegments = 0;
	bool entry_ok = false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			return fail(err, errlen, "bad program header %zu", i);
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return fail(err, errlen, "dynamically linked (segment type %u)", (unsigned)ph.p_type);
		if (ph.p_type == PT_TLS) {
			if (check_tls(&ph, &img->tls, err, errlen) < 0)
				return -1;
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (img->nsegments == ELF_MAX_SEGMENTS)
			return fail(err, errlen, "more than %d loadable segments", ELF_MAX_SEGMENTS);
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > file_size || ph.p_filesz > file_size - ph.p_offset)
			return fail(err, errlen, "segment %zu lies outside the file", i);
		if ((ph.p_vaddr & PAGE_MASK) != (ph.p_offset & PAGE_MASK))
			return fail(err, errlen, "segment %zu is not page-congruent", i);
		uint64_t start = ph.p_vaddr & ~PAGE_MASK;
		if (ph.p_memsz > AMBER_IMAGE_END || ph.p_vaddr < AMBER_IMAGE_BASE ||
		    ph.p_vaddr > AMBER_IMAGE_END - ph.p_memsz)
			return fail(err, errlen, "segment %zu at 0x%llx is outside the image area [0x%llx, 0x%llx)", i,
				    (unsigned long long)ph.p_vaddr, (unsigned long long)AMBER_IMAGE_BASE,
				    (unsigned long long)AMBER_IMAGE_END);
		uint64_t end = (ph.p_vaddr + ph.p_memsz + PAGE_MASK) & ~PAGE_MASK;
		for (unsigned j = 0; j < img->nsegments; j++) {
			struct elf_segment *o = &img->segments[j];
			if (start < o->addr + o->size && o->addr < end)
				return fail(err, errlen, "segments %u and %zu share a page", j, i);
		}
		struct elf_segment *s = &img->segments[img->nsegments];
		s->addr = start;
		s->size = end - start;
		s->prot = prot_of(ph.p_flags);
		phdrs[img->nsegments++] = ph;
		if (eh.e_entry >= start && eh.e_entry < end && (ph.p_flags & PF_X))
			entry_ok = true;
	}
	if (img->nsegments == 0)
		return fail(err, errlen, "no loadable segments");
	if (img->tls.filesz && !in_segment(img, img->tls.image, img->tls.filesz))
		return fail(err, errlen, "the TLS segment's initial image is not in a loaded segment");
	if (!entry_ok)
		return fail(err, errlen, "entry point 0x%llx is not in an executable segment",
			    (unsigned long long)eh.e_entry);
	return 0;
}

int elf_load(const char *path, struct elf_image *img, char *err, size_t errlen)
{
	memset(img, 0, sizeof(*img));
	uint8_t *data = NULL;
	size_t size = 0;
	if (read_file(path, &data, &size, err, errlen) < 0)
		return -1;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		free(data);
		return fail(err, errlen, "libelf: %s", elf_errmsg(-1));
	}
	Elf *elf = elf_memory((char *)data, size);
	if (!elf) {
		free(data);
		return fail(err, errlen, "libelf: %s", elf_errmsg(-1));
	}
	GElf_Phdr phdrs[ELF_MAX_SEGMENTS];
	int rc = check_elf(elf, size, img, phdrs, err, errlen);
	for (unsigned i = 0; rc == 0 && i < img->nsegments; i++) {
		struct elf_segment *s = &img->segments[i];
		char name[32];
		snprintf(name, sizeof(name), "elf%u", i);
		int e = dataspace_create(&s->ds, s->size, name);
		if (e < 0) {
			rc = fail(err, errlen, "cannot create dataspace: %s", strerror(-e));
			break;
		}
		memcpy(s->ds.local + (phdrs[i].p_vaddr - s->addr), data + phdrs[i].p_offset, phdrs[i].p_filesz);
	}
	elf_end(elf);
	free(data);
	if (rc < 0)
		elf_unload(img);
	return rc;
}

void elf_unload(struct elf_image *img)
{
	for (unsigned i = 0; i < img->nsegments; i++)
		dataspace_destroy(&img->segments[i].ds);
	img->nsegments = 0;
}
