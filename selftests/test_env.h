/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test VM's environment, for every iommu_reg kselftest: the runner
 * has bound every edu device to vfio-pci and listed them in
 * IREG_EDU_BDFS.  VFIO groups and containers are opened with
 * tools/include/vfio_util.h, time is read with tools/include/clock.h.
 */
#ifndef TEST_ENV_H
#define TEST_ENV_H

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
#include "../tools/include/clock.h"
#include "../tools/include/vfio_util.h"

#define ST_MAX_EDU	4

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

/* The n-th edu device from IREG_EDU_BDFS, or NULL. */
static inline const char *st_edu_bdf(unsigned int n)
{
	static char bdfs[ST_MAX_EDU][32];
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
		if (++i == ST_MAX_EDU)
			break;
	}
	return NULL;
}

#endif /* TEST_ENV_H */
