/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private declarations shared by the objects of the iommu_reg module.
 *
 * Vocabulary, used in every file:
 *  - "last" is inclusive, "end" is exclusive; last + 1 may overflow, so
 *    ranges that can reach the top of the address space use last.
 *  - A "container" is the backend's per-VFIO-container state (VFIO's
 *    iommu_data); it owns exactly one iommu_domain shared by all its groups.
 *
 * Lock order, outermost first: ireg_container.lock.
 */
#ifndef IREG_IOMMU_REG_H
#define IREG_IOMMU_REG_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <uapi/linux/iommu_reg.h>

#include "vfio_compat.h"

struct iommu_domain;
struct iommu_group;

/**
 * struct ireg_iova_space - the IOVA ranges a container may use
 * @ranges: ascending, disjoint, inclusive ranges: the domain aperture minus
 *	the reserved regions of every attached group
 * @nr_ranges: entries in @ranges
 */
struct ireg_iova_space {
	struct iommu_reg_iova_range *ranges;
	unsigned int nr_ranges;
};

/**
 * struct ireg_group - an IOMMU group attached to a container
 * @node: entry in ireg_container.groups
 * @iommu_group: the group; VFIO holds a reference while it is attached
 */
struct ireg_group {
	struct list_head node;
	struct iommu_group *iommu_group;
};

/**
 * struct ireg_container - backend state of one VFIO container
 * @lock: protects every field below
 * @domain: the one IOMMU domain of the container; allocated on the first
 *	group attach, freed at release.  Immutable while @groups is not empty.
 * @groups: struct ireg_group entries of the attached IOMMU groups
 * @nr_groups: entries in @groups
 * @iova: usable IOVA ranges, rebuilt on every attach and detach
 */
struct ireg_container {
	struct mutex lock; /* see above */
	struct iommu_domain *domain;
	struct list_head groups;
	unsigned int nr_groups;
	struct ireg_iova_space iova;
};

/**
 * struct ireg_ucmd - one ioctl call in flight
 * @container: the container the ioctl was issued on
 * @ubuffer: the user's argument struct
 * @user_size: the user's argsz
 * @cmd: kernel copy of the argument struct
 */
struct ireg_ucmd {
	struct ireg_container *container;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int ireg_ucmd_respond(struct ireg_ucmd *ucmd, size_t cmd_len);

/* container.c */
void *ireg_container_open(unsigned long arg);
void ireg_container_release(void *iommu_data);
int ireg_container_attach_group(void *iommu_data, struct iommu_group *group,
				enum vfio_group_type type);
void ireg_container_detach_group(void *iommu_data, struct iommu_group *group);
struct iommu_domain *ireg_container_group_domain(void *iommu_data,
						 struct iommu_group *group);
int ireg_container_info(struct ireg_ucmd *ucmd);

/* iova.c */
int ireg_iova_space_build(struct ireg_container *c);
void ireg_iova_space_destroy(struct ireg_iova_space *space);

#endif /* IREG_IOMMU_REG_H */
