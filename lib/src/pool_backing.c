// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The memory behind a pool: hugetlbfs (2 MiB or 1 GiB pages), transparent
 * huge pages or 4 KiB pages, private or in a memfd (shared pools).
 *
 * Vocabulary: a *backing* is one of enum ireg_pool_backing; to *reserve*
 * is to map the memory at the backing's alignment, to *populate* is to
 * fault every page in writable before the kernel pins it.  What a backing
 * gave is measured (huge_bytes from /proc/self/smaps), not assumed: THP
 * may give less than asked, even nothing.
 *
 * hugetlbfs reserves its pages at mmap() (MAP_POPULATE), so a shortage
 * fails there with ENOMEM rather than later with SIGBUS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "pool_priv.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB		(21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB		(30 << MAP_HUGE_SHIFT)
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB		(21U << 26)
#endif
#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB		(30U << 26)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

/* Is the bracketed choice of a THP sysfs knob one of @ok? */
static bool thp_knob(const char *path, const char *const *ok)
{
	char buf[256], *l, *r;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return false;
	*r = '\0';
	for (; *ok; ok++)
		if (!strcmp(l + 1, *ok))
			return true;
	return false;
}

static bool thp_available(bool shared)
{
	static const char *const anon_ok[] = { "always", "madvise", NULL };
	static const char *const shmem_ok[] = {
		"always", "within_size", "advise", "force", NULL
	};

	if (shared)
		return thp_knob("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
				shmem_ok);
	return thp_knob("/sys/kernel/mm/transparent_hugepage/enabled",
			anon_ok);
}

/*
 * Map @len bytes at an address aligned to @align (a power of two): reserve
 * @len + @align of address space, map over the aligned part, give back
 * the slack.
 */
void *__ireg_mmap_aligned(size_t len, size_t align, int flags, int fd)
{
	char *resv, *addr;
	uintptr_t a;

	if (align <= SZ_4K)
		return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	resv = mmap(NULL, len + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return MAP_FAILED;
	a = round_up((uintptr_t)resv, align);
	addr = mmap((void *)a, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED,
		    fd, 0);
	if (addr == MAP_FAILED) {
		int err = errno;

		munmap(resv, len + align);
		errno = err;
		return MAP_FAILED;
	}
	if (addr > resv)
		munmap(resv, addr - resv);
	munmap(addr + len, resv + len + align - (addr + len));
	return addr;
}

/* Fault every page in, writable, before the kernel pins them. */
void __ireg_populate(char *addr, size_t len)
{
	size_t off;

	if (!madvise(addr, len, MADV_POPULATE_WRITE))
		return;
	for (off = 0; off < len; off += SZ_4K)
		__atomic_fetch_add(addr + off, 0, __ATOMIC_RELAXED);
}

/*
 * Bytes of [start, end) on transparent huge pages, from /proc/self/smaps
 * (AnonHugePages, ShmemPmdMapped).  A VMA reaching beyond the range counts
 * whole, so the result is clamped to the range.
 */
static size_t smaps_huge_bytes(uintptr_t start, uintptr_t end)
{
	unsigned long lo, hi, kb;
	char line[512];
	size_t total = 0;
	bool in = false;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo < end && hi > start;
			continue;
		}
		if (in && (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1 ||
			   sscanf(line, "ShmemPmdMapped: %lu kB", &kb) == 1))
			total += kb << 10;
	}
	fclose(f);
	return total < end - start ? total : end - start;
}

static const char *const backing_names[] = {
	[IREG_POOL_BACKING_USER] = "caller's memory",
	[IREG_POOL_BACKING_4K] = "4 KiB pages",
	[IREG_POOL_BACKING_THP] = "THP",
	[IREG_POOL_BACKING_HUGETLB] = "hugetlbfs 2 MiB",
	[IREG_POOL_BACKING_HUGETLB_1G] = "hugetlbfs 1 GiB",
};

size_t __ireg_backing_page_size(uint32_t backing)
{
	switch (backing) {
	case IREG_POOL_BACKING_HUGETLB_1G:
		return SZ_1G;
	case IREG_POOL_BACKING_HUGETLB:
	case IREG_POOL_BACKING_THP:
		return SZ_2M;
	default:
		return SZ_4K;
	}
}

/*
 * Reserve and populate @lay->size bytes with @backing.  On success the
 * pool owns the memory (and the memfd of a shared pool).  -errno, with
 * @why saying what failed, otherwise.
 */
int __ireg_pool_reserve(struct ireg_pool *pool, uint32_t backing,
			bool shared, size_t len, char *why, size_t whylen)
{
	bool hugetlb = backing == IREG_POOL_BACKING_HUGETLB ||
		       backing == IREG_POOL_BACKING_HUGETLB_1G;
	unsigned int mfd = MFD_CLOEXEC;
	int flags, fd = -1, err;
	char *addr;

	if (backing == IREG_POOL_BACKING_THP && !thp_available(shared)) {
		snprintf(why, whylen, "THP%s is disabled in /sys/kernel/mm/transparent_hugepage",
			 shared ? " for shmem (memfd)" : "");
		return -EOPNOTSUPP;
	}
	if (shared) {
		if (hugetlb)
			mfd |= MFD_HUGETLB |
			       (backing == IREG_POOL_BACKING_HUGETLB ?
				MFD_HUGE_2MB : MFD_HUGE_1GB);
		fd = memfd_create("ireg-pool", mfd);
		if (fd < 0) {
			err = errno;
			snprintf(why, whylen, "memfd_create(%s): %s",
				 backing_names[backing], strerror(err));
			return -err;
		}
		if (ftruncate(fd, len)) {
			err = errno;
			snprintf(why, whylen, "ftruncate(%s memfd, %zu): %s",
				 backing_names[backing], len,
				 strerror(err));
			close(fd);
			return -err;
		}
		flags = MAP_SHARED;
	} else {
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
		if (backing == IREG_POOL_BACKING_HUGETLB)
			flags |= MAP_HUGETLB | MAP_HUGE_2MB;
		else if (backing == IREG_POOL_BACKING_HUGETLB_1G)
			flags |= MAP_HUGETLB | MAP_HUGE_1GB;
	}
	/*
	 * hugetlbfs reserves its pages at mmap(): too few free huge pages
	 * fail here with ENOMEM rather than later with SIGBUS.
	 */
	if (hugetlb)
		addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    flags | MAP_POPULATE, fd, 0);
	else
		addr = __ireg_mmap_aligned(len,
					   backing == IREG_POOL_BACKING_THP ?
					   SZ_2M : SZ_4K, flags, fd);
	if (addr == MAP_FAILED) {
		err = errno;
		snprintf(why, whylen, "mmap(%zu bytes, %s): %s%s", len,
			 backing_names[backing], strerror(err),
			 hugetlb && err == ENOMEM ?
			 " (not enough free huge pages?)" : "");
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (backing == IREG_POOL_BACKING_THP &&
	    madvise(addr, len, MADV_HUGEPAGE)) {
		err = errno;
		snprintf(why, whylen, "madvise(MADV_HUGEPAGE): %s",
			 strerror(err));
		munmap(addr, len);
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (backing == IREG_POOL_BACKING_4K)
		madvise(addr, len, MADV_NOHUGEPAGE);	/* keep it 4 KiB */
	if (!hugetlb)
		__ireg_populate(addr, len);

	pool->priv->fd = fd;
	__ireg_pool_own(pool, addr, len, backing, hugetlb);
	return 0;
}

/*
 * The pool owns [@addr, @addr + @len), mapped with @backing: record it
 * and measure what the backing gave (hugetlbfs: all of it).
 */
void __ireg_pool_own(struct ireg_pool *pool, char *addr, size_t len,
		     uint32_t backing, bool hugetlb)
{
	pool->base = addr;
	pool->size = len;
	pool->priv->owns_memory = true;
	pool->priv->backing = backing;
	pool->priv->page_size = __ireg_backing_page_size(backing);
	/* Measured for 4 KiB too: it shows whether MADV_NOHUGEPAGE held. */
	pool->priv->huge_bytes = hugetlb ? len :
		smaps_huge_bytes((uintptr_t)addr, (uintptr_t)addr + len);
}

uint32_t __ireg_flag_backing(uint32_t flags)
{
	switch (flags & IREG_POOL_BACKING_FLAGS) {
	case IREG_POOL_HUGETLB:
		return IREG_POOL_BACKING_HUGETLB;
	case IREG_POOL_HUGETLB_1G:
		return IREG_POOL_BACKING_HUGETLB_1G;
	case IREG_POOL_THP:
		return IREG_POOL_BACKING_THP;
	case IREG_POOL_4K:
		return IREG_POOL_BACKING_4K;
	}
	return IREG_POOL_BACKING_USER;	/* none asked: best available */
}
