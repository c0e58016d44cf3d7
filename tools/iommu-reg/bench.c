// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench: the registration benchmark from the command line.
 *
 *	iommu-reg bench OURS_BDF TYPE1_BDF [size SIZE]...
 *
 * Per-I/O cost of type1 MAP_DMA+UNMAP_DMA beside iommu_reg's map+unmap of
 * pre-registered memory, a first-time registration and a register-once
 * repeat, medians of several rounds, in one run (tools/bench/regbench.c).
 * Two devices: a group lives in one container, one container per backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommureg.h"
#include "../bench/regbench.h"
#include "ireg.h"
#include "print.h"

static void print_result(const char *key, const struct regbench_result *r)
{
	char text[64];

	snprintf(text, sizeof(text), "%s %.1f us (%.0f%%)", key,
		 r->median / 1e3, r->spread * 100);
	print_open_obj(key);
	print_uint("median_ns", NULL, (unsigned long long)r->median);
	print_uint("spread_pct", NULL,
		   (unsigned long long)(r->spread * 100 + 0.5));
	print_close();
	print_str(NULL, "%s", text);
}

int cmd_bench(struct ireg *ir)
{
	static const size_t defaults[] = { 4 << 10, 64 << 10, 2 << 20,
					   16 << 20 };
	size_t sizes[16];
	unsigned int nr = 0, i;
	char ours[IREG_PCI_BDF_SIZE], type1[IREG_PCI_BDF_SIZE];
	const char *w;
	struct regbench b;
	int ret;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	w = arg_next(ir);
	if (!w || ireg_pci_bdf_parse(w, ours, sizeof(ours)))
		return cmd_usage_error(ir, "needs two devices (PCI addresses)");
	w = arg_next(ir);
	if (!w || ireg_pci_bdf_parse(w, type1, sizeof(type1)))
		return cmd_usage_error(ir, "needs two devices (PCI addresses)");
	while ((w = arg_next(ir))) {
		const char *v = arg_next(ir);
		char *end;

		if (strcmp(w, "size") || !v)
			return cmd_usage_error(ir, "unknown argument '%s'", w);
		if (nr == ARRAY_SIZE(sizes))
			return cmd_usage_error(ir, "too many sizes");
		errno = 0;
		sizes[nr] = strtoull(v, &end, 0);
		if (*end == 'K' || *end == 'k')
			sizes[nr] <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			sizes[nr] <<= 20, end++;
		if (errno || *end || !sizes[nr] || sizes[nr] % 4096)
			return cmd_usage_error(ir, "bad size '%s'", v);
		nr++;
	}
	if (!nr) {
		memcpy(sizes, defaults, sizeof(defaults));
		nr = ARRAY_SIZE(defaults);
	}

	ret = regbench_open(&b, ours, type1);
	if (ret) {
		fprintf(stderr, "iommu-reg: bench: setting up %s (iommu_reg) and %s (type1): %s\n",
			ours, type1, strerror(-ret));
		return IREG_EXIT_ERROR;
	}
	print_open_array(NULL);
	for (i = 0; i < nr; i++) {
		struct regbench_row row;

		ret = regbench_size(&b, sizes[i], &row);
		if (ret) {
			fprintf(stderr, "iommu-reg: bench: size %zu: %s\n",
				sizes[i], strerror(-ret));
			ret = IREG_EXIT_ERROR;
			break;
		}
		print_open_obj(NULL);
		print_uint("size", "size %llu", row.size);
		print_result("type1_map_unmap", &row.type1);
		print_result("ireg_map_unmap", &row.map);
		print_result("ireg_register", &row.reg);
		print_result("ireg_register_hit", &row.hit);
		print_uint("type1_over_map_x10", NULL,
			   (unsigned long long)(10 * row.type1.median /
						row.map.median));
		print_nl();
		print_close();
	}
	print_close();
	regbench_close(&b);
	return ret;
}
