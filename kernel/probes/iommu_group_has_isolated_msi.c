// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI: the IOMMU core says whether a
 * group's MSIs are isolated (Linux 6.3 and later).  Before, a backend
 * asks irq_domain_check_msi_remap() and each device's
 * IOMMU_CAP_INTR_REMAP, as type1 does.
 */
#include <linux/iommu.h>

bool iommu_reg_probe(struct iommu_group *group);
bool iommu_reg_probe(struct iommu_group *group)
{
	return iommu_group_has_isolated_msi(group);
}
