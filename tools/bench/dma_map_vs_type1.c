// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma_map_vs_type1: the in-VM half of "make bench", one program, one boot.
 *
 *	dma_map_vs_type1 [-q] OURS_BDF TYPE1_BDF
 *
 * OURS_BDF is opened through libiommureg (an iommu_reg container),
 * TYPE1_BDF in a VFIO type1 container: every figure of ours is measured
 * beside type1's in the same run.  Output is CSV on stdout,
 *
 *	experiment,parameter,series,median,spread_pct,unit
 *
 * and comments ("# ...") for the reader.  Each median is over ROUNDS
 * rounds after an untimed one, each round about ROUND_NS long
 * (tools/bench/bench.h); spread_pct is 100 * (max - min) / median.
 * Under QEMU TCG absolute times are distorted: only ratios measured here
 * mean anything.
 *
 * Memory is in a known state before anything is timed: populated, THP
 * backing checked in /proc/self/smaps (collapsed with MADV_COLLAPSE if
 * the fault did not form every huge page), hugetlbfs pages faulted in.
 *
 * Experiments:
 *   per_io        4 KiB .. 64 MiB (4 KiB pages): type1 MAP_DMA+UNMAP_DMA,
 *                 our MAP+UNMAP of pre-registered memory, the kernel's
 *                 repeat registration, and the library's cache hit
 *                 (ireg_cache_reg + ireg_cache_unreg, no system call);
 *                 a first-time REGISTER + UNREG per size as a comment
 *   first_reg     GB/s of a first IOMMU_REG_REGISTER (pin + account + map)
 *                 against type1 MAP_DMA of the same memory, for 4 KiB
 *                 pages, THP and hugetlbfs (2 MiB); only the register or
 *                 map call is timed, a round repeats both enough times
 *                 to last about ROUND_NS, alternating which goes first
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
 * -q: shorter rounds and a smaller scale run (a smoke test).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "iommureg.h"
#include "regbench.h"
#include "bench.h"
#include "../include/audit.h"
#include "../include/edu.h"
#include "../include/modparam.h"
#include "../include/vfio_util.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define ROUNDS		REGBENCH_ROUNDS
#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
#define PAGE		4096UL
#define TYPE1_IOVA	(1ULL << 32)

static int quick;
static double round_ns = REGBENCH_ROUND_NS;	/* -q: a tenth */
static struct ireg_ctx *ctx;
static struct ireg_cache *cache;
static int ours;		/* iommu_reg container */
static int type1;		/* type1 container */
static int type1_group;
static int edu_fd = -1;

static void die(const char *what, int err)
{
	fprintf(stderr, "dma_map_vs_type1: %s: %s\n", what, strerror(err));
	exit(1);
}

static const char *human(size_t size, char *out, size_t len)
{
	if (size >= 1 << 20)
		snprintf(out, len, "%zuM", size >> 20);
	else
		snprintf(out, len, "%zuK", size >> 10);
	return out;
}

/* --- memory of each backing ---------------------------------------------- */

enum backing { MEM_4K, MEM_THP, MEM_HUGETLB, NR_BACKINGS };
static const char *const backing_name[] = { "4K", "THP", "hugetlb" };

/* Bytes of [p, p + size) in anonymous huge pages (/proc/self/smaps). */
static size_t thp_bytes(void *p, size_t size)
{
	unsigned long lo = (uintptr_t)p, hi = lo + size, start, end, kb;
	FILE *f = fopen("/proc/self/smaps", "r");
	size_t total = 0;
	char line[256];
	int in = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start < hi && end > lo;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			total += kb << 10;
	}
	fclose(f);
	return total < size ? total : size;
}

/*
 * @size bytes of @type, populated; NULL if unavailable.  THP memory is
 * checked to be huge pages throughout, and collapsed if the faults did
 * not form them all; what it got is said in a comment.
 */
static void *mem_alloc(enum backing type, size_t size)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p, *aligned;
	size_t huge;

	if (type == MEM_HUGETLB) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		memset(p, 0x5a, size);	/* fault every huge page in */
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
	if (type != MEM_THP)
		return aligned;
	huge = thp_bytes(aligned, size);
	if (huge < size) {
		madvise(aligned, size, MADV_COLLAPSE);
		huge = thp_bytes(aligned, size);
	}
	printf("# THP: %zu of %zu MiB in huge pages (AnonHugePages)\n",
	       huge >> 20, size >> 20);
	return aligned;
}

/* --- per-I/O cost -------------------------------------------------------- */

struct hit_run {
	char *buf;
	size_t size;
};

static int hit_loop(void *arg, unsigned long n)
{
	struct hit_run *run = arg;
	struct ireg_mr *mr;
	unsigned long i;

	for (i = 0; i < n; i++) {
		if (ireg_cache_reg(cache, run->buf, run->size, &mr))
			return -errno;
		ireg_cache_unreg(cache, mr);
	}
	return 0;
}

static double per_io_hit(size_t size, double *spread)
{
	struct bench_plan plan = {
		.rounds = ROUNDS, .warmup = 1, .round_ns = round_ns,
	};
	struct hit_run run = { .buf = mem_alloc(MEM_4K, size), .size = size };
	double t[ROUNDS], med;
	long ret;

	if (!run.buf)
		die("per_io buffer", ENOMEM);
	ret = bench_time(&plan, hit_loop, &run, t);
	if (ret < 0)
		die("ireg_cache_reg", -ret);
	ireg_cache_flush(cache);
	munmap(run.buf, size);
	stats_summary(t, ROUNDS, &med, spread);
	return med;
}

static void per_io(void)
{
	static const size_t sizes[] = {
		4UL << 10, 64UL << 10, 2UL << 20, 64UL << 20,
	};
	struct regbench b = {
		.ours = ours, .type1 = type1, .round_ns = round_ns,
	};
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
		bench_row("per_io", name, "type1_map_unmap", r.type1.median,
			  r.type1.spread * 100, "ns");
		bench_row("per_io", name, "ireg_map_unmap", r.map.median,
			  r.map.spread * 100, "ns");
		bench_row("per_io", name, "ireg_kernel_repeat", r.hit.median,
			  r.hit.spread * 100, "ns");
		bench_row("per_io", name, "ireg_cache_hit", hit, spread, "ns");
		printf("# per_io %s: first-time REGISTER+UNREG %.0f ns (spread %.1f%%), %.2fx type1 map+unmap\n",
		       name, r.reg.median, r.reg.spread * 100,
		       r.reg.median / r.type1.median);
		printf("# per_io %s: type1/map %.1fx, type1/cache hit %.0fx\n",
		       name, r.type1.median / r.map.median,
		       r.type1.median / hit);
	}
}

/* --- first registration -------------------------------------------------- */

/*
 * One first registration of @buf (ours), or one type1 MAP_DMA of it;
 * only that call is timed, not the undoing: ns.
 */
static double first_map(int is_type1, char *buf, size_t size)
{
	struct iommu_reg_register reg = {
		.argsz = sizeof(reg),
		.vaddr = (uintptr_t)buf,
		.size = size,
		.prot = IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE,
	};
	struct iommu_reg_unreg unreg = { .argsz = sizeof(unreg) };
	double t0 = clock_now_ns(), ns;
	int ret;

	if (is_type1) {
		ret = regbench_type1_map(type1, buf, TYPE1_IOVA, size);
		ns = clock_now_ns() - t0;
		if (ret)
			die("type1 MAP_DMA", -ret);
		regbench_type1_unmap(type1, TYPE1_IOVA, size);
		return ns;
	}
	if (ioctl(ours, IOMMU_REG_REGISTER, &reg))
		die("IOMMU_REG_REGISTER", errno);
	ns = clock_now_ns() - t0;
	unreg.handle = reg.handle;
	if (ioctl(ours, IOMMU_REG_UNREG, &unreg))
		die("IOMMU_REG_UNREG", errno);
	return ns;
}

/*
 * Round @r: @k of each, alternating which of the two goes first (no
 * order bias); ns[0] gets ours' total time, ns[1] type1's.
 */
static void first_reg_round(char *buf, size_t size, unsigned int k,
			    unsigned int r, double ns[2])
{
	unsigned int i, j;

	ns[0] = ns[1] = 0;
	for (i = 0; i < k; i++) {
		for (j = 0; j < 2; j++) {
			int is_type1 = (r + i + j) & 1;

			ns[is_type1] += first_map(is_type1, buf, size);
		}
	}
}

static void first_reg(void)
{
	const size_t size = 64UL << 20;
	enum backing type;

	printf("# first_reg: GB/s of a first registration of %zu MiB, register/map call alone\n",
	       size >> 20);
	for (type = 0; type < NR_BACKINGS; type++) {
		double ours_t[ROUNDS], t1_t[ROUNDS], ratio[ROUNDS], ns[2];
		char *buf = mem_alloc(type, size);
		unsigned int r, k;

		if (!buf) {
			printf("# first_reg %s: cannot allocate: skipped\n",
			       backing_name[type]);
			continue;
		}
		/* Two untimed rounds of one each, then size the rounds. */
		first_reg_round(buf, size, 1, 0, ns);
		first_reg_round(buf, size, 1, 1, ns);
		first_reg_round(buf, size, 1, 0, ns);
		k = round_ns / (ns[0] + ns[1]);
		k = k < 1 ? 1 : k > 256 ? 256 : k;
		printf("# first_reg %s: %u of each per round\n",
		       backing_name[type], k);
		for (r = 0; r < ROUNDS; r++) {
			first_reg_round(buf, size, k, r, ns);
			ratio[r] = ns[0] / ns[1];
			ours_t[r] = k * size / ns[0];	/* bytes/ns = GB/s */
			t1_t[r] = k * size / ns[1];
		}
		bench_row_v("first_reg", backing_name[type], "ireg_register",
			    ours_t, ROUNDS, "GB/s");
		bench_row_v("first_reg", backing_name[type], "type1_map_dma",
			    t1_t, ROUNDS, "GB/s");
		bench_row_v("first_reg", backing_name[type],
			    "time_ratio_ireg_type1", ratio, ROUNDS, "x");
		munmap(buf, size);
	}
}

/* --- coalescing ---------------------------------------------------------- */

static void coalesce(void)
{
	const size_t size = 64UL << 20;
	long long saved = modparam_get("iommu_reg", "audit_unmap");
	const double per_gib = (double)SZ_1G / size;
	enum backing type;

	if (saved < 0 || access(AUDIT_PATH, R_OK) ||
	    modparam_set("iommu_reg", "audit_unmap", 1)) {
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
		double p4k, p2m, p1g;

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
		p4k = (after.pages_4k - before.pages_4k) * per_gib;
		p2m = (after.pages_2m - before.pages_2m) * per_gib;
		p1g = (after.pages_1g - before.pages_1g) * per_gib;
		bench_row("coalesce", backing_name[type], "ireg_leaf_pages_4k",
			  p4k, 0, "pages/GiB");
		bench_row("coalesce", backing_name[type], "ireg_leaf_pages_2m",
			  p2m, 0, "pages/GiB");
		bench_row("coalesce", backing_name[type], "ireg_leaf_pages",
			  p4k + p2m + p1g, 0, "pages/GiB");
		munmap(buf, size);
	}
	modparam_set("iommu_reg", "audit_unmap", saved);
}

/* --- registration scaling ------------------------------------------------ */

static void scale(void)
{
	const unsigned int span = 1U << 18, nr = quick ? 1U << 17 : 4 * span;
	const unsigned int batch = 1U << 14;
	long long limit = modparam_get("vfio_iommu_type1", "dma_entry_limit");
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
	t0 = clock_now_ns();
	for (i = 0; i < nr; i++) {
		int ret = regbench_type1_map(type1, mem + (size_t)(i % span) * PAGE,
				    TYPE1_IOVA + (uint64_t)i * PAGE, PAGE);

		if (ret) {
			printf("# scale: type1 MAP_DMA #%u failed: %s (dma_entry_limit %lld)\n",
			       i + 1, strerror(-ret), limit);
			break;
		}
		if ((i + 1) % batch == 0) {
			per = (clock_now_ns() - t0) / batch / 1e3;
			snprintf(param, sizeof(param), "%u", i + 1);
			bench_row("scale", param, "type1_map_dma", per, 0, "us");
			t1_b[n1++] = per;
			t0 = clock_now_ns();
		}
	}
	if (i % batch) {
		per = (clock_now_ns() - t0) / (i % batch) / 1e3;
		snprintf(param, sizeof(param), "%u", i);
		bench_row("scale", param, "type1_map_dma", per, 0, "us");
		t1_b[n1++] = per;
	}
	bench_row("scale", "max", "type1_map_dma", i, 0, "mappings");
	/* Everything mapped so far goes with one unmap of the whole range. */
	regbench_type1_unmap(type1, TYPE1_IOVA, (uint64_t)i * PAGE);

	/* Ours: the scale test's distinct regions, up to 2^20. */
	t0 = clock_now_ns();
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
			per = (clock_now_ns() - t0) / batch / 1e3;
			snprintf(param, sizeof(param), "%u", i + 1);
			bench_row("scale", param, "ireg_prereg", per, 0, "us");
			ours_b[(i + 1) / batch - 1] = per;
			t0 = clock_now_ns();
		}
	}
	bench_row("scale", "max", "ireg_prereg", i, 0, "regions");
	/* Summary: the batches up to type1's stop, and all of ours. */
	if (n1) {
		double *v = malloc(n1 * sizeof(double));

		memcpy(v, ours_b, n1 * sizeof(double));
		bench_row_v("scale_summary", "to_type1_limit", "ireg_prereg", v, n1,
		      "us");
		memcpy(v, t1_b, n1 * sizeof(double));
		bench_row_v("scale_summary", "to_type1_limit", "type1_map_dma", v,
		      n1, "us");
		free(v);
	}
	if (i / batch)
		bench_row_v("scale_summary", "all", "ireg_prereg", ours_b, i / batch,
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

#define E2E_BUFS	16

struct e2e_run {
	uint8_t *bufs;			/* E2E_BUFS of size, cycled */
	size_t size;
	uint8_t *bounce;		/* registered once */
	struct ireg_region *bounce_reg;
};

/* Zero copy: @n I/Os take their own buffer's IOVA from the cache. */
static int zero_copy_loop(void *arg, unsigned long n)
{
	struct e2e_run *run = arg;
	struct ireg_mr *mr;
	unsigned long i;

	for (i = 0; i < n; i++) {
		uint8_t *p = run->bufs + (i % E2E_BUFS) * run->size;

		if (ireg_cache_reg(cache, p, run->size, &mr))
			return -errno;
		desc_sink = ireg_mr_iova(mr, p);
		ireg_cache_unreg(cache, mr);
	}
	return 0;
}

/* Bounce: @n I/Os copied into the static mapping. */
static int bounce_loop(void *arg, unsigned long n)
{
	struct e2e_run *run = arg;
	unsigned long i;

	for (i = 0; i < n; i++) {
		memcpy(run->bounce, run->bufs + (i % E2E_BUFS) * run->size,
		       run->size);
		desc_sink = ireg_region_iova(run->bounce_reg, run->bounce);
	}
	return 0;
}

/*
 * CPU ns per I/O of both paths, rounds of each sized alone, interleaved:
 * a round's ratio is of the two measured next to each other.
 */
static void e2e_time(struct e2e_run *run, const char *name)
{
	struct bench_plan plan = { .round_ns = round_ns,
				   .clock = clock_cpu_ns };
	double zc[ROUNDS], bc[ROUNDS], ratio[ROUNDS];
	long nz, nb;
	int r, ret;

	nz = bench_size(&plan, zero_copy_loop, run);
	nb = bench_size(&plan, bounce_loop, run);
	if (nz < 0 || nb < 0)
		die("ireg_cache_reg", nz < 0 ? -nz : -nb);
	for (r = -1; r < ROUNDS; r++) {		/* round -1: warm-up */
		ret = bench_round(&plan, zero_copy_loop, run, nz,
				  &zc[r < 0 ? 0 : r]);
		if (ret)
			die("ireg_cache_reg", -ret);
		bench_round(&plan, bounce_loop, run, nb, &bc[r < 0 ? 0 : r]);
		if (r >= 0)
			ratio[r] = bc[r] / zc[r];
	}
	bench_row_v("e2e", name, "zero_copy_cache_hit", zc, ROUNDS, "ns");
	bench_row_v("e2e", name, "bounce_memcpy", bc, ROUNDS, "ns");
	bench_row_v("e2e", name, "ratio_bounce_zero_copy", ratio, ROUNDS,
		    "x");
}

static void e2e(void)
{
	static const size_t sizes[] = { 4UL << 10, 64UL << 10, 2UL << 20 };
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
	       E2E_BUFS);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t size = sizes[s];
		uint8_t *bufs = mem_alloc(MEM_4K, E2E_BUFS * size);
		struct e2e_run run = {
			.bufs = bufs, .size = size,
			.bounce = bounce, .bounce_reg = &bounce_reg,
		};
		char name[16];

		if (!bufs)
			die("e2e buffers", ENOMEM);
		human(size, name, sizeof(name));
		e2e_time(&run, name);
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
		munmap(bufs, E2E_BUFS * size);
	}
	bench_row("e2e_dma", "4095B", "zero_copy_ok", ok_zc, 0, "of 4");
	bench_row("e2e_dma", "4095B", "bounce_ok", ok_bounce, 0, "of 4");
	ireg_region_unregister(ctx, &bounce_reg);
	munmap(bounce, bounce_size);
}

int main(int argc, char **argv)
{
	int ai = 1, ret;

	if (argc > 1 && !strcmp(argv[1], "-q")) {
		quick = 1;
		round_ns /= 10;
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
	type1 = vfio_container_open(argv[ai + 1], VFIO_TYPE1v2_IOMMU,
				    &type1_group);
	if (type1 < 0)
		die("type1 container", errno);

	printf("experiment,parameter,series,median,spread_pct,unit\n");
	printf("# dma_map_vs_type1: medians of %d rounds of about %.0f ms after an untimed one; under TCG only ratios mean anything\n",
	       ROUNDS, round_ns / 1e6);
	per_io();
	first_reg();
	coalesce();
	e2e();
	scale();	/* last: it fills the container */
	fflush(stdout);
	/* Exit closes everything, releasing the regions. */
	return 0;
}
