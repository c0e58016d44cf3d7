// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_IOMMU_DEV_FEAT_IOPF: per-device IOMMU features are enabled
 * with iommu_dev_enable_feature() (removed in later kernels, where the
 * SVA domain attach enables what it needs).
 */
#include <linux/iommu.h>

int iommu_reg_probe(struct device *dev);
int iommu_reg_probe(struct device *dev)
{
	return iommu_dev_enable_feature(dev, IOMMU_DEV_FEAT_IOPF) +
	       iommu_dev_disable_feature(dev, IOMMU_DEV_FEAT_SVA);
}
