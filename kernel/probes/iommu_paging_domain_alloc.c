// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_IOMMU_PAGING_DOMAIN_ALLOC: a paging domain is allocated for a
 * device with iommu_paging_domain_alloc(), which returns an ERR_PTR
 * (Linux 6.11 and later); iommu_domain_alloc(bus) is gone from 6.13.
 */
#include <linux/iommu.h>

struct iommu_domain *iommu_reg_probe(struct device *dev);
struct iommu_domain *iommu_reg_probe(struct device *dev)
{
	return iommu_paging_domain_alloc(dev);
}
