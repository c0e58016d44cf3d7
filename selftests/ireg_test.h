/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers for the iommu_reg kselftests.  They run inside the test
 * VM, where the runner has bound every edu device to vfio-pci and listed
 * them in IREG_EDU_BDFS.
 */
#ifndef IREG_TEST_H
#define IREG_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>
#include <linux/iommu_reg.h>

#define IREG_MAX_EDU	4

/* The n-th edu device from IREG_EDU_BDFS, or NULL. */
static inline const char *ireg_edu_bdf(unsigned int n)
{
	static char bdfs[IREG_MAX_EDU][32];
	const char *env = getenv("IREG_EDU_BDFS");
	unsigned int i = 0;
	int len;

	while (env && *env) {
		while (*env == ' ')
			env++;
		if (!*env)
			break;
		if (sscanf(env, "%31s%n", bdfs[i], &len) != 1)
			break;
		if (i == n)
			return bdfs[i];
		env += len;
		if (++i == IREG_MAX_EDU)
			break;
	}
	return NULL;
}

/* IOMMU group number of a PCI device, or -1. */
static inline int ireg_group_of(const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	return atoi(base ? base + 1 : target);
}

/* Open /dev/vfio/<group> of a device; -1 with errno on failure. */
static inline int ireg_open_group(const char *bdf)
{
	char path[64];
	int group = ireg_group_of(bdf);

	if (group < 0) {
		errno = ENODEV;
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Put a group in a container and select a backend; 0 or -1 with errno. */
static inline int ireg_container_setup(int container, int group,
				       unsigned long type)
{
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return -1;
	return ioctl(container, VFIO_SET_IOMMU, type);
}

#endif /* IREG_TEST_H */
