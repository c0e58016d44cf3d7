// SPDX-License-Identifier: GPL-2.0-only
/*
 * pool_alloc: registered-pool allocation and translation beside malloc,
 * natively on the host, in one run.
 *
 * Allocation makes no system call and never touches the kernel, so the
 * pools run here over plain memory (ireg_pool_create_mem) and the
 * figures are the real code at real speed: nanoseconds per alloc+free
 * pair beside glibc malloc+free of the same size, and translation beside
 * a plain pointer load.
 *
 *	pool_alloc [-n OPS | -t MS] [-r ROUNDS] [-w WARMUP]
 *
 * Medians of ROUNDS (7) rounds of about MS (200) milliseconds after
 * WARMUP (1) untimed ones (tools/bench/bench.h).  Each measured loop is
 * its own function (loop_*), so callgrind's inclusive counts give
 * instructions per operation (-n OPS -r 1 -w 0): loop_buf and loop_malloc
 * run OPS operations, loop_heap, loop_mbig, loop_mtheap, loop_m3000,
 * loop_hbig and loop_mhuge OPS / 10, loop_iova and loop_map 4 * OPS.
 * loop_mtheap is the 3000-byte figure on an IREG_POOL_MT heap, which
 * takes its mutex around each call (glibc's allocator is thread-safe
 * too).  The 3000-byte
 * heap figures hit the heap's quick list of their order; the 128 KiB ones
 * are above the quick lists: a buddy split and merge on every pair.
 */
#include <stdio.h>
#include <stdlib.h>

#include "iommureg.h"
#include "bench.h"

#define BUF	2048
#define NOINLINE	__attribute__((noinline))

/* What the loops work on. */
struct pools {
	struct ireg_pool *bufs, *heap, *mtheap;
	struct ireg_map *map;
	char *mem;		/* the buffer pool's memory, mapped by map */
	size_t size;
};

static void *volatile sink;
static volatile uint64_t isink;

/*
 * @n allocations from @pool (NULL: libc), each freed at once.  The
 * allocator comes as a get/put pair that the compiler inlines here
 * (always_inline, constant pointers): each loop_* below compiles to the
 * plain loop of its calls.
 */
static inline __attribute__((always_inline)) void
alloc_free(void *pool, unsigned long n, void *(*get)(void *pool),
	   void (*put)(void *pool, void *b))
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *b = get(pool);

		sink = b;
		put(pool, b);
	}
}

static inline void *buf_get(void *pool)
{
	return ireg_pool_buf_alloc(pool);
}

static inline void buf_put(void *pool, void *b)
{
	ireg_pool_buf_free(pool, b);
}

static inline void *heap_get(void *pool)
{
	return ireg_pool_alloc(pool, 3000, 64);
}

/* Above the heap's quick lists (64 KiB): the buddy split and merge. */
static inline void *hbig_get(void *pool)
{
	return ireg_pool_alloc(pool, 128 << 10, 64);
}

static inline void *mhuge_get(void *pool)
{
	return aligned_alloc(64, 128 << 10);
}

static inline void heap_put(void *pool, void *b)
{
	ireg_pool_free(pool, b);
}

static inline void *malloc_get(void *pool)
{
	return malloc(BUF);
}

/* 3000 B rounded up to the alignment, as the heap pool does. */
static inline void *mbig_get(void *pool)
{
	return aligned_alloc(64, 3008);
}

static inline void *m3000_get(void *pool)
{
	return malloc(3000);
}

static inline void libc_put(void *pool, void *b)
{
	free(b);
}

static NOINLINE int loop_buf(void *arg, unsigned long n)
{
	alloc_free(((struct pools *)arg)->bufs, n, buf_get, buf_put);
	return 0;
}

static NOINLINE int loop_malloc(void *arg, unsigned long n)
{
	alloc_free(NULL, n, malloc_get, libc_put);
	return 0;
}

static NOINLINE int loop_heap(void *arg, unsigned long n)
{
	alloc_free(((struct pools *)arg)->heap, n, heap_get, heap_put);
	return 0;
}

/* The same on an IREG_POOL_MT heap: its mutex, uncontended. */
static NOINLINE int loop_mtheap(void *arg, unsigned long n)
{
	alloc_free(((struct pools *)arg)->mtheap, n, heap_get, heap_put);
	return 0;
}

static NOINLINE int loop_mbig(void *arg, unsigned long n)
{
	alloc_free(NULL, n, mbig_get, libc_put);
	return 0;
}

static NOINLINE int loop_m3000(void *arg, unsigned long n)
{
	alloc_free(NULL, n, m3000_get, libc_put);
	return 0;
}

static NOINLINE int loop_hbig(void *arg, unsigned long n)
{
	alloc_free(((struct pools *)arg)->heap, n, hbig_get, heap_put);
	return 0;
}

static NOINLINE int loop_mhuge(void *arg, unsigned long n)
{
	alloc_free(NULL, n, mhuge_get, libc_put);
	return 0;
}

static NOINLINE int loop_iova(void *arg, unsigned long n)
{
	struct pools *p = arg;
	unsigned long i;

	for (i = 0; i < n; i++)
		isink = ireg_pool_iova(p->bufs, p->mem + (i & 0xffffff));
	return 0;
}

static NOINLINE int loop_map(void *arg, unsigned long n)
{
	struct pools *p = arg;
	struct ireg_map *map = p->map;
	size_t mask = p->size - 1;
	char *mem = p->mem;
	unsigned long i;

	for (i = 0; i < n; i++)
		isink = ireg_map_translate(map, mem + ((i * 4096) & mask));
	return 0;
}

/* The figures, in this order; a loop runs OPS * mul / div operations. */
static const struct figure {
	const char *exp, *param, *series;
	bench_loop_fn loop;
	unsigned int mul, div;
} figures[] = {
	{ "pool", "2KiB_buf", "ireg_pool_buf_alloc_free", loop_buf, 1, 1 },
	{ "pool", "2KiB_buf", "malloc_free", loop_malloc, 1, 1 },
	{ "pool", "3000B_heap", "ireg_pool_alloc_free", loop_heap, 1, 10 },
	{ "pool", "3000B_heap", "aligned_alloc_free", loop_mbig, 1, 10 },
	{ "pool", "3000B_heap", "ireg_pool_alloc_free_mt", loop_mtheap, 1, 10 },
	{ "pool", "3000B_heap", "malloc_free", loop_m3000, 1, 10 },
	{ "pool", "128KiB_heap", "ireg_pool_alloc_free", loop_hbig, 1, 10 },
	{ "pool", "128KiB_heap", "aligned_alloc_free", loop_mhuge, 1, 10 },
	{ "translate", "ireg_pool_iova", "ireg_pool_iova", loop_iova, 4, 1 },
	{ "translate", "ireg_map_translate", "ireg_map_translate", loop_map,
	  4, 1 },
};

#define NR_FIGURES	(sizeof(figures) / sizeof(figures[0]))

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.round_ms = 200, .rounds = 7, .warmup = 1, .clock = clock_cpu_ns,
	};
	struct pools p = { .size = 64UL << 20 };
	struct ireg_pool_params bp = { .size = sizeof(bp), .buf_size = BUF };
	struct ireg_pool_params hp = { .size = sizeof(hp), .mem_size = p.size };
	double v[BENCH_MAX_ROUNDS], med[NR_FIGURES];
	char method[96];
	struct ireg_pool_params mp = { .size = sizeof(mp), .mem_size = 4 << 20,
				       .flags = IREG_POOL_MT };
	void *heap_mem, *mt_mem;
	unsigned int f;

	if (bench_getopt(argc, argv, "", NULL,
			 "[-n OPS | -t MS] [-r ROUNDS] [-w WARMUP]", &o) < 0)
		return 2;
	if (o.n && o.n < 10) {
		fprintf(stderr, "pool_alloc: OPS >= 10\n");
		return 2;
	}
	p.mem = aligned_alloc(2 << 20, p.size);
	heap_mem = aligned_alloc(2 << 20, p.size);
	mt_mem = aligned_alloc(2 << 20, 4 << 20);
	if (!p.mem || !heap_mem || !mt_mem ||
	    ireg_pool_create_mem(mt_mem, 4 << 20, 1ULL << 34, &mp, &p.mtheap) ||
	    ireg_pool_create_mem(p.mem, p.size, 1ULL << 32, &bp, &p.bufs) ||
	    ireg_pool_create_mem(heap_mem, p.size, 1ULL << 33, &hp, &p.heap) ||
	    ireg_map_create(&p.map) ||
	    ireg_map_set(p.map, p.mem, p.size, 1ULL << 32))
		return 1;

	printf("# pool_alloc: ns per operation, %s\n",
	       bench_method(&o, method, sizeof(method)));
	for (f = 0; f < NR_FIGURES; f++) {
		const struct figure *fig = &figures[f];
		struct bench_plan plan = bench_plan_of(&o, o.n * fig->mul /
							  fig->div);

		if (bench_time(&plan, fig->loop, &p, v) < 0)
			return 1;
		med[f] = bench_row_v(fig->exp, fig->param, fig->series, v,
				     o.rounds, "ns");
	}
	printf("# malloc/pool ratio: %.1fx (buffers); heap 3000 B: aligned_alloc/pool %.1fx, malloc/pool %.1fx; heap 128 KiB: aligned_alloc/pool %.1fx\n",
	       med[1] / med[0], med[3] / med[2], med[5] / med[2],
	       med[7] / med[6]);
	ireg_pool_destroy(p.bufs);
	ireg_pool_destroy(p.heap);
	ireg_pool_destroy(p.mtheap);
	ireg_map_destroy(p.map);
	return 0;
}
