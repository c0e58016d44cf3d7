// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Allocating from a pool and giving back: the buffer pool's bulk paths,
 * per-thread caches and the magazines behind them (the cache hits are
 * inline in <iommureg/pool.h>, the misses here), the heap's paths (under
 * the pool's mutex with IREG_POOL_MT), the checked free of a buffer pool,
 * and the full walks behind ireg_pool_stats().
 *
 * An attached view (ireg_pool_attach()) translates but does not allocate:
 * every path here refuses it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pool_priv.h"

/*
 * The shared stack's bulk paths: take up to @want buffers (indexes into
 * @out) in one compare-and-swap, give a chain back in one.  A pop walks
 * @want links from the head it read; a link it reads may be stale (a
 * buffer another thread took meanwhile: IREG_POOL_BUSY, or another
 * index), but then the head has changed and the compare-and-swap fails,
 * as in ireg_pool_buf_alloc().  A walk that meets a value that is no
 * index before the end of the list retries at once.
 */
static unsigned int stack_pop(struct ireg_pool *pool, uint32_t *out,
			      unsigned int want)
{
	uint64_t head, next;
	unsigned int n;
	uint32_t idx;

	head = __atomic_load_n(&pool->free_head, __ATOMIC_ACQUIRE);
	do {
		idx = (uint32_t)head;
		for (n = 0; n < want && idx < pool->nr_bufs; n++) {
			out[n] = idx;
			idx = __atomic_load_n(&pool->buf_link[idx],
					      __ATOMIC_RELAXED);
		}
		if (!n)
			return 0;
		if (n < want && idx != IREG_POOL_NIL) {
			head = __atomic_load_n(&pool->free_head,
					       __ATOMIC_ACQUIRE);
			continue;
		}
		next = ((head & ~0xffffffffULL) + (1ULL << 32)) | idx;
		if (__atomic_compare_exchange_n(&pool->free_head, &head, next,
						true, __ATOMIC_ACQUIRE,
						__ATOMIC_ACQUIRE))
			return n;
	} while (1);
}

/* Push the @n > 0 buffers @idx[] as one chain. */
static void stack_push(struct ireg_pool *pool, const uint32_t *idx,
		       unsigned int n)
{
	uint32_t last = idx[n - 1];
	uint64_t head, next;
	unsigned int i;

	for (i = 0; i + 1 < n; i++)
		__atomic_store_n(&pool->buf_link[idx[i]], idx[i + 1],
				 __ATOMIC_RELAXED);
	head = __atomic_load_n(&pool->free_head, __ATOMIC_RELAXED);
	do {
		__atomic_store_n(&pool->buf_link[last], (uint32_t)head,
				 __ATOMIC_RELAXED);
		next = ((head & ~0xffffffffULL) + (1ULL << 32)) | idx[0];
	} while (!__atomic_compare_exchange_n(&pool->free_head, &head, next,
					      true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

/* Push @n buffers onto the shared stack, 256 in each compare-and-swap. */
static void shared_give(struct ireg_pool *pool, void *const *bufs,
			unsigned int n)
{
	uint32_t idx[256];
	unsigned int i, k;

	for (; n; bufs += k, n -= k) {
		k = n < 256 ? n : 256;
		for (i = 0; i < k; i++)
			idx[i] = (uint32_t)ireg_pool_buf_index(pool, bufs[i]);
		stack_push(pool, idx, k);
	}
}

/*
 * Per-thread caches.  A pool created with a cache_size takes one of
 * IREG_POOL_CACHE_SLOTS slots; each thread finds its cache of the pool in
 * its ireg_pool_tcache[slot] (one TLS load, then the cache), made on the
 * thread's first refill or flush.  cache_lock guards the slots, every
 * pool's list of caches and the threads' pointers to them as pool
 * destroy and thread exit change them: pool destroy frees every cache of
 * the pool and clears its owner's pointer (nothing may use the pool
 * meanwhile); a thread at exit gives its caches' buffers back to their
 * pools' shared stacks and frees them (the pthread key's destructor,
 * which runs for every thread that made a cache; not for the main thread
 * at exit(), when nothing is left to give back to).
 */
__thread struct ireg_pool_cache *ireg_pool_tcache[IREG_POOL_CACHE_SLOTS];

static void shared_put(struct ireg_pool *pool, void *const *bufs,
		       unsigned int n);
static int mags_init(struct ireg_pool *pool, uint32_t size);
static int batches_init(struct ireg_pool *pool);
static void mags_fini(struct ireg_pool *pool);

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t cache_slots;		/* slots in use */
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_err;

/* Unlink @c from its pool's list; cache_lock held. */
static void cache_unlink(struct ireg_pool_cache *c)
{
	struct ireg_pool_cache **pp = &c->pool->priv->caches;

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
}

static void cache_thread_exit(void *arg)
{
	struct ireg_pool_cache *c;
	unsigned int s;

	(void)arg;
	pthread_mutex_lock(&cache_lock);
	for (s = 0; s < IREG_POOL_CACHE_SLOTS; s++) {
		c = ireg_pool_tcache[s];
		if (!c)
			continue;
		shared_put(c->pool, c->bufs, c->len);
		cache_unlink(c);
		ireg_pool_tcache[s] = NULL;
		free(c);
	}
	pthread_mutex_unlock(&cache_lock);
}

static bool cache_key_made;

static void cache_key_init(void)
{
	cache_key_err = pthread_key_create(&cache_key, cache_thread_exit);
	cache_key_made = !cache_key_err;
}

/*
 * When the library is unloaded (dlclose() of a provider that linked it):
 * a thread exiting later must not run cache_thread_exit(), which is gone
 * with the library, as are the pools its caches would give back to.
 */
static void __attribute__((destructor)) cache_key_fini(void)
{
	if (cache_key_made)
		pthread_key_delete(cache_key);
	cache_key_made = false;
}

/* 0 or -errno with the thread's message. */
int __ireg_pool_cache_init(struct ireg_pool *pool, uint32_t cache_size)
{
	const char *what = "batches";
	unsigned int s;
	int ret;

	pool->cache_slot = IREG_POOL_CACHE_SLOTS;
	pool->cache_size = 0;
	if (cache_size > IREG_POOL_CACHE_MAX ||
	    (cache_size && (pool->kind != IREG_POOL_KIND_BUFS ||
			    !(pool->flags & IREG_POOL_MT))))
		return __ireg_failf(EINVAL,
				    "pool: cache_size %u: up to %u, for IREG_POOL_MT buffer pools",
				    cache_size, IREG_POOL_CACHE_MAX);
	if (cache_size) {
		pthread_once(&cache_once, cache_key_init);
		if (cache_key_err)
			return __ireg_failf(cache_key_err,
					    "pool: the per-thread cache key: %s",
					    strerror(cache_key_err));
		pthread_mutex_lock(&cache_lock);
		if (~cache_slots) {
			s = __builtin_ctzll(~cache_slots);
			cache_slots |= 1ULL << s;
			pool->cache_slot = s;
			pool->cache_size = cache_size;
		}
		pthread_mutex_unlock(&cache_lock);
	}
	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		what = "magazines";
		ret = mags_init(pool, cache_size);
	} else {
		ret = batches_init(pool);
	}
	if (ret)
		return __ireg_failf(-ret, "pool: %s: %s", what, strerror(-ret));
	return 0;
}

void __ireg_pool_cache_fini(struct ireg_pool *pool)
{
	struct ireg_pool_cache *c, *next;

	if (pool->cache_slot >= IREG_POOL_CACHE_SLOTS) {
		mags_fini(pool);	/* the batches, if any */
		return;
	}
	pthread_mutex_lock(&cache_lock);
	for (c = pool->priv->caches; c; c = next) {
		next = c->next;
		*c->slotp = NULL;
		free(c);
	}
	pool->priv->caches = NULL;
	cache_slots &= ~(1ULL << pool->cache_slot);
	pool->cache_slot = IREG_POOL_CACHE_SLOTS;
	pthread_mutex_unlock(&cache_lock);
	/* No exiting thread can give back to them now. */
	mags_fini(pool);
}

/* This thread's cache of @pool, made if it has none; NULL: no memory. */
static struct ireg_pool_cache *cache_get(struct ireg_pool *pool)
{
	struct ireg_pool_cache **slotp = &ireg_pool_tcache[pool->cache_slot];
	struct ireg_pool_cache *c = *slotp;

	if (c)
		return c;
	/* Lines of its own: no false sharing with another thread's. */
	c = aligned_alloc(64, round_up(sizeof(*c) + 2 * pool->cache_size *
					     sizeof(void *), 64));
	if (!c)
		return NULL;
	if (pthread_setspecific(cache_key, (void *)1)) {
		free(c);
		return NULL;
	}
	c->len = 0;
	c->cap = 2 * pool->cache_size;
	c->pool = pool;
	c->slotp = slotp;
	pthread_mutex_lock(&cache_lock);
	c->next = pool->priv->caches;
	pool->priv->caches = c;
	*slotp = c;
	pthread_mutex_unlock(&cache_lock);
	return c;
}

static inline void *buf_ptr(const struct ireg_pool *pool, uint32_t idx)
{
	return pool->base + (size_t)idx * pool->buf_stride;
}

/*
 * Up to @want (<= IREG_POOL_CACHE_MAX * 2) buffers from the shared stack
 * into @bufs, marked IREG_POOL_BUSY (off the stack): how many came.
 */
static unsigned int stack_take(struct ireg_pool *pool, void **bufs,
			       unsigned int want)
{
	uint32_t idx[2 * IREG_POOL_CACHE_MAX];
	unsigned int i, n = stack_pop(pool, idx, want);

	for (i = 0; i < n; i++) {
		__atomic_store_n(&pool->buf_link[idx[i]], IREG_POOL_BUSY,
				 __ATOMIC_RELAXED);
		bufs[i] = buf_ptr(pool, idx[i]);
	}
	return n;
}

/*
 * Magazines: with per-thread caches, buffers move between a thread and
 * the pool cache_size at a time, as an array (a magazine) on a second
 * lock-free stack, not as a chain of the stack above: a refill pops one
 * magazine and converts its buffer indexes to pointers (4 bytes a buffer
 * cross CPUs, not 8; a line of its own for each magazine, so that a
 * thread filling one never shares a line with one being emptied), where
 * a chain would be a walk of
 * dependent loads, each a cache miss when another CPU freed the buffers
 * (rx on one core, tx on another).  The magazines are private memory, as
 * the links: nr_bufs / cache_size + 1 of them, on the "full" stack with
 * buffers or on the "empty" one; the stacks are indexes with a change
 * count against ABA, as the buffer stack.  A buffer in a magazine is
 * IREG_POOL_BUSY in buf_link, as one in a cache or one allocated: a
 * refill or a flush is a copy of indexes and two compare-and-swaps,
 * nothing written per buffer (marks in a per-buffer array cost about
 * twice the time across two CPUs: the buffers' marks are scattered over
 * as many cache lines).  What is not a whole magazine (the rest of a
 * cache at thread exit, a refill when no magazine is full) goes by the
 * buffer stack.
 */

struct pool_mag {
	uint32_t next;
	uint32_t unused;
	uint32_t idx[];		/* buffer indexes: half a pointer's bytes */
};

/* The two heads on lines of their own, away from what only is read. */
struct pool_mags {
	uint32_t nr;
	uint32_t size;
	size_t stride;
	char *mem;
	uint64_t full __attribute__((aligned(64)));
	uint64_t empty __attribute__((aligned(64)));
	char end[0] __attribute__((aligned(64)));
};

static inline struct pool_mag *mag_at(const struct pool_mags *m, uint32_t i)
{
	return (struct pool_mag *)(m->mem + (size_t)i * m->stride);
}

static uint32_t mag_pop(struct pool_mags *m, uint64_t *headp)
{
	uint64_t head, next;
	uint32_t i;

	head = __atomic_load_n(headp, __ATOMIC_ACQUIRE);
	do {
		i = (uint32_t)head;
		if (i >= m->nr)
			return IREG_POOL_NIL;
		next = ((head & ~0xffffffffULL) + (1ULL << 32)) |
		       __atomic_load_n(&mag_at(m, i)->next, __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(headp, &head, next, true,
					      __ATOMIC_ACQUIRE,
					      __ATOMIC_ACQUIRE));
	return i;
}

static void mag_push(struct pool_mags *m, uint64_t *headp, uint32_t i)
{
	uint64_t head, next;

	head = __atomic_load_n(headp, __ATOMIC_RELAXED);
	do {
		__atomic_store_n(&mag_at(m, i)->next, (uint32_t)head,
				 __ATOMIC_RELAXED);
		next = ((head & ~0xffffffffULL) + (1ULL << 32)) | i;
	} while (!__atomic_compare_exchange_n(headp, &head, next, true,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

/*
 * A magazine's indexes to pointers and back: what crosses CPUs is 4
 * bytes a buffer, not 8 (producer/consumer moves every magazine from one
 * CPU's cache to the other's).  The pool's fields in locals: the loops
 * then vectorise.
 */
static void idx_to_bufs(const struct ireg_pool *pool, void **bufs,
			const uint32_t *idx, unsigned int n)
{
	size_t stride = pool->buf_stride;
	char *base = pool->base;
	unsigned int j;

	for (j = 0; j < n; j++)
		bufs[j] = base + (size_t)idx[j] * stride;
}

static void bufs_to_idx(const struct ireg_pool *pool, uint32_t *idx,
			void *const *bufs, unsigned int n)
{
	const char *base = pool->base;
	uint64_t inv = pool->buf_inv;
	unsigned int tz = pool->buf_tz, j;

	for (j = 0; j < n; j++)
		idx[j] = (uint32_t)((((uint64_t)((const char *)bufs[j] -
						 base)) >> tz) * inv);
}

/* Up to @want buffers from the pool into @bufs: how many came. */
static unsigned int shared_get(struct ireg_pool *pool, void **bufs,
			       unsigned int want)
{
	struct pool_mags *m = pool->priv->mags;
	unsigned int got = 0;
	uint32_t i;

	while (m && want - got >= m->size) {
		i = mag_pop(m, &m->full);
		if (i == IREG_POOL_NIL)
			break;
		idx_to_bufs(pool, bufs + got, mag_at(m, i)->idx, m->size);
		mag_push(m, &m->empty, i);
		got += m->size;
	}
	if (got < want)
		got += stack_take(pool, bufs + got, want - got);
	return got;
}

/* Give @n buffers back to the pool: whole magazines, then the rest. */
static void shared_put(struct ireg_pool *pool, void *const *bufs,
		       unsigned int n)
{
	struct pool_mags *m = pool->priv->mags;
	uint32_t i;

	while (m && n >= m->size) {
		i = mag_pop(m, &m->empty);
		if (i == IREG_POOL_NIL)
			break;
		bufs_to_idx(pool, mag_at(m, i)->idx, bufs, m->size);
		mag_push(m, &m->full, i);
		bufs += m->size;
		n -= m->size;
	}
	if (n)
		shared_give(pool, bufs, n);
}

/*
 * @nr slots of @stride bytes (magazines or batches), each on lines of its
 * own, all on the empty stack, as the pool's: 0 or -ENOMEM.
 */
static int mags_alloc(struct ireg_pool *pool, uint32_t nr, uint32_t size,
		      size_t stride)
{
	struct pool_mags *m;
	uint32_t i;

	m = aligned_alloc(64, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	m->nr = nr;
	m->size = size;
	m->stride = round_up(stride, 64);
	m->mem = aligned_alloc(64, (size_t)m->nr * m->stride);
	if (!m->mem) {
		free(m);
		return -ENOMEM;
	}
	m->full = IREG_POOL_NIL;
	m->empty = IREG_POOL_NIL;
	for (i = 0; i < m->nr; i++)
		mag_push(m, &m->empty, i);
	pool->priv->mags = m;
	return 0;
}

/* Magazines for a cached pool, filled from the buffer stack (no race). */
static int mags_init(struct ireg_pool *pool, uint32_t size)
{
	struct pool_mags *m;
	uint32_t i;
	int ret;

	ret = mags_alloc(pool, pool->nr_bufs / size + 1, size,
			 sizeof(struct pool_mag) + size * sizeof(uint32_t));
	if (ret)
		return ret;
	m = pool->priv->mags;
	for (i = 0; i < pool->nr_bufs / size; i++) {
		uint32_t k = mag_pop(m, &m->empty);

		uint32_t *idx = mag_at(m, k)->idx, j;

		if (stack_pop(pool, idx, size) != size)
			return -EUCLEAN;	/* cannot be: all are free */
		for (j = 0; j < size; j++)
			pool->buf_link[idx[j]] = IREG_POOL_BUSY;
		mag_push(m, &m->full, k);
	}
	return 0;
}

static void mags_fini(struct ireg_pool *pool)
{
	struct pool_mags *m = pool->priv->mags;

	if (!m)
		return;
	free(m->mem);
	free(m);
	pool->priv->mags = NULL;
}

/*
 * Batches: an IREG_POOL_MT buffer pool without caches keeps what bulk
 * frees give back in arrays of up to BATCH buffer indexes (struct
 * pool_batch, on the magazines' stacks) so that a bulk alloc copies
 * indexes out of one instead of walking as many links of the buffer
 * stack: a walk is a chain of dependent loads, each a cache miss when
 * another CPU freed the buffers, and costs several times rte_ring's copy.
 * A buffer in a batch is free and marked so (IREG_POOL_NIL in buf_link),
 * unlike one in a magazine of a cached pool: the checked free keeps
 * seeing every double free.  Indexes, not pointers: the free computes
 * the index for the mark anyway, and the alloc then marks and converts
 * without a division.  Batches take bulk frees of at least BATCH_MIN
 * buffers (BATCH at a time), so that at most nr_bufs / BATCH_MIN are ever
 * full; should the empty ones run out, the rest goes to the buffer stack.
 * Allocation takes from the batches first, then from the stack; the
 * single-buffer alloc, when the stack is empty
 * (ireg_pool_buf_alloc_slow()), moves a batch onto it.
 */
#define BATCH		32
#define BATCH_MIN	16

struct pool_batch {
	uint32_t next;		/* as pool_mag's: the same stacks */
	uint32_t count;
	uint32_t idx[BATCH];
};

static inline struct pool_batch *batch_at(const struct pool_mags *m,
					  uint32_t i)
{
	return (struct pool_batch *)(m->mem + (size_t)i * m->stride);
}

static int batches_init(struct ireg_pool *pool)
{
	if (pool->kind != IREG_POOL_KIND_BUFS || !(pool->flags & IREG_POOL_MT))
		return 0;
	return mags_alloc(pool, pool->nr_bufs / BATCH_MIN + 1, BATCH,
			  sizeof(struct pool_batch));
}

/*
 * Up to @want buffers out of the batches into @bufs, marked
 * IREG_POOL_BUSY: how many came.
 */
static unsigned int batch_get(struct ireg_pool *pool, void **bufs,
			      unsigned int want)
{
	struct pool_mags *m = pool->priv->mags;
	uint32_t *link = pool->buf_link;
	size_t stride = pool->buf_stride;
	unsigned int got = 0, k, take, j;
	char *base = pool->base;
	struct pool_batch *b;
	uint32_t i, x;

	while (got < want) {
		i = mag_pop(m, &m->full);
		if (i == IREG_POOL_NIL)
			break;
		b = batch_at(m, i);
		k = b->count;
		take = k < want - got ? k : want - got;
		k -= take;
		for (j = 0; j < take; j++) {
			x = b->idx[k + j];
			__atomic_store_n(&link[x], IREG_POOL_BUSY,
					 __ATOMIC_RELAXED);
			bufs[got + j] = base + (size_t)x * stride;
		}
		got += take;
		b->count = k;
		mag_push(m, k ? &m->full : &m->empty, i);
	}
	return got;
}

/* Give @n buffers back without caches: batches, the rest by the stack. */
static void batch_put(struct ireg_pool *pool, void *const *bufs,
		      unsigned int n)
{
	struct pool_mags *m = pool->priv->mags;
	uint32_t *link = pool->buf_link;
	const char *base = pool->base;
	uint64_t inv = pool->buf_inv;
	unsigned int tz = pool->buf_tz, k, j;
	struct pool_batch *b;
	uint32_t i, x;

	while (m && n >= BATCH_MIN) {
		i = mag_pop(m, &m->empty);
		if (i == IREG_POOL_NIL)
			break;
		b = batch_at(m, i);
		k = n < BATCH ? n : BATCH;
		/* Marked free before any thread can take them. */
		for (j = 0; j < k; j++) {
			x = (uint32_t)((((uint64_t)((const char *)bufs[j] -
						    base)) >> tz) * inv);
			b->idx[j] = x;
			__atomic_store_n(&link[x], IREG_POOL_NIL,
					 __ATOMIC_RELAXED);
		}
		b->count = k;
		mag_push(m, &m->full, i);
		bufs += k;
		n -= k;
	}
	if (n)
		shared_give(pool, bufs, n);
}

/* @n buffers without caches, all or none: batches, then the stack. */
static int batch_take(struct ireg_pool *pool, void **bufs, unsigned int n)
{
	unsigned int got = 0, k;

	if (pool->priv->mags)
		got = batch_get(pool, bufs, n);
	while (got < n) {
		k = stack_take(pool, bufs + got, n - got < 256 ? n - got : 256);
		if (!k)
			break;
		got += k;
	}
	if (got == n)
		return 0;
	if (got)
		batch_put(pool, bufs, got);
	return -ENOMEM;
}

/* One buffer when the stack is empty: the rest of a batch goes onto it. */
static void *batch_get1(struct ireg_pool *pool)
{
	struct pool_mags *m = pool->priv->mags;
	uint32_t idx[BATCH], x;
	struct pool_batch *b;
	unsigned int k;
	uint32_t i;

	if (!m)
		return NULL;
	i = mag_pop(m, &m->full);
	if (i == IREG_POOL_NIL)
		return NULL;
	b = batch_at(m, i);
	k = b->count - 1;
	x = b->idx[k];
	memcpy(idx, b->idx, k * sizeof(idx[0]));
	mag_push(m, &m->empty, i);
	__atomic_store_n(&pool->buf_link[x], IREG_POOL_BUSY, __ATOMIC_RELAXED);
	if (k)
		stack_push(pool, idx, k);
	return buf_ptr(pool, x);
}

void *ireg_pool_buf_alloc_slow(struct ireg_pool *pool)
{
	struct ireg_pool_cache *c;
	unsigned int n;
	void *buf;

	if (pool->cache_slot >= IREG_POOL_CACHE_SLOTS) {
		/* No caches: the stack was empty, try the batches. */
		if (pool->priv->attached || pool->kind != IREG_POOL_KIND_BUFS)
			goto empty;
		buf = batch_get1(pool);
		if (buf || stack_take(pool, &buf, 1))
			return buf;
		goto empty;
	}
	c = cache_get(pool);
	if (!c) {
		/* No cache, no memory for one: straight from the stack. */
		if (!stack_take(pool, &buf, 1))
			goto empty;
		return buf;
	}
	n = c->len;
	if (!n) {
		n = shared_get(pool, c->bufs, pool->cache_size);
		if (!n)
			goto empty;
	}
	c->len = n - 1;
	return c->bufs[n - 1];
empty:
	errno = ENOMEM;
	return NULL;
}

void ireg_pool_buf_free_slow(struct ireg_pool *pool, void *buf)
{
	struct ireg_pool_cache *c = cache_get(pool);
	uint32_t idx;

	if (!c) {
		idx = (uint32_t)ireg_pool_buf_index(pool, buf);
		stack_push(pool, &idx, 1);
		return;
	}
	if (c->len == c->cap) {
		/* Half goes back, as one magazine: no copy within the cache. */
		c->len -= pool->cache_size;
		shared_put(pool, c->bufs + c->len, pool->cache_size);
	}
	c->bufs[c->len++] = buf;
}

/*
 * @n buffers from the shared stack, all or none: chunks of up to 256 in
 * one compare-and-swap each; what a short count took goes back.
 */
static int shared_take(struct ireg_pool *pool, void **bufs, unsigned int n)
{
	unsigned int done = 0, got, want;

	while (done < n) {
		want = n - done < 256 ? n - done : 256;
		got = shared_get(pool, bufs + done, want);
		done += got;
		if (got < want)
			break;
	}
	if (done == n)
		return 0;
	shared_put(pool, bufs, done);
	return -ENOMEM;
}

int ireg_pool_alloc_bulk_slow(struct ireg_pool *pool, void **bufs,
			      unsigned int n)
{
	struct ireg_pool_cache *c;
	uint32_t head, idx;
	unsigned int i;

	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		c = ireg_pool_tcache[pool->cache_slot];
		if (c && c->len >= n) {
			c->len -= n;
			memcpy(bufs, c->bufs + c->len, n * sizeof(void *));
			return 0;
		}
		if (!n)
			return 0;
		if (n > pool->nr_bufs)
			return -ENOMEM;
		c = cache_get(pool);
		if (!c || n > c->cap)
			return shared_take(pool, bufs, n);
		/* Enough for this call and a cache_size more, if there. */
		i = n - c->len + pool->cache_size;
		if (i > c->cap - c->len)
			i = c->cap - c->len;
		c->len += shared_get(pool, c->bufs + c->len, i);
		/* Short: what came stays in the cache, free. */
		if (c->len < n)
			return -ENOMEM;
		c->len -= n;
		memcpy(bufs, c->bufs + c->len, n * sizeof(void *));
		return 0;
	}
	if (pool->priv->attached)
		return -EPERM;
	if (pool->kind != IREG_POOL_KIND_BUFS)
		return -EINVAL;
	if (!n)
		return 0;
	if (n > pool->nr_bufs)
		return -ENOMEM;
	if (pool->flags & IREG_POOL_MT)
		return batch_take(pool, bufs, n);
	/* Single-threaded: count first, then take. */
	head = (uint32_t)pool->free_head;
	for (i = 0; i < n && head != IREG_POOL_NIL; i++)
		head = pool->buf_link[head];
	if (i < n)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		idx = (uint32_t)pool->free_head;
		pool->free_head = (pool->free_head & ~0xffffffffULL) |
				  pool->buf_link[idx];
		pool->buf_link[idx] = IREG_POOL_BUSY;
		bufs[i] = buf_ptr(pool, idx);
	}
	return 0;
}

void ireg_pool_free_bulk_slow(struct ireg_pool *pool, void *const *bufs,
			      unsigned int n)
{
	struct ireg_pool_cache *c;
	unsigned int i;

	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		c = ireg_pool_tcache[pool->cache_slot];
		if (c && c->len + n <= c->cap) {
			memcpy(c->bufs + c->len, bufs, n * sizeof(void *));
			c->len += n;
			return;
		}
		if (!c)
			c = cache_get(pool);
		if (c && n <= pool->cache_size) {
			if (c->len + n > c->cap) {
				/* Half goes back, as one magazine. */
				c->len -= pool->cache_size;
				shared_put(pool, c->bufs + c->len,
					   pool->cache_size);
			}
			memcpy(c->bufs + c->len, bufs, n * sizeof(void *));
			c->len += n;
			return;
		}
		/* More than a flush moves: straight back to the pool. */
		shared_put(pool, bufs, n);
		return;
	}
	if (!(pool->flags & IREG_POOL_MT)) {
		for (i = 0; i < n; i++)
			ireg_pool_buf_free(pool, bufs[i]);
		return;
	}
	batch_put(pool, bufs, n);
}

/* The heap of an IREG_POOL_MT pool is under its mutex; others, the caller's. */
static void heap_lock(struct ireg_pool *pool)
{
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_lock(&pool->priv->lock);
}

static void heap_unlock(struct ireg_pool *pool)
{
	if (pool->flags & IREG_POOL_MT)
		pthread_mutex_unlock(&pool->priv->lock);
}

void *ireg_pool_alloc(struct ireg_pool *pool, size_t size, size_t align)
{
	size_t buf_align;
	long unit;

	if (pool->priv->attached) {
		errno = EPERM;
		return NULL;
	}
	/* Registered before a fork(): in the child the memory is gone. */
	if (pool->region.genp && __ireg_forked(pool->priv->fork_gen)) {
		errno = ECHILD;
		return NULL;
	}
	if (align && !is_pow2(align)) {
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
	heap_lock(pool);
	unit = __ireg_heap_alloc(&pool->priv->heap, size, align);
	heap_unlock(pool);
	if (unit < 0) {
		errno = -unit;
		return NULL;
	}
	return pool->base + ((size_t)unit << HEAP_UNIT_SHIFT);
}

/*
 * The checked buffer free: refuse, changing nothing, what is not ours.
 *
 * With per-thread caches a buffer in a cache or a magazine is
 * IREG_POOL_BUSY as an allocated one (those paths write no per-buffer
 * state), so a double free is seen when the buffer is on the buffer stack
 * or in this thread's cache (searched), not while it sits in another
 * thread's cache or in a magazine, and two threads freeing the same
 * buffer at once are not told apart.
 */
static int buf_free_checked(struct ireg_pool *pool, void *buf)
{
	uint64_t off = (uintptr_t)buf - (uintptr_t)pool->base;
	const struct ireg_pool_cache *c;
	uint64_t idx;
	uint32_t busy = IREG_POOL_BUSY, i;

	if (off >= pool->data_size)
		return -EFAULT;
	idx = ireg_pool_buf_index(pool, buf);
	if (idx >= pool->nr_bufs || idx * pool->buf_stride != off)
		return -EINVAL;
	if (pool->cache_slot < IREG_POOL_CACHE_SLOTS) {
		if (__atomic_load_n(&pool->buf_link[idx], __ATOMIC_RELAXED) !=
		    IREG_POOL_BUSY)
			return -EALREADY;
		c = ireg_pool_tcache[pool->cache_slot];
		for (i = 0; c && i < c->len; i++)
			if (c->bufs[i] == buf)
				return -EALREADY;
		ireg_pool_buf_free(pool, buf);
		return 0;
	}
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
	/* A misuse, not a free of what is not the pool's: say so. */
	if (pool->priv->attached)
		return __ireg_failf(EPERM, "pool: %p: a view from ireg_pool_attach() frees nothing",
				    ptr);
	if (pool->kind == IREG_POOL_KIND_BUFS)
		return buf_free_checked(pool, ptr);
	if (off >= pool->data_size)
		return -EFAULT;
	heap_lock(pool);
	ret = __ireg_heap_free(&pool->priv->heap, off);
	heap_unlock(pool);
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

/* Mark @n buffers of a magazine or a cache seen: each once, off the stack. */
static int buf_seen(const struct ireg_pool *pool, void *const *bufs,
		    unsigned int n, uint8_t *seen)
{
	uint64_t i, off;
	unsigned int j;

	for (j = 0; j < n; j++) {
		off = (uintptr_t)bufs[j] - (uintptr_t)pool->base;
		i = ireg_pool_buf_index(pool, bufs[j]);
		if (i >= pool->nr_bufs || i * pool->buf_stride != off ||
		    seen[i] || pool->buf_link[i] != IREG_POOL_BUSY)
			return -EUCLEAN;
		seen[i] = 1;
	}
	return 0;
}

/*
 * The same for a magazine or a batch (indexes), whose buffers are marked
 * @mark: IREG_POOL_BUSY in a magazine, IREG_POOL_NIL (free) in a batch.
 */
static int idx_seen(const struct ireg_pool *pool, const uint32_t *idx,
		    unsigned int n, uint8_t *seen, uint32_t mark)
{
	uint32_t j, i;

	for (j = 0; j < n; j++) {
		i = idx[j];
		if (i >= pool->nr_bufs || seen[i] || pool->buf_link[i] != mark)
			return -EUCLEAN;
		seen[i] = 1;
	}
	return 0;
}

/*
 * Walk the free list, the full magazines (or batches) and the caches: no
 * cycle, no buffer twice, busy + free == all.
 */
static int buf_check(const struct ireg_pool *pool, struct ireg_pool_stats *st)
{
	uint32_t idx = (uint32_t)pool->free_head;
	const struct pool_mags *m = pool->priv->mags;
	bool batches = pool->cache_slot >= IREG_POOL_CACHE_SLOTS;
	uint64_t nr_free = 0, nr_busy = 0, nr_cached = 0, i;
	const struct ireg_pool_cache *c;
	uint8_t *seen;
	uint32_t j, k, n;
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
	/* The full magazines or batches: each buffer once; free. */
	if (m) {
		for (k = (uint32_t)m->full, j = 0; k != IREG_POOL_NIL; j++) {
			if (k >= m->nr || j >= m->nr) {
				ret = -EUCLEAN;
				goto out;
			}
			n = batches ? batch_at(m, k)->count : m->size;
			if (!n || n > m->size) {
				ret = -EUCLEAN;
				goto out;
			}
			ret = idx_seen(pool, batches ? batch_at(m, k)->idx :
						       mag_at(m, k)->idx, n, seen,
				       batches ? IREG_POOL_NIL :
						 IREG_POOL_BUSY);
			if (ret)
				goto out;
			nr_free += n;
			k = mag_at(m, k)->next;
		}
	}
	/* Then the caches: each buffer once, off the stack. */
	for (c = pool->priv->caches; c; c = c->next) {
		ret = buf_seen(pool, c->bufs, c->len, seen);
		if (ret)
			goto out;
		nr_cached += c->len;
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
	nr_free += nr_cached;
	st->nr_cached = nr_cached;
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
	struct ireg_pool_stats st;
	int ret;

	if (stats->size < sizeof(stats->size))
		return -EINVAL;
	if (pool->priv->attached)
		return -EOPNOTSUPP;
	if (pool->kind == IREG_POOL_KIND_BUFS) {
		pthread_mutex_lock(&cache_lock);
		ret = buf_check(pool, &st);
		pthread_mutex_unlock(&cache_lock);
	} else {
		/* Merged first: the figures of a fully coalesced heap. */
		heap_lock(pool);
		__ireg_heap_drain(&pool->priv->heap);
		ret = __ireg_heap_check(&pool->priv->heap, &st);
		heap_unlock(pool);
	}
	if (ret)
		return ret;
	st.size = sizeof(st);
	return __ireg_opts_out(stats, &st, sizeof(st), "pool stats");
}
