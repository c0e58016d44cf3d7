/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * iommu_reg: a VFIO IOMMU backend for pre-registered, pinned DMA buffers.
 *
 * A program selects this backend on a VFIO container exactly as it would
 * select type1:
 *
 *	ioctl(container, VFIO_SET_IOMMU, VFIO_IOMMU_REG);
 *
 * after which the container fd accepts the IOMMU_REG_* ioctls below.
 */
#ifndef _UAPI_LINUX_IOMMU_REG_H
#define _UAPI_LINUX_IOMMU_REG_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>

/**
 * DOC: Backend type number
 *
 * VFIO_IOMMU_REG is both the VFIO_CHECK_EXTENSION number that reports this
 * backend and the VFIO_SET_IOMMU argument that selects it.  It lies far
 * above the numbers upstream VFIO assigns (1 to 10 in Linux 6.1) so it
 * cannot collide with them.  The backend answers VFIO_CHECK_EXTENSION with
 * 1 for this number only, and 0 for every other, so that it never captures
 * a VFIO_SET_IOMMU meant for type1.
 *
 * In the drop-in mode (module parameter type1_compat=1, loaded after
 * vfio_iommu_type1) it also answers 1 for VFIO_TYPE1_IOMMU and
 * VFIO_TYPE1v2_IOMMU and opens containers selected with them: an
 * unmodified type1 program then runs on this backend, with type1 v1 or
 * v2 unmap semantics as it asked, and every IOMMU_REG_* ioctl works on its
 * container too.  The admin view reports the number a container was
 * opened with (IOMMU_REG_A_IOMMU_TYPE).
 */
#define VFIO_IOMMU_REG			0x4952

/**
 * DOC: Errno contract
 *
 * Every IOMMU_REG_* ioctl follows one contract.  The command struct starts
 * with @argsz (the size user space passes) and @flags.
 *
 * - ENOTTY: the command number is not one of ours.
 * - EINVAL: @argsz is smaller than the command's first published size; an
 *   unknown bit is set in @flags; a reserved field is not zero; a length is
 *   zero; an address or length is not aligned to the smallest IOMMU page.
 * - E2BIG: @argsz is larger than the kernel's struct and the extra tail is
 *   not all zero (a newer program asking for something this module does
 *   not know).
 * - EFAULT: a user pointer could not be read or written.
 * - EOVERFLOW: an address plus length wraps around, or a value does not fit
 *   the field that must carry it.
 * - ENOMEM: out of kernel memory; over RLIMIT_MEMLOCK (checked before
 *   anything is pinned, against what the calling *user* already has
 *   charged); or a range larger than the machine's memory.
 * - ENOENT: a handle or IOVA does not name an existing object.
 * - EBUSY: the object is still in use.
 * - EOPNOTSUPP: the request is well formed but the hardware or this
 *   configuration cannot honour it, or the memory cannot be long-term
 *   pinned (for example a DAX mapping).
 * - EPERM: a mapping asks for more access than its region allows (write
 *   to a read-only region); IOMMU_REG_WC_BAR without the privilege it
 *   needs.  VFIO_SET_IOMMU fails with EPERM for a group whose MSIs are not
 *   isolated (no interrupt remapping), as with type1, unless the module
 *   parameter allow_unsafe_interrupts is set.
 * - EAGAIN: the range changed while it was being pinned, three times in a
 *   row (memory being remapped under the call); retry.
 * - ENODEV: the container was released while the call was on its way in
 *   (another thread closed the last group); the device named is not open
 *   through VFIO (IOMMU_REG_SVA_BIND, IOMMU_REG_WC_BAR).
 * - EINTR: a fatal signal arrived while a large range was being pinned;
 *   nothing stays pinned.
 * - EEXIST: a fixed or identity IOVA overlaps an existing mapping.
 * - ERANGE: a fixed or identity IOVA lies outside the usable IOVA ranges
 *   (outside the aperture or inside a reserved region such as the MSI
 *   window).
 * - ENOSPC: the per-container region limit is reached, or no free IOVA
 *   range is large enough.
 * - EFAULT also covers user memory that is not mapped, is PROT_NONE, is an
 *   I/O or PFN mapping, or is read-only while the region asks for write,
 *   and a range that lies outside the user address space.
 *
 * A failing ioctl changes nothing: no partial state is left behind, with
 * one exception: a command whose result cannot be written back (EFAULT on
 * the final copy, because another thread unmapped the argument) has
 * already done its work.  IOMMU_REG_UNMAP and VFIO_IOMMU_UNMAP_DMA then
 * leave the range unmapped; commands that create something
 * (IOMMU_REG_PREREG, IOMMU_REG_MAP, IOMMU_REG_REGISTER, IOMMU_REG_SVA_BIND)
 * undo it.
 *
 * A larger @argsz than the kernel knows, with a zero tail, is accepted;
 * output is written up to the smaller of the two sizes.
 */

#define IOMMU_REG_TYPE		VFIO_TYPE
#define IOMMU_REG_BASE		0xc0

/**
 * struct iommu_reg_iova_range - an inclusive range of usable IOVA
 * @start: first usable IOVA
 * @last: last usable IOVA (inclusive, so that the top of a 64-bit space can
 *	be described)
 */
struct iommu_reg_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_reg_info - IOMMU_REG_INFO: describe the container's domain
 * @argsz: size of this struct as known to user space
 * @flags: must be zero
 * @num_groups: out: IOMMU groups attached to the container
 * @num_iova_ranges: in: entries available at @iova_ranges; out: entries the
 *	kernel has.  When the input is smaller, the first @num_iova_ranges
 *	entries are written and the call still succeeds, so a caller can
 *	size its array with a first call of zero.
 * @pgsize_bitmap: out: IOMMU page sizes the domain supports (bit n set
 *	means 2^n bytes)
 * @aperture_start: out: first IOVA the domain can translate
 * @aperture_last: out: last IOVA the domain can translate (inclusive)
 * @iova_ranges: in: user pointer to an array of struct iommu_reg_iova_range
 *	that receives the aperture minus every reserved region (MSI window,
 *	RMRR, ...) of every attached group, in ascending order
 * @max_regions: out: the region limit of a container (module parameter
 *	max_regions); registering past it fails with ENOSPC
 * @num_regions: out: regions registered in this container
 * @num_mappings: out: mappings in this container
 * @pinned_pages: out: pages this container holds pinned
 * @region_flags: out: IOMMU_REG_REGION_* flags this module accepts
 * @map_flags: out: IOMMU_REG_MAP_IOVA_* flags this module accepts
 * @unmap_flags: out: IOMMU_REG_UNMAP_* flags this module accepts
 * @unreg_flags: out: IOMMU_REG_UNREG_* flags this module accepts
 */
struct iommu_reg_info {
	__u32 argsz;
	__u32 flags;
	__u32 num_groups;
	__u32 num_iova_ranges;
	__aligned_u64 pgsize_bitmap;
	__aligned_u64 aperture_start;
	__aligned_u64 aperture_last;
	__aligned_u64 iova_ranges;
	__u32 max_regions;
	__u32 num_regions;
	__aligned_u64 num_mappings;
	__aligned_u64 pinned_pages;
	__u32 region_flags;
	__u32 map_flags;
	__u32 unmap_flags;
	__u32 unreg_flags;
};

/**
 * define IOMMU_REG_INFO - describe the container's domain
 *
 * Argument: struct iommu_reg_info.  VFIO routes container ioctls to the
 * backend only once VFIO_SET_IOMMU has attached at least one group, so a
 * domain always exists when this runs.
 */
#define IOMMU_REG_INFO		_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 0)

/**
 * DOC: Regions and mappings
 *
 * A *region* is a range of the caller's memory, pinned and accounted
 * against RLIMIT_MEMLOCK once (CAP_IPC_LOCK lifts the limit, not the
 * charge), and named by a *handle*.  Pre-registering the same range with
 * the same flags from the same process in the same container returns the
 * same handle and takes a reference: nothing is pinned twice.  (Another
 * process using the container, a forked child for one, registers its own
 * memory: the same addresses there are another region.)
 *
 * A *mapping* places a page-aligned range of a region at an IOVA in the
 * container's IOMMU domain.  Mapping costs IOMMU work only: the pages are
 * already pinned, the process page tables are not walked.  Physically
 * contiguous runs (THP, hugetlbfs) are mapped with the largest IOMMU page
 * sizes the domain supports.  A region may be mapped several times.
 *
 * Mappings are unmapped whole: an unmap range must cover every mapping it
 * touches entirely, or the call fails with EINVAL and nothing is unmapped.
 *
 * A region stays pinned until its last reference is dropped; dropping it
 * while mappings made with IOMMU_REG_MAP remain fails with EBUSY unless
 * IOMMU_REG_UNREG_UNMAP is given.  A mapping made by IOMMU_REG_REGISTER
 * belongs to the registration and goes with its last reference.  A
 * mapping made by VFIO_IOMMU_MAP_DMA holds its region itself: after the
 * last reference the handle is gone (ENOENT), but the pages stay pinned
 * until that mapping is unmapped.
 *
 * Closing the container (or the process exiting) unmaps, unpins and
 * unaccounts everything.
 */

/* Region flags, for IOMMU_REG_PREREG and IOMMU_REG_REGISTER. */
#define IOMMU_REG_REGION_READONLY	(1U << 0)

/* IOVA placement, for IOMMU_REG_MAP and IOMMU_REG_REGISTER. */
#define IOMMU_REG_MAP_IOVA_FIXED	(1U << 8)
#define IOMMU_REG_MAP_IOVA_IDENTITY	(1U << 9)

/* Device access to a mapping. */
#define IOMMU_REG_PROT_READ		(1U << 0)
#define IOMMU_REG_PROT_WRITE		(1U << 1)

/**
 * struct iommu_reg_prereg - IOMMU_REG_PREREG: pin and account user memory
 * @argsz: size of this struct as known to user space
 * @flags: IOMMU_REG_REGION_READONLY pins without write access; the
 *	region's mappings may then not be device-writable
 * @vaddr: start of the range, page aligned
 * @size: length of the range in bytes, page aligned, not zero
 * @handle: out: the region's handle, unique in the container
 * @refs: out: references on the region after this call; 1 means it was
 *	pinned by this call, more means an existing region was reused
 * @slot: out: index of the region's generation in the status area
 * @generation: out: the region's generation; while the status area's
 *	slot holds this value, the region is valid (see DOC: Invalidation)
 */
struct iommu_reg_prereg {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 vaddr;
	__aligned_u64 size;
	__u32 handle;
	__u32 refs;
	__u32 slot;
	__u32 generation;
};

/**
 * define IOMMU_REG_PREREG - pre-register (pin and account) a user range
 *
 * Argument: struct iommu_reg_prereg.  Anonymous memory, THP, hugetlbfs
 * and shmem/memfd can be registered.  Errors: EINVAL (flags, zero size,
 * misalignment), EOVERFLOW (vaddr + size wraps), EFAULT (memory not
 * mapped, PROT_NONE, VM_IO/VM_PFNMAP, or read-only without
 * IOMMU_REG_REGION_READONLY), EOPNOTSUPP (memory that cannot be pinned
 * long term), ENOMEM (over RLIMIT_MEMLOCK; nothing stays pinned), ENOSPC
 * (region limit).
 */
#define IOMMU_REG_PREREG	_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 1)

/**
 * struct iommu_reg_map - IOMMU_REG_MAP: map part of a region
 * @argsz: size of this struct as known to user space
 * @flags: IOVA placement: none for kernel-chosen, IOMMU_REG_MAP_IOVA_FIXED
 *	for @iova as given, IOMMU_REG_MAP_IOVA_IDENTITY for IOVA == the
 *	virtual address of the range
 * @handle: the region
 * @prot: IOMMU_REG_PROT_READ and/or IOMMU_REG_PROT_WRITE, at least one
 * @offset: offset into the region, page aligned
 * @length: bytes to map, page aligned, not zero, within the region
 * @iova: in: the IOVA with IOMMU_REG_MAP_IOVA_FIXED; out: the IOVA used.
 *	A kernel-chosen IOVA is congruent to the virtual address modulo the
 *	largest IOMMU page size not above @length, so huge pages map as
 *	huge IOMMU pages.
 */
struct iommu_reg_map {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 prot;
	__aligned_u64 offset;
	__aligned_u64 length;
	__aligned_u64 iova;
};

/**
 * define IOMMU_REG_MAP - map a range of a pre-registered region
 *
 * Argument: struct iommu_reg_map.  Errors: ENOENT (no such handle),
 * EINVAL (flags, prot, zero length, misalignment, beyond the region),
 * EOVERFLOW, EPERM (write on a read-only region, or a region another
 * process registered: see IOMMU_REG_UNREG), EEXIST (fixed/identity
 * IOVA in use), ERANGE (fixed/identity IOVA not usable), ENOSPC (no free
 * IOVA range).
 */
#define IOMMU_REG_MAP		_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 2)

/* Unmap every mapping of the container; @iova and @length must be 0. */
#define IOMMU_REG_UNMAP_ALL		(1U << 0)

/**
 * struct iommu_reg_unmap - IOMMU_REG_UNMAP: unmap whole mappings
 * @argsz: size of this struct as known to user space
 * @flags: 0 or IOMMU_REG_UNMAP_ALL
 * @iova: start of the range
 * @length: in: length of the range; out: bytes unmapped
 */
struct iommu_reg_unmap {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 iova;
	__aligned_u64 length;
};

/**
 * define IOMMU_REG_UNMAP - unmap every mapping inside a range
 *
 * Argument: struct iommu_reg_unmap.  Every mapping the range touches must
 * lie wholly inside it; there is no partial unmap.  Errors: EINVAL (flags,
 * zero length, misalignment, a mapping only partly inside), EOVERFLOW,
 * ENOENT (no mapping in the range), EPERM (a mapping of a region another
 * process registered, see IOMMU_REG_UNREG; nothing is unmapped; type1
 * mappings are anyone's).  IOMMU_REG_UNMAP_ALL on a container without
 * mappings succeeds with @length 0.
 */
#define IOMMU_REG_UNMAP		_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 3)

/* Unmap the region's remaining mappings when the last reference goes. */
#define IOMMU_REG_UNREG_UNMAP		(1U << 0)

/**
 * struct iommu_reg_unreg - IOMMU_REG_UNREG: drop a region reference
 * @argsz: size of this struct as known to user space
 * @flags: 0 or IOMMU_REG_UNREG_UNMAP
 * @handle: the region
 * @__reserved: must be zero
 */
struct iommu_reg_unreg {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 __reserved;
};

/**
 * define IOMMU_REG_UNREG - drop a reference on a region
 *
 * Argument: struct iommu_reg_unreg.  The last reference frees the handle
 * and unpins and unaccounts the region, unless type1 mappings still use
 * it (then when the last of them is unmapped).  Errors: ENOENT (no such
 * handle, including a second unregister), EBUSY (last reference while
 * mappings made by IOMMU_REG_MAP remain, without IOMMU_REG_UNREG_UNMAP;
 * nothing changes), EINVAL, EPERM (the region pins another process's
 * memory: only that process may unregister it, or anyone once it exited.
 * A child after fork() holds the container fd too, but the parent's
 * registrations map the parent's pages, not the child's copies).
 */
#define IOMMU_REG_UNREG		_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 4)

/**
 * struct iommu_reg_register - IOMMU_REG_REGISTER: pre-register and map
 * @argsz: size of this struct as known to user space
 * @flags: IOMMU_REG_REGION_* and IOMMU_REG_MAP_IOVA_* flags
 * @vaddr: start of the range, page aligned
 * @size: length, page aligned, not zero
 * @prot: IOMMU_REG_PROT_* for the mapping
 * @handle: out: the region's handle
 * @iova: in: the IOVA with IOMMU_REG_MAP_IOVA_FIXED; out: the IOVA of the
 *	whole range
 * @slot: out: as for struct iommu_reg_prereg
 * @generation: out: as for struct iommu_reg_prereg
 */
struct iommu_reg_register {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 vaddr;
	__aligned_u64 size;
	__u32 prot;
	__u32 handle;
	__aligned_u64 iova;
	__u32 slot;
	__u32 generation;
};

/**
 * define IOMMU_REG_REGISTER - pre-register a range and map all of it
 *
 * Argument: struct iommu_reg_register.  The common path: one call gives
 * a handle and an IOVA.  Registering the same range, flags and prot again
 * returns the same handle and IOVA and takes a reference; the mapping is
 * removed with the last IOMMU_REG_UNREG.  Errors: those of
 * IOMMU_REG_PREREG and IOMMU_REG_MAP; on failure nothing stays pinned or
 * mapped.
 */
#define IOMMU_REG_REGISTER	_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 5)

/**
 * DOC: Invalidation
 *
 * Every region watches its virtual range.  When what the range maps
 * changes (munmap, mremap, mmap MAP_FIXED over it, madvise MADV_DONTNEED
 * or MADV_FREE, truncation of a shared file, process exit) the region
 * becomes *stale*: its generation in the status area moves on and an
 * event is queued on the container's notify fd.  Changes of protection
 * (mprotect, NUMA hinting, the write-protection fork applies) leave the
 * region valid: its pages stay the same.  So does everything that
 * touches the page tables but puts the same pinned pages back: a
 * transparent huge page split (fork, or mprotect of part of it), and
 * reclaim, migration or KSM giving up on a pinned page.  For these the
 * kernel re-checks, once the change is done, that every page of the
 * range still maps the page the region pinned.
 *
 * When: a change the process makes to its own memory (a system call of
 * one of its threads) is in the status area, and its event queued, when
 * that system call returns.  A change made by a kernel thread (reclaim,
 * KSM) or by another process (truncating or punching a hole in a shared
 * file) is reported asynchronously, typically within a millisecond, with
 * no hard bound.
 *
 * False positives remain where the check cannot see that the same page
 * will come back: a pinned page of a shared file or shmem mapping that
 * reclaim (MADV_PAGEOUT) unmapped, or that a migration holds unmapped
 * when the check runs; a range without read access when the change comes.
 * These regions go stale although their pages did not change: register
 * the range again.  A region never stays valid after its pages changed.
 *
 * A stale region keeps its pins and its IOVA mappings until its owner
 * unregisters it, so DMA in flight stays safe: the device keeps reaching
 * the old pages, which are no longer the process's memory at that
 * address.  Registering the same range again gives a new region with the
 * new pages; a stale region is never handed out again.
 *
 * The status area is mapped read-only from the notify fd.  It starts with
 * struct iommu_reg_status; at @slot_offset follows an array of __u32
 * generations, one per slot.  A registration returns its slot and
 * generation; the region is valid exactly while
 *
 *	READ_ONCE(gens[slot]) == generation
 *
 * which is one load and a compare, no system call.  A slot's value only
 * grows: it moves on when its region is created, invalidated or freed,
 * so a cached registration never matches a later region in the same slot.
 *
 * read() on the notify fd returns whole struct iommu_reg_event records.
 * The queue is bounded; when it overflows, events are dropped, counted in
 * iommu_reg_status.events_lost, and the next read starts with an
 * IOMMU_REG_EVENT_RESYNC record: the consumer must then check every
 * registration against the status area.  A consumer can always learn
 * that something changed.  poll() reports POLLIN when a record is
 * waiting and POLLHUP once the container's backend is released.
 */

#define IOMMU_REG_STATUS_MAGIC		0x69726773	/* "irgs" */

/**
 * struct iommu_reg_status - header of the status area
 * @magic: IOMMU_REG_STATUS_MAGIC
 * @version: 1
 * @slot_offset: byte offset of the __u32 generation array
 * @nr_slots: entries in the generation array (the container's
 *	max_regions when the notify fd was opened)
 * @invalidations: regions invalidated in this container, ever
 * @events_lost: events dropped because the queue was full
 */
struct iommu_reg_status {
	__u32 magic;
	__u32 version;
	__u32 slot_offset;
	__u32 nr_slots;
	__aligned_u64 invalidations;
	__aligned_u64 events_lost;
};

/* Event types. */
#define IOMMU_REG_EVENT_INVALIDATE	1
#define IOMMU_REG_EVENT_RESYNC		2

/* Why a region was invalidated. */
#define IOMMU_REG_REASON_UNMAP		1	/* munmap, mremap, MAP_FIXED */
#define IOMMU_REG_REASON_CLEAR		2	/* madvise, truncate, zap; re-checked */
#define IOMMU_REG_REASON_EXIT		3	/* the address space went away */
#define IOMMU_REG_REASON_OTHER		4	/* migration and the rest */

/**
 * struct iommu_reg_event - a record read from the notify fd
 * @type: IOMMU_REG_EVENT_*
 * @reason: IOMMU_REG_REASON_* for INVALIDATE; 0 for RESYNC
 * @handle: the region (0 for RESYNC)
 * @generation: the region's slot value after the invalidation
 * @vaddr: start of the region
 * @length: length of the region; for RESYNC, events lost so far
 */
struct iommu_reg_event {
	__u32 type;
	__u32 reason;
	__u32 handle;
	__u32 generation;
	__aligned_u64 vaddr;
	__aligned_u64 length;
};

/**
 * struct iommu_reg_notify - IOMMU_REG_NOTIFY: open the notify fd
 * @argsz: size of this struct as known to user space
 * @flags: must be zero
 * @queue_len: in: records the event queue holds, 0 for the default
 *	(16384); out: the length used
 * @fd: out: the notify fd (close-on-exec)
 * @status_size: out: bytes of the status area, to mmap(PROT_READ,
 *	MAP_SHARED) at offset 0
 */
struct iommu_reg_notify {
	__u32 argsz;
	__u32 flags;
	__u32 queue_len;
	__s32 fd;
	__aligned_u64 status_size;
};

/**
 * define IOMMU_REG_NOTIFY - open the container's notify fd
 *
 * Argument: struct iommu_reg_notify.  One notify fd per container: a
 * second call fails with EBUSY while the first fd is open.  Errors:
 * EINVAL (flags, queue_len above 1048576), EBUSY, ENOMEM.  The status
 * area can be mapped only read-only (EACCES for PROT_WRITE or a
 * writable shared mapping).
 */
#define IOMMU_REG_NOTIFY	_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 6)

/**
 * DOC: Shared virtual addressing (SVA)
 *
 * A device that speaks PCI PASID, with PRI (page requests) and ATS, behind
 * an IOMMU that can walk CPU page tables, can reach the caller's memory at
 * its CPU addresses: IOMMU_REG_SVA_BIND binds the caller's address space
 * (its mm) to the device and returns the PASID the device must tag its
 * requests with.  Faults are served by the IOMMU and the kernel's page
 * fault path; nothing is pinned.
 *
 * IOMMU_REG_SVA_INFO reports, for each device of the container, every
 * piece SVA needs, as the kernel sees it: the PCI capabilities, the ACS
 * state of the path to the root, whether the IOMMU driver implements SVA,
 * and the result of actually enabling the IOMMU's per-device IOPF and SVA
 * features (disabled again at once).  @missing names the pieces that keep
 * IOMMU_REG_SVA_BIND from working; when it is not zero, bind fails with
 * EOPNOTSUPP without touching the device.
 *
 * Devices are named by PCI address: @pci_domain (segment) and @pci_rid
 * (bus << 8 | devfn), see IOMMU_REG_PCI_RID().  A device that is not in
 * one of the container's groups is ENOENT.
 *
 * A binding belongs to the container and holds the mm (not its pages):
 * when the container's group with the device leaves the container, or the
 * container is released (close, process exit), the binding is undone.
 * One binding per device and container.
 *
 * Debian's Linux 6.1 refuses SVA on x86 in iommu_sva_bind_device() with
 * EOPNOTSUPP (a stable-series change), whatever the hardware: there the
 * bind attempt reaches the kernel API and returns its EOPNOTSUPP.
 */

/* PCI requester id of bus and devfn, as in @pci_rid. */
#define IOMMU_REG_PCI_RID(bus, devfn)	(((bus) & 0xff) << 8 | ((devfn) & 0xff))

/* Bits of iommu_reg_sva_device.caps and .missing. */
#define IOMMU_REG_SVA_CAP_PASID		(1U << 0)
#define IOMMU_REG_SVA_CAP_PRI		(1U << 1)
#define IOMMU_REG_SVA_CAP_ATS		(1U << 2)
#define IOMMU_REG_SVA_CAP_ACS_PATH	(1U << 3)
#define IOMMU_REG_SVA_CAP_TLP_PREFIX	(1U << 4)
#define IOMMU_REG_SVA_CAP_IOMMU_SVA	(1U << 5)
#define IOMMU_REG_SVA_CAP_IOPF		(1U << 6)
#define IOMMU_REG_SVA_CAP_SVA		(1U << 7)
#define IOMMU_REG_SVA_CAP_BOUND		(1U << 8)

/**
 * struct iommu_reg_sva_device - SVA capabilities of one device (output)
 * @pci_domain: PCI domain (segment) of the device
 * @pci_rid: bus << 8 | devfn
 * @caps: IOMMU_REG_SVA_CAP_* that hold:
 *
 *	- PASID: the device has a PCI PASID capability;
 *	- PRI: it has a Page Request Interface capability;
 *	- ATS: it has an ATS capability;
 *	- ACS_PATH: every bridge from the device to the root has ACS Request
 *	  Redirect and Upstream Forwarding enabled (PCI_ACS_RR | PCI_ACS_UF,
 *	  what the kernel's PASID enable requires from Linux 6.2 on), judged
 *	  the way pci_acs_path_enabled() does, without its device quirks;
 *	- TLP_PREFIX: the path carries End-End TLP prefixes, or the device
 *	  uses PASID without them (what Linux 6.1's pci_enable_pasid() needs);
 *	- IOMMU_SVA: the device's IOMMU driver implements SVA binding;
 *	- IOPF: enabling IOMMU_DEV_FEAT_IOPF for the device succeeded;
 *	- SVA: enabling IOMMU_DEV_FEAT_SVA (after IOPF) succeeded;
 *	- BOUND: this container has the device bound (IOMMU_REG_SVA_BIND).
 * @missing: the IOMMU_REG_SVA_CAP_* bits among PASID, PRI, ATS,
 *	IOMMU_SVA, IOPF and SVA that are not in @caps; bind needs all six
 * @pasid_width: PASID bits the device supports (its PASID capability's
 *	Max PASID Width); 0 without PASID
 * @pasid_features: the Execute (bit 1) and Privileged (bit 2) mode bits
 *	of the PASID capability register
 * @iopf_errno: 0, or the positive errno iommu_dev_enable_feature(IOPF)
 *	returned
 * @sva_errno: 0, or the positive errno iommu_dev_enable_feature(SVA)
 *	returned; IOPF is enabled first, as the SVA API requires, and the
 *	attempt is made even when IOPF failed, to report what the IOMMU says.
 *	Both are EBUSY for a device the caller has not opened through VFIO:
 *	its features are then neither tried nor changed.  Kernels without
 *	per-device IOMMU features (about Linux 6.16 on) enable them when
 *	the SVA domain attaches; there @iopf_errno is ENODEV unless the
 *	IOMMU driver handles page faults and the device has PRI, @sva_errno
 *	ENODEV unless the driver has SVA domains and the device has PASID
 *	(whether the IOMMU instance can do SVA, only the bind then tells).
 * @pasid: the bound PASID when BOUND is set, otherwise 0
 * @__reserved: zero
 */
struct iommu_reg_sva_device {
	__u32 pci_domain;
	__u32 pci_rid;
	__u32 caps;
	__u32 missing;
	__u32 pasid_width;
	__u32 pasid_features;
	__s32 iopf_errno;
	__s32 sva_errno;
	__u32 pasid;
	__u32 __reserved;
};

/* Report only the device at @pci_domain, @pci_rid. */
#define IOMMU_REG_SVA_INFO_DEVICE	(1U << 0)

/**
 * struct iommu_reg_sva_info - IOMMU_REG_SVA_INFO: SVA capabilities
 * @argsz: size of this struct as known to user space
 * @flags: 0 for every device of the container, or
 *	IOMMU_REG_SVA_INFO_DEVICE for one
 * @pci_domain: with IOMMU_REG_SVA_INFO_DEVICE, the device's PCI domain;
 *	otherwise zero
 * @pci_rid: with IOMMU_REG_SVA_INFO_DEVICE, the device's bus << 8 | devfn;
 *	otherwise zero
 * @num_devices: in: entries available at @devices; out: devices the
 *	kernel has to report.  When the input is smaller, the first
 *	@num_devices entries are written and the call still succeeds.
 * @entry_size: in: the size of one entry at @devices as user space knows
 *	struct iommu_reg_sva_device, at least its first published size (40);
 *	the kernel writes min(@entry_size, its size) bytes per entry and
 *	zeroes the rest of a larger entry
 * @devices: in: user pointer to the array of entries, in group and then
 *	device order
 */
struct iommu_reg_sva_info {
	__u32 argsz;
	__u32 flags;
	__u32 pci_domain;
	__u32 pci_rid;
	__u32 num_devices;
	__u32 entry_size;
	__aligned_u64 devices;
};

/**
 * define IOMMU_REG_SVA_INFO - report the SVA capabilities of devices
 *
 * Argument: struct iommu_reg_sva_info.  Errors: EINVAL (flags, a PCI
 * address without IOMMU_REG_SVA_INFO_DEVICE, @entry_size below 40),
 * ENOENT (no such device in the container), EFAULT.
 */
#define IOMMU_REG_SVA_INFO	_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 7)

/**
 * struct iommu_reg_sva_bind - IOMMU_REG_SVA_BIND: bind the caller's mm
 * @argsz: size of this struct as known to user space
 * @flags: must be zero
 * @pci_domain: the device's PCI domain
 * @pci_rid: the device's bus << 8 | devfn
 * @pasid: out: the PASID the device uses to reach the caller's memory
 * @__reserved: must be zero
 */
struct iommu_reg_sva_bind {
	__u32 argsz;
	__u32 flags;
	__u32 pci_domain;
	__u32 pci_rid;
	__u32 pasid;
	__u32 __reserved;
};

/**
 * define IOMMU_REG_SVA_BIND - bind the caller's address space to a device
 *
 * Argument: struct iommu_reg_sva_bind.  Errors, in the order they are
 * checked: EINVAL (flags, reserved), ENOENT (no such device in the
 * container), EEXIST (the device is already bound in this container),
 * ENODEV (the caller has not opened the device through VFIO),
 * EOPNOTSUPP (IOMMU_REG_SVA_INFO reports a @missing piece; or enabling
 * the IOPF or SVA feature failed; or the kernel's SVA API refused, as
 * Debian's 6.1 does on every x86 machine; or it gave no PASID), and any
 * other error of iommu_sva_bind_device() as it is (ENOMEM, ENOSPC when
 * PASIDs are exhausted, EINVAL for a group of several devices).  Nothing
 * stays enabled or bound after a failure.
 */
#define IOMMU_REG_SVA_BIND	_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 8)

/**
 * struct iommu_reg_sva_unbind - IOMMU_REG_SVA_UNBIND: undo a binding
 * @argsz: size of this struct as known to user space
 * @flags: must be zero
 * @pci_domain: the device's PCI domain
 * @pci_rid: the device's bus << 8 | devfn
 */
struct iommu_reg_sva_unbind {
	__u32 argsz;
	__u32 flags;
	__u32 pci_domain;
	__u32 pci_rid;
};

/**
 * define IOMMU_REG_SVA_UNBIND - unbind a device bound by this container
 *
 * Argument: struct iommu_reg_sva_unbind.  The device must have stopped
 * using the PASID.  Errors: EINVAL (flags), ENOENT (no such device in
 * the container, or the device is not bound).
 */
#define IOMMU_REG_SVA_UNBIND	_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 9)

/**
 * DOC: Write-combining BAR mappings
 *
 * vfio-pci maps BARs uncached.  IOMMU_REG_WC_BAR gives a file descriptor
 * whose mmap() maps a window of a memory BAR of a device in the container
 * write-combining: stores may be merged and posted in bursts, which suits
 * PIO send paths and doorbells.  Order them with a store fence (sfence on
 * x86) where the device needs an order or a flush.
 *
 * The window is [@offset, @offset + @length) of the BAR; mmap() offset 0
 * of the fd is BAR offset @offset.  Only MAP_SHARED mappings are allowed
 * (EINVAL otherwise), and only inside the window (EINVAL).  The kernel
 * reserves the physical range as write-combining in the x86 PAT memtype
 * list for the fd's lifetime.  If the range already has another memory
 * type (a vfio-pci mmap of the same BAR that was touched first), PAT keeps
 * the older type and the mapping gets it: map WC before using the BAR
 * through vfio-pci.  A vfio-pci mapping made later gets write-combining
 * too.
 *
 * Privilege: the caller needs CAP_SYS_RAWIO, and the kernel must not be
 * locked down against PCI access; otherwise the ioctl fails with EPERM
 * and leaves nothing behind.  This is the trust model of sysfs
 * resourceN_wc and /proc/bus/pci mmap, so the fd grants nothing its
 * holder could not map already.  vfio-pci zaps its own BAR mappings when
 * the user turns memory decoding off (PCI_COMMAND_MEMORY through config
 * space), puts the device in D3hot or resets it, because an access to a
 * BAR that does not decode can end in a fatal error (AER, NMI, machine
 * check) on many platforms; it does not zap this fd's mappings, and no
 * kernel tells the module about those events.  A page first touched while
 * decoding is off or the device is in D3hot raises SIGBUS, but pages
 * already mapped stay: the caller must not disable decoding, enter D3hot
 * or reset the device while it uses the mapping.  The capability is
 * checked at the ioctl only; the fd may be passed on.
 *
 * The device must be open through VFIO (a device fd from
 * VFIO_GROUP_GET_DEVICE_FD, which enables memory decoding): for a device
 * of the container that is not open the ioctl fails with ENODEV.
 *
 * Revocation: when the device is closed (its last device fd), its group
 * leaves the container, or the container is released, the fd is revoked:
 * its mappings are zapped and any later access raises SIGBUS; the fd
 * stays open until closed, but mmap() on it fails with ENODEV.
 *
 * A WC mapping of a BAR that is not prefetchable is allowed (the QEMU edu
 * test device has only such a BAR), but reads through it may be
 * speculative: use it for stores, as PIO paths do.
 */

/**
 * struct iommu_reg_wc_bar - IOMMU_REG_WC_BAR: a write-combining BAR fd
 * @argsz: size of this struct as known to user space
 * @flags: must be zero
 * @pci_domain: the device's PCI domain
 * @pci_rid: the device's bus << 8 | devfn
 * @bar: BAR index, 0 to 5
 * @fd: out: the fd to mmap (close-on-exec)
 * @offset: start of the window in the BAR, page aligned
 * @length: in: bytes of the window, page aligned, 0 for the rest of the
 *	BAR; out: bytes of the window
 * @bar_size: out: size of the BAR
 */
struct iommu_reg_wc_bar {
	__u32 argsz;
	__u32 flags;
	__u32 pci_domain;
	__u32 pci_rid;
	__u32 bar;
	__s32 fd;
	__aligned_u64 offset;
	__aligned_u64 length;
	__aligned_u64 bar_size;
};

/**
 * define IOMMU_REG_WC_BAR - open a write-combining mapping fd of a BAR
 *
 * Argument: struct iommu_reg_wc_bar.  Errors: EPERM (no CAP_SYS_RAWIO,
 * or the kernel is locked down; checked first), EINVAL (flags, @bar above
 * 5, @offset or @length not page aligned), ENOENT (no such device in the
 * container, or the BAR is not implemented), ENODEV (the device is not
 * open through VFIO), EOPNOTSUPP (an I/O port
 * BAR, or a BAR whose address or size is not page aligned), ERANGE
 * (@offset or @offset + @length beyond the BAR), EOVERFLOW (@offset +
 * @length wraps), EBUSY (PAT refused the write-combining reservation),
 * EMFILE, ENOMEM.
 */
#define IOMMU_REG_WC_BAR	_IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 10)

#endif /* _UAPI_LINUX_IOMMU_REG_H */
