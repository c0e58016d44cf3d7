// SPDX-License-Identifier: GPL-2.0-only
/*
 * Region: a range of user memory pinned and accounted once.
 *
 * Pre-registration follows the sPAPR model on x86: the pages are pinned
 * with FOLL_LONGTERM (which migrates them out of CMA and ZONE_MOVABLE
 * first) and kept until the last reference goes.  Mapping a region is
 * IOMMU work only.
 *
 * Accounting follows iommufd: pages are charged to the registering
 * *user* (user_struct.locked_vm, shared with io_uring and iommufd)
 * against the caller's RLIMIT_MEMLOCK, before anything is pinned, and
 * shown in the registering process's VmPin (mm->pinned_vm).  The charge
 * stays with the user until the region goes, wherever the container fd
 * lives, so a process cannot escape the limit by registering and exiting.
 * CAP_IPC_LOCK lifts the limit, not the charge.
 *
 * A region is created in two phases: iommu_reg_region_alloc() pins and accounts
 * it with no lock held (that is the slow part), then iommu_reg_region_insert()
 * publishes it under the container lock, unless an identical region
 * appeared meanwhile, in which case the new one is destroyed and the
 * existing one gains a reference.  iommu_reg_region_destroy() cannot fail.
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
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ireg_config.h"
#include "iommu_reg.h"

/*
 * The next region after @prev (NULL: the first) overlapping [@vaddr,
 * @last] that the caller may use: pinned from its own mm, and not stale.
 */
static struct iommu_reg_region *
iommu_reg_region_next(struct iommu_reg_container *c,
		      struct iommu_reg_region *prev, unsigned long vaddr,
		      unsigned long last)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&c->lock);

	node = prev ? interval_tree_iter_next(&prev->node, vaddr, last) :
		      interval_tree_iter_first(&c->region_tree, vaddr, last);
	for (; node; node = interval_tree_iter_next(node, vaddr, last)) {
		struct iommu_reg_region *r =
			container_of(node, struct iommu_reg_region, node);

		if (r->mm == current->mm && !READ_ONCE(r->stale))
			return r;
	}
	return NULL;
}

/**
 * iommu_reg_region_find_exact - a region for exactly this range and flags
 * @c: container, locked
 * @vaddr: first byte
 * @last: last byte (inclusive)
 * @flags: region flags that must match
 *
 * Return: the region or NULL.
 */
struct iommu_reg_region *
iommu_reg_region_find_exact(struct iommu_reg_container *c, unsigned long vaddr,
			    unsigned long last, u32 flags)
{
	struct iommu_reg_region *r = NULL;

	while ((r = iommu_reg_region_next(c, r, vaddr, last)))
		if (r->node.start == vaddr && r->node.last == last &&
		    r->flags == flags)
			return r;
	return NULL;
}

/**
 * iommu_reg_region_find_covering - a region of the caller containing a range
 * @c: container, locked
 * @vaddr: first byte
 * @last: last byte (inclusive)
 * @writable: the region must have been pinned for write
 *
 * Return: the region or NULL.
 */
struct iommu_reg_region *
iommu_reg_region_find_covering(struct iommu_reg_container *c,
			       unsigned long vaddr, unsigned long last,
			       bool writable)
{
	struct iommu_reg_region *r = NULL;

	while ((r = iommu_reg_region_next(c, r, vaddr, last)))
		if (r->node.start <= vaddr && r->node.last >= last &&
		    (!writable || !(r->flags & IOMMU_REG_REGION_READONLY)))
			return r;
	return NULL;
}

struct iommu_reg_region *iommu_reg_region_get(struct iommu_reg_container *c,
					      u32 handle)
{
	lockdep_assert_held(&c->lock);
	return xa_load(&c->regions, handle);
}

/**
 * iommu_reg_region_owned - may the caller unregister or map this region?
 * @r: the region
 *
 * Only the process whose address space the region pins, or anyone once
 * that address space is gone.  A child after fork() inherits the
 * container fd, but the region maps its parent's pages, not the child's
 * copies: the child must not unregister the parent's registration nor
 * map its pages at another IOVA.  (Type1 mappings, VFIO_IOMMU_MAP_DMA's,
 * keep type1's rule: any holder of the fd.)
 *
 * Return: true if the caller may.
 */
bool iommu_reg_region_owned(const struct iommu_reg_region *r)
{
	return r->mm == current->mm || !atomic_read(&r->mm->mm_users);
}

/**
 * iommu_reg_region_put_again - take back a reference its caller never saw
 * @c: container, locked
 * @handle: the handle the region had
 * @r: the region as it was when the lock was dropped; not dereferenced
 *	unless @handle still names it
 * @to_free: receives the region when it must be destroyed after unlocking
 *
 * For a command whose output could not be copied out after unlocking:
 * another thread may have unregistered the region meanwhile, so it is
 * found again by handle first.  Should that thread have dropped the other
 * references and left IOMMU_REG_MAP mappings, the reference stays, as
 * EBUSY would have it, until the container goes.
 */
void iommu_reg_region_put_again(struct iommu_reg_container *c, u32 handle,
				struct iommu_reg_region *r,
				struct list_head *to_free)
{
	if (iommu_reg_region_get(c, handle) == r)
		iommu_reg_region_put(c, r, false, to_free);
}

/*
 * What reaches the notifier, and what it means for a region:
 *
 *  - Changes of protection leave the pages in place: mprotect(), NUMA
 *    hinting, and the write-protection fork() applies to the parent for
 *    copy-on-write must not make a region stale.  They are ignored.
 *
 *  - MMU_NOTIFY_UNMAP (munmap, mremap, mmap MAP_FIXED over the range) and
 *    MMU_NOTIFY_RELEASE (the address space goes) always take the pages
 *    out of the range: the region is stale at once, synchronously, before
 *    the system call returns.
 *
 *  - Everything else, mostly MMU_NOTIFY_CLEAR, may or may not change what
 *    the range maps.  MADV_DONTNEED and truncation do; a THP split (fork
 *    or mprotect of part of a pinned THP), and an attempt to reclaim,
 *    migrate or KSM-merge a pinned page that fails and puts the same page
 *    back, do not.  The notifier runs before the change (and maybe where
 *    it must not sleep), so it cannot tell which: it only records the
 *    invalidated part of the region as suspect and has notify.c
 *    re-validate it once the change is done (iommu_reg_region_check()).
 */
static bool iommu_reg_region_invalidate(struct mmu_interval_notifier *mni,
					const struct mmu_notifier_range *range,
					unsigned long cur_seq)
{
	struct iommu_reg_region *r =
		container_of(mni, struct iommu_reg_region, mni);

	switch (range->event) {
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
		return true;
	case MMU_NOTIFY_UNMAP:
	case MMU_NOTIFY_RELEASE:
		mmu_interval_set_seq(mni, cur_seq);
		iommu_reg_notify_invalidate(r->notify, r, range->event);
		return true;
	default:
		iommu_reg_notify_suspect(r->notify, r, range, cur_seq);
		return true;
	}
}

static const struct mmu_interval_notifier_ops iommu_reg_region_mni_ops = {
	.invalidate = iommu_reg_region_invalidate,
};

/*
 * Look up the pages [@start, @start + @npages) of @mm maps now, without
 * faulting any in (FOLL_NOFAULT): the lookup stops at the first page
 * that is not present.  The pages come back with a reference (FOLL_GET,
 * implied).  hmm_range_fault() would do the same without references,
 * but needs CONFIG_HMM_MIRROR, which only drivers select and the debug
 * kernel lacks.  Return: pages found, or a negative errno.
 */
static long iommu_reg_region_lookup(struct mm_struct *mm, unsigned long start,
				    unsigned long npages, struct page **pages)
{
#ifdef IOMMU_REG_HAVE_GUP_REMOTE_VMAS
	return get_user_pages_remote(mm, start, npages, FOLL_NOFAULT, pages,
				     NULL, NULL);
#else
	return get_user_pages_remote(mm, start, npages, FOLL_NOFAULT, pages,
				     NULL);
#endif
}

/*
 * One pass over @npages pages from @start, following the interval
 * notifier's read protocol (as HMM users do): the lookup reads the page
 * tables as they are and never changes them.  Return: 1 when every page
 * maps the page the region pinned at that index, 0 when one does not
 * (not present, another page, a VMA without struct pages or without read
 * access), -EAGAIN when an invalidation raced with the lookup.
 */
static int iommu_reg_region_check_pass(struct iommu_reg_region *r,
				       unsigned long start,
				       unsigned long npages,
				       struct page **pages)
{
	unsigned long first = (start - r->node.start) >> PAGE_SHIFT;
	struct iommu_reg_notify_state *n = r->notify;
	unsigned long seq;
	bool retry, same;
	long got, i;

	/* Waits for an invalidation of the range in progress to end. */
	seq = mmu_interval_read_begin(&r->mni);
	mmap_read_lock(r->mm);
	got = iommu_reg_region_lookup(r->mm, start, npages, pages);
	mmap_read_unlock(r->mm);

	same = got == npages;
	for (i = 0; i < got; i++) {
		if (pages[i] != r->pages[first + i])
			same = false;
		put_page(pages[i]);
	}

	/* The notifier sets the sequence under the same lock. */
	spin_lock(&n->lock);
	retry = mmu_interval_read_retry(&r->mni, seq);
	spin_unlock(&n->lock);
	if (retry)
		return -EAGAIN;
	return same;
}

/**
 * iommu_reg_region_check - do the page tables still map the pinned pages?
 * @r: a published region, not yet being destroyed
 * @start: first byte of the part to check, inside the region
 * @last: its last byte
 *
 * Called from the region's check work (notify.c), with no lock held.
 * The address space is pinned for the walk; if it is already gone, the
 * region is as good as unmapped.  Memory for the walk is a page; if
 * there is none, the region is declared stale (a false positive costs a
 * re-registration, a false negative a stale IOVA).
 *
 * Return: true when every page of [@start, @last] maps the very page the
 * region pinned there.
 */
bool iommu_reg_region_check(struct iommu_reg_region *r, unsigned long start,
			    unsigned long last)
{
	const unsigned long batch = PAGE_SIZE / sizeof(struct page *);
	struct page **pages;
	bool same = false;
	int ret;

	start &= PAGE_MASK;
	if (!mmget_not_zero(r->mm))
		return false;
	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		goto out_put;
	while (start <= last) {
		unsigned long npages = min((last - start) / PAGE_SIZE + 1,
					   batch);

		ret = iommu_reg_region_check_pass(r, start, npages, pages);
		if (ret == -EAGAIN) {
			cond_resched();
			continue;
		}
		if (!ret)
			goto out_free;
		start += npages << PAGE_SHIFT;
		if (!start)
			break;
	}
	same = true;
out_free:
	free_page((unsigned long)pages);
out_put:
	mmput(r->mm);
	return same;
}

static void iommu_reg_region_unpin(struct iommu_reg_region *r,
				   unsigned long npinned)
{
	unpin_user_pages_dirty_lock(r->pages, npinned,
				    !(r->flags & IOMMU_REG_REGION_READONLY));
}

/*
 * Charge @npages to @user against the caller's RLIMIT_MEMLOCK, before
 * anything is pinned: a caller over its limit pins nothing.
 */
static int iommu_reg_region_charge(struct user_struct *user,
				   unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long cur, new;

	if (capable(CAP_IPC_LOCK)) {
		atomic_long_add(npages, &user->locked_vm);
		return 0;
	}
	cur = atomic_long_read(&user->locked_vm);
	do {
		new = cur + npages;
		if (new < cur || new > limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));
	return 0;
}

static void iommu_reg_region_uncharge(struct iommu_reg_region *r)
{
	atomic_long_sub(r->npages, &r->user->locked_vm);
	atomic64_sub(r->npages, &r->mm->pinned_vm);
}

/**
 * iommu_reg_region_alloc - pin and account a user range (no lock held)
 * @c: the container it is for
 * @vaddr: page-aligned start in the caller's address space
 * @size: page-aligned length, not zero, not wrapping
 * @flags: IOMMU_REG_REGION_* flags
 *
 * The charge comes first, so a range over the caller's limit fails at
 * once with nothing pinned or migrated; so does one that cannot be user
 * memory or is larger than all of RAM.  On failure nothing stays pinned
 * or accounted.
 *
 * Return: the new region, not yet visible, or an ERR_PTR.
 */
struct iommu_reg_region *iommu_reg_region_alloc(struct iommu_reg_container *c,
						unsigned long vaddr,
						unsigned long size, u32 flags)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long npages = size >> PAGE_SHIFT;
	unsigned long pinned = 0;
	struct iommu_reg_region *r;
	long ret;

	if (!(flags & IOMMU_REG_REGION_READONLY))
		gup_flags |= FOLL_WRITE;

	/* Not user memory at all: no page of it can be pinned. */
	if (size > TASK_SIZE || vaddr > TASK_SIZE - size)
		return ERR_PTR(-EFAULT);
	/* More than the machine has: refuse before sizing anything by it. */
	if (npages > totalram_pages())
		return ERR_PTR(-ENOMEM);

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->user = get_uid(current_user());
	ret = iommu_reg_region_charge(r->user, npages);
	if (ret)
		goto err_free;
	r->pages = kvmalloc_array(npages, sizeof(*r->pages),
				  GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!r->pages) {
		ret = -ENOMEM;
		goto err_uncharge;
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
	INIT_WORK(&r->check_work, iommu_reg_notify_check_work);

	/*
	 * Watch the range before pinning it: a change while the pages are
	 * being pinned marks the region stale before it is published, and
	 * iommu_reg_notify_slot_alloc() then refuses it.  No window is left in
	 * which the range could change unseen.
	 */
	ret = mmu_interval_notifier_insert(&r->mni, current->mm, vaddr, size,
					   &iommu_reg_region_mni_ops);
	if (ret)
		goto err_free_pages;
	r->has_notifier = true;

	while (pinned < npages) {
		int chunk = min_t(unsigned long, npages - pinned, SZ_512K);

		ret = pin_user_pages_fast(vaddr + (pinned << PAGE_SHIFT), chunk,
					  gup_flags, r->pages + pinned);
		if (ret <= 0) {
			if (!ret)
				ret = -EFAULT;
			goto err_unpin;
		}
		pinned += ret;
		/* A fatal signal ends a long pin early, as GUP would. */
		if (pinned < npages && fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_unpin;
		}
		cond_resched();
	}

	mmgrab(current->mm);
	r->mm = current->mm;
	atomic64_add(npages, &r->mm->pinned_vm);
	return r;

err_unpin:
	iommu_reg_region_unpin(r, pinned);
	mmu_interval_notifier_remove(&r->mni);
err_free_pages:
	kvfree(r->pages);
err_uncharge:
	atomic_long_sub(npages, &r->user->locked_vm);
err_free:
	free_uid(r->user);
	kfree(r);
	return ERR_PTR(ret);
}

/**
 * iommu_reg_region_destroy - unpin, unaccount and free a region (no lock held)
 * @r: a region no longer reachable from any container structure
 *
 * A region that a device may still reach is never unpinned: one with
 * mappings left is leaked whole, and one whose IOMMU unmap came up short
 * keeps its pins and its charge, with a warning, as type1 does.
 */
void iommu_reg_region_destroy(struct iommu_reg_region *r)
{
	if (WARN_ON(!list_empty(&r->mappings)))
		return;
	/* Published regions (they have a handle) leave the admin view. */
	if (r->handle) {
		iommu_reg_stat_add(IOMMU_REG_STAT_REGIONS, -1);
		iommu_reg_stat_add(IOMMU_REG_STAT_PINNED_PAGES,
				   -(s64)r->npages);
		iommu_reg_nl_event(IOMMU_REG_CMD_EVENT_UNREGISTER, r, 0, 0,
				   GFP_KERNEL);
	}
	/*
	 * No check may run once the region is freed: stop them first, then
	 * remove the notifier (which waits for a running invalidation).
	 */
	if (r->has_notifier) {
		iommu_reg_notify_region_stop(r->notify, r);
		mmu_interval_notifier_remove(&r->mni);
	}
	iommu_reg_notify_slot_free(r->notify, r);
	if (!WARN_ON(r->unmap_failed)) {
		iommu_reg_region_unpin(r, r->npages);
		iommu_reg_region_uncharge(r);
	}
	mmdrop(r->mm);
	free_uid(r->user);
	kvfree(r->pages);
	kfree(r);
}

/**
 * iommu_reg_region_insert - publish a new region, or reuse an identical one
 * @c: container, locked
 * @r: from iommu_reg_region_alloc(); consumed
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
int iommu_reg_region_insert(struct iommu_reg_container *c,
			    struct iommu_reg_region *r,
			    struct iommu_reg_region **out,
			    struct iommu_reg_region **dup)
{
	struct iommu_reg_region *old;
	int ret;

	lockdep_assert_held(&c->lock);

	*dup = NULL;
	old = iommu_reg_region_find_exact(c, r->node.start, r->node.last,
					  r->flags);
	if (old && old->refs == UINT_MAX) {
		*dup = r;
		return -EOVERFLOW;
	}
	if (old) {
		old->refs++;
		*out = old;
		*dup = r;
		return 0;
	}

	if (c->nr_regions >= iommu_reg_region_limit(c)) {
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
	ret = iommu_reg_notify_slot_alloc(c->notify, r);
	if (ret) {
		xa_erase(&c->regions, r->handle);
		r->handle = 0;
		*dup = r;
		return ret;
	}

	interval_tree_insert(&r->node, &c->region_tree);
	c->nr_regions++;
	c->pinned_pages += r->npages;
	iommu_reg_stat_add(IOMMU_REG_STAT_REGIONS, 1);
	iommu_reg_stat_add(IOMMU_REG_STAT_PINNED_PAGES, r->npages);
	iommu_reg_nl_event(IOMMU_REG_CMD_EVENT_REGISTER, r, 0, 0, GFP_KERNEL);
	*out = r;
	return 0;
}

/**
 * iommu_reg_region_unlink - make a region unreachable
 * @c: container, locked
 * @r: region with no references and no mappings left
 *
 * The caller destroys it with iommu_reg_region_destroy() after unlocking.
 */
void iommu_reg_region_unlink(struct iommu_reg_container *c,
			     struct iommu_reg_region *r)
{
	lockdep_assert_held(&c->lock);

	xa_erase(&c->regions, r->handle);
	interval_tree_remove(&r->node, &c->region_tree);
	c->nr_regions--;
	c->pinned_pages -= r->npages;
}

/**
 * iommu_reg_region_limit - regions a container may hold now
 * @c: container
 *
 * Return: the max_regions module parameter, capped by the status area's
 * slots (sized from max_regions when the container was created).
 */
unsigned int iommu_reg_region_limit(struct iommu_reg_container *c)
{
	return min(READ_ONCE(iommu_reg_max_regions), c->notify->nr_slots);
}

/**
 * iommu_reg_region_validate - check a user range for pinning
 * @vaddr: start
 * @size: length
 *
 * Return: 0, -EINVAL (zero or misaligned) or -EOVERFLOW (wraps, or does
 * not fit an unsigned long).
 */
int iommu_reg_region_validate(u64 vaddr, u64 size)
{
	if (!size || !PAGE_ALIGNED(vaddr) || !PAGE_ALIGNED(size))
		return -EINVAL;
	if (vaddr + size - 1 < vaddr || vaddr + size - 1 > ULONG_MAX)
		return -EOVERFLOW;
	return 0;
}

/**
 * iommu_reg_region_get_or_create - the register-once path
 * @c: container, unlocked
 * @vaddr: page-aligned start
 * @size: page-aligned length
 * @flags: IOMMU_REG_REGION_* flags
 * @to_free: receives a duplicate pinned meanwhile, for
 *	iommu_reg_region_destroy_list() after the caller unlocks
 *
 * An existing identical region (also one held only by type1 mappings)
 * gains a reference without pinning anything; otherwise the range is
 * pinned with no lock held and then published.
 *
 * Return: the region with a reference for the caller and the container
 * lock held, so that no other thread can drop it before the caller is
 * done with it; or an ERR_PTR, with the lock not held.
 */
struct iommu_reg_region *
iommu_reg_region_get_or_create(struct iommu_reg_container *c, u64 vaddr,
			       u64 size, u32 flags, struct list_head *to_free)
{
	struct iommu_reg_region *r, *out, *dup;
	int tries = 3;
	int ret;

	ret = iommu_reg_region_validate(vaddr, size);
	if (ret)
		return ERR_PTR(ret);

retry:
	mutex_lock(&c->lock);
	r = iommu_reg_region_find_exact(c, vaddr, vaddr + size - 1, flags);
	if (r) {
		/* 2^32 registrations of one range: refuse, never wrap. */
		if (r->refs == UINT_MAX) {
			mutex_unlock(&c->lock);
			return ERR_PTR(-EOVERFLOW);
		}
		r->refs++;
		return r;
	}
	if (c->nr_regions >= iommu_reg_region_limit(c)) {
		mutex_unlock(&c->lock);
		return ERR_PTR(-ENOSPC);
	}
	mutex_unlock(&c->lock);

	r = iommu_reg_region_alloc(c, vaddr, size, flags);
	if (IS_ERR(r))
		return r;

	mutex_lock(&c->lock);
	ret = iommu_reg_region_insert(c, r, &out, &dup);
	if (dup)
		list_add(&dup->free_node, to_free);
	if (!ret)
		return out;
	mutex_unlock(&c->lock);
	/*
	 * The range changed while it was being pinned (pinning itself can
	 * migrate pages out of CMA): pin what it maps now.
	 */
	if (ret == -EAGAIN && --tries) {
		iommu_reg_region_destroy_list(to_free);
		INIT_LIST_HEAD(to_free);
		goto retry;
	}
	return ERR_PTR(ret);
}

/**
 * iommu_reg_region_release_if_unused - unlink a region nothing holds any more
 * @c: container, locked
 * @r: the region
 * @to_free: list that receives it for iommu_reg_region_destroy_list()
 *
 * A region lives while it has registration references or mappings (type1
 * MAP_DMA mappings hold their region without a registration reference).
 */
void iommu_reg_region_release_if_unused(struct iommu_reg_container *c,
					struct iommu_reg_region *r,
					struct list_head *to_free)
{
	lockdep_assert_held(&c->lock);

	if (r->refs || !list_empty(&r->mappings))
		return;
	iommu_reg_region_unlink(c, r);
	list_add(&r->free_node, to_free);
}

/* Destroy regions collected under the lock, after dropping it. */
void iommu_reg_region_destroy_list(struct list_head *to_free)
{
	struct iommu_reg_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, to_free, free_node)
		iommu_reg_region_destroy(r);
}

/**
 * iommu_reg_region_put - drop a registration reference
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
int iommu_reg_region_put(struct iommu_reg_container *c,
			 struct iommu_reg_region *r, bool unmap,
			 struct list_head *to_free)
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
	iommu_reg_mapping_unmap_region(c, r, unmap);
	iommu_reg_region_release_if_unused(c, r, to_free);
	return 0;
}

int iommu_reg_region_prereg(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_prereg *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_reg_region *r;
	LIST_HEAD(to_free);
	u32 handle;
	int ret;

	if (cmd->flags & ~IOMMU_REG_REGION_FLAGS)
		return -EINVAL;

	r = iommu_reg_region_get_or_create(c, cmd->vaddr, cmd->size, cmd->flags,
					   &to_free);
	if (IS_ERR(r)) {
		iommu_reg_region_destroy_list(&to_free);
		return PTR_ERR(r);
	}
	/* Still under the lock get_or_create() returned with. */
	handle = r->handle;
	cmd->handle = handle;
	cmd->refs = r->refs;
	cmd->slot = r->slot;
	cmd->generation = r->generation;
	mutex_unlock(&c->lock);
	iommu_reg_region_destroy_list(&to_free);

	ret = iommu_reg_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* The caller never learnt of it: take the reference back. */
		mutex_lock(&c->lock);
		iommu_reg_region_put_again(c, handle, r, &to_free);
		mutex_unlock(&c->lock);
		iommu_reg_region_destroy_list(&to_free);
	}
	return ret;
}

int iommu_reg_region_unreg(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_unreg *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_reg_region *r;
	LIST_HEAD(to_free);
	int ret;

	if (cmd->flags & ~IOMMU_REG_UNREG_FLAGS || cmd->__reserved)
		return -EINVAL;

	mutex_lock(&c->lock);
	r = iommu_reg_region_get(c, cmd->handle);
	if (r && !iommu_reg_region_owned(r))
		ret = -EPERM;
	else if (r)
		ret = iommu_reg_region_put(c, r,
					   cmd->flags & IOMMU_REG_UNREG_UNMAP,
					   &to_free);
	else
		ret = -ENOENT;
	mutex_unlock(&c->lock);
	iommu_reg_region_destroy_list(&to_free);
	return ret;
}
