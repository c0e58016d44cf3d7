/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * iommu_reg: the generic netlink admin view.
 *
 * Family IOMMU_REG_GENL_NAME, version IOMMU_REG_GENL_VERSION.  Every
 * request attribute has a policy; a malformed request is refused with an
 * error and an extended-ack message, never acted on.
 */
#ifndef _UAPI_LINUX_IOMMU_REG_NETLINK_H
#define _UAPI_LINUX_IOMMU_REG_NETLINK_H

#define IOMMU_REG_GENL_NAME		"iommu_reg"
#define IOMMU_REG_GENL_VERSION		1
#define IOMMU_REG_GENL_MCGRP_EVENTS	"events"

/**
 * DOC: Commands and visibility
 *
 * IOMMU_REG_CMD_STATS_GET (do): global counters, in a nested
 * IOMMU_REG_A_STATS of enum iommu_reg_stat attributes (all u64).
 *
 * IOMMU_REG_CMD_CONTAINER_GET (dump): one message per container: id, the
 * owner's pid, comm and uid, its IOMMU groups (IOMMU_REG_A_GROUPS, nested
 * IOMMU_REG_A_GROUP u32) and their devices (IOMMU_REG_A_DEVICES, nested
 * IOMMU_REG_A_DEVICE strings), region and mapping counts, and the
 * VFIO_SET_IOMMU number it was opened with (IOMMU_REG_A_IOMMU_TYPE), which
 * tells a type1 program's container in the drop-in mode from one that
 * selected this backend by its own number.
 *
 * IOMMU_REG_CMD_REGION_GET (dump): one message per region: container id,
 * pid, handle, vaddr, size, flags, refs, stale, pinned pages, the number
 * of mappings (IOMMU_REG_A_NR_MAPPINGS) and each mapping
 * (IOMMU_REG_A_MAPPINGS, nested IOMMU_REG_A_MAPPING with iova, length,
 * prot).  A region with more mappings than one message holds (some
 * hundreds, depending on the reader's buffer) goes on in the next
 * messages, each naming the region again (container id and handle) with
 * the total count and the next mappings; every mapping is listed once.
 * IOMMU_REG_A_CONTAINER_ID or IOMMU_REG_A_PID in the request restricts the
 * dump; the pid is as seen from the initial pid namespace.
 *
 * A caller without CAP_SYS_ADMIN sees only the containers and regions of
 * processes with its own effective uid.  The credentials are those of the
 * task that sent the dump request; whoever reads the rest of the dump sees
 * exactly what that task would.  The "events" multicast group
 * needs CAP_SYS_ADMIN to join.
 *
 * Events, sent to the group: IOMMU_REG_CMD_EVENT_REGISTER when a region is
 * published, IOMMU_REG_CMD_EVENT_UNREGISTER when it is freed,
 * IOMMU_REG_CMD_EVENT_INVALIDATE when it becomes stale (with the reason
 * and generation of the notify fd's events), each with container id,
 * pid, handle, vaddr and size.
 */
enum iommu_reg_cmd {
	IOMMU_REG_CMD_UNSPEC,
	IOMMU_REG_CMD_STATS_GET,
	IOMMU_REG_CMD_CONTAINER_GET,
	IOMMU_REG_CMD_REGION_GET,
	IOMMU_REG_CMD_EVENT_REGISTER,
	IOMMU_REG_CMD_EVENT_UNREGISTER,
	IOMMU_REG_CMD_EVENT_INVALIDATE,

	__IOMMU_REG_CMD_MAX,
	IOMMU_REG_CMD_MAX = __IOMMU_REG_CMD_MAX - 1
};

/**
 * enum iommu_reg_attr - attributes of requests, replies and events
 * @IOMMU_REG_A_UNSPEC: unused
 * @IOMMU_REG_A_PAD: padding for 64-bit attributes
 * @IOMMU_REG_A_STATS: nested enum iommu_reg_stat
 * @IOMMU_REG_A_CONTAINER_ID: u32, the container's id (also a filter)
 * @IOMMU_REG_A_PID: u32, the owner's thread group id (also a filter)
 * @IOMMU_REG_A_COMM: string, the owner's command name
 * @IOMMU_REG_A_UID: u32, the owner's effective uid
 * @IOMMU_REG_A_GROUPS: nested IOMMU_REG_A_GROUP
 * @IOMMU_REG_A_GROUP: u32, an IOMMU group id
 * @IOMMU_REG_A_DEVICES: nested IOMMU_REG_A_DEVICE
 * @IOMMU_REG_A_DEVICE: string, a device name (PCI address)
 * @IOMMU_REG_A_NR_REGIONS: u32
 * @IOMMU_REG_A_NR_MAPPINGS: u64, a container's or a region's mappings
 * @IOMMU_REG_A_HANDLE: u32, a region's handle
 * @IOMMU_REG_A_VADDR: u64
 * @IOMMU_REG_A_SIZE: u64
 * @IOMMU_REG_A_FLAGS: u32, IOMMU_REG_REGION_* flags
 * @IOMMU_REG_A_REFS: u32, registration references
 * @IOMMU_REG_A_STALE: u8, 1 when the region was invalidated
 * @IOMMU_REG_A_PINNED_PAGES: u64
 * @IOMMU_REG_A_MAPPINGS: nested IOMMU_REG_A_MAPPING
 * @IOMMU_REG_A_MAPPING: nested IOMMU_REG_A_IOVA, _LENGTH, _PROT
 * @IOMMU_REG_A_IOVA: u64
 * @IOMMU_REG_A_LENGTH: u64
 * @IOMMU_REG_A_PROT: u32, IOMMU_REG_PROT_*
 * @IOMMU_REG_A_REASON: u32, IOMMU_REG_REASON_*
 * @IOMMU_REG_A_GENERATION: u32
 * @IOMMU_REG_A_IOMMU_TYPE: u32, the VFIO_SET_IOMMU number a container was
 *	opened with: VFIO_IOMMU_REG, or VFIO_TYPE1_IOMMU (type1 v1 unmap
 *	semantics) or VFIO_TYPE1v2_IOMMU in the drop-in mode (the module's
 *	type1_compat parameter)
 * @__IOMMU_REG_A_MAX: one past the last
 * @IOMMU_REG_A_MAX: the last
 */
enum iommu_reg_attr {
	IOMMU_REG_A_UNSPEC,
	IOMMU_REG_A_PAD,
	IOMMU_REG_A_STATS,
	IOMMU_REG_A_CONTAINER_ID,
	IOMMU_REG_A_PID,
	IOMMU_REG_A_COMM,
	IOMMU_REG_A_UID,
	IOMMU_REG_A_GROUPS,
	IOMMU_REG_A_GROUP,
	IOMMU_REG_A_DEVICES,
	IOMMU_REG_A_DEVICE,
	IOMMU_REG_A_NR_REGIONS,
	IOMMU_REG_A_NR_MAPPINGS,
	IOMMU_REG_A_HANDLE,
	IOMMU_REG_A_VADDR,
	IOMMU_REG_A_SIZE,
	IOMMU_REG_A_FLAGS,
	IOMMU_REG_A_REFS,
	IOMMU_REG_A_STALE,
	IOMMU_REG_A_PINNED_PAGES,
	IOMMU_REG_A_MAPPINGS,
	IOMMU_REG_A_MAPPING,
	IOMMU_REG_A_IOVA,
	IOMMU_REG_A_LENGTH,
	IOMMU_REG_A_PROT,
	IOMMU_REG_A_REASON,
	IOMMU_REG_A_GENERATION,
	IOMMU_REG_A_IOMMU_TYPE,

	__IOMMU_REG_A_MAX,
	IOMMU_REG_A_MAX = __IOMMU_REG_A_MAX - 1
};

/**
 * enum iommu_reg_stat - global counters (u64 each)
 * @IOMMU_REG_STAT_UNSPEC: unused
 * @IOMMU_REG_STAT_PAD: padding
 * @IOMMU_REG_STAT_CONTAINERS: containers using the backend now
 * @IOMMU_REG_STAT_GROUPS: IOMMU groups attached now
 * @IOMMU_REG_STAT_REGIONS: regions now
 * @IOMMU_REG_STAT_MAPPINGS: mappings now
 * @IOMMU_REG_STAT_PINNED_PAGES: pages pinned now
 * @IOMMU_REG_STAT_MAPPED_BYTES: bytes mapped in IOMMU domains now
 * @IOMMU_REG_STAT_INVALIDATIONS: regions invalidated since load
 * @IOMMU_REG_STAT_FAIL_NOMEM: ioctls failed with ENOMEM since load
 * @IOMMU_REG_STAT_FAIL_FAULT: ... with EFAULT
 * @IOMMU_REG_STAT_FAIL_NOSPC: ... with ENOSPC
 * @IOMMU_REG_STAT_FAIL_INVAL: ... with EINVAL (bad input)
 * @IOMMU_REG_STAT_FAIL_OTHER: ... with any other errno
 * @__IOMMU_REG_STAT_MAX: one past the last
 * @IOMMU_REG_STAT_MAX: the last
 */
enum iommu_reg_stat {
	IOMMU_REG_STAT_UNSPEC,
	IOMMU_REG_STAT_PAD,
	IOMMU_REG_STAT_CONTAINERS,
	IOMMU_REG_STAT_GROUPS,
	IOMMU_REG_STAT_REGIONS,
	IOMMU_REG_STAT_MAPPINGS,
	IOMMU_REG_STAT_PINNED_PAGES,
	IOMMU_REG_STAT_MAPPED_BYTES,
	IOMMU_REG_STAT_INVALIDATIONS,
	IOMMU_REG_STAT_FAIL_NOMEM,
	IOMMU_REG_STAT_FAIL_FAULT,
	IOMMU_REG_STAT_FAIL_NOSPC,
	IOMMU_REG_STAT_FAIL_INVAL,
	IOMMU_REG_STAT_FAIL_OTHER,

	__IOMMU_REG_STAT_MAX,
	IOMMU_REG_STAT_MAX = __IOMMU_REG_STAT_MAX - 1
};

#endif /* _UAPI_LINUX_IOMMU_REG_NETLINK_H */
