/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The type1 ABI (VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA,
 * VFIO_IOMMU_GET_INFO) as a type1 program issues it, on this backend or on
 * the kernel's type1: the _test_x() / test_x() / test_err_x() trio of
 * reg_helpers.h, and the walk of GET_INFO's capability chain.
 */
#ifndef TYPE1_HELPERS_H
#define TYPE1_HELPERS_H

#include "reg_helpers.h"

#define ST_T1_RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static inline int _test_type1_map(int fd, const void *vaddr, uint64_t size,
				  uint64_t iova, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
}

/*
 * VFIO_IOMMU_UNMAP_DMA.  @unmapped: out, the size the backend reports, ~0
 * on failure; may be NULL.
 */
static inline int _test_type1_unmap(int fd, uint64_t iova, uint64_t size,
				    uint32_t flags, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int ret = ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap);

	if (unmapped)
		*unmapped = ret ? ~0ULL : unmap.size;
	return ret;
}

#define test_type1_map(vaddr, size, iova, flags)			\
	ASSERT_EQ(0, _test_type1_map(self->container, vaddr, size, iova,	\
				     flags))
#define test_err_type1_map(_errno, vaddr, size, iova, flags)		\
	EXPECT_ERRNO(_errno, _test_type1_map(self->container, vaddr, size,	\
					     iova, flags))

/* An unmap that must succeed and report @expected bytes. */
#define test_type1_unmap(iova, size, flags, expected)			\
	({								\
		uint64_t __done;					\
		ASSERT_EQ(0, _test_type1_unmap(self->container, iova,	\
					       size, flags, &__done));	\
		EXPECT_EQ((uint64_t)(expected), __done);		\
	})
#define test_err_type1_unmap(_errno, iova, size, flags)		\
	EXPECT_ERRNO(_errno, _test_type1_unmap(self->container, iova,	\
					       size, flags, NULL))

/*
 * Walk the capability chain of a VFIO_IOMMU_GET_INFO answer of @size
 * bytes at @buf for @id; NULL when absent.
 */
static inline struct vfio_info_cap_header *
type1_info_cap(void *buf, size_t size, uint16_t id)
{
	struct vfio_iommu_type1_info *info = buf;
	uint32_t off = info->flags & VFIO_IOMMU_INFO_CAPS ?
		       info->cap_offset : 0;

	while (off && off + sizeof(struct vfio_info_cap_header) <= size) {
		struct vfio_info_cap_header *h = (void *)((uint8_t *)buf + off);

		if (h->id == id)
			return h;
		if (h->next <= off)
			break;
		off = h->next;
	}
	return NULL;
}

#endif /* TYPE1_HELPERS_H */
