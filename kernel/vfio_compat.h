/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations of VFIO's private IOMMU-backend interface.
 *
 * struct vfio_iommu_driver_ops lives in the kernel's private
 * drivers/vfio/vfio.h, which no headers package ships.  An out-of-tree
 * backend must therefore carry its own declaration.  vfio_abi_check.c
 * compiles this declaration side by side with the target kernel's real
 * header and fails the build on any difference in size, member offset or
 * enumerator value, so a layout mismatch can never reach a running kernel.
 *
 * Written for the Linux 6.1 layout; the compile probes of the target
 * kernel's own vfio.h (kernel/probes/vfio_*.c) say what changed since:
 * notify() and its event went away in 6.3, and from 6.2 the interface
 * exists only with CONFIG_VFIO_CONTAINER.
 */
#ifndef IOMMU_REG_VFIO_COMPAT_H
#define IOMMU_REG_VFIO_COMPAT_H

#include <linux/types.h>

#include "ireg_config.h"

/*
 * No backend interface: the kernel lacks CONFIG_VFIO_CONTAINER, or
 * IREG_KSRC is not its source (see probes/build.log by ireg_config.h).
 */
#ifndef IOMMU_REG_HAVE_VFIO_IOMMU_DRIVER_OPS
#error "target kernel's drivers/vfio/vfio.h has no struct vfio_iommu_driver_ops"
#endif

struct iommu_group;
struct iommu_domain;
struct module;
struct page;
struct vfio_device;

enum vfio_group_type {
	VFIO_IOMMU,
	VFIO_EMULATED_IOMMU,
	VFIO_NO_IOMMU,
};

#ifdef IOMMU_REG_HAVE_VFIO_OPS_NOTIFY
enum vfio_iommu_notify_type {
	VFIO_IOMMU_CONTAINER_CLOSE = 0,
};
#endif

struct vfio_iommu_driver_ops {
	char *name;
	struct module *owner;
	void *(*open)(unsigned long arg);
	void (*release)(void *iommu_data);
	long (*ioctl)(void *iommu_data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *iommu_data, struct iommu_group *group,
			    enum vfio_group_type type);
	void (*detach_group)(void *iommu_data, struct iommu_group *group);
	int (*pin_pages)(void *iommu_data, struct iommu_group *group,
			 dma_addr_t user_iova, int npage, int prot,
			 struct page **pages);
	void (*unpin_pages)(void *iommu_data, dma_addr_t user_iova, int npage);
	void (*register_device)(void *iommu_data, struct vfio_device *vdev);
	void (*unregister_device)(void *iommu_data, struct vfio_device *vdev);
	int (*dma_rw)(void *iommu_data, dma_addr_t user_iova, void *data,
		      size_t count, bool write);
	struct iommu_domain *(*group_iommu_domain)(void *iommu_data,
						   struct iommu_group *group);
#ifdef IOMMU_REG_HAVE_VFIO_OPS_NOTIFY
	void (*notify)(void *iommu_data, enum vfio_iommu_notify_type event);
#endif
};

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

#endif /* IOMMU_REG_VFIO_COMPAT_H */
