// SPDX-License-Identifier: GPL-2.0-only
/*
 * cache_hit: the register-once cache's hit path and ireg_mr_iova(),
 * natively on the host.
 *
 * A hit never enters the kernel, so the cache runs here over an in-process
 * backend (see lib/tests/cache_test.c) and the figures are the real code
 * at real speed.  The same cache against the module, beside the system
 * calls it saves, is measured in the VM by dma_map_vs_type1 (per_io).
 *
 *	cache_hit [-n OPS | -t MS] [-r ROUNDS] [-w WARMUP] [THREADS]
 *
 * Nanoseconds per ireg_cache_reg() + ireg_cache_unreg() hit, one thread
 * and THREADS (2) at once, and per inline ireg_mr_iova(): medians of
 * ROUNDS (7) rounds of about MS (200) milliseconds after WARMUP (1)
 * untimed ones (tools/bench/bench.h).  For instruction counts under
 * callgrind (-n OPS -r 1 -w 0): hits_lone() and hits_64th() each run OPS
 * hits of their kind, translate() 10 * OPS translations.
 *
 * The cache hashes chunks and a hit scans the registrations that share
 * its chunk: "lone" is a hit on the only registration of its chunk,
 * "64th" a hit on the last of 64 one-page registrations in one chunk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "iommureg.h"
#include "internal.h"
#include "bench.h"

#define CHUNK		(2UL << 20)	/* the largest hash granule */
#define PAGE		4096UL
#define MAX_THREADS	64

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

static struct ireg_cache *cache;
static char *buf;

/* @n hits on 64 bytes of page @index of chunk 0, or of chunk 1 (-1). */
static int hits(int index, unsigned long n)
{
	char *p = index < 0 ? buf + CHUNK : buf + index * PAGE;
	struct ireg_mr *mr;
	unsigned long i;

	for (i = 0; i < n; i++) {
		if (ireg_cache_reg(cache, p + (i & 63), 64, &mr))
			return -EIO;
		ireg_cache_unreg(cache, mr);
	}
	return 0;
}

/* Each kind under its own name, for callgrind's inclusive counts. */
static __attribute__((noinline)) int hits_lone(void *arg, unsigned long n)
{
	int ret = hits(-1, n);

	__asm__ volatile("" ::: "memory");	/* no tail call: own frame */
	return ret;
}

static __attribute__((noinline)) int hits_64th(void *arg, unsigned long n)
{
	int ret = hits(0, n);

	__asm__ volatile("" ::: "memory");
	return ret;
}

/* @n translations of addresses in a 64-page registration. */
static __attribute__((noinline)) int translate(void *arg, unsigned long n)
{
	char *tbuf = buf + 2 * CHUNK;	/* chunk 2: out of the hits' way */
	volatile uint64_t sink = 0;
	struct ireg_mr *mr;
	unsigned long i;

	if (ireg_cache_reg(cache, tbuf, 64 * PAGE, &mr))
		return -EIO;
	for (i = 0; i < n; i++)
		sink += ireg_mr_iova(mr, tbuf + (i & 0xffff));
	ireg_cache_unreg(cache, mr);
	return 0;
}

/*
 * THREADS threads at once, thread t on page t of chunk 0, each timing
 * its own hits in its own CPU time: a round's figure is the mean of the
 * threads' ns per hit.
 */
static unsigned long thread_n;
static double thread_ns[MAX_THREADS];
static int thread_ret[MAX_THREADS];

static void *thread_hits(void *arg)
{
	int t = (int)(intptr_t)arg;
	double t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

	thread_ret[t] = hits(t, thread_n);
	thread_ns[t] = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / thread_n;
	return NULL;
}

static int hits_threads(int nr, unsigned long n, double *ns)
{
	pthread_t tid[MAX_THREADS];
	int t, ret = 0;

	thread_n = n;
	for (t = 0; t < nr; t++)
		pthread_create(&tid[t], NULL, thread_hits, (void *)(intptr_t)t);
	*ns = 0;
	for (t = 0; t < nr; t++) {
		pthread_join(tid[t], NULL);
		ret = ret ? ret : thread_ret[t];
		*ns += thread_ns[t] / nr;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct cache_backend ops = {
		.reg = be_reg, .unreg = be_unreg,
		.invalidations = &invalidations, .notify_fd = -1,
	};
	struct bench_opts o = {
		.round_ms = 200, .rounds = 7, .warmup = 1, .clock = clock_cpu_ns,
	};
	double v[BENCH_MAX_ROUNDS];
	struct bench_plan plan;
	struct ireg_mr *mr;
	char param[32], method[96];
	unsigned int r;
	int t, ai, threads;
	long n;

	ai = bench_getopt(argc, argv, "", NULL,
			  "[-n OPS | -t MS] [-r ROUNDS] [-w WARMUP] [THREADS]", &o);
	if (ai < 0)
		return 2;
	threads = ai < argc ? atoi(argv[ai]) : 2;
	if (threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "cache_hit: 1 <= THREADS <= %d\n", MAX_THREADS);
		return 2;
	}

	/*
	 * Three 2 MiB chunks: the cache hashes chunks and a hit scans the
	 * registrations sharing its chunk.  Chunk 0 holds 64 one-page
	 * registrations (page 0, the first, is last in its chain: the
	 * longest scan), chunk 1 a lone registration, chunk 2 translate()'s.
	 */
	buf = aligned_alloc(CHUNK, 3 * CHUNK);
	if (!buf || __ireg_cache_create_backend(&ops, NULL, &cache))
		return 1;
	if (ireg_cache_reg(cache, buf + CHUNK, PAGE, &mr))
		return 1;
	ireg_cache_unreg(cache, mr);
	for (t = 0; t < 64; t++) {
		if (ireg_cache_reg(cache, buf + t * PAGE, PAGE, &mr))
			return 1;
		ireg_cache_unreg(cache, mr);
	}

	printf("# cache_hit: ns per operation, %s\n",
	       bench_method(&o, method, sizeof(method)));
	plan = bench_plan_of(&o, o.n);
	if (bench_time(&plan, hits_lone, NULL, v) < 0)
		return 1;
	bench_row_v("cache", "1_thread", "hit_lone_in_chunk", v, o.rounds,
		    "ns");
	n = bench_time(&plan, hits_64th, NULL, v);
	if (n < 0)
		return 1;
	bench_row_v("cache", "1_thread", "hit_64th_in_chunk", v, o.rounds,
		    "ns");
	/* As many hits per thread as the 64th's rounds made. */
	for (r = 0; r < o.warmup + o.rounds; r++) {
		double *slot = &v[r < o.warmup ? 0 : r - o.warmup];

		if (hits_threads(threads, n, slot))
			return 1;
	}
	snprintf(param, sizeof(param), "%d_threads", threads);
	bench_row_v("cache", param, "hit_64th_in_chunk", v, o.rounds, "ns");
	plan.n = o.n * 10;
	if (bench_time(&plan, translate, NULL, v) < 0)
		return 1;
	bench_row_v("translate", "ireg_mr_iova", "ireg_mr_iova", v, o.rounds,
		    "ns");
	ireg_cache_destroy(cache);
	free(buf);
	return 0;
}
