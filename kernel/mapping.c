// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mapping: a page range of a region placed at an IOVA in the container's
 * IOMMU domain.
 *
 * Mapping is IOMMU work only: the region's pages are already pinned, so
 * nothing walks the process page tables.  Physically contiguous runs of
 * pages are handed to iommu_map() whole, which maps them with the largest
 * page sizes the domain supports whose alignment the IOVA and physical
 * address share.  A kernel-chosen IOVA is therefore made congruent to the
 * virtual address modulo the largest page size not above the length: a
 * THP or hugetlbfs page then maps as one IOMMU superpage.
 *
 * Three kinds of mapping share one IOVA space:
 *  - IOMMU_REG_MAPPING_USER: made by IOMMU_REG_MAP, unmapped by the caller;
 *  - IOMMU_REG_MAPPING_AUTO: made by IOMMU_REG_REGISTER, owned by the region's
 *    registration references and removed with the last of them;
 *  - IOMMU_REG_MAPPING_TYPE1: made by VFIO_IOMMU_MAP_DMA; it keeps its region
 *    alive without a registration reference.
 *
 * Mappings are unmapped whole: a range that cuts one fails and changes
 * nothing (in a type1 v1 container, VFIO_IOMMU_UNMAP_DMA follows type1
 * v1 instead: see iommu_reg_mapping_unmap_range()).  All functions here run
 * under the container lock.
 */
#include <linux/debugfs.h>
#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "iommu_reg_compat.h"
#include "iommu_reg.h"

static bool iommu_reg_audit_unmap;
module_param_named(audit_unmap, iommu_reg_audit_unmap, bool, 0644);
MODULE_PARM_DESC(audit_unmap,
		 "Unmap page by page as the IOMMU driver reports its leaf pages and count them by size in debugfs iommu_reg/audit (slow; for tests)");

atomic64_t iommu_reg_audit_pages[IOMMU_REG_AUDIT_NR];

static int iommu_reg_iommu_prot(u32 prot)
{
	int iommu_prot = IOMMU_CACHE;

	if (prot & IOMMU_REG_PROT_READ)
		iommu_prot |= IOMMU_READ;
	if (prot & IOMMU_REG_PROT_WRITE)
		iommu_prot |= IOMMU_WRITE;
	return iommu_prot;
}

static unsigned long iommu_reg_mapping_npages(const struct iommu_reg_mapping *m)
{
	return (m->node.last - m->node.start + 1) >> PAGE_SHIFT;
}

/* Map the pages of @m at its IOVA, one iommu_map() per contiguous run. */
static int iommu_reg_mapping_program(struct iommu_reg_container *c,
				     struct iommu_reg_mapping *m)
{
	struct page **pages = m->region->pages + m->pgoff;
	unsigned long npages = iommu_reg_mapping_npages(m);
	int prot = iommu_reg_iommu_prot(m->prot);
	unsigned long i = 0;
	int ret;

	while (i < npages) {
		phys_addr_t phys = page_to_phys(pages[i]);
		unsigned long run = 1;

		while (i + run < npages &&
		       page_to_phys(pages[i + run]) ==
		       phys + ((phys_addr_t)run << PAGE_SHIFT))
			run++;

		ret = iommu_reg_iommu_map(c->domain,
					  m->node.start + (i << PAGE_SHIFT),
					  phys, run << PAGE_SHIFT, prot);
		if (ret) {
			if (i && iommu_unmap(c->domain, m->node.start,
					     i << PAGE_SHIFT) != i << PAGE_SHIFT)
				m->region->unmap_failed = true;
			return ret;
		}
		i += run;
		/* Millions of runs for a large scattered region. */
		cond_resched();
	}
	return 0;
}

/* The audit counter of leaf pages of @pgsize bytes. */
static atomic64_t *iommu_reg_audit_counter(size_t pgsize)
{
	switch (pgsize) {
	case SZ_4K:
		return &iommu_reg_audit_pages[IOMMU_REG_AUDIT_4K];
	case SZ_2M:
		return &iommu_reg_audit_pages[IOMMU_REG_AUDIT_2M];
	case SZ_1G:
		return &iommu_reg_audit_pages[IOMMU_REG_AUDIT_1G];
	default:
		return &iommu_reg_audit_pages[IOMMU_REG_AUDIT_OTHER];
	}
}

/*
 * Unmap asking for the smallest page each time: the IOMMU driver removes
 * and reports the whole leaf page that holds the IOVA, so the sizes it
 * returns are the real page-table entries.
 */
static size_t iommu_reg_mapping_unprogram_audit(struct iommu_reg_container *c,
						struct iommu_reg_mapping *m)
{
	size_t min_pgsize = 1UL << __ffs(c->domain->pgsize_bitmap);
	struct iommu_iotlb_gather gather;
	u64 iova = m->node.start;

	iommu_iotlb_gather_init(&gather);
	while (iova <= m->node.last) {
		size_t done = iommu_unmap_fast(c->domain, iova, min_pgsize,
					       &gather);

		if (!done)
			break;
		atomic64_inc(iommu_reg_audit_counter(done));
		iova += done;
	}
	iommu_iotlb_sync(c->domain, &gather);
	return iova - m->node.start;
}

/*
 * Remove a mapping from the IOMMU.  Pages the IOMMU driver did not report
 * unmapped may still be reachable by a device: their region is marked so
 * that it never unpins them (iommu_reg_region_destroy() leaks them, warning).
 */
static void iommu_reg_mapping_unprogram(struct iommu_reg_container *c,
					struct iommu_reg_mapping *m)
{
	size_t size = m->node.last - m->node.start + 1;
	size_t done;

	if (READ_ONCE(iommu_reg_audit_unmap))
		done = iommu_reg_mapping_unprogram_audit(c, m);
	else
		done = iommu_unmap(c->domain, m->node.start, size);
	if (done != size)
		m->region->unmap_failed = true;
}

/**
 * iommu_reg_mapping_create - map pages of a region at an IOVA
 * @c: container, locked
 * @r: the region
 * @offset: page-aligned byte offset into @r
 * @length: page-aligned length, not zero, within @r
 * @prot: IOMMU_REG_PROT_* (validated by the caller)
 * @placement: 0, IOMMU_REG_MAP_IOVA_FIXED or IOMMU_REG_MAP_IOVA_IDENTITY
 * @kind: IOMMU_REG_MAPPING_*
 * @iova: in: the fixed IOVA; out: the IOVA used
 *
 * Return: the mapping or an ERR_PTR; on error nothing is mapped.
 */
struct iommu_reg_mapping *
iommu_reg_mapping_create(struct iommu_reg_container *c,
			 struct iommu_reg_region *r, u64 offset, u64 length,
			 u32 prot, u32 placement,
			 enum iommu_reg_mapping_kind kind, u64 *iova)
{
	u64 vaddr = r->node.start + offset;
	struct iommu_reg_mapping *m;
	int ret;

	lockdep_assert_held(&c->lock);

	if ((prot & IOMMU_REG_PROT_WRITE) &&
	    (r->flags & IOMMU_REG_REGION_READONLY))
		return ERR_PTR(-EPERM);
	/*
	 * Every mapping costs kernel memory and IOMMU page tables that no
	 * limit charges: beyond max_mappings, each one needs a pinned (and
	 * so charged) page of its own, so a caller with one page cannot
	 * fill the IOVA space with mappings of it.
	 */
	if (c->nr_mappings >=
	    max_t(u64, READ_ONCE(iommu_reg_max_mappings), c->pinned_pages))
		return ERR_PTR(-ENOSPC);

	switch (placement) {
	case IOMMU_REG_MAP_IOVA_FIXED:
		ret = iommu_reg_iova_claim(c, *iova, length);
		break;
	case IOMMU_REG_MAP_IOVA_IDENTITY:
		*iova = vaddr;
		ret = iommu_reg_iova_claim(c, *iova, length);
		break;
	default:
		ret = iommu_reg_iova_alloc(c, length, vaddr, iova);
		break;
	}
	if (ret)
		return ERR_PTR(ret);

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->node.start = *iova;
	m->node.last = *iova + length - 1;
	m->region = r;
	m->pgoff = offset >> PAGE_SHIFT;
	m->prot = prot;
	m->placement = placement;
	m->kind = kind;
	m->seq = ++c->mapping_seq;

	ret = iommu_reg_mapping_program(c, m);
	if (ret) {
		kfree(m);
		return ERR_PTR(ret);
	}

	interval_tree_insert(&m->node, &c->mapping_tree);
	list_add_tail(&m->region_node, &r->mappings);
	r->nr_mappings++;
	if (kind == IOMMU_REG_MAPPING_USER)
		r->nr_user_mappings++;
	c->nr_mappings++;
	iommu_reg_stat_add(IOMMU_REG_STAT_MAPPINGS, 1);
	iommu_reg_stat_add(IOMMU_REG_STAT_MAPPED_BYTES, length);
	return m;
}

/* Take a mapping out of every structure and free it; no IOMMU work. */
static void iommu_reg_mapping_free(struct iommu_reg_container *c,
				   struct iommu_reg_mapping *m)
{
	interval_tree_remove(&m->node, &c->mapping_tree);
	list_del(&m->region_node);
	m->region->nr_mappings--;
	if (m->kind == IOMMU_REG_MAPPING_USER)
		m->region->nr_user_mappings--;
	c->nr_mappings--;
	iommu_reg_stat_add(IOMMU_REG_STAT_MAPPINGS, -1);
	iommu_reg_stat_add(IOMMU_REG_STAT_MAPPED_BYTES,
			   -(s64)(m->node.last - m->node.start + 1));
	kfree(m);
}

/* Unmap and free one mapping; the caller decides the region's fate. */
static void iommu_reg_mapping_remove(struct iommu_reg_container *c,
				     struct iommu_reg_mapping *m)
{
	lockdep_assert_held(&c->lock);

	iommu_reg_mapping_unprogram(c, m);
	iommu_reg_mapping_free(c, m);
}

/**
 * iommu_reg_mapping_unmap_region - remove a region's registration mappings
 * @c: container, locked
 * @r: the region, whose last registration reference is going
 * @user: also remove the mappings made with IOMMU_REG_MAP
 *
 * Type1 mappings stay: they hold the region themselves.
 */
void iommu_reg_mapping_unmap_region(struct iommu_reg_container *c,
				    struct iommu_reg_region *r, bool user)
{
	struct iommu_reg_mapping *m, *tmp;

	list_for_each_entry_safe(m, tmp, &r->mappings, region_node) {
		if (m->kind == IOMMU_REG_MAPPING_AUTO ||
		    (user && m->kind == IOMMU_REG_MAPPING_USER)) {
			iommu_reg_mapping_remove(c, m);
			cond_resched();
		}
	}
}

/**
 * iommu_reg_mapping_find_auto - a registration mapping to reuse
 * @r: the region
 * @prot: protection wanted
 * @placement: placement wanted
 * @iova: the fixed IOVA, for IOMMU_REG_MAP_IOVA_FIXED
 *
 * Return: a mapping made by IOMMU_REG_REGISTER for the whole region with
 * the same protection and placement, or NULL.
 */
struct iommu_reg_mapping *
iommu_reg_mapping_find_auto(struct iommu_reg_region *r, u32 prot, u32 placement,
			    u64 iova)
{
	struct iommu_reg_mapping *m;

	list_for_each_entry(m, &r->mappings, region_node) {
		if (m->kind != IOMMU_REG_MAPPING_AUTO || m->prot != prot ||
		    m->placement != placement)
			continue;
		if (placement == IOMMU_REG_MAP_IOVA_FIXED &&
		    m->node.start != iova)
			continue;
		return m;
	}
	return NULL;
}

/**
 * iommu_reg_mapping_unmap_range - unmap the mappings in [start, last]
 * @c: container, locked
 * @start: first IOVA
 * @last: last IOVA (inclusive)
 * @type1_v1: type1 v1 semantics (below) rather than whole mappings only
 * @unmapped: out: bytes unmapped
 * @to_free: receives regions left unused, for destruction after unlocking
 *
 * By default every mapping must lie wholly inside the range.  With
 * @type1_v1, as type1 does for a container opened as VFIO_TYPE1_IOMMU
 * (vfio_dma_do_unmap() in Linux 6.1): a range that starts inside a
 * mapping unmaps nothing and succeeds; otherwise every mapping that
 * starts inside the range is unmapped whole, even where it extends past
 * @last.
 *
 * Return: 0, or -EINVAL when a mapping lies only partly inside the range
 * without @type1_v1 (nothing is unmapped then).
 */
int iommu_reg_mapping_unmap_range(struct iommu_reg_container *c, u64 start,
				  u64 last, bool type1_v1, u64 *unmapped,
				  struct list_head *to_free)
{
	struct interval_tree_node *node, *next;

	lockdep_assert_held(&c->lock);

	*unmapped = 0;
	node = interval_tree_iter_first(&c->mapping_tree, start, last);
	if (type1_v1) {
		/* Mappings never overlap: only the first can start before. */
		if (node && node->start < start)
			return 0;
	} else {
		for (; node; node = interval_tree_iter_next(node, start, last)) {
			if (node->start < start || node->last > last)
				return -EINVAL;
			cond_resched();
		}
		node = interval_tree_iter_first(&c->mapping_tree, start, last);
	}

	while (node) {
		struct iommu_reg_mapping *m =
			container_of(node, struct iommu_reg_mapping, node);
		struct iommu_reg_region *r = m->region;

		next = interval_tree_iter_next(node, start, last);
		*unmapped += node->last - node->start + 1;
		iommu_reg_mapping_remove(c, m);
		iommu_reg_region_release_if_unused(c, r, to_free);
		node = next;
		cond_resched();
	}
	return 0;
}

/**
 * iommu_reg_mapping_destroy_all - free every mapping without IOMMU work
 * @c: container being released; its groups are detached and its domain
 *	is about to be freed with its page tables
 */
void iommu_reg_mapping_destroy_all(struct iommu_reg_container *c)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(&c->mapping_tree, 0,
						U64_MAX))) {
		struct iommu_reg_mapping *m =
			container_of(node, struct iommu_reg_mapping, node);

		iommu_reg_mapping_free(c, m);
		cond_resched();
	}
}

static int iommu_reg_check_range(u64 offset, u64 length, u64 size)
{
	if (!length || !PAGE_ALIGNED(offset) || !PAGE_ALIGNED(length))
		return -EINVAL;
	if (offset + length < offset)
		return -EOVERFLOW;
	if (offset + length > size)
		return -EINVAL;
	return 0;
}

static int iommu_reg_check_map_flags(u32 placement, u32 prot)
{
	if (placement == (IOMMU_REG_MAP_IOVA_FIXED |
			  IOMMU_REG_MAP_IOVA_IDENTITY))
		return -EINVAL;
	if (!prot || prot & ~(IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE))
		return -EINVAL;
	return 0;
}

/*
 * Remove the mapping just made by a command whose caller could not be
 * told of it: only if the mapping at @iova is still that one (@seq), not
 * one another thread made there after unmapping ours.
 */
static void iommu_reg_mapping_undo_locked(struct iommu_reg_container *c,
					  u64 iova, u64 length, u64 seq,
					  struct list_head *to_free)
{
	struct interval_tree_node *node;
	struct iommu_reg_mapping *m;
	struct iommu_reg_region *r;

	lockdep_assert_held(&c->lock);
	node = interval_tree_iter_first(&c->mapping_tree, iova,
					iova + length - 1);
	if (!node || node->start != iova || node->last != iova + length - 1)
		return;
	m = container_of(node, struct iommu_reg_mapping, node);
	if (m->seq != seq)
		return;
	r = m->region;
	iommu_reg_mapping_remove(c, m);
	iommu_reg_region_release_if_unused(c, r, to_free);
}

static void iommu_reg_mapping_undo(struct iommu_reg_container *c, u64 iova,
				   u64 length, u64 seq)
{
	LIST_HEAD(to_free);

	mutex_lock(&c->lock);
	iommu_reg_mapping_undo_locked(c, iova, length, seq, &to_free);
	mutex_unlock(&c->lock);
	iommu_reg_region_destroy_list(&to_free);
}

int iommu_reg_mapping_map(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_map *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	struct iommu_reg_mapping *m;
	struct iommu_reg_region *r;
	u64 iova = cmd->iova;
	u64 seq = 0;
	int ret;

	if (cmd->flags & ~IOMMU_REG_MAP_FLAGS)
		return -EINVAL;
	ret = iommu_reg_check_map_flags(cmd->flags, cmd->prot);
	if (ret)
		return ret;

	mutex_lock(&c->lock);
	r = iommu_reg_region_get(c, cmd->handle);
	if (!r || !r->refs) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (!iommu_reg_region_owned(r)) {
		ret = -EPERM;
		goto out_unlock;
	}
	ret = iommu_reg_check_range(cmd->offset, cmd->length,
				    (u64)r->npages << PAGE_SHIFT);
	if (ret)
		goto out_unlock;

	m = iommu_reg_mapping_create(c, r, cmd->offset, cmd->length, cmd->prot,
				     cmd->flags, IOMMU_REG_MAPPING_USER, &iova);
	if (IS_ERR(m)) {
		ret = PTR_ERR(m);
		goto out_unlock;
	}
	cmd->iova = iova;
	seq = m->seq;
out_unlock:
	mutex_unlock(&c->lock);
	if (ret)
		return ret;
	ret = iommu_reg_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		iommu_reg_mapping_undo(c, iova, cmd->length, seq);
	return ret;
}

/*
 * May the caller unmap everything in [@start, @last]?  Not a mapping of
 * a region it does not own (iommu_reg_region_owned()), but type1's:
 * VFIO_IOMMU_MAP_DMA mappings keep type1's rule, any holder of the fd.
 */
static bool iommu_reg_mapping_owned(struct iommu_reg_container *c, u64 start,
				    u64 last)
{
	struct interval_tree_node *node;

	lockdep_assert_held(&c->lock);
	for (node = interval_tree_iter_first(&c->mapping_tree, start, last);
	     node; node = interval_tree_iter_next(node, start, last)) {
		struct iommu_reg_mapping *m =
			container_of(node, struct iommu_reg_mapping, node);

		if (m->kind != IOMMU_REG_MAPPING_TYPE1 &&
		    !iommu_reg_region_owned(m->region))
			return false;
		cond_resched();
	}
	return true;
}

int iommu_reg_mapping_unmap(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_unmap *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	LIST_HEAD(to_free);
	u64 unmapped, last;
	int ret;

	if (cmd->flags & ~IOMMU_REG_UNMAP_FLAGS)
		return -EINVAL;
	if (cmd->flags & IOMMU_REG_UNMAP_ALL) {
		if (cmd->iova || cmd->length)
			return -EINVAL;
		/* Up to and including 2^64 - 1. */
		last = U64_MAX;
	} else {
		if (!cmd->length || !PAGE_ALIGNED(cmd->iova) ||
		    !PAGE_ALIGNED(cmd->length))
			return -EINVAL;
		last = cmd->iova + cmd->length - 1;
		if (last < cmd->iova)
			return -EOVERFLOW;
	}

	mutex_lock(&c->lock);
	if (!iommu_reg_mapping_owned(c, cmd->iova, last))
		ret = -EPERM;
	else
		ret = iommu_reg_mapping_unmap_range(c, cmd->iova, last, false,
						    &unmapped, &to_free);
	mutex_unlock(&c->lock);
	iommu_reg_region_destroy_list(&to_free);
	if (ret)
		return ret;
	if (!unmapped && !(cmd->flags & IOMMU_REG_UNMAP_ALL))
		return -ENOENT;
	cmd->length = unmapped;
	return iommu_reg_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommu_reg_mapping_register(struct iommu_reg_ucmd *ucmd)
{
	struct iommu_reg_register *cmd = ucmd->cmd;
	struct iommu_reg_container *c = ucmd->container;
	u32 rflags = cmd->flags & IOMMU_REG_REGION_FLAGS;
	u32 placement = cmd->flags & IOMMU_REG_MAP_FLAGS;
	struct iommu_reg_mapping *m;
	struct iommu_reg_region *r;
	bool created = false;
	LIST_HEAD(to_free);
	u64 iova = cmd->iova;
	u64 length, seq = 0;
	u32 handle;
	int ret;

	if (cmd->flags & ~(IOMMU_REG_REGION_FLAGS | IOMMU_REG_MAP_FLAGS))
		return -EINVAL;
	ret = iommu_reg_check_map_flags(placement, cmd->prot);
	if (ret)
		return ret;
	if ((cmd->prot & IOMMU_REG_PROT_WRITE) && rflags)
		return -EPERM;

	r = iommu_reg_region_get_or_create(c, cmd->vaddr, cmd->size, rflags,
					   &to_free);
	if (IS_ERR(r)) {
		iommu_reg_region_destroy_list(&to_free);
		return PTR_ERR(r);
	}

	/* Still under the lock get_or_create() returned with. */
	handle = r->handle;
	length = (u64)r->npages << PAGE_SHIFT;
	m = iommu_reg_mapping_find_auto(r, cmd->prot, placement, iova);
	if (m) {
		iova = m->node.start;
	} else {
		m = iommu_reg_mapping_create(c, r, 0, length, cmd->prot,
					     placement, IOMMU_REG_MAPPING_AUTO,
					     &iova);
		if (IS_ERR(m)) {
			ret = PTR_ERR(m);
			iommu_reg_region_put(c, r, false, &to_free);
			goto out_unlock;
		}
		created = true;
		seq = m->seq;
	}
	cmd->handle = handle;
	cmd->iova = iova;
	cmd->slot = r->slot;
	cmd->generation = r->generation;
out_unlock:
	mutex_unlock(&c->lock);
	iommu_reg_region_destroy_list(&to_free);
	if (ret)
		return ret;

	ret = iommu_reg_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* The caller never learnt of it: undo. */
		mutex_lock(&c->lock);
		if (created)
			iommu_reg_mapping_undo_locked(c, iova, length, seq,
						      &to_free);
		iommu_reg_region_put_again(c, handle, r, &to_free);
		mutex_unlock(&c->lock);
		iommu_reg_region_destroy_list(&to_free);
	}
	return ret;
}
