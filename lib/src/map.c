// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The translation map: pointer -> IOVA at 2 MiB granularity, a two-level
 * table indexed by the virtual address (see <iommureg/map.h> for the
 * layout and the lock-free read side, which is inline there).
 *
 * Vocabulary: a *chunk* is 2 MiB of virtual address space, aligned; an
 * *entry* holds IOVA - virtual address for one chunk, or
 * IREG_IOVA_INVALID.  Ranges are [va, va + size): the end is exclusive.
 *
 * Writers (ireg_map_set(), ireg_map_clear()) are serialised by a mutex in
 * private memory; readers take nothing.  A second-level array, once
 * published with a release store, is never freed before
 * ireg_map_destroy(), so a reader never follows a freed pointer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommureg/map.h"
#include "internal.h"

#define SZ_4K			4096UL
#define MAP_L2_ENTRIES		(1U << IREG_MAP_L2_BITS)
#define MAP_L1_ENTRIES		(1U << IREG_MAP_L1_BITS)

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
		return __ireg_failf(errno, "map: mmap: %s", strerror(errno));
	map->priv = calloc(1, sizeof(*map->priv));
	if (!map->priv) {
		err = ENOMEM;
		goto err_unmap;
	}
	err = pthread_mutex_init(&map->priv->lock, NULL);
	if (err)
		goto err_free_priv;
	*mapp = map;
	return 0;

err_free_priv:
	free(map->priv);
err_unmap:
	munmap(map, sizeof(*map));
	return __ireg_failf(err, "map: %s", strerror(err));
}

void ireg_map_destroy(struct ireg_map *map)
{
	unsigned int i;

	if (!map)
		return;
	for (i = 0; i < MAP_L1_ENTRIES; i++)
		free(map->l1[i]);
	pthread_mutex_destroy(&map->priv->lock);
	free(map->priv);
	munmap(map, sizeof(*map));
}

static int map_check_range(const void *addr, size_t size)
{
	uint64_t va = (uintptr_t)addr;

	if (!size || ((va | size) & (IREG_MAP_CHUNK_SIZE - 1)))
		return __ireg_failf(EINVAL,
				    "map: %p+%zu: empty or not in 2 MiB chunks",
				    addr, size);
	if (va + size < va)
		return __ireg_failf(EOVERFLOW, "map: %p+%zu wraps around",
				    addr, size);
	if (va + size > 1ULL << IREG_MAP_VA_BITS)
		return __ireg_failf(ERANGE,
				    "map: %p+%zu beyond the %d-bit address space",
				    addr, size, IREG_MAP_VA_BITS);
	return 0;
}

/*
 * Store @val into every entry of [va, va + size).  With @alloc, missing
 * second-level arrays are allocated first, all of them before any entry
 * is written, so that -ENOMEM leaves every translation as it was.
 */
static int map_fill(struct ireg_map *map, uint64_t va, uint64_t size,
		    uint64_t val, bool alloc)
{
	uint64_t end = va + size, chunk;
	uint64_t first = va >> IREG_MAP_L1_SHIFT;
	uint64_t last = (end - 1) >> IREG_MAP_L1_SHIFT;
	uint64_t i, *l2;

	for (i = first; alloc && i <= last; i++) {
		if (map->l1[i])
			continue;
		l2 = aligned_alloc(SZ_4K, MAP_L2_ENTRIES * sizeof(*l2));
		if (!l2)
			return __ireg_failf(ENOMEM, "map: out of memory");
		memset(l2, 0xff, MAP_L2_ENTRIES * sizeof(*l2));
		/* Readers see the initialised array or NULL. */
		__atomic_store_n(&map->l1[i], l2, __ATOMIC_RELEASE);
	}
	for (chunk = va; chunk < end; chunk += IREG_MAP_CHUNK_SIZE) {
		l2 = map->l1[chunk >> IREG_MAP_L1_SHIFT];
		if (!l2)
			continue;
		__atomic_store_n(&l2[(chunk >> IREG_MAP_CHUNK_SHIFT) &
				     (MAP_L2_ENTRIES - 1)],
				 val, __ATOMIC_RELEASE);
	}
	return 0;
}

int ireg_map_set(struct ireg_map *map, const void *addr, size_t size,
		 uint64_t iova)
{
	uint64_t va = (uintptr_t)addr;
	int ret;

	ret = map_check_range(addr, size);
	if (ret)
		return ret;
	/* Page-aligned IOVAs keep every delta distinct from the miss value. */
	if (iova & (SZ_4K - 1))
		return __ireg_failf(EINVAL, "map: IOVA 0x%llx not page aligned",
				    (unsigned long long)iova);
	if (iova + size - 1 < iova)
		return __ireg_failf(EOVERFLOW, "map: IOVA 0x%llx+%zu wraps around",
				    (unsigned long long)iova, size);
	pthread_mutex_lock(&map->priv->lock);
	ret = map_fill(map, va, size, iova - va, true);
	pthread_mutex_unlock(&map->priv->lock);
	return ret;
}

int ireg_map_clear(struct ireg_map *map, const void *addr, size_t size)
{
	int ret;

	ret = map_check_range(addr, size);
	if (ret)
		return ret;
	pthread_mutex_lock(&map->priv->lock);
	ret = map_fill(map, (uintptr_t)addr, size, IREG_IOVA_INVALID, false);
	pthread_mutex_unlock(&map->priv->lock);
	return ret;
}
