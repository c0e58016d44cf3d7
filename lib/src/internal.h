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

struct ireg_region;
struct ireg_cache;
struct ireg_cache_attr;

/**
 * struct ireg_cache_backend - where a cache registers memory
 * @priv: passed to @reg and @unreg
 * @reg: register [addr, addr + size) and fill the region (its @genp must
 *	point at a generation that moves on when the region is invalidated)
 * @unreg: unregister a region from @reg
 * @invalidations: a counter that moves whenever a region is invalidated
 * @notify_fd: drained by ireg_cache_process_events(), or -1
 */
struct ireg_cache_backend {
	void *priv;
	int (*reg)(void *priv, void *addr, size_t size, uint32_t prot,
		   struct ireg_region *region);
	int (*unreg)(void *priv, const struct ireg_region *region);
	const uint64_t *invalidations;
	int notify_fd;
};

int ireg_cache_create_backend(const struct ireg_cache_backend *backend,
			      const struct ireg_cache_attr *attr,
			      struct ireg_cache **cachep);

int __ireg_fail(struct ireg_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* BDF -> PCI domain and bus << 8 | devfn; @norm (24 bytes) may be NULL. */
int __ireg_bdf_rid(struct ireg_ctx *ctx, const char *bdf, char *norm,
		 uint32_t *domain, uint32_t *rid);

#endif /* LIBIOMMUREG_INTERNAL_H */
