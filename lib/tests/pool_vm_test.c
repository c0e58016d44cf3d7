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
 * TAP output; exit 0 pass, 1 fail, 4 skip (no edu device).
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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "iommureg.h"
#include "iommureg/pool.h"
#include "../../tools/include/edu.h"

#define SZ_2M		(2UL << 20)
#define SZ_1G		(1UL << 30)
#define RW		(IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE)

enum result { PASS, FAIL, SKIP };

static struct ireg_ctx *ctx;
static struct edu_dev edu = { .group = -1 };
static char skip_reason[256];
static unsigned int pattern_seq;

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static enum result skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
	return SKIP;
}

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		diag("%s:%d: check failed: %s", __FILE__, __LINE__, #cond); \
		return FAIL;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	unsigned long long _a = (unsigned long long)(a);		\
	unsigned long long _b = (unsigned long long)(b);		\
	if (_a != _b) {							\
		diag("%s:%d: %s == 0x%llx, expected %s == 0x%llx",	\
		     __FILE__, __LINE__, #a, _a, #b, _b);		\
		return FAIL;						\
	}								\
} while (0)

static const char *const backing_names[] = {
	"caller's memory", "4 KiB pages", "THP", "hugetlbfs 2 MiB",
	"hugetlbfs 1 GiB",
};

static uint32_t nr_regions(void)
{
	struct iommu_reg_info info;

	if (ireg_ctx_info(ctx, &info, NULL, 0))
		return ~0U;
	return info.num_regions;
}

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
		diag("edu DMA: %s", strerror(errno));
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
		diag("DMA 0x%" PRIx64 " -> 0x%" PRIx64 " (%u bytes): data differs",
		     src_iova, dst_iova, len);
		return false;
	}
	return true;
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
static enum result backing_case(uint32_t flag, uint32_t backing,
				uint32_t nr_bufs, size_t buf_size,
				uint64_t iova_align)
{
	struct ireg_pool_params p = {
		.buf_size = buf_size, .nr_bufs = nr_bufs, .flags = flag,
	};
	struct ireg_pool_stats st;
	struct ireg_pool_info info;
	struct ireg_pool *pool;
	struct ireg_map *map;
	uint32_t regions = nr_regions(), i, n = 0;
	char *first = NULL, *mid = NULL, *last = NULL, *b, *prev = NULL;
	uint64_t dst;
	uint32_t len;
	int ret;

	CHECK_EQ(ireg_map_create(&map), 0);
	p.map = map;
	ret = ireg_pool_create(ctx, &p, &pool);
	if (ret) {
		ireg_map_destroy(map);
		if (flag && (ret == -ENOMEM || ret == -EOPNOTSUPP))
			return skip("%s unavailable: %s", backing_names[backing],
				    ireg_ctx_errmsg(ctx));
		diag("ireg_pool_create: %s", ireg_ctx_errmsg(ctx));
		return FAIL;
	}
	ireg_pool_info(pool, &info);
	diag("%s: %zu bytes at %p, IOVA 0x%" PRIx64 ", %zu bytes on huge pages, %u buffers of %zu",
	     backing_names[info.backing], info.size, info.base, info.iova,
	     info.huge_bytes, info.nr_bufs, info.buf_stride);
	CHECK_EQ(info.backing, backing);
	CHECK(info.registered && !info.attached);
	CHECK(ireg_pool_valid(pool));
	CHECK_EQ(nr_regions(), regions + 1);
	CHECK_EQ(info.nr_bufs, nr_bufs);
	CHECK_EQ(info.size % info.page_size, 0);
	/* Huge pages at a congruent IOVA: they can be IOMMU superpages. */
	CHECK_EQ((uintptr_t)info.base % iova_align, 0);
	CHECK_EQ(info.iova % iova_align, 0);
	switch (backing) {
	case IREG_POOL_BACKING_HUGETLB:
	case IREG_POOL_BACKING_HUGETLB_1G:
		CHECK_EQ(info.huge_bytes, info.size);
		break;
	case IREG_POOL_BACKING_THP:
		CHECK(info.huge_bytes > 0);
		break;
	default:
		CHECK_EQ(info.huge_bytes, 0);
	}

	while ((b = ireg_pool_buf_alloc(pool))) {
		CHECK(!prev || b == prev + info.buf_stride);
		CHECK_EQ(ireg_pool_iova(pool, b),
			 info.iova + (uint64_t)(b - (char *)info.base));
		if (n % 97 == 0 || n == nr_bufs - 1)
			CHECK(map_agrees(pool, map, b));
		if (n == 0)
			first = b;
		if (n == nr_bufs / 2)
			mid = b;
		last = b;
		prev = b;
		n++;
	}
	CHECK_EQ(n, nr_bufs);
	CHECK_EQ(errno, ENOMEM);

	/*
	 * Source through the pool's one add, destination through the map
	 * where it covers the buffer.
	 */
	len = buf_size < EDU_DMA_MAX ? buf_size : EDU_DMA_MAX;
	dst = ireg_map_translate_len(map, last, len);
	if (dst == IREG_IOVA_INVALID)
		dst = ireg_pool_iova(pool, last);
	CHECK(dma_round_trip(first, ireg_pool_iova(pool, first), last, dst,
			     len));
	CHECK(dma_round_trip(last, ireg_pool_iova(pool, last), mid,
			     ireg_pool_iova(pool, mid), len));

	for (b = first, i = 0; i < n; i++, b += info.buf_stride)
		CHECK_EQ(ireg_pool_free(pool, b), 0);
	CHECK_EQ(ireg_pool_stats(pool, &st), 0);
	CHECK_EQ(st.nr_free, nr_bufs);
	ireg_pool_destroy(pool);
	CHECK_EQ(nr_regions(), regions);
	CHECK_EQ(ireg_map_translate(map, first), IREG_IOVA_INVALID);
	ireg_map_destroy(map);
	return PASS;
}

static enum result backing_hugetlb(void)
{
	return backing_case(IREG_POOL_HUGETLB, IREG_POOL_BACKING_HUGETLB,
			    4096, 2048, SZ_2M);
}

static enum result backing_hugetlb_1g(void)
{
	if (!getenv("IREG_HUGETLBFS_1G"))
		return skip("no 1 GiB huge page reserved in this VM");
	return backing_case(IREG_POOL_HUGETLB_1G, IREG_POOL_BACKING_HUGETLB_1G,
			    SZ_1G / 4096, 4096, SZ_1G);
}

static enum result backing_thp(void)
{
	return backing_case(IREG_POOL_THP, IREG_POOL_BACKING_THP, 2000, 4096,
			    SZ_2M);
}

static enum result backing_4k(void)
{
	/* 300 x 4 KiB: no 2 MiB chunk, the map has nothing of it. */
	return backing_case(IREG_POOL_4K, IREG_POOL_BACKING_4K, 300, 4096,
			    4096);
}

/* No backing flag: hugetlbfs first, and this VM has 2 MiB pages. */
static enum result backing_auto(void)
{
	return backing_case(0, IREG_POOL_BACKING_HUGETLB, 1000, 9000, SZ_2M);
}

/* Variable sizes and alignments from a registered heap, DMA between them. */
static enum result heap_dma(void)
{
	struct ireg_pool_params p = { .size = 4 << 20 };
	struct ireg_pool_stats st;
	struct ireg_pool *pool;
	struct ireg_map *map;
	char *a, *b, *c;
	uint64_t ia, ib;

	CHECK_EQ(ireg_map_create(&map), 0);
	p.map = map;
	if (ireg_pool_create(ctx, &p, &pool)) {
		diag("ireg_pool_create: %s", ireg_ctx_errmsg(ctx));
		return FAIL;
	}
	a = ireg_pool_alloc(pool, 3000, 64);
	b = ireg_pool_alloc(pool, EDU_DMA_MAX, 4096);
	c = ireg_pool_alloc(pool, 100, 0);
	CHECK(a && b && c);
	CHECK_EQ((uintptr_t)b % 4096, 0);
	CHECK_EQ(ireg_pool_iova(pool, b) % 4096, 0);
	ia = ireg_map_translate_len(map, a, 3000);
	ib = ireg_map_translate_len(map, b, EDU_DMA_MAX);
	CHECK_EQ(ia, ireg_pool_iova(pool, a));
	CHECK_EQ(ib, ireg_pool_iova(pool, b));
	CHECK(dma_round_trip(a, ia, b, ib, 3000));
	CHECK(dma_round_trip(c, ireg_pool_iova(pool, c), a, ia, 100));
	CHECK_EQ(ireg_pool_free(pool, b), 0);
	CHECK_EQ(ireg_pool_free(pool, b), -EALREADY);
	CHECK_EQ(ireg_pool_free(pool, a), 0);
	CHECK_EQ(ireg_pool_free(pool, c), 0);
	CHECK_EQ(ireg_pool_stats(pool, &st), 0);
	CHECK_EQ(st.nr_used, 0);
	ireg_pool_destroy(pool);
	ireg_map_destroy(map);
	return PASS;
}

/* Allow exit and exit_group, kill the process on anything else. */
static int seccomp_exit_only(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
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

static enum result no_syscalls(void)
{
	struct ireg_pool_params p = { .buf_size = 2048, .nr_bufs = 64 };
	struct nosys_pools np;
	int status;

	CHECK_EQ(ireg_map_create(&np.map), 0);
	p.map = np.map;
	CHECK_EQ(ireg_pool_create(ctx, &p, &np.bufs), 0);
	p.flags = IREG_POOL_MT;
	CHECK_EQ(ireg_pool_create(ctx, &p, &np.bufs_mt), 0);
	p = (struct ireg_pool_params){ .size = 4 << 20, .map = np.map };
	CHECK_EQ(ireg_pool_create(ctx, &p, &np.heap), 0);
	p.flags = IREG_POOL_MT;
	CHECK_EQ(ireg_pool_create(ctx, &p, &np.heap_mt), 0);

	/* The filter bites: one getppid() kills the child. */
	status = run_nosys_child(&np, true);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);

	status = run_nosys_child(&np, false);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		diag("child: %s %d", WIFSIGNALED(status) ? "signal" : "exit",
		     WIFSIGNALED(status) ? WTERMSIG(status) :
					   WEXITSTATUS(status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	diag("%u x (buffer alloc+free, MT buffer alloc+checked free, heap alloc+free, MT heap alloc+free, translations): no system call",
	     NOSYS_ITERS);

	ireg_pool_destroy(np.heap_mt);
	ireg_pool_destroy(np.heap);
	ireg_pool_destroy(np.bufs_mt);
	ireg_pool_destroy(np.bufs);
	ireg_map_destroy(np.map);
	return PASS;
}

/*
 * A shared pool: a forked child attaches it through the memfd (a mapping
 * of its own), writes a buffer named by its offset and reports the IOVA
 * its view gives for that offset; the parent DMAs the buffer through the
 * device.
 */
static enum result shared_cross_process(void)
{
	struct ireg_pool_params p = {
		.buf_size = 4096, .nr_bufs = 64, .flags = IREG_POOL_SHARED,
	};
	struct ireg_pool_info info;
	struct ireg_pool *pool, *view;
	uint64_t off, child_iova;
	int pfd[2], status;
	char *src, *dst;
	pid_t pid;

	CHECK_EQ(ireg_pool_create(ctx, &p, &pool), 0);
	ireg_pool_info(pool, &info);
	diag("shared pool: %s, memfd %d, IOVA 0x%" PRIx64,
	     backing_names[info.backing], info.fd, info.iova);
	CHECK(info.fd >= 0);
	src = ireg_pool_buf_alloc(pool);
	dst = ireg_pool_buf_alloc(pool);
	CHECK(src && dst);
	memset(src, 0, 4096);
	off = ireg_pool_offset(pool, src);
	CHECK(!pipe(pfd));

	pid = fork();
	CHECK(pid >= 0);
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
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(read(pfd[0], &child_iova, sizeof(child_iova)) ==
	      sizeof(child_iova));
	close(pfd[0]);
	/* Offsets are the currency: same IOVA from either side. */
	CHECK_EQ(child_iova, ireg_pool_iova(pool, src));
	memset(dst, 0, 4096);
	CHECK(dma_copy(child_iova, ireg_pool_iova(pool, dst), EDU_DMA_MAX));
	CHECK(filled(dst, EDU_DMA_MAX, 4242));
	ireg_pool_destroy(pool);
	return PASS;
}

/*
 * Attaching with a context registers the second mapping too: the same
 * memory under another IOVA, both reachable by the device.
 */
static enum result shared_attach_registered(void)
{
	struct ireg_pool_params p = {
		.size = 4 << 20, .flags = IREG_POOL_SHARED,
	};
	struct ireg_pool_info info, vinfo;
	struct ireg_pool *pool, *view;
	struct ireg_map *map;
	uint32_t regions = nr_regions();
	unsigned int seq = ++pattern_seq;
	char *src, *dst;
	uint64_t off;

	CHECK_EQ(ireg_map_create(&map), 0);
	CHECK_EQ(ireg_pool_create(ctx, &p, &pool), 0);
	ireg_pool_info(pool, &info);
	CHECK_EQ(ireg_pool_attach(ctx, info.fd, map, 0, &view), 0);
	ireg_pool_info(view, &vinfo);
	diag("creator IOVA 0x%" PRIx64 ", attached view IOVA 0x%" PRIx64 " (%s)",
	     info.iova, vinfo.iova, backing_names[vinfo.backing]);
	CHECK(vinfo.attached && vinfo.registered);
	CHECK_EQ(vinfo.backing, info.backing);
	CHECK(vinfo.iova != info.iova);
	CHECK_EQ(nr_regions(), regions + 2);
	src = ireg_pool_alloc(pool, 4000, 4096);
	dst = ireg_pool_alloc(pool, 4000, 4096);
	CHECK(src && dst);
	fill(src, EDU_DMA_MAX, seq);
	memset(dst, 0, EDU_DMA_MAX);
	/* Out through the view's registration, in through the creator's. */
	off = ireg_pool_offset(pool, src);
	CHECK_EQ(ireg_map_translate(map, ireg_pool_ptr(view, off)),
		 ireg_pool_offset_iova(view, off));
	CHECK(dma_copy(ireg_pool_offset_iova(view, off),
		       ireg_pool_iova(pool, dst), EDU_DMA_MAX));
	CHECK(filled(dst, EDU_DMA_MAX, seq));
	CHECK(filled(ireg_pool_ptr(view, ireg_pool_offset(pool, dst)),
		     EDU_DMA_MAX, seq));
	ireg_pool_destroy(view);
	CHECK_EQ(nr_regions(), regions + 1);
	ireg_pool_destroy(pool);
	CHECK_EQ(nr_regions(), regions);
	ireg_map_destroy(map);
	return PASS;
}

static const struct {
	const char *name;
	enum result (*fn)(void);
} tests[] = {
	{ "backing_hugetlb", backing_hugetlb },
	{ "backing_hugetlb_1g", backing_hugetlb_1g },
	{ "backing_thp", backing_thp },
	{ "backing_4k", backing_4k },
	{ "backing_auto", backing_auto },
	{ "heap_dma", heap_dma },
	{ "no_syscalls", no_syscalls },
	{ "shared_cross_process", shared_cross_process },
	{ "shared_attach_registered", shared_attach_registered },
};

int main(void)
{
	const unsigned int n = sizeof(tests) / sizeof(tests[0]);
	const char *bdfs = getenv("IREG_EDU_BDFS");
	unsigned int i, failed = 0;
	char bdf[32];
	enum result r;
	int fd, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (!bdfs || sscanf(bdfs, "%31s", bdf) != 1) {
		printf("1..0 # SKIP no edu device (IREG_EDU_BDFS): run in the test VM\n");
		return 4;
	}
	ret = ireg_ctx_open(&ctx, 0);
	if (ret) {
		printf("1..0 # SKIP ireg_ctx_open: %s\n", strerror(-ret));
		return 4;
	}
	fd = ireg_device_open(ctx, bdf);
	if (fd < 0 || edu_init(&edu, fd)) {
		printf("Bail out! %s: %s\n", bdf,
		       fd < 0 ? ireg_ctx_errmsg(ctx) : strerror(errno));
		return 1;
	}
	printf("1..%u\n", n);
	for (i = 0; i < n; i++) {
		r = tests[i].fn();
		if (r == SKIP)
			printf("ok %u %s # SKIP %s\n", i + 1, tests[i].name,
			       skip_reason);
		else
			printf("%sok %u %s\n", r == PASS ? "" : "not ", i + 1,
			       tests[i].name);
		failed += r == FAIL;
	}
	munmap((void *)edu.bar, EDU_BAR0_SIZE);
	ireg_ctx_close(ctx);
	return failed ? 1 : 0;
}
