// SPDX-License-Identifier: GPL-2.0-only
/*
 * IREG_HAVE_VM_FLAGS_SET: vma->vm_flags is changed with vm_flags_set()
 * (Linux 6.3 and later); before, it is written directly.
 */
#include <linux/mm.h>

void ireg_probe(struct vm_area_struct *vma);
void ireg_probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_IO);
}
