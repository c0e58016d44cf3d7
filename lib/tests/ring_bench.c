// SPDX-License-Identifier: GPL-2.0-only
/*
 * ring_bench: cost of the SPSC descriptor rings.
 *
 *	ring_bench [-n ITEMS] [-r RUNS] [-c CAPACITY] [-b BATCH] [-C] [-1]
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
 * Each figure is the median over RUNS runs of the mean time per element
 * (per round trip for the last two); the spread is (max - min) / median.
 * Not part of the test run.  -C prints CSV rows
 * (experiment,parameter,series,median,spread_pct,unit) for make bench;
 * -1 runs only the one-core figures (instruction counts under callgrind,
 * where spinning threads would crawl).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <ck_ring.h>

#include "iommureg/ring.h"

#define MAX_RUNS	32
#define MAX_BATCH	256

static uint64_t nr_items = 20000000;
static unsigned int nr_runs = 5;
static uint32_t capacity = 512;
static unsigned int batch = 32;
static bool pinning = true;
static bool csv, one_core_only;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void pin(unsigned int cpu)
{
	cpu_set_t set;

	if (!pinning)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "ring_bench: cannot pin to CPU %u: %s; running unpinned\n",
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
		fprintf(stderr, "ring_bench: cannot set up a ring of %u\n",
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
	uint64_t i, sum = 0, t0;

	chan_new(&b);
	t0 = now_ns();
	for (i = 0; i < nr_items; i++) {
		d.offset = i;
		ireg_ring_enqueue(&b.prod_end.prod, &d);
		ireg_ring_dequeue(&b.cons_end.cons, &out);
		sum += out.offset;
	}
	t0 = now_ns() - t0;
	sink = sum;
	chan_free(&b);
	return (double)t0 / nr_items;
}

static __attribute__((noinline)) double one_core_batched(void)
{
	struct ireg_ring_desc in[MAX_BATCH] = { 0 }, out[MAX_BATCH];
	struct bench_chan b;
	uint64_t i, sum = 0, t0;
	unsigned int j, n;

	chan_new(&b);
	t0 = now_ns();
	for (i = 0; i < nr_items; i += n) {
		for (j = 0; j < batch; j++)
			in[j].offset = i + j;
		n = ireg_ring_enqueue_batch(&b.prod_end.prod, in, batch);
		n = ireg_ring_dequeue_batch(&b.cons_end.cons, out, n);
		for (j = 0; j < n; j++)
			sum += out[j].offset;
	}
	t0 = now_ns() - t0;
	sink = sum;
	chan_free(&b);
	return (double)t0 / nr_items;
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
	uint64_t sent = 0, t0;
	pthread_t tc;
	unsigned int n, j;

	chan_new(&t.b);
	pin(0);
	pthread_create(&tc, NULL, two_consumer, &t);
	start_line(&t);
	t0 = now_ns();
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
	t0 = now_ns() - t0;
	unpin();
	chan_free(&t.b);
	return (double)t0 / nr_items;
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
	uint64_t i, sum = 0, t0;
	struct ck c;

	ck_new(&c, 0);
	t0 = now_ns();
	for (i = 0; i < nr_items; i++) {
		d.offset = i;
		ck_ring_enqueue_spsc_desc(&c.ring, c.buf, &d);
		ck_ring_dequeue_spsc_desc(&c.ring, c.buf, &out);
		sum += out.offset;
	}
	t0 = now_ns() - t0;
	sink = sum;
	free(c.buf);
	return (double)t0 / nr_items;
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
	uint64_t sent = 0, t0;
	pthread_t tc;
	unsigned int j;
	struct ck c;

	ck_new(&c, b);
	pin(0);
	pthread_create(&tc, NULL, ck_consumer, &c);
	__atomic_add_fetch(&c.ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&c.ready, __ATOMIC_ACQUIRE) < 2)
		cpu_relax();
	t0 = now_ns();
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
	t0 = now_ns() - t0;
	unpin();
	free(c.buf);
	return (double)t0 / nr_items;
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
	/* A sleeping trip costs a hundred spinning ones. */
	uint64_t i, trips = nr_items / (sleep ? 2000 : 100), t0;
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
	t0 = now_ns();
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
	t0 = now_ns() - t0;
	unpin();
	if (sleep) {
		close(t.efd_prod);
		close(t.efd_cons);
	}
	chan_free(&t.b);
	return (double)t0 / trips;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double report(const char *what, const char *param, const char *series,
		     const char *unit, double (*fn)(void))
{
	double v[MAX_RUNS], med;
	unsigned int i;

	for (i = 0; i < nr_runs; i++)
		v[i] = fn();
	qsort(v, nr_runs, sizeof(v[0]), cmp_double);
	med = nr_runs % 2 ? v[nr_runs / 2] :
			    (v[nr_runs / 2 - 1] + v[nr_runs / 2]) / 2;
	if (csv)
		printf("ring,%s,%s,%.4g,%.1f,%s\n", param, series, med,
		       med > 0 ? 100 * (v[nr_runs - 1] - v[0]) / med : 0,
		       unit);
	else
		printf("%-28s %10.2f %s   spread %5.1f%%\n", what, med, unit,
		       med > 0 ? 100 * (v[nr_runs - 1] - v[0]) / med : 0);
	fflush(stdout);
	return med;
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

int main(int argc, char **argv)
{
	char label[64];
	int opt;

	while ((opt = getopt(argc, argv, "n:r:c:b:C1")) != -1) {
		switch (opt) {
		case 'n':
			nr_items = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			nr_runs = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			capacity = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 0);
			break;
		case 'C':
			csv = true;
			break;
		case '1':
			one_core_only = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-n ITEMS] [-r RUNS] [-c CAPACITY] [-b BATCH] [-C] [-1]\n",
				argv[0]);
			return 2;
		}
	}
	if (!nr_runs || nr_runs > MAX_RUNS || !batch || batch > MAX_BATCH ||
	    batch > capacity || !ireg_ring_area_size(capacity) || nr_items < 100) {
		fprintf(stderr, "ring_bench: 1 <= RUNS <= %u, 1 <= BATCH <= min(%u, CAPACITY), CAPACITY a power of two, ITEMS >= 100\n",
			MAX_RUNS, MAX_BATCH);
		return 2;
	}
	double ours1, ck1, ours2, ck2, ours3, ck3;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		pinning = false;
	char series[64];

	printf("%s%" PRIu64 " descriptors per run, median of %u runs, capacity %u, batch %u%s\n",
	       csv ? "# ring_bench: " : "", nr_items, nr_runs, capacity, batch,
	       pinning ? "" : ", unpinned (fewer than 2 CPUs)");
	ours1 = report("one core, single", "1_core_single", "ireg_ring",
		       "ns/desc", one_core_single);
	ck1 = report("ck_ring one core, single", "1_core_single", "ck_ring",
		     "ns/desc", ck_one_core);
	snprintf(label, sizeof(label), "one core, batch %u", batch);
	snprintf(series, sizeof(series), "1_core_batch_%u", batch);
	report(label, series, "ireg_ring", "ns/desc", one_core_batched);
	if (one_core_only)
		return 0;
	ours2 = report("two cores, single", "2_cores_single", "ireg_ring",
		       "ns/desc", two_single);
	ck2 = report("ck_ring two cores, single", "2_cores_single", "ck_ring",
		     "ns/desc", ck_two_single);
	snprintf(label, sizeof(label), "two cores, batch %u", batch);
	snprintf(series, sizeof(series), "2_cores_batch_%u", batch);
	ours3 = report(label, series, "ireg_ring", "ns/desc", two_batched);
	snprintf(label, sizeof(label), "ck_ring two cores, %u in loop", batch);
	ck3 = report(label, series, "ck_ring", "ns/desc", ck_two_batched);
	printf("# ring vs ck_ring: %.2fx one core single, %.2fx two cores single, %.2fx two cores batched\n",
	       ck1 / ours1, ck2 / ours2, ck3 / ours3);
	report("round trip, spinning", "round_trip", "spinning", "ns/trip",
	       rt_spin);
	report("round trip, eventfd", "round_trip", "eventfd", "ns/trip",
	       rt_sleep);
	return 0;
}
