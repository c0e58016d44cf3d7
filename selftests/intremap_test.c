// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupt isolation at attach.  Without interrupt remapping (or an MSI
 * controller that isolates devices), a device's DMA write to the MSI
 * doorbell raises any interrupt of the host.  In 6.1 VFIO leaves the
 * check to the IOMMU backend: type1 refuses such a group with EPERM
 * unless its allow_unsafe_interrupts parameter is set, and so must we.
 *
 * make check runs this in every boot and once more in a VM booted with
 * intremap=off, where interrupt remapping is off and both backends must
 * refuse.  Each case compares our answer with type1's on the same group,
 * in the same boot.
 */
#include "reg_helpers.h"
#include "kselftest_harness.h"

/* Whether the guest was booted with interrupt remapping off. */
static bool intremap_off(void)
{
	char cmdline[4096] = "";
	ssize_t n;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n > 0)
		cmdline[n] = 0;
	return strstr(cmdline, "intremap=off") != NULL;
}

/* Attach the first edu's group under @type: 0 or the errno. */
static int attach_errno(unsigned long type)
{
	const char *bdf = st_edu_bdf(0);
	int container, group, ret = 0;

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return -1;
	group = vfio_group_open(bdf);
	if (group < 0) {
		close(container);
		return -1;
	}
	if (vfio_container_attach(container, group, type))
		ret = errno;
	close(group);
	close(container);
	return ret;
}

static long long type1_param(const char *name)
{
	char path[128], val[8] = "";
	int fd;

	snprintf(path, sizeof(path),
		 "/sys/module/vfio_iommu_type1/parameters/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, val, sizeof(val) - 1) <= 0)
		val[0] = 0;
	close(fd);
	return val[0] == 'Y';
}

FIXTURE(intremap) {
	int dummy;
};

FIXTURE_SETUP(intremap)
{
	if (!st_edu_bdf(0))
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	/* Neither opt-out set: the checks are in force. */
	ASSERT_NE(1, st_param_get("allow_unsafe_interrupts"));
	ASSERT_EQ(0, type1_param("allow_unsafe_interrupts"));
}

FIXTURE_TEARDOWN(intremap)
{
	st_param_set("allow_unsafe_interrupts", 0);
}

/* The rig does what it says: type1 refuses exactly when remapping is off. */
TEST_F(intremap, type1_baseline)
{
	int err = attach_errno(VFIO_TYPE1v2_IOMMU);

	TH_LOG("intremap=off: %d, type1 attach: %s", intremap_off(),
	       err ? strerror(err) : "ok");
	EXPECT_EQ(intremap_off() ? EPERM : 0, err);
}

/* Ours answers as type1 does, on the same group in the same boot. */
TEST_F(intremap, attach_as_type1)
{
	int t1 = attach_errno(VFIO_TYPE1v2_IOMMU);
	int ours = attach_errno(VFIO_IOMMU_REG);

	TH_LOG("type1: %s, iommu_reg: %s", t1 ? strerror(t1) : "ok",
	       ours ? strerror(ours) : "ok");
	EXPECT_EQ(t1, ours);
	EXPECT_EQ(intremap_off() ? EPERM : 0, ours);
}

/* The opt-out works as type1's does, and only while set. */
TEST_F(intremap, allow_unsafe_interrupts)
{
	if (!intremap_off())
		SKIP(return, "interrupt remapping is on: nothing to opt out of");
	ASSERT_EQ(0, st_param_set("allow_unsafe_interrupts", 1));
	EXPECT_EQ(0, attach_errno(VFIO_IOMMU_REG));
	ASSERT_EQ(0, st_param_set("allow_unsafe_interrupts", 0));
	EXPECT_EQ(EPERM, attach_errno(VFIO_IOMMU_REG));
}

TEST_HARNESS_MAIN
