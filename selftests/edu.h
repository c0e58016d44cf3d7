/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The QEMU edu device as a DMA engine for the selftests: opening it in a
 * container, and the kernel-log markers around DMA meant to fault.  The
 * device itself is driven by tools/include/edu.h.
 *
 * A transfer the IOMMU refuses completes like any other, without data;
 * only the kernel log says so (a DMAR fault).  Tests that fault on
 * purpose wrap the transfer in edu_expect_fault_begin() / _end(), which
 * the VM's log scanner (tools/testing/vm/scan-klog) honours.
 */
#ifndef ST_EDU_H
#define ST_EDU_H

#include <poll.h>
#include "reg_helpers.h"
#include "../tools/include/edu.h"

#define EDU_FAULT_BEGIN		"ireg-test: expect dmar-fault begin"
#define EDU_FAULT_END		"ireg-test: expect dmar-fault end"

/*
 * Put @bdf's group in @container, select backend @type on it unless 0
 * (the container already has one), and open the device ready for DMA.
 * 0 or -1 with errno; on failure nothing stays open.
 */
static inline int edu_open(struct edu_dev *edu, int container,
			   const char *bdf, unsigned long type)
{
	int saved;

	memset(edu, 0, sizeof(*edu));
	edu->bdf = bdf;
	edu->fd = -1;
	edu->group = vfio_group_open(bdf);
	if (edu->group < 0)
		return -1;
	if (ioctl(edu->group, VFIO_GROUP_SET_CONTAINER, &container))
		goto err_close_group;
	if (type && ioctl(container, VFIO_SET_IOMMU, type))
		goto err_close_group;
	edu->fd = ioctl(edu->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (edu->fd < 0)
		goto err_close_group;
	if (edu_init(edu, edu->fd))
		goto err_close_device;
	return 0;

err_close_device:
	saved = errno;
	close(edu->fd);
	errno = saved;
err_close_group:
	saved = errno;
	close(edu->group);
	errno = saved;
	edu->bar = NULL;
	edu->fd = -1;
	edu->group = -1;
	return -1;
}

static inline void edu_close(struct edu_dev *edu)
{
	if (edu->bar)
		munmap((void *)edu->bar, EDU_BAR0_SIZE);
	if (edu->fd >= 0)
		close(edu->fd);
	if (edu->group >= 0)
		close(edu->group);
	edu->bar = NULL;
	edu->fd = -1;
	edu->group = -1;
}

/* VT-d reports a fault within milliseconds of the transfer's end. */
#define EDU_FAULT_WAIT_MS	300
#define EDU_POISON		0x5a

/* A pseudo-random pattern of @len bytes, different for each @seed. */
static inline void edu_fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

/*
 * Poison @len bytes and the one after them, so that an overlong device
 * write shows.
 */
static inline void edu_poison(uint8_t *p, size_t len)
{
	memset(p, EDU_POISON, len + 1);
}

static inline bool edu_is_poisoned(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != EDU_POISON)
			return false;
	return true;
}

/*
 * A copy by the device of @seed's pattern at @src (IOVA @src_iova) to
 * @dst (IOVA @dst_iova), poisoned first: the pattern arrives whole and
 * the byte after it stays poisoned.
 */
#define test_edu_copy(edu, src, src_iova, dst, dst_iova, seed)		\
	({								\
		edu_fill(src, EDU_DMA_MAX, seed);			\
		edu_poison(dst, EDU_DMA_MAX);				\
		ASSERT_EQ(0, edu_dma_copy(edu, src_iova, dst_iova,	\
					  EDU_DMA_MAX));		\
		ASSERT_EQ(0, memcmp(src, dst, EDU_DMA_MAX));		\
		EXPECT_EQ(EDU_POISON, (dst)[EDU_DMA_MAX]);		\
	})

/*
 * The setup of the fixtures around one edu device doing DMA: self->buf
 * of @size bytes of memory @mem, and the first edu device in a new
 * container of ours (self->container), open in self->edu.  Skips the test
 * when the VM has no edu device or the machine cannot give that memory.
 * The fixture's teardown is edu_fixture_teardown().
 */
#define edu_fixture_setup(mem, size)					\
	({								\
		const char *__bdf = st_edu_bdf(0);			\
									\
		self->container = -1;					\
		self->edu = (struct edu_dev){ .group = -1, .fd = -1 };	\
		if (!__bdf)						\
			SETUP_SKIP("no edu device in IREG_EDU_BDFS");	\
		if (st_buf_alloc(&self->buf, mem, size)) {		\
			if (self->buf.skip)				\
				SETUP_SKIP("%s", self->buf.skip);	\
			ASSERT_TRUE(false)				\
				TH_LOG("buffer: %s", strerror(errno));	\
		}							\
		self->container = open("/dev/vfio/vfio",		\
				       O_RDWR | O_CLOEXEC);		\
		ASSERT_LE(0, self->container);				\
		ASSERT_EQ(0, edu_open(&self->edu, self->container,	\
				      __bdf, VFIO_IOMMU_REG));		\
	})

static inline void edu_fixture_teardown(int *container, struct edu_dev *edu,
					struct st_buf *buf)
{
	edu_close(edu);
	st_close(container);
	st_buf_free(buf);
}

/*
 * A fixture @name around one edu device, with a variant for each memory
 * type DMA is tested on (anon_4k, thp, hugetlb_2m, memfd), and a buffer
 * of @size bytes of it.  Needs the harness.
 */
/*
 * A fixture @name around one edu device, with @size bytes of 4 KiB
 * anonymous pages at self->mem (self->buf).  Needs the harness.
 */
#define EDU_BUF_FIXTURE(name, size)					\
	FIXTURE(name) {							\
		int container;						\
		struct edu_dev edu;					\
		struct st_buf buf;					\
		uint8_t *mem;						\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		edu_fixture_setup(ST_MEM_ANON_4K, size);		\
		self->mem = self->buf.addr;				\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		edu_fixture_teardown(&self->container, &self->edu,	\
				     &self->buf);			\
	}

#define EDU_MEM_VARIANT(name, v, type)					\
	FIXTURE_VARIANT_ADD(name, v) {					\
		.mem = type,						\
	}

#define EDU_MEM_FIXTURE(name, size)					\
	FIXTURE(name) {							\
		int container;						\
		struct edu_dev edu;					\
		struct st_buf buf;					\
	};								\
	FIXTURE_VARIANT(name) {						\
		enum st_mem mem;					\
	};								\
	EDU_MEM_VARIANT(name, anon_4k, ST_MEM_ANON_4K);			\
	EDU_MEM_VARIANT(name, thp, ST_MEM_THP);				\
	EDU_MEM_VARIANT(name, hugetlb_2m, ST_MEM_HUGETLB_2M);		\
	EDU_MEM_VARIANT(name, memfd, ST_MEM_MEMFD);			\
	FIXTURE_SETUP(name)						\
	{								\
		edu_fixture_setup(variant->mem, size);			\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		edu_fixture_teardown(&self->container, &self->edu,	\
				     &self->buf);			\
	}

/*
 * The kernel log around a DMA that is meant to fault.  begin() opens
 * /dev/kmsg at its end and writes the begin marker; end() waits up to
 * @wait_ms for the DMAR fault report of @iova (VT-d reports faults from
 * an interrupt, after the transfer has completed), writes the end marker
 * and says whether the report was seen.  Reports are rate limited by the
 * kernel (10 per 5 s), so a missing one is not proof of no fault.
 */
static inline int edu_expect_fault_begin(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	st_kmsg(EDU_FAULT_BEGIN);
	return fd;
}

static inline bool edu_expect_fault_end(int kmsg, uint64_t iova, int wait_ms)
{
	uint64_t end = clock_now_us() + wait_ms * 1000ULL;
	struct pollfd pfd = { .fd = kmsg, .events = POLLIN };
	char rec[1024], addr[32];
	bool seen = false;
	ssize_t n;

	snprintf(addr, sizeof(addr), "fault addr 0x%llx",
		 (unsigned long long)iova & ~0xfffULL);
	while (kmsg >= 0 && !seen && clock_now_us() < end) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EAGAIN) {
			poll(&pfd, 1, 20);
			continue;
		}
		if (n < 0 && errno == EPIPE)	/* overwritten records */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		seen = strstr(rec, "DMAR: [DMA") && strstr(rec, addr);
	}
	/*
	 * Let the rest of the report (more records of the same interrupt)
	 * reach the log; when nothing was seen it may still be on its way.
	 */
	usleep(seen ? 20000 : 100000);
	st_kmsg(EDU_FAULT_END);
	if (kmsg >= 0)
		close(kmsg);
	return seen;
}

#endif /* ST_EDU_H */
