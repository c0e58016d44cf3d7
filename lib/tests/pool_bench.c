// SPDX-License-Identifier: GPL-2.0-only
/*
 * pool_bench: registered-pool allocation and translation beside malloc,
 * natively on the host, in one run.
 *
 * Allocation makes no system call and never touches the kernel, so the
 * pools run here over plain memory (ireg_pool_create_mem) and the
 * figures are the real code at real speed.  For each: nanoseconds per
 * alloc+free pair, medians of 7 rounds (min-max), beside glibc malloc+free
 * of the same size; translation beside a plain pointer load.
 *
 *	pool_bench [-c] [-n ITERS] [-r ROUNDS]
 *
 * -c prints CSV rows (experiment,parameter,series,median,spread_pct,unit)
 * for make bench.  Each measured loop is its own function (loop_*), so
 * callgrind's inclusive counts give instructions per operation: loop_buf
 * and loop_malloc run ITERS operations, loop_heap and loop_mbig ITERS / 10,
 * loop_iova and loop_map 4 * ITERS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iommureg.h"

#define MAX_ROUNDS	32
#define BUF	2048
#define NOINLINE	__attribute__((noinline))

static unsigned int ROUNDS = 7;
static unsigned long ITERS = 4000000UL;
static int csv;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, const char *exp, const char *param,
		   const char *series, double *t)
{
	double med;

	qsort(t, ROUNDS, sizeof(*t), cmp);
	med = t[ROUNDS / 2];
	if (csv)
		printf("%s,%s,%s,%.4g,%.1f,ns\n", exp, param, series, med,
		       med > 0 ? 100 * (t[ROUNDS - 1] - t[0]) / med : 0);
	else
		printf("%-34s %7.2f  (%.2f-%.2f)\n", what, med, t[0],
		       t[ROUNDS - 1]);
}

static void *volatile sink;
static volatile uint64_t isink;

static NOINLINE void loop_buf(struct ireg_pool *bufs, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *p = ireg_pool_buf_alloc(bufs);

		sink = p;
		ireg_pool_buf_free(bufs, p);
	}
}

static NOINLINE void loop_malloc(unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *p = malloc(BUF);

		sink = p;
		free(p);
	}
}

static NOINLINE void loop_heap(struct ireg_pool *heap, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *p = ireg_pool_alloc(heap, 3000, 64);

		sink = p;
		ireg_pool_free(heap, p);
	}
}

static NOINLINE void loop_mbig(unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		void *p = aligned_alloc(64, 3008);

		sink = p;
		free(p);
	}
}

static NOINLINE void loop_iova(struct ireg_pool *bufs, char *mem,
			       unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		isink = ireg_pool_iova(bufs, mem + (i & 0xffffff));
}

static NOINLINE void loop_map(struct ireg_map *map, char *mem, size_t size,
			      unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		isink = ireg_map_translate(map, mem + ((i * 4096) & (size - 1)));
}

int main(int argc, char **argv)
{
	const size_t size = 64UL << 20;
	struct ireg_pool_params bp = { .buf_size = BUF };
	struct ireg_pool_params hp = { .size = size };
	double t_buf[MAX_ROUNDS], t_heap[MAX_ROUNDS], t_malloc[MAX_ROUNDS];
	double t_mbig[MAX_ROUNDS], t_iova[MAX_ROUNDS], t_map[MAX_ROUNDS];
	struct ireg_pool *bufs, *heap;
	struct ireg_map *map;
	void *mem1 = aligned_alloc(2 << 20, size);
	void *mem2 = aligned_alloc(2 << 20, size);
	unsigned int r;
	int opt;

	while ((opt = getopt(argc, argv, "cn:r:")) != -1) {
		switch (opt) {
		case 'c':
			csv = 1;
			break;
		case 'n':
			ITERS = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			ROUNDS = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-c] [-n ITERS] [-r ROUNDS]\n",
				argv[0]);
			return 2;
		}
	}
	if (!ROUNDS || ROUNDS > MAX_ROUNDS || ITERS < 10) {
		fprintf(stderr, "pool_bench: 1 <= ROUNDS <= %d, ITERS >= 10\n",
			MAX_ROUNDS);
		return 2;
	}
	if (!mem1 || !mem2 ||
	    ireg_pool_create_mem(mem1, size, 1ULL << 32, &bp, &bufs) ||
	    ireg_pool_create_mem(mem2, size, 1ULL << 33, &hp, &heap) ||
	    ireg_map_create(&map) || ireg_map_set(map, mem1, size, 1ULL << 32))
		return 1;

	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();

		loop_buf(bufs, ITERS);
		t_buf[r] = (now_ns() - t0) / ITERS;

		t0 = now_ns();
		loop_malloc(ITERS);
		t_malloc[r] = (now_ns() - t0) / ITERS;

		t0 = now_ns();
		loop_heap(heap, ITERS / 10);
		t_heap[r] = (now_ns() - t0) / (ITERS / 10);

		t0 = now_ns();
		loop_mbig(ITERS / 10);
		t_mbig[r] = (now_ns() - t0) / (ITERS / 10);

		t0 = now_ns();
		loop_iova(bufs, mem1, ITERS * 4);
		t_iova[r] = (now_ns() - t0) / (ITERS * 4);

		t0 = now_ns();
		loop_map(map, mem1, size, ITERS * 4);
		t_map[r] = (now_ns() - t0) / (ITERS * 4);
	}
	if (!csv)
		printf("# pool_bench: ns per operation, median of %u rounds (min-max)\n",
		       ROUNDS);
	report("buffer pool alloc+free (2 KiB)", "pool", "2KiB_buf",
	       "ireg_pool_buf_alloc_free", t_buf);
	report("malloc+free (2 KiB)", "pool", "2KiB_buf", "malloc_free",
	       t_malloc);
	report("pool heap alloc+free (3000 B, 64)", "pool", "3000B_heap",
	       "ireg_pool_alloc_free", t_heap);
	report("aligned_alloc+free (3008 B, 64)", "pool", "3000B_heap",
	       "aligned_alloc_free", t_mbig);
	report("ireg_pool_iova (one add)", "translate", "ireg_pool_iova",
	       "ireg_pool_iova", t_iova);
	report("ireg_map_translate (two loads)", "translate",
	       "ireg_map_translate", "ireg_map_translate", t_map);
	if (!csv)
		printf("# malloc/pool ratio: %.1fx (buffers), %.1fx (heap)\n",
		       t_malloc[ROUNDS / 2] / t_buf[ROUNDS / 2],
		       t_mbig[ROUNDS / 2] / t_heap[ROUNDS / 2]);
	ireg_pool_destroy(bufs);
	ireg_pool_destroy(heap);
	ireg_map_destroy(map);
	return 0;
}
