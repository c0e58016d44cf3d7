// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_VFIO_IOMMU_DRIVER_OPS: the target kernel's private
 * drivers/vfio/vfio.h (from IREG_KSRC) declares the IOMMU-backend
 * interface.  From Linux 6.2 it does so only with CONFIG_VFIO_CONTAINER;
 * without it no VFIO IOMMU backend can exist.
 */
#include <linux/module.h>
#include <vfio.h>	/* drivers/vfio/vfio.h of IREG_KSRC, via -I */

int iommu_reg_probe(const struct vfio_iommu_driver_ops *ops);
int iommu_reg_probe(const struct vfio_iommu_driver_ops *ops)
{
	return vfio_register_iommu_driver(ops);
}
