// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write-combining BAR mappings.
 *
 * IOMMU_REG_WC_BAR returns an anon-inode fd for a page-aligned window of
 * a memory BAR of a device in the container.  mmap() of the fd maps the
 * window write-combining; pages are inserted by the fault handler, one at
 * a time, so that revocation is simple: mark the object revoked, then zap
 * every user mapping of the fd with unmap_mapping_range().  A fault after
 * that finds the mark and raises SIGBUS.
 *
 * Who may have one: only a caller with CAP_SYS_RAWIO, and not under
 * lockdown (LOCKDOWN_PCI_ACCESS); others get EPERM.  That is what
 * /proc/bus/pci mmap asks and what sysfs resourceN_wc (root's, mode 0600,
 * plus the lockdown check) amounts to, so the fd grants nothing its
 * holder could not map already.  The reason: vfio-pci zaps its own BAR
 * mappings, under its memory_lock, when the user turns memory decoding
 * off through config space, puts the device in D3hot or resets it, since
 * on many servers a load from a BAR that does not decode ends in a fatal
 * AER, an NMI or a machine check.  Those zaps do not reach our VMAs: on
 * 6.1 vfio-pci walks a private list of its own VMAs, and it offers no
 * notifier, nor does the VFIO backend interface (its only device events
 * are register_device/unregister_device, at first open and last close).
 * Later kernels zap the device inode's address_space instead, and newer
 * ones revoke DMABUF-backed BAR mappings; neither is something a compile
 * probe can see, nor an interface for a foreign mapping.  So the promise
 * "no access to a BAR that does not decode" rests, as with sysfs, with a
 * privileged user, on every kernel.
 *
 * What is done all the same: a fault inserts nothing while the device is
 * in D3hot or deeper or its memory decoding is off (read from config
 * space), and raises SIGBUS; pages already present stay until revoked.
 *
 * The fd's VMAs must be found for the zap.  Every anon-inode file shares
 * one inode and so one address_space; each fd therefore gets its own
 * address_space (iommu_reg_wcbar.mapping), installed as file->f_mapping before
 * the fd is published, so that VMAs are linked into it (the way DRM gives
 * its files a private mapping); its host is the anon inode, whose flags
 * the mmap path reads.
 *
 * The physical range is reserved write-combining in the x86 PAT memtype
 * list (arch_io_reserve_memtype_wc()) until revocation;
 * vmf_insert_pfn_prot() takes the memory type from that reservation.
 * Revocation zaps first and frees the reservation after, so no WC PTE
 * outlives it.
 *
 * Only a device that VFIO has open (register_device called, see
 * container.c) gets an fd, and closing the device (unregister_device)
 * revokes its fds, as the group leaving the container and the container's
 * release do.
 *
 * Locking (the order is written in iommu_reg.h): iommu_reg_wcbar_lock
 * covers every container's wcbars list and the revocation step (zap, PAT,
 * device reference); it is taken under iommu_reg_container.lock (group
 * detach, device close) and never by a fault or by mmap().  Each object's
 * @lock covers its @revoked; the fault handler inserts a page under it, so
 * a revocation that sets @revoked under it and zaps after leaves no page
 * behind.  No user memory is touched under any of them.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/security.h>
#include <linux/slab.h>

#include "iommu_reg_compat.h"
#include "ireg_config.h"
#include "iommu_reg.h"

static DEFINE_MUTEX(iommu_reg_wcbar_lock);

/**
 * struct iommu_reg_wcbar - a write-combining window of a BAR, behind an fd
 * @node: entry in iommu_reg_container.wcbars while not revoked
 * @mapping: the fd's own address_space, for its VMAs
 * @lock: protects @revoked; faults insert pages under it
 * @pdev: the device (referenced until revoked)
 * @group: its IOMMU group, to revoke when the group leaves
 * @phys: physical address of the window; immutable
 * @size: bytes of the window; immutable
 * @revoked: the window is gone; faults raise SIGBUS
 */
struct iommu_reg_wcbar {
	struct list_head node;
	struct address_space mapping;
	struct mutex lock;	/* protects @revoked */
	struct pci_dev *pdev;
	struct iommu_group *group;
	phys_addr_t phys;
	u64 size;
	bool revoked;
};

/*
 * Revoke one object; iommu_reg_wcbar_lock held.  Once @revoked is set no fault
 * inserts a page, so the zap leaves none; only then may the range lose
 * its write-combining reservation and the device its reference.
 */
static void iommu_reg_wcbar_revoke_one(struct iommu_reg_wcbar *w)
{
	struct pci_dev *pdev;
	bool was_revoked;

	lockdep_assert_held(&iommu_reg_wcbar_lock);
	mutex_lock(&w->lock);
	was_revoked = w->revoked;
	w->revoked = true;
	pdev = w->pdev;
	w->pdev = NULL;
	mutex_unlock(&w->lock);
	if (was_revoked)
		return;

	list_del_init(&w->node);
	unmap_mapping_range(&w->mapping, 0, 0, 1);
	arch_io_free_memtype_wc(w->phys, w->size);
	pci_dev_put(pdev);
}

/*
 * Whether @pdev decodes its memory BARs now, as far as a look tells: not
 * in D3hot or deeper, memory space enabled in the command register (a VF
 * has none: its PF's SR-IOV control decides).  A config read that fails,
 * or all ones from a device in reset, counts as not decoding.
 */
static bool iommu_reg_wcbar_decodes(struct pci_dev *pdev)
{
	u16 cmd;

	if ((__force int)READ_ONCE(pdev->current_state) >=
	    (__force int)PCI_D3hot)
		return false;
	if (pdev->no_command_memory)
		return true;
	if (pci_read_config_word(pdev, PCI_COMMAND, &cmd) ||
	    PCI_POSSIBLE_ERROR(cmd))
		return false;
	return cmd & PCI_COMMAND_MEMORY;
}

static vm_fault_t iommu_reg_wcbar_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct iommu_reg_wcbar *w = vma->vm_private_data;
	unsigned long pgoff = vma->vm_pgoff +
			      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	mutex_lock(&w->lock);
	if (!w->revoked && pgoff < w->size >> PAGE_SHIFT &&
	    iommu_reg_wcbar_decodes(w->pdev))
		ret = vmf_insert_pfn_prot(vma, vmf->address,
					  (w->phys >> PAGE_SHIFT) + pgoff,
					  vma->vm_page_prot);
	mutex_unlock(&w->lock);
	return ret;
}

static const struct vm_operations_struct iommu_reg_wcbar_vm_ops = {
	.fault = iommu_reg_wcbar_fault,
};

static int iommu_reg_wcbar_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct iommu_reg_wcbar *w = file->private_data;
	unsigned long pages = vma_pages(vma);
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff >= w->size >> PAGE_SHIFT ||
	    pages > (w->size >> PAGE_SHIFT) - vma->vm_pgoff)
		return -EINVAL;

	mutex_lock(&w->lock);
	if (w->revoked)
		ret = -ENODEV;
	mutex_unlock(&w->lock);
	if (ret)
		return ret;

	/* A VMA made now and revoked before its first fault only SIGBUSes. */
	vma->vm_private_data = w;
	vma->vm_ops = &iommu_reg_wcbar_vm_ops;
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	iommu_reg_vm_flags_set(vma,
			       VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

static int iommu_reg_wcbar_release(struct inode *inode, struct file *file)
{
	struct iommu_reg_wcbar *w = file->private_data;

	/* Every VMA holds the file: none is left to zap. */
	mutex_lock(&iommu_reg_wcbar_lock);
	iommu_reg_wcbar_revoke_one(w);
	mutex_unlock(&iommu_reg_wcbar_lock);
	mutex_destroy(&w->lock);
	kfree(w);
	return 0;
}

static const struct file_operations iommu_reg_wcbar_fops = {
	.owner		= THIS_MODULE,
	.mmap		= iommu_reg_wcbar_mmap,
	.release	= iommu_reg_wcbar_release,
	.llseek		= noop_llseek,
};

/* Validate the window against the BAR; fills @cmd's outputs. */
static int iommu_reg_wcbar_window(struct pci_dev *pdev,
				  struct iommu_reg_wc_bar *cmd,
				  phys_addr_t *phys)
{
	resource_size_t start = pci_resource_start(pdev, cmd->bar);
	resource_size_t len = pci_resource_len(pdev, cmd->bar);
	unsigned long flags = pci_resource_flags(pdev, cmd->bar);
	u64 end;

	if (!len)
		return -ENOENT;
	if (!(flags & IORESOURCE_MEM))
		return -EOPNOTSUPP;
	/* A sub-page BAR would share its page with someone else's. */
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(len))
		return -EOPNOTSUPP;
	if (cmd->offset >= len)
		return -ERANGE;
	if (!cmd->length)
		cmd->length = len - cmd->offset;
	if (check_add_overflow(cmd->offset, cmd->length, &end))
		return -EOVERFLOW;
	if (end > len)
		return -ERANGE;
	cmd->bar_size = len;
	*phys = start + cmd->offset;
	return 0;
}

int iommu_reg_wcbar_open(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_wc_bar *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_group *group;
	struct iommu_reg_wcbar *w;
	struct pci_dev *pdev;
	struct file *file;
	phys_addr_t phys;
	int ret;

	/* What /proc/bus/pci and sysfs resourceN_wc ask: see the top. */
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	ret = security_locked_down(LOCKDOWN_PCI_ACCESS);
	if (ret)
		return ret;

	if (cmd->flags || cmd->bar >= PCI_STD_NUM_BARS)
		return -EINVAL;
	if (!PAGE_ALIGNED(cmd->offset) || !PAGE_ALIGNED(cmd->length))
		return -EINVAL;

	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	address_space_init_once(&w->mapping);
	mutex_init(&w->lock);

	mutex_lock(&c->lock);
	/* Memory decoding and the device's state belong to an open device. */
	pdev = iommu_reg_container_open_pdev(c, cmd->pci_domain, cmd->pci_rid,
					     &group);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto err_unlock;
	}
	ret = iommu_reg_wcbar_window(pdev, cmd, &phys);
	if (ret)
		goto err_put_pdev;

	ret = arch_io_reserve_memtype_wc(phys, cmd->length);
	if (ret) {
		ret = -EBUSY;
		goto err_put_pdev;
	}

	file = anon_inode_getfile("[iommu_reg-wcbar]", &iommu_reg_wcbar_fops, w,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_free_memtype;
	}
	/* The mm reads the host inode's flags through f_mapping. */
	w->mapping.host = file_inode(file);
	file->f_mapping = &w->mapping;

	/*
	 * Listed before the container lock is dropped, so that a device
	 * closed from now on revokes it.  The file owns @w, the reservation
	 * and the device reference from here: its release revokes.
	 */
	w->pdev = pdev;
	w->group = group;
	w->phys = phys;
	w->size = cmd->length;
	mutex_lock(&iommu_reg_wcbar_lock);
	list_add_tail(&w->node, &c->wcbars);
	mutex_unlock(&iommu_reg_wcbar_lock);
	mutex_unlock(&c->lock);

	/* User memory is written with no lock held. */
	return iommu_reg_ucmd_respond_fd(ucmd, sizeof(*cmd), &cmd->fd, file);

err_free_memtype:
	arch_io_free_memtype_wc(phys, cmd->length);
err_put_pdev:
	pci_dev_put(pdev);
err_unlock:
	mutex_unlock(&c->lock);
	mutex_destroy(&w->lock);
	kfree(w);
	return ret;
}

/* Revoke the fds of @group (NULL: any) or of @dev (NULL: any). */
static void iommu_reg_wcbar_revoke(struct iommu_reg_container *c,
				   struct iommu_group *group,
				   struct device *dev)
{
	struct iommu_reg_wcbar *w, *next;

	/* Holding the lock keeps each file's release from freeing @w. */
	mutex_lock(&iommu_reg_wcbar_lock);
	list_for_each_entry_safe(w, next, &c->wcbars, node) {
		if (group && w->group != group)
			continue;
		if (dev && &w->pdev->dev != dev)
			continue;
		iommu_reg_wcbar_revoke_one(w);
	}
	mutex_unlock(&iommu_reg_wcbar_lock);
}

/**
 * iommu_reg_wcbar_revoke_group - revoke the BAR fds of a group's devices
 * @c: the container
 * @group: the group leaving the container, or NULL for every fd
 *
 * After this no user mapping of those fds reaches the device: present
 * pages are zapped, later faults raise SIGBUS.
 */
void iommu_reg_wcbar_revoke_group(struct iommu_reg_container *c,
				  struct iommu_group *group)
{
	iommu_reg_wcbar_revoke(c, group, NULL);
}

/**
 * iommu_reg_wcbar_revoke_dev - revoke the BAR fds of a device VFIO closed
 * @c: the container, locked
 * @dev: the device (struct vfio_device.dev)
 *
 * Called from the unregister_device callback, with VFIO's device set and
 * group locks held; takes iommu_reg_wcbar_lock, the objects' locks and the
 * fds' i_mmap locks only.
 */
void iommu_reg_wcbar_revoke_dev(struct iommu_reg_container *c,
				struct device *dev)
{
	lockdep_assert_held(&c->lock);
	iommu_reg_wcbar_revoke(c, NULL, dev);
}
