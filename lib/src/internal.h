/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Private state of libiommureg objects. */
#ifndef LIBIOMMUREG_INTERNAL_H
#define LIBIOMMUREG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/iommu_reg.h>

struct ireg_group {
	int id;
	int fd;
};

struct ireg_device {
	int fd;
	char bdf[32];
};

struct ireg_ctx {
	int container_fd;
	int backend_set;
	int notify_fd;
	const struct iommu_reg_status *status;
	size_t status_size;
	const uint32_t *gens;
	struct ireg_group *groups;
	unsigned int nr_groups;
	struct ireg_device *devices;
	unsigned int nr_devices;
	char errmsg[256];
};

int ireg_fail(struct ireg_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* LIBIOMMUREG_INTERNAL_H */
