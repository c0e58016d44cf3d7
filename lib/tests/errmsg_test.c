// SPDX-License-Identifier: GPL-2.0-only
/*
 * The error rule on the host, no kernel module: a failure's message is
 * the calling thread's own (threads failing at once on one context each
 * read their own words), every failure a caller can provoke leaves one,
 * and a failure found in the arguments leaves errno alone.
 *
 * The context is a fake (the library's private struct over /dev/null):
 * its failures need no device.  Build with -DERRMSG_V1 for the cases
 * that the version 1 API (ireg_ctx_errmsg() only) can compile.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommureg.h"
#include "../src/internal.h"
#include "../src/pool_priv.h"
#include "kselftest_harness.h"

#define NR_LOOPS	20000

#ifdef ERRMSG_V1
#define thread_errmsg(ctx)	ireg_ctx_errmsg(ctx)
#else
#define thread_errmsg(ctx)	ireg_errmsg()
#endif

/* One kind of failure: what it returns, what its message says. */
struct failure {
	const char *name;
	int (*fail)(struct ireg_ctx *ctx);
	int err;
	const char *msg;
};

static int fail_register(struct ireg_ctx *ctx)
{
	static char buf[4096];
	struct ireg_region r;

	return ireg_region_register(ctx, buf, sizeof(buf),
				    IOMMU_REG_PROT_READ, 0, &r);
}

static int fail_info(struct ireg_ctx *ctx)
{
	struct iommu_reg_info info;

	return ireg_ctx_info(ctx, &info, NULL, 0);
}

static int fail_open_bad_bdf(struct ireg_ctx *ctx)
{
	return ireg_device_open(ctx, "not-a-bdf");
}

static int fail_unregister(struct ireg_ctx *ctx)
{
	struct ireg_region r = { .handle = 77 };

	return ireg_region_unregister(ctx, &r);
}

/*
 * What the kernel answers an iommu_reg ioctl on /dev/null: ENOTTY (under
 * qemu-user, which passes on no ioctl it does not know: ENOSYS).
 */
#define ERR_NULL_IOCTL	1

static int null_ioctl_err(void)
{
	struct iommu_reg_info info = { .argsz = sizeof(info) };
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), err;

	err = ioctl(fd, IOMMU_REG_INFO, &info) ? -errno : 0;
	close(fd);
	return err;
}

static int want(const struct failure *f)
{
	static int null_err;

	if (f->err != ERR_NULL_IOCTL)
		return f->err;
	if (!null_err)
		null_err = null_ioctl_err();
	return null_err;
}

static const struct failure ctx_failures[] = {
	{ "register", fail_register, -ENODEV, "no device opened" },
	{ "info", fail_info, ERR_NULL_IOCTL, "IOMMU_REG_INFO" },
	{ "device_open", fail_open_bad_bdf, -EINVAL, "not-a-bdf" },
	{ "unregister", fail_unregister, ERR_NULL_IOCTL, "IOMMU_REG_UNREG 77" },
};

#ifndef ERRMSG_V1
/* Failures with no context at all. */
static int fail_pool_mem(struct ireg_ctx *ctx)
{
	struct ireg_pool_params p = { .size = sizeof(p), .buf_size = 64 };
	struct ireg_pool *pool;

	return ireg_pool_create_mem((void *)1, 4096, IREG_IOVA_INVALID, &p,
				    &pool);
}

static int fail_bdf_parse(struct ireg_ctx *ctx)
{
	char bdf[IREG_PCI_BDF_SIZE];

	return ireg_pci_bdf_parse("00:00.9", bdf, sizeof(bdf));
}

static int fail_map_set(struct ireg_ctx *ctx)
{
	static struct ireg_map *map;

	if (!map && ireg_map_create(&map))
		return 0;
	return ireg_map_set(map, (void *)0x200000, 0x200000, 0x1001);
}

static int fail_ring_init(struct ireg_ctx *ctx)
{
	static char area[4096] __attribute__((aligned(64)));
	struct ireg_ring_params p = { .size = sizeof(p), .capacity = 1024 };

	return ireg_ring_init(area, sizeof(area), &p);
}

static const struct failure ctxless_failures[] = {
	{ "pool_create_mem", fail_pool_mem, -EINVAL, "not 64-byte aligned" },
	{ "bdf_parse", fail_bdf_parse, -EINVAL, "invalid BDF '00:00.9'" },
	{ "map_set", fail_map_set, -EINVAL, "not page aligned" },
	{ "ring_init", fail_ring_init, -ENOSPC, "area of 4096 bytes" },
};
#endif

static struct ireg_ctx *fake_ctx(struct __test_metadata *_metadata)
{
	struct ireg_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->container_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ctx->notify_fd = -1;
	if (ctx->container_fd < 0) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

static void fake_ctx_free(struct ireg_ctx *ctx)
{
	close(ctx->container_fd);
	free(ctx);
}

struct worker {
	struct ireg_ctx *ctx;
	const struct failure *f;
	pthread_barrier_t *start;
	int wrong_ret, wrong_msg;
	char last_wrong[512];
};

static void *fail_loop(void *arg)
{
	struct worker *w = arg;
	int i, ret;

	pthread_barrier_wait(w->start);
	for (i = 0; i < NR_LOOPS; i++) {
		const char *msg;

		ret = w->f->fail(w->ctx);
		/* The others run meanwhile: a shared message is overwritten. */
		sched_yield();
		msg = thread_errmsg(w->ctx);
		if (ret != want(w->f))
			w->wrong_ret++;
		if (!strstr(msg, w->f->msg)) {
			w->wrong_msg++;
			snprintf(w->last_wrong, sizeof(w->last_wrong), "%s",
				 msg);
		}
	}
	return NULL;
}

/* Each thread fails its own way, all at once, and checks its words. */
static void run_threads(struct __test_metadata *_metadata,
			struct ireg_ctx *ctx, const struct failure *f, int n)
{
	struct worker w[8] = {};
	pthread_barrier_t start;
	pthread_t t[8];
	int i;

	ASSERT_GE(8, n);
	/* Each failure alone first: the expectations are right. */
	for (i = 0; i < n; i++) {
		EXPECT_EQ(want(&f[i]), f[i].fail(ctx)) TH_LOG("%s", f[i].name);
		EXPECT_NE(NULL, strstr(thread_errmsg(ctx), f[i].msg))
			TH_LOG("%s: \"%s\"", f[i].name, thread_errmsg(ctx));
	}
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, n));
	for (i = 0; i < n; i++) {
		w[i] = (struct worker){ .ctx = ctx, .f = &f[i],
					.start = &start };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fail_loop, &w[i]));
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].wrong_ret) TH_LOG("%s", f[i].name);
		EXPECT_EQ(0, w[i].wrong_msg)
			TH_LOG("%s: %d of %d messages not its own, e.g. \"%s\"",
			       f[i].name, w[i].wrong_msg, NR_LOOPS,
			       w[i].last_wrong);
	}
	pthread_barrier_destroy(&start);
}

TEST(threads_on_one_ctx_read_their_own_message)
{
	struct ireg_ctx *ctx = fake_ctx(_metadata);

	ASSERT_NE(NULL, ctx);
	run_threads(_metadata, ctx, ctx_failures,
		    ARRAY_SIZE(ctx_failures));
	fake_ctx_free(ctx);
}

#ifndef ERRMSG_V1
TEST(threads_without_ctx_read_their_own_message)
{
	run_threads(_metadata, NULL, ctxless_failures,
		    ARRAY_SIZE(ctxless_failures));
}

/* ireg_ctx_errmsg() is ireg_errmsg(), whatever the context. */
TEST(ctx_errmsg_is_the_thread_message)
{
	struct ireg_ctx *ctx = fake_ctx(_metadata);
	char bdf[IREG_PCI_BDF_SIZE];

	ASSERT_NE(NULL, ctx);
	EXPECT_EQ(want(&ctx_failures[1]), fail_info(ctx));
	EXPECT_EQ(ireg_errmsg(), ireg_ctx_errmsg(ctx));
	EXPECT_EQ(ireg_errmsg(), ireg_ctx_errmsg(NULL));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "IOMMU_REG_INFO"));
	/* A success leaves the message of the last failure. */
	EXPECT_EQ(0, ireg_pci_bdf_parse("00:01.0", bdf, sizeof(bdf)));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "IOMMU_REG_INFO"));
	fake_ctx_free(ctx);
}

/* Argument failures of int functions leave errno as it was. */
TEST(failures_leave_errno_alone)
{
	struct ireg_pool_params p = { .size = sizeof(p), .buf_size = 64,
					 .flags = 1U << 30 };
	char buf[8192] __attribute__((aligned(64)));
	struct ireg_pool *pool;
	unsigned int i;

	errno = 12345;
	EXPECT_EQ(-EINVAL, ireg_pool_create_mem(buf, sizeof(buf),
						 IREG_IOVA_INVALID, &p, &pool));
	EXPECT_EQ(12345, errno);
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "flags"));
	p.flags = 0;
	p.buf_size = 0;
	p.nr_bufs = 3;
	errno = 12345;
	EXPECT_EQ(-EINVAL, ireg_pool_create_mem(buf, sizeof(buf),
						 IREG_IOVA_INVALID, &p, &pool));
	EXPECT_EQ(12345, errno);
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "buffer pools"));
	for (i = 0; i < ARRAY_SIZE(ctxless_failures); i++) {
		errno = 12345;
		EXPECT_EQ(want(&ctxless_failures[i]),
			  ctxless_failures[i].fail(NULL));
		EXPECT_EQ(12345, errno) TH_LOG("%s", ctxless_failures[i].name);
	}
	/* A pool that works, and a free of what is not its own. */
	p = (struct ireg_pool_params){ .size = sizeof(p), .buf_size = 64 };
	ASSERT_EQ(0, ireg_pool_create_mem(buf, sizeof(buf), IREG_IOVA_INVALID,
					  &p, &pool));
	errno = 12345;
	EXPECT_EQ(-EFAULT, ireg_pool_free(pool, buf + sizeof(buf)));
	EXPECT_EQ(12345, errno);
	ireg_pool_destroy(pool);
}

/* Every PCI failure says why; a NULL is refused, not dereferenced. */
TEST(pci_failures_have_a_message)
{
	char drv[IREG_PCI_DRIVER_SIZE];

	EXPECT_EQ(-EINVAL, ireg_pci_bdf_parse(NULL, drv, sizeof(drv)));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "NULL"));
	EXPECT_EQ(-ERANGE, ireg_pci_bdf_parse("00:01.0", drv, 4));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "too small"));
	EXPECT_EQ(-EINVAL, ireg_pci_driver("zz", drv, sizeof(drv)));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "invalid BDF 'zz'"));
	EXPECT_EQ(-EINVAL, ireg_pci_iommu_group(NULL));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "(null)"));
	EXPECT_EQ(-EINVAL, ireg_pci_bind_check("1:2:3"));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "invalid BDF '1:2:3'"));
	EXPECT_EQ(-EINVAL, ireg_pci_restore("00:01.0", NULL));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "no driver name"));
	EXPECT_EQ(-EINVAL, ireg_pci_restore("00:01.0", "../x"));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "invalid driver name '../x'"));
}

/* Reset the message to something no tested failure says. */
#define seed_message() do {						\
	EXPECT_EQ(-EINVAL, ireg_pci_bdf_parse(NULL, NULL, 0));		\
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "NULL"));			\
} while (0)

/*
 * Every failure of ireg_ctx_adopt() leaves its words; a borrowed fd stays
 * open.  (On e5770f0: the previous message each time.)
 */
TEST(ctx_adopt_failures_have_a_message)
{
	struct ireg_ctx *ctx;
	int fd = open("/dev/null", O_RDWR);

	ASSERT_LE(0, fd);
	seed_message();
	EXPECT_EQ(-EINVAL, ireg_ctx_adopt(&ctx, fd, 0x80));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "unknown flags 0x80"));
	seed_message();
	EXPECT_EQ(-EBADF, ireg_ctx_adopt(&ctx, -1, 0));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "container fd -1"));
	seed_message();
	/* ENOTTY (qemu-user: ENOSYS), whatever /dev/null answers. */
	EXPECT_EQ(null_ioctl_err(), ireg_ctx_adopt(&ctx, fd, 0));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "not a VFIO container"));
	seed_message();
	EXPECT_EQ(null_ioctl_err(),
		  ireg_ctx_adopt(&ctx, fd, IREG_CTX_ADOPT_BORROW));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "not a VFIO container"));
	EXPECT_LE(0, fcntl(fd, F_GETFD));
	seed_message();
	EXPECT_EQ(-EBADF, ireg_ctx_adopt(&ctx, 1000, 0));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "dup of fd 1000"));
	close(fd);
}

/* A stats struct too small to hold its size: -EINVAL and the words. */
TEST(cache_stats_size_has_a_message)
{
	struct ireg_cache_stats st = { .size = 4 };
	struct ireg_ctx ctx = { .container_fd = -1, .notify_fd = -1 };
	struct ireg_cache *cache;

	ASSERT_EQ(0, ireg_cache_create(&ctx, NULL, &cache));
	seed_message();
	EXPECT_EQ(-EINVAL, ireg_cache_stats(cache, &st));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "cache stats: size 4 too small"));
	ireg_cache_destroy(cache);
}

/*
 * A free in a view refused (EPERM, a misuse) says so; a free of what is
 * not the pool's is errno alone (see ireg_pool_free(3)).  (On e5770f0:
 * no message for EPERM.)
 */
TEST(pool_free_in_a_view_has_a_message)
{
	static char buf[4096] __attribute__((aligned(4096)));
	struct ireg_pool_params p = { .size = sizeof(p), .buf_size = 64 };
	struct ireg_pool *pool;

	ASSERT_EQ(0, ireg_pool_create_mem(buf, sizeof(buf), IREG_IOVA_INVALID,
					  &p, &pool));
	pool->priv->attached = true;	/* as ireg_pool_attach() makes it */
	seed_message();
	EXPECT_EQ(-EPERM, ireg_pool_free(pool, buf));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "ireg_pool_attach"));
	pool->priv->attached = false;
	seed_message();
	EXPECT_EQ(-EFAULT, ireg_pool_free(pool, buf + sizeof(buf)));
	EXPECT_NE(NULL, strstr(ireg_errmsg(), "NULL"));
	ireg_pool_destroy(pool);
}
#endif

TEST_HARNESS_MAIN
