// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-check: the edu DMA self-check, kselftest-style TAP on stdout.
 *
 *	edu-check [BDF]
 *
 * For each memory backing (4 KiB pages, THP, hugetlbfs), registers a
 * buffer through libiommureg in a container with QEMU's edu device
 * (already bound to vfio-pci) and proves the registration with DMA: the
 * device copies a pattern from the start of the buffer into itself and
 * back out at the end of the buffer; the bytes must match.  The device is
 * BDF, else the first of $IREG_EDU_BDFS (set by the test VM's init).
 * Exit 0 if every case passed, 1 if one failed, 4 (skip) without a device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommureg.h"
#include "../../include/edu.h"

#define SZ_64K	(64UL << 10)
#define SZ_2M	(2UL << 20)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum backing { BACKING_4K, BACKING_THP, BACKING_HUGETLB };

static const struct {
	const char *name;
	size_t size;
} cases[] = {
	[BACKING_4K] = { "4k", SZ_64K },
	[BACKING_THP] = { "thp", SZ_2M },
	[BACKING_HUGETLB] = { "hugetlb", SZ_2M },
};

/* @size bytes of the backing @b, zeroed; NULL with errno. */
static char *buf_get(enum backing b, size_t size)
{
	int huge = b == BACKING_HUGETLB ? MAP_HUGETLB : 0;
	void *p;

	if (b == BACKING_THP) {
		if (posix_memalign(&p, SZ_2M, size))
			return NULL;
		madvise(p, size, MADV_HUGEPAGE);
	} else {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | huge, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		if (!huge)
			madvise(p, size, MADV_NOHUGEPAGE);
	}
	return memset(p, 0, size);
}

static void buf_put(enum backing b, char *buf, size_t size)
{
	if (b == BACKING_THP)
		free(buf);
	else
		munmap(buf, size);
}

/* One case: "" if the device copied the pattern, else why not. */
static const char *dma_check(struct ireg_ctx *ctx, const struct edu_dev *edu,
			     enum backing b, char *why, size_t whylen)
{
	size_t size = cases[b].size;
	const uint32_t len = EDU_DMA_MAX;
	struct ireg_region r;
	uint32_t i;
	char *buf;
	int ret;

	buf = buf_get(b, size);
	if (!buf) {
		snprintf(why, whylen, "allocating %zu bytes: %s", size,
			 strerror(errno));
		return why;
	}
	ret = ireg_region_register(ctx, buf, size, IOMMU_REG_PROT_READ |
				   IOMMU_REG_PROT_WRITE, 0, &r);
	if (ret) {
		snprintf(why, whylen, "%s", ireg_ctx_errmsg(ctx));
		goto out_put;
	}
	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 31 + 7);
	why[0] = '\0';
	if (edu_dma_copy(edu, ireg_region_iova(&r, buf),
			 ireg_region_iova(&r, buf + size - len), len))
		snprintf(why, whylen, "DMA: %s", strerror(errno));
	else if (memcmp(buf, buf + size - len, len))
		snprintf(why, whylen, "data differs");
	ireg_region_unregister(ctx, &r);
out_put:
	buf_put(b, buf, size);
	return why;
}

/* @bdf as a DMA engine in a context of its own: 0, or -1 with a reason. */
static int edu_open(const char *bdf, struct ireg_ctx **ctx,
		    struct edu_dev *edu, char *why, size_t whylen)
{
	int fd, ret;

	ret = ireg_ctx_open(ctx, 0);
	if (ret) {
		snprintf(why, whylen, "opening the container: %s",
			 strerror(-ret));
		return -1;
	}
	fd = ireg_device_open(*ctx, bdf);
	if (fd >= 0 && !edu_init(edu, fd))
		return 0;
	snprintf(why, whylen, "%s: %s", bdf,
		 fd < 0 ? ireg_ctx_errmsg(*ctx) : strerror(errno));
	ireg_ctx_close(*ctx);
	return -1;
}

int main(int argc, char **argv)
{
	struct edu_dev edu = { .group = -1 };
	char bdf[IREG_PCI_BDF_SIZE], why[256];
	const char *dev = argc > 1 ? argv[1] : getenv("IREG_EDU_BDFS");
	struct ireg_ctx *ctx;
	unsigned int b, failed = 0;

	printf("TAP version 13\n");
	if (!dev || sscanf(dev, "%23s", bdf) != 1) {
		printf("1..0 # SKIP no edu device (IREG_EDU_BDFS)\n");
		return 4;
	}
	printf("1..%zu\n", ARRAY_SIZE(cases));
	if (edu_open(bdf, &ctx, &edu, why, sizeof(why))) {
		printf("Bail out! %s\n", why);
		return 1;
	}
	for (b = 0; b < ARRAY_SIZE(cases); b++) {
		dma_check(ctx, &edu, b, why, sizeof(why));
		failed += !!why[0];
		printf("%sok %u dma_check_%s_%s\n", why[0] ? "not " : "", b + 1,
		       cases[b].name, bdf);
		if (why[0])
			printf("# %s\n", why);
	}
	munmap((void *)edu.bar, EDU_BAR0_SIZE);
	ireg_ctx_close(ctx);
	return failed ? 1 : 0;
}
