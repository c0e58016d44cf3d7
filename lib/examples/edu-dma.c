// SPDX-License-Identifier: MIT
/*
 * edu-dma: register a buffer once and let a device DMA through it.
 *
 *	edu-dma BDF
 *
 * Opens QEMU's edu device through libiommureg, registers a 2 MiB buffer
 * with IOMMU_REG_REGISTER (pinned once, mapped at a kernel-chosen IOVA),
 * has the device copy a pattern from one half of the buffer into its own
 * memory and back into the other half, and checks the bytes.  Registering
 * the buffer again shows register-once: same handle, same IOVA.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "iommureg.h"
#include "../../tools/include/edu_lib.h"

#define BUF_SIZE	(2UL << 20)

static int reg(int container, void *buf, struct iommu_reg_register *r)
{
	memset(r, 0, sizeof(*r));
	r->argsz = sizeof(*r);
	r->vaddr = (uintptr_t)buf;
	r->size = BUF_SIZE;
	r->prot = IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE;
	return ioctl(container, IOMMU_REG_REGISTER, r) ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct iommu_reg_register r1, r2;
	struct iommu_reg_unreg unreg = { .argsz = sizeof(unreg) };
	struct edu_dev edu;
	struct ireg_ctx *ctx;
	uint8_t *buf;
	int container, ret, i;
	const uint32_t len = EDU_DMA_MAX;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF\n", argv[0]);
		return 2;
	}
	/* A context with the device in it, BAR0 mapped. */
	if (edu_lib_open("edu-dma", argv[1], &ctx, &edu) < 0)
		return 1;
	container = ireg_ctx_container_fd(ctx);

	/* 2 MiB aligned, so it can be one huge page and one IOMMU page. */
	buf = aligned_alloc(BUF_SIZE, BUF_SIZE);
	if (!buf)
		return 1;
	madvise(buf, BUF_SIZE, MADV_HUGEPAGE);
	memset(buf, 0, BUF_SIZE);
	for (i = 0; i < (int)len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);

	ret = reg(container, buf, &r1);
	if (ret) {
		fprintf(stderr, "edu-dma: IOMMU_REG_REGISTER: %s\n",
			strerror(-ret));
		return 1;
	}
	printf("registered %lu KiB at %p: handle %u, IOVA 0x%" PRIx64 "\n",
	       BUF_SIZE >> 10, (void *)buf, r1.handle, (uint64_t)r1.iova);

	/* Buffer -> device -> other half of the buffer, through the IOMMU. */
	if (edu_dma(&edu, r1.iova, len, EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS) ||
	    edu_dma(&edu, r1.iova + BUF_SIZE / 2, len, EDU_DEV_TO_RAM,
		    EDU_DMA_TIMEOUT_MS)) {
		perror("edu-dma: DMA");
		return 1;
	}
	if (memcmp(buf, buf + BUF_SIZE / 2, len)) {
		fprintf(stderr, "edu-dma: data differs after the device's copy\n");
		return 1;
	}
	printf("device DMA: %u bytes from IOVA 0x%" PRIx64 " into the device "
	       "and back to IOVA 0x%" PRIx64 ": data intact\n", len,
	       (uint64_t)r1.iova, (uint64_t)(r1.iova + BUF_SIZE / 2));

	ret = reg(container, buf, &r2);
	if (ret || r2.handle != r1.handle || r2.iova != r1.iova) {
		fprintf(stderr, "edu-dma: second registration differs\n");
		return 1;
	}
	printf("registered again: same handle %u, same IOVA (nothing pinned "
	       "twice)\n", r2.handle);

	unreg.handle = r1.handle;
	if (ioctl(container, IOMMU_REG_UNREG, &unreg) ||
	    ioctl(container, IOMMU_REG_UNREG, &unreg)) {
		perror("edu-dma: IOMMU_REG_UNREG");
		return 1;
	}
	edu_lib_close(ctx, &edu);
	free(buf);
	return 0;
}
