// SPDX-License-Identifier: GPL-2.0-only
/*
 * regbench: per-I/O cost of making a buffer DMA-able, iommu_reg against
 * VFIO type1, measured side by side in one run: the per_io rows of
 * dma_map_vs_type1.
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
 *   ireg reg hit      IOMMU_REG_PREREG of a range already registered:
 *                     the kernel's register-once path, one ioctl
 *
 * Each figure is the median over REGBENCH_ROUNDS rounds of the mean time
 * per operation in a round, after one untimed round; a round is as many
 * operations as take about round_ns (tools/bench/bench.h).  Under QEMU
 * TCG absolute times are distorted: only ratios measured in the same run
 * mean anything.  Buffers are 4 KiB pages (MADV_NOHUGEPAGE), populated
 * before any timing, the case where per-page work dominates.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include <linux/iommu_reg.h>

#include "regbench.h"
#include "bench.h"
#include "../include/vfio_util.h"

int regbench_type1_map(int container, void *vaddr, uint64_t iova,
		       size_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

int regbench_type1_unmap(int container, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

static int unreg(struct regbench *b, uint32_t handle)
{
	struct iommu_reg_unreg unreg = {
		.argsz = sizeof(unreg),
		.handle = handle,
	};

	return ioctl(b->ours, IOMMU_REG_UNREG, &unreg) ? -errno : 0;
}

typedef int (*op_fn)(struct regbench *b);

static int op_type1(struct regbench *b)
{
	int ret = regbench_type1_map(b->type1, b->buf, 1ULL << 32, b->size);

	return ret ? ret : regbench_type1_unmap(b->type1, 1ULL << 32, b->size);
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

	if (ioctl(b->ours, IOMMU_REG_REGISTER, &reg))
		return -errno;
	return unreg(b, reg.handle);
}

/* A repeat registration of the pre-registered range: register-once. */
static int op_ireg_hit(struct regbench *b)
{
	struct iommu_reg_prereg reg = {
		.argsz = sizeof(reg),
		.vaddr = (uintptr_t)b->buf,
		.size = b->size,
	};

	if (ioctl(b->ours, IOMMU_REG_PREREG, &reg))
		return -errno;
	if (reg.refs < 2)
		return -EPROTO;	/* not a hit: something is wrong */
	return unreg(b, reg.handle);
}

struct op_run {
	struct regbench *b;
	op_fn fn;
};

static int op_loop(void *arg, unsigned long n)
{
	struct op_run *run = arg;
	unsigned long i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = run->fn(run->b);
		if (ret)
			return ret;
	}
	return 0;
}

static int measure(struct regbench *b, op_fn fn, struct regbench_result *res)
{
	struct bench_plan plan = {
		.rounds = REGBENCH_ROUNDS, .warmup = 1,
		.round_ns = b->round_ns ? b->round_ns : REGBENCH_ROUND_NS,
	};
	struct op_run run = { .b = b, .fn = fn };
	double t[REGBENCH_ROUNDS];
	long ret;

	ret = bench_time(&plan, op_loop, &run, t);
	if (ret < 0)
		return ret;
	stats_summary(t, REGBENCH_ROUNDS, &res->median, &res->spread);
	res->spread /= 100;
	return 0;
}

int regbench_open(struct regbench *b, const char *ours_bdf,
		  const char *type1_bdf)
{
	int err;

	memset(b, 0, sizeof(*b));
	b->ours = vfio_container_open(ours_bdf, VFIO_IOMMU_REG,
				      &b->ours_group);
	if (b->ours < 0)
		return -errno;
	b->type1 = vfio_container_open(type1_bdf, VFIO_TYPE1v2_IOMMU,
				       &b->type1_group);
	if (b->type1 < 0) {
		err = errno;
		close(b->ours);
		close(b->ours_group);
		return -err;
	}
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
	int ret;

	b->size = size;
	row->size = size;
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

	ret = measure(b, op_type1, &row->type1);
	if (!ret)
		ret = measure(b, op_ireg_map, &row->map);
	if (!ret)
		ret = measure(b, op_ireg_hit, &row->hit);
	unreg(b, b->handle);
	if (!ret)
		ret = measure(b, op_ireg_register, &row->reg);
out_unmap:
	munmap(b->buf, size);
	return ret;
}
