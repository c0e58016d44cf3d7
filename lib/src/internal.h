/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Private state of libiommureg objects, and the functions lib/src files
 * share.  Naming: ireg_ is the public API only (lib/include); functions
 * one file gives others are __ireg_ (as liburing's __io_uring_); private
 * structs and file-local functions have no ireg_ prefix.
 */
#ifndef LIBIOMMUREG_INTERNAL_H
#define LIBIOMMUREG_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/iommu_reg.h>
#include "../include/iommureg/ring.h"	/* ireg_cpu_relax() */

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

/* [start, end) of a registration made MADV_DONTFORK (IREG_CTX_DONTFORK). */
struct ctx_range {
	uintptr_t start;
	uintptr_t end;
};

struct ireg_ctx {
	int container_fd;
	int container_borrowed;		/* ireg_ctx_adopt(): not ours to close */
	unsigned int flags;		/* IREG_CTX_* of ireg_ctx_open() */
	uint64_t fork_gen;		/* __ireg_fork_gen when created */
	int pid;			/* the creating process */
	struct pool_pending *pending;	/* pools to register at attach */
	struct ctx_range *dontfork;	/* IREG_CTX_DONTFORK: what is advised */
	size_t nr_dontfork;
	int backend_set;
	int notify_fd;
	const struct iommu_reg_status *status;
	size_t status_size;
	const uint32_t *gens;		/* the status area's generation slots */
	struct ctx_group *groups;
	unsigned int nr_groups;
	struct ctx_device *devices;
	unsigned int nr_devices;
};

struct ireg_region;
struct ireg_cache;
struct ireg_cache_attr;
struct ireg_pool;

/*
 * Fork detection.  A pthread_atfork() child handler (installed by
 * __ireg_fork_watch()) moves __ireg_fork_gen on in every child; an object
 * records the value when it is created, so "made before a fork, used in
 * the child" is one load and a compare, no getpid().
 */
extern uint64_t __ireg_fork_gen __attribute__((visibility("hidden")));

/* Install the handler once; the current generation. */
uint64_t __ireg_fork_watch(void);

static inline bool __ireg_forked(uint64_t gen)
{
	return __builtin_expect(__atomic_load_n(&__ireg_fork_gen,
						__ATOMIC_RELAXED) != gen, 0);
}

/* -ECHILD and the message when @ctx was inherited over fork(), else 0. */
int __ireg_ctx_check_fork(struct ireg_ctx *ctx);
int __ireg_fail_forked(struct ireg_ctx *ctx, const char *what, int pid);


/* Late registration of pools (pool.c): the ctx's pending list. */
struct pool_pending {
	struct ireg_pool *pool;
	struct pool_pending *next;
};
int __ireg_pool_register_pending(struct ireg_ctx *ctx);

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

/* For the tests: the calling thread's cache reader index (-1: none). */
int __ireg_cache_my_reader(void);
int __ireg_cache_create_backend(const struct cache_backend *backend,
				const struct ireg_cache_attr *attr,
				struct ireg_cache **cachep);

int __ireg_fail(struct ireg_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int __ireg_failf(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Options, attribute and output structs of the API start with a size_t
 * @size member: the caller sets it to sizeof the struct it was compiled
 * with (as SPDK's opts_size), so that a struct can grow without breaking
 * programs built against an older header.
 *
 * __ireg_opts_in() copies a caller's input struct @user (NULL: all
 * defaults) into the library's @dst of @dst_size bytes, zeroing what an
 * older caller's struct lacks.  -EINVAL when @user's size cannot even
 * hold the size member; -E2BIG when it is larger than the library's
 * struct and the bytes beyond are not all zero (a newer caller asking
 * for something this library does not know), as copy_struct_from_user().
 * Failures leave the thread's message, "@what: ...".
 */
static inline int __ireg_opts_in(void *dst, size_t dst_size, const void *user,
				 const char *what)
{
	const unsigned char *u = user;
	size_t usize, i;

	memset(dst, 0, dst_size);
	if (!user) {
		memcpy(dst, &dst_size, sizeof(dst_size));
		return 0;
	}
	memcpy(&usize, user, sizeof(usize));
	if (usize < sizeof(usize))
		return __ireg_failf(EINVAL, "%s: size %zu too small", what,
				    usize);
	for (i = dst_size; i < usize; i++)
		if (u[i])
			return __ireg_failf(E2BIG,
					    "%s: size %zu, byte %zu set: a field this library (%zu bytes) does not know",
					    what, usize, i, dst_size);
	memcpy(dst, user, usize < dst_size ? usize : dst_size);
	return 0;
}

/*
 * __ireg_opts_out() fills a caller's output struct @user from the
 * library's @src of @src_size bytes: as many bytes as both know, the
 * caller's size member kept, the rest of a larger caller struct zeroed.
 * -EINVAL when @user's size cannot hold the size member.
 */
static inline int __ireg_opts_out(void *user, const void *src, size_t src_size,
				  const char *what)
{
	unsigned char *u = user;
	size_t usize;

	memcpy(&usize, user, sizeof(usize));
	if (usize < sizeof(usize))
		return __ireg_failf(EINVAL, "%s: size %zu too small", what,
				    usize);
	if (usize > src_size)
		memset(u + src_size, 0, usize - src_size);
	memcpy(u + sizeof(usize), (const unsigned char *)src + sizeof(usize),
	       (usize < src_size ? usize : src_size) - sizeof(usize));
	return 0;
}

/*
 * The error rule (see <iommureg.h>): return -@err, the message from @fmt
 * in the calling thread's last-error message (ireg_errmsg()), errno
 * unchanged.  __ireg_fail() takes a context for older callers and does
 * not use it.  __ireg_vfail() with @more adds a line to the message
 * (what a rollback could not undo) instead of replacing it.
 */

int __ireg_vfail(int err, bool more, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

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
