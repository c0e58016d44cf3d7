// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_GENL_INFO_DUMP: a dump callback finds the request's parsed
 * attributes in genl_info_dump(cb)->attrs (Linux 6.6 and later); before,
 * in genl_dumpit_info(cb)->attrs.
 */
#include <net/genetlink.h>

struct nlattr **iommu_reg_probe(struct netlink_callback *cb);
struct nlattr **iommu_reg_probe(struct netlink_callback *cb)
{
	return genl_info_dump(cb)->attrs;
}
