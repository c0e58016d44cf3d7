// SPDX-License-Identifier: GPL-2.0-only
/*
 * container: the VFIO containers of the iommu_reg backend, from the
 * netlink family's dump.
 *
 *	iommu-reg container show [pid PID]
 *
 * Without CAP_SYS_ADMIN the kernel shows only the caller's own processes'
 * containers.
 */
#include <stdio.h>

#include "tool.h"
#include <linux/iommu_reg.h>
#include "nl.h"
#include "print.h"

/* The VFIO_SET_IOMMU number a container was opened with, by name. */
static const char *backend_name(struct nlattr **tb)
{
	if (!tb[IOMMU_REG_A_IOMMU_TYPE])
		return "?";
	switch (nla_get_u32(tb[IOMMU_REG_A_IOMMU_TYPE])) {
	case VFIO_IOMMU_REG:
		return "iommu_reg";
	case VFIO_TYPE1_IOMMU:
		return "type1";
	case VFIO_TYPE1v2_IOMMU:
		return "type1v2";
	default:
		return "?";
	}
}

static const struct nl_field counts[] = {
	NL_FIELD(IOMMU_REG_A_NR_REGIONS, "regions", NL_FIELD_ZERO),
	NL_FIELD(IOMMU_REG_A_NR_MAPPINGS, "mappings", NL_FIELD_ZERO),
	NL_FIELD(IOMMU_REG_A_PINNED_PAGES, "pinned_pages", NL_FIELD_ZERO),
};

static int container_print(struct nlattr **tb,
			   uint8_t cmd __attribute__((unused)),
			   void *arg __attribute__((unused)))
{
	struct nlattr *a;
	int rem;

	if (!tb[IOMMU_REG_A_CONTAINER_ID] || !tb[IOMMU_REG_A_PID])
		return 0;
	print_open_obj(NULL);
	print_owner(tb, false);
	print_attr(tb, IOMMU_REG_A_UID, "uid", 0);
	print_str("backend", "backend %s", backend_name(tb));
	print_open_array("groups");
	if (tb[IOMMU_REG_A_GROUPS])
		nla_for_each_nested(a, tb[IOMMU_REG_A_GROUPS], rem)
			print_uint("group", "group %llu", nla_get_u32(a));
	print_close();
	print_open_array("devices");
	if (tb[IOMMU_REG_A_DEVICES])
		nla_for_each_nested(a, tb[IOMMU_REG_A_DEVICES], rem)
			print_str("device", "device %s", nla_get_string(a));
	print_close();
	print_br();
	print_fields(tb, counts, ARRAY_SIZE(counts));
	print_nl();
	print_close();
	return 0;
}

static int container_show(struct tool *t)
{
	return nl_show(t, IOMMU_REG_CMD_CONTAINER_GET, container_print, NULL,
		       NULL, false);
}

const struct cmd container_cmds[] = {
	CMD_VERB("show", container_show, "[pid PID]",
		 "containers with their owner, groups and devices"),
	{ NULL }
};
