// SPDX-License-Identifier: GPL-2.0-only
/*
 * ireg_bench: the in-VM half of "make bench", one program, one boot.
 *
 *	ireg_bench [-q] OURS_BDF TYPE1_BDF
 *
 * OURS_BDF is opened through libiommureg (an iommu_reg container),
 * TYPE1_BDF in a VFIO type1 container: every figure of ours is measured
 * beside type1's in the same run.  Output is CSV on stdout,
 *
 *	experiment,parameter,series,median,spread_pct,unit
 *
 * and comments ("# ...") for the reader.  Each median is over ROUNDS
 * rounds; spread_pct is 100 * (max - min) / median.  Under QEMU TCG
 * absolute times are distorted: only ratios measured here mean anything.
 *
 * Experiments:
 *   per_io        4 KiB .. 64 MiB (4 KiB pages): type1 MAP_DMA+UNMAP_DMA,
 *                 our MAP+UNMAP of pre-registered memory, the kernel's
 *                 repeat registration, and the library's cache hit
 *                 (ireg_cache_reg + ireg_cache_unreg, no system call)
 *   first_reg     GB/s of a first IOMMU_REG_REGISTER (pin + account + map)
 *                 against type1 MAP_DMA of the same memory, for 4 KiB
 *                 pages, THP and hugetlbfs (2 MiB); only the register or
 *                 map call is timed
 *   coalesce      leaf IOMMU pages per GiB, from the module's audit
 *                 counters (audit_unmap=1); type1 has no such counter
 *   scale         microseconds per registration, per batch, as the
 *                 container fills up to 2^20 regions (distinct PREREGs as
 *                 in limits_test's scale test), and type1 MAP_DMA of
 *                 distinct 4 KiB pages until it refuses (dma_entry_limit)
 *   e2e           CPU time to prepare one I/O for the edu device:
 *                 zero-copy (cache hit + IOVA) against a bounce copy into
 *                 a statically mapped buffer; a few real edu DMAs through
 *                 each path prove that both move data
 *
 * -q: fewer rounds and a smaller scale run (a smoke test).
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

#include "iommureg.h"
#include "regbench.h"
#include "../include/edu.h"

#define ROUNDS		5
#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
#define PAGE		4096UL
#define AUDIT_PATH	"/sys/kernel/debug/iommu_reg/audit"
#define PARAM_DIR	"/sys/module/iommu_reg/parameters/"
#define TYPE1_IOVA	(1ULL << 32)

static int quick;
static struct ireg_ctx *ctx;
static struct ireg_cache *cache;
static int ours;		/* iommu_reg container */
static int type1;		/* type1 container */
static int type1_group;
static int edu_fd = -1;

static void die(const char *what, int err)
{
	fprintf(stderr, "ireg_bench: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and spread (percent) of @n values; @v is sorted. */
static void stats(double *v, int n, double *med, double *spread)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*spread = *med > 0 ? 100 * (v[n - 1] - v[0]) / *med : 0;
}

static void row(const char *exp, const char *param, const char *series,
		double med, double spread, const char *unit)
{
	printf("%s,%s,%s,%.10g,%.1f,%s\n", exp, param, series, med, spread,
	       unit);
	fflush(stdout);
}

static void row_v(const char *exp, const char *param, const char *series,
		  double *v, int n, const char *unit)
{
	double med, spread;

	stats(v, n, &med, &spread);
	row(exp, param, series, med, spread, unit);
}

static const char *human(size_t size, char *out, size_t len)
{
	if (size >= 1 << 20)
		snprintf(out, len, "%zuM", size >> 20);
	else
		snprintf(out, len, "%zuK", size >> 10);
	return out;
}

static int open_type1(const char *bdf)
{
	char path[PATH_MAX], link[256];
	const char *base;
	int container;
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
	type1_group = open(path, O_RDWR);
	if (container < 0 || type1_group < 0 ||
	    ioctl(type1_group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	return container;
}

static int type1_map(void *vaddr, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(type1, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static int type1_unmap(uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	return ioctl(type1, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

static long long param_get(const char *dir, const char *name)
{
	char path[256], val[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	if (val[0] == 'Y')
		return 1;
	if (val[0] == 'N')
		return 0;
	return strtoll(val, NULL, 10);
}

static int param_set(const char *name, long long value)
{
	char path[256], val[32];
	int fd, len;
	ssize_t n;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	len = snprintf(val, sizeof(val), "%lld", value);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, val, len);
	close(fd);
	return n == len ? 0 : -1;
}

/* --- memory of each backing ---------------------------------------------- */

enum backing { MEM_4K, MEM_THP, MEM_HUGETLB, NR_BACKINGS };
static const char *const backing_name[] = { "4K", "THP", "hugetlb" };

/* @size bytes of @type, populated; NULL if unavailable. */
static void *mem_alloc(enum backing type, size_t size)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p, *aligned;

	if (type == MEM_HUGETLB) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		memset(p, 0x5a, size);
		return p;
	}
	/* Over-allocate to align on 2 MiB, so THP can back every block. */
	p = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
	if (aligned > p)
		munmap(p, aligned - p);
	munmap(aligned + size, p + SZ_2M - aligned);
	madvise(aligned, size, type == MEM_THP ? MADV_HUGEPAGE :
						 MADV_NOHUGEPAGE);
	memset(aligned, 0x5a, size);
	return aligned;
}

/* --- per-I/O cost -------------------------------------------------------- */

static double per_io_hit(size_t size, double *spread)
{
	double t[ROUNDS], med;
	unsigned int r, i, n = quick ? 2000 : 50000;
	struct ireg_mr *mr;
	char *buf = mem_alloc(MEM_4K, size);

	if (!buf)
		die("per_io buffer", ENOMEM);
	if (ireg_cache_reg(cache, buf, size, &mr))
		die("ireg_cache_reg", errno);
	ireg_cache_unreg(cache, mr);
	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();

		for (i = 0; i < n; i++) {
			if (ireg_cache_reg(cache, buf, size, &mr))
				die("ireg_cache_reg", errno);
			ireg_cache_unreg(cache, mr);
		}
		t[r] = (now_ns() - t0) / n;
	}
	ireg_cache_flush(cache);
	munmap(buf, size);
	stats(t, ROUNDS, &med, spread);
	return med;
}

static void per_io(void)
{
	static const size_t sizes[] = {
		4UL << 10, 64UL << 10, 2UL << 20, 64UL << 20,
	};
	struct regbench b = { .ours = ours, .type1 = type1 };
	unsigned int i;

	printf("# per_io: ns per I/O to make a buffer DMA-able (4 KiB pages)\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct regbench_row r;
		double hit, spread;
		char name[16];
		int ret;

		human(sizes[i], name, sizeof(name));
		ret = regbench_size(&b, sizes[i], &r);
		if (ret)
			die("regbench", -ret);
		hit = per_io_hit(sizes[i], &spread);
		row("per_io", name, "type1_map_unmap", r.type1.median,
		    r.type1.spread * 100, "ns");
		row("per_io", name, "ireg_map_unmap", r.map.median,
		    r.map.spread * 100, "ns");
		row("per_io", name, "ireg_kernel_repeat", r.hit.median,
		    r.hit.spread * 100, "ns");
		row("per_io", name, "ireg_cache_hit", hit, spread, "ns");
		printf("# per_io %s: type1/map %.1fx, type1/cache hit %.0fx\n",
		       name, r.type1.median / r.map.median,
		       r.type1.median / hit);
	}
}

/* --- first registration -------------------------------------------------- */

static void first_reg(void)
{
	const size_t size = 64UL << 20;
	enum backing type;

	printf("# first_reg: GB/s of a first registration of %zu MiB, register/map call alone\n",
	       size >> 20);
	for (type = 0; type < NR_BACKINGS; type++) {
		double ours_t[ROUNDS], t1_t[ROUNDS], ratio[ROUNDS];
		char *buf = mem_alloc(type, size);
		int r;

		if (!buf) {
			printf("# first_reg %s: cannot allocate: skipped\n",
			       backing_name[type]);
			continue;
		}
		for (r = 0; r < ROUNDS; r++) {
			struct iommu_reg_register reg = {
				.argsz = sizeof(reg),
				.vaddr = (uintptr_t)buf,
				.size = size,
				.prot = IOMMU_REG_PROT_READ |
					IOMMU_REG_PROT_WRITE,
			};
			struct iommu_reg_unreg unreg = {
				.argsz = sizeof(unreg),
			};
			double t0;
			int ret;

			/* Alternate which goes first: no order bias. */
			if (r % 2) {
				t0 = now_ns();
				ret = type1_map(buf, TYPE1_IOVA, size);
				t1_t[r] = now_ns() - t0;
				if (ret)
					die("type1 MAP_DMA", -ret);
				type1_unmap(TYPE1_IOVA, size);
			}
			t0 = now_ns();
			if (ioctl(ours, IOMMU_REG_REGISTER, &reg))
				die("IOMMU_REG_REGISTER", errno);
			ours_t[r] = now_ns() - t0;
			unreg.handle = reg.handle;
			if (ioctl(ours, IOMMU_REG_UNREG, &unreg))
				die("IOMMU_REG_UNREG", errno);
			if (!(r % 2)) {
				t0 = now_ns();
				ret = type1_map(buf, TYPE1_IOVA, size);
				t1_t[r] = now_ns() - t0;
				if (ret)
					die("type1 MAP_DMA", -ret);
				type1_unmap(TYPE1_IOVA, size);
			}
			ratio[r] = ours_t[r] / t1_t[r];
			ours_t[r] = size / ours_t[r];	/* bytes/ns = GB/s */
			t1_t[r] = size / t1_t[r];
		}
		row_v("first_reg", backing_name[type], "ireg_register",
		      ours_t, ROUNDS, "GB/s");
		row_v("first_reg", backing_name[type], "type1_map_dma",
		      t1_t, ROUNDS, "GB/s");
		row_v("first_reg", backing_name[type], "time_ratio_ireg_type1",
		      ratio, ROUNDS, "x");
		munmap(buf, size);
	}
}

/* --- coalescing ---------------------------------------------------------- */

struct audit { unsigned long long p4k, p2m, p1g; };

static int audit_read(struct audit *a)
{
	char size[8], line[128];
	unsigned long long n;
	FILE *f = fopen(AUDIT_PATH, "r");

	memset(a, 0, sizeof(*a));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %llu", size, &n) != 2)
			continue;
		if (!strcmp(size, "4K"))
			a->p4k = n;
		else if (!strcmp(size, "2M"))
			a->p2m = n;
		else if (!strcmp(size, "1G"))
			a->p1g = n;
	}
	fclose(f);
	return 0;
}

static void coalesce(void)
{
	const size_t size = 64UL << 20;
	long long saved = param_get(PARAM_DIR, "audit_unmap");
	const double per_gib = (double)SZ_1G / size;
	enum backing type;

	if (saved < 0 || access(AUDIT_PATH, R_OK) ||
	    param_set("audit_unmap", 1)) {
		printf("# coalesce: no audit_unmap parameter or %s: skipped\n",
		       AUDIT_PATH);
		return;
	}
	printf("# coalesce: leaf IOMMU pages per GiB (audit_unmap=1); type1 has no such counter,\n");
	printf("# the 4K-page case is the baseline (one IOMMU page per CPU page)\n");
	for (type = 0; type < NR_BACKINGS; type++) {
		struct iommu_reg_register reg = {
			.argsz = sizeof(reg), .size = size,
			.prot = IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE,
		};
		struct iommu_reg_unreg unreg = { .argsz = sizeof(unreg) };
		struct audit before, after;
		char *buf = mem_alloc(type, size);
		double total;

		if (!buf)
			continue;
		reg.vaddr = (uintptr_t)buf;
		if (ioctl(ours, IOMMU_REG_REGISTER, &reg))
			die("IOMMU_REG_REGISTER", errno);
		audit_read(&before);
		unreg.handle = reg.handle;
		if (ioctl(ours, IOMMU_REG_UNREG, &unreg))
			die("IOMMU_REG_UNREG", errno);
		audit_read(&after);
		total = (after.p4k - before.p4k) + (after.p2m - before.p2m) +
			(after.p1g - before.p1g);
		row("coalesce", backing_name[type], "ireg_leaf_pages_4k",
		    (after.p4k - before.p4k) * per_gib, 0, "pages/GiB");
		row("coalesce", backing_name[type], "ireg_leaf_pages_2m",
		    (after.p2m - before.p2m) * per_gib, 0, "pages/GiB");
		row("coalesce", backing_name[type], "ireg_leaf_pages",
		    total * per_gib, 0, "pages/GiB");
		munmap(buf, size);
	}
	param_set("audit_unmap", saved);
}

/* --- registration scaling ------------------------------------------------ */

static void scale(void)
{
	const unsigned int span = 1U << 18, nr = quick ? 1U << 17 : 4 * span;
	const unsigned int batch = 1U << 14;
	long long limit = param_get("/sys/module/vfio_iommu_type1/parameters/",
				    "dma_entry_limit");
	size_t len = (size_t)(span + 1) * PAGE;
	unsigned int i, n1 = 0;
	double t0, per;
	double *ours_b, *t1_b;
	char param[32];
	uint8_t *mem;

	ours_b = calloc(nr / batch + 1, sizeof(double));
	t1_b = calloc(nr / batch + 2, sizeof(double));
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED || !ours_b || !t1_b)
		die("scale buffer", ENOMEM);
	madvise(mem, len, MADV_NOHUGEPAGE);
	ireg_cache_flush(cache);

	printf("# scale: us per registration, mean over each batch of %u, ending at N\n",
	       batch);
	/* type1 first: distinct 4 KiB pages until MAP_DMA refuses. */
	t0 = now_ns();
	for (i = 0; i < nr; i++) {
		int ret = type1_map(mem + (size_t)(i % span) * PAGE,
				    TYPE1_IOVA + (uint64_t)i * PAGE, PAGE);

		if (ret) {
			printf("# scale: type1 MAP_DMA #%u failed: %s (dma_entry_limit %lld)\n",
			       i + 1, strerror(-ret), limit);
			break;
		}
		if ((i + 1) % batch == 0) {
			per = (now_ns() - t0) / batch / 1e3;
			snprintf(param, sizeof(param), "%u", i + 1);
			row("scale", param, "type1_map_dma", per, 0, "us");
			t1_b[n1++] = per;
			t0 = now_ns();
		}
	}
	if (i % batch) {
		per = (now_ns() - t0) / (i % batch) / 1e3;
		snprintf(param, sizeof(param), "%u", i);
		row("scale", param, "type1_map_dma", per, 0, "us");
		t1_b[n1++] = per;
	}
	row("scale", "max", "type1_map_dma", i, 0, "mappings");
	/* Everything mapped so far goes with one unmap of the whole range. */
	type1_unmap(TYPE1_IOVA, (uint64_t)i * PAGE);

	/* Ours: the scale test's distinct regions, up to 2^20. */
	t0 = now_ns();
	for (i = 0; i < nr; i++) {
		unsigned int pages = 1 + (i / span) % 2;
		struct iommu_reg_prereg pre = {
			.argsz = sizeof(pre),
			.flags = i / (2 * span) ? IOMMU_REG_REGION_READONLY : 0,
			.vaddr = (uintptr_t)(mem + (size_t)(i % span) * PAGE),
			.size = pages * PAGE,
		};

		if (ioctl(ours, IOMMU_REG_PREREG, &pre)) {
			printf("# scale: PREREG #%u failed: %s\n", i + 1,
			       strerror(errno));
			break;
		}
		if (pre.refs != 1)
			die("scale: PREREG not a new region", EEXIST);
		if ((i + 1) % batch == 0) {
			per = (now_ns() - t0) / batch / 1e3;
			snprintf(param, sizeof(param), "%u", i + 1);
			row("scale", param, "ireg_prereg", per, 0, "us");
			ours_b[(i + 1) / batch - 1] = per;
			t0 = now_ns();
		}
	}
	row("scale", "max", "ireg_prereg", i, 0, "regions");
	/* Summary: the batches up to type1's stop, and all of ours. */
	if (n1) {
		double *v = malloc(n1 * sizeof(double));

		memcpy(v, ours_b, n1 * sizeof(double));
		row_v("scale_summary", "to_type1_limit", "ireg_prereg", v, n1,
		      "us");
		memcpy(v, t1_b, n1 * sizeof(double));
		row_v("scale_summary", "to_type1_limit", "type1_map_dma", v,
		      n1, "us");
		free(v);
	}
	if (i / batch)
		row_v("scale_summary", "all", "ireg_prereg", ours_b, i / batch,
		      "us");
	/* The regions go with the container, at exit (they are many). */
	free(ours_b);
	free(t1_b);
}

/* --- end to end with edu ------------------------------------------------- */

/* Fill, DMA in and out through @iova_in/@iova_out, compare: 0 if intact. */
static int edu_check(struct edu_dev *edu, uint8_t *in, uint64_t iova_in,
		     uint8_t *out, uint64_t iova_out, unsigned int seed)
{
	unsigned int i;

	for (i = 0; i < EDU_DMA_MAX; i++)
		in[i] = (uint8_t)(i * 7 + seed);
	memset(out, 0, EDU_DMA_MAX);
	if (edu_dma_copy(edu, iova_in, iova_out, EDU_DMA_MAX))
		return -1;
	return memcmp(in, out, EDU_DMA_MAX) ? -1 : 0;
}

static volatile uint64_t desc_sink;

static void e2e(void)
{
	static const size_t sizes[] = { 4UL << 10, 64UL << 10, 2UL << 20 };
	const unsigned int nbufs = 16;
	struct edu_dev edu = { .fd = edu_fd, .group = -1 };
	struct ireg_region bounce_reg;
	size_t bounce_size = SZ_2M;
	uint8_t *bounce;
	unsigned int s, ok_zc = 0, ok_bounce = 0;
	int k;

	if (edu_fd < 0 || edu_init(&edu, edu_fd))
		die("edu_init", errno ? errno : ENODEV);
	/* The static mapping the bounce path copies into, registered once. */
	bounce = mem_alloc(MEM_4K, bounce_size);
	if (!bounce || ireg_region_register(ctx, bounce, bounce_size,
					    IOMMU_REG_PROT_READ |
					    IOMMU_REG_PROT_WRITE, 0,
					    &bounce_reg))
		die("bounce buffer", errno);

	printf("# e2e: CPU ns to prepare one I/O (DMA wait excluded), %u buffers cycled\n",
	       nbufs);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t size = sizes[s];
		double zc[ROUNDS], bc[ROUNDS], ratio[ROUNDS];
		unsigned int r, i, n = quick ? 200 : (size > 65536 ? 400 : 20000);
		uint8_t *bufs = mem_alloc(MEM_4K, nbufs * size);
		struct ireg_mr *mr;
		char name[16];

		if (!bufs)
			die("e2e buffers", ENOMEM);
		human(size, name, sizeof(name));
		for (i = 0; i < nbufs; i++) {	/* warm the cache */
			if (ireg_cache_reg(cache, bufs + i * size, size, &mr))
				die("ireg_cache_reg", errno);
			ireg_cache_unreg(cache, mr);
		}
		for (r = 0; r < ROUNDS; r++) {
			double t0 = cpu_ns();

			/* Zero copy: the I/O's own buffer, its IOVA. */
			for (i = 0; i < n; i++) {
				uint8_t *p = bufs + (i % nbufs) * size;

				if (ireg_cache_reg(cache, p, size, &mr))
					die("ireg_cache_reg", errno);
				desc_sink = ireg_mr_iova(mr, p);
				ireg_cache_unreg(cache, mr);
			}
			zc[r] = (cpu_ns() - t0) / n;

			/* Bounce: copy into the static mapping. */
			t0 = cpu_ns();
			for (i = 0; i < n; i++) {
				uint8_t *p = bufs + (i % nbufs) * size;

				memcpy(bounce, p, size);
				desc_sink = ireg_region_iova(&bounce_reg,
							     bounce);
			}
			bc[r] = (cpu_ns() - t0) / n;
			ratio[r] = bc[r] / zc[r];
		}
		row_v("e2e", name, "zero_copy_cache_hit", zc, ROUNDS, "ns");
		row_v("e2e", name, "bounce_memcpy", bc, ROUNDS, "ns");
		row_v("e2e", name, "ratio_bounce_zero_copy", ratio, ROUNDS,
		      "x");
		/* Real DMAs, each path, at the first two sizes. */
		for (k = 0; k < 2 && s < 2; k++) {
			uint8_t *in = bufs + (2 * k) * size;
			uint8_t *out = bufs + (2 * k + 1) * size;
			struct ireg_mr *mi, *mo;

			if (ireg_cache_reg(cache, in, size, &mi) ||
			    ireg_cache_reg(cache, out, size, &mo))
				die("ireg_cache_reg", errno);
			ok_zc += !edu_check(&edu, in, ireg_mr_iova(mi, in),
					    out, ireg_mr_iova(mo, out),
					    s * 2 + k);
			ireg_cache_unreg(cache, mi);
			ireg_cache_unreg(cache, mo);
			/* Bounce: copy in, DMA from/to the static buffer. */
			memcpy(bounce, in, EDU_DMA_MAX);
			memset(bounce + bounce_size / 2, 0, EDU_DMA_MAX);
			if (!edu_dma_copy(&edu, ireg_region_iova(&bounce_reg,
								 bounce),
					  ireg_region_iova(&bounce_reg, bounce +
							   bounce_size / 2),
					  EDU_DMA_MAX)) {
				memcpy(out, bounce + bounce_size / 2,
				       EDU_DMA_MAX);
				ok_bounce += !memcmp(in, out, EDU_DMA_MAX);
			}
		}
		ireg_cache_flush(cache);
		munmap(bufs, nbufs * size);
	}
	row("e2e_dma", "4095B", "zero_copy_ok", ok_zc, 0, "of 4");
	row("e2e_dma", "4095B", "bounce_ok", ok_bounce, 0, "of 4");
	ireg_region_unregister(ctx, &bounce_reg);
	munmap(bounce, bounce_size);
}

int main(int argc, char **argv)
{
	int ai = 1, ret;

	if (argc > 1 && !strcmp(argv[1], "-q")) {
		quick = 1;
		ai++;
	}
	if (argc - ai != 2) {
		fprintf(stderr, "usage: %s [-q] OURS_BDF TYPE1_BDF\n", argv[0]);
		return 2;
	}
	ret = ireg_ctx_open(&ctx, 0);
	if (ret)
		die("ireg_ctx_open", -ret);
	edu_fd = ireg_device_open(ctx, argv[ai]);
	if (edu_fd < 0)
		die(ireg_ctx_errmsg(ctx), -edu_fd);
	ret = ireg_cache_create(ctx, NULL, &cache);
	if (ret)
		die("ireg_cache_create", -ret);
	ours = ireg_ctx_container_fd(ctx);
	type1 = open_type1(argv[ai + 1]);
	if (type1 < 0)
		die("type1 container", errno);

	printf("experiment,parameter,series,median,spread_pct,unit\n");
	printf("# ireg_bench: medians of %d rounds; under TCG only ratios mean anything\n",
	       ROUNDS);
	per_io();
	first_reg();
	coalesce();
	e2e();
	scale();	/* last: it fills the container */
	fflush(stdout);
	/* Exit closes everything, releasing the regions. */
	return 0;
}
