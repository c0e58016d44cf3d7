// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * ireg_share(): give a device the caller's addresses, through SVA or an
 * identity-mapped (IOVA == VA), pinned registration.
 *
 * ireg_share() asks the kernel's capability report first and binds only
 * when it lists nothing missing; a bind the kernel still refuses (Debian's
 * Linux 6.1 refuses every SVA bind on x86 with EOPNOTSUPP) falls back to
 * identity too.  The reason is kept in the share, so the caller sees what
 * it got and why.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iommureg.h"
#include "internal.h"

/* "pasid pri ats" for the bits of @caps that have names. */
static void cap_names(uint32_t caps, char *buf, size_t size)
{
	size_t n = 0;
	uint32_t bit;

	buf[0] = '\0';
	for (bit = 1; bit && n < size; bit <<= 1) {
		const char *name = (caps & bit) ? ireg_sva_cap_name(bit) : NULL;

		if (name)
			n += snprintf(buf + n, size - n, "%s%s", n ? " " : "",
				      name);
	}
}

static int share_identity(struct ireg_ctx *ctx, void *addr, size_t len,
			  unsigned int flags, struct ireg_share *share)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)addr & ~(uintptr_t)(page - 1);
	uintptr_t end;
	uint32_t prot = IOMMU_REG_PROT_READ, rflags = IOMMU_REG_MAP_IOVA_IDENTITY;
	int ret;

	if (!len || __builtin_add_overflow((uintptr_t)addr, len, &end) ||
	    end > UINTPTR_MAX - page)
		return __ireg_fail(ctx, EINVAL, "ireg_share: bad range %p+%zu",
				   addr, len);
	end = (end + page - 1) & ~(uintptr_t)(page - 1);
	if (flags & IREG_SHARE_READONLY)
		rflags |= IOMMU_REG_REGION_READONLY;
	else
		prot |= IOMMU_REG_PROT_WRITE;
	ret = ireg_region_register(ctx, (void *)start, end - start, prot,
				   rflags, &share->region);
	if (ret == -ERANGE)
		return __ireg_fail(ctx, ERANGE,
				 "ireg_share %s: identity IOVA %#lx+%#lx is outside the usable IOVA ranges (aperture or a reserved region)",
				   share->bdf, (unsigned long)start,
				   (unsigned long)(end - start));
	if (ret == -EEXIST)
		return __ireg_fail(ctx, EEXIST,
				 "ireg_share %s: IOVA %#lx+%#lx already mapped at another address",
				   share->bdf, (unsigned long)start,
				   (unsigned long)(end - start));
	if (ret)
		return ret;
	share->mode = IREG_SHARE_IDENTITY;
	return 0;
}

int ireg_share(struct ireg_ctx *ctx, const char *bdf, void *addr, size_t len,
	       unsigned int flags, struct ireg_share *share)
{
	struct iommu_reg_sva_device dev;
	char names[96];
	uint32_t domain, rid;
	int ret;

	memset(share, 0, sizeof(*share));
	if (flags & ~(IREG_SHARE_NO_SVA | IREG_SHARE_READONLY))
		return __ireg_fail(ctx, EINVAL, "ireg_share: unknown flags %#x",
				   flags);
	ret = __ireg_bdf_rid(ctx, bdf, share->bdf, &domain, &rid);
	if (ret)
		return ret;

	ret = ireg_sva_info(ctx, share->bdf, &dev, 1);
	if (ret < 0)
		return ret;
	share->sva_missing = dev.missing;

	if (flags & IREG_SHARE_NO_SVA) {
		snprintf(share->reason, sizeof(share->reason),
			 "SVA not asked for (IREG_SHARE_NO_SVA)");
	} else if (dev.missing) {
		cap_names(dev.missing, names, sizeof(names));
		snprintf(share->reason, sizeof(share->reason),
			 "no SVA: missing %s (IOPF: %s; SVA: %s)", names,
			 dev.iopf_errno ? strerror(dev.iopf_errno) : "enabled",
			 dev.sva_errno ? strerror(dev.sva_errno) : "enabled");
	} else {
		ret = ireg_sva_bind(ctx, share->bdf, &share->pasid);
		if (!ret) {
			share->mode = IREG_SHARE_SVA;
			return 0;
		}
		/* Nothing the kernel reports kept the bind from being tried. */
		share->sva_errno = -ret;
		snprintf(share->reason, sizeof(share->reason),
			 "no SVA: bind failed: %s", strerror(-ret));
	}
	return share_identity(ctx, addr, len, flags, share);
}

int ireg_unshare(struct ireg_ctx *ctx, struct ireg_share *share)
{
	int ret = 0;

	switch (share->mode) {
	case IREG_SHARE_SVA:
		ret = ireg_sva_unbind(ctx, share->bdf);
		break;
	case IREG_SHARE_IDENTITY:
		ret = ireg_region_unregister(ctx, &share->region);
		break;
	default:
		return __ireg_fail(ctx, EINVAL, "ireg_unshare: not shared");
	}
	if (!ret)
		share->mode = 0;
	return ret;
}
