// SPDX-License-Identifier: GPL-2.0-only
/*
 * type1 compatibility: VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA and
 * VFIO_IOMMU_UNMAP_DMA with the semantics type1 documents, so that a
 * program written for type1 runs unchanged on this backend.  A container
 * selected as VFIO_TYPE1_IOMMU (the drop-in mode, see the type1_compat
 * parameter) gets type1 v1's unmap; every other gets type1 v2's.
 *
 * MAP_DMA of memory that lies inside a region the caller pre-registered
 * maps that region's pinned pages: nothing is pinned again.  Otherwise it
 * pins exactly the range, as an implicit region that lives as long as its
 * mapping.  Dirty-page tracking and VFIO_DMA_MAP_FLAG_VADDR are not
 * offered (VFIO_CHECK_EXTENSION answers 0 for VFIO_UPDATE_VADDR) and are
 * refused with EINVAL.
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "iommu_reg.h"

/* How every VFIO argument struct starts. */
struct iommu_reg_type1_head {
	u32 argsz;
	u32 flags;
};

/*
 * Read the fixed part of a type1 argument, @minsz bytes, into @dst and
 * check its head as type1 does: EFAULT when it cannot be read, EINVAL
 * when argsz is short of it or a flag is not in @valid_flags.
 */
static int iommu_reg_type1_copy_in(void *dst, const void __user *arg,
				   size_t minsz, u32 valid_flags)
{
	const struct iommu_reg_type1_head *head = dst;

	if (copy_from_user(dst, arg, minsz))
		return -EFAULT;
	if (head->argsz < minsz || head->flags & ~valid_flags)
		return -EINVAL;
	return 0;
}

static int iommu_reg_type1_add_caps(struct iommu_reg_container *c,
				    struct vfio_info_cap *caps)
{
	struct vfio_iommu_type1_info_cap_iova_range *iova_cap;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_info_cap_header *header;
	size_t size;
	unsigned int i;

	size = struct_size(iova_cap, iova_ranges, c->iova.nr_ranges);
	header = vfio_info_cap_add(caps, size,
				   VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	if (IS_ERR(header))
		return PTR_ERR(header);
	iova_cap = container_of(header,
				struct vfio_iommu_type1_info_cap_iova_range,
				header);
	iova_cap->nr_iovas = c->iova.nr_ranges;
	for (i = 0; i < c->iova.nr_ranges; i++) {
		iova_cap->iova_ranges[i].start = c->iova.ranges[i].start;
		iova_cap->iova_ranges[i].end = c->iova.ranges[i].last;
	}

	header = vfio_info_cap_add(caps, sizeof(*avail),
				   VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1);
	if (IS_ERR(header))
		return PTR_ERR(header);
	avail = container_of(header, struct vfio_iommu_type1_info_dma_avail,
			     header);
	/* max_regions may have been lowered below what the container holds. */
	avail->avail = iommu_reg_region_limit(c) -
		       min(c->nr_regions, iommu_reg_region_limit(c));
	return 0;
}

static long iommu_reg_type1_get_info(struct iommu_reg_container *c,
				     void __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_info,
					 iova_pgsizes);
	struct vfio_info_cap caps = {};
	/* Zeroed: its padding is copied out too. */
	struct vfio_iommu_type1_info info = {};
	u32 argsz;
	int ret;

	/* Its flags are output only: whatever they hold is ignored. */
	ret = iommu_reg_type1_copy_in(&info, arg, minsz, ~0U);
	if (ret)
		return ret;
	/* Never write past what the caller gave, whatever we report back. */
	argsz = info.argsz;

	mutex_lock(&c->lock);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = c->domain->pgsize_bitmap;
	ret = iommu_reg_type1_add_caps(c, &caps);
	mutex_unlock(&c->lock);
	if (ret)
		goto out_free;

	info.cap_offset = 0;
	if (argsz >= offsetofend(struct vfio_iommu_type1_info, cap_offset)) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (argsz < sizeof(info) + caps.size) {
			/* Tell the caller how much room the caps need. */
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + sizeof(info), caps.buf,
					 caps.size)) {
				ret = -EFAULT;
				goto out_free;
			}
			info.cap_offset = sizeof(info);
		}
	}

	if (copy_to_user(arg, &info, min_t(size_t, argsz, sizeof(info))))
		ret = -EFAULT;
out_free:
	kfree(caps.buf);
	return ret;
}

static long iommu_reg_type1_map_dma(struct iommu_reg_container *c,
				    void __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	const u32 mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	struct vfio_iommu_type1_dma_map map;
	struct iommu_reg_mapping *m;
	struct iommu_reg_region *r;
	LIST_HEAD(to_free);
	u32 prot = 0, rflags;
	u64 iova;
	int ret;

	ret = iommu_reg_type1_copy_in(&map, arg, minsz, mask);
	if (ret)
		return ret;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_REG_PROT_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_REG_PROT_WRITE;
	/* type1 answers EINVAL for every malformed range. */
	if (!prot || !map.size || !PAGE_ALIGNED(map.size | map.iova | map.vaddr))
		return -EINVAL;
	if (map.iova + map.size - 1 < map.iova ||
	    map.vaddr + map.size - 1 < map.vaddr ||
	    map.vaddr + map.size - 1 > ULONG_MAX)
		return -EINVAL;

	mutex_lock(&c->lock);
	/* Cheap checks first: nothing is pinned for a map that must fail. */
	ret = iommu_reg_iova_claim(c, map.iova, map.size);
	if (ret)
		goto out_unlock;
	r = iommu_reg_region_find_covering(c, map.vaddr,
					   map.vaddr + map.size - 1,
					   prot & IOMMU_REG_PROT_WRITE);
	if (r && r->refs < UINT_MAX) {
		r->refs++;
	} else {
		mutex_unlock(&c->lock);
		/* Returns with the lock held again, so r cannot go. */
		rflags = prot & IOMMU_REG_PROT_WRITE ?
			 0 : IOMMU_REG_REGION_READONLY;
		r = iommu_reg_region_get_or_create(c, map.vaddr, map.size,
						   rflags, &to_free);
		if (IS_ERR(r)) {
			iommu_reg_region_destroy_list(&to_free);
			return PTR_ERR(r);
		}
	}

	iova = map.iova;
	m = iommu_reg_mapping_create(c, r, map.vaddr - r->node.start, map.size,
				     prot, IOMMU_REG_MAP_IOVA_FIXED,
				     IOMMU_REG_MAPPING_TYPE1, &iova);
	ret = PTR_ERR_OR_ZERO(m);
	/*
	 * Drop the reference taken above; on success the type1 mapping now
	 * holds the region, on failure an implicit region goes away.
	 */
	r->refs--;
	iommu_reg_region_release_if_unused(c, r, &to_free);
out_unlock:
	mutex_unlock(&c->lock);
	iommu_reg_region_destroy_list(&to_free);
	if (ret == -ERANGE)
		ret = -EINVAL;
	return ret;
}

/*
 * Dirty tracking is never on (VFIO_IOMMU_DIRTY_PAGES is not offered), so
 * type1 refuses every GET_DIRTY_BITMAP unmap with EINVAL, but only after
 * reading the struct vfio_bitmap that follows: EFAULT when it cannot.
 */
static long
iommu_reg_type1_unmap_dirty(const struct vfio_iommu_type1_dma_unmap *unmap,
			    void __user *arg, size_t minsz)
{
	struct vfio_bitmap bitmap;

	if (unmap->flags & ~VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP ||
	    unmap->argsz < minsz + sizeof(bitmap))
		return -EINVAL;
	if (copy_from_user(&bitmap, arg + minsz, sizeof(bitmap)))
		return -EFAULT;
	return -EINVAL;
}

static long iommu_reg_type1_unmap_dma(struct iommu_reg_container *c,
				      void __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					 size);
	const u32 mask = VFIO_DMA_UNMAP_FLAG_ALL |
			 VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	struct vfio_iommu_type1_dma_unmap unmap;
	LIST_HEAD(to_free);
	u64 last, unmapped;
	int ret;

	ret = iommu_reg_type1_copy_in(&unmap, arg, minsz, mask);
	if (ret)
		return ret;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)
		return iommu_reg_type1_unmap_dirty(&unmap, arg, minsz);

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		last = U64_MAX;
	} else {
		if (!unmap.size || !PAGE_ALIGNED(unmap.iova | unmap.size))
			return -EINVAL;
		last = unmap.iova + unmap.size - 1;
		if (last < unmap.iova)
			return -EINVAL;
	}

	mutex_lock(&c->lock);
	ret = iommu_reg_mapping_unmap_range(c, unmap.iova, last,
					    c->vfio_type == VFIO_TYPE1_IOMMU,
					    &unmapped, &to_free);
	mutex_unlock(&c->lock);
	iommu_reg_region_destroy_list(&to_free);
	if (ret)
		return ret;

	unmap.size = unmapped;
	if (copy_to_user(arg, &unmap, minsz))
		return -EFAULT;
	return 0;
}

/**
 * iommu_reg_type1_ioctl - handle the type1 container ioctls
 * @c: the container
 * @cmd: ioctl number
 * @arg: user argument
 *
 * Return: the ioctl's result, or -ENOTTY when @cmd is not a type1 ioctl.
 */
long iommu_reg_type1_ioctl(struct iommu_reg_container *c, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return iommu_reg_type1_get_info(c, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return iommu_reg_type1_map_dma(c, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return iommu_reg_type1_unmap_dma(c, uarg);
	default:
		return -ENOTTY;
	}
}
