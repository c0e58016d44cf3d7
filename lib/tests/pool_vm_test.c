// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * pool_vm_test: registered pools against the real module, in the test VM.
 *
 * Every backing (hugetlbfs 2 MiB and 1 GiB, THP, 4 KiB pages) gets a pool
 * registered on the edu device's container; the device copies data
 * between pool buffers through the IOVAs the pool and the translation map
 * give.  A seccomp filter that kills on any system call but exit proves
 * that allocation, free and translation make none.  A shared pool is
 * attached by a forked child, which fills a buffer the parent then DMAs
 * through the device.
 *
 * Each case runs in its own child (kselftest_harness) on a context of
 * its own; without an edu device (IREG_EDU_BDFS) every case skips.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "iommureg.h"
#include "iommureg/pool.h"
#include "../../tools/include/seccomp_util.h"
#include "kselftest_harness.h"
#include "edu_test.h"

#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
#define RW		(IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE)
/* Seconds per case: the 1 GiB pool's 262144 buffers take a while in TCG. */
#define POOL_TIMEOUT	300

static struct ireg_ctx *ctx;
static struct edu_dev edu;
static unsigned int pattern_seq;

static const char *const backing_names[] = {
	"caller's memory", "4 KiB pages", "THP", "hugetlbfs 2 MiB",
	"hugetlbfs 1 GiB",
};

static void fill(void *p, uint32_t len, unsigned int seq)
{
	uint8_t *b = p;
	uint32_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 131 + seq * 17 + 1);
}

static bool filled(const void *p, uint32_t len, unsigned int seq)
{
	const uint8_t *b = p;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (b[i] != (uint8_t)(i * 131 + seq * 17 + 1))
			return false;
	return true;
}

/* RAM at @src_iova -> device -> RAM at @dst_iova. */
static bool dma_copy(uint64_t src_iova, uint64_t dst_iova, uint32_t len)
{
	if (edu_dma(&edu, src_iova, len, EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS) ||
	    edu_dma(&edu, dst_iova, len, EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS)) {
		ksft_print_msg("edu DMA: %s\n", strerror(errno));
		return false;
	}
	return true;
}

/* Fill @src, clear @dst, copy through the device, compare. */
static bool dma_round_trip(void *src, uint64_t src_iova, void *dst,
			   uint64_t dst_iova, uint32_t len)
{
	unsigned int seq = ++pattern_seq;

	fill(src, len, seq);
	memset(dst, 0, len);
	if (!dma_copy(src_iova, dst_iova, len))
		return false;
	if (!filled(dst, len, seq)) {
		ksft_print_msg("DMA 0x%" PRIx64 " -> 0x%" PRIx64 " (%u bytes): data differs\n",
		     src_iova, dst_iova, len);
		return false;
	}
	return true;
}

/* The context and device of the case running: the fixture's. */
FIXTURE(pool) {
};

FIXTURE_SETUP(pool)
{
	test_edu_open(_metadata, &ctx, &edu);
}

FIXTURE_TEARDOWN(pool)
{
	edu_lib_close(ctx, &edu);
}

/*
 * The map holds exactly the 2 MiB chunks the pool covers entirely, each
 * with the pool's IOVA.
 */
static bool map_agrees(const struct ireg_pool *pool, const struct ireg_map *map,
		       const void *p)
{
	uintptr_t chunk = (uintptr_t)p & ~(SZ_2M - 1);
	uintptr_t base = (uintptr_t)pool->base;
	bool covered = chunk >= base && chunk + SZ_2M <= base + pool->size;
	uint64_t got = ireg_map_translate(map, p);

	return got == (covered ? ireg_pool_iova(pool, p) : IREG_IOVA_INVALID);
}

/*
 * One backing: create a registered buffer pool, check what was obtained
 * and where the kernel put it, DMA between its first, middle and last
 * buffers, give everything back.
 */
static void backing_case(struct __test_metadata *_metadata, uint32_t flag,
			 uint32_t backing, uint32_t nr_bufs, size_t buf_size,
			 uint64_t iova_align)
{
	struct ireg_pool_params p = {
		.size = sizeof(p),
		.buf_size = buf_size, .nr_bufs = nr_bufs, .flags = flag,
	};
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pool;
	struct ireg_map *map;
	uint32_t regions = test_regions(ctx), i, n = 0;
	char *first = NULL, *mid = NULL, *last = NULL, *b, *prev = NULL;
	uint64_t dst;
	uint32_t len;
	int ret;

	ASSERT_EQ(0, ireg_map_create(&map));
	p.map = map;
	ret = ireg_pool_create(ctx, &p, &pool);
	if (ret) {
		ireg_map_destroy(map);
		if (flag && (ret == -ENOMEM || ret == -EOPNOTSUPP))
			SKIP(return, "%s unavailable: %s",
			     backing_names[backing], ireg_ctx_errmsg(ctx));
		ASSERT_EQ(0, ret) TH_LOG("ireg_pool_create: %s",
					 ireg_ctx_errmsg(ctx));
	}
	ireg_pool_info(pool, &info);
	ksft_print_msg("%s: %zu bytes at %p, IOVA 0x%" PRIx64 ", %zu bytes on huge pages, %u buffers of %zu\n",
	     backing_names[info.backing], info.mem_size, info.base, info.iova,
	     info.huge_bytes, info.nr_bufs, info.buf_stride);
	ASSERT_EQ(backing, info.backing);
	ASSERT_TRUE(info.registered && !info.attached);
	ASSERT_TRUE(ireg_pool_valid(pool));
	ASSERT_EQ(regions + 1, test_regions(ctx));
	ASSERT_EQ(nr_bufs, info.nr_bufs);
	ASSERT_EQ(0, info.mem_size % info.page_size);
	/* Huge pages at a congruent IOVA: they can be IOMMU superpages. */
	ASSERT_EQ(0, (uintptr_t)info.base % iova_align);
	ASSERT_EQ(0, info.iova % iova_align);
	switch (backing) {
	case IREG_POOL_BACKING_HUGETLB:
	case IREG_POOL_BACKING_HUGETLB_1G:
		ASSERT_EQ(info.mem_size, info.huge_bytes);
		break;
	case IREG_POOL_BACKING_THP:
		ASSERT_TRUE(info.huge_bytes > 0);
		break;
	default:
		ASSERT_EQ(0, info.huge_bytes);
	}

	while ((b = ireg_pool_buf_alloc(pool))) {
		ASSERT_TRUE(!prev || b == prev + info.buf_stride);
		ASSERT_EQ(info.iova + (uint64_t)(b - (char *)info.base),
			  ireg_pool_iova(pool, b));
		if (n % 97 == 0 || n == nr_bufs - 1)
			ASSERT_TRUE(map_agrees(pool, map, b));
		if (n == 0)
			first = b;
		if (n == nr_bufs / 2)
			mid = b;
		last = b;
		prev = b;
		n++;
	}
	ASSERT_EQ(nr_bufs, n);
	ASSERT_EQ(ENOMEM, errno);

	/*
	 * Source through the pool's one add, destination through the map
	 * where it covers the buffer.
	 */
	len = buf_size < EDU_DMA_MAX ? buf_size : EDU_DMA_MAX;
	dst = ireg_map_translate_len(map, last, len);
	if (dst == IREG_IOVA_INVALID)
		dst = ireg_pool_iova(pool, last);
	ASSERT_TRUE(dma_round_trip(first, ireg_pool_iova(pool, first), last,
				   dst, len));
	ASSERT_TRUE(dma_round_trip(last, ireg_pool_iova(pool, last), mid,
				   ireg_pool_iova(pool, mid), len));

	for (b = first, i = 0; i < n; i++, b += info.buf_stride)
		ASSERT_EQ(0, ireg_pool_free(pool, b));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr_bufs, st.nr_free);
	ireg_pool_destroy(pool);
	ASSERT_EQ(regions, test_regions(ctx));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, first));
	ireg_map_destroy(map);
}

TEST_F_TIMEOUT(pool, backing_hugetlb, POOL_TIMEOUT)
{
	backing_case(_metadata, IREG_POOL_HUGETLB, IREG_POOL_BACKING_HUGETLB,
		     4096, 2048, SZ_2M);
}

TEST_F_TIMEOUT(pool, backing_hugetlb_1g, POOL_TIMEOUT)
{
	if (!getenv("IREG_HUGETLBFS_1G"))
		SKIP(return, "no 1 GiB huge page reserved in this VM");
	backing_case(_metadata, IREG_POOL_HUGETLB_1G,
		     IREG_POOL_BACKING_HUGETLB_1G, SZ_1G / 4096, 4096, SZ_1G);
}

TEST_F_TIMEOUT(pool, backing_thp, POOL_TIMEOUT)
{
	backing_case(_metadata, IREG_POOL_THP, IREG_POOL_BACKING_THP, 2000,
		     4096, SZ_2M);
}

TEST_F_TIMEOUT(pool, backing_4k, POOL_TIMEOUT)
{
	/* 300 x 4 KiB: no 2 MiB chunk, the map has nothing of it. */
	backing_case(_metadata, IREG_POOL_4K, IREG_POOL_BACKING_4K, 300, 4096,
		     4096);
}

/* No backing flag: hugetlbfs first, and this VM has 2 MiB pages. */
TEST_F_TIMEOUT(pool, backing_auto, POOL_TIMEOUT)
{
	backing_case(_metadata, 0, IREG_POOL_BACKING_HUGETLB, 1000, 9000, SZ_2M);
}

/* Variable sizes and alignments from a registered heap, DMA between them. */
TEST_F_TIMEOUT(pool, heap_dma, POOL_TIMEOUT)
{
	struct ireg_pool_params p = { .size = sizeof(p), .mem_size = 4 << 20 };
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	struct ireg_map *map;
	char *a, *b, *c;
	uint64_t ia, ib;

	ASSERT_EQ(0, ireg_map_create(&map));
	p.map = map;
	ASSERT_EQ(0, ireg_pool_create(ctx, &p, &pool))
		TH_LOG("ireg_pool_create: %s", ireg_ctx_errmsg(ctx));
	a = ireg_pool_alloc(pool, 3000, 64);
	b = ireg_pool_alloc(pool, EDU_DMA_MAX, 4096);
	c = ireg_pool_alloc(pool, 100, 0);
	ASSERT_TRUE(a && b && c);
	ASSERT_EQ(0, (uintptr_t)b % 4096);
	ASSERT_EQ(0, ireg_pool_iova(pool, b) % 4096);
	ia = ireg_map_translate_len(map, a, 3000);
	ib = ireg_map_translate_len(map, b, EDU_DMA_MAX);
	ASSERT_EQ(ireg_pool_iova(pool, a), ia);
	ASSERT_EQ(ireg_pool_iova(pool, b), ib);
	ASSERT_TRUE(dma_round_trip(a, ia, b, ib, 3000));
	ASSERT_TRUE(dma_round_trip(c, ireg_pool_iova(pool, c), a, ia, 100));
	ASSERT_EQ(0, ireg_pool_free(pool, b));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, b));
	ASSERT_EQ(0, ireg_pool_free(pool, a));
	ASSERT_EQ(0, ireg_pool_free(pool, c));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(0, st.nr_used);
	ireg_pool_destroy(pool);
	ireg_map_destroy(map);
}

/* Allow exit and exit_group, kill the process on anything else. */
static int seccomp_exit_only(void)
{
	static const int exits[] = { __NR_exit_group, __NR_exit };

	return seccomp_install(exits, 2, true);
}

struct nosys_pools {
	struct ireg_pool *bufs, *bufs_mt, *heap, *heap_mt;
	struct ireg_map *map;
};

#define NOSYS_ITERS	100000

/* In a child under the filter: any system call would kill it. */
static int nosys_child(const struct nosys_pools *np, bool make_syscall)
{
	volatile uint64_t sum = 0;
	unsigned int i;
	void *b, *h, *hm;

	if (seccomp_exit_only())
		return 20;
	if (make_syscall)
		sum += getppid();	/* must not return */
	for (i = 0; i < NOSYS_ITERS; i++) {
		b = ireg_pool_buf_alloc(np->bufs);
		if (!b)
			return 2;
		sum += ireg_pool_iova(np->bufs, b) +
		       ireg_map_translate(np->map, b);
		ireg_pool_buf_free(np->bufs, b);

		b = ireg_pool_buf_alloc(np->bufs_mt);
		if (!b || ireg_pool_free(np->bufs_mt, b))
			return 3;

		h = ireg_pool_alloc(np->heap, 1 + i % 5000, 64 << (i % 7));
		if (!h)
			return 4;
		sum += ireg_map_translate_len(np->map, h, 1 + i % 5000);
		if (ireg_pool_free(np->heap, h))
			return 5;

		hm = ireg_pool_alloc(np->heap_mt, 1 + i % 300, 0);
		if (!hm || ireg_pool_free(np->heap_mt, hm))
			return 6;
		/* Exhaustion and refusals are no system calls either. */
		if (i % 1000 == 0 &&
		    (ireg_pool_alloc(np->heap, 64 << 20, 0) ||
		     errno != ENOMEM ||
		     ireg_pool_free(np->heap, h) != -EALREADY))
			return 7;
	}
	(void)sum;
	return 0;
}

static int nosys_thread(void *np)
{
	return nosys_child(np, false);
}

static int run_nosys_child(const struct nosys_pools *np, bool make_syscall)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(nosys_child(np, make_syscall));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

TEST_F_TIMEOUT(pool, no_syscalls, POOL_TIMEOUT)
{
	struct ireg_pool_params p = { .size = sizeof(p),
		.buf_size = 2048, .nr_bufs = 64 };
	struct nosys_pools np;
	int status;

	ASSERT_EQ(0, ireg_map_create(&np.map));
	p.map = np.map;
	ASSERT_EQ(0, ireg_pool_create(ctx, &p, &np.bufs));
	p.flags = IREG_POOL_MT;
	ASSERT_EQ(0, ireg_pool_create(ctx, &p, &np.bufs_mt));
	p = (struct ireg_pool_params){ .size = sizeof(p),
		.mem_size = 4 << 20, .map = np.map };
	ASSERT_EQ(0, ireg_pool_create(ctx, &p, &np.heap));
	p.flags = IREG_POOL_MT;
	ASSERT_EQ(0, ireg_pool_create(ctx, &p, &np.heap_mt));

	/* The filter bites: one getppid() kills the child. */
	status = run_nosys_child(&np, true);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);

	/*
	 * In a thread of this process: a forked child's copies of the pools
	 * refuse (fork policy).  A system call there kills this process.
	 */
	status = seccomp_thread_run(nosys_thread, &np);
	if (status)
		ksft_print_msg("thread: %d\n", status);
	ASSERT_EQ(0, status);
	ksft_print_msg("%u x (buffer alloc+free, MT buffer alloc+checked free, heap alloc+free, MT heap alloc+free, translations): no system call\n",
	     NOSYS_ITERS);

	ireg_pool_destroy(np.heap_mt);
	ireg_pool_destroy(np.heap);
	ireg_pool_destroy(np.bufs_mt);
	ireg_pool_destroy(np.bufs);
	ireg_map_destroy(np.map);
}

/*
 * A shared pool: a forked child attaches it through the memfd (a mapping
 * of its own), writes a buffer named by its offset and reports the IOVA
 * its view gives for that offset; the parent DMAs the buffer through the
 * device.
 */
TEST_F_TIMEOUT(pool, shared_cross_process, POOL_TIMEOUT)
{
	struct ireg_pool_params p = {
		.size = sizeof(p),
		.buf_size = 4096, .nr_bufs = 64, .flags = IREG_POOL_SHARED,
	};
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pool, *view;
	uint64_t off, child_iova;
	int pfd[2], status;
	char *src, *dst;
	pid_t pid;

	ASSERT_EQ(0, ireg_pool_create(ctx, &p, &pool));
	ireg_pool_info(pool, &info);
	ksft_print_msg("shared pool: %s, memfd %d, IOVA 0x%" PRIx64 "\n",
	     backing_names[info.backing], info.fd, info.iova);
	ASSERT_TRUE(info.fd >= 0);
	src = ireg_pool_buf_alloc(pool);
	dst = ireg_pool_buf_alloc(pool);
	ASSERT_TRUE(src && dst);
	memset(src, 0, 4096);
	off = ireg_pool_offset(pool, src);
	ASSERT_TRUE(!pipe(pfd));

	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		close(pfd[0]);
		if (ireg_pool_attach(NULL, info.fd, NULL, 0, &view))
			_exit(10);
		if (view->base == pool->base)
			_exit(11);	/* not a mapping of its own */
		fill(ireg_pool_ptr(view, off), EDU_DMA_MAX, 4242);
		child_iova = ireg_pool_offset_iova(view, off);
		if (write(pfd[1], &child_iova, sizeof(child_iova)) !=
		    sizeof(child_iova))
			_exit(12);
		ireg_pool_destroy(view);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(sizeof(child_iova),
		  read(pfd[0], &child_iova, sizeof(child_iova)));
	close(pfd[0]);
	/* Offsets are the currency: same IOVA from either side. */
	ASSERT_EQ(ireg_pool_iova(pool, src), child_iova);
	memset(dst, 0, 4096);
	ASSERT_TRUE(dma_copy(child_iova, ireg_pool_iova(pool, dst),
			     EDU_DMA_MAX));
	ASSERT_TRUE(filled(dst, EDU_DMA_MAX, 4242));
	ireg_pool_destroy(pool);
}

/*
 * Attaching with a context registers the second mapping too: the same
 * memory under another IOVA, both reachable by the device.
 */
TEST_F_TIMEOUT(pool, shared_attach_registered, POOL_TIMEOUT)
{
	struct ireg_pool_params p = {
		.size = sizeof(p),
		.mem_size = 4 << 20, .flags = IREG_POOL_SHARED,
	};
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool_info vinfo = { .size = sizeof(vinfo) };
	struct ireg_pool *pool, *view;
	struct ireg_map *map;
	uint32_t regions = test_regions(ctx);
	unsigned int seq = ++pattern_seq;
	char *src, *dst;
	uint64_t off;

	ASSERT_EQ(0, ireg_map_create(&map));
	ASSERT_EQ(0, ireg_pool_create(ctx, &p, &pool));
	ireg_pool_info(pool, &info);
	ASSERT_EQ(0, ireg_pool_attach(ctx, info.fd, map, 0, &view));
	ireg_pool_info(view, &vinfo);
	ksft_print_msg("creator IOVA 0x%" PRIx64 ", attached view IOVA 0x%" PRIx64 " (%s)\n",
	     info.iova, vinfo.iova, backing_names[vinfo.backing]);
	ASSERT_TRUE(vinfo.attached && vinfo.registered);
	ASSERT_EQ(info.backing, vinfo.backing);
	ASSERT_TRUE(vinfo.iova != info.iova);
	ASSERT_EQ(regions + 2, test_regions(ctx));
	src = ireg_pool_alloc(pool, 4000, 4096);
	dst = ireg_pool_alloc(pool, 4000, 4096);
	ASSERT_TRUE(src && dst);
	fill(src, EDU_DMA_MAX, seq);
	memset(dst, 0, EDU_DMA_MAX);
	/* Out through the view's registration, in through the creator's. */
	off = ireg_pool_offset(pool, src);
	ASSERT_EQ(ireg_pool_offset_iova(view, off),
		  ireg_map_translate(map, ireg_pool_ptr(view, off)));
	ASSERT_TRUE(dma_copy(ireg_pool_offset_iova(view, off),
			     ireg_pool_iova(pool, dst), EDU_DMA_MAX));
	ASSERT_TRUE(filled(dst, EDU_DMA_MAX, seq));
	ASSERT_TRUE(filled(ireg_pool_ptr(view, ireg_pool_offset(pool, dst)),
			   EDU_DMA_MAX, seq));
	ireg_pool_destroy(view);
	ASSERT_EQ(regions + 1, test_regions(ctx));
	ireg_pool_destroy(pool);
	ASSERT_EQ(regions, test_regions(ctx));
	ireg_map_destroy(map);
}

TEST_HARNESS_MAIN
