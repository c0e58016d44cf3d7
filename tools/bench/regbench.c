// SPDX-License-Identifier: GPL-2.0-only
/*
 * regbench: per-I/O cost of making a buffer DMA-able, iommu_reg against
 * VFIO type1, measured side by side in one run.  Used by reg_bench and by
 * "iommu-reg bench".
 *
 * Two devices are needed because a group lives in one container: one
 * container uses iommu_reg, the other type1.  For each buffer size:
 *
 *   type1 map+unmap   VFIO_IOMMU_MAP_DMA + VFIO_IOMMU_UNMAP_DMA per I/O
 *                     (pins, maps, unmaps, unpins every time)
 *   ireg map+unmap    IOMMU_REG_MAP + IOMMU_REG_UNMAP of pre-registered
 *                     memory per I/O (IOMMU work only)
 *   ireg register     IOMMU_REG_REGISTER + IOMMU_REG_UNREG: a first-time
 *                     registration each time (pin, account, map)
 *   ireg reg hit      IOMMU_REG_REGISTER of a range already registered:
 *                     the kernel's register-once path, one ioctl
 *
 * Each figure is the median over several rounds of the mean time per
 * operation in a round; the spread is (max - min) / median.  Under QEMU
 * TCG absolute times are distorted: only ratios measured in the same run
 * mean anything.  Buffers are 4 KiB pages (MADV_NOHUGEPAGE), the case
 * where per-page work dominates.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include <linux/iommu_reg.h>

#include "regbench.h"

#define ROUNDS	REGBENCH_ROUNDS

static int open_container(const char *bdf, unsigned long type, int *groupp)
{
	char path[PATH_MAX], link[256];
	int container, group;
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", base ? base + 1 : link);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0 ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, type))
		return -1;
	*groupp = group;
	return container;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef int (*op_fn)(struct regbench *b);

static int op_type1(struct regbench *b)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)b->buf,
		.iova = 1ULL << 32,
		.size = b->size,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = map.iova,
		.size = b->size,
	};

	if (ioctl(b->type1, VFIO_IOMMU_MAP_DMA, &map))
		return -errno;
	if (ioctl(b->type1, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return 0;
}

static int op_ireg_map(struct regbench *b)
{
	struct iommu_reg_map map = {
		.argsz = sizeof(map),
		.handle = b->handle,
		.prot = IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE,
		.length = b->size,
	};
	struct iommu_reg_unmap unmap = { .argsz = sizeof(unmap) };

	if (ioctl(b->ours, IOMMU_REG_MAP, &map))
		return -errno;
	unmap.iova = map.iova;
	unmap.length = b->size;
	if (ioctl(b->ours, IOMMU_REG_UNMAP, &unmap))
		return -errno;
	return 0;
}

static int op_ireg_register(struct regbench *b)
{
	struct iommu_reg_register reg = {
		.argsz = sizeof(reg),
		.vaddr = (uintptr_t)b->buf,
		.size = b->size,
		.prot = IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE,
	};
	struct iommu_reg_unreg unreg = { .argsz = sizeof(unreg) };

	if (ioctl(b->ours, IOMMU_REG_REGISTER, &reg))
		return -errno;
	unreg.handle = reg.handle;
	if (ioctl(b->ours, IOMMU_REG_UNREG, &unreg))
		return -errno;
	return 0;
}

/* A repeat registration of the pre-registered range: register-once. */
static int op_ireg_hit(struct regbench *b)
{
	struct iommu_reg_prereg reg = {
		.argsz = sizeof(reg),
		.vaddr = (uintptr_t)b->buf,
		.size = b->size,
	};
	struct iommu_reg_unreg unreg = { .argsz = sizeof(unreg) };

	if (ioctl(b->ours, IOMMU_REG_PREREG, &reg))
		return -errno;
	if (reg.refs < 2)
		return -EPROTO;	/* not a hit: something is wrong */
	unreg.handle = reg.handle;
	if (ioctl(b->ours, IOMMU_REG_UNREG, &unreg))
		return -errno;
	return 0;
}

static int measure(struct regbench *b, op_fn fn, unsigned int iters,
		   struct regbench_result *res)
{
	double t[ROUNDS];
	unsigned int r, i;
	int ret;

	ret = fn(b);		/* warm up */
	if (ret)
		return ret;
	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();

		for (i = 0; i < iters; i++) {
			ret = fn(b);
			if (ret)
				return ret;
		}
		t[r] = (now_ns() - t0) / iters;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	res->median = t[ROUNDS / 2];
	res->spread = (t[ROUNDS - 1] - t[0]) / res->median;
	return 0;
}

int regbench_open(struct regbench *b, const char *ours_bdf,
		  const char *type1_bdf)
{
	memset(b, 0, sizeof(*b));
	b->ours = open_container(ours_bdf, VFIO_IOMMU_REG, &b->ours_group);
	if (b->ours < 0)
		return -errno ? -errno : -ENODEV;
	b->type1 = open_container(type1_bdf, VFIO_TYPE1v2_IOMMU,
				  &b->type1_group);
	if (b->type1 < 0)
		return -errno ? -errno : -ENODEV;
	return 0;
}

void regbench_close(struct regbench *b)
{
	close(b->ours_group);
	close(b->type1_group);
	close(b->ours);
	close(b->type1);
}

int regbench_size(struct regbench *b, size_t size, struct regbench_row *row)
{
	struct iommu_reg_prereg pre = { .argsz = sizeof(pre) };
	struct iommu_reg_unreg unreg = { .argsz = sizeof(unreg) };
	unsigned int iters;
	int ret;

	b->size = size;
	row->size = size;
	/* About 64 MiB of work per round, at least 4 iterations. */
	iters = (64U << 20) / size;
	if (iters < 4)
		iters = 4;
	if (iters > 512)
		iters = 512;

	b->buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->buf == MAP_FAILED)
		return -errno;
	madvise(b->buf, size, MADV_NOHUGEPAGE);
	memset(b->buf, 0x5a, size);

	pre.vaddr = (uintptr_t)b->buf;
	pre.size = size;
	if (ioctl(b->ours, IOMMU_REG_PREREG, &pre)) {
		ret = -errno;
		goto out_unmap;
	}
	b->handle = pre.handle;

	ret = measure(b, op_type1, iters, &row->type1);
	if (!ret)
		ret = measure(b, op_ireg_map, iters, &row->map);
	if (!ret)
		ret = measure(b, op_ireg_hit, iters * 4, &row->hit);
	unreg.handle = b->handle;
	ioctl(b->ours, IOMMU_REG_UNREG, &unreg);
	if (!ret)
		ret = measure(b, op_ireg_register, iters, &row->reg);
out_unmap:
	munmap(b->buf, size);
	return ret;
}
