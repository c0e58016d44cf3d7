/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Busy-polling for the tests and benchmarks of lock-free code: a pause
 * in the loop, and a yield now and then when the two sides may share a
 * core.
 */
#ifndef TOOLS_SPIN_H
#define TOOLS_SPIN_H

#include <sched.h>

#include "iommureg/ring.h"	/* ireg_cpu_relax() */

static inline void cpu_relax(void)
{
	ireg_cpu_relax();
}

/* One more round of polling: a pause, or every 256th a sched_yield(). */
static inline void spin_backoff(unsigned int *spins)
{
	if (++*spins & 255)
		cpu_relax();
	else
		sched_yield();
}

#endif /* TOOLS_SPIN_H */
