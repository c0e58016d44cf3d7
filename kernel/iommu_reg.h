/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private declarations shared by the objects of the iommu_reg module.
 *
 * Vocabulary, used in every file:
 *  - "last" is inclusive, "end" is exclusive; last + 1 may overflow, so
 *    ranges that can reach the top of the address space use last.
 *  - A "container" is the backend's per-VFIO-container state (VFIO's
 *    iommu_data); it owns exactly one iommu_domain shared by all its groups.
 *
 * Lock order.  This list is the only one: files and Documentation/
 * point here.  "A > B" means B may be taken while A is held, never the
 * other way round; locks not listed together are never held together.
 *
 *  - VFIO's group and device-set locks > iommu_reg_container.lock (VFIO
 *    calls attach_group(), detach_group(), register_device() and
 *    unregister_device() holding them; none of our paths takes a VFIO
 *    lock).
 *  - iommu_reg_container.lock > the IOMMU group's mutex (group attach and
 *    detach, the SVA API).
 *  - iommu_reg_container.lock > iommu_reg_notify_state.lock (a region's
 *    publication).
 *  - iommu_reg_container.lock > iommu_reg_wcbar_lock > iommu_reg_wcbar.lock
 *    (revocation at group detach and device close); iommu_reg_wcbar_lock
 *    > the WC fd's i_mmap lock (the zap, with iommu_reg_wcbar.lock
 *    dropped).
 *  - mmap_lock > iommu_reg_notify_state.lock (the MMU notifier);
 *    mmap_lock > iommu_reg_wcbar.lock (a WC fault).
 *  - iommu_reg_notify_state.read_lock > mmap_lock (read() copies out
 *    under it) and > iommu_reg_notify_state.lock.
 *  - The registry mutex (container.c) and the cookie hash's spinlock are
 *    taken with no other lock of ours held, and take none.
 *
 * Never iommu_reg_container.lock > mmap_lock: no user memory is read or
 * written under the container lock, and pinning, the slow part of
 * pre-registration, runs with no lock held; so a caller parked on a page
 * fault of its own memory holds nothing another container or VFIO needs.
 */
#ifndef IOMMU_REG_PRIVATE_H
#define IOMMU_REG_PRIVATE_H

#include <linux/atomic.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/mmu_notifier.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/workqueue.h>
#include <linux/interval_tree.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <linux/sched.h>
#include <linux/uidgid.h>
#include <uapi/linux/iommu_reg.h>
#include <uapi/linux/iommu_reg_netlink.h>

#include "vfio_compat.h"

struct iommu_domain;
struct iommu_group;
struct mm_struct;
struct page;

/* The flags each command accepts; IOMMU_REG_INFO reports them. */
#define IOMMU_REG_REGION_FLAGS	IOMMU_REG_REGION_READONLY
#define IOMMU_REG_MAP_FLAGS	(IOMMU_REG_MAP_IOVA_FIXED | \
				 IOMMU_REG_MAP_IOVA_IDENTITY)
#define IOMMU_REG_UNMAP_FLAGS	IOMMU_REG_UNMAP_ALL
#define IOMMU_REG_UNREG_FLAGS	IOMMU_REG_UNREG_UNMAP

/* Kernel-chosen IOVAs start here, so that IOVA 0 is never handed out. */
#define IOMMU_REG_IOVA_FIRST	SZ_1M

extern unsigned int iommu_reg_max_regions;
extern unsigned int iommu_reg_max_mappings;
/* Also answer and open as type1 (v1 and v2): the drop-in mode. */
extern bool iommu_reg_type1_compat;

/* Leaf IOMMU pages counted by the audit_unmap module parameter. */
enum {
	IOMMU_REG_AUDIT_4K,
	IOMMU_REG_AUDIT_2M,
	IOMMU_REG_AUDIT_1G,
	IOMMU_REG_AUDIT_OTHER,
	IOMMU_REG_AUDIT_NR,
};

extern atomic64_t iommu_reg_audit_pages[IOMMU_REG_AUDIT_NR];

/**
 * struct iommu_reg_iova_space - the IOVA ranges a container may use
 * @ranges: ascending, disjoint, inclusive ranges: the domain aperture minus
 *	the reserved regions of every attached group
 * @nr_ranges: entries in @ranges
 */
struct iommu_reg_iova_space {
	struct iommu_reg_iova_range *ranges;
	unsigned int nr_ranges;
};

/**
 * struct iommu_reg_group - an IOMMU group attached to a container
 * @node: entry in iommu_reg_container.groups
 * @iommu_group: the group; VFIO holds a reference while it is attached
 */
struct iommu_reg_group {
	struct list_head node;
	struct iommu_group *iommu_group;
};

/**
 * struct iommu_reg_notify_state - status area and event queue of a container
 * @kref: the container and the notify fd each hold a reference
 * @lock: protects @queue .. @fd_open and serialises a region's
 *	invalidation against its publication (iommu_reg_region.has_slot)
 * @read_lock: serialises readers of the notify fd
 * @wait: readers and pollers wait here
 * @queue: ring of events, allocated when the fd is opened
 * @queue_len: entries in @queue
 * @head: index of the oldest event
 * @count: events in the ring
 * @overflow: events were dropped; a RESYNC record is owed
 * @dead: the container's backend is released
 * @fd_open: the notify fd exists
 * @pages: status area pages by page offset (0: header); immutable once
 *	present
 * @header: page 0
 * @slots: allocator of generation slots
 * @nr_slots: generation slots in the status area
 * @nr_pages: pages in the status area
 * @checks: regions with a re-validation queued or running (under @lock)
 * @check_wait: tasks waiting for @checks to reach zero
 * @check_task: the task last asked to wait for @checks before it returns
 *	to user space, until it has (under @lock; compared, never followed)
 */
struct iommu_reg_notify_state {
	struct kref kref;
	spinlock_t lock; /* see above */
	struct mutex read_lock; /* see above */
	wait_queue_head_t wait;
	struct iommu_reg_event *queue;
	u32 queue_len;
	u32 head;
	u32 count;
	bool overflow;
	bool dead;
	bool fd_open;
	struct xarray pages;
	struct page *header;
	struct ida slots;
	u32 nr_slots;
	u32 nr_pages;
	unsigned int checks;
	wait_queue_head_t check_wait;
	struct task_struct *check_task;
};

/**
 * struct iommu_reg_container - backend state of one VFIO container
 * @lock: protects @domain to @mapping_seq, @sva_bonds, @open_devs and the
 *	regions and mappings (see there); each other field says what
 *	protects it
 * @domain: the one IOMMU domain of the container; allocated on the first
 *	group attach, freed at release.  Immutable while @groups is not empty.
 * @groups: struct iommu_reg_group entries of the attached IOMMU groups
 * @nr_groups: entries in @groups
 * @iova: usable IOVA ranges, rebuilt on every attach and detach
 * @regions: handle -> struct iommu_reg_region
 * @next_handle: cyclic handle allocation, so a stale handle is not
 *	soon reused
 * @region_tree: regions by virtual range [start, last]
 * @nr_regions: regions in @regions
 * @pinned_pages: pages pinned by all regions
 * @mapping_tree: mappings by IOVA range [start, last]
 * @nr_mappings: mappings in @mapping_tree
 * @iova_hint: where the next kernel-chosen IOVA search starts
 * @mapping_seq: the last iommu_reg_mapping.seq handed out
 * @notify: status area and events; immutable
 * @id: unique for the module's lifetime, never reused; immutable
 * @pid: thread group id of the process that selected the backend;
 *	immutable
 * @comm: its command name; immutable
 * @uid: its effective uid; decides who may see the container; immutable
 * @vfio_type: the VFIO_SET_IOMMU number it was opened with: VFIO_IOMMU_REG,
 *	or VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU in the drop-in mode (the
 *	type1_compat parameter); decides the type1 unmap semantics; immutable
 * @registry_node: entry in the container registry (registry lock)
 * @sva_bonds: struct iommu_reg_sva_bond of the devices bound (sva.c);
 *	@lock, except at release when no group is left
 * @wcbars: struct iommu_reg_wcbar of the write-combining BAR fds (wcbar.c);
 *	iommu_reg_wcbar_lock, not @lock
 * @open_devs: struct iommu_reg_open_dev of the devices VFIO has open (between
 *	the register_device and unregister_device callbacks)
 * @users: references: VFIO's (open() to release()), and one per ioctl,
 *	callback or netlink dump in progress; the last one tears down
 *	(atomic)
 * @cookie: what VFIO holds instead of a pointer; never reused; immutable
 * @live_node: entry in the cookie hash (its spinlock; RCU for readers,
 *	see iommu_reg_container_get())
 * @released: VFIO released the backend; new ioctls fail with ENODEV
 *	(READ_ONCE/WRITE_ONCE, no lock)
 * @rcu: frees the memory after iommu_reg_container_get()'s readers
 * @destroy_work: tears down when a netlink dump held the last reference
 */
struct iommu_reg_container {
	struct mutex lock; /* see above */
	struct iommu_domain *domain;
	struct list_head groups;
	unsigned int nr_groups;
	struct iommu_reg_iova_space iova;
	struct xarray regions;
	u32 next_handle;
	struct rb_root_cached region_tree;
	unsigned int nr_regions;
	u64 pinned_pages;
	struct rb_root_cached mapping_tree;
	u64 nr_mappings;
	u64 iova_hint;
	u64 mapping_seq;
	struct iommu_reg_notify_state *notify;
	u32 id;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	kuid_t uid;
	u32 vfio_type;
	struct list_head registry_node;
	struct list_head sva_bonds;
	struct list_head wcbars;
	struct list_head open_devs;
	refcount_t users;
	unsigned long cookie;
	struct hlist_node live_node;
	bool released;
	struct rcu_head rcu;
	struct work_struct destroy_work;
};

/**
 * struct iommu_reg_open_dev - a device of the container that VFIO has open
 * @node: entry in iommu_reg_container.open_devs
 * @dev: the device (struct vfio_device.dev); valid while registered
 */
struct iommu_reg_open_dev {
	struct list_head node;
	struct device *dev;
};

/**
 * struct iommu_reg_region - pinned, accounted user memory
 * @node: virtual range [start, last] in iommu_reg_container.region_tree
 * @handle: index in iommu_reg_container.regions
 * @flags: IOMMU_REG_REGION_*
 * @refs: registration references (IOMMU_REG_PREREG, IOMMU_REG_REGISTER)
 * @nr_user_mappings: mappings made with IOMMU_REG_MAP
 * @mappings: every struct iommu_reg_mapping of the region, in the order
 *	they were made (increasing iommu_reg_mapping.seq)
 * @nr_mappings: entries in @mappings
 * @free_node: entry in a list of regions to destroy after unlocking
 * @mm: the address space the pages were pinned from, grabbed so its
 *	pinned_vm can be uncharged whenever the region goes
 * @user: the user charged for the pages (locked_vm), referenced
 * @unmap_failed: an IOMMU unmap of the region's pages came up short: a
 *	device may still reach them, so they are never unpinned
 * @npages: pages in @pages
 * @pages: the pinned pages; immutable for the region's life
 * @notify: the container's notify object; immutable
 * @container: the container; immutable, outlives the region
 * @mni: watches [start, last] of @mm; inserted once pinned
 * @has_notifier: @mni is inserted
 * @stale: the range changed since the region was pinned; set by the
 *	notifier, never cleared
 * @has_slot: @slot and @generation are valid (under
 *	iommu_reg_notify_state.lock)
 * @slot: index of the region's generation in the status area
 * @generation: the slot's value when the region was published
 * @check_work: re-validates the suspect range once the MM has changed it
 *	(notify.c); cancelled before @mni is removed
 * @check_start: first byte of the suspect range (under
 *	iommu_reg_notify_state.lock, like the four fields after it)
 * @check_last: last byte of the suspect range
 * @check_event: the event that made the range suspect
 * @check_pending: @check_start..@check_last wait for @check_work
 * @check_queued: @check_work is queued or running, counted in
 *	iommu_reg_notify_state.checks
 * @dying: being destroyed: the notifier queues no more checks
 *
 * Unless noted, fields are protected by the container lock; @pages,
 * @npages, @mm, @notify, @slot and @generation are immutable once the
 * region is published.
 */
struct iommu_reg_region {
	struct interval_tree_node node;
	u32 handle;
	u32 flags;
	unsigned int refs;
	unsigned int nr_user_mappings;
	struct list_head mappings;
	u64 nr_mappings;
	struct list_head free_node;
	struct mm_struct *mm;
	struct user_struct *user;
	bool unmap_failed;
	unsigned long npages;
	struct page **pages;
	struct iommu_reg_notify_state *notify;
	struct iommu_reg_container *container;
	struct mmu_interval_notifier mni;
	bool has_notifier;
	bool stale;
	bool has_slot;
	u32 slot;
	u32 generation;
	struct work_struct check_work;
	unsigned long check_start;
	unsigned long check_last;
	enum mmu_notifier_event check_event;
	bool check_pending;
	bool check_queued;
	bool dying;
};

enum iommu_reg_mapping_kind {
	IOMMU_REG_MAPPING_USER,
	IOMMU_REG_MAPPING_AUTO,
	IOMMU_REG_MAPPING_TYPE1,
};

/**
 * struct iommu_reg_mapping - a range of a region at an IOVA
 * @node: IOVA range [start, last] in iommu_reg_container.mapping_tree
 * @region_node: entry in iommu_reg_region.mappings
 * @region: the region whose pages are mapped
 * @pgoff: first page of @region mapped
 * @prot: IOMMU_REG_PROT_*
 * @placement: IOMMU_REG_MAP_IOVA_* it was placed with (0: kernel-chosen)
 * @kind: who owns it; see mapping.c
 * @seq: unique in the container and increasing, so an undo removes this
 *	mapping only and a netlink dump resumes after the last one it sent
 *
 * Protected by the container lock.
 */
struct iommu_reg_mapping {
	struct interval_tree_node node;
	struct list_head region_node;
	struct iommu_reg_region *region;
	unsigned long pgoff;
	u32 prot;
	u32 placement;
	enum iommu_reg_mapping_kind kind;
	u64 seq;
};

/**
 * struct iommu_reg_ucmd - one ioctl call in flight
 * @container: the container the ioctl was issued on
 * @ubuffer: the user's argument struct
 * @user_size: the user's argsz
 * @cmd: kernel copy of the argument struct
 */
struct iommu_reg_ucmd {
	struct iommu_reg_container *container;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/**
 * iommu_reg_ucmd_respond - copy a command's output back to user space
 * @ucmd: the command in flight
 * @cmd_len: the kernel's size of the command struct
 *
 * Writes no more than the user's argsz, so an older program with a shorter
 * struct gets the fields it knows.
 *
 * Return: 0 or -EFAULT.
 */
static inline int iommu_reg_ucmd_respond(struct iommu_reg_ucmd *ucmd,
					 size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

/**
 * iommu_reg_ucmd_respond_fd - hand a new file to user space as an fd
 * @ucmd: the command in flight
 * @cmd_len: the kernel's size of the command struct
 * @fd: the command's output field for the fd
 * @file: the file, consumed: installed, or dropped on failure so that its
 *	release undoes what it owns
 *
 * The fd is installed only once the output has reached the caller: a
 * caller who cannot learn its number is left no fd.
 *
 * Return: 0 or a negative errno.
 */
static inline int iommu_reg_ucmd_respond_fd(struct iommu_reg_ucmd *ucmd,
					    size_t cmd_len, s32 *fd,
					    struct file *file)
{
	int ret = get_unused_fd_flags(O_CLOEXEC);

	if (ret < 0) {
		fput(file);
		return ret;
	}
	*fd = ret;
	ret = iommu_reg_ucmd_respond(ucmd, cmd_len);
	if (ret) {
		put_unused_fd(*fd);
		fput(file);
		return ret;
	}
	fd_install(*fd, file);
	return 0;
}

/* container.c */
void *iommu_reg_container_open(unsigned long arg);
void iommu_reg_container_release(void *iommu_data);
struct iommu_reg_container *iommu_reg_container_get(void *iommu_data);
bool iommu_reg_container_tryget(struct iommu_reg_container *c);
void iommu_reg_container_put(struct iommu_reg_container *c);
void iommu_reg_container_put_async(struct iommu_reg_container *c);
int iommu_reg_container_init(void);
void iommu_reg_container_exit(void);
int iommu_reg_container_attach_group(void *iommu_data,
				     struct iommu_group *group,
				     enum vfio_group_type type);
void iommu_reg_container_detach_group(void *iommu_data,
				      struct iommu_group *group);
struct iommu_domain *
iommu_reg_container_group_domain(void *iommu_data, struct iommu_group *group);
int iommu_reg_container_info(struct iommu_reg_ucmd *ucmd);
void iommu_reg_container_register_device(void *iommu_data,
					 struct vfio_device *vdev);
void iommu_reg_container_unregister_device(void *iommu_data,
					   struct vfio_device *vdev);
bool iommu_reg_container_dev_open(struct iommu_reg_container *c,
				  struct device *dev);

struct pci_dev *iommu_reg_container_find_pdev(struct iommu_reg_container *c,
					      u32 pci_domain, u32 pci_rid,
					      struct iommu_group **group);
struct pci_dev *iommu_reg_container_open_pdev(struct iommu_reg_container *c,
					      u32 pci_domain, u32 pci_rid,
					      struct iommu_group **group);
int iommu_reg_container_pdevs(struct iommu_reg_container *c,
			      struct pci_dev ***pdevs);
void iommu_reg_pdevs_put(struct pci_dev **pdevs, int n);

/* sva.c */
int iommu_reg_sva_info_ioctl(struct iommu_reg_ucmd *ucmd);
int iommu_reg_sva_bind_ioctl(struct iommu_reg_ucmd *ucmd);
int iommu_reg_sva_unbind_ioctl(struct iommu_reg_ucmd *ucmd);
void iommu_reg_sva_release_group(struct iommu_reg_container *c,
				 struct iommu_group *group);
void iommu_reg_sva_release_dev(struct iommu_reg_container *c,
			       struct device *dev);

/* wcbar.c */
int iommu_reg_wcbar_open(struct iommu_reg_ucmd *ucmd);
void iommu_reg_wcbar_revoke_group(struct iommu_reg_container *c,
				  struct iommu_group *group);
void iommu_reg_wcbar_revoke_dev(struct iommu_reg_container *c,
				struct device *dev);

/* iova.c */
int iommu_reg_iova_space_build(struct iommu_reg_container *c);
void iommu_reg_iova_space_destroy(struct iommu_reg_iova_space *space);
int iommu_reg_iova_claim(struct iommu_reg_container *c, u64 iova, u64 length);
int iommu_reg_iova_alloc(struct iommu_reg_container *c, u64 length, u64 vaddr,
			 u64 *iova);

/* region.c */
int iommu_reg_region_validate(u64 vaddr, u64 size);
unsigned int iommu_reg_region_limit(struct iommu_reg_container *c);
struct iommu_reg_region *
iommu_reg_region_find_exact(struct iommu_reg_container *c, unsigned long vaddr,
			    unsigned long last, u32 flags);
struct iommu_reg_region *
iommu_reg_region_find_covering(struct iommu_reg_container *c,
			       unsigned long vaddr, unsigned long last,
			       bool writable);
struct iommu_reg_region *iommu_reg_region_get(struct iommu_reg_container *c,
					      u32 handle);
bool iommu_reg_region_owned(const struct iommu_reg_region *r);
void iommu_reg_region_put_again(struct iommu_reg_container *c, u32 handle,
				struct iommu_reg_region *r,
				struct list_head *to_free);
struct iommu_reg_region *iommu_reg_region_alloc(struct iommu_reg_container *c,
						unsigned long vaddr,
						unsigned long size, u32 flags);
void iommu_reg_region_destroy(struct iommu_reg_region *r);
int iommu_reg_region_insert(struct iommu_reg_container *c,
			    struct iommu_reg_region *r,
			    struct iommu_reg_region **out,
			    struct iommu_reg_region **dup);
void iommu_reg_region_unlink(struct iommu_reg_container *c,
			     struct iommu_reg_region *r);
struct iommu_reg_region *
iommu_reg_region_get_or_create(struct iommu_reg_container *c, u64 vaddr,
			       u64 size, u32 flags, struct list_head *to_free);
void iommu_reg_region_release_if_unused(struct iommu_reg_container *c,
					struct iommu_reg_region *r,
					struct list_head *to_free);
void iommu_reg_region_destroy_list(struct list_head *to_free);
bool iommu_reg_region_check(struct iommu_reg_region *r, unsigned long start,
			    unsigned long last);
int iommu_reg_region_put(struct iommu_reg_container *c,
			 struct iommu_reg_region *r, bool unmap,
			 struct list_head *to_free);
int iommu_reg_region_prereg(struct iommu_reg_ucmd *ucmd);
int iommu_reg_region_unreg(struct iommu_reg_ucmd *ucmd);

/* mapping.c */
struct iommu_reg_mapping *
iommu_reg_mapping_create(struct iommu_reg_container *c,
			 struct iommu_reg_region *r, u64 offset, u64 length,
			 u32 prot, u32 placement,
			 enum iommu_reg_mapping_kind kind, u64 *iova);
struct iommu_reg_mapping *
iommu_reg_mapping_find_auto(struct iommu_reg_region *r, u32 prot, u32 placement,
			    u64 iova);
void iommu_reg_mapping_unmap_region(struct iommu_reg_container *c,
				    struct iommu_reg_region *r, bool user);
int iommu_reg_mapping_unmap_range(struct iommu_reg_container *c, u64 start,
				  u64 last, bool type1_v1, u64 *unmapped,
				  struct list_head *to_free);
void iommu_reg_mapping_destroy_all(struct iommu_reg_container *c);
int iommu_reg_mapping_map(struct iommu_reg_ucmd *ucmd);
int iommu_reg_mapping_unmap(struct iommu_reg_ucmd *ucmd);
int iommu_reg_mapping_register(struct iommu_reg_ucmd *ucmd);

/* notify.c */
struct iommu_reg_notify_state *iommu_reg_notify_create(u32 nr_slots);
void iommu_reg_notify_shutdown(struct iommu_reg_notify_state *n);
int iommu_reg_notify_slot_alloc(struct iommu_reg_notify_state *n,
				struct iommu_reg_region *r);
void iommu_reg_notify_slot_free(struct iommu_reg_notify_state *n,
				struct iommu_reg_region *r);
void iommu_reg_notify_invalidate(struct iommu_reg_notify_state *n,
				 struct iommu_reg_region *r,
				 enum mmu_notifier_event event);
void iommu_reg_notify_suspect(struct iommu_reg_notify_state *n,
			      struct iommu_reg_region *r,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq);
void iommu_reg_notify_check_work(struct work_struct *work);
void iommu_reg_notify_region_stop(struct iommu_reg_notify_state *n,
				  struct iommu_reg_region *r);
int iommu_reg_notify_open(struct iommu_reg_ucmd *ucmd);

/* container.c: the registry of containers, for the admin view */
void iommu_reg_registry_lock(void);
void iommu_reg_registry_unlock(void);
struct iommu_reg_container *iommu_reg_registry_first(u32 min_id);

/* stats.c */
#define IOMMU_REG_STAT_NR	(IOMMU_REG_STAT_MAX + 1)
void iommu_reg_stat_add(enum iommu_reg_stat stat, s64 delta);
void iommu_reg_stat_fail(int err);
u64 iommu_reg_stat_read(enum iommu_reg_stat stat);

/* netlink.c */
int iommu_reg_nl_init(void);
void iommu_reg_nl_exit(void);
void iommu_reg_nl_event(u8 cmd, const struct iommu_reg_region *r, u32 reason,
			u32 generation, gfp_t gfp);

/* type1.c */
long iommu_reg_type1_ioctl(struct iommu_reg_container *c, unsigned int cmd,
			   unsigned long arg);

#endif /* IOMMU_REG_PRIVATE_H */
