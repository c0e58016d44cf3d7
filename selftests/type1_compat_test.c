// SPDX-License-Identifier: GPL-2.0-only
/*
 * The type1 drop-in mode (module parameter type1_compat): a program that
 * selects VFIO_TYPE1_IOMMU or VFIO_TYPE1v2_IOMMU gets this backend, with
 * type1's v1 or v2 unmap semantics, and the admin view shows its container
 * with the number it was opened with.  Off by default: type1 then stays
 * type1's.
 *
 * The same test bodies run on the kernel's own type1 (the *_kernel
 * variants, parameter off) as the reference the drop-in mode must match,
 * and on this backend selected as type1, type1v2 and by its own number.
 *
 * The tests unload the module and load it again with the parameter they
 * need, so they run near the end, before module_test; the last one leaves
 * the module loaded as the VM loaded it (parameter off).
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include "nl_helpers.h"
#include "edu.h"
#include "type1_helpers.h"
#include "kselftest_harness.h"

#define PAGE_SIZE	ST_PAGE_SIZE
#define SZ_2M		ST_SZ_2M
#define BUF_SIZE	(2 * SZ_2M)
#define IOVA		0x40000000ULL
#define COMPAT_PARAM	"type1_compat"

/* A device transfer's source and destination in a DMA_SIZE buffer. */
#define DMA_SIZE	SZ_2M
#define DMA_SRC		0
#define DMA_DST		(DMA_SIZE / 2 + PAGE_SIZE)

/*
 * Have the module loaded with type1_compat as @on wants, reloading it if
 * need be (it is read-only once loaded).  Loaded again, it registers with
 * VFIO after vfio_iommu_type1 and so is asked first.  0 when the
 * parameter then reads as wanted.
 */
static int compat_load(bool on)
{
	if (st_param_get(COMPAT_PARAM) == on)
		return 0;
	if (st_module_unload() && errno != ENOENT)
		return -1;
	if (st_module_load(on ? COMPAT_PARAM "=1" : ""))
		return -1;
	return st_param_get(COMPAT_PARAM) == on ? 0 : -1;
}

/* --- The type1 ABI on a container of ours --------------------------------- */

EDU_BUF_FIXTURE(type1, SZ_2M)

/*
 * type1's length contract: argsz below the struct's fields type1 reads
 * is refused with EINVAL, an unreadable argument with EFAULT.  (type1
 * reads only those fields: a longer struct's tail is not looked at.)
 */
TEST_F(type1, argsz)
{
	static const struct {
		unsigned long cmd;
		const char *name;
		uint32_t minsz;
	} cmds[] = {
#define CMD(c, s, last)	{ c, #c, offsetofend(s, last) }
		CMD(VFIO_IOMMU_GET_INFO, struct vfio_iommu_type1_info,
		    iova_pgsizes),
		CMD(VFIO_IOMMU_MAP_DMA, struct vfio_iommu_type1_dma_map, size),
		CMD(VFIO_IOMMU_UNMAP_DMA, struct vfio_iommu_type1_dma_unmap,
		    size),
#undef CMD
	};
	uint8_t buf[512];
	unsigned int i;
	int e;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(buf, 0, sizeof(buf));
		*(uint32_t *)buf = cmds[i].minsz - 1;
		e = ioctl(self->container, cmds[i].cmd, buf) ? errno : 0;
		EXPECT_EQ(EINVAL, e)
			TH_LOG("%s argsz %u: %s", cmds[i].name,
			       cmds[i].minsz - 1, strerror(e));
		EXPECT_ERRNO(EFAULT, ioctl(self->container, cmds[i].cmd,
					   (void *)16));
	}
	test_counts(0, 0, 0);
}

TEST_F(type1, get_info)
{
	struct iommu_reg_iova_range ranges[32];
	struct vfio_iommu_type1_info_cap_iova_range *cap;
	struct vfio_iommu_type1_info *info;
	struct iommu_reg_info ours;
	uint8_t buf[4096] = {};
	uint32_t i, need;
	int n;

	test_info(&ours);
	n = st_iova_ranges(self->container, ranges, 32);
	ASSERT_LT(0, n);

	/* Too short for iova_pgsizes. */
	info = (void *)buf;
	info->argsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes);
	EXPECT_ERRNO(EINVAL, ioctl(self->container, VFIO_IOMMU_GET_INFO,
				   info));

	/* Without room for capabilities: the size they need comes back. */
	info->argsz = sizeof(*info);
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, info));
	EXPECT_TRUE(info->flags & VFIO_IOMMU_INFO_PGSIZES);
	EXPECT_EQ(ours.pgsize_bitmap, info->iova_pgsizes);
	EXPECT_TRUE(info->iova_pgsizes & PAGE_SIZE);
	ASSERT_TRUE(info->flags & VFIO_IOMMU_INFO_CAPS);
	need = info->argsz;
	ASSERT_LT(sizeof(*info), need);
	ASSERT_GE(sizeof(buf), need);

	memset(buf, 0, sizeof(buf));
	info->argsz = need;
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, info));
	ASSERT_LE(sizeof(*info), info->cap_offset);
	cap = (void *)type1_info_cap(buf, sizeof(buf),
				     VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, cap);
	ASSERT_EQ(n, cap->nr_iovas);
	for (i = 0; i < cap->nr_iovas; i++) {
		EXPECT_EQ(ranges[i].start, cap->iova_ranges[i].start);
		EXPECT_EQ(ranges[i].last, cap->iova_ranges[i].end);
		EXPECT_TRUE(cap->iova_ranges[i].end < ST_MSI_START ||
			    cap->iova_ranges[i].start > ST_MSI_LAST);
	}
}

/* The flow of a type1 v2 program, on our container. */
TEST_F(type1, map_unmap)
{
	uint64_t unmapped, iova = IOVA;
	uint32_t handle;

	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_IOMMU_REG));
	/* What a type1 program asks before using VFIO_DMA_UNMAP_FLAG_ALL. */
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_UNMAP_ALL));
	test_type1_map(self->mem, 16 * PAGE_SIZE, 0x100000, ST_T1_RW);
	/* Overlaps, whether through type1 or through MAP. */
	test_err_type1_map(EEXIST, self->mem, PAGE_SIZE, 0x100000 + PAGE_SIZE,
			   ST_T1_RW);
	test_err_type1_map(EEXIST, self->mem, 16 * PAGE_SIZE,
			   0x100000 - PAGE_SIZE, VFIO_DMA_MAP_FLAG_READ);
	test_prereg(self->mem, 4 * PAGE_SIZE, 0, &handle, NULL);
	test_err_map(EEXIST, handle, 0, PAGE_SIZE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, 0x100000 + 15 * PAGE_SIZE);
	test_map(handle, 0, 4 * PAGE_SIZE, ST_PROT_RW,
		 IOMMU_REG_MAP_IOVA_FIXED, &iova);
	test_err_type1_map(EEXIST, self->mem, PAGE_SIZE, IOVA + PAGE_SIZE,
			   ST_T1_RW);

	/* Bad input as type1 refuses it. */
	test_err_type1_map(EINVAL, self->mem, PAGE_SIZE, 0x200000, 0);
	test_err_type1_map(EINVAL, self->mem + 1, PAGE_SIZE, 0x200000,
			   ST_T1_RW);
	test_err_type1_map(EINVAL, self->mem, 0, 0x200000, ST_T1_RW);

	/* v2: an unmap may not cut a mapping. */
	test_err_type1_unmap(EINVAL, 0x100000, PAGE_SIZE, 0);
	test_err_type1_unmap(EINVAL, 0x100000 + PAGE_SIZE, 15 * PAGE_SIZE, 0);
	test_type1_unmap(0x100000, 16 * PAGE_SIZE, 0, 16 * PAGE_SIZE);

	/* UNMAP_ALL takes no range, then takes everything. */
	test_unmap(IOVA, 4 * PAGE_SIZE, 0, &unmapped);
	EXPECT_EQ(4 * PAGE_SIZE, unmapped);
	test_type1_map(self->mem, 8 * PAGE_SIZE, 0x100000, ST_T1_RW);
	test_type1_map(self->mem + 8 * PAGE_SIZE, 8 * PAGE_SIZE, 0x800000,
		       VFIO_DMA_MAP_FLAG_READ);
	test_err_type1_unmap(EINVAL, 0x100000, 0, VFIO_DMA_UNMAP_FLAG_ALL);
	test_err_type1_unmap(EINVAL, 0, 8 * PAGE_SIZE, VFIO_DMA_UNMAP_FLAG_ALL);
	test_type1_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 16 * PAGE_SIZE);
	/* type1 answers an empty range with success and size 0. */
	test_type1_unmap(0x100000, 8 * PAGE_SIZE, 0, 0);
	test_unreg(handle, 0);
	test_counts(0, 0, 0);
}

/* MAP_DMA of pre-registered memory reuses its pins; other memory pins. */
TEST_F(type1, map_prereg_no_pin)
{
	struct iommu_reg_info info;
	long long pins, pinned;
	uint32_t handle;

	test_prereg(self->mem, 16 * PAGE_SIZE, 0, &handle, NULL);
	test_info(&info);
	pinned = info.pinned_pages;
	EXPECT_EQ(16, pinned);
	pins = st_foll_pins();

	test_type1_map(self->mem + 4 * PAGE_SIZE, 8 * PAGE_SIZE, 0x200000,
		       ST_T1_RW);
	test_info(&info);
	EXPECT_EQ(pinned, info.pinned_pages);
	EXPECT_EQ(pins, st_foll_pins());

	/* Memory outside every region is pinned by MAP_DMA itself. */
	test_type1_map(self->mem + 32 * PAGE_SIZE, 8 * PAGE_SIZE, 0x400000,
		       ST_T1_RW);
	test_info(&info);
	EXPECT_EQ(pinned + 8, info.pinned_pages);
	EXPECT_EQ(pins + 8, st_foll_pins());

	test_type1_unmap(0x400000, 8 * PAGE_SIZE, 0, 8 * PAGE_SIZE);
	EXPECT_EQ(pins, st_foll_pins());
	test_type1_unmap(0x200000, 8 * PAGE_SIZE, 0, 8 * PAGE_SIZE);
	test_info(&info);
	EXPECT_EQ(pinned, info.pinned_pages);
	EXPECT_EQ(pins, st_foll_pins());
	test_unreg(handle, 0);
	test_counts(0, 0, 0);
}

/* --- DMA through MAP_DMA, of each memory type ----------------------------- */

EDU_MEM_FIXTURE(type1_dma, DMA_SIZE)

/*
 * MAP_DMA as a type1 program uses it, of plain memory and of part of a
 * pre-registered region: the device reaches the right pages either way,
 * and not after UNMAP_DMA.
 */
TEST_F(type1_dma, round_trip)
{
	uint8_t *mem = self->buf.addr;
	uint32_t handle;
	int kmsg;

	test_type1_map(mem, DMA_SIZE, IOVA, ST_T1_RW);
	test_edu_copy(&self->edu, mem + DMA_SRC, IOVA + DMA_SRC, mem + DMA_DST,
		      IOVA + DMA_DST, 9);
	ASSERT_EQ(0, _test_type1_unmap(self->container, IOVA, DMA_SIZE, 0, NULL));

	edu_poison(mem + DMA_DST, EDU_DMA_MAX);
	kmsg = edu_expect_fault_begin();
	EXPECT_EQ(0, edu_dma(&self->edu, IOVA + DMA_DST, EDU_DMA_MAX,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	edu_expect_fault_end(kmsg, IOVA + DMA_DST, EDU_FAULT_WAIT_MS);
	EXPECT_TRUE(edu_is_poisoned(mem + DMA_DST, EDU_DMA_MAX + 1));

	/* The second half of a registered buffer, at IOVA 0. */
	test_prereg(mem, DMA_SIZE, 0, &handle, NULL);
	test_type1_map(mem + DMA_SIZE / 2, DMA_SIZE / 2, 0, ST_T1_RW);
	edu_fill(mem + DMA_DST + PAGE_SIZE, EDU_DMA_MAX, 10);
	ASSERT_EQ(0, edu_dma_copy(&self->edu, DMA_DST + PAGE_SIZE -
				  DMA_SIZE / 2, DMA_DST - DMA_SIZE / 2,
				  EDU_DMA_MAX));
	EXPECT_EQ(0, memcmp(mem + DMA_DST + PAGE_SIZE, mem + DMA_DST,
			    EDU_DMA_MAX));
	ASSERT_EQ(0, _test_type1_unmap(self->container, 0, DMA_SIZE / 2, 0, NULL));
	test_unreg(handle, 0);
}

/* --- The parameter ------------------------------------------------------ */

FIXTURE(param) {
	int unused;
};

FIXTURE_SETUP(param)
{
	if (!st_module_path() || access(st_module_path(), R_OK))
		SETUP_SKIP("no iommu_reg.ko to reload (set IREG_MODULE)");
	ASSERT_EQ(0, compat_load(false));
}

FIXTURE_TEARDOWN(param)
{
}

/* Off by default, and fixed once loaded: 0444, root cannot write it. */
TEST_F(param, read_only_off_by_default)
{
	struct stat st;

	ASSERT_EQ(0, stat(ST_PARAM_DIR COMPAT_PARAM, &st));
	EXPECT_EQ(0444, st.st_mode & 07777);
	EXPECT_EQ(0, st_param_get(COMPAT_PARAM));
	EXPECT_EQ(-1, st_param_set(COMPAT_PARAM, 1));
	EXPECT_EQ(0, st_param_get(COMPAT_PARAM));
}

/* --- One container, by the number it is selected with ------------------- */

FIXTURE(compat) {
	int container;
	struct edu_dev edu;
	struct st_buf buf;
	struct nl nl;
	long long pins;		/* FOLL_PIN pages before the test */
	long long vmpin;	/* VmPin before the test */
};

FIXTURE_VARIANT(compat) {
	bool compat;		/* the module's type1_compat */
	unsigned long type;	/* the VFIO_SET_IOMMU number */
	bool ours;		/* this backend, not the kernel's type1 */
	bool v1;		/* type1 v1 unmap semantics */
};

/* The references: the kernel's type1, the module loaded without the mode. */
FIXTURE_VARIANT_ADD(compat, type1_kernel) {
	.compat = false, .type = VFIO_TYPE1_IOMMU, .ours = false, .v1 = true,
};

FIXTURE_VARIANT_ADD(compat, type1v2_kernel) {
	.compat = false, .type = VFIO_TYPE1v2_IOMMU, .ours = false,
	.v1 = false,
};

FIXTURE_VARIANT_ADD(compat, type1) {
	.compat = true, .type = VFIO_TYPE1_IOMMU, .ours = true, .v1 = true,
};

FIXTURE_VARIANT_ADD(compat, type1v2) {
	.compat = true, .type = VFIO_TYPE1v2_IOMMU, .ours = true, .v1 = false,
};

FIXTURE_VARIANT_ADD(compat, iommu_reg) {
	.compat = true, .type = VFIO_IOMMU_REG, .ours = true, .v1 = false,
};

FIXTURE_SETUP(compat)
{
	const char *bdf = st_edu_bdf(0);
	struct nl_containers cs;

	self->container = -1;
	self->edu.fd = -1;
	self->edu.group = -1;
	if (!bdf)
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	if (!st_module_path() || access(st_module_path(), R_OK))
		SETUP_SKIP("no iommu_reg.ko to reload (set IREG_MODULE)");
	ASSERT_EQ(0, compat_load(variant->compat));
	ASSERT_EQ(0, nl_open(&self->nl));
	ASSERT_EQ(0, st_buf_alloc(&self->buf, ST_MEM_ANON_4K, BUF_SIZE));
	self->pins = st_foll_pins();
	self->vmpin = st_status_bytes("VmPin");
	ASSERT_LE(0, self->pins);

	self->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   variant->type));
	ASSERT_EQ(0, edu_open(&self->edu, self->container, bdf,
			      variant->type));

	/* Provably ours, or provably not: the admin view says. */
	ASSERT_EQ(0, nl_dump_containers(&self->nl, getpid(), &cs));
	if (variant->ours) {
		ASSERT_EQ(1, cs.nr);
		ASSERT_EQ(variant->type, cs.iommu_type[0]);
	} else {
		ASSERT_EQ(0, cs.nr);
	}
}

FIXTURE_TEARDOWN(compat)
{
	edu_close(&self->edu);
	if (self->container >= 0)
		close(self->container);
	st_buf_free(&self->buf);
	close(self->nl.fd);
}

/* Close every fd of the container: the backend is released. */
static void container_close(FIXTURE_DATA(compat) *self)
{
	edu_close(&self->edu);
	close(self->container);
	self->container = -1;
}

static bool pins_at_baseline(FIXTURE_DATA(compat) *self)
{
	return st_foll_pins() == self->pins &&
	       st_status_bytes("VmPin") == self->vmpin;
}

/* A copy by the device from @src to @dst, both IOVAs of self->buf at IOVA. */
static bool dma_works(FIXTURE_DATA(compat) *self, uint64_t src, uint64_t dst)
{
	uint8_t *s = self->buf.addr + (src - IOVA);
	uint8_t *d = self->buf.addr + (dst - IOVA);
	unsigned int i;

	for (i = 0; i < EDU_DMA_MAX; i++) {
		s[i] = (uint8_t)(i * 7 + 1);
		d[i] = 0;
	}
	if (edu_dma_copy(&self->edu, src, dst, EDU_DMA_MAX))
		return false;
	return !memcmp(s, d, EDU_DMA_MAX);
}

/*
 * After selection the backend alone answers: type1 and a container
 * selected as type1 say yes to both type1 numbers whatever the mode; our
 * own number is ours alone.
 */
TEST_F(compat, check_extension_selected)
{
	struct iommu_reg_info info = { .argsz = sizeof(info) };
	int is_type1 = variant->type != VFIO_IOMMU_REG;

	EXPECT_EQ(is_type1, ioctl(self->container, VFIO_CHECK_EXTENSION,
				  VFIO_TYPE1_IOMMU));
	EXPECT_EQ(is_type1, ioctl(self->container, VFIO_CHECK_EXTENSION,
				  VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(variant->ours, ioctl(self->container, VFIO_CHECK_EXTENSION,
				       VFIO_IOMMU_REG));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_UNMAP_ALL));
	if (variant->ours) {
		EXPECT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
		EXPECT_EQ(1, info.num_groups);
	} else {
		EXPECT_ERRNO(ENOTTY, ioctl(self->container, IOMMU_REG_INFO,
					   &info));
	}
}

/*
 * An unmap that covers a mapping's first IOVA: v1 removes the whole
 * mapping and says so in size; v2 refuses to cut it.
 */
TEST_F(compat, unmap_first_iova)
{
	test_type1_map(self->buf.addr, SZ_2M, IOVA, ST_T1_RW);
	if (variant->v1) {
		test_type1_unmap(IOVA, PAGE_SIZE, 0, SZ_2M);
		EXPECT_TRUE(pins_at_baseline(self));
		test_type1_unmap(IOVA, SZ_2M, 0, 0);
	} else {
		test_err_type1_unmap(EINVAL, IOVA, PAGE_SIZE, 0);
		EXPECT_TRUE(dma_works(self, IOVA, IOVA + SZ_2M / 2));
		test_type1_unmap(IOVA, SZ_2M, 0, SZ_2M);
	}
	EXPECT_TRUE(pins_at_baseline(self));
}

/*
 * An unmap starting inside a mapping: v1 succeeds having removed
 * nothing, v2 fails; either way the device still reaches every page,
 * the "unmapped" one too.
 */
TEST_F(compat, unmap_inside)
{
	uint64_t mid = IOVA + SZ_2M / 2;

	test_type1_map(self->buf.addr, SZ_2M, IOVA, ST_T1_RW);
	if (variant->v1)
		test_type1_unmap(mid, PAGE_SIZE, 0, 0);
	else
		test_err_type1_unmap(EINVAL, mid, PAGE_SIZE, 0);
	EXPECT_TRUE(dma_works(self, IOVA, mid));
	EXPECT_TRUE(dma_works(self, mid + PAGE_SIZE, IOVA + PAGE_SIZE));
	EXPECT_FALSE(pins_at_baseline(self));
	test_type1_unmap(IOVA, SZ_2M, 0, SZ_2M);
	EXPECT_TRUE(pins_at_baseline(self));
}

/*
 * Several mappings: one unmap over all of them reports the sum.  An unmap
 * that reaches only the first IOVA of the last one takes all of them on
 * v1 and none on v2; one that starts inside the first takes none on v1,
 * not even those wholly inside it, and fails on v2.
 */
TEST_F(compat, unmap_several)
{
	const uint64_t a = IOVA, b = IOVA + 16 * PAGE_SIZE, c = IOVA + SZ_2M;
	const uint64_t sum = PAGE_SIZE + 4 * PAGE_SIZE + SZ_2M;
	uint8_t *mem = self->buf.addr;
	int round;

	for (round = 0; round < 3; round++) {
		test_type1_map(mem, PAGE_SIZE, a, ST_T1_RW);
		test_type1_map(mem + (b - IOVA), 4 * PAGE_SIZE, b, ST_T1_RW);
		test_type1_map(mem + SZ_2M, SZ_2M, c, ST_T1_RW);
		switch (round) {
		case 0:
			test_type1_unmap(a, BUF_SIZE, 0, sum);
			break;
		case 1:
			/* Up to the first page of c. */
			if (variant->v1) {
				test_type1_unmap(a, c + PAGE_SIZE - a, 0, sum);
				break;
			}
			test_err_type1_unmap(EINVAL, a, c + PAGE_SIZE - a, 0);
			test_type1_unmap(a, BUF_SIZE, 0, sum);
			break;
		case 2:
			/* From inside b, over the whole of c. */
			if (variant->v1)
				test_type1_unmap(b + PAGE_SIZE, BUF_SIZE, 0, 0);
			else
				test_err_type1_unmap(EINVAL, b + PAGE_SIZE,
						     BUF_SIZE, 0);
			EXPECT_TRUE(dma_works(self, c, c + SZ_2M / 2));
			test_type1_unmap(a, BUF_SIZE, 0, sum);
			break;
		}
		EXPECT_TRUE(pins_at_baseline(self));
	}
}

/* VFIO_DMA_UNMAP_FLAG_ALL: every mapping, on v1 as on v2. */
TEST_F(compat, unmap_all)
{
	test_type1_map(self->buf.addr, SZ_2M, IOVA, ST_T1_RW);
	test_type1_map(self->buf.addr + SZ_2M, PAGE_SIZE, IOVA + 2 * SZ_2M,
		       ST_T1_RW);
	test_type1_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, SZ_2M + PAGE_SIZE);
	EXPECT_TRUE(pins_at_baseline(self));
}

/*
 * DPDK's external memory pattern (rte_vfio_container_dma_unmap of a
 * heap, page by page): map 2 MiB, then unmap it 4 KiB at a time.  On v1
 * the first unmap takes it all and the rest find nothing; on v2 every one
 * fails and the mapping stays, pinned, until the container goes.
 */
TEST_F(compat, dpdk_external_mem)
{
	uint64_t off, done;
	int failed = 0, wrong = 0;

	test_type1_map(self->buf.addr, SZ_2M, IOVA, ST_T1_RW);
	for (off = 0; off < SZ_2M; off += PAGE_SIZE) {
		if (_test_type1_unmap(self->container, IOVA + off, PAGE_SIZE, 0,
				      &done)) {
			failed += errno == EINVAL;
			continue;
		}
		wrong += done != (variant->v1 && !off ? SZ_2M : 0);
	}
	EXPECT_EQ(0, wrong);
	if (variant->v1) {
		EXPECT_EQ(0, failed);
		EXPECT_TRUE(pins_at_baseline(self));
		return;
	}
	EXPECT_EQ(SZ_2M / PAGE_SIZE, failed);
	EXPECT_TRUE(dma_works(self, IOVA + SZ_2M - PAGE_SIZE, IOVA));
	EXPECT_FALSE(pins_at_baseline(self));
	container_close(self);
	EXPECT_TRUE(pins_at_baseline(self));
}

/*
 * Malformed unmaps fail as type1's do, on v1 as on v2, and change
 * nothing.  Dirty tracking is off, so a dirty-bitmap unmap is EINVAL,
 * EFAULT when the bitmap struct after the unmap struct cannot be read.
 */
TEST_F(compat, unmap_bad_input)
{
	const size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					 size);
	struct vfio_iommu_type1_dma_unmap *u;
	struct vfio_bitmap *bitmap;
	uint8_t *pages;

	test_type1_map(self->buf.addr, SZ_2M, IOVA, ST_T1_RW);

	test_err_type1_unmap(EINVAL, IOVA, SZ_2M, 1U << 7);
	test_err_type1_unmap(EINVAL, IOVA, 0, 0);
	test_err_type1_unmap(EINVAL, IOVA + 1, PAGE_SIZE, 0);
	test_err_type1_unmap(EINVAL, IOVA, PAGE_SIZE + 1, 0);
	test_err_type1_unmap(EINVAL, -PAGE_SIZE, 2 * PAGE_SIZE, 0);
	test_err_type1_unmap(EINVAL, IOVA, SZ_2M, VFIO_DMA_UNMAP_FLAG_ALL);
	test_err_type1_unmap(EINVAL, IOVA, 0, VFIO_DMA_UNMAP_FLAG_ALL);
	test_err_type1_unmap(EINVAL, 0, PAGE_SIZE, VFIO_DMA_UNMAP_FLAG_ALL);
	/* argsz too small for the bitmap, or the bitmap with ALL. */
	test_err_type1_unmap(EINVAL, IOVA, SZ_2M,
			     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP);
	test_err_type1_unmap(EINVAL, 0, 0,
			     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			     VFIO_DMA_UNMAP_FLAG_ALL);

	/* The struct ends a page; what follows is PROT_NONE. */
	pages = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	u = (void *)(pages + PAGE_SIZE - minsz - sizeof(*bitmap));
	bitmap = (void *)((uint8_t *)u + minsz);
	memset(u, 0, minsz + sizeof(*bitmap));
	u->argsz = minsz + sizeof(*bitmap);
	u->flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	u->iova = IOVA;
	u->size = SZ_2M;
	bitmap->pgsize = PAGE_SIZE;
	bitmap->size = SZ_2M / PAGE_SIZE / 8;
	bitmap->data = (void *)pages;
	EXPECT_ERRNO(EINVAL, ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, u));
	u = (void *)(pages + PAGE_SIZE - minsz);
	memmove(u, (uint8_t *)u - sizeof(*bitmap), minsz);
	ASSERT_EQ(0, mprotect(pages + PAGE_SIZE, PAGE_SIZE, PROT_NONE));
	EXPECT_ERRNO(EFAULT, ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, u));
	/* argsz below the struct. */
	u->argsz = minsz - 1;
	u->flags = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, u));
	munmap(pages, 2 * PAGE_SIZE);

	/* Not offered here (type1 has it: VFIO_UPDATE_VADDR). */
	if (variant->ours)
		test_err_type1_unmap(EINVAL, IOVA, SZ_2M,
				     VFIO_DMA_UNMAP_FLAG_VADDR);

	EXPECT_TRUE(dma_works(self, IOVA, IOVA + SZ_2M / 2));
	test_type1_unmap(IOVA, SZ_2M, 0, SZ_2M);
	EXPECT_TRUE(pins_at_baseline(self));
}

/* --- Several containers in the admin view ------------------------------- */

/*
 * Racing a type1 program's own calls against each other and against the
 * container going away: two threads map and unmap 4 KiB pages of the
 * buffer (one page, or the whole range at once) on their own dup of the
 * container; on ours a third pre-registers and unregisters the same
 * memory through IOMMU_REG_PREREG/UNREG on the same fd.  After 150 ms
 * the test closes the device and the group (the last group leaves: VFIO
 * releases the backend under the threads) and the container fd; the
 * threads go on on their dups for 100 ms more, then close them.  Every
 * call must succeed or fail with an errno the caller can act on, no pin
 * may stay behind, and the kernel log must stay clean (vm-run checks).
 */
struct race_arg {
	int fd;
	uint8_t *addr;
	bool prereg;
	unsigned int seed;
	volatile bool *stop;
	unsigned long calls;
	unsigned long odd;	/* calls that failed with another errno */
	int odd_errno;
};

static void race_note(struct race_arg *a, int ret)
{
	a->calls++;
	if (!ret)
		return;
	switch (errno) {
	case EEXIST:	/* mapped already (by the other thread) */
	case EINVAL:	/* v2 bisect; no backend left after the last group */
	case ENOENT:	/* that handle is gone */
	case EBUSY:	/* the registration is mapped */
	case ENOTTY:	/* no backend: IOMMU_REG_* on a bare container */
	case ENODEV:	/* the container was released under the call */
		return;
	}
	a->odd++;
	a->odd_errno = errno;
}

static void *race_mapper(void *p)
{
	struct race_arg *a = p;
	unsigned int i = a->seed;
	uint32_t handle = 0;

	while (!*a->stop) {
		uint64_t off = (uint64_t)((i * 2654435761u) %
					  (BUF_SIZE / PAGE_SIZE)) * PAGE_SIZE;

		i++;
		if (a->prereg) {
			if (_test_prereg(a->fd, a->addr, BUF_SIZE, 0, &handle,
					 NULL)) {
				race_note(a, -1);
				continue;
			}
			race_note(a, 0);
			race_note(a, _test_unreg(a->fd, handle, 0));
			continue;
		}
		race_note(a, _test_type1_map(a->fd, a->addr + off, PAGE_SIZE,
					     IOVA + off, ST_T1_RW));
		if (i % 8 == 0)
			race_note(a, _test_type1_unmap(a->fd, IOVA, BUF_SIZE, 0,
						       NULL));
		else
			race_note(a, _test_type1_unmap(a->fd, IOVA + off,
						       PAGE_SIZE, 0, NULL));
	}
	return NULL;
}

TEST_F(compat, race_against_detach_and_close)
{
	struct race_arg args[3];
	pthread_t threads[3];
	volatile bool stop = false;
	unsigned long calls = 0;
	int n = 3;
	int i;

	/*
	 * Not on the kernel's type1: VFIO's legacy container passes MAP and
	 * UNMAP to the backend without container->group_lock (6.1 and
	 * 6.12, vfio_fops_unl_ioctl()), while the last group's detach
	 * releases the backend under it, and type1 frees its vfio_iommu and
	 * every vfio_dma there.  Run here, the type1v2 reference died:
	 * WARN in __put_task_struct from vfio_remove_dma() in an UNMAP,
	 * then mm refcount underflow and a dead guest.  This backend looks
	 * its container up by a cookie under RCU and survives it.
	 */
	if (!variant->ours)
		SKIP(return, "the kernel's type1 does not survive this race");
	memset(args, 0, sizeof(args));
	for (i = 0; i < n; i++) {
		args[i].fd = dup(self->container);
		ASSERT_LE(0, args[i].fd);
		args[i].addr = self->buf.addr;
		args[i].prereg = i == 2;	/* IOMMU_REG_* on the same fd */
		args[i].seed = i * 1000;
		args[i].stop = &stop;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, race_mapper,
					    &args[i]));
	}
	usleep(150000);
	container_close(self);
	usleep(100000);
	stop = true;
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		close(args[i].fd);
		calls += args[i].calls;
		if (args[i].odd)
			TH_LOG("thread %d: %lu calls failed with %s", i,
			       args[i].odd, strerror(args[i].odd_errno));
		EXPECT_EQ(0, args[i].odd);
	}
	TH_LOG("%lu calls in 250 ms", calls);
	EXPECT_LT(100, calls);
	EXPECT_TRUE(pins_at_baseline(self));
}

/*
 * A type1 program run by an ordinary user, as DPDK runs with its groups
 * handed over by udev: the group node is given to USER_ID and a child
 * that is USER_ID with no capability and a 64 KiB RLIMIT_MEMLOCK maps
 * and unmaps.  Within the limit it works; past it MAP_DMA fails with
 * ENOMEM and pins nothing; a v1 unmap of the whole range reports what it
 * removed.  The results must be type1's.
 */
#define T1_USER		65534
#define T1_MEMLOCK	(64 * 1024)

static int unpriv_child(const char *bdf, unsigned long type, uint8_t *buf)
{
	struct rlimit rl = { .rlim_cur = T1_MEMLOCK, .rlim_max = T1_MEMLOCK };
	struct edu_dev edu;
	uint64_t unmapped;
	int container;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setresgid(T1_USER, T1_USER, T1_USER) ||
	    setresuid(T1_USER, T1_USER, T1_USER))
		return 10;
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return 11;
	if (edu_open(&edu, container, bdf, type))
		return 12;
	/* 32 KiB: within the limit. */
	if (_test_type1_map(container, buf, 32768, IOVA, ST_T1_RW))
		return 13;
	/* 2 MiB more: past it. */
	if (!_test_type1_map(container, buf + SZ_2M, SZ_2M, IOVA + SZ_2M,
			     ST_T1_RW) || errno != ENOMEM)
		return 14;
	if (_test_type1_unmap(container, 0, 1ULL << 47, 0, &unmapped) ||
	    unmapped != 32768)
		return 15;
	/* The limit is free again: 48 KiB would not fit beside 32. */
	if (_test_type1_map(container, buf, 49152, IOVA, ST_T1_RW))
		return 16;
	edu_close(&edu);
	close(container);
	return 0;
}

TEST_F(compat, unprivileged_type1_program)
{
	const char *bdf = st_edu_bdf(0);
	char node[64];
	struct stat st;
	int status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to hand the group node to uid %d",
		     T1_USER);
	/* The child opens the group itself. */
	container_close(self);
	snprintf(node, sizeof(node), "/dev/vfio/%d", vfio_group_of(bdf));
	ASSERT_EQ(0, stat(node, &st));
	ASSERT_EQ(0, chown(node, T1_USER, T1_USER));
	/* Child and parent share self->buf (anonymous, private): the child
	 * maps its copy-on-write view, touched already. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(unpriv_child(bdf, variant->type, self->buf.addr));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, chown(node, st.st_uid, st.st_gid));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status))
		TH_LOG("uid %d: step %d failed", T1_USER,
		       WEXITSTATUS(status) - 10);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(pins_at_baseline(self));
}

FIXTURE(admin) {
	struct nl nl;
	int container[2];
	int group[2];
};

FIXTURE_SETUP(admin)
{
	int i;

	for (i = 0; i < 2; i++) {
		self->container[i] = -1;
		self->group[i] = -1;
	}
	if (!st_edu_bdf(1))
		SETUP_SKIP("two edu devices (two groups) needed");
	if (!st_module_path() || access(st_module_path(), R_OK))
		SETUP_SKIP("no iommu_reg.ko to reload (set IREG_MODULE)");
	ASSERT_EQ(0, compat_load(true));
	ASSERT_EQ(0, nl_open(&self->nl));
	for (i = 0; i < 2; i++) {
		self->container[i] = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->container[i]);
		self->group[i] = vfio_group_open(st_edu_bdf(i));
		ASSERT_LE(0, self->group[i]);
	}
}

FIXTURE_TEARDOWN(admin)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->group[i] >= 0)
			close(self->group[i]);
		if (self->container[i] >= 0)
			close(self->container[i]);
	}
	close(self->nl.fd);
}

/*
 * A type1 container and a type1v2 one: the admin view lists both, each
 * with its number, and none once its group has left.
 */
TEST_F(admin, type1_containers_listed)
{
	struct nl_containers cs;

	ASSERT_EQ(0, vfio_container_attach(self->container[0], self->group[0],
					   VFIO_TYPE1_IOMMU));
	ASSERT_EQ(0, nl_dump_containers(&self->nl, getpid(), &cs));
	EXPECT_EQ(1, cs.nr);
	EXPECT_EQ(1, nl_containers_of_type(&cs, VFIO_TYPE1_IOMMU));

	ASSERT_EQ(0, vfio_container_attach(self->container[1], self->group[1],
					   VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, nl_dump_containers(&self->nl, getpid(), &cs));
	EXPECT_EQ(2, cs.nr);
	EXPECT_EQ(1, nl_containers_of_type(&cs, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(1, nl_containers_of_type(&cs, VFIO_TYPE1v2_IOMMU));
	EXPECT_NE(cs.id[0], cs.id[1]);

	/* The last group leaving releases the backend. */
	ASSERT_EQ(0, ioctl(self->group[0], VFIO_GROUP_UNSET_CONTAINER));
	ASSERT_EQ(0, nl_dump_containers(&self->nl, getpid(), &cs));
	EXPECT_EQ(1, cs.nr);
	EXPECT_EQ(0, nl_containers_of_type(&cs, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(1, nl_containers_of_type(&cs, VFIO_TYPE1v2_IOMMU));
}

/* --- Back to the default ------------------------------------------------ */

FIXTURE(restore) {
	int unused;
};

FIXTURE_SETUP(restore)
{
	if (!st_module_path() || access(st_module_path(), R_OK))
		SETUP_SKIP("no iommu_reg.ko to reload (set IREG_MODULE)");
}

FIXTURE_TEARDOWN(restore)
{
}

/* The mode off again: VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU) is type1's. */
TEST_F(restore, mode_off_again)
{
	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	ASSERT_EQ(0, compat_load(false));
	ASSERT_LE(0, container);
	EXPECT_EQ(1, ioctl(container, VFIO_CHECK_EXTENSION, VFIO_IOMMU_REG));
	close(container);
}

TEST_HARNESS_MAIN
