/*
 * Image directories: generations, the `current` symlink, the file headers,
 * and writing and reading image.pb (image.h, docs/image-format.md).
 *
 * Writing never touches the generation `current` names: a new one is
 * built in DIR/.tmp-XXXXXX, made durable (every file and the directory
 * fsync'd), renamed to gen-N and only then published by renaming a fresh
 * symlink over `current`. A crash before that rename leaves the old image
 * current; after it, the new one is complete. Leftovers of a crash (a
 * .tmp- directory, an unpublished gen-N) are removed by the next write.
 * One writer per DIR at a time: core checkpoints one after the other.
 *
 * Reading trusts nothing: the header, the checksum of the payload, the
 * protobuf decoding and then image_check, so that restore only ever sees
 * an image whose indices and sizes it can use without further checks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "image/internal.h"
#include "image/io.h"

const char img_magic_meta[8] = "AMBRIMG";
const char img_magic_pages[8] = "AMBRPGS";

#define GEN_PREFIX "gen-"
#define GEN_MAX 999999999u

int img_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int img_join(char *out, size_t outlen, const char *dir, const char *name)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	int w = snprintf(out, outlen, "%.*s/%s", (int)n, dir, name);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

/* ---- headers: explicit little-endian, whatever the host ---- */

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void img_header_encode(uint8_t out[IMG_HEADER_SIZE], const struct img_header *h)
{
	memcpy(out, h->magic, 8);
	put_le(out + 8, h->format, 4);
	put_le(out + 12, h->flags, 4);
	put_le(out + 16, h->length, 8);
	put_le(out + 24, h->xxh3, 8);
}

static void header_decode(const uint8_t in[IMG_HEADER_SIZE], struct img_header *h)
{
	memcpy(h->magic, in, 8);
	h->format = (uint32_t)get_le(in + 8, 4);
	h->flags = (uint32_t)get_le(in + 12, 4);
	h->length = get_le(in + 16, 8);
	h->xxh3 = get_le(in + 24, 8);
}

/* pread all of it; a short file is not an I/O error but a short count. */
static ssize_t read_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int img_write_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return img_write_with(pwrite, fd, buf, len, off);
}

int img_write_with(ssize_t (*write_at)(int, const void *, size_t, off_t), int fd, const void *buf, size_t len,
		   uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write_at(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int img_open_checked(const char *path, const char magic[8], struct img_header *h, char *err, size_t errlen)
{
	return img_open_checked_flags(path, magic, 0, h, err, errlen);
}

int img_open_regular(const char *path, struct stat *st, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO in an image's place would block open() until a
	 * writer came, and a restore with it. No effect on a regular file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return img_fail(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) < 0) {
		img_fail(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		img_fail(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

int img_open_checked_flags(const char *path, const char magic[8], uint32_t flags, struct img_header *h, char *err,
			   size_t errlen)
{
	struct stat st;
	uint8_t raw[IMG_HEADER_SIZE];
	int fd = img_open_regular(path, &st, err, errlen);
	if (fd < 0)
		return -1;
	ssize_t n = read_full(fd, raw, sizeof(raw), 0);
	if (n < 0) {
		img_fail(err, errlen, "%s: %s", path, strerror(errno));
		goto bad;
	}
	if ((size_t)n < sizeof(raw)) {
		img_fail(err, errlen, "%s: truncated: %zd bytes, shorter than the %u-byte header", path, n,
			 IMG_HEADER_SIZE);
		goto bad;
	}
	header_decode(raw, h);
	uint64_t have = (uint64_t)st.st_size - IMG_HEADER_SIZE;
	if (memcmp(h->magic, magic, 8) != 0)
		img_fail(err, errlen, "%s: not an Amber image (bad magic)", path);
	else if (h->format != IMAGE_FORMAT_VERSION)
		img_fail(err, errlen, "%s: format version %u, this amber reads %u", path, h->format,
			 IMAGE_FORMAT_VERSION);
	else if (h->flags != flags)
		img_fail(err, errlen, "%s: unknown flags 0x%x in the header", path, h->flags);
	else if (h->length > have)
		img_fail(err, errlen, "%s: truncated: header says %llu bytes, file has %llu", path,
			 (unsigned long long)h->length, (unsigned long long)have);
	else if (h->length < have)
		img_fail(err, errlen, "%s: trailing data: header says %llu bytes, file has %llu", path,
			 (unsigned long long)h->length, (unsigned long long)have);
	else
		return fd;
bad:
	close(fd);
	return -1;
}

/* ---- generations ---- */

/* "gen-N" with N decimal digits only: a generation's name, or 0. */
static unsigned gen_number(const char *name)
{
	if (strncmp(name, GEN_PREFIX, strlen(GEN_PREFIX)) != 0)
		return 0;
	const char *d = name + strlen(GEN_PREFIX);
	if (!*d)
		return 0;
	unsigned long long v = 0;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return 0;
		v = v * 10 + (unsigned)(*d - '0');
		if (v > GEN_MAX)
			return 0;
	}
	return (unsigned)v;
}

int image_current(const char *dir, char *out, size_t outlen, char *err, size_t errlen)
{
	struct stat st;
	char p[PATH_MAX], target[PATH_MAX];
	if (stat(dir, &st) < 0)
		return img_fail(err, errlen, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return img_fail(err, errlen, "%s: not a directory", dir);
	if (img_join(p, sizeof(p), dir, "current") < 0)
		return img_fail(err, errlen, "%s: path too long", dir);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	if (n < 0 && errno != ENOENT)
		return img_fail(err, errlen, "%s: %s", p, strerror(errno));
	if (n >= 0) {
		target[n] = '\0';
		/* Only ever "gen-N" in DIR: a link elsewhere is not ours to follow. */
		if (!gen_number(target))
			return img_fail(err, errlen, "%s: points to '%s', not a generation", p, target);
		if (img_join(out, outlen, dir, target) < 0)
			return img_fail(err, errlen, "%s: path too long", dir);
		return 0;
	}
	if (img_join(p, sizeof(p), dir, IMG_META) < 0)
		return img_fail(err, errlen, "%s: path too long", dir);
	if (stat(p, &st) == 0) {
		int w = snprintf(out, outlen, "%s", dir);
		if (w < 0 || (size_t)w >= outlen)
			return img_fail(err, errlen, "%s: path too long", dir);
		return 0;
	}
	return img_fail(err, errlen, "%s: no image (neither current nor " IMG_META ")", dir);
}

/* The highest generation number in dir, 0 if none. */
static int highest_generation(const char *dir, unsigned *out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d)
		return img_fail(err, errlen, "%s: %s", dir, strerror(errno));
	unsigned best = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (gen_number(e->d_name) > best)
			best = gen_number(e->d_name);
	closedir(d);
	*out = best;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Old generations and a crash's leftovers: everything of ours but `keep`.
 * Failures are not reported: the new image is already current, and the
 * next write tries again. */
static void remove_others(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[PATH_MAX];
	while ((e = readdir(d))) {
		bool ours = gen_number(e->d_name) || !strncmp(e->d_name, ".tmp-", 5) ||
			    !strncmp(e->d_name, ".current-", 9);
		if (ours && strcmp(e->d_name, keep) != 0 && img_join(p, sizeof(p), dir, e->d_name) == 0)
			rm_tree(p);
	}
	closedir(d);
}

static int fsync_path(const char *path, char *err, size_t errlen)
{
	int fd = img_io_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return img_fail(err, errlen, "%s: opening it to fsync: %s", path, strerror(errno));
	int rc = img_io_fsync(fd);
	int e = errno;
	close(fd);
	return rc < 0 ? img_fail(err, errlen, "%s: fsync: %s", path, strerror(e)) : 0;
}

/* mkdir -p: an image directory may be given as a path not yet there.
 * When DIR itself is new, its parent is fsync'd: the image's durability
 * starts with DIR's own entry. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
	char p[PATH_MAX];
	int w = snprintf(p, sizeof(p), "%s", dir);
	if (w < 0 || (size_t)w >= sizeof(p))
		return img_fail(err, errlen, "%s: path too long", dir);
	for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
		p[n - 1] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (img_io_mkdir(p, 0755) < 0 && errno != EEXIST)
			return img_fail(err, errlen, "cannot create %s: %s", p, strerror(errno));
		*s = '/';
	}
	bool created = img_io_mkdir(p, 0755) == 0;
	if (!created && errno != EEXIST)
		return img_fail(err, errlen, "cannot create %s: %s", p, strerror(errno));
	struct stat st;
	if (stat(p, &st) < 0)
		return img_fail(err, errlen, "%s: %s", p, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return img_fail(err, errlen, "%s: not a directory", p);
	if (created) {
		char *slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0'; /* "/x": the root */
		else if (slash)
			*slash = '\0';
		return fsync_path(slash ? p : ".", err, errlen);
	}
	return 0;
}

/* ---- writing ---- */

static void extents_free(AmberImg__Extent **e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i]);
	free(e);
}

static int create_file(const char *path, char *err, size_t errlen)
{
	int fd = img_io_open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return img_fail(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return fd;
}

/* The header last, once the length is known; then fsync and close fd. */
static int finish_file(int fd, const char *path, const struct img_header *h, char *err, size_t errlen)
{
	uint8_t raw[IMG_HEADER_SIZE];
	img_header_encode(raw, h);
	int rc = 0;
	if (img_io_write_full(fd, raw, sizeof(raw), 0) < 0)
		rc = img_fail(err, errlen, "%s: %s", path, strerror(errno));
	else if (img_io_fsync(fd) < 0)
		rc = img_fail(err, errlen, "%s: fsync: %s", path, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = img_fail(err, errlen, "%s: %s", path, strerror(errno));
	return rc;
}

/* ---- a generation being written ---- */

#define WRITE_CHUNK (1u << 20)

struct image_writer {
	char dir[PATH_MAX], tmp[PATH_MAX], pages[PATH_MAX];
	int fd;       /* pages.bin */
	uint64_t pos; /* where the next run goes in it */
	uint8_t *buf; /* WRITE_CHUNK bytes: a file's pages pass through it */
	XXH3_state_t *hash;
	bool sign;    /* image_writer_sign: a signature file with this key */
	struct image_key key;
};

void image_writer_sign(struct image_writer *w, const struct image_key *key)
{
	w->key = *key;
	w->sign = true;
}

/* The extents of one dataspace as they are found: runs of non-zero pages,
 * each appended to pages.bin. A run may span several reads. */
struct run_builder {
	AmberImg__Extent **e;
	size_t n, cap;
	AmberImg__Extent *open; /* the run being extended, or NULL */
};

static int run_page(struct image_writer *w, struct run_builder *b, uint64_t off, const uint8_t *page)
{
	if (!b->open) {
		if (b->n == b->cap) {
			size_t cap = b->cap ? 2 * b->cap : 8;
			AmberImg__Extent **g = realloc(b->e, cap * sizeof(*g));
			if (!g)
				return -1;
			b->e = g;
			b->cap = cap;
		}
		if (!(b->open = malloc(sizeof(*b->open))))
			return -1;
		amber_img__extent__init(b->open);
		b->open->offset = off;
		b->open->file_offset = w->pos;
		b->e[b->n++] = b->open;
		XXH3_64bits_reset(w->hash);
	}
	XXH3_64bits_update(w->hash, page, IMG_PAGE);
	b->open->length += IMG_PAGE;
	return 0;
}

static void run_close(struct image_writer *w, struct run_builder *b)
{
	if (b->open)
		b->open->xxh3 = XXH3_64bits_digest(w->hash);
	b->open = NULL;
}

/* `len` bytes at dataspace offset `off`: its non-zero pages join runs and
 * are written, a contiguous stretch with one pwrite. */
static int add_bytes(struct image_writer *w, struct run_builder *b, uint64_t off, const uint8_t *bytes, size_t len,
		     char *err, size_t errlen)
{
	for (size_t at = 0; at < len;) {
		if (img_page_zero(bytes + at)) {
			run_close(w, b);
			at += IMG_PAGE;
			continue;
		}
		size_t end = at;
		for (; end < len && !img_page_zero(bytes + end); end += IMG_PAGE)
			if (run_page(w, b, off + end, bytes + end) < 0)
				return img_fail(err, errlen, "%s: out of memory", w->pages);
		if (img_io_write_full(w->fd, bytes + at, end - at, w->pos) < 0)
			return img_fail(err, errlen, "%s: %s", w->pages, strerror(errno));
		w->pos += end - at;
		at = end;
	}
	return 0;
}

/* An incremental image's dataspace: only the pages store_only names, each
 * run of them read through the buffer and stored as it is, zeros too. */
static int add_wanted(struct image_writer *w, struct run_builder *b, const struct image_memory *m, char *err,
		      size_t errlen)
{
	size_t pages = m->size / IMG_PAGE;
	for (size_t p = 0; p < pages;) {
		if (!m->store_only[p]) {
			run_close(w, b);
			p++;
			continue;
		}
		size_t end = p;
		while (end < pages && m->store_only[end] && (end - p) * IMG_PAGE < WRITE_CHUNK)
			end++;
		size_t want = (end - p) * IMG_PAGE;
		uint64_t off = (uint64_t)p * IMG_PAGE;
		ssize_t n;
		if (m->read) {
			int e = m->read(m->ctx, off, w->buf, want);
			n = e < 0 ? (errno = -e, -1) : (ssize_t)want;
		} else {
			n = read_full(m->fd, w->buf, want, off);
		}
		if (n < 0)
			return img_fail(err, errlen, "%s: reading the memory: %s", w->pages, strerror(errno));
		if ((size_t)n < want)
			memset(w->buf + n, 0, want - (size_t)n);
		for (size_t k = 0; k < want; k += IMG_PAGE)
			if (run_page(w, b, off + k, w->buf + k) < 0)
				return img_fail(err, errlen, "%s: out of memory", w->pages);
		if (img_io_write_full(w->fd, w->buf, want, w->pos) < 0)
			return img_fail(err, errlen, "%s: %s", w->pages, strerror(errno));
		w->pos += want;
		p = end;
	}
	run_close(w, b);
	return 0;
}

/* ---- a memory file, stored by several workers ----
 *
 * The ranges of the file that hold data (SEEK_DATA) are cut into chunks of
 * WRITE_CHUNK bytes. Workers (img_run_workers: the caller and, for a large
 * file, a thread per further CPU) take the chunks in turn, each through
 * its own buffer: read it, skip its zero pages, and for each run of
 * non-zero pages reserve room at the end of pages.bin and write the run
 * there with its XXH3. A run never crosses a chunk, so the chunks need no
 * order in pages.bin; their extents are put together in the dataspace's
 * order at the end. */

struct store_chunk {
	uint64_t off;
	size_t len;
	AmberImg__Extent **e; /* its runs, in order */
	size_t n, cap;
};

struct store {
	struct image_writer *w;
	const struct image_memory *m;
	struct store_chunk *c;
	size_t nc, capc;
	pthread_mutex_t lock; /* next, w->pos and the first failure */
	size_t next;
	bool failed;
	char err[512];
};

static int store_fail(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int store_fail(struct store *s, const char *fmt, ...)
{
	char msg[sizeof(s->err)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&s->lock);
	if (!s->failed)
		memcpy(s->err, msg, sizeof(msg));
	s->failed = true;
	pthread_mutex_unlock(&s->lock);
	return -1;
}

static int chunk_add_run(struct store_chunk *c, uint64_t off, uint64_t file_off, const uint8_t *bytes, size_t len)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4;
		AmberImg__Extent **g = realloc(c->e, cap * sizeof(*g));
		if (!g)
			return -1;
		c->e = g;
		c->cap = cap;
	}
	AmberImg__Extent *e = malloc(sizeof(*e));
	if (!e)
		return -1;
	amber_img__extent__init(e);
	e->offset = off;
	e->file_offset = file_off;
	e->length = len;
	e->xxh3 = XXH3_64bits(bytes, len); /* what the streaming digest gives */
	c->e[c->n++] = e;
	return 0;
}

static int store_chunk(struct store *s, struct store_chunk *c, uint8_t *buf)
{
	struct image_writer *w = s->w;
	const struct image_memory *m = s->m;
	ssize_t n;
	if (m->read) {
		int e = m->read(m->ctx, c->off, buf, c->len);
		n = e < 0 ? (errno = -e, -1) : (ssize_t)c->len;
	} else {
		n = read_full(m->fd, buf, c->len, c->off);
	}
	if (n < 0)
		return store_fail(s, "%s: reading the memory: %s", w->pages, strerror(errno));
	if ((size_t)n < c->len) /* shrunk meanwhile: the rest reads as zero */
		memset(buf + n, 0, c->len - (size_t)n);
	for (size_t at = 0; at < c->len;) {
		if (img_page_zero(buf + at)) {
			at += IMG_PAGE;
			continue;
		}
		size_t end = at + IMG_PAGE;
		while (end < c->len && !img_page_zero(buf + end))
			end += IMG_PAGE;
		pthread_mutex_lock(&s->lock);
		uint64_t file_off = w->pos;
		w->pos += end - at;
		pthread_mutex_unlock(&s->lock);
		if (chunk_add_run(c, c->off + at, file_off, buf + at, end - at) < 0)
			return store_fail(s, "%s: out of memory", w->pages);
		if (img_io_write_full(w->fd, buf + at, end - at, file_off) < 0)
			return store_fail(s, "%s: %s", w->pages, strerror(errno));
		at = end;
	}
	return 0;
}

static void *store_worker(void *arg)
{
	struct store *s = arg;
	uint8_t *buf = malloc(WRITE_CHUNK);
	if (!buf) {
		store_fail(s, "%s: out of memory", s->w->pages);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&s->lock);
		struct store_chunk *c = !s->failed && s->next < s->nc ? &s->c[s->next++] : NULL;
		pthread_mutex_unlock(&s->lock);
		if (!c || store_chunk(s, c, buf) < 0)
			break;
	}
	free(buf);
	return NULL;
}

static int store_add_chunk(struct store *s, uint64_t off, size_t len)
{
	if (s->nc == s->capc) {
		size_t cap = s->capc ? 2 * s->capc : 16;
		struct store_chunk *g = realloc(s->c, cap * sizeof(*g));
		if (!g)
			return -1;
		s->c = g;
		s->capc = cap;
	}
	s->c[s->nc++] = (struct store_chunk){ .off = off, .len = len };
	return 0;
}

/* The chunks of the ranges of m's file that hold data; holes end runs. */
static int store_plan(struct store *s, char *err, size_t errlen)
{
	int fd = s->m->fd;
	off_t size = (off_t)s->m->size;
	for (off_t at = 0; at < size;) {
		off_t data = lseek(fd, at, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only holes from here on */
		off_t hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
		if (data < 0 || hole < 0)
			return img_fail(err, errlen, "%s: seeking in the memory: %s", s->w->pages, strerror(errno));
		data &= ~(off_t)(IMG_PAGE - 1);
		if (hole > size)
			hole = size;
		for (off_t p = data; p < hole;) {
			size_t want = hole - p < WRITE_CHUNK ? (size_t)(hole - p) : WRITE_CHUNK;
			want = (want + IMG_PAGE - 1) & ~(size_t)(IMG_PAGE - 1);
			if (store_add_chunk(s, (uint64_t)p, want) < 0)
				return img_fail(err, errlen, "%s: out of memory", s->w->pages);
			p += (off_t)want;
		}
		at = hole;
	}
	return 0;
}

/* As many workers as this process may run on CPUs, up to the maximum,
 * when there is enough to do. */
static unsigned workers_for(uint64_t bytes)
{
	cpu_set_t cpus;
	if (bytes < IMG_PARALLEL_MIN || sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		return 1;
	int n = CPU_COUNT(&cpus);
	return n < 1 ? 1 : n > IMG_WORKERS_MAX ? IMG_WORKERS_MAX : (unsigned)n;
}

void img_run_workers(void *(*fn)(void *), void *arg, uint64_t bytes)
{
	pthread_t t[IMG_WORKERS_MAX];
	unsigned started = 0, workers = workers_for(bytes);
	while (started + 1 < workers && pthread_create(&t[started], NULL, fn, arg) == 0)
		started++; /* a thread that cannot start leaves more to the others */
	fn(arg);
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
}

static int add_file(struct image_writer *w, struct run_builder *b, const struct image_memory *m, char *err,
		    size_t errlen)
{
	struct store s = { .w = w, .m = m, .lock = PTHREAD_MUTEX_INITIALIZER };
	int rc = store_plan(&s, err, errlen);
	size_t bytes = 0;
	for (size_t i = 0; i < s.nc; i++)
		bytes += s.c[i].len;
	if (rc == 0)
		img_run_workers(store_worker, &s, bytes);
	if (rc == 0 && s.failed)
		rc = img_fail(err, errlen, "%s", s.err);
	/* The chunks' runs, in order, become the dataspace's extents. */
	for (size_t i = 0; i < s.nc; i++) {
		struct store_chunk *c = &s.c[i];
		for (size_t k = 0; k < c->n; k++) {
			if (rc == 0 && b->n == b->cap) {
				size_t cap = b->cap ? 2 * b->cap : 8;
				AmberImg__Extent **g = realloc(b->e, cap * sizeof(*g));
				if (!g)
					rc = img_fail(err, errlen, "%s: out of memory", w->pages);
				else {
					b->e = g;
					b->cap = cap;
				}
			}
			if (rc == 0)
				b->e[b->n++] = c->e[k];
			else
				free(c->e[k]);
		}
		free(c->e);
	}
	free(s.c);
	pthread_mutex_destroy(&s.lock);
	return rc;
}

void image_abort(struct image_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp[0])
		rm_tree(w->tmp);
	XXH3_freeState(w->hash);
	free(w->buf);
	image_key_clear(&w->key);
	free(w);
}

int image_begin(const char *dir, struct image_writer **out, char *err, size_t errlen)
{
	char p[PATH_MAX];
	struct stat st;
	*out = NULL;
	struct image_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->buf = malloc(WRITE_CHUNK)) || !(w->hash = XXH3_createState())) {
		image_abort(w);
		return img_fail(err, errlen, "%s: out of memory", dir);
	}
	w->fd = -1;
	img_io_begin();
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	if (make_dirs(dir, err, errlen) < 0) {
		image_abort(w);
		return -1;
	}
	/* A copied generation is read as it is; writing generations beside
	 * its image.pb would leave two images in one place. */
	if (img_join(p, sizeof(p), dir, IMG_META) < 0 || img_join(w->tmp, sizeof(w->tmp), dir, ".tmp-XXXXXX") < 0) {
		w->tmp[0] = '\0';
		image_abort(w);
		return img_fail(err, errlen, "%s: path too long", dir);
	}
	if (stat(p, &st) == 0) {
		w->tmp[0] = '\0';
		image_abort(w);
		return img_fail(err, errlen, "%s: holds a copied image (" IMG_META "); write into another directory",
				dir);
	}
	if (!img_io_mkdtemp(w->tmp)) {
		img_fail(err, errlen, "cannot create %s: %s", w->tmp, strerror(errno));
		w->tmp[0] = '\0';
		image_abort(w);
		return -1;
	}
	chmod(w->tmp, 0755); /* mkdtemp's 0700 would make the generation private */
	if (img_join(w->pages, sizeof(w->pages), w->tmp, IMG_PAGES) < 0) {
		image_abort(w);
		return img_fail(err, errlen, "%s: path too long", w->tmp);
	}
	if ((w->fd = create_file(w->pages, err, errlen)) < 0) {
		image_abort(w);
		return -1;
	}
	w->pos = IMG_HEADER_SIZE;
	*out = w;
	return 0;
}

int image_add_memory(struct image_writer *w, AmberImg__Image *img, unsigned i, const struct image_memory *m,
		     char *err, size_t errlen)
{
	char label[128];
	img_ds_label(label, sizeof(label), img, i);
	AmberImg__Dataspace *d = i < img->n_dataspaces ? img->dataspaces[i] : NULL;
	if (!d)
		return img_fail(err, errlen, "%s: %s missing", w->dir, label);
	if (m->size != d->size)
		return img_fail(err, errlen, "%s: %s: memory of %zu bytes for a dataspace of %llu", w->dir, label,
				m->size, (unsigned long long)d->size);
	if (d->size % IMG_PAGE)
		return img_fail(err, errlen, "%s: %s: size %llu is not a multiple of %u", w->dir, label,
				(unsigned long long)d->size, IMG_PAGE);
	struct run_builder b = { 0 };
	int rc = 0;
	if (m->has_fd && m->store_only)
		rc = add_wanted(w, &b, m, err, errlen);
	else if (m->has_fd)
		rc = add_file(w, &b, m, err, errlen);
	else if (m->bytes) {
		rc = add_bytes(w, &b, 0, m->bytes, m->size, err, errlen);
		run_close(w, &b);
	}
	if (rc < 0) {
		extents_free(b.e, b.n);
		return -1;
	}
	/* The new runs describe it now, and replace any old ones. */
	extents_free(d->extents, d->n_extents);
	d->extents = b.e;
	d->n_extents = b.n;
	return 0;
}

static int write_meta(const char *tmp, AmberImg__Image *img, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (img_join(path, sizeof(path), tmp, IMG_META) < 0)
		return img_fail(err, errlen, "%s: path too long", tmp);
	size_t len = amber_img__image__get_packed_size(img);
	if (len > IMAGE_MAX_METADATA)
		return img_fail(err, errlen, "%s: metadata of %zu bytes is above the limit of %u", path, len,
				IMAGE_MAX_METADATA);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return img_fail(err, errlen, "%s: out of memory for %zu bytes", path, len);
	amber_img__image__pack(img, buf);
	struct img_header h = { .format = IMAGE_FORMAT_VERSION, .length = len, .xxh3 = XXH3_64bits(buf, len) };
	memcpy(h.magic, img_magic_meta, 8);
	int fd = create_file(path, err, errlen);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	int rc = 0;
	if (img_io_write_full(fd, buf, len, IMG_HEADER_SIZE) < 0) {
		rc = img_fail(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
	} else
		rc = finish_file(fd, path, &h, err, errlen);
	free(buf);
	return rc;
}

/* pages.bin finished, then image.pb: both fsync'd with their directory. */
static int write_generation(struct image_writer *w, AmberImg__Image *img, char *err, size_t errlen)
{
	char msg[512];
	uint64_t pages_len = w->pos - IMG_HEADER_SIZE;
	struct img_header h = { .format = IMAGE_FORMAT_VERSION, .length = pages_len };
	memcpy(h.magic, img_magic_pages, 8);
	int rc = finish_file(w->fd, w->pages, &h, err, errlen);
	w->fd = -1;
	if (rc < 0)
		return -1;
	img->format_version = IMAGE_FORMAT_VERSION;
	/* Never write what image_read would refuse: the writer's mistakes show
	 * up here, at the checkpoint, not at the restore. */
	if (image_check(img, pages_len, msg, sizeof(msg)) < 0)
		return img_fail(err, errlen, "%s: refusing to write an invalid image: %s", w->tmp, msg);
	if (!protobuf_c_message_check(&img->base))
		return img_fail(err, errlen, "%s: refusing to write an image with a required field unset", w->tmp);
	if (write_meta(w->tmp, img, err, errlen) < 0)
		return -1;
	/* Signed before `current` switches: a signed image is never seen unsigned. */
	if (w->sign && img_sign_generation(w->tmp, &w->key, err, errlen) < 0)
		return -1;
	return fsync_path(w->tmp, err, errlen);
}

int image_commit(struct image_writer *w, AmberImg__Image *img, char *err, size_t errlen)
{
	char gen[PATH_MAX], name[32], link_tmp[PATH_MAX], cur[PATH_MAX], p[PATH_MAX];
	const char *dir = w->dir;
	unsigned n = 0;
	if (write_generation(w, img, err, errlen) < 0 || highest_generation(dir, &n, err, errlen) < 0)
		goto fail_tmp;
	if (n >= GEN_MAX) {
		img_fail(err, errlen, "%s: no generation number left above %u", dir, n);
		goto fail_tmp;
	}
	snprintf(name, sizeof(name), GEN_PREFIX "%06u", n + 1);
	if (img_join(gen, sizeof(gen), dir, name) < 0 || img_join(cur, sizeof(cur), dir, "current") < 0 ||
	    img_io_rename(w->tmp, gen) < 0) {
		img_fail(err, errlen, "cannot rename %s to %s: %s", w->tmp, name, strerror(errno));
		goto fail_tmp;
	}
	w->tmp[0] = '\0'; /* renamed: not a leftover any more */
	if (fsync_path(dir, err, errlen) < 0)
		goto fail_gen;

	/* The switch: a new symlink renamed over `current` is atomic. */
	snprintf(p, sizeof(p), ".current-%ld", (long)getpid());
	if (img_join(link_tmp, sizeof(link_tmp), dir, p) < 0) {
		img_fail(err, errlen, "%s: path too long", dir);
		goto fail_gen;
	}
	unlink(link_tmp); /* a crashed writer's of the same pid */
	if (img_io_symlink(name, link_tmp) < 0) {
		img_fail(err, errlen, "cannot create %s: %s", link_tmp, strerror(errno));
		goto fail_gen;
	}
	if (img_io_rename(link_tmp, cur) < 0) {
		img_fail(err, errlen, "cannot replace %s: %s", cur, strerror(errno));
		unlink(link_tmp);
		goto fail_gen;
	}
	/* `current` is switched; from here on the new image is the image even
	 * if making that durable fails. Then the switch may not survive a
	 * crash: the old generations stay, so that `current` names a complete
	 * one whichever way it comes back, and the checkpoint is reported
	 * failed. */
	char why[PATH_MAX + 64];
	if (fsync_path(dir, why, sizeof(why)) < 0) {
		img_fail(err, errlen, "%s/%s is current but may not survive a crash (the previous image is kept): %s",
			 dir, name, why);
		image_abort(w);
		return -1;
	}
	remove_others(dir, name);
	image_abort(w);
	return 0;

fail_gen:
	rm_tree(gen);
fail_tmp:
	image_abort(w);
	return -1;
}

int image_write(const char *dir, AmberImg__Image *img, const struct image_memory *mem, char *err,
		size_t errlen)
{
	if (!img)
		return img_fail(err, errlen, "%s: no image to write", dir);
	if (img->n_dataspaces && !mem)
		return img_fail(err, errlen, "%s: no memory for %zu dataspaces", dir, img->n_dataspaces);
	struct image_writer *w;
	if (image_begin(dir, &w, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < img->n_dataspaces; i++)
		if (image_add_memory(w, img, (unsigned)i, &mem[i], err, errlen) < 0) {
			image_abort(w);
			return -1;
		}
	return image_commit(w, img, err, errlen);
}

int image_merge(const char *dir, const char *out, char *err, size_t errlen)
{
	AmberImg__Image *img = NULL;
	struct img_info info;
	if (img_read_info(dir, NULL, &img, &info, err, errlen) < 0)
		return -1;
	size_t n = img->n_dataspaces;
	int *fds = malloc((n + 1) * sizeof(*fds));
	struct image_memory *mem = calloc(n + 1, sizeof(*mem));
	int rc = !fds || !mem ? img_fail(err, errlen, "%s: out of memory", dir) : 0;
	for (size_t i = 0; fds && i < n; i++) {
		const AmberImg__Dataspace *d = img->dataspaces[i];
		fds[i] = -1;
		if (rc || d->kind == AMBER_IMG__DATASPACE_KIND__DS_MANAGED)
			continue;
		fds[i] = memfd_create("amber-merge", MFD_CLOEXEC);
		if (fds[i] < 0 || ftruncate(fds[i], (off_t)d->size) < 0)
			rc = img_fail(err, errlen, "%s: memory for dataspace %zu: %s", dir, i, strerror(errno));
		mem[i] = (struct image_memory){ .size = d->size, .has_fd = true, .fd = fds[i] };
	}
	for (size_t i = 0; !rc && i < n; i++)
		mem[i].size = img->dataspaces[i]->size;
	if (rc == 0)
		rc = image_load_memory(dir, img, fds, err, errlen);
	if (rc == 0) {
		free(img->parent_image);
		img->parent_image = NULL;
		img->has_parent_meta_xxh3 = false;
		img->parent_meta_xxh3 = 0;
		for (size_t i = 0; i < n; i++) {
			img->dataspaces[i]->has_parent_dataspace = false;
			img->dataspaces[i]->parent_dataspace = 0;
		}
		rc = image_write(out, img, mem, err, errlen);
	}
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(mem);
	image_free(img);
	return rc;
}

/* ---- reading ---- */

int image_identity(const char *dir, char *gen, size_t genlen, uint64_t *meta_xxh3, char *err, size_t errlen)
{
	char cur[PATH_MAX], meta[PATH_MAX];
	struct img_header h;
	if (image_current(dir, cur, sizeof(cur), err, errlen) < 0)
		return -1;
	if (!realpath(cur, meta))
		return img_fail(err, errlen, "%s: %s", cur, strerror(errno));
	int w = snprintf(gen, genlen, "%s", meta);
	if (w < 0 || (size_t)w >= genlen || img_join(meta, sizeof(meta), gen, IMG_META) < 0)
		return img_fail(err, errlen, "%s: path too long", cur);
	int fd = img_open_checked(meta, img_magic_meta, &h, err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	*meta_xxh3 = h.xxh3;
	return 0;
}

/* With a key: the MAC over image.pb's bytes as read (header and payload)
 * and pages.bin's, compared with the signature, before either is decoded. */
struct verify {
	const char *gen;
	const struct image_key *key;
	unsigned char want[IMG_MAC_BYTES];
};

static int verify_files(const struct verify *v, const struct img_header *h, const uint8_t *payload, char *err,
			size_t errlen)
{
	crypto_generichash_state st;
	uint8_t raw[IMG_HEADER_SIZE];
	char p[PATH_MAX];
	img_mac_init(&st, v->key);
	img_header_encode(raw, h); /* the bytes the header was decoded from */
	crypto_generichash_update(&st, raw, sizeof(raw));
	crypto_generichash_update(&st, payload, h->length);
	struct stat sb;
	int fd = img_join(p, sizeof(p), v->gen, IMG_PAGES) < 0 ? img_fail(err, errlen, "%s: path too long", v->gen)
								 : img_open_regular(p, &sb, err, errlen);
	if (fd < 0 || img_mac_file(&st, fd, p, err, errlen) < 0) {
		if (fd >= 0)
			close(fd);
		sodium_memzero(&st, sizeof(st));
		return -1;
	}
	close(fd);
	return img_mac_check(&st, v->gen, v->want, err, errlen);
}

static int read_meta(const char *path, const struct verify *v, AmberImg__Image **out, struct img_info *info,
		     char *err, size_t errlen)
{
	struct img_header h;
	int fd = img_open_checked(path, img_magic_meta, &h, err, errlen);
	if (fd < 0)
		return -1;
	if (h.length > IMAGE_MAX_METADATA) {
		close(fd);
		return img_fail(err, errlen, "%s: metadata of %llu bytes is above the limit of %u", path,
				(unsigned long long)h.length, IMAGE_MAX_METADATA);
	}
	uint8_t *buf = malloc(h.length ? h.length : 1);
	if (!buf) {
		close(fd);
		return img_fail(err, errlen, "%s: out of memory for %llu bytes", path, (unsigned long long)h.length);
	}
	ssize_t n = read_full(fd, buf, h.length, IMG_HEADER_SIZE);
	int e = errno;
	close(fd);
	int rc = 0;
	if (n < 0)
		rc = img_fail(err, errlen, "%s: %s", path, strerror(e));
	else if ((uint64_t)n < h.length)
		rc = img_fail(err, errlen, "%s: truncated: header says %llu bytes, file has %zd", path,
			      (unsigned long long)h.length, n);
	else if (v && verify_files(v, &h, buf, err, errlen) < 0)
		rc = -1;
	else {
		uint64_t sum = XXH3_64bits(buf, h.length);
		if (sum != h.xxh3)
			rc = img_fail(err, errlen, "%s: checksum mismatch (stored 0x%016llx, computed 0x%016llx)", path,
				      (unsigned long long)h.xxh3, (unsigned long long)sum);
		else if (!(*out = amber_img__image__unpack(NULL, h.length, buf)))
			rc = img_fail(err, errlen, "%s: cannot decode", path);
	}
	free(buf);
	info->meta_length = h.length;
	info->meta_xxh3 = h.xxh3;
	return rc;
}

int img_read_info(const char *dir, const struct image_key *key, AmberImg__Image **out, struct img_info *info,
		  char *err, size_t errlen)
{
	char meta[PATH_MAX], msg[512];
	struct verify v = { .gen = info->gen, .key = key };
	*out = NULL;
	if (image_current(dir, info->gen, sizeof(info->gen), err, errlen) < 0)
		return -1;
	if (img_join(meta, sizeof(meta), info->gen, IMG_META) < 0)
		return img_fail(err, errlen, "%s: path too long", info->gen);
	if (key && sodium_init() < 0)
		return img_fail(err, errlen, "libsodium cannot be initialised");
	if (key && img_sig_read(info->gen, v.want, err, errlen) < 0)
		return -1;
	AmberImg__Image *img = NULL;
	if (read_meta(meta, key ? &v : NULL, &img, info, err, errlen) < 0)
		return -1;
	struct img_pages p;
	if (img_pages_open(info->gen, &p, err, errlen) < 0) {
		image_free(img);
		return -1;
	}
	info->pages_length = p.length;
	img_pages_close(&p);
	if (image_check(img, info->pages_length, msg, sizeof(msg)) < 0) {
		image_free(img);
		return img_fail(err, errlen, "%s: %s", meta, msg);
	}
	*out = img;
	return 0;
}

int image_read(const char *dir, AmberImg__Image **out, char *err, size_t errlen)
{
	struct img_info info;
	return img_read_info(dir, NULL, out, &info, err, errlen);
}

int image_read_signed(const char *dir, const struct image_key *key, AmberImg__Image **out, char *err,
		      size_t errlen)
{
	struct img_info info;
	return img_read_info(dir, key, out, &info, err, errlen);
}

void image_free(AmberImg__Image *img)
{
	if (img)
		amber_img__image__free_unpacked(img, NULL);
}
