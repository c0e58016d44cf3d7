/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO group and container setup for the selftests, the library's VM
 * tests and the benchmarks, which drive VFIO without libiommureg (or
 * beside it, as a baseline): one copy.
 *
 * Every function returns a file descriptor or 0 on success, and -1 with
 * errno on failure; a failed call leaves no descriptor open.
 */
#ifndef TOOLS_VFIO_UTIL_H
#define TOOLS_VFIO_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#ifndef VFIO_UTIL_SYSFS
#define VFIO_UTIL_SYSFS	"/sys/bus/pci/devices/"
#endif

/* IOMMU group number of a PCI device (its iommu_group link), or -1. */
static inline int vfio_group_of(const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), VFIO_UTIL_SYSFS "%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	return atoi(base ? base + 1 : target);
}

/* Open /dev/vfio/<group> of a device (O_CLOEXEC). */
static inline int vfio_group_open(const char *bdf)
{
	char path[64];
	int group = vfio_group_of(bdf);

	if (group < 0) {
		errno = ENODEV;
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Put a group in a container and select a backend. */
static inline int vfio_container_attach(int container, int group,
					unsigned long type)
{
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return -1;
	return ioctl(container, VFIO_SET_IOMMU, type);
}

/*
 * A new container holding the device's group, with backend @type
 * (VFIO_TYPE1v2_IOMMU, or iommu_reg's type).  Returns the container and
 * stores the group's fd in *group; on failure both are closed.
 */
static inline int vfio_container_open(const char *bdf, unsigned long type,
				      int *group)
{
	int container, grp, err;

	grp = vfio_group_open(bdf);
	if (grp < 0)
		return -1;
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0) {
		err = errno;
		close(grp);
		errno = err;
		return -1;
	}
	if (vfio_container_attach(container, grp, type)) {
		err = errno;
		close(container);
		close(grp);
		errno = err;
		return -1;
	}
	*group = grp;
	return container;
}

/* The device's fd from its group (after the container is set). */
static inline int vfio_device_open(int group, const char *bdf)
{
	return ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
}

#endif /* TOOLS_VFIO_UTIL_H */
