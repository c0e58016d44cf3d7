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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#include "iommureg.h"
#include "internal.h"

int __ireg_fail(struct ireg_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx) {
		va_start(ap, fmt);
		vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
		va_end(ap);
	}
	return -err;
}

int ireg_ctx_open(struct ireg_ctx **ctxp, unsigned int flags)
{
	struct ireg_ctx *ctx;
	int ret;

	*ctxp = NULL;
	if (flags & ~IREG_CTX_NO_BACKEND_CHECK)
		return -EINVAL;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->notify_fd = -1;

	ctx->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (ctx->container_fd < 0) {
		ret = errno;
		free(ctx);
		return -ret;
	}

	if (ioctl(ctx->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		ireg_ctx_close(ctx);
		return -EPROTO;
	}

	if (!(flags & IREG_CTX_NO_BACKEND_CHECK) &&
	    ioctl(ctx->container_fd, VFIO_CHECK_EXTENSION, VFIO_IOMMU_REG) != 1) {
		ireg_ctx_close(ctx);
		return -ENODEV;
	}

	*ctxp = ctx;
	return 0;
}

void ireg_ctx_close(struct ireg_ctx *ctx)
{
	unsigned int i;

	if (!ctx)
		return;
	for (i = 0; i < ctx->nr_devices; i++)
		close(ctx->devices[i].fd);
	if (ctx->status)
		munmap((void *)ctx->status, ctx->status_size);
	if (ctx->notify_fd >= 0)
		close(ctx->notify_fd);
	/* Groups last: closing a group detaches it from the container. */
	for (i = 0; i < ctx->nr_groups; i++)
		close(ctx->groups[i].fd);
	if (ctx->container_fd >= 0)
		close(ctx->container_fd);
	free(ctx->devices);
	free(ctx->groups);
	free(ctx);
}

int ireg_ctx_container_fd(const struct ireg_ctx *ctx)
{
	return ctx->container_fd;
}

const char *ireg_ctx_errmsg(const struct ireg_ctx *ctx)
{
	return ctx->errmsg;
}

int ireg_ctx_notify_fd(const struct ireg_ctx *ctx)
{
	return ctx->notify_fd;
}

/*
 * Once the backend is selected: open the notify fd and map the status
 * area, which every registration's validity check reads.
 */
static int ireg_ctx_notify_setup(struct ireg_ctx *ctx)
{
	struct iommu_reg_notify cmd = { .argsz = sizeof(cmd) };
	void *status;
	int err;

	if (ioctl(ctx->container_fd, IOMMU_REG_NOTIFY, &cmd))
		return __ireg_fail(ctx, errno, "IOMMU_REG_NOTIFY: %s",
				 strerror(errno));
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

static int ireg_group_of(struct ireg_ctx *ctx, const char *bdf, int *group)
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

static int ireg_group_attach(struct ireg_ctx *ctx, int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct ireg_group *groups;
	char path[64];
	unsigned int i;
	int fd, err;

	for (i = 0; i < ctx->nr_groups; i++)
		if (ctx->groups[i].id == group)
			return ctx->groups[i].fd;

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
			ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
			close(fd);
			return __ireg_fail(ctx, err,
					 "VFIO_SET_IOMMU(iommu_reg): %s",
					 strerror(err));
		}
		ctx->backend_set = 1;
		err = ireg_ctx_notify_setup(ctx);
		if (err) {
			ctx->backend_set = 0;
			ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
			close(fd);
			return err;
		}
	}

	groups = realloc(ctx->groups, (ctx->nr_groups + 1) * sizeof(*groups));
	if (!groups) {
		ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
		close(fd);
		return -ENOMEM;
	}
	ctx->groups = groups;
	ctx->groups[ctx->nr_groups].id = group;
	ctx->groups[ctx->nr_groups].fd = fd;
	ctx->nr_groups++;
	return fd;

err_close:
	close(fd);
	return __ireg_fail(ctx, err, "group %d: %s", group, strerror(err));
}

int ireg_device_open(struct ireg_ctx *ctx, const char *bdf)
{
	struct ireg_device *devices;
	int group = -1, group_fd, fd, ret;

	ret = ireg_group_of(ctx, bdf, &group);
	if (ret)
		return ret;
	group_fd = ireg_group_attach(ctx, group);
	if (group_fd < 0)
		return group_fd;

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
		return -ENOMEM;
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
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->num_iova_ranges = nr_ranges;
	info->iova_ranges = (uintptr_t)ranges;
	if (ioctl(ctx->container_fd, IOMMU_REG_INFO, info))
		return __ireg_fail(ctx, errno, "IOMMU_REG_INFO: %s",
				 strerror(errno));
	return 0;
}
