/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Registered pools.  The translation map a pool can enter itself into is
 * in <iommureg/map.h>, included here.
 *
 * A *pool* is one large piece of memory, reserved (hugetlbfs, THP or
 * 4 KiB pages) and registered with the kernel once; chunks of it are then
 * handed out and taken back without any system call.  A pool is of one of
 * two kinds, chosen at creation:
 *
 * - a buffer pool: nr_bufs buffers of one size (the sDDF pattern), with
 *   ireg_pool_buf_alloc() and ireg_pool_buf_free() inline and O(1);
 * - a heap: a buddy allocator over the pool, ireg_pool_alloc(size, align)
 *   and ireg_pool_free(), O(log size).
 *
 * Vocabulary: an *offset* is a byte distance from the pool's base; it
 * means the same memory in every process that maps the pool, so offsets
 * are what goes into rings and messages.  An offset, a pointer in this
 * process and an IOVA convert into each other with one add.
 *
 * The allocator state (free lists, bitmaps) lives in private memory of
 * the process that created the pool, never in the pool memory itself, so
 * a device or another process writing into a free buffer cannot corrupt
 * it.  Another process attaches a shared pool (ireg_pool_attach()) for
 * translation only; buffers go back and forth by offset.
 *
 * Thread safety, per function (a "pool" below is one struct ireg_pool):
 * - ireg_pool_create(), ireg_pool_create_mem(), ireg_pool_attach() may be
 *   called from several threads on different pools; the context they
 *   register with must not be used by another thread meanwhile.
 *   ireg_pool_destroy() must not race with anything on the same pool,
 *   nor, for a registered or pending pool, with other use of its context.
 * - ireg_pool_iova(), ireg_pool_offset(), ireg_pool_ptr(),
 *   ireg_pool_offset_iova(), ireg_pool_contains(), ireg_pool_valid(),
 *   ireg_pool_buf_index() and ireg_pool_info() only read what is
 *   constant once the pool is registered: any thread, any time, except
 *   concurrently with the registration (ireg_pool_register(), or for a
 *   pool made before its context's first device that
 *   ireg_device_open()), which sets the IOVA (ireg_pool_offset(),
 *   ireg_pool_ptr(), ireg_pool_contains() and ireg_pool_buf_index() do
 *   not read it).
 * - ireg_pool_buf_alloc(), ireg_pool_buf_free(), ireg_pool_alloc_bulk(),
 *   ireg_pool_free_bulk(), ireg_pool_alloc() and ireg_pool_free():
 *   without IREG_POOL_MT one thread at a time per pool (the caller
 *   serialises); with IREG_POOL_MT any number of threads at once: the
 *   buffer pool is then a lock-free stack (one compare-and-swap per call;
 *   bulk calls move batches of up to 32 in one), the heap takes a mutex.  In
 *   particular an IREG_POOL_MT buffer pool may be allocated from by one
 *   thread and freed to by another, as with a pair of SPSC rings.  With
 *   per-thread caches (ireg_pool_params.cache_size) most calls touch only
 *   the calling thread's cache; buffers reach other threads through the
 *   pool, cache_size at a time.
 * - ireg_pool_stats() walks the allocator: no concurrent alloc or free.
 */
#ifndef LIBIOMMUREG_POOL_H
#define LIBIOMMUREG_POOL_H

#ifndef LIBIOMMUREG_H
#include "../iommureg.h"
#endif

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "map.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_ctx;

/*
 * Flags for ireg_pool_create().  At most one backing flag; with none the
 * best available backing is taken: hugetlbfs 2 MiB pages, then THP, then
 * 4 KiB pages.  A backing flag makes that backing a requirement.
 *
 * IREG_POOL_HUGETLB:    hugetlbfs, 2 MiB pages
 * IREG_POOL_HUGETLB_1G: hugetlbfs, 1 GiB pages
 * IREG_POOL_THP:        THP: 2 MiB aligned, MADV_HUGEPAGE
 * IREG_POOL_4K:         base pages, MADV_NOHUGEPAGE
 * IREG_POOL_SHARED:     in a memfd that other processes can map
 * IREG_POOL_MT:         allocate and free from any thread
 */
#define IREG_POOL_HUGETLB	(1U << 0)
#define IREG_POOL_HUGETLB_1G	(1U << 1)
#define IREG_POOL_THP		(1U << 2)
#define IREG_POOL_4K		(1U << 3)
#define IREG_POOL_SHARED	(1U << 4)
#define IREG_POOL_MT		(1U << 5)

#define IREG_POOL_BACKING_FLAGS	(IREG_POOL_HUGETLB | \
				 IREG_POOL_HUGETLB_1G | \
				 IREG_POOL_THP | IREG_POOL_4K)

/* The backing a pool obtained (struct ireg_pool_info.backing). */
enum ireg_pool_backing {
	IREG_POOL_BACKING_USER,		/* ireg_pool_create_mem() */
	IREG_POOL_BACKING_4K,
	IREG_POOL_BACKING_THP,
	IREG_POOL_BACKING_HUGETLB,
	IREG_POOL_BACKING_HUGETLB_1G,
};

enum ireg_pool_kind {
	IREG_POOL_KIND_BUFS,		/* fixed-size buffers */
	IREG_POOL_KIND_HEAP,		/* variable sizes: buddy */
};

/**
 * struct ireg_pool_params - what ireg_pool_create() makes
 * @size: sizeof(struct ireg_pool_params), set by the caller (an older
 *	caller's shorter struct works: what it lacks is 0)
 * @mem_size: heap: bytes the allocator manages at least; buffer pool: 0
 *	to size the pool from @nr_bufs, or the bytes to fill with buffers
 * @buf_size: 0 for a heap; the buffer size of a buffer pool
 * @buf_align: buffer alignment, a power of two (0: 64); buffers are
 *	@buf_size rounded up to it, back to back from the pool's base
 * @nr_bufs: buffer pool: number of buffers (0: as many as @size holds)
 * @flags: IREG_POOL_*
 * @prot: IOMMU_REG_PROT_* of the registration (0: read and write)
 * @map: if not NULL, the pool enters itself into this translation map
 *	(the 2 MiB chunks it covers entirely) and leaves it when destroyed
 * @cache_size: IREG_POOL_MT buffer pool: buffers each thread keeps in a
 *	cache of its own (0: none; at most IREG_POOL_CACHE_MAX), as
 *	rte_mempool's per-lcore cache.  A thread's cache holds up to twice
 *	this; alloc refills it with @cache_size buffers from the pool in
 *	one compare-and-swap (a magazine), free gives @cache_size back in
 *	one.
 *	Buffers in caches are free but only their thread can take them:
 *	size the pool for that (nr_bufs >= threads * 2 * cache_size + what
 *	is in flight).  Caches are emptied into the pool when their thread
 *	exits and when the pool is destroyed.
 *
 * Zero-initialise it, set @size to sizeof(struct ireg_pool_params), and
 * set what you need.
 */
struct ireg_pool_params {
	size_t size;
	size_t mem_size;
	size_t buf_size;
	size_t buf_align;
	uint32_t nr_bufs;
	uint32_t flags;
	uint32_t prot;
	struct ireg_map *map;
	uint32_t cache_size;
};

/*
 * Per-thread caches (struct ireg_pool_params.cache_size): at most
 * IREG_POOL_CACHE_SLOTS pools with caches at once in a process (a pool
 * created beyond that works without one: ireg_pool_info() says so).
 */
#define IREG_POOL_CACHE_MAX	512
#define IREG_POOL_CACHE_SLOTS	64

/* Per-buffer link values that are not buffer indexes. */
#define IREG_POOL_NIL		0xffffffffU	/* end of free list */
#define IREG_POOL_BUSY		0xfffffffeU	/* allocated */
#define IREG_POOL_MAX_BUFS	0xfffffffdU

struct ireg_pool_priv;

/**
 * struct ireg_pool - a pool; every field is read-only for the caller
 * @base: first byte of the pool; offsets count from here
 * @size: bytes of memory from @base the pool covers
 * @data_size: bytes from @base the allocator manages (@size less the
 *	shared header of an IREG_POOL_SHARED pool)
 * @iova: IOVA of @base, IREG_IOVA_INVALID when the pool is not registered
 * @iova_delta: @iova - @base modulo 2^64: a pointer's IOVA is one add
 * @buf_stride: distance between buffers (buffer pool)
 * @buf_inv: inverse of the odd part of @buf_stride modulo 2^64
 * @buf_tz: @buf_stride = odd part << @buf_tz
 * @nr_bufs: buffers in the pool (buffer pool)
 * @flags: IREG_POOL_* as created
 * @kind: enum ireg_pool_kind
 * @buf_link: per buffer: the next free buffer's index while free,
 *	IREG_POOL_BUSY while allocated (private memory, never shared)
 * @region: the kernel registration (@region.genp NULL if none)
 * @priv: the rest of the state
 * @cache_slot: index of this pool's per-thread cache in
 *	ireg_pool_tcache[], or IREG_POOL_CACHE_SLOTS: no caches
 * @cache_size: buffers a refill or a flush moves (0: no caches)
 * @free_head: the free list: index of the first free buffer (or
 *	IREG_POOL_NIL) in the low 32 bits, a change count in the high 32
 *	bits against ABA in IREG_POOL_MT mode.  On its own cache line: it
 *	is the only field alloc and free write.
 *
 * Dividing an offset by @buf_stride is a shift and a multiply: an offset
 * that is an exact multiple of stride = odd << tz gives its quotient as
 * (offset >> tz) * inverse(odd), and anything else gives a number out of
 * range, which the checked free uses to refuse interior pointers.
 */
struct ireg_pool {
	char *base;
	size_t size;
	size_t data_size;
	uint64_t iova;
	uint64_t iova_delta;
	size_t buf_stride;
	uint64_t buf_inv;
	unsigned int buf_tz;
	uint32_t nr_bufs;
	uint32_t flags;
	uint32_t kind;
	uint32_t *buf_link;
	struct ireg_region region;
	struct ireg_pool_priv *priv;
	uint32_t cache_slot;
	uint32_t cache_size;
	uint64_t free_head __attribute__((aligned(64)));
};

/**
 * struct ireg_pool_cache - one thread's cache of one pool's buffers
 * @len: buffers held, in @bufs[0..len)
 * @cap: 2 * the pool's cache_size: a free into a full cache first gives
 *	cache_size buffers back to the pool (one magazine)
 * @pool: the pool
 * @slotp: the owning thread's ireg_pool_tcache[] entry pointing here
 * @next: the pool's list of caches (under the library's cache lock)
 * @bufs: the buffers, each IREG_POOL_BUSY in buf_link (not on the
 *	shared stack) as an allocated one
 *
 * Only the owning thread touches @len and @bufs, except at pool destroy
 * and thread exit (see ireg_pool_params.cache_size).
 */
struct ireg_pool_cache {
	uint32_t len;
	uint32_t cap;
	struct ireg_pool *pool;
	struct ireg_pool_cache **slotp;
	struct ireg_pool_cache *next;
	void *bufs[];
};

/* This thread's caches, by ireg_pool.cache_slot; NULL: none yet. */
extern __thread struct ireg_pool_cache *
	ireg_pool_tcache[IREG_POOL_CACHE_SLOTS];

/**
 * struct ireg_pool_info - what a pool is made of
 * @size: sizeof(struct ireg_pool_info), set by the caller
 * @base: first byte
 * @mem_size: bytes mapped
 * @data_size: bytes the allocator manages, from @base
 * @iova: IOVA of @base (IREG_IOVA_INVALID: not registered)
 * @backing: enum ireg_pool_backing
 * @kind: enum ireg_pool_kind
 * @flags: IREG_POOL_* the pool was created with
 * @page_size: page size of the backing (4 KiB, 2 MiB or 1 GiB)
 * @huge_bytes: bytes found on huge pages after the pool was populated:
 *	all of it for hugetlbfs; for the other backings what the kernel
 *	gave, measured (THP may give less than all, even nothing; 4 KiB
 *	pages should show 0)
 * @fd: the memfd of a shared pool (owned by the pool), otherwise -1
 * @nr_bufs: buffer pool: buffers
 * @buf_size: buffer pool: requested buffer size
 * @buf_stride: buffer pool: distance between buffers
 * @handle: kernel region handle (if @registered)
 * @registered: the pool holds a kernel registration
 * @attached: the pool is a view from ireg_pool_attach(): it translates
 *	but does not allocate
 * @cache_size: per-thread cache size in effect (0: none, also when
 *	all IREG_POOL_CACHE_SLOTS were taken at creation)
 */
struct ireg_pool_info {
	size_t size;
	void *base;
	size_t mem_size;
	size_t data_size;
	uint64_t iova;
	uint32_t backing;
	uint32_t kind;
	uint32_t flags;
	size_t page_size;
	size_t huge_bytes;
	int fd;
	uint32_t nr_bufs;
	size_t buf_size;
	size_t buf_stride;
	uint32_t handle;
	bool registered;
	bool attached;
	uint32_t cache_size;
};

/**
 * struct ireg_pool_stats - allocator state, from a full walk
 * @size: sizeof(struct ireg_pool_stats), set by the caller
 * @free_bytes: bytes free
 * @used_bytes: bytes allocated (whole blocks / buffers)
 * @largest_free: largest allocation that would succeed now (for a
 *	buffer pool: the buffer size if any buffer is free, cached or not)
 * @nr_free: free buffers (those in threads' caches included), or free
 *	blocks of the heap
 * @nr_used: live allocations
 * @nr_cached: of @nr_free, the buffers in threads' caches: free, but only
 *	their thread takes them (0 for a heap: ireg_pool_stats() first
 *	merges the heap's small-block lists, so its figures are those of a
 *	fully coalesced heap)
 */
struct ireg_pool_stats {
	size_t size;
	size_t free_bytes;
	size_t used_bytes;
	size_t largest_free;
	uint64_t nr_free;
	uint64_t nr_used;
	uint64_t nr_cached;
};

int ireg_pool_create(struct ireg_ctx *ctx,
		     const struct ireg_pool_params *params,
		     struct ireg_pool **poolp);
int ireg_pool_create_mem(void *addr, size_t size, uint64_t iova,
			 const struct ireg_pool_params *params,
			 struct ireg_pool **poolp);
int ireg_pool_attach(struct ireg_ctx *ctx, int fd, struct ireg_map *map,
		     unsigned int flags, struct ireg_pool **poolp);
/*
 * Register a pool made without a context with @ctx; on a context without
 * a device yet, at its first ireg_device_open() (as ireg_pool_create()
 * on such a context does by itself).
 */
int ireg_pool_register(struct ireg_pool *pool, struct ireg_ctx *ctx);
void ireg_pool_destroy(struct ireg_pool *pool);
int ireg_pool_info(const struct ireg_pool *pool, struct ireg_pool_info *info);
void *ireg_pool_alloc(struct ireg_pool *pool, size_t size, size_t align);
int ireg_pool_free(struct ireg_pool *pool, void *ptr);
/*
 * The out-of-line halves of the inline allocation calls below (what is
 * not a hit in this thread's cache); call those, not these.
 */
void *ireg_pool_buf_alloc_slow(struct ireg_pool *pool);
void ireg_pool_buf_free_slow(struct ireg_pool *pool, void *buf);
int ireg_pool_alloc_bulk_slow(struct ireg_pool *pool, void **bufs,
			      unsigned int n);
void ireg_pool_free_bulk_slow(struct ireg_pool *pool, void *const *bufs,
			      unsigned int n);
int ireg_pool_stats(struct ireg_pool *pool, struct ireg_pool_stats *stats);

/* IOVA of @ptr, a byte of @pool: one add. */
static inline uint64_t ireg_pool_iova(const struct ireg_pool *pool,
				      const void *ptr)
{
	return (uint64_t)(uintptr_t)ptr + pool->iova_delta;
}

/* Offset of @ptr, a byte of @pool. */
static inline uint64_t ireg_pool_offset(const struct ireg_pool *pool,
					const void *ptr)
{
	return (uint64_t)((const char *)ptr - pool->base);
}

/* Pointer, in this process, to the byte at @offset. */
static inline void *ireg_pool_ptr(const struct ireg_pool *pool,
				  uint64_t offset)
{
	return pool->base + offset;
}

/* IOVA of the byte at @offset. */
static inline uint64_t ireg_pool_offset_iova(const struct ireg_pool *pool,
					     uint64_t offset)
{
	return pool->iova + offset;
}

/* Do the @len bytes at @ptr lie inside the pool's data? */
static inline bool ireg_pool_contains(const struct ireg_pool *pool,
				      const void *ptr, size_t len)
{
	uintptr_t off = (uintptr_t)ptr - (uintptr_t)pool->base;

	return off < pool->data_size && len <= pool->data_size - off;
}

/*
 * Is the pool's registration still valid (the kernel has not seen its
 * memory unmapped or replaced)?  One load; true for an unregistered pool.
 */
static inline bool ireg_pool_valid(const struct ireg_pool *pool)
{
	return !pool->region.genp ||
	       __atomic_load_n(pool->region.genp, __ATOMIC_ACQUIRE) ==
	       pool->region.generation;
}

/* Index of buffer @buf: exact division by the stride, see struct ireg_pool. */
static inline uint64_t ireg_pool_buf_index(const struct ireg_pool *pool,
					   const void *buf)
{
	return ((uint64_t)((const char *)buf - pool->base) >> pool->buf_tz) *
	       pool->buf_inv;
}

/*
 * Take a buffer from a buffer pool: O(1), no system call.  NULL with
 * errno ENOMEM when every buffer is in use (also for a heap or an
 * attached view, which have no free buffers).
 *
 * With a per-thread cache (ireg_pool_params.cache_size): a pop from this
 * thread's cache, no atomic operation; an empty cache is refilled from
 * the pool with a magazine of cache_size buffers in one compare-and-swap
 * (ireg_pool_buf_alloc_slow()), or from the stack below, which also gives
 * the last buffers when fewer than a magazine are left.
 *
 * Without IREG_POOL_MT: plain loads and stores, the caller serialises.
 * With it: a lock-free pop.  The head carries a change count, so a pop
 * that read a stale head fails its compare-and-swap; only a thread that
 * sleeps between its read and its CAS through exactly 2^32 changes of the
 * head could be fooled.  Reading the next link of a buffer another thread
 * has just taken is harmless: that CAS fails too.  An empty stack sends it
 * to ireg_pool_buf_alloc_slow(), which takes from the batches that bulk
 * frees leave (ireg_pool_free_bulk()).
 */
static inline void *ireg_pool_buf_alloc(struct ireg_pool *pool)
{
	struct ireg_pool_cache *c;
	uint64_t head, next;
	uint32_t idx;

	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		c = ireg_pool_tcache[pool->cache_slot];
		if (__builtin_expect(!c || !c->len, 0))
			return ireg_pool_buf_alloc_slow(pool);
		return c->bufs[--c->len];
	}
	if (!(pool->flags & IREG_POOL_MT)) {
		head = pool->free_head;
		idx = (uint32_t)head;
		if (idx == IREG_POOL_NIL)
			goto empty;
		pool->free_head = (head & ~0xffffffffULL) | pool->buf_link[idx];
	} else {
		head = __atomic_load_n(&pool->free_head, __ATOMIC_ACQUIRE);
		do {
			idx = (uint32_t)head;
			if (idx == IREG_POOL_NIL)	/* batches? */
				return ireg_pool_buf_alloc_slow(pool);
			next = ((head & ~0xffffffffULL) + (1ULL << 32)) |
			       __atomic_load_n(&pool->buf_link[idx],
					       __ATOMIC_RELAXED);
		} while (!__atomic_compare_exchange_n(&pool->free_head, &head,
						      next, true,
						      __ATOMIC_ACQUIRE,
						      __ATOMIC_ACQUIRE));
	}
	__atomic_store_n(&pool->buf_link[idx], IREG_POOL_BUSY,
			 __ATOMIC_RELAXED);
	return pool->base + (size_t)idx * pool->buf_stride;

empty:
	errno = ENOMEM;
	return NULL;
}

/* ireg_pool_free(), abort() with a message on error: the debug free. */
void ireg_pool_buf_free_debug(struct ireg_pool *pool, void *buf);

/*
 * Give a buffer back: O(1), no system call, no check.  With a per-thread
 * cache: a push onto this thread's cache; a full one first gives half
 * its buffers back to the pool as one magazine, in one compare-and-swap
 * (ireg_pool_buf_free_slow()).  Contract: @buf is
 * exactly what ireg_pool_buf_alloc() (or ireg_pool_alloc()) returned for
 * this buffer pool and has not been freed since; anything else corrupts
 * the free list.  ireg_pool_free() is the checked form (foreign pointer,
 * interior pointer, double free: an error, nothing changed); compiling
 * with -DIREG_POOL_DEBUG makes this function call it and abort() on an
 * error.
 *
 * With IREG_POOL_MT the push is a compare-and-swap loop; the release
 * ordering makes the link written before it visible to the thread that
 * pops the buffer next.
 */
static inline void ireg_pool_buf_free(struct ireg_pool *pool, void *buf)
{
#ifdef IREG_POOL_DEBUG
	ireg_pool_buf_free_debug(pool, buf);
#else
	struct ireg_pool_cache *c;
	uint64_t head, next;
	uint32_t idx;

	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		c = ireg_pool_tcache[pool->cache_slot];
		if (__builtin_expect(!c || c->len == c->cap, 0)) {
			ireg_pool_buf_free_slow(pool, buf);
			return;
		}
		c->bufs[c->len++] = buf;
		return;
	}
	idx = (uint32_t)ireg_pool_buf_index(pool, buf);
	if (!(pool->flags & IREG_POOL_MT)) {
		head = pool->free_head;
		pool->buf_link[idx] = (uint32_t)head;
		pool->free_head = (head & ~0xffffffffULL) | idx;
		return;
	}
	head = __atomic_load_n(&pool->free_head, __ATOMIC_RELAXED);
	do {
		__atomic_store_n(&pool->buf_link[idx], (uint32_t)head,
				 __ATOMIC_RELAXED);
		next = ((head & ~0xffffffffULL) + (1ULL << 32)) | idx;
	} while (!__atomic_compare_exchange_n(&pool->free_head, &head, next,
					      true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
#endif
}

/*
 * Take @n buffers of a buffer pool into @bufs, all or none (as
 * rte_mempool_get_bulk()): 0, or -ENOMEM and nothing taken (@bufs[] may
 * have been written).  n == 0 is 0.  Every buffer is as one from
 * ireg_pool_buf_alloc(): IOVA by one add, freed by any free call.  With
 * a per-thread cache holding @n: a copy of @n pointers, no atomic
 * operation; otherwise the cache is refilled (a magazine of cache_size
 * at a time) or, without caches, the buffers come out of the batches
 * that bulk frees leave (up to 32 in each compare-and-swap), then off
 * the shared stack.  -EINVAL on a heap, -EPERM on an
 * attached view.
 */
static inline int ireg_pool_alloc_bulk(struct ireg_pool *pool, void **bufs,
				       unsigned int n)
{
	struct ireg_pool_cache *c;

	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		c = ireg_pool_tcache[pool->cache_slot];
		if (__builtin_expect(c && c->len >= n, 1)) {
			c->len -= n;
			__builtin_memcpy(bufs, c->bufs + c->len,
					 n * sizeof(void *));
			return 0;
		}
	}
	return ireg_pool_alloc_bulk_slow(pool, bufs, n);
}

/*
 * Give back @n buffers, as ireg_pool_buf_free() each (same contract, no
 * check; each checked with -DIREG_POOL_DEBUG): a copy into this thread's
 * cache when it has room, else half the cache goes back to the pool
 * first (one magazine, one compare-and-swap) or, without caches, one
 * batch per 32 buffers (n >= 16; fewer go onto the stack).
 */
static inline void ireg_pool_free_bulk(struct ireg_pool *pool,
				       void *const *bufs, unsigned int n)
{
#ifdef IREG_POOL_DEBUG
	unsigned int i;

	for (i = 0; i < n; i++)
		ireg_pool_buf_free_debug(pool, bufs[i]);
#else
	struct ireg_pool_cache *c;

	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		c = ireg_pool_tcache[pool->cache_slot];
		if (__builtin_expect(c && c->len + n <= c->cap, 1)) {
			__builtin_memcpy(c->bufs + c->len, bufs,
					 n * sizeof(void *));
			c->len += n;
			return;
		}
	}
	ireg_pool_free_bulk_slow(pool, bufs, n);
#endif
}

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_POOL_H */
