// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Regions: thin wrappers of IOMMU_REG_REGISTER and IOMMU_REG_UNREG that
 * fill a struct ireg_region, including where its validity is read in the
 * status area.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "iommureg.h"
#include "internal.h"

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

	if (!ctx->gens)
		return __ireg_fail(ctx, ENODEV,
				   "no device opened: the backend is not selected");
	if (flags & IOMMU_REG_MAP_IOVA_FIXED)
		cmd.iova = region->iova;
	if (ioctl(ctx->container_fd, IOMMU_REG_REGISTER, &cmd))
		return __ireg_fail(ctx, errno, "IOMMU_REG_REGISTER %p+%zu: %s",
				   addr, size, strerror(errno));
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

	if (ioctl(ctx->container_fd, IOMMU_REG_UNREG, &cmd))
		return __ireg_fail(ctx, errno, "IOMMU_REG_UNREG %u: %s",
				   region->handle, strerror(errno));
	return 0;
}
