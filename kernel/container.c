// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container: the backend's state for one VFIO container.
 *
 * VFIO calls open() when a program selects this backend with
 * VFIO_SET_IOMMU, attach_group() for every group already in the container
 * and every group added later, detach_group() as groups leave, and
 * release() after the last group has gone.  The container owns one
 * iommu_domain, allocated on the first attach and shared by every later
 * group, so that memory registered once is reachable by every device in
 * the container.  A group whose IOMMU cannot join that domain is refused.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/hashtable.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "iommu_reg.h"

/*
 * The registry: every container, in increasing id order, for the admin
 * view.  Lock order: the registry lock, then a container's lock.
 */
static LIST_HEAD(ireg_registry);
static DEFINE_MUTEX(ireg_registry_mutex);
static u32 ireg_registry_last_id;

void ireg_registry_lock(void)
{
	mutex_lock(&ireg_registry_mutex);
}

void ireg_registry_unlock(void)
{
	mutex_unlock(&ireg_registry_mutex);
}

/* The container with the lowest id >= @min_id; registry lock held. */
struct ireg_container *ireg_registry_first(u32 min_id)
{
	struct ireg_container *c;

	lockdep_assert_held(&ireg_registry_mutex);
	list_for_each_entry(c, &ireg_registry, registry_node)
		if (c->id >= min_id)
			return c;
	return NULL;
}

/*
 * Live containers, for the ioctl path.  VFIO 6.1 calls the backend's
 * ioctl() with the iommu_data it loaded from the container, holding no
 * lock against the release() that the last group's detach runs: one
 * thread can close the group (or the process die) while another is
 * inside an ioctl of the same container, which then used the freed
 * container (a NULL dereference in the region tree, found by
 * stress_test).  So every ioctl runs inside ireg_container_enter() /
 * ireg_container_exit(): it first looks the pointer up in ireg_live,
 * without dereferencing it, and proceeds inside an SRCU read section only
 * if the container is still published; release() unpublishes it and
 * waits for the ioctls inside before tearing anything down.
 *
 * What is left is the few instructions in VFIO between its load of
 * iommu_data and our lookup: a container freed and another allocated at
 * the same address in that window would be entered by mistake.  Closing
 * it needs VFIO to hold its container lock around backend ioctls.
 */
DEFINE_STATIC_SRCU(ireg_ioctl_srcu);
static DEFINE_HASHTABLE(ireg_live, 6);
static DEFINE_SPINLOCK(ireg_live_lock);

struct ireg_container *ireg_container_enter(void *iommu_data, int *srcu_idx)
{
	struct ireg_container *c;

	*srcu_idx = srcu_read_lock(&ireg_ioctl_srcu);
	rcu_read_lock();
	hash_for_each_possible_rcu(ireg_live, c, live_node,
				   (unsigned long)iommu_data)
		if (c == iommu_data)
			break;
	rcu_read_unlock();
	if (!c)
		srcu_read_unlock(&ireg_ioctl_srcu, *srcu_idx);
	return c;
}

void ireg_container_exit(int srcu_idx)
{
	srcu_read_unlock(&ireg_ioctl_srcu, srcu_idx);
}

void *ireg_container_open(unsigned long arg)
{
	struct ireg_container *c;

	if (arg != VFIO_IOMMU_REG)
		return ERR_PTR(-EINVAL);

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);

	/* The status area has a slot for every region the container may hold. */
	c->notify = ireg_notify_create(max(READ_ONCE(ireg_max_regions), 1U));
	if (IS_ERR(c->notify)) {
		void *err = c->notify;

		kfree(c);
		return err;
	}

	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->groups);
	INIT_LIST_HEAD(&c->sva_bonds);
	INIT_LIST_HEAD(&c->wcbars);
	INIT_LIST_HEAD(&c->open_devs);
	xa_init_flags(&c->regions, XA_FLAGS_ALLOC1);
	c->region_tree = RB_ROOT_CACHED;
	c->mapping_tree = RB_ROOT_CACHED;
	c->iova_hint = IREG_IOVA_FIRST;
	c->pid = task_tgid_nr(current);
	get_task_comm(c->comm, current);
	c->uid = current_euid();

	mutex_lock(&ireg_registry_mutex);
	c->id = ++ireg_registry_last_id;
	list_add_tail(&c->registry_node, &ireg_registry);
	mutex_unlock(&ireg_registry_mutex);
	ireg_stat_add(IOMMU_REG_STAT_CONTAINERS, 1);

	spin_lock(&ireg_live_lock);
	hash_add_rcu(ireg_live, &c->live_node, (unsigned long)c);
	spin_unlock(&ireg_live_lock);
	return c;
}

/*
 * Called when the last group leaves: on close of the container, group and
 * device fds in any order, or when the process dies.  No device can reach
 * the domain any more, so mappings are dropped with the domain's page
 * tables rather than unmapped one by one; then every region is unpinned
 * and uncharged.
 */
void ireg_container_release(void *iommu_data)
{
	struct ireg_container *c = iommu_data;
	struct ireg_region *r;
	unsigned long handle;

	/* VFIO detaches every group before it releases the backend. */
	WARN_ON(!list_empty(&c->groups));
	/* Device fds hold the container: every device was closed before. */
	WARN_ON(!list_empty(&c->open_devs));
	/* Detach undid every binding and revoked every BAR fd (NULL: all). */
	ireg_sva_release_group(c, NULL);
	ireg_wcbar_revoke_group(c, NULL);

	/* No new ioctl enters; wait for those inside (another thread's). */
	spin_lock(&ireg_live_lock);
	hash_del_rcu(&c->live_node);
	spin_unlock(&ireg_live_lock);
	synchronize_srcu(&ireg_ioctl_srcu);

	/* Out of the admin view first: dumps then never see it half gone. */
	mutex_lock(&ireg_registry_mutex);
	list_del(&c->registry_node);
	mutex_unlock(&ireg_registry_mutex);

	ireg_mapping_destroy_all(c);
	/* Up to max_regions (2^20) of them: let others run meanwhile. */
	xa_for_each(&c->regions, handle, r) {
		ireg_region_destroy(r);
		cond_resched();
	}
	xa_destroy(&c->regions);
	ireg_notify_shutdown(c->notify);

	ireg_iova_space_destroy(&c->iova);
	if (c->domain)
		iommu_domain_free(c->domain);
	mutex_destroy(&c->lock);
	kfree(c);
	ireg_stat_add(IOMMU_REG_STAT_CONTAINERS, -1);
}

static struct ireg_group *ireg_find_group(struct ireg_container *c,
					  struct iommu_group *iommu_group)
{
	struct ireg_group *g;

	lockdep_assert_held(&c->lock);

	list_for_each_entry(g, &c->groups, node)
		if (g->iommu_group == iommu_group)
			return g;
	return NULL;
}

/* The bus of every device in a group; the domain is allocated for it. */
static int ireg_group_bus(struct device *dev, void *data)
{
	struct bus_type **bus = data;

	if (*bus && *bus != dev->bus)
		return -EINVAL;
	*bus = dev->bus;
	return 0;
}

static int ireg_domain_create(struct ireg_container *c,
			      struct iommu_group *iommu_group)
{
	struct iommu_domain *domain;
	struct bus_type *bus = NULL;
	int ret;

	ret = iommu_group_for_each_dev(iommu_group, &bus, ireg_group_bus);
	if (ret)
		return ret;
	if (!bus)
		return -ENODEV;

	/*
	 * NULL means the bus has no IOMMU (impossible: the group came from
	 * one) or the IOMMU driver could not allocate the domain or its
	 * page table: out of memory, as the errno contract says.
	 */
	domain = iommu_domain_alloc(bus);
	if (!domain)
		return -ENOMEM;

	ret = iommu_attach_group(domain, iommu_group);
	if (ret) {
		iommu_domain_free(domain);
		return ret;
	}

	c->domain = domain;
	return 0;
}

int ireg_container_attach_group(void *iommu_data,
				struct iommu_group *iommu_group,
				enum vfio_group_type type)
{
	struct ireg_container *c = iommu_data;
	struct ireg_group *g;
	bool new_domain = false;
	int ret;

	/*
	 * Emulated (mdev) and no-IOMMU groups have no translation for this
	 * backend to manage.
	 */
	if (type != VFIO_IOMMU)
		return -EOPNOTSUPP;

	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g)
		return -ENOMEM;
	g->iommu_group = iommu_group;

	mutex_lock(&c->lock);
	if (ireg_find_group(c, iommu_group)) {
		ret = -EBUSY;
		goto err_unlock;
	}

	if (!c->domain) {
		ret = ireg_domain_create(c, iommu_group);
		if (ret)
			goto err_unlock;
		new_domain = true;
	} else {
		/*
		 * A group behind a different or incompatible IOMMU cannot
		 * share the domain; the IOMMU driver says so here.
		 */
		ret = iommu_attach_group(c->domain, iommu_group);
		if (ret)
			goto err_unlock;
	}

	list_add_tail(&g->node, &c->groups);
	c->nr_groups++;
	ireg_stat_add(IOMMU_REG_STAT_GROUPS, 1);

	ret = ireg_iova_space_build(c);
	if (ret)
		goto err_detach;

	mutex_unlock(&c->lock);
	return 0;

err_detach:
	list_del(&g->node);
	c->nr_groups--;
	ireg_stat_add(IOMMU_REG_STAT_GROUPS, -1);
	iommu_detach_group(c->domain, iommu_group);
	if (new_domain) {
		iommu_domain_free(c->domain);
		c->domain = NULL;
	}
err_unlock:
	mutex_unlock(&c->lock);
	kfree(g);
	return ret;
}

void ireg_container_detach_group(void *iommu_data,
				 struct iommu_group *iommu_group)
{
	struct ireg_container *c = iommu_data;
	struct ireg_group *g;

	mutex_lock(&c->lock);
	g = ireg_find_group(c, iommu_group);
	if (WARN_ON(!g)) {
		mutex_unlock(&c->lock);
		return;
	}

	/*
	 * The group's devices leave the caller's hands: no binding of them
	 * and no BAR mapping may outlive this.
	 */
	ireg_sva_release_group(c, iommu_group);
	ireg_wcbar_revoke_group(c, iommu_group);

	iommu_detach_group(c->domain, iommu_group);
	list_del(&g->node);
	c->nr_groups--;
	ireg_stat_add(IOMMU_REG_STAT_GROUPS, -1);
	kfree(g);

	/*
	 * Fewer groups can only mean fewer reserved regions: if the rebuild
	 * cannot allocate, the old, more restrictive ranges stay correct.
	 */
	ireg_iova_space_build(c);
	mutex_unlock(&c->lock);
}

struct iommu_domain *ireg_container_group_domain(void *iommu_data,
						 struct iommu_group *iommu_group)
{
	struct ireg_container *c = iommu_data;
	struct iommu_domain *domain = ERR_PTR(-ENODEV);

	mutex_lock(&c->lock);
	if (ireg_find_group(c, iommu_group))
		domain = c->domain;
	mutex_unlock(&c->lock);
	return domain;
}

int ireg_container_info(struct ireg_ucmd *ucmd)
{
	struct iommu_reg_info *cmd = ucmd->cmd;
	struct ireg_container *c = ucmd->container;
	struct iommu_reg_iova_range __user *uranges;
	u32 n;
	int ret;

	if (cmd->flags)
		return -EINVAL;

	uranges = u64_to_user_ptr(cmd->iova_ranges);

	mutex_lock(&c->lock);
	n = min(cmd->num_iova_ranges, c->iova.nr_ranges);
	if (n && copy_to_user(uranges, c->iova.ranges,
			      array_size(n, sizeof(*c->iova.ranges)))) {
		ret = -EFAULT;
		goto out_unlock;
	}

	cmd->num_groups = c->nr_groups;
	cmd->num_iova_ranges = c->iova.nr_ranges;
	cmd->pgsize_bitmap = c->domain->pgsize_bitmap;
	cmd->aperture_start = c->domain->geometry.aperture_start;
	cmd->aperture_last = c->domain->geometry.aperture_end;
	cmd->max_regions = ireg_region_limit(c);
	cmd->num_regions = c->nr_regions;
	cmd->num_mappings = c->nr_mappings;
	cmd->pinned_pages = c->pinned_pages;
	cmd->region_flags = IREG_REGION_FLAGS;
	cmd->map_flags = IREG_MAP_FLAGS;
	cmd->unmap_flags = IREG_UNMAP_FLAGS;
	cmd->unreg_flags = IREG_UNREG_FLAGS;
	ret = 0;
out_unlock:
	mutex_unlock(&c->lock);
	if (ret)
		return ret;
	return ireg_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * VFIO calls register_device() on a device's first open (the first
 * VFIO_GROUP_GET_DEVICE_FD) and unregister_device() on its last close,
 * each right after the driver's open_device()/close_device(), with the
 * device set's lock and the VFIO group's lock held.  Under them we take
 * only the container lock, ireg_wcbar_lock and what unmap_mapping_range()
 * takes; none of our paths takes a VFIO lock, so the order VFIO group
 * lock -> container lock is the one attach_group() already uses.
 */
void ireg_container_register_device(void *iommu_data,
				    struct vfio_device *vdev)
{
	struct ireg_container *c = iommu_data;
	struct ireg_open_dev *od;

	/*
	 * The callback cannot fail.  Without the entry the device counts as
	 * closed: IOMMU_REG_WC_BAR refuses it, nothing else changes.
	 */
	od = kzalloc(sizeof(*od), GFP_KERNEL_ACCOUNT);
	if (!od)
		return;
	od->dev = vdev->dev;
	mutex_lock(&c->lock);
	list_add_tail(&od->node, &c->open_devs);
	mutex_unlock(&c->lock);
}

void ireg_container_unregister_device(void *iommu_data,
				      struct vfio_device *vdev)
{
	struct ireg_container *c = iommu_data;
	struct ireg_open_dev *od, *next;

	mutex_lock(&c->lock);
	list_for_each_entry_safe(od, next, &c->open_devs, node) {
		if (od->dev != vdev->dev)
			continue;
		list_del(&od->node);
		kfree(od);
	}
	/*
	 * The device is closed (vfio-pci has disabled it): no BAR mapping
	 * of it may outlive this.
	 */
	ireg_wcbar_revoke_dev(c, vdev->dev);
	mutex_unlock(&c->lock);
}

/* Whether VFIO has @dev open in @c; container lock held. */
bool ireg_container_dev_open(struct ireg_container *c, struct device *dev)
{
	struct ireg_open_dev *od;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(od, &c->open_devs, node)
		if (od->dev == dev)
			return true;
	return false;
}

struct ireg_pdev_lookup {
	u32 pci_domain;
	u32 pci_rid;
	struct pci_dev *pdev;
};

static int ireg_match_pdev(struct device *dev, void *data)
{
	struct ireg_pdev_lookup *l = data;
	struct pci_dev *pdev;

	if (!dev_is_pci(dev))
		return 0;
	pdev = to_pci_dev(dev);
	if (pci_domain_nr(pdev->bus) != l->pci_domain ||
	    pci_dev_id(pdev) != l->pci_rid)
		return 0;
	l->pdev = pci_dev_get(pdev);
	return 1;
}

/**
 * ireg_container_find_pdev - a PCI device of one of the container's groups
 * @c: the container, locked
 * @pci_domain: PCI domain (segment)
 * @pci_rid: bus << 8 | devfn
 * @group: out: the device's group (the container's reference)
 *
 * Return: the device with a reference (pci_dev_put() it), or NULL when no
 * attached group has it: the caller does not own such a device.
 */
struct pci_dev *ireg_container_find_pdev(struct ireg_container *c,
					 u32 pci_domain, u32 pci_rid,
					 struct iommu_group **group)
{
	struct ireg_pdev_lookup l = {
		.pci_domain = pci_domain,
		.pci_rid = pci_rid,
	};
	struct ireg_group *g;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(g, &c->groups, node) {
		if (iommu_group_for_each_dev(g->iommu_group, &l,
					     ireg_match_pdev) > 0) {
			*group = g->iommu_group;
			return l.pdev;
		}
	}
	return NULL;
}

struct ireg_pdev_collect {
	struct pci_dev **pdevs;
	int n;
	int max;
};

static int ireg_collect_pdev(struct device *dev, void *data)
{
	struct ireg_pdev_collect *col = data;

	if (!dev_is_pci(dev))
		return 0;
	if (col->pdevs && col->n < col->max)
		col->pdevs[col->n] = pci_dev_get(to_pci_dev(dev));
	col->n++;
	return 0;
}

/**
 * ireg_container_pdevs - every PCI device of the container's groups
 * @c: the container, locked
 * @pdevs: out: a kcalloc()ed array of referenced devices, in group and
 *	then device order; free with ireg_pdevs_put()
 *
 * Return: the number of devices, or -ENOMEM.
 */
int ireg_container_pdevs(struct ireg_container *c, struct pci_dev ***pdevs)
{
	struct ireg_pdev_collect col = {};
	struct ireg_group *g;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(g, &c->groups, node)
		iommu_group_for_each_dev(g->iommu_group, &col,
					 ireg_collect_pdev);
	col.max = col.n;
	col.n = 0;
	col.pdevs = kcalloc(max(col.max, 1), sizeof(*col.pdevs), GFP_KERNEL);
	if (!col.pdevs)
		return -ENOMEM;
	/* The groups cannot change under the lock: the count holds. */
	list_for_each_entry(g, &c->groups, node)
		iommu_group_for_each_dev(g->iommu_group, &col,
					 ireg_collect_pdev);
	*pdevs = col.pdevs;
	return min(col.n, col.max);
}

void ireg_pdevs_put(struct pci_dev **pdevs, int n)
{
	while (n-- > 0)
		pci_dev_put(pdevs[n]);
	kfree(pdevs);
}
