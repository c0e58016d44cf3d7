/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Clocks for the tests, benchmarks and examples: one copy.
 *
 * clock_now_ns() is CLOCK_MONOTONIC, for wall time and timeouts;
 * clock_cpu_ns() is the process's CPU time, for figures that must not
 * count time the emulator spent on another vCPU.
 */
#ifndef TOOLS_CLOCK_H
#define TOOLS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Monotonic nanoseconds, as a double (benchmarks). */
static inline double clock_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU nanoseconds of the whole process. */
static inline double clock_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* Monotonic microseconds and milliseconds, as integers (timeouts). */
static inline uint64_t clock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline uint64_t clock_now_ms(void)
{
	return clock_now_us() / 1000;
}

#endif /* TOOLS_CLOCK_H */
