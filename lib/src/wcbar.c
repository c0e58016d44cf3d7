// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Write-combining BAR mappings: IOMMU_REG_WC_BAR, then mmap() of the fd.
 * The kernel wants CAP_SYS_RAWIO (EPERM otherwise: it cannot zap the
 * mapping when the device stops decoding, so it trusts the caller as
 * sysfs resourceN_wc does) and the device open through VFIO
 * (ireg_device_open()), and revokes the mapping when the device is
 * closed: a touch after ireg_ctx_close() raises SIGBUS.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "iommureg.h"
#include "internal.h"

static const struct errno_why wc_bar_whys[] = {
	{ EPERM, "needs CAP_SYS_RAWIO, as sysfs resourceN_wc does (or the kernel is locked down)" },
	{ ENOENT, "device not in the context, or BAR not implemented" },
	{ ENODEV, "device not open (ireg_device_open() it first)" },
	{ EOPNOTSUPP, "an I/O port BAR, or not page aligned" },
	{ ERANGE, "beyond the BAR" },
	{ EBUSY, "PAT refused write-combining (another memory type holds the range)" },
	{ 0 }
};

int ireg_wc_bar_map(struct ireg_ctx *ctx, const char *bdf, unsigned int bar,
		    uint64_t offset, size_t length, struct ireg_wc_bar *wc)
{
	struct iommu_reg_wc_bar cmd = {
		.argsz = sizeof(cmd),
		.bar = bar,
		.offset = offset,
		.length = length,
	};
	void *addr;
	int ret;

	ret = __ireg_dev_ioctl(ctx, bdf, IOMMU_REG_WC_BAR, &cmd,
			       &cmd.pci_domain, &cmd.pci_rid, wc_bar_whys,
			       "IOMMU_REG_WC_BAR %s BAR%u window %#llx+%#zx",
			       bdf, bar, (unsigned long long)offset, length);
	if (ret)
		return ret;
	addr = mmap(NULL, cmd.length, PROT_READ | PROT_WRITE, MAP_SHARED,
		    cmd.fd, 0);
	if (addr == MAP_FAILED) {
		ret = errno;
		close(cmd.fd);
		return __ireg_fail(ctx, ret, "mmap of the WC BAR fd: %s",
				   strerror(ret));
	}
	wc->addr = addr;
	wc->length = cmd.length;
	wc->offset = offset;
	wc->bar_size = cmd.bar_size;
	wc->fd = cmd.fd;
	wc->bar = bar;
	return 0;
}

int ireg_wc_bar_unmap(struct ireg_wc_bar *wc)
{
	int ret = 0;

	if (wc->addr && munmap(wc->addr, wc->length))
		ret = __ireg_failf(errno, "munmap of the WC BAR: %s",
				   strerror(errno));
	if (wc->fd >= 0 && close(wc->fd) && !ret)
		ret = __ireg_failf(errno, "close of the WC BAR fd: %s",
				   strerror(errno));
	wc->addr = NULL;
	wc->fd = -1;
	return ret;
}
