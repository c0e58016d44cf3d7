// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The geometry of a pool: checking the parameters, laying a pool out in
 * the pages of a backing (or in the caller's memory), and setting up the
 * allocator state over the result.
 *
 * Vocabulary: a *buffer pool* holds nr_bufs buffers of buf_size bytes,
 * each *stride* bytes apart (buf_size rounded up to buf_align); a *heap*
 * is variable sizes over data_size bytes (src/heap.c).  *size* is what is
 * mapped: the data, the shared header if any, whole pages.  Offsets count
 * from the pool's base.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pool_priv.h"

/* Inverse of odd @a modulo 2^64: Newton's iteration doubles the bits. */
static uint64_t inverse_odd(uint64_t a)
{
	uint64_t x = a;		/* right to 3 bits: a * a == 1 mod 8 */
	int i;

	for (i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

/*
 * Validate the parameters.  @sized: the caller gives the memory, so size
 * and nr_bufs may be 0.
 */
int __ireg_pool_check_params(struct ireg_ctx *ctx,
			     const struct ireg_pool_params *p, bool sized)
{
	uint32_t backing = p->flags & IREG_POOL_BACKING_FLAGS;

	if (p->flags & ~(IREG_POOL_BACKING_FLAGS | IREG_POOL_SHARED |
			 IREG_POOL_MT))
		return __ireg_fail(ctx, EINVAL, "pool: unknown flags 0x%x",
				   p->flags);
	if (backing & (backing - 1))
		return __ireg_fail(ctx, EINVAL,
				   "pool: more than one backing flag");
	if (p->prot & ~(IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE))
		return __ireg_fail(ctx, EINVAL, "pool: unknown prot 0x%x",
				   p->prot);
	if (!p->buf_size) {
		if (p->buf_align || p->nr_bufs)
			return __ireg_fail(ctx, EINVAL,
					 "pool: buf_align and nr_bufs are for buffer pools (buf_size > 0)");
		if (!p->mem_size && !sized)
			return __ireg_fail(ctx, EINVAL, "pool: mem_size is 0");
		return 0;
	}
	if (p->buf_align && !is_pow2(p->buf_align))
		return __ireg_fail(ctx, EINVAL,
				   "pool: buf_align %zu is not a power of two",
				   p->buf_align);
	if (p->buf_size > SIZE_MAX / 2 || p->buf_align > SIZE_MAX / 2)
		return __ireg_fail(ctx, EOVERFLOW, "pool: buffer size too large");
	if (!p->nr_bufs && !p->mem_size && !sized)
		return __ireg_fail(ctx, EINVAL,
				   "pool: neither mem_size nor nr_bufs given");
	if (p->nr_bufs > IREG_POOL_MAX_BUFS)
		return __ireg_fail(ctx, EINVAL, "pool: more than %u buffers",
				   IREG_POOL_MAX_BUFS);
	return 0;
}

/*
 * Lay out @p in @avail bytes (caller's memory, @hdr 0) or, with
 * @page_size, in as many pages as it needs plus a header of @hdr bytes.
 */
int __ireg_pool_layout(struct ireg_ctx *ctx,
		       const struct ireg_pool_params *p, size_t page_size,
		       size_t hdr, size_t avail,
		       struct pool_layout *lay)
{
	size_t align = p->buf_align ? p->buf_align : 64;
	size_t need, nr;

	memset(lay, 0, sizeof(*lay));
	if (!p->buf_size) {
		lay->kind = IREG_POOL_KIND_HEAP;
		need = p->mem_size;
	} else {
		lay->kind = IREG_POOL_KIND_BUFS;
		lay->buf_size = p->buf_size;
		lay->buf_stride = round_up(p->buf_size, align);
		if (p->nr_bufs) {
			if (lay->buf_stride > SIZE_MAX / p->nr_bufs)
				return __ireg_fail(ctx, EOVERFLOW,
						   "pool: %u buffers of %zu bytes overflow",
						   p->nr_bufs, lay->buf_stride);
			need = lay->buf_stride * p->nr_bufs;
			if (p->mem_size > need)
				need = p->mem_size;
		} else {
			need = p->mem_size;
		}
	}
	if (page_size) {
		if (need > SIZE_MAX - hdr - page_size)
			return __ireg_fail(ctx, EOVERFLOW, "pool: size too large");
		lay->size = round_up(need + hdr, page_size);
		avail = lay->size - hdr;
	} else {
		if (need > avail)
			return __ireg_fail(ctx, EINVAL,
					   "pool: %zu bytes needed, %zu given",
					   need, avail);
		lay->size = avail;
	}
	if (lay->kind == IREG_POOL_KIND_HEAP) {
		lay->data_size = avail & ~(HEAP_UNIT - 1);
		if (!lay->data_size)
			return __ireg_fail(ctx, EINVAL,
					   "pool: a heap needs at least %lu bytes",
					   HEAP_UNIT);
		return 0;
	}
	nr = p->nr_bufs ? p->nr_bufs : avail / lay->buf_stride;
	if (!nr)
		return __ireg_fail(ctx, EINVAL,
				   "pool: %zu bytes hold no %zu-byte buffer",
				   avail, lay->buf_stride);
	if (nr > IREG_POOL_MAX_BUFS)
		nr = IREG_POOL_MAX_BUFS;
	lay->nr_bufs = nr;
	lay->data_size = nr * lay->buf_stride;
	return 0;
}

/* Buffer geometry, for pools that allocate and for attached views. */
void __ireg_pool_set_geometry(struct ireg_pool *pool,
			      const struct pool_layout *lay)
{
	pool->kind = lay->kind;
	pool->data_size = lay->data_size;
	pool->priv->buf_size = lay->buf_size;
	if (lay->kind != IREG_POOL_KIND_BUFS)
		return;
	pool->buf_stride = lay->buf_stride;
	pool->nr_bufs = lay->nr_bufs;
	pool->buf_tz = __builtin_ctzll(lay->buf_stride);
	pool->buf_inv = inverse_odd(lay->buf_stride >> pool->buf_tz);
}

/* Allocator state over [pool->base, pool->base + data_size): private memory. */
int __ireg_pool_init_allocator(struct ireg_pool *pool, size_t buf_align)
{
	uintptr_t base = (uintptr_t)pool->base;
	uint32_t i;

	if (pool->kind == IREG_POOL_KIND_HEAP)
		return __ireg_heap_init(&pool->priv->heap, base,
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
