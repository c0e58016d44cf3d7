// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stats: the module's global counters, read by the netlink admin view.
 *
 * Counters are per CPU, so the map and unmap paths of unrelated containers
 * never write a shared cache line; a read sums them.  Gauges (regions,
 * mappings, pinned pages...) go up and down on different CPUs, so a
 * single CPU's value may be negative; only the sum means anything.
 */
#include <linux/percpu.h>

#include "iommu_reg.h"

static DEFINE_PER_CPU(s64, iommu_reg_stats[IOMMU_REG_STAT_NR]);

void iommu_reg_stat_add(enum iommu_reg_stat stat, s64 delta)
{
	this_cpu_add(iommu_reg_stats[stat], delta);
}

/* The errnos failed ioctls are counted by; any other is FAIL_OTHER. */
static const struct {
	int err;
	enum iommu_reg_stat stat;
} iommu_reg_fail_stats[] = {
	{ -ENOMEM, IOMMU_REG_STAT_FAIL_NOMEM },
	{ -EFAULT, IOMMU_REG_STAT_FAIL_FAULT },
	{ -ENOSPC, IOMMU_REG_STAT_FAIL_NOSPC },
	{ -EINVAL, IOMMU_REG_STAT_FAIL_INVAL },
};

/* Count a failed ioctl by the reason it gave. */
void iommu_reg_stat_fail(int err)
{
	enum iommu_reg_stat stat = IOMMU_REG_STAT_FAIL_OTHER;
	int i;

	for (i = 0; i < ARRAY_SIZE(iommu_reg_fail_stats); i++)
		if (iommu_reg_fail_stats[i].err == err)
			stat = iommu_reg_fail_stats[i].stat;
	iommu_reg_stat_add(stat, 1);
}

u64 iommu_reg_stat_read(enum iommu_reg_stat stat)
{
	s64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(iommu_reg_stats[stat], cpu);
	return sum < 0 ? 0 : sum;
}
