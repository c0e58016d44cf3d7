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
static void iommu_reg_ranges_subtract(struct iommu_reg_iova_range *ranges,
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

/* Index of the usable range holding @iova, or -1. */
static int iommu_reg_iova_range_of(const struct iommu_reg_iova_space *space,
				   u64 iova)
{
	int lo = 0, hi = (int)space->nr_ranges - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (iova < space->ranges[mid].start)
			hi = mid - 1;
		else if (iova > space->ranges[mid].last)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

/* Whether every mapping of @c lies inside one of @ranges. */
static int iommu_reg_iova_check_mappings(struct iommu_reg_container *c,
					 struct iommu_reg_iova_range *ranges,
					 unsigned int nr)
{
	const struct iommu_reg_iova_space space = { .ranges = ranges,
						    .nr_ranges = nr };
	struct interval_tree_node *node;

	for (node = interval_tree_iter_first(&c->mapping_tree, 0, U64_MAX);
	     node; node = interval_tree_iter_next(node, 0, U64_MAX)) {
		int i = iommu_reg_iova_range_of(&space, node->start);

		if (i < 0 || node->last > ranges[i].last)
			return -EINVAL;
		cond_resched();
	}
	return 0;
}

/**
 * iommu_reg_iova_space_build - recompute the usable IOVA ranges of a container
 * @c: the container, with its lock held and its domain allocated
 *
 * On failure the previous ranges are kept.  A mapping that the new ranges
 * would no longer hold (a group joined whose reserved regions or aperture
 * exclude it) fails the rebuild with -EINVAL, as type1 refuses such a
 * group: the device would otherwise reach MSI doorbells or its peers
 * through an IOVA the container already uses.
 *
 * Return: 0 or a negative errno.
 */
int iommu_reg_iova_space_build(struct iommu_reg_container *c)
{
	const struct iommu_domain_geometry *geo = &c->domain->geometry;
	struct iommu_reg_iova_range *ranges;
	struct iommu_resv_region *resv, *tmp;
	struct iommu_reg_group *g;
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
		iommu_reg_ranges_subtract(ranges, &nr, resv->start,
					  resv->start + resv->length - 1);
	}

	ret = iommu_reg_iova_check_mappings(c, ranges, nr);
	if (ret) {
		kfree(ranges);
		goto out_put;
	}
	kfree(c->iova.ranges);
	c->iova.ranges = ranges;
	c->iova.nr_ranges = nr;
out_put:
	list_for_each_entry_safe(resv, tmp, &resv_regions, list)
		kfree(resv);
	return ret;
}

void iommu_reg_iova_space_destroy(struct iommu_reg_iova_space *space)
{
	kfree(space->ranges);
	space->ranges = NULL;
	space->nr_ranges = 0;
}

/* The first mapping overlapping [start, last], or NULL. */
static struct interval_tree_node *
iommu_reg_iova_busy(struct iommu_reg_container *c, u64 start, u64 last)
{
	return interval_tree_iter_first(&c->mapping_tree, start, last);
}

/**
 * iommu_reg_iova_claim - check that a caller-chosen IOVA range can be mapped
 * @c: container, locked
 * @iova: start
 * @length: page-aligned length, not zero
 *
 * Return: 0; -EINVAL when @iova is not aligned to the smallest IOMMU page;
 * -EOVERFLOW when the range wraps; -ERANGE when it is not inside one
 * usable range; -EEXIST when a mapping overlaps it.
 */
int iommu_reg_iova_claim(struct iommu_reg_container *c, u64 iova, u64 length)
{
	u64 min_pgsize = 1ULL << __ffs(c->domain->pgsize_bitmap);
	u64 last = iova + length - 1;
	int i;

	lockdep_assert_held(&c->lock);

	if (iova & (min_pgsize - 1))
		return -EINVAL;
	if (last < iova)
		return -EOVERFLOW;
	i = iommu_reg_iova_range_of(&c->iova, iova);
	if (i < 0 || last > c->iova.ranges[i].last)
		return -ERANGE;
	if (iommu_reg_iova_busy(c, iova, last))
		return -EEXIST;
	return 0;
}

/*
 * The first IOVA at or after @from that is congruent to @phase modulo
 * @align, or 0 when that would wrap (callers never search below
 * IOMMU_REG_IOVA_FIRST, so 0 is never a real answer).
 */
static u64 iommu_reg_iova_align_from(u64 from, u64 align, u64 phase)
{
	u64 base = from & ~(align - 1);
	u64 iova = base + phase;

	if (iova < from) {
		if (base + align < base)
			return 0;
		iova += align;
	}
	return iova < from ? 0 : iova;
}

/* Search [from, to] of the usable space for a free, congruent range. */
static int iommu_reg_iova_search(struct iommu_reg_container *c, u64 from,
				 u64 to, u64 length, u64 align, u64 phase,
				 u64 *out)
{
	unsigned int i;

	for (i = 0; i < c->iova.nr_ranges; i++) {
		const struct iommu_reg_iova_range *r = &c->iova.ranges[i];
		u64 iova = max(from, r->start);

		if (r->last < from)
			continue;
		if (r->start > to)
			break;

		for (;;) {
			struct interval_tree_node *busy;
			u64 last;

			iova = iommu_reg_iova_align_from(iova, align, phase);
			if (!iova)
				break;
			last = iova + length - 1;
			if (last < iova || last > r->last)
				break;
			busy = iommu_reg_iova_busy(c, iova, last);
			if (!busy) {
				*out = iova;
				return 0;
			}
			if (busy->last == U64_MAX)
				break;
			iova = busy->last + 1;
			/* Past as many mappings as the container holds. */
			cond_resched();
		}
	}
	return -ENOSPC;
}

/**
 * iommu_reg_iova_alloc - choose an IOVA for a new mapping
 * @c: container, locked
 * @length: page-aligned length, not zero
 * @vaddr: virtual address of the range being mapped
 * @iova: out: the IOVA
 *
 * The IOVA is congruent to @vaddr modulo the largest IOMMU page size not
 * above @length, so huge pages map as huge IOMMU pages.  Allocation moves
 * forward from a hint and wraps around once, so a steady stream of
 * map/unmap does not rescan the mappings behind it.
 *
 * Return: 0 or -ENOSPC.
 */
int iommu_reg_iova_alloc(struct iommu_reg_container *c, u64 length, u64 vaddr,
			 u64 *iova)
{
	u64 pgsizes = c->domain->pgsize_bitmap;
	u64 fit = pgsizes & GENMASK_ULL(__fls(length), 0);
	u64 align = fit ? 1ULL << __fls(fit) : 1ULL << __ffs(pgsizes);
	u64 phase = vaddr & (align - 1);
	int ret;

	lockdep_assert_held(&c->lock);

	ret = iommu_reg_iova_search(c, c->iova_hint, U64_MAX, length, align,
				    phase, iova);
	if (ret && c->iova_hint > IOMMU_REG_IOVA_FIRST)
		ret = iommu_reg_iova_search(c, IOMMU_REG_IOVA_FIRST,
					    c->iova_hint, length, align, phase,
					    iova);
	if (ret)
		return ret;
	c->iova_hint = *iova + length;
	if (!c->iova_hint)
		c->iova_hint = IOMMU_REG_IOVA_FIRST;
	return 0;
}
