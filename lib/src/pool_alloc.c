// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Allocating from a pool and giving back: the heap's paths (under the
 * pool's mutex with IREG_POOL_MT), the checked free of a buffer pool (the
 * unchecked O(1) paths are inline in <iommureg/pool.h>), and the full
 * walks behind ireg_pool_stats().
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

/* The checked buffer free: refuse, changing nothing, what is not ours. */
static int buf_free_checked(struct ireg_pool *pool, void *buf)
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

/* Walk the free list: no cycle, no index twice, busy + free == all. */
static int buf_check(const struct ireg_pool *pool, struct ireg_pool_stats *st)
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
		return buf_check(pool, stats);
	heap_lock(pool);
	ret = __ireg_heap_check(&pool->priv->heap, stats);
	heap_unlock(pool);
	return ret;
}
