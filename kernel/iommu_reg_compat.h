/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small wrappers over kernel interfaces that changed between the kernel
 * lines the module builds for (Debian's 6.1, 6.12 and 7.x).  Each choice
 * follows a compile probe (kernel/probes/, ireg_config.h), never a
 * version number.
 */
#ifndef IOMMU_REG_COMPAT_H
#define IOMMU_REG_COMPAT_H

#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <net/genetlink.h>

#include "ireg_config.h"

/*
 * iommu_map(): from Linux 6.3 the caller says how to allocate page
 * tables; like type1, charge them to the caller's memory cgroup.
 */
static inline int iommu_reg_iommu_map(struct iommu_domain *domain,
				      unsigned long iova, phys_addr_t paddr,
				      size_t size, int prot)
{
#ifdef IOMMU_REG_HAVE_IOMMU_MAP_GFP
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/* vma->vm_flags is read-only from Linux 6.3: change it with the helpers. */
static inline void iommu_reg_vm_flags_set(struct vm_area_struct *vma,
					  unsigned long flags)
{
#ifdef IOMMU_REG_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void iommu_reg_vm_flags_clear(struct vm_area_struct *vma,
					    unsigned long flags)
{
#ifdef IOMMU_REG_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/* The parsed attributes of a dump request (genl_info_dump from 6.6). */
static inline struct nlattr **
iommu_reg_genl_dump_attrs(struct netlink_callback *cb)
{
#ifdef IOMMU_REG_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* IOMMU_REG_COMPAT_H */
