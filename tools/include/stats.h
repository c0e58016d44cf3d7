/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Median and spread of a benchmark's rounds: one copy, one definition.
 *
 * The spread is 100 * (max - min) / median, in percent: the figure
 * every benchmark prints beside its median (Documentation/performance.rst).
 */
#ifndef TOOLS_STATS_H
#define TOOLS_STATS_H

#include <stddef.h>
#include <stdlib.h>

static inline int stats_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sort v[0..n) in place; *median gets its median (the mean of the middle
 * two for an even n) and *spread the spread in percent (0 when the median
 * is not positive).  n == 0 gives 0 and 0.
 */
static inline void stats_summary(double *v, size_t n, double *median,
				 double *spread)
{
	double med;

	if (!n) {
		*median = 0;
		*spread = 0;
		return;
	}
	qsort(v, n, sizeof(*v), stats_cmp_double);
	med = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*median = med;
	*spread = med > 0 ? 100 * (v[n - 1] - v[0]) / med : 0;
}

/* The median alone. */
static inline double stats_median(double *v, size_t n)
{
	double med, spread;

	stats_summary(v, n, &med, &spread);
	return med;
}

#endif /* TOOLS_STATS_H */
