// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Context: a VFIO container with the iommu_reg backend selected, the
 * groups attached to it and the devices opened through them.
 *
 * VFIO only lets a backend be selected once a group is in the container,
 * so ireg_ctx_open() only opens and checks the container; the first
 * ireg_device_open() attaches that device's group and selects iommu_reg.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "iommureg.h"
#include "internal.h"

/*
 * The last failure's message, per thread: a context is shared by threads
 * whose failures must not overwrite each other's words (and most
 * failures have no context at all).
 */
static __thread char errmsg[512];

int __ireg_vfail(int err, bool more, const char *fmt, va_list ap)
{
	int saved = errno;
	size_t used = 0;

	if (more) {
		used = strlen(errmsg);
		if (used + 2 >= sizeof(errmsg))	/* full: keep what is there */
			goto out;
		if (used)
			errmsg[used++] = '\n';
	}
	vsnprintf(errmsg + used, sizeof(errmsg) - used, fmt, ap);
out:
	errno = saved;
	return -err;
}

int __ireg_failf(int err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = __ireg_vfail(err, false, fmt, ap);
	va_end(ap);
	return ret;
}

int __ireg_fail(struct ireg_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	(void)ctx;
	va_start(ap, fmt);
	ret = __ireg_vfail(err, false, fmt, ap);
	va_end(ap);
	return ret;
}

const char *ireg_errmsg(void)
{
	return errmsg;
}

/*
 * Fork policy.  A child inherits a copy of every object, but the kernel
 * registrations behind them map the parent's pages: an IOVA handed out
 * in the child would make the device read and write the parent's memory,
 * not the child's copy-on-write copy.  So an object made before a fork()
 * refuses in the child (-ECHILD) everything that would issue an ioctl or
 * hand out an IOVA, and its destroy function frees the child's copy of
 * the user-space state and closes its copies of the fds without
 * unregistering anything: the registrations are the parent's.  The child
 * is told apart by a generation the atfork child handler moves on.
 */
uint64_t __ireg_fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_child(void)
{
	__atomic_add_fetch(&__ireg_fork_gen, 1, __ATOMIC_RELAXED);
}

static void fork_watch_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

uint64_t __ireg_fork_watch(void)
{
	pthread_once(&fork_once, fork_watch_init);
	return __atomic_load_n(&__ireg_fork_gen, __ATOMIC_RELAXED);
}

int __ireg_fail_forked(struct ireg_ctx *ctx, const char *what, int pid)
{
	return __ireg_fail(ctx, ECHILD,
			   "%s was created by pid %d before fork(): its registrations map that process's pages, not this one's; open a new context",
			   what, pid);
}

int __ireg_ctx_check_fork(struct ireg_ctx *ctx)
{
	if (!__ireg_forked(ctx->fork_gen))
		return 0;
	return __ireg_fail_forked(ctx, "the context", ctx->pid);
}

/* BDF -> the kernel's PCI domain and requester id. */
int __ireg_bdf_rid(struct ireg_ctx *ctx, const char *bdf, char *norm,
		   uint32_t *domain, uint32_t *rid)
{
	char buf[IREG_PCI_BDF_SIZE];
	unsigned int d, b, dev, fn;

	if (!bdf || ireg_pci_bdf_parse(bdf, buf, sizeof(buf)) ||
	    sscanf(buf, "%x:%x:%x.%x", &d, &b, &dev, &fn) != 4)
		return __ireg_fail(ctx, EINVAL, "%s: not a PCI address",
				   bdf ? bdf : "(null)");
	*domain = d;
	*rid = IOMMU_REG_PCI_RID(b, dev << 3 | fn);
	if (norm)
		snprintf(norm, IREG_PCI_BDF_SIZE, "%s", buf);
	return 0;
}

/*
 * ioctl(@req, @cmd) on the container for the device @bdf: its PCI domain
 * and requester id go into *@domain and *@rid (fields of @cmd) first,
 * unless @domain is NULL.  On failure -errno, the message "what: why",
 * "what" from @fmt, "why" from @whys (ending with err 0) or strerror().
 */
int __ireg_dev_ioctl(struct ireg_ctx *ctx, const char *bdf, unsigned long req,
		     void *cmd, uint32_t *domain, uint32_t *rid,
		     const struct errno_why *whys, const char *fmt, ...)
{
	char what[128];
	va_list ap;
	int ret;

	ret = __ireg_ctx_check_fork(ctx);
	if (ret)
		return ret;
	if (domain) {
		ret = __ireg_bdf_rid(ctx, bdf, NULL, domain, rid);
		if (ret)
			return ret;
	}
	if (!ioctl(ctx->container_fd, req, cmd))
		return 0;
	ret = errno;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	for (; whys->err; whys++)
		if (whys->err == ret)
			return __ireg_fail(ctx, ret, "%s: %s", what, whys->why);
	return __ireg_fail(ctx, ret, "%s: %s", what, strerror(ret));
}

int ireg_ctx_open(struct ireg_ctx **ctxp, unsigned int flags)
{
	struct ireg_ctx *ctx;
	int ret;

	*ctxp = NULL;
	if (flags & ~(IREG_CTX_NO_BACKEND_CHECK | IREG_CTX_DONTFORK))
		return __ireg_failf(EINVAL, "%s: unknown flags 0x%x", __func__,
				    flags & ~(IREG_CTX_NO_BACKEND_CHECK |
					      IREG_CTX_DONTFORK));

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return __ireg_failf(ENOMEM, "%s: out of memory", __func__);
	ctx->notify_fd = -1;
	ctx->flags = flags;
	ctx->fork_gen = __ireg_fork_watch();
	ctx->pid = getpid();

	ctx->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (ctx->container_fd < 0) {
		ret = errno;
		free(ctx);
		return __ireg_failf(ret, "/dev/vfio/vfio: %s%s", strerror(ret),
				    ret == ENOENT ? " (modprobe vfio)" : "");
	}

	if (ioctl(ctx->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		ireg_ctx_close(ctx);
		return __ireg_failf(EPROTO, "/dev/vfio/vfio: not VFIO API %d",
				    VFIO_API_VERSION);
	}

	if (!(flags & IREG_CTX_NO_BACKEND_CHECK) &&
	    ioctl(ctx->container_fd, VFIO_CHECK_EXTENSION, VFIO_IOMMU_REG) != 1) {
		ireg_ctx_close(ctx);
		return __ireg_failf(ENODEV,
				    "VFIO has no iommu_reg backend (modprobe iommu_reg)");
	}

	*ctxp = ctx;
	return 0;
}

/*
 * In a child that inherited the context this only closes the child's
 * copies of the fds: the parent's groups stay attached, its registrations
 * stay.
 */
void ireg_ctx_close(struct ireg_ctx *ctx)
{
	struct pool_pending *pp;
	unsigned int i;

	if (!ctx)
		return;
	while ((pp = ctx->pending)) {
		ctx->pending = pp->next;
		free(pp);
	}
	for (i = 0; i < ctx->nr_devices; i++)
		close(ctx->devices[i].fd);
	if (ctx->status)
		munmap((void *)ctx->status, ctx->status_size);
	if (ctx->notify_fd >= 0)
		close(ctx->notify_fd);
	/* Groups last: closing a group detaches it from the container. */
	for (i = 0; i < ctx->nr_groups; i++)
		close(ctx->groups[i].fd);
	if (ctx->container_fd >= 0 && !ctx->container_borrowed)
		close(ctx->container_fd);
	free(ctx->devices);
	free(ctx->groups);
	free(ctx->dontfork);
	free(ctx);
}

int ireg_ctx_container_fd(const struct ireg_ctx *ctx)
{
	return ctx->container_fd;
}

/* Before ireg_errmsg(): @ctx is not used, and may be NULL. */
const char *ireg_ctx_errmsg(const struct ireg_ctx *ctx)
{
	(void)ctx;
	return errmsg;
}

int ireg_ctx_notify_fd(const struct ireg_ctx *ctx)
{
	return ctx->notify_fd;
}

/*
 * Once the backend is selected: open the notify fd and map the status
 * area, which every registration's validity check reads.
 */
static int notify_setup(struct ireg_ctx *ctx)
{
	struct iommu_reg_notify cmd = { .argsz = sizeof(cmd) };
	void *status;
	int err, fl;

	if (ioctl(ctx->container_fd, IOMMU_REG_NOTIFY, &cmd))
		return __ireg_fail(ctx, errno, "IOMMU_REG_NOTIFY: %s",
				   strerror(errno));
	/*
	 * Non-blocking: ireg_cache_process_events() drains it until EAGAIN,
	 * which a blocking fd would never give (the kernel opens it blocking
	 * and close-on-exec).
	 */
	fl = fcntl(cmd.fd, F_GETFL);
	if (fl < 0 || fcntl(cmd.fd, F_SETFL, fl | O_NONBLOCK)) {
		err = errno;
		close(cmd.fd);
		return __ireg_fail(ctx, err, "notify fd: O_NONBLOCK: %s",
				   strerror(err));
	}
	status = mmap(NULL, cmd.status_size, PROT_READ, MAP_SHARED, cmd.fd, 0);
	if (status == MAP_FAILED) {
		err = errno;
		close(cmd.fd);
		return __ireg_fail(ctx, err, "mapping the status area: %s",
				   strerror(err));
	}
	ctx->notify_fd = cmd.fd;
	ctx->status = status;
	ctx->status_size = cmd.status_size;
	ctx->gens = (const uint32_t *)((const char *)status +
				       ctx->status->slot_offset);
	return 0;
}

/*
 * A context over a container the caller set up itself (opened, groups
 * attached, iommu_reg selected): the library only maps the status area
 * and opens the notify fd, which ireg_ctx_close() closes, with its dup()
 * of the container (none with IREG_CTX_ADOPT_BORROW).
 */
int ireg_ctx_adopt(struct ireg_ctx **ctxp, int container_fd,
		   unsigned int flags)
{
	struct iommu_reg_info info = { .argsz = sizeof(info) };
	struct ireg_ctx *ctx;
	int ret;

	*ctxp = NULL;
	if (flags & ~(IREG_CTX_ADOPT_BORROW | IREG_CTX_ADOPT_SET_IOMMU))
		return __ireg_failf(EINVAL, "ctx adopt: unknown flags 0x%x",
				    flags & ~(IREG_CTX_ADOPT_BORROW |
					      IREG_CTX_ADOPT_SET_IOMMU));
	if (container_fd < 0)
		return __ireg_failf(EBADF, "ctx adopt: container fd %d",
				    container_fd);

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return __ireg_failf(ENOMEM, "ctx adopt: out of memory");
	ctx->notify_fd = -1;
	ctx->fork_gen = __ireg_fork_watch();
	ctx->pid = getpid();
	if (flags & IREG_CTX_ADOPT_BORROW) {
		ctx->container_fd = container_fd;
		ctx->container_borrowed = 1;
	} else {
		ctx->container_fd = fcntl(container_fd, F_DUPFD_CLOEXEC, 0);
		if (ctx->container_fd < 0) {
			ret = errno;
			free(ctx);
			return __ireg_failf(ret, "ctx adopt: dup of fd %d: %s",
					    container_fd, strerror(ret));
		}
	}

	/* A VFIO container at all (ENOTTY: some other file)? */
	ret = ioctl(ctx->container_fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		ret = ret < 0 ?
		      __ireg_failf(errno, "ctx adopt: fd %d is not a VFIO container: %s",
				   container_fd, strerror(errno)) :
		      __ireg_failf(EPROTO, "ctx adopt: VFIO API version %d, not %d",
				   ret, VFIO_API_VERSION);
		goto err;
	}
	/* IOMMU_REG_INFO answers only once iommu_reg is its backend. */
	if (ioctl(ctx->container_fd, IOMMU_REG_INFO, &info)) {
		if (!(flags & IREG_CTX_ADOPT_SET_IOMMU)) {
			/* No backend, or another one (type1). */
			ret = __ireg_failf(ENODEV, "ctx adopt: the container's IOMMU backend is not iommu_reg (none set, or another; IREG_CTX_ADOPT_SET_IOMMU sets it)");
			goto err;
		}
		/* EINVAL: no group attached yet, or another backend set. */
		if (ioctl(ctx->container_fd, VFIO_SET_IOMMU, VFIO_IOMMU_REG)) {
			ret = __ireg_failf(errno, "ctx adopt: VFIO_SET_IOMMU iommu_reg: %s%s",
					   strerror(errno), errno == EINVAL ?
					   " (no group attached, or another backend set)" : "");
			goto err;
		}
	}
	ctx->backend_set = 1;
	/* EBUSY: the caller holds the container's one notify fd. */
	ret = notify_setup(ctx);
	if (ret)
		goto err;
	*ctxp = ctx;
	return 0;

err:
	ireg_ctx_close(ctx);
	return ret;
}

static int group_of(struct ireg_ctx *ctx, const char *bdf, int *group)
{
	int ret = ireg_pci_iommu_group(bdf);

	if (ret == -ENODEV)
		return __ireg_fail(ctx, ENODEV,
				   "%s: no such PCI device, or not behind an IOMMU",
				   bdf);
	if (ret < 0)
		return __ireg_fail(ctx, -ret, "%s: %s", bdf, strerror(-ret));
	*group = ret;
	return 0;
}

static int group_attach(struct ireg_ctx *ctx, int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct ctx_group *groups;
	char path[64];
	unsigned int i;
	int fd, err, ret;

	for (i = 0; i < ctx->nr_groups; i++)
		if (ctx->groups[i].id == group)
			return ctx->groups[i].fd;
	/*
	 * Room first: failing after the backend was set and the group left
	 * again would leave the container without a backend, the context
	 * believing it has one.
	 */
	groups = realloc(ctx->groups, (ctx->nr_groups + 1) * sizeof(*groups));
	if (!groups)
		return __ireg_fail(ctx, ENOMEM, "group %d: out of memory", group);
	ctx->groups = groups;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			return __ireg_fail(ctx, ENODEV,
					   "%s missing: device not bound to vfio-pci",
					   path);
		return __ireg_fail(ctx, err, "open %s: %s", path, strerror(err));
	}

	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status)) {
		err = errno;
		goto err_close;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		close(fd);
		return __ireg_fail(ctx, EBUSY,
				   "group %d not viable: bind all its devices to vfio-pci",
				   group);
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &ctx->container_fd)) {
		err = errno;
		goto err_close;
	}
	if (!ctx->backend_set) {
		if (ioctl(ctx->container_fd, VFIO_SET_IOMMU, VFIO_IOMMU_REG)) {
			err = errno;
			ret = __ireg_fail(ctx, err, "VFIO_SET_IOMMU(iommu_reg): %s",
					  strerror(err));
			goto err_unset;
		}
		ctx->backend_set = 1;
		ret = notify_setup(ctx);
		if (ret) {
			ctx->backend_set = 0;
			goto err_unset;
		}
	}

	ctx->groups[ctx->nr_groups].id = group;
	ctx->groups[ctx->nr_groups].fd = fd;
	ctx->nr_groups++;
	return fd;

err_unset:
	ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
	close(fd);
	return ret;
err_close:
	close(fd);
	return __ireg_fail(ctx, err, "group %d: %s", group, strerror(err));
}

int ireg_device_open(struct ireg_ctx *ctx, const char *bdf)
{
	struct ctx_device *devices;
	int group = -1, group_fd, fd, ret;

	ret = __ireg_ctx_check_fork(ctx);
	if (ret)
		return ret;
	ret = group_of(ctx, bdf, &group);
	if (ret)
		return ret;
	group_fd = group_attach(ctx, group);
	if (group_fd < 0)
		return group_fd;
	/* Pools made before the first device: registered now. */
	ret = __ireg_pool_register_pending(ctx);
	if (ret)
		return ret;

	fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0) {
		ret = errno;
		return __ireg_fail(ctx, ret, "%s: VFIO_GROUP_GET_DEVICE_FD: %s",
				   bdf, strerror(ret));
	}

	devices = realloc(ctx->devices,
			  (ctx->nr_devices + 1) * sizeof(*devices));
	if (!devices) {
		close(fd);
		return __ireg_fail(ctx, ENOMEM, "%s: out of memory", bdf);
	}
	ctx->devices = devices;
	ctx->devices[ctx->nr_devices].fd = fd;
	snprintf(ctx->devices[ctx->nr_devices].bdf,
		 sizeof(ctx->devices[0].bdf), "%s", bdf);
	ctx->nr_devices++;
	return fd;
}

int ireg_ctx_info(struct ireg_ctx *ctx, struct iommu_reg_info *info,
		  struct iommu_reg_iova_range *ranges, unsigned int nr_ranges)
{
	int ret = __ireg_ctx_check_fork(ctx);

	if (ret)
		return ret;
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->num_iova_ranges = nr_ranges;
	info->iova_ranges = (uintptr_t)ranges;
	if (ioctl(ctx->container_fd, IOMMU_REG_INFO, info))
		return __ireg_fail(ctx, errno, "IOMMU_REG_INFO: %s",
				   strerror(errno));
	return 0;
}
