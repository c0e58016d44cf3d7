/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A user-space driver for QEMU's edu device, through VFIO: enough to use
 * it as a DMA engine.  Shared by the selftests, the examples and the
 * iommu-reg tool's self-check.
 *
 * edu (hw/misc/edu.c) has one DMA channel between guest memory and a
 * 4 KiB buffer inside the device at device address EDU_DMA_BUF.  A
 * transfer is programmed with source, destination and count registers and
 * started through the command register; QEMU performs it from a timer
 * about 100 ms of virtual time later and then clears EDU_CMD_RUN.  The
 * DMA registers take 4 and 8 byte accesses, and a 4 byte write at the
 * register's offset replaces the whole 64-bit value, so 64-bit IOVAs are
 * written with one 8 byte store through the BAR mapping.  The device does
 * not start DMA until bus mastering is enabled in its command register.
 *
 * QEMU 7.2's edu checks a transfer against its buffer with an exclusive
 * end on both sides, so a transfer reaching the buffer's last byte is
 * "out of bounds" and hw_error() aborts the whole VM: EDU_DMA_MAX is one
 * byte short of the buffer, and edu_dma() refuses anything longer.
 *
 * A transfer the IOMMU refuses completes like any other, without data;
 * only the kernel log says so (a DMAR fault).
 */
#ifndef EDU_H
#define EDU_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include "clock.h"

#define EDU_BAR0_SIZE		(1U << 20)
#define EDU_REG_ID		0x00
#define EDU_ID_MAGIC		0xed
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_CMD_RUN		(1U << 0)
#define EDU_CMD_TO_RAM		(1U << 1)	/* device buffer -> RAM */
#define EDU_CMD_IRQ		(1U << 2)
#define EDU_DMA_BUF		0x40000ULL
#define EDU_DMA_BUF_SIZE	4096U
#define EDU_DMA_MAX		(EDU_DMA_BUF_SIZE - 1)
#define EDU_DMA_TIMEOUT_MS	5000

enum edu_dir {
	EDU_RAM_TO_DEV,		/* read guest memory at the IOVA */
	EDU_DEV_TO_RAM,		/* write guest memory at the IOVA */
};

/* @bdf and @group belong to whoever opened the device; -1 when unused. */
struct edu_dev {
	const char *bdf;
	int group;
	int fd;
	volatile uint8_t *bar;
};

static inline uint64_t edu_read64(const struct edu_dev *edu, unsigned int reg)
{
	return *(volatile uint64_t *)(edu->bar + reg);
}

static inline void edu_write64(const struct edu_dev *edu, unsigned int reg,
			       uint64_t val)
{
	*(volatile uint64_t *)(edu->bar + reg) = val;
}

static inline uint32_t edu_read32(const struct edu_dev *edu, unsigned int reg)
{
	return *(volatile uint32_t *)(edu->bar + reg);
}

/* Map BAR0 of a device fd; NULL with errno on failure. */
static inline volatile uint8_t *edu_map_bar0(int fd)
{
	struct vfio_region_info bar0 = {
		.argsz = sizeof(bar0),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	void *bar;

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &bar0))
		return NULL;
	if (bar0.size < EDU_BAR0_SIZE ||
	    !(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = ENODEV;
		return NULL;
	}
	bar = mmap(NULL, EDU_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, bar0.offset);
	return bar == MAP_FAILED ? NULL : bar;
}

/* Set PCI_COMMAND_MASTER (read-modify-write); 0 or -1 with errno. */
static inline int edu_bus_master(int fd)
{
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t cmd;

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return -1;
	if (pread(fd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -1;
	cmd |= PCI_COMMAND_MASTER;
	if (pwrite(fd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -1;
	if (pread(fd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) !=
	    sizeof(cmd))
		return -1;
	if (!(cmd & PCI_COMMAND_MASTER)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Make an open VFIO device fd ready for DMA: map BAR0, check that it is an
 * edu, enable bus mastering.  0 or -1 with errno; on failure BAR0 is not
 * left mapped.  @edu->fd and @edu->bar are set.
 */
static inline int edu_init(struct edu_dev *edu, int device_fd)
{
	int saved;

	edu->fd = device_fd;
	edu->bar = edu_map_bar0(device_fd);
	if (!edu->bar)
		return -1;
	if ((edu_read32(edu, EDU_REG_ID) & 0xff) != EDU_ID_MAGIC) {
		errno = ENODEV;
		goto err_unmap;
	}
	if (edu_bus_master(device_fd))
		goto err_unmap;
	return 0;

err_unmap:
	saved = errno;
	munmap((void *)edu->bar, EDU_BAR0_SIZE);
	edu->bar = NULL;
	errno = saved;
	return -1;
}

/* Wait until no transfer runs; 0, or -1 with ETIMEDOUT. */
static inline int edu_dma_wait(const struct edu_dev *edu, int timeout_ms)
{
	uint64_t end = clock_now_us() + timeout_ms * 1000ULL;

	while (edu_read64(edu, EDU_REG_DMA_CMD) & EDU_CMD_RUN) {
		if (clock_now_us() > end) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(10000);
	}
	return 0;
}

/*
 * One transfer of @len bytes between @iova and the start of the device
 * buffer, waited for.  0, or -1 with errno (EINVAL: @len does not fit the
 * buffer; ETIMEDOUT).  Success says the device finished, not that the
 * IOMMU let it through.
 */
static inline int edu_dma(const struct edu_dev *edu, uint64_t iova,
			  uint32_t len, enum edu_dir dir, int timeout_ms)
{
	if (!len || len > EDU_DMA_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (edu_dma_wait(edu, timeout_ms))
		return -1;
	if (dir == EDU_RAM_TO_DEV) {
		edu_write64(edu, EDU_REG_DMA_SRC, iova);
		edu_write64(edu, EDU_REG_DMA_DST, EDU_DMA_BUF);
	} else {
		edu_write64(edu, EDU_REG_DMA_SRC, EDU_DMA_BUF);
		edu_write64(edu, EDU_REG_DMA_DST, iova);
	}
	edu_write64(edu, EDU_REG_DMA_COUNT, len);
	edu_write64(edu, EDU_REG_DMA_CMD, EDU_CMD_RUN |
		    (dir == EDU_DEV_TO_RAM ? EDU_CMD_TO_RAM : 0));
	return edu_dma_wait(edu, timeout_ms);
}

/* Copy @len bytes from @src_iova into the device, then out to @dst_iova. */
static inline int edu_dma_copy(const struct edu_dev *edu, uint64_t src_iova,
			       uint64_t dst_iova, uint32_t len)
{
	if (edu_dma(edu, src_iova, len, EDU_RAM_TO_DEV, EDU_DMA_TIMEOUT_MS))
		return -1;
	return edu_dma(edu, dst_iova, len, EDU_DEV_TO_RAM, EDU_DMA_TIMEOUT_MS);
}

#endif /* EDU_H */
