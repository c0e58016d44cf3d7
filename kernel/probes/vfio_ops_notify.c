// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_VFIO_OPS_NOTIFY: struct vfio_iommu_driver_ops ends with
 * notify() and VFIO sends VFIO_IOMMU_CONTAINER_CLOSE (up to Linux 6.2).
 * Read from the target kernel's drivers/vfio/vfio.h (IREG_KSRC).
 */
#include <linux/module.h>
#include <vfio.h>	/* drivers/vfio/vfio.h of IREG_KSRC, via -I */

int iommu_reg_probe(struct vfio_iommu_driver_ops *ops);
int iommu_reg_probe(struct vfio_iommu_driver_ops *ops)
{
	return ops->notify ? VFIO_IOMMU_CONTAINER_CLOSE : 1;
}
