// SPDX-License-Identifier: GPL-2.0-only
/*
 * cache_bench: the register-once cache's hit path, natively on the host.
 *
 * A hit never enters the kernel, so the cache runs here over an in-process
 * backend (see cache_test.c) and the figures are the real code at real
 * speed.  The same cache against the module, beside the register system
 * call, is measured in the VM by cache_vm_bench.
 *
 *	cache_bench [-c] [-n ITERS] [-r ROUNDS] [threads]
 *
 * Prints nanoseconds per ireg_cache_reg() + ireg_cache_unreg() hit and per
 * inline ireg_mr_iova(), medians of 7 rounds.  -c prints CSV rows
 * (experiment,parameter,series,median,spread_pct,unit) for make bench;
 * -n and -r shrink the run.  For instruction counts under callgrind:
 * hits_lone() and hits_64th() each run ITERS hits of their kind (the
 * threads call hits() directly), translate() 10 * ITERS translations.
 *
 * The cache hashes 2 MiB chunks and a hit scans the registrations that
 * share its chunk: "lone" is a hit on the only registration of its chunk,
 * "64th" a hit on the last of 64 one-page registrations in one chunk.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iommureg.h"
#include "../src/internal.h"

#define MAX_ROUNDS	32
#define CHUNK		(2UL << 20)	/* the cache's hash granule */

static unsigned int ROUNDS = 7;
static unsigned long ITERS = 2000000UL;
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

/* One CSV row of sorted values: median, spread in percent of it. */
static void csv_row(const char *exp, const char *param, const char *series,
		    const double *v)
{
	double med = v[ROUNDS / 2];

	printf("%s,%s,%s,%.4g,%.1f,ns\n", exp, param, series, med,
	       med > 0 ? 100 * (v[ROUNDS - 1] - v[0]) / med : 0);
}

static struct ireg_cache *cache;
static char *buf;

struct run {
	int index;
	double ns;
};

static __attribute__((noinline)) void *hits(void *arg)
{
	struct run *run = arg;
	/* index -1: the lone registration of chunk 1. */
	char *p = run->index < 0 ? buf + CHUNK : buf + run->index * PAGE;
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

/* The lone case under its own name, for callgrind's inclusive counts. */
static __attribute__((noinline)) void *hits_lone(void *arg)
{
	void *ret;

	((struct run *)arg)->index = -1;
	ret = hits(arg);

	__asm__ volatile("" ::: "memory");	/* no tail call: own frame */
	return ret;
}

static __attribute__((noinline)) void *hits_64th(void *arg)
{
	void *ret;

	((struct run *)arg)->index = 0;
	ret = hits(arg);

	__asm__ volatile("" ::: "memory");
	return ret;
}

static __attribute__((noinline)) double translate(void)
{
	volatile uint64_t sink = 0;
	struct ireg_mr *mr;
	double t0;
	unsigned long i;

	char *tbuf = buf + 2 * CHUNK;	/* chunk 2: out of the hits' way */

	if (ireg_cache_reg(cache, tbuf, 64 * PAGE, &mr))
		abort();
	t0 = now_ns();
	for (i = 0; i < ITERS * 10; i++)
		sink += ireg_mr_iova(mr, tbuf + (i & 0xffff));
	ireg_cache_unreg(cache, mr);
	return (now_ns() - t0) / (ITERS * 10);
}

int main(int argc, char **argv)
{
	struct ireg_cache_backend ops = {
		.reg = be_reg, .unreg = be_unreg,
		.invalidations = &invalidations, .notify_fd = -1,
	};
	double single[MAX_ROUNDS], multi[MAX_ROUNDS], tr[MAX_ROUNDS];
	double lone[MAX_ROUNDS];
	int r, t, opt, csv = 0, threads = 2;
	struct ireg_mr *mr;

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
			fprintf(stderr, "usage: %s [-c] [-n ITERS] [-r ROUNDS] [threads]\n",
				argv[0]);
			return 2;
		}
	}
	if (optind < argc)
		threads = atoi(argv[optind]);
	if (!ROUNDS || ROUNDS > MAX_ROUNDS || !ITERS || threads < 1 ||
	    threads > 64) {
		fprintf(stderr, "cache_bench: 1 <= ROUNDS <= %d, ITERS > 0, 1 <= threads <= 64\n",
			MAX_ROUNDS);
		return 2;
	}

	/*
	 * Three 2 MiB chunks: the cache hashes chunks and a hit scans the
	 * registrations sharing its chunk.  Chunk 0 holds 64 one-page
	 * registrations (page 0, the first, is last in its chain: the
	 * longest scan), chunk 1 a lone registration, chunk 2 translate()'s.
	 */
	buf = aligned_alloc(CHUNK, 3 * CHUNK);
	if (!buf || ireg_cache_create_backend(&ops, NULL, &cache))
		return 1;
	if (ireg_cache_reg(cache, buf + CHUNK, PAGE, &mr))
		return 1;
	ireg_cache_unreg(cache, mr);
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
		hits_64th(&runs[0]);
		single[r] = runs[0].ns;
		runs[0].index = -1;
		hits_lone(&runs[0]);
		lone[r] = runs[0].ns;

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
	qsort(lone, ROUNDS, sizeof(double), cmp);
	if (csv) {
		char th[16];

		snprintf(th, sizeof(th), "%d_threads", threads);
		csv_row("cache", "1_thread", "hit_lone_in_chunk", lone);
		csv_row("cache", "1_thread", "hit_64th_in_chunk", single);
		csv_row("cache", th, "hit_64th_in_chunk", multi);
		csv_row("translate", "ireg_mr_iova", "ireg_mr_iova", tr);
		goto out;
	}
	printf("# cache_bench: ns per operation, median of %d rounds (min-max)\n",
	       ROUNDS);
	printf("cache hit, lone in its chunk:      %6.1f  (%.1f-%.1f)\n",
	       lone[ROUNDS / 2], lone[0], lone[ROUNDS - 1]);
	printf("cache hit (reg+unreg), 1 thread:   %6.1f  (%.1f-%.1f)\n",
	       single[ROUNDS / 2], single[0], single[ROUNDS - 1]);
	printf("cache hit (reg+unreg), %d threads:  %6.1f  (%.1f-%.1f)\n",
	       threads, multi[ROUNDS / 2], multi[0], multi[ROUNDS - 1]);
	printf("ireg_mr_iova translation:          %6.2f  (%.2f-%.2f)\n",
	       tr[ROUNDS / 2], tr[0], tr[ROUNDS - 1]);
out:
	ireg_cache_destroy(cache);
	free(buf);
	return 0;
}
