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
#include <linux/irqdomain.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "ireg_config.h"
#include "iommu_reg_compat.h"
#include "iommu_reg.h"

/*
 * The registry: every container, in increasing id order, for the admin
 * view.  Its mutex is held with no other lock of ours, and covers the list
 * and the last id; a netlink dump drops it before it takes a container's
 * lock.
 */
static LIST_HEAD(iommu_reg_registry);
static DEFINE_MUTEX(iommu_reg_registry_mutex);
static u32 iommu_reg_registry_last_id;

void iommu_reg_registry_lock(void)
{
	mutex_lock(&iommu_reg_registry_mutex);
}

void iommu_reg_registry_unlock(void)
{
	mutex_unlock(&iommu_reg_registry_mutex);
}

/* The container with the lowest id >= @min_id; registry lock held. */
struct iommu_reg_container *iommu_reg_registry_first(u32 min_id)
{
	struct iommu_reg_container *c;

	lockdep_assert_held(&iommu_reg_registry_mutex);
	list_for_each_entry(c, &iommu_reg_registry, registry_node)
		if (c->id >= min_id)
			return c;
	return NULL;
}

/*
 * Live containers, by cookie.  VFIO keeps what open() returned (its
 * iommu_data) and passes it back to every callback, including ioctl(),
 * which VFIO 6.1 calls holding no lock against the release() that the
 * last group's detach runs: one thread can close the group (or the
 * process die) while another is inside an ioctl of the same container.
 *
 * So VFIO never holds a pointer: open() returns a 64-bit cookie that is
 * never reused, and every entry point looks the container up by it and
 * takes a reference (iommu_reg_container_get()), which fails once release()
 * has unpublished it.  A stale cookie can therefore never reach another
 * container, even one allocated at the same address.  release() does not
 * wait for the ioctls inside: the last reference, dropped by whichever
 * of them finishes last, tears the container down.  A process parked in
 * an ioctl (on a page fault of its own memory) delays only its own
 * container's teardown, never another container's release or VFIO's
 * locks.
 */
static DEFINE_HASHTABLE(iommu_reg_live, 6);
static DEFINE_SPINLOCK(iommu_reg_live_lock);
static atomic64_t iommu_reg_last_cookie = ATOMIC64_INIT(0);

/**
 * iommu_reg_container_get - the container of a VFIO iommu_data cookie
 * @iommu_data: what iommu_reg_container_open() returned to VFIO
 *
 * Return: the container with a reference (iommu_reg_container_put() it), or
 * NULL once it has been released.
 */
struct iommu_reg_container *iommu_reg_container_get(void *iommu_data)
{
	unsigned long cookie = (unsigned long)iommu_data;
	struct iommu_reg_container *c, *found = NULL;

	rcu_read_lock();
	hash_for_each_possible_rcu(iommu_reg_live, c, live_node, cookie) {
		if (c->cookie == cookie) {
			if (refcount_inc_not_zero(&c->users))
				found = c;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/**
 * iommu_reg_container_tryget - another reference to a container in the registry
 * @c: the container; registry lock held
 *
 * Return: true with a reference, false when it is being torn down.
 */
bool iommu_reg_container_tryget(struct iommu_reg_container *c)
{
	lockdep_assert_held(&iommu_reg_registry_mutex);
	return refcount_inc_not_zero(&c->users);
}

static void iommu_reg_container_destroy(struct iommu_reg_container *c)
{
	struct iommu_reg_region *r;
	unsigned long handle;

	/*
	 * Every group was detached before release(): no device reaches the
	 * domain, so mappings go with its page tables.
	 */
	iommu_reg_mapping_destroy_all(c);
	/* Up to max_regions (2^20) of them: let others run meanwhile. */
	xa_for_each(&c->regions, handle, r) {
		iommu_reg_region_destroy(r);
		cond_resched();
	}
	xa_destroy(&c->regions);
	iommu_reg_notify_shutdown(c->notify);

	iommu_reg_iova_space_destroy(&c->iova);
	if (c->domain)
		iommu_domain_free(c->domain);
	mutex_destroy(&c->lock);
	iommu_reg_stat_add(IOMMU_REG_STAT_CONTAINERS, -1);
	/* iommu_reg_container_get() may still be reading the cookie. */
	kfree_rcu(c, rcu);
}

static void iommu_reg_container_destroy_work(struct work_struct *work)
{
	struct iommu_reg_container *c =
		container_of(work, struct iommu_reg_container, destroy_work);

	iommu_reg_container_destroy(c);
}

/* Teardowns handed off by netlink dumps; drained at module exit. */
static struct workqueue_struct *iommu_reg_destroy_wq;

int iommu_reg_container_init(void)
{
	iommu_reg_destroy_wq =
		alloc_workqueue("iommu_reg_destroy", WQ_UNBOUND, 0);
	return iommu_reg_destroy_wq ? 0 : -ENOMEM;
}

void iommu_reg_container_exit(void)
{
	destroy_workqueue(iommu_reg_destroy_wq);
}

/**
 * iommu_reg_container_put_async - drop a reference; tear down elsewhere
 * @c: the container
 *
 * For a reference held by someone other than the container's owner (a
 * netlink dump): the last reference then tears down in a worker, never in
 * the admin's recvmsg(), which would otherwise unpin and unhook everything
 * the owner registered.
 */
void iommu_reg_container_put_async(struct iommu_reg_container *c)
{
	if (refcount_dec_and_test(&c->users))
		queue_work(iommu_reg_destroy_wq, &c->destroy_work);
}

/**
 * iommu_reg_container_put - drop a reference; the last one tears down
 * @c: the container
 *
 * Sleeps: the last reference unpins every region.
 */
void iommu_reg_container_put(struct iommu_reg_container *c)
{
	might_sleep();
	if (refcount_dec_and_test(&c->users))
		iommu_reg_container_destroy(c);
}

void *iommu_reg_container_open(unsigned long arg)
{
	struct iommu_reg_container *c;
	unsigned int nr_slots;

	switch (arg) {
	case VFIO_IOMMU_REG:
		break;
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		if (iommu_reg_type1_compat)
			break;
		fallthrough;
	default:
		return ERR_PTR(-EINVAL);
	}

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);

	/* The status area: a slot for every region the container may hold. */
	nr_slots = max(READ_ONCE(iommu_reg_max_regions), 1U);
	c->notify = iommu_reg_notify_create(nr_slots);
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
	c->iova_hint = IOMMU_REG_IOVA_FIRST;
	c->pid = task_tgid_nr(current);
	get_task_comm(c->comm, current);
	c->uid = current_euid();
	c->vfio_type = arg;
	refcount_set(&c->users, 1);
	INIT_WORK(&c->destroy_work, iommu_reg_container_destroy_work);
	c->cookie = atomic64_inc_return(&iommu_reg_last_cookie);

	mutex_lock(&iommu_reg_registry_mutex);
	/* Ids are never reused: after 2^32 - 1 containers, no more. */
	if (iommu_reg_registry_last_id == U32_MAX) {
		mutex_unlock(&iommu_reg_registry_mutex);
		iommu_reg_notify_shutdown(c->notify);
		kfree(c);
		return ERR_PTR(-ENOSPC);
	}
	c->id = ++iommu_reg_registry_last_id;
	list_add_tail(&c->registry_node, &iommu_reg_registry);
	mutex_unlock(&iommu_reg_registry_mutex);
	iommu_reg_stat_add(IOMMU_REG_STAT_CONTAINERS, 1);

	spin_lock(&iommu_reg_live_lock);
	hash_add_rcu(iommu_reg_live, &c->live_node, c->cookie);
	spin_unlock(&iommu_reg_live_lock);
	/* Never NULL and never an ERR_PTR: VFIO tests it with IS_ERR(). */
	return (void *)c->cookie;
}

/*
 * Called when the last group leaves: on close of the container, group and
 * device fds in any order, or when the process dies, with VFIO's locks
 * held.  Unpublish the container and drop VFIO's reference; the memory
 * goes with the last reference (an ioctl of another thread may still be
 * running), without waiting for anyone here.
 */
void iommu_reg_container_release(void *iommu_data)
{
	struct iommu_reg_container *c = iommu_reg_container_get(iommu_data);

	if (WARN_ON(!c))
		return;
	/* VFIO detaches every group before it releases the backend. */
	WARN_ON(!list_empty(&c->groups));
	/* Device fds hold the container: every device was closed before. */
	WARN_ON(!list_empty(&c->open_devs));
	/* Detach undid every binding and revoked every BAR fd (NULL: all). */
	iommu_reg_sva_release_group(c, NULL);
	iommu_reg_wcbar_revoke_group(c, NULL);

	/* No new entry point finds it; those inside hold references. */
	spin_lock(&iommu_reg_live_lock);
	hash_del_rcu(&c->live_node);
	spin_unlock(&iommu_reg_live_lock);

	/* Out of the admin view: dumps hold references of their own. */
	mutex_lock(&iommu_reg_registry_mutex);
	list_del(&c->registry_node);
	mutex_unlock(&iommu_reg_registry_mutex);

	WRITE_ONCE(c->released, true);
	iommu_reg_container_put(c);
	iommu_reg_container_put(c);	/* the reference open() gave VFIO */
}

static bool iommu_reg_allow_unsafe_interrupts;
module_param_named(allow_unsafe_interrupts, iommu_reg_allow_unsafe_interrupts,
		   bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Attach groups whose MSIs are not isolated (no interrupt remapping): a device may then forge interrupts (as type1's parameter of the same name)");

#ifndef IOMMU_REG_HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
static int iommu_reg_dev_intr_remap(struct device *dev, void *unused)
{
	return device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

/*
 * Whether a device of @iommu_group could forge MSIs: without interrupt
 * remapping (or an MSI controller that isolates devices), a DMA write to
 * the MSI doorbell raises any interrupt vector of the host.  VFIO 6.1
 * leaves this check to the backend, which type1 does; so do we.
 */
static bool iommu_reg_group_msi_isolated(struct iommu_group *iommu_group)
{
#ifdef IOMMU_REG_HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
	return iommu_group_has_isolated_msi(iommu_group);
#else
	return irq_domain_check_msi_remap() ||
	       iommu_group_for_each_dev(iommu_group, NULL,
					iommu_reg_dev_intr_remap);
#endif
}

static struct iommu_reg_group *
iommu_reg_find_group(struct iommu_reg_container *c,
		     struct iommu_group *iommu_group)
{
	struct iommu_reg_group *g;

	lockdep_assert_held(&c->lock);

	list_for_each_entry(g, &c->groups, node)
		if (g->iommu_group == iommu_group)
			return g;
	return NULL;
}

#ifdef IOMMU_REG_HAVE_IOMMU_PAGING_DOMAIN_ALLOC
/*
 * A paging domain for the group's first device (as type1 does from Linux
 * 6.11): every device of a group sits behind the same IOMMU instance.
 */
static int iommu_reg_group_domain_alloc(struct device *dev, void *data)
{
	struct iommu_domain **domain = data;

	*domain = iommu_paging_domain_alloc(dev);
	return 1;	/* the first device is enough */
}

static struct iommu_domain *
iommu_reg_group_domain(struct iommu_group *iommu_group)
{
	struct iommu_domain *domain = ERR_PTR(-ENODEV);

	iommu_group_for_each_dev(iommu_group, &domain,
				 iommu_reg_group_domain_alloc);
	return domain;
}
#else
/*
 * The type of struct device::bus: const from about Linux 6.4, as is then
 * iommu_domain_alloc()'s argument.
 */
#define iommu_reg_bus_type	typeof(*((struct device *)NULL)->bus)

/* The bus of every device in a group; the domain is allocated for it. */
static int iommu_reg_group_bus(struct device *dev, void *data)
{
	iommu_reg_bus_type **bus = data;

	if (*bus && *bus != dev->bus)
		return -EINVAL;
	*bus = dev->bus;
	return 0;
}

static struct iommu_domain *
iommu_reg_group_domain(struct iommu_group *iommu_group)
{
	struct iommu_domain *domain;
	iommu_reg_bus_type *bus = NULL;
	int ret;

	ret = iommu_group_for_each_dev(iommu_group, &bus, iommu_reg_group_bus);
	if (ret)
		return ERR_PTR(ret);
	if (!bus)
		return ERR_PTR(-ENODEV);

	/*
	 * NULL means the bus has no IOMMU (impossible: the group came from
	 * one) or the IOMMU driver could not allocate the domain or its
	 * page table: out of memory, as the errno contract says.
	 */
	domain = iommu_domain_alloc(bus);
	return domain ?: ERR_PTR(-ENOMEM);
}
#endif

static int iommu_reg_domain_create(struct iommu_reg_container *c,
				   struct iommu_group *iommu_group)
{
	struct iommu_domain *domain;
	int ret;

	domain = iommu_reg_group_domain(iommu_group);
	if (IS_ERR(domain))
		return PTR_ERR(domain);

	ret = iommu_attach_group(domain, iommu_group);
	if (ret) {
		iommu_domain_free(domain);
		return ret;
	}

	c->domain = domain;
	return 0;
}

static int iommu_reg_do_attach_group(struct iommu_reg_container *c,
				     struct iommu_group *iommu_group,
				     enum vfio_group_type type)
{
	struct iommu_reg_group *g;
	bool new_domain = false;
	int ret;

	/*
	 * Emulated (mdev) and no-IOMMU groups have no translation for this
	 * backend to manage.
	 */
	if (type != VFIO_IOMMU)
		return -EOPNOTSUPP;

	if (!iommu_reg_group_msi_isolated(iommu_group)) {
		if (!READ_ONCE(iommu_reg_allow_unsafe_interrupts)) {
			pr_warn_ratelimited("iommu_reg: group %d: no interrupt remapping or isolated MSI; refused (see the allow_unsafe_interrupts parameter)\n",
					    iommu_group_id(iommu_group));
			return -EPERM;
		}
		pr_warn_once("iommu_reg: attaching a group without interrupt remapping: its devices can forge MSIs\n");
	}

	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g)
		return -ENOMEM;
	g->iommu_group = iommu_group;

	mutex_lock(&c->lock);
	if (iommu_reg_find_group(c, iommu_group)) {
		ret = -EBUSY;
		goto err_unlock;
	}

	if (!c->domain) {
		ret = iommu_reg_domain_create(c, iommu_group);
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
	iommu_reg_stat_add(IOMMU_REG_STAT_GROUPS, 1);

	ret = iommu_reg_iova_space_build(c);
	if (ret)
		goto err_detach;

	mutex_unlock(&c->lock);
	return 0;

err_detach:
	list_del(&g->node);
	c->nr_groups--;
	iommu_reg_stat_add(IOMMU_REG_STAT_GROUPS, -1);
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

int iommu_reg_container_info(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_info *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_reg_iova_range __user *uranges;
	struct iommu_reg_iova_range *ranges = NULL;
	u32 n;
	int ret;

	if (cmd->flags)
		return -EINVAL;

	uranges = u64_to_user_ptr(cmd->iova_ranges);

	/*
	 * User memory is never touched under the container lock (a fault
	 * on it could park us there): copy what is asked for, then write
	 * it out after unlocking.
	 */
	mutex_lock(&c->lock);
	n = min(cmd->num_iova_ranges, c->iova.nr_ranges);
	if (n) {
		ranges = kmemdup(c->iova.ranges,
				 array_size(n, sizeof(*ranges)), GFP_KERNEL);
		if (!ranges) {
			mutex_unlock(&c->lock);
			return -ENOMEM;
		}
	}
	cmd->num_groups = c->nr_groups;
	cmd->num_iova_ranges = c->iova.nr_ranges;
	cmd->pgsize_bitmap = c->domain->pgsize_bitmap;
	cmd->aperture_start = c->domain->geometry.aperture_start;
	cmd->aperture_last = c->domain->geometry.aperture_end;
	cmd->max_regions = iommu_reg_region_limit(c);
	cmd->num_regions = c->nr_regions;
	cmd->num_mappings = c->nr_mappings;
	cmd->pinned_pages = c->pinned_pages;
	cmd->region_flags = IOMMU_REG_REGION_FLAGS;
	cmd->map_flags = IOMMU_REG_MAP_FLAGS;
	cmd->unmap_flags = IOMMU_REG_UNMAP_FLAGS;
	cmd->unreg_flags = IOMMU_REG_UNREG_FLAGS;
	mutex_unlock(&c->lock);

	ret = 0;
	if (n && copy_to_user(uranges, ranges, array_size(n, sizeof(*ranges))))
		ret = -EFAULT;
	kfree(ranges);
	if (ret)
		return ret;
	return iommu_reg_ucmd_respond(ucmd, sizeof(*cmd));
}

/* Whether VFIO has @dev open in @c; container lock held. */
bool iommu_reg_container_dev_open(struct iommu_reg_container *c,
				  struct device *dev)
{
	struct iommu_reg_open_dev *od;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(od, &c->open_devs, node)
		if (od->dev == dev)
			return true;
	return false;
}

struct iommu_reg_pdev_lookup {
	u32 pci_domain;
	u32 pci_rid;
	struct pci_dev *pdev;
};

static int iommu_reg_match_pdev(struct device *dev, void *data)
{
	struct iommu_reg_pdev_lookup *l = data;
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
 * iommu_reg_container_find_pdev - a PCI device of one of the container's groups
 * @c: the container, locked
 * @pci_domain: PCI domain (segment)
 * @pci_rid: bus << 8 | devfn
 * @group: out: the device's group (the container's reference)
 *
 * Return: the device with a reference (pci_dev_put() it), or NULL when no
 * attached group has it: the caller does not own such a device.
 */
struct pci_dev *iommu_reg_container_find_pdev(struct iommu_reg_container *c,
					      u32 pci_domain, u32 pci_rid,
					      struct iommu_group **group)
{
	struct iommu_reg_pdev_lookup l = {
		.pci_domain = pci_domain,
		.pci_rid = pci_rid,
	};
	struct iommu_reg_group *g;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(g, &c->groups, node) {
		if (iommu_group_for_each_dev(g->iommu_group, &l,
					     iommu_reg_match_pdev) > 0) {
			*group = g->iommu_group;
			return l.pdev;
		}
	}
	return NULL;
}

/**
 * iommu_reg_container_open_pdev - a PCI device of the container, open
 * @c: the container, locked
 * @pci_domain: PCI domain (segment)
 * @pci_rid: bus << 8 | devfn
 * @group: out: the device's group (the container's reference)
 *
 * For the commands that reconfigure a device or map its BARs: only a
 * device the caller opened through VFIO is theirs to touch.
 *
 * Return: the device with a reference (pci_dev_put() it), ERR_PTR(-ENOENT)
 * when no attached group has it, ERR_PTR(-ENODEV) when VFIO does not have
 * it open.
 */
struct pci_dev *iommu_reg_container_open_pdev(struct iommu_reg_container *c,
					      u32 pci_domain, u32 pci_rid,
					      struct iommu_group **group)
{
	struct pci_dev *pdev;

	pdev = iommu_reg_container_find_pdev(c, pci_domain, pci_rid, group);
	if (!pdev)
		return ERR_PTR(-ENOENT);
	if (!iommu_reg_container_dev_open(c, &pdev->dev)) {
		pci_dev_put(pdev);
		return ERR_PTR(-ENODEV);
	}
	return pdev;
}

struct iommu_reg_pdev_collect {
	struct pci_dev **pdevs;
	int n;
	int max;
};

static int iommu_reg_collect_pdev(struct device *dev, void *data)
{
	struct iommu_reg_pdev_collect *col = data;

	if (!dev_is_pci(dev))
		return 0;
	if (col->pdevs && col->n < col->max)
		col->pdevs[col->n] = pci_dev_get(to_pci_dev(dev));
	col->n++;
	return 0;
}

/**
 * iommu_reg_container_pdevs - every PCI device of the container's groups
 * @c: the container, locked
 * @pdevs: out: a kcalloc()ed array of referenced devices, in group and
 *	then device order; free with iommu_reg_pdevs_put()
 *
 * Return: the number of devices, or -ENOMEM.
 */
int iommu_reg_container_pdevs(struct iommu_reg_container *c,
			      struct pci_dev ***pdevs)
{
	struct iommu_reg_pdev_collect col = {};
	struct iommu_reg_group *g;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(g, &c->groups, node)
		iommu_group_for_each_dev(g->iommu_group, &col,
					 iommu_reg_collect_pdev);
	col.max = col.n;
	col.n = 0;
	col.pdevs = kcalloc(max(col.max, 1), sizeof(*col.pdevs), GFP_KERNEL);
	if (!col.pdevs)
		return -ENOMEM;
	/* The groups cannot change under the lock: the count holds. */
	list_for_each_entry(g, &c->groups, node)
		iommu_group_for_each_dev(g->iommu_group, &col,
					 iommu_reg_collect_pdev);
	*pdevs = col.pdevs;
	return min(col.n, col.max);
}

void iommu_reg_pdevs_put(struct pci_dev **pdevs, int n)
{
	while (n-- > 0)
		pci_dev_put(pdevs[n]);
	kfree(pdevs);
}

/*
 * VFIO's callbacks, by cookie.  VFIO calls them between open() and
 * release() only, so the container is always found.
 */
int iommu_reg_container_attach_group(void *iommu_data,
				     struct iommu_group *iommu_group,
				     enum vfio_group_type type)
{
	struct iommu_reg_container *c = iommu_reg_container_get(iommu_data);
	int ret;

	if (WARN_ON(!c))
		return -ENODEV;
	ret = iommu_reg_do_attach_group(c, iommu_group, type);
	iommu_reg_container_put(c);
	return ret;
}

void iommu_reg_container_detach_group(void *iommu_data,
				      struct iommu_group *iommu_group)
{
	struct iommu_reg_container *c = iommu_reg_container_get(iommu_data);
	struct iommu_reg_group *g;

	if (WARN_ON(!c))
		return;
	mutex_lock(&c->lock);
	g = iommu_reg_find_group(c, iommu_group);
	if (WARN_ON(!g))
		goto out_unlock;

	/*
	 * The group's devices leave the caller's hands: no binding of them
	 * and no BAR mapping may outlive this.
	 */
	iommu_reg_sva_release_group(c, iommu_group);
	iommu_reg_wcbar_revoke_group(c, iommu_group);

	iommu_detach_group(c->domain, iommu_group);
	list_del(&g->node);
	c->nr_groups--;
	iommu_reg_stat_add(IOMMU_REG_STAT_GROUPS, -1);
	kfree(g);

	/*
	 * Fewer groups can only mean fewer reserved regions: if the rebuild
	 * cannot allocate, the old, more restrictive ranges stay correct.
	 */
	iommu_reg_iova_space_build(c);
out_unlock:
	mutex_unlock(&c->lock);
	iommu_reg_container_put(c);
}

struct iommu_domain *
iommu_reg_container_group_domain(void *iommu_data,
				 struct iommu_group *iommu_group)
{
	struct iommu_reg_container *c = iommu_reg_container_get(iommu_data);
	struct iommu_domain *domain = ERR_PTR(-ENODEV);

	if (WARN_ON(!c))
		return domain;
	mutex_lock(&c->lock);
	if (iommu_reg_find_group(c, iommu_group))
		domain = c->domain;
	mutex_unlock(&c->lock);
	iommu_reg_container_put(c);
	return domain;
}

/*
 * VFIO calls register_device() on a device's first open (the first
 * VFIO_GROUP_GET_DEVICE_FD) and unregister_device() on its last close,
 * each right after the driver's open_device()/close_device(), with the
 * device set's lock and the VFIO group's lock held (see the lock order in
 * iommu_reg.h).
 */
void iommu_reg_container_register_device(void *iommu_data,
					 struct vfio_device *vdev)
{
	struct iommu_reg_container *c = iommu_reg_container_get(iommu_data);
	struct iommu_reg_open_dev *od;

	if (WARN_ON(!c))
		return;
	/*
	 * The callback cannot fail.  Without the entry the device counts as
	 * closed: IOMMU_REG_WC_BAR refuses it, nothing else changes.
	 */
	od = kzalloc(sizeof(*od), GFP_KERNEL_ACCOUNT);
	if (od) {
		od->dev = vdev->dev;
		mutex_lock(&c->lock);
		list_add_tail(&od->node, &c->open_devs);
		mutex_unlock(&c->lock);
	}
	iommu_reg_container_put(c);
}

void iommu_reg_container_unregister_device(void *iommu_data,
					   struct vfio_device *vdev)
{
	struct iommu_reg_container *c = iommu_reg_container_get(iommu_data);
	struct iommu_reg_open_dev *od, *next;

	if (WARN_ON(!c))
		return;
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
	iommu_reg_wcbar_revoke_dev(c, vdev->dev);
	iommu_reg_sva_release_dev(c, vdev->dev);
	mutex_unlock(&c->lock);
	iommu_reg_container_put(c);
}
