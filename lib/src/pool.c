// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Registered pools and the translation map.
 *
 * Sections, in order: the translation map; memory backings (reserving,
 * populating, measuring huge pages); the buffer pool's checked paths; the
 * heap (a buddy allocator); the shared header; creating, attaching and
 * destroying pools.
 *
 * Vocabulary: a *unit* is the heap's smallest block, 64 bytes; a block of
 * *order* k is 64 << k bytes and starts at a unit index that is a multiple
 * of 1 << k.  *end* is exclusive everywhere; offsets count from the pool's
 * base.  Allocator state is private memory (malloc), never the pool: what
 * a device or another process writes into pool memory cannot reach it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "iommureg.h"
#include "iommureg/pool.h"
#include "internal.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB		(21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB		(30 << MAP_HUGE_SHIFT)
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB		(21U << 26)
#endif
#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB		(30U << 26)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#define SZ_4K			4096UL
#define SZ_2M			(2UL << 20)
#define SZ_1G			(1UL << 30)

#define IREG_POOL_HDR_SIZE	SZ_4K

/* ------------------------------------------------------------------ */
/* Translation map                                                     */
/* ------------------------------------------------------------------ */

#define IREG_MAP_L2_ENTRIES	(1U << IREG_MAP_L2_BITS)
#define IREG_MAP_L1_ENTRIES	(1U << IREG_MAP_L1_BITS)

/* lock serialises ireg_map_set() and ireg_map_clear(); readers take none. */
struct ireg_map_priv {
	pthread_mutex_t lock;
};

int ireg_map_create(struct ireg_map **mapp)
{
	struct ireg_map *map;
	int err;

	*mapp = NULL;
	/* 2 MiB of top level, zero until touched: anonymous memory. */
	map = mmap(NULL, sizeof(*map), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -errno;
	map->priv = calloc(1, sizeof(*map->priv));
	if (!map->priv) {
		munmap(map, sizeof(*map));
		return -ENOMEM;
	}
	err = pthread_mutex_init(&map->priv->lock, NULL);
	if (err) {
		free(map->priv);
		munmap(map, sizeof(*map));
		return -err;
	}
	*mapp = map;
	return 0;
}

void ireg_map_destroy(struct ireg_map *map)
{
	unsigned int i;

	if (!map)
		return;
	for (i = 0; i < IREG_MAP_L1_ENTRIES; i++)
		free(map->l1[i]);
	pthread_mutex_destroy(&map->priv->lock);
	free(map->priv);
	munmap(map, sizeof(*map));
}

static int ireg_map_check_range(const void *addr, size_t size)
{
	uint64_t va = (uintptr_t)addr;

	if (!size || ((va | size) & (IREG_MAP_CHUNK_SIZE - 1)))
		return -EINVAL;
	if (va + size < va)
		return -EOVERFLOW;
	if (va + size > 1ULL << IREG_MAP_VA_BITS)
		return -ERANGE;
	return 0;
}

/*
 * Store @val into every entry of [va, va + size).  With @alloc, missing
 * second-level arrays are allocated first, all of them before any entry
 * is written, so that -ENOMEM leaves every translation as it was.
 */
static int ireg_map_fill(struct ireg_map *map, uint64_t va, uint64_t size,
			 uint64_t val, bool alloc)
{
	uint64_t end = va + size, chunk;
	uint64_t first = va >> IREG_MAP_L1_SHIFT;
	uint64_t last = (end - 1) >> IREG_MAP_L1_SHIFT;
	uint64_t i, *l2;

	for (i = first; alloc && i <= last; i++) {
		if (map->l1[i])
			continue;
		l2 = aligned_alloc(SZ_4K, IREG_MAP_L2_ENTRIES * sizeof(*l2));
		if (!l2)
			return -ENOMEM;
		memset(l2, 0xff, IREG_MAP_L2_ENTRIES * sizeof(*l2));
		/* Readers see the initialised array or NULL. */
		__atomic_store_n(&map->l1[i], l2, __ATOMIC_RELEASE);
	}
	for (chunk = va; chunk < end; chunk += IREG_MAP_CHUNK_SIZE) {
		l2 = map->l1[chunk >> IREG_MAP_L1_SHIFT];
		if (!l2)
			continue;
		__atomic_store_n(&l2[(chunk >> IREG_MAP_CHUNK_SHIFT) &
				     (IREG_MAP_L2_ENTRIES - 1)],
				 val, __ATOMIC_RELEASE);
	}
	return 0;
}

int ireg_map_set(struct ireg_map *map, const void *addr, size_t size,
		 uint64_t iova)
{
	uint64_t va = (uintptr_t)addr;
	int ret;

	ret = ireg_map_check_range(addr, size);
	if (ret)
		return ret;
	/* Page-aligned IOVAs keep every delta distinct from the miss value. */
	if (iova & (SZ_4K - 1))
		return -EINVAL;
	if (iova + size - 1 < iova)
		return -EOVERFLOW;
	pthread_mutex_lock(&map->priv->lock);
	ret = ireg_map_fill(map, va, size, iova - va, true);
	pthread_mutex_unlock(&map->priv->lock);
	return ret;
}

int ireg_map_clear(struct ireg_map *map, const void *addr, size_t size)
{
	int ret;

	ret = ireg_map_check_range(addr, size);
	if (ret)
		return ret;
	pthread_mutex_lock(&map->priv->lock);
	ret = ireg_map_fill(map, (uintptr_t)addr, size, IREG_IOVA_INVALID,
			    false);
	pthread_mutex_unlock(&map->priv->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Heap: a buddy allocator whose free sets are hierarchical bitmaps     */
/* ------------------------------------------------------------------ */

#define IREG_HEAP_UNIT_SHIFT	6
#define IREG_HEAP_UNIT		(1UL << IREG_HEAP_UNIT_SHIFT)
#define IREG_HEAP_MAX_ORDER	40
#define IREG_HBM_MAX_LEVELS	8

/*
 * A bitmap with summary levels: bit j of level l + 1 is set iff word j of
 * level l is not zero, and the top level is a single word.  Set, clear and
 * find-first cost one word per level.
 */
struct ireg_hbm {
	size_t nbits;
	unsigned int levels;
	uint64_t *word[IREG_HBM_MAX_LEVELS];
	size_t nwords[IREG_HBM_MAX_LEVELS];
};

static int ireg_hbm_init(struct ireg_hbm *b, size_t nbits)
{
	size_t n = nbits;

	b->nbits = nbits;
	b->levels = 0;
	do {
		n = (n + 63) / 64;
		if (!n)
			n = 1;
		b->word[b->levels] = calloc(n, sizeof(uint64_t));
		if (!b->word[b->levels])
			return -ENOMEM;
		b->nwords[b->levels++] = n;
	} while (n > 1 && b->levels < IREG_HBM_MAX_LEVELS);
	return n > 1 ? -EINVAL : 0;
}

static void ireg_hbm_free(struct ireg_hbm *b)
{
	unsigned int l;

	for (l = 0; l < b->levels; l++)
		free(b->word[l]);
	b->levels = 0;
}

static bool ireg_hbm_test(const struct ireg_hbm *b, size_t i)
{
	return i < b->nbits && (b->word[0][i / 64] >> (i % 64) & 1);
}

static void ireg_hbm_set(struct ireg_hbm *b, size_t i)
{
	unsigned int l;
	uint64_t old;

	for (l = 0; l < b->levels; l++, i /= 64) {
		old = b->word[l][i / 64];
		b->word[l][i / 64] = old | 1ULL << (i % 64);
		if (old)
			break;
	}
}

static void ireg_hbm_clear(struct ireg_hbm *b, size_t i)
{
	unsigned int l;

	for (l = 0; l < b->levels; l++, i /= 64) {
		b->word[l][i / 64] &= ~(1ULL << (i % 64));
		if (b->word[l][i / 64])
			break;
	}
}

/* Lowest set bit, or -1. */
static long ireg_hbm_first(const struct ireg_hbm *b)
{
	unsigned int l = b->levels - 1;
	size_t i;

	if (!b->word[l][0])
		return -1;
	i = __builtin_ctzll(b->word[l][0]);
	while (l--)
		i = i * 64 + __builtin_ctzll(b->word[l][i]);
	return (long)i;
}

/*
 * @free[k] holds bit i when the block of order k at unit i << k is free.
 * @alloc_order[u] is k + 1 when an allocated block of order k starts at
 * unit u, 0 otherwise.  Blocks never reach past @units: buddies beyond it
 * are never free, so they never merge.
 */
struct ireg_heap {
	size_t units;
	unsigned int max_order;
	size_t max_align;
	struct ireg_hbm free[IREG_HEAP_MAX_ORDER + 1];
	uint8_t *alloc_order;
	size_t used_units;
	size_t nr_used;
};

static void ireg_heap_fini(struct ireg_heap *h)
{
	unsigned int k;

	for (k = 0; k <= IREG_HEAP_MAX_ORDER; k++)
		ireg_hbm_free(&h->free[k]);
	free(h->alloc_order);
	h->alloc_order = NULL;
}

static int ireg_heap_init(struct ireg_heap *h, uintptr_t base, size_t bytes)
{
	size_t u, units = bytes >> IREG_HEAP_UNIT_SHIFT;
	unsigned int k;
	int ret;

	memset(h, 0, sizeof(*h));
	if (!units)
		return -EINVAL;
	h->units = units;
	h->max_order = 63 - __builtin_clzll(units);
	if (h->max_order > IREG_HEAP_MAX_ORDER)
		h->max_order = IREG_HEAP_MAX_ORDER;
	/* Blocks are aligned relative to base; base's alignment caps theirs. */
	h->max_align = base ? base & -base : 1UL << 63;
	h->alloc_order = calloc(units, 1);
	if (!h->alloc_order)
		return -ENOMEM;
	for (k = 0; k <= h->max_order; k++) {
		ret = ireg_hbm_init(&h->free[k], units >> k);
		if (ret) {
			ireg_heap_fini(h);
			return ret;
		}
	}
	/* The largest aligned blocks that tile [0, units). */
	for (u = 0; u < units; u += 1UL << k) {
		k = u ? (unsigned int)__builtin_ctzll(u) : h->max_order;
		if (k > h->max_order)
			k = h->max_order;
		while (u + (1UL << k) > units)
			k--;
		ireg_hbm_set(&h->free[k], u >> k);
	}
	return 0;
}

/* Smallest order whose blocks hold @bytes. */
static unsigned int ireg_heap_order(size_t bytes)
{
	size_t units = (bytes + IREG_HEAP_UNIT - 1) >> IREG_HEAP_UNIT_SHIFT;

	return units <= 1 ? 0 : 64 - __builtin_clzll(units - 1);
}

/* Unit index of a new block, or -errno. */
static long ireg_heap_alloc(struct ireg_heap *h, size_t size, size_t align)
{
	unsigned int want, k;
	long i = -1;

	if (!size || (align & (align - 1)))
		return -EINVAL;
	if (align > h->max_align)
		return -EINVAL;
	if (size > h->units << IREG_HEAP_UNIT_SHIFT)
		return -ENOMEM;
	want = ireg_heap_order(size);
	if (align > IREG_HEAP_UNIT && ireg_heap_order(align) > want)
		want = ireg_heap_order(align);
	if (want > h->max_order)
		return -ENOMEM;

	for (k = want; k <= h->max_order; k++) {
		i = ireg_hbm_first(&h->free[k]);
		if (i >= 0)
			break;
	}
	if (i < 0)
		return -ENOMEM;
	ireg_hbm_clear(&h->free[k], i);
	while (k > want) {
		k--;
		i *= 2;
		ireg_hbm_set(&h->free[k], i + 1);
	}
	i <<= want;
	h->alloc_order[i] = want + 1;
	h->used_units += 1UL << want;
	h->nr_used++;
	return i;
}

/* Is unit @u inside a free block? */
static bool ireg_heap_unit_free(const struct ireg_heap *h, size_t u)
{
	unsigned int k;

	for (k = 0; k <= h->max_order; k++)
		if (ireg_hbm_test(&h->free[k], u >> k))
			return true;
	return false;
}

static int ireg_heap_free(struct ireg_heap *h, size_t off)
{
	size_t u = off >> IREG_HEAP_UNIT_SHIFT, i;
	unsigned int k;

	if (off & (IREG_HEAP_UNIT - 1))
		return -EINVAL;
	if (!h->alloc_order[u])
		return ireg_heap_unit_free(h, u) ? -EALREADY : -EINVAL;
	k = h->alloc_order[u] - 1;
	h->alloc_order[u] = 0;
	h->used_units -= 1UL << k;
	h->nr_used--;
	for (i = u >> k; k < h->max_order; i /= 2, k++) {
		if (!ireg_hbm_test(&h->free[k], i ^ 1))
			break;
		ireg_hbm_clear(&h->free[k], i ^ 1);
	}
	ireg_hbm_set(&h->free[k], i);
	return 0;
}

/* Summary levels agree with the leaves; no bit beyond nbits. */
static bool ireg_hbm_consistent(const struct ireg_hbm *b, size_t *popcount)
{
	unsigned int l;
	size_t j, n = 0;

	for (j = 0; j < b->nwords[0]; j++)
		n += __builtin_popcountll(b->word[0][j]);
	if (b->nbits % 64 &&
	    b->word[0][b->nwords[0] - 1] >> (b->nbits % 64))
		return false;
	for (l = 1; l < b->levels; l++)
		for (j = 0; j < b->nwords[l - 1]; j++)
			if (!b->word[l - 1][j] !=
			    !(b->word[l][j / 64] >> (j % 64) & 1))
				return false;
	*popcount = n;
	return true;
}

/*
 * Walk [0, units): every unit must be covered by exactly one block,
 * allocated or free; no two free buddies (they would have merged).
 */
static int ireg_heap_check(const struct ireg_heap *h,
			   struct ireg_pool_stats *st)
{
	size_t u = 0, v, bits = 0, n, free_blocks = 0, used = 0, nr_used = 0;
	unsigned int k, found;

	memset(st, 0, sizeof(*st));
	for (k = 0; k <= h->max_order; k++) {
		if (!ireg_hbm_consistent(&h->free[k], &n))
			return -EUCLEAN;
		bits += n;
		if (n)
			st->largest_free = IREG_HEAP_UNIT << k;
	}
	while (u < h->units) {
		if (h->alloc_order[u]) {
			k = h->alloc_order[u] - 1;
			if (k > h->max_order || u & ((1UL << k) - 1) ||
			    u + (1UL << k) > h->units)
				return -EUCLEAN;
			for (v = u + 1; v < u + (1UL << k); v++)
				if (h->alloc_order[v])
					return -EUCLEAN;
			used += 1UL << k;
			nr_used++;
		} else {
			found = 0;
			for (v = 0; v <= h->max_order; v++) {
				if (u & ((1UL << v) - 1))
					break;
				if (ireg_hbm_test(&h->free[v], u >> v)) {
					k = v;
					found++;
				}
			}
			if (found != 1 || u + (1UL << k) > h->units)
				return -EUCLEAN;
			if (k < h->max_order &&
			    ireg_hbm_test(&h->free[k], (u >> k) ^ 1))
				return -EUCLEAN;
			for (v = u; v < u + (1UL << k); v++)
				if (h->alloc_order[v])
					return -EUCLEAN;
			free_blocks++;
		}
		u += 1UL << k;
	}
	/* A free bit the walk did not reach overlaps another block. */
	if (bits != free_blocks || used != h->used_units ||
	    nr_used != h->nr_used)
		return -EUCLEAN;
	st->used_bytes = used << IREG_HEAP_UNIT_SHIFT;
	st->free_bytes = (h->units - used) << IREG_HEAP_UNIT_SHIFT;
	st->nr_free = free_blocks;
	st->nr_used = nr_used;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pools                                                               */
/* ------------------------------------------------------------------ */

/**
 * struct ireg_pool_priv - the private part of a pool
 * @ctx: the context the pool is registered with, or NULL
 * @map: the map the pool entered itself into, or NULL
 * @map_start: first byte entered into @map
 * @map_end: end of the bytes entered into @map
 * @fd: memfd of a shared pool, owned; -1 otherwise
 * @backing: enum ireg_pool_backing
 * @page_size: page size of the backing
 * @huge_bytes: measured at creation
 * @buf_size: requested buffer size
 * @owns_memory: munmap() the pool at destroy
 * @attached: a view from ireg_pool_attach()
 * @heap: the heap of a KIND_HEAP pool
 * @lock: serialises the heap of an IREG_POOL_MT pool
 */
struct ireg_pool_priv {
	struct ireg_ctx *ctx;
	struct ireg_map *map;
	uintptr_t map_start;
	uintptr_t map_end;
	int fd;
	uint32_t backing;
	size_t page_size;
	size_t huge_bytes;
	size_t buf_size;
	bool owns_memory;
	bool attached;
	struct ireg_heap heap;
	pthread_mutex_t lock;
};

/*
 * The header of a shared pool: the last IREG_POOL_HDR_SIZE bytes of the
 * memory, written by the creator once the pool is registered.  Another
 * process trusts none of it without checking (ireg_pool_hdr_check()).
 */
#define IREG_POOL_SHM_MAGIC	0x69726770	/* "irgp" */
#define IREG_POOL_SHM_VERSION	1

struct ireg_pool_shm_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t size;
	uint64_t data_size;
	uint64_t iova;
	uint64_t buf_size;
	uint64_t buf_stride;
	uint32_t nr_bufs;
	uint32_t kind;
	uint32_t backing;
	uint32_t flags;
	uint64_t page_size;
};

static inline size_t ireg_round_up(size_t x, size_t align)
{
	return (x + align - 1) & ~(align - 1);
}

static bool ireg_is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

/* Inverse of odd @a modulo 2^64: Newton's iteration doubles the bits. */
static uint64_t ireg_inverse_odd(uint64_t a)
{
	uint64_t x = a;		/* right to 3 bits: a * a == 1 mod 8 */
	int i;

	for (i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

static int ireg_pool_alloc_struct(struct ireg_pool **poolp)
{
	struct ireg_pool *pool;
	size_t size = ireg_round_up(sizeof(*pool), 64);
	int err;

	pool = aligned_alloc(64, size);
	if (!pool)
		return -ENOMEM;
	memset(pool, 0, size);
	pool->priv = calloc(1, sizeof(*pool->priv));
	if (!pool->priv) {
		free(pool);
		return -ENOMEM;
	}
	err = pthread_mutex_init(&pool->priv->lock, NULL);
	if (err) {
		free(pool->priv);
		free(pool);
		return -err;
	}
	pool->priv->fd = -1;
	pool->iova = IREG_IOVA_INVALID;
	pool->free_head = IREG_POOL_NIL;
	*poolp = pool;
	return 0;
}

static void ireg_pool_free_struct(struct ireg_pool *pool)
{
	ireg_heap_fini(&pool->priv->heap);
	free(pool->buf_link);
	pthread_mutex_destroy(&pool->priv->lock);
	free(pool->priv);
	free(pool);
}

/*
 * The shape of a pool: kind, buffer geometry, bytes of data.  Validates
 * the parameters; @page_size is that of the backing to be tried.
 */
struct ireg_pool_layout {
	uint32_t kind;
	size_t buf_size;
	size_t buf_stride;
	uint32_t nr_bufs;
	size_t data_size;
	size_t size;		/* mapped: data, header, whole pages */
};

/* @sized: the caller gives the memory, so size and nr_bufs may be 0. */
static int ireg_pool_check_params(struct ireg_ctx *ctx,
				  const struct ireg_pool_params *p, bool sized)
{
	uint32_t backing = p->flags & IREG_POOL_BACKING_FLAGS;

	if (p->flags & ~(IREG_POOL_BACKING_FLAGS | IREG_POOL_SHARED |
			 IREG_POOL_MT))
		return ireg_fail(ctx, EINVAL, "pool: unknown flags 0x%x",
				 p->flags);
	if (backing & (backing - 1))
		return ireg_fail(ctx, EINVAL,
				 "pool: more than one backing flag");
	if (p->prot & ~(IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE))
		return ireg_fail(ctx, EINVAL, "pool: unknown prot 0x%x",
				 p->prot);
	if (!p->buf_size) {
		if (p->buf_align || p->nr_bufs)
			return ireg_fail(ctx, EINVAL,
					 "pool: buf_align and nr_bufs are for buffer pools (buf_size > 0)");
		if (!p->size && !sized)
			return ireg_fail(ctx, EINVAL, "pool: size is 0");
		return 0;
	}
	if (p->buf_align && !ireg_is_pow2(p->buf_align))
		return ireg_fail(ctx, EINVAL,
				 "pool: buf_align %zu is not a power of two",
				 p->buf_align);
	if (p->buf_size > SIZE_MAX / 2 || p->buf_align > SIZE_MAX / 2)
		return ireg_fail(ctx, EOVERFLOW, "pool: buffer size too large");
	if (!p->nr_bufs && !p->size && !sized)
		return ireg_fail(ctx, EINVAL,
				 "pool: neither size nor nr_bufs given");
	if (p->nr_bufs > IREG_POOL_MAX_BUFS)
		return ireg_fail(ctx, EINVAL, "pool: more than %u buffers",
				 IREG_POOL_MAX_BUFS);
	return 0;
}

/*
 * Lay out @p in @avail bytes (caller's memory, @hdr 0) or, with
 * @page_size, in as many pages as it needs plus a header of @hdr bytes.
 */
static int ireg_pool_layout(struct ireg_ctx *ctx,
			    const struct ireg_pool_params *p, size_t page_size,
			    size_t hdr, size_t avail,
			    struct ireg_pool_layout *lay)
{
	size_t align = p->buf_align ? p->buf_align : 64;
	size_t need, nr;

	memset(lay, 0, sizeof(*lay));
	if (!p->buf_size) {
		lay->kind = IREG_POOL_KIND_HEAP;
		need = p->size;
	} else {
		lay->kind = IREG_POOL_KIND_BUFS;
		lay->buf_size = p->buf_size;
		lay->buf_stride = ireg_round_up(p->buf_size, align);
		if (p->nr_bufs) {
			if (lay->buf_stride > SIZE_MAX / p->nr_bufs)
				return ireg_fail(ctx, EOVERFLOW,
						 "pool: %u buffers of %zu bytes overflow",
						 p->nr_bufs, lay->buf_stride);
			need = lay->buf_stride * p->nr_bufs;
			if (p->size > need)
				need = p->size;
		} else {
			need = p->size;
		}
	}
	if (page_size) {
		if (need > SIZE_MAX - hdr - page_size)
			return ireg_fail(ctx, EOVERFLOW, "pool: size too large");
		lay->size = ireg_round_up(need + hdr, page_size);
		avail = lay->size - hdr;
	} else {
		if (need > avail)
			return ireg_fail(ctx, EINVAL,
					 "pool: %zu bytes needed, %zu given",
					 need, avail);
		lay->size = avail;
	}
	if (lay->kind == IREG_POOL_KIND_HEAP) {
		lay->data_size = avail & ~(IREG_HEAP_UNIT - 1);
		if (!lay->data_size)
			return ireg_fail(ctx, EINVAL,
					 "pool: a heap needs at least %lu bytes",
					 IREG_HEAP_UNIT);
		return 0;
	}
	nr = p->nr_bufs ? p->nr_bufs : avail / lay->buf_stride;
	if (!nr)
		return ireg_fail(ctx, EINVAL,
				 "pool: %zu bytes hold no %zu-byte buffer",
				 avail, lay->buf_stride);
	if (nr > IREG_POOL_MAX_BUFS)
		nr = IREG_POOL_MAX_BUFS;
	lay->nr_bufs = nr;
	lay->data_size = nr * lay->buf_stride;
	return 0;
}

/* Buffer geometry, for pools that allocate and for attached views. */
static void ireg_pool_set_geometry(struct ireg_pool *pool,
				   const struct ireg_pool_layout *lay)
{
	pool->kind = lay->kind;
	pool->data_size = lay->data_size;
	pool->priv->buf_size = lay->buf_size;
	if (lay->kind != IREG_POOL_KIND_BUFS)
		return;
	pool->buf_stride = lay->buf_stride;
	pool->nr_bufs = lay->nr_bufs;
	pool->buf_tz = __builtin_ctzll(lay->buf_stride);
	pool->buf_inv = ireg_inverse_odd(lay->buf_stride >> pool->buf_tz);
}

/* Allocator state over [pool->base, pool->base + data_size): private memory. */
static int ireg_pool_init_allocator(struct ireg_pool *pool, size_t buf_align)
{
	uintptr_t base = (uintptr_t)pool->base;
	uint32_t i;

	if (pool->kind == IREG_POOL_KIND_HEAP)
		return ireg_heap_init(&pool->priv->heap, base,
				      pool->data_size);
	if (buf_align && base & (buf_align - 1))
		return -EINVAL;
	pool->buf_link = malloc((size_t)pool->nr_bufs * sizeof(uint32_t));
	if (!pool->buf_link)
		return -ENOMEM;
	/* Ascending: the first allocations are the lowest addresses. */
	for (i = 0; i < pool->nr_bufs; i++)
		pool->buf_link[i] = i + 1 < pool->nr_bufs ? i + 1 :
							    IREG_POOL_NIL;
	pool->free_head = 0;
	return 0;
}

static void ireg_pool_set_iova(struct ireg_pool *pool, uint64_t iova)
{
	pool->iova = iova;
	pool->iova_delta = iova - (uintptr_t)pool->base;
}

/* Enter the 2 MiB chunks the pool covers entirely into @map. */
static int ireg_pool_enter_map(struct ireg_ctx *ctx, struct ireg_pool *pool,
			       struct ireg_map *map)
{
	uintptr_t base = (uintptr_t)pool->base;
	uintptr_t start = ireg_round_up(base, IREG_MAP_CHUNK_SIZE);
	uintptr_t end = (base + pool->size) & ~(IREG_MAP_CHUNK_SIZE - 1);
	int ret;

	if (!map)
		return 0;
	if (pool->iova == IREG_IOVA_INVALID)
		return ireg_fail(ctx, EINVAL,
				 "pool: a map needs a registered pool (an IOVA)");
	/* No whole chunk: the pool translates with ireg_pool_iova() only. */
	if (start >= end)
		return 0;
	ret = ireg_map_set(map, (void *)start, end - start,
			   ireg_pool_iova(pool, (void *)start));
	if (ret)
		return ireg_fail(ctx, -ret, "pool: entering the map: %s",
				 strerror(-ret));
	pool->priv->map = map;
	pool->priv->map_start = start;
	pool->priv->map_end = end;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Backings                                                            */
/* ------------------------------------------------------------------ */

/* Is the bracketed choice of a THP sysfs knob one of @ok? */
static bool ireg_thp_knob(const char *path, const char *const *ok)
{
	char buf[256], *l, *r;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return false;
	*r = '\0';
	for (; *ok; ok++)
		if (!strcmp(l + 1, *ok))
			return true;
	return false;
}

static bool ireg_thp_available(bool shared)
{
	static const char *const anon_ok[] = { "always", "madvise", NULL };
	static const char *const shmem_ok[] = {
		"always", "within_size", "advise", "force", NULL
	};

	if (shared)
		return ireg_thp_knob("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
				     shmem_ok);
	return ireg_thp_knob("/sys/kernel/mm/transparent_hugepage/enabled",
			     anon_ok);
}

/*
 * Map @len bytes at an address aligned to @align (a power of two): reserve
 * @len + @align of address space, map over the aligned part, give back
 * the slack.
 */
static void *ireg_mmap_aligned(size_t len, size_t align, int flags, int fd)
{
	char *resv, *addr;
	uintptr_t a;

	if (align <= SZ_4K)
		return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	resv = mmap(NULL, len + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return MAP_FAILED;
	a = ireg_round_up((uintptr_t)resv, align);
	addr = mmap((void *)a, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED,
		    fd, 0);
	if (addr == MAP_FAILED) {
		int err = errno;

		munmap(resv, len + align);
		errno = err;
		return MAP_FAILED;
	}
	if (addr > resv)
		munmap(resv, addr - resv);
	munmap(addr + len, resv + len + align - (addr + len));
	return addr;
}

/* Fault every page in, writable, before the kernel pins them. */
static void ireg_populate(char *addr, size_t len)
{
	size_t off;

	if (!madvise(addr, len, MADV_POPULATE_WRITE))
		return;
	for (off = 0; off < len; off += SZ_4K)
		__atomic_fetch_add(addr + off, 0, __ATOMIC_RELAXED);
}

/*
 * Bytes of [start, end) on transparent huge pages, from /proc/self/smaps
 * (AnonHugePages, ShmemPmdMapped).  A VMA reaching beyond the range counts
 * whole, so the result is clamped to the range.
 */
static size_t ireg_smaps_huge_bytes(uintptr_t start, uintptr_t end)
{
	unsigned long lo, hi, kb;
	char line[512];
	size_t total = 0;
	bool in = false;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo < end && hi > start;
			continue;
		}
		if (in && (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1 ||
			   sscanf(line, "ShmemPmdMapped: %lu kB", &kb) == 1))
			total += kb << 10;
	}
	fclose(f);
	return total < end - start ? total : end - start;
}

static const char *const ireg_backing_names[] = {
	[IREG_POOL_BACKING_USER] = "caller's memory",
	[IREG_POOL_BACKING_4K] = "4 KiB pages",
	[IREG_POOL_BACKING_THP] = "THP",
	[IREG_POOL_BACKING_HUGETLB] = "hugetlbfs 2 MiB",
	[IREG_POOL_BACKING_HUGETLB_1G] = "hugetlbfs 1 GiB",
};

static size_t ireg_backing_page_size(uint32_t backing)
{
	switch (backing) {
	case IREG_POOL_BACKING_HUGETLB_1G:
		return SZ_1G;
	case IREG_POOL_BACKING_HUGETLB:
	case IREG_POOL_BACKING_THP:
		return SZ_2M;
	default:
		return SZ_4K;
	}
}

/*
 * Reserve and populate @lay->size bytes with @backing.  On success the
 * pool owns the memory (and the memfd of a shared pool).  -errno, with
 * @why saying what failed, otherwise.
 */
static int ireg_pool_reserve(struct ireg_pool *pool, uint32_t backing,
			     bool shared, size_t len, char *why, size_t whylen)
{
	bool hugetlb = backing == IREG_POOL_BACKING_HUGETLB ||
		       backing == IREG_POOL_BACKING_HUGETLB_1G;
	unsigned int mfd = MFD_CLOEXEC;
	int flags, fd = -1, err;
	char *addr;

	if (backing == IREG_POOL_BACKING_THP && !ireg_thp_available(shared)) {
		snprintf(why, whylen, "THP%s is disabled in /sys/kernel/mm/transparent_hugepage",
			 shared ? " for shmem (memfd)" : "");
		return -EOPNOTSUPP;
	}
	if (shared) {
		if (hugetlb)
			mfd |= MFD_HUGETLB |
			       (backing == IREG_POOL_BACKING_HUGETLB ?
				MFD_HUGE_2MB : MFD_HUGE_1GB);
		fd = memfd_create("ireg-pool", mfd);
		if (fd < 0) {
			err = errno;
			snprintf(why, whylen, "memfd_create(%s): %s",
				 ireg_backing_names[backing], strerror(err));
			return -err;
		}
		if (ftruncate(fd, len)) {
			err = errno;
			snprintf(why, whylen, "ftruncate(%s memfd, %zu): %s",
				 ireg_backing_names[backing], len,
				 strerror(err));
			close(fd);
			return -err;
		}
		flags = MAP_SHARED;
	} else {
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
		if (backing == IREG_POOL_BACKING_HUGETLB)
			flags |= MAP_HUGETLB | MAP_HUGE_2MB;
		else if (backing == IREG_POOL_BACKING_HUGETLB_1G)
			flags |= MAP_HUGETLB | MAP_HUGE_1GB;
	}
	/*
	 * hugetlbfs reserves its pages at mmap(): too few free huge pages
	 * fail here with ENOMEM rather than later with SIGBUS.
	 */
	if (hugetlb)
		addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    flags | MAP_POPULATE, fd, 0);
	else
		addr = ireg_mmap_aligned(len,
					 backing == IREG_POOL_BACKING_THP ?
					 SZ_2M : SZ_4K, flags, fd);
	if (addr == MAP_FAILED) {
		err = errno;
		snprintf(why, whylen, "mmap(%zu bytes, %s): %s%s", len,
			 ireg_backing_names[backing], strerror(err),
			 hugetlb && err == ENOMEM ?
			 " (not enough free huge pages?)" : "");
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (backing == IREG_POOL_BACKING_THP &&
	    madvise(addr, len, MADV_HUGEPAGE)) {
		err = errno;
		snprintf(why, whylen, "madvise(MADV_HUGEPAGE): %s",
			 strerror(err));
		munmap(addr, len);
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (backing == IREG_POOL_BACKING_4K)
		madvise(addr, len, MADV_NOHUGEPAGE);	/* keep it 4 KiB */
	if (!hugetlb)
		ireg_populate(addr, len);

	pool->base = addr;
	pool->size = len;
	pool->priv->fd = fd;
	pool->priv->owns_memory = true;
	pool->priv->backing = backing;
	pool->priv->page_size = ireg_backing_page_size(backing);
	/* Measured for 4 KiB too: it shows whether MADV_NOHUGEPAGE held. */
	if (hugetlb)
		pool->priv->huge_bytes = len;
	else
		pool->priv->huge_bytes =
			ireg_smaps_huge_bytes((uintptr_t)addr,
					      (uintptr_t)addr + len);
	return 0;
}

static uint32_t ireg_flag_backing(uint32_t flags)
{
	switch (flags & IREG_POOL_BACKING_FLAGS) {
	case IREG_POOL_HUGETLB:
		return IREG_POOL_BACKING_HUGETLB;
	case IREG_POOL_HUGETLB_1G:
		return IREG_POOL_BACKING_HUGETLB_1G;
	case IREG_POOL_THP:
		return IREG_POOL_BACKING_THP;
	case IREG_POOL_4K:
		return IREG_POOL_BACKING_4K;
	}
	return IREG_POOL_BACKING_USER;	/* none asked: best available */
}

/* ------------------------------------------------------------------ */
/* Creating, attaching, destroying                                     */
/* ------------------------------------------------------------------ */

static void ireg_pool_write_hdr(struct ireg_pool *pool)
{
	struct ireg_pool_shm_hdr *hdr =
		(void *)(pool->base + pool->size - IREG_POOL_HDR_SIZE);

	memset(hdr, 0, IREG_POOL_HDR_SIZE);
	hdr->version = IREG_POOL_SHM_VERSION;
	hdr->size = pool->size;
	hdr->data_size = pool->data_size;
	hdr->iova = pool->iova;
	hdr->buf_size = pool->priv->buf_size;
	hdr->buf_stride = pool->buf_stride;
	hdr->nr_bufs = pool->nr_bufs;
	hdr->kind = pool->kind;
	hdr->backing = pool->priv->backing;
	hdr->flags = pool->flags;
	hdr->page_size = pool->priv->page_size;
	__atomic_store_n(&hdr->magic, IREG_POOL_SHM_MAGIC, __ATOMIC_RELEASE);
}

/* Undo creation; every step checks whether it happened. */
static void ireg_pool_teardown(struct ireg_pool *pool)
{
	struct ireg_pool_priv *priv = pool->priv;

	if (priv->map)
		ireg_map_clear(priv->map, (void *)priv->map_start,
			       priv->map_end - priv->map_start);
	if (pool->region.genp)
		ireg_region_unregister(priv->ctx, &pool->region);
	if (pool->base && priv->owns_memory)
		munmap(pool->base, pool->size);
	if (priv->fd >= 0)
		close(priv->fd);
	ireg_pool_free_struct(pool);
}

/* Register (with @ctx), enter @map, finish: the common tail of creation. */
static int ireg_pool_finish(struct ireg_ctx *ctx, struct ireg_pool *pool,
			    uint32_t prot, struct ireg_map *map)
{
	int ret;

	if (ctx) {
		ret = ireg_region_register(ctx, pool->base, pool->size,
					   prot ? prot : IOMMU_REG_PROT_READ |
							 IOMMU_REG_PROT_WRITE,
					   0, &pool->region);
		if (ret)
			return ret;
		pool->priv->ctx = ctx;
		ireg_pool_set_iova(pool, pool->region.iova);
	}
	return ireg_pool_enter_map(ctx, pool, map);
}

int ireg_pool_create(struct ireg_ctx *ctx,
		     const struct ireg_pool_params *params,
		     struct ireg_pool **poolp)
{
	static const uint32_t fallback[] = {
		IREG_POOL_BACKING_HUGETLB, IREG_POOL_BACKING_THP,
		IREG_POOL_BACKING_4K,
	};
	bool shared = params->flags & IREG_POOL_SHARED;
	size_t hdr = shared ? IREG_POOL_HDR_SIZE : 0;
	uint32_t want = ireg_flag_backing(params->flags);
	char why[3][160] = { "", "", "" };
	struct ireg_pool_layout lay;
	struct ireg_pool *pool;
	unsigned int i, n;
	int ret;

	*poolp = NULL;
	ret = ireg_pool_check_params(ctx, params, false);
	if (ret)
		return ret;
	ret = ireg_pool_alloc_struct(&pool);
	if (ret)
		return ireg_fail(ctx, -ret, "pool: out of memory");
	pool->flags = params->flags;

	n = want == IREG_POOL_BACKING_USER ? 3 : 1;
	for (i = 0; i < n; i++) {
		uint32_t backing = n == 1 ? want : fallback[i];

		ret = ireg_pool_layout(ctx, params,
				       ireg_backing_page_size(backing), hdr, 0,
				       &lay);
		if (ret)
			goto err_free;
		ret = ireg_pool_reserve(pool, backing, shared, lay.size,
					why[i], sizeof(why[i]));
		if (!ret)
			break;
	}
	if (ret) {
		if (n == 1)
			ireg_fail(ctx, -ret, "pool: %s", why[0]);
		else
			ireg_fail(ctx, -ret, "pool: no backing: %s; %s; %s",
				  why[0], why[1], why[2]);
		goto err_free;
	}

	ireg_pool_set_geometry(pool, &lay);
	ret = ireg_pool_init_allocator(pool, params->buf_align);
	if (ret) {
		ireg_fail(ctx, -ret, "pool: allocator state: %s",
			  strerror(-ret));
		goto err_teardown;
	}
	ret = ireg_pool_finish(ctx, pool, params->prot, params->map);
	if (ret)
		goto err_teardown;
	if (shared)
		ireg_pool_write_hdr(pool);
	*poolp = pool;
	return 0;

err_teardown:
	ireg_pool_teardown(pool);
	return ret;
err_free:
	ireg_pool_free_struct(pool);
	return ret;
}

int ireg_pool_create_mem(void *addr, size_t size, uint64_t iova,
			 const struct ireg_pool_params *params,
			 struct ireg_pool **poolp)
{
	struct ireg_pool_layout lay;
	struct ireg_pool *pool;
	int ret;

	*poolp = NULL;
	ret = ireg_pool_check_params(NULL, params, true);
	if (ret)
		return ret;
	if (params->flags & ~IREG_POOL_MT || !addr ||
	    (uintptr_t)addr & (IREG_HEAP_UNIT - 1) ||
	    (uintptr_t)addr + size < (uintptr_t)addr)
		return -EINVAL;
	ret = ireg_pool_layout(NULL, params, 0, 0, size, &lay);
	if (ret)
		return ret;
	ret = ireg_pool_alloc_struct(&pool);
	if (ret)
		return ret;
	pool->flags = params->flags;
	pool->base = addr;
	pool->size = size;
	pool->priv->backing = IREG_POOL_BACKING_USER;
	pool->priv->page_size = SZ_4K;
	ireg_pool_set_geometry(pool, &lay);
	if (iova != IREG_IOVA_INVALID)
		ireg_pool_set_iova(pool, iova);
	else
		pool->iova_delta = IREG_IOVA_INVALID - (uintptr_t)addr;
	ret = ireg_pool_init_allocator(pool, params->buf_align);
	if (!ret)
		ret = ireg_pool_enter_map(NULL, pool, params->map);
	if (ret) {
		ireg_pool_teardown(pool);
		return ret;
	}
	*poolp = pool;
	return 0;
}

/* Nothing in a header written by another process is trusted unchecked. */
static int ireg_pool_hdr_check(const struct ireg_pool_shm_hdr *hdr,
			       size_t size, struct ireg_pool_layout *lay)
{
	memset(lay, 0, sizeof(*lay));
	if (__atomic_load_n(&hdr->magic, __ATOMIC_ACQUIRE) !=
	    IREG_POOL_SHM_MAGIC || hdr->version != IREG_POOL_SHM_VERSION ||
	    hdr->size != size || hdr->data_size > size - IREG_POOL_HDR_SIZE ||
	    hdr->backing > IREG_POOL_BACKING_HUGETLB_1G)
		return -EINVAL;
	lay->kind = hdr->kind;
	lay->data_size = hdr->data_size;
	lay->size = size;
	if (hdr->kind == IREG_POOL_KIND_HEAP)
		return 0;
	if (hdr->kind != IREG_POOL_KIND_BUFS || !hdr->buf_stride ||
	    !hdr->nr_bufs || hdr->nr_bufs > IREG_POOL_MAX_BUFS ||
	    hdr->buf_size > hdr->buf_stride ||
	    hdr->buf_stride > hdr->data_size / hdr->nr_bufs)
		return -EINVAL;
	lay->buf_size = hdr->buf_size;
	lay->buf_stride = hdr->buf_stride;
	lay->nr_bufs = hdr->nr_bufs;
	return 0;
}

int ireg_pool_attach(struct ireg_ctx *ctx, int fd, struct ireg_map *map,
		     unsigned int flags, struct ireg_pool **poolp)
{
	struct ireg_pool_shm_hdr hdr;
	struct ireg_pool_layout lay;
	struct ireg_pool *pool;
	struct statfs sfs;
	struct stat st;
	bool hugetlb;
	size_t size;
	char *addr;
	int ret;

	*poolp = NULL;
	if (flags)
		return ireg_fail(ctx, EINVAL, "pool attach: flags must be 0");
	if (fstat(fd, &st) || fstatfs(fd, &sfs))
		return ireg_fail(ctx, errno, "pool attach: fd %d: %s", fd,
				 strerror(errno));
	size = st.st_size;
	if (size < IREG_POOL_HDR_SIZE || size & (SZ_4K - 1))
		return ireg_fail(ctx, EINVAL,
				 "pool attach: %zu bytes is no shared pool",
				 size);
	hugetlb = sfs.f_type == HUGETLBFS_MAGIC;
	addr = ireg_mmap_aligned(size, hugetlb || size < SZ_2M ? SZ_4K : SZ_2M,
				 MAP_SHARED | (hugetlb ? MAP_POPULATE : 0), fd);
	if (addr == MAP_FAILED)
		return ireg_fail(ctx, errno, "pool attach: mmap: %s",
				 strerror(errno));
	memcpy(&hdr, addr + size - IREG_POOL_HDR_SIZE, sizeof(hdr));
	ret = ireg_pool_hdr_check(&hdr, size, &lay);
	if (ret) {
		munmap(addr, size);
		return ireg_fail(ctx, -ret,
				 "pool attach: no valid pool header in fd %d",
				 fd);
	}
	/* The creator's advice, before the pages are mapped in. */
	if (!hugetlb) {
		if (hdr.backing == IREG_POOL_BACKING_THP)
			madvise(addr, size, MADV_HUGEPAGE);
		else if (hdr.backing == IREG_POOL_BACKING_4K)
			madvise(addr, size, MADV_NOHUGEPAGE);
		ireg_populate(addr, size);
	}
	ret = ireg_pool_alloc_struct(&pool);
	if (ret) {
		munmap(addr, size);
		return ireg_fail(ctx, -ret, "pool attach: out of memory");
	}
	pool->base = addr;
	pool->size = size;
	pool->flags = hdr.flags & (IREG_POOL_BACKING_FLAGS | IREG_POOL_SHARED);
	pool->priv->attached = true;
	pool->priv->owns_memory = true;
	pool->priv->backing = hdr.backing;
	pool->priv->page_size = ireg_backing_page_size(hdr.backing);
	if (hugetlb)
		pool->priv->huge_bytes = size;
	else
		pool->priv->huge_bytes =
			ireg_smaps_huge_bytes((uintptr_t)addr,
					      (uintptr_t)addr + size);
	ireg_pool_set_geometry(pool, &lay);
	/* Without a context, the creator's IOVAs: for its devices. */
	ireg_pool_set_iova(pool, hdr.iova);
	ret = ireg_pool_finish(ctx, pool, 0, map);
	if (ret) {
		ireg_pool_teardown(pool);
		return ret;
	}
	*poolp = pool;
	return 0;
}

void ireg_pool_destroy(struct ireg_pool *pool)
{
	if (pool)
		ireg_pool_teardown(pool);
}

void ireg_pool_info(const struct ireg_pool *pool, struct ireg_pool_info *info)
{
	const struct ireg_pool_priv *priv = pool->priv;

	memset(info, 0, sizeof(*info));
	info->base = pool->base;
	info->size = pool->size;
	info->data_size = pool->data_size;
	info->iova = pool->iova;
	info->backing = priv->backing;
	info->kind = pool->kind;
	info->flags = pool->flags;
	info->page_size = priv->page_size;
	info->huge_bytes = priv->huge_bytes;
	info->fd = priv->fd;
	info->nr_bufs = pool->nr_bufs;
	info->buf_size = priv->buf_size;
	info->buf_stride = pool->buf_stride;
	info->handle = pool->region.handle;
	info->registered = pool->region.genp != NULL;
	info->attached = priv->attached;
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

void *ireg_pool_alloc(struct ireg_pool *pool, size_t size, size_t align)
{
	size_t buf_align;
	long unit;

	if (pool->priv->attached) {
		errno = EPERM;
		return NULL;
	}
	if (align && !ireg_is_pow2(align)) {
		errno = EINVAL;
		return NULL;
	}
	if (pool->kind == IREG_POOL_KIND_BUFS) {
		buf_align = 1UL << pool->buf_tz;
		if ((uintptr_t)pool->base & (buf_align - 1))
			buf_align = (uintptr_t)pool->base &
				    -(uintptr_t)pool->base;
		if (!size || size > pool->priv->buf_size || align > buf_align) {
			errno = EINVAL;
			return NULL;
		}
		return ireg_pool_buf_alloc(pool);
	}
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_lock(&pool->priv->lock);
	unit = ireg_heap_alloc(&pool->priv->heap, size, align);
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_unlock(&pool->priv->lock);
	if (unit < 0) {
		errno = -unit;
		return NULL;
	}
	return pool->base + ((size_t)unit << IREG_HEAP_UNIT_SHIFT);
}

/* The checked buffer free: refuse, changing nothing, what is not ours. */
static int ireg_pool_buf_free_checked(struct ireg_pool *pool, void *buf)
{
	uint64_t off = (uintptr_t)buf - (uintptr_t)pool->base;
	uint64_t idx;
	uint32_t busy = IREG_POOL_BUSY;

	if (off >= pool->data_size)
		return -EFAULT;
	idx = ireg_pool_buf_index(pool, buf);
	if (idx >= pool->nr_bufs || idx * pool->buf_stride != off)
		return -EINVAL;
	/* Claim the buffer first: of two frees, one wins, one sees NIL. */
	if (!__atomic_compare_exchange_n(&pool->buf_link[idx], &busy,
					 IREG_POOL_NIL, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EALREADY;
	ireg_pool_buf_free(pool, buf);
	return 0;
}

int ireg_pool_free(struct ireg_pool *pool, void *ptr)
{
	uint64_t off = (uintptr_t)ptr - (uintptr_t)pool->base;
	int ret;

	if (!ptr)
		return 0;
	if (pool->priv->attached)
		return -EPERM;
	if (pool->kind == IREG_POOL_KIND_BUFS)
		return ireg_pool_buf_free_checked(pool, ptr);
	if (off >= pool->data_size)
		return -EFAULT;
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_lock(&pool->priv->lock);
	ret = ireg_heap_free(&pool->priv->heap, off);
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_unlock(&pool->priv->lock);
	return ret;
}

void ireg_pool_buf_free_debug(struct ireg_pool *pool, void *buf)
{
	int ret = ireg_pool_free(pool, buf);

	if (ret) {
		fprintf(stderr, "libiommureg: ireg_pool_buf_free(%p): %s\n",
			buf, strerror(-ret));
		abort();
	}
}

/* Walk the free list: no cycle, no index twice, busy + free == all. */
static int ireg_pool_buf_check(const struct ireg_pool *pool,
			       struct ireg_pool_stats *st)
{
	uint32_t idx = (uint32_t)pool->free_head;
	uint64_t nr_free = 0, nr_busy = 0, i;
	uint8_t *seen;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	seen = calloc(pool->nr_bufs ? pool->nr_bufs : 1, 1);
	if (!seen)
		return -ENOMEM;
	while (idx != IREG_POOL_NIL) {
		if (idx >= pool->nr_bufs || seen[idx]) {
			ret = -EUCLEAN;
			goto out;
		}
		seen[idx] = 1;
		nr_free++;
		idx = pool->buf_link[idx];
	}
	for (i = 0; i < pool->nr_bufs; i++) {
		if (seen[i])
			continue;
		if (pool->buf_link[i] != IREG_POOL_BUSY) {
			ret = -EUCLEAN;	/* neither free nor allocated */
			goto out;
		}
		nr_busy++;
	}
	st->nr_free = nr_free;
	st->nr_used = nr_busy;
	st->free_bytes = nr_free * pool->buf_stride;
	st->used_bytes = nr_busy * pool->buf_stride;
	st->largest_free = nr_free ? pool->priv->buf_size : 0;
out:
	free(seen);
	return ret;
}

int ireg_pool_stats(struct ireg_pool *pool, struct ireg_pool_stats *stats)
{
	int ret;

	if (pool->priv->attached)
		return -EOPNOTSUPP;
	if (pool->kind == IREG_POOL_KIND_BUFS)
		return ireg_pool_buf_check(pool, stats);
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_lock(&pool->priv->lock);
	ret = ireg_heap_check(&pool->priv->heap, stats);
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_unlock(&pool->priv->lock);
	return ret;
}
