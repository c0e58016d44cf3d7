// SPDX-License-Identifier: GPL-2.0-only
/*
 * list: containers and regions, from the netlink family's dumps.
 *
 *	iommu-reg list [regions] [pid PID] [container ID]
 *	iommu-reg list containers [pid PID]
 *
 * Without CAP_SYS_ADMIN the kernel shows only the caller's own processes'
 * objects.
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

struct list_filter {
	uint32_t pid;
	uint32_t container;
};

static int parse_u32(struct ireg *ir, const char *word, uint32_t *val)
{
	const char *s = arg_next(ir);
	unsigned long v;
	char *end;

	if (!s)
		return cmd_usage_error(ir, "'%s' needs a number", word);
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || !v || v > UINT32_MAX)
		return cmd_usage_error(ir, "bad %s '%s'", word, s);
	*val = v;
	return IREG_EXIT_OK;
}

static int parse_filter(struct ireg *ir, struct list_filter *f,
			bool containers)
{
	const char *w;
	int ret;

	memset(f, 0, sizeof(*f));
	while ((w = arg_next(ir))) {
		if (!strcmp(w, "pid"))
			ret = parse_u32(ir, w, &f->pid);
		else if (!containers && !strcmp(w, "container"))
			ret = parse_u32(ir, w, &f->container);
		else
			return cmd_usage_error(ir, "unknown argument '%s'", w);
		if (ret)
			return ret;
	}
	return IREG_EXIT_OK;
}

static void print_hex(const char *key, const char *fmt, uint64_t val)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, val);
	print_str(key, fmt, buf);
}

static void print_owner(struct nlattr **tb)
{
	print_uint("container", "container %llu",
		   nla_get_u32(tb[IOMMU_REG_A_CONTAINER_ID]));
	print_uint("pid", "pid %llu", nla_get_u32(tb[IOMMU_REG_A_PID]));
	if (tb[IOMMU_REG_A_COMM])
		print_str("comm", "comm %s",
			  nla_get_string(tb[IOMMU_REG_A_COMM]));
}

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

static int container_print(struct nlattr **tb, uint8_t cmd __attribute__((unused)),
			void *arg __attribute__((unused)))
{
	struct nlattr *a;
	int rem;

	if (!tb[IOMMU_REG_A_CONTAINER_ID] || !tb[IOMMU_REG_A_PID])
		return 0;
	print_open_obj(NULL);
	print_owner(tb);
	if (tb[IOMMU_REG_A_UID])
		print_uint("uid", "uid %llu", nla_get_u32(tb[IOMMU_REG_A_UID]));
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
	print_uint("regions", "regions %llu",
		   tb[IOMMU_REG_A_NR_REGIONS] ?
		   nla_get_u32(tb[IOMMU_REG_A_NR_REGIONS]) : 0);
	print_uint("mappings", "mappings %llu",
		   tb[IOMMU_REG_A_NR_MAPPINGS] ?
		   nla_get_u64(tb[IOMMU_REG_A_NR_MAPPINGS]) : 0);
	print_uint("pinned_pages", "pinned_pages %llu",
		   tb[IOMMU_REG_A_PINNED_PAGES] ?
		   nla_get_u64(tb[IOMMU_REG_A_PINNED_PAGES]) : 0);
	print_nl();
	print_close();
	return 0;
}

static int region_print(struct nlattr **tb, uint8_t cmd __attribute__((unused)),
			void *arg __attribute__((unused)))
{
	struct nlattr *m, *mt[IOMMU_REG_A_MAX + 1];
	uint32_t flags;
	int rem;

	if (!tb[IOMMU_REG_A_CONTAINER_ID] || !tb[IOMMU_REG_A_HANDLE] ||
	    !tb[IOMMU_REG_A_VADDR] || !tb[IOMMU_REG_A_SIZE])
		return 0;
	flags = tb[IOMMU_REG_A_FLAGS] ? nla_get_u32(tb[IOMMU_REG_A_FLAGS]) : 0;
	print_open_obj(NULL);
	print_owner(tb);
	print_uint("handle", "handle %llu", nla_get_u32(tb[IOMMU_REG_A_HANDLE]));
	print_hex("vaddr", "vaddr %s", nla_get_u64(tb[IOMMU_REG_A_VADDR]));
	print_uint("size", "size %llu", nla_get_u64(tb[IOMMU_REG_A_SIZE]));
	print_bool("readonly", "readonly %s",
		   flags & IOMMU_REG_REGION_READONLY);
	print_uint("refs", "refs %llu",
		   tb[IOMMU_REG_A_REFS] ? nla_get_u32(tb[IOMMU_REG_A_REFS]) : 0);
	print_bool("stale", "stale %s",
		   tb[IOMMU_REG_A_STALE] && nla_get_u8(tb[IOMMU_REG_A_STALE]));
	print_uint("pinned_pages", "pinned %llu",
		   tb[IOMMU_REG_A_PINNED_PAGES] ?
		   nla_get_u64(tb[IOMMU_REG_A_PINNED_PAGES]) : 0);
	print_open_array("mappings");
	if (tb[IOMMU_REG_A_MAPPINGS]) {
		nla_for_each_nested(m, tb[IOMMU_REG_A_MAPPINGS], rem) {
			if (nla_parse_nested(mt, IOMMU_REG_A_MAX, m, NULL) ||
			    !mt[IOMMU_REG_A_IOVA] || !mt[IOMMU_REG_A_LENGTH])
				continue;
			print_br();
			print_open_obj(NULL);
			print_hex("iova", "iova %s",
				  nla_get_u64(mt[IOMMU_REG_A_IOVA]));
			print_uint("length", "length %llu",
				   nla_get_u64(mt[IOMMU_REG_A_LENGTH]));
			print_str("prot", "prot %s",
				  !mt[IOMMU_REG_A_PROT] ? "?" :
				  nla_get_u32(mt[IOMMU_REG_A_PROT]) ==
				  (IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE) ?
				  "rw" : nla_get_u32(mt[IOMMU_REG_A_PROT]) ==
				  IOMMU_REG_PROT_READ ? "r" : "w");
			print_close();
		}
	}
	print_close();
	print_nl();
	print_close();
	return 0;
}

static int list_dump(struct ireg *ir, uint8_t cmd, ireg_nl_cb cb,
		     bool containers)
{
	struct list_filter f;
	struct ireg_nl nl;
	int ret;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	ret = parse_filter(ir, &f, containers);
	if (ret)
		return ret;
	ret = ireg_nl_open(&nl);
	if (ret)
		return ret;
	print_open_array(NULL);
	ret = ireg_nl_request(&nl, cmd, true, f.container, f.pid, cb, NULL);
	print_close();
	ireg_nl_close(&nl);
	return ret;
}

static int cmd_list_regions(struct ireg *ir)
{
	return list_dump(ir, IOMMU_REG_CMD_REGION_GET, region_print, false);
}

static int cmd_list_containers(struct ireg *ir)
{
	return list_dump(ir, IOMMU_REG_CMD_CONTAINER_GET, container_print,
			 true);
}

static const struct cmd list_cmds[] = {
	{ "regions", cmd_list_regions, "[pid PID] [container ID]",
	  "regions with their mappings (the default)" },
	{ "containers", cmd_list_containers, "[pid PID]",
	  "containers with their owner, groups and devices" },
	{ NULL }
};

int cmd_list(struct ireg *ir)
{
	/* Filters right after "list" apply to the default, regions. */
	if (arg_peek(ir) && (!strcmp(arg_peek(ir), "pid") ||
			     !strcmp(arg_peek(ir), "container")))
		return cmd_list_regions(ir);
	return cmd_exec(ir, list_cmds, "list object");
}
