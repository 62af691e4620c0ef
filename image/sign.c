/*
 * Signed images (image.h, docs/image-format.md "Signatures"): a keyed
 * BLAKE2b-256 (libsodium's crypto_generichash) over image.pb and pages.bin
 * byte for byte, in DIR/gen-N/signature. image.pb holds every extent's
 * checksum, but XXH3 is no cryptographic hash: pages.bin is hashed whole.
 *
 * The key is derived from a key file of 32 to 4096 bytes that only its
 * owner can read; it lives in struct image_key and never reaches a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/internal.h"

const char img_magic_sig[8] = "AMBRSIG";
#define SIG_DOMAIN "amber checkpoint image signature v1"
#define KEY_DOMAIN "amber checkpoint image key v1"
#define SIG_ALG_BLAKE2B 1u /* the header's flags field: which MAC */

static int sodium_ready(char *err, size_t errlen)
{
	return sodium_init() < 0 ? img_fail(err, errlen, "libsodium cannot be initialised") : 0;
}

int image_key_load(const char *path, struct image_key *key, char *err, size_t errlen)
{
	if (sodium_ready(err, errlen) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO: refused below, not waited on */
	if (fd < 0)
		return img_fail(err, errlen, "key file %s: %s", path, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = img_fail(err, errlen, "key file %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = img_fail(err, errlen, "key file %s: not a regular file", path);
	else if (st.st_uid != geteuid())
		rc = img_fail(err, errlen, "key file %s: owned by uid %u, not by this user (uid %u)", path,
			      (unsigned)st.st_uid, (unsigned)geteuid());
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		rc = img_fail(err, errlen, "key file %s: mode %04o lets group or others at it; chmod 600 it", path,
			      (unsigned)(st.st_mode & 07777));
	else if (st.st_size < IMAGE_KEY_FILE_MIN)
		rc = img_fail(err, errlen, "key file %s: %lld bytes, a key needs at least %u (head -c 32 /dev/urandom)",
			      path, (long long)st.st_size, IMAGE_KEY_FILE_MIN);
	else if (st.st_size > IMAGE_KEY_FILE_MAX)
		rc = img_fail(err, errlen, "key file %s: %lld bytes, above %u: not a key file", path,
			      (long long)st.st_size, IMAGE_KEY_FILE_MAX);
	if (rc < 0) {
		close(fd);
		return -1;
	}
	unsigned char buf[IMAGE_KEY_FILE_MAX];
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	int e = errno;
	close(fd);
	if (got != (size_t)st.st_size) {
		sodium_memzero(buf, sizeof(buf));
		return img_fail(err, errlen, "key file %s: %s", path, got < (size_t)st.st_size ? "changed while read" : strerror(e));
	}
	/* Any length of file, one key of the MAC's size. */
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, sizeof(key->k));
	crypto_generichash_update(&h, (const unsigned char *)KEY_DOMAIN, sizeof(KEY_DOMAIN));
	crypto_generichash_update(&h, buf, got);
	crypto_generichash_final(&h, key->k, sizeof(key->k));
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(&h, sizeof(h));
	return 0;
}

void image_key_clear(struct image_key *key)
{
	sodium_memzero(key, sizeof(*key));
}

void img_mac_init(crypto_generichash_state *h, const struct image_key *key)
{
	crypto_generichash_init(h, key->k, sizeof(key->k), IMG_MAC_BYTES);
	crypto_generichash_update(h, (const unsigned char *)SIG_DOMAIN, sizeof(SIG_DOMAIN));
}

/* The whole of an open file, from its first byte. */
int img_mac_file(crypto_generichash_state *h, int fd, const char *path, char *err, size_t errlen)
{
	unsigned char buf[64 << 10];
	for (off_t at = 0;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return img_fail(err, errlen, "%s: %s", path, strerror(errno));
		if (n == 0)
			return 0;
		crypto_generichash_update(h, buf, (size_t)n);
		at += n;
	}
}

static int mac_path(crypto_generichash_state *h, const char *gen, const char *name, char *err, size_t errlen)
{
	char p[PATH_MAX];
	if (img_join(p, sizeof(p), gen, name) < 0)
		return img_fail(err, errlen, "%s: path too long", gen);
	struct stat st;
	int fd = img_open_regular(p, &st, err, errlen);
	if (fd < 0)
		return -1;
	int rc = img_mac_file(h, fd, p, err, errlen);
	close(fd);
	return rc;
}

int img_sign_generation(const char *gen, const struct image_key *key, char *err, size_t errlen)
{
	crypto_generichash_state h;
	unsigned char mac[IMG_MAC_BYTES];
	char p[PATH_MAX];
	if (sodium_ready(err, errlen) < 0)
		return -1;
	img_mac_init(&h, key);
	if (mac_path(&h, gen, IMG_META, err, errlen) < 0 || mac_path(&h, gen, IMG_PAGES, err, errlen) < 0)
		return -1;
	crypto_generichash_final(&h, mac, sizeof(mac));
	sodium_memzero(&h, sizeof(h));
	struct img_header hd = { .format = IMAGE_FORMAT_VERSION, .flags = SIG_ALG_BLAKE2B, .length = sizeof(mac) };
	memcpy(hd.magic, img_magic_sig, 8);
	uint8_t raw[IMG_HEADER_SIZE + IMG_MAC_BYTES];
	img_header_encode(raw, &hd);
	memcpy(raw + IMG_HEADER_SIZE, mac, sizeof(mac));
	if (img_join(p, sizeof(p), gen, IMG_SIG) < 0)
		return img_fail(err, errlen, "%s: path too long", gen);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return img_fail(err, errlen, "cannot create %s: %s", p, strerror(errno));
	int rc = 0;
	if (img_write_full(fd, raw, sizeof(raw), 0) < 0)
		rc = img_fail(err, errlen, "%s: %s", p, strerror(errno));
	else if (fsync(fd) < 0)
		rc = img_fail(err, errlen, "%s: fsync: %s", p, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = img_fail(err, errlen, "%s: %s", p, strerror(errno));
	return rc;
}

/* The MAC stored in gen's signature file, its header checked. */
int img_sig_read(const char *gen, unsigned char mac[IMG_MAC_BYTES], char *err, size_t errlen)
{
	char p[PATH_MAX];
	struct img_header h;
	if (img_join(p, sizeof(p), gen, IMG_SIG) < 0)
		return img_fail(err, errlen, "%s: path too long", gen);
	if (access(p, F_OK) < 0 && errno == ENOENT)
		return img_fail(err, errlen, "%s: the image is not signed (no " IMG_SIG "), but a key was given", gen);
	int fd = img_open_checked_flags(p, img_magic_sig, SIG_ALG_BLAKE2B, &h, err, errlen);
	if (fd < 0)
		return -1;
	int rc = 0;
	if (h.length != IMG_MAC_BYTES || h.xxh3 != 0)
		rc = img_fail(err, errlen, "%s: a signature of %llu bytes (checksum field 0x%llx), expected %u (and 0)", p,
			      (unsigned long long)h.length, (unsigned long long)h.xxh3, IMG_MAC_BYTES);
	else if (pread(fd, mac, IMG_MAC_BYTES, IMG_HEADER_SIZE) != IMG_MAC_BYTES)
		rc = img_fail(err, errlen, "%s: cannot read the signature: %s", p, strerror(errno));
	close(fd);
	return rc;
}

int img_mac_check(crypto_generichash_state *h, const char *gen, const unsigned char want[IMG_MAC_BYTES],
		  char *err, size_t errlen)
{
	unsigned char got[IMG_MAC_BYTES];
	crypto_generichash_final(h, got, sizeof(got));
	sodium_memzero(h, sizeof(*h));
	if (sodium_memcmp(got, want, sizeof(got)) != 0)
		return img_fail(err, errlen, "%s/" IMG_SIG ": the signature does not match: the image was changed after "
					     "it was signed, or signed with another key", gen);
	return 0;
}

/* A chain is as long as image.c's loader allows: a loop never ends. */
#define PARENTS_MAX 64

int image_verify_parents(const AmberImg__Image *img, const char *gen, const struct image_key *key, char *err,
			 size_t errlen)
{
	/* The child names its parent by path and by the XXH3 of its image.pb.
	 * XXH3 is no cryptographic hash, so a parent could be forged to match:
	 * every generation of the chain must carry a signature with the key. */
	AmberImg__Image *cur = NULL;
	const AmberImg__Image *child = img;
	char child_gen[PATH_MAX];
	snprintf(child_gen, sizeof(child_gen), "%s", gen);
	int rc = 0;
	for (unsigned depth = 0; rc == 0 && child->parent_image && child->parent_image[0]; depth++) {
		struct img_info info;
		AmberImg__Image *parent = NULL;
		char msg[512];
		if (depth >= PARENTS_MAX)
			rc = img_fail(err, errlen, "%s: more than %u parent images: a loop?", gen, PARENTS_MAX);
		else if (img_read_info(child->parent_image, key, &parent, &info, msg, sizeof(msg)) < 0)
			rc = img_fail(err, errlen, "%s: its parent image: %s", child_gen, msg);
		else if (info.meta_xxh3 != child->parent_meta_xxh3)
			rc = img_fail(err, errlen, "%s: parent image %s is not the one it was taken against", child_gen,
				      child->parent_image);
		if (rc == 0)
			snprintf(child_gen, sizeof(child_gen), "%s", info.gen);
		image_free(cur);
		cur = parent;
		child = parent;
	}
	image_free(cur);
	return rc;
}

int image_verify(const char *dir, const struct image_key *key, char *err, size_t errlen)
{
	char gen[PATH_MAX];
	unsigned char want[IMG_MAC_BYTES];
	crypto_generichash_state h;
	if (sodium_ready(err, errlen) < 0 || image_current(dir, gen, sizeof(gen), err, errlen) < 0 ||
	    img_sig_read(gen, want, err, errlen) < 0)
		return -1;
	img_mac_init(&h, key);
	if (mac_path(&h, gen, IMG_META, err, errlen) < 0 || mac_path(&h, gen, IMG_PAGES, err, errlen) < 0) {
		sodium_memzero(&h, sizeof(h));
		return -1;
	}
	return img_mac_check(&h, gen, want, err, errlen);
}

int image_verify_chain(const char *dir, const struct image_key *key, char *err, size_t errlen)
{
	if (image_verify(dir, key, err, errlen) < 0)
		return -1;
	/* An incremental image is good only if its parents are. */
	AmberImg__Image *img = NULL;
	struct img_info info;
	if (img_read_info(dir, key, &img, &info, err, errlen) < 0)
		return -1;
	int rc = image_verify_parents(img, info.gen, key, err, errlen);
	image_free(img);
	return rc;
}
