// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unprivileged matrix: every ioctl of the backend called by a process
 * that is not root, as a real deployment runs it.  As root the test gives
 * the VFIO group nodes to an unprivileged uid (what an admin's udev rule
 * does: /dev/vfio/vfio is world read-write already), then forks; the
 * child drops to that uid with every capability gone and a small
 * RLIMIT_MEMLOCK, and calls IOMMU_REG_INFO, PREREG, MAP, UNMAP, UNREG,
 * REGISTER, NOTIFY, SVA_INFO, SVA_BIND, SVA_UNBIND, WC_BAR and type1's
 * GET_INFO, MAP_DMA, UNMAP_DMA and VFIO_CHECK_EXTENSION with valid
 * arguments within the limit, and with each kind of bad argument.  The
 * errnos expected are those of the contract in uapi/linux/iommu_reg.h
 * (DOC: Errno contract); type1's commands answer as type1 does.
 *
 * The root parent counts pins meanwhile (FOLL_PIN acquisitions, which
 * only grow, so a pin that was taken and dropped again still shows) and
 * watches the kernel log, so that a case fails by name when the kernel
 * pins past the limit or warns.
 *
 * Cases named after a finding fail on a module that has it:
 * memlock_charged_before_pinning, huge_sizes_fail_cleanly,
 * accounting_survives_exit, stall_other_container, stall_set_iommu,
 * wc_bar_needs_cap_sys_rawio, register_once_with_type1,
 * get_info_respects_argsz, dma_avail_no_underflow.
 */
#include <grp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include "reg_helpers.h"
#include "watch_helpers.h"
#include "type1_helpers.h"
#include "kselftest_harness.h"
#include "harness_compat.h"

#define PAGE		ST_PAGE_SIZE
#define USER_ID		65534		/* nobody: no passwd entry needed */
#define SMALL_LIMIT	(64 * 1024)
#define RELEASE_MS	5000
#define T1_IOVA		(1ULL << 32)

/* In a child: RLIMIT_MEMLOCK to @memlock, then become USER_ID for good. */
static int become_user(rlim_t memlock)
{
	struct rlimit rl = { .rlim_cur = memlock, .rlim_max = memlock };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setresgid(USER_ID, USER_ID, USER_ID) ||
	    setresuid(USER_ID, USER_ID, USER_ID))
		return -1;
	return st_cap_effective() ? -1 : 0;
}

/* FOLL_PIN acquisitions ever (folded, so exact; root only). */
static long long pins_acquired(void)
{
	st_foll_pins();	/* folds the per-CPU counters */
	return st_vmstat("nr_foll_pin_acquired");
}

static long long wait_pins(long long want)
{
	uint64_t end = clock_now_us() + RELEASE_MS * 1000ULL;
	long long now;

	while ((now = st_foll_pins()) != want && clock_now_us() < end)
		usleep(20000);
	return now;
}

/* The errno of a call that must fail, or 0 when it succeeded. */
static int err_of(int ret)
{
	return ret ? errno : 0;
}

FIXTURE(unpriv) {
	const char *bdf[2];
	char node[2][32];
	struct stat saved[2];
	bool chowned[2];
	int container, group;	/* the child's, as the user */
	int klog;
	long long pins;
	long long max_regions_saved;
	long long uffd_sysctl_saved;
	void *mem;		/* populated, 2 MiB aligned */
	size_t mem_size;
};

static long long read_sysctl(const char *path)
{
	char val[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	return n > 0 ? strtoll(val, NULL, 10) : -1;
}

static int write_sysctl(const char *path, long long value)
{
	char val[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), len;
	ssize_t n;

	if (fd < 0)
		return -1;
	len = snprintf(val, sizeof(val), "%lld", value);
	n = write(fd, val, len);
	close(fd);
	return n == len ? 0 : -1;
}

#define UFFD_SYSCTL	"/proc/sys/vm/unprivileged_userfaultfd"

FIXTURE_SETUP(unpriv)
{
	struct stat st;
	unsigned int i;

	self->container = self->group = self->klog = -1;
	self->max_regions_saved = self->uffd_sysctl_saved = -1;
	self->bdf[0] = st_edu_bdf(0);
	self->bdf[1] = st_edu_bdf(1);
	if (!self->bdf[0])
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	if (geteuid())
		SETUP_SKIP("needs root to hand the group nodes to uid %d",
			   USER_ID);
	ASSERT_EQ(0, stat("/dev/vfio/vfio", &st));
	ASSERT_EQ(0666, st.st_mode & 0666)
		TH_LOG("/dev/vfio/vfio is not world read-write");
	/* What an admin does for a user-space driver: own the group nodes. */
	for (i = 0; i < 2 && self->bdf[i]; i++) {
		snprintf(self->node[i], sizeof(self->node[i]), "/dev/vfio/%d",
			 vfio_group_of(self->bdf[i]));
		ASSERT_EQ(0, stat(self->node[i], &self->saved[i]));
		ASSERT_EQ(0, chown(self->node[i], USER_ID, USER_ID));
		self->chowned[i] = true;
	}
	self->mem_size = 4 * ST_SZ_2M;
	self->mem = mmap(NULL, self->mem_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	madvise(self->mem, self->mem_size, MADV_NOHUGEPAGE);
	memset(self->mem, 0x5a, self->mem_size);
	self->pins = st_foll_pins();
	self->klog = st_klog_open();
}

FIXTURE_TEARDOWN(unpriv)
{
	unsigned int i;

	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	/* In a child that failed an ASSERT, as the user: harmless no-ops. */
	for (i = 0; i < 2; i++)
		if (self->chowned[i] &&
		    chown(self->node[i], self->saved[i].st_uid,
			  self->saved[i].st_gid)) {
			/* not root: the parent restores it */
		}
	if (self->max_regions_saved >= 0)
		st_param_set("max_regions", self->max_regions_saved);
	if (self->uffd_sysctl_saved >= 0)
		write_sysctl(UFFD_SYSCTL, self->uffd_sysctl_saved);
	if (self->klog >= 0)
		close(self->klog);
}

/* Fork a child that runs as USER_ID with RLIMIT_MEMLOCK @memlock. */
#define user_fork(memlock)						\
	({								\
		pid_t __pid = fork();					\
		ASSERT_LE(0, __pid);					\
		if (!__pid) {						\
			if (become_user(memlock)) {			\
				TH_LOG("cannot become uid %d", USER_ID); \
				_exit(1);				\
			}						\
		}							\
		__pid;							\
	})

/* The child's end: its EXPECT results become its exit status. */
#define user_exit()	_exit(st_test_passed(_metadata) ? 0 : 1)

/* In the parent: the child passed. */
#define user_wait(pid)							\
	({								\
		int __status;						\
		ASSERT_EQ(pid, waitpid(pid, &__status, 0));		\
		EXPECT_TRUE(WIFEXITED(__status) &&			\
			    WEXITSTATUS(__status) == 0)			\
			TH_LOG("unprivileged child: status %#x", __status); \
	})

/* In the parent: the kernel logged nothing bad since the last look. */
#define klog_clean()							\
	({								\
		char __splat[256] = "";					\
		EXPECT_EQ(0, st_klog_poll(self->klog, __splat,	\
					    sizeof(__splat)))		\
			TH_LOG("kernel: %s", __splat);			\
	})

/* In the child: open a container on edu @n as the user. */
#define user_container(n)						\
	({								\
		self->container = st_container_open(self->bdf[n],	\
						      &self->group);	\
		ASSERT_LE(0, self->container)				\
			TH_LOG("uid %d cannot open the container: %s",	\
			       USER_ID, strerror(errno));		\
	})

/*
 * A case whose body runs in a child as the user, with RLIMIT_MEMLOCK
 * @memlock: the body is a function of the child, and its EXPECT results
 * its exit status.  The parent then checks that the child passed, that
 * every page pinned was released when @pins_released, and that the
 * kernel logged nothing bad.
 */
#define TEST_USER(name, memlock, pins_released)				\
	static void user_##name(struct __test_metadata *_metadata,	\
				FIXTURE_DATA(unpriv) *self);		\
	TEST_F(unpriv, name)						\
	{								\
		pid_t pid = user_fork(memlock);				\
									\
		if (!pid) {						\
			user_##name(_metadata, self);			\
			user_exit();					\
		}							\
		user_wait(pid);						\
		if (pins_released)					\
			EXPECT_EQ(self->pins, wait_pins(self->pins));	\
		klog_clean();						\
	}								\
	static void user_##name(struct __test_metadata *_metadata,	\
				FIXTURE_DATA(unpriv) *self)

/* Every command with valid arguments, within the limit. */
TEST_USER(every_ioctl_valid, SMALL_LIMIT, true)
{
	struct iommu_reg_sva_device devs[4];
	struct iommu_reg_sva_info sva = {
		.argsz = sizeof(sva),
		.num_devices = 4,
		.entry_size = sizeof(devs[0]),
		.devices = (uintptr_t)devs,
	};
	struct iommu_reg_sva_bind bind = { .argsz = sizeof(bind) };
	struct iommu_reg_sva_unbind unbind = { .argsz = sizeof(unbind) };
	struct iommu_reg_notify notify = { .argsz = sizeof(notify) };
	uint8_t t1buf[256] = { 0 };
	struct vfio_iommu_type1_info *t1 = (void *)t1buf;
	struct iommu_reg_info info;
	int dev;
	long long vmpin = st_status_bytes("VmPin");
	uint64_t iova, unmapped;
	uint32_t h, refs;
	int container, group;
	void *status;

	/* Before and after selecting the backend. */
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, container);
	EXPECT_EQ(1, ioctl(container, VFIO_CHECK_EXTENSION,
			   VFIO_IOMMU_REG));
	group = vfio_group_open(self->bdf[0]);
	ASSERT_LE(0, group);
	ASSERT_EQ(0, vfio_container_attach(container, group,
					   VFIO_IOMMU_REG));
	self->container = container;
	self->group = group;
	EXPECT_EQ(1, ioctl(container, VFIO_CHECK_EXTENSION,
			   VFIO_IOMMU_REG));
	EXPECT_EQ(1, ioctl(container, VFIO_CHECK_EXTENSION,
			   VFIO_UNMAP_ALL));
	EXPECT_EQ(0, ioctl(container, VFIO_CHECK_EXTENSION,
			   VFIO_UPDATE_VADDR));

	test_info(&info);
	EXPECT_EQ(1, info.num_groups);
	EXPECT_EQ(0, info.pinned_pages);

	test_prereg(self->mem, 16 * 1024, 0, &h, &refs);
	EXPECT_EQ(1, refs);
	EXPECT_EQ(vmpin + 16 * 1024, st_status_bytes("VmPin"));
	test_map(h, 0, 16 * 1024, ST_PROT_RW, 0, &iova);
	test_unmap(iova, 16 * 1024, 0, &unmapped);
	EXPECT_EQ(16 * 1024, unmapped);
	test_unreg(h, 0);

	test_register(self->mem, 16 * 1024, 0, ST_PROT_RW, &h, &iova);
	test_counts(1, 1, 4);
	test_unreg(h, 0);

	ASSERT_EQ(0, ioctl(container, IOMMU_REG_NOTIFY, &notify));
	status = mmap(NULL, notify.status_size, PROT_READ, MAP_SHARED,
		      notify.fd, 0);
	ASSERT_NE(MAP_FAILED, status);
	EXPECT_EQ(IOMMU_REG_STATUS_MAGIC,
		  ((struct iommu_reg_status *)status)->magic);
	munmap(status, notify.status_size);
	close(notify.fd);

	ASSERT_EQ(0, ioctl(container, IOMMU_REG_SVA_INFO, &sva));
	EXPECT_EQ(1, sva.num_devices);
	ASSERT_EQ(0, st_pci_addr(self->bdf[0], &bind.pci_domain,
				 &bind.pci_rid));
	/* Not opened through VFIO: not the caller's to bind. */
	EXPECT_ERRNO(ENODEV,
		     ioctl(container, IOMMU_REG_SVA_BIND, &bind));
	/* Opened, the VM's edu still has no PASID: the contract. */
	dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
		    self->bdf[0]);
	ASSERT_LE(0, dev);
	EXPECT_ERRNO(EOPNOTSUPP,
		     ioctl(container, IOMMU_REG_SVA_BIND, &bind));
	close(dev);
	unbind.pci_domain = bind.pci_domain;
	unbind.pci_rid = bind.pci_rid;
	EXPECT_ERRNO(ENOENT,
		     ioctl(container, IOMMU_REG_SVA_UNBIND, &unbind));

	t1->argsz = sizeof(t1buf);
	ASSERT_EQ(0, ioctl(container, VFIO_IOMMU_GET_INFO, t1));
	EXPECT_TRUE(t1->flags & VFIO_IOMMU_INFO_PGSIZES);
	EXPECT_NE(0, t1->iova_pgsizes & PAGE);
	ASSERT_EQ(0, _test_type1_map(container, self->mem, 16 * 1024, T1_IOVA,
				     ST_T1_RW));
	ASSERT_EQ(0, _test_type1_unmap(container, T1_IOVA, 16 * 1024, 0,
				       &unmapped));
	EXPECT_EQ(16 * 1024, unmapped);

	test_counts(0, 0, 0);
	EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
}

/*
 * Write-combining BAR mappings let a process choose the memory type of
 * device memory: the fix requires CAP_SYS_RAWIO for them, so an
 * unprivileged caller gets EPERM.
 */
TEST_USER(wc_bar_needs_cap_sys_rawio, SMALL_LIMIT, false)
{
	struct iommu_reg_wc_bar wc = { .argsz = sizeof(wc) };
	int device, ret;

	user_container(0);
	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
		       self->bdf[0]);
	ASSERT_LE(0, device);
	ASSERT_EQ(0, st_pci_addr(self->bdf[0], &wc.pci_domain,
				 &wc.pci_rid));
	wc.bar = 0;
	ret = ioctl(self->container, IOMMU_REG_WC_BAR, &wc);
	EXPECT_EQ(EPERM, ret ? errno : 0)
		TH_LOG("uid %d: %s", USER_ID, ret ? strerror(errno) :
		       "got a write-combining BAR fd");
	if (!ret)
		close(wc.fd);
	close(device);
}

/*
 * 256 MiB against a 64 KiB RLIMIT_MEMLOCK: ENOMEM, and the limit is
 * checked before pinning, so not one page is pinned (or even faulted
 * in) on the way.  Pin acquisitions are counted by the root parent.
 */
TEST_F(unpriv, memlock_charged_before_pinning)
{
	const size_t big = 256UL << 20;
	struct st_stages stages;
	long long before, after;
	pid_t pid;

	ASSERT_EQ(0, st_stages_open(&stages));
	pid = user_fork(SMALL_LIMIT);
	if (!pid) {
		uint8_t *p = mmap(NULL, big, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		long long rss, vmpin;
		uint64_t t0;

		st_stages_child(&stages);
		ASSERT_NE(MAP_FAILED, p);
		user_container(0);
		rss = st_status_bytes("VmRSS");
		vmpin = st_status_bytes("VmPin");
		ASSERT_TRUE(st_child_stage(&stages));

		t0 = clock_now_us();
		test_err_prereg(ENOMEM, p, big, 0);
		TH_LOG("PREREG of 256 MiB over a 64 KiB limit: %.3f s",
		       (clock_now_us() - t0) / 1e6);
		test_err_register(ENOMEM, p, big, 0, ST_PROT_RW, 0);
		test_err_type1_map(ENOMEM, p, big, T1_IOVA, ST_T1_RW);
		test_counts(0, 0, 0);
		EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
		EXPECT_EQ(0, vmpin);
		/* Nothing was faulted in to be pinned either. */
		EXPECT_GT(rss + (4 << 20), st_status_bytes("VmRSS"))
			TH_LOG("VmRSS grew by %lld KiB",
			       (st_status_bytes("VmRSS") - rss) >> 10);
		ASSERT_TRUE(st_child_stage(&stages));
		user_exit();
	}
	/* Only the child writes up and reads down: EOF if it dies. */
	st_stages_parent(&stages);
	ASSERT_TRUE(st_parent_wait(&stages));
	before = pins_acquired();
	st_parent_go(&stages);
	ASSERT_TRUE(st_parent_wait(&stages));
	after = pins_acquired();
	st_parent_go(&stages);
	/* At most the limit per call, for a kernel that charges as it pins. */
	EXPECT_GE(3 * SMALL_LIMIT / PAGE, after - before)
		TH_LOG("%lld pages were pinned (and released) for 3 calls that fail with ENOMEM",
		       after - before);
	user_wait(pid);
	EXPECT_EQ(self->pins, wait_pins(self->pins));
	klog_clean();
}

/* Within the limit, then over it: ENOMEM and nothing past the limit. */
TEST_F(unpriv, over_limit_pins_nothing)
{
	struct st_stages stages;
	pid_t pid;

	ASSERT_EQ(0, st_stages_open(&stages));
	pid = user_fork(SMALL_LIMIT);
	if (!pid) {
		uint8_t *p = self->mem;
		long long vmpin = st_status_bytes("VmPin");
		uint32_t h;

		st_stages_child(&stages);
		user_container(0);
		test_prereg(p, 48 * 1024, 0, &h, NULL);
		test_err_prereg(ENOMEM, p + 64 * 1024, 32 * 1024, 0);
		test_err_prereg(ENOMEM, p + 64 * 1024, 32 * 1024,
				IOMMU_REG_REGION_READONLY);
		test_err_register(ENOMEM, p + 64 * 1024, 32 * 1024, 0,
				  ST_PROT_RW, 0);
		test_err_type1_map(ENOMEM, p + 64 * 1024, 32 * 1024, T1_IOVA,
				   ST_T1_RW);
		/* Inside the pre-registered region: nothing new to charge. */
		EXPECT_EQ(0, _test_type1_map(self->container, p, 16 * 1024, T1_IOVA,
					     ST_T1_RW));
		test_counts(1, 1, 12);
		EXPECT_EQ(vmpin + 48 * 1024, st_status_bytes("VmPin"));
		ASSERT_TRUE(st_child_stage(&stages));
		user_exit();
	}
	st_stages_parent(&stages);
	if (st_parent_wait(&stages))
		EXPECT_EQ(self->pins + 12, st_foll_pins());
	st_parent_go(&stages);
	user_wait(pid);
	EXPECT_EQ(self->pins, wait_pins(self->pins));
	klog_clean();
}

/*
 * Ranges past the user address space, from 2^40 to 2^64 - 4096: they
 * fail with an errno of the contract, pin nothing, and the kernel does
 * not warn (a user-sized allocation must not reach kvmalloc()'s WARN).
 */
TEST_F(unpriv, huge_sizes_fail_cleanly)
{
	static const uint64_t sizes[] = {
		1ULL << 40, 1ULL << 47, 1ULL << 63, -PAGE,
	};
	long long before = pins_acquired();
	pid_t pid = user_fork(SMALL_LIMIT);

	if (!pid) {
		uint64_t vaddrs[2] = { (uintptr_t)self->mem, 0 };
		long long vmpin = st_status_bytes("VmPin");
		unsigned int i, j;
		int e;

		user_container(0);
		for (i = 0; i < 4; i++) {
			for (j = 0; j < 2; j++) {
				e = err_of(_test_prereg(self->container,
							(void *)(uintptr_t)vaddrs[j],
						sizes[i], 0, NULL, NULL));
				EXPECT_TRUE(e == ENOMEM || e == EINVAL ||
					    e == EOVERFLOW || e == EFAULT)
					TH_LOG("PREREG %#llx+%#llx: %s",
					       (unsigned long long)vaddrs[j],
					       (unsigned long long)sizes[i],
					       e ? strerror(e) : "success");
				e = err_of(_test_register(self->container,
							  (void *)(uintptr_t)vaddrs[j],
						sizes[i], 0, ST_PROT_RW,
						NULL, NULL));
				EXPECT_TRUE(e == ENOMEM || e == EINVAL ||
					    e == EOVERFLOW || e == EFAULT)
					TH_LOG("REGISTER %#llx+%#llx: %s",
					       (unsigned long long)vaddrs[j],
					       (unsigned long long)sizes[i],
					       e ? strerror(e) : "success");
				e = err_of(_test_type1_map(self->container,
							   (void *)(uintptr_t)vaddrs[j], sizes[i],
							  T1_IOVA, ST_T1_RW));
				EXPECT_TRUE(e == ENOMEM || e == EINVAL ||
					    e == EOVERFLOW || e == EFAULT)
					TH_LOG("MAP_DMA %#llx+%#llx: %s",
					       (unsigned long long)vaddrs[j],
					       (unsigned long long)sizes[i],
					       e ? strerror(e) : "success");
			}
		}
		test_counts(0, 0, 0);
		EXPECT_EQ(vmpin, st_status_bytes("VmPin"));
		user_exit();
	}
	user_wait(pid);
	/* 24 calls, at most the limit each. */
	EXPECT_GE(24 * SMALL_LIMIT / PAGE, pins_acquired() - before);
	EXPECT_EQ(self->pins, wait_pins(self->pins));
	klog_clean();
}

/* An unknown flag or a non-zero reserved field: EINVAL, nothing done. */
TEST_USER(unknown_flags, SMALL_LIMIT, false)
{
	uint8_t *p = self->mem;
	uint32_t bit, h;
	int fd;

	user_container(0);
	fd = self->container;
	test_prereg(p, PAGE, 0, &h, NULL);
	for (bit = 2; bit < 32; bit++) {
		uint32_t f = 1U << bit;
		struct iommu_reg_info info = { .argsz = sizeof(info),
					       .flags = f };
		struct iommu_reg_notify n = { .argsz = sizeof(n),
					      .flags = f };
		struct iommu_reg_sva_info si = { .argsz = sizeof(si),
						 .flags = f,
						 .entry_size = 40 };
		struct iommu_reg_sva_bind sb = { .argsz = sizeof(sb),
						 .flags = f };
		struct iommu_reg_sva_unbind su = { .argsz = sizeof(su),
						   .flags = f };
		struct vfio_iommu_type1_dma_map dm = {
			.argsz = sizeof(dm),
			.flags = f | VFIO_DMA_MAP_FLAG_READ,
			.vaddr = (uintptr_t)p, .iova = T1_IOVA,
			.size = PAGE,
		};
		struct vfio_iommu_type1_dma_unmap du = {
			.argsz = sizeof(du), .flags = f,
			.iova = T1_IOVA, .size = PAGE,
		};

		if (f == IOMMU_REG_MAP_IOVA_FIXED ||
		    f == IOMMU_REG_MAP_IOVA_IDENTITY)
			continue;
		EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_REG_INFO, &info));
		EXPECT_ERRNO(EINVAL, _test_prereg(fd, p + PAGE, PAGE,
						  f, NULL, NULL));
		EXPECT_ERRNO(EINVAL, _test_map(fd, h, 0, PAGE,
					       ST_PROT_RW, f, NULL));
		EXPECT_ERRNO(EINVAL, _test_unmap(fd, 0, PAGE, f, NULL));
		EXPECT_ERRNO(EINVAL, _test_unreg(fd, h, f));
		EXPECT_ERRNO(EINVAL, _test_register(fd, p + PAGE, PAGE,
						    f, ST_PROT_RW,
						    NULL, NULL));
		EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_REG_NOTIFY, &n));
		EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_REG_SVA_INFO, &si));
		EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_REG_SVA_BIND, &sb));
		EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_REG_SVA_UNBIND,
					   &su));
		EXPECT_ERRNO(EINVAL, ioctl(fd, VFIO_IOMMU_MAP_DMA, &dm));
		EXPECT_ERRNO(EINVAL, ioctl(fd, VFIO_IOMMU_UNMAP_DMA,
					   &du));
	}
	{
		struct iommu_reg_unreg u = { .argsz = sizeof(u),
					     .handle = h,
					     .__reserved = 1 };
		struct iommu_reg_sva_bind sb = { .argsz = sizeof(sb),
						 .__reserved = 1 };
		struct iommu_reg_wc_bar wc = { .argsz = sizeof(wc),
					       .flags = 1 };
		int e;

		EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_REG_UNREG, &u));
		EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_REG_SVA_BIND, &sb));
		/* EPERM once WC BARs need CAP_SYS_RAWIO. */
		e = err_of(ioctl(fd, IOMMU_REG_WC_BAR, &wc));
		EXPECT_TRUE(e == EINVAL || e == EPERM)
			TH_LOG("WC_BAR flags 1: %s", strerror(e));
		/* prot: none, or an unknown bit. */
		EXPECT_ERRNO(EINVAL, _test_map(fd, h, 0, PAGE, 0, 0,
					       NULL));
		EXPECT_ERRNO(EINVAL, _test_map(fd, h, 0, PAGE, 4, 0,
					       NULL));
		/* Both placements at once. */
		EXPECT_ERRNO(EINVAL, _test_map(fd, h, 0, PAGE,
					       ST_PROT_RW,
				IOMMU_REG_MAP_IOVA_FIXED |
				IOMMU_REG_MAP_IOVA_IDENTITY, NULL));
	}
	test_counts(1, 0, 1);
}

/* Zero lengths and addresses or lengths off the page: EINVAL. */
TEST_USER(misaligned_and_zero, SMALL_LIMIT, false)
{
	uint8_t *p = self->mem;
	uint64_t iova;
	uint32_t h;
	int fd;

	user_container(0);
	fd = self->container;
	test_prereg(p, 4 * PAGE, 0, &h, NULL);
	test_map(h, 0, PAGE, ST_PROT_RW, 0, &iova);

	test_err_prereg(EINVAL, p + 1, PAGE, 0);
	test_err_prereg(EINVAL, p, 100, 0);
	test_err_prereg(EINVAL, p, 0, 0);
	test_err_register(EINVAL, p + 8, PAGE, 0, ST_PROT_RW, 0);
	test_err_register(EINVAL, p, 0, 0, ST_PROT_RW, 0);
	test_err_map(EINVAL, h, 1, PAGE, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, h, 0, PAGE + 1, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, h, 0, 0, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, h, 0, 5 * PAGE, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, h, 4 * PAGE, PAGE, ST_PROT_RW, 0, 0);
	test_err_map(EINVAL, h, 0, PAGE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, T1_IOVA + 8);
	test_err_unmap(EINVAL, iova + 1, PAGE, 0);
	test_err_unmap(EINVAL, iova, 0, 0);
	test_err_unmap(EINVAL, iova, PAGE / 2, 0);
	/* UNMAP_ALL takes no range. */
	test_err_unmap(EINVAL, iova, PAGE, IOMMU_REG_UNMAP_ALL);
	EXPECT_ERRNO(EINVAL, _test_type1_map(fd, p + 1, PAGE, T1_IOVA,
					     ST_T1_RW));
	EXPECT_ERRNO(EINVAL, _test_type1_map(fd, p, PAGE, T1_IOVA + 1,
					     ST_T1_RW));
	EXPECT_ERRNO(EINVAL, _test_type1_map(fd, p, 0, T1_IOVA,
					     ST_T1_RW));
	EXPECT_ERRNO(EINVAL, _test_type1_map(fd, p, 100, T1_IOVA,
					     ST_T1_RW));
	EXPECT_ERRNO(EINVAL, _test_type1_unmap(fd, T1_IOVA, 0, 0, NULL));
	EXPECT_ERRNO(EINVAL, _test_type1_unmap(fd, T1_IOVA + 1, PAGE, 0, NULL));
	EXPECT_ERRNO(EINVAL, _test_type1_unmap(fd, T1_IOVA, PAGE,
					       VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	test_counts(1, 1, 4);
}

/* Ranges that wrap: EOVERFLOW for ours, EINVAL for type1's. */
TEST_USER(overflowing_ranges, SMALL_LIMIT, false)
{
	uint8_t *p = self->mem;
	uint64_t top = -PAGE;
	uint32_t h;
	int fd;

	user_container(0);
	fd = self->container;
	test_prereg(p, 4 * PAGE, 0, &h, NULL);

	test_err_prereg(EOVERFLOW, (void *)(uintptr_t)top, 2 * PAGE, 0);
	test_err_register(EOVERFLOW, (void *)(uintptr_t)top, 2 * PAGE,
			  0, ST_PROT_RW, 0);
	test_err_map(EOVERFLOW, h, top, 2 * PAGE, ST_PROT_RW, 0, 0);
	test_err_unmap(EOVERFLOW, top, 2 * PAGE, 0);
	EXPECT_ERRNO(EINVAL, _test_type1_map(fd, (void *)(uintptr_t)top, 2 * PAGE,
					     T1_IOVA, ST_T1_RW));
	EXPECT_ERRNO(EINVAL, _test_type1_map(fd, p, 2 * PAGE, top,
					     ST_T1_RW));
	EXPECT_ERRNO(EINVAL, _test_type1_unmap(fd, top, 2 * PAGE, 0, NULL));
	/* A fixed IOVA whose end wraps. */
	test_err_map(EOVERFLOW, h, 0, 2 * PAGE, ST_PROT_RW,
		     IOMMU_REG_MAP_IOVA_FIXED, top);
	test_counts(1, 0, 4);
}

/* Memory that is not there, or not writable, or a bad pointer: EFAULT. */
TEST_USER(unmapped_memory_efault, SMALL_LIMIT, true)
{
	struct iommu_reg_info info = {
		.argsz = sizeof(info),
		.num_iova_ranges = 4,
		.iova_ranges = 4096,
	};
	uint8_t *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
			  -1, 0);
	int fd;

	ASSERT_NE(MAP_FAILED, p);
	user_container(0);
	fd = self->container;
	ASSERT_EQ(0, munmap(p, PAGE));
	ASSERT_EQ(0, mprotect(p + PAGE, PAGE, PROT_NONE));
	ASSERT_EQ(0, mprotect(p + 2 * PAGE, PAGE, PROT_READ));

	test_err_prereg(EFAULT, p, PAGE, 0);
	test_err_prereg(EFAULT, p + PAGE, PAGE, 0);
	test_err_prereg(EFAULT, p + 2 * PAGE, PAGE, 0);
	test_err_prereg(EFAULT, p, 4 * PAGE, 0);
	test_err_register(EFAULT, p, PAGE, 0, ST_PROT_RW, 0);
	EXPECT_ERRNO(EFAULT, _test_type1_map(fd, p, PAGE, T1_IOVA,
					     ST_T1_RW));
	EXPECT_ERRNO(EFAULT, ioctl(fd, IOMMU_REG_INFO, &info));
	/* Read-only memory pinned read-only is fine. */
	EXPECT_EQ(0, _test_prereg(fd, p + 2 * PAGE, PAGE,
				  IOMMU_REG_REGION_READONLY, NULL,
				  NULL));
	test_counts(1, 0, 1);
}

/*
 * Handles and IOVAs of another container (the other edu's group) mean
 * nothing here; and a handle or mapping goes only once.
 */
TEST_F(unpriv, foreign_handles)
{
	pid_t pid;

	if (!self->bdf[1])
		SKIP(return, "one edu device: no second group");
	pid = user_fork(SMALL_LIMIT);
	if (!pid) {
		uint8_t *p = self->mem;
		uint64_t iova, unmapped;
		int other, group;
		uint32_t h;

		user_container(0);
		other = st_container_open(self->bdf[1], &group);
		ASSERT_LE(0, other);
		/* The other container's handle 1 and its mapping. */
		ASSERT_EQ(0, _test_register(other, p, 2 * PAGE, 0,
					    ST_PROT_RW, &h, &iova));
		ASSERT_EQ(0, _test_type1_map(other, p + 4 * PAGE, PAGE, T1_IOVA,
					     ST_T1_RW));

		test_err_unreg(ENOENT, h, 0);
		test_err_unreg(ENOENT, h, IOMMU_REG_UNREG_UNMAP);
		test_err_map(ENOENT, h, 0, PAGE, ST_PROT_RW, 0, 0);
		test_err_unmap(ENOENT, iova, 2 * PAGE, 0);
		test_unmap(0, 0, IOMMU_REG_UNMAP_ALL, &unmapped);
		EXPECT_EQ(0, unmapped);
		test_type1_unmap(T1_IOVA, PAGE, 0, 0);
		test_type1_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0);
		test_counts(0, 0, 0);

		/* The other container still has everything. */
		test_fd_counts(other, 2, 2, 3);
		close(group);
		close(other);
		user_exit();
	}
	user_wait(pid);
	EXPECT_EQ(self->pins, wait_pins(self->pins));
	klog_clean();
}

/* The second UNREG, UNMAP and UNMAP_DMA of the same thing. */
TEST_USER(double_unreg_unmap, SMALL_LIMIT, true)
{
	uint8_t *p = self->mem;
	uint64_t iova, unmapped;
	uint32_t h, h2;

	user_container(0);
	test_prereg(p, 2 * PAGE, 0, &h, NULL);
	test_map(h, 0, 2 * PAGE, ST_PROT_RW, 0, &iova);
	test_unmap(iova, 2 * PAGE, 0, &unmapped);
	test_err_unmap(ENOENT, iova, 2 * PAGE, 0);
	test_unreg(h, 0);
	test_err_unreg(ENOENT, h, 0);
	test_err_unreg(ENOENT, h, IOMMU_REG_UNREG_UNMAP);

	test_register(p, 2 * PAGE, 0, ST_PROT_RW, &h2, NULL);
	test_unreg(h2, 0);
	test_err_unreg(ENOENT, h2, 0);

	test_type1_map(p, PAGE, T1_IOVA, ST_T1_RW);
	test_type1_unmap(T1_IOVA, PAGE, 0, PAGE);
	/* type1 answers an unmap of nothing with success, size 0. */
	test_type1_unmap(T1_IOVA, PAGE, 0, 0);
	test_counts(0, 0, 0);
}

/*
 * The charge must follow the user, not the mm: a child that registers
 * up to the limit and exits, leaving its region in the container the
 * parent keeps open, still counts against the user.  Otherwise one user
 * pins N times its limit with N short-lived children.
 */
TEST_F(unpriv, accounting_survives_exit)
{
	const size_t limit = 1UL << 20;
	struct st_stages stages;
	pid_t pid;

	ASSERT_EQ(0, st_stages_open(&stages));
	pid = user_fork(limit);
	if (!pid) {
		uint8_t *p = self->mem;
		int status, ret;
		pid_t child;

		st_stages_child(&stages);
		user_container(0);
		/* Child 1: registers its limit and exits without UNREG. */
		child = fork();
		ASSERT_LE(0, child);
		if (!child)
			_exit(_test_prereg(self->container, p, limit, 0,
					   NULL, NULL) ? 10 + errno : 0);
		ASSERT_EQ(child, waitpid(child, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child 1 could not register its limit: %d",
			       WEXITSTATUS(status));
		test_counts(1, 0, limit / PAGE);
		ASSERT_TRUE(st_child_stage(&stages));

		/* Child 2: the user's limit is used up. */
		child = fork();
		ASSERT_LE(0, child);
		if (!child) {
			ret = _test_prereg(self->container, p + limit, limit, 0,
					   NULL, NULL);
			_exit(ret ? (errno == ENOMEM ? 0 : 10 + errno) : 1);
		}
		ASSERT_EQ(child, waitpid(child, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child 2: %s", WEXITSTATUS(status) == 1 ?
			       "registered another 1 MiB past the user's 1 MiB limit" :
			       strerror(WEXITSTATUS(status) - 10));
		/* And the parent of both, for that matter. */
		ret = _test_prereg(self->container, p + 2 * limit, limit, 0,
				   NULL, NULL);
		EXPECT_EQ(ENOMEM, ret ? errno : 0)
			TH_LOG("the parent registered 1 MiB more: %s",
			       ret ? strerror(errno) : "success");
		ASSERT_TRUE(st_child_stage(&stages));
		user_exit();
	}
	st_stages_parent(&stages);
	if (st_parent_wait(&stages))
		EXPECT_EQ(self->pins + 256, st_foll_pins());
	st_parent_go(&stages);
	if (st_parent_wait(&stages))
		EXPECT_GE(self->pins + 256, st_foll_pins())
			TH_LOG("uid %d holds %lld pages pinned with a 256-page limit",
			       USER_ID, st_foll_pins() - self->pins);
	st_parent_go(&stages);
	user_wait(pid);
	EXPECT_EQ(self->pins, wait_pins(self->pins));
	klog_clean();
}

struct parked {
	struct st_uffd *u;
	int fd;
};

/* Once the kernel is parked on the page: tell the parent, fill it 3 s on. */
static void *release_later(void *arg)
{
	struct parked *r = arg;

	while (!r->u->faults)
		usleep(1000);
	st_signal_fd(r->fd);
	sleep(3);
	r->u->hold = false;
	return NULL;
}

/*
 * The start of a stall case: two edu devices, and userfaultfd allowed to
 * the user (the fixture's teardown restores the sysctl).
 */
#define stall_begin()							\
	do {								\
		if (!self->bdf[1])					\
			SKIP(return, "one edu device: no second group"); \
		self->uffd_sysctl_saved = read_sysctl(UFFD_SYSCTL);	\
		if (self->uffd_sysctl_saved < 0)			\
			SKIP(return, "no %s", UFFD_SYSCTL);		\
		ASSERT_EQ(0, write_sysctl(UFFD_SYSCTL, 1));		\
	} while (0)

/*
 * An ioctl parked on a user page fault (a userfaultfd page nobody fills)
 * must hold up only its own container: another process closing its own
 * container, and opening and selecting the backend again, must not wait
 * for it.
 */
TEST_F_TIMEOUT(unpriv, stall_other_container, 120)
{
	int p1_up[2], p2_up[2], go[2];
	pid_t p1, p2;

	stall_begin();
	ASSERT_EQ(0, pipe(p1_up));
	ASSERT_EQ(0, pipe(p2_up));
	ASSERT_EQ(0, pipe(go));

	/* P2: its own container on the other group, open before the stall. */
	p2 = user_fork(SMALL_LIMIT);
	if (!p2) {
		uint64_t t0, t_close, t_open;

		close(go[1]);
		close(p1_up[0]);
		close(p1_up[1]);
		close(p2_up[0]);
		user_container(1);
		st_signal_fd(p2_up[1]);
		ASSERT_TRUE(st_wait_fd(go[0]));

		t0 = clock_now_us();
		close(self->group);
		close(self->container);
		self->group = self->container = -1;
		t_close = clock_now_us() - t0;
		t0 = clock_now_us();
		user_container(1);
		t_open = clock_now_us() - t0;
		TH_LOG("while another process's ioctl is parked: close %.3f s, open and VFIO_SET_IOMMU %.3f s",
		       t_close / 1e6, t_open / 1e6);
		EXPECT_GT(1000000, t_close);
		EXPECT_GT(1000000, t_open);
		user_exit();
	}

	/* P1: PREREG whose command struct sits on an unfilled uffd page. */
	p1 = user_fork(SMALL_LIMIT);
	if (!p1) {
		struct parked r;
		struct st_uffd u;
		struct iommu_reg_prereg *t;
		pthread_t th;
		uint64_t t0;
		int ret;

		close(go[0]);
		close(go[1]);
		close(p2_up[0]);
		close(p2_up[1]);
		close(p1_up[0]);
		user_container(0);
		ASSERT_EQ(0, st_uffd_create(&u, PAGE, 0))
			TH_LOG("userfaultfd: %s", strerror(errno));
		t = (void *)u.tmpl;
		t->argsz = sizeof(*t);
		t->vaddr = (uintptr_t)self->mem;
		t->size = PAGE;
		u.hold = true;
		t0 = clock_now_us();
		r.u = &u;
		r.fd = p1_up[1];
		ASSERT_EQ(0, pthread_create(&th, NULL, release_later, &r));
		ret = ioctl(self->container, IOMMU_REG_PREREG, u.area);
		pthread_join(th, NULL);
		TH_LOG("the parked PREREG returned %d after %.1f s", ret,
		       (clock_now_us() - t0) / 1e6);
		st_uffd_destroy(&u);
		user_exit();
	}

	close(p1_up[1]);
	close(p2_up[1]);
	close(go[0]);
	ASSERT_TRUE(st_wait_fd(p2_up[0]));
	ASSERT_TRUE(st_wait_fd(p1_up[0]));
	st_signal_fd(go[1]);
	user_wait(p2);
	user_wait(p1);
	klog_clean();
}

struct parked_info {
	int container;
	struct st_uffd *u;
	int ret;
};

/* IOMMU_REG_INFO writing its ranges to the unfilled page: parks. */
static void *info_parked(void *arg)
{
	struct parked_info *x = arg;
	struct iommu_reg_info info = {
		.argsz = sizeof(info),
		.num_iova_ranges = 4,
		.iova_ranges = (uintptr_t)x->u->area,
	};

	x->ret = ioctl(x->container, IOMMU_REG_INFO, &info);
	return NULL;
}

/* A dump of this user's own containers (allowed without privilege). */
static void *dump_containers(void *arg)
{
	struct nl *nl = malloc(sizeof(*nl));
	struct nlmsghdr *nlh;
	char buf[256];

	if (!nl || nl_open(nl))
		return NULL;
	nlh = msg_start(nl, buf, nl->family, NLM_F_DUMP,
			IOMMU_REG_CMD_CONTAINER_GET);
	nl_request(nl, nlh, NULL, NULL);
	close(nl->fd);
	free(nl);
	return NULL;
}

/*
 * The same with the container lock: IOMMU_REG_INFO parked writing its
 * output (under its container's lock), and the same user's netlink dump
 * of its own containers waiting for that lock.  Another user's
 * VFIO_SET_IOMMU on its own container, and its close, must not wait.
 */
TEST_F_TIMEOUT(unpriv, stall_set_iommu, 120)
{
	int p1_up[2];
	pid_t p1, p2;

	stall_begin();
	ASSERT_EQ(0, pipe(p1_up));

	p1 = user_fork(SMALL_LIMIT);
	if (!p1) {
		struct parked_info x = { .ret = -2 };
		struct st_uffd u;
		pthread_t info_th, dump_th;

		close(p1_up[0]);
		user_container(0);
		ASSERT_EQ(0, st_uffd_create(&u, PAGE, 0))
			TH_LOG("userfaultfd: %s", strerror(errno));
		u.hold = true;
		x.container = self->container;
		x.u = &u;
		ASSERT_EQ(0, pthread_create(&info_th, NULL, info_parked, &x));
		while (!u.faults)
			usleep(1000);
		ASSERT_EQ(0, pthread_create(&dump_th, NULL, dump_containers,
					    NULL));
		usleep(200000);		/* the dump reaches the lock */
		st_signal_fd(p1_up[1]);
		sleep(3);
		u.hold = false;
		pthread_join(info_th, NULL);
		pthread_join(dump_th, NULL);
		EXPECT_EQ(0, x.ret);
		st_uffd_destroy(&u);
		user_exit();
	}
	close(p1_up[1]);
	ASSERT_TRUE(st_wait_fd(p1_up[0]));

	p2 = user_fork(SMALL_LIMIT);
	if (!p2) {
		uint64_t t0, t_open, t_close;

		t0 = clock_now_us();
		user_container(1);
		t_open = clock_now_us() - t0;
		t0 = clock_now_us();
		close(self->group);
		close(self->container);
		self->group = self->container = -1;
		t_close = clock_now_us() - t0;
		TH_LOG("while another user's INFO is parked: open and VFIO_SET_IOMMU %.3f s, close %.3f s",
		       t_open / 1e6, t_close / 1e6);
		EXPECT_GT(1000000, t_open);
		EXPECT_GT(1000000, t_close);
		user_exit();
	}
	user_wait(p2);
	user_wait(p1);
	klog_clean();
}

/*
 * Register once, also after type1: PREREG of a range that MAP_DMA
 * mapped, twice, gives one handle (the implicit region reused, or one
 * new region), never a new region per call.
 */
TEST_USER(register_once_with_type1, 1UL << 20, true)
{
	uint8_t *p = self->mem;
	struct iommu_reg_info info;
	uint32_t h1, h2, refs;

	user_container(0);
	test_type1_map(p, 4 * PAGE, T1_IOVA, ST_T1_RW);
	test_prereg(p, 4 * PAGE, 0, &h1, NULL);
	test_prereg(p, 4 * PAGE, 0, &h2, &refs);
	EXPECT_EQ(h1, h2);
	EXPECT_EQ(2, refs);
	test_info(&info);
	EXPECT_GE(2, info.num_regions)
		TH_LOG("%u regions for one range registered twice",
		       info.num_regions);
}

/*
 * VFIO_IOMMU_GET_INFO writes no byte past argsz: with argsz 20 to 23
 * (room for cap_offset but not the whole struct) the kernel asks for
 * more room and leaves bytes argsz.. alone.
 */
TEST_USER(get_info_respects_argsz, SMALL_LIMIT, false)
{
	uint8_t buf[64];
	uint32_t argsz;
	unsigned int i;

	user_container(0);
	for (argsz = offsetofend(struct vfio_iommu_type1_info,
				 iova_pgsizes);
	     argsz < sizeof(struct vfio_iommu_type1_info) + 8;
	     argsz++) {
		memset(buf, 0xa5, sizeof(buf));
		memcpy(buf, &argsz, sizeof(argsz));
		ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO,
				   buf));
		for (i = argsz; i < sizeof(buf); i++)
			if (buf[i] != 0xa5)
				break;
		EXPECT_EQ(sizeof(buf), i)
			TH_LOG("argsz %u: byte %u written (%#x)", argsz,
			       i, buf[i]);
	}
}

/*
 * The DMA_AVAIL capability with max_regions lowered below the regions
 * a container already has: none are available (0), not 2^32 - n.
 */
TEST_F(unpriv, dma_avail_no_underflow)
{
	uint8_t buf[1024] = { 0 };
	struct vfio_iommu_type1_info *info = (void *)buf;
	struct vfio_iommu_type1_info_dma_avail *avail;
	uint8_t *p = self->mem;
	unsigned int i;

	self->max_regions_saved = st_param_get("max_regions");
	ASSERT_LT(0, self->max_regions_saved);
	self->container = st_container_open(self->bdf[0], &self->group);
	ASSERT_LE(0, self->container);
	for (i = 0; i < 3; i++)
		test_prereg(p + i * PAGE, PAGE, 0, NULL, NULL);
	ASSERT_EQ(0, st_param_set("max_regions", 1));

	info->argsz = sizeof(buf);
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, info));
	avail = (void *)type1_info_cap(buf, sizeof(buf),
			       VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_EQ(0, avail->avail)
		TH_LOG("max_regions 1 with 3 regions: %u available",
		       avail->avail);
	test_err_prereg(ENOSPC, p + 3 * PAGE, PAGE, 0);
	klog_clean();
}

/*
 * UNMAP_ALL (ours and type1's) removes a mapping that ends at the last
 * IOVA, 2^64 - 1, where "iova + length" wraps.  Only possible where the
 * aperture reaches that far.
 */
TEST_F(unpriv, unmap_all_reaches_top)
{
	struct iommu_reg_info info;
	uint64_t iova = -PAGE, unmapped;
	uint32_t h;

	self->container = st_container_open(self->bdf[0], &self->group);
	ASSERT_LE(0, self->container);
	test_info(&info);
	if (info.aperture_last != UINT64_MAX ||
	    !st_iova_usable(self->container, iova, PAGE))
		SKIP(return, "the aperture ends at %#llx (VT-d aw-bits): no mapping can end at 2^64 - 1",
		     (unsigned long long)info.aperture_last);
	test_prereg(self->mem, PAGE, 0, &h, NULL);
	test_map(h, 0, PAGE, ST_PROT_RW, IOMMU_REG_MAP_IOVA_FIXED, &iova);
	test_unmap(0, 0, IOMMU_REG_UNMAP_ALL, &unmapped);
	EXPECT_EQ(PAGE, unmapped);
	test_counts(1, 0, 1);
	test_type1_map(self->mem, PAGE, -PAGE, ST_T1_RW);
	test_type1_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, PAGE);
	test_counts(1, 0, 1);
}

TEST_HARNESS_MAIN
