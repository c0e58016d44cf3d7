// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The life cycle of a pool: creating it (reserve a backing, lay it out,
 * set up the allocator, register, enter the map, write the shared
 * header), making one over the caller's memory, attaching another
 * process's shared pool, destroying, describing.
 *
 * Creation is in two phases: everything that can fail first, each step
 * recorded in the pool as it happens; pool_teardown() undoes whatever
 * steps a pool went through and cannot fail, so every error path and
 * ireg_pool_destroy() share it.
 *
 * The shared header is the last POOL_HDR_SIZE bytes of a shared pool;
 * its magic is stored last, with release, so a process that sees the
 * magic (acquire) sees the rest.  A header written by another process is
 * trusted for nothing unchecked (pool_hdr_check()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "internal.h"
#include "pool_priv.h"

/*
 * The header of a shared pool: the last POOL_HDR_SIZE bytes of the
 * memory, written by the creator once the pool is registered.  Another
 * process trusts none of it without checking (pool_hdr_check()).
 */
#define POOL_SHM_MAGIC		0x69726770	/* "irgp" */
#define POOL_SHM_VERSION	1

struct pool_shm_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t size;
	uint64_t data_size;
	uint64_t iova;
	uint64_t buf_size;
	uint64_t buf_stride;
	uint32_t nr_bufs;
	uint32_t kind;
	uint32_t backing;
	uint32_t flags;
	uint64_t page_size;
};

static int pool_alloc_struct(struct ireg_pool **poolp)
{
	struct ireg_pool *pool;
	size_t size = round_up(sizeof(*pool), 64);
	int err;

	pool = aligned_alloc(64, size);
	if (!pool)
		return -ENOMEM;
	memset(pool, 0, size);
	pool->priv = calloc(1, sizeof(*pool->priv));
	if (!pool->priv) {
		free(pool);
		return -ENOMEM;
	}
	err = pthread_mutex_init(&pool->priv->lock, NULL);
	if (err) {
		free(pool->priv);
		free(pool);
		return -err;
	}
	pool->priv->fd = -1;
	pool->cache_slot = IREG_POOL_CACHE_SLOTS;
	pool->iova = IREG_IOVA_INVALID;
	pool->free_head = IREG_POOL_NIL;
	*poolp = pool;
	return 0;
}

static void pool_free_struct(struct ireg_pool *pool)
{
	__ireg_heap_fini(&pool->priv->heap);
	free(pool->buf_link);
	pthread_mutex_destroy(&pool->priv->lock);
	free(pool->priv);
	free(pool);
}

static void pool_set_iova(struct ireg_pool *pool, uint64_t iova)
{
	pool->iova = iova;
	pool->iova_delta = iova - (uintptr_t)pool->base;
}

/* Enter the 2 MiB chunks the pool covers entirely into @map. */
static int pool_enter_map(struct ireg_ctx *ctx, struct ireg_pool *pool,
			  struct ireg_map *map)
{
	uintptr_t base = (uintptr_t)pool->base;
	uintptr_t start = round_up(base, IREG_MAP_CHUNK_SIZE);
	uintptr_t end = (base + pool->size) & ~(IREG_MAP_CHUNK_SIZE - 1);
	int ret;

	if (!map)
		return 0;
	if (pool->iova == IREG_IOVA_INVALID)
		return __ireg_fail(ctx, EINVAL,
				   "pool: a map needs a registered pool (an IOVA)");
	/* No whole chunk: the pool translates with ireg_pool_iova() only. */
	if (start >= end)
		return 0;
	ret = ireg_map_set(map, (void *)start, end - start,
			   ireg_pool_iova(pool, (void *)start));
	if (ret == -ERANGE)
		return __ireg_fail(ctx, ERANGE,
				   "pool: memory at %p reaches above 2^48 (5-level paging), which the translation map does not cover",
				   pool->base);
	if (ret)
		return __ireg_fail(ctx, -ret, "pool: entering the map: %s",
				   strerror(-ret));
	pool->priv->map = map;
	pool->priv->map_start = start;
	pool->priv->map_end = end;
	return 0;
}

static void pool_write_hdr(struct ireg_pool *pool)
{
	struct pool_shm_hdr *hdr =
		(void *)(pool->base + pool->size - POOL_HDR_SIZE);

	memset(hdr, 0, POOL_HDR_SIZE);
	/* Magic 0 until the rest is written. */
	*hdr = (struct pool_shm_hdr){
		.version = POOL_SHM_VERSION,
		.size = pool->size,
		.data_size = pool->data_size,
		.iova = pool->iova,
		.buf_size = pool->priv->buf_size,
		.buf_stride = pool->buf_stride,
		.nr_bufs = pool->nr_bufs,
		.kind = pool->kind,
		.backing = pool->priv->backing,
		.flags = pool->flags,
		.page_size = pool->priv->page_size,
	};
	__atomic_store_n(&hdr->magic, POOL_SHM_MAGIC, __ATOMIC_RELEASE);
}

/* Off its context's list of pools waiting for a device. */
static void pool_unpend(struct ireg_pool *pool)
{
	struct pool_pending **pp = &pool->priv->ctx->pending, *p;

	for (; (p = *pp); pp = &p->next)
		if (p->pool == pool) {
			*pp = p->next;
			free(p);
			break;
		}
	pool->priv->pending = false;
}

/*
 * Undo creation; every step checks whether it happened.  In a child after
 * fork() the registration is the parent's: it stays.
 */
static void pool_teardown(struct ireg_pool *pool)
{
	struct ireg_pool_priv *priv = pool->priv;

	__ireg_pool_cache_fini(pool);
	if (priv->map)
		ireg_map_clear(priv->map, (void *)priv->map_start,
			       priv->map_end - priv->map_start);
	if (priv->pending)
		pool_unpend(pool);
	if (pool->region.genp && !__ireg_forked(priv->fork_gen))
		ireg_region_unregister(priv->ctx, &pool->region);
	if (pool->base && priv->owns_memory)
		munmap(pool->base, pool->size);
	if (priv->fd >= 0)
		close(priv->fd);
	pool_free_struct(pool);
}

/*
 * Register with @ctx, which has a device.  Private memory the library
 * mapped itself becomes MADV_DONTFORK, as rdma-core's ibv_fork_init()
 * does: a fork() would otherwise copy every pinned page of it at once
 * (pinned pages are not shared copy-on-write), for a child that cannot
 * DMA to its copy anyway; the child gets no pool memory, so using it
 * faults instead of silently missing the device.
 */
static int pool_register(struct ireg_ctx *ctx, struct ireg_pool *pool,
			 uint32_t prot)
{
	struct ireg_pool_priv *priv = pool->priv;
	int ret;

	ret = ireg_region_register(ctx, pool->base, pool->size,
				   prot ? prot : IOMMU_REG_PROT_READ |
						 IOMMU_REG_PROT_WRITE,
				   0, &pool->region);
	if (ret)
		return ret;
	if (priv->owns_memory && !(pool->flags & IREG_POOL_SHARED) &&
	    madvise(pool->base, pool->size, MADV_DONTFORK)) {
		ret = __ireg_fail(ctx, errno, "pool: MADV_DONTFORK: %s",
				  strerror(errno));
		ireg_region_unregister(ctx, &pool->region);
		memset(&pool->region, 0, sizeof(pool->region));
		return ret;
	}
	priv->ctx = ctx;
	priv->fork_gen = __ireg_fork_watch();
	priv->pid = getpid();
	pool_set_iova(pool, pool->region.iova);
	return 0;
}

/* @ctx has no device yet: register at its first ireg_device_open(). */
static int pool_defer(struct ireg_ctx *ctx, struct ireg_pool *pool,
		      uint32_t prot, struct ireg_map *map)
{
	struct pool_pending *p = malloc(sizeof(*p)), **pp;

	if (!p)
		return __ireg_fail(ctx, ENOMEM, "pool: out of memory");
	p->pool = pool;
	p->next = NULL;
	for (pp = &ctx->pending; *pp; pp = &(*pp)->next)
		;
	*pp = p;	/* in creation order */
	pool->priv->ctx = ctx;
	pool->priv->pending = true;
	pool->priv->prot = prot;
	pool->priv->pending_map = map;
	return 0;
}

/*
 * Register (with @ctx), enter @map, finish: the common tail of creation.
 * A context without a device yet takes the pool on its pending list.
 */
static int pool_finish(struct ireg_ctx *ctx, struct ireg_pool *pool,
		       uint32_t prot, struct ireg_map *map)
{
	int ret;

	if (ctx) {
		ret = __ireg_ctx_check_fork(ctx);
		if (ret)
			return ret;
		if (!ctx->gens)
			return pool_defer(ctx, pool, prot, map);
		ret = pool_register(ctx, pool, prot);
		if (ret)
			return ret;
	}
	return pool_enter_map(ctx, pool, map);
}

/*
 * ireg_device_open() on a context whose pools wait: register them, in
 * creation order.  On failure the message names the pool; it and those
 * after it stay pending (another ireg_device_open() tries again).
 */
int __ireg_pool_register_pending(struct ireg_ctx *ctx)
{
	struct pool_pending *p;
	int ret;

	while ((p = ctx->pending)) {
		struct ireg_pool *pool = p->pool;
		struct ireg_pool_priv *priv = pool->priv;

		ret = pool_register(ctx, pool, priv->prot);
		if (!ret) {
			ret = pool_enter_map(ctx, pool, priv->pending_map);
			if (ret) {
				ireg_region_unregister(ctx, &pool->region);
				memset(&pool->region, 0, sizeof(pool->region));
				pool->iova = IREG_IOVA_INVALID;
			}
		}
		if (ret) {
			char why[256];

			snprintf(why, sizeof(why), "%s", ireg_errmsg());
			return __ireg_fail(ctx, -ret,
					   "registering the pool at %p (%zu bytes) made before the first device: %s",
					   pool->base, pool->size, why);
		}
		ctx->pending = p->next;
		free(p);
		priv->pending = false;
		if (pool->flags & IREG_POOL_SHARED && !priv->attached)
			pool_write_hdr(pool);
	}
	return 0;
}

int ireg_pool_register(struct ireg_pool *pool, struct ireg_ctx *ctx)
{
	struct ireg_pool_priv *priv;
	int ret;

	if (!pool || !ctx)
		return -EINVAL;
	priv = pool->priv;
	if (pool->region.genp || priv->pending)
		return __ireg_fail(ctx, EBUSY,
				   "ireg_pool_register: the pool is already registered%s",
				   priv->pending ? " (at the first ireg_device_open())" : "");
	if (priv->backing == IREG_POOL_BACKING_USER &&
	    pool->iova != IREG_IOVA_INVALID)
		return __ireg_fail(ctx, EINVAL,
				   "ireg_pool_register: the pool was made with the caller's IOVA");
	ret = pool_finish(ctx, pool, priv->prot, NULL);
	if (ret || priv->pending)
		return ret;
	if (pool->flags & IREG_POOL_SHARED && !priv->attached)
		pool_write_hdr(pool);
	return 0;
}

int ireg_pool_create(struct ireg_ctx *ctx,
		     const struct ireg_pool_params *user,
		     struct ireg_pool **poolp)
{
	static const uint32_t fallback[] = {
		IREG_POOL_BACKING_HUGETLB, IREG_POOL_BACKING_THP,
		IREG_POOL_BACKING_4K,
	};
	struct ireg_pool_params p, *params = &p;
	bool shared;
	size_t hdr;
	uint32_t want;
	char why[3][160] = { "", "", "" };
	struct pool_layout lay;
	struct ireg_pool *pool;
	unsigned int i, n;
	int ret;

	*poolp = NULL;
	ret = __ireg_opts_in(&p, sizeof(p), user, "pool params");
	if (ret)
		return ret;
	shared = params->flags & IREG_POOL_SHARED;
	hdr = shared ? POOL_HDR_SIZE : 0;
	want = __ireg_flag_backing(params->flags);
	ret = __ireg_pool_check_params(ctx, params, false);
	if (ret)
		return ret;
	ret = pool_alloc_struct(&pool);
	if (ret)
		return __ireg_fail(ctx, -ret, "pool: out of memory");
	pool->flags = params->flags;
	pool->priv->prot = params->prot;

	n = want == IREG_POOL_BACKING_USER ? 3 : 1;
	for (i = 0; i < n; i++) {
		uint32_t backing = n == 1 ? want : fallback[i];

		ret = __ireg_pool_layout(ctx, params,
					 __ireg_backing_page_size(backing), hdr, 0,
					 &lay);
		if (ret)
			goto err_free;
		ret = __ireg_pool_reserve(pool, backing, shared, lay.size,
					  why[i], sizeof(why[i]));
		if (!ret)
			break;
	}
	if (ret) {
		if (n == 1)
			__ireg_fail(ctx, -ret, "pool: %s", why[0]);
		else
			__ireg_fail(ctx, -ret, "pool: no backing: %s; %s; %s",
				    why[0], why[1], why[2]);
		goto err_free;
	}

	__ireg_pool_set_geometry(pool, &lay);
	ret = __ireg_pool_init_allocator(pool, params->buf_align);
	if (ret) {
		__ireg_fail(ctx, -ret, "pool: allocator state: %s",
			    strerror(-ret));
		goto err_teardown;
	}
	ret = __ireg_pool_cache_init(pool, params->cache_size);
	if (ret)
		goto err_teardown;
	ret = pool_finish(ctx, pool, params->prot, params->map);
	if (ret)
		goto err_teardown;
	if (shared)
		pool_write_hdr(pool);
	*poolp = pool;
	return 0;

err_teardown:
	pool_teardown(pool);
	return ret;
err_free:
	pool_free_struct(pool);
	return ret;
}

int ireg_pool_create_mem(void *addr, size_t size, uint64_t iova,
			 const struct ireg_pool_params *user,
			 struct ireg_pool **poolp)
{
	struct ireg_pool_params p, *params = &p;
	struct pool_layout lay;
	struct ireg_pool *pool;
	int ret;

	*poolp = NULL;
	ret = __ireg_opts_in(&p, sizeof(p), user, "pool params");
	if (ret)
		return ret;
	ret = __ireg_pool_check_params(NULL, params, true);
	if (ret)
		return ret;
	if (params->flags & ~IREG_POOL_MT)
		return __ireg_failf(EINVAL,
				    "pool over memory: flags 0x%x (only IREG_POOL_MT)",
				    params->flags);
	if (!addr || (uintptr_t)addr & (HEAP_UNIT - 1))
		return __ireg_failf(EINVAL,
				    "pool over memory: %p not %lu-byte aligned",
				    addr, HEAP_UNIT);
	if ((uintptr_t)addr + size < (uintptr_t)addr)
		return __ireg_failf(EINVAL, "pool over memory: %p+%zu wraps",
				    addr, size);
	ret = __ireg_pool_layout(NULL, params, 0, 0, size, &lay);
	if (ret)
		return ret;
	ret = pool_alloc_struct(&pool);
	if (ret)
		return __ireg_failf(-ret, "pool: out of memory");
	pool->flags = params->flags;
	pool->priv->prot = params->prot;
	pool->base = addr;
	pool->size = size;
	pool->priv->backing = IREG_POOL_BACKING_USER;
	pool->priv->page_size = SZ_4K;
	__ireg_pool_set_geometry(pool, &lay);
	if (iova != IREG_IOVA_INVALID)
		pool_set_iova(pool, iova);
	else
		pool->iova_delta = IREG_IOVA_INVALID - (uintptr_t)addr;
	ret = __ireg_pool_init_allocator(pool, params->buf_align);
	if (ret == -EINVAL)
		__ireg_failf(EINVAL,
			     "pool over memory: %p not aligned to buf_align %zu",
			     addr, params->buf_align);
	else if (ret)
		__ireg_failf(-ret, "pool: allocator state: %s", strerror(-ret));
	if (!ret)
		ret = __ireg_pool_cache_init(pool, params->cache_size);
	if (!ret)
		ret = pool_enter_map(NULL, pool, params->map);
	if (ret) {
		pool_teardown(pool);
		return ret;
	}
	*poolp = pool;
	return 0;
}

/* Nothing in a header written by another process is trusted unchecked. */
static int pool_hdr_check(const struct pool_shm_hdr *hdr,
			  size_t size, struct pool_layout *lay)
{
	memset(lay, 0, sizeof(*lay));
	if (__atomic_load_n(&hdr->magic, __ATOMIC_ACQUIRE) !=
	    POOL_SHM_MAGIC || hdr->version != POOL_SHM_VERSION ||
	    hdr->size != size || hdr->data_size > size - POOL_HDR_SIZE ||
	    hdr->backing > IREG_POOL_BACKING_HUGETLB_1G)
		return -EINVAL;
	lay->kind = hdr->kind;
	lay->data_size = hdr->data_size;
	lay->size = size;
	if (hdr->kind == IREG_POOL_KIND_HEAP)
		return 0;
	if (hdr->kind != IREG_POOL_KIND_BUFS || !hdr->buf_stride ||
	    !hdr->nr_bufs || hdr->nr_bufs > IREG_POOL_MAX_BUFS ||
	    hdr->buf_size > hdr->buf_stride ||
	    hdr->buf_stride > hdr->data_size / hdr->nr_bufs)
		return -EINVAL;
	lay->buf_size = hdr->buf_size;
	lay->buf_stride = hdr->buf_stride;
	lay->nr_bufs = hdr->nr_bufs;
	return 0;
}

int ireg_pool_attach(struct ireg_ctx *ctx, int fd, struct ireg_map *map,
		     unsigned int flags, struct ireg_pool **poolp)
{
	struct pool_shm_hdr hdr;
	struct pool_layout lay;
	struct ireg_pool *pool;
	struct statfs sfs;
	struct stat st;
	bool hugetlb;
	size_t size;
	char *addr;
	int ret;

	*poolp = NULL;
	if (flags)
		return __ireg_fail(ctx, EINVAL, "pool attach: flags must be 0");
	if (fstat(fd, &st) || fstatfs(fd, &sfs))
		return __ireg_fail(ctx, errno, "pool attach: fd %d: %s", fd,
				   strerror(errno));
	size = st.st_size;
	if (size < POOL_HDR_SIZE || size & (SZ_4K - 1))
		return __ireg_fail(ctx, EINVAL,
				   "pool attach: %zu bytes is no shared pool",
				   size);
	hugetlb = sfs.f_type == HUGETLBFS_MAGIC;
	addr = __ireg_mmap_aligned(size, hugetlb || size < SZ_2M ? SZ_4K : SZ_2M,
				   MAP_SHARED | (hugetlb ? MAP_POPULATE : 0), fd);
	if (addr == MAP_FAILED)
		return __ireg_fail(ctx, errno, "pool attach: mmap: %s",
				   strerror(errno));
	memcpy(&hdr, addr + size - POOL_HDR_SIZE, sizeof(hdr));
	ret = pool_hdr_check(&hdr, size, &lay);
	if (ret) {
		munmap(addr, size);
		return __ireg_fail(ctx, -ret,
				   "pool attach: no valid pool header in fd %d",
				   fd);
	}
	/* The creator's advice, before the pages are mapped in. */
	if (!hugetlb) {
		if (hdr.backing == IREG_POOL_BACKING_THP)
			madvise(addr, size, MADV_HUGEPAGE);
		else if (hdr.backing == IREG_POOL_BACKING_4K)
			madvise(addr, size, MADV_NOHUGEPAGE);
		__ireg_populate(addr, size);
	}
	ret = pool_alloc_struct(&pool);
	if (ret) {
		munmap(addr, size);
		return __ireg_fail(ctx, -ret, "pool attach: out of memory");
	}
	pool->flags = hdr.flags & (IREG_POOL_BACKING_FLAGS | IREG_POOL_SHARED);
	pool->priv->attached = true;
	__ireg_pool_own(pool, addr, size, hdr.backing, hugetlb);
	__ireg_pool_set_geometry(pool, &lay);
	/* Without a context, the creator's IOVAs: for its devices. */
	pool_set_iova(pool, hdr.iova);
	ret = pool_finish(ctx, pool, 0, map);
	if (ret) {
		pool_teardown(pool);
		return ret;
	}
	*poolp = pool;
	return 0;
}

void ireg_pool_destroy(struct ireg_pool *pool)
{
	if (pool)
		pool_teardown(pool);
}

int ireg_pool_info(const struct ireg_pool *pool, struct ireg_pool_info *info)
{
	const struct ireg_pool_priv *priv = pool->priv;
	struct ireg_pool_info in;

	in = (struct ireg_pool_info){
		.size = sizeof(in),
		.base = pool->base,
		.mem_size = pool->size,
		.data_size = pool->data_size,
		.iova = pool->iova,
		.backing = priv->backing,
		.kind = pool->kind,
		.flags = pool->flags,
		.page_size = priv->page_size,
		.huge_bytes = priv->huge_bytes,
		.fd = priv->fd,
		.nr_bufs = pool->nr_bufs,
		.buf_size = priv->buf_size,
		.buf_stride = pool->buf_stride,
		.handle = pool->region.handle,
		.registered = pool->region.genp != NULL,
		.attached = priv->attached,
		.cache_size = pool->cache_size,
	};
	return __ireg_opts_out(info, &in, sizeof(in), "pool info");
}
