// SPDX-License-Identifier: GPL-2.0-only
/*
 * monitor: print the family's events as they happen (register,
 * unregister, invalidate), one line (or one JSON object) each.
 *
 *	iommu-reg monitor [count N]
 *
 * Needs CAP_SYS_ADMIN.  With count, exits after N events.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include <linux/iommu_reg.h>
#include "nl.h"
#include "print.h"

struct monitor {
	unsigned long left;	/* 0: forever */
};

static const char *const event_names[] = {
	[IOMMU_REG_CMD_EVENT_REGISTER] = "register",
	[IOMMU_REG_CMD_EVENT_UNREGISTER] = "unregister",
	[IOMMU_REG_CMD_EVENT_INVALIDATE] = "invalidate",
};

static const char *const reason_names[] = {
	[IOMMU_REG_REASON_UNMAP] = "unmap",
	[IOMMU_REG_REASON_CLEAR] = "clear",
	[IOMMU_REG_REASON_EXIT] = "exit",
};

/* @names[@i], or @dflt where there is none. */
static const char *name_of(const char *const *names, size_t n, uint32_t i,
			   const char *dflt)
{
	return i < n && names[i] ? names[i] : dflt;
}

static int event_print(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct monitor *mon = arg;
	const char *name = name_of(event_names, ARRAY_SIZE(event_names), cmd,
				   NULL);

	if (!name || !tb[IOMMU_REG_A_CONTAINER_ID] || !tb[IOMMU_REG_A_HANDLE])
		return 0;
	print_open_obj(NULL);
	print_str("event", "%s", name);
	print_owner(tb, true);
	if (tb[IOMMU_REG_A_REASON])
		print_str("reason", "reason %s",
			  name_of(reason_names, ARRAY_SIZE(reason_names),
				  nla_get_u32(tb[IOMMU_REG_A_REASON]), "other"));
	print_attr(tb, IOMMU_REG_A_GENERATION, "generation", 0);
	print_nl();
	print_close();
	fflush(stdout);
	if (mon->left && !--mon->left)
		return 1;
	return 0;
}

int monitor_run(struct tool *t)
{
	unsigned long long count = 0;
	struct monitor mon = { 0 };
	struct nl_conn nl;
	const char *w;
	int ret;

	while ((w = arg_next(t))) {
		if (strcmp(w, "count"))
			return cmd_usage_error(t, "unknown argument '%s'", w);
		ret = arg_number(t, w, 1, ULONG_MAX, &count);
		if (ret)
			return ret;
		mon.left = count;
	}
	ret = nl_conn_open(&nl);
	if (ret)
		return ret;
	ret = nl_conn_listen(&nl, event_print, &mon);
	nl_conn_close(&nl);
	return ret;
}
