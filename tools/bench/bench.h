/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the benchmarks in tools/bench share: the options, the rounds and
 * the output.
 *
 * Output: comments ("# ...") for the reader, and one CSV row per figure,
 *
 *	experiment,parameter,series,median,spread_pct,unit
 *
 * which tools/testing/bench (make bench) collects.  A figure is the
 * median over its timed rounds of the mean time per operation in a
 * round; spread_pct is 100 * (max - min) / median over all of them
 * (tools/include/stats.h): no round is ever dropped.  Warm-up rounds run
 * first and are not timed: they fault in memory, fill caches and let
 * allocators reach their steady state, so that no round measures the
 * first touch.  Rounds are sized to a duration (200 ms unless -t says
 * otherwise), long enough that a scheduling hiccup is a small part of
 * one.
 *
 * Clocks: a figure of one thread on the host is timed in the process's
 * CPU time (clock_cpu_ns), so that time the thread spends descheduled
 * while other jobs run on a shared machine is not counted as its own;
 * figures of several threads, and all figures in the VM (where time the
 * host takes from a vCPU is charged to whatever the guest ran), are
 * timed on the monotonic clock.
 */
#ifndef TOOLS_BENCH_H
#define TOOLS_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../include/clock.h"
#include "../include/stats.h"

#define BENCH_MAX_ROUNDS	64

static inline void bench_row(const char *exp, const char *param,
			     const char *series, double median, double spread,
			     const char *unit)
{
	printf("%s,%s,%s,%.10g,%.1f,%s\n", exp, param, series, median, spread,
	       unit);
	fflush(stdout);
}

/* The row of the values v[0..n) (sorted in place); returns the median. */
static inline double bench_row_v(const char *exp, const char *param,
				 const char *series, double *v, size_t n,
				 const char *unit)
{
	double median, spread;

	stats_summary(v, n, &median, &spread);
	bench_row(exp, param, series, median, spread, unit);
	return median;
}

/* One measured loop: @n operations on @arg.  0, or -errno. */
typedef int (*bench_loop_fn)(void *arg, unsigned long n);

struct bench_plan {
	unsigned int rounds;	/* timed rounds */
	unsigned int warmup;	/* untimed rounds before them */
	unsigned long n;	/* operations per round, or 0: ... */
	double round_ns;	/* ... as many as take about this long */
	double (*clock)(void);	/* clock_now_ns unless set */
};

/* One round of @n operations: *ns gets ns per operation.  0 or -errno. */
static inline int bench_round(const struct bench_plan *plan, bench_loop_fn fn,
			      void *arg, unsigned long n, double *ns)
{
	double (*clk)(void) = plan->clock ? plan->clock : clock_now_ns;
	double t0 = clk();
	int ret = fn(arg, n);

	*ns = (clk() - t0) / n;
	return ret;
}

/*
 * Operations per round: plan->n, or as many as take about plan->round_ns,
 * found by doubling a trial run until it takes an eighth of that (the
 * trials warm up too).  Returns the count, or -errno from @fn.
 */
static inline long bench_size(const struct bench_plan *plan, bench_loop_fn fn,
			      void *arg)
{
	unsigned long n;
	double ns;
	int ret;

	if (plan->n)
		return plan->n;
	for (n = 1;; n *= 2) {
		ret = bench_round(plan, fn, arg, n, &ns);
		if (ret)
			return ret;
		if (ns * n >= plan->round_ns / 8 || n >= 1UL << 30)
			break;
	}
	ns = ns > 0 ? plan->round_ns / ns : n;
	return ns < 1 ? 1 : (long)ns;
}

/*
 * Run @fn as @plan says: sized, plan->warmup untimed rounds, then
 * plan->rounds timed ones; v[r] gets round r's ns per operation.
 * Returns the operations per round, or -errno from @fn.
 */
static inline long bench_time(const struct bench_plan *plan, bench_loop_fn fn,
			      void *arg, double *v)
{
	long n = bench_size(plan, fn, arg);
	unsigned int r;
	int ret;

	if (n < 0)
		return n;
	for (r = 0; r < plan->warmup; r++) {
		ret = fn(arg, n);
		if (ret)
			return ret;
	}
	for (r = 0; r < plan->rounds; r++) {
		ret = bench_round(plan, fn, arg, n, &v[r]);
		if (ret)
			return ret;
	}
	return n;
}

/*
 * The options every benchmark takes, and the program's own (@own,
 * handled by @other):
 *
 *	-n OPS      operations per round (fixed: callgrind's counts), or
 *	-t MS       rounds of about MS milliseconds each (the default, 200)
 *	-r ROUNDS   timed rounds
 *	-w WARMUP   untimed rounds before them
 *
 * Returns optind, or -1 after printing "usage: PROG @usage".
 */
struct bench_opts {
	unsigned long n;	/* 0: sized by round_ms */
	double round_ms;
	double (*clock)(void);	/* the program's clock (not an option) */
	unsigned int rounds;
	unsigned int warmup;
};

/* The plan of a figure: o->n operations per round, or o->round_ms. */
static inline struct bench_plan bench_plan_of(const struct bench_opts *o,
					      unsigned long n)
{
	return (struct bench_plan){
		.rounds = o->rounds, .warmup = o->warmup,
		.n = n, .round_ns = o->round_ms * 1e6, .clock = o->clock,
	};
}

/* "median of R rounds of about MS ms (or of N operations), after W untimed" */
static inline const char *bench_method(const struct bench_opts *o, char *buf,
				       size_t len)
{
	char round[48];

	if (o->n)
		snprintf(round, sizeof(round), "%lu operations", o->n);
	else
		snprintf(round, sizeof(round), "about %g ms", o->round_ms);
	snprintf(buf, len, "median of %u rounds of %s, after %u untimed",
		 o->rounds, round, o->warmup);
	return buf;
}

static inline int bench_getopt(int argc, char **argv, const char *own,
			       int (*other)(int opt, const char *arg),
			       const char *usage, struct bench_opts *o)
{
	char optstring[32];
	int opt;

	snprintf(optstring, sizeof(optstring), "n:t:r:w:%s", own);
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		if (opt == 'n')
			o->n = strtoul(optarg, NULL, 0);
		else if (opt == 't')
			o->round_ms = strtod(optarg, NULL);
		else if (opt == 'r')
			o->rounds = strtoul(optarg, NULL, 0);
		else if (opt == 'w')
			o->warmup = strtoul(optarg, NULL, 0);
		else if (opt == '?' || !other || other(opt, optarg))
			goto usage;
	}
	if (o->round_ms > 0 && o->rounds && o->rounds <= BENCH_MAX_ROUNDS &&
	    o->warmup <= BENCH_MAX_ROUNDS)
		return optind;
	fprintf(stderr, "%s: MS > 0, 1 <= ROUNDS <= %d, WARMUP <= %d\n",
		argv[0], BENCH_MAX_ROUNDS, BENCH_MAX_ROUNDS);
usage:
	fprintf(stderr, "usage: %s %s\n", argv[0], usage);
	return -1;
}

#endif /* TOOLS_BENCH_H */
