/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* The buddy heap of a heap pool (src/heap.c): state and entry points. */
#ifndef LIBIOMMUREG_HEAP_H
#define LIBIOMMUREG_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_UNIT_SHIFT		6
#define HEAP_UNIT		(1UL << HEAP_UNIT_SHIFT)
#define HEAP_MAX_ORDER		40
#define HBM_MAX_LEVELS		8
/* Quick lists: freed blocks of orders up to this, unmerged, per order. */
#define HEAP_QUICK_ORDERS	11		/* 64 B .. 64 KiB */
#define HEAP_QUICK_LEN		32		/* blocks per order */
/* alloc_order[u] of a block on a quick list: free, not merged. */
#define HEAP_QUICK_FLAG		0x80

struct ireg_pool_stats;

/*
 * A bitmap with summary levels: bit j of level l + 1 is set iff word j of
 * level l is not zero, and the top level is a single word.  Set, clear and
 * find-first cost one word per level.
 */
struct hbm {
	size_t nbits;
	unsigned int levels;
	uint64_t *word[HBM_MAX_LEVELS];
	size_t nwords[HBM_MAX_LEVELS];
};

/*
 * @free[k] holds bit i when the block of order k at unit i << k is free.
 * @nonempty has bit k when @free[k] has any bit: an allocation finds the
 * smallest order with a free block in one instruction, no search.
 * @alloc_order[u] is k + 1 when an allocated block of order k starts at
 * unit u, HEAP_QUICK_FLAG | (k + 1) when a free one sits on @quick[k],
 * 0 otherwise.  Blocks never reach past @units: buddies beyond it are
 * never free, so they never merge.
 *
 * @quick[k] (k < HEAP_QUICK_ORDERS) holds up to HEAP_QUICK_LEN freed
 * blocks of order k, by unit, not merged with their buddies: the next
 * request of that order takes one back in O(1), with no split and no
 * merge (a small-block free list in front of the buddy system, as
 * allocators' size-class caches).  A full list sends the block down to
 * the buddy system; a request the buddy system cannot meet first
 * merges every quick block back (no memory is ever lost to the lists).
 */
struct heap {
	size_t units;
	unsigned int max_order;
	size_t max_align;
	uint64_t nonempty;
	struct hbm free[HEAP_MAX_ORDER + 1];
	uint8_t *alloc_order;
	size_t used_units;
	size_t nr_used;
	uint32_t nr_quick[HEAP_QUICK_ORDERS];
	size_t quick[HEAP_QUICK_ORDERS][HEAP_QUICK_LEN];
};

int __ireg_heap_init(struct heap *h, uintptr_t base, size_t bytes);
void __ireg_heap_fini(struct heap *h);
/* Unit index of a new block, or -errno. */
long __ireg_heap_alloc(struct heap *h, size_t size, size_t align);
int __ireg_heap_free(struct heap *h, size_t off);
/* Merge the quick lists' blocks back; false if they were empty. */
bool __ireg_heap_drain(struct heap *h);
/* A full walk: -EUCLEAN when the state is inconsistent. */
int __ireg_heap_check(const struct heap *h, struct ireg_pool_stats *st);

#endif /* LIBIOMMUREG_HEAP_H */
