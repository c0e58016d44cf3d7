// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Shared virtual addressing: wrappers of IOMMU_REG_SVA_INFO, _BIND and
 * _UNBIND, through the device ioctl of src/ctx.c (BDF to the kernel's PCI
 * domain and requester id, an errno to words).  ireg_share(), which picks
 * SVA or an identity mapping, is in src/share.c.
 */
#include <errno.h>
#include <stddef.h>

#include "iommureg.h"
#include "internal.h"

int ireg_sva_info(struct ireg_ctx *ctx, const char *bdf,
		  struct iommu_reg_sva_device *devs, unsigned int nr_devs)
{
	static const struct errno_why whys[] = {
		{ ENOENT, "device not in the context (ireg_device_open() it first)" },
		{ 0 }
	};
	struct iommu_reg_sva_info cmd = {
		.argsz = sizeof(cmd),
		.flags = bdf ? IOMMU_REG_SVA_INFO_DEVICE : 0,
		.num_devices = nr_devs,
		.entry_size = sizeof(*devs),
		.devices = (uintptr_t)devs,
	};
	int ret;

	/* Without @bdf: every device of the container, no BDF to parse. */
	ret = __ireg_dev_ioctl(ctx, bdf, IOMMU_REG_SVA_INFO, &cmd,
			       bdf ? &cmd.pci_domain : NULL, &cmd.pci_rid, whys,
			       "IOMMU_REG_SVA_INFO%s%s", bdf ? " " : "",
			       bdf ? bdf : "");
	return ret ? ret : (int)cmd.num_devices;
}

int ireg_sva_bind(struct ireg_ctx *ctx, const char *bdf, uint32_t *pasid)
{
	static const struct errno_why whys[] = {
		{ ENOENT, "device not in the context" },
		{ EEXIST, "already bound in this context" },
		{ EOPNOTSUPP,
		  "SVA not supported (see ireg_sva_info(): a missing piece, or the kernel refuses)" },
		{ 0 }
	};
	struct iommu_reg_sva_bind cmd = { .argsz = sizeof(cmd) };
	int ret;

	ret = __ireg_dev_ioctl(ctx, bdf, IOMMU_REG_SVA_BIND, &cmd,
			       &cmd.pci_domain, &cmd.pci_rid, whys,
			       "IOMMU_REG_SVA_BIND %s", bdf);
	if (!ret)
		*pasid = cmd.pasid;
	return ret;
}

int ireg_sva_unbind(struct ireg_ctx *ctx, const char *bdf)
{
	static const struct errno_why whys[] = {
		{ ENOENT, "not bound, or not in the context" },
		{ 0 }
	};
	struct iommu_reg_sva_unbind cmd = { .argsz = sizeof(cmd) };

	return __ireg_dev_ioctl(ctx, bdf, IOMMU_REG_SVA_UNBIND, &cmd,
				&cmd.pci_domain, &cmd.pci_rid, whys,
				"IOMMU_REG_SVA_UNBIND %s", bdf);
}

const char *ireg_sva_cap_name(uint32_t cap)
{
	switch (cap) {
	case IOMMU_REG_SVA_CAP_PASID:		return "pasid";
	case IOMMU_REG_SVA_CAP_PRI:		return "pri";
	case IOMMU_REG_SVA_CAP_ATS:		return "ats";
	case IOMMU_REG_SVA_CAP_ACS_PATH:	return "acs-path";
	case IOMMU_REG_SVA_CAP_TLP_PREFIX:	return "tlp-prefix";
	case IOMMU_REG_SVA_CAP_IOMMU_SVA:	return "iommu-sva";
	case IOMMU_REG_SVA_CAP_IOPF:		return "iopf";
	case IOMMU_REG_SVA_CAP_SVA:		return "sva";
	case IOMMU_REG_SVA_CAP_BOUND:		return "bound";
	default:				return NULL;
	}
}

