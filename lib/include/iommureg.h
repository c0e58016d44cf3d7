/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg: register-once, zero-copy DMA buffers through the iommu_reg
 * VFIO IOMMU backend.
 *
 * The error rule, for every function of the library:
 *  - A function that returns int (or another integer) returns 0 or a
 *    non-negative value on success and a negative errno on failure, as
 *    liburing does.  It never sets errno itself: its result is the
 *    errno (a failure it finds in its arguments leaves errno as it was;
 *    a system call it makes may change errno on the way, so do not read
 *    errno after it).
 *  - A function that returns a pointer to memory it allocates
 *    (ireg_pool_alloc(), ireg_pool_buf_alloc()) returns NULL on failure
 *    and sets errno, as malloc() does.  Only these set errno.
 *  - A failure also leaves the reason in words in the calling thread's
 *    last-error message, ireg_errmsg(): thread-local, so threads sharing
 *    a context cannot overwrite each other's; a success leaves it as it
 *    was, so read it only right after a failure.  The fast paths whose
 *    failure is an expected outcome with one cause (a ring full or
 *    empty, a pool out of buffers, a free of what is not the pool's) say
 *    it by errno alone and do not touch the message.
 *  - Bad input fails with a clear errno (EINVAL, ERANGE, E2BIG...) and
 *    changes nothing.
 *
 * Thread safety: a context is not safe for concurrent calls to the
 * functions in this header unless a function says otherwise:
 * ireg_ctx_info(), ireg_ctx_container_fd(), the SVA calls and
 * ireg_wc_bar_map() may race with any call on it but ireg_ctx_close();
 * ireg_region_register() and ireg_region_unregister() may race with any
 * call on it but ireg_ctx_close() and ireg_device_open(), and, on a
 * context opened with IREG_CTX_DONTFORK, with each other.
 * ireg_region_valid() and ireg_region_iova(): any thread, any time
 * until ireg_ctx_close().
 * ireg_errmsg() is safe from any thread (each sees its own message).
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
/* The kernel's uapi, installed with the library (not in <linux/>). */
#include "iommureg/uapi/iommu_reg.h"
#include "iommureg/version.h"

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

/* Flags for ireg_ctx_adopt(). */
#define IREG_CTX_ADOPT_BORROW		(1U << 0)	/* the fd itself, no dup */
#define IREG_CTX_ADOPT_SET_IOMMU	(1U << 1)	/* select iommu_reg */

int ireg_ctx_adopt(struct ireg_ctx **ctxp, int container_fd,
		   unsigned int flags);
void ireg_ctx_close(struct ireg_ctx *ctx);
int ireg_ctx_container_fd(const struct ireg_ctx *ctx);
/* The calling thread's last failure in words ("" before any). */
const char *ireg_errmsg(void);
/* The same; @ctx is not used and may be NULL (kept from version 1). */
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
