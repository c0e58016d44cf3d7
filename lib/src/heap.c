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

/* Free-set changes that keep @nonempty true. */
static void free_set(struct heap *h, unsigned int k, size_t i)
{
	hbm_set(&h->free[k], i);
	h->nonempty |= 1ULL << k;
}

static void free_clear(struct heap *h, unsigned int k, size_t i)
{
	struct hbm *b = &h->free[k];

	hbm_clear(b, i);
	if (!b->word[b->levels - 1][0])
		h->nonempty &= ~(1ULL << k);
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
		free_set(h, k, u >> k);
	}
	return 0;
}

/* Smallest order whose blocks hold @bytes. */
static unsigned int heap_order(size_t bytes)
{
	size_t units = (bytes + HEAP_UNIT - 1) >> HEAP_UNIT_SHIFT;

	return units <= 1 ? 0 : 64 - __builtin_clzll(units - 1);
}

static void heap_merge_free(struct heap *h, size_t u, unsigned int k);

/* Merge every block on the quick lists back into the buddy system. */
bool __ireg_heap_drain(struct heap *h)
{
	bool any = false;
	unsigned int k;
	size_t u;

	for (k = 0; k < HEAP_QUICK_ORDERS; k++) {
		while (h->nr_quick[k]) {
			u = h->quick[k][--h->nr_quick[k]];
			h->alloc_order[u] = 0;
			heap_merge_free(h, u, k);
			any = true;
		}
	}
	return any;
}

/* Unit index of a new block, or -errno. */
long __ireg_heap_alloc(struct heap *h, size_t size, size_t align)
{
	unsigned int want, k;
	uint64_t fit;
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

	if (want < HEAP_QUICK_ORDERS && h->nr_quick[want]) {
		i = h->quick[want][--h->nr_quick[want]];
		goto found;
	}
	fit = h->nonempty >> want << want;
	if (!fit) {
		if (!__ireg_heap_drain(h))
			return -ENOMEM;
		fit = h->nonempty >> want << want;
		if (!fit)
			return -ENOMEM;
	}
	k = __builtin_ctzll(fit);
	i = hbm_first(&h->free[k]);
	free_clear(h, k, i);
	while (k > want) {
		k--;
		i *= 2;
		free_set(h, k, i + 1);
	}
	i <<= want;
found:
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
	for (k = 0; k < HEAP_QUICK_ORDERS; k++)
		if (h->alloc_order[u & ~((1UL << k) - 1)] ==
		    (HEAP_QUICK_FLAG | (k + 1)))
			return true;
	return false;
}

/* Give the block of order @k at unit @u to the buddy system, merged. */
static void heap_merge_free(struct heap *h, size_t u, unsigned int k)
{
	size_t i;

	for (i = u >> k; k < h->max_order; i /= 2, k++) {
		if (!hbm_test(&h->free[k], i ^ 1))
			break;
		free_clear(h, k, i ^ 1);
	}
	free_set(h, k, i);
}

int __ireg_heap_free(struct heap *h, size_t off)
{
	size_t u = off >> HEAP_UNIT_SHIFT;
	unsigned int k;

	if (off & (HEAP_UNIT - 1))
		return -EINVAL;
	if (u >= h->units)
		return -EINVAL;
	if (h->alloc_order[u] & HEAP_QUICK_FLAG)
		return -EALREADY;
	if (!h->alloc_order[u])
		return heap_unit_free(h, u) ? -EALREADY : -EINVAL;
	k = h->alloc_order[u] - 1;
	h->used_units -= 1UL << k;
	h->nr_used--;
	if (k < HEAP_QUICK_ORDERS && h->nr_quick[k] < HEAP_QUICK_LEN) {
		h->alloc_order[u] = HEAP_QUICK_FLAG | (k + 1);
		h->quick[k][h->nr_quick[k]++] = u;
		return 0;
	}
	h->alloc_order[u] = 0;
	heap_merge_free(h, u, k);
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
 * allocated, free or on a quick list; no two free buddies in the bitmaps
 * (they would have merged); the quick lists hold exactly the blocks
 * marked so, each once.
 */
int __ireg_heap_check(const struct heap *h,
		      struct ireg_pool_stats *st)
{
	size_t u = 0, v, bits = 0, n, free_blocks = 0, used = 0, nr_used = 0;
	size_t nr_quick = 0, listed = 0;
	unsigned int k, found, j;
	uint8_t ao;

	memset(st, 0, sizeof(*st));
	for (k = 0; k <= h->max_order; k++) {
		if (!hbm_consistent(&h->free[k], &n))
			return -EUCLEAN;
		bits += n;
		if (n)
			st->largest_free = HEAP_UNIT << k;
	}
	for (k = 0; k < HEAP_QUICK_ORDERS; k++) {
		if (h->nr_quick[k] > HEAP_QUICK_LEN)
			return -EUCLEAN;
		for (j = 0; j < h->nr_quick[k]; j++) {
			v = h->quick[k][j];
			if (v >= h->units ||
			    h->alloc_order[v] != (HEAP_QUICK_FLAG | (k + 1)))
				return -EUCLEAN;
			if (HEAP_UNIT << k > st->largest_free)
				st->largest_free = HEAP_UNIT << k;
		}
		listed += h->nr_quick[k];
	}
	while (u < h->units) {
		if (h->alloc_order[u]) {
			ao = h->alloc_order[u];
			k = (ao & ~HEAP_QUICK_FLAG) - 1;
			if (k > h->max_order || u & ((1UL << k) - 1) ||
			    u + (1UL << k) > h->units ||
			    (ao & HEAP_QUICK_FLAG && k >= HEAP_QUICK_ORDERS))
				return -EUCLEAN;
			for (v = u + 1; v < u + (1UL << k); v++)
				if (h->alloc_order[v])
					return -EUCLEAN;
			if (ao & HEAP_QUICK_FLAG) {
				nr_quick++;
			} else {
				used += 1UL << k;
				nr_used++;
			}
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
	    nr_used != h->nr_used || nr_quick != listed)
		return -EUCLEAN;
	st->used_bytes = used << HEAP_UNIT_SHIFT;
	st->free_bytes = (h->units - used) << HEAP_UNIT_SHIFT;
	st->nr_free = free_blocks + nr_quick;
	st->nr_used = nr_used;
	st->nr_cached = nr_quick;
	return 0;
}
