// SPDX-License-Identifier: GPL-2.0-only
/*
 * cache_bench: the register-once cache's hit path, natively on the host.
 *
 * A hit never enters the kernel, so the cache runs here over an in-process
 * backend (see cache_test.c) and the figures are the real code at real
 * speed.  The same cache against the module, beside the register system
 * call, is measured in the VM by cache_vm_bench.
 *
 *	cache_bench [threads]
 *
 * Prints nanoseconds per ireg_cache_reg() + ireg_cache_unreg() hit and per
 * inline ireg_mr_iova(), medians of 7 rounds.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iommureg.h"
#include "../src/internal.h"

#define ROUNDS	7
#define ITERS	2000000UL
#define PAGE	4096UL

static uint32_t gens[1];
static uint64_t invalidations;

static int be_reg(void *priv, void *addr, size_t size, uint32_t prot,
		  struct ireg_region *r)
{
	r->addr = (uintptr_t)addr;
	r->size = size;
	r->iova = 1ULL << 40;
	r->handle = 1;
	r->prot = prot;
	r->generation = gens[0];
	r->genp = &gens[0];
	return 0;
}

static int be_unreg(void *priv, const struct ireg_region *r)
{
	return 0;
}

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

static struct ireg_cache *cache;
static char *buf;

struct run {
	int index;
	double ns;
};

static void *hits(void *arg)
{
	struct run *run = arg;
	char *p = buf + run->index * PAGE;
	struct ireg_mr *mr;
	double t0 = now_ns();
	unsigned long i;

	for (i = 0; i < ITERS; i++) {
		if (ireg_cache_reg(cache, p + (i & 63), 64, &mr))
			abort();
		ireg_cache_unreg(cache, mr);
	}
	run->ns = (now_ns() - t0) / ITERS;
	return NULL;
}

static double translate(void)
{
	volatile uint64_t sink = 0;
	struct ireg_mr *mr;
	double t0;
	unsigned long i;

	if (ireg_cache_reg(cache, buf, 64 * PAGE, &mr))
		abort();
	t0 = now_ns();
	for (i = 0; i < ITERS * 10; i++)
		sink += ireg_mr_iova(mr, buf + (i & 0xffff));
	ireg_cache_unreg(cache, mr);
	return (now_ns() - t0) / (ITERS * 10);
}

int main(int argc, char **argv)
{
	struct ireg_cache_backend ops = {
		.reg = be_reg, .unreg = be_unreg,
		.invalidations = &invalidations, .notify_fd = -1,
	};
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	double single[ROUNDS], multi[ROUNDS], tr[ROUNDS];
	struct ireg_mr *mr;
	int r, t;

	buf = aligned_alloc(PAGE, 64 * PAGE);
	if (!buf || ireg_cache_create_backend(&ops, NULL, &cache))
		return 1;
	/* One registration per thread's page, all cached. */
	for (t = 0; t < 64; t++) {
		if (ireg_cache_reg(cache, buf + t * PAGE, PAGE, &mr))
			return 1;
		ireg_cache_unreg(cache, mr);
	}

	for (r = 0; r < ROUNDS; r++) {
		struct run runs[64];
		pthread_t tid[64];

		runs[0].index = 0;
		hits(&runs[0]);
		single[r] = runs[0].ns;

		for (t = 0; t < threads; t++) {
			runs[t].index = t;
			pthread_create(&tid[t], NULL, hits, &runs[t]);
		}
		multi[r] = 0;
		for (t = 0; t < threads; t++) {
			pthread_join(tid[t], NULL);
			multi[r] += runs[t].ns / threads;
		}
		tr[r] = translate();
	}
	qsort(single, ROUNDS, sizeof(double), cmp);
	qsort(multi, ROUNDS, sizeof(double), cmp);
	qsort(tr, ROUNDS, sizeof(double), cmp);
	printf("# cache_bench: ns per operation, median of %d rounds (min-max)\n",
	       ROUNDS);
	printf("cache hit (reg+unreg), 1 thread:   %6.1f  (%.1f-%.1f)\n",
	       single[ROUNDS / 2], single[0], single[ROUNDS - 1]);
	printf("cache hit (reg+unreg), %d threads:  %6.1f  (%.1f-%.1f)\n",
	       threads, multi[ROUNDS / 2], multi[0], multi[ROUNDS - 1]);
	printf("ireg_mr_iova translation:          %6.2f  (%.2f-%.2f)\n",
	       tr[ROUNDS / 2], tr[0], tr[ROUNDS - 1]);
	ireg_cache_destroy(cache);
	free(buf);
	return 0;
}
