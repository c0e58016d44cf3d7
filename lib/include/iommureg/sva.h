/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg shared virtual addressing: wrappers of IOMMU_REG_SVA_INFO,
 * IOMMU_REG_SVA_BIND and IOMMU_REG_SVA_UNBIND.  Included by <iommureg.h>.
 * For compatibility it includes <iommureg/wcbar.h> (write-combining BARs)
 * and <iommureg/share.h> (ireg_share()), which were once part of it.
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
#include "uapi/iommu_reg.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_ctx;

int ireg_sva_info(struct ireg_ctx *ctx, const char *bdf,
		  struct iommu_reg_sva_device *devs, unsigned int nr_devs);
int ireg_sva_bind(struct ireg_ctx *ctx, const char *bdf, uint32_t *pasid);
int ireg_sva_unbind(struct ireg_ctx *ctx, const char *bdf);
const char *ireg_sva_cap_name(uint32_t cap);

#ifdef __cplusplus
}
#endif

/* Once declared here: included for the programs that still look here. */
#include "wcbar.h"
#include "share.h"

#endif /* LIBIOMMUREG_SVA_H */
