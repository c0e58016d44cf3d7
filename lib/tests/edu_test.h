/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The library's VM tests on the VM's edu devices (IREG_EDU_BDFS, set by
 * tools/testing/vm): which devices there are, one fixture setup, the
 * regions the kernel holds.  Include after kselftest_harness.h.
 */
#ifndef LIB_TESTS_EDU_TEST_H
#define LIB_TESTS_EDU_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "iommureg.h"
#include "../../tools/include/edu_lib.h"

#define TEST_EDU_MAX	4

/* The @n-th edu device of the VM, or NULL. */
static const char *test_edu_bdf(unsigned int n)
{
	static char bdf[TEST_EDU_MAX][32];
	const char *env = getenv("IREG_EDU_BDFS");
	unsigned int i;
	int len;

	for (i = 0; env && i <= n && i < TEST_EDU_MAX; i++) {
		if (sscanf(env, " %31s%n", bdf[i], &len) != 1)
			return NULL;
		env += len;
		if (i == n)
			return bdf[i];
	}
	return NULL;
}

/*
 * A fixture's setup: a new context holding the first edu device, made
 * ready for DMA unless @edu is NULL.  Returns the device fd; skips the
 * test outside the VM.
 */
static int test_edu_open(struct __test_metadata *_metadata,
			 struct ireg_ctx **ctx, struct edu_dev *edu)
{
	const char *bdf = test_edu_bdf(0);
	int fd;

	*ctx = NULL;
	if (!bdf)
		SKIP(_exit(255), "no edu device in IREG_EDU_BDFS");
	fd = edu_lib_open("# setup", bdf, ctx, edu);
	ASSERT_LE(0, fd);
	return fd;
}

/* The regions the kernel holds for @ctx, or UINT32_MAX. */
static uint32_t test_regions(struct ireg_ctx *ctx)
{
	struct iommu_reg_info info;

	if (ireg_ctx_info(ctx, &info, NULL, 0))
		return UINT32_MAX;
	return info.num_regions;
}

#endif /* LIB_TESTS_EDU_TEST_H */
