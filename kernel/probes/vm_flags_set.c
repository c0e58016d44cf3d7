// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_VM_FLAGS_SET: vma->vm_flags is changed with vm_flags_set()
 * (Linux 6.3 and later); before, it is written directly.
 */
#include <linux/mm.h>

void iommu_reg_probe(struct vm_area_struct *vma);
void iommu_reg_probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_IO);
}
