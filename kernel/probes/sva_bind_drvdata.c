// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_SVA_BIND_DRVDATA: iommu_sva_bind_device() takes a third,
 * driver-data argument (up to Linux 6.1); later kernels take (dev, mm).
 */
#include <linux/iommu.h>

struct iommu_sva *iommu_reg_probe(struct device *dev, struct mm_struct *mm);
struct iommu_sva *iommu_reg_probe(struct device *dev, struct mm_struct *mm)
{
	return iommu_sva_bind_device(dev, mm, NULL);
}
