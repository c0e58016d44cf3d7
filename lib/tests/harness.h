/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the library's host tests add to kselftest_harness.h (include it
 * after): whether a case has passed so far, whatever the harness's
 * version, and running only the cases named (the 6.1 harness has no
 * filter of its own).
 */
#ifndef LIB_TESTS_HARNESS_H
#define LIB_TESTS_HARNESS_H

#include <string.h>

/*
 * Whether the case (or a child it forked) has passed so far.  From Linux
 * 6.9 the harness keeps an exit code instead of @passed; XFAIL_ADD came
 * with that change.
 */
#ifdef XFAIL_ADD
#define test_passed(m)	__test_passed(m)
#else
#define test_passed(m)	((m)->passed)
#endif

/*
 * Keep only the cases of fixture @f named in @names (@n of them): the
 * others are not run, nor counted in the plan.  Call before
 * test_harness_run().
 */
static inline void test_select(struct __fixture_metadata *f,
			       const char *const *names, int n)
{
	struct __test_metadata *t, *next, *head = NULL;
	int i;

	for (t = f->tests; t; t = next) {
		next = t->next;
		for (i = 0; i < n && strcmp(names[i], t->name); i++)
			;
		if (i == n)
			continue;
		/* The harness's list: head->prev is the tail, tail->next NULL. */
		t->next = NULL;
		if (!head) {
			head = t;
		} else {
			head->prev->next = t;
			t->prev = head->prev;
		}
		head->prev = t;
	}
	f->tests = head;
}

#endif /* LIB_TESTS_HARNESS_H */
