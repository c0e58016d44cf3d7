/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The translation map: pointer -> IOVA for any registered memory.
 * Included by <iommureg/pool.h> and <iommureg.h>; stands alone too.
 *
 * Thread safety: ireg_map_translate(), ireg_map_translate_len() and
 * ireg_map_translate_contig(): any
 * thread, any time, lock-free, also while the map is updated.
 * ireg_map_set() and ireg_map_clear() may be called from any thread (a
 * mutex serialises them).  ireg_map_destroy() must not race with anything
 * on the map.
 */
#ifndef LIBIOMMUREG_MAP_H
#define LIBIOMMUREG_MAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_map_priv;

/* What a translation returns when there is no IOVA for the address. */
#ifndef IREG_IOVA_INVALID
#define IREG_IOVA_INVALID	(~0ULL)
#endif

/*
 * Pointer -> IOVA for any registered memory, at 2 MiB granularity.  A
 * two-level table indexed by the virtual address, as in SPDK's mem map:
 * the top level (in struct ireg_map itself, so it costs no load to find)
 * by bits 47..30, a second-level array of 512 entries by bits 29..21.  An
 * entry holds IOVA - virtual address of the registration that covers
 * that 2 MiB chunk entirely, so a translation is two dependent loads and
 * an add.  Chunks covered only in part are not in the map: a
 * lookup there is a miss (IREG_IOVA_INVALID), to be resolved by the
 * registration cache or the owner of the memory.
 *
 * 48-bit virtual addresses only.  With 5-level paging (LA57) Linux hands
 * out addresses above 2^47 only to an mmap() hint that asks for them;
 * covering those would cost a third level (one more dependent load per
 * translation) or a 1 GiB top level, so the map refuses them instead:
 * ireg_map_set() and ireg_map_clear() return -ERANGE for a range that
 * reaches above 2^48, translations there miss, and a pool there cannot
 * enter a map.
 *
 * Second-level arrays are allocated on first use and kept until
 * ireg_map_destroy(), so a reader never follows a freed pointer; entries
 * are written with release stores and read with acquire loads.
 */
#define IREG_MAP_CHUNK_SHIFT	21
#define IREG_MAP_CHUNK_SIZE	(1ULL << IREG_MAP_CHUNK_SHIFT)
#define IREG_MAP_L2_BITS	9
#define IREG_MAP_L1_SHIFT	(IREG_MAP_CHUNK_SHIFT + IREG_MAP_L2_BITS)
#define IREG_MAP_L1_BITS	18
#define IREG_MAP_VA_BITS	(IREG_MAP_L1_SHIFT + IREG_MAP_L1_BITS)

/**
 * struct ireg_map - a translation map; read-only for the caller
 * @priv: private state (the update mutex)
 * @l1: second-level arrays by virtual address bits 47..30, NULL where no
 *	chunk was ever set
 */
struct ireg_map {
	struct ireg_map_priv *priv;
	uint64_t *l1[1U << IREG_MAP_L1_BITS];
};

int ireg_map_create(struct ireg_map **mapp);
void ireg_map_destroy(struct ireg_map *map);
int ireg_map_set(struct ireg_map *map, const void *addr, size_t size,
		 uint64_t iova);
int ireg_map_clear(struct ireg_map *map, const void *addr, size_t size);

/*
 * IOVA of @ptr, or IREG_IOVA_INVALID when its 2 MiB chunk is not in the
 * map (or @ptr lies above 2^48: a 57-bit address of 5-level paging, which
 * ireg_map_set() refuses with -ERANGE).  Two dependent loads and an add.
 */
static inline uint64_t ireg_map_translate(const struct ireg_map *map,
					  const void *ptr)
{
	uint64_t va = (uintptr_t)ptr;
	const uint64_t *l2;
	uint64_t delta;

	if (va >> IREG_MAP_VA_BITS)
		return IREG_IOVA_INVALID;
	l2 = __atomic_load_n(&map->l1[va >> IREG_MAP_L1_SHIFT],
			     __ATOMIC_ACQUIRE);
	if (!l2)
		return IREG_IOVA_INVALID;
	delta = __atomic_load_n(&l2[(va >> IREG_MAP_CHUNK_SHIFT) &
				    ((1U << IREG_MAP_L2_BITS) - 1)],
				__ATOMIC_ACQUIRE);
	if (delta == IREG_IOVA_INVALID)
		return IREG_IOVA_INVALID;
	return va + delta;
}

/*
 * IOVA of the @len bytes at @ptr, or IREG_IOVA_INVALID unless every 2 MiB
 * chunk they touch is in the map with the same IOVA - virtual address
 * delta, i.e. the bytes are contiguous in IOVA space.  @len 0 is a miss.
 * Two loads per chunk touched; a buffer inside one chunk costs two
 * lookups at most.
 */
static inline uint64_t ireg_map_translate_len(const struct ireg_map *map,
					      const void *ptr, size_t len)
{
	uint64_t va = (uintptr_t)ptr;
	uint64_t iova = ireg_map_translate(map, ptr);
	uint64_t last, chunk;

	if (iova == IREG_IOVA_INVALID || !len || va + len - 1 < va)
		return IREG_IOVA_INVALID;
	last = va + len - 1;
	for (chunk = (va | (IREG_MAP_CHUNK_SIZE - 1)) + 1;
	     chunk && chunk <= last; chunk += IREG_MAP_CHUNK_SIZE)
		if (ireg_map_translate(map, (const void *)(uintptr_t)chunk) !=
		    iova + (chunk - va))
			return IREG_IOVA_INVALID;
	return iova;
}

/*
 * IOVA of @ptr, as ireg_map_translate(), and in *@len how many bytes from
 * @ptr on, at most the *@len asked for, are contiguous in IOVA space: the
 * distance to the end of the run of chunks that are in the map with the
 * same IOVA - virtual address delta, capped at the request (SPDK's
 * spdk_mem_map_translate() size argument).  A miss returns
 * IREG_IOVA_INVALID and sets *@len to 0; *@len 0 asks for the IOVA only.
 * Two loads, then two per further chunk the request reaches into.
 */
static inline uint64_t ireg_map_translate_contig(const struct ireg_map *map,
						 const void *ptr, size_t *len)
{
	uint64_t va = (uintptr_t)ptr;
	uint64_t iova = ireg_map_translate(map, ptr);
	uint64_t have, chunk;

	if (iova == IREG_IOVA_INVALID) {
		*len = 0;
		return IREG_IOVA_INVALID;
	}
	chunk = (va | (IREG_MAP_CHUNK_SIZE - 1)) + 1;
	/* Above 2^48 every chunk misses, so this ends before chunk wraps. */
	for (have = chunk - va; have < *len; have += IREG_MAP_CHUNK_SIZE,
	     chunk += IREG_MAP_CHUNK_SIZE)
		if (ireg_map_translate(map, (const void *)(uintptr_t)chunk) !=
		    iova + (chunk - va))
			break;
	if (have < *len)
		*len = have;
	return iova;
}

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_MAP_H */
