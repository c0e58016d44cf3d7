// SPDX-License-Identifier: GPL-2.0-only
/*
 * Region: a range of user memory pinned and accounted once.
 *
 * Pre-registration follows the sPAPR model on x86: the pages are pinned
 * with FOLL_LONGTERM (which migrates them out of CMA and ZONE_MOVABLE
 * first) and charged to the owner's locked_vm against RLIMIT_MEMLOCK
 * (CAP_IPC_LOCK lifts the limit, not the charge), then kept until the last
 * reference goes.  Mapping a region is IOMMU work only.
 *
 * A region is created in two phases: ireg_region_alloc() pins and accounts
 * it with no lock held (that is the slow part), then ireg_region_insert()
 * publishes it under the container lock, unless an identical region
 * appeared meanwhile, in which case the new one is destroyed and the
 * existing one gains a reference.  ireg_region_destroy() cannot fail.
 *
 * Regions are found by handle (an xarray) and by virtual range (an
 * interval tree), so neither lookup is a linear scan.  Every region
 * records the mm it was pinned from: an identical range in another
 * process is another region.
 *
 * Every region watches its range with an MMU interval notifier, inserted
 * once the pages are pinned.  The notifier takes no container lock (see
 * notify.c): it marks the region stale and reports it.  A stale region
 * keeps its pins and mappings but is never returned by a lookup again, so
 * registering the range anew pins the new pages.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "iommu_reg.h"

static unsigned long ireg_region_last(const struct ireg_region *r)
{
	return r->node.last;
}

/**
 * ireg_region_find_exact - find a region for exactly this range and flags
 * @c: container, locked
 * @vaddr: first byte
 * @last: last byte (inclusive)
 * @flags: region flags that must match
 *
 * Return: the region or NULL.
 */
struct ireg_region *ireg_region_find_exact(struct ireg_container *c,
					   unsigned long vaddr,
					   unsigned long last, u32 flags)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&c->lock);

	for (node = interval_tree_iter_first(&c->region_tree, vaddr, last);
	     node; node = interval_tree_iter_next(node, vaddr, last)) {
		struct ireg_region *r = container_of(node, struct ireg_region,
						     node);

		if (r->node.start == vaddr && ireg_region_last(r) == last &&
		    r->flags == flags && r->mm == current->mm &&
		    !READ_ONCE(r->stale))
			return r;
	}
	return NULL;
}

/**
 * ireg_region_find_covering - find a region of the caller containing a range
 * @c: container, locked
 * @vaddr: first byte
 * @last: last byte (inclusive)
 * @writable: the region must have been pinned for write
 *
 * Return: the region or NULL.
 */
struct ireg_region *ireg_region_find_covering(struct ireg_container *c,
					      unsigned long vaddr,
					      unsigned long last,
					      bool writable)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&c->lock);

	for (node = interval_tree_iter_first(&c->region_tree, vaddr, last);
	     node; node = interval_tree_iter_next(node, vaddr, last)) {
		struct ireg_region *r = container_of(node, struct ireg_region,
						     node);

		if (r->node.start <= vaddr && ireg_region_last(r) >= last &&
		    r->mm == current->mm && !READ_ONCE(r->stale) &&
		    (!writable || !(r->flags & IOMMU_REG_REGION_READONLY)))
			return r;
	}
	return NULL;
}

struct ireg_region *ireg_region_get(struct ireg_container *c, u32 handle)
{
	lockdep_assert_held(&c->lock);
	return xa_load(&c->regions, handle);
}

/*
 * Changes of protection leave the pages in place: mprotect(), NUMA
 * hinting, and the write-protection fork() applies to the parent for
 * copy-on-write must not make a region stale.  Everything else that
 * reaches the notifier changes what the range maps.
 */
static bool ireg_region_invalidate(struct mmu_interval_notifier *mni,
				   const struct mmu_notifier_range *range,
				   unsigned long cur_seq)
{
	struct ireg_region *r = container_of(mni, struct ireg_region, mni);

	switch (range->event) {
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
		return true;
	default:
		break;
	}
	mmu_interval_set_seq(mni, cur_seq);
	ireg_notify_invalidate(r->notify, r, range->event);
	return true;
}

static const struct mmu_interval_notifier_ops ireg_region_mni_ops = {
	.invalidate = ireg_region_invalidate,
};

static void ireg_region_unpin(struct ireg_region *r, unsigned long npinned)
{
	unpin_user_pages_dirty_lock(r->pages, npinned,
				    !(r->flags & IOMMU_REG_REGION_READONLY));
}

/**
 * ireg_region_alloc - pin and account a user range (no lock held)
 * @c: the container it is for
 * @vaddr: page-aligned start in the caller's address space
 * @size: page-aligned length, not zero, not wrapping
 * @flags: IOMMU_REG_REGION_* flags
 *
 * On failure nothing stays pinned or accounted.
 *
 * Return: the new region, not yet visible, or an ERR_PTR.
 */
struct ireg_region *ireg_region_alloc(struct ireg_container *c,
				      unsigned long vaddr, unsigned long size,
				      u32 flags)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long npages = size >> PAGE_SHIFT;
	unsigned long pinned = 0;
	struct ireg_region *r;
	long ret;

	if (!(flags & IOMMU_REG_REGION_READONLY))
		gup_flags |= FOLL_WRITE;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->pages = kvmalloc_array(npages, sizeof(*r->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!r->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	r->node.start = vaddr;
	r->node.last = vaddr + size - 1;
	r->flags = flags;
	r->npages = npages;
	r->refs = 1;
	r->notify = c->notify;
	r->container = c;
	INIT_LIST_HEAD(&r->free_node);
	INIT_LIST_HEAD(&r->mappings);

	/*
	 * Watch the range before pinning it: a change while the pages are
	 * being pinned marks the region stale before it is published, and
	 * ireg_notify_slot_alloc() then refuses it.  No window is left in
	 * which the range could change unseen.
	 */
	ret = mmu_interval_notifier_insert(&r->mni, current->mm, vaddr, size,
					   &ireg_region_mni_ops);
	if (ret)
		goto err_free_pages;
	r->has_notifier = true;

	while (pinned < npages) {
		int chunk = min_t(unsigned long, npages - pinned, INT_MAX);

		ret = pin_user_pages_fast(vaddr + (pinned << PAGE_SHIFT), chunk,
					  gup_flags, r->pages + pinned);
		if (ret <= 0) {
			if (!ret)
				ret = -EFAULT;
			goto err_unpin;
		}
		pinned += ret;
	}

	/* Charged per region, like type1 and sPAPR; may sleep on mmap_lock. */
	ret = account_locked_vm(current->mm, npages, true);
	if (ret)
		goto err_unpin;

	mmgrab(current->mm);
	r->mm = current->mm;
	return r;

err_unpin:
	ireg_region_unpin(r, pinned);
	mmu_interval_notifier_remove(&r->mni);
err_free_pages:
	kvfree(r->pages);
err_free:
	kfree(r);
	return ERR_PTR(ret);
}

/**
 * ireg_region_destroy - unpin, unaccount and free a region (no lock held)
 * @r: a region no longer reachable from any container structure
 */
void ireg_region_destroy(struct ireg_region *r)
{
	WARN_ON(!list_empty(&r->mappings));
	/* Published regions (they have a handle) leave the admin view. */
	if (r->handle) {
		ireg_stat_add(IOMMU_REG_STAT_REGIONS, -1);
		ireg_stat_add(IOMMU_REG_STAT_PINNED_PAGES, -(s64)r->npages);
		ireg_nl_event(IOMMU_REG_CMD_EVENT_UNREGISTER, r, 0, 0,
			      GFP_KERNEL);
	}
	/* Waits for a running invalidation of this region to finish. */
	if (r->has_notifier)
		mmu_interval_notifier_remove(&r->mni);
	ireg_notify_slot_free(r->notify, r);
	ireg_region_unpin(r, r->npages);
	account_locked_vm(r->mm, r->npages, false);
	mmdrop(r->mm);
	kvfree(r->pages);
	kfree(r);
}

/**
 * ireg_region_insert - publish a new region, or reuse an identical one
 * @c: container, locked
 * @r: from ireg_region_alloc(); consumed
 * @out: the region to use, with a reference for the caller
 * @dup: receives @r when the caller must destroy it after unlocking
 *
 * When an identical region was registered while @r was being pinned, @r
 * is returned to the caller through *@dup for destruction outside the
 * lock and the existing region gains a reference.
 *
 * Return: 0 or a negative errno (ENOSPC past max_regions, ENOMEM); on
 * error @r is handed back through *@dup as well.
 */
int ireg_region_insert(struct ireg_container *c, struct ireg_region *r,
		       struct ireg_region **out, struct ireg_region **dup)
{
	struct ireg_region *old;
	int ret;

	lockdep_assert_held(&c->lock);

	*dup = NULL;
	old = ireg_region_find_exact(c, r->node.start, r->node.last,
				     r->flags);
	if (old && old->refs) {
		old->refs++;
		*out = old;
		*dup = r;
		return 0;
	}

	if (c->nr_regions >= ireg_region_limit(c)) {
		*dup = r;
		return -ENOSPC;
	}

	ret = xa_alloc_cyclic(&c->regions, &r->handle, r,
			      XA_LIMIT(1, U32_MAX), &c->next_handle,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		*dup = r;
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	ret = ireg_notify_slot_alloc(c->notify, r);
	if (ret) {
		xa_erase(&c->regions, r->handle);
		r->handle = 0;
		*dup = r;
		return ret;
	}

	interval_tree_insert(&r->node, &c->region_tree);
	c->nr_regions++;
	c->pinned_pages += r->npages;
	ireg_stat_add(IOMMU_REG_STAT_REGIONS, 1);
	ireg_stat_add(IOMMU_REG_STAT_PINNED_PAGES, r->npages);
	ireg_nl_event(IOMMU_REG_CMD_EVENT_REGISTER, r, 0, 0, GFP_KERNEL);
	*out = r;
	return 0;
}

/**
 * ireg_region_unlink - make a region unreachable
 * @c: container, locked
 * @r: region with no references and no mappings left
 *
 * The caller destroys it with ireg_region_destroy() after unlocking.
 */
void ireg_region_unlink(struct ireg_container *c, struct ireg_region *r)
{
	lockdep_assert_held(&c->lock);

	xa_erase(&c->regions, r->handle);
	interval_tree_remove(&r->node, &c->region_tree);
	c->nr_regions--;
	c->pinned_pages -= r->npages;
}

/**
 * ireg_region_limit - regions a container may hold now
 * @c: container
 *
 * Return: the max_regions module parameter, capped by the status area's
 * slots (sized from max_regions when the container was created).
 */
unsigned int ireg_region_limit(struct ireg_container *c)
{
	return min(READ_ONCE(ireg_max_regions), c->notify->nr_slots);
}

/**
 * ireg_region_validate - check a user range for pinning
 * @vaddr: start
 * @size: length
 *
 * Return: 0, -EINVAL (zero or misaligned) or -EOVERFLOW (wraps, or does
 * not fit an unsigned long).
 */
int ireg_region_validate(u64 vaddr, u64 size)
{
	if (!size || !PAGE_ALIGNED(vaddr) || !PAGE_ALIGNED(size))
		return -EINVAL;
	if (vaddr + size - 1 < vaddr || vaddr + size - 1 > ULONG_MAX)
		return -EOVERFLOW;
	return 0;
}

/**
 * ireg_region_get_or_create - the register-once path
 * @c: container, unlocked
 * @vaddr: page-aligned start
 * @size: page-aligned length
 * @flags: IOMMU_REG_REGION_* flags
 *
 * Takes the container lock.  An existing identical region gains a
 * reference without pinning anything; otherwise the range is pinned with
 * no lock held and then published.
 *
 * Return: the region with a reference for the caller, or an ERR_PTR.
 */
struct ireg_region *ireg_region_get_or_create(struct ireg_container *c,
					      u64 vaddr, u64 size, u32 flags)
{
	struct ireg_region *r, *out, *dup;
	int tries = 3;
	int ret;

	ret = ireg_region_validate(vaddr, size);
	if (ret)
		return ERR_PTR(ret);

retry:
	mutex_lock(&c->lock);
	r = ireg_region_find_exact(c, vaddr, vaddr + size - 1, flags);
	if (r && r->refs) {
		r->refs++;
		mutex_unlock(&c->lock);
		return r;
	}
	if (c->nr_regions >= ireg_region_limit(c)) {
		mutex_unlock(&c->lock);
		return ERR_PTR(-ENOSPC);
	}
	mutex_unlock(&c->lock);

	r = ireg_region_alloc(c, vaddr, size, flags);
	if (IS_ERR(r))
		return r;

	mutex_lock(&c->lock);
	ret = ireg_region_insert(c, r, &out, &dup);
	mutex_unlock(&c->lock);
	if (dup)
		ireg_region_destroy(dup);
	/*
	 * The range changed while it was being pinned (pinning itself can
	 * migrate pages out of CMA): pin what it maps now.
	 */
	if (ret == -EAGAIN && --tries)
		goto retry;
	return ret ? ERR_PTR(ret) : out;
}

/**
 * ireg_region_release_if_unused - unlink a region nothing holds any more
 * @c: container, locked
 * @r: the region
 * @to_free: list that receives it for ireg_region_destroy_list()
 *
 * A region lives while it has registration references or mappings (type1
 * MAP_DMA mappings hold their region without a registration reference).
 */
void ireg_region_release_if_unused(struct ireg_container *c,
				   struct ireg_region *r,
				   struct list_head *to_free)
{
	lockdep_assert_held(&c->lock);

	if (r->refs || !list_empty(&r->mappings))
		return;
	ireg_region_unlink(c, r);
	list_add(&r->free_node, to_free);
}

/* Destroy regions collected under the lock, after dropping it. */
void ireg_region_destroy_list(struct list_head *to_free)
{
	struct ireg_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, to_free, free_node)
		ireg_region_destroy(r);
}

/**
 * ireg_region_put - drop a registration reference
 * @c: container, locked
 * @r: the region
 * @unmap: also unmap mappings made with IOMMU_REG_MAP
 * @to_free: receives the region when it must be destroyed after unlocking
 *
 * The last reference removes the mappings made by IOMMU_REG_REGISTER (and,
 * with @unmap, those made by IOMMU_REG_MAP).
 *
 * Return: 0; -ENOENT when the region has no registration reference left
 * (it only lives for type1 mappings); -EBUSY when this is the last
 * reference, mappings made with IOMMU_REG_MAP remain and @unmap is false.
 * Nothing changes on error.
 */
int ireg_region_put(struct ireg_container *c, struct ireg_region *r,
		    bool unmap, struct list_head *to_free)
{
	lockdep_assert_held(&c->lock);

	if (!r->refs)
		return -ENOENT;
	if (r->refs > 1) {
		r->refs--;
		return 0;
	}
	if (r->nr_user_mappings && !unmap)
		return -EBUSY;

	r->refs = 0;
	ireg_mapping_unmap_region(c, r, unmap);
	ireg_region_release_if_unused(c, r, to_free);
	return 0;
}

int ireg_region_prereg(struct ireg_ucmd *ucmd)
{
	struct iommu_reg_prereg *cmd = ucmd->cmd;
	struct ireg_container *c = ucmd->container;
	struct ireg_region *r;
	int ret;

	if (cmd->flags & ~IREG_REGION_FLAGS)
		return -EINVAL;

	r = ireg_region_get_or_create(c, cmd->vaddr, cmd->size, cmd->flags);
	if (IS_ERR(r))
		return PTR_ERR(r);

	mutex_lock(&c->lock);
	cmd->handle = r->handle;
	cmd->refs = r->refs;
	cmd->slot = r->slot;
	cmd->generation = r->generation;
	mutex_unlock(&c->lock);
	ret = ireg_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		LIST_HEAD(to_free);

		/*
		 * The caller never learnt of it: take the reference back.
		 * (Should another thread have dropped the others meanwhile
		 * and left IOMMU_REG_MAP mappings, the reference stays, as
		 * EBUSY would have it, until the container goes.)
		 */
		mutex_lock(&c->lock);
		ireg_region_put(c, r, false, &to_free);
		mutex_unlock(&c->lock);
		ireg_region_destroy_list(&to_free);
	}
	return ret;
}

int ireg_region_unreg(struct ireg_ucmd *ucmd)
{
	struct iommu_reg_unreg *cmd = ucmd->cmd;
	struct ireg_container *c = ucmd->container;
	struct ireg_region *r;
	LIST_HEAD(to_free);
	int ret;

	if (cmd->flags & ~IREG_UNREG_FLAGS || cmd->__reserved)
		return -EINVAL;

	mutex_lock(&c->lock);
	r = ireg_region_get(c, cmd->handle);
	if (r)
		ret = ireg_region_put(c, r, cmd->flags & IOMMU_REG_UNREG_UNMAP,
				      &to_free);
	else
		ret = -ENOENT;
	mutex_unlock(&c->lock);
	ireg_region_destroy_list(&to_free);
	return ret;
}
