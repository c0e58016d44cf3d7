/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Private state of libiommureg objects, and the functions lib/src files
 * share.  Naming: ireg_ is the public API only (lib/include); functions
 * one file gives others are __ireg_ (as liburing's __io_uring_); private
 * structs and file-local functions have no ireg_ prefix.
 */
#ifndef LIBIOMMUREG_INTERNAL_H
#define LIBIOMMUREG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/iommu_reg.h>

/* A VFIO group in the context's container (ctx.c). */
struct ctx_group {
	int id;
	int fd;
};

/* A device opened through its group (ireg_device_open()). */
struct ctx_device {
	int fd;
	char bdf[32];
};

struct ireg_ctx {
	int container_fd;
	int backend_set;
	int notify_fd;
	const struct iommu_reg_status *status;
	size_t status_size;
	const uint32_t *gens;		/* the status area's generation slots */
	struct ctx_group *groups;
	unsigned int nr_groups;
	struct ctx_device *devices;
	unsigned int nr_devices;
	char errmsg[256];
};

struct ireg_region;
struct ireg_cache;
struct ireg_cache_attr;

/**
 * struct cache_backend - where a cache registers memory
 * @priv: passed to @reg and @unreg
 * @reg: register [addr, addr + size) and fill the region (its @genp must
 *	point at a generation that moves on when the region is invalidated)
 * @unreg: unregister a region from @reg
 * @invalidations: a counter that moves whenever a region is invalidated
 * @notify_fd: drained by ireg_cache_process_events(), or -1
 */
struct cache_backend {
	void *priv;
	int (*reg)(void *priv, void *addr, size_t size, uint32_t prot,
		   struct ireg_region *region);
	int (*unreg)(void *priv, const struct ireg_region *region);
	const uint64_t *invalidations;
	int notify_fd;
};

int __ireg_cache_create_backend(const struct cache_backend *backend,
				const struct ireg_cache_attr *attr,
				struct ireg_cache **cachep);

int __ireg_fail(struct ireg_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* BDF -> PCI domain and bus << 8 | devfn; @norm (24 bytes) may be NULL. */
int __ireg_bdf_rid(struct ireg_ctx *ctx, const char *bdf, char *norm,
		   uint32_t *domain, uint32_t *rid);

/* What an errno of a device ioctl means, in words; tables end with 0. */
struct errno_why {
	int err;
	const char *why;
};

int __ireg_dev_ioctl(struct ireg_ctx *ctx, const char *bdf, unsigned long req,
		     void *cmd, uint32_t *domain, uint32_t *rid,
		     const struct errno_why *whys, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

#endif /* LIBIOMMUREG_INTERNAL_H */
