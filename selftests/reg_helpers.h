/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the kselftests that drive a container: the
 * IOMMU_REG_* helper trio, buffers of each memory type, and readers for
 * the counters the tests compare (INFO, /proc, the module's parameters
 * and its debugfs audit).
 *
 * The helper trio, as in the iommufd selftests: _test_x() issues the call
 * on an explicit container fd and returns ioctl()'s result with errno;
 * test_x() asserts success on self->container; test_err_x(ERRNO, ...)
 * asserts that the call fails with ERRNO.  The macros need the harness
 * (kselftest_harness.h) included after this file.
 */
#ifndef REG_HELPERS_H
#define REG_HELPERS_H

#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/mman.h>
#include "test_env.h"
#include "../tools/include/audit.h"
#include "../tools/include/modparam.h"

#define ST_PAGE_SIZE		4096UL
#define ST_SZ_2M		(2UL << 20)
#define ST_SZ_1G		(1UL << 30)
#define ST_MSI_START		0xfee00000ULL
#define ST_MSI_LAST		0xfeefffffULL
#define ST_PROT_RW		(IOMMU_REG_PROT_READ | IOMMU_REG_PROT_WRITE)

/*
 * SKIP() for a FIXTURE_SETUP.  The 6.1 harness still runs the test body
 * after a setup that returned through SKIP(), so leave the test process
 * instead: exit status 255 is the harness's "skipped".
 */
#define SETUP_SKIP(fmt, ...)	SKIP(_exit(255), fmt, ##__VA_ARGS__)

#define EXPECT_ERRNO(expected_errno, cmd)		\
	({						\
		ASSERT_EQ(-1, cmd);			\
		EXPECT_EQ(expected_errno, errno);	\
	})

static inline int _test_info(int fd, struct iommu_reg_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(fd, IOMMU_REG_INFO, info);
}

static inline int _test_prereg(int fd, const void *vaddr, uint64_t size,
			       uint32_t flags, uint32_t *handle,
			       uint32_t *refs)
{
	struct iommu_reg_prereg cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.size = size,
	};
	int ret = ioctl(fd, IOMMU_REG_PREREG, &cmd);

	if (ret)
		return ret;
	if (handle)
		*handle = cmd.handle;
	if (refs)
		*refs = cmd.refs;
	return 0;
}

/* @iova: read with IOMMU_REG_MAP_IOVA_FIXED, written always; may be NULL. */
static inline int _test_map(int fd, uint32_t handle, uint64_t offset,
			    uint64_t length, uint32_t prot, uint32_t flags,
			    uint64_t *iova)
{
	struct iommu_reg_map cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.handle = handle,
		.prot = prot,
		.offset = offset,
		.length = length,
		.iova = iova && (flags & IOMMU_REG_MAP_IOVA_FIXED) ? *iova : 0,
	};
	int ret = ioctl(fd, IOMMU_REG_MAP, &cmd);

	if (ret)
		return ret;
	if (iova)
		*iova = cmd.iova;
	return 0;
}

/* @unmapped: out, bytes unmapped; may be NULL. */
static inline int _test_unmap(int fd, uint64_t iova, uint64_t length,
			      uint32_t flags, uint64_t *unmapped)
{
	struct iommu_reg_unmap cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.iova = iova,
		.length = length,
	};
	int ret = ioctl(fd, IOMMU_REG_UNMAP, &cmd);

	if (ret)
		return ret;
	if (unmapped)
		*unmapped = cmd.length;
	return 0;
}

static inline int _test_unreg(int fd, uint32_t handle, uint32_t flags)
{
	struct iommu_reg_unreg cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.handle = handle,
	};

	return ioctl(fd, IOMMU_REG_UNREG, &cmd);
}

/* @iova: read with IOMMU_REG_MAP_IOVA_FIXED, written always; may be NULL. */
static inline int _test_register(int fd, const void *vaddr, uint64_t size,
				 uint32_t flags, uint32_t prot,
				 uint32_t *handle, uint64_t *iova)
{
	struct iommu_reg_register cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.size = size,
		.prot = prot,
		.iova = iova && (flags & IOMMU_REG_MAP_IOVA_FIXED) ? *iova : 0,
	};
	int ret = ioctl(fd, IOMMU_REG_REGISTER, &cmd);

	if (ret)
		return ret;
	if (handle)
		*handle = cmd.handle;
	if (iova)
		*iova = cmd.iova;
	return 0;
}

#define test_info(info_p) \
	ASSERT_EQ(0, _test_info(self->container, info_p))

#define test_prereg(vaddr, size, flags, handle_p, refs_p)		\
	ASSERT_EQ(0, _test_prereg(self->container, vaddr, size, flags,	\
				  handle_p, refs_p))
#define test_err_prereg(_errno, vaddr, size, flags)			\
	EXPECT_ERRNO(_errno, _test_prereg(self->container, vaddr, size,	\
					  flags, NULL, NULL))

#define test_map(handle, offset, length, prot, flags, iova_p)		\
	ASSERT_EQ(0, _test_map(self->container, handle, offset, length,	\
			       prot, flags, iova_p))
#define test_err_map(_errno, handle, offset, length, prot, flags, iova) \
	({								\
		uint64_t __iova = (iova);				\
		EXPECT_ERRNO(_errno, _test_map(self->container, handle,	\
					       offset, length, prot,	\
					       flags, &__iova));	\
	})

#define test_unmap(iova, length, flags, unmapped_p)			\
	ASSERT_EQ(0, _test_unmap(self->container, iova, length, flags,	\
				 unmapped_p))
#define test_err_unmap(_errno, iova, length, flags)			\
	EXPECT_ERRNO(_errno, _test_unmap(self->container, iova, length,	\
					 flags, NULL))

#define test_unreg(handle, flags) \
	ASSERT_EQ(0, _test_unreg(self->container, handle, flags))
#define test_err_unreg(_errno, handle, flags) \
	EXPECT_ERRNO(_errno, _test_unreg(self->container, handle, flags))

#define test_register(vaddr, size, flags, prot, handle_p, iova_p)	\
	ASSERT_EQ(0, _test_register(self->container, vaddr, size, flags,	\
				    prot, handle_p, iova_p))
#define test_err_register(_errno, vaddr, size, flags, prot, iova)	\
	({								\
		uint64_t __iova = (iova);				\
		EXPECT_ERRNO(_errno, _test_register(self->container,	\
						    vaddr, size, flags,	\
						    prot, NULL, &__iova)); \
	})

/* The counters of container @fd are exactly these. */
#define test_fd_counts(fd, regions, mappings, pages)			\
	({								\
		struct iommu_reg_info __info;				\
		ASSERT_EQ(0, _test_info(fd, &__info));			\
		EXPECT_EQ(regions, __info.num_regions);			\
		EXPECT_EQ(mappings, __info.num_mappings);		\
		EXPECT_EQ(pages, __info.pinned_pages);			\
	})
#define test_counts(regions, mappings, pages) \
	test_fd_counts(self->container, regions, mappings, pages)

/* Close *fd unless it is -1, and make it -1: for teardowns. */
static inline void st_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * A container holding @bdf's group, with our backend selected; *group is
 * -1 on failure, when nothing stays open.
 */
static inline int st_container_open(const char *bdf, int *group)
{
	*group = -1;
	return vfio_container_open(bdf, VFIO_IOMMU_REG, group);
}

/*
 * @bdf's group in a new container of ours and the device opened through
 * VFIO: the setup of the fixtures that need a device but no DMA.  0, or
 * -1 with errno and the three fds -1.
 */
static inline int st_device_open(const char *bdf, int *container,
				 int *group, int *device)
{
	int saved;

	*device = -1;
	*container = st_container_open(bdf, group);
	if (*container < 0)
		return -1;
	*device = vfio_device_open(*group, bdf);
	if (*device >= 0)
		return 0;
	saved = errno;
	st_close(group);
	st_close(container);
	errno = saved;
	return -1;
}

/* PCI domain and requester id of "dddd:bb:dd.f". */
static inline int st_pci_addr(const char *bdf, uint32_t *domain,
			      uint32_t *rid)
{
	unsigned int d, b, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &d, &b, &dev, &fn) != 4)
		return -1;
	*domain = d;
	*rid = IOMMU_REG_PCI_RID(b, dev << 3 | fn);
	return 0;
}

/*
 * The fields of a fixture around a device without DMA (sva_test,
 * wcbar_test): the device opened through VFIO in a container of ours,
 * and its PCI address.  st_device_fixture_setup(bdf) fills them in, or
 * skips when there is no device; _teardown() closes them.
 */
#define ST_DEVICE_FIXTURE						\
	int container;							\
	int group;							\
	int device;							\
	const char *bdf;						\
	uint32_t domain;						\
	uint32_t rid

#define st_device_fixture_setup(_bdf)					\
	({								\
		self->container = self->group = self->device = -1;	\
		self->bdf = (_bdf);					\
		if (!self->bdf)						\
			SETUP_SKIP("no edu device in IREG_EDU_BDFS");	\
		ASSERT_EQ(0, st_pci_addr(self->bdf, &self->domain,	\
					 &self->rid));			\
		ASSERT_EQ(0, st_device_open(self->bdf,			\
					    &self->container,		\
					    &self->group,		\
					    &self->device));		\
	})

#define st_device_fixture_teardown()					\
	({								\
		st_close(&self->device);				\
		st_close(&self->group);					\
		st_close(&self->container);				\
	})

/* The container's usable IOVA ranges (at most @max); their number or -1. */
static inline int st_iova_ranges(int fd, struct iommu_reg_iova_range *ranges,
				 unsigned int max)
{
	struct iommu_reg_info info = {
		.argsz = sizeof(info),
		.num_iova_ranges = max,
		.iova_ranges = (uintptr_t)ranges,
	};

	if (ioctl(fd, IOMMU_REG_INFO, &info))
		return -1;
	return info.num_iova_ranges;
}

/* True when [iova, iova + length) lies inside one usable IOVA range. */
static inline bool st_iova_usable(int fd, uint64_t iova, uint64_t length)
{
	struct iommu_reg_iova_range ranges[32];
	int i, n = st_iova_ranges(fd, ranges, 32);

	if (!length || iova + length - 1 < iova)
		return false;
	for (i = 0; i < n && i < 32; i++)
		if (iova >= ranges[i].start &&
		    iova + length - 1 <= ranges[i].last)
			return true;
	return false;
}

/* The largest page size of @pgsize_bitmap not above @length, or 0. */
static inline uint64_t st_pgsize_for(uint64_t pgsize_bitmap, uint64_t length)
{
	int bit;

	for (bit = 63; bit >= 0; bit--)
		if ((pgsize_bitmap & (1ULL << bit)) && (1ULL << bit) <= length)
			return 1ULL << bit;
	return 0;
}

/* --- Memory of each type ----------------------------------------------- */

enum st_mem {
	ST_MEM_ANON_4K,	/* anonymous, MADV_NOHUGEPAGE */
	ST_MEM_THP,		/* anonymous, MADV_HUGEPAGE, checked THP */
	ST_MEM_HUGETLB_2M,	/* MAP_HUGETLB | MAP_HUGE_2MB */
	ST_MEM_HUGETLB_1G,	/* MAP_HUGETLB | MAP_HUGE_1GB */
	ST_MEM_MEMFD,		/* memfd (shmem), MAP_SHARED */
	ST_MEM_HUGETLBFS,	/* a file on $IREG_HUGETLBFS_2M, MAP_SHARED */
};

/*
 * A buffer of @size bytes at a 2 MiB (1 GiB for HUGETLB_1G) aligned
 * address, populated.  @skip says why it could not be had when that is
 * the machine's doing (no THP, no huge pages).
 */
struct st_buf {
	uint8_t *addr;
	size_t size;
	void *map;
	size_t map_size;
	const char *skip;
};

/* kB of @key ("AnonHugePages:") in the smaps entry containing @addr. */
static inline long st_smaps_kb(const void *addr, const char *key)
{
	unsigned long start, end, a = (uintptr_t)addr;
	bool inside = false;
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = a >= start && a < end;
			continue;
		}
		if (inside && !strncmp(line, key, strlen(key))) {
			kb = strtol(line + strlen(key), NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static inline void st_touch(uint8_t *addr, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += ST_PAGE_SIZE)
		addr[i] = (uint8_t)(i >> 12);
}

static inline void st_buf_free(struct st_buf *buf);

static inline int st_buf_alloc(struct st_buf *buf, enum st_mem type,
			       size_t size)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t align = ST_SZ_2M;
	char path[PATH_MAX];
	const char *dir;
	uintptr_t a;
	int fd;

	memset(buf, 0, sizeof(*buf));
	buf->size = size;
	switch (type) {
	case ST_MEM_HUGETLB_1G:
	case ST_MEM_HUGETLB_2M:
		if (type == ST_MEM_HUGETLB_1G) {
			align = ST_SZ_1G;
			flags |= MAP_HUGETLB | MAP_HUGE_1GB;
		} else {
			flags |= MAP_HUGETLB | MAP_HUGE_2MB;
		}
		size = (size + align - 1) & ~(align - 1);
		buf->map = mmap(NULL, size, PROT_READ | PROT_WRITE, flags,
				-1, 0);
		if (buf->map == MAP_FAILED) {
			buf->map = NULL;
			buf->skip = "no free hugetlb pages of that size";
			return -1;
		}
		buf->map_size = size;
		buf->addr = buf->map;
		break;
	case ST_MEM_MEMFD:
	case ST_MEM_HUGETLBFS:
		if (type == ST_MEM_MEMFD) {
			fd = memfd_create("ireg-test", MFD_CLOEXEC);
		} else {
			dir = getenv("IREG_HUGETLBFS_2M");
			if (!dir) {
				buf->skip = "IREG_HUGETLBFS_2M not set";
				return -1;
			}
			snprintf(path, sizeof(path), "%s/ireg-test.%d", dir,
				 getpid());
			fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
				  0600);
			if (fd >= 0)
				unlink(path);
			size = (size + ST_SZ_2M - 1) & ~(ST_SZ_2M - 1);
		}
		if (fd < 0)
			return -1;
		/* Reserve an aligned hole, then map the file over it. */
		buf->map_size = size + align;
		buf->map = mmap(NULL, buf->map_size, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf->map == MAP_FAILED || ftruncate(fd, size)) {
			if (buf->map == MAP_FAILED)
				buf->map = NULL;
			close(fd);
			goto err;
		}
		a = ((uintptr_t)buf->map + align - 1) & ~(align - 1);
		buf->addr = mmap((void *)a, size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, fd, 0);
		close(fd);
		if (buf->addr == MAP_FAILED) {
			buf->addr = NULL;
			if (type == ST_MEM_HUGETLBFS)
				buf->skip = "no free 2M hugetlb pages";
			goto err;
		}
		break;
	case ST_MEM_ANON_4K:
	case ST_MEM_THP:
		buf->map_size = size + align;
		buf->map = mmap(NULL, buf->map_size, PROT_READ | PROT_WRITE,
				flags, -1, 0);
		if (buf->map == MAP_FAILED) {
			buf->map = NULL;
			return -1;
		}
		a = ((uintptr_t)buf->map + align - 1) & ~(align - 1);
		buf->addr = (uint8_t *)a;
		if (madvise(buf->addr, size, type == ST_MEM_THP ?
			    MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
			if (type == ST_MEM_THP)
				buf->skip = "MADV_HUGEPAGE refused (no THP)";
			goto err;
		}
		break;
	}
	st_touch(buf->addr, buf->size);
	if (type == ST_MEM_THP &&
	    st_smaps_kb(buf->addr, "AnonHugePages:") * 1024L <
	    (long)(buf->size & ~(ST_SZ_2M - 1))) {
		buf->skip = "the kernel gave no transparent huge page";
		goto err;
	}
	return 0;

err:
	st_buf_free(buf);
	return -1;
}

/* The buffer always lies inside its reservation: one munmap() frees it. */
static inline void st_buf_free(struct st_buf *buf)
{
	if (buf->map)
		munmap(buf->map, buf->map_size);
	buf->map = NULL;
	buf->addr = NULL;
}

/* PFN backing @addr from /proc/self/pagemap (root only), or 0. */
static inline uint64_t st_pfn(const void *addr)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)addr / ST_PAGE_SIZE * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	if (!(ent & (1ULL << 63)))
		return 0;
	return ent & ((1ULL << 55) - 1);
}

/* True when [addr, addr + size) is one physically contiguous run. */
static inline bool st_phys_contiguous(const void *addr, size_t size)
{
	uint64_t first = st_pfn(addr);
	size_t i;

	if (!first)
		return false;
	for (i = ST_PAGE_SIZE; i < size; i += ST_PAGE_SIZE)
		if (st_pfn((const uint8_t *)addr + i) !=
		    first + i / ST_PAGE_SIZE)
			return false;
	return true;
}

/* --- Counters ---------------------------------------------------------- */

/*
 * The number after @key and the character @sep that ends it, on a line
 * of the /proc file @path ("Key:  N kB", "key N"); -1 when absent.
 */
static inline long long st_proc_value(const char *path, const char *key,
				      char sep)
{
	size_t len = strlen(key);
	long long val = -1;
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == sep) {
			val = strtoll(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

/* A "Key:  N kB" value of /proc/self/status in bytes, or -1. */
static inline long long st_status_bytes(const char *key)
{
	long long kb = st_proc_value("/proc/self/status", key, ':');

	return kb < 0 ? -1 : kb * 1024;
}

/* A /proc/vmstat value, or -1. */
static inline long long st_vmstat(const char *key)
{
	return st_proc_value("/proc/vmstat", key, ' ');
}

/*
 * Pages held by FOLL_PIN in the whole system.  The per-CPU vmstat deltas
 * are folded first (root only), so the difference is exact.
 */
static inline long long st_foll_pins(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* EINVAL only reports a negative counter. */
		}
		close(fd);
	}
	return st_vmstat("nr_foll_pin_acquired") -
	       st_vmstat("nr_foll_pin_released");
}

#define ST_PARAM_DIR	"/sys/module/iommu_reg/parameters/"

/* A module parameter of iommu_reg (tools/include/modparam.h). */
static inline long long st_param_get(const char *name)
{
	return modparam_get("iommu_reg", name);
}

static inline int st_param_set(const char *name, long long value)
{
	return modparam_set("iommu_reg", name, value);
}

/*
 * The module file the VM runner installed (or $IREG_MODULE), for tests
 * that unload it and load it again, with other parameters.
 */
static inline const char *st_module_path(void)
{
	static char path[PATH_MAX];
	struct utsname uts;

	if (getenv("IREG_MODULE"))
		return getenv("IREG_MODULE");
	if (uname(&uts))
		return NULL;
	snprintf(path, sizeof(path), "/lib/modules/%s/extra/iommu_reg.ko",
		 uts.release);
	return path;
}

/* Unload iommu_reg; refused (EWOULDBLOCK) while in use, never forced. */
static inline int st_module_unload(void)
{
	return syscall(__NR_delete_module, "iommu_reg", O_NONBLOCK);
}

/* Load iommu_reg with @params ("name=value ..."); 0 or -1 with errno. */
static inline int st_module_load(const char *params)
{
	const char *path = st_module_path();
	int fd, ret;

	if (!path) {
		errno = ENOENT;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(__NR_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

/* CapEff of this process, or ~0 when unreadable. */
static inline uint64_t st_cap_effective(void)
{
	unsigned long long caps = ~0ULL;
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return caps;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

/*
 * A byte through a pipe between a test and its child: the other side's
 * stage is reached.  st_wait_fd() is false at EOF (the writer died).
 */
static inline void st_signal_fd(int fd)
{
	char c = 1;

	if (write(fd, &c, 1) != 1) {
		/* The reader is gone: it has failed already. */
	}
}

static inline bool st_wait_fd(int fd)
{
	char c;

	return read(fd, &c, 1) == 1;
}

/*
 * Two pipes for a test and its child to step through stages together:
 * after fork() each keeps its own ends, the child says when it reaches a
 * stage and waits for the parent's go.  A side that dies closes its ends,
 * so the other's wait ends (false).
 */
struct st_stages {
	int up[2];	/* child to parent */
	int down[2];	/* parent to child */
};

static inline int st_stages_open(struct st_stages *s)
{
	return pipe(s->up) || pipe(s->down) ? -1 : 0;
}

static inline void st_stages_child(struct st_stages *s)
{
	close(s->up[0]);
	close(s->down[1]);
}

static inline void st_stages_parent(struct st_stages *s)
{
	close(s->up[1]);
	close(s->down[0]);
}

/* The parent's ends, at its end. */
static inline void st_stages_close(struct st_stages *s)
{
	close(s->up[0]);
	close(s->down[1]);
}

/* The child: at the next stage; true when the parent says go on. */
static inline bool st_child_stage(struct st_stages *s)
{
	st_signal_fd(s->up[1]);
	return st_wait_fd(s->down[0]);
}

/* The parent: wait for the child's next stage, then let it go on. */
static inline bool st_parent_wait(struct st_stages *s)
{
	return st_wait_fd(s->up[0]);
}

static inline void st_parent_go(struct st_stages *s)
{
	st_signal_fd(s->down[1]);
}

/* Write a line to the kernel log (the VM's markers, scan-klog). */
static inline void st_kmsg(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg)) < 0) {
		/* Best effort: the log is for the reader. */
	}
	close(fd);
}

#endif /* REG_HELPERS_H */
