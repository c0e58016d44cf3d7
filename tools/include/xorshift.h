/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xorshift64*: the tests' random numbers, reproducible from a printed
 * seed, one state per thread.  Not for anything but tests.
 */
#ifndef TOOLS_XORSHIFT_H
#define TOOLS_XORSHIFT_H

#include <stdint.h>

/* The next number of @state (which must not be 0). */
static inline uint64_t xorshift64s(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

#endif /* TOOLS_XORSHIFT_H */
