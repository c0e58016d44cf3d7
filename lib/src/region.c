// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Regions: thin wrappers of IOMMU_REG_REGISTER and IOMMU_REG_UNREG that
 * fill a struct ireg_region, including where its validity is read in the
 * status area.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "iommureg.h"
#include "internal.h"

/*
 * IREG_CTX_DONTFORK: every registration's pages are MADV_DONTFORK (a
 * child gets no copy of them, so nothing it does can be confused with the
 * parent's pinned pages), and an unregistration gives MADV_DOFORK back to
 * the pages no other registration of the context covers.  The context
 * keeps the ranges it advised: an unregistration costs O(registrations^2)
 * at worst, O(registrations) when they do not overlap.
 */
static int dontfork_add(struct ireg_ctx *ctx, uintptr_t addr, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = addr & ~(uintptr_t)(page - 1);
	uintptr_t end = (addr + size + page - 1) & ~(uintptr_t)(page - 1);
	struct ctx_range *r;

	r = realloc(ctx->dontfork, (ctx->nr_dontfork + 1) * sizeof(*r));
	if (!r)
		return __ireg_fail(ctx, ENOMEM,
				   "IREG_CTX_DONTFORK: out of memory");
	ctx->dontfork = r;
	if (madvise((void *)start, end - start, MADV_DONTFORK))
		return __ireg_fail(ctx, errno,
				   "IREG_CTX_DONTFORK: madvise %p+%zu: %s",
				   (void *)start, (size_t)(end - start),
				   strerror(errno));
	r[ctx->nr_dontfork].start = start;
	r[ctx->nr_dontfork].end = end;
	ctx->nr_dontfork++;
	return 0;
}

static void dontfork_del(struct ireg_ctx *ctx, uintptr_t addr, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = addr & ~(uintptr_t)(page - 1);
	uintptr_t end = (addr + size + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t p, q;
	size_t i, j;

	for (i = 0; i < ctx->nr_dontfork; i++)
		if (ctx->dontfork[i].start == start &&
		    ctx->dontfork[i].end == end)
			break;
	if (i == ctx->nr_dontfork)
		return;
	ctx->dontfork[i] = ctx->dontfork[--ctx->nr_dontfork];
	/*
	 * Walk [start, end) from boundary to boundary of the other ranges:
	 * DOFORK the runs none of them covers.
	 */
	for (p = start; p < end; p = q) {
		bool covered = false;

		q = end;
		for (j = 0; j < ctx->nr_dontfork; j++) {
			const struct ctx_range *o = &ctx->dontfork[j];

			if (o->start <= p && p < o->end)
				covered = true;
			if (o->start > p && o->start < q)
				q = o->start;
			if (o->end > p && o->end < q)
				q = o->end;
		}
		if (!covered)
			madvise((void *)p, q - p, MADV_DOFORK);
	}
}

int ireg_region_register(struct ireg_ctx *ctx, void *addr, size_t size,
			 uint32_t prot, uint32_t flags,
			 struct ireg_region *region)
{
	struct iommu_reg_register cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.vaddr = (uintptr_t)addr,
		.size = size,
		.prot = prot,
	};
	int ret = __ireg_ctx_check_fork(ctx);

	if (ret)
		return ret;
	if (!ctx->gens)
		return __ireg_fail(ctx, ENODEV,
				   "no device opened: the backend is selected at the first ireg_device_open()");
	if (flags & IOMMU_REG_MAP_IOVA_FIXED)
		cmd.iova = region->iova;
	if (ioctl(ctx->container_fd, IOMMU_REG_REGISTER, &cmd))
		return __ireg_fail(ctx, errno, "IOMMU_REG_REGISTER %p+%zu: %s",
				   addr, size, strerror(errno));
	if (ctx->flags & IREG_CTX_DONTFORK) {
		ret = dontfork_add(ctx, (uintptr_t)addr, size);
		if (ret) {
			struct iommu_reg_unreg un = {
				.argsz = sizeof(un),
				.handle = cmd.handle,
			};

			ioctl(ctx->container_fd, IOMMU_REG_UNREG, &un);
			return ret;
		}
	}
	region->addr = (uintptr_t)addr;
	region->size = size;
	region->iova = cmd.iova;
	region->handle = cmd.handle;
	region->prot = prot;
	region->generation = cmd.generation;
	region->genp = &ctx->gens[cmd.slot];
	return 0;
}

int ireg_region_unregister(struct ireg_ctx *ctx,
			   const struct ireg_region *region)
{
	struct iommu_reg_unreg cmd = {
		.argsz = sizeof(cmd),
		.handle = region->handle,
	};
	int ret = __ireg_ctx_check_fork(ctx);

	if (ret)
		return ret;
	if (ioctl(ctx->container_fd, IOMMU_REG_UNREG, &cmd))
		return __ireg_fail(ctx, errno, "IOMMU_REG_UNREG %u: %s",
				   region->handle, strerror(errno));
	if (ctx->flags & IREG_CTX_DONTFORK)
		dontfork_del(ctx, region->addr, region->size);
	return 0;
}
