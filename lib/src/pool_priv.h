/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * What the files of a pool share: the private part of struct ireg_pool,
 * the layout a pool is built from, and the entry points of the layout
 * (src/pool_layout.c) and the backings (src/pool_backing.c) that the life
 * cycle (src/pool.c) and the allocation paths (src/pool_alloc.c) call.
 */
#ifndef LIBIOMMUREG_POOL_PRIV_H
#define LIBIOMMUREG_POOL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommureg.h"
#include "heap.h"

struct pool_mags;

#define SZ_4K			4096UL
#define SZ_2M			(2UL << 20)
#define SZ_1G			(1UL << 30)

/* The header at the end of a shared pool (src/pool.c). */
#define POOL_HDR_SIZE		SZ_4K

/**
 * struct ireg_pool_priv - the private part of a pool
 * @ctx: the context the pool is registered with, or NULL
 * @map: the map the pool entered itself into, or NULL
 * @map_start: first byte entered into @map
 * @map_end: end of the bytes entered into @map
 * @fd: memfd of a shared pool, owned; -1 otherwise
 * @backing: enum ireg_pool_backing
 * @page_size: page size of the backing
 * @huge_bytes: measured at creation
 * @buf_size: requested buffer size
 * @owns_memory: munmap() the pool at destroy
 * @attached: a view from ireg_pool_attach()
 * @heap: the heap of a KIND_HEAP pool
 * @lock: serialises the heap of an IREG_POOL_MT pool
 * @caches: the threads' caches of this pool (src/pool_alloc.c's
 *	cache lock)
 * @mags: the magazines between caches and pool (src/pool_alloc.c)
 * @fork_gen: __ireg_fork_gen when registered: a child after fork()
 *	neither allocates nor unregisters
 * @pid: the process that registered it
 * @pending: on @ctx's list, to be registered at its first device
 * @prot: IOMMU_REG_PROT_* to register with (pending)
 * @pending_map: the map to enter at registration (pending)
 */
struct ireg_pool_priv {
	struct ireg_ctx *ctx;
	struct ireg_map *map;
	uintptr_t map_start;
	uintptr_t map_end;
	int fd;
	uint32_t backing;
	size_t page_size;
	size_t huge_bytes;
	size_t buf_size;
	bool owns_memory;
	bool attached;
	struct heap heap;
	pthread_mutex_t lock;
	struct ireg_pool_cache *caches;
	struct pool_mags *mags;
	uint64_t fork_gen;
	int pid;
	bool pending;
	uint32_t prot;
	struct ireg_map *pending_map;
};

/*
 * The shape of a pool: kind, buffer geometry, bytes of data, as
 * __ireg_pool_layout() derives it from the parameters (or pool_hdr_check()
 * from a shared pool's header).
 */
struct pool_layout {
	uint32_t kind;
	size_t buf_size;
	size_t buf_stride;
	uint32_t nr_bufs;
	size_t data_size;
	size_t size;		/* mapped: data, header, whole pages */
};

static inline size_t round_up(size_t x, size_t align)
{
	return (x + align - 1) & ~(align - 1);
}

static inline bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

/* src/pool_layout.c */
int __ireg_pool_check_params(struct ireg_ctx *ctx,
			     const struct ireg_pool_params *p, bool sized);
int __ireg_pool_layout(struct ireg_ctx *ctx, const struct ireg_pool_params *p,
		       size_t page_size, size_t hdr, size_t avail,
		       struct pool_layout *lay);
void __ireg_pool_set_geometry(struct ireg_pool *pool,
			      const struct pool_layout *lay);
int __ireg_pool_init_allocator(struct ireg_pool *pool, size_t buf_align);

/* src/pool_alloc.c: per-thread caches, set up at creation, gone at destroy */
int __ireg_pool_cache_init(struct ireg_pool *pool, uint32_t cache_size);
void __ireg_pool_cache_fini(struct ireg_pool *pool);

/* src/pool_backing.c */
uint32_t __ireg_flag_backing(uint32_t flags);
size_t __ireg_backing_page_size(uint32_t backing);
int __ireg_pool_reserve(struct ireg_pool *pool, uint32_t backing, bool shared,
			size_t len, char *why, size_t whylen);
void *__ireg_mmap_aligned(size_t len, size_t align, int flags, int fd);
void __ireg_populate(char *addr, size_t len);
void __ireg_pool_own(struct ireg_pool *pool, char *addr, size_t len,
		     uint32_t backing, bool hugetlb);

#endif /* LIBIOMMUREG_POOL_PRIV_H */
