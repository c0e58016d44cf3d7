// SPDX-License-Identifier: GPL-2.0-only
/*
 * ring_spsc: cost of the SPSC descriptor rings, beside Concurrency Kit's
 * ck_ring, natively on the host.
 *
 *	ring_spsc [-n ITEMS | -t MS] [-r RUNS] [-w WARMUP] [-c CAPACITY]
 *		  [-b BATCH] [-1]
 *
 *   one core, single     enqueue one, dequeue one, same thread
 *   one core, batched    enqueue BATCH, dequeue BATCH, same thread
 *   two cores, single    producer on CPU 0, consumer on CPU 1, streaming
 *   two cores, batched   the same, BATCH at a time on both sides
 *   round trip           one descriptor out on active and back on free,
 *                        both sides spinning: latency, not throughput
 *   eventfd round trip   the same with both sides sleeping on eventfds
 *                        (wakeup protocol and two context switches)
 *
 * Each figure is the median over RUNS (5) runs of the mean time per
 * element (per round trip for the last two), after WARMUP (1) untimed
 * runs (tools/bench/bench.h).  A run is about MS (200) milliseconds, or
 * ITEMS descriptors (ITEMS / 100 round trips, ITEMS / 2000 sleeping
 * ones).  One-core figures are timed in CPU time, the others on the
 * monotonic clock.  -1 runs only the one-core figures (instruction counts
 * under callgrind, -n ITEMS -r 1 -w 0, where spinning threads would
 * crawl).
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

#include "iommureg/ring.h"
#include "../include/spin.h"
#include "bench.h"

#define MAX_BATCH	256
/* A round trip costs a hundred descriptors, a sleeping one 2000. */
#define RT_DIV		100
#define RT_SLEEP_DIV	2000

static uint64_t nr_items;
static uint32_t capacity = 512;
static unsigned int batch = 32;
static bool pinning = true;
static bool one_core_only;

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

struct bench_chan {
	void *mem;
	struct ireg_ring_chan prod_end;
	struct ireg_ring_chan cons_end;
};

static void chan_new(struct bench_chan *b)
{
	struct ireg_ring_params params = { .capacity = capacity };
	size_t size = ireg_ring_area_size(capacity);

	b->mem = aligned_alloc(4096, (size + 4095) & ~4095UL);
	if (!b->mem || ireg_ring_init(b->mem, size, &params) ||
	    ireg_ring_attach(&b->prod_end, b->mem, size, IREG_RING_PRODUCER) ||
	    ireg_ring_attach(&b->cons_end, b->mem, size, IREG_RING_CONSUMER)) {
		fprintf(stderr, "ring_spsc: cannot set up a ring of %u\n",
			capacity);
		exit(1);
	}
}

static void chan_free(struct bench_chan *b)
{
	free(b->mem);
}

/* Keeps the compiler from dropping the dequeued descriptors. */
static volatile uint64_t sink;

static __attribute__((noinline)) double one_core_single(void)
{
	struct ireg_ring_desc d = { 0 }, out = { 0 };
	struct bench_chan b;
	uint64_t i, sum = 0;
	double t0;

	chan_new(&b);
	t0 = clock_cpu_ns();
	for (i = 0; i < nr_items; i++) {
		d.offset = i;
		ireg_ring_enqueue(&b.prod_end.prod, &d);
		ireg_ring_dequeue(&b.cons_end.cons, &out);
		sum += out.offset;
	}
	t0 = clock_cpu_ns() - t0;
	sink = sum;
	chan_free(&b);
	return t0 / nr_items;
}

static __attribute__((noinline)) double one_core_batched(void)
{
	struct ireg_ring_desc in[MAX_BATCH] = { 0 }, out[MAX_BATCH];
	struct bench_chan b;
	uint64_t i, sum = 0;
	double t0;
	unsigned int j, n;

	chan_new(&b);
	t0 = clock_cpu_ns();
	for (i = 0; i < nr_items; i += n) {
		for (j = 0; j < batch; j++)
			in[j].offset = i + j;
		n = ireg_ring_enqueue_batch(&b.prod_end.prod, in, batch);
		n = ireg_ring_dequeue_batch(&b.cons_end.cons, out, n);
		for (j = 0; j < n; j++)
			sum += out[j].offset;
	}
	t0 = clock_cpu_ns() - t0;
	sink = sum;
	chan_free(&b);
	return t0 / nr_items;
}

struct two {
	struct bench_chan b;
	unsigned int batch;		/* 0: one at a time */
	uint64_t ready;			/* threads at the start line */
	uint64_t trips;
	int efd_prod, efd_cons;
};

static void start_line(struct two *t)
{
	__atomic_add_fetch(&t->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE) < 2)
		cpu_relax();
}

static void *two_consumer(void *arg)
{
	struct two *t = arg;
	struct ireg_ring_desc out[MAX_BATCH];
	uint64_t got = 0, sum = 0;
	unsigned int n;

	pin(1);
	start_line(t);
	while (got < nr_items) {
		if (t->batch) {
			n = ireg_ring_dequeue_batch(&t->b.cons_end.cons, out,
						    t->batch);
		} else {
			n = !ireg_ring_dequeue(&t->b.cons_end.cons, out);
		}
		if (!n) {
			cpu_relax();
			continue;
		}
		sum += out[n - 1].offset;
		got += n;
	}
	sink = sum;
	return NULL;
}

static double two_cores(unsigned int b)
{
	struct ireg_ring_desc in[MAX_BATCH] = { 0 };
	struct two t = { .batch = b };
	uint64_t sent = 0;
	double t0;
	pthread_t tc;
	unsigned int n, j;

	chan_new(&t.b);
	pin(0);
	pthread_create(&tc, NULL, two_consumer, &t);
	start_line(&t);
	t0 = clock_now_ns();
	while (sent < nr_items) {
		if (b) {
			for (j = 0; j < b; j++)
				in[j].offset = sent + j;
			n = ireg_ring_enqueue_batch(&t.b.prod_end.prod, in, b);
		} else {
			in[0].offset = sent;
			n = !ireg_ring_enqueue(&t.b.prod_end.prod, in);
		}
		if (!n)
			cpu_relax();
		sent += n;
	}
	pthread_join(tc, NULL);
	t0 = clock_now_ns() - t0;
	unpin();
	chan_free(&t.b);
	return t0 / nr_items;
}

/*
 * Concurrency Kit's ck_ring (Debian libck-dev), the baseline: SPSC, the
 * same 16-byte descriptor copied by value through CK_RING_PROTOTYPE.  It
 * has no batch call: a batch is what a ck_ring user writes, a loop.
 */
CK_RING_PROTOTYPE(desc, ireg_ring_desc)

struct ck {
	struct ck_ring ring;
	struct ireg_ring_desc *buf;
	uint64_t ready;
	unsigned int batch;
};

static void ck_new(struct ck *c, unsigned int b)
{
	memset(c, 0, sizeof(*c));
	/* ck_ring holds capacity - 1 entries: give it one more slot. */
	c->buf = aligned_alloc(64, 2 * capacity * sizeof(*c->buf));
	if (!c->buf)
		exit(1);
	ck_ring_init(&c->ring, 2 * capacity);
	c->batch = b;
}

static __attribute__((noinline)) double ck_one_core(void)
{
	struct ireg_ring_desc d = { 0 }, out = { 0 };
	uint64_t i, sum = 0;
	double t0;
	struct ck c;

	ck_new(&c, 0);
	t0 = clock_cpu_ns();
	for (i = 0; i < nr_items; i++) {
		d.offset = i;
		ck_ring_enqueue_spsc_desc(&c.ring, c.buf, &d);
		ck_ring_dequeue_spsc_desc(&c.ring, c.buf, &out);
		sum += out.offset;
	}
	t0 = clock_cpu_ns() - t0;
	sink = sum;
	free(c.buf);
	return t0 / nr_items;
}

static void *ck_consumer(void *arg)
{
	struct ck *c = arg;
	struct ireg_ring_desc out;
	uint64_t got = 0, sum = 0;

	pin(1);
	__atomic_add_fetch(&c->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE) < 2)
		cpu_relax();
	while (got < nr_items) {
		if (!ck_ring_dequeue_spsc_desc(&c->ring, c->buf, &out)) {
			cpu_relax();
			continue;
		}
		sum += out.offset;
		got++;
	}
	sink = sum;
	return NULL;
}

static double ck_two_cores(unsigned int b)
{
	struct ireg_ring_desc d = { 0 };
	uint64_t sent = 0;
	double t0;
	pthread_t tc;
	unsigned int j;
	struct ck c;

	ck_new(&c, b);
	pin(0);
	pthread_create(&tc, NULL, ck_consumer, &c);
	__atomic_add_fetch(&c.ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&c.ready, __ATOMIC_ACQUIRE) < 2)
		cpu_relax();
	t0 = clock_now_ns();
	while (sent < nr_items) {
		unsigned int n = b ? b : 1;

		for (j = 0; j < n && sent < nr_items; j++) {
			d.offset = sent;
			if (!ck_ring_enqueue_spsc_desc(&c.ring, c.buf, &d))
				break;
			sent++;
		}
		if (!j)
			cpu_relax();
	}
	pthread_join(tc, NULL);
	t0 = clock_now_ns() - t0;
	unpin();
	free(c.buf);
	return t0 / nr_items;
}

static double ck_two_single(void)
{
	return ck_two_cores(0);
}

static double ck_two_batched(void)
{
	return ck_two_cores(batch);
}

/* Round trips: the consumer sends every descriptor straight back. */
static void *echo(void *arg)
{
	struct two *t = arg;
	struct ireg_ring_desc d;
	bool sleep = t->efd_cons >= 0;
	uint64_t i;

	pin(1);
	start_line(t);
	for (i = 0; i < t->trips; i++) {
		while (ireg_ring_dequeue(&t->b.cons_end.cons, &d)) {
			if (sleep)
				ireg_ring_wait_avail(&t->b.cons_end.cons,
						     t->efd_cons);
			else
				cpu_relax();
		}
		ireg_ring_enqueue(&t->b.cons_end.prod, &d);
		if (sleep && ireg_ring_prod_must_notify(&t->b.cons_end.prod))
			ireg_ring_notify(t->efd_prod);
	}
	return NULL;
}

static double round_trip(bool sleep)
{
	uint64_t i, trips = nr_items / (sleep ? RT_SLEEP_DIV : RT_DIV);
	double t0;
	struct two t = { .efd_prod = -1, .efd_cons = -1, .trips = trips };
	struct ireg_ring_desc d = { 0 };
	pthread_t tc;

	chan_new(&t.b);
	if (sleep) {
		t.efd_prod = eventfd(0, EFD_CLOEXEC);
		t.efd_cons = eventfd(0, EFD_CLOEXEC);
	}
	pin(0);
	pthread_create(&tc, NULL, echo, &t);
	start_line(&t);
	t0 = clock_now_ns();
	for (i = 0; i < trips; i++) {
		d.offset = i;
		ireg_ring_enqueue(&t.b.prod_end.prod, &d);
		if (sleep && ireg_ring_prod_must_notify(&t.b.prod_end.prod))
			ireg_ring_notify(t.efd_cons);
		while (ireg_ring_dequeue(&t.b.prod_end.cons, &d)) {
			if (sleep)
				ireg_ring_wait_avail(&t.b.prod_end.cons,
						     t.efd_prod);
			else
				cpu_relax();
		}
	}
	pthread_join(tc, NULL);
	t0 = clock_now_ns() - t0;
	unpin();
	if (sleep) {
		close(t.efd_prod);
		close(t.efd_cons);
	}
	chan_free(&t.b);
	return t0 / trips;
}

static double two_single(void)
{
	return two_cores(0);
}

static double two_batched(void)
{
	return two_cores(batch);
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
 * The figures, in this order: "ring,PARAM[_BATCH],SERIES".  A "1_core"
 * figure runs under -1; a "batch" one is for BATCH at a time; a round
 * trip (div: a run has nr_items / div trips) is in ns/trip.
 */
enum { OURS_1, CK_1, OURS_1B, OURS_2, CK_2, OURS_2B, CK_2B, RT };
static const struct figure {
	const char *param, *series;
	double (*fn)(void);	/* a run: ns per element */
	unsigned int div;
} figures[] = {
	[OURS_1] = { "1_core_single", "ireg_ring", one_core_single },
	[CK_1] = { "1_core_single", "ck_ring", ck_one_core },
	[OURS_1B] = { "1_core_batch", "ireg_ring", one_core_batched },
	[OURS_2] = { "2_cores_single", "ireg_ring", two_single },
	[CK_2] = { "2_cores_single", "ck_ring", ck_two_single },
	[OURS_2B] = { "2_cores_batch", "ireg_ring", two_batched },
	[CK_2B] = { "2_cores_batch", "ck_ring", ck_two_batched },
	[RT] = { "round_trip", "spinning", rt_spin, RT_DIV },
	{ "round_trip", "eventfd", rt_sleep, RT_SLEEP_DIV },
};

#define NR_FIGURES	(sizeof(figures) / sizeof(figures[0]))

/* nr_items for runs of about @round_ns, by doubling a trial run. */
static uint64_t size_runs(const struct figure *fig, double round_ns)
{
	unsigned int div = fig->div ? fig->div : 1;
	double ns;

	for (nr_items = 1024 * div;; nr_items *= 2) {
		ns = fig->fn() * (nr_items / div);
		if (ns >= round_ns / 8 || nr_items >= 1ULL << 36)
			break;
	}
	ns = nr_items * round_ns / ns;
	return ns < 100 * div ? 100 * div : (uint64_t)ns;
}

static int ring_opt(int opt, const char *arg)
{
	if (opt == 'c')
		capacity = strtoul(arg, NULL, 0);
	else if (opt == 'b')
		batch = strtoul(arg, NULL, 0);
	else if (opt == '1')
		one_core_only = true;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .round_ms = 200, .rounds = 5, .warmup = 1 };
	double v[BENCH_MAX_ROUNDS], med[NR_FIGURES];
	char method[96];
	unsigned int f, r;

	if (bench_getopt(argc, argv, "c:b:1", ring_opt,
			 "[-n ITEMS | -t MS] [-r RUNS] [-w WARMUP] [-c CAPACITY] [-b BATCH] [-1]",
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

	printf("# ring_spsc: %s, capacity %u, batch %u%s\n",
	       bench_method(&o, method, sizeof(method)), capacity, batch,
	       pinning ? "" : ", unpinned (fewer than 2 CPUs)");
	for (f = 0; f < NR_FIGURES; f++) {
		const struct figure *fig = &figures[f];
		char param[64];

		if (one_core_only && strncmp(fig->param, "1_core", 6))
			break;
		if (f == RT)
			printf("# ring vs ck_ring: %.2fx one core single, %.2fx two cores single, %.2fx two cores batched\n",
			       med[CK_1] / med[OURS_1], med[CK_2] / med[OURS_2],
			       med[CK_2B] / med[OURS_2B]);
		if (strstr(fig->param, "batch"))
			snprintf(param, sizeof(param), "%s_%u", fig->param,
				 batch);
		else
			snprintf(param, sizeof(param), "%s", fig->param);
		nr_items = o.n ? o.n : size_runs(fig, o.round_ms * 1e6);
		for (r = 0; r < o.warmup; r++)
			fig->fn();
		for (r = 0; r < o.rounds; r++)
			v[r] = fig->fn();
		med[f] = bench_row_v("ring", param, fig->series, v, o.rounds,
				     fig->div ? "ns/trip" : "ns/desc");
	}
	return 0;
}
