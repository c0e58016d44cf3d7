// SPDX-License-Identifier: GPL-2.0-only
/*
 * cache_vm_bench: in the VM, a register-once cache hit against the system
 * calls it saves, in one run:
 *
 *   cache hit        ireg_cache_reg() + ireg_cache_unreg() of a cached
 *                    buffer: no system call
 *   kernel repeat    IOMMU_REG_REGISTER of a range already registered
 *                    (the kernel's register-once path) + IOMMU_REG_UNREG
 *   first register   IOMMU_REG_REGISTER + IOMMU_REG_UNREG of a new range:
 *                    pin, account, map, then undo
 *
 * 4 KiB and 64 KiB buffers; medians of 5 rounds.  Under TCG only ratios
 * mean anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "iommureg.h"

#define ROUNDS	5

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *t)
{
	qsort(t, ROUNDS, sizeof(*t), cmp);
	return t[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 65536 };
	struct ireg_cache *cache;
	struct ireg_ctx *ctx;
	unsigned int s;
	int container;

	if (argc != 2 || ireg_ctx_open(&ctx, 0) ||
	    ireg_device_open(ctx, argv[1]) < 0 ||
	    ireg_cache_create(ctx, NULL, &cache)) {
		fprintf(stderr, "usage: %s BDF (with iommu_reg loaded)\n",
			argv[0]);
		return 1;
	}
	container = ireg_ctx_container_fd(ctx);

	printf("# cache_vm_bench: ns per operation, median of %d rounds\n",
	       ROUNDS);
	printf("# %6s %12s %14s %15s %12s %12s\n", "size", "cache hit",
	       "kernel repeat", "first register", "repeat/hit", "first/hit");
	for (s = 0; s < 2; s++) {
		size_t size = sizes[s];
		double hit[ROUNDS], rep[ROUNDS], first[ROUNDS];
		struct iommu_reg_register reg = {
			.argsz = sizeof(reg), .size = size,
			.prot = IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE,
		};
		struct iommu_reg_unreg unreg = { .argsz = sizeof(unreg) };
		struct ireg_mr *mr;
		char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				 -1, 0);
		unsigned int r, i, n = 20000;
		double t0;

		if (buf == MAP_FAILED || ireg_cache_reg(cache, buf, size, &mr))
			return 1;
		ireg_cache_unreg(cache, mr);
		reg.vaddr = (uintptr_t)buf;
		for (r = 0; r < ROUNDS; r++) {
			t0 = now_ns();
			for (i = 0; i < n * 10; i++) {
				if (ireg_cache_reg(cache, buf, size, &mr))
					return 1;
				ireg_cache_unreg(cache, mr);
			}
			hit[r] = (now_ns() - t0) / (n * 10);

			/* The cache holds one reference: these are repeats. */
			t0 = now_ns();
			for (i = 0; i < n; i++) {
				if (ioctl(container, IOMMU_REG_REGISTER, &reg))
					return 1;
				unreg.handle = reg.handle;
				if (ioctl(container, IOMMU_REG_UNREG, &unreg))
					return 1;
			}
			rep[r] = (now_ns() - t0) / n;
		}
		ireg_cache_flush(cache);
		for (r = 0; r < ROUNDS; r++) {
			t0 = now_ns();
			for (i = 0; i < n / 10; i++) {
				if (ioctl(container, IOMMU_REG_REGISTER, &reg))
					return 1;
				unreg.handle = reg.handle;
				if (ioctl(container, IOMMU_REG_UNREG, &unreg))
					return 1;
			}
			first[r] = (now_ns() - t0) / (n / 10);
		}
		printf("%8zuK %12.0f %14.0f %15.0f %11.0fx %11.0fx\n",
		       size >> 10, median(hit), median(rep), median(first),
		       median(rep) / median(hit), median(first) / median(hit));
		munmap(buf, size);
	}
	ireg_cache_destroy(cache);
	ireg_ctx_close(ctx);
	return 0;
}
