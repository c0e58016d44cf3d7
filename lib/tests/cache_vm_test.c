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
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iommureg.h"
#include "../../tools/include/caps.h"
#include "../../tools/include/clock.h"
#include "../../tools/include/seccomp_util.h"
#include "../../tools/include/vfio_util.h"
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

/* The pages this process has pinned (VmPin), in bytes; -1 if unknown. */
static long vm_pinned(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
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
	struct ireg_cache_attr attr = {
		.size = sizeof(attr), .max_entries = variant->max_entries
	};

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
	struct ireg_cache_stats st = { .size = sizeof(st) };
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
	struct ireg_cache_stats st = { .size = sizeof(st) };
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
	struct ireg_cache_stats st = { .size = sizeof(st) };
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

/*
 * The drain returns once the notify fd is empty, without the caller
 * making the fd non-blocking: with nothing pending, and after the
 * records are read.  The alarm turns a blocked read into a failure.
 */
TEST_F(cache, process_events_returns_when_empty)
{
	int fd = ireg_ctx_notify_fd(self->ctx);
	char *p = anon(4 * PAGE, 6);

	ASSERT_NE(NULL, p);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	alarm(20);
	EXPECT_EQ(0, ireg_cache_process_events(self->cache));
	cache_pages(_metadata, self->cache, p, 4);
	ASSERT_EQ(0, munmap(p, 2 * PAGE));
	EXPECT_EQ(2, ireg_cache_process_events(self->cache));
	EXPECT_EQ(0, ireg_cache_process_events(self->cache));
	alarm(0);
	EXPECT_EQ(2, test_regions(self->ctx));
	munmap(p + 2 * PAGE, 2 * PAGE);
}

/* Limits: unused entries go oldest first; entries in use never go. */
TEST_F(cache, limits_evict_unused)
{
	struct ireg_cache_attr attr = {
		.size = sizeof(attr), .max_entries = 4
	};
	struct ireg_cache_stats st = { .size = sizeof(st) };
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
	struct ireg_cache_attr attr = {
		.size = sizeof(attr), .max_bytes = 16 * PAGE
	};
	struct ireg_cache_stats st = { .size = sizeof(st) };
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

/*
 * Overlapping requests are pinned and charged once: a miss registers the
 * union of the request and the cached registrations it overlaps, which
 * leave the cache (unregistered when unused, or when given back).  The
 * kernel charges overlapping regions twice (design.rst): this merge is
 * what keeps RLIMIT_MEMLOCK.  VmPin shows the kernel's count.
 */
TEST_F(cache, overlapping_registrations_pin_once)
{
	const uint32_t len = 1000;
	struct ireg_cache_stats st = { .size = sizeof(st) };
	struct ireg_mr *a, *b, *c;
	char *p = anon(8 * PAGE, 0);
	long pin0 = vm_pinned();
	uint64_t misses;
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_LE(0, pin0);
	/* Pages [0, 2), given back, then [1, 3): one region [0, 3). */
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, 2 * PAGE, &a));
	ireg_cache_unreg(self->cache, a);
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p + PAGE, 2 * PAGE, &b));
	EXPECT_EQ(1, test_regions(self->ctx));
	EXPECT_EQ(3 * PAGE, vm_pinned() - pin0);
	EXPECT_EQ((uintptr_t)p, b->region.addr);
	EXPECT_EQ(3 * PAGE, b->region.size);

	/* Every sub-range hits it; the device reaches all of it. */
	ireg_cache_stats(self->cache, &st);
	misses = st.misses;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, ireg_cache_reg(self->cache, p + i * PAGE, PAGE,
					    &c));
		EXPECT_EQ(b, c);
		ireg_cache_unreg(self->cache, c);
	}
	ireg_cache_stats(self->cache, &st);
	EXPECT_EQ(misses, st.misses);
	memset(p, 0x5a, len);
	ASSERT_EQ(0, edu_dma(&self->edu, ireg_mr_iova(b, p), len,
			     EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS));
	ASSERT_EQ(0, edu_dma(&self->edu, ireg_mr_iova(b, p + 2 * PAGE), len,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0x5a, p[2 * PAGE]);
	EXPECT_EQ(0x5a, p[2 * PAGE + len - 1]);

	/* [2, 5) while [0, 3) is held: that one stays until given back. */
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p + 2 * PAGE, 3 * PAGE, &c));
	EXPECT_EQ((uintptr_t)p, c->region.addr);
	EXPECT_EQ(5 * PAGE, c->region.size);
	EXPECT_EQ(2, test_regions(self->ctx));
	EXPECT_EQ(8 * PAGE, vm_pinned() - pin0);
	EXPECT_TRUE(ireg_region_valid(&b->region));
	ireg_cache_unreg(self->cache, b);
	EXPECT_EQ(1, test_regions(self->ctx));
	EXPECT_EQ(5 * PAGE, vm_pinned() - pin0);
	ireg_cache_unreg(self->cache, c);

	/* Invalidation still works on the merged region. */
	ASSERT_EQ(0, munmap(p + 4 * PAGE, PAGE));
	ASSERT_EQ(p + 4 * PAGE, mmap(p + 4 * PAGE, PAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				     -1, 0));
	ASSERT_EQ(0, ireg_cache_reg(self->cache, p, PAGE, &a));
	ireg_cache_stats(self->cache, &st);
	EXPECT_EQ(1, st.stale);
	EXPECT_EQ(1, st.entries);
	EXPECT_EQ(PAGE, a->region.size);
	EXPECT_EQ(1, test_regions(self->ctx));
	EXPECT_EQ(PAGE, vm_pinned() - pin0);
	ireg_cache_unreg(self->cache, a);
	EXPECT_EQ(0, ireg_cache_flush(self->cache));
	EXPECT_EQ(0, vm_pinned() - pin0);
	munmap(p, 8 * PAGE);
}

/*
 * Threads registering overlapping ranges at once: once everything is
 * given back, what stays pinned is at most the union, never the sum.
 */
struct overlapper {
	struct ireg_cache *cache;
	char *base;
	unsigned int seed;
	int err;
};

#define OVERLAP_PAGES	32

static void *overlap_loop(void *arg)
{
	struct overlapper *o = arg;
	struct ireg_mr *mr;
	int i;

	for (i = 0; i < 2000 && !o->err; i++) {
		size_t off = rand_r(&o->seed) % (OVERLAP_PAGES * PAGE - 1);
		size_t len = 1 + rand_r(&o->seed) % (8 * PAGE);

		if (off + len > OVERLAP_PAGES * PAGE)
			len = OVERLAP_PAGES * PAGE - off;
		o->err = ireg_cache_reg(o->cache, o->base + off, len, &mr);
		if (o->err)
			break;
		if (mr->region.addr > (uintptr_t)o->base + off ||
		    mr->region.addr + mr->region.size <
		    (uintptr_t)o->base + off + len)
			o->err = -EPROTO;
		ireg_cache_unreg(o->cache, mr);
	}
	return NULL;
}

TEST_F(cache, threads_overlapping_pin_union)
{
	struct overlapper o[4];
	struct ireg_cache_stats st = { .size = sizeof(st) };
	pthread_t t[4];
	char *p = anon(OVERLAP_PAGES * PAGE, 1);
	long pin0 = vm_pinned();
	int i;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 4; i++) {
		o[i] = (struct overlapper){ .cache = self->cache, .base = p,
					    .seed = i + 1 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, overlap_loop, &o[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, o[i].err);
	}
	ireg_cache_stats(self->cache, &st);
	TH_LOG("%" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " entries",
	       st.hits, st.misses, st.entries);
	EXPECT_GE(OVERLAP_PAGES * PAGE, st.bytes);
	EXPECT_GE(OVERLAP_PAGES * PAGE, vm_pinned() - pin0);
	EXPECT_EQ(st.entries, test_regions(self->ctx));
	munmap(p, OVERLAP_PAGES * PAGE);
}

/*
 * A provider's descriptor in the user area, built once by init from the
 * kernel's registration: the device DMAs through the IOVA it holds.
 */
struct vm_desc {
	uint64_t iova;
	uint64_t addr;
	int inits;
};

static int vm_desc_init(struct ireg_mr *mr, void *arg)
{
	struct vm_desc *d = ireg_mr_user(mr);

	d->iova = mr->region.iova;
	d->addr = mr->region.addr;
	d->inits++;
	(*(int *)arg)++;
	return 0;
}

static void vm_desc_fini(struct ireg_mr *mr, void *arg)
{
	struct vm_desc *d = ireg_mr_user(mr);

	/* Still registered: the kernel holds it. */
	if (ireg_region_valid(&mr->region) && d->iova == mr->region.iova)
		(*(int *)arg) += 100;
}

TEST_F(cache, user_area_descriptor)
{
	int count = 0;
	struct ireg_cache_attr attr = {
		.size = sizeof(attr),
		.user_size = sizeof(struct vm_desc),
		.init = vm_desc_init,
		.fini = vm_desc_fini,
		.cb_arg = &count,
	};
	const uint32_t len = 2000;
	struct ireg_cache *c;
	struct ireg_mr *mr;
	struct vm_desc *d;
	char *p = anon(2 * PAGE, 0);
	int i;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ireg_cache_create(self->ctx, &attr, &c));
	for (i = 0; i < (int)len; i++)
		p[i] = (char)(i * 11);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, ireg_cache_reg(c, p + i * 100, len + PAGE, &mr));
		d = ireg_mr_user(mr);
		ASSERT_NE(NULL, d);
		EXPECT_EQ(1, d->inits);
		EXPECT_EQ((uintptr_t)p, d->addr);
		ireg_cache_unreg(c, mr);
	}
	EXPECT_EQ(1, count);
	ASSERT_EQ(0, ireg_cache_reg(c, p, 2 * PAGE, &mr));
	d = ireg_mr_user(mr);
	ASSERT_EQ(0, edu_dma(&self->edu, d->iova, len, EDU_RAM_TO_DEV,
			     EDU_DMA_TIMEOUT_MS));
	ASSERT_EQ(0, edu_dma(&self->edu, d->iova + PAGE, len, EDU_DEV_TO_RAM,
			     EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(p, p + PAGE, len));
	ireg_cache_unreg(c, mr);
	ireg_cache_destroy(c);
	/* One init, one fini, while still registered. */
	EXPECT_EQ(101, count);
	EXPECT_EQ(0, test_regions(self->ctx));
	munmap(p, 2 * PAGE);
}

TEST_F(cache, bad_input)
{
	struct ireg_cache_stats st = { .size = sizeof(st) };
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
	struct ireg_cache_stats st = { .size = sizeof(st) };
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

/* The regions iommu_reg holds for a container fd, or -errno. */
static int container_regions(int container)
{
	struct iommu_reg_info info = { .argsz = sizeof(info) };

	if (ioctl(container, IOMMU_REG_INFO, &info))
		return -errno;
	return info.num_regions;
}

/*
 * The same under RLIMIT_MEMLOCK, in a child without CAP_IPC_LOCK (which
 * lifts the limit): 10 pages, then 10 overlapping them by half, under a
 * limit of 16.  Registered apart they need 20 pages; merged, 15.
 */
static int memlock_child(const char *bdf)
{
	struct rlimit rl = { .rlim_cur = 16 * PAGE, .rlim_max = 16 * PAGE };
	struct ireg_cache *cache;
	struct ireg_region r;
	struct ireg_mr *a, *b;
	struct ireg_ctx *ctx;
	char *p = anon(16 * PAGE, 1);
	int ret;

	if (!p || caps_drop(CAP_IPC_LOCK) || setrlimit(RLIMIT_MEMLOCK, &rl))
		return 10;
	if (ireg_ctx_open(&ctx, 0) || ireg_device_open(ctx, bdf) < 0)
		return 11;
	/* 16 pages fit: nothing else is charged to this user. */
	if (ireg_region_register(ctx, p, 16 * PAGE, IOMMU_REG_PROT_READ |
				 IOMMU_REG_PROT_WRITE, 0, &r))
		return 12;
	ireg_region_unregister(ctx, &r);
	if (ireg_cache_create(ctx, NULL, &cache) ||
	    ireg_cache_reg(cache, p, 10 * PAGE, &a))
		return 13;
	ireg_cache_unreg(cache, a);
	ret = ireg_cache_reg(cache, p + 5 * PAGE, 10 * PAGE, &b);
	if (ret)
		return ret == -ENOMEM ? 14 : 15;
	if (b->region.addr != (uintptr_t)p || b->region.size != 15 * PAGE)
		return 16;
	ireg_cache_unreg(cache, b);
	ireg_cache_destroy(cache);
	ireg_ctx_close(ctx);
	return 0;
}

TEST(overlap_fits_memlock_limit)
{
	const char *bdf = test_edu_bdf(0);
	int status;
	pid_t pid;

	if (!bdf)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(memlock_child(bdf));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* 14: -ENOMEM, the overlap charged twice; 16: not merged. */
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * A framework that keeps its own VFIO setup: it opens the container,
 * attaches the group, selects iommu_reg, opens the device.  The library
 * adopts the container for the cache and invalidation notices, and leaves
 * the caller's fd working when it lets go.
 */
TEST(adopt_caller_container)
{
	const char *bdf = test_edu_bdf(0);
	struct ireg_cache_stats st = { .size = sizeof(st) };
	struct edu_dev edu = { .group = -1 };
	const uint32_t len = 3000;
	int container, group, dev, i;
	struct ireg_cache *cache;
	struct ireg_ctx *ctx;
	struct ireg_mr *mr;
	char *p;

	if (!bdf)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	group = vfio_group_open(bdf);
	ASSERT_LE(0, group);
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, container);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));

	/* Bad input, and no backend yet: refused, nothing kept. */
	EXPECT_EQ(-EINVAL, ireg_ctx_adopt(&ctx, container, 1U << 7));
	EXPECT_EQ(-EBADF, ireg_ctx_adopt(&ctx, -1, 0));
	EXPECT_EQ(-ENOTTY, ireg_ctx_adopt(&ctx, group, 0));
	EXPECT_EQ(-ENODEV, ireg_ctx_adopt(&ctx, container, 0));
	EXPECT_EQ(NULL, ctx);

	/* The caller selects the backend itself and opens its device. */
	ASSERT_EQ(0, ioctl(container, VFIO_SET_IOMMU, VFIO_IOMMU_REG));
	dev = vfio_device_open(group, bdf);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, edu_init(&edu, dev));

	ASSERT_EQ(0, ireg_ctx_adopt(&ctx, container, 0));
	ASSERT_NE(container, ireg_ctx_container_fd(ctx));	/* a dup */
	ASSERT_LE(0, ireg_ctx_notify_fd(ctx));
	/* One notify fd per container: a second adopter is told. */
	{
		struct ireg_ctx *again;

		EXPECT_EQ(-EBUSY, ireg_ctx_adopt(&again, container, 0));
	}
	/*
	 * The fork policy holds for an adopted context too, even as the
	 * process's first library object: a child is refused.  (Before:
	 * no fork handler was installed, and the child's info succeeded.)
	 */
	{
		struct iommu_reg_info info = { .argsz = sizeof(info) };
		int status;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid)
			_exit(ireg_ctx_info(ctx, &info, NULL, 0) == -ECHILD &&
			      strstr(ireg_errmsg(), " pid 0 ") == NULL ? 0 : 1);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("the child's ireg_ctx_info() was not refused with ECHILD");
		EXPECT_EQ(0, ireg_ctx_info(ctx, &info, NULL, 0));
	}
	ASSERT_EQ(0, ireg_cache_create(ctx, NULL, &cache));
	p = anon(2 * PAGE, 0);
	ASSERT_NE(NULL, p);
	for (i = 0; i < (int)len; i++)
		p[i] = (char)(i * 7);
	ASSERT_EQ(0, ireg_cache_reg(cache, p, 2 * PAGE, &mr));
	ASSERT_EQ(0, edu_dma(&edu, ireg_mr_iova(mr, p), len, EDU_RAM_TO_DEV,
			     EDU_DMA_TIMEOUT_MS));
	ASSERT_EQ(0, edu_dma(&edu, ireg_mr_iova(mr, p + PAGE), len,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(p, p + PAGE, len));
	ireg_cache_unreg(cache, mr);

	/* Invalidation: munmap, and the cache hears of it. */
	ASSERT_EQ(0, fcntl(ireg_ctx_notify_fd(ctx), F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, munmap(p, 2 * PAGE));
	EXPECT_EQ(1, ireg_cache_process_events(cache));
	ASSERT_EQ(0, ireg_cache_stats(cache, &st));
	EXPECT_EQ(1, st.stale);
	EXPECT_EQ(0, st.entries);
	ireg_cache_destroy(cache);
	ireg_ctx_close(ctx);

	/* The caller's fd still works, and can be adopted again (borrowed). */
	EXPECT_EQ(0, container_regions(container));
	ASSERT_EQ(0, ireg_ctx_adopt(&ctx, container, IREG_CTX_ADOPT_BORROW));
	EXPECT_EQ(container, ireg_ctx_container_fd(ctx));
	ireg_ctx_close(ctx);
	EXPECT_LE(0, fcntl(container, F_GETFD));
	EXPECT_EQ(0, container_regions(container));

	munmap((void *)edu.bar, EDU_BAR0_SIZE);
	close(dev);
	close(group);
	close(container);
}

/* The library selects the backend when asked to. */
TEST(adopt_sets_backend)
{
	const char *bdf = test_edu_bdf(0);
	int container, group;
	struct ireg_ctx *ctx;

	if (!bdf)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	group = vfio_group_open(bdf);
	ASSERT_LE(0, group);
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, container);
	/* No group yet: VFIO cannot select a backend. */
	EXPECT_EQ(-EINVAL, ireg_ctx_adopt(&ctx, container,
					  IREG_CTX_ADOPT_SET_IOMMU));
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	ASSERT_EQ(0, ireg_ctx_adopt(&ctx, container, IREG_CTX_ADOPT_SET_IOMMU));
	EXPECT_EQ(0, container_regions(container));
	ireg_ctx_close(ctx);
	EXPECT_EQ(0, container_regions(container));
	close(group);
	close(container);
}

TEST_HARNESS_MAIN
