// SPDX-License-Identifier: GPL-2.0-only
/*
 * reg_bench: per-I/O cost of making a buffer DMA-able, iommu_reg against
 * VFIO type1, measured side by side in one run.
 *
 *	reg_bench OURS_BDF TYPE1_BDF
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
 * Each figure is the median over several rounds of the mean time per
 * operation in a round; the spread is (max - min) / median.  Under QEMU
 * TCG absolute times are distorted: only ratios measured in the same run
 * mean anything.  Buffers are 4 KiB pages (MADV_NOHUGEPAGE), the case
 * where per-page work dominates.
 */
#include <stdio.h>
#include <string.h>

#include "regbench.h"

static const char *human(size_t size, char *out, size_t len)
{
	if (size >= 1 << 20)
		snprintf(out, len, "%zuM", size >> 20);
	else
		snprintf(out, len, "%zuK", size >> 10);
	return out;
}

static void print_us(const struct regbench_result *r)
{
	printf(" %10.1f (%3.0f%%)", r->median / 1e3, r->spread * 100);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {
		4 << 10, 64 << 10, 2 << 20, 16 << 20, 64 << 20, 256 << 20,
	};
	struct regbench b;
	unsigned int i;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OURS_BDF TYPE1_BDF\n", argv[0]);
		return 2;
	}
	ret = regbench_open(&b, argv[1], argv[2]);
	if (ret) {
		fprintf(stderr, "reg_bench: container setup: %s\n",
			strerror(-ret));
		return 1;
	}

	printf("# reg_bench: microseconds per operation, median of %d rounds (spread)\n",
	       REGBENCH_ROUNDS);
	printf("# 4 KiB pages; under TCG only the ratios are meaningful\n");
	printf("# %6s %19s %19s %19s %19s %12s %12s\n", "size",
	       "type1 map+unmap", "ireg map+unmap", "ireg register",
	       "ireg reg hit", "type1/map", "reg/type1");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct regbench_row row;
		char name[16];

		ret = regbench_size(&b, sizes[i], &row);
		if (ret) {
			fprintf(stderr, "reg_bench: %s: %s\n",
				human(sizes[i], name, sizeof(name)),
				strerror(-ret));
			return 1;
		}
		printf("%8s", human(row.size, name, sizeof(name)));
		print_us(&row.type1);
		print_us(&row.map);
		print_us(&row.reg);
		print_us(&row.hit);
		printf(" %11.1fx %11.2fx\n", row.type1.median / row.map.median,
		       row.reg.median / row.type1.median);
	}
	regbench_close(&b);
	return 0;
}
