// SPDX-License-Identifier: GPL-2.0-only
/*
 * IREG_HAVE_IOMMU_DOMAIN_ALLOC_CONST_BUS: iommu_domain_alloc() exists and
 * takes a const struct bus_type, as struct device::bus is const (about
 * Linux 6.4 to 6.12).  Up to 6.3 both are mutable; from 6.13 the
 * function is gone (see iommu_paging_domain_alloc).
 */
#include <linux/device.h>
#include <linux/iommu.h>

struct iommu_domain *ireg_probe(struct device *dev);
struct iommu_domain *ireg_probe(struct device *dev)
{
	const struct bus_type *bus = dev->bus;

	return iommu_domain_alloc(bus);
}
