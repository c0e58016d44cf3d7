// SPDX-License-Identifier: GPL-2.0-only
/*
 * ring_spsc: cost of the SPSC descriptor rings beside DPDK's rte_ring
 * (single producer, single consumer) and Concurrency Kit's ck_ring, all
 * three in the same run, natively on the host.
 *
 *	ring_spsc [-n ITEMS | -t MS] [-r RUNS] [-w WARMUP] [-c CAPACITY]
 *		  [-b BATCH] [-1 | -2]
 *
 *   1_core_single     enqueue one, dequeue one, same thread
 *   1_core_batch_B    enqueue BATCH, dequeue them, same thread
 *   2_cores_single    producer on CPU 0, consumer on CPU 1, streaming
 *   2_cores_batch_B   the same, BATCH at a time on both sides
 *   round_trip        one descriptor out on active and back on free,
 *                     both sides spinning: latency, not throughput
 *                     (ours only)
 *   round_trip eventfd  the same with both sides sleeping on eventfds
 *                     (wakeup protocol and two context switches)
 *
 * The same 16-byte descriptor, copied by value, goes through each ring:
 * ours (ireg_ring_enqueue/_batch), rte_ring created with
 * rte_ring_init(RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ) on
 * memory of rte_ring_get_memsize_elem(16, 2 x CAPACITY) (EXACT_SZ: the
 * slots are the next power of two above CAPACITY) from aligned_alloc()
 * (no EAL: rte_ring_create() would need rte_eal_init() for its memzone)
 * and driven through rte_ring_sp_enqueue_elem/_burst_elem and
 * rte_ring_sc_dequeue_elem/_burst_elem, and ck_ring through
 * CK_RING_PROTOTYPE's ck_ring_enqueue_spsc/dequeue_spsc (no batch call:
 * a batch is what a ck_ring user writes, a loop).  Every ring and handle
 * lives in heap memory aligned to a page, none on a thread's stack.  Each
 * holds CAPACITY descriptors (ck_ring holds size - 1: it gets 2 x
 * CAPACITY slots, as rte_ring does).
 *
 * Each figure is the median over RUNS (5) runs of the mean time per
 * element (per round trip for the last two), after WARMUP (1) untimed
 * runs (tools/bench/bench.h); the rounds of the three rings alternate
 * (ours, rte_ring, ck_ring, ours, ...), so that a busy moment of the
 * machine falls on all three alike.  A run is about MS (200)
 * milliseconds, or ITEMS descriptors (ITEMS / 100 round trips, ITEMS /
 * 2000 sleeping ones).  One-core figures are timed in CPU time, the
 * others on the monotonic clock.  After each group, "# ratio" lines give
 * the other rings' medians over ours (above 1: ours is faster).
 *
 * Cycles: on x86 each ns/desc row has a "ring_cycles" twin in TSC cycles,
 * ns x the TSC frequency measured at start (rdtsc against
 * CLOCK_MONOTONIC over 50 ms).  The TSC ticks at the nominal frequency:
 * a core running above it (boost) does more core cycles per TSC cycle.
 *
 * -1 runs only the one-core figures (instruction counts under callgrind,
 * -n ITEMS -r 1 -w 0, where spinning threads would crawl): the loops
 * are the functions one_single_<ring> and one_batch_<ring>.  -2 runs
 * only the two-core figures.  The two-core figures need both CPUs to
 * themselves: when the load average is above a tenth of a CPU, a comment
 * says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <ck_ring.h>
#ifdef HAVE_RTE_RING
#include <rte_ring.h>
#include <rte_ring_elem.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC	1
#endif

#include "iommureg/ring.h"
#include "../include/spin.h"
#include "bench.h"

#define MAX_BATCH	256
/* A round trip costs a hundred descriptors, a sleeping one 2000. */
#define RT_DIV		100
#define RT_SLEEP_DIV	2000
#define LINE		64

static uint64_t nr_items;
static uint32_t capacity = 512;
static unsigned int batch = 32;
static bool pinning = true;
static bool one_core_only, two_cores_only;

static void pin(unsigned int cpu)
{
	cpu_set_t set;

	if (!pinning)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "ring_spsc: cannot pin to CPU %u: %s; running unpinned\n",
			cpu, strerror(errno));
		pinning = false;
	}
}

static void unpin(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN), i;

	CPU_ZERO(&set);
	for (i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *zalloc(size_t size)
{
	void *p = aligned_alloc(4096, (size + 4095) & ~4095UL);

	if (!p) {
		fprintf(stderr, "ring_spsc: out of memory\n");
		exit(1);
	}
	memset(p, 0, size);
	return p;
}

/* Keeps the compiler from dropping the dequeued descriptors. */
static volatile uint64_t sink;

/* The compiler must assume @p's memory is read here. */
static inline void escape(const void *p)
{
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

/*
 * The three rings behind one set of calls, each inlined into the loops
 * below: X_new(), X_free(), and for the producer and consumer X_enq(),
 * X_deq() (one descriptor: true if it moved) and X_enqn(), X_deqn() (up
 * to n: how many moved).
 */

/* Ours: a channel's active ring, both endpoints' handles. */
struct ours {
	void *mem;
	struct ireg_ring_chan prod_end;
	struct ireg_ring_chan cons_end;
};

static struct ours *ours_new(void)
{
	struct ireg_ring_params params = {
		.size = sizeof(params),
		.capacity = capacity,
	};
	size_t size = ireg_ring_area_size(capacity);
	struct ours *o = zalloc(sizeof(*o));

	o->mem = zalloc(size);
	if (ireg_ring_init(o->mem, size, &params) ||
	    ireg_ring_attach(&o->prod_end, o->mem, size, IREG_RING_PRODUCER) ||
	    ireg_ring_attach(&o->cons_end, o->mem, size, IREG_RING_CONSUMER)) {
		fprintf(stderr, "ring_spsc: cannot set up a ring of %u\n",
			capacity);
		exit(1);
	}
	return o;
}

static void ours_free(struct ours *o)
{
	free(o->mem);
	free(o);
}

static inline bool ours_enq(struct ours *o, const struct ireg_ring_desc *d)
{
	return !ireg_ring_enqueue(&o->prod_end.prod, d);
}

static inline bool ours_deq(struct ours *o, struct ireg_ring_desc *d)
{
	return !ireg_ring_dequeue(&o->cons_end.cons, d);
}

static inline unsigned int ours_enqn(struct ours *o,
				     const struct ireg_ring_desc *d,
				     unsigned int n)
{
	return ireg_ring_enqueue_batch(&o->prod_end.prod, d, n);
}

static inline unsigned int ours_deqn(struct ours *o, struct ireg_ring_desc *d,
				     unsigned int n)
{
	return ireg_ring_dequeue_batch(&o->cons_end.cons, d, n);
}

#ifdef HAVE_RTE_RING
/* DPDK's rte_ring, 16-byte elements, SP/SC, in memory of our own. */
struct rte {
	struct rte_ring *r;
};

static struct rte *rte_new(void)
{
	/* EXACT_SZ: capacity usable in a ring of the next power of two. */
	ssize_t size = rte_ring_get_memsize_elem(16, 2 * capacity);
	struct rte *x = zalloc(sizeof(*x));
	int ret;

	if (size < 0) {
		fprintf(stderr, "ring_spsc: rte_ring_get_memsize_elem: %zd\n",
			size);
		exit(1);
	}
	x->r = zalloc(size);
	ret = rte_ring_init(x->r, "ring_spsc", capacity,
			    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (ret) {
		fprintf(stderr, "ring_spsc: rte_ring_init: %d\n", ret);
		exit(1);
	}
	return x;
}

static void rte_free(struct rte *x)
{
	free(x->r);
	free(x);
}

static inline bool rte_enq(struct rte *x, const struct ireg_ring_desc *d)
{
	return !rte_ring_sp_enqueue_elem(x->r, (void *)d, sizeof(*d));
}

static inline bool rte_deq(struct rte *x, struct ireg_ring_desc *d)
{
	return !rte_ring_sc_dequeue_elem(x->r, d, sizeof(*d));
}

static inline unsigned int rte_enqn(struct rte *x,
				    const struct ireg_ring_desc *d,
				    unsigned int n)
{
	return rte_ring_sp_enqueue_burst_elem(x->r, d, sizeof(*d), n, NULL);
}

static inline unsigned int rte_deqn(struct rte *x, struct ireg_ring_desc *d,
				    unsigned int n)
{
	return rte_ring_sc_dequeue_burst_elem(x->r, d, sizeof(*d), n, NULL);
}
#endif

/* Concurrency Kit's ck_ring (Debian libck-dev). */
CK_RING_PROTOTYPE(desc, ireg_ring_desc)

struct ck {
	struct ck_ring ring;
	struct ireg_ring_desc *buf;
};

static struct ck *ck_new(void)
{
	struct ck *c = zalloc(sizeof(*c));

	/* ck_ring holds size - 1 entries: give it twice the slots. */
	c->buf = zalloc(2 * capacity * sizeof(*c->buf));
	ck_ring_init(&c->ring, 2 * capacity);
	return c;
}

static void ck_free(struct ck *c)
{
	free(c->buf);
	free(c);
}

static inline bool ck_enq(struct ck *c, const struct ireg_ring_desc *d)
{
	/* Its prototype lacks the const: the descriptor is only read. */
	return ck_ring_enqueue_spsc_desc(&c->ring, c->buf,
					 (struct ireg_ring_desc *)d);
}

static inline bool ck_deq(struct ck *c, struct ireg_ring_desc *d)
{
	return ck_ring_dequeue_spsc_desc(&c->ring, c->buf, d);
}

static inline unsigned int ck_enqn(struct ck *c, const struct ireg_ring_desc *d,
				   unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!ck_ring_enqueue_spsc_desc(&c->ring, c->buf,
					       (struct ireg_ring_desc *)&d[i]))
			break;
	return i;
}

static inline unsigned int ck_deqn(struct ck *c, struct ireg_ring_desc *d,
				   unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!ck_ring_dequeue_spsc_desc(&c->ring, c->buf, &d[i]))
			break;
	return i;
}

/* Two threads: the producer is the caller, the consumer runs this. */
struct two {
	void *ring;
	unsigned int batch;		/* 0: one at a time */
	uint64_t ready;			/* threads at the start line */
};

static void start_line(struct two *t)
{
	__atomic_add_fetch(&t->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE) < 2)
		cpu_relax();
}

static double two_threads(void *ring, unsigned int b,
			  void *(*consumer)(void *),
			  void (*producer)(void *, unsigned int))
{
	struct two *t = zalloc(sizeof(*t));
	pthread_t tc;
	double t0;

	t->ring = ring;
	t->batch = b;
	pin(0);
	pthread_create(&tc, NULL, consumer, t);
	start_line(t);
	t0 = clock_now_ns();
	producer(ring, b);
	pthread_join(tc, NULL);
	t0 = clock_now_ns() - t0;
	unpin();
	free(t);
	return t0 / nr_items;
}

/*
 * The loops of one ring X: one core single and batched, and the two
 * threads' sides.  Identical for all three but for the X_ calls.
 */
#define RING_LOOPS(X)							\
static __attribute__((noinline)) double one_single_##X(void)		\
{									\
	struct ireg_ring_desc d = { 0 }, out = { 0 };			\
	struct X *x = X##_new();					\
	uint64_t i, sum = 0;						\
	double t0;							\
									\
	t0 = clock_cpu_ns();						\
	for (i = 0; i < nr_items; i++) {				\
		d.offset = i;						\
		X##_enq(x, &d);						\
		X##_deq(x, &out);					\
		sum += out.offset;					\
	}								\
	t0 = clock_cpu_ns() - t0;					\
	sink = sum;							\
	X##_free(x);							\
	return t0 / nr_items;						\
}									\
									\
static __attribute__((noinline)) double one_batch_##X(void)		\
{									\
	struct ireg_ring_desc in[MAX_BATCH] = { 0 }, out[MAX_BATCH];	\
	struct X *x = X##_new();					\
	uint64_t i, sum = 0;						\
	unsigned int n;							\
	double t0;							\
									\
	t0 = clock_cpu_ns();						\
	for (i = 0; i < nr_items; i += n) {				\
		in[0].offset = i;					\
		n = X##_enqn(x, in, batch);				\
		n = X##_deqn(x, out, n);				\
		escape(out);						\
		sum += out[n - 1].offset;				\
	}								\
	t0 = clock_cpu_ns() - t0;					\
	sink = sum;							\
	X##_free(x);							\
	return t0 / nr_items;						\
}									\
									\
static void *consumer_##X(void *arg)					\
{									\
	struct two *t = arg;						\
	struct X *x = t->ring;						\
	struct ireg_ring_desc out[MAX_BATCH];				\
	uint64_t got = 0, sum = 0;					\
	unsigned int n;							\
									\
	pin(1);								\
	start_line(t);							\
	while (got < nr_items) {					\
		if (t->batch)						\
			n = X##_deqn(x, out, t->batch);			\
		else							\
			n = X##_deq(x, out);				\
		if (!n) {						\
			cpu_relax();					\
			continue;					\
		}							\
		escape(out);						\
		sum += out[n - 1].offset;				\
		got += n;						\
	}								\
	sink = sum;							\
	return NULL;							\
}									\
									\
static void producer_##X(void *ring, unsigned int b)			\
{									\
	struct ireg_ring_desc in[MAX_BATCH] = { 0 };			\
	struct X *x = ring;						\
	uint64_t sent = 0;						\
	unsigned int n;							\
									\
	while (sent < nr_items) {					\
		in[0].offset = sent;					\
		if (b)							\
			n = X##_enqn(x, in, b);				\
		else							\
			n = X##_enq(x, in);				\
		if (!n)							\
			cpu_relax();					\
		sent += n;						\
	}								\
}									\
									\
static double two_single_##X(void)					\
{									\
	struct X *x = X##_new();					\
	double ns = two_threads(x, 0, consumer_##X, producer_##X);	\
									\
	X##_free(x);							\
	return ns;							\
}									\
									\
static double two_batch_##X(void)					\
{									\
	struct X *x = X##_new();					\
	double ns = two_threads(x, batch, consumer_##X, producer_##X);	\
									\
	X##_free(x);							\
	return ns;							\
}

RING_LOOPS(ours)
#ifdef HAVE_RTE_RING
RING_LOOPS(rte)
#endif
RING_LOOPS(ck)

/* Round trips: the consumer sends every descriptor straight back. */
struct rt {
	struct two two;		/* its start line */
	struct ours *o;
	uint64_t trips;
	int efd_prod, efd_cons;
};

static void *echo(void *arg)
{
	struct rt *t = arg;
	struct ireg_ring_chan *c = &t->o->cons_end;
	struct ireg_ring_desc d;
	bool sleep = t->efd_cons >= 0;
	uint64_t i;

	pin(1);
	start_line(&t->two);
	for (i = 0; i < t->trips; i++) {
		while (ireg_ring_dequeue(&c->cons, &d)) {
			if (sleep)
				ireg_ring_wait_avail(&c->cons, t->efd_cons);
			else
				cpu_relax();
		}
		ireg_ring_enqueue(&c->prod, &d);
		if (sleep && ireg_ring_prod_must_notify(&c->prod))
			ireg_ring_notify(t->efd_prod);
	}
	return NULL;
}

static double round_trip(bool sleep)
{
	struct rt *t = zalloc(sizeof(*t));
	struct ireg_ring_desc d = { 0 };
	struct ireg_ring_chan *p;
	uint64_t i;
	pthread_t tc;
	double t0;

	t->o = ours_new();
	t->trips = nr_items / (sleep ? RT_SLEEP_DIV : RT_DIV);
	t->efd_prod = sleep ? eventfd(0, EFD_CLOEXEC) : -1;
	t->efd_cons = sleep ? eventfd(0, EFD_CLOEXEC) : -1;
	p = &t->o->prod_end;
	pin(0);
	pthread_create(&tc, NULL, echo, t);
	start_line(&t->two);
	t0 = clock_now_ns();
	for (i = 0; i < t->trips; i++) {
		d.offset = i;
		ireg_ring_enqueue(&p->prod, &d);
		if (sleep && ireg_ring_prod_must_notify(&p->prod))
			ireg_ring_notify(t->efd_cons);
		while (ireg_ring_dequeue(&p->cons, &d)) {
			if (sleep)
				ireg_ring_wait_avail(&p->cons, t->efd_prod);
			else
				cpu_relax();
		}
	}
	pthread_join(tc, NULL);
	t0 = clock_now_ns() - t0;
	unpin();
	if (sleep) {
		close(t->efd_prod);
		close(t->efd_cons);
	}
	ours_free(t->o);
	i = t->trips;
	free(t);
	return t0 / i;
}

static double rt_spin(void)
{
	return round_trip(false);
}

static double rt_sleep(void)
{
	return round_trip(true);
}

/*
 * The figures: groups of rows sharing a parameter, whose rounds
 * alternate.  The first row of a group is ours, the baseline of its
 * ratios.  A round trip (div: a run has nr_items / div trips) is in
 * ns/trip.
 */
#define NR_SERIES	3
static const struct group {
	const char *param;
	bool batched, one_core;
	unsigned int div;
	struct series {
		const char *name;
		double (*fn)(void);	/* a run: ns per element */
	} s[NR_SERIES];
} groups[] = {
#ifdef HAVE_RTE_RING
#define RTE(fn)	{ "rte_ring", fn }
#else
#define RTE(fn)	{ NULL, NULL }
#endif
	{ "1_core_single", false, true, 0, { { "ireg_ring", one_single_ours },
	  RTE(one_single_rte), { "ck_ring", one_single_ck } } },
	{ "1_core_batch", true, true, 0, { { "ireg_ring", one_batch_ours },
	  RTE(one_batch_rte), { "ck_ring", one_batch_ck } } },
	{ "2_cores_single", false, false, 0, { { "ireg_ring", two_single_ours },
	  RTE(two_single_rte), { "ck_ring", two_single_ck } } },
	{ "2_cores_batch", true, false, 0, { { "ireg_ring", two_batch_ours },
	  RTE(two_batch_rte), { "ck_ring", two_batch_ck } } },
	{ "round_trip", false, false, RT_DIV, { { "spinning", rt_spin } } },
	{ "round_trip", false, false, RT_SLEEP_DIV,
	  { { "eventfd", rt_sleep } } },
#undef RTE
};

#define NR_GROUPS	(sizeof(groups) / sizeof(groups[0]))

/* nr_items for runs of about @round_ns, by doubling a trial run. */
static uint64_t size_runs(double (*fn)(void), unsigned int div,
			  double round_ns)
{
	double ns;

	div = div ? div : 1;
	for (nr_items = 1024 * div;; nr_items *= 2) {
		ns = fn() * (nr_items / div);
		if (ns >= round_ns / 8 || nr_items >= 1ULL << 36)
			break;
	}
	ns = nr_items * round_ns / ns;
	return ns < 100 * div ? 100 * div : (uint64_t)ns;
}

/* TSC ticks per ns, 0 where there is no TSC. */
static double tsc_per_ns(void)
{
#ifdef HAVE_TSC
	double t0 = clock_now_ns(), t1;
	uint64_t c0 = __rdtsc();

	do
		t1 = clock_now_ns();
	while (t1 - t0 < 50e6);
	return (__rdtsc() - c0) / (t1 - t0);
#else
	return 0;
#endif
}

/* The two-core figures are wall time with both threads spinning. */
static void say_load(void)
{
	double load;
	FILE *f = fopen("/proc/loadavg", "r");

	if (!f)
		return;
	if (fscanf(f, "%lf", &load) == 1 && load > 0.1)
		printf("# ring_spsc: load average %.2f: other jobs share the CPUs, the two-core figures measure them too\n",
		       load);
	fclose(f);
}

static int ring_opt(int opt, const char *arg)
{
	if (opt == 'c')
		capacity = strtoul(arg, NULL, 0);
	else if (opt == 'b')
		batch = strtoul(arg, NULL, 0);
	else if (opt == '1')
		one_core_only = true;
	else if (opt == '2')
		two_cores_only = true;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .round_ms = 200, .rounds = 5, .warmup = 1 };
	double v[NR_SERIES][BENCH_MAX_ROUNDS], med[NR_SERIES], ghz;
	uint64_t items[NR_SERIES];
	char method[96], param[64];
	unsigned int g, s, r;

	if (bench_getopt(argc, argv, "c:b:12", ring_opt,
			 "[-n ITEMS | -t MS] [-r RUNS] [-w WARMUP] [-c CAPACITY] [-b BATCH] [-1 | -2]",
			 &o) < 0)
		return 2;
	if (!batch || batch > MAX_BATCH || batch > capacity ||
	    !ireg_ring_area_size(capacity) || (o.n && o.n < 100)) {
		fprintf(stderr, "ring_spsc: 1 <= BATCH <= min(%u, CAPACITY), CAPACITY a power of two, ITEMS >= 100\n",
			MAX_BATCH);
		return 2;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		pinning = false;

	ghz = tsc_per_ns();
	printf("# ring_spsc: %s, capacity %u, batch %u%s\n",
	       bench_method(&o, method, sizeof(method)), capacity, batch,
	       pinning ? "" : ", unpinned (fewer than 2 CPUs)");
#ifndef HAVE_RTE_RING
	printf("# ring_spsc: built without DPDK (libdpdk-dev, tools/testing/install-deps): no rte_ring rows\n");
#endif
	if (!one_core_only)
		say_load();
	if (ghz)
		printf("# ring_spsc: TSC %.3f GHz (against CLOCK_MONOTONIC); ring_cycles rows are ns x that\n",
		       ghz);
	for (g = 0; g < NR_GROUPS; g++) {
		const struct group *gr = &groups[g];

		if (one_core_only && !gr->one_core)
			break;
		if (two_cores_only && (gr->one_core || gr->div))
			continue;
		if (gr->batched)
			snprintf(param, sizeof(param), "%s_%u", gr->param,
				 batch);
		else
			snprintf(param, sizeof(param), "%s", gr->param);
		for (s = 0; s < NR_SERIES; s++) {
			if (!gr->s[s].fn)
				continue;
			items[s] = o.n ? o.n : size_runs(gr->s[s].fn, gr->div,
							 o.round_ms * 1e6);
			nr_items = items[s];
			for (r = 0; r < o.warmup; r++)
				gr->s[s].fn();
		}
		for (r = 0; r < o.rounds; r++)
			for (s = 0; s < NR_SERIES; s++) {
				if (!gr->s[s].fn)
					continue;
				nr_items = items[s];
				v[s][r] = gr->s[s].fn();
			}
		for (s = 0; s < NR_SERIES; s++) {
			if (!gr->s[s].fn)
				continue;
			med[s] = bench_row_v("ring", param, gr->s[s].name,
					     v[s], o.rounds,
					     gr->div ? "ns/trip" : "ns/desc");
			if (ghz && !gr->div) {
				for (r = 0; r < o.rounds; r++)
					v[s][r] *= ghz;
				bench_row_v("ring_cycles", param,
					    gr->s[s].name, v[s], o.rounds,
					    "tsc_cycles/desc");
			}
		}
		for (s = 1; s < NR_SERIES; s++)
			if (gr->s[s].fn)
				printf("# ratio %s: %s / ireg_ring = %.2f (above 1: ireg_ring faster)\n",
				       param, gr->s[s].name, med[s] / med[0]);
	}
	return 0;
}
