// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device DMA through registered memory, with the edu device: a round trip
 * RAM -> device -> RAM through the IOVA the backend returned, for every
 * memory type and IOVA placement; isolation (a device write through an
 * unmapped IOVA or a read-only mapping faults and leaves memory alone);
 * two devices sharing one registration; and a registration surviving
 * fork().
 *
 * A transfer copies EDU_DMA_MAX bytes (one byte short of a page, see
 * edu.h) between the buffer and the device; the byte after each
 * destination is poisoned too, so an overlong write would show.
 */
#include "edu.h"
#include "kselftest_harness.h"

#define PAGE_SIZE	ST_PAGE_SIZE
#define BUF_SIZE	ST_SZ_2M
#define FIXED_IOVA	0x40000000ULL

/* Offsets in the buffer of a transfer's source and destination. */
#define SRC_OFF		0
#define DST_OFF		(BUF_SIZE / 2 + PAGE_SIZE)

FIXTURE(dma) {
	int container;
	struct edu_dev edu;
	struct st_buf buf;
	uint8_t *mem;
};

FIXTURE_VARIANT(dma) {
	enum st_mem mem;
	uint32_t placement;	/* 0 (kernel-chosen), FIXED or IDENTITY */
};

#define DMA_VARIANT(name, type)						\
	FIXTURE_VARIANT_ADD(dma, name##_kernel) {			\
		.mem = type,						\
	};								\
	FIXTURE_VARIANT_ADD(dma, name##_fixed) {			\
		.mem = type,						\
		.placement = IOMMU_REG_MAP_IOVA_FIXED,			\
	};								\
	FIXTURE_VARIANT_ADD(dma, name##_identity) {			\
		.mem = type,						\
		.placement = IOMMU_REG_MAP_IOVA_IDENTITY,		\
	}

DMA_VARIANT(anon_4k, ST_MEM_ANON_4K);
DMA_VARIANT(thp, ST_MEM_THP);
DMA_VARIANT(hugetlb_2m, ST_MEM_HUGETLB_2M);
DMA_VARIANT(memfd, ST_MEM_MEMFD);

FIXTURE_SETUP(dma)
{
	edu_fixture_setup(variant->mem, BUF_SIZE);
	self->mem = self->buf.addr;
}

FIXTURE_TEARDOWN(dma)
{
	edu_fixture_teardown(&self->container, &self->edu, &self->buf);
}

/* The IOVA a placement must give the whole buffer. */
static bool placement_ok(const FIXTURE_VARIANT(dma) *variant, int container,
			 const void *vaddr, uint64_t iova)
{
	switch (variant->placement) {
	case IOMMU_REG_MAP_IOVA_FIXED:
		return iova == FIXED_IOVA;
	case IOMMU_REG_MAP_IOVA_IDENTITY:
		return iova == (uintptr_t)vaddr;
	default:
		/* Congruent modulo 2 MiB: the buffer is 2 MiB. */
		return iova % ST_SZ_2M == (uintptr_t)vaddr % ST_SZ_2M &&
		       st_iova_usable(container, iova, BUF_SIZE);
	}
}

/* REGISTER's IOVA carries device reads and writes to the right pages. */
TEST_F(dma, round_trip)
{
	uint64_t iova = FIXED_IOVA;
	uint32_t handle;

	test_register(self->mem, BUF_SIZE, variant->placement, ST_PROT_RW,
		      &handle, &iova);
	ASSERT_TRUE(placement_ok(variant, self->container, self->mem, iova))
		TH_LOG("IOVA 0x%llx for buffer %p", (unsigned long long)iova,
		       self->mem);

	test_edu_copy(&self->edu, self->mem + SRC_OFF, iova + SRC_OFF,
		      self->mem + DST_OFF, iova + DST_OFF, 1);
	/* The buffer's last page to its second: both ends of the mapping. */
	test_edu_copy(&self->edu, self->mem + BUF_SIZE - PAGE_SIZE,
		      iova + BUF_SIZE - PAGE_SIZE, self->mem + PAGE_SIZE,
		      iova + PAGE_SIZE, 2);

	test_unreg(handle, 0);
}

/* After UNMAP the old IOVA is gone for the device: the write faults. */
TEST_F(dma, unmap_faults)
{
	uint64_t iova = FIXED_IOVA, unmapped;
	uint32_t handle;
	int kmsg;

	test_prereg(self->mem, BUF_SIZE, 0, &handle, NULL);
	test_map(handle, 0, BUF_SIZE, ST_PROT_RW, variant->placement,
		 &iova);
	ASSERT_TRUE(placement_ok(variant, self->container, self->mem, iova));

	/* Mapped, the transfer works: the device holds the pattern. */
	test_edu_copy(&self->edu, self->mem + SRC_OFF, iova + SRC_OFF,
		      self->mem + DST_OFF, iova + DST_OFF, 3);

	edu_poison(self->mem + DST_OFF, EDU_DMA_MAX);
	test_unmap(iova, BUF_SIZE, 0, &unmapped);
	ASSERT_EQ(BUF_SIZE, unmapped);

	kmsg = edu_expect_fault_begin();
	EXPECT_EQ(0, edu_dma(&self->edu, iova + DST_OFF, EDU_DMA_MAX,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	if (!edu_expect_fault_end(kmsg, iova + DST_OFF, EDU_FAULT_WAIT_MS))
		TH_LOG("no DMAR fault report seen (rate limited?)");
	EXPECT_TRUE(edu_is_poisoned(self->mem + DST_OFF, EDU_DMA_MAX + 1));

	/* The region is still registered and maps again. */
	test_map(handle, 0, BUF_SIZE, ST_PROT_RW, variant->placement,
		 &iova);
	ASSERT_EQ(0, edu_dma(&self->edu, iova + DST_OFF, EDU_DMA_MAX,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(self->mem + SRC_OFF, self->mem + DST_OFF,
			    EDU_DMA_MAX));
	test_unreg(handle, IOMMU_REG_UNREG_UNMAP);
}

/* A READ-only mapping lets the device read and never write. */
TEST_F(dma, readonly_faults)
{
	uint64_t iova = FIXED_IOVA, scratch_iova;
	struct st_buf scratch;
	uint32_t handle, scratch_handle;
	int kmsg;

	ASSERT_EQ(0, st_buf_alloc(&scratch, ST_MEM_ANON_4K, PAGE_SIZE));
	test_register(scratch.addr, PAGE_SIZE, 0, ST_PROT_RW,
		      &scratch_handle, &scratch_iova);
	test_register(self->mem, BUF_SIZE, variant->placement,
		      IOMMU_REG_PROT_READ, &handle, &iova);
	ASSERT_TRUE(placement_ok(variant, self->container, self->mem, iova));

	edu_fill(self->mem + SRC_OFF, EDU_DMA_MAX, 4);
	edu_poison(self->mem + DST_OFF, EDU_DMA_MAX);
	ASSERT_EQ(0, edu_dma(&self->edu, iova + SRC_OFF, EDU_DMA_MAX,
			     EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS));

	kmsg = edu_expect_fault_begin();
	EXPECT_EQ(0, edu_dma(&self->edu, iova + DST_OFF, EDU_DMA_MAX,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	/*
	 * Often unreported: QEMU checks permissions of an IOTLB entry the
	 * read has cached (a whole 2 MiB one for huge pages) without raising
	 * a fault.  The write is dropped all the same.
	 */
	edu_expect_fault_end(kmsg, iova + DST_OFF, EDU_FAULT_WAIT_MS);
	EXPECT_TRUE(edu_is_poisoned(self->mem + DST_OFF, EDU_DMA_MAX + 1));

	/* The read did happen: the device had the pattern to write. */
	edu_poison(scratch.addr, EDU_DMA_MAX);
	ASSERT_EQ(0, edu_dma(&self->edu, scratch_iova, EDU_DMA_MAX,
			     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(self->mem + SRC_OFF, scratch.addr, EDU_DMA_MAX));

	test_unreg(handle, 0);
	test_unreg(scratch_handle, 0);
	st_buf_free(&scratch);
}

/* --- Two devices, fork ---------------------------------------------------- */

FIXTURE(dma2) {
	int container;
	struct edu_dev edu[2];
	struct st_buf buf;
};

FIXTURE_SETUP(dma2)
{
	const char *bdf0 = st_edu_bdf(0), *bdf1 = st_edu_bdf(1);

	self->container = -1;
	self->edu[0] = (struct edu_dev){ .group = -1, .fd = -1 };
	self->edu[1] = self->edu[0];
	if (!bdf0 || !bdf1)
		SETUP_SKIP("needs two edu devices in IREG_EDU_BDFS");
	self->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, edu_open(&self->edu[0], self->container, bdf0,
			      VFIO_IOMMU_REG));
	ASSERT_EQ(0, edu_open(&self->edu[1], self->container, bdf1, 0));
	ASSERT_EQ(0, st_buf_alloc(&self->buf, ST_MEM_ANON_4K, BUF_SIZE));
}

FIXTURE_TEARDOWN(dma2)
{
	edu_close(&self->edu[1]);
	edu_close(&self->edu[0]);
	if (self->container >= 0)
		close(self->container);
	st_buf_free(&self->buf);
}

/* One registration, one IOVA, reachable by every device of the container. */
TEST_F(dma2, two_devices)
{
	uint8_t *mem = self->buf.addr;
	uint64_t iova, a = 0, b = 2 * PAGE_SIZE, c = 4 * PAGE_SIZE;
	uint32_t handle;
	int kmsg, i;

	test_register(mem, BUF_SIZE, 0, ST_PROT_RW, &handle, &iova);
	edu_fill(mem + a, EDU_DMA_MAX, 5);
	edu_poison(mem + b, EDU_DMA_MAX);
	edu_poison(mem + c, EDU_DMA_MAX);

	/* edu0: a -> b, then edu1: b -> c. */
	ASSERT_EQ(0, edu_dma_copy(&self->edu[0], iova + a, iova + b,
				  EDU_DMA_MAX));
	ASSERT_EQ(0, edu_dma_copy(&self->edu[1], iova + b, iova + c,
				  EDU_DMA_MAX));
	EXPECT_EQ(0, memcmp(mem + a, mem + b, EDU_DMA_MAX));
	EXPECT_EQ(0, memcmp(mem + a, mem + c, EDU_DMA_MAX));

	/* Both at once, into different pages. */
	edu_poison(mem + b, EDU_DMA_MAX);
	edu_poison(mem + c, EDU_DMA_MAX);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, edu_dma_wait(&self->edu[i], EDU_DMA_TIMEOUT_MS));
		edu_write64(&self->edu[i], EDU_REG_DMA_SRC, EDU_DMA_BUF);
		edu_write64(&self->edu[i], EDU_REG_DMA_DST,
			    iova + (i ? c : b));
		edu_write64(&self->edu[i], EDU_REG_DMA_COUNT, EDU_DMA_MAX);
		edu_write64(&self->edu[i], EDU_REG_DMA_CMD,
			    EDU_CMD_RUN | EDU_CMD_TO_RAM);
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, edu_dma_wait(&self->edu[i], EDU_DMA_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(mem + a, mem + b, EDU_DMA_MAX));
	EXPECT_EQ(0, memcmp(mem + a, mem + c, EDU_DMA_MAX));

	/* Gone for both once the registration goes. */
	test_unreg(handle, 0);
	edu_poison(mem + b, EDU_DMA_MAX);
	for (i = 0; i < 2; i++) {
		kmsg = edu_expect_fault_begin();
		EXPECT_EQ(0, edu_dma(&self->edu[i], iova + b, EDU_DMA_MAX,
				     EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS));
		edu_expect_fault_end(kmsg, iova + b, EDU_FAULT_WAIT_MS);
	}
	EXPECT_TRUE(edu_is_poisoned(mem + b, EDU_DMA_MAX + 1));
}

EDU_MEM_FIXTURE(fork, BUF_SIZE)

/*
 * The device keeps seeing the registering process's memory after fork().
 *
 * Private memory: the region holds FOLL_LONGTERM pins, so 6.1's fork
 * copies the pinned anonymous pages (and hugetlb pages) into the child
 * right away instead of sharing them copy-on-write; a pinned THP is split
 * in the child's page table and copied the same way.  The child sees the
 * parent's data as of fork() in pages of its own; its writes never reach
 * the parent or the device, and the parent's later writes land in the
 * pinned pages, with no COW fault that could move them.
 *
 * Shared memory (memfd): there is one page for both processes, so the
 * child's writes are the parent's and the device's too.
 */
TEST_F(fork, registration_stays)
{
	uint8_t *mem = self->buf.addr, *want;
	uint64_t iova;
	uint32_t handle;
	int status;
	pid_t pid;

	want = malloc(EDU_DMA_MAX);
	ASSERT_NE(NULL, want);
	test_register(mem, BUF_SIZE, 0, ST_PROT_RW, &handle, &iova);
	edu_fill(mem + SRC_OFF, EDU_DMA_MAX, 6);
	memcpy(want, mem + SRC_OFF, EDU_DMA_MAX);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The parent's data, then the child's own. */
		if (memcmp(mem + SRC_OFF, want, EDU_DMA_MAX))
			_exit(1);
		edu_fill(mem + SRC_OFF, EDU_DMA_MAX, 7);
		edu_poison(mem + DST_OFF, EDU_DMA_MAX);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	if (variant->mem == ST_MEM_MEMFD)	/* shared */
		edu_fill(want, EDU_DMA_MAX, 7);
	EXPECT_EQ(0, memcmp(mem + SRC_OFF, want, EDU_DMA_MAX));

	/* What the device reads is what the parent sees. */
	edu_poison(mem + DST_OFF, EDU_DMA_MAX);
	ASSERT_EQ(0, edu_dma_copy(&self->edu, iova + SRC_OFF, iova + DST_OFF,
				  EDU_DMA_MAX));
	EXPECT_EQ(0, memcmp(want, mem + DST_OFF, EDU_DMA_MAX));

	/* The parent's writes after fork() reach the pinned pages. */
	test_edu_copy(&self->edu, mem + SRC_OFF, iova + SRC_OFF, mem + DST_OFF,
		      iova + DST_OFF, 8);

	test_unreg(handle, 0);
	free(want);
}

TEST_HARNESS_MAIN
