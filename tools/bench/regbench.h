/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * regbench: iommu_reg's per-I/O mapping cost beside VFIO type1's, one run
 * (the per_io rows of dma_map_vs_type1).
 */
#ifndef REGBENCH_H
#define REGBENCH_H

#include <stddef.h>
#include <stdint.h>

#define REGBENCH_ROUNDS		7
#define REGBENCH_ROUND_NS	200e6	/* a round: about 200 ms */

/* Median nanoseconds per operation over the rounds, and (max-min)/median. */
struct regbench_result {
	double median;
	double spread;
};

struct regbench_row {
	size_t size;
	struct regbench_result type1;	/* MAP_DMA + UNMAP_DMA */
	struct regbench_result map;	/* IOMMU_REG_MAP + UNMAP, pre-registered */
	struct regbench_result reg;	/* first-time REGISTER + UNREG */
	struct regbench_result hit;	/* PREREG of a registered range + UNREG */
};

struct regbench {
	int ours, type1;
	int ours_group, type1_group;
	double round_ns;	/* 0: REGBENCH_ROUND_NS */
	char *buf;
	size_t size;
	uint32_t handle;	/* pre-registered region of buf */
};

/* Two devices, one per container: ours and type1's.  0 or -errno. */
int regbench_open(struct regbench *b, const char *ours_bdf,
		  const char *type1_bdf);
void regbench_close(struct regbench *b);
/* Measure one buffer size (4 KiB pages).  0 or -errno. */
int regbench_size(struct regbench *b, size_t size, struct regbench_row *row);

/* VFIO_IOMMU_MAP_DMA (read/write) and UNMAP_DMA on @container: 0 or -errno. */
int regbench_type1_map(int container, void *vaddr, uint64_t iova,
		       size_t size);
int regbench_type1_unmap(int container, uint64_t iova, size_t size);

#endif /* REGBENCH_H */
