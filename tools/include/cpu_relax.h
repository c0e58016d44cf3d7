/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cpu_relax(): the spin-wait hint, for the tests and benchmarks that spin
 * on a shared index (PAUSE on x86, YIELD on arm64): one copy.
 */
#ifndef TOOLS_CPU_RELAX_H
#define TOOLS_CPU_RELAX_H

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif /* TOOLS_CPU_RELAX_H */
