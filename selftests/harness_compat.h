/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What differs between the kselftest harness versions the tests build
 * with (each kernel line's tools/testing/selftests/kselftest_harness.h).
 * Include right after kselftest_harness.h.
 */
#ifndef HARNESS_COMPAT_H
#define HARNESS_COMPAT_H

/*
 * Whether the test (or a child it forked) has passed so far.  From Linux
 * 6.9 the harness keeps an exit code instead of @passed; XFAIL_ADD came
 * with that change.
 */
#ifdef XFAIL_ADD
#define st_test_passed(m)	__test_passed(m)
#else
#define st_test_passed(m)	((m)->passed)
#endif

#endif /* HARNESS_COMPAT_H */
