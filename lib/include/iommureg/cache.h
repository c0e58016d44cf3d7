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
 * ireg_cache_flush().  The limits count every cached registration, in use
 * or not; one in use is never pushed out.  An invalidated registration is
 * never returned again; it is unregistered by the next miss,
 * ireg_cache_flush() or ireg_cache_process_events() once unused.
 *
 * Overlapping requests are pinned once: a miss registers the union of the
 * (page-aligned) request and every cached registration it overlaps; once
 * the union is registered those leave the cache and are unregistered when
 * unused, or at their last ireg_cache_unreg().  A union that cannot be
 * registered (RLIMIT_MEMLOCK even after the unused parts went) leaves the
 * parts cached and registers the request alone.  Registrations that only
 * touch are not merged.
 *
 * Each registration can carry a user area (a provider's key or
 * descriptor): ireg_mr_user().
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

/* The largest user area a cache entry carries (ireg_cache_attr.user_size). */
#define IREG_CACHE_USER_MAX	256

/**
 * struct ireg_mr - a cached registration
 * @region: the kernel registration; read-only for the caller
 * @user: its user area (ireg_mr_user()); NULL without one
 *
 * Returned by ireg_cache_reg() with a reference; give it back with
 * ireg_cache_unreg().  The rest of the struct is private.
 */
struct ireg_mr {
	struct ireg_region region;
	void *user;
};

/**
 * struct ireg_cache_attr - cache limits and registration parameters
 * @size: sizeof(struct ireg_cache_attr), set by the caller
 * @max_entries: registrations cached, in use or not (0: 4096); only
 *	unused ones are dropped to keep to it
 * @max_bytes: bytes of registrations cached, in use or not (0: 1 GiB)
 * @prot: IOMMU_REG_PROT_* of every registration (0: read and write)
 * @max_merge_bytes: a union of overlapping registrations larger than this
 *	is not formed, the request is registered alone (0: no limit)
 * @user_size: bytes of user area per registration, at most
 *	IREG_CACHE_USER_MAX, rounded up to 64 (0: none)
 * @init: called once a registration is made, before any lookup returns it
 *	(its user area zeroed); a negative errno fails the ireg_cache_reg()
 *	with it (a value that is no errno: -EIO)
 * @fini: called before a registration is unregistered (not after a
 *	failed @init)
 * @cb_arg: passed to @init and @fini
 *
 * @init and @fini run with the cache's miss lock held: they must not call
 * the cache's functions.
 */
struct ireg_cache_attr {
	size_t size;
	size_t max_entries;
	size_t max_bytes;
	uint32_t prot;
	size_t max_merge_bytes;
	size_t user_size;
	int (*init)(struct ireg_mr *mr, void *arg);
	void (*fini)(struct ireg_mr *mr, void *arg);
	void *cb_arg;
};

/**
 * struct ireg_cache_stats - counters since the cache was created
 * @size: sizeof(struct ireg_cache_stats), set by the caller
 * @hits: lookups served without a system call
 * @misses: lookups that registered memory
 * @stale: cached registrations found invalidated by the kernel
 * @evictions: unused registrations dropped for the limits or a flush
 * @entries: registrations cached now (used or not)
 * @bytes: bytes they cover
 * @merged: registrations merged into a larger one by a miss
 */
struct ireg_cache_stats {
	size_t size;
	uint64_t hits;
	uint64_t misses;
	uint64_t stale;
	uint64_t evictions;
	uint64_t entries;
	uint64_t bytes;
	uint64_t merged;
};

int ireg_cache_create(struct ireg_ctx *ctx, const struct ireg_cache_attr *attr,
		      struct ireg_cache **cachep);
void ireg_cache_destroy(struct ireg_cache *cache);
int ireg_cache_reg(struct ireg_cache *cache, const void *ptr, size_t len,
		   struct ireg_mr **mrp);
void ireg_cache_unreg(struct ireg_cache *cache, struct ireg_mr *mr);
int ireg_cache_flush(struct ireg_cache *cache);
int ireg_cache_process_events(struct ireg_cache *cache);
int ireg_cache_stats(struct ireg_cache *cache, struct ireg_cache_stats *stats);

/* IOVA of @ptr inside a registration from ireg_cache_reg().  One add. */
static inline uint64_t ireg_mr_iova(const struct ireg_mr *mr, const void *ptr)
{
	return ireg_region_iova(&mr->region, ptr);
}

/*
 * The registration's user area (ireg_cache_attr.user_size bytes, 64-byte
 * aligned), kept across hits; NULL when the cache has none.
 */
static inline void *ireg_mr_user(const struct ireg_mr *mr)
{
	return mr->user;
}

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_CACHE_H */
