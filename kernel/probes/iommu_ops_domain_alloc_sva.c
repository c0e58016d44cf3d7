// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_IOMMU_OPS_DOMAIN_ALLOC_SVA: an IOMMU driver that can bind an
 * mm allocates SVA domains with iommu_ops.domain_alloc_sva (Linux 6.8 or
 * so); the only sign left once iommu_ops.remove_dev_pasid went away.
 */
#include <linux/iommu.h>

bool iommu_reg_probe(const struct iommu_ops *ops);
bool iommu_reg_probe(const struct iommu_ops *ops)
{
	return ops->domain_alloc_sva;
}
