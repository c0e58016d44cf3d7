/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg ireg_share(): give a device the caller's addresses through
 * SVA where the device and the kernel can, and through an identity-mapped
 * (IOVA == VA), pinned registration elsewhere.  Included by <iommureg.h>.
 *
 * Devices are named by BDF ("0000:00:03.0" or "00:03.0"); the device's
 * group must be in the context (ireg_device_open()).  Conventions as in
 * <iommureg.h>: 0 or a non-negative value on success, a negative errno on
 * failure, the reason in ireg_ctx_errmsg().
 */
#ifndef LIBIOMMUREG_SHARE_H
#define LIBIOMMUREG_SHARE_H

/* struct ireg_region, struct ireg_ctx; a no-op inside <iommureg.h>. */
#include "../iommureg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ireg_share.mode */
#define IREG_SHARE_SVA		1	/* bound: every address, PASID-tagged */
#define IREG_SHARE_IDENTITY	2	/* [addr, addr + len) pinned, IOVA == VA */

/* Flags for ireg_share(). */
#define IREG_SHARE_NO_SVA	(1U << 0)	/* identity even where SVA works */
#define IREG_SHARE_READONLY	(1U << 1)	/* identity: device reads only */

/**
 * struct ireg_share - how a device reaches the caller's addresses
 * @mode: IREG_SHARE_SVA or IREG_SHARE_IDENTITY
 * @pasid: SVA: the PASID the device must tag its requests with
 * @region: IDENTITY: the registration, page-aligned around the request;
 *	@region.iova == @region.addr
 * @sva_missing: IOMMU_REG_SVA_CAP_* bits SVA needs and the device or the
 *	IOMMU lacks (IOMMU_REG_SVA_INFO's @missing); 0 if none
 * @sva_errno: IDENTITY: the positive errno the SVA bind attempt got, 0
 *	when it was not attempted
 * @reason: IDENTITY: why SVA was not used, in words
 * @bdf: the device, normalised
 */
struct ireg_share {
	unsigned int mode;
	uint32_t pasid;
	struct ireg_region region;
	uint32_t sva_missing;
	int sva_errno;
	char reason[160];
	char bdf[24];
};

int ireg_share(struct ireg_ctx *ctx, const char *bdf, void *addr, size_t len,
	       unsigned int flags, struct ireg_share *share);
int ireg_unshare(struct ireg_ctx *ctx, struct ireg_share *share);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_SHARE_H */
