// SPDX-License-Identifier: GPL-2.0-only
/*
 * Build-time check of vfio_compat.h against the target kernel's private
 * drivers/vfio/vfio.h (taken from the kernel source package).
 *
 * Our declarations are included under renamed identifiers, then the real
 * header is included, and every size, member offset and enumerator value
 * is compared with static_assert.  This object contains no code: it exists
 * so that a mismatch stops the build instead of crashing a kernel.
 */
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/stddef.h>

#define vfio_iommu_driver_ops		iommu_reg_decl_vfio_iommu_driver_ops
#define vfio_group_type			iommu_reg_decl_vfio_group_type
#define vfio_iommu_notify_type		iommu_reg_decl_vfio_iommu_notify_type
#define VFIO_IOMMU			IOMMU_REG_DECL_VFIO_IOMMU
#define VFIO_EMULATED_IOMMU		IOMMU_REG_DECL_VFIO_EMULATED_IOMMU
#define VFIO_NO_IOMMU			IOMMU_REG_DECL_VFIO_NO_IOMMU
#define VFIO_IOMMU_CONTAINER_CLOSE	IOMMU_REG_DECL_VFIO_IOMMU_CONTAINER_CLOSE
#define vfio_register_iommu_driver	iommu_reg_decl_vfio_register_iommu_driver
#define vfio_unregister_iommu_driver	iommu_reg_decl_vfio_unregister_iommu_driver
#include "vfio_compat.h"
#undef vfio_iommu_driver_ops
#undef vfio_group_type
#undef vfio_iommu_notify_type
#undef VFIO_IOMMU
#undef VFIO_EMULATED_IOMMU
#undef VFIO_NO_IOMMU
#undef VFIO_IOMMU_CONTAINER_CLOSE
#undef vfio_register_iommu_driver
#undef vfio_unregister_iommu_driver

#include <vfio.h>	/* the kernel's drivers/vfio/vfio.h, via -I */

#define DECL	struct iommu_reg_decl_vfio_iommu_driver_ops
#define KERN	struct vfio_iommu_driver_ops

static_assert(sizeof(DECL) == sizeof(KERN));

/* Every member at the same offset, with the same size. */
static_assert(offsetof(DECL, name) == offsetof(KERN, name));
static_assert(offsetof(DECL, owner) == offsetof(KERN, owner));
static_assert(offsetof(DECL, open) == offsetof(KERN, open));
static_assert(offsetof(DECL, release) == offsetof(KERN, release));
static_assert(offsetof(DECL, ioctl) == offsetof(KERN, ioctl));
static_assert(offsetof(DECL, attach_group) == offsetof(KERN, attach_group));
static_assert(offsetof(DECL, detach_group) == offsetof(KERN, detach_group));
static_assert(offsetof(DECL, pin_pages) == offsetof(KERN, pin_pages));
static_assert(offsetof(DECL, unpin_pages) == offsetof(KERN, unpin_pages));
static_assert(offsetof(DECL, register_device) == offsetof(KERN, register_device));
static_assert(offsetof(DECL, unregister_device) == offsetof(KERN, unregister_device));
static_assert(offsetof(DECL, dma_rw) == offsetof(KERN, dma_rw));
static_assert(offsetof(DECL, group_iommu_domain) == offsetof(KERN, group_iommu_domain));
#ifdef IOMMU_REG_HAVE_VFIO_OPS_NOTIFY
static_assert(offsetof(DECL, notify) == offsetof(KERN, notify));
#endif
static_assert(sizeof_field(DECL, name) == sizeof_field(KERN, name));
static_assert(sizeof_field(DECL, owner) == sizeof_field(KERN, owner));
static_assert(sizeof_field(DECL, open) == sizeof_field(KERN, open));
static_assert(sizeof_field(DECL, release) == sizeof_field(KERN, release));
static_assert(sizeof_field(DECL, ioctl) == sizeof_field(KERN, ioctl));
static_assert(sizeof_field(DECL, attach_group) == sizeof_field(KERN, attach_group));
static_assert(sizeof_field(DECL, detach_group) == sizeof_field(KERN, detach_group));
static_assert(sizeof_field(DECL, pin_pages) == sizeof_field(KERN, pin_pages));
static_assert(sizeof_field(DECL, unpin_pages) == sizeof_field(KERN, unpin_pages));
static_assert(sizeof_field(DECL, register_device) == sizeof_field(KERN, register_device));
static_assert(sizeof_field(DECL, unregister_device) == sizeof_field(KERN, unregister_device));
static_assert(sizeof_field(DECL, dma_rw) == sizeof_field(KERN, dma_rw));
static_assert(sizeof_field(DECL, group_iommu_domain) == sizeof_field(KERN, group_iommu_domain));
#ifdef IOMMU_REG_HAVE_VFIO_OPS_NOTIFY
static_assert(sizeof_field(DECL, notify) == sizeof_field(KERN, notify));
#endif

/* Members whose types do not involve the renamed enums: same signature. */
static_assert(__same_type(typeof_member(DECL, open),
			  typeof_member(KERN, open)));
static_assert(__same_type(typeof_member(DECL, release),
			  typeof_member(KERN, release)));
static_assert(__same_type(typeof_member(DECL, ioctl),
			  typeof_member(KERN, ioctl)));
static_assert(__same_type(typeof_member(DECL, detach_group),
			  typeof_member(KERN, detach_group)));
static_assert(__same_type(typeof_member(DECL, pin_pages),
			  typeof_member(KERN, pin_pages)));
static_assert(__same_type(typeof_member(DECL, unpin_pages),
			  typeof_member(KERN, unpin_pages)));
static_assert(__same_type(typeof_member(DECL, register_device),
			  typeof_member(KERN, register_device)));
static_assert(__same_type(typeof_member(DECL, unregister_device),
			  typeof_member(KERN, unregister_device)));
static_assert(__same_type(typeof_member(DECL, dma_rw),
			  typeof_member(KERN, dma_rw)));
static_assert(__same_type(typeof_member(DECL, group_iommu_domain),
			  typeof_member(KERN, group_iommu_domain)));

/* The enumerators VFIO passes to us. */
static_assert(sizeof(enum iommu_reg_decl_vfio_group_type) ==
	      sizeof(enum vfio_group_type));
static_assert((int)IOMMU_REG_DECL_VFIO_IOMMU == (int)VFIO_IOMMU);
static_assert((int)IOMMU_REG_DECL_VFIO_EMULATED_IOMMU ==
	      (int)VFIO_EMULATED_IOMMU);
static_assert((int)IOMMU_REG_DECL_VFIO_NO_IOMMU == (int)VFIO_NO_IOMMU);
#ifdef IOMMU_REG_HAVE_VFIO_OPS_NOTIFY
static_assert((int)IOMMU_REG_DECL_VFIO_IOMMU_CONTAINER_CLOSE ==
	      (int)VFIO_IOMMU_CONTAINER_CLOSE);
#endif
