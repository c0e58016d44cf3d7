// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The register-once cache.
 *
 * Entries are found through a hash of chunks: an entry is linked into the
 * bucket of every chunk it overlaps.  Entries up to 64 KiB are indexed by
 * 4 KiB chunks, entries under 2 MiB by 64 KiB chunks, larger ones by 2 MiB
 * chunks: an entry under 2 MiB has at most 32 links (a larger one has a
 * link per 2 MiB it spans), and many small buffers in one block do not
 * make a long chain.  A lookup scans the bucket of its start
 * address at each granularity (a probe of an empty bucket is one load).
 *
 * The buckets are read under a "big reader" lock.  Each thread has a
 * *reader* of its own (a struct cache_reader, found by an index handed
 * out per thread; CACHE_NR_READERS = 128 of them), on its own cache line;
 * a thread announces itself in its reader and checks that no writer is
 * active, so a hit writes no cache line another thread's hit writes (the
 * entry's reference count aside, when two threads hit the same buffer).
 * Writers (misses linking an entry, eviction and sweeping unlinking one)
 * are rare and serialised by miss_lock: a writer raises the writer flag
 * and waits for every announced reader to leave.  Threads beyond the 128
 * readers read under a plain rwlock, which writers take too.
 *
 * (A *slot* is something else: the status area's generation slot a
 * registration's validity is read from, or a ring's descriptor slot.)
 *
 * The ordering argument: a reader stores its active flag, then (full
 * barrier) loads the writer flag; a writer stores the flag, then (full
 * barrier) loads every reader's.  Store-buffer ordering (Dekker)
 * guarantees at least one of them sees the other's store: the reader
 * backs off or the writer waits for it.
 *
 * References: a linked entry holds one reference of its own (the cache's)
 * plus one per ireg_cache_reg() not yet given back.  An entry is unlinked
 * under the write lock (so no hit can be taking a reference at the same
 * time) and then loses the cache's reference; whoever drops the last
 * reference unregisters and frees it.  So an unused entry (references ==
 * 1) can be evicted, and a stale one still in use is unlinked at once and
 * freed when its last user lets go.
 *
 * Misses, eviction and sweeping are serialised by miss_lock, which also
 * guards the list of all entries (the CLOCK ring) and the totals.  Lock
 * order: miss_lock, then the write lock.
 *
 * Merging (as UCX's rcache): the kernel pins and charges each region on
 * its own, so two overlapping registrations would pin the shared pages
 * twice and charge RLIMIT_MEMLOCK twice.  A miss therefore registers the
 * union of the (page-aligned) request and every valid linked entry it
 * overlaps, grown until it overlaps no other; once the union is
 * registered those entries are unlinked (an unused one is unregistered at
 * once; one in use stays registered until its last ireg_cache_unreg()).
 * When the union fails with -ENOMEM (RLIMIT_MEMLOCK charges the union
 * and its parts each) the unused parts are unregistered and the union
 * tried again, so it fits under the limit the parts fitted under.  If the
 * union still cannot be registered, the request is registered alone and
 * the parts stay cached (those the second try unregistered registered
 * again): a union that never fits does not cost every later lookup of a
 * part a miss (cache_miss()).  Entries that only touch are left alone:
 * they share no page.  Linked entries never overlap, unless a union would
 * pass max_merge_bytes or failed: then the request is registered alone.
 * Hits never change.
 *
 * Every entry alive, linked or held after it was unlinked, is on the list
 * cache->all (under miss_lock): ireg_cache_destroy() unregisters them all.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommureg.h"
#include "internal.h"

#define CACHE_PAGE_SHIFT	12	/* chunks of entries up to 64 KiB */
#define CACHE_SMALL_SHIFT	16	/* chunks of entries under 2 MiB */
#define CACHE_LARGE_SHIFT	21	/* chunks of the others */
#define CACHE_NR_SHIFTS		3
#define CACHE_BUCKET_BITS	12
#define CACHE_NR_BUCKETS	(1U << CACHE_BUCKET_BITS)
#define CACHE_NR_READERS	128U
#define CACHE_PAGE_SIZE		4096UL
#define CACHE_USER_ALIGN	64UL

struct cache_entry;

struct bucket_link {
	struct bucket_link *next;
	struct cache_entry *entry;
};

/*
 * What a hit writes (the reference count) shares no 128-byte block with
 * what other threads' lookups read (the region and the bucket links): a
 * line written by one core and read by another bounces between them, and
 * adjacent-line prefetchers work on pairs of 64-byte lines.
 */
struct cache_entry {
	struct ireg_mr mr;		/* what the caller sees; first */
	struct cache_entry *prev;	/* ring of all linked entries */
	struct cache_entry *next;
	size_t nr_links;
	bool linked;			/* under miss_lock */
	bool merging;			/* on a merge list, under miss_lock */
	struct cache_entry *merge_next;
	/* Every entry alive, linked or not (ireg_cache_destroy()). */
	struct cache_entry *all_prev;
	struct cache_entry *all_next;
	/* Written by hits. */
	uint32_t refs __attribute__((aligned(128)));	/* atomic */
	uint8_t referenced;		/* CLOCK bit, set by hits (relaxed) */
	/* Read by every lookup that scans the bucket. */
	struct bucket_link links[] __attribute__((aligned(128)));
};

/* A reader: written by its thread (and read by writers) only. */
struct cache_reader {
	uint32_t active;
	uint64_t hits;
} __attribute__((aligned(128)));

/*
 * Reader indexes are handed out per thread, process wide, and recycled
 * when a thread exits; every cache has an array of readers they index.
 */
static pthread_mutex_t reader_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t reader_used[CACHE_NR_READERS];
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static bool reader_key_made;
static __thread int my_reader_idx = -1;

/*
 * At thread exit (the key's destructor): the reader goes back, and the
 * thread, should a later destructor of another key still use a cache,
 * reads under the overflow rwlock from then on: a new thread may already
 * have the index.
 */
static void reader_release(void *arg)
{
	pthread_mutex_lock(&reader_lock);
	reader_used[(uintptr_t)arg - 1] = 0;
	pthread_mutex_unlock(&reader_lock);
	my_reader_idx = CACHE_NR_READERS;
}

static void reader_key_init(void)
{
	reader_key_made = !pthread_key_create(&reader_key, reader_release);
}

/*
 * When the library is unloaded (dlclose() of a provider that linked it):
 * a thread exiting later must not run reader_release(), which is gone
 * with the library (so are the readers it would give back).
 */
static void __attribute__((destructor)) reader_key_fini(void)
{
	if (reader_key_made)
		pthread_key_delete(reader_key);
	reader_key_made = false;
}

/* This thread's reader index, or CACHE_NR_READERS when all are taken. */
static int my_reader(void)
{
	unsigned int i;

	if (my_reader_idx >= 0)
		return my_reader_idx;
	pthread_once(&reader_once, reader_key_init);
	if (!reader_key_made) {		/* no key: a reader would never go back */
		my_reader_idx = CACHE_NR_READERS;
		return my_reader_idx;
	}
	pthread_mutex_lock(&reader_lock);
	for (i = 0; i < CACHE_NR_READERS && reader_used[i]; i++)
		;
	if (i < CACHE_NR_READERS)
		reader_used[i] = 1;
	pthread_mutex_unlock(&reader_lock);
	if (i < CACHE_NR_READERS)
		pthread_setspecific(reader_key, (void *)(uintptr_t)(i + 1));
	my_reader_idx = i;
	return i;
}

/* For the tests: the calling thread's reader index (-1: none yet). */
int __ireg_cache_my_reader(void)
{
	return my_reader_idx;
}

struct ireg_cache {
	struct cache_backend backend;
	uint64_t fork_gen;		/* __ireg_fork_gen at creation */
	struct ireg_ctx *ctx;		/* the library's backend's, or NULL */
	uint64_t no_invalidations;	/* before ctx has a device: 0 */
	int pid;			/* the creating process */
	size_t max_entries;
	size_t max_bytes;
	size_t max_merge_bytes;
	size_t phys_bytes;		/* the machine's memory, as the kernel */
	uint32_t prot;
	size_t user_size;		/* rounded up to CACHE_USER_ALIGN */
	int (*init)(struct ireg_mr *mr, void *arg);
	void (*fini)(struct ireg_mr *mr, void *arg);
	void *cb_arg;
	struct cache_reader readers[CACHE_NR_READERS];
	uint32_t writer __attribute__((aligned(128)));	/* a writer is active */
	pthread_rwlock_t overflow;	/* threads without a reader, writers */
	uint64_t overflow_hits;		/* atomic, relaxed */
	struct bucket_link *buckets[CACHE_NR_BUCKETS];

	pthread_mutex_t miss_lock;	/* protects what follows */
	struct cache_entry *hand;	/* CLOCK hand into the ring */
	struct cache_entry *all;	/* every entry alive, linked or not */
	size_t nr_entries;
	size_t bytes;
	uint64_t misses;
	uint64_t evictions;
	uint64_t stale;
	uint64_t merged;
	uint64_t swept_at;	/* status->invalidations at the last sweep */
};

/* The bucket of chunk @chunk at granularity @shift. */
static unsigned int bucket_of(uintptr_t chunk, unsigned int shift)
{
	/* The granularity in the low bits: equal chunk numbers differ. */
	uint64_t key = (uint64_t)chunk << 2 | (shift == CACHE_SMALL_SHIFT) |
		       (shift == CACHE_LARGE_SHIFT) << 1;

	return (unsigned int)((key * 0x9e3779b97f4a7c15ULL) >>
			      (64 - CACHE_BUCKET_BITS));
}

/* The granularity an entry of @size bytes is indexed at. */
static unsigned int entry_shift(size_t size)
{
	if (size <= 16UL << CACHE_PAGE_SHIFT)
		return CACHE_PAGE_SHIFT;
	return size < (1UL << CACHE_LARGE_SHIFT) ? CACHE_SMALL_SHIFT :
						  CACHE_LARGE_SHIFT;
}

static int read_lock(struct ireg_cache *cache)
{
	int rd = my_reader();
	struct cache_reader *r;

	if (rd == CACHE_NR_READERS) {
		pthread_rwlock_rdlock(&cache->overflow);
		return rd;
	}
	r = &cache->readers[rd];
	for (;;) {
		/* Announce, then look for a writer (full barrier between). */
		__atomic_store_n(&r->active, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&cache->writer, __ATOMIC_ACQUIRE))
			return rd;
		/* A writer is at work: step aside until it is done. */
		__atomic_store_n(&r->active, 0, __ATOMIC_RELEASE);
		while (__atomic_load_n(&cache->writer, __ATOMIC_RELAXED))
			ireg_cpu_relax();
	}
}

static void read_unlock(struct ireg_cache *cache, int rd)
{
	if (rd == CACHE_NR_READERS)
		pthread_rwlock_unlock(&cache->overflow);
	else	/* Release: our reads of the buckets happen before. */
		__atomic_store_n(&cache->readers[rd].active, 0,
				 __ATOMIC_RELEASE);
}

/* miss_lock held: only one writer at a time. */
static void write_lock(struct ireg_cache *cache)
{
	unsigned int i;

	pthread_rwlock_wrlock(&cache->overflow);
	__atomic_store_n(&cache->writer, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (i = 0; i < CACHE_NR_READERS; i++)
		while (__atomic_load_n(&cache->readers[i].active,
				       __ATOMIC_ACQUIRE))
			ireg_cpu_relax();
}

static void write_unlock(struct ireg_cache *cache)
{
	__atomic_store_n(&cache->writer, 0, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&cache->overflow);
}

static int ctx_backend_reg(void *priv, void *addr, size_t size,
			   uint32_t prot, struct ireg_region *region)
{
	return ireg_region_register(priv, addr, size, prot, 0, region);
}

static int ctx_backend_unreg(void *priv, const struct ireg_region *region)
{
	return ireg_region_unregister(priv, region);
}

int ireg_cache_create(struct ireg_ctx *ctx, const struct ireg_cache_attr *attr,
		      struct ireg_cache **cachep)
{
	struct cache_backend backend = {
		.priv = ctx,
		.reg = ctx_backend_reg,
		.unreg = ctx_backend_unreg,
	};

	int ret;

	*cachep = NULL;
	ret = __ireg_ctx_check_fork(ctx);
	if (ret)
		return ret;
	/* No device yet: cache_bind() finds the status area later. */
	backend.invalidations = ctx->gens ?
		(const uint64_t *)&ctx->status->invalidations : NULL;
	backend.notify_fd = ctx->notify_fd;
	ret = __ireg_cache_create_backend(&backend, attr, cachep);
	if (!ret)
		(*cachep)->ctx = ctx;
	return ret;
}

/*
 * A cache made before its context had a device reads the status area's
 * invalidation counter once there is one; miss_lock held.
 */
static void cache_bind(struct ireg_cache *cache)
{
	struct ireg_ctx *ctx = cache->ctx;

	if (cache->backend.invalidations != &cache->no_invalidations ||
	    !ctx || !ctx->gens)
		return;
	cache->backend.invalidations =
		(const uint64_t *)&ctx->status->invalidations;
	cache->backend.notify_fd = ctx->notify_fd;
	cache->swept_at = __atomic_load_n(cache->backend.invalidations,
					  __ATOMIC_ACQUIRE);
}

/* -ECHILD in a child that inherited the cache over fork(). */
static int cache_forked(struct ireg_cache *cache)
{
	return __ireg_fail_forked(cache->ctx, "the cache", cache->pid);
}

/* The machine's memory in bytes (SIZE_MAX when unknown). */
static size_t phys_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long page = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || page <= 0 ||
	    (unsigned long)pages > SIZE_MAX / (unsigned long)page)
		return SIZE_MAX;
	return (size_t)pages * (size_t)page;
}

/*
 * A cache over any registration backend.  The library's own is the kernel
 * (above); the host unit tests use one that runs in the process.
 */
int __ireg_cache_create_backend(const struct cache_backend *backend,
				const struct ireg_cache_attr *attr,
				struct ireg_cache **cachep)
{
	struct ireg_cache_attr a;
	struct ireg_cache *cache;
	int ret;

	*cachep = NULL;
	ret = __ireg_opts_in(&a, sizeof(a), attr, "cache attr");
	if (ret)
		return ret;
	if (a.prot & ~(IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE))
		return __ireg_failf(EINVAL, "cache: unknown prot 0x%x", a.prot);
	if (a.user_size > IREG_CACHE_USER_MAX)
		return __ireg_failf(EINVAL, "cache: user area of %zu bytes, at most %d",
				    a.user_size, IREG_CACHE_USER_MAX);

	cache = aligned_alloc(128, sizeof(*cache));
	if (!cache)
		return __ireg_failf(ENOMEM, "cache: out of memory");
	memset(cache, 0, sizeof(*cache));
	cache->backend = *backend;
	if (!cache->backend.invalidations)
		cache->backend.invalidations = &cache->no_invalidations;
	cache->fork_gen = __ireg_fork_watch();
	cache->pid = getpid();
	cache->max_entries = a.max_entries ? a.max_entries : 4096;
	cache->max_bytes = a.max_bytes ? a.max_bytes : 1UL << 30;
	cache->max_merge_bytes = a.max_merge_bytes ? a.max_merge_bytes :
				 SIZE_MAX;
	cache->phys_bytes = phys_bytes();
	cache->prot = a.prot ? a.prot :
		      IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE;
	cache->user_size = (a.user_size + CACHE_USER_ALIGN - 1) &
			   ~(CACHE_USER_ALIGN - 1);
	cache->init = a.init;
	cache->fini = a.fini;
	cache->cb_arg = a.cb_arg;
	cache->swept_at = __atomic_load_n(cache->backend.invalidations,
					  __ATOMIC_ACQUIRE);
	pthread_rwlock_init(&cache->overflow, NULL);
	pthread_mutex_init(&cache->miss_lock, NULL);
	*cachep = cache;
	return 0;
}

/* Hit path: an entry containing [start, last] that is still valid. */
static struct cache_entry *cache_lookup(struct ireg_cache *cache,
					uintptr_t start, uintptr_t last)
{
	static const unsigned int shifts[CACHE_NR_SHIFTS] = {
		CACHE_PAGE_SHIFT, CACHE_SMALL_SHIFT, CACHE_LARGE_SHIFT,
	};
	struct cache_entry *found = NULL;
	struct bucket_link *link;
	int rd = read_lock(cache);
	unsigned int k;

	for (k = 0; k < CACHE_NR_SHIFTS && !found; k++) {
		unsigned int bucket = bucket_of(start >> shifts[k], shifts[k]);

		for (link = cache->buckets[bucket]; link; link = link->next) {
			struct cache_entry *e = link->entry;
			const struct ireg_region *r = &e->mr.region;

			/* The last byte: an entry may end at 2^64. */
			if (start < r->addr || last > r->addr + (r->size - 1))
				continue;
			if (!ireg_region_valid(r))
				continue;	/* the next miss drops it */
			/* The read lock keeps eviction out: it stays linked. */
			__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
			if (!__atomic_load_n(&e->referenced, __ATOMIC_RELAXED))
				__atomic_store_n(&e->referenced, 1,
						 __ATOMIC_RELAXED);
			found = e;
			break;
		}
	}
	if (found && rd < (int)CACHE_NR_READERS)
		__atomic_store_n(&cache->readers[rd].hits,
				 cache->readers[rd].hits + 1,
				 __ATOMIC_RELAXED);
	else if (found)
		__atomic_add_fetch(&cache->overflow_hits, 1, __ATOMIC_RELAXED);
	read_unlock(cache, rd);
	return found;
}

/* Link an entry into its buckets and the ring; miss_lock held. */
static void cache_link(struct ireg_cache *cache,
		       struct cache_entry *e)
{
	size_t i;

	write_lock(cache);
	for (i = 0; i < e->nr_links; i++) {
		unsigned int shift = entry_shift(e->mr.region.size);
		uintptr_t chunk = (e->mr.region.addr >> shift) + i;
		unsigned int bucket = bucket_of(chunk, shift);

		e->links[i].entry = e;
		e->links[i].next = cache->buckets[bucket];
		cache->buckets[bucket] = &e->links[i];
	}
	write_unlock(cache);

	if (cache->hand) {
		e->next = cache->hand;
		e->prev = cache->hand->prev;
		e->prev->next = e;
		cache->hand->prev = e;
	} else {
		e->next = e;
		e->prev = e;
		cache->hand = e;
	}
	e->linked = true;
	cache->nr_entries++;
	cache->bytes += e->mr.region.size;
}

/* Unregister and free an entry nothing references any more. */
static void cache_entry_free(struct ireg_cache *cache,
			     struct cache_entry *e)
{
	/*
	 * In a child after fork() the registration is the parent's, and
	 * so is what the provider's fini would undo: neither runs.
	 */
	if (!__ireg_forked(cache->fork_gen)) {
		if (cache->fini)
			cache->fini(&e->mr, cache->cb_arg);
		cache->backend.unreg(cache->backend.priv, &e->mr.region);
	}
	if (e->all_prev)
		e->all_prev->all_next = e->all_next;
	else
		cache->all = e->all_next;
	if (e->all_next)
		e->all_next->all_prev = e->all_prev;
	free(e);
}

/*
 * Unlink an entry (miss_lock held), if @only_unused that only when no one
 * but the cache holds it, and drop the cache's reference.  Returns whether
 * it was unlinked.
 */
static bool cache_unlink(struct ireg_cache *cache,
			 struct cache_entry *e, bool only_unused)
{
	size_t i;

	write_lock(cache);
	if (only_unused && __atomic_load_n(&e->refs, __ATOMIC_ACQUIRE) != 1) {
		write_unlock(cache);
		return false;
	}
	for (i = 0; i < e->nr_links; i++) {
		unsigned int shift = entry_shift(e->mr.region.size);
		uintptr_t chunk = (e->mr.region.addr >> shift) + i;
		struct bucket_link **pp =
			&cache->buckets[bucket_of(chunk, shift)];

		while (*pp != &e->links[i])
			pp = &(*pp)->next;
		*pp = e->links[i].next;
	}
	write_unlock(cache);

	if (e->next == e) {
		cache->hand = NULL;
	} else {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		if (cache->hand == e)
			cache->hand = e->next;
	}
	e->linked = false;
	cache->nr_entries--;
	cache->bytes -= e->mr.region.size;

	if (!__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL))
		cache_entry_free(cache, e);
	return true;
}

/*
 * Drop every invalidated entry; miss_lock held.  Only when the kernel's
 * invalidation counter moved since the last sweep: a miss must not cost
 * a walk of every entry.
 */
static void cache_sweep_stale(struct ireg_cache *cache)
{
	struct cache_entry *e = cache->hand, *next;
	size_t n = cache->nr_entries;
	uint64_t inval;

	inval = __atomic_load_n(cache->backend.invalidations,
				__ATOMIC_ACQUIRE);
	if (inval == cache->swept_at)
		return;
	cache->swept_at = inval;

	while (n--) {
		next = e->next;
		if (!ireg_region_valid(&e->mr.region)) {
			cache->stale++;
			cache_unlink(cache, e, false);
		}
		e = next;
	}
}

/*
 * CLOCK: drop unused entries, oldest first, until both limits hold or only
 * entries in use are left; miss_lock held.
 */
static void cache_evict(struct ireg_cache *cache, bool all)
{
	size_t budget = 2 * cache->nr_entries;

	while (cache->hand && budget--) {
		struct cache_entry *e = cache->hand;

		if (!all && cache->nr_entries <= cache->max_entries &&
		    cache->bytes <= cache->max_bytes)
			break;
		if (!all && __atomic_exchange_n(&e->referenced, 0,
						__ATOMIC_RELAXED)) {
			cache->hand = e->next;
			continue;
		}
		cache->hand = e->next;
		if (cache_unlink(cache, e, true))
			cache->evictions++;
	}
}

/*
 * Put @e on the merge list *@list if it is valid and overlaps [*@first,
 * *@last], growing the range by it; miss_lock held.
 */
static void merge_take(struct cache_entry *e, struct cache_entry **list,
		       uintptr_t *first, uintptr_t *last)
{
	const struct ireg_region *r = &e->mr.region;

	if (e->merging || r->addr > *last || r->addr + r->size - 1 < *first ||
	    !ireg_region_valid(r))
		return;
	e->merging = true;
	e->merge_next = *list;
	*list = e;
	if (r->addr < *first)
		*first = r->addr;
	if (r->addr + r->size - 1 > *last)
		*last = r->addr + r->size - 1;
}

/*
 * The linked entries a miss for [*@first, *@last] merges (see the top of
 * the file), the range grown to their union; NULL, and the range as it
 * was, when there are none or the union would pass max_merge_bytes.
 * miss_lock held, so the buckets and the ring hold still.  The buckets
 * of the range are probed when that is cheaper than walking every entry.
 */
static struct cache_entry *cache_overlaps(struct ireg_cache *cache,
					  uintptr_t *first, uintptr_t *last)
{
	static const unsigned int shifts[CACHE_NR_SHIFTS] = {
		CACHE_PAGE_SHIFT, CACHE_SMALL_SHIFT, CACHE_LARGE_SHIFT,
	};
	uintptr_t f = *first, l = *last, f0 = f, l0 = l, chunk;
	struct cache_entry *list = NULL, *e;
	struct bucket_link *link;
	unsigned int k;
	size_t n, probes;

	do {
		f = *first;
		l = *last;
		for (probes = 0, k = 0; k < CACHE_NR_SHIFTS; k++)
			probes += (l >> shifts[k]) - (f >> shifts[k]) + 1;
		if (probes > cache->nr_entries) {
			for (e = cache->hand, n = cache->nr_entries; n--;
			     e = e->next)
				merge_take(e, &list, first, last);
			continue;
		}
		for (k = 0; k < CACHE_NR_SHIFTS; k++)
			for (chunk = f >> shifts[k]; chunk <= l >> shifts[k];
			     chunk++)
				for (link = cache->buckets[bucket_of(chunk,
								     shifts[k])];
				     link; link = link->next)
					merge_take(link->entry, &list, first,
						   last);
	} while (*first != f || *last != l);

	if (list && *last - *first >= cache->max_merge_bytes) {
		for (e = list; e; e = e->merge_next)
			e->merging = false;
		*first = f0;
		*last = l0;
		return NULL;
	}
	return list;
}

/* Where cache_entry_new() failed. */
enum entry_fail {
	ENTRY_FAIL_ALLOC,	/* memory for the entry */
	ENTRY_FAIL_REG,		/* the backend's registration */
	ENTRY_FAIL_INIT,	/* the init callback */
};

/*
 * A new entry registering [first, last], its user area zeroed and given
 * to the init callback, on the list of all entries; miss_lock held.
 * *@fail says which step failed.
 */
static int cache_entry_new(struct ireg_cache *cache, uintptr_t first,
			   uintptr_t last, struct cache_entry **ep,
			   enum entry_fail *fail)
{
	unsigned int shift = entry_shift(last - first + 1);
	uintptr_t nr_chunks = (last >> shift) - (first >> shift) + 1;
	struct cache_entry *e;
	size_t size, user;
	int ret, err;

	*fail = ENTRY_FAIL_ALLOC;
	/* As the kernel: refuse before sizing anything by it. */
	if (last - first >= cache->phys_bytes)
		return __ireg_failf(ENOMEM, "cache: %zu bytes: more than the machine has",
				    (size_t)(last - first + 1));
	/*
	 * Own cache lines: hits on neighbours must not share one, nor the
	 * caller's writes to the user area the links lookups read.
	 */
	user = sizeof(*e) + nr_chunks * sizeof(e->links[0]);
	user = (user + 127) & ~(size_t)127;
	size = user + cache->user_size;
	size = (size + 127) & ~(size_t)127;
	e = aligned_alloc(128, size);
	if (!e)
		return __ireg_failf(ENOMEM, "cache: out of memory for an entry of %zu bytes",
				    (size_t)(last - first + 1));
	memset(e, 0, size);
	e->nr_links = nr_chunks;
	if (cache->user_size)
		e->mr.user = (char *)e + user;
	*fail = ENTRY_FAIL_REG;
	ret = cache->backend.reg(cache->backend.priv, (void *)first,
				 last - first + 1, cache->prot, &e->mr.region);
	if (ret) {
		free(e);
		return ret;
	}
	if (cache->init) {
		ret = cache->init(&e->mr, cache->cb_arg);
		if (ret) {
			*fail = ENTRY_FAIL_INIT;
			cache->backend.unreg(cache->backend.priv,
					     &e->mr.region);
			free(e);
			/* A negative errno; anything else (INT_MIN too): EIO. */
			err = ret < 0 && ret >= -4095 ? -ret :
			      ret > 0 && ret <= 4095 ? ret : EIO;
			return __ireg_failf(err, "cache: the init callback failed: %d (%s)",
					    ret, strerror(err));
		}
	}
	e->all_next = cache->all;
	if (cache->all)
		cache->all->all_prev = e;
	cache->all = e;
	*ep = e;
	return 0;
}

/* Clear the merge marks of a list (miss_lock held); returns its length. */
static size_t merge_clear(struct cache_entry *list)
{
	size_t n = 0;

	for (; list; list = list->merge_next, n++)
		list->merging = false;
	return n;
}

/*
 * A miss: register [first, last] (page-aligned), merged with the linked
 * entries it overlaps; miss_lock held.  See the top of the file for the
 * merge; what happens when the union cannot be registered:
 *
 *  - the union is tried with its parts still cached; when the backend
 *    says -ENOMEM (RLIMIT_MEMLOCK, which charges the parts and the union
 *    each), the unused parts are unregistered and the union tried again,
 *    so a union fits where its parts did;
 *  - if the union still fails, the request is registered alone, and the
 *    unused parts unregistered for the second try are registered again
 *    (best effort, each alone): every part stays cached, the old entries
 *    serve the next lookup of each, overlapping the new one.
 *
 * A request that cannot be registered at all (bad input, refused memory)
 * fails with nothing changed but the parts' registrations renewed in the
 * -ENOMEM case.  A successful miss leaves the thread's message alone.
 */
static int cache_miss(struct ireg_cache *cache, uintptr_t first,
		      uintptr_t last, struct cache_entry **ep)
{
	struct range { uintptr_t first, last; } *gone = NULL;
	uintptr_t f0 = first, l0 = last;
	struct cache_entry *list, *x, **pp, *e;
	size_t nr = 0, nr_gone = 0, i;
	enum entry_fail fail;
	char msg[512];
	int ret, ret2;

	list = cache_overlaps(cache, &first, &last);
	if (!list)
		return cache_entry_new(cache, first, last, ep, &fail);

	/* The union's failure is not the caller's if the request works. */
	snprintf(msg, sizeof(msg), "%s", ireg_errmsg());
	ret = cache_entry_new(cache, first, last, &e, &fail);
	if (ret == -ENOMEM && fail == ENTRY_FAIL_REG) {
		for (x = list; x; x = x->merge_next)
			nr++;
		gone = malloc(nr * sizeof(*gone));
		for (pp = &list; gone && *pp;) {
			x = *pp;
			if (__atomic_load_n(&x->refs, __ATOMIC_ACQUIRE) != 1) {
				pp = &x->merge_next;
				continue;
			}
			gone[nr_gone].first = x->mr.region.addr;
			gone[nr_gone].last = x->mr.region.addr +
					     (x->mr.region.size - 1);
			*pp = x->merge_next;
			x->merging = false;
			if (cache_unlink(cache, x, true))
				nr_gone++;
			else	/* cannot be: miss_lock held, refs were 1 */
				pp = &x->merge_next;
		}
		if (nr_gone)
			ret = cache_entry_new(cache, first, last, &e, &fail);
	}
	if (!ret) {
		__ireg_failf(0, "%s", msg);
		/* The parts in use leave the lookup, freed at their unreg. */
		cache->merged += nr_gone + merge_clear(list);
		for (; list; list = x) {
			x = list->merge_next;
			cache_unlink(cache, list, false);
		}
		free(gone);
		*ep = e;
		return 0;
	}
	merge_clear(list);
	if (fail != ENTRY_FAIL_INIT) {
		__ireg_failf(0, "%s", msg);
		ret = cache_entry_new(cache, f0, l0, ep, &fail);
	}
	/* Put back what the second try unregistered. */
	for (i = 0; i < nr_gone; i++) {
		snprintf(msg, sizeof(msg), "%s", ireg_errmsg());
		ret2 = cache_entry_new(cache, gone[i].first, gone[i].last, &x,
				       &fail);
		__ireg_failf(0, "%s", msg);
		if (ret2)
			continue;
		x->refs = 1;
		cache_link(cache, x);
	}
	free(gone);
	return ret;
}

int ireg_cache_reg(struct ireg_cache *cache, const void *ptr, size_t len,
		   struct ireg_mr **mrp)
{
	uintptr_t start = (uintptr_t)ptr, last;
	struct cache_entry *e;
	int ret;

	if (!len)
		return __ireg_failf(EINVAL, "cache: %p: length 0", ptr);
	/* The last byte may be the address space's last. */
	if (len - 1 > UINTPTR_MAX - start)
		return __ireg_failf(EOVERFLOW, "cache: %p+%zu wraps around",
				    ptr, len);
	last = start + (len - 1);
	/* Page-aligned, all of the address space would be 0 bytes. */
	if (!(start & ~(CACHE_PAGE_SIZE - 1)) &&
	    (last | (CACHE_PAGE_SIZE - 1)) == UINTPTR_MAX)
		return __ireg_failf(EOVERFLOW, "cache: %p+%zu: the whole address space",
				    ptr, len);
	/* Before any lookup: a hit would hand out the parent's IOVA. */
	if (__ireg_forked(cache->fork_gen))
		return cache_forked(cache);

	e = cache_lookup(cache, start, last);
	if (e) {
		*mrp = &e->mr;
		return 0;
	}

	pthread_mutex_lock(&cache->miss_lock);
	/* Another thread may have registered it meanwhile. */
	e = cache_lookup(cache, start, last);
	if (e)
		goto out_found;

	cache_bind(cache);
	cache_sweep_stale(cache);

	ret = cache_miss(cache, start & ~(CACHE_PAGE_SIZE - 1),
			 last | (CACHE_PAGE_SIZE - 1), &e);
	if (ret)
		goto out_unlock;
	e->refs = 2;		/* the cache's and the caller's */
	cache->misses++;
	cache_link(cache, e);
	cache_evict(cache, false);
out_found:
	*mrp = &e->mr;
	ret = 0;
out_unlock:
	pthread_mutex_unlock(&cache->miss_lock);
	return ret;
}

void ireg_cache_unreg(struct ireg_cache *cache, struct ireg_mr *mr)
{
	struct cache_entry *e = (struct cache_entry *)mr;

	/*
	 * Only an unlinked entry can reach zero here.  An invalidated one
	 * still linked waits for the next sweep (a miss, a flush, events):
	 * checking its validity here costs every hit's unreg about 1 ns.
	 */
	if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&cache->miss_lock);
	cache_entry_free(cache, e);
	pthread_mutex_unlock(&cache->miss_lock);
}

int ireg_cache_flush(struct ireg_cache *cache)
{
	if (__ireg_forked(cache->fork_gen))
		return cache_forked(cache);
	pthread_mutex_lock(&cache->miss_lock);
	cache_bind(cache);
	cache_sweep_stale(cache);
	cache_evict(cache, true);
	pthread_mutex_unlock(&cache->miss_lock);
	return 0;
}

int ireg_cache_process_events(struct ireg_cache *cache)
{
	struct iommu_reg_event ev[32];
	ssize_t n = 0;
	int count = 0;
	int fd;

	/* The notify fd is the parent's open file: reading would steal. */
	if (__ireg_forked(cache->fork_gen))
		return cache_forked(cache);
	pthread_mutex_lock(&cache->miss_lock);
	cache_bind(cache);
	fd = cache->backend.notify_fd;
	pthread_mutex_unlock(&cache->miss_lock);

	/* The records only say that something changed: drain them... */
	while (fd >= 0 && ((n = read(fd, ev, sizeof(ev))) > 0 ||
			   (n < 0 && errno == EINTR)))
		if (n > 0)
			count += n / sizeof(ev[0]);
	if (n < 0 && errno != EAGAIN)
		return __ireg_failf(errno, "notify fd: read: %s",
				    strerror(errno));

	/* ...the status area says what. */
	pthread_mutex_lock(&cache->miss_lock);
	cache_sweep_stale(cache);
	pthread_mutex_unlock(&cache->miss_lock);
	return count;
}

int ireg_cache_stats(struct ireg_cache *cache, struct ireg_cache_stats *stats)
{
	struct ireg_cache_stats st = { .size = sizeof(st) };
	unsigned int i;

	for (i = 0; i < CACHE_NR_READERS; i++)
		st.hits += __atomic_load_n(&cache->readers[i].hits,
					   __ATOMIC_RELAXED);
	st.hits += __atomic_load_n(&cache->overflow_hits, __ATOMIC_RELAXED);
	pthread_mutex_lock(&cache->miss_lock);
	st.misses = cache->misses;
	st.evictions = cache->evictions;
	st.stale = cache->stale;
	st.entries = cache->nr_entries;
	st.bytes = cache->bytes;
	st.merged = cache->merged;
	pthread_mutex_unlock(&cache->miss_lock);
	return __ireg_opts_out(stats, &st, sizeof(st), "cache stats");
}

/*
 * Every registration is unregistered, including any the caller did not
 * give back: their struct ireg_mr pointers die with the cache.
 */
void ireg_cache_destroy(struct ireg_cache *cache)
{
	if (!cache)
		return;
	if (__ireg_forked(cache->fork_gen)) {
		/*
		 * A child's copy: free it, unregister nothing, take no lock
		 * (a parent thread may have held one, or been a reader, at
		 * the fork).
		 */
		while (cache->all) {
			struct cache_entry *e = cache->all;

			cache->all = e->all_next;
			free(e);
		}
		free(cache);
		return;
	}
	pthread_mutex_lock(&cache->miss_lock);
	while (cache->hand) {
		struct cache_entry *e = cache->hand;

		/* Leave one reference so the unlink frees it now. */
		__atomic_store_n(&e->refs, 1, __ATOMIC_RELAXED);
		cache_unlink(cache, e, false);
	}
	/* Held ones a merge or the sweep unlinked. */
	while (cache->all)
		cache_entry_free(cache, cache->all);
	pthread_mutex_unlock(&cache->miss_lock);
	pthread_rwlock_destroy(&cache->overflow);
	pthread_mutex_destroy(&cache->miss_lock);
	free(cache);
}
