// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_IOMMU_MAP_GFP: iommu_map() takes the gfp flags of the page
 * table allocations (Linux 6.3 and later); type1 passes
 * GFP_KERNEL_ACCOUNT.
 */
#include <linux/gfp.h>
#include <linux/iommu.h>

struct iommu_domain *iommu_reg_probe(struct iommu_domain *domain);
struct iommu_domain *iommu_reg_probe(struct iommu_domain *domain)
{
	if (iommu_map(domain, 0, 0, PAGE_SIZE, 0, GFP_KERNEL_ACCOUNT))
		return NULL;
	return domain;
}
