// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared addressing, SVA and write-combining BAR wrappers against the real
 * module, in the VM.  The VM's edu devices have no PASID, PRI or ATS
 * (QEMU 7.2), so ireg_share() must take the identity path and say why;
 * the device then DMAs at the buffer's virtual address.  The SVA wrappers
 * must report what the raw ioctls report.  BAR0 mapped write-combining
 * through the library works for a caller with CAP_SYS_RAWIO (root, as the
 * VM runs the tests) and is refused with -EPERM, said in words, without
 * it.  Run in VT-d legacy and scalable mode.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "iommureg.h"
#include "../../tools/include/caps.h"
#include "kselftest_harness.h"
#include "edu_test.h"

#define PAGE		4096UL
#define EDU_REG_INVERT	0x04

static int pci_addr(const char *bdf, uint32_t *domain, uint32_t *rid)
{
	unsigned int d, b, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &d, &b, &dev, &fn) != 4)
		return -1;
	*domain = d;
	*rid = IOMMU_REG_PCI_RID(b, dev << 3 | fn);
	return 0;
}

FIXTURE(share) {
	struct ireg_ctx *ctx;
	const char *bdf;
	int fd;
	struct edu_dev edu;
};

FIXTURE_SETUP(share)
{
	/* BAR0 is mapped through vfio-pci only by tests that DMA. */
	self->edu.group = -1;
	self->edu.bar = NULL;
	self->bdf = test_edu_bdf(0);
	self->fd = test_edu_open(_metadata, &self->ctx, NULL);
}

FIXTURE_TEARDOWN(share)
{
	edu_lib_close(self->ctx, &self->edu);
}

/* Drain write-combining buffers before reading back (Linux's wmb()). */
static inline void wc_flush(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ volatile("dsb st" ::: "memory");
#else
	__sync_synchronize();
#endif
}

/* Identity, with the reason; the device DMAs at the virtual address. */
TEST_F(share, identity_dma_at_va)
{
	const uint32_t need = IOMMU_REG_SVA_CAP_PASID | IOMMU_REG_SVA_CAP_PRI |
			      IOMMU_REG_SVA_CAP_ATS;
	struct ireg_share sh;
	unsigned int i, len = 1000;
	uint8_t *p, *src, *dst;

	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	src = p + 100;
	dst = p + 2 * PAGE + 7;
	for (i = 0; i < len; i++)
		src[i] = i * 7 + 3;
	memset(dst, 0, len);

	/* Not page aligned: the library registers the pages around it. */
	ASSERT_EQ(0, ireg_share(self->ctx, self->bdf, src,
				(size_t)(dst + len - src), 0, &sh))
		TH_LOG("%s", ireg_ctx_errmsg(self->ctx));
	EXPECT_EQ(IREG_SHARE_IDENTITY, sh.mode);
	EXPECT_EQ(need, sh.sva_missing & need);
	/* Missing pieces: no bind was attempted. */
	EXPECT_EQ(0, sh.sva_errno);
	EXPECT_NE(NULL, strstr(sh.reason, "missing pasid pri ats"))
		TH_LOG("reason: %s", sh.reason);
	TH_LOG("mode identity: %s", sh.reason);
	EXPECT_EQ((uintptr_t)p, sh.region.addr);
	EXPECT_EQ(3 * PAGE, sh.region.size);
	EXPECT_EQ(sh.region.addr, sh.region.iova);
	EXPECT_EQ(1, test_regions(self->ctx));

	ASSERT_EQ(0, edu_init(&self->edu, self->fd));
	/* IOVA == VA: the pointers are the DMA addresses. */
	ASSERT_EQ(0, edu_dma_copy(&self->edu, (uintptr_t)src, (uintptr_t)dst,
				  len));
	EXPECT_EQ(0, memcmp(src, dst, len));

	ASSERT_EQ(0, ireg_unshare(self->ctx, &sh));
	EXPECT_EQ(0, sh.mode);
	/* Unpinned: the kernel holds no region. */
	EXPECT_EQ(0, test_regions(self->ctx));
	EXPECT_EQ(-EINVAL, ireg_unshare(self->ctx, &sh));
	munmap(p, 4 * PAGE);
}

/* IREG_SHARE_NO_SVA says so; READONLY lets the device read only. */
TEST_F(share, flags)
{
	struct ireg_share sh;
	uint8_t *p;

	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x5a, 2 * PAGE);
	ASSERT_EQ(0, ireg_share(self->ctx, self->bdf, p, PAGE,
				IREG_SHARE_NO_SVA | IREG_SHARE_READONLY, &sh));
	EXPECT_EQ(IREG_SHARE_IDENTITY, sh.mode);
	EXPECT_NE(NULL, strstr(sh.reason, "IREG_SHARE_NO_SVA"));
	EXPECT_EQ(IOMMU_REG_PROT_READ, sh.region.prot);
	EXPECT_EQ((uintptr_t)p, sh.region.iova);
	ASSERT_EQ(0, edu_init(&self->edu, self->fd));
	EXPECT_EQ(0, edu_dma(&self->edu, (uintptr_t)p, 64, EDU_RAM_TO_DEV,
			     EDU_DMA_TIMEOUT_MS));
	ASSERT_EQ(0, ireg_unshare(self->ctx, &sh));
	EXPECT_EQ(0, test_regions(self->ctx));
	munmap(p, 2 * PAGE);
}

TEST_F(share, errors)
{
	const char *bdf2 = test_edu_bdf(1);
	struct ireg_share sh;
	char buf[64];

	EXPECT_EQ(-EINVAL, ireg_share(self->ctx, "nonsense", buf, 8, 0, &sh));
	EXPECT_NE(NULL, strstr(ireg_ctx_errmsg(self->ctx), "not a PCI"));
	EXPECT_EQ(-EINVAL, ireg_share(self->ctx, self->bdf, buf, 0, 0, &sh));
	EXPECT_EQ(-EINVAL, ireg_share(self->ctx, self->bdf, buf, 8, 1U << 7,
				      &sh));
	if (bdf2) {
		/* A device whose group is not in the context. */
		EXPECT_EQ(-ENOENT, ireg_share(self->ctx, bdf2, buf, 8, 0, &sh));
		TH_LOG("%s", ireg_ctx_errmsg(self->ctx));
	}
	EXPECT_EQ(0, test_regions(self->ctx));
}

/* The SVA wrappers report what the raw ioctls report. */
TEST_F(share, sva_wrappers_match_raw)
{
	const char *bdf2 = test_edu_bdf(1);
	int cfd = ireg_ctx_container_fd(self->ctx);
	struct iommu_reg_sva_device lib[4], raw;
	struct iommu_reg_sva_info info = {
		.argsz = sizeof(info),
		.flags = IOMMU_REG_SVA_INFO_DEVICE,
		.num_devices = 1,
		.entry_size = sizeof(raw),
		.devices = (uintptr_t)&raw,
	};
	struct iommu_reg_sva_bind bind = { .argsz = sizeof(bind) };
	struct iommu_reg_sva_unbind unbind = { .argsz = sizeof(unbind) };
	uint32_t domain, rid, pasid = 0xdead;

	ASSERT_EQ(0, pci_addr(self->bdf, &domain, &rid));
	info.pci_domain = bind.pci_domain = unbind.pci_domain = domain;
	info.pci_rid = bind.pci_rid = unbind.pci_rid = rid;
	ASSERT_EQ(0, ioctl(cfd, IOMMU_REG_SVA_INFO, &info));

	/* Every device of the context: one here. */
	memset(lib, 0xff, sizeof(lib));
	ASSERT_EQ(1, ireg_sva_info(self->ctx, NULL, lib, 4));
	EXPECT_EQ(0, memcmp(&raw, &lib[0], sizeof(raw)));
	memset(lib, 0xff, sizeof(lib));
	ASSERT_EQ(1, ireg_sva_info(self->ctx, self->bdf, lib, 1));
	EXPECT_EQ(0, memcmp(&raw, &lib[0], sizeof(raw)));
	/* Capacity 0: only the count. */
	EXPECT_EQ(1, ireg_sva_info(self->ctx, NULL, NULL, 0));
	TH_LOG("caps %#x missing %#x iopf %d sva %d", raw.caps, raw.missing,
	       raw.iopf_errno, raw.sva_errno);

	/* Bind: EOPNOTSUPP from both (missing pieces; Debian 6.1 anyway). */
	EXPECT_EQ(-1, ioctl(cfd, IOMMU_REG_SVA_BIND, &bind));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-EOPNOTSUPP, ireg_sva_bind(self->ctx, self->bdf, &pasid));
	EXPECT_EQ(0xdead, pasid);
	EXPECT_NE(NULL, strstr(ireg_ctx_errmsg(self->ctx), "SVA_BIND"));
	/* Unbind of an unbound device: ENOENT from both. */
	EXPECT_EQ(-1, ioctl(cfd, IOMMU_REG_SVA_UNBIND, &unbind));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-ENOENT, ireg_sva_unbind(self->ctx, self->bdf));

	/* A device not in the context: ENOENT from both. */
	if (bdf2) {
		ASSERT_EQ(0, pci_addr(bdf2, &domain, &rid));
		info.pci_domain = bind.pci_domain = domain;
		info.pci_rid = bind.pci_rid = rid;
		EXPECT_EQ(-1, ioctl(cfd, IOMMU_REG_SVA_INFO, &info));
		EXPECT_EQ(ENOENT, errno);
		EXPECT_EQ(-ENOENT, ireg_sva_info(self->ctx, bdf2, lib, 1));
		EXPECT_EQ(-1, ioctl(cfd, IOMMU_REG_SVA_BIND, &bind));
		EXPECT_EQ(ENOENT, errno);
		EXPECT_EQ(-ENOENT, ireg_sva_bind(self->ctx, bdf2, &pasid));
		EXPECT_EQ(-ENOENT, ireg_sva_unbind(self->ctx, bdf2));
	}
	EXPECT_EQ(-EINVAL, ireg_sva_bind(self->ctx, "0000:zz:00.0", &pasid));

	EXPECT_STREQ("pasid", ireg_sva_cap_name(IOMMU_REG_SVA_CAP_PASID));
	EXPECT_STREQ("bound", ireg_sva_cap_name(IOMMU_REG_SVA_CAP_BOUND));
	EXPECT_EQ(NULL, ireg_sva_cap_name(0));
	EXPECT_EQ(NULL, ireg_sva_cap_name(IOMMU_REG_SVA_CAP_PASID |
					  IOMMU_REG_SVA_CAP_PRI));
}

/*
 * BAR0 write-combining through the library: the inversion register
 * works.  Nothing mapped BAR0 through vfio-pci before (PAT keeps the
 * first memory type).
 */
TEST_F(share, wc_bar_map)
{
	volatile uint32_t *regs;
	struct ireg_wc_bar wc;
	uint32_t val;

	if (!caps_effective(CAP_SYS_RAWIO))
		SKIP(return, "needs CAP_SYS_RAWIO (run as root, as the VM does)");
	ASSERT_EQ(0, ireg_wc_bar_map(self->ctx, self->bdf, 0, 0, 0, &wc))
		TH_LOG("%s", ireg_ctx_errmsg(self->ctx));
	EXPECT_EQ(EDU_BAR0_SIZE, wc.length);
	EXPECT_EQ(EDU_BAR0_SIZE, wc.bar_size);
	EXPECT_EQ(0, wc.offset);
	EXPECT_EQ(0, wc.bar);
	regs = wc.addr;
	EXPECT_EQ(EDU_ID_MAGIC, regs[EDU_REG_ID / 4] & 0xff);
	for (val = 0xa5a50000; val < 0xa5a50004; val++) {
		regs[EDU_REG_INVERT / 4] = val;
		wc_flush();
		EXPECT_EQ(~val, regs[EDU_REG_INVERT / 4]);
	}
	EXPECT_EQ(0, ireg_wc_bar_unmap(&wc));
	EXPECT_EQ(NULL, wc.addr);
	EXPECT_EQ(-1, wc.fd);

	/* A window. */
	ASSERT_EQ(0, ireg_wc_bar_map(self->ctx, self->bdf, 0, PAGE, 2 * PAGE,
				     &wc));
	EXPECT_EQ(2 * PAGE, wc.length);
	EXPECT_EQ(PAGE, wc.offset);
	EXPECT_EQ(0, ireg_wc_bar_unmap(&wc));

	/* Errors, with the kernel's errnos. */
	EXPECT_EQ(-EINVAL, ireg_wc_bar_map(self->ctx, self->bdf, 6, 0, 0, &wc));
	EXPECT_EQ(-ENOENT, ireg_wc_bar_map(self->ctx, self->bdf, 1, 0, 0, &wc));
	EXPECT_EQ(-EINVAL, ireg_wc_bar_map(self->ctx, self->bdf, 0, 1, 0, &wc));
	EXPECT_EQ(-ERANGE, ireg_wc_bar_map(self->ctx, self->bdf, 0,
					   EDU_BAR0_SIZE, 0, &wc));
	EXPECT_NE(NULL, strstr(ireg_ctx_errmsg(self->ctx), "beyond the BAR"));
	EXPECT_EQ(-EINVAL, ireg_wc_bar_map(self->ctx, "x", 0, 0, 0, &wc));
	if (test_edu_bdf(1))
		EXPECT_EQ(-ENOENT, ireg_wc_bar_map(self->ctx, test_edu_bdf(1),
						   0, 0, 0, &wc));
}

/* ireg_ctx_close() closes the device: the WC mapping raises SIGBUS. */
TEST_F(share, wc_bar_revoked_by_ctx_close)
{
	int status;
	pid_t pid;

	if (!caps_effective(CAP_SYS_RAWIO))
		SKIP(return, "needs CAP_SYS_RAWIO (run as root, as the VM does)");
	/* The child opens its own context: the fixture's is closed first. */
	ireg_ctx_close(self->ctx);
	self->ctx = NULL;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct ireg_ctx *ctx;
		struct ireg_wc_bar wc;
		volatile uint32_t *regs;

		if (ireg_ctx_open(&ctx, 0) ||
		    ireg_device_open(ctx, self->bdf) < 0 ||
		    ireg_wc_bar_map(ctx, self->bdf, 0, 0, 2 * PAGE, &wc))
			_exit(10);
		regs = wc.addr;
		regs[EDU_REG_INVERT / 4] = 1;
		wc_flush();
		if (regs[EDU_REG_INVERT / 4] != ~1U)
			_exit(11);
		ireg_ctx_close(ctx);
		(void)regs[EDU_REG_INVERT / 4];
		_exit(12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status))
		TH_LOG("child exited %d", WEXITSTATUS(status));
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGBUS, WTERMSIG(status));
}

/*
 * Without CAP_SYS_RAWIO the kernel refuses: -EPERM, a message that names
 * the capability, and nothing filled in.
 */
TEST_F(share, wc_bar_map_eperm)
{
	int status;
	pid_t pid;

	ireg_ctx_close(self->ctx);
	self->ctx = NULL;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct ireg_wc_bar wc = { .fd = -1 };
		struct ireg_ctx *ctx;

		if (caps_drop(CAP_SYS_RAWIO))
			_exit(10);
		if (ireg_ctx_open(&ctx, 0) ||
		    ireg_device_open(ctx, self->bdf) < 0)
			_exit(11);
		if (ireg_wc_bar_map(ctx, self->bdf, 0, 0, 0, &wc) != -EPERM)
			_exit(12);
		if (!strstr(ireg_ctx_errmsg(ctx), "CAP_SYS_RAWIO"))
			_exit(13);
		if (wc.fd != -1)
			_exit(14);
		ireg_ctx_close(ctx);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
