/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The module's IOMMU page audit (debugfs, audit_unmap=1): leaf IOMMU pages
 * removed so far, by size, for the selftests and the benchmarks: one copy.
 */
#ifndef TOOLS_AUDIT_H
#define TOOLS_AUDIT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define AUDIT_PATH	"/sys/kernel/debug/iommu_reg/audit"

struct audit {
	uint64_t pages_4k;
	uint64_t pages_2m;
	uint64_t pages_1g;
};

/* Read the counters: 0, or -1 with errno (EPROTO: a size is missing). */
static inline int audit_read(struct audit *audit)
{
	static const char *const sizes[] = { "4K", "2M", "1G" };
	uint64_t *pages[] = {
		&audit->pages_4k, &audit->pages_2m, &audit->pages_1g,
	};
	char size[8], line[128];
	unsigned long long n;
	unsigned int i, found = 0;
	FILE *f = fopen(AUDIT_PATH, "r");

	memset(audit, 0, sizeof(*audit));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %llu", size, &n) != 2)
			continue;
		for (i = 0; i < 3; i++) {
			if (!strcmp(size, sizes[i])) {
				*pages[i] = n;
				found |= 1U << i;
			}
		}
	}
	fclose(f);
	if (found != 7) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

#endif /* TOOLS_AUDIT_H */
