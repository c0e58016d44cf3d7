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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ireg.h"
#include <linux/iommu_reg.h>
#include "nl.h"
#include "print.h"

struct monitor {
	unsigned long left;	/* 0: forever */
};

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case IOMMU_REG_CMD_EVENT_REGISTER:
		return "register";
	case IOMMU_REG_CMD_EVENT_UNREGISTER:
		return "unregister";
	case IOMMU_REG_CMD_EVENT_INVALIDATE:
		return "invalidate";
	default:
		return NULL;
	}
}

static const char *reason_name(uint32_t reason)
{
	switch (reason) {
	case IOMMU_REG_REASON_UNMAP:
		return "unmap";
	case IOMMU_REG_REASON_CLEAR:
		return "clear";
	case IOMMU_REG_REASON_EXIT:
		return "exit";
	default:
		return "other";
	}
}

static int event_print(struct nlattr **tb, uint8_t cmd, void *arg)
{
	struct monitor *mon = arg;
	const char *name = event_name(cmd);
	char vaddr[24];

	if (!name || !tb[IOMMU_REG_A_CONTAINER_ID] || !tb[IOMMU_REG_A_HANDLE])
		return 0;
	print_open_obj(NULL);
	print_str("event", "%s", name);
	print_uint("container", "container %llu",
		   nla_get_u32(tb[IOMMU_REG_A_CONTAINER_ID]));
	if (tb[IOMMU_REG_A_PID])
		print_uint("pid", "pid %llu", nla_get_u32(tb[IOMMU_REG_A_PID]));
	if (tb[IOMMU_REG_A_COMM])
		print_str("comm", "comm %s",
			  nla_get_string(tb[IOMMU_REG_A_COMM]));
	print_uint("handle", "handle %llu", nla_get_u32(tb[IOMMU_REG_A_HANDLE]));
	if (tb[IOMMU_REG_A_VADDR]) {
		snprintf(vaddr, sizeof(vaddr), "0x%" PRIx64,
			 (uint64_t)nla_get_u64(tb[IOMMU_REG_A_VADDR]));
		print_str("vaddr", "vaddr %s", vaddr);
	}
	if (tb[IOMMU_REG_A_SIZE])
		print_uint("size", "size %llu", nla_get_u64(tb[IOMMU_REG_A_SIZE]));
	if (tb[IOMMU_REG_A_REASON])
		print_str("reason", "reason %s",
			  reason_name(nla_get_u32(tb[IOMMU_REG_A_REASON])));
	if (tb[IOMMU_REG_A_GENERATION])
		print_uint("generation", "generation %llu",
			   nla_get_u32(tb[IOMMU_REG_A_GENERATION]));
	print_nl();
	print_close();
	fflush(stdout);
	if (mon->left && !--mon->left)
		return 1;
	return 0;
}

int cmd_monitor(struct ireg *ir)
{
	struct monitor mon = { 0 };
	struct ireg_nl nl;
	const char *w;
	int ret;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	while ((w = arg_next(ir))) {
		const char *n;
		char *end;

		if (strcmp(w, "count"))
			return cmd_usage_error(ir, "unknown argument '%s'", w);
		n = arg_next(ir);
		if (!n)
			return cmd_usage_error(ir, "'count' needs a number");
		errno = 0;
		mon.left = strtoul(n, &end, 10);
		if (errno || *end || !mon.left)
			return cmd_usage_error(ir, "bad count '%s'", n);
	}
	ret = ireg_nl_open(&nl);
	if (ret)
		return ret;
	ret = ireg_nl_listen(&nl, event_print, &mon);
	ireg_nl_close(&nl);
	return ret;
}
