// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats: the module's global counters, from the netlink family.
 */
#include <stdio.h>

#include "ireg.h"
#include <linux/iommu_reg.h>
#include "nl.h"
#include "print.h"

static const struct {
	int attr;
	const char *key;
	const char *fmt;
} ireg_stats[] = {
	{ IOMMU_REG_STAT_CONTAINERS, "containers", "containers %llu" },
	{ IOMMU_REG_STAT_GROUPS, "groups", "groups %llu" },
	{ IOMMU_REG_STAT_REGIONS, "regions", "regions %llu" },
	{ IOMMU_REG_STAT_MAPPINGS, "mappings", "mappings %llu" },
	{ IOMMU_REG_STAT_PINNED_PAGES, "pinned_pages", "pinned_pages %llu" },
	{ IOMMU_REG_STAT_MAPPED_BYTES, "mapped_bytes", "mapped_bytes %llu" },
	{ IOMMU_REG_STAT_INVALIDATIONS, "invalidations", "invalidations %llu" },
	{ IOMMU_REG_STAT_FAIL_NOMEM, "fail_nomem", "fail_nomem %llu" },
	{ IOMMU_REG_STAT_FAIL_FAULT, "fail_fault", "fail_fault %llu" },
	{ IOMMU_REG_STAT_FAIL_NOSPC, "fail_nospc", "fail_nospc %llu" },
	{ IOMMU_REG_STAT_FAIL_INVAL, "fail_inval", "fail_inval %llu" },
	{ IOMMU_REG_STAT_FAIL_OTHER, "fail_other", "fail_other %llu" },
};

static int stats_print(struct nlattr **tb, uint8_t cmd __attribute__((unused)),
			void *arg __attribute__((unused)))
{
	struct nlattr *st[IOMMU_REG_STAT_MAX + 1];
	unsigned int i;

	if (!tb[IOMMU_REG_A_STATS] ||
	    nla_parse_nested(st, IOMMU_REG_STAT_MAX, tb[IOMMU_REG_A_STATS],
			     NULL))
		return -IREG_EXIT_ERROR;
	print_open_obj(NULL);
	for (i = 0; i < ARRAY_SIZE(ireg_stats); i++) {
		if (!st[ireg_stats[i].attr])
			continue;
		print_uint(ireg_stats[i].key, ireg_stats[i].fmt,
			   nla_get_u64(st[ireg_stats[i].attr]));
		/* Gauges on the first line, failure counts on the second. */
		if (ireg_stats[i].attr == IOMMU_REG_STAT_INVALIDATIONS)
			print_nl();
	}
	print_nl();
	print_close();
	return 1;
}

int cmd_stats(struct ireg *ir)
{
	struct ireg_nl nl;
	int ret;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	if (!arg_none(ir))
		return cmd_usage_error(ir, "unexpected '%s'", arg_peek(ir));
	ret = ireg_nl_open(&nl);
	if (ret)
		return ret;
	ret = ireg_nl_request(&nl, IOMMU_REG_CMD_STATS_GET, false, 0, 0,
			      stats_print, NULL);
	ireg_nl_close(&nl);
	return ret;
}
