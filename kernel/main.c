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
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "iommu_reg.h"

unsigned int ireg_max_regions = 1U << 20;

unsigned int ireg_max_mappings = 65535;
module_param_named(max_mappings, ireg_max_mappings, uint, 0644);
MODULE_PARM_DESC(max_mappings,
		 "Mappings one container may hold beyond one per pinned page; past it mapping fails with ENOSPC (type1's dma_entry_limit is 65535)");
module_param_named(max_regions, ireg_max_regions, uint, 0644);
MODULE_PARM_DESC(max_regions,
		 "Regions one container may hold; past it registration fails with ENOSPC");

/*
 * Read-only once loaded: VFIO picks a backend by asking each one, so the
 * answer must not change under a program between CHECK_EXTENSION and
 * SET_IOMMU, nor under a container opened with it.
 */
bool ireg_type1_compat;
module_param_named(type1_compat, ireg_type1_compat, bool, 0444);
MODULE_PARM_DESC(type1_compat,
		 "Drop-in mode: also answer VFIO_CHECK_EXTENSION and VFIO_SET_IOMMU for VFIO_TYPE1_IOMMU and VFIO_TYPE1v2_IOMMU, with type1's v1 and v2 semantics (load after vfio_iommu_type1 to be asked first)");

static struct dentry *ireg_debugfs;

union ireg_ucmd_buffer {
	struct iommu_reg_info info;
	struct iommu_reg_prereg prereg;
	struct iommu_reg_map map;
	struct iommu_reg_unmap unmap;
	struct iommu_reg_unreg unreg;
	struct iommu_reg_register reg;
	struct iommu_reg_notify notify;
	struct iommu_reg_sva_info sva_info;
	struct iommu_reg_sva_bind sva_bind;
	struct iommu_reg_sva_unbind sva_unbind;
	struct iommu_reg_wc_bar wc_bar;
};

struct ireg_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	bool has_output;
	int (*execute)(struct ireg_ucmd *ucmd);
};

/* Index of a command in ireg_ioctl_ops. */
#define IREG_IDX(cmd)	(_IOC_NR(cmd) - IOMMU_REG_BASE)

#define IREG_IOCTL_OP(_fn, _struct, _last, _output)			\
	{								\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union ireg_ucmd_buffer) < \
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.has_output = _output,					\
		.execute = _fn,						\
	}

static const struct ireg_ioctl_op ireg_ioctl_ops[] = {
	[IREG_IDX(IOMMU_REG_INFO)] = IREG_IOCTL_OP(ireg_container_info,
						   struct iommu_reg_info,
						   iova_ranges, true),
	[IREG_IDX(IOMMU_REG_PREREG)] = IREG_IOCTL_OP(ireg_region_prereg,
						     struct iommu_reg_prereg,
						     refs, true),
	[IREG_IDX(IOMMU_REG_MAP)] = IREG_IOCTL_OP(ireg_mapping_map,
						  struct iommu_reg_map, iova,
						  true),
	[IREG_IDX(IOMMU_REG_UNMAP)] = IREG_IOCTL_OP(ireg_mapping_unmap,
						    struct iommu_reg_unmap,
						    length, true),
	[IREG_IDX(IOMMU_REG_UNREG)] = IREG_IOCTL_OP(ireg_region_unreg,
						    struct iommu_reg_unreg,
						    __reserved, false),
	[IREG_IDX(IOMMU_REG_REGISTER)] = IREG_IOCTL_OP(ireg_mapping_register,
						       struct iommu_reg_register,
						       iova, true),
	[IREG_IDX(IOMMU_REG_NOTIFY)] = IREG_IOCTL_OP(ireg_notify_open,
						     struct iommu_reg_notify,
						     status_size, true),
	[IREG_IDX(IOMMU_REG_SVA_INFO)] = IREG_IOCTL_OP(ireg_sva_info,
						       struct iommu_reg_sva_info,
						       devices, true),
	[IREG_IDX(IOMMU_REG_SVA_BIND)] = IREG_IOCTL_OP(ireg_sva_bind,
						       struct iommu_reg_sva_bind,
						       __reserved, true),
	[IREG_IDX(IOMMU_REG_SVA_UNBIND)] = IREG_IOCTL_OP(ireg_sva_unbind,
							 struct iommu_reg_sva_unbind,
							 pci_rid, false),
	[IREG_IDX(IOMMU_REG_WC_BAR)] = IREG_IOCTL_OP(ireg_wcbar_open,
						     struct iommu_reg_wc_bar,
						     bar_size, true),
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

/*
 * VFIO asks every registered backend about an extension number and takes
 * the first positive answer, newest backend first, with no iommu_data.
 * Answer for our own number; for type1's only in the drop-in mode, or a
 * program that selects type1 would not get type1.  Once selected, report
 * the type1 extensions whose ioctls we implement; a container opened as
 * type1 answers for both type1 numbers, as type1 does whatever its mode.
 */
static long ireg_check_extension(struct ireg_container *c, unsigned long arg)
{
	switch (arg) {
	case VFIO_IOMMU_REG:
		return 1;
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		if (c)
			return c->vfio_type != VFIO_IOMMU_REG;
		return ireg_type1_compat;
	case VFIO_UNMAP_ALL:
		return c || ireg_type1_compat;
	default:
		return 0;
	}
}

static long ireg_container_ioctl(struct ireg_container *iommu_data,
				 unsigned int cmd, unsigned long arg)
{
	const struct ireg_ioctl_op *op;
	union ireg_ucmd_buffer buf;
	struct ireg_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (_IOC_TYPE(cmd) == VFIO_TYPE && nr < IOMMU_REG_BASE) {
		ret = ireg_type1_ioctl(iommu_data, cmd, arg);
		if (ret < 0 && ret != -ENOTTY)
			ireg_stat_fail(ret);
		return ret;
	}

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
	/*
	 * A struct from the future may be larger, but not without bound: a
	 * tail of gigabytes would be scanned for zeroes (as openat2 and
	 * clone3, cap it).
	 */
	if (ucmd.user_size > PAGE_SIZE)
		return -E2BIG;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;

	/*
	 * A failing ioctl changes nothing, so find out now whether the
	 * output can be written, by writing back what the caller passed.
	 * Commands that create something still undo it if the final copy
	 * fails (another thread may unmap the struct meanwhile).
	 */
	if (op->has_output && ireg_ucmd_respond(&ucmd, op->size))
		ret = -EFAULT;
	else
		ret = op->execute(&ucmd);
	if (ret)
		ireg_stat_fail(ret);
	return ret;
}

static long ireg_ioctl(void *iommu_data, unsigned int cmd, unsigned long arg)
{
	struct ireg_container *c;
	long ret;

	if (cmd == VFIO_CHECK_EXTENSION && !iommu_data)
		return ireg_check_extension(NULL, arg);
	if (!iommu_data)
		return -EINVAL;

	/* The container may be released under us: see ireg_container_get() */
	c = ireg_container_get(iommu_data);
	if (!c)
		return -ENODEV;
	if (READ_ONCE(c->released))
		ret = -ENODEV;
	else if (cmd == VFIO_CHECK_EXTENSION)
		ret = ireg_check_extension(c, arg);
	else
		ret = ireg_container_ioctl(c, cmd, arg);
	ireg_container_put(c);
	return ret;
}

static const struct vfio_iommu_driver_ops ireg_driver_ops = {
	.name			= "vfio-iommu-reg",
	.owner			= THIS_MODULE,
	.open			= ireg_container_open,
	.release		= ireg_container_release,
	.ioctl			= ireg_ioctl,
	.attach_group		= ireg_container_attach_group,
	.detach_group		= ireg_container_detach_group,
	.register_device	= ireg_container_register_device,
	.unregister_device	= ireg_container_unregister_device,
	.group_iommu_domain	= ireg_container_group_domain,
};

static int ireg_audit_show(struct seq_file *s, void *unused)
{
	static const char *const names[IREG_AUDIT_NR] = {
		[IREG_AUDIT_4K] = "4K",
		[IREG_AUDIT_2M] = "2M",
		[IREG_AUDIT_1G] = "1G",
		[IREG_AUDIT_OTHER] = "other",
	};
	int i;

	for (i = 0; i < IREG_AUDIT_NR; i++)
		seq_printf(s, "%s %lld\n", names[i],
			   atomic64_read(&ireg_audit_pages[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ireg_audit);

static int __init ireg_init(void)
{
	int ret;

	ret = ireg_container_init();
	if (ret)
		return ret;
	ret = ireg_nl_init();
	if (ret)
		goto err_container;
	ret = vfio_register_iommu_driver(&ireg_driver_ops);
	if (ret)
		goto err_nl;
	ireg_debugfs = debugfs_create_dir("iommu_reg", NULL);
	debugfs_create_file("audit", 0444, ireg_debugfs, NULL,
			    &ireg_audit_fops);
	return 0;

err_nl:
	ireg_nl_exit();
err_container:
	ireg_container_exit();
	return ret;
}

static void __exit ireg_exit(void)
{
	debugfs_remove_recursive(ireg_debugfs);
	vfio_unregister_iommu_driver(&ireg_driver_ops);
	ireg_nl_exit();
	/* Teardowns a netlink dump handed off: none can be queued now. */
	ireg_container_exit();
}

module_init(ireg_init);
module_exit(ireg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO IOMMU backend for pre-registered, pinned DMA buffers");
MODULE_SOFTDEP("pre: vfio");
