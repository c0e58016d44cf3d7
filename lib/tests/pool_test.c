// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * pool_test: host unit tests of the pool allocators and the translation
 * map.  No kernel module: the allocators run over plain memory
 * (ireg_pool_create_mem(), or ireg_pool_create() without a context),
 * which is the same code a registered pool runs.
 *
 * kselftest_harness: each case in a child of its own, TAP output.
 * POOL_TEST_SEED in the environment replays a run's random sequences;
 * POOL_TEST_ONLY=name runs one case.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "iommureg.h"
#include "iommureg/pool.h"
#include "../../tools/include/clock.h"
#include "../../tools/include/xorshift.h"
#include "kselftest_harness.h"
#include "harness.h"

#define SZ_2M		(2UL << 20)
#define FAKE_IOVA	0x40000000ULL

static uint64_t seed;


static uint64_t rnd_state;

static uint64_t rnd(void)
{
	return xorshift64s(&rnd_state);
}

/*
 * Each case in a child of its own.  The threaded ones take their time on
 * a loaded machine: no case is given up before POOL_TIMEOUT seconds.
 */
#define POOL_TIMEOUT	300

FIXTURE(pool) {
};

FIXTURE_SETUP(pool)
{
}

FIXTURE_TEARDOWN(pool)
{
}

/* 2 MiB-aligned, exactly: the area's alignment is what the tests expect. */
static void *area_alloc(size_t size)
{
	char *p = mmap(NULL, size + 4 * SZ_2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + 2 * SZ_2M - 1) & ~(2 * SZ_2M - 1);
	return (void *)(a + SZ_2M);	/* 2 MiB but not 4 MiB aligned */
}

static void area_free(void *p, size_t size)
{
	(void)p;
	(void)size;	/* the tests' areas live until exit */
}

static struct ireg_pool *bufs_over(void *mem, size_t size, size_t buf_size,
				   size_t align, uint32_t flags)
{
	struct ireg_pool_params p = {
		.size = sizeof(p),
		.buf_size = buf_size, .buf_align = align, .flags = flags,
		.mem_size = size,
	};
	struct ireg_pool *pool;
	int ret = ireg_pool_create_mem(mem, size, FAKE_IOVA, &p, &pool);

	if (ret) {
		ksft_print_msg("ireg_pool_create_mem: %s\n", strerror(-ret));
		return NULL;
	}
	return pool;
}

static struct ireg_pool *heap_over(void *mem, size_t size, uint32_t flags)
{
	return bufs_over(mem, size, 0, 0, flags);
}

/* ---------------------------------------------------------------- */
/* Buffer pools                                                      */
/* ---------------------------------------------------------------- */

TEST_F_TIMEOUT(pool, bufs_params, POOL_TIMEOUT)
{
	struct ireg_pool_params p = { .size = sizeof(p) };
	struct ireg_pool *pool = (void *)1;
	void *mem = area_alloc(SZ_2M);

	ASSERT_TRUE(mem);
	p = (struct ireg_pool_params){ .size = sizeof(p),
		.buf_size = 100, .buf_align = 3,
				       .nr_bufs = 4 };
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, SZ_2M, 0, &p, &pool));
	ASSERT_TRUE(pool == NULL);
	/* Neither size nor count: only caller's memory gives a size. */
	p = (struct ireg_pool_params){ .size = sizeof(p), .buf_size = 100 };
	ASSERT_EQ(-EINVAL, ireg_pool_create(NULL, &p, &pool));
	ASSERT_EQ(0, ireg_pool_create_mem(mem, SZ_2M, 0, &p, &pool));
	ASSERT_EQ(SZ_2M / 128, pool->nr_bufs);
	ireg_pool_destroy(pool);
	p = (struct ireg_pool_params){ .size = sizeof(p) };
	ASSERT_EQ(-EINVAL, ireg_pool_create(NULL, &p, &pool));
	p = (struct ireg_pool_params){ .size = sizeof(p),
		.mem_size = 4096, .buf_align = 64 };
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, SZ_2M, 0, &p, &pool));
	p = (struct ireg_pool_params){ .size = sizeof(p),
		.mem_size = 4096, .flags = 1U << 30 };
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, SZ_2M, 0, &p, &pool));
	p = (struct ireg_pool_params){ .size = sizeof(p), .mem_size = 4096,
				       .flags = IREG_POOL_SHARED };
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, SZ_2M, 0, &p, &pool));
	p = (struct ireg_pool_params){ .size = sizeof(p),
		.mem_size = 4096, .prot = 4 };
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, SZ_2M, 0, &p, &pool));
	p = (struct ireg_pool_params){ .size = sizeof(p),
		.buf_size = 4096, .nr_bufs = 1000 };
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, SZ_2M, 0, &p, &pool));
	p = (struct ireg_pool_params){ .size = sizeof(p), .mem_size = 4096 };
	ASSERT_EQ(-EINVAL,
		  ireg_pool_create_mem((char *)mem + 8, SZ_2M, 0, &p, &pool));
	p = (struct ireg_pool_params){
		.size = sizeof(struct ireg_pool_params),
		.mem_size = 4096,
		.flags = IREG_POOL_HUGETLB | IREG_POOL_THP,
	};
	ASSERT_EQ(-EINVAL, ireg_pool_create(NULL, &p, &pool));
	/* Buffers aligned beyond the area's own alignment cannot be. */
	p = (struct ireg_pool_params){ .size = sizeof(p),
		.buf_size = 4096, .buf_align = 4 * SZ_2M,
				       .nr_bufs = 1 };
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, 4 * SZ_2M, 0, &p, &pool));
}

TEST_F_TIMEOUT(pool, bufs_exhaust, POOL_TIMEOUT)
{
	const size_t size = SZ_2M, bsz = 2048;
	const unsigned int nr = size / bsz;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(size), *b, **got;
	unsigned int i, round;
	uint64_t off;

	ASSERT_TRUE(mem);
	pool = bufs_over(mem, size, bsz, 0, 0);
	ASSERT_TRUE(pool);
	ASSERT_EQ(nr, pool->nr_bufs);
	got = calloc(nr, sizeof(*got));
	ASSERT_TRUE(got);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < nr; i++) {
			b = ireg_pool_buf_alloc(pool);
			ASSERT_TRUE(b);
			ASSERT_TRUE(ireg_pool_contains(pool, b, bsz));
			ASSERT_EQ(0, ((uintptr_t)b - (uintptr_t)mem) % bsz);
			ASSERT_EQ(FAKE_IOVA + (b - mem),
				  ireg_pool_iova(pool, b));
			off = ireg_pool_offset(pool, b);
			ASSERT_EQ(ireg_pool_iova(pool, b),
				  ireg_pool_offset_iova(pool, off));
			ASSERT_TRUE(ireg_pool_ptr(pool, off) == b);
			got[i] = b;
		}
		errno = 0;
		ASSERT_TRUE(ireg_pool_buf_alloc(pool) == NULL);
		ASSERT_EQ(ENOMEM, errno);
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(nr, st.nr_used);
		ASSERT_EQ(0, st.nr_free);
		ASSERT_EQ(0, st.largest_free);
		for (i = 0; i < nr; i++)
			ireg_pool_buf_free(pool, got[nr - 1 - i]);
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(nr, st.nr_free);
		ASSERT_EQ(size, st.free_bytes);
	}
	/* Distinct: sorted, they step by the buffer size. */
	for (i = 0; i < nr; i++)
		got[i] = ireg_pool_buf_alloc(pool);
	for (i = 1; i < nr; i++)
		ASSERT_EQ((long)bsz, got[i] - got[i - 1]);
	free(got);
	ireg_pool_destroy(pool);
	area_free(mem, size);
}

/* Random alloc/free against a shadow of which buffers are out. */
TEST_F_TIMEOUT(pool, bufs_random, POOL_TIMEOUT)
{
	const size_t bsz = 1000, size = 1 << 20;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(size), *b;
	unsigned int nr, live = 0, i, op, idx;
	bool *out;
	char **list;

	ASSERT_TRUE(mem);
	pool = bufs_over(mem, size, bsz, 8, 0);
	ASSERT_TRUE(pool);
	nr = pool->nr_bufs;
	ASSERT_EQ(size / 1000, nr);
	out = calloc(nr, sizeof(*out));
	list = calloc(nr, sizeof(*list));
	ASSERT_TRUE(out && list);
	for (op = 0; op < 400000; op++) {
		/* Drift between mostly full and mostly empty. */
		bool fill = (op / 50000) % 2 == 0;

		if (live < nr && (!live || rnd() % 100 < (fill ? 70 : 30))) {
			b = ireg_pool_buf_alloc(pool);
			ASSERT_TRUE(b);
			ASSERT_EQ(0, (b - mem) % 1000);
			idx = (b - mem) / 1000;
			ASSERT_TRUE(idx < nr);
			ASSERT_TRUE(!out[idx]);
			out[idx] = true;
			memset(b, (int)(idx & 0xff), bsz);
			list[live++] = b;
		} else {
			i = rnd() % live;
			b = list[i];
			list[i] = list[--live];
			idx = (b - mem) / 1000;
			ASSERT_TRUE(b[0] == (char)(idx & 0xff) &&
				    b[bsz - 1] == (char)(idx & 0xff));
			out[idx] = false;
			if (op & 1)
				ireg_pool_buf_free(pool, b);
			else
				ASSERT_EQ(0, ireg_pool_free(pool, b));
		}
		if (live == nr) {
			errno = 0;
			ASSERT_TRUE(!ireg_pool_buf_alloc(pool) && errno == ENOMEM);
		}
		if (op % 10007 == 0) {
			ASSERT_EQ(0, ireg_pool_stats(pool, &st));
			ASSERT_EQ(live, st.nr_used);
			ASSERT_EQ(nr - live, st.nr_free);
		}
	}
	free(out);
	free(list);
	ireg_pool_destroy(pool);
}

/* The checked free refuses and changes nothing. */
TEST_F_TIMEOUT(pool, bufs_bad_free, POOL_TIMEOUT)
{
	const size_t size = SZ_2M;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(2 * size), *a, *b;
	int foreign;

	ASSERT_TRUE(mem);
	pool = bufs_over(mem, size, 1500, 0, 0);	/* stride 1536 */
	ASSERT_TRUE(pool);
	a = ireg_pool_buf_alloc(pool);
	b = ireg_pool_buf_alloc(pool);
	ASSERT_TRUE(a && b && b - a == 1536);
	ASSERT_EQ(-EFAULT, ireg_pool_free(pool, &foreign));
	ASSERT_EQ(-EFAULT, ireg_pool_free(pool, mem + size));
	ASSERT_EQ(-EFAULT, ireg_pool_free(pool, mem - 1536));
	ASSERT_EQ(-EINVAL, ireg_pool_free(pool, a + 1));
	ASSERT_EQ(-EINVAL, ireg_pool_free(pool, a + 768));
	ASSERT_EQ(-EINVAL, ireg_pool_free(pool, a + 1535));
	ASSERT_EQ(0, ireg_pool_free(pool, a));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, a));
	/* A buffer never handed out is free: freeing it is a double free. */
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, b + 1536));
	ASSERT_EQ(0, ireg_pool_free(pool, NULL));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(1, st.nr_used);
	ASSERT_EQ(pool->nr_bufs - 1, st.nr_free);
	/* LIFO: the buffer freed last comes back first, then the rest. */
	ASSERT_TRUE(ireg_pool_buf_alloc(pool) == a);
	ASSERT_TRUE(ireg_pool_buf_alloc(pool) == b + 1536);
	ireg_pool_destroy(pool);
}

/* The debug free aborts on what the checked free refuses. */
TEST_F_TIMEOUT(pool, bufs_debug_abort, POOL_TIMEOUT)
{
	struct ireg_pool *pool;
	char *mem = area_alloc(SZ_2M), *a;
	int status;
	pid_t pid;

	ASSERT_TRUE(mem);
	pool = bufs_over(mem, SZ_2M, 4096, 0, 0);
	ASSERT_TRUE(pool);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		freopen("/dev/null", "w", stderr);
		a = ireg_pool_buf_alloc(pool);
		ireg_pool_buf_free_debug(pool, a);
		ireg_pool_buf_free_debug(pool, a);
		_exit(0);
	}
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		a = ireg_pool_buf_alloc(pool);
		ireg_pool_buf_free_debug(pool, a);
		_exit(0);
	}
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ireg_pool_destroy(pool);
}

/* The shift-and-multiply division, for strides with every shape. */
TEST_F_TIMEOUT(pool, bufs_strides, POOL_TIMEOUT)
{
	static const size_t sizes[] = {
		1, 3, 7, 24, 100, 1500, 1536, 2048, 9000, 65537,
	};
	static const size_t aligns[] = { 1, 8, 64, 4096 };
	const size_t size = 4 << 20;
	char *mem = area_alloc(size);
	unsigned int s, a, i, nr;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char **bufs;
	size_t stride;

	ASSERT_TRUE(mem);
	bufs = calloc(size, sizeof(*bufs));
	ASSERT_TRUE(bufs);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++) {
			pool = bufs_over(mem, size, sizes[s], aligns[a], 0);
			ASSERT_TRUE(pool);
			stride = (sizes[s] + aligns[a] - 1) & ~(aligns[a] - 1);
			nr = size / stride;
			ASSERT_EQ(nr, pool->nr_bufs);
			for (i = 0; i < nr; i++) {
				bufs[i] = ireg_pool_buf_alloc(pool);
				ASSERT_TRUE(bufs[i] == mem + (size_t)i * stride);
				ASSERT_EQ(i,
					  ireg_pool_buf_index(pool, bufs[i]));
			}
			ASSERT_TRUE(!ireg_pool_buf_alloc(pool));
			if (stride > 1)
				ASSERT_EQ(-EINVAL,
					  ireg_pool_free(pool, bufs[nr / 2] + stride / 2));
			/* Free in random order through the fast path. */
			for (i = nr; i > 1; i--) {
				unsigned int j = rnd() % i;
				char *t = bufs[j];

				bufs[j] = bufs[i - 1];
				bufs[i - 1] = t;
			}
			for (i = 0; i < nr; i++)
				ireg_pool_buf_free(pool, bufs[i]);
			ASSERT_EQ(0, ireg_pool_stats(pool, &st));
			ASSERT_EQ(nr, st.nr_free);
			ireg_pool_destroy(pool);
		}
	}
	free(bufs);
}

struct mt_arg {
	struct ireg_pool *pool;
	unsigned int id;
	unsigned long iters;
	bool ok;
};

/* Each thread stamps what it holds; a buffer handed out twice shows. */
static void *bufs_mt_thread(void *p)
{
	struct mt_arg *arg = p;
	uint64_t *hp[32], s = seed + arg->id * 7919 + 1;
	unsigned int n = 0;
	unsigned long it;
	uint64_t *b;

	arg->ok = true;
	for (it = 0; it < arg->iters; it++) {
		if (n < 32 && (n == 0 || xorshift64s(&s) % 2)) {
			b = ireg_pool_buf_alloc(arg->pool);
			if (!b)
				continue;	/* others hold everything */
			b[0] = ((uint64_t)arg->id << 32) | it;
			b[1] = ~b[0];
			hp[n++] = b;
		} else {
			unsigned int i = xorshift64s(&s) % n;

			b = hp[i];
			hp[i] = hp[--n];
			if ((b[0] >> 32) != arg->id || b[1] != ~b[0])
				arg->ok = false;
			ireg_pool_buf_free(arg->pool, b);
		}
	}
	while (n)
		ireg_pool_buf_free(arg->pool, hp[--n]);
	return NULL;
}

TEST_F_TIMEOUT(pool, bufs_mt, POOL_TIMEOUT)
{
	const unsigned int nthreads = 4;
	struct mt_arg args[4];
	pthread_t th[4];
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(SZ_2M);
	unsigned int i;

	ASSERT_TRUE(mem);
	/* Fewer buffers than threads can hold: the empty path is hit too. */
	pool = bufs_over(mem, 96 * 64, 64, 0, IREG_POOL_MT);
	ASSERT_TRUE(pool);
	for (i = 0; i < nthreads; i++) {
		args[i] = (struct mt_arg){ .pool = pool, .id = i,
					   .iters = 1000000 };
		ASSERT_TRUE(!pthread_create(&th[i], NULL, bufs_mt_thread, &args[i]));
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		ASSERT_TRUE(args[i].ok);
	}
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(96, st.nr_free);
	ASSERT_EQ(0, st.nr_used);
	ireg_pool_destroy(pool);
}

/* One thread allocates, another frees: the SPSC ring pattern. */
#define SPSC_SLOTS	256
#define SPSC_ITEMS	2000000UL

struct spsc {
	struct ireg_pool *pool;
	uint64_t *slot[SPSC_SLOTS];
	unsigned long head;		/* written by the producer */
	unsigned long tail;		/* written by the consumer */
	bool ok;
};

static void *spsc_consumer(void *p)
{
	struct spsc *q = p;
	unsigned long n;
	uint64_t *b;

	for (n = 0; n < SPSC_ITEMS; n++) {
		while (__atomic_load_n(&q->head, __ATOMIC_ACQUIRE) == q->tail)
			;
		b = q->slot[q->tail % SPSC_SLOTS];
		__atomic_store_n(&q->tail, q->tail + 1, __ATOMIC_RELEASE);
		if (b[0] != n)
			q->ok = false;
		ireg_pool_buf_free(q->pool, b);
	}
	return NULL;
}

TEST_F_TIMEOUT(pool, bufs_spsc, POOL_TIMEOUT)
{
	static struct spsc q;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	char *mem = area_alloc(SZ_2M);
	unsigned long n, empty = 0;
	pthread_t th;
	uint64_t *b;

	ASSERT_TRUE(mem);
	memset(&q, 0, sizeof(q));
	q.ok = true;
	q.pool = bufs_over(mem, 32 * 128, 128, 0, IREG_POOL_MT);
	ASSERT_TRUE(q.pool);
	ASSERT_TRUE(!pthread_create(&th, NULL, spsc_consumer, &q));
	for (n = 0; n < SPSC_ITEMS; n++) {
		while (!(b = ireg_pool_buf_alloc(q.pool)))
			empty++;
		b[0] = n;
		while (q.head - __atomic_load_n(&q.tail, __ATOMIC_ACQUIRE) ==
		       SPSC_SLOTS)
			;
		q.slot[q.head % SPSC_SLOTS] = b;
		__atomic_store_n(&q.head, q.head + 1, __ATOMIC_RELEASE);
	}
	pthread_join(th, NULL);
	ksft_print_msg("spsc: %lu items, pool empty %lu times\n", SPSC_ITEMS, empty);
	ASSERT_TRUE(q.ok);
	ASSERT_EQ(0, ireg_pool_stats(q.pool, &st));
	ASSERT_EQ(32, st.nr_free);
	ireg_pool_destroy(q.pool);
}

/* ---------------------------------------------------------------- */
/* Bulk calls and per-thread caches                                  */
/* ---------------------------------------------------------------- */

/* A buffer pool over @mem of @nr buffers of @bsz, with @cache_size. */
static struct ireg_pool *cached_over(void *mem, unsigned int nr, size_t bsz,
				     uint32_t flags, uint32_t cache_size)
{
	struct ireg_pool_params p = {
		.size = sizeof(p), .buf_size = bsz, .nr_bufs = nr,
		.flags = flags, .cache_size = cache_size,
	};
	struct ireg_pool *pool;
	int ret = ireg_pool_create_mem(mem, (size_t)nr * bsz, FAKE_IOVA, &p,
				       &pool);

	if (ret) {
		ksft_print_msg("ireg_pool_create_mem: %s\n", strerror(-ret));
		return NULL;
	}
	return pool;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(uintptr_t *)a, y = *(uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Bulk alloc and free in each mode (single-threaded, IREG_POOL_MT, with
 * a cache): all or nothing, n == 0, n beyond the pool, translation of
 * what came, and the checked free and stats agreeing with it.
 */
TEST_F_TIMEOUT(pool, bufs_bulk, POOL_TIMEOUT)
{
	static const struct { uint32_t flags, cache; } modes[] = {
		{ 0, 0 }, { IREG_POOL_MT, 0 }, { IREG_POOL_MT, 16 },
		{ IREG_POOL_MT, 512 },
	};
	const unsigned int nr = 200, bsz = 256;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	char *mem = area_alloc(SZ_2M);
	void *bufs[256], *one;
	struct ireg_pool *pool;
	unsigned int m, i, k;

	ASSERT_TRUE(mem);
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		pool = cached_over(mem, nr, bsz, modes[m].flags, modes[m].cache);
		ASSERT_TRUE(pool);
		ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs, 0));
		ASSERT_EQ(-ENOMEM, ireg_pool_alloc_bulk(pool, bufs, nr + 1));
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(nr, st.nr_free);
		ASSERT_EQ(0, st.nr_used);
		/* All of it, in chunks of 32 and a rest. */
		for (i = 0; i < nr; i += k) {
			k = nr - i < 32 ? nr - i : 32;
			ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs + i, k));
		}
		ASSERT_EQ(-ENOMEM, ireg_pool_alloc_bulk(pool, &one, 1));
		errno = 0;
		ASSERT_TRUE(ireg_pool_buf_alloc(pool) == NULL);
		ASSERT_EQ(ENOMEM, errno);
		qsort(bufs, nr, sizeof(bufs[0]), cmp_ptr);
		for (i = 0; i < nr; i++) {
			ASSERT_TRUE(bufs[i] == mem + (size_t)i * bsz);
			ASSERT_EQ(FAKE_IOVA + (size_t)i * bsz,
				  ireg_pool_iova(pool, bufs[i]));
		}
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(nr, st.nr_used);
		ASSERT_EQ(0, st.nr_free);
		ireg_pool_free_bulk(pool, bufs, nr);
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(nr, st.nr_free);
		ASSERT_EQ(0, st.nr_used);

		/* Short: 10 asked, 5 left: nothing handed out. */
		ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs, nr - 5));
		ASSERT_EQ(-ENOMEM, ireg_pool_alloc_bulk(pool, bufs + nr - 5,
							10));
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(5, st.nr_free);
		ASSERT_EQ(nr - 5, st.nr_used);
		/* The 5 are still there, for one bulk call. */
		ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs + nr - 5, 5));
		/*
		 * Bulk-allocated buffers pass the checked free, once.  With
		 * caches a second free is caught only while the buffer is in
		 * this thread's cache or on the buffer stack, not in a
		 * magazine (bufs_cache_double_free).
		 */
		for (i = 0; i < nr; i++)
			ASSERT_EQ(0, ireg_pool_free(pool, bufs[i]));
		for (i = 0; i < nr && !modes[m].cache; i++)
			ASSERT_EQ(-EALREADY, ireg_pool_free(pool, bufs[i]));
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(nr, st.nr_free);
		ireg_pool_destroy(pool);
	}
	/* A heap has no buffers; an attached view is refused elsewhere. */
	pool = heap_over(mem, SZ_2M, 0);
	ASSERT_TRUE(pool);
	ASSERT_EQ(-EINVAL, ireg_pool_alloc_bulk(pool, bufs, 1));
	ireg_pool_destroy(pool);
}

/*
 * IREG_POOL_MT without caches: bulk frees of 16 and more go into batches
 * (src/pool_alloc.c).  Single allocs find them when the buffer stack is
 * empty, the checked free catches a double free of a buffer in a batch,
 * stats count them free, bulk allocs split batches, and when more
 * batches are needed than there are (split ones pile up) the rest goes
 * by the stack: nothing lost.
 */
TEST_F_TIMEOUT(pool, bufs_batches, POOL_TIMEOUT)
{
	struct ireg_pool_stats st = { .size = sizeof(st) };
	const unsigned int nr = 200, bsz = 64;
	char *mem = area_alloc(SZ_2M);
	void *bufs[200], *b;
	struct ireg_pool *pool;
	unsigned int i, r;

	ASSERT_TRUE(mem);
	pool = cached_over(mem, nr, bsz, IREG_POOL_MT, 0);
	ASSERT_TRUE(pool);
	ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs, nr));
	/* 40 at a time: a batch of 32 and 8 on the stack each. */
	for (i = 0; i < nr; i += 40)
		ireg_pool_free_bulk(pool, bufs + i, 40);
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr, st.nr_free);
	ASSERT_EQ(0, st.nr_cached);
	ASSERT_EQ(0, st.nr_used);
	/* One at a time: the stack, then the batches, every buffer once. */
	for (i = 0; i < nr; i++) {
		bufs[i] = ireg_pool_buf_alloc(pool);
		ASSERT_TRUE(bufs[i] != NULL);
	}
	errno = 0;
	ASSERT_TRUE(ireg_pool_buf_alloc(pool) == NULL);
	ASSERT_EQ(ENOMEM, errno);
	qsort(bufs, nr, sizeof(bufs[0]), cmp_ptr);
	for (i = 0; i < nr; i++)
		ASSERT_TRUE(bufs[i] == mem + (size_t)i * bsz);
	/* A double free of a buffer in a batch: refused, nothing changed. */
	ireg_pool_free_bulk(pool, bufs, 32);
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, bufs[0]));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, bufs[31]));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(32, st.nr_free);
	ASSERT_EQ(nr - 32, st.nr_used);
	/* Split batches: 17 taken, 16 given back, one by one, many times. */
	ireg_pool_free_bulk(pool, bufs + 32, nr - 32);
	for (r = 0; r < 1000; r++) {
		ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs, 17));
		ireg_pool_free_bulk(pool, bufs, 16);
		ASSERT_EQ(0, ireg_pool_free(pool, bufs[16]));
	}
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr, st.nr_free);
	/*
	 * Batches left with one buffer each, 20 of them, more than there
	 * are (nr / 16 + 1): the frees beyond go by the stack.
	 */
	ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs, nr));
	for (r = 0; r < 20; r++) {
		ireg_pool_free_bulk(pool, bufs + r, 16);
		ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs + r + 1, 15));
		ASSERT_EQ(0, ireg_pool_stats(pool, &st));
		ASSERT_EQ(r + 1, st.nr_free);
	}
	ireg_pool_free_bulk(pool, bufs + 20, nr - 20);
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr, st.nr_free);
	ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs, nr));
	ASSERT_EQ(-ENOMEM, ireg_pool_alloc_bulk(pool, &b, 1));
	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, ireg_pool_free(pool, bufs[i]));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr, st.nr_free);
	ireg_pool_destroy(pool);
}

TEST_F_TIMEOUT(pool, bufs_cache_params, POOL_TIMEOUT)
{
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pools[IREG_POOL_CACHE_SLOTS + 1], *pool;
	char *mem = area_alloc(SZ_2M);
	unsigned int i;
	void *b;

	ASSERT_TRUE(mem);
	ASSERT_TRUE(cached_over(mem, 64, 64, IREG_POOL_MT,
				IREG_POOL_CACHE_MAX + 1) == NULL);
	ASSERT_TRUE(cached_over(mem, 64, 64, 0, 8) == NULL);	/* no MT */
	pool = cached_over(mem, 64, 64, IREG_POOL_MT, IREG_POOL_CACHE_MAX);
	ASSERT_TRUE(pool);
	ASSERT_EQ(0, ireg_pool_info(pool, &info));
	ASSERT_EQ(IREG_POOL_CACHE_MAX, info.cache_size);
	ireg_pool_destroy(pool);
	/* More pools than slots: the last works without a cache. */
	for (i = 0; i <= IREG_POOL_CACHE_SLOTS; i++) {
		pools[i] = cached_over(mem + i * 4096, 64, 64, IREG_POOL_MT, 8);
		ASSERT_TRUE(pools[i]);
		ASSERT_EQ(0, ireg_pool_info(pools[i], &info));
		ASSERT_EQ(i < IREG_POOL_CACHE_SLOTS ? 8 : 0, info.cache_size);
		b = ireg_pool_buf_alloc(pools[i]);
		ASSERT_TRUE(ireg_pool_contains(pools[i], b, 64));
		ASSERT_EQ(0, ireg_pool_free(pools[i], b));
	}
	for (i = 0; i <= IREG_POOL_CACHE_SLOTS; i++)
		ireg_pool_destroy(pools[i]);
}

/* With a cache, the checked free still catches a double free. */
TEST_F_TIMEOUT(pool, bufs_cache_double_free, POOL_TIMEOUT)
{
	char *mem = area_alloc(SZ_2M);
	struct ireg_pool *pool;
	void *a, *b;

	ASSERT_TRUE(mem);
	pool = cached_over(mem, 64, 64, IREG_POOL_MT, 8);
	ASSERT_TRUE(pool);
	a = ireg_pool_buf_alloc(pool);
	b = ireg_pool_buf_alloc(pool);
	ASSERT_TRUE(a && b && a != b);
	ASSERT_EQ(0, ireg_pool_free(pool, a));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, a));	/* in the cache */
	ireg_pool_buf_free(pool, b);
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, b));
	ASSERT_EQ(-EINVAL, ireg_pool_free(pool, (char *)a + 1));
	ireg_pool_destroy(pool);
}

/*
 * Threads with caches: single and bulk calls mixed, each thread stamps
 * what it holds (a buffer handed out twice shows); when they have
 * exited, every buffer is back and no cache holds any.
 */
struct cache_arg {
	struct ireg_pool *pool;
	unsigned int id;
	unsigned int maxk;	/* bulk calls of up to this (0: 8) */
	unsigned long iters;
	bool ok;
};

static void *cache_mt_thread(void *p)
{
	struct cache_arg *arg = p;
	uint64_t *hp[64], s = seed + arg->id * 7919 + 1;
	unsigned int n = 0, k, i;
	unsigned long it;
	uint64_t *b;

	arg->ok = true;
	for (it = 0; it < arg->iters; it++) {
		k = 1 + xorshift64s(&s) % (arg->maxk ? arg->maxk : 8);
		if (n + k <= 64 && (n == 0 || xorshift64s(&s) % 2)) {
			if (k == 1) {
				b = ireg_pool_buf_alloc(arg->pool);
				if (!b)
					continue;
				hp[n] = b;
			} else if (ireg_pool_alloc_bulk(arg->pool,
							(void **)hp + n, k)) {
				continue;	/* others hold them */
			}
			for (i = n; i < n + k; i++) {
				hp[i][0] = ((uint64_t)arg->id << 32) | it;
				hp[i][1] = ~hp[i][0];
			}
			n += k;
		} else {
			if (k > n)
				k = n;
			for (i = n - k; i < n; i++)
				if ((hp[i][0] >> 32) != arg->id ||
				    hp[i][1] != ~hp[i][0])
					arg->ok = false;
			if (k == 1)
				ireg_pool_buf_free(arg->pool, hp[n - 1]);
			else
				ireg_pool_free_bulk(arg->pool,
						    (void **)hp + n - k, k);
			n -= k;
		}
	}
	ireg_pool_free_bulk(arg->pool, (void **)hp, n);
	return NULL;
}

TEST_F_TIMEOUT(pool, bufs_cache_mt, POOL_TIMEOUT)
{
	struct ireg_pool_stats st = { .size = sizeof(st) };
	const unsigned int nthreads = 4, nr = 256;
	struct cache_arg args[4];
	struct ireg_pool *pool;
	char *mem = area_alloc(SZ_2M);
	void *all[256];
	pthread_t th[4];
	unsigned int i;

	ASSERT_TRUE(mem);
	/* Caches and holdings exceed the pool: the empty paths run too. */
	pool = cached_over(mem, nr, 64, IREG_POOL_MT, 16);
	ASSERT_TRUE(pool);
	for (i = 0; i < nthreads; i++) {
		args[i] = (struct cache_arg){ .pool = pool, .id = i,
					      .iters = 500000 };
		ASSERT_TRUE(!pthread_create(&th[i], NULL, cache_mt_thread,
					    &args[i]));
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		ASSERT_TRUE(args[i].ok);
	}
	/* The threads' caches went back at their exit. */
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr, st.nr_free);
	ASSERT_EQ(0, st.nr_cached);
	ASSERT_EQ(0, st.nr_used);
	ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, all, nr));
	ireg_pool_free_bulk(pool, all, nr);
	ireg_pool_destroy(pool);
}

/* The same without caches, bulk calls of up to 40: batches. */
TEST_F_TIMEOUT(pool, bufs_batches_mt, POOL_TIMEOUT)
{
	struct ireg_pool_stats st = { .size = sizeof(st) };
	const unsigned int nthreads = 4, nr = 256;
	struct cache_arg args[4];
	struct ireg_pool *pool;
	char *mem = area_alloc(SZ_2M);
	pthread_t th[4];
	unsigned int i;

	ASSERT_TRUE(mem);
	pool = cached_over(mem, nr, 64, IREG_POOL_MT, 0);
	ASSERT_TRUE(pool);
	for (i = 0; i < nthreads; i++) {
		args[i] = (struct cache_arg){ .pool = pool, .id = i,
					      .maxk = 40, .iters = 200000 };
		ASSERT_TRUE(!pthread_create(&th[i], NULL, cache_mt_thread,
					    &args[i]));
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		ASSERT_TRUE(args[i].ok);
	}
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr, st.nr_free);
	ASSERT_EQ(0, st.nr_used);
	ireg_pool_destroy(pool);
}

/* One thread allocates, another frees, both with caches (NIC rx/tx). */
struct cache_pc {
	struct ireg_pool *pool;
	void *slot[SPSC_SLOTS];
	unsigned long head, tail;
	unsigned int bulk;
	bool ok;
};

static void *cache_pc_consumer(void *p)
{
	struct cache_pc *q = p;
	unsigned long n, t;
	uint64_t *b[8];
	unsigned int i;

	for (n = 0; n < SPSC_ITEMS; n += q->bulk) {
		while (__atomic_load_n(&q->head, __ATOMIC_ACQUIRE) -
		       q->tail < q->bulk)
			;
		for (i = 0; i < q->bulk; i++) {
			t = q->tail + i;
			b[i] = q->slot[t % SPSC_SLOTS];
			if (b[i][0] != t)
				q->ok = false;
		}
		__atomic_store_n(&q->tail, q->tail + q->bulk, __ATOMIC_RELEASE);
		if (q->bulk == 1)
			ireg_pool_buf_free(q->pool, b[0]);
		else
			ireg_pool_free_bulk(q->pool, (void **)b, q->bulk);
	}
	return NULL;
}

TEST_F_TIMEOUT(pool, bufs_cache_spsc, POOL_TIMEOUT)
{
	static struct cache_pc q;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	char *mem = area_alloc(SZ_2M);
	unsigned long n, empty = 0;
	unsigned int bulk, i;
	uint64_t *b[8];
	pthread_t th;

	ASSERT_TRUE(mem);
	for (bulk = 1; bulk <= 8; bulk *= 8) {
		memset(&q, 0, sizeof(q));
		q.ok = true;
		q.bulk = bulk;
		q.pool = cached_over(mem, 4 * 64, 128, IREG_POOL_MT, 32);
		ASSERT_TRUE(q.pool);
		ASSERT_TRUE(!pthread_create(&th, NULL, cache_pc_consumer, &q));
		for (n = 0; n < SPSC_ITEMS; n += bulk) {
			if (bulk == 1) {
				while (!(b[0] = ireg_pool_buf_alloc(q.pool)))
					empty++;
			} else {
				while (ireg_pool_alloc_bulk(q.pool, (void **)b,
							    bulk))
					empty++;
			}
			while (q.head + bulk -
			       __atomic_load_n(&q.tail, __ATOMIC_ACQUIRE) >
			       SPSC_SLOTS)
				;
			for (i = 0; i < bulk; i++) {
				b[i][0] = q.head + i;
				q.slot[(q.head + i) % SPSC_SLOTS] = b[i];
			}
			__atomic_store_n(&q.head, q.head + bulk,
					 __ATOMIC_RELEASE);
		}
		pthread_join(th, NULL);
		ksft_print_msg("bulk %u: %lu items, pool empty %lu times\n",
			       bulk, SPSC_ITEMS, empty);
		ASSERT_TRUE(q.ok);
		/* The consumer's cache is back; the producer's is counted. */
		ASSERT_EQ(0, ireg_pool_stats(q.pool, &st));
		ASSERT_EQ(4 * 64, st.nr_free);
		ASSERT_EQ(0, st.nr_used);
		ireg_pool_destroy(q.pool);
	}
}

/*
 * A thread's cache: counted as free while the thread lives, given back
 * to the shared stack at its exit, and cut off by pool destroy: a thread
 * that outlives the pool must not see the old cache in a new pool that
 * takes the same slot, and its exit must not touch the freed one.
 */
struct cache_life {
	struct ireg_pool *pool;
	pthread_barrier_t bar;
	bool ok;
};

static void *cache_life_thread(void *p)
{
	struct cache_life *l = p;
	void *b[20];
	unsigned int i;

	/* 20 taken (two refills of 16), 20 freed: 32 in the cache. */
	for (i = 0; i < 20; i++)
		b[i] = ireg_pool_buf_alloc(l->pool);
	for (i = 0; i < 20; i++)
		ireg_pool_buf_free(l->pool, b[i]);
	pthread_barrier_wait(&l->bar);	/* main looks */
	pthread_barrier_wait(&l->bar);	/* main destroyed, made a new one */
	l->ok = true;
	for (i = 0; i < 20; i++) {
		b[i] = ireg_pool_buf_alloc(l->pool);
		if (!b[i] || !ireg_pool_contains(l->pool, b[i], 64))
			l->ok = false;
	}
	ireg_pool_free_bulk(l->pool, b, 20);
	return NULL;
}

TEST_F_TIMEOUT(pool, bufs_cache_life, POOL_TIMEOUT)
{
	struct ireg_pool_stats st = { .size = sizeof(st) };
	static struct cache_life l;
	char *mem = area_alloc(SZ_2M);
	struct ireg_pool *old;
	void *all[64];
	pthread_t th;

	ASSERT_TRUE(mem);
	l.pool = cached_over(mem, 64, 64, IREG_POOL_MT, 16);
	ASSERT_TRUE(l.pool);
	ASSERT_EQ(0, pthread_barrier_init(&l.bar, NULL, 2));
	ASSERT_EQ(0, pthread_create(&th, NULL, cache_life_thread, &l));
	pthread_barrier_wait(&l.bar);
	ASSERT_EQ(0, ireg_pool_stats(l.pool, &st));
	ASSERT_EQ(64, st.nr_free);
	ASSERT_EQ(32, st.nr_cached);
	ASSERT_EQ(0, st.nr_used);
	/* What its cache holds, this thread cannot take. */
	ASSERT_EQ(-ENOMEM, ireg_pool_alloc_bulk(l.pool, all, 64));
	/* Destroyed with the cache full; a new pool in the same slot. */
	old = l.pool;
	ireg_pool_destroy(old);
	l.pool = cached_over(mem + SZ_2M / 2, 64, 64, IREG_POOL_MT, 16);
	ASSERT_TRUE(l.pool);
	pthread_barrier_wait(&l.bar);
	pthread_join(th, NULL);
	ASSERT_TRUE(l.ok);
	/* It exited: its cache of the new pool is back, all 64 for us. */
	ASSERT_EQ(0, ireg_pool_stats(l.pool, &st));
	ASSERT_EQ(64, st.nr_free);
	ASSERT_EQ(0, st.nr_cached);
	ASSERT_EQ(0, ireg_pool_alloc_bulk(l.pool, all, 64));
	ireg_pool_destroy(l.pool);
	pthread_barrier_destroy(&l.bar);
}

/* ---------------------------------------------------------------- */
/* The size field of params, info and stats                          */
/* ---------------------------------------------------------------- */

TEST_F_TIMEOUT(pool, size_field, POOL_TIMEOUT)
{
	struct {
		struct ireg_pool_params p;
		uint64_t tail;
	} big = { .p = { .buf_size = 64, .nr_bufs = 8 } };
	struct {
		struct ireg_pool_info i;
		uint64_t tail;
	} bigi;
	struct {
		struct ireg_pool_stats s;
		uint64_t tail;
	} bigs;
	struct ireg_pool_params p = { .buf_size = 64, .nr_bufs = 8,
				      .flags = IREG_POOL_MT, .cache_size = 4 };
	struct ireg_pool_info info;
	struct ireg_pool_stats st;
	char *mem = area_alloc(SZ_2M);
	struct ireg_pool *pool;

	ASSERT_TRUE(mem);
	/* An older caller's params, without cache_size: it is 0. */
	p.size = offsetof(struct ireg_pool_params, cache_size);
	ASSERT_EQ(0, ireg_pool_create_mem(mem, 4096, 0, &p, &pool));
	ASSERT_EQ(0, pool->cache_size);
	ireg_pool_destroy(pool);
	p.size = sizeof(p);
	ASSERT_EQ(0, ireg_pool_create_mem(mem, 4096, 0, &p, &pool));
	ASSERT_EQ(4, pool->cache_size);
	ireg_pool_destroy(pool);
	p.size = 0;
	ASSERT_EQ(-EINVAL, ireg_pool_create_mem(mem, 4096, 0, &p, &pool));
	ASSERT_EQ(-EINVAL, ireg_pool_create(NULL, &p, &pool));
	/* A newer caller's: a zero tail is fine, a set one is not. */
	big.p.size = sizeof(big);
	ASSERT_EQ(0, ireg_pool_create_mem(mem, 4096, 0, &big.p, &pool));
	ireg_pool_destroy(pool);
	big.tail = 1;
	ASSERT_EQ(-E2BIG, ireg_pool_create_mem(mem, 4096, 0, &big.p, &pool));
	ASSERT_EQ(-E2BIG, ireg_pool_create(NULL, &big.p, &pool));

	p.size = sizeof(p);
	ASSERT_EQ(0, ireg_pool_create_mem(mem, 4096, 0, &p, &pool));
	/* Info: a short struct gets its part and not a byte more. */
	memset(&info, 0xa5, sizeof(info));
	info.size = offsetof(struct ireg_pool_info, cache_size);
	ASSERT_EQ(0, ireg_pool_info(pool, &info));
	ASSERT_EQ(offsetof(struct ireg_pool_info, cache_size), info.size);
	ASSERT_TRUE(info.base == mem);
	ASSERT_EQ(8, info.nr_bufs);
	ASSERT_EQ(0xa5a5a5a5, info.cache_size);
	memset(&bigi, 0xa5, sizeof(bigi));
	bigi.i.size = sizeof(bigi);
	ASSERT_EQ(0, ireg_pool_info(pool, &bigi.i));
	ASSERT_EQ(4, bigi.i.cache_size);
	ASSERT_EQ(0, bigi.tail);
	info.size = 0;
	ASSERT_EQ(-EINVAL, ireg_pool_info(pool, &info));
	/* Stats likewise. */
	memset(&st, 0xa5, sizeof(st));
	st.size = offsetof(struct ireg_pool_stats, nr_cached);
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(8, st.nr_free);
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, st.nr_cached);
	memset(&bigs, 0xa5, sizeof(bigs));
	bigs.s.size = sizeof(bigs);
	ASSERT_EQ(0, ireg_pool_stats(pool, &bigs.s));
	ASSERT_EQ(0, bigs.s.nr_cached);
	ASSERT_EQ(0, bigs.tail);
	st.size = 0;
	ASSERT_EQ(-EINVAL, ireg_pool_stats(pool, &st));
	ireg_pool_destroy(pool);
}

/* ---------------------------------------------------------------- */
/* Heap                                                              */
/* ---------------------------------------------------------------- */

/* Bytes the buddy allocator takes for a request. */
static size_t block_bytes(size_t size, size_t align)
{
	size_t b = 64;

	while (b < size || b < align)
		b <<= 1;
	return b;
}

TEST_F_TIMEOUT(pool, heap_align, POOL_TIMEOUT)
{
	const size_t size = 8 << 20;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(size), *p;
	size_t align;

	ASSERT_TRUE(mem);
	pool = heap_over(mem, size, 0);
	ASSERT_TRUE(pool);
	/* Every power of two up to the area's alignment (2 MiB). */
	for (align = 1; align <= SZ_2M; align <<= 1) {
		p = ireg_pool_alloc(pool, 1 + rnd() % 200, align);
		ASSERT_TRUE(p);
		ASSERT_EQ(0, (uintptr_t)p % align);
		ASSERT_EQ(0, (uintptr_t)p % 64);
		ASSERT_EQ(0,
			  ireg_pool_iova(pool, p) % (align > 64 ? align : 64));
	}
	for (align = 0; align < 100; align++) {
		p = ireg_pool_alloc(pool, 1 + rnd() % 10000, 0);
		ASSERT_TRUE(p && (uintptr_t)p % 64 == 0);
	}
	errno = 0;
	ASSERT_TRUE(!ireg_pool_alloc(pool, 64, 2 * SZ_2M) && errno == EINVAL);
	errno = 0;
	ASSERT_TRUE(!ireg_pool_alloc(pool, 64, 96) && errno == EINVAL);
	errno = 0;
	ASSERT_TRUE(!ireg_pool_alloc(pool, 0, 64) && errno == EINVAL);
	errno = 0;
	ASSERT_TRUE(!ireg_pool_alloc(pool, size + 1, 0) && errno == ENOMEM);
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ireg_pool_destroy(pool);
}

TEST_F_TIMEOUT(pool, heap_coalesce, POOL_TIMEOUT)
{
	const size_t size = 1 << 20, nr = size / 64;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(size + 192), **blk;
	size_t i;

	ASSERT_TRUE(mem);
	blk = calloc(nr, sizeof(*blk));
	ASSERT_TRUE(blk);
	pool = heap_over(mem, size, 0);
	ASSERT_TRUE(pool);
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(1, st.nr_free);
	ASSERT_EQ(size, st.largest_free);
	for (i = 0; i < nr; i++) {
		blk[i] = ireg_pool_alloc(pool, 64, 0);
		ASSERT_TRUE(blk[i]);
	}
	errno = 0;
	ASSERT_TRUE(!ireg_pool_alloc(pool, 1, 0) && errno == ENOMEM);
	for (i = 0; i < nr; i += 2)
		ASSERT_EQ(0, ireg_pool_free(pool, blk[i]));
	/* Fragmented: half the bytes free, nothing above 64 bytes. */
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(nr / 2, st.nr_free);
	ASSERT_EQ(size / 2, st.free_bytes);
	ASSERT_EQ(64, st.largest_free);
	errno = 0;
	ASSERT_TRUE(!ireg_pool_alloc(pool, 65, 0) && errno == ENOMEM);
	for (i = 1; i < nr; i += 2)
		ASSERT_EQ(0, ireg_pool_free(pool, blk[i]));
	/* Every buddy merged back into one block. */
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(1, st.nr_free);
	ASSERT_EQ(size, st.largest_free);
	ASSERT_TRUE(ireg_pool_alloc(pool, size, 0) == mem);
	ireg_pool_destroy(pool);

	/* A size that is no power of two: 1 MiB + 128 + 64. */
	pool = heap_over(mem, size + 192, 0);
	ASSERT_TRUE(pool);
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(3, st.nr_free);
	ASSERT_EQ(size, st.largest_free);
	ASSERT_TRUE(ireg_pool_alloc(pool, 100, 0) == mem + size);
	ASSERT_TRUE(ireg_pool_alloc(pool, 64, 0) == mem + size + 128);
	ASSERT_TRUE(ireg_pool_alloc(pool, size, 0) == mem);
	ASSERT_TRUE(!ireg_pool_alloc(pool, 64, 0));
	ireg_pool_destroy(pool);
	free(blk);
}

struct live {
	char *p;
	size_t size, block;
	uint32_t id;
};

/* Mark the units of [p, p + size) as @id's (0: free); false on a clash. */
static bool shadow_mark(uint32_t *owner, const char *mem, const char *p,
			size_t size, uint32_t old, uint32_t id)
{
	size_t u, first = (p - mem) / 64, end = (p - mem + size + 63) / 64;

	for (u = first; u < end; u++) {
		if (owner[u] != old)
			return false;
		owner[u] = id;
	}
	return true;
}

/* Mostly small requests, sometimes up to 256 KiB; some aligned. */
static void random_request(size_t *size, size_t *align)
{
	*size = rnd() % 8 ? 1 + rnd() % 2000 : 1 + rnd() % (256 << 10);
	*align = rnd() % 4 ? 0 : 1UL << (rnd() % 13);
}

/*
 * The quick lists: a freed small block comes back to the next request of
 * its order (LIFO, no split or merge), a double free of one is refused,
 * and a request only the merged heap can meet still succeeds: the lists
 * are merged back first.  Stats see a fully coalesced heap.
 */
TEST_F_TIMEOUT(pool, heap_quick, POOL_TIMEOUT)
{
	const size_t size = 1 << 20;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	char *mem = area_alloc(size), *blk[64], *p;
	struct ireg_pool *pool;
	unsigned int i;

	ASSERT_TRUE(mem);
	pool = heap_over(mem, size, 0);
	ASSERT_TRUE(pool);
	p = ireg_pool_alloc(pool, 3000, 64);
	ASSERT_TRUE(p);
	ASSERT_EQ(0, ireg_pool_free(pool, p));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, p));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, p + 64));	/* inside */
	ASSERT_TRUE(ireg_pool_alloc(pool, 3000, 64) == p);
	ASSERT_EQ(0, ireg_pool_free(pool, p));

	/* More small frees than a list holds: the rest merge at once. */
	for (i = 0; i < 64; i++) {
		blk[i] = ireg_pool_alloc(pool, 64, 0);
		ASSERT_TRUE(blk[i]);
	}
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, ireg_pool_free(pool, blk[i]));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(-EALREADY, ireg_pool_free(pool, blk[i]));
	/* The whole heap: the quick blocks merge back to make it. */
	p = ireg_pool_alloc(pool, size, 0);
	ASSERT_TRUE(p == mem);
	ASSERT_EQ(0, ireg_pool_free(pool, p));
	for (i = 0; i < 64; i++) {
		blk[i] = ireg_pool_alloc(pool, 64, 0);
		ASSERT_TRUE(blk[i]);
	}
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, ireg_pool_free(pool, blk[i]));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(1, st.nr_free);
	ASSERT_EQ(0, st.nr_cached);
	ASSERT_EQ(size, st.largest_free);
	ASSERT_EQ(size, st.free_bytes);
	ireg_pool_destroy(pool);
}

/* Random sizes and alignments against a shadow owner per 64-byte unit. */
TEST_F_TIMEOUT(pool, heap_random, POOL_TIMEOUT)
{
	const size_t size = 16 << 20, units = size / 64;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(size), *p;
	struct live *live, l;
	uint32_t *owner, id = 0;
	size_t n = 0, used = 0, sz, al, i;
	unsigned long op, fails = 0;
	bool grow;

	ASSERT_TRUE(mem);
	pool = heap_over(mem, size, 0);
	ASSERT_TRUE(pool);
	owner = calloc(units, sizeof(*owner));
	live = calloc(units, sizeof(*live));
	ASSERT_TRUE(owner && live);
	for (op = 0; op < 300000; op++) {
		grow = (op / 30000) % 2 == 0;
		if (!n || rnd() % 100 < (grow ? 65 : 35)) {
			random_request(&sz, &al);
			p = ireg_pool_alloc(pool, sz, al);
			if (!p) {
				ASSERT_EQ(ENOMEM, errno);
				/* A full walk is slow: check some refusals. */
				if (fails++ % 64 == 0) {
					ASSERT_EQ(0,
						  ireg_pool_stats(pool, &st));
					ASSERT_TRUE(st.largest_free <
						    block_bytes(sz, al));
				}
				continue;
			}
			ASSERT_TRUE(al <= 1 || (uintptr_t)p % al == 0);
			ASSERT_TRUE(ireg_pool_contains(pool, p, sz));
			ASSERT_TRUE(shadow_mark(owner, mem, p, sz, 0, ++id));
			p[0] = (char)id;
			p[sz - 1] = (char)id;
			live[n++] = (struct live){ p, sz, block_bytes(sz, al),
						   id };
			used += block_bytes(sz, al);
		} else {
			i = rnd() % n;
			l = live[i];
			live[i] = live[--n];
			ASSERT_TRUE(l.p[0] == (char)l.id &&
				    l.p[l.size - 1] == (char)l.id);
			ASSERT_TRUE(shadow_mark(owner, mem, l.p, l.size, l.id, 0));
			ASSERT_EQ(0, ireg_pool_free(pool, l.p));
			used -= l.block;
		}
		if (op % 5003 == 0) {
			ASSERT_EQ(0, ireg_pool_stats(pool, &st));
			ASSERT_EQ(n, st.nr_used);
			ASSERT_EQ(used, st.used_bytes);
			ASSERT_EQ(size - used, st.free_bytes);
		}
	}
	ksft_print_msg("heap: 300000 operations, %lu allocations refused (ENOMEM)\n",
		       fails);
	ASSERT_TRUE(fails > 0);	/* the sequence did reach exhaustion */
	while (n)
		ASSERT_EQ(0, ireg_pool_free(pool, live[--n].p));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(1, st.nr_free);
	ASSERT_EQ(size, st.largest_free);
	free(owner);
	free(live);
	ireg_pool_destroy(pool);
}

TEST_F_TIMEOUT(pool, heap_bad_free, POOL_TIMEOUT)
{
	const size_t size = 1 << 20;
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(2 * size), *a, *b, *c;
	int foreign;

	ASSERT_TRUE(mem);
	pool = heap_over(mem, size, 0);
	ASSERT_TRUE(pool);
	a = ireg_pool_alloc(pool, 1000, 0);	/* 1024-byte block */
	b = ireg_pool_alloc(pool, 64, 0);
	c = ireg_pool_alloc(pool, 4096, 4096);
	ASSERT_TRUE(a && b && c);
	ASSERT_EQ(-EFAULT, ireg_pool_free(pool, &foreign));
	ASSERT_EQ(-EFAULT, ireg_pool_free(pool, mem + size));
	ASSERT_EQ(-EFAULT, ireg_pool_free(pool, mem - 64));
	ASSERT_EQ(-EINVAL, ireg_pool_free(pool, a + 1));
	ASSERT_EQ(-EINVAL, ireg_pool_free(pool, a + 64));	/* interior */
	ASSERT_EQ(-EINVAL, ireg_pool_free(pool, c + 2048));
	ASSERT_EQ(0, ireg_pool_free(pool, b));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, b));
	/* Never allocated, inside a free block: also reported as free. */
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, mem + size - 64));
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(2, st.nr_used);
	ASSERT_EQ(1024 + 4096, st.used_bytes);
	ASSERT_EQ(0, ireg_pool_free(pool, a));
	ASSERT_EQ(0, ireg_pool_free(pool, c));
	ASSERT_EQ(-EALREADY, ireg_pool_free(pool, a));	/* after merging */
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(1, st.nr_free);
	ASSERT_EQ(size, st.largest_free);
	ireg_pool_destroy(pool);
}

static void *heap_mt_thread(void *p)
{
	struct mt_arg *arg = p;
	uint64_t s = seed + arg->id * 104729 + 1;
	struct { unsigned char *p; size_t n; } held[16];
	unsigned int n = 0, i;
	unsigned long it;
	unsigned char *b;
	size_t sz, k;

	arg->ok = true;
	for (it = 0; it < arg->iters; it++) {
		if (n < 16 && (!n || xorshift64s(&s) % 2)) {
			sz = 1 + xorshift64s(&s) % 3000;
			b = ireg_pool_alloc(arg->pool, sz, 0);
			if (!b)
				continue;
			memset(b, 0x40 + arg->id, sz);
			held[n].p = b;
			held[n++].n = sz;
		} else {
			i = xorshift64s(&s) % n;
			b = held[i].p;
			for (k = 0; k < held[i].n; k++)
				if (b[k] != 0x40 + arg->id)
					arg->ok = false;
			if (ireg_pool_free(arg->pool, b))
				arg->ok = false;
			held[i] = held[--n];
		}
	}
	while (n)
		if (ireg_pool_free(arg->pool, held[--n].p))
			arg->ok = false;
	return NULL;
}

TEST_F_TIMEOUT(pool, heap_mt, POOL_TIMEOUT)
{
	struct mt_arg args[3];
	pthread_t th[3];
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool *pool;
	char *mem = area_alloc(SZ_2M);
	unsigned int i;

	ASSERT_TRUE(mem);
	pool = heap_over(mem, 64 << 10, IREG_POOL_MT);
	ASSERT_TRUE(pool);
	for (i = 0; i < 3; i++) {
		args[i] = (struct mt_arg){ .pool = pool, .id = i,
					   .iters = 200000 };
		ASSERT_TRUE(!pthread_create(&th[i], NULL, heap_mt_thread, &args[i]));
	}
	for (i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ASSERT_TRUE(args[i].ok);
	}
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(0, st.nr_used);
	ASSERT_EQ(64 << 10, st.largest_free);
	ireg_pool_destroy(pool);
}

/* ---------------------------------------------------------------- */
/* Translation map                                                   */
/* ---------------------------------------------------------------- */

#define VA(x)	((const void *)(uintptr_t)(x))

TEST_F_TIMEOUT(pool, map_basic, POOL_TIMEOUT)
{
	const uint64_t va = 0x7f0000000000ULL, iova = 0x1000000ULL;
	struct ireg_map *map;

	ASSERT_EQ(0, ireg_map_create(&map));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, VA(va)));
	ASSERT_EQ(0, ireg_map_set(map, VA(va), 6 * SZ_2M, iova));
	ASSERT_EQ(iova, ireg_map_translate(map, VA(va)));
	ASSERT_EQ(iova + 123, ireg_map_translate(map, VA(va + 123)));
	ASSERT_EQ(iova + 5 * SZ_2M + 77,
		  ireg_map_translate(map, VA(va + 5 * SZ_2M + 77)));
	ASSERT_EQ(iova + 6 * SZ_2M - 1,
		  ireg_map_translate(map, VA(va + 6 * SZ_2M - 1)));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, VA(va - 1)));
	ASSERT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate(map, VA(va + 6 * SZ_2M)));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, NULL));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, VA(1ULL << 48)));
	ASSERT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate(map, VA(va | 1ULL << 60)));
	/* Clear the middle: a hole. */
	ASSERT_EQ(0, ireg_map_clear(map, VA(va + 2 * SZ_2M), SZ_2M));
	ASSERT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate(map, VA(va + 2 * SZ_2M + 5)));
	ASSERT_EQ(iova + 3 * SZ_2M,
		  ireg_map_translate(map, VA(va + 3 * SZ_2M)));
	/* Set again elsewhere: the last set wins. */
	ASSERT_EQ(0,
		  ireg_map_set(map, VA(va + 2 * SZ_2M), SZ_2M, 0x5000000000ULL));
	ASSERT_EQ(0x5000000000ULL + 5,
		  ireg_map_translate(map, VA(va + 2 * SZ_2M + 5)));
	/* Identity: delta 0 is a hit, not a miss. */
	ASSERT_EQ(0,
		  ireg_map_set(map, VA(va + 64 * SZ_2M), SZ_2M, va + 64 * SZ_2M));
	ASSERT_EQ(va + 64 * SZ_2M + 9,
		  ireg_map_translate(map, VA(va + 64 * SZ_2M + 9)));
	/* Across a 1 GiB boundary: two second-level arrays. */
	ASSERT_EQ(0,
		  ireg_map_set(map, VA(0x40000000ULL - SZ_2M), 2 * SZ_2M, 0x200000000ULL));
	ASSERT_EQ(0x200000000ULL + SZ_2M - 1,
		  ireg_map_translate(map, VA(0x40000000ULL - 1)));
	ASSERT_EQ(0x200000000ULL + SZ_2M,
		  ireg_map_translate(map, VA(0x40000000ULL)));
	/* The very top chunk below 2^48. */
	ASSERT_EQ(0,
		  ireg_map_set(map, VA((1ULL << 48) - SZ_2M), SZ_2M, 0x1000));
	ASSERT_EQ(0x1000 + SZ_2M - 1,
		  ireg_map_translate(map, VA((1ULL << 48) - 1)));
	ASSERT_EQ(0, ireg_map_clear(map, VA(va), 6 * SZ_2M));
	ASSERT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate(map, VA(va + 3 * SZ_2M)));
	ireg_map_destroy(map);
}

TEST_F_TIMEOUT(pool, map_errors, POOL_TIMEOUT)
{
	const uint64_t va = 0x7f0000000000ULL;
	struct ireg_map *map;

	ASSERT_EQ(0, ireg_map_create(&map));
	ASSERT_EQ(0, ireg_map_set(map, VA(va), SZ_2M, 0x1000000));
	ASSERT_EQ(-EINVAL, ireg_map_set(map, VA(va + 4096), SZ_2M, 0));
	ASSERT_EQ(-EINVAL, ireg_map_set(map, VA(va), SZ_2M + 4096, 0));
	ASSERT_EQ(-EINVAL, ireg_map_set(map, VA(va), 0, 0));
	ASSERT_EQ(-EINVAL, ireg_map_set(map, VA(va), SZ_2M, 0x1000001));
	ASSERT_EQ(-ERANGE,
		  ireg_map_set(map, VA((1ULL << 48) - SZ_2M), 2 * SZ_2M, 0));
	ASSERT_EQ(-EOVERFLOW, ireg_map_set(map, VA(-SZ_2M), 2 * SZ_2M, 0));
	ASSERT_EQ(-EOVERFLOW, ireg_map_set(map, VA(va), 2 * SZ_2M, -SZ_2M));
	ASSERT_EQ(-EINVAL, ireg_map_clear(map, VA(va + 64), SZ_2M));
	ASSERT_EQ(-EINVAL, ireg_map_clear(map, VA(va), 100));
	/* Failures changed nothing. */
	ASSERT_EQ(0x1000001, ireg_map_translate(map, VA(va + 1)));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, VA(va + SZ_2M)));
	/* Clearing what was never set is fine. */
	ASSERT_EQ(0, ireg_map_clear(map, VA(0x100000000000ULL), 8 * SZ_2M));
	ireg_map_destroy(map);
}

TEST_F_TIMEOUT(pool, map_translate_len, POOL_TIMEOUT)
{
	const uint64_t va = 0x7e0000000000ULL, iova = 0x80000000ULL;
	struct ireg_map *map;

	ASSERT_EQ(0, ireg_map_create(&map));
	ASSERT_EQ(0, ireg_map_set(map, VA(va), 4 * SZ_2M, iova));
	ASSERT_EQ(0,
		  ireg_map_set(map, VA(va + 4 * SZ_2M), SZ_2M, 0x10000000ULL));
	ASSERT_EQ(iova + 100, ireg_map_translate_len(map, VA(va + 100), 4000));
	ASSERT_EQ(iova + SZ_2M - 10,
		  ireg_map_translate_len(map, VA(va + SZ_2M - 10), 20));
	ASSERT_EQ(iova, ireg_map_translate_len(map, VA(va), 4 * SZ_2M));
	ASSERT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate_len(map, VA(va + 1), 4 * SZ_2M));	/* into a chunk of another delta */
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate_len(map, VA(va), 0));
	/* A hole in the middle, though first and last would line up. */
	ASSERT_EQ(0, ireg_map_clear(map, VA(va + SZ_2M), SZ_2M));
	ASSERT_EQ(iova + 3 * SZ_2M,
		  ireg_map_translate(map, VA(va + 3 * SZ_2M)));
	ASSERT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate_len(map, VA(va), 4 * SZ_2M));
	ASSERT_EQ(iova + 2 * SZ_2M,
		  ireg_map_translate_len(map, VA(va + 2 * SZ_2M), 2 * SZ_2M));
	ireg_map_destroy(map);
}

#define MAP_CHURN	64

struct map_reader {
	struct ireg_map *map;
	bool *stop;
	unsigned long lookups;
	unsigned long hits;
	bool ok;
};

static const uint64_t stable_va = 0x700000000000ULL;
static const uint64_t stable_iova = 0x100000000ULL;
static const uint64_t churn_va = 0x600000000000ULL;

/* Churn chunk k: each in its own 1 GiB, so second levels appear live. */
static uint64_t churn_addr(unsigned int k)
{
	return churn_va + (uint64_t)k * ((1ULL << 30) + SZ_2M);
}

static uint64_t churn_iova(unsigned int k, unsigned int gen)
{
	return 0x10000000000ULL * (1 + gen % 2) + (uint64_t)k * SZ_2M;
}

static void *map_reader_thread(void *p)
{
	struct map_reader *r = p;
	uint64_t s = seed + (uintptr_t)r, off, got;
	unsigned int k;

	r->ok = true;
	while (!__atomic_load_n(r->stop, __ATOMIC_RELAXED)) {
		off = xorshift64s(&s) % (16 * SZ_2M);
		if (ireg_map_translate(r->map, VA(stable_va + off)) !=
		    stable_iova + off)
			r->ok = false;
		k = xorshift64s(&s) % MAP_CHURN;
		off = xorshift64s(&s) % SZ_2M;
		got = ireg_map_translate(r->map, VA(churn_addr(k) + off));
		if (got != IREG_IOVA_INVALID) {
			r->hits++;
			if (got != churn_iova(k, 0) + off &&
			    got != churn_iova(k, 1) + off)
				r->ok = false;
		}
		r->lookups++;
	}
	return NULL;
}

TEST_F_TIMEOUT(pool, map_concurrent, POOL_TIMEOUT)
{
	struct map_reader readers[2];
	bool stop = false, failed = false;
	struct ireg_map *map;
	pthread_t th[2];
	unsigned int gen, k, i;
	uint64_t end;

	ASSERT_EQ(0, ireg_map_create(&map));
	ASSERT_EQ(0, ireg_map_set(map, VA(stable_va), 16 * SZ_2M, stable_iova));
	for (i = 0; i < 2; i++) {
		readers[i] = (struct map_reader){ .map = map, .stop = &stop };
		ASSERT_TRUE(!pthread_create(&th[i], NULL, map_reader_thread,
					    &readers[i]));
	}
	end = clock_now_ms() + 1000;
	for (gen = 0;; gen++) {
		for (k = 0; k < MAP_CHURN; k++) {
			if (ireg_map_set(map, VA(churn_addr(k)), SZ_2M,
					 churn_iova(k, gen)))
				failed = true;
			if (gen % 3 == 2)
				ireg_map_clear(map, VA(churn_addr(k)), SZ_2M);
		}
		if (failed || clock_now_ms() >= end)
			break;
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		ksft_print_msg("reader %u: %lu lookups, %lu churn hits\n", i,
			       readers[i].lookups, readers[i].hits);
		ASSERT_TRUE(readers[i].ok);
		ASSERT_TRUE(readers[i].lookups > 0);
	}
	ksft_print_msg("writer: %u generations of %u chunks\n", gen, MAP_CHURN);
	ASSERT_TRUE(!failed);
	ireg_map_destroy(map);
}

/* ---------------------------------------------------------------- */
/* Pools with a map, pools with real backings (not registered)       */
/* ---------------------------------------------------------------- */

TEST_F_TIMEOUT(pool, pool_map_entry, POOL_TIMEOUT)
{
	struct ireg_pool_params p = { .size = sizeof(p), .buf_size = 4096 };
	struct ireg_pool *pool;
	struct ireg_map *map;
	char *mem = area_alloc(8 * SZ_2M);
	uint64_t iova = FAKE_IOVA + SZ_2M / 2;
	char *b;

	ASSERT_TRUE(mem);
	ASSERT_EQ(0, ireg_map_create(&map));
	p.map = map;
	/* Starts 1 MiB into a chunk: only whole chunks enter the map. */
	ASSERT_EQ(0,
		  ireg_pool_create_mem(mem + SZ_2M / 2, 6 * SZ_2M, iova, &p, &pool));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, mem + SZ_2M / 2));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, mem + SZ_2M - 1));
	ASSERT_EQ(ireg_pool_iova(pool, mem + SZ_2M),
		  ireg_map_translate(map, mem + SZ_2M));
	ASSERT_EQ(iova + 5 * SZ_2M + SZ_2M / 2 - 1,
		  ireg_map_translate(map, mem + 6 * SZ_2M - 1));
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, mem + 6 * SZ_2M));
	while ((b = ireg_pool_buf_alloc(pool)))
		if (b >= mem + SZ_2M && b < mem + 6 * SZ_2M)
			ASSERT_EQ(ireg_pool_iova(pool, b),
				  ireg_map_translate(map, b));
	ireg_pool_destroy(pool);
	ASSERT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, mem + 3 * SZ_2M));
	/* Without an IOVA a pool cannot enter a map. */
	ASSERT_EQ(-EINVAL,
		  ireg_pool_create_mem(mem, 2 * SZ_2M, IREG_IOVA_INVALID, &p, &pool));
	ireg_map_destroy(map);
}

static long meminfo(const char *key)
{
	char line[256];
	long val = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			val = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return val;
}

TEST_F_TIMEOUT(pool, pool_backings, POOL_TIMEOUT)
{
	static const char *const names[] = {
		"user", "4K", "THP", "hugetlb 2M", "hugetlb 1G",
	};
	struct ireg_pool_params p = { .size = sizeof(p), .mem_size = 3 << 20 };
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pool;
	char *a;
	int ret;

	/* Best available; no context: reserved, not registered. */
	ASSERT_EQ(0, ireg_pool_create(NULL, &p, &pool));
	ireg_pool_info(pool, &info);
	ksft_print_msg("auto backing: %s, %zu of %zu bytes on huge pages\n",
		       names[info.backing], info.huge_bytes, info.mem_size);
	ASSERT_TRUE(info.backing == IREG_POOL_BACKING_HUGETLB ||
		    info.backing == IREG_POOL_BACKING_THP ||
		    info.backing == IREG_POOL_BACKING_4K);
	if (info.backing != IREG_POOL_BACKING_4K)
		ASSERT_EQ(0, (uintptr_t)info.base % SZ_2M);
	ASSERT_EQ(0, info.mem_size % info.page_size);
	ASSERT_TRUE(info.data_size >= p.mem_size);
	ASSERT_TRUE(!info.registered);
	ASSERT_EQ(-1, info.fd);
	ASSERT_EQ(IREG_IOVA_INVALID, info.iova);
	a = ireg_pool_alloc(pool, 2 << 20, 0);
	ASSERT_TRUE(a == info.base);
	memset(a, 1, 2 << 20);
	ireg_pool_destroy(pool);

	p.flags = IREG_POOL_4K;
	ASSERT_EQ(0, ireg_pool_create(NULL, &p, &pool));
	ireg_pool_info(pool, &info);
	ASSERT_EQ(IREG_POOL_BACKING_4K, info.backing);
	ASSERT_EQ(4096, info.page_size);
	ASSERT_EQ(0, info.huge_bytes);
	ireg_pool_destroy(pool);

	p.flags = IREG_POOL_THP;
	ret = ireg_pool_create(NULL, &p, &pool);
	if (ret) {
		ksft_print_msg("THP: %s (THP disabled here?)\n", strerror(-ret));
		ASSERT_EQ(-EOPNOTSUPP, ret);
	} else {
		ireg_pool_info(pool, &info);
		ASSERT_EQ(IREG_POOL_BACKING_THP, info.backing);
		ASSERT_EQ(0, (uintptr_t)info.base % SZ_2M);
		ASSERT_EQ(4 << 20, info.mem_size);
		ksft_print_msg("THP: %zu of %zu bytes on huge pages\n", info.huge_bytes,
			       info.mem_size);
		ireg_pool_destroy(pool);
	}

	p.flags = IREG_POOL_HUGETLB;
	ret = ireg_pool_create(NULL, &p, &pool);
	if (meminfo("HugePages_Free") - meminfo("HugePages_Rsvd") < 2) {
		ksft_print_msg("hugetlb 2M: no free huge pages here: %s\n", strerror(-ret));
		ASSERT_EQ(-ENOMEM, ret);
	} else {
		ASSERT_EQ(0, ret);
		ireg_pool_info(pool, &info);
		ASSERT_EQ(IREG_POOL_BACKING_HUGETLB, info.backing);
		ASSERT_EQ(info.mem_size, info.huge_bytes);
		ireg_pool_destroy(pool);
	}
}

/* A shared pool, attached by a forked child through its fd. */
TEST_F_TIMEOUT(pool, pool_shared_attach, POOL_TIMEOUT)
{
	struct ireg_pool_params p = {
		.size = sizeof(p),
		.buf_size = 2048, .nr_bufs = 64,
		.flags = IREG_POOL_SHARED | IREG_POOL_4K,
	};
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool_info vinfo = { .size = sizeof(vinfo) };
	struct ireg_pool *pool, *view;
	uint64_t off, saved;
	char *b, *hdr;
	int status, fd;
	pid_t pid;

	ASSERT_EQ(0, ireg_pool_create(NULL, &p, &pool));
	ireg_pool_info(pool, &info);
	ASSERT_TRUE(info.fd >= 0);
	ASSERT_EQ(64, info.nr_bufs);
	ASSERT_TRUE(info.data_size + 4096 <= info.mem_size);
	b = ireg_pool_buf_alloc(pool);
	b = ireg_pool_buf_alloc(pool);
	ASSERT_TRUE(b);
	off = ireg_pool_offset(pool, b);
	memset(b, 0, 2048);

	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		/* A fresh mapping through the fd, at another address. */
		if (ireg_pool_attach(NULL, info.fd, NULL, 0, &view))
			_exit(10);
		ireg_pool_info(view, &vinfo);
		if (!vinfo.attached || vinfo.nr_bufs != 64 ||
		    vinfo.buf_stride != 2048 ||
		    vinfo.data_size != info.data_size ||
		    view->base == pool->base)
			_exit(11);
		if (ireg_pool_buf_alloc(view) || ireg_pool_alloc(view, 64, 0) ||
		    errno != EPERM)
			_exit(12);
		if (ireg_pool_free(view, ireg_pool_ptr(view, off)) != -EPERM)
			_exit(13);
		strcpy(ireg_pool_ptr(view, off), "written by the child");
		ireg_pool_destroy(view);
		_exit(0);
	}
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		ksft_print_msg("child status 0x%x\n", status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_TRUE(!strcmp(b, "written by the child"));

	ASSERT_EQ(-EINVAL, ireg_pool_attach(NULL, info.fd, NULL, 1, &view));
	/* A damaged header is refused. */
	hdr = (char *)info.base + info.mem_size - 4096;
	memcpy(&saved, hdr + 8, 8);
	memset(hdr + 8, 0x77, 8);
	ASSERT_EQ(-EINVAL, ireg_pool_attach(NULL, info.fd, NULL, 0, &view));
	memcpy(hdr + 8, &saved, 8);
	ASSERT_EQ(0, ireg_pool_attach(NULL, info.fd, NULL, 0, &view));
	ASSERT_EQ(-EOPNOTSUPP,
		  ireg_pool_stats(view, &(struct ireg_pool_stats){
				.size = sizeof(struct ireg_pool_stats) }));
	ireg_pool_destroy(view);
	/* Memory without a pool header. */
	fd = memfd_create("not-a-pool", MFD_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(!ftruncate(fd, 1 << 20));
	ASSERT_EQ(-EINVAL, ireg_pool_attach(NULL, fd, NULL, 0, &view));
	close(fd);
	ireg_pool_destroy(pool);
}

/*
 * A shared pool whose creator allocates through per-thread caches and
 * bulk calls: another process attaches it and reaches the same buffers
 * by offset; the view refuses to allocate, in bulk too.
 */
TEST_F_TIMEOUT(pool, pool_shared_cached, POOL_TIMEOUT)
{
	struct ireg_pool_params p = {
		.size = sizeof(p), .buf_size = 2048, .nr_bufs = 64,
		.flags = IREG_POOL_SHARED | IREG_POOL_4K | IREG_POOL_MT,
		.cache_size = 8,
	};
	struct ireg_pool_stats st = { .size = sizeof(st) };
	struct ireg_pool_info info = { .size = sizeof(info) };
	uint64_t off[16];
	struct ireg_pool *pool, *view;
	void *bufs[16];
	unsigned int i;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ireg_pool_create(NULL, &p, &pool));
	ASSERT_EQ(0, ireg_pool_info(pool, &info));
	ASSERT_EQ(8, info.cache_size);
	ASSERT_EQ(0, ireg_pool_alloc_bulk(pool, bufs, 16));
	for (i = 0; i < 16; i++) {
		off[i] = ireg_pool_offset(pool, bufs[i]);
		snprintf(bufs[i], 2048, "buffer %u", i);
	}
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		char want[32];

		if (ireg_pool_attach(NULL, info.fd, NULL, 0, &view))
			_exit(10);
		if (ireg_pool_alloc_bulk(view, bufs, 2) != -EPERM)
			_exit(11);
		for (i = 0; i < 16; i++) {
			snprintf(want, sizeof(want), "buffer %u", i);
			if (strcmp(ireg_pool_ptr(view, off[i]), want))
				_exit(12);
			snprintf(ireg_pool_ptr(view, off[i]), 2048,
				 "child %u", i);
		}
		ireg_pool_destroy(view);
		_exit(0);
	}
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < 16; i++) {
		char want[32];

		snprintf(want, sizeof(want), "child %u", i);
		ASSERT_TRUE(!strcmp(bufs[i], want));
	}
	ireg_pool_free_bulk(pool, bufs, 16);
	ASSERT_EQ(0, ireg_pool_stats(pool, &st));
	ASSERT_EQ(64, st.nr_free);
	ASSERT_EQ(0, st.nr_used);
	ireg_pool_destroy(pool);
}

TEST_F_TIMEOUT(pool, pool_shared_thp, POOL_TIMEOUT)
{
	struct ireg_pool_params p = {
		.size = sizeof(p),
		.mem_size = 4 << 20, .flags = IREG_POOL_SHARED | IREG_POOL_THP,
	};
	struct ireg_pool_info info = { .size = sizeof(info) };
	struct ireg_pool *pool;
	int ret = ireg_pool_create(NULL, &p, &pool);

	if (ret) {
		/* shmem_enabled [never]: refused, with a reason. */
		ASSERT_EQ(-EOPNOTSUPP, ret);
		SKIP(return, "shmem THP disabled here (refused: %s)",
		     strerror(-ret));
	}
	ireg_pool_info(pool, &info);
	ASSERT_EQ(IREG_POOL_BACKING_THP, info.backing);
	ASSERT_TRUE(info.fd >= 0);
	ksft_print_msg("shared THP: %zu of %zu bytes on huge pages\n", info.huge_bytes,
		       info.mem_size);
	ireg_pool_destroy(pool);
}

int main(int argc, char **argv)
{
	const char *env = getenv("POOL_TEST_SEED");
	const char *only = getenv("POOL_TEST_ONLY");

	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	if (!seed)
		seed = 1;
	/* Every case starts from it: each runs in a child of this process. */
	rnd_state = seed;
	ksft_print_msg("POOL_TEST_SEED=%" PRIu64 "\n", seed);
	if (only)
		test_select(&_pool_fixture_object, &only, 1);
	return test_harness_run(argc, argv);
}
