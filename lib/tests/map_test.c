// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host tests of the translation map's edges: addresses above 2^48 (5-level
 * paging) are refused clearly, and ireg_map_translate_contig() returns the
 * length contiguous in IOVA space.  No memory is touched at the addresses
 * set: the map only records numbers.  The map's basics and its lock-free
 * readers are in pool_test.
 */
#include <sys/mman.h>

#include "iommureg.h"
#include "kselftest_harness.h"

#define SZ_2M	(2ULL << 20)
#define VA(x)	((const void *)(uintptr_t)(x))
#define TOP	(1ULL << 48)

TEST(above_2_48_refused)
{
	const uint64_t la57 = 1ULL << 56;	/* a 5-level address */
	struct ireg_map *map;
	size_t len = SZ_2M;

	ASSERT_EQ(0, ireg_map_create(&map));
	EXPECT_EQ(-ERANGE, ireg_map_set(map, VA(la57), SZ_2M, 0x100000));
	EXPECT_EQ(-ERANGE, ireg_map_set(map, VA(TOP), SZ_2M, 0x100000));
	EXPECT_EQ(-ERANGE, ireg_map_clear(map, VA(la57), 4 * SZ_2M));
	EXPECT_EQ(-ERANGE, ireg_map_clear(map, VA(TOP - SZ_2M), 2 * SZ_2M));
	/* Straddling 2^48: refused whole, nothing below entered. */
	EXPECT_EQ(-ERANGE,
		  ireg_map_set(map, VA(TOP - SZ_2M), 2 * SZ_2M, 0x100000));
	EXPECT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, VA(TOP - 1)));
	EXPECT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, VA(la57)));
	EXPECT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, VA(la57 + 5)));
	EXPECT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate_contig(map, VA(la57), &len));
	EXPECT_EQ(0, len);
	/* The last chunk below 2^48 works, and a run ends there. */
	ASSERT_EQ(0, ireg_map_set(map, VA(TOP - SZ_2M), SZ_2M, 0x40000000));
	len = 8 * SZ_2M;
	EXPECT_EQ(0x40000000 + 16,
		  ireg_map_translate_contig(map, VA(TOP - SZ_2M + 16), &len));
	EXPECT_EQ(SZ_2M - 16, len);
	ireg_map_destroy(map);
}

/*
 * A real 57-bit address where the machine has 5-level paging: an mmap()
 * hint above 2^47 is the only way to get one.  Skips on 4-level machines
 * (the hint is ignored there), which is most.
 */
TEST(la57_mapping_refused)
{
	void *hint = (void *)(uintptr_t)(1ULL << 52);
	struct ireg_map *map;
	void *p;

	p = mmap(hint, 2 * SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	if ((uintptr_t)p < TOP) {
		munmap(p, 2 * SZ_2M);
		SKIP(return, "4-level paging: an mmap hint above 2^47 gave %p", p);
	}
	ASSERT_EQ(0, ireg_map_create(&map));
	EXPECT_EQ(-ERANGE, ireg_map_set(map, VA(((uintptr_t)p + SZ_2M - 1) &
					     ~(SZ_2M - 1)), SZ_2M, 0x100000));
	EXPECT_EQ(IREG_IOVA_INVALID, ireg_map_translate(map, p));
	ireg_map_destroy(map);
	munmap(p, 2 * SZ_2M);
}

TEST(translate_contig)
{
	const uint64_t va = 0x7e0000000000ULL, iova = 0x80000000ULL;
	struct ireg_map *map;
	size_t len;

	ASSERT_EQ(0, ireg_map_create(&map));
	ASSERT_EQ(0, ireg_map_set(map, VA(va), 4 * SZ_2M, iova));
	/* The chunk after: mapped, but not contiguous in IOVA. */
	ASSERT_EQ(0, ireg_map_set(map, VA(va + 4 * SZ_2M), SZ_2M, 0x10000000));

	len = 100;	/* inside one chunk: the request */
	EXPECT_EQ(iova + 7, ireg_map_translate_contig(map, VA(va + 7), &len));
	EXPECT_EQ(100, len);
	len = SIZE_MAX;	/* everything: to the end of the run */
	EXPECT_EQ(iova + 7, ireg_map_translate_contig(map, VA(va + 7), &len));
	EXPECT_EQ(4 * SZ_2M - 7, len);
	len = 3 * SZ_2M;	/* across chunk ends, within the run */
	EXPECT_EQ(iova + SZ_2M - 1,
		  ireg_map_translate_contig(map, VA(va + SZ_2M - 1), &len));
	EXPECT_EQ(3 * SZ_2M, len);
	len = 0;	/* the IOVA only */
	EXPECT_EQ(iova + 9, ireg_map_translate_contig(map, VA(va + 9), &len));
	EXPECT_EQ(0, len);
	len = SZ_2M;	/* the other delta's chunk: its own run */
	EXPECT_EQ(0x10000000 + 5,
		  ireg_map_translate_contig(map, VA(va + 4 * SZ_2M + 5), &len));
	EXPECT_EQ(SZ_2M - 5, len);
	len = 64;	/* a miss */
	EXPECT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate_contig(map, VA(va + 5 * SZ_2M), &len));
	EXPECT_EQ(0, len);
	/* A hole ends the run, though the chunk after lines up again. */
	ASSERT_EQ(0, ireg_map_clear(map, VA(va + 2 * SZ_2M), SZ_2M));
	len = 4 * SZ_2M;
	EXPECT_EQ(iova, ireg_map_translate_contig(map, VA(va), &len));
	EXPECT_EQ(2 * SZ_2M, len);
	/* Agrees with ireg_map_translate_len() on what is contiguous. */
	EXPECT_EQ(iova, ireg_map_translate_len(map, VA(va), 2 * SZ_2M));
	EXPECT_EQ(IREG_IOVA_INVALID,
		  ireg_map_translate_len(map, VA(va), 2 * SZ_2M + 1));
	ireg_map_destroy(map);
}

TEST_HARNESS_MAIN
