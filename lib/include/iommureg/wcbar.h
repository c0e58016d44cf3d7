/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg write-combining BAR mappings: a wrapper of IOMMU_REG_WC_BAR
 * and the mmap() of the fd it returns.  Included by <iommureg.h>.
 *
 * Devices are named by BDF ("0000:00:03.0" or "00:03.0"); the device's
 * group must be in the context (ireg_device_open()).  Conventions as in
 * <iommureg.h>: 0 or a non-negative value on success, a negative errno on
 * failure, the reason in ireg_ctx_errmsg().
 */
#ifndef LIBIOMMUREG_WCBAR_H
#define LIBIOMMUREG_WCBAR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ireg_ctx;

/**
 * struct ireg_wc_bar - a write-combining mapping of a BAR window
 * @addr: the mapping (BAR offset @offset)
 * @length: bytes mapped
 * @offset: BAR offset of @addr
 * @bar_size: size of the BAR
 * @fd: the kernel's WC BAR fd behind the mapping
 * @bar: BAR index
 */
struct ireg_wc_bar {
	void *addr;
	size_t length;
	uint64_t offset;
	uint64_t bar_size;
	int fd;
	unsigned int bar;
};

int ireg_wc_bar_map(struct ireg_ctx *ctx, const char *bdf, unsigned int bar,
		    uint64_t offset, size_t length, struct ireg_wc_bar *wc);
int ireg_wc_bar_unmap(struct ireg_wc_bar *wc);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_WCBAR_H */
