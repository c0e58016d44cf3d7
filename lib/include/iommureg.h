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
 */
#ifndef LIBIOMMUREG_H
#define LIBIOMMUREG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/iommu_reg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_ctx;

/* Flags for ireg_ctx_open(). */
#define IREG_CTX_NO_BACKEND_CHECK	(1U << 0)

int ireg_ctx_open(struct ireg_ctx **ctxp, unsigned int flags);
void ireg_ctx_close(struct ireg_ctx *ctx);
int ireg_ctx_container_fd(const struct ireg_ctx *ctx);
const char *ireg_ctx_errmsg(const struct ireg_ctx *ctx);

int ireg_device_open(struct ireg_ctx *ctx, const char *bdf);
int ireg_ctx_info(struct ireg_ctx *ctx, struct iommu_reg_info *info,
		  struct iommu_reg_iova_range *ranges, unsigned int nr_ranges);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_H */
