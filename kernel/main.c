// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommu_reg: a VFIO IOMMU backend for pre-registered, pinned DMA buffers.
 *
 * This file registers the backend with VFIO and dispatches the container
 * ioctls.  Dispatch is table driven, in the iommufd manner: each command
 * knows the size of its struct and the size of its first published version;
 * the argument is read with copy_struct_from_user(), so a larger struct
 * from a newer program is accepted when its tail is zero and refused with
 * E2BIG otherwise.
 */
#include <linux/module.h>
#include <linux/uaccess.h>

#include "iommu_reg.h"

union ireg_ucmd_buffer {
	struct iommu_reg_info info;
};

struct ireg_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	int (*execute)(struct ireg_ucmd *ucmd);
};

/* Index of a command in ireg_ioctl_ops. */
#define IREG_IDX(cmd)	(_IOC_NR(cmd) - IOMMU_REG_BASE)

#define IREG_IOCTL_OP(_fn, _struct, _last)				\
	{								\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union ireg_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.execute = _fn,						\
	}

static const struct ireg_ioctl_op ireg_ioctl_ops[] = {
	[IREG_IDX(IOMMU_REG_INFO)] = IREG_IOCTL_OP(ireg_container_info,
						   struct iommu_reg_info,
						   iova_ranges),
};

/**
 * ireg_ucmd_respond - copy a command's output back to user space
 * @ucmd: the command in flight
 * @cmd_len: the kernel's size of the command struct
 *
 * Writes no more than the user's argsz, so an older program with a shorter
 * struct gets the fields it knows.
 *
 * Return: 0 or -EFAULT.
 */
int ireg_ucmd_respond(struct ireg_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static long ireg_ioctl(void *iommu_data, unsigned int cmd, unsigned long arg)
{
	const struct ireg_ioctl_op *op;
	union ireg_ucmd_buffer buf;
	struct ireg_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	/*
	 * VFIO asks every registered backend about an extension number and
	 * takes the first positive answer, newest backend first.  Answer
	 * only for our own number, never for type1's, so a program that
	 * selects type1 still gets type1.
	 */
	if (cmd == VFIO_CHECK_EXTENSION)
		return arg == VFIO_IOMMU_REG;

	if (!iommu_data)
		return -EINVAL;

	/* Our commands are _IO(): no size or direction bits in the number. */
	if (_IOC_TYPE(cmd) != IOMMU_REG_TYPE || _IOC_DIR(cmd) != _IOC_NONE ||
	    _IOC_SIZE(cmd) || nr < IOMMU_REG_BASE ||
	    nr - IOMMU_REG_BASE >= ARRAY_SIZE(ireg_ioctl_ops))
		return -ENOTTY;
	op = &ireg_ioctl_ops[nr - IOMMU_REG_BASE];
	if (!op->execute)
		return -ENOTTY;

	ucmd.container = iommu_data;
	ucmd.ubuffer = (void __user *)arg;
	ret = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (ret)
		return ret;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;

	return op->execute(&ucmd);
}

static const struct vfio_iommu_driver_ops ireg_driver_ops = {
	.name			= "vfio-iommu-reg",
	.owner			= THIS_MODULE,
	.open			= ireg_container_open,
	.release		= ireg_container_release,
	.ioctl			= ireg_ioctl,
	.attach_group		= ireg_container_attach_group,
	.detach_group		= ireg_container_detach_group,
	.group_iommu_domain	= ireg_container_group_domain,
};

static int __init ireg_init(void)
{
	return vfio_register_iommu_driver(&ireg_driver_ops);
}

static void __exit ireg_exit(void)
{
	vfio_unregister_iommu_driver(&ireg_driver_ops);
}

module_init(ireg_init);
module_exit(ireg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO IOMMU backend for pre-registered, pinned DMA buffers");
MODULE_SOFTDEP("pre: vfio");
