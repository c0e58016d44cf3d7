// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOVA space: the ranges of IO virtual addresses a container may map.
 *
 * The space is the domain's aperture minus the reserved regions of every
 * attached group (the MSI window, RMRRs and whatever else the IOMMU driver
 * reports).  All ranges are inclusive ([start, last]) so the top of a
 * 64-bit aperture can be described without overflow.
 */
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/slab.h>

#include "iommu_reg.h"

/*
 * Remove [start, last] from the sorted, disjoint @ranges.  @ranges has room
 * for one more entry than *@nr, which a split consumes.
 */
static void ireg_ranges_subtract(struct iommu_reg_iova_range *ranges,
				 unsigned int *nr, u64 start, u64 last)
{
	unsigned int i = 0;

	while (i < *nr) {
		struct iommu_reg_iova_range *r = &ranges[i];

		if (last < r->start || start > r->last) {
			i++;
			continue;
		}
		if (start > r->start && last < r->last) {
			/* Split: [r->start, start - 1] and [last + 1, r->last]. */
			memmove(r + 2, r + 1, (*nr - i - 1) * sizeof(*r));
			r[1].start = last + 1;
			r[1].last = r->last;
			r->last = start - 1;
			(*nr)++;
			return;
		}
		if (start <= r->start && last >= r->last) {
			memmove(r, r + 1, (*nr - i - 1) * sizeof(*r));
			(*nr)--;
			continue;
		}
		if (start <= r->start)
			r->start = last + 1;
		else
			r->last = start - 1;
		i++;
	}
}

/**
 * ireg_iova_space_build - recompute the usable IOVA ranges of a container
 * @c: the container, with its lock held and its domain allocated
 *
 * On failure the previous ranges are kept.
 *
 * Return: 0 or a negative errno.
 */
int ireg_iova_space_build(struct ireg_container *c)
{
	const struct iommu_domain_geometry *geo = &c->domain->geometry;
	struct iommu_reg_iova_range *ranges;
	struct iommu_resv_region *resv, *tmp;
	struct ireg_group *g;
	unsigned int nr_resv = 0, nr = 1;
	LIST_HEAD(resv_regions);
	int ret;

	lockdep_assert_held(&c->lock);

	list_for_each_entry(g, &c->groups, node) {
		ret = iommu_get_group_resv_regions(g->iommu_group,
						   &resv_regions);
		if (ret)
			goto out_put;
	}
	list_for_each_entry(resv, &resv_regions, list)
		nr_resv++;

	/* Each reserved region splits at most one range in two. */
	ranges = kcalloc(nr_resv + 1, sizeof(*ranges), GFP_KERNEL_ACCOUNT);
	if (!ranges) {
		ret = -ENOMEM;
		goto out_put;
	}

	ranges[0].start = geo->aperture_start;
	ranges[0].last = geo->aperture_end;
	list_for_each_entry(resv, &resv_regions, list) {
		if (!resv->length)
			continue;
		ireg_ranges_subtract(ranges, &nr, resv->start,
				     resv->start + resv->length - 1);
	}

	kfree(c->iova.ranges);
	c->iova.ranges = ranges;
	c->iova.nr_ranges = nr;
	ret = 0;
out_put:
	list_for_each_entry_safe(resv, tmp, &resv_regions, list)
		kfree(resv);
	return ret;
}

void ireg_iova_space_destroy(struct ireg_iova_space *space)
{
	kfree(space->ranges);
	space->ranges = NULL;
	space->nr_ranges = 0;
}
