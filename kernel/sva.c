// SPDX-License-Identifier: GPL-2.0-only
/*
 * SVA binding: the caller's address space bound to a device PASID.
 *
 * Vocabulary: a "bond" is one device bound to one mm through the kernel's
 * SVA API (iommu_sva_bind_device()), owned by a container.  "Caps" are
 * the IOMMU_REG_SVA_CAP_* facts about a device; the capability report
 * reads them from the device and the IOMMU, and tries the IOMMU's
 * per-device IOPF and SVA features for real, undoing them at once.
 *
 * Binding checks the same caps first and refuses with EOPNOTSUPP when a
 * piece is missing, so the report and the bind always agree on why.
 *
 * The API differs between kernels; kernel/probes/ decide at build time:
 * Linux 6.1 binds with (dev, mm, drvdata) and IOMMU drivers implement
 * iommu_ops.sva_bind; later kernels bind with (dev, mm) and implement
 * iommu_ops.remove_dev_pasid; later still the per-device features are
 * gone.
 *
 * Locking: iommu_reg_container.lock covers the bond list.  The SVA API
 * takes the IOMMU group's mutex under it (the order is in iommu_reg.h).
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ireg_config.h"
#include "iommu_reg.h"

/* What IOMMU_REG_SVA_BIND needs. */
#define IOMMU_REG_SVA_REQUIRED	(IOMMU_REG_SVA_CAP_PASID |		\
				 IOMMU_REG_SVA_CAP_PRI |		\
				 IOMMU_REG_SVA_CAP_ATS |		\
				 IOMMU_REG_SVA_CAP_IOMMU_SVA |		\
				 IOMMU_REG_SVA_CAP_IOPF |		\
				 IOMMU_REG_SVA_CAP_SVA)

/* The ACS bits the kernel's PASID enable asks of the path (Linux 6.2+). */
#define IOMMU_REG_SVA_ACS_FLAGS	(PCI_ACS_RR | PCI_ACS_UF)

/* The first published size of struct iommu_reg_sva_device. */
#define IOMMU_REG_SVA_DEVICE_SIZE_V1 \
	offsetofend(struct iommu_reg_sva_device, __reserved)

/**
 * struct iommu_reg_sva_bond - a device bound to an mm
 * @node: entry in iommu_reg_container.sva_bonds
 * @pdev: the device (referenced)
 * @group: its IOMMU group; the bond goes before the group leaves
 * @mm: the bound address space, grabbed (mmgrab) so the struct outlives
 *	the bond even when the process exits first; its pages are the SVA
 *	code's business (an mmu notifier of the IOMMU driver)
 * @handle: what the SVA API returned
 * @pasid: the PASID
 */
struct iommu_reg_sva_bond {
	struct list_head node;
	struct pci_dev *pdev;
	struct iommu_group *group;
	struct mm_struct *mm;
	struct iommu_sva *handle;
	u32 pasid;
};

static const struct iommu_ops *iommu_reg_dev_iommu_ops(struct device *dev)
{
	if (!dev->iommu || !dev->iommu->iommu_dev)
		return NULL;
	return dev->iommu->iommu_dev->ops;
}

static bool iommu_reg_iommu_has_sva(struct device *dev)
{
	const struct iommu_ops *ops = iommu_reg_dev_iommu_ops(dev);

	if (!ops)
		return false;
#if defined(IOMMU_REG_HAVE_IOMMU_OPS_SVA_BIND)
	return ops->sva_bind;
#elif defined(IOMMU_REG_HAVE_IOMMU_OPS_REMOVE_DEV_PASID)
	return ops->remove_dev_pasid;
#elif defined(IOMMU_REG_HAVE_IOMMU_OPS_DOMAIN_ALLOC_SVA)
	return ops->domain_alloc_sva;
#else
	return false;
#endif
}

/* The path carries End-End TLP prefixes. */
static bool iommu_reg_eetlp_prefix_path(struct pci_dev *pdev)
{
#ifdef IOMMU_REG_HAVE_PCI_EETLP_PREFIX_MAX
	return pdev->eetlp_prefix_max;
#else
	return pdev->eetlp_prefix_path;
#endif
}

/*
 * pci_acs_enabled() as in drivers/pci/pci.c (not exported), without the
 * device-specific quirks: the report says what the capability registers
 * say.
 */
static bool iommu_reg_acs_flags_enabled(struct pci_dev *pdev, u16 flags)
{
	u16 cap, ctrl;

	if (!pdev->acs_cap)
		return false;
	pci_read_config_word(pdev, pdev->acs_cap + PCI_ACS_CAP, &cap);
	flags &= cap | PCI_ACS_EC;
	pci_read_config_word(pdev, pdev->acs_cap + PCI_ACS_CTRL, &ctrl);
	return (ctrl & flags) == flags;
}

static bool iommu_reg_acs_enabled(struct pci_dev *pdev, u16 flags)
{
	if (!pci_is_pcie(pdev))
		return false;
	switch (pci_pcie_type(pdev)) {
	case PCI_EXP_TYPE_PCIE_BRIDGE:
	case PCI_EXP_TYPE_PCI_BRIDGE:
	case PCI_EXP_TYPE_RC_EC:
		return false;
	case PCI_EXP_TYPE_DOWNSTREAM:
	case PCI_EXP_TYPE_ROOT_PORT:
		return iommu_reg_acs_flags_enabled(pdev, flags);
	case PCI_EXP_TYPE_ENDPOINT:
	case PCI_EXP_TYPE_UPSTREAM:
	case PCI_EXP_TYPE_LEG_END:
	case PCI_EXP_TYPE_RC_END:
		if (pdev->multifunction)
			return iommu_reg_acs_flags_enabled(pdev, flags);
		break;
	}
	return true;
}

/* pci_acs_path_enabled(pdev, NULL, flags), likewise. */
static bool iommu_reg_acs_path_enabled(struct pci_dev *pdev, u16 flags)
{
	for (;;) {
		if (!iommu_reg_acs_enabled(pdev, flags))
			return false;
		if (pci_is_root_bus(pdev->bus))
			return true;
		pdev = pdev->bus->self;
	}
}

#ifdef IOMMU_REG_HAVE_IOMMU_DEV_FEAT_IOPF
#define IOMMU_REG_FEAT_IOPF	IOMMU_DEV_FEAT_IOPF
#define IOMMU_REG_FEAT_SVA	IOMMU_DEV_FEAT_SVA
#else
#define IOMMU_REG_FEAT_IOPF	0
#define IOMMU_REG_FEAT_SVA	1
#endif

static int iommu_reg_feature_enable(struct device *dev, int feat)
{
#ifdef IOMMU_REG_HAVE_IOMMU_DEV_FEAT_IOPF
	return iommu_dev_enable_feature(dev, feat);
#else
	/*
	 * No per-device features: the SVA domain attach enables what it
	 * needs.  Report what the kernel shows instead, with the errno the
	 * IOMMU drivers give for a missing piece: IOPF needs page fault
	 * handling in the driver (page_response) and PRI on the device, SVA
	 * needs SVA domains in the driver and PASID on the device.  Whether
	 * the IOMMU instance itself can do SVA only the bind can tell.
	 */
	const struct iommu_ops *ops = iommu_reg_dev_iommu_ops(dev);
	struct pci_dev *pdev = to_pci_dev(dev);

	if (feat == IOMMU_REG_FEAT_IOPF)
		return ops && ops->page_response && pci_pri_supported(pdev) ?
		       0 : -ENODEV;
	return iommu_reg_iommu_has_sva(dev) && pdev->pasid_cap ? 0 : -ENODEV;
#endif
}

static void iommu_reg_feature_disable(struct device *dev, int feat)
{
#ifdef IOMMU_REG_HAVE_IOMMU_DEV_FEAT_IOPF
	int ret = iommu_dev_disable_feature(dev, feat);

	WARN_ON_ONCE(ret);
#endif
}

/*
 * Enable IOPF then SVA, as the SVA API wants.  @iopf_err and @sva_err get
 * each result; SVA is tried even when IOPF failed, so the report shows
 * both answers.  Return 0 with both enabled, else nothing stays enabled.
 */
static int iommu_reg_features_enable(struct device *dev, int *iopf_err,
				     int *sva_err)
{
	*iopf_err = iommu_reg_feature_enable(dev, IOMMU_REG_FEAT_IOPF);
	*sva_err = iommu_reg_feature_enable(dev, IOMMU_REG_FEAT_SVA);
	if (!*iopf_err && !*sva_err)
		return 0;
	if (!*sva_err)
		iommu_reg_feature_disable(dev, IOMMU_REG_FEAT_SVA);
	if (!*iopf_err)
		iommu_reg_feature_disable(dev, IOMMU_REG_FEAT_IOPF);
	return -EOPNOTSUPP;
}

static void iommu_reg_features_disable(struct device *dev)
{
	iommu_reg_feature_disable(dev, IOMMU_REG_FEAT_SVA);
	iommu_reg_feature_disable(dev, IOMMU_REG_FEAT_IOPF);
}

static struct iommu_reg_sva_bond *
iommu_reg_sva_find(struct iommu_reg_container *c, struct pci_dev *pdev)
{
	struct iommu_reg_sva_bond *bond;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(bond, &c->sva_bonds, node)
		if (bond->pdev == pdev)
			return bond;
	return NULL;
}

/*
 * Fill @rec for @pdev.  The IOPF and SVA features are enabled for real
 * and disabled again; a bound device has them enabled already, so it
 * reports them from its bond instead.
 */
static void iommu_reg_sva_probe(struct iommu_reg_container *c,
				struct pci_dev *pdev,
				struct iommu_reg_sva_device *rec)
{
	struct iommu_reg_sva_bond *bond = iommu_reg_sva_find(c, pdev);
	int pasid_max, features, iopf_err, sva_err;

	memset(rec, 0, sizeof(*rec));
	rec->pci_domain = pci_domain_nr(pdev->bus);
	rec->pci_rid = pci_dev_id(pdev);

	if (pdev->pasid_cap) {
		rec->caps |= IOMMU_REG_SVA_CAP_PASID;
		pasid_max = pci_max_pasids(pdev);
		if (pasid_max > 0)
			rec->pasid_width = ilog2(pasid_max);
		features = pci_pasid_features(pdev);
		if (features > 0)
			rec->pasid_features = features;
	}
	if (pci_pri_supported(pdev))
		rec->caps |= IOMMU_REG_SVA_CAP_PRI;
	if (pci_ats_supported(pdev))
		rec->caps |= IOMMU_REG_SVA_CAP_ATS;
	if (iommu_reg_acs_path_enabled(pdev, IOMMU_REG_SVA_ACS_FLAGS))
		rec->caps |= IOMMU_REG_SVA_CAP_ACS_PATH;
	if (iommu_reg_eetlp_prefix_path(pdev) || pdev->pasid_no_tlp)
		rec->caps |= IOMMU_REG_SVA_CAP_TLP_PREFIX;
	if (iommu_reg_iommu_has_sva(&pdev->dev))
		rec->caps |= IOMMU_REG_SVA_CAP_IOMMU_SVA;

	if (bond) {
		rec->caps |= IOMMU_REG_SVA_CAP_IOPF | IOMMU_REG_SVA_CAP_SVA |
			     IOMMU_REG_SVA_CAP_BOUND;
		rec->pasid = bond->pasid;
	} else if (!iommu_reg_container_dev_open(c, &pdev->dev)) {
		/*
		 * A device the caller has not opened through VFIO is not
		 * theirs to reconfigure: its features are not toggled.
		 */
		rec->iopf_errno = EBUSY;
		rec->sva_errno = EBUSY;
	} else {
		if (!iommu_reg_features_enable(&pdev->dev, &iopf_err, &sva_err))
			iommu_reg_features_disable(&pdev->dev);
		rec->iopf_errno = -iopf_err;
		rec->sva_errno = -sva_err;
		if (!iopf_err)
			rec->caps |= IOMMU_REG_SVA_CAP_IOPF;
		if (!sva_err)
			rec->caps |= IOMMU_REG_SVA_CAP_SVA;
	}
	rec->missing = IOMMU_REG_SVA_REQUIRED & ~rec->caps;
}

int iommu_reg_sva_info_ioctl(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_sva_info *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_reg_sva_device *recs = NULL;
	struct iommu_group *group;
	struct pci_dev **pdevs;
	void __user *uentry;
	size_t copy;
	int i, n, nrec = 0, ret = 0;

	if (cmd->flags & ~IOMMU_REG_SVA_INFO_DEVICE)
		return -EINVAL;
	if (!(cmd->flags & IOMMU_REG_SVA_INFO_DEVICE) &&
	    (cmd->pci_domain || cmd->pci_rid))
		return -EINVAL;
	if (cmd->num_devices &&
	    (cmd->entry_size < IOMMU_REG_SVA_DEVICE_SIZE_V1 ||
	     cmd->entry_size > PAGE_SIZE))
		return -EINVAL;
	copy = min_t(size_t, cmd->entry_size, sizeof(*recs));

	/*
	 * The records are gathered under the container lock and written out
	 * after it: user memory is never touched under the lock.
	 */
	mutex_lock(&c->lock);
	if (cmd->flags & IOMMU_REG_SVA_INFO_DEVICE) {
		pdevs = kcalloc(1, sizeof(*pdevs), GFP_KERNEL);
		if (!pdevs) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		pdevs[0] = iommu_reg_container_find_pdev(c, cmd->pci_domain,
							 cmd->pci_rid, &group);
		n = 1;
		if (!pdevs[0]) {
			kfree(pdevs);
			ret = -ENOENT;
			goto out_unlock;
		}
	} else {
		n = iommu_reg_container_pdevs(c, &pdevs);
		if (n < 0) {
			ret = n;
			goto out_unlock;
		}
	}

	nrec = min_t(u32, n, cmd->num_devices);
	if (nrec) {
		recs = kcalloc(nrec, sizeof(*recs), GFP_KERNEL);
		if (!recs)
			ret = -ENOMEM;
	}
	for (i = 0; !ret && i < nrec; i++)
		iommu_reg_sva_probe(c, pdevs[i], &recs[i]);
	iommu_reg_pdevs_put(pdevs, n);
	cmd->num_devices = n;
out_unlock:
	mutex_unlock(&c->lock);

	uentry = u64_to_user_ptr(cmd->devices);
	for (i = 0; !ret && i < nrec; i++) {
		if (copy_to_user(uentry, &recs[i], copy) ||
		    (cmd->entry_size > copy &&
		     clear_user(uentry + copy, cmd->entry_size - copy)))
			ret = -EFAULT;
		uentry += cmd->entry_size;
	}
	kfree(recs);
	if (ret)
		return ret;
	return iommu_reg_ucmd_respond(ucmd, sizeof(*cmd));
}

static struct iommu_sva *iommu_reg_sva_bind_mm(struct device *dev,
					       struct mm_struct *mm)
{
#ifdef IOMMU_REG_HAVE_SVA_BIND_DRVDATA
	return iommu_sva_bind_device(dev, mm, NULL);
#else
	return iommu_sva_bind_device(dev, mm);
#endif
}

static void iommu_reg_sva_bond_destroy(struct iommu_reg_sva_bond *bond)
{
	iommu_sva_unbind_device(bond->handle);
	iommu_reg_features_disable(&bond->pdev->dev);
	mmdrop(bond->mm);
	pci_dev_put(bond->pdev);
	kfree(bond);
}

int iommu_reg_sva_bind_ioctl(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_sva_bind *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_reg_sva_device rec;
	struct iommu_reg_sva_bond *bond;
	struct iommu_group *group;
	struct iommu_sva *handle;
	struct pci_dev *pdev;
	int ret, iopf_err, sva_err;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	bond = kzalloc(sizeof(*bond), GFP_KERNEL_ACCOUNT);
	if (!bond)
		return -ENOMEM;

	mutex_lock(&c->lock);
	/* A bound device is open: VFIO's close undoes its bond. */
	pdev = iommu_reg_container_open_pdev(c, cmd->pci_domain, cmd->pci_rid,
					     &group);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto err_unlock;
	}
	if (iommu_reg_sva_find(c, pdev)) {
		ret = -EEXIST;
		goto err_put_pdev;
	}

	/* The report's answer: the same facts decide here. */
	iommu_reg_sva_probe(c, pdev, &rec);
	if (rec.missing) {
		ret = -EOPNOTSUPP;
		goto err_put_pdev;
	}

	ret = iommu_reg_features_enable(&pdev->dev, &iopf_err, &sva_err);
	if (ret)
		goto err_put_pdev;

	handle = iommu_reg_sva_bind_mm(&pdev->dev, current->mm);
	if (IS_ERR(handle)) {
		ret = PTR_ERR(handle);
		goto err_disable;
	}
	bond->pasid = iommu_sva_get_pasid(handle);
	if (bond->pasid == IOMMU_PASID_INVALID) {
		ret = -EOPNOTSUPP;
		goto err_unbind;
	}

	cmd->pasid = bond->pasid;
	bond->pdev = pdev;
	bond->group = group;
	bond->handle = handle;
	bond->mm = current->mm;
	mmgrab(bond->mm);
	list_add_tail(&bond->node, &c->sva_bonds);
	mutex_unlock(&c->lock);

	/* Written after unlocking; undone if the caller cannot learn of it. */
	ret = iommu_reg_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		struct iommu_reg_sva_bond *b;

		mutex_lock(&c->lock);
		list_for_each_entry(b, &c->sva_bonds, node) {
			if (b == bond) {
				list_del(&bond->node);
				iommu_reg_sva_bond_destroy(bond);
				break;
			}
		}
		mutex_unlock(&c->lock);
	}
	return ret;

err_unbind:
	iommu_sva_unbind_device(handle);
err_disable:
	iommu_reg_features_disable(&pdev->dev);
err_put_pdev:
	pci_dev_put(pdev);
err_unlock:
	mutex_unlock(&c->lock);
	kfree(bond);
	return ret;
}

int iommu_reg_sva_unbind_ioctl(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_sva_unbind *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_reg_sva_bond *bond = NULL;
	struct iommu_group *group;
	struct pci_dev *pdev;

	if (cmd->flags)
		return -EINVAL;

	mutex_lock(&c->lock);
	pdev = iommu_reg_container_find_pdev(c, cmd->pci_domain, cmd->pci_rid,
					     &group);
	if (pdev) {
		bond = iommu_reg_sva_find(c, pdev);
		pci_dev_put(pdev);
	}
	if (bond) {
		list_del(&bond->node);
		iommu_reg_sva_bond_destroy(bond);
	}
	mutex_unlock(&c->lock);
	return bond ? 0 : -ENOENT;
}

/**
 * iommu_reg_sva_release_group - undo the bonds of a group's devices
 * @c: the container
 * @group: the group leaving the container, or NULL for every bond
 *
 * Called with the container lock held for a group, without it (and no
 * group left, so nothing to undo normally) at release.
 */
void iommu_reg_sva_release_group(struct iommu_reg_container *c,
				 struct iommu_group *group)
{
	struct iommu_reg_sva_bond *bond, *next;

	list_for_each_entry_safe(bond, next, &c->sva_bonds, node) {
		if (group && bond->group != group)
			continue;
		list_del(&bond->node);
		iommu_reg_sva_bond_destroy(bond);
	}
}

/**
 * iommu_reg_sva_release_dev - undo the bond of a device VFIO is closing
 * @c: the container, locked
 * @dev: the device
 *
 * A bond shares the caller's address space with a device the caller has
 * open; once VFIO closes the device (and vfio-pci resets it), the bond
 * must not outlive that.
 */
void iommu_reg_sva_release_dev(struct iommu_reg_container *c,
			       struct device *dev)
{
	struct iommu_reg_sva_bond *bond, *next;

	lockdep_assert_held(&c->lock);
	list_for_each_entry_safe(bond, next, &c->sva_bonds, node) {
		if (&bond->pdev->dev != dev)
			continue;
		list_del(&bond->node);
		iommu_reg_sva_bond_destroy(bond);
	}
}
