// SPDX-License-Identifier: GPL-2.0-only
/*
 * The register-once cache against the real module, in the VM: hits cost
 * no system call, invalidated memory is re-registered, limits hold, the
 * device DMAs through what the cache returns.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "iommureg.h"
#include "../../tools/include/clock.h"
#include "../../tools/include/seccomp_util.h"
#include "kselftest_harness.h"
#include "edu_test.h"

#define PAGE	4096UL

static void *anon(size_t size, int fill)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, fill, size);
	return p;
}

/* Register @n pages from @p one by one and let go: cached, unused. */
static void cache_pages(struct __test_metadata *_metadata,
			struct ireg_cache *cache, char *p, int n)
{
	struct ireg_mr *mr;
	int i;

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, ireg_cache_reg(cache, p + i * PAGE, PAGE, &mr));
		ireg_cache_unreg(cache, mr);
	}
}

FIXTURE(cache) {
	struct ireg_ctx *ctx;
	struct ireg_cache *cache;
	struct edu_dev edu;
};

FIXTURE_VARIANT(cache) {
	size_t max_entries;
};

FIXTURE_VARIANT_ADD(cache, default) {
	.max_entries = 0,
};

FIXTURE_SETUP(cache)
{
	struct ireg_cache_attr attr = { .max_entries = variant->max_entries };

	test_edu_open(_metadata, &self->ctx, &self->edu);
	ASSERT_EQ(0, ireg_cache_create(self->ctx, &attr, &self->cache));
}

FIXTURE_TEARDOWN(cache)
{
	ireg_cache_destroy(self->cache);
	edu_lib_close(self->ctx, &self->edu);
}

TEST_F(cache, hit_after_miss)
{
	struct ireg_cache_stats st;
	struct ireg_mr *a, *b, *c;
	char *p = anon(4 * PAGE, 1);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p + 100, 3 * PAGE, &a));
	/* The same range, and one inside it: the same registration. */
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p + 100, 3 * PAGE, &b));
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p + PAGE, 10, &c));
	EXPECT_EQ(a, b);
	EXPECT_EQ(a, c);
	/* Page-aligned around the request; the IOVA of any byte is one add. */
	EXPECT_EQ((uintptr_t)p, a->region.addr);
	EXPECT_EQ(4 * PAGE, a->region.size);
	EXPECT_EQ(a->region.iova + PAGE + 5, ireg_mr_iova(a, p + PAGE + 5));

	ireg_cache_stats(self->cache, &st);
	EXPECT_EQ(1, st.misses);
	EXPECT_EQ(2, st.hits);
	EXPECT_EQ(1, st.entries);
	EXPECT_EQ(1, test_regions(self->ctx));
	ireg_cache_unreg(self->cache, a);
	ireg_cache_unreg(self->cache, b);
	ireg_cache_unreg(self->cache, c);
	/* Unused but still cached: registered and mapped. */
	EXPECT_EQ(1, test_regions(self->ctx));
	munmap(p, 4 * PAGE);
}

/*
 * A hit makes no system call at all: run hits in a thread under a seccomp
 * filter that kills the process on any system call but exit.  (Not in a
 * forked child: its copy of the cache refuses, see fork_vm_test.)
 */
struct nosys_hits {
	struct ireg_cache *cache;
	char *p;
};

static int nosys_hits(void *arg)
{
	static const int exit_only[] = { __NR_exit_group, __NR_exit };
	struct nosys_hits *h = arg;
	struct ireg_mr *mr;
	int i;

	/* The thread's first lookup picks its reader: not a hit's cost. */
	if (ireg_cache_reg(h->cache, h->p, PAGE, &mr))
		return 2;
	ireg_cache_unreg(h->cache, mr);
	if (seccomp_install(exit_only, 2, true))
		return 3;
	for (i = 0; i < 100000; i++) {
		if (ireg_cache_reg(h->cache, h->p + (i % 8) * PAGE, PAGE, &mr))
			return 1;
		ireg_cache_unreg(h->cache, mr);
	}
	return 0;
}

TEST_F(cache, hit_makes_no_syscall)
{
	struct ireg_mr *mr;
	char *p = anon(8 * PAGE, 2);
	struct nosys_hits h = { .cache = self->cache, .p = p };

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, 8 * PAGE, &mr));
	ireg_cache_unreg(self->cache, mr);

	/* A system call in there kills this process: the test fails. */
	EXPECT_EQ(0, seccomp_thread_run(nosys_hits, &h));
	munmap(p, 8 * PAGE);
}

/* The device reaches the memory through the IOVA the cache hands out. */
TEST_F(cache, dma_through_cached_iova)
{
	const uint32_t len = 3000;
	struct ireg_mr *mr;
	char *p = anon(2 * PAGE, 0);
	int i;

	ASSERT_NE(NULL, p);
	for (i = 0; i < (int)len; i++)
		p[i] = (char)(i * 13);
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, 2 * PAGE, &mr));
	ASSERT_EQ(0, edu_dma(&self->edu, ireg_mr_iova(mr, p), len,
			     EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS));
	ireg_cache_unreg(self->cache, mr);

	/* A hit this time; the device writes back into the second page. */
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p + PAGE, len, &mr));
	ASSERT_EQ(0, edu_dma(&self->edu, ireg_mr_iova(mr, p + PAGE), len,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(p, p + PAGE, len));
	ireg_cache_unreg(self->cache, mr);
	munmap(p, 2 * PAGE);
}

/*
 * Memory unmapped and replaced at the same address behind the cache's
 * back: the next lookup registers the new memory, and the device writes
 * land in it.  A hand-rolled cache would hand out the old IOVA here.
 */
TEST_F(cache, replaced_memory_is_registered_again)
{
	const uint32_t len = 2000;
	struct ireg_cache_stats st;
	struct ireg_mr *old, *new;
	char *p = anon(2 * PAGE, 3);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, 2 * PAGE, &old));
	ASSERT_EQ(0, edu_dma(&self->edu, ireg_mr_iova(old, p), len,
			     EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS));
	ireg_cache_unreg(self->cache, old);

	ASSERT_EQ(0, munmap(p, 2 * PAGE));
	ASSERT_EQ(p, mmap(p, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memset(p, 9, 2 * PAGE);

	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, 2 * PAGE, &new));
	ireg_cache_stats(self->cache, &st);
	EXPECT_EQ(2, st.misses);
	EXPECT_EQ(1, st.stale);
	EXPECT_EQ(1, st.entries);
	/* The stale registration is gone from the kernel too. */
	EXPECT_EQ(1, test_regions(self->ctx));

	ASSERT_EQ(0, edu_dma(&self->edu, ireg_mr_iova(new, p + PAGE), len,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(3, p[PAGE]);
	EXPECT_EQ(3, p[PAGE + len - 1]);
	EXPECT_EQ(9, p[PAGE + len]);
	ireg_cache_unreg(self->cache, new);
	munmap(p, 2 * PAGE);
}

/* A stale registration still held stays usable until given back. */
TEST_F(cache, stale_in_use_is_freed_on_release)
{
	struct ireg_mr *old, *new;
	char *p = anon(PAGE, 4);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, PAGE, &old));
	ASSERT_EQ(p, mmap(p, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	EXPECT_FALSE(ireg_region_valid(&old->region));
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, PAGE, &new));
	EXPECT_NE(old, new);
	EXPECT_EQ(2, test_regions(self->ctx));
	ireg_cache_unreg(self->cache, old);
	EXPECT_EQ(1, test_regions(self->ctx));
	ireg_cache_unreg(self->cache, new);
	munmap(p, PAGE);
}

TEST_F(cache, process_events_drops_stale)
{
	struct ireg_cache_stats st;
	char *p = anon(4 * PAGE, 5);

	ASSERT_NE(NULL, p);
	cache_pages(_metadata, self->cache, p, 4);
	ASSERT_EQ(0, fcntl(ireg_ctx_notify_fd(self->ctx), F_SETFL,
			   O_NONBLOCK));
	ASSERT_EQ(0, munmap(p, 2 * PAGE));
	EXPECT_EQ(2, ireg_cache_process_events(self->cache));
	ireg_cache_stats(self->cache, &st);
	EXPECT_EQ(2, st.entries);
	EXPECT_EQ(2, st.stale);
	EXPECT_EQ(2, test_regions(self->ctx));
	munmap(p + 2 * PAGE, 2 * PAGE);
}

/* Limits: unused entries go oldest first; entries in use never go. */
TEST_F(cache, limits_evict_unused)
{
	struct ireg_cache_attr attr = { .max_entries = 4 };
	struct ireg_cache_stats st;
	struct ireg_mr *mr[8];
	struct ireg_cache *small;
	char *p = anon(8 * PAGE, 6);
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_create(self->ctx, &attr, &small));
	cache_pages(_metadata, small, p, 8);
	ireg_cache_stats(small, &st);
	EXPECT_EQ(4, st.entries);
	EXPECT_EQ(4, st.evictions);
	EXPECT_EQ(4, test_regions(self->ctx));
	/* The newest are the ones kept: hits. */
	for (i = 4; i < 8; i++) {
		ASSERT_EQ(0, ireg_cache_reg(small, p + i * PAGE, PAGE, &mr[i]));
		ireg_cache_unreg(small, mr[i]);
	}
	ireg_cache_stats(small, &st);
	EXPECT_EQ(8, st.misses);
	EXPECT_EQ(4, st.hits);

	/* Held entries are never evicted, even past the limit. */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, ireg_cache_reg(small, p + i * PAGE, PAGE, &mr[i]));
	ireg_cache_stats(small, &st);
	EXPECT_EQ(8, st.entries);
	EXPECT_EQ(8, test_regions(self->ctx));
	for (i = 0; i < 8; i++)
		ireg_cache_unreg(small, mr[i]);

	/* Flush unregisters everything unused. */
	EXPECT_EQ(0, ireg_cache_flush(small));
	ireg_cache_stats(small, &st);
	EXPECT_EQ(0, st.entries);
	EXPECT_EQ(0, test_regions(self->ctx));
	ireg_cache_destroy(small);
	munmap(p, 8 * PAGE);
}

TEST_F(cache, byte_limit)
{
	struct ireg_cache_attr attr = { .max_bytes = 16 * PAGE };
	struct ireg_cache_stats st;
	struct ireg_cache *small;
	struct ireg_mr *mr;
	char *p = anon(40 * PAGE, 7);
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_create(self->ctx, &attr, &small));
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, ireg_cache_reg(small, p + i * 4 * PAGE, 4 * PAGE,
					    &mr));
		ireg_cache_unreg(small, mr);
	}
	ireg_cache_stats(small, &st);
	EXPECT_GE(16 * PAGE, st.bytes);
	EXPECT_EQ(4, st.entries);
	ireg_cache_destroy(small);
	EXPECT_EQ(0, test_regions(self->ctx));
	munmap(p, 40 * PAGE);
}

TEST_F(cache, bad_input)
{
	struct ireg_cache_stats st;
	struct ireg_mr *mr;
	char *p = anon(PAGE, 8);

	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EINVAL, ireg_cache_reg(self->cache, p, 0, &mr));
	EXPECT_EQ(-EOVERFLOW, ireg_cache_reg(self->cache, (void *)-PAGE,
					     2 * PAGE, &mr));
	/* Unmapped memory: the kernel says EFAULT, nothing is cached. */
	ASSERT_EQ(0, munmap(p, PAGE));
	EXPECT_EQ(-EFAULT, ireg_cache_reg(self->cache, p, PAGE, &mr));
	ireg_cache_stats(self->cache, &st);
	EXPECT_EQ(0, st.entries);
	EXPECT_EQ(0, test_regions(self->ctx));
}

/* Many threads hitting at once: nothing lost, nothing serialised away. */
struct hitter {
	struct ireg_cache *cache;
	char *base;
	int index;
	unsigned long hits;
	int err;
	double ns_per_hit;
};

static void *hit_loop(void *arg)
{
	struct hitter *h = arg;
	struct ireg_mr *mr;
	unsigned long i, n = 200000;
	double t0 = clock_now_ns();

	for (i = 0; i < n; i++) {
		/* Half on a buffer of our own, half on a shared one. */
		char *p = h->base + ((i & 1) ? h->index + 1 : 0) * PAGE;

		h->err = ireg_cache_reg(h->cache, p, 64, &mr);
		if (h->err)
			break;
		if (ireg_mr_iova(mr, p) != mr->region.iova)
			h->err = -EPROTO;
		ireg_cache_unreg(h->cache, mr);
		h->hits++;
	}
	h->ns_per_hit = (clock_now_ns() - t0) / n;
	return NULL;
}

TEST_F(cache, threads_hit_concurrently)
{
	struct hitter h[4] = {};
	struct ireg_cache_stats st;
	pthread_t t[4];
	char *p = anon(5 * PAGE, 1);
	int i;

	ASSERT_NE(NULL, p);
	cache_pages(_metadata, self->cache, p, 5);
	for (i = 0; i < 4; i++) {
		h[i] = (struct hitter){ .cache = self->cache, .base = p,
					.index = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hit_loop, &h[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, h[i].err);
		EXPECT_EQ(200000, h[i].hits);
		TH_LOG("thread %d: %.0f ns per reg+unreg hit (TCG)", i,
		       h[i].ns_per_hit);
	}
	ireg_cache_stats(self->cache, &st);
	EXPECT_EQ(5, st.misses);
	EXPECT_EQ(800000, st.hits);
	EXPECT_EQ(5, st.entries);
	munmap(p, 5 * PAGE);
}

TEST_HARNESS_MAIN
