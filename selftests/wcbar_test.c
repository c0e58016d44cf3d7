// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write-combining BAR mappings (IOMMU_REG_WC_BAR): edu's BAR0 mapped WC
 * works, PAT lists the range write-combining, bad requests are refused,
 * and a mapping left behind when the device leaves (device fd closed, in
 * this thread or another, group detached, container released) raises
 * SIGBUS on its next touch.  A caller without CAP_SYS_RAWIO (root without
 * the capability, or another user) is refused with EPERM and is left
 * with nothing: no fd, no mapping, no PAT reservation.  A page first
 * touched after memory decoding was turned off raises SIGBUS.
 *
 * The WC reservation is made before anything maps BAR0 through vfio-pci:
 * PAT keeps the memory type of the first mapping of a range.
 */
#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/pci_regs.h>
#include "reg_helpers.h"
#include "kselftest_harness.h"

#define EDU_REG_ID		0x00
#define EDU_REG_INVERT		0x04
#define EDU_BAR0_SIZE		(1U << 20)
#define PAGE_SZ			4096UL
#define PAT_LIST		"/sys/kernel/debug/x86/pat_memtype_list"

/* Physical start of BAR @bar of @bdf, from sysfs; 0 when unknown. */
static uint64_t wc_bar_phys(const char *bdf, unsigned int bar)
{
	unsigned long long start = 0, end, flags;
	char path[128], line[128];
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i <= bar && fgets(line, sizeof(line), f); i++)
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

/* The PAT memtype listed for a range starting at @phys, or NULL. */
static const char *wc_pat_type(uint64_t phys, uint64_t len, char *buf,
			       size_t size)
{
	unsigned long long start, end;
	char line[256], type[64];
	FILE *f = fopen(PAT_LIST, "r");
	const char *found = NULL;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "PAT: [mem 0x%llx-0x%llx] %63s", &start, &end,
			   type) != 3)
			continue;
		if (start == phys && end == phys + len) {
			snprintf(buf, size, "%s", type);
			found = buf;
		}
	}
	fclose(f);
	return found;
}

static int _test_wc_bar(int fd, uint32_t domain, uint32_t rid, uint32_t bar,
			uint64_t offset, uint64_t length,
			struct iommu_reg_wc_bar *out)
{
	struct iommu_reg_wc_bar cmd = {
		.argsz = sizeof(cmd),
		.pci_domain = domain,
		.pci_rid = rid,
		.bar = bar,
		.offset = offset,
		.length = length,
	};
	int ret = ioctl(fd, IOMMU_REG_WC_BAR, &cmd);

	if (!ret && out)
		*out = cmd;
	return ret;
}

FIXTURE(wcbar) {
	ST_DEVICE_FIXTURE;
};

/* vfio-pci enables memory decoding when the device is opened. */
FIXTURE_SETUP(wcbar)
{
	st_device_fixture_setup(st_edu_bdf(0));
}

FIXTURE_TEARDOWN(wcbar)
{
	st_device_fixture_teardown();
}

#define test_wc_bar(bar, offset, length, out_p)				\
	ASSERT_EQ(0, _test_wc_bar(self->container, self->domain,	\
				  self->rid, bar, offset, length, out_p))
#define test_err_wc_bar(_errno, bar, offset, length)			\
	EXPECT_ERRNO(_errno, _test_wc_bar(self->container, self->domain, \
					  self->rid, bar, offset, length, \
					  NULL))

/* Register write through the WC mapping, fence, read back. */
TEST_F(wcbar, invert_register)
{
	struct iommu_reg_wc_bar out;
	volatile uint32_t *regs;
	uint32_t val;

	test_wc_bar(0, 0, 0, &out);
	EXPECT_EQ(EDU_BAR0_SIZE, out.length);
	EXPECT_EQ(EDU_BAR0_SIZE, out.bar_size);
	ASSERT_LE(0, out.fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(out.fd, F_GETFD) & FD_CLOEXEC);

	regs = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    out.fd, 0);
	ASSERT_NE(MAP_FAILED, regs);
	/* edu's identification register: 0x010000ed. */
	EXPECT_EQ(0xed, regs[EDU_REG_ID / 4] & 0xff);

	for (val = 0x12345678; val < 0x12345678 + 4; val++) {
		regs[EDU_REG_INVERT / 4] = val;
		/* A WC store may sit in a buffer: flush it before the read. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		__asm__ volatile("sfence" ::: "memory");
		EXPECT_EQ(~val, regs[EDU_REG_INVERT / 4]);
	}

	/* The fd may go: the mapping holds it. */
	close(out.fd);
	regs[EDU_REG_INVERT / 4] = 0xf0f0f0f0;
	__asm__ volatile("sfence" ::: "memory");
	EXPECT_EQ(0x0f0f0f0f, regs[EDU_REG_INVERT / 4]);
	munmap((void *)regs, PAGE_SZ);
}

/* PAT lists the window write-combining while the fd lives, then not. */
TEST_F(wcbar, pat_memtype)
{
	uint64_t phys = wc_bar_phys(self->bdf, 0);
	struct iommu_reg_wc_bar out;
	char type[64];
	const char *t;

	if (access(PAT_LIST, R_OK))
		SKIP(return, "no %s (debugfs not mounted, or PAT off)",
		     PAT_LIST);
	ASSERT_NE(0, phys);

	test_wc_bar(0, 2 * PAGE_SZ, 4 * PAGE_SZ, &out);
	EXPECT_EQ(4 * PAGE_SZ, out.length);
	t = wc_pat_type(phys + 2 * PAGE_SZ, 4 * PAGE_SZ, type, sizeof(type));
	ASSERT_NE(NULL, t);
	EXPECT_STREQ("write-combining", t);

	close(out.fd);
	EXPECT_EQ(NULL, wc_pat_type(phys + 2 * PAGE_SZ, 4 * PAGE_SZ, type,
				    sizeof(type)));
}

TEST_F(wcbar, bad_requests)
{
	const char *bdf2 = st_edu_bdf(1);
	uint32_t domain2, rid2;

	/* BAR index out of range; a BAR edu does not implement. */
	test_err_wc_bar(EINVAL, 6, 0, 0);
	test_err_wc_bar(EINVAL, ~0U, 0, 0);
	test_err_wc_bar(ENOENT, 1, 0, 0);
	test_err_wc_bar(ENOENT, 5, 0, 0);
	/* Unaligned offset or length. */
	test_err_wc_bar(EINVAL, 0, 1, 0);
	test_err_wc_bar(EINVAL, 0, PAGE_SZ / 2, PAGE_SZ);
	test_err_wc_bar(EINVAL, 0, 0, PAGE_SZ + 1);
	/* Beyond the BAR. */
	test_err_wc_bar(ERANGE, 0, EDU_BAR0_SIZE, 0);
	test_err_wc_bar(ERANGE, 0, EDU_BAR0_SIZE, PAGE_SZ);
	test_err_wc_bar(ERANGE, 0, 0, EDU_BAR0_SIZE + PAGE_SZ);
	test_err_wc_bar(ERANGE, 0, EDU_BAR0_SIZE - PAGE_SZ, 2 * PAGE_SZ);
	test_err_wc_bar(ERANGE, 0, 1ULL << 52, PAGE_SZ);
	/* offset + length wraps. */
	test_err_wc_bar(EOVERFLOW, 0, PAGE_SZ, ~(PAGE_SZ - 1));
	/* Unknown flags. */
	{
		struct iommu_reg_wc_bar cmd = {
			.argsz = sizeof(cmd),
			.flags = 1,
			.pci_domain = self->domain,
			.pci_rid = self->rid,
		};

		EXPECT_ERRNO(EINVAL, ioctl(self->container, IOMMU_REG_WC_BAR,
					   &cmd));
	}
	/* No such device; a device that is not in this container. */
	EXPECT_ERRNO(ENOENT, _test_wc_bar(self->container, self->domain,
					  0xffff, 0, 0, 0, NULL));
	if (bdf2) {
		ASSERT_EQ(0, st_pci_addr(bdf2, &domain2, &rid2));
		EXPECT_ERRNO(ENOENT, _test_wc_bar(self->container, domain2,
						  rid2, 0, 0, 0, NULL));
	}
}

/* An I/O port BAR is refused with EOPNOTSUPP: edu has none. */
TEST_F(wcbar, io_bar)
{
	SKIP(return, "no device with an I/O BAR in the VM (edu has one memory BAR); the kernel returns EOPNOTSUPP for IORESOURCE_IO");
}

/* mmap() only MAP_SHARED, only inside the window. */
TEST_F(wcbar, mmap_bad)
{
	struct iommu_reg_wc_bar out;
	void *p;

	test_wc_bar(0, 0, 4 * PAGE_SZ, &out);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, out.fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 5 * PAGE_SZ, PROT_READ, MAP_SHARED,
				   out.fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED,
				   out.fd, 4 * PAGE_SZ));
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, out.fd, 3 * PAGE_SZ);
	ASSERT_NE(MAP_FAILED, p);
	/* No growing past the window either. */
	EXPECT_EQ(MAP_FAILED, mremap(p, PAGE_SZ, 2 * PAGE_SZ, 0));
	munmap(p, PAGE_SZ);
	close(out.fd);
}

/*
 * In a child: map and touch, let @leave take the device away, touch
 * again.  The parent sees the child die of SIGBUS at the second touch.
 */
enum wc_leave {
	WC_CLOSE_ALL,		/* device, fd, group and container closed */
	WC_DETACH,		/* device closed, the group leaves */
	WC_CLOSE_DEVICE,	/* only the device fd is closed */
	WC_CLOSE_DEVICE_THREAD,	/* the same, by another thread */
};

static void *wc_close_thread(void *arg)
{
	close(*(int *)arg);
	return NULL;
}

static void wc_child(struct __test_metadata *_metadata, const char *bdf,
		     enum wc_leave leave, unsigned int touch)
{
	const char *bdf0 = st_edu_bdf(0);
	uint32_t domain, rid;
	volatile uint32_t *regs;
	struct iommu_reg_wc_bar out;
	int container, group, group2 = -1, device, fd, status;
	pid_t pid;

	ASSERT_EQ(0, st_pci_addr(bdf, &domain, &rid));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		container = st_container_open(bdf0, &group);
		if (container < 0)
			_exit(10);
		if (strcmp(bdf, bdf0)) {
			group2 = vfio_group_open(bdf);
			if (group2 < 0 ||
			    ioctl(group2, VFIO_GROUP_SET_CONTAINER, &container))
				_exit(11);
		}
		device = ioctl(group2 >= 0 ? group2 : group,
			       VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (device < 0 ||
		    _test_wc_bar(container, domain, rid, 0, 0, 0, &out))
			_exit(12);
		regs = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
			    MAP_SHARED, out.fd, 0);
		if (regs == MAP_FAILED)
			_exit(13);
		fd = out.fd;
		regs[EDU_REG_INVERT / 4] = 7;
		__asm__ volatile("sfence" ::: "memory");
		if (regs[EDU_REG_INVERT / 4] != ~7U)
			_exit(14);

		if (leave == WC_CLOSE_DEVICE_THREAD) {
			pthread_t t;

			/* close() returns once VFIO's release has run. */
			if (pthread_create(&t, NULL, wc_close_thread, &device) ||
			    pthread_join(t, NULL))
				_exit(19);
			leave = WC_CLOSE_DEVICE;
		} else {
			close(device);
		}
		if (leave == WC_DETACH) {
			/* The group leaves; the container stays. */
			if (ioctl(group2, VFIO_GROUP_UNSET_CONTAINER))
				_exit(15);
		} else if (leave == WC_CLOSE_ALL) {
			close(fd);
			if (group2 >= 0)
				close(group2);
			close(group);
			close(container);
		}
		/* Revoked: a new mapping is refused... */
		if (leave != WC_CLOSE_ALL &&
		    (mmap(NULL, PAGE_SZ, PROT_READ, MAP_SHARED, fd, 0) !=
		     MAP_FAILED || errno != ENODEV))
			_exit(16);
		/* ...so is a new fd for the closed device... */
		if (leave == WC_CLOSE_DEVICE &&
		    (!_test_wc_bar(container, domain, rid, 0, 0, 0, NULL) ||
		     errno != ENODEV))
			_exit(18);
		/* ...and the old one raises SIGBUS, on any page. */
		(void)regs[touch / 4];
		_exit(17);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status))
		TH_LOG("child exited %d", WEXITSTATUS(status));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGBUS, WTERMSIG(status));
}

/*
 * A mapping revoked under a child that opened everything itself: each
 * variant is how @leave takes the device away and which offset is
 * touched (a page mapped before, or one never touched).  The child opens
 * edu device @edu; the second one's group is the one that leaves.
 */
FIXTURE(revoke) {
	const char *bdf;
};

FIXTURE_VARIANT(revoke) {
	enum wc_leave leave;
	unsigned int touch;
	unsigned int edu;
};

/* The container is released while mapped: a touch gets SIGBUS. */
FIXTURE_VARIANT_ADD(revoke, container_release) {
	.leave = WC_CLOSE_ALL, .touch = PAGE_SZ,
};

/* Revocation zaps pages already present, not only future faults. */
FIXTURE_VARIANT_ADD(revoke, zaps_present_pages) {
	.leave = WC_CLOSE_ALL, .touch = EDU_REG_INVERT,
};

/* The device's group leaves the container while mapped: SIGBUS too. */
FIXTURE_VARIANT_ADD(revoke, group_detach) {
	.leave = WC_DETACH, .touch = EDU_REG_INVERT, .edu = 1,
};

/*
 * Only the device fd is closed; group, container and the WC fd stay open.
 * VFIO's unregister_device callback revokes the fd: SIGBUS on touch, on a
 * present page and on a page never touched.
 */
FIXTURE_VARIANT_ADD(revoke, device_close) {
	.leave = WC_CLOSE_DEVICE, .touch = EDU_REG_INVERT,
};

FIXTURE_VARIANT_ADD(revoke, device_close_untouched) {
	.leave = WC_CLOSE_DEVICE, .touch = PAGE_SZ,
};

/* Another thread of the process closes the device fd: SIGBUS too. */
FIXTURE_VARIANT_ADD(revoke, device_close_other_thread) {
	.leave = WC_CLOSE_DEVICE_THREAD, .touch = EDU_REG_INVERT,
};

FIXTURE_SETUP(revoke)
{
	self->bdf = st_edu_bdf(variant->edu);
	if (!self->bdf)
		SETUP_SKIP("needs %u edu devices", variant->edu + 1);
}

FIXTURE_TEARDOWN(revoke)
{
}

TEST_F(revoke, sigbus)
{
	wc_child(_metadata, self->bdf, variant->leave, variant->touch);
}

/* Offset of config space in the device fd, or -1. */
static off_t wc_config_offset(int device)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -1;
	return info.offset;
}

/*
 * Memory decoding turned off through config space (the device fd, as a
 * user may): a page not yet touched must not be inserted, the fault raises
 * SIGBUS.  (Pages already present cannot be zapped on 6.1, which has no
 * hook for the config write; that is why the ioctl needs CAP_SYS_RAWIO.
 * The child touches none of them after the write.)
 */
TEST_F(wcbar, memory_disabled_fault_sigbus)
{
	struct iommu_reg_wc_bar out;
	volatile uint32_t *regs;
	uint16_t cmd;
	off_t cfg;
	int status;
	pid_t pid;

	cfg = wc_config_offset(self->device);
	ASSERT_LE(0, cfg);
	test_wc_bar(0, 0, 2 * PAGE_SZ, &out);
	regs = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		    out.fd, 0);
	ASSERT_NE(MAP_FAILED, regs);
	EXPECT_EQ(0xed, regs[EDU_REG_ID / 4] & 0xff);

	ASSERT_EQ(2, pread(self->device, &cmd, 2, cfg + PCI_COMMAND));
	ASSERT_TRUE(cmd & PCI_COMMAND_MEMORY);
	cmd &= ~PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, pwrite(self->device, &cmd, 2, cfg + PCI_COMMAND));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The second page was never touched. */
		(void)regs[PAGE_SZ / 4];
		_exit(17);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status))
		TH_LOG("child exited %d: page inserted with decoding off",
		       WEXITSTATUS(status));
	EXPECT_TRUE(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		EXPECT_EQ(SIGBUS, WTERMSIG(status));

	/* Decoding back on: the page can be inserted again. */
	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, pwrite(self->device, &cmd, 2, cfg + PCI_COMMAND));
	(void)regs[PAGE_SZ / 4];
	EXPECT_EQ(0xed, regs[EDU_REG_ID / 4] & 0xff);
	munmap((void *)regs, 2 * PAGE_SZ);
	close(out.fd);
}

/*
 * Callers without CAP_SYS_RAWIO.  In a child: lose the capability (or the
 * identity), open the container, group and device as that caller, ask for
 * BAR0 WC.  Exit status: 0 when refused with EPERM and nothing is left
 * behind; else the step that went wrong.
 */
enum wc_unpriv {
	WC_NO_RAWIO,		/* root, CAP_SYS_RAWIO dropped */
	WC_NOBODY,		/* uid/gid 65534, no capabilities */
};

#define WC_NOBODY_ID	65534

static int wc_drop_rawio(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(CAP_SYS_RAWIO);
	uint32_t mask = CAP_TO_MASK(CAP_SYS_RAWIO);

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO, 0, 0, 0))
		return -1;
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[i].effective &= ~mask;
	data[i].permitted &= ~mask;
	data[i].inheritable &= ~mask;
	if (syscall(SYS_capset, &hdr, data))
		return -1;
	return prctl(PR_CAPBSET_READ, CAP_SYS_RAWIO, 0, 0, 0) == 0 ? 0 : -1;
}

/* Whether any fd of this process is a WC BAR fd. */
static bool wc_fd_left(void)
{
	char path[300], target[128];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir("/proc/self/fd");
	ssize_t n;

	if (!d)
		return true;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, "iommu_reg-wcbar"))
			found = true;
	}
	closedir(d);
	return found;
}

/* Whether any mapping of this process is of a WC BAR fd. */
static bool wc_map_left(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "iommu_reg-wcbar"))
			found = true;
	fclose(f);
	return found;
}

static void wc_unpriv_child(struct __test_metadata *_metadata,
			    const char *bdf, enum wc_unpriv who)
{
	uint64_t phys = wc_bar_phys(bdf, 0);
	struct iommu_reg_wc_bar out;
	int container, group, device, status, ret, err;
	uint32_t domain, rid;
	char path[64], type[64];
	gid_t gid = WC_NOBODY_ID;
	pid_t pid;

	ASSERT_EQ(0, st_pci_addr(bdf, &domain, &rid));
	ASSERT_NE(0, phys);
	snprintf(path, sizeof(path), "/dev/vfio/%d", vfio_group_of(bdf));
	/* The group node is root's, mode 0600: hand it to nobody. */
	if (who == WC_NOBODY)
		ASSERT_EQ(0, chown(path, WC_NOBODY_ID, WC_NOBODY_ID));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (who == WC_NO_RAWIO && wc_drop_rawio())
			_exit(20);
		if (who == WC_NOBODY &&
		    (setgroups(1, &gid) ||
		     setresgid(WC_NOBODY_ID, WC_NOBODY_ID, WC_NOBODY_ID) ||
		     setresuid(WC_NOBODY_ID, WC_NOBODY_ID, WC_NOBODY_ID)))
			_exit(21);
		container = st_container_open(bdf, &group);
		if (container < 0)
			_exit(22);
		device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (device < 0)
			_exit(23);
		out.fd = -1;
		ret = _test_wc_bar(container, domain, rid, 0, 0, 0, &out);
		err = errno;
		if (!ret)
			_exit(24);	/* granted: the bug */
		if (err != EPERM)
			_exit(25);
		if (wc_fd_left())
			_exit(26);
		if (wc_map_left())
			_exit(27);
		if (access(PAT_LIST, R_OK) == 0 &&
		    wc_pat_type(phys, EDU_BAR0_SIZE, type, sizeof(type)))
			_exit(28);
		/* The capability is checked first, before the request. */
		if (_test_wc_bar(container, domain, 0xffff, 0, 0, 0, NULL) !=
		    -1 || errno != EPERM)
			_exit(29);
		close(device);
		close(group);
		close(container);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (who == WC_NOBODY)
		EXPECT_EQ(0, chown(path, 0, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 24)
		TH_LOG("IOMMU_REG_WC_BAR granted a WC mapping without CAP_SYS_RAWIO");
	else if (WEXITSTATUS(status))
		TH_LOG("child exited %d", WEXITSTATUS(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* And nothing is reserved once the child is gone. */
	if (!access(PAT_LIST, R_OK))
		EXPECT_EQ(NULL, wc_pat_type(phys, EDU_BAR0_SIZE, type,
					    sizeof(type)));
}

/* Root without CAP_SYS_RAWIO: EPERM, nothing left. */
TEST_F(wcbar, no_rawio_eperm)
{
	/* The child opens the fixture's group again. */
	st_device_fixture_teardown();
	wc_unpriv_child(_metadata, self->bdf, WC_NO_RAWIO);
}

/* Another user, who owns the group: EPERM, nothing left. */
TEST_F(wcbar, other_user_eperm)
{
	/* The child opens the fixture's group again. */
	st_device_fixture_teardown();
	wc_unpriv_child(_metadata, self->bdf, WC_NOBODY);
}

/*
 * A device that is in the container but not open (no device fd) gets no
 * WC fd: ENODEV.  Opening it makes the same request work.
 */
TEST_F(wcbar, device_not_open)
{
	struct iommu_reg_wc_bar out;

	close(self->device);
	self->device = -1;
	test_err_wc_bar(ENODEV, 0, 0, 0);
	/* A device not in the container is still ENOENT. */
	EXPECT_ERRNO(ENOENT, _test_wc_bar(self->container, self->domain,
					  0xffff, 0, 0, 0, NULL));
	self->device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, self->device);
	test_wc_bar(0, 0, PAGE_SZ, &out);
	close(out.fd);
}

TEST_HARNESS_MAIN
