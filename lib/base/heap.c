/*
 * The component heap (amber/heap.h).
 *
 * Why this shape: every byte a component has is a dataspace core knows,
 * and asking core for one costs a system-call injection, so memory comes
 * in chunks. A chunk starts with its header, then blocks follow back to
 * back, each with a 16-byte header (its size, and its chunk with the low
 * bit set while in use). Allocation is first fit over all chunks, merging
 * neighbouring free blocks on the way; freeing merges the chunk's free
 * blocks and gives the chunk back when nothing in it is used. Large
 * requests get a chunk of their own with a single block.
 */
#include <stdint.h>

#include <amber/cap_alloc.h>
#include <amber/env.h>
#include <amber/heap.h>
#include <amber/lock.h>
#include <amber/pd.h>
#include <amber/rm.h>

#define CHUNK_SIZE (64u * 1024u)
#define LARGE (CHUNK_SIZE / 4u)
#define MAX_REQUEST (1ull << 40)

struct chunk {
	struct chunk *next;
	uint64_t size;  /* bytes attached, header included */
	amber_sel_t ds;
	uint32_t large;
	uint64_t pad;   /* blocks start 16-byte aligned */
};

struct block {
	uint64_t size;  /* header included, a multiple of 16 */
	uint64_t owner; /* the chunk, | 1 while in use */
};

_Static_assert(sizeof(struct chunk) % 16 == 0 && sizeof(struct block) == 16, "alignment");

static struct chunk *chunks;
static unsigned nchunks;
static struct amber_lock lock = AMBER_LOCK_INIT;

static struct block *first_block(struct chunk *c) { return (struct block *)(c + 1); }
static uint8_t *chunk_end(struct chunk *c) { return (uint8_t *)c + c->size; }
static struct block *next_block(struct block *b) { return (struct block *)((uint8_t *)b + b->size); }
static int in_use(const struct block *b) { return (int)(b->owner & 1u); }

static struct chunk *chunk_new(uint64_t size, int large)
{
	amber_sel_t pd = amber_env_pd(), rm = amber_env_rm();
	amber_sel_t ds = amber_cap_alloc();
	uint64_t addr;
	if (pd == AMBER_SEL_INVALID || rm == AMBER_SEL_INVALID || ds == AMBER_SEL_INVALID) {
		amber_cap_free(ds);
		return 0;
	}
	size = (size + AMBER_PAGE_SIZE - 1) & ~(uint64_t)(AMBER_PAGE_SIZE - 1);
	if (amber_pd_alloc_ram(pd, size, ds) != AMBER_OK) {
		amber_cap_free(ds);
		return 0;
	}
	if (amber_rm_attach(rm, ds, 0, 0, 0, AMBER_RM_WRITABLE, &addr) != AMBER_OK) {
		amber_pd_free_ram(pd, ds);
		amber_cap_free(ds);
		return 0;
	}
	struct chunk *c = (struct chunk *)(uintptr_t)addr;
	c->size = size;
	c->ds = ds;
	c->large = (uint32_t)large;
	struct block *b = first_block(c);
	b->size = size - sizeof(*c);
	b->owner = (uint64_t)(uintptr_t)c;
	c->next = chunks;
	chunks = c;
	nchunks++;
	return c;
}

static void chunk_release(struct chunk *c)
{
	for (struct chunk **pp = &chunks; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	nchunks--;
	amber_sel_t ds = c->ds;
	amber_rm_detach(amber_env_rm(), (uint64_t)(uintptr_t)c); /* c is gone from here on */
	amber_pd_free_ram(amber_env_pd(), ds);
	amber_cap_free(ds);
}

/* Merge b with the free blocks after it. */
static void merge(struct chunk *c, struct block *b)
{
	for (struct block *n = next_block(b); (uint8_t *)n < chunk_end(c) && !in_use(n); n = next_block(b))
		b->size += n->size;
}

static void *chunk_fit(struct chunk *c, uint64_t need)
{
	for (struct block *b = first_block(c); (uint8_t *)b < chunk_end(c); b = next_block(b)) {
		if (in_use(b))
			continue;
		merge(c, b);
		if (b->size < need)
			continue;
		if (b->size - need >= 2 * sizeof(struct block)) {
			struct block *rest = (struct block *)((uint8_t *)b + need);
			rest->size = b->size - need;
			rest->owner = (uint64_t)(uintptr_t)c;
			b->size = need;
		}
		b->owner = (uint64_t)(uintptr_t)c | 1u;
		return b + 1;
	}
	return 0;
}

void *amber_malloc(size_t size)
{
	if (size == 0 || size > MAX_REQUEST)
		return 0;
	uint64_t need = ((size + 15u) & ~(uint64_t)15u) + sizeof(struct block);
	void *p = 0;
	amber_lock_acquire(&lock);
	if (need > LARGE) {
		struct chunk *c = chunk_new(sizeof(struct chunk) + need, 1);
		if (c)
			p = chunk_fit(c, need);
	} else {
		for (struct chunk *c = chunks; c && !p; c = c->next)
			if (!c->large)
				p = chunk_fit(c, need);
		if (!p) {
			struct chunk *c = chunk_new(CHUNK_SIZE, 0);
			if (c)
				p = chunk_fit(c, need);
		}
	}
	amber_lock_release(&lock);
	return p;
}

void amber_free(void *p)
{
	if (!p)
		return;
	struct block *b = (struct block *)p - 1;
	struct chunk *c = (struct chunk *)(uintptr_t)(b->owner & ~(uint64_t)1u);
	amber_lock_acquire(&lock);
	b->owner = (uint64_t)(uintptr_t)c;
	struct block *f = first_block(c);
	merge(c, f);
	if (!in_use(f) && (uint8_t *)next_block(f) >= chunk_end(c))
		chunk_release(c); /* nothing in it is used */
	amber_lock_release(&lock);
}

unsigned amber_heap_chunks(void)
{
	amber_lock_acquire(&lock);
	unsigned n = nchunks;
	amber_lock_release(&lock);
	return n;
}
