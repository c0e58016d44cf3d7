// SPDX-License-Identifier: GPL-2.0-only
/*
 * pool_mempool: the buffer pool beside DPDK's rte_mempool, natively on the
 * host, in one run, on the same two EAL lcores.
 *
 *	pool_mempool [-n OPS | -t MS] [-r ROUNDS] [-w WARMUP] [-c CACHE]
 *		     [-p PATTERN]
 *
 * Four allocators: an IREG_POOL_MT buffer pool with per-thread caches of
 * CACHE (256) buffers and without, and a real rte_mempool (the default
 * ring_mp_mc ops) with a per-lcore cache of CACHE and without.  Each
 * holds 16383 buffers of 2 KiB that nobody touches: what is measured is
 * the allocator.  Six patterns:
 *
 *   1_thread,single      get one, put it back
 *   1_thread,bulk32      get 32 in one call, put them back in one
 *   2_threads,single     both lcores at once, each get/put as above
 *   2_threads,bulk32     the same, 32 at a time
 *   prod_cons,single     lcore 0 gets and passes each buffer through an
 *                        SPSC ring to lcore 1, which puts it (a NIC's rx
 *                        and tx); ring included, the same for all
 *   prod_cons,bulk32     the same, 32 at a time
 *
 * Figures are ns per buffer (one get and one put); for two threads the
 * wall time of a round over the buffers each thread handled.  Rounds of
 * all allocators of a pattern are interleaved (round r of each, then
 * round r + 1), so that a noisy stretch of a shared machine hits them
 * alike; each figure is the median of its ROUNDS (7) rounds of about MS
 * (200) ms after WARMUP (1) untimed, with its spread (bench.h), and a
 * ratio line sets ours against rte_mempool's.  One-thread rows are timed
 * in CPU time, the others on the monotonic clock.  -p runs only the
 * patterns whose name (e.g. prod_cons_bulk32) contains PATTERN.
 *
 * The EAL runs without hugepages, PCI or shared config (--no-huge
 * --no-pci --no-shconf --no-telemetry -l 0-1): rte_mempool_create() gets
 * its memzone from plain memory, and lcore 1 is the EAL's worker thread,
 * so rte_mempool's per-lcore cache works on both.  No root-only resource
 * is needed: it runs as any user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_version.h>

#include "iommureg.h"
#include "../include/spin.h"
#include "bench.h"

#define NR_BUFS		16383
#define BUF_SIZE	2048
#define BULK		32
#define RING_SLOTS	1024
#define MIN_OPS		(1UL << 16)	/* buffers a round, at least */
#define NOINLINE	__attribute__((noinline))
#define INLINE		static inline __attribute__((always_inline))

enum impl { IREG_CACHE, IREG_NOCACHE, RTE_CACHE, RTE_NOCACHE, NR_IMPL };

static const char *const impl_name[NR_IMPL] = {
	"ireg_pool_cache", "ireg_pool_nocache",
	"rte_mempool_cache", "rte_mempool_nocache",
};

static struct ireg_pool *ipool[2];
static struct rte_mempool *mpool[2];
static void *volatile sink;

/* The allocators, inlined into each loop by a constant @impl. */
INLINE void *get1(enum impl impl)
{
	void *b = NULL;

	if (impl <= IREG_NOCACHE)
		return ireg_pool_buf_alloc(ipool[impl - IREG_CACHE]);
	if (rte_mempool_get(mpool[impl - RTE_CACHE], &b))
		return NULL;
	return b;
}

INLINE void put1(enum impl impl, void *b)
{
	if (impl <= IREG_NOCACHE)
		ireg_pool_buf_free(ipool[impl - IREG_CACHE], b);
	else
		rte_mempool_put(mpool[impl - RTE_CACHE], b);
}

INLINE int getn(enum impl impl, void **b, unsigned int n)
{
	if (impl <= IREG_NOCACHE)
		return ireg_pool_alloc_bulk(ipool[impl - IREG_CACHE], b, n);
	return rte_mempool_get_bulk(mpool[impl - RTE_CACHE], b, n);
}

INLINE void putn(enum impl impl, void **b, unsigned int n)
{
	if (impl <= IREG_NOCACHE)
		ireg_pool_free_bulk(ipool[impl - IREG_CACHE], b, n);
	else
		rte_mempool_put_bulk(mpool[impl - RTE_CACHE], b, n);
}

/* An SPSC ring of pointers between the two lcores (prod_cons). */
static struct spsc {
	void *slot[RING_SLOTS];
	unsigned long head __attribute__((aligned(64)));
	unsigned long tail __attribute__((aligned(64)));
} ring;

INLINE void ring_put(void **b, unsigned int n)
{
	unsigned long h = ring.head;
	unsigned int i, spins = 0;

	while (h + n - __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE) >
	       RING_SLOTS)
		spin_backoff(&spins);
	for (i = 0; i < n; i++)
		ring.slot[(h + i) % RING_SLOTS] = b[i];
	__atomic_store_n(&ring.head, h + n, __ATOMIC_RELEASE);
}

INLINE void ring_get(void **b, unsigned int n)
{
	unsigned long t = ring.tail;
	unsigned int i, spins = 0;

	while (__atomic_load_n(&ring.head, __ATOMIC_ACQUIRE) - t < n)
		spin_backoff(&spins);
	for (i = 0; i < n; i++)
		b[i] = ring.slot[(t + i) % RING_SLOTS];
	__atomic_store_n(&ring.tail, t + n, __ATOMIC_RELEASE);
}

/* What each lcore does in a round: @n buffers' worth. */
enum role { SINGLE, BULK32, PRODUCE1, CONSUME1, PRODUCE32, CONSUME32 };

INLINE int work(enum impl impl, enum role role, unsigned long n)
{
	void *b[BULK];
	unsigned long i;
	unsigned int spins;

	switch (role) {
	case SINGLE:
		for (i = 0; i < n; i++) {
			b[0] = get1(impl);
			if (!b[0])
				return -ENOMEM;
			sink = b[0];
			put1(impl, b[0]);
		}
		break;
	case BULK32:
		for (i = 0; i < n; i += BULK) {
			if (getn(impl, b, BULK))
				return -ENOMEM;
			sink = b[0];
			putn(impl, b, BULK);
		}
		break;
	case PRODUCE1:
		for (i = 0; i < n; i++) {
			spins = 0;
			while (!(b[0] = get1(impl)))
				spin_backoff(&spins);
			ring_put(b, 1);
		}
		break;
	case CONSUME1:
		for (i = 0; i < n; i++) {
			ring_get(b, 1);
			put1(impl, b[0]);
		}
		break;
	case PRODUCE32:
		for (i = 0; i < n; i += BULK) {
			spins = 0;
			while (getn(impl, b, BULK))
				spin_backoff(&spins);
			ring_put(b, BULK);
		}
		break;
	case CONSUME32:
		for (i = 0; i < n; i += BULK) {
			ring_get(b, BULK);
			putn(impl, b, BULK);
		}
		break;
	}
	return 0;
}

/* One function per allocator, so that each inlines its own. */
#define WORK_FN(impl)							\
static NOINLINE int work_##impl(enum role role, unsigned long n)	\
{									\
	switch (role) {							\
	case SINGLE: return work(impl, SINGLE, n);			\
	case BULK32: return work(impl, BULK32, n);			\
	case PRODUCE1: return work(impl, PRODUCE1, n);			\
	case CONSUME1: return work(impl, CONSUME1, n);			\
	case PRODUCE32: return work(impl, PRODUCE32, n);		\
	case CONSUME32: return work(impl, CONSUME32, n);		\
	}								\
	return -EINVAL;							\
}
WORK_FN(IREG_CACHE)
WORK_FN(IREG_NOCACHE)
WORK_FN(RTE_CACHE)
WORK_FN(RTE_NOCACHE)

static int (*const work_fn[NR_IMPL])(enum role, unsigned long) = {
	work_IREG_CACHE, work_IREG_NOCACHE, work_RTE_CACHE, work_RTE_NOCACHE,
};

/* The patterns: the roles of lcore 0 and lcore 1 (or none). */
static const struct pattern {
	const char *param, *shape;
	enum role main, worker;
	bool two;
} patterns[] = {
	{ "1_thread", "single", SINGLE, SINGLE, false },
	{ "1_thread", "bulk32", BULK32, BULK32, false },
	{ "2_threads", "single", SINGLE, SINGLE, true },
	{ "2_threads", "bulk32", BULK32, BULK32, true },
	{ "prod_cons", "single", PRODUCE1, CONSUME1, true },
	{ "prod_cons", "bulk32", PRODUCE32, CONSUME32, true },
};

#define NR_PATTERNS	(sizeof(patterns) / sizeof(patterns[0]))

struct job {
	enum impl impl;
	enum role role;
	unsigned long n;
	int ret;
};

static int worker_main(void *arg)
{
	struct job *j = arg;

	j->ret = work_fn[j->impl](j->role, j->n);
	return 0;
}

/* bench_loop_fn: one round of a pattern on an allocator. */
struct run {
	const struct pattern *pat;
	enum impl impl;
};

static int run_round(void *arg, unsigned long n)
{
	struct run *r = arg;
	struct job wj = { .impl = r->impl, .role = r->pat->worker, .n = n };
	int ret;

	n = (n + BULK - 1) / BULK * BULK;
	wj.n = n;
	if (r->pat->two &&
	    rte_eal_remote_launch(worker_main, &wj, rte_get_next_lcore(-1, 1, 0)))
		return -EBUSY;
	ret = work_fn[r->impl](r->pat->main, n);
	if (r->pat->two) {
		rte_eal_mp_wait_lcore();
		if (!ret)
			ret = wj.ret;
	}
	return ret;
}

static unsigned int cache_size = 256;
static const char *only;

static int own_opt(int opt, const char *arg)
{
	if (opt == 'p') {
		only = arg;
		return 0;
	}
	if (opt != 'c')
		return -1;
	cache_size = strtoul(arg, NULL, 0);
	return cache_size > RTE_MEMPOOL_CACHE_MAX_SIZE ||
	       cache_size > IREG_POOL_CACHE_MAX;
}

static int setup(void)
{
	static char *eal_argv[] = {
		"pool_mempool", "--no-huge", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0-1", "-m", "256",
		"--log-level=error", NULL,
	};
	unsigned int i;
	void *mem;
	int ret;

	if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]) - 1,
			 eal_argv) < 0) {
		fprintf(stderr, "pool_mempool: rte_eal_init: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "pool_mempool: need 2 lcores\n");
		return -1;
	}
	for (i = 0; i < 2; i++) {
		struct ireg_pool_params p = {
			.size = sizeof(p), .buf_size = BUF_SIZE,
			.nr_bufs = NR_BUFS, .flags = IREG_POOL_MT,
			.cache_size = i ? 0 : cache_size,
		};

		mem = aligned_alloc(2 << 20, (size_t)NR_BUFS * BUF_SIZE);
		ret = mem ? ireg_pool_create_mem(mem, (size_t)NR_BUFS *
						 BUF_SIZE, 1ULL << 32, &p,
						 &ipool[i]) : -ENOMEM;
		if (ret) {
			fprintf(stderr, "pool_mempool: ireg pool: %s\n",
				strerror(-ret));
			return -1;
		}
		mpool[i] = rte_mempool_create(i ? "nocache" : "cache", NR_BUFS,
					      BUF_SIZE, i ? 0 : cache_size, 0,
					      NULL, NULL, NULL, NULL,
					      SOCKET_ID_ANY, 0);
		if (!mpool[i]) {
			fprintf(stderr, "pool_mempool: rte_mempool_create: %s\n",
				rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.round_ms = 200, .rounds = 7, .warmup = 1,
	};
	double v[NR_IMPL][BENCH_MAX_ROUNDS], med[NR_IMPL];
	struct run runs[NR_IMPL];
	struct bench_plan plan;
	long ops[NR_IMPL];
	unsigned int p, i, r;
	char method[96], what[64];
	int ret;

	if (bench_getopt(argc, argv, "c:p:", own_opt,
			 "[-n OPS | -t MS] [-r ROUNDS] [-w WARMUP] [-c CACHE] [-p PATTERN]",
			 &o) < 0)
		return 2;
	if (setup())
		return 1;
	printf("# pool_mempool: ns per buffer (get + put), ireg pool beside DPDK %s rte_mempool (%s ops), caches of %u, %u buffers of %u B, %s\n",
	       rte_version(), rte_mempool_get_ops(mpool[1]->ops_index)->name,
	       cache_size, NR_BUFS, BUF_SIZE,
	       bench_method(&o, method, sizeof(method)));
	for (p = 0; p < NR_PATTERNS; p++) {
		const struct pattern *pat = &patterns[p];

		snprintf(what, sizeof(what), "%s_%s", pat->param, pat->shape);
		if (only && !strstr(what, only))
			continue;
		for (i = 0; i < NR_IMPL; i++) {
			runs[i] = (struct run){ .pat = pat, .impl = i };
			plan = bench_plan_of(&o, o.n);
			plan.clock = pat->two ? clock_now_ns : clock_cpu_ns;
			/*
			 * Warm first (caches, magazines, the worker's first
			 * wake-up), and never fewer than MIN_OPS a round: a
			 * trial that met a slow wake-up of the worker would
			 * size the rounds to a few buffers, and time the
			 * launch instead of the allocator.
			 */
			ret = run_round(&runs[i], MIN_OPS);
			if (ret)
				goto fail;
			ops[i] = bench_size(&plan, run_round, &runs[i]);
			if (ops[i] < 0)
				goto fail;
			if (!o.n && ops[i] < MIN_OPS)
				ops[i] = MIN_OPS;
			ops[i] = (ops[i] + BULK - 1) / BULK * BULK;
			for (r = 0; r < o.warmup; r++) {
				ret = run_round(&runs[i], ops[i]);
				if (ret)
					goto fail;
			}
		}
		/* Interleaved: round r of every allocator, then r + 1. */
		for (r = 0; r < o.rounds; r++) {
			for (i = 0; i < NR_IMPL; i++) {
				ret = bench_round(&plan, run_round, &runs[i],
						  ops[i], &v[i][r]);
				if (ret)
					goto fail;
			}
		}
		for (i = 0; i < NR_IMPL; i++) {
			med[i] = bench_row_v("mempool", what, impl_name[i], v[i],
					     o.rounds, "ns");
		}
		printf("# %s %s: rte_mempool/ireg_pool %.2fx with caches, %.2fx without\n",
		       pat->param, pat->shape, med[RTE_CACHE] / med[IREG_CACHE],
		       med[RTE_NOCACHE] / med[IREG_NOCACHE]);
	}
	for (i = 0; i < 2; i++) {
		rte_mempool_free(mpool[i]);
		ireg_pool_destroy(ipool[i]);
	}
	rte_eal_cleanup();
	return 0;
fail:
	fprintf(stderr, "pool_mempool: %s %s on %s failed\n",
		patterns[p].param, patterns[p].shape, impl_name[i]);
	return 1;
}
