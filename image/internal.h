/*
 * What the files of image/ share and nobody else needs: the 32-byte file
 * header, error formatting, and an open pages.bin with the operations on
 * its extents (pages.c). The public interface is image.h and inspect.h.
 */
#ifndef AMBER_IMAGE_INTERNAL_H
#define AMBER_IMAGE_INTERNAL_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "image/image.h"

#define IMG_HEADER_SIZE 32u
#define IMG_PAGE 4096u
#define IMG_META "image.pb"
#define IMG_PAGES "pages.bin"
#define IMG_SIG "signature"
#define IMG_MAC_BYTES 32u

extern const char img_magic_meta[8];  /* "AMBRIMG\0" */
extern const char img_magic_pages[8]; /* "AMBRPGS\0" */
extern const char img_magic_sig[8];   /* "AMBRSIG\0" */

struct img_header {
	char magic[8];
	uint32_t format, flags;
	uint64_t length, xxh3;
};

void img_header_encode(uint8_t out[IMG_HEADER_SIZE], const struct img_header *h);

/* Open `path` and check its header: magic, format, flags, and that the
 * file holds exactly `length` bytes after it. Fills h; returns the fd, or
 * -1 with err naming the file. */
int img_open_checked(const char *path, const char magic[8], struct img_header *h, char *err, size_t errlen);
/* Open a regular file for reading, never blocking (a FIFO is refused,
 * not waited on); its stat into st. fd, or -1 with err naming it. */
struct stat;
int img_open_regular(const char *path, struct stat *st, char *err, size_t errlen);
/* The same for a file whose flags field must be `flags` (the signature's
 * names its MAC). */
int img_open_checked_flags(const char *path, const char magic[8], uint32_t flags, struct img_header *h, char *err,
			   size_t errlen);

/* snprintf into err; returns -1 so that failures read `return img_fail(...)`. */
int img_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "dir/name" into out (a trailing '/' of dir dropped); -1 if it does not fit. */
/* pwrite all of buf at off, again after EINTR. 0, or -1 with errno. */
int img_write_full(int fd, const void *buf, size_t len, uint64_t off);
/* The same through write_at (pwrite, or the fault layer's, image/io.c):
 * short writes continue, EINTR is retried. */
int img_write_with(ssize_t (*write_at)(int, const void *, size_t, off_t), int fd, const void *buf, size_t len,
		   uint64_t off);
int img_join(char *out, size_t outlen, const char *dir, const char *name);

/* How a dataspace is named in messages: "dataspace 5 (ram:hello)". */
void img_ds_label(char *out, size_t outlen, const AmberImg__Image *img, unsigned i);

/* Run fn(arg) on the caller and, when there are `bytes` enough to share
 * (IMG_PARALLEL_MIN), on a thread per further CPU this process may run on
 * (IMG_WORKERS_MAX in all); returns when all have returned. fn takes work
 * from arg until none is left. Storing and loading memory is a copy into
 * fresh tmpfs pages, which a second CPU nearly halves. */
#define IMG_WORKERS_MAX 4
#define IMG_PARALLEL_MIN (8u << 20) /* below this, starting threads costs more */
void img_run_workers(void *(*fn)(void *), void *arg, uint64_t bytes);

/* The checks of one dataspace's extents, shared by image_check and the
 * page readers (which may get an image that never went through
 * image_check). Message without the dataspace's label. */
int img_extents_check(const AmberImg__Dataspace *d, uint64_t pages_size, char *err, size_t errlen);

/* ---- sign.c: the keyed BLAKE2b over a generation's files ---- */
void img_mac_init(crypto_generichash_state *h, const struct image_key *key);
int img_mac_file(crypto_generichash_state *h, int fd, const char *path, char *err, size_t errlen);
/* Write gen/signature for gen's image.pb and pages.bin. */
int img_sign_generation(const char *gen, const struct image_key *key, char *err, size_t errlen);
/* gen's stored MAC ("not signed" when there is no signature file). */
int img_sig_read(const char *gen, unsigned char mac[IMG_MAC_BYTES], char *err, size_t errlen);
/* Finish h and compare it with want in constant time; h is wiped. */
int img_mac_check(crypto_generichash_state *h, const char *gen, const unsigned char want[IMG_MAC_BYTES],
		  char *err, size_t errlen);

/* ---- image.c: a generation read with the facts about its files ---- */
struct img_info {
	char gen[PATH_MAX];   /* the generation's directory */
	uint64_t meta_length; /* image.pb's payload and its XXH3 (the header's) */
	uint64_t meta_xxh3;
	uint64_t pages_length; /* pages.bin's payload */
};
/* key NULL: no verification; else the files are verified against the
 * signature before a byte of them is decoded (image_read_signed). */
int img_read_info(const char *dir, const struct image_key *key, AmberImg__Image **out, struct img_info *info,
		  char *err, size_t errlen);

/* ---- pages.c: an open pages.bin ---- */
struct img_pages {
	int fd;
	uint64_t length; /* bytes after the header */
	char path[PATH_MAX];
};
int img_pages_open(const char *gen, struct img_pages *p, char *err, size_t errlen);
void img_pages_close(struct img_pages *p);
/* image_read_pages on an open file. */
int img_pages_read(struct img_pages *p, const AmberImg__Image *img, unsigned i, uint8_t *dst, char *err,
		   size_t errlen);
/* The content checksum of dataspace i, every extent checked on the way:
 * XXH3-64 over its size and then each extent's offset, length (8 bytes
 * little-endian each) and bytes. What inspect shows and diff compares;
 * equal content gives equal checksums because image_write always stores
 * maximal runs of non-zero pages. */
int img_pages_content_hash(struct img_pages *p, const AmberImg__Image *img, unsigned i, uint64_t *hash,
			   char *err, size_t errlen);
/* The same checksum of memory as it is: `size` bytes at mem, its maximal
 * runs of non-zero pages. For a dataspace of an incremental image, whose
 * content is its parent's with its own pages over them. */
uint64_t img_memory_content_hash(const uint8_t *mem, uint64_t size);
/* The memory may have any alignment: compare the page with itself shifted
 * by one byte instead of reading words. */
static inline bool img_page_zero(const uint8_t *p)
{
	return p[0] == 0 && memcmp(p, p + 1, IMG_PAGE - 1) == 0;
}
/* XXH3-64 of the file's payload. */
int img_pages_file_hash(struct img_pages *p, uint64_t *hash, char *err, size_t errlen);

/* ---- names.c ---- */
const char *img_ds_kind_name(unsigned kind);
const char *img_session_kind_name(unsigned kind);
const char *img_cap_kind_name(unsigned kind);
const char *img_ipc_state_name(unsigned state);
const char *img_run_state_name(unsigned state);
const char *img_fault_kind_name(unsigned kind);
const char *img_rm_access_name(unsigned access);
void img_rights(char out[4], unsigned rights); /* "icg", '-' for a missing right */
/* The registers of a gp_regs blob (struct user_regs_struct), in the order
 * people read them. */
struct img_reg {
	const char *name;
	size_t offset;
};
extern const struct img_reg img_regs[];
extern const size_t img_nregs;
uint64_t img_reg(const ProtobufCBinaryData *gp_regs, size_t offset);

/* ---- inspect.c: an image with what inspect and diff derive from it ---- */
struct img_view {
	AmberImg__Image *img;
	struct img_info info;
	uint64_t *content;    /* per dataspace: its content checksum (img_pages_content_hash) */
	uint64_t *stored;     /* per dataspace: bytes it has in pages.bin */
	uint64_t pages_xxh3;  /* of pages.bin's payload */
};
/* image_read, then every page run read and checked. */
int img_view_load(const char *dir, struct img_view *v, char *err, size_t errlen);
void img_view_free(struct img_view *v);

#endif
