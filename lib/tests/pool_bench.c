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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommureg.h"

#define ROUNDS	7
#define ITERS	4000000UL
#define BUF	2048

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

static void report(const char *what, double *t)
{
	qsort(t, ROUNDS, sizeof(*t), cmp);
	printf("%-34s %7.2f  (%.2f-%.2f)\n", what, t[ROUNDS / 2], t[0],
	       t[ROUNDS - 1]);
}

static void *volatile sink;
static volatile uint64_t isink;

int main(void)
{
	const size_t size = 64UL << 20;
	struct ireg_pool_params bp = { .buf_size = BUF };
	struct ireg_pool_params hp = { .size = size };
	double t_buf[ROUNDS], t_heap[ROUNDS], t_malloc[ROUNDS];
	double t_mbig[ROUNDS], t_iova[ROUNDS], t_map[ROUNDS];
	struct ireg_pool *bufs, *heap;
	struct ireg_map *map;
	void *mem1 = aligned_alloc(2 << 20, size);
	void *mem2 = aligned_alloc(2 << 20, size);
	unsigned long i;
	int r;

	if (!mem1 || !mem2 ||
	    ireg_pool_create_mem(mem1, size, 1ULL << 32, &bp, &bufs) ||
	    ireg_pool_create_mem(mem2, size, 1ULL << 33, &hp, &heap) ||
	    ireg_map_create(&map) || ireg_map_set(map, mem1, size, 1ULL << 32))
		return 1;

	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();

		for (i = 0; i < ITERS; i++) {
			void *p = ireg_pool_buf_alloc(bufs);

			sink = p;
			ireg_pool_buf_free(bufs, p);
		}
		t_buf[r] = (now_ns() - t0) / ITERS;

		t0 = now_ns();
		for (i = 0; i < ITERS; i++) {
			void *p = malloc(BUF);

			sink = p;
			free(p);
		}
		t_malloc[r] = (now_ns() - t0) / ITERS;

		t0 = now_ns();
		for (i = 0; i < ITERS / 10; i++) {
			void *p = ireg_pool_alloc(heap, 3000, 64);

			sink = p;
			ireg_pool_free(heap, p);
		}
		t_heap[r] = (now_ns() - t0) / (ITERS / 10);

		t0 = now_ns();
		for (i = 0; i < ITERS / 10; i++) {
			void *p = aligned_alloc(64, 3008);

			sink = p;
			free(p);
		}
		t_mbig[r] = (now_ns() - t0) / (ITERS / 10);

		t0 = now_ns();
		for (i = 0; i < ITERS * 4; i++)
			isink = ireg_pool_iova(bufs, (char *)mem1 + (i & 0xffffff));
		t_iova[r] = (now_ns() - t0) / (ITERS * 4);

		t0 = now_ns();
		for (i = 0; i < ITERS * 4; i++)
			isink = ireg_map_translate(map,
						   (char *)mem1 + ((i * 4096) & (size - 1)));
		t_map[r] = (now_ns() - t0) / (ITERS * 4);
	}
	printf("# pool_bench: ns per operation, median of %d rounds (min-max)\n",
	       ROUNDS);
	report("buffer pool alloc+free (2 KiB)", t_buf);
	report("malloc+free (2 KiB)", t_malloc);
	report("pool heap alloc+free (3000 B, 64)", t_heap);
	report("aligned_alloc+free (3008 B, 64)", t_mbig);
	report("ireg_pool_iova (one add)", t_iova);
	report("ireg_map_translate (two loads)", t_map);
	printf("# malloc/pool ratio: %.1fx (buffers), %.1fx (heap)\n",
	       t_malloc[ROUNDS / 2] / t_buf[ROUNDS / 2],
	       t_mbig[ROUNDS / 2] / t_heap[ROUNDS / 2]);
	ireg_pool_destroy(bufs);
	ireg_pool_destroy(heap);
	ireg_map_destroy(map);
	return 0;
}
