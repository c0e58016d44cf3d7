/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * iommu_reg: a VFIO IOMMU backend for pre-registered, pinned DMA buffers.
 *
 * A program selects this backend on a VFIO container exactly as it would
 * select type1:
 *
 *	ioctl(container, VFIO_SET_IOMMU, VFIO_IOMMU_REG);
 *
 * after which the container fd accepts the IOMMU_REG_* ioctls below.
 */
#ifndef _UAPI_LINUX_IOMMU_REG_H
#define _UAPI_LINUX_IOMMU_REG_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>

/**
 * DOC: Backend type number
 *
 * VFIO_IOMMU_REG is both the VFIO_CHECK_EXTENSION number that reports this
 * backend and the VFIO_SET_IOMMU argument that selects it.  It lies far
 * above the numbers upstream VFIO assigns (1 to 10 in Linux 6.1) so it
 * cannot collide with them.  The backend answers VFIO_CHECK_EXTENSION with
 * 1 for this number only, and 0 for every other, so that it never captures
 * a VFIO_SET_IOMMU meant for type1.
 */
#define VFIO_IOMMU_REG			0x4952

/**
 * DOC: Errno contract
 *
 * Every IOMMU_REG_* ioctl follows one contract.  The command struct starts
 * with @argsz (the size user space passes) and @flags.
 *
 * - ENOTTY: the command number is not one of ours.
 * - EINVAL: @argsz is smaller than the command's first published size; an
 *   unknown bit is set in @flags; a reserved field is not zero; a length is
 *   zero; an address or length is not aligned to the smallest IOMMU page.
 * - E2BIG: @argsz is larger than the kernel's struct and the extra tail is
 *   not all zero (a newer program asking for something this module does
 *   not know).
 * - EFAULT: a user pointer could not be read or written.
 * - EOVERFLOW: an address plus length wraps around, or a value does not fit
 *   the field that must carry it.
 * - ENOMEM: out of kernel memory, or over RLIMIT_MEMLOCK.
 * - ENOENT: a handle or IOVA does not name an existing object.
 * - EBUSY: the object is still in use.
 * - EOPNOTSUPP: the request is well formed but the hardware or this
 *   configuration cannot honour it.
 *
 * A failing ioctl changes nothing: no partial state is left behind.
 *
 * A larger @argsz than the kernel knows, with a zero tail, is accepted;
 * output is written up to the smaller of the two sizes.
 */

#define IOMMU_REG_TYPE		VFIO_TYPE
#define IOMMU_REG_BASE		0xc0

/**
 * struct iommu_reg_iova_range - an inclusive range of usable IOVA
 * @start: first usable IOVA
 * @last: last usable IOVA (inclusive, so that the top of a 64-bit space can
 *	be described)
 */
struct iommu_reg_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_reg_info - IOMMU_REG_INFO: describe the container's domain
 * @argsz: size of this struct as known to user space
 * @flags: must be zero
 * @num_groups: out: IOMMU groups attached to the container
 * @num_iova_ranges: in: entries available at @iova_ranges; out: entries the
 *	kernel has.  When the input is smaller, the first @num_iova_ranges
 *	entries are written and the call still succeeds, so a caller can
 *	size its array with a first call of zero.
 * @pgsize_bitmap: out: IOMMU page sizes the domain supports (bit n set
 *	means 2^n bytes)
 * @aperture_start: out: first IOVA the domain can translate
 * @aperture_last: out: last IOVA the domain can translate (inclusive)
 * @iova_ranges: in: user pointer to an array of struct iommu_reg_iova_range
 *	that receives the aperture minus every reserved region (MSI window,
 *	RMRR, ...) of every attached group, in ascending order
 */
struct iommu_reg_info {
	__u32 argsz;
	__u32 flags;
	__u32 num_groups;
	__u32 num_iova_ranges;
	__aligned_u64 pgsize_bitmap;
	__aligned_u64 aperture_start;
	__aligned_u64 aperture_last;
	__aligned_u64 iova_ranges;
};

/**
 * define IOMMU_REG_INFO - describe the container's domain
 *
 * Argument: struct iommu_reg_info.  VFIO routes container ioctls to the
 * backend only once VFIO_SET_IOMMU has attached at least one group, so a
 * domain always exists when this runs.
 */
#define IOMMU_REG_INFO		_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 0)

#endif /* _UAPI_LINUX_IOMMU_REG_H */
