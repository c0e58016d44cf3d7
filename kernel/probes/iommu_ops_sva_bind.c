// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_IOMMU_OPS_SVA_BIND: an IOMMU driver that can bind an mm has
 * iommu_ops.sva_bind (up to Linux 6.3).
 */
#include <linux/iommu.h>

bool iommu_reg_probe(const struct iommu_ops *ops);
bool iommu_reg_probe(const struct iommu_ops *ops)
{
	return ops->sva_bind;
}
