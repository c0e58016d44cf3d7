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

unsigned int iommu_reg_max_regions = 1U << 20;

unsigned int iommu_reg_max_mappings = 65535;
module_param_named(max_mappings, iommu_reg_max_mappings, uint, 0644);
MODULE_PARM_DESC(max_mappings,
		 "Mappings one container may hold beyond one per pinned page; past it mapping fails with ENOSPC (type1's dma_entry_limit is 65535)");
module_param_named(max_regions, iommu_reg_max_regions, uint, 0644);
MODULE_PARM_DESC(max_regions,
		 "Regions one container may hold; past it registration fails with ENOSPC");

/*
 * Read-only once loaded: VFIO picks a backend by asking each one, so the
 * answer must not change under a program between CHECK_EXTENSION and
 * SET_IOMMU, nor under a container opened with it.
 */
bool iommu_reg_type1_compat;
module_param_named(type1_compat, iommu_reg_type1_compat, bool, 0444);
MODULE_PARM_DESC(type1_compat,
		 "Drop-in mode: also answer VFIO_CHECK_EXTENSION and VFIO_SET_IOMMU for VFIO_TYPE1_IOMMU and VFIO_TYPE1v2_IOMMU, with type1's v1 and v2 semantics (load after vfio_iommu_type1 to be asked first)");

static struct dentry *iommu_reg_debugfs;

union ucmd_buffer {
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

struct iommu_reg_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	bool has_output;
	int (*execute)(struct iommu_reg_ucmd *ucmd);
};

/* The entry of @_ioctl, handled by @_fn; @_last: last field of version 1. */
#define IOCTL_OP(_ioctl, _fn, _struct, _last, _output)			\
	[_IOC_NR(_ioctl) - IOMMU_REG_BASE] = {				\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union ucmd_buffer) <	\
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.has_output = _output,					\
		.execute = _fn,						\
	}

static const struct iommu_reg_ioctl_op iommu_reg_ioctl_ops[] = {
	IOCTL_OP(IOMMU_REG_INFO, iommu_reg_container_info,
		 struct iommu_reg_info, iova_ranges, true),
	IOCTL_OP(IOMMU_REG_PREREG, iommu_reg_region_prereg,
		 struct iommu_reg_prereg, refs, true),
	IOCTL_OP(IOMMU_REG_MAP, iommu_reg_mapping_map,
		 struct iommu_reg_map, iova, true),
	IOCTL_OP(IOMMU_REG_UNMAP, iommu_reg_mapping_unmap,
		 struct iommu_reg_unmap, length, true),
	IOCTL_OP(IOMMU_REG_UNREG, iommu_reg_region_unreg,
		 struct iommu_reg_unreg, __reserved, false),
	IOCTL_OP(IOMMU_REG_REGISTER, iommu_reg_mapping_register,
		 struct iommu_reg_register, iova, true),
	IOCTL_OP(IOMMU_REG_NOTIFY, iommu_reg_notify_open,
		 struct iommu_reg_notify, status_size, true),
	IOCTL_OP(IOMMU_REG_SVA_INFO, iommu_reg_sva_info_ioctl,
		 struct iommu_reg_sva_info, devices, true),
	IOCTL_OP(IOMMU_REG_SVA_BIND, iommu_reg_sva_bind_ioctl,
		 struct iommu_reg_sva_bind, __reserved, true),
	IOCTL_OP(IOMMU_REG_SVA_UNBIND, iommu_reg_sva_unbind_ioctl,
		 struct iommu_reg_sva_unbind, pci_rid, false),
	IOCTL_OP(IOMMU_REG_WC_BAR, iommu_reg_wcbar_open,
		 struct iommu_reg_wc_bar, bar_size, true),
};

/*
 * VFIO asks every registered backend about an extension number and takes
 * the first positive answer, newest backend first, with no iommu_data.
 * Answer for our own number; for type1's only in the drop-in mode, or a
 * program that selects type1 would not get type1.  Once selected, report
 * the type1 extensions whose ioctls we implement; a container opened as
 * type1 answers for both type1 numbers, as type1 does whatever its mode.
 */
static long iommu_reg_check_extension(struct iommu_reg_container *c,
				      unsigned long arg)
{
	switch (arg) {
	case VFIO_IOMMU_REG:
		return 1;
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		if (c)
			return c->vfio_type != VFIO_IOMMU_REG;
		return iommu_reg_type1_compat;
	case VFIO_UNMAP_ALL:
		return c || iommu_reg_type1_compat;
	default:
		return 0;
	}
}

static long iommu_reg_container_ioctl(struct iommu_reg_container *iommu_data,
				      unsigned int cmd, unsigned long arg)
{
	const struct iommu_reg_ioctl_op *op;
	union ucmd_buffer buf;
	struct iommu_reg_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (_IOC_TYPE(cmd) == VFIO_TYPE && nr < IOMMU_REG_BASE) {
		ret = iommu_reg_type1_ioctl(iommu_data, cmd, arg);
		if (ret < 0 && ret != -ENOTTY)
			iommu_reg_stat_fail(ret);
		return ret;
	}

	/* Our commands are _IO(): no size or direction bits in the number. */
	if (_IOC_TYPE(cmd) != IOMMU_REG_TYPE || _IOC_DIR(cmd) != _IOC_NONE ||
	    _IOC_SIZE(cmd) || nr < IOMMU_REG_BASE ||
	    nr - IOMMU_REG_BASE >= ARRAY_SIZE(iommu_reg_ioctl_ops))
		return -ENOTTY;
	op = &iommu_reg_ioctl_ops[nr - IOMMU_REG_BASE];
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
	if (op->has_output && iommu_reg_ucmd_respond(&ucmd, op->size))
		ret = -EFAULT;
	else
		ret = op->execute(&ucmd);
	if (ret)
		iommu_reg_stat_fail(ret);
	return ret;
}

static long iommu_reg_ioctl(void *iommu_data, unsigned int cmd,
			    unsigned long arg)
{
	struct iommu_reg_container *c;
	long ret;

	if (cmd == VFIO_CHECK_EXTENSION && !iommu_data)
		return iommu_reg_check_extension(NULL, arg);
	if (!iommu_data)
		return -EINVAL;

	/* It may be released under us: see iommu_reg_container_get(). */
	c = iommu_reg_container_get(iommu_data);
	if (!c)
		return -ENODEV;
	if (READ_ONCE(c->released))
		ret = -ENODEV;
	else if (cmd == VFIO_CHECK_EXTENSION)
		ret = iommu_reg_check_extension(c, arg);
	else
		ret = iommu_reg_container_ioctl(c, cmd, arg);
	iommu_reg_container_put(c);
	return ret;
}

static const struct vfio_iommu_driver_ops iommu_reg_driver_ops = {
	.name			= "vfio-iommu-reg",
	.owner			= THIS_MODULE,
	.open			= iommu_reg_container_open,
	.release		= iommu_reg_container_release,
	.ioctl			= iommu_reg_ioctl,
	.attach_group		= iommu_reg_container_attach_group,
	.detach_group		= iommu_reg_container_detach_group,
	.register_device	= iommu_reg_container_register_device,
	.unregister_device	= iommu_reg_container_unregister_device,
	.group_iommu_domain	= iommu_reg_container_group_domain,
};

static int iommu_reg_audit_show(struct seq_file *s, void *unused)
{
	static const char *const names[IOMMU_REG_AUDIT_NR] = {
		[IOMMU_REG_AUDIT_4K] = "4K",
		[IOMMU_REG_AUDIT_2M] = "2M",
		[IOMMU_REG_AUDIT_1G] = "1G",
		[IOMMU_REG_AUDIT_OTHER] = "other",
	};
	int i;

	for (i = 0; i < IOMMU_REG_AUDIT_NR; i++)
		seq_printf(s, "%s %lld\n", names[i],
			   atomic64_read(&iommu_reg_audit_pages[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iommu_reg_audit);

static int __init iommu_reg_init(void)
{
	int ret;

	ret = iommu_reg_container_init();
	if (ret)
		return ret;
	ret = iommu_reg_nl_init();
	if (ret)
		goto err_container;
	ret = vfio_register_iommu_driver(&iommu_reg_driver_ops);
	if (ret)
		goto err_nl;
	iommu_reg_debugfs = debugfs_create_dir("iommu_reg", NULL);
	debugfs_create_file("audit", 0444, iommu_reg_debugfs, NULL,
			    &iommu_reg_audit_fops);
	return 0;

err_nl:
	iommu_reg_nl_exit();
err_container:
	iommu_reg_container_exit();
	return ret;
}

static void __exit iommu_reg_exit(void)
{
	debugfs_remove_recursive(iommu_reg_debugfs);
	vfio_unregister_iommu_driver(&iommu_reg_driver_ops);
	iommu_reg_nl_exit();
	/* Teardowns a netlink dump handed off: none can be queued now. */
	iommu_reg_container_exit();
}

module_init(iommu_reg_init);
module_exit(iommu_reg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO IOMMU backend for pre-registered, pinned DMA buffers");
MODULE_SOFTDEP("pre: vfio");
