// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iommu_reg backend as VFIO sees it: extension answers, selection,
 * group attach to one shared domain, device fds, and IOMMU_REG_INFO.
 */
#include "reg_helpers.h"
#include "kselftest_harness.h"

#define EDU_ID			0x00
#define EDU_INVERT		0x04
#define EDU_BAR0_SIZE		(1U << 20)
#define MSI_WINDOW_START	0xfee00000ULL
#define MSI_WINDOW_LAST		0xfeefffffULL

FIXTURE(backend) {
	int container;
	int group;
	const char *bdf;
};

FIXTURE_SETUP(backend)
{
	self->bdf = st_edu_bdf(0);
	if (!self->bdf)
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = vfio_group_open(self->bdf);
	ASSERT_LE(0, self->group);
}

FIXTURE_TEARDOWN(backend)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
}

/* Before selection VFIO polls every backend; ours answers for its number. */
TEST_F(backend, check_extension_unset)
{
	EXPECT_EQ(VFIO_API_VERSION,
		  ioctl(self->container, VFIO_GET_API_VERSION));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_IOMMU_REG));
	/* type1 is loaded and still answers for its own numbers. */
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
}

/* Once selected, only our backend is asked: it must not claim type1's. */
TEST_F(backend, check_extension_selected)
{
	ASSERT_EQ(0, vfio_container_attach(self->container, self->group,
					   VFIO_IOMMU_REG));
	EXPECT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_IOMMU_REG));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1_IOMMU));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_NOIOMMU_IOMMU));
}

TEST_F(backend, set_iommu_selects_ours)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct iommu_reg_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_GET_STATUS, &status));
	EXPECT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	EXPECT_FALSE(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);

	ASSERT_EQ(0, vfio_container_attach(self->container, self->group,
					   VFIO_IOMMU_REG));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_GET_STATUS, &status));
	EXPECT_TRUE(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET);

	/* Only our backend implements IOMMU_REG_INFO. */
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(1, info.num_groups);

	/* A backend is selected once per container. */
	EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU, VFIO_IOMMU_REG));
	EXPECT_EQ(EINVAL, errno);
}

/* Selecting type1 still gets type1, not us. */
TEST_F(backend, set_iommu_type1_not_captured)
{
	struct iommu_reg_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, vfio_container_attach(self->container, self->group,
					   VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_IOMMU_REG));
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(backend, set_iommu_unknown_type)
{
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU,
			    VFIO_IOMMU_REG + 1));
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(backend, group_attach)
{
	struct iommu_reg_iova_range ranges[16];
	struct iommu_reg_info info = {
		.argsz = sizeof(info),
		.num_iova_ranges = 16,
		.iova_ranges = (uintptr_t)ranges,
	};
	bool msi_excluded = true;
	uint64_t covered = 0;
	unsigned int i;

	ASSERT_EQ(0, vfio_container_attach(self->container, self->group,
					   VFIO_IOMMU_REG));
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(1, info.num_groups);

	/* The flags this module accepts, so a program can probe them. */
	EXPECT_EQ(IOMMU_REG_REGION_READONLY, info.region_flags);
	EXPECT_EQ(IOMMU_REG_MAP_IOVA_FIXED | IOMMU_REG_MAP_IOVA_IDENTITY,
		  info.map_flags);
	EXPECT_EQ(IOMMU_REG_UNMAP_ALL, info.unmap_flags);
	EXPECT_EQ(IOMMU_REG_UNREG_UNMAP, info.unreg_flags);

	/* The VM's VT-d has 48-bit addressing and 4K, 2M and 1G pages. */
	EXPECT_EQ(0, info.aperture_start);
	EXPECT_EQ((1ULL << 48) - 1, info.aperture_last);
	EXPECT_TRUE(info.pgsize_bitmap & (1ULL << 12));
	EXPECT_TRUE(info.pgsize_bitmap & (1ULL << 21));
	EXPECT_TRUE(info.pgsize_bitmap & (1ULL << 30));

	/* Ranges: ascending, disjoint, inside the aperture, no MSI window. */
	ASSERT_LE(2, info.num_iova_ranges);
	ASSERT_GE(16, info.num_iova_ranges);
	for (i = 0; i < info.num_iova_ranges; i++) {
		EXPECT_LE(ranges[i].start, ranges[i].last);
		if (i)
			EXPECT_LT(ranges[i - 1].last, ranges[i].start);
		if (ranges[i].start <= MSI_WINDOW_LAST &&
		    ranges[i].last >= MSI_WINDOW_START)
			msi_excluded = false;
		covered += ranges[i].last - ranges[i].start + 1;
	}
	EXPECT_TRUE(msi_excluded);
	EXPECT_EQ(0, ranges[0].start);
	EXPECT_EQ(info.aperture_last, ranges[info.num_iova_ranges - 1].last);
	EXPECT_GE((1ULL << 48) - (MSI_WINDOW_LAST - MSI_WINDOW_START + 1),
		  covered);
}

/* A second device's group joins the same domain; leaving updates it. */
TEST_F(backend, group_attach_second)
{
	struct iommu_reg_info info = { .argsz = sizeof(info) };
	const char *bdf2 = st_edu_bdf(1);
	int group2;

	if (!bdf2)
		SKIP(return, "needs two edu devices");
	ASSERT_NE(vfio_group_of(self->bdf), vfio_group_of(bdf2));

	ASSERT_EQ(0, vfio_container_attach(self->container, self->group,
					   VFIO_IOMMU_REG));
	group2 = vfio_group_open(bdf2);
	ASSERT_LE(0, group2);
	ASSERT_EQ(0, ioctl(group2, VFIO_GROUP_SET_CONTAINER, &self->container));
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(2, info.num_groups);

	ASSERT_EQ(0, ioctl(group2, VFIO_GROUP_UNSET_CONTAINER));
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(1, info.num_groups);
	close(group2);
}

TEST_F(backend, device_fd)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct vfio_region_info bar0 = {
		.argsz = sizeof(bar0),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	uint32_t id, val, inv;
	uint16_t ids[2];
	int dev;

	/* VFIO hands out device fds only once the container has a backend. */
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_IOMMU_REG));

	dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_INFO, &dinfo));
	EXPECT_TRUE(dinfo.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_LT(VFIO_PCI_CONFIG_REGION_INDEX, dinfo.num_regions);

	/* It is the edu device: vendor 0x1234, device 0x11e8. */
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	ASSERT_EQ(4, pread(dev, ids, 4, cfg.offset));
	EXPECT_EQ(0x1234, ids[0]);
	EXPECT_EQ(0x11e8, ids[1]);

	/* And it answers: the ID register and the inversion register. */
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar0));
	EXPECT_EQ(EDU_BAR0_SIZE, bar0.size);
	ASSERT_EQ(4, pread(dev, &id, 4, bar0.offset + EDU_ID));
	EXPECT_EQ(0xed, id & 0xff);
	val = 0x12345678;
	ASSERT_EQ(4, pwrite(dev, &val, 4, bar0.offset + EDU_INVERT));
	ASSERT_EQ(4, pread(dev, &inv, 4, bar0.offset + EDU_INVERT));
	EXPECT_EQ(~val, inv);
	close(dev);
}

/* A device fd keeps the container's backend alive after the group fd closes. */
TEST_F(backend, device_outlives_group_fd)
{
	struct iommu_reg_info info = { .argsz = sizeof(info) };
	int dev;

	ASSERT_EQ(0, vfio_container_attach(self->container, self->group,
					   VFIO_IOMMU_REG));
	dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, dev);
	close(self->group);
	self->group = -1;
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(1, info.num_groups);
	close(dev);
}

TEST_F(backend, info_bad_input)
{
	struct iommu_reg_iova_range range = { .start = 1, .last = 2 };
	struct iommu_reg_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, vfio_container_attach(self->container, self->group,
					   VFIO_IOMMU_REG));

	info.flags = 1;
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.flags = 1U << 31;
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.flags = 0;

	/* A bad array pointer faults; a zero count never touches it. */
	info.num_iova_ranges = 4;
	info.iova_ranges = 8;
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_EQ(EFAULT, errno);
	info.num_iova_ranges = 0;
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_LE(2, info.num_iova_ranges);

	/* A short array gets the first entries and the full count. */
	info.num_iova_ranges = 1;
	info.iova_ranges = (uintptr_t)&range;
	ASSERT_EQ(0, ioctl(self->container, IOMMU_REG_INFO, &info));
	EXPECT_LE(2, info.num_iova_ranges);
	EXPECT_EQ(0, range.start);
	EXPECT_LT(range.start, range.last);

	/* The argument itself unreadable. */
	EXPECT_EQ(-1, ioctl(self->container, IOMMU_REG_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Command numbers that are not ours. */
	EXPECT_EQ(-1, ioctl(self->container,
			    _IO(IOMMU_REG_TYPE, IOMMU_REG_BASE + 31), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->container, _IO('Z', IOMMU_REG_BASE), &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
