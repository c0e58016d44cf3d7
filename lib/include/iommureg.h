/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg: register-once, zero-copy DMA buffers through the iommu_reg
 * VFIO IOMMU backend.
 *
 * Conventions: functions that can fail return 0 (or a non-negative value)
 * on success and a negative errno on failure, as liburing does; errno is
 * not used.  A human-readable reason for the last failure on a context is
 * kept in ireg_ctx_errmsg().
 *
 * Thread safety: a context is not safe for concurrent calls to the
 * functions in this header unless a function says otherwise.
 *
 * fork(): in a child, a context, cache or pool made before the fork
 * refuses (-ECHILD) every call that would issue an ioctl or hand out an
 * IOVA (its registrations map the parent's pages); destroying it there
 * frees the child's copy and unregisters nothing.  See ireg_ctx_open(3).
 */
#ifndef LIBIOMMUREG_H
#define LIBIOMMUREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/iommu_reg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_ctx;

/*
 * Flags for ireg_ctx_open().
 * IREG_CTX_DONTFORK: make every registration's pages MADV_DONTFORK (a
 *	child process gets no copy of them); see ireg_ctx_open(3)
 */
#define IREG_CTX_NO_BACKEND_CHECK	(1U << 0)
#define IREG_CTX_DONTFORK		(1U << 1)

int ireg_ctx_open(struct ireg_ctx **ctxp, unsigned int flags);
void ireg_ctx_close(struct ireg_ctx *ctx);
int ireg_ctx_container_fd(const struct ireg_ctx *ctx);
const char *ireg_ctx_errmsg(const struct ireg_ctx *ctx);

int ireg_device_open(struct ireg_ctx *ctx, const char *bdf);
int ireg_ctx_info(struct ireg_ctx *ctx, struct iommu_reg_info *info,
		  struct iommu_reg_iova_range *ranges, unsigned int nr_ranges);
int ireg_ctx_notify_fd(const struct ireg_ctx *ctx);

/*
 * Regions: one kernel registration each (IOMMU_REG_REGISTER), pinned and
 * mapped until unregistered.  The building block of the cache and the
 * pools; most programs use those instead.
 */

/* Flags for ireg_region_register(): the kernel's IOMMU_REG_REGION_* and
 * IOMMU_REG_MAP_IOVA_* flags. */

/**
 * struct ireg_region - a registration as the kernel returned it
 * @addr: first byte registered
 * @size: bytes registered
 * @iova: IOVA of @addr
 * @handle: the kernel's handle
 * @prot: IOMMU_REG_PROT_* of the mapping
 * @generation: valid while the status area's slot holds this value
 * @genp: that slot, in the read-only status area
 */
struct ireg_region {
	uintptr_t addr;
	size_t size;
	uint64_t iova;
	uint32_t handle;
	uint32_t prot;
	uint32_t generation;
	const uint32_t *genp;
};

int ireg_region_register(struct ireg_ctx *ctx, void *addr, size_t size,
			 uint32_t prot, uint32_t flags,
			 struct ireg_region *region);
int ireg_region_unregister(struct ireg_ctx *ctx,
			   const struct ireg_region *region);

/*
 * Still valid?  False once the memory behind the region was unmapped or
 * replaced (the kernel moved the slot's generation on).  One load, no
 * system call; safe from any thread.
 */
static inline bool ireg_region_valid(const struct ireg_region *region)
{
	return __atomic_load_n(region->genp, __ATOMIC_ACQUIRE) ==
	       region->generation;
}

/* IOVA of @ptr, which must lie inside @region.  One add. */
static inline uint64_t ireg_region_iova(const struct ireg_region *region,
					const void *ptr)
{
	return region->iova + ((uintptr_t)ptr - region->addr);
}

#ifdef __cplusplus
}
#endif

#include "iommureg/cache.h"
#include "iommureg/map.h"
#include "iommureg/pci.h"
#include "iommureg/pool.h"
#include "iommureg/ring.h"
#include "iommureg/share.h"
#include "iommureg/sva.h"
#include "iommureg/wcbar.h"

#endif /* LIBIOMMUREG_H */
