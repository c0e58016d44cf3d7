// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats: the module's global counters, from the netlink family.
 *
 *	iommu-reg stats [show]
 */
#include <stdio.h>

#include "tool.h"
#include <linux/iommu_reg.h>
#include "nl.h"
#include "print.h"

/* JSON keys (and text labels), in attribute order from the first. */
#define STAT_FIRST	IOMMU_REG_STAT_CONTAINERS
static const char *const stat_keys[] = {
	"containers", "groups", "regions", "mappings", "pinned_pages",
	"mapped_bytes", "invalidations", "fail_nomem", "fail_fault",
	"fail_nospc", "fail_inval", "fail_other",
};
_Static_assert(ARRAY_SIZE(stat_keys) == IOMMU_REG_STAT_MAX - STAT_FIRST + 1,
	       "a counter without a key");

static int stats_print(struct nlattr **tb,
		       uint8_t cmd __attribute__((unused)),
		       void *arg __attribute__((unused)))
{
	struct nlattr *st[IOMMU_REG_STAT_MAX + 1];
	unsigned int i;

	if (!tb[IOMMU_REG_A_STATS] ||
	    nla_parse_nested(st, IOMMU_REG_STAT_MAX, tb[IOMMU_REG_A_STATS],
			     NULL))
		return -EXIT_ERROR;
	print_open_obj(NULL);
	for (i = 0; i < ARRAY_SIZE(stat_keys); i++) {
		char fmt[32];

		if (!st[STAT_FIRST + i])
			continue;
		snprintf(fmt, sizeof(fmt), "%s %%llu", stat_keys[i]);
		print_uint(stat_keys[i], fmt, nla_get_u64(st[STAT_FIRST + i]));
		/* Gauges on the first line, failure counts on the second. */
		if (STAT_FIRST + i == IOMMU_REG_STAT_INVALIDATIONS)
			print_nl();
	}
	print_nl();
	print_close();
	return 1;
}

static int stats_show(struct tool *t)
{
	struct nl_conn nl;
	int ret;

	ret = arg_end(t);
	if (ret)
		return ret;
	ret = nl_conn_open(&nl);
	if (ret)
		return ret;
	ret = nl_conn_request(&nl, IOMMU_REG_CMD_STATS_GET, false, 0, 0,
			      stats_print, NULL);
	nl_conn_close(&nl);
	return ret;
}

const struct cmd stats_cmds[] = {
	CMD_VERB("show", stats_show, "", "show the module's counters"),
	{ NULL }
};
