// SPDX-License-Identifier: GPL-2.0-only
/*
 * Notify: the status area and the event queue of a container.
 *
 * The status area is a header page followed by an array of u32
 * generations, one per region slot.  User space maps it read-only from
 * the notify fd and checks a registration with one load.  Pages are
 * allocated when a slot in them is first used or when user space first
 * touches them, and live as long as the notify object.
 *
 * The event queue is a ring of struct iommu_reg_event filled by the
 * regions' MMU interval notifiers and drained by read().
 *
 * Locking (the order is written in iommu_reg.h): the notifiers run with
 * the mm's locks held, from munmap and friends, so nothing here takes the
 * container lock: iommu_reg_notify_state.lock (a spinlock, never held
 * across anything that sleeps) protects the queue and serialises a
 * region's invalidation against its publication; slot values are updated
 * with atomics.  read() is serialised by iommu_reg_notify_state.read_lock
 * so records are consumed only after they reached user space.
 *
 * Re-validation.  Only munmap-like events (UNMAP, RELEASE) make a region
 * stale synchronously.  For the others the notifier, which runs before the
 * page tables change and perhaps where it must not sleep, records the
 * invalidated part of the region as suspect (iommu_reg_region.check_*,
 * under iommu_reg_notify_state.lock), bumps the interval sequence and
 * queues the region's check work on system_unbound_wq.  The work, with no
 * lock of ours held, pins the mm, takes its mmap_lock for read and
 * compares what the range maps with the pinned pages
 * (iommu_reg_region_check()); only a difference makes the region stale,
 * with the generation bump and event as before.
 *
 * When the task that caused the event is a user task of the region's own
 * address space (madvise, mprotect, fork, fallocate, move_pages...), it
 * is also made to wait, on its way back to user space (task_work), until
 * no check of the container is queued or running: so a change a process
 * makes to its own memory is visible in the status area when the system
 * call that made it returns, as it was when every clear was final.  Only
 * events raised by kernel threads (reclaim, KSM, khugepaged, compaction)
 * or by other processes (truncating a shared file) are checked
 * asynchronously, within the time a work item takes to run.
 *
 * Lifetime: the check work is only queued for a published region that is
 * not dying, under iommu_reg_notify_state.lock.
 * iommu_reg_region_destroy() marks the region dying under that lock,
 * cancels or waits for the work, and only then removes the notifier and
 * frees the region.  The work needs no container lock and is waited for
 * with none held; it takes the mmap_lock for read, which is why
 * destruction must never run under the mmap_lock (it does not: it already
 * waits for the notifier there).  The waiting task holds a reference on
 * the notify object and on the module, nothing else, and waits killably.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "iommu_reg_compat.h"
#include "iommu_reg.h"

#define IOMMU_REG_NOTIFY_QUEUE_DEFAULT	16384U
#define IOMMU_REG_NOTIFY_QUEUE_MAX	SZ_1M
#define IOMMU_REG_SLOTS_PER_PAGE	(PAGE_SIZE / sizeof(u32))
#define IOMMU_REG_READ_BATCH		16

static void iommu_reg_notify_free(struct kref *kref)
{
	struct iommu_reg_notify_state *n =
		container_of(kref, struct iommu_reg_notify_state, kref);
	unsigned long index;
	struct page *page;

	xa_for_each(&n->pages, index, page)
		put_page(page);
	xa_destroy(&n->pages);
	ida_destroy(&n->slots);
	kvfree(n->queue);
	mutex_destroy(&n->read_lock);
	kfree(n);
}

static void iommu_reg_notify_put(struct iommu_reg_notify_state *n)
{
	kref_put(&n->kref, iommu_reg_notify_free);
}

/* The status page at @pgoff, allocated (zeroed) on first use. */
static struct page *iommu_reg_notify_page(struct iommu_reg_notify_state *n,
					  pgoff_t pgoff)
{
	struct page *page, *old;

	page = xa_load(&n->pages, pgoff);
	if (page)
		return page;

	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return NULL;
	old = xa_cmpxchg(&n->pages, pgoff, NULL, page, GFP_KERNEL_ACCOUNT);
	if (xa_is_err(old)) {
		__free_page(page);
		return NULL;
	}
	if (old) {
		__free_page(page);
		return old;
	}
	return page;
}

static struct iommu_reg_status *
iommu_reg_notify_header(struct iommu_reg_notify_state *n)
{
	return page_address(n->header);
}

/* The generation of @slot; its page exists once the slot is allocated. */
static atomic_t *iommu_reg_notify_gen(struct iommu_reg_notify_state *n,
				      u32 slot)
{
	struct page *page =
		xa_load(&n->pages, 1 + slot / IOMMU_REG_SLOTS_PER_PAGE);
	u32 *gens = page_address(page);

	return (atomic_t *)&gens[slot % IOMMU_REG_SLOTS_PER_PAGE];
}

/**
 * iommu_reg_notify_create - allocate a container's notify object
 * @nr_slots: generation slots, the container's region limit
 *
 * Return: the object with one reference, or an ERR_PTR.
 */
struct iommu_reg_notify_state *iommu_reg_notify_create(u32 nr_slots)
{
	struct iommu_reg_status *status;
	struct iommu_reg_notify_state *n;

	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return ERR_PTR(-ENOMEM);

	kref_init(&n->kref);
	spin_lock_init(&n->lock);
	mutex_init(&n->read_lock);
	init_waitqueue_head(&n->wait);
	init_waitqueue_head(&n->check_wait);
	xa_init(&n->pages);
	ida_init(&n->slots);
	n->nr_slots = nr_slots;

	n->header = iommu_reg_notify_page(n, 0);
	if (!n->header) {
		iommu_reg_notify_put(n);
		return ERR_PTR(-ENOMEM);
	}
	status = iommu_reg_notify_header(n);
	status->magic = IOMMU_REG_STATUS_MAGIC;
	status->version = 1;
	status->slot_offset = PAGE_SIZE;
	status->nr_slots = nr_slots;
	n->nr_pages = 1 + DIV_ROUND_UP(nr_slots, IOMMU_REG_SLOTS_PER_PAGE);
	return n;
}

/**
 * iommu_reg_notify_shutdown - the container is going away
 * @n: its notify object; the container's reference is dropped
 *
 * Readers drain what is queued, then read end-of-file; poll() reports
 * POLLHUP.  The status area stays mapped and readable.
 */
void iommu_reg_notify_shutdown(struct iommu_reg_notify_state *n)
{
	spin_lock(&n->lock);
	n->dead = true;
	spin_unlock(&n->lock);
	wake_up_all(&n->wait);
	iommu_reg_notify_put(n);
}

/**
 * iommu_reg_notify_slot_alloc - give a new region a slot and a generation
 * @n: notify object
 * @r: the region, not yet published; receives slot and generation
 *
 * The region becomes visible to its notifier only here, under the notify
 * lock: an invalidation that ran before (while it was being pinned) left
 * it stale, and then the registration fails with EAGAIN.
 *
 * Return: 0, -ENOSPC (no slot), -ENOMEM or -EAGAIN.
 */
int iommu_reg_notify_slot_alloc(struct iommu_reg_notify_state *n,
				struct iommu_reg_region *r)
{
	int slot;

	slot = ida_alloc_max(&n->slots, n->nr_slots - 1, GFP_KERNEL_ACCOUNT);
	if (slot < 0)
		return slot == -ENOSPC ? -ENOSPC : -ENOMEM;
	if (!iommu_reg_notify_page(n, 1 + slot / IOMMU_REG_SLOTS_PER_PAGE)) {
		ida_free(&n->slots, slot);
		return -ENOMEM;
	}

	spin_lock(&n->lock);
	if (r->stale) {
		spin_unlock(&n->lock);
		ida_free(&n->slots, slot);
		return -EAGAIN;
	}
	r->slot = slot;
	r->generation = atomic_inc_return(iommu_reg_notify_gen(n, slot));
	r->has_slot = true;
	spin_unlock(&n->lock);
	return 0;
}

/**
 * iommu_reg_notify_slot_free - retire a dead region's slot
 * @n: notify object
 * @r: the region, whose notifier is already removed
 *
 * The slot's generation moves on, so a registration cached in user space
 * never matches it again.
 */
void iommu_reg_notify_slot_free(struct iommu_reg_notify_state *n,
				struct iommu_reg_region *r)
{
	if (!r->has_slot)
		return;
	atomic_inc(iommu_reg_notify_gen(n, r->slot));
	ida_free(&n->slots, r->slot);
	r->has_slot = false;
}

static u32 iommu_reg_notify_reason(enum mmu_notifier_event event)
{
	switch (event) {
	case MMU_NOTIFY_UNMAP:
		return IOMMU_REG_REASON_UNMAP;
	case MMU_NOTIFY_CLEAR:
		return IOMMU_REG_REASON_CLEAR;
	case MMU_NOTIFY_RELEASE:
		return IOMMU_REG_REASON_EXIT;
	default:
		return IOMMU_REG_REASON_OTHER;
	}
}

/**
 * iommu_reg_notify_invalidate - a region's range changed
 * @n: notify object
 * @r: the region
 * @event: what the MM is doing
 *
 * Called from the region's MMU interval notifier, possibly in a context
 * that must not sleep: marks the region stale, moves its generation on
 * and queues an event, or records an overflow.  Only the change from
 * valid to stale is reported: mremap(), for one, invalidates the old
 * range twice, and a stale region has nothing more to say.
 */
void iommu_reg_notify_invalidate(struct iommu_reg_notify_state *n,
				 struct iommu_reg_region *r,
				 enum mmu_notifier_event event)
{
	struct iommu_reg_status *status = iommu_reg_notify_header(n);
	struct iommu_reg_event *ev;
	u32 gen;

	spin_lock(&n->lock);
	if (r->stale) {
		spin_unlock(&n->lock);
		return;
	}
	WRITE_ONCE(r->stale, true);
	if (!r->has_slot) {
		/* Not published yet: slot allocation will refuse it. */
		spin_unlock(&n->lock);
		return;
	}
	gen = atomic_inc_return(iommu_reg_notify_gen(n, r->slot));
	atomic64_inc((atomic64_t *)&status->invalidations);
	iommu_reg_stat_add(IOMMU_REG_STAT_INVALIDATIONS, 1);

	if (!n->queue || n->count == n->queue_len) {
		if (n->queue) {
			n->overflow = true;
			atomic64_inc((atomic64_t *)&status->events_lost);
		}
		spin_unlock(&n->lock);
		if (n->queue)
			wake_up(&n->wait);
		iommu_reg_nl_event(IOMMU_REG_CMD_EVENT_INVALIDATE, r,
				   iommu_reg_notify_reason(event), gen,
				   GFP_ATOMIC);
		return;
	}
	ev = &n->queue[(n->head + n->count) % n->queue_len];
	ev->type = IOMMU_REG_EVENT_INVALIDATE;
	ev->reason = iommu_reg_notify_reason(event);
	ev->handle = r->handle;
	ev->generation = gen;
	ev->vaddr = r->node.start;
	ev->length = r->node.last - r->node.start + 1;
	n->count++;
	spin_unlock(&n->lock);
	wake_up(&n->wait);
	iommu_reg_nl_event(IOMMU_REG_CMD_EVENT_INVALIDATE, r,
			   iommu_reg_notify_reason(event), gen, GFP_ATOMIC);
}

/* A check of @r is over; the caller holds n->lock.  Return: wake waiters. */
static bool iommu_reg_notify_check_done(struct iommu_reg_notify_state *n,
					struct iommu_reg_region *r)
{
	r->check_pending = false;
	if (!r->check_queued)
		return false;
	r->check_queued = false;
	return !--n->checks;
}

/**
 * iommu_reg_notify_check_work - re-validate a region's suspect range
 * @work: iommu_reg_region.check_work
 *
 * Runs until no suspect range is left: the notifier may record a new one
 * (and queue the work again) while a check runs.  A range that no longer
 * maps the pinned pages makes the region stale, with the reason of the
 * first event that made it suspect.
 */
void iommu_reg_notify_check_work(struct work_struct *work)
{
	struct iommu_reg_region *r =
		container_of(work, struct iommu_reg_region, check_work);
	struct iommu_reg_notify_state *n = r->notify;
	enum mmu_notifier_event event;
	unsigned long start, last;
	bool wake;

	for (;;) {
		spin_lock(&n->lock);
		if (!r->check_pending || r->stale) {
			wake = iommu_reg_notify_check_done(n, r);
			spin_unlock(&n->lock);
			if (wake)
				wake_up_all(&n->check_wait);
			return;
		}
		start = r->check_start;
		last = r->check_last;
		event = r->check_event;
		r->check_pending = false;
		spin_unlock(&n->lock);

		if (!iommu_reg_region_check(r, start, last))
			iommu_reg_notify_invalidate(n, r, event);
	}
}

struct iommu_reg_notify_flush {
	struct callback_head cb;
	struct iommu_reg_notify_state *n;
};

/* task_work: wait for the container's checks before returning to user. */
static void iommu_reg_notify_flush_fn(struct callback_head *cb)
{
	struct iommu_reg_notify_flush *f =
		container_of(cb, struct iommu_reg_notify_flush, cb);
	struct iommu_reg_notify_state *n = f->n;

	spin_lock(&n->lock);
	if (n->check_task == current)
		n->check_task = NULL;
	spin_unlock(&n->lock);
	/* Bounded by the checks queued; a fatal signal ends it early. */
	wait_event_killable(n->check_wait, !READ_ONCE(n->checks));
	iommu_reg_notify_put(n);
	kfree(f);
	/*
	 * The reference taken when this was queued: the task may have
	 * blocked in the kernel meanwhile, its container gone and the
	 * module unloaded.  Only the return from here is left.
	 */
	module_put(THIS_MODULE);
}

/*
 * Make current wait for the checks on its way back to user space.  May
 * run where sleeping is not allowed: the allocation does not sleep, and
 * if it fails the check is merely asynchronous.
 */
static void iommu_reg_notify_flush_on_return(struct iommu_reg_notify_state *n)
{
	struct iommu_reg_notify_flush *f;

	f = kmalloc(sizeof(*f), GFP_NOWAIT | __GFP_NOWARN);
	if (f) {
		/* The module is live: its region's notifier runs. */
		__module_get(THIS_MODULE);
		kref_get(&n->kref);
		f->n = n;
		init_task_work(&f->cb, iommu_reg_notify_flush_fn);
		if (!task_work_add(current, &f->cb, TWA_RESUME))
			return;
		iommu_reg_notify_put(n);
		kfree(f);
		module_put(THIS_MODULE);
	}
	spin_lock(&n->lock);
	if (n->check_task == current)
		n->check_task = NULL;
	spin_unlock(&n->lock);
}

/**
 * iommu_reg_notify_suspect - a region's range may have changed
 * @n: notify object
 * @r: the region
 * @range: the invalidation, about to happen
 * @cur_seq: the sequence for mmu_interval_set_seq()
 *
 * Called from the region's MMU interval notifier, possibly where it must
 * not sleep, for events that may leave the range mapping the same pages:
 * records the part of the region that @range covers as suspect and
 * queues its re-validation (see the top of this file).  A region not yet
 * published cannot be checked (its pins are not complete): it is made
 * stale at once, and its registration retries.
 */
void iommu_reg_notify_suspect(struct iommu_reg_notify_state *n,
			      struct iommu_reg_region *r,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq)
{
	unsigned long start = max(range->start, r->node.start);
	unsigned long last = min(range->end - 1, r->node.last);
	bool flush = false;

	spin_lock(&n->lock);
	/* Under the lock iommu_reg_region_check_pass() reads it with. */
	mmu_interval_set_seq(&r->mni, cur_seq);
	if (r->stale || r->dying) {
		spin_unlock(&n->lock);
		return;
	}
	if (!r->has_slot) {
		spin_unlock(&n->lock);
		iommu_reg_notify_invalidate(n, r, range->event);
		return;
	}
	if (r->check_pending) {
		r->check_start = min(r->check_start, start);
		r->check_last = max(r->check_last, last);
	} else {
		r->check_start = start;
		r->check_last = last;
		r->check_event = range->event;
		r->check_pending = true;
	}
	if (!r->check_queued) {
		r->check_queued = true;
		n->checks++;
	}
	queue_work(system_unbound_wq, &r->check_work);
	if (current->mm == r->mm &&
	    !(current->flags & (PF_KTHREAD | PF_IO_WORKER | PF_EXITING)) &&
	    n->check_task != current) {
		n->check_task = current;
		flush = true;
	}
	spin_unlock(&n->lock);
	if (flush)
		iommu_reg_notify_flush_on_return(n);
}

/**
 * iommu_reg_notify_region_stop - no more checks of a region being destroyed
 * @n: notify object
 * @r: the region; its notifier is still inserted
 *
 * After this, the notifier queues no check of @r and none runs, so the
 * region can be freed once the notifier is removed.
 */
void iommu_reg_notify_region_stop(struct iommu_reg_notify_state *n,
				  struct iommu_reg_region *r)
{
	bool wake;

	spin_lock(&n->lock);
	r->dying = true;
	spin_unlock(&n->lock);
	cancel_work_sync(&r->check_work);
	spin_lock(&n->lock);
	wake = iommu_reg_notify_check_done(n, r);
	spin_unlock(&n->lock);
	if (wake)
		wake_up_all(&n->check_wait);
}

static bool iommu_reg_notify_readable(struct iommu_reg_notify_state *n)
{
	return n->overflow || n->count;
}

static ssize_t iommu_reg_notify_read(struct file *file, char __user *buf,
				     size_t count, loff_t *ppos)
{
	struct iommu_reg_notify_state *n = file->private_data;
	struct iommu_reg_status *status = iommu_reg_notify_header(n);
	struct iommu_reg_event batch[IOMMU_REG_READ_BATCH];
	size_t want =
		min_t(size_t, count / sizeof(batch[0]), IOMMU_REG_READ_BATCH);
	bool resync = false;
	size_t i = 0, taken;
	int ret;

	if (!want)
		return -EINVAL;

	ret = mutex_lock_interruptible(&n->read_lock);
	if (ret)
		return ret;

	spin_lock(&n->lock);
	while (!iommu_reg_notify_readable(n)) {
		bool dead = n->dead;

		spin_unlock(&n->lock);
		if (dead) {
			ret = 0;
			goto out_unlock;
		}
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		ret = wait_event_interruptible(n->wait,
					       iommu_reg_notify_readable(n) ||
						       READ_ONCE(n->dead));
		if (ret)
			goto out_unlock;
		spin_lock(&n->lock);
	}

	/* Copy out without consuming: nothing is lost if the copy faults. */
	if (n->overflow) {
		memset(&batch[0], 0, sizeof(batch[0]));
		batch[0].type = IOMMU_REG_EVENT_RESYNC;
		batch[0].length = atomic64_read((atomic64_t *)&status->events_lost);
		resync = true;
		i = 1;
	}
	taken = min_t(size_t, want - i, n->count);
	for (; taken; taken--, i++)
		batch[i] = n->queue[(n->head + i - resync) % n->queue_len];
	spin_unlock(&n->lock);

	if (copy_to_user(buf, batch, i * sizeof(batch[0]))) {
		ret = -EFAULT;
		goto out_unlock;
	}

	spin_lock(&n->lock);
	if (resync)
		n->overflow = false;
	n->head = (n->head + i - resync) % n->queue_len;
	n->count -= i - resync;
	spin_unlock(&n->lock);
	ret = i * sizeof(batch[0]);
out_unlock:
	mutex_unlock(&n->read_lock);
	return ret;
}

static __poll_t iommu_reg_notify_poll(struct file *file, poll_table *wait)
{
	struct iommu_reg_notify_state *n = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &n->wait, wait);
	spin_lock(&n->lock);
	if (iommu_reg_notify_readable(n))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (n->dead)
		mask |= EPOLLHUP;
	spin_unlock(&n->lock);
	return mask;
}

static vm_fault_t iommu_reg_notify_fault(struct vm_fault *vmf)
{
	struct iommu_reg_notify_state *n = vmf->vma->vm_private_data;
	struct page *page;

	if (vmf->pgoff >= n->nr_pages)
		return VM_FAULT_SIGBUS;
	page = iommu_reg_notify_page(n, vmf->pgoff);
	if (!page)
		return VM_FAULT_OOM;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct iommu_reg_notify_vm_ops = {
	.fault = iommu_reg_notify_fault,
};

static int iommu_reg_notify_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct iommu_reg_notify_state *n = file->private_data;

	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	if (vma->vm_pgoff >= n->nr_pages ||
	    vma_pages(vma) > n->nr_pages - vma->vm_pgoff)
		return -EINVAL;

	/* Read-only for good: mprotect() cannot add write access later. */
	iommu_reg_vm_flags_clear(vma, VM_MAYWRITE);
	iommu_reg_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &iommu_reg_notify_vm_ops;
	vma->vm_private_data = n;
	return 0;
}

static int iommu_reg_notify_release(struct inode *inode, struct file *file)
{
	struct iommu_reg_notify_state *n = file->private_data;

	spin_lock(&n->lock);
	n->fd_open = false;
	spin_unlock(&n->lock);
	iommu_reg_notify_put(n);
	return 0;
}

static const struct file_operations iommu_reg_notify_fops = {
	.owner		= THIS_MODULE,
	.read		= iommu_reg_notify_read,
	.poll		= iommu_reg_notify_poll,
	.mmap		= iommu_reg_notify_mmap,
	.release	= iommu_reg_notify_release,
	.llseek		= noop_llseek,
};

int iommu_reg_notify_open(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_notify *cmd = ucmd->cmd;
	struct iommu_reg_notify_state *n = ucmd->container->notify;
	struct iommu_reg_event *queue;
	u32 len = cmd->queue_len ?: IOMMU_REG_NOTIFY_QUEUE_DEFAULT;
	struct file *file;
	int ret;

	if (cmd->flags || len > IOMMU_REG_NOTIFY_QUEUE_MAX)
		return -EINVAL;

	queue = kvcalloc(len, sizeof(*queue), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!queue)
		return -ENOMEM;

	/* Claim the one fd of the container, with a fresh queue. */
	spin_lock(&n->lock);
	if (n->fd_open) {
		spin_unlock(&n->lock);
		kvfree(queue);
		return -EBUSY;
	}
	swap(n->queue, queue);
	n->queue_len = len;
	n->head = 0;
	n->count = 0;
	n->overflow = false;
	n->fd_open = true;
	spin_unlock(&n->lock);
	kvfree(queue);		/* the previous fd's queue, if any */

	/* The file owns this reference; its release drops it. */
	kref_get(&n->kref);
	file = anon_inode_getfile("[iommu-reg-notify]", &iommu_reg_notify_fops,
				  n, O_RDONLY);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_unclaim;
	}

	cmd->queue_len = len;
	cmd->status_size = (u64)n->nr_pages << PAGE_SHIFT;
	/* Never handed out, the file's release undoes the claim. */
	return iommu_reg_ucmd_respond_fd(ucmd, sizeof(*cmd), &cmd->fd, file);

err_unclaim:
	spin_lock(&n->lock);
	n->fd_open = false;
	spin_unlock(&n->lock);
	iommu_reg_notify_put(n);
	return ret;
}
