/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The register-once cache: hand it any buffer, get its IOVA.
 *
 * The first ireg_cache_reg() of a range registers it with the kernel
 * (pinned, accounted, mapped); later calls for the same range, or any
 * range inside a cached registration, are hits: no system call, a check
 * of the registration's validity against the kernel's status area (one
 * load), a reference taken.  When the memory behind a registration is
 * unmapped or replaced, the kernel moves its generation on: the next
 * lookup sees it, drops the entry and registers the new memory.
 *
 * Unused registrations stay cached (registered and mapped) until the
 * count or byte limit pushes them out, oldest first (CLOCK), or until
 * ireg_cache_flush().
 *
 * Thread safety: ireg_cache_reg(), ireg_cache_unreg(), ireg_mr_iova(),
 * ireg_cache_flush(), ireg_cache_process_events() and ireg_cache_stats()
 * may be called from any number of threads at once.  A hit writes only
 * the calling thread's own reader (one of 128 per cache, each on its own
 * cache line) and the entry's reference count; threads beyond 128 read
 * under a shared rwlock.
 * ireg_cache_create() and ireg_cache_destroy() must not race with anything
 * else on the same cache.  The context must not be used by another thread
 * while a miss registers (the cache serialises its own misses).
 */
#ifndef LIBIOMMUREG_CACHE_H
#define LIBIOMMUREG_CACHE_H

/* struct ireg_region; a no-op inside <iommureg.h>. */
#include "../iommureg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_ctx;
struct ireg_cache;

/**
 * struct ireg_mr - a cached registration
 * @region: the kernel registration; read-only for the caller
 *
 * Returned by ireg_cache_reg() with a reference; give it back with
 * ireg_cache_unreg().  The rest of the struct is private.
 */
struct ireg_mr {
	struct ireg_region region;
};

/**
 * struct ireg_cache_attr - cache limits and registration parameters
 * @max_entries: unused registrations kept (0: 4096)
 * @max_bytes: bytes of unused registrations kept (0: 1 GiB)
 * @prot: IOMMU_REG_PROT_* of every registration (0: read and write)
 */
struct ireg_cache_attr {
	size_t max_entries;
	size_t max_bytes;
	uint32_t prot;
};

/**
 * struct ireg_cache_stats - counters since the cache was created
 * @hits: lookups served without a system call
 * @misses: lookups that registered memory
 * @stale: cached registrations found invalidated by the kernel
 * @evictions: unused registrations dropped for the limits or a flush
 * @entries: registrations cached now (used or not)
 * @bytes: bytes they cover
 */
struct ireg_cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t stale;
	uint64_t evictions;
	uint64_t entries;
	uint64_t bytes;
};

int ireg_cache_create(struct ireg_ctx *ctx, const struct ireg_cache_attr *attr,
		      struct ireg_cache **cachep);
void ireg_cache_destroy(struct ireg_cache *cache);
int ireg_cache_reg(struct ireg_cache *cache, const void *ptr, size_t len,
		   struct ireg_mr **mrp);
void ireg_cache_unreg(struct ireg_cache *cache, struct ireg_mr *mr);
int ireg_cache_flush(struct ireg_cache *cache);
int ireg_cache_process_events(struct ireg_cache *cache);
void ireg_cache_stats(struct ireg_cache *cache, struct ireg_cache_stats *stats);

/* IOVA of @ptr inside a registration from ireg_cache_reg().  One add. */
static inline uint64_t ireg_mr_iova(const struct ireg_mr *mr, const void *ptr)
{
	return ireg_region_iova(&mr->region, ptr);
}

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_CACHE_H */
