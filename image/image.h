/*
 * Checkpoint images on disk: writing, reading and checking them.
 *
 * An image directory DIR holds generations and a pointer to the current
 * one, so that writing a new image over an old one is atomic:
 *
 *   DIR/current       symlink to the complete generation, e.g. "gen-000007"
 *   DIR/gen-000007/   image.pb   header + the Image message (amber_image.proto)
 *                     pages.bin  header + the bytes of every non-zero page run
 *
 * A generation is written into a temporary directory, every file and the
 * directory fsync'd, renamed to gen-N, and only then does `current` switch
 * (a new symlink renamed over the old one, DIR fsync'd); older generations
 * are removed afterwards. A crash at any point leaves the previous image
 * readable. A DIR that itself holds image.pb (a copied generation) is read
 * as it is.
 *
 * Both files start with a 32-byte header (docs/image-format.md):
 *   magic[8]    "AMBRIMG\0" (image.pb) or "AMBRPGS\0" (pages.bin)
 *   u32 format  IMAGE_FORMAT_VERSION
 *   u32 flags   0
 *   u64 length  bytes after the header
 *   u64 xxh3    XXH3-64 of image.pb's payload; pages.bin: 0 (each extent
 *               carries its own checksum)
 * All integers little-endian.
 *
 * Every function returns 0, or -1 with a message in err that names the
 * file, the record and the reason, e.g.
 * "img/gen-000003/image.pb: component 2 (init -> hello), thread 1: regs truncated".
 */
#ifndef AMBER_IMAGE_H
#define AMBER_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/amber_image.pb-c.h"

#define IMAGE_FORMAT_VERSION 1
#define IMAGE_MAX_METADATA (256u << 20) /* a larger image.pb is refused */

/* The memory of one dataspace to save: mem[i] belongs to img->dataspaces[i]. */
struct image_memory {
	const uint8_t *bytes; /* `size` bytes; NULL: all zero (unless has_fd) */
	size_t size;          /* must equal img->dataspaces[i]->size */
	bool has_fd;          /* read it from fd instead: only the ranges that */
	int fd;               /* hold data (SEEK_DATA), through one buffer */
	/* With has_fd: read those ranges through this instead of pread (len
	 * and off whole pages; 0 or -errno). A checkpoint's copy-on-write. */
	int (*read)(void *ctx, uint64_t off, uint8_t *buf, size_t len);
	void *ctx;
	/* With has_fd, for a dataspace of an incremental image: per page,
	 * non-zero for the pages to store (zero pages too: they replace the
	 * parent's); the others are the parent's. NULL: all that hold data. */
	const uint8_t *store_only;
};

/* Write a new generation of the image into dir (created if missing).
 * Fills img->dataspaces[i]->extents from mem[i]: runs of non-zero pages,
 * each with its offset in pages.bin and its XXH3; zero pages are not
 * stored. image_begin + image_add_memory for each + image_commit. */
int image_write(const char *dir, AmberImg__Image *img, const struct image_memory *mem, char *err,
		size_t errlen);

/* The same in steps, so that memory can be stored while its owner is
 * stopped and the metadata written once it runs again. image_begin makes
 * dir and a temporary generation with pages.bin open; image_add_memory
 * appends dataspace i's runs and sets its extents; image_commit finishes
 * pages.bin, writes image.pb and switches `current` (always freeing w);
 * image_abort throws the temporary generation away. */
struct image_writer;
int image_begin(const char *dir, struct image_writer **w, char *err, size_t errlen);
int image_add_memory(struct image_writer *w, AmberImg__Image *img, unsigned i, const struct image_memory *m,
		     char *err, size_t errlen);
int image_commit(struct image_writer *w, AmberImg__Image *img, char *err, size_t errlen);
void image_abort(struct image_writer *w);

/* An incremental image and its parents made one full image in out: the
 * same metadata, every dataspace's pages in its own pages.bin. */
int image_merge(const char *dir, const char *out, char *err, size_t errlen);

/* Which image dir holds now: the current generation's directory as an
 * absolute path, and its image.pb checksum (the header's). What an
 * incremental image names as its parent. */
int image_identity(const char *dir, char *gen, size_t genlen, uint64_t *meta_xxh3, char *err, size_t errlen);

/* Read the current generation's image.pb: header, checksum, unpacking,
 * then image_check against pages.bin's size. Free with image_free. */
int image_read(const char *dir, AmberImg__Image **out, char *err, size_t errlen);
void image_free(AmberImg__Image *img);

/* ---- signed images (image/sign.c, docs/image-format.md "Signatures") ----
 * A generation may hold a third file, `signature`: a keyed BLAKE2b-256
 * over image.pb and pages.bin, byte for byte. The key comes from a key
 * file (32 to 4096 bytes, a regular file of this user that group and
 * others cannot read or write) and is never printed. */
#define IMAGE_KEY_FILE_MIN 32u
#define IMAGE_KEY_FILE_MAX 4096u
struct image_key {
	unsigned char k[32];
};
int image_key_load(const char *path, struct image_key *key, char *err, size_t errlen);
void image_key_clear(struct image_key *key);
/* image_read, but with key (not NULL) the files are first verified
 * against the generation's signature: an unsigned image, another key's,
 * or a changed byte is refused before anything is decoded. */
int image_read_signed(const char *dir, const struct image_key *key, AmberImg__Image **out, char *err,
		      size_t errlen);
/* Only the verification of the current generation's signature: 0, or -1
 * with the reason. */
int image_verify(const char *dir, const struct image_key *key, char *err, size_t errlen);
/* image_verify, then the image read and every parent of its chain
 * verified (image_verify_parents): what `inspect --key` vouches for. */
int image_verify_chain(const char *dir, const struct image_key *key, char *err, size_t errlen);
/* The parents of img (read from generation gen): each signed with key and
 * the one img was taken against. 0 when img has none. */
int image_verify_parents(const AmberImg__Image *img, const char *gen, const struct image_key *key, char *err,
			 size_t errlen);
/* Sign the generation image_commit writes with key (copied). */
void image_writer_sign(struct image_writer *w, const struct image_key *key);

/* Copy dataspace i's stored pages into dst (its size bytes, zeroed by the
 * caller), checking every extent's checksum before anything is copied. */
int image_read_pages(const char *dir, const AmberImg__Image *img, unsigned i, uint8_t *dst, char *err,
		     size_t errlen);

/* Write every dataspace i with fds[i] >= 0 (a file of its size, all zero)
 * from its stored pages, each run's checksum checked as it passes. On an
 * error the files hold part of the image: the caller throws them away. */
int image_load_memory(const char *dir, const AmberImg__Image *img, const int *fds, char *err, size_t errlen);

/* The extents that make up every dataspace i with tags[i] >= 0, through
 * an incremental image's chain, told to fn in the order image_load_memory
 * would write them (the farthest parent first: a later extent's pages
 * replace an earlier one's), with tags[i] as ds. gen is a generation
 * directory (image_current); pages_fd is that generation's pages.bin, open
 * only during the call (dup it to keep it), depth 0 for gen itself. The
 * structure and the chain are checked as image_load_memory checks them,
 * the extents' bytes are not read. fn returns 0 or -1 (stop). */
typedef int (*image_extent_fn)(void *ctx, unsigned ds, unsigned depth, int pages_fd, const AmberImg__Extent *e);
int image_plan_memory(const char *gen, const AmberImg__Image *img, const int *tags, image_extent_fn fn, void *ctx,
		      char *err, size_t errlen);

/* The structure beyond what unpacking checks: format version, dataspace
 * indices in range, sizes and extents page-aligned, extents inside their
 * dataspace and inside pages.bin (pages_size bytes after its header),
 * not overlapping, components' ids unique and parents present, register
 * blobs of the right size. */
int image_check(const AmberImg__Image *img, uint64_t pages_size, char *err, size_t errlen);

/* The directory of the current generation ("DIR/gen-N" or DIR itself)
 * into out. 0 or -1 with err. */
int image_current(const char *dir, char *out, size_t outlen, char *err, size_t errlen);

#endif
