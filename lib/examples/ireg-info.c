// SPDX-License-Identifier: MIT
/*
 * ireg-info: open PCI devices through the iommu_reg backend and print what
 * the container's IOMMU domain offers.
 *
 *	ireg-info 0000:00:03.0 [0000:00:04.0 ...]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#include "iommureg.h"

static void print_pgsizes(uint64_t bitmap)
{
	static const char units[] = "BKMGTPE";
	unsigned int bit;

	for (bit = 0; bit < 64; bit++)
		if (bitmap & (1ULL << bit))
			printf(" %llu%c", 1ULL << (bit % 10), units[bit / 10]);
}

int main(int argc, char **argv)
{
	struct iommu_reg_iova_range ranges[32];
	struct iommu_reg_info info;
	struct ireg_ctx *ctx;
	unsigned int i;
	int ret, fd;

	if (argc < 2) {
		fprintf(stderr, "usage: %s BDF [BDF...]\n", argv[0]);
		return 2;
	}

	ret = ireg_ctx_open(&ctx, 0);
	if (ret) {
		fprintf(stderr, "ireg-info: %s\n",
			ret == -ENOENT ? "/dev/vfio/vfio missing: load vfio" :
			ret == -ENODEV ? "iommu_reg module not loaded" :
			strerror(-ret));
		return 1;
	}

	for (i = 1; i < (unsigned int)argc; i++) {
		struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };

		fd = ireg_device_open(ctx, argv[i]);
		if (fd < 0) {
			fprintf(stderr, "ireg-info: %s\n", ireg_ctx_errmsg(ctx));
			ireg_ctx_close(ctx);
			return 1;
		}
		ioctl(fd, VFIO_DEVICE_GET_INFO, &dinfo);
		printf("device %s: fd %d, %u regions, %u irq types\n", argv[i],
		       fd, dinfo.num_regions, dinfo.num_irqs);
	}

	ret = ireg_ctx_info(ctx, &info, ranges, 32);
	if (ret) {
		fprintf(stderr, "ireg-info: %s\n", ireg_ctx_errmsg(ctx));
		ireg_ctx_close(ctx);
		return 1;
	}
	printf("container: backend iommu_reg, %u group(s) in one domain\n",
	       info.num_groups);
	printf("aperture: 0x%" PRIx64 "-0x%" PRIx64 "\n",
	       (uint64_t)info.aperture_start, (uint64_t)info.aperture_last);
	printf("IOMMU page sizes:");
	print_pgsizes(info.pgsize_bitmap);
	printf("\nusable IOVA ranges (%u):\n", info.num_iova_ranges);
	for (i = 0; i < info.num_iova_ranges && i < 32; i++)
		printf("  0x%016" PRIx64 "-0x%016" PRIx64 "\n",
		       (uint64_t)ranges[i].start, (uint64_t)ranges[i].last);

	ireg_ctx_close(ctx);
	return 0;
}
