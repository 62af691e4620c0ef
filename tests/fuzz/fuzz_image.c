/*
 * libFuzzer harness for everything a checkpoint image can influence before
 * core trusts it (docs/image-format.md, "Fuzzing the reader"): the file
 * headers and the image.pb checksum, protobuf-c decoding, image_check,
 * core's own checks (cr_image_validate, as a restore calls them), the
 * page runs loaded into memory files as a restore loads them, and
 * `amber inspect`'s reader.
 *
 * An input is one generation packed into one file:
 *
 *   byte 0      flags: bit 0  repair image.pb's header (length and XXH3)
 *                             so that mutated metadata reaches the decoder
 *                      bit 1  run image_inspect (text) too
 *                      bit 2  ... as JSON
 *                      bit 3  synthesize pages.bin (below)
 *                      bit 4  sign the generation with a fixed key and read
 *                             it as a restore with --key does
 *                      bit 5  ... and then change one byte of the signature
 *   bytes 1-4   M, little-endian: the size of image.pb
 *   M bytes     image.pb as it is on disk, header included
 *   the rest    pages.bin as it is on disk, or (bit 3) the bytes to fill
 *               the synthesized page runs with
 *
 * Real pages make inputs of 150 KB and more, and a fuzzer that slow finds
 * little. With bit 3 the metadata is decoded, every extent cut to at most
 * SYNTH_PAGES pages, laid out one after the other as image_write does,
 * filled from the input's tail and given its true XXH3; the metadata is
 * packed again with a repaired header. So mutated metadata of real images
 * reaches the page loaders with consistent checksums, from inputs of the
 * size of image.pb; without bit 3 the files are taken as they are.
 *
 * Both files are written into a directory of this process (under /dev/shm
 * when it exists) and read back through the public functions, so that
 * the code under test is exactly what amber-core and amber run. Every
 * rejection must name the file: a message that does not start with the
 * image's path fails the run, as does a crash, a leak or a sanitizer report.
 * tests/fuzz/pack-seed.sh packs a real image into this form.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/cr_validate.h"
#include "image/image.h"
#include "image/inspect.h"
#include "image/internal.h"

#define HEADER 32u
/* A dataspace larger than this is loaded into a memory file only (sparse),
 * never into a buffer; larger than MAX_FILE not at all. */
#define MAX_BUFFER (64u << 10)
#define MAX_FILE (1ull << 32)

static char dir[256], meta_path[300], pages_path[300], sig_path[300];
static FILE *devnull;
static bool verbose; /* AMBER_FUZZ_VERBOSE=1: print each verdict (reproducing a finding) */

static void say(const char *what, const char *msg)
{
	if (verbose)
		fprintf(stderr, "fuzz_image: %s: %s\n", what, msg);
}

static void put_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		perror(path);
		abort();
	}
	close(fd);
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	snprintf(dir, sizeof(dir), "%s/amber-fuzz-image-%ld", base, (long)getpid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		perror(dir);
		abort();
	}
	snprintf(meta_path, sizeof(meta_path), "%s/image.pb", dir);
	snprintf(pages_path, sizeof(pages_path), "%s/pages.bin", dir);
	snprintf(sig_path, sizeof(sig_path), "%s/" IMG_SIG, dir);
	verbose = getenv("AMBER_FUZZ_VERBOSE") != NULL;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
}

static void cleanup(void)
{
	unlink(meta_path);
	unlink(pages_path);
	unlink(sig_path);
	rmdir(dir);
}

/* A rejection must say which file: every message starts with the image's
 * directory (image.pb, pages.bin or the directory itself). */
static void expect_named(const char *what, const char *err)
{
	say(what, err);
	if (strncmp(err, dir, strlen(dir)) != 0) {
		fprintf(stderr, "%s: a rejection that does not name the file: '%s'\n", what, err);
		abort();
	}
}

/* Bits 4 and 5: what `--key` adds in front of the reader. */
static const struct image_key fuzz_key = { "amber image fuzzer's key 0123456" };

static void sign(bool damage)
{
	char err[512], sig[300];
	snprintf(sig, sizeof(sig), "%s/" IMG_SIG, dir);
	unlink(sig);
	if (img_sign_generation(dir, &fuzz_key, err, sizeof(err)) < 0) {
		fprintf(stderr, "signing: %s\n", err);
		abort();
	}
	if (damage) {
		int fd = open(sig, O_RDWR | O_CLOEXEC);
		uint8_t b = 0;
		if (fd < 0 || pread(fd, &b, 1, 40) != 1)
			abort();
		b ^= 0x10;
		if (pwrite(fd, &b, 1, 40) != 1)
			abort();
		close(fd);
	}
}

/* The restore's way: each dataspace (but managed ones) in a memory file of
 * its size, loaded run by run with every checksum checked. */
static void load_like_restore(const AmberImg__Image *img, size_t pick)
{
	char err[512] = "";
	size_t n = img->n_dataspaces;
	int *fds = calloc(n + 1, sizeof(*fds));
	if (!fds)
		abort();
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const AmberImg__Dataspace *d = img->dataspaces[i];
		fds[i] = -1;
		if (d->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED)
			continue;
		if (d->size > MAX_FILE) {
			ok = false;
			continue;
		}
		fds[i] = memfd_create("fuzz-ds", MFD_CLOEXEC);
		if (fds[i] < 0 || ftruncate(fds[i], (off_t)d->size) < 0)
			abort();
	}
	if (ok && image_load_memory(dir, img, fds, err, sizeof(err)) < 0)
		expect_named("image_load_memory", err);
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);

	/* And inspect's: a dataspace into a buffer, checked first (one per
	 * input: each call opens the files again, and syscalls are most of
	 * the time an input takes). */
	for (size_t i = pick % (n ? n : 1); i < n; i = n) {
		const AmberImg__Dataspace *d = img->dataspaces[i];
		if (d->size > MAX_BUFFER)
			continue;
		uint8_t *buf = calloc(1, d->size + 1);
		if (!buf)
			abort();
		if (image_read_pages(dir, img, (unsigned)i, buf, err, sizeof(err)) < 0)
			expect_named("image_read_pages", err);
		free(buf);
	}
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (unsigned k = 0; k < 8; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

/* image.pb's header as the writer would make it for this payload. */
static void repair_header(uint8_t *meta, uint32_t m)
{
	put_le64(meta + 16, m - HEADER);
	put_le64(meta + 24, XXH3_64bits(meta + HEADER, m - HEADER));
}

#define SYNTH_PAGES 2u
#define SYNTH_MAX (8u << 20) /* pages.bin synthesized, at most */
static uint8_t *synth;       /* the synthesized pages.bin */
static size_t synth_len;

/* Bit 3: see the top. false if the metadata does not decode (then the
 * input is used as it is). *meta is replaced by the packed metadata. */
static bool synthesize(uint8_t **meta, uint32_t *m, const uint8_t *fill, size_t nfill)
{
	if (*m < HEADER)
		return false;
	AmberImg__Image *img = amber_img__image__unpack(NULL, *m - HEADER, *meta + HEADER);
	if (!img)
		return false;
	if (!synth && !(synth = malloc(SYNTH_MAX)))
		abort();
	memset(synth, 0, HEADER);
	memcpy(synth, "AMBRPGS", 8);
	synth[8] = IMAGE_FORMAT_VERSION;
	/* One page of the tail repeated fills every page of every run. */
	uint8_t page[4096];
	for (size_t b = 0; b < sizeof(page); b++)
		page[b] = nfill ? fill[b % nfill] : 0xa5;
	size_t pos = HEADER, f = 0;
	for (size_t i = 0; i < img->n_dataspaces; i++) {
		AmberImg__Dataspace *d = img->dataspaces[i];
		for (size_t k = 0; d && k < d->n_extents; k++) {
			AmberImg__Extent *e = d->extents[k];
			if (!e)
				continue;
			if (e->length > SYNTH_PAGES * 4096)
				e->length = SYNTH_PAGES * 4096;
			if (e->length > SYNTH_MAX - pos) {
				e->length = 0; /* refused by image_check: fine */
				continue;
			}
			for (size_t b = 0; b < e->length; b += 4096)
				memcpy(synth + pos + b, page, e->length - b < 4096 ? e->length - b : 4096);
			page[f++ % 4096] ^= 0x5a; /* runs differ from each other */
			e->file_offset = pos;
			e->xxh3 = XXH3_64bits(synth + pos, e->length);
			pos += e->length;
		}
	}
	synth_len = pos;
	put_le64(synth + 16, pos - HEADER);
	size_t len = amber_img__image__get_packed_size(img);
	uint8_t *packed = malloc(HEADER + len + 1);
	if (!packed)
		abort();
	memcpy(packed, *meta, HEADER);
	amber_img__image__pack(img, packed + HEADER);
	amber_img__image__free_unpacked(img, NULL);
	free(*meta);
	*meta = packed;
	*m = (uint32_t)(HEADER + len);
	repair_header(packed, *m);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		setup();
		atexit(cleanup);
	}
	if (size < 5)
		return 0;
	uint8_t flags = data[0];
	uint32_t m = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
	data += 5;
	size -= 5;
	if (m > size)
		m = (uint32_t)size;
	uint8_t *meta = malloc(m + 1);
	if (!meta)
		abort();
	memcpy(meta, data, m);
	if ((flags & 8) && synthesize(&meta, &m, data + m, size - m)) {
		put_file(pages_path, synth, synth_len);
	} else {
		if ((flags & 1) && m >= HEADER)
			repair_header(meta, m);
		put_file(pages_path, data + m, size - m);
	}
	put_file(meta_path, meta, m);
	free(meta);

	char err[512] = "";
	AmberImg__Image *img = NULL;
	const struct image_key *key = NULL;
	if (flags & 16) {
		sign(flags & 32);
		key = &fuzz_key;
		int v = image_verify(dir, key, err, sizeof(err));
		if (v < 0)
			expect_named("image_verify", err);
		if ((v < 0) != ((flags & 32) != 0)) {
			fprintf(stderr, "image_verify: %s a signature it should %s\n", v < 0 ? "refused" : "accepted",
				v < 0 ? "accept" : "refuse");
			abort();
		}
	} else {
		unlink(sig_path);
	}
	if (image_read_signed(dir, key, &img, err, sizeof(err)) < 0) {
		expect_named("image_read", err);
	} else {
		char msg[512] = "";
		if (cr_image_validate(img, msg, sizeof(msg)) < 0) {
			say("cr_image_validate", msg);
			/* core puts the file in front; the record comes first here */
			if (strncmp(msg, "component ", 10) != 0) {
				fprintf(stderr, "cr_image_validate: a rejection that names no component: '%s'\n", msg);
				abort();
			}
		} else {
			say("cr_image_validate", "accepted");
			load_like_restore(img, size);
		}
		image_free(img);
	}
	if (flags & 6) {
		if (image_inspect(dir, flags & 4, devnull, err, sizeof(err)) < 0)
			expect_named("image_inspect", err);
	}
	return 0;
}
