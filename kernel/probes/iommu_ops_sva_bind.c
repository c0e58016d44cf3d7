// SPDX-License-Identifier: GPL-2.0-only
/*
 * IREG_HAVE_IOMMU_OPS_SVA_BIND: an IOMMU driver that can bind an mm has
 * iommu_ops.sva_bind (up to Linux 6.3).
 */
#include <linux/iommu.h>

bool ireg_probe(const struct iommu_ops *ops);
bool ireg_probe(const struct iommu_ops *ops)
{
	return ops->sva_bind;
}
