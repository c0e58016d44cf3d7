/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg shared addressing and write-combining BARs: wrappers of
 * IOMMU_REG_SVA_INFO, IOMMU_REG_SVA_BIND, IOMMU_REG_SVA_UNBIND and
 * IOMMU_REG_WC_BAR, and ireg_share(), which gives a device the caller's
 * addresses through SVA where the device and the kernel can, and through
 * an identity-mapped (IOVA == VA), pinned registration elsewhere.
 * Included by <iommureg.h>.
 *
 * Devices are named by BDF ("0000:00:03.0" or "00:03.0"); the device's
 * group must be in the context (ireg_device_open()).  Conventions as in
 * <iommureg.h>: 0 or a non-negative value on success, a negative errno on
 * failure, the reason in ireg_ctx_errmsg().
 */
#ifndef LIBIOMMUREG_SVA_H
#define LIBIOMMUREG_SVA_H

#include <stddef.h>
#include <stdint.h>
#include <linux/iommu_reg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_ctx;

int ireg_sva_info(struct ireg_ctx *ctx, const char *bdf,
		  struct iommu_reg_sva_device *devs, unsigned int nr_devs);
int ireg_sva_bind(struct ireg_ctx *ctx, const char *bdf, uint32_t *pasid);
int ireg_sva_unbind(struct ireg_ctx *ctx, const char *bdf);
const char *ireg_sva_cap_name(uint32_t cap);

/**
 * struct ireg_wc_bar - a write-combining mapping of a BAR window
 * @addr: the mapping (BAR offset @offset)
 * @length: bytes mapped
 * @offset: BAR offset of @addr
 * @bar_size: size of the BAR
 * @fd: the kernel's WC BAR fd behind the mapping
 * @bar: BAR index
 */
struct ireg_wc_bar {
	void *addr;
	size_t length;
	uint64_t offset;
	uint64_t bar_size;
	int fd;
	unsigned int bar;
};

int ireg_wc_bar_map(struct ireg_ctx *ctx, const char *bdf, unsigned int bar,
		    uint64_t offset, size_t length, struct ireg_wc_bar *wc);
int ireg_wc_bar_unmap(struct ireg_wc_bar *wc);

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

#endif /* LIBIOMMUREG_SVA_H */
