# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# SPSC descriptor rings: host tests.  Included by lib/Makefile; paths are
# relative to lib/.  The benchmark is tools/bench/ring_spsc.
#
#   RING_TESTS       host tests (kselftest_harness), TAP on stdout
#   ring-check       build and run them
#   ring-tsan        ring_test under ThreadSanitizer: an index published
#                    or read without release/acquire is a data race on
#                    the slots, which TSan reports on any CPU (x86's TSO
#                    would hide it from the plain stress)

RING_TESTS	:= tests/ring_test tests/ring_xproc_test
RING_DEPS	:= libiommureg.a include/iommureg/ring.h tests/harness.h \
		   ../tools/include/spin.h ../tools/include/xorshift.h \
		   ../tools/include/clock.h $(KSFT_DIR)/kselftest_harness.h
RING_TSAN_ITEMS	?= 1000000

# lib/Makefile's rule for src/*.o does not know this header.
src/ring.o: include/iommureg/ring.h

$(RING_TESTS): tests/%: tests/%.c $(RING_DEPS)
	$(CC) $(TEST_CFLAGS) -o $@ $< libiommureg.a $(LDFLAGS) -lpthread

# Instrumented build of the test with the library's ring.c compiled in;
# the rest of the library (ring.c's __ireg_failf()) from libiommureg.a.
# TSan does not model fences (-Wno-tsan); the fences only order the
# wakeup flags, which are atomics, and signal_race tests them directly.
tests/ring_test-tsan: tests/ring_test.c src/ring.c $(RING_DEPS)
	$(CC) $(TEST_CFLAGS) -O1 -fsanitize=thread -Wno-tsan -o $@ \
		tests/ring_test.c src/ring.c libiommureg.a $(LDFLAGS) -lpthread

ring-check: $(RING_TESTS)
	@rc=0; for t in $(RING_TESTS); do ./$$t || rc=1; done; exit $$rc

ring-tsan: tests/ring_test-tsan
	IREG_RING_ITEMS=$(RING_TSAN_ITEMS) TSAN_OPTIONS=halt_on_error=1 \
		./tests/ring_test-tsan

ring-clean:
	rm -f $(RING_TESTS) tests/ring_test-tsan

.PHONY: ring-check ring-tsan ring-clean
