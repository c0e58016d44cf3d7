// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The heap of a heap pool: a buddy allocator whose free sets are
 * hierarchical bitmaps.
 *
 * Vocabulary: a *unit* is the heap's smallest block, HEAP_UNIT (64)
 * bytes; a block of *order* k is 64 << k bytes and starts at a unit index
 * that is a multiple of 1 << k.  Offsets count from the pool's base; *end*
 * is exclusive.  The state is private memory (calloc), never the pool: what
 * a device or another process writes into pool memory cannot reach it.
 *
 * Locking: none here.  The pool serialises calls (its mutex for an
 * IREG_POOL_MT pool, the caller otherwise).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommureg.h"
#include "heap.h"

static int hbm_init(struct hbm *b, size_t nbits)
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
	} while (n > 1 && b->levels < HBM_MAX_LEVELS);
	return n > 1 ? -EINVAL : 0;
}

static void hbm_free(struct hbm *b)
{
	unsigned int l;

	for (l = 0; l < b->levels; l++)
		free(b->word[l]);
	b->levels = 0;
}

static bool hbm_test(const struct hbm *b, size_t i)
{
	return i < b->nbits && (b->word[0][i / 64] >> (i % 64) & 1);
}

static void hbm_set(struct hbm *b, size_t i)
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

static void hbm_clear(struct hbm *b, size_t i)
{
	unsigned int l;

	for (l = 0; l < b->levels; l++, i /= 64) {
		b->word[l][i / 64] &= ~(1ULL << (i % 64));
		if (b->word[l][i / 64])
			break;
	}
}

/* Lowest set bit, or -1. */
static long hbm_first(const struct hbm *b)
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

void __ireg_heap_fini(struct heap *h)
{
	unsigned int k;

	for (k = 0; k <= HEAP_MAX_ORDER; k++)
		hbm_free(&h->free[k]);
	free(h->alloc_order);
	h->alloc_order = NULL;
}

int __ireg_heap_init(struct heap *h, uintptr_t base, size_t bytes)
{
	size_t u, units = bytes >> HEAP_UNIT_SHIFT;
	unsigned int k;
	int ret;

	memset(h, 0, sizeof(*h));
	if (!units)
		return -EINVAL;
	h->units = units;
	h->max_order = 63 - __builtin_clzll(units);
	if (h->max_order > HEAP_MAX_ORDER)
		h->max_order = HEAP_MAX_ORDER;
	/* Blocks are aligned relative to base; base's alignment caps theirs. */
	h->max_align = base ? base & -base : 1UL << 63;
	h->alloc_order = calloc(units, 1);
	if (!h->alloc_order)
		return -ENOMEM;
	for (k = 0; k <= h->max_order; k++) {
		ret = hbm_init(&h->free[k], units >> k);
		if (ret) {
			__ireg_heap_fini(h);
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
		hbm_set(&h->free[k], u >> k);
	}
	return 0;
}

/* Smallest order whose blocks hold @bytes. */
static unsigned int heap_order(size_t bytes)
{
	size_t units = (bytes + HEAP_UNIT - 1) >> HEAP_UNIT_SHIFT;

	return units <= 1 ? 0 : 64 - __builtin_clzll(units - 1);
}

/* Unit index of a new block, or -errno. */
long __ireg_heap_alloc(struct heap *h, size_t size, size_t align)
{
	unsigned int want, k;
	long i = -1;

	if (!size || (align & (align - 1)))
		return -EINVAL;
	if (align > h->max_align)
		return -EINVAL;
	if (size > h->units << HEAP_UNIT_SHIFT)
		return -ENOMEM;
	want = heap_order(size);
	if (align > HEAP_UNIT && heap_order(align) > want)
		want = heap_order(align);
	if (want > h->max_order)
		return -ENOMEM;

	for (k = want; k <= h->max_order; k++) {
		i = hbm_first(&h->free[k]);
		if (i >= 0)
			break;
	}
	if (i < 0)
		return -ENOMEM;
	hbm_clear(&h->free[k], i);
	while (k > want) {
		k--;
		i *= 2;
		hbm_set(&h->free[k], i + 1);
	}
	i <<= want;
	h->alloc_order[i] = want + 1;
	h->used_units += 1UL << want;
	h->nr_used++;
	return i;
}

/* Is unit @u inside a free block? */
static bool heap_unit_free(const struct heap *h, size_t u)
{
	unsigned int k;

	for (k = 0; k <= h->max_order; k++)
		if (hbm_test(&h->free[k], u >> k))
			return true;
	return false;
}

int __ireg_heap_free(struct heap *h, size_t off)
{
	size_t u = off >> HEAP_UNIT_SHIFT, i;
	unsigned int k;

	if (off & (HEAP_UNIT - 1))
		return -EINVAL;
	if (!h->alloc_order[u])
		return heap_unit_free(h, u) ? -EALREADY : -EINVAL;
	k = h->alloc_order[u] - 1;
	h->alloc_order[u] = 0;
	h->used_units -= 1UL << k;
	h->nr_used--;
	for (i = u >> k; k < h->max_order; i /= 2, k++) {
		if (!hbm_test(&h->free[k], i ^ 1))
			break;
		hbm_clear(&h->free[k], i ^ 1);
	}
	hbm_set(&h->free[k], i);
	return 0;
}

/* Summary levels agree with the leaves; no bit beyond nbits. */
static bool hbm_consistent(const struct hbm *b, size_t *popcount)
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
int __ireg_heap_check(const struct heap *h,
		      struct ireg_pool_stats *st)
{
	size_t u = 0, v, bits = 0, n, free_blocks = 0, used = 0, nr_used = 0;
	unsigned int k, found;

	memset(st, 0, sizeof(*st));
	for (k = 0; k <= h->max_order; k++) {
		if (!hbm_consistent(&h->free[k], &n))
			return -EUCLEAN;
		bits += n;
		if (n)
			st->largest_free = HEAP_UNIT << k;
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
				if (hbm_test(&h->free[v], u >> v)) {
					k = v;
					found++;
				}
			}
			if (found != 1 || u + (1UL << k) > h->units)
				return -EUCLEAN;
			if (k < h->max_order &&
			    hbm_test(&h->free[k], (u >> k) ^ 1))
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
	st->used_bytes = used << HEAP_UNIT_SHIFT;
	st->free_bytes = (h->units - used) << HEAP_UNIT_SHIFT;
	st->nr_free = free_blocks;
	st->nr_used = nr_used;
	return 0;
}
