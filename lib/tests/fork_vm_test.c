// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fork policy and late registration against the real module, in the
 * VM (Documentation/library.rst, "fork()" and "Memory before the device"):
 *  - a child that inherited a context, cache or pool gets -ECHILD where
 *    the parent would get an IOVA or issue an ioctl; its destroy and
 *    close unregister nothing, and the parent's DMA still lands in the
 *    parent's pages; the child can then open a context of its own (on
 *    the second edu device);
 *  - pool memory is MADV_DONTFORK ("dc" in smaps), the child has none;
 *  - IREG_CTX_DONTFORK advises every registration and gives the advice
 *    back only for pages no other registration covers;
 *  - caches and pools made before the first device work once it opens;
 *    a pool made without a context is registered by ireg_pool_register().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "iommureg.h"
#include "kselftest_harness.h"
#include "edu_test.h"

#define PAGE	4096UL
#define LEN	2000U

static void *anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)(i * 31 + seed);
}

/*
 * The VmFlags of the mapping holding @addr carry "dc" (VM_DONTCOPY, what
 * MADV_DONTFORK sets; "dd" is VM_DONTDUMP):
 * 1, 0, or -1 when no mapping holds it.
 */
static int dontfork_at(const void *addr)
{
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512];
	int in = 0, ret = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo <= a && a < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			ret = strstr(line, " dc") != NULL;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* A context with the first edu device, ready for DMA; skips outside. */
static void open_edu(struct __test_metadata *_metadata, unsigned int flags,
		     struct ireg_ctx **ctx, struct edu_dev *edu)
{
	const char *bdf = test_edu_bdf(0);
	int fd;

	if (!flags) {
		test_edu_open(_metadata, ctx, edu);
		return;
	}
	if (!bdf)
		SKIP(_exit(255), "no edu device in IREG_EDU_BDFS");
	ASSERT_EQ(0, ireg_ctx_open(ctx, flags));
	fd = ireg_device_open(*ctx, bdf);
	ASSERT_LE(0, fd) TH_LOG("%s", ireg_ctx_errmsg(*ctx));
	edu->group = -1;
	ASSERT_EQ(0, edu_init(edu, fd));
}

static void close_edu(struct ireg_ctx *ctx, struct edu_dev *edu)
{
	munmap((void *)edu->bar, EDU_BAR0_SIZE);
	ireg_ctx_close(ctx);
}

/* The device copies LEN bytes from @src to @dst by IOVA. */
static int dma_copy(struct edu_dev *edu, uint64_t src, uint64_t dst)
{
	return edu_dma_copy(edu, src, dst, LEN);
}

/*
 * In the child, after closing what it inherited: a context of its own,
 * on the second edu device (the first one's group is the parent's), and
 * DMA through its own cache into its own copy of the buffer.
 */
static int child_own_ctx(char *p)
{
	const char *bdf = test_edu_bdf(1);
	struct edu_dev edu = { .group = -1 };
	struct ireg_cache *cache;
	struct ireg_ctx *ctx;
	struct ireg_mr *mr;
	int fd;

	if (!bdf)
		return 0;	/* one device: nothing to open */
	if (ireg_ctx_open(&ctx, 0) || ireg_cache_create(ctx, NULL, &cache))
		return 20;
	fd = ireg_device_open(ctx, bdf);
	if (fd < 0 || edu_init(&edu, fd))
		return 21;
	memset(p + PAGE, 0, LEN);
	if (ireg_cache_reg(cache, p, 2 * PAGE, &mr) ||
	    dma_copy(&edu, ireg_mr_iova(mr, p), ireg_mr_iova(mr, p + PAGE)) ||
	    memcmp(p, p + PAGE, LEN))
		return 22;
	ireg_cache_unreg(cache, mr);
	ireg_cache_destroy(cache);
	close_edu(ctx, &edu);
	return 0;
}

/*
 * Register through the cache, fork: the child's lookup of the same buffer
 * refuses instead of returning the parent's IOVA, and its destroy and
 * close leave the parent's registration; the device still reaches the
 * parent's page.
 */
TEST(cache_child_refuses)
{
	struct ireg_cache *cache;
	struct ireg_mr *mr, *again;
	struct ireg_region r;
	struct ireg_ctx *ctx;
	struct edu_dev edu;
	int status;
	char *p;
	pid_t pid;

	open_edu(_metadata, 0, &ctx, &edu);
	ASSERT_EQ(0, ireg_cache_create(ctx, NULL, &cache));
	p = anon(2 * PAGE);
	ASSERT_NE(NULL, p);
	fill(p, LEN, 1);
	ASSERT_EQ(0, ireg_cache_reg(cache, p, 2 * PAGE, &mr));
	ASSERT_EQ(1, test_regions(ctx));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (ireg_cache_reg(cache, p, PAGE, &again) != -ECHILD)
			_exit(10);
		if (!strstr(ireg_ctx_errmsg(ctx), "before fork()"))
			_exit(11);
		if (ireg_region_register(ctx, p, PAGE, IOMMU_REG_PROT_READ, 0,
					 &r) != -ECHILD ||
		    ireg_region_unregister(ctx, &mr->region) != -ECHILD ||
		    test_regions(ctx) != UINT32_MAX)
			_exit(12);
		ireg_cache_unreg(cache, mr);
		ireg_cache_destroy(cache);
		ireg_ctx_close(ctx);
		_exit(child_own_ctx(p));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child step %d",
						 WEXITSTATUS(status));

	/* The parent's registration is still there, valid and reachable. */
	EXPECT_EQ(1, test_regions(ctx));
	EXPECT_TRUE(ireg_region_valid(&mr->region));
	ASSERT_EQ(0, ireg_cache_reg(cache, p + PAGE, LEN, &again));
	EXPECT_EQ(mr, again);
	memset(p + PAGE, 0, LEN);
	ASSERT_EQ(0, dma_copy(&edu, ireg_mr_iova(mr, p),
			      ireg_mr_iova(mr, p + PAGE)));
	EXPECT_EQ(0, memcmp(p, p + PAGE, LEN));
	ireg_cache_unreg(cache, again);
	ireg_cache_unreg(cache, mr);
	ireg_cache_destroy(cache);
	EXPECT_EQ(0, test_regions(ctx));
	munmap(p, 2 * PAGE);
	close_edu(ctx, &edu);
}

/*
 * A registered pool's memory is MADV_DONTFORK: the child has no copy of
 * it (touching it faults), its allocations refuse, its destroy leaves the
 * parent's registration.
 */
TEST(pool_dontfork)
{
	struct ireg_pool_params hp = { .size = sizeof(hp), .mem_size = 1 << 20 };
	struct ireg_pool_params bp = { .size = sizeof(bp), .buf_size = 4096,
					 .nr_bufs = 8 };
	struct ireg_pool *heap, *bufs;
	struct ireg_ctx *ctx;
	struct edu_dev edu;
	char *a, *b, *c;
	int status;
	pid_t pid;

	open_edu(_metadata, 0, &ctx, &edu);
	ASSERT_EQ(0, ireg_pool_create(ctx, &hp, &heap));
	ASSERT_EQ(0, ireg_pool_create(ctx, &bp, &bufs));
	EXPECT_EQ(1, dontfork_at(heap->base));
	EXPECT_EQ(1, dontfork_at(bufs->base));
	a = ireg_pool_alloc(heap, LEN, 0);
	b = ireg_pool_buf_alloc(bufs);
	ASSERT_TRUE(a && b);
	fill(a, LEN, 2);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (dontfork_at(heap->base) != -1 ||
		    dontfork_at(bufs->base) != -1)
			_exit(10);
		errno = 0;
		if (ireg_pool_alloc(heap, 64, 0) || errno != ECHILD)
			_exit(11);
		ireg_pool_destroy(heap);
		ireg_pool_destroy(bufs);
		ireg_ctx_close(ctx);
		*(volatile char *)a = 1;	/* no memory there */
		_exit(12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		TH_LOG("child %s %d", WIFEXITED(status) ? "exited" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) :
					   WTERMSIG(status));
	EXPECT_EQ(2, test_regions(ctx));
	EXPECT_TRUE(ireg_pool_valid(heap) && ireg_pool_valid(bufs));
	memset(b, 0, LEN);
	ASSERT_EQ(0, dma_copy(&edu, ireg_pool_iova(heap, a),
			      ireg_pool_iova(bufs, b)));
	EXPECT_EQ(0, memcmp(a, b, LEN));
	c = ireg_pool_alloc(heap, 64, 0);
	EXPECT_NE(NULL, c);
	ireg_pool_destroy(bufs);
	ireg_pool_destroy(heap);
	EXPECT_EQ(0, test_regions(ctx));
	close_edu(ctx, &edu);
}

/*
 * User memory is not advised by default.  With IREG_CTX_DONTFORK every
 * registration is, and an unregistration gives the advice back only to
 * the pages no other registration covers.
 */
TEST(ctx_dontfork_flag)
{
	struct ireg_region ra, rb, rc;
	struct ireg_ctx *ctx;
	struct edu_dev edu;
	int status, i;
	char *p;
	pid_t pid;

	open_edu(_metadata, 0, &ctx, &edu);
	p = anon(8 * PAGE);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_region_register(ctx, p, 4 * PAGE,
					  IOMMU_REG_PROT_READ, 0, &ra));
	EXPECT_EQ(0, dontfork_at(p));
	ASSERT_EQ(0, ireg_region_unregister(ctx, &ra));
	close_edu(ctx, &edu);

	open_edu(_metadata, IREG_CTX_DONTFORK, &ctx, &edu);
	/* Pages 0-3 and 2-5 overlap; page 7 alone; page 6 never. */
	ASSERT_EQ(0, ireg_region_register(ctx, p, 4 * PAGE,
					  IOMMU_REG_PROT_READ, 0, &ra));
	ASSERT_EQ(0, ireg_region_register(ctx, p + 2 * PAGE, 4 * PAGE,
					  IOMMU_REG_PROT_READ, 0, &rb));
	ASSERT_EQ(0, ireg_region_register(ctx, p + 7 * PAGE, PAGE,
					  IOMMU_REG_PROT_READ, 0, &rc));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(i != 6, dontfork_at(p + i * PAGE)) TH_LOG("page %d", i);
	}

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(dontfork_at(p) == -1 && dontfork_at(p + 6 * PAGE) == 0 ?
		      0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Pages 0-1 are no longer covered, 2-5 still are. */
	ASSERT_EQ(0, ireg_region_unregister(ctx, &ra));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(i >= 2 && i != 6, dontfork_at(p + i * PAGE))
			TH_LOG("page %d", i);
	}
	ASSERT_EQ(0, ireg_region_unregister(ctx, &rb));
	ASSERT_EQ(0, ireg_region_unregister(ctx, &rc));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(0, dontfork_at(p + i * PAGE)) TH_LOG("page %d", i);
	}
	munmap(p, 8 * PAGE);
	close_edu(ctx, &edu);
}

/*
 * A cache and pools made before the first device: cache misses say to
 * open a device, pools allocate; at ireg_device_open() the pools are
 * registered and the device DMAs through both.
 */
TEST(before_device)
{
	struct ireg_pool_params bp = { .size = sizeof(bp), .buf_size = 4096,
					 .nr_bufs = 8 };
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pool, *late, *gone;
	const char *bdf = test_edu_bdf(0);
	struct ireg_cache *cache;
	struct ireg_ctx *ctx;
	struct ireg_mr *mr;
	struct edu_dev edu = { .group = -1 };
	char *a, *b, *p;
	int fd;

	if (!bdf)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	ASSERT_EQ(0, ireg_ctx_open(&ctx, 0));
	ASSERT_EQ(0, ireg_cache_create(ctx, NULL, &cache))
		TH_LOG("%s", ireg_ctx_errmsg(ctx));
	ASSERT_EQ(0, ireg_pool_create(ctx, &bp, &pool))
		TH_LOG("%s", ireg_ctx_errmsg(ctx));
	/* Destroyed while waiting: off the list, never registered. */
	ASSERT_EQ(0, ireg_pool_create(ctx, &bp, &gone));
	ireg_pool_destroy(gone);
	/* Made without a context, registered with one that has no device. */
	ASSERT_EQ(0, ireg_pool_create(NULL, &bp, &late));
	ASSERT_EQ(0, ireg_pool_register(late, ctx));
	EXPECT_EQ(-EBUSY, ireg_pool_register(late, ctx));

	ireg_pool_info(pool, &info);
	EXPECT_FALSE(info.registered);
	EXPECT_EQ(IREG_IOVA_INVALID, pool->iova);
	a = ireg_pool_buf_alloc(pool);
	b = ireg_pool_buf_alloc(late);
	ASSERT_TRUE(a && b);
	fill(a, LEN, 3);
	p = anon(PAGE);
	ASSERT_NE(NULL, p);
	memset(p, 0, PAGE);
	EXPECT_EQ(-ENODEV, ireg_cache_reg(cache, p, PAGE, &mr));
	EXPECT_NE(NULL, strstr(ireg_ctx_errmsg(ctx), "ireg_device_open"))
		TH_LOG("%s", ireg_ctx_errmsg(ctx));

	fd = ireg_device_open(ctx, bdf);
	ASSERT_LE(0, fd) TH_LOG("%s", ireg_ctx_errmsg(ctx));
	ASSERT_EQ(0, edu_init(&edu, fd));
	ireg_pool_info(pool, &info);
	EXPECT_TRUE(info.registered);
	EXPECT_EQ(1, dontfork_at(pool->base));
	EXPECT_EQ(2, test_regions(ctx));

	memset(b, 0, LEN);
	ASSERT_EQ(0, dma_copy(&edu, ireg_pool_iova(pool, a),
			      ireg_pool_iova(late, b)));
	EXPECT_EQ(0, memcmp(a, b, LEN));
	ASSERT_EQ(0, ireg_cache_reg(cache, p, PAGE, &mr))
		TH_LOG("%s", ireg_ctx_errmsg(ctx));
	ASSERT_EQ(0, dma_copy(&edu, ireg_pool_iova(late, b),
			      ireg_mr_iova(mr, p)));
	EXPECT_EQ(0, memcmp(a, p, LEN));
	ireg_cache_unreg(cache, mr);
	EXPECT_EQ(0, ireg_cache_flush(cache));
	ireg_cache_destroy(cache);
	ireg_pool_destroy(late);
	ireg_pool_destroy(pool);
	EXPECT_EQ(0, test_regions(ctx));
	munmap(p, PAGE);
	close_edu(ctx, &edu);
}

/*
 * A pool that cannot be registered at the first device fails
 * ireg_device_open() with a message naming it; the pools before it are
 * registered, it stays pending, and the next ireg_device_open() registers
 * it once it can be.
 */
TEST(before_device_failure)
{
	struct ireg_pool_params bp = { .size = sizeof(bp), .buf_size = 4096,
					 .nr_bufs = 8 };
	struct ireg_pool *good, *bad;
	const char *bdf = test_edu_bdf(0);
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_ctx *ctx;
	int fd;

	if (!bdf)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	ASSERT_EQ(0, ireg_ctx_open(&ctx, 0));
	ASSERT_EQ(0, ireg_pool_create(ctx, &bp, &good));
	ASSERT_EQ(0, ireg_pool_create(ctx, &bp, &bad));
	/* Not pinnable for writing: the kernel says EFAULT. */
	ASSERT_EQ(0, mprotect(bad->base, bad->size, PROT_NONE));
	EXPECT_EQ(-EFAULT, ireg_device_open(ctx, bdf));
	EXPECT_NE(NULL, strstr(ireg_ctx_errmsg(ctx),
			       "made before the first device"))
		TH_LOG("%s", ireg_ctx_errmsg(ctx));
	ireg_pool_info(good, &info);
	EXPECT_TRUE(info.registered);
	ireg_pool_info(bad, &info);
	EXPECT_FALSE(info.registered);
	EXPECT_EQ(1, test_regions(ctx));

	ASSERT_EQ(0, mprotect(bad->base, bad->size, PROT_READ | PROT_WRITE));
	fd = ireg_device_open(ctx, bdf);
	ASSERT_LE(0, fd) TH_LOG("%s", ireg_ctx_errmsg(ctx));
	ireg_pool_info(bad, &info);
	EXPECT_TRUE(info.registered);
	EXPECT_EQ(2, test_regions(ctx));
	ireg_pool_destroy(bad);
	ireg_pool_destroy(good);
	EXPECT_EQ(0, test_regions(ctx));
	ireg_ctx_close(ctx);
}

/*
 * Pools made without a context (ireg_pool_create(NULL) and over the
 * caller's memory) registered once there is a device.
 */
TEST(pool_register_later)
{
	struct ireg_pool_params bp = { .size = sizeof(bp), .buf_size = 4096,
					 .nr_bufs = 8 };
	struct ireg_pool_params hp = { .size = sizeof(hp), .mem_size = 1 << 20 };
	struct ireg_pool *own, *mem, *theirs;
	struct ireg_ctx *ctx;
	struct edu_dev edu;
	char *area, *a, *b;

	area = anon(1 << 20);
	ASSERT_NE(NULL, area);
	ASSERT_EQ(0, ireg_pool_create(NULL, &bp, &own));
	ASSERT_EQ(0, ireg_pool_create_mem(area, 1 << 20, IREG_IOVA_INVALID,
					  &hp, &mem));
	open_edu(_metadata, 0, &ctx, &edu);
	EXPECT_EQ(0, test_regions(ctx));
	ASSERT_EQ(0, ireg_pool_register(own, ctx))
		TH_LOG("%s", ireg_ctx_errmsg(ctx));
	ASSERT_EQ(0, ireg_pool_register(mem, ctx))
		TH_LOG("%s", ireg_ctx_errmsg(ctx));
	EXPECT_EQ(-EBUSY, ireg_pool_register(mem, ctx));
	/* Refused: a pool over the caller's memory at the caller's IOVA. */
	ASSERT_EQ(0, ireg_pool_create_mem(area, 1 << 20, 1ULL << 40, &hp,
					  &theirs));
	EXPECT_EQ(-EINVAL, ireg_pool_register(theirs, ctx));
	EXPECT_EQ(-EINVAL, ireg_pool_register(NULL, ctx));
	ireg_pool_destroy(theirs);
	EXPECT_EQ(2, test_regions(ctx));
	/* The library's memory is advised, the caller's is not. */
	EXPECT_EQ(1, dontfork_at(own->base));
	EXPECT_EQ(0, dontfork_at(area));

	a = ireg_pool_alloc(mem, LEN, 0);
	b = ireg_pool_buf_alloc(own);
	ASSERT_TRUE(a && b);
	fill(a, LEN, 4);
	memset(b, 0, LEN);
	ASSERT_EQ(0, dma_copy(&edu, ireg_pool_iova(mem, a),
			      ireg_pool_iova(own, b)));
	EXPECT_EQ(0, memcmp(a, b, LEN));
	ireg_pool_destroy(mem);
	ireg_pool_destroy(own);
	EXPECT_EQ(0, test_regions(ctx));
	munmap(area, 1 << 20);
	close_edu(ctx, &edu);
}

TEST_HARNESS_MAIN
