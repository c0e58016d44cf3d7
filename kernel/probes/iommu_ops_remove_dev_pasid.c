// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_IOMMU_OPS_REMOVE_DEV_PASID: SVA is an SVA domain attached to
 * a PASID (Linux 6.2 and later); the IOMMU driver then has
 * iommu_ops.remove_dev_pasid.
 */
#include <linux/iommu.h>

bool iommu_reg_probe(const struct iommu_ops *ops);
bool iommu_reg_probe(const struct iommu_ops *ops)
{
	return ops->remove_dev_pasid;
}
