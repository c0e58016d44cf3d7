// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_GUP_REMOTE_VMAS: get_user_pages_remote() takes a vmas array
 * before @locked (Linux 6.4 and earlier); later kernels dropped it.
 */
#include <linux/mm.h>

long iommu_reg_probe(struct mm_struct *mm, unsigned long start,
		     struct page **pages);
long iommu_reg_probe(struct mm_struct *mm, unsigned long start,
		     struct page **pages)
{
	return get_user_pages_remote(mm, start, 1, FOLL_NOFAULT, pages, NULL,
				     NULL);
}
