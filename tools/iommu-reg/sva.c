// SPDX-License-Identifier: GPL-2.0-only
/*
 * sva: what the kernel reports about SVA (shared virtual addressing) for
 * devices, through IOMMU_REG_SVA_INFO.
 *
 *	iommu-reg dev sva BDF [BDF...]
 *
 * "dev show" reads PCIe capabilities from config space and needs no
 * container.  The kernel's report also says whether the path's ACS and
 * TLP prefixes allow PASID, whether the IOMMU driver implements SVA, and
 * what enabling the IOPF and SVA features really returned: that needs
 * the devices in a container, so this command opens them (they must be
 * bound to vfio-pci and not in use) in one context, asks, and closes
 * them again.  Nothing is bound or enabled afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommureg.h"
#include "tool.h"
#include "print.h"

#define SVA_MAX_DEVS	64

static const struct {
	uint32_t cap;
	const char *key;
} sva_caps[] = {
	{ IOMMU_REG_SVA_CAP_PASID,	"pasid" },
	{ IOMMU_REG_SVA_CAP_PRI,	"pri" },
	{ IOMMU_REG_SVA_CAP_ATS,	"ats" },
	{ IOMMU_REG_SVA_CAP_ACS_PATH,	"acs_path" },
	{ IOMMU_REG_SVA_CAP_TLP_PREFIX,	"tlp_prefix" },
	{ IOMMU_REG_SVA_CAP_IOMMU_SVA,	"iommu_sva" },
};

static void print_feature(const char *key, const char *fmt, bool on, int err)
{
	char ekey[32];

	print_bool(key, fmt, on);
	snprintf(ekey, sizeof(ekey), "%s_errno", key);
	print_uint(ekey, NULL, err);
	if (err)
		print_str(NULL, "(%s)", strerror(err));
}

static void print_sva_dev(const struct iommu_reg_sva_device *d)
{
	char bdf[IREG_PCI_BDF_SIZE], fmt[32];
	uint32_t bit;
	unsigned int i;

	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", d->pci_domain,
		 d->pci_rid >> 8, (d->pci_rid >> 3) & 0x1f, d->pci_rid & 7);
	print_open_obj(NULL);
	print_str("bdf", "%s", bdf);

	print_str(NULL, "missing%s", "");
	print_open_array("missing");
	for (bit = 1; bit; bit <<= 1)
		if (d->missing & bit)
			print_str("name", "%s", ireg_sva_cap_name(bit) ?
				  ireg_sva_cap_name(bit) : "unknown");
	print_close();
	if (!d->missing)
		print_str(NULL, "%s", "none");
	print_br();

	for (i = 0; i < ARRAY_SIZE(sva_caps); i++) {
		snprintf(fmt, sizeof(fmt), "%s %%s", sva_caps[i].key);
		print_bool(sva_caps[i].key, fmt, d->caps & sva_caps[i].cap);
	}
	print_uint("pasid_width", "pasid_width %llu", d->pasid_width);
	print_uint("pasid_features", NULL, d->pasid_features);
	print_br();
	print_feature("iopf", "iopf %s", d->caps & IOMMU_REG_SVA_CAP_IOPF,
		      d->iopf_errno);
	print_feature("sva", "sva %s", d->caps & IOMMU_REG_SVA_CAP_SVA,
		      d->sva_errno);
	print_bool("bound", "bound %s", d->caps & IOMMU_REG_SVA_CAP_BOUND);
	if (d->caps & IOMMU_REG_SVA_CAP_BOUND)
		print_uint("bound_pasid", "pasid %llu", d->pasid);
	else
		print_null("bound_pasid", NULL, NULL);
	print_close();
	print_nl();
}

int dev_sva(struct tool *t)
{
	struct iommu_reg_sva_device devs[SVA_MAX_DEVS];
	char bdfs[SVA_MAX_DEVS][IREG_PCI_BDF_SIZE];
	char *names[SVA_MAX_DEVS];
	struct ireg_ctx *ctx;
	int i, n, ret;

	if (arg_none(t))
		return cmd_usage_error(t, "missing BDF");
	for (n = 0; !arg_none(t); n++) {
		if (n == SVA_MAX_DEVS)
			return cmd_usage_error(t, "more than %d devices",
					       SVA_MAX_DEVS);
		ret = arg_bdf(t, bdfs[n]);
		if (ret)
			return ret;
		names[n] = bdfs[n];
	}

	ret = ctx_open(&ctx, names, n);
	if (ret)
		return ret;
	n = ireg_sva_info(ctx, NULL, devs, SVA_MAX_DEVS);
	if (n < 0) {
		print_err(0, "%s", ireg_ctx_errmsg(ctx));
		ret = n == -ENOTTY ? EXIT_UNSUPPORTED : EXIT_ERROR;
		goto out;
	}
	if (n > SVA_MAX_DEVS)
		n = SVA_MAX_DEVS;
	/* Every device of the opened groups, in group and device order. */
	print_open_array(NULL);
	for (i = 0; i < n; i++)
		print_sva_dev(&devs[i]);
	print_close();
	ret = EXIT_OK;
out:
	ireg_ctx_close(ctx);
	return ret;
}
