// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module lifetime: iommu_reg cannot be unloaded while a container uses it,
 * unloads cleanly once its users have closed, in any close order, and
 * loads again.  Runs last in the VM: it removes and reloads the module.
 *
 * The module is reloaded from IREG_MODULE, by default where the VM runner
 * installs it: /lib/modules/$(uname -r)/extra/iommu_reg.ko.
 */
#include "reg_helpers.h"
#include "kselftest_harness.h"

static int backend_available(void)
{
	int container = open("/dev/vfio/vfio", O_RDWR);
	int ret;

	if (container < 0)
		return -1;
	ret = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_IOMMU_REG);
	close(container);
	return ret;
}

enum close_order {
	CLOSE_DEVICE_GROUP_CONTAINER,
	CLOSE_CONTAINER_GROUP_DEVICE,
	CLOSE_GROUP_CONTAINER_DEVICE,
	CLOSE_CONTAINER_DEVICE_GROUP,
};

FIXTURE(module) {
	int fds[3];	/* device, group, container */
};

FIXTURE_VARIANT(module) {
	enum close_order order;
};

FIXTURE_VARIANT_ADD(module, device_group_container) {
	.order = CLOSE_DEVICE_GROUP_CONTAINER,
};

FIXTURE_VARIANT_ADD(module, container_group_device) {
	.order = CLOSE_CONTAINER_GROUP_DEVICE,
};

FIXTURE_VARIANT_ADD(module, group_container_device) {
	.order = CLOSE_GROUP_CONTAINER_DEVICE,
};

FIXTURE_VARIANT_ADD(module, container_device_group) {
	.order = CLOSE_CONTAINER_DEVICE_GROUP,
};

FIXTURE_SETUP(module)
{
	const char *bdf = st_edu_bdf(0);

	if (!bdf)
		SETUP_SKIP("no edu device in IREG_EDU_BDFS");
	if (!st_module_path() || access(st_module_path(), R_OK))
		SETUP_SKIP("no iommu_reg.ko to reload (set IREG_MODULE)");
	ASSERT_EQ(1, backend_available());

	ASSERT_EQ(0, st_device_open(bdf, &self->fds[2], &self->fds[1],
				    &self->fds[0]));
}

FIXTURE_TEARDOWN(module)
{
	/* Leave the module loaded for whatever runs next. */
	if (backend_available() != 1)
		st_module_load("");
}

/*
 * The backend, and so the module, is held while a group of the container
 * is attached.  A device fd holds its group; the container fd alone does
 * not: when the last group leaves, VFIO releases the backend even though
 * the container stays open, and that container must stay safe to close
 * after the module is gone.
 */
TEST_F(module, unload_after_close)
{
	static const int orders[][3] = {
		[CLOSE_DEVICE_GROUP_CONTAINER] = { 0, 1, 2 },
		[CLOSE_CONTAINER_GROUP_DEVICE] = { 2, 1, 0 },
		[CLOSE_GROUP_CONTAINER_DEVICE] = { 1, 2, 0 },
		[CLOSE_CONTAINER_DEVICE_GROUP] = { 2, 0, 1 },
	};
	const int *order = orders[variant->order];
	bool open[3] = { true, true, true };
	bool unloaded = false;
	int i;

	for (i = 0; i < 3; i++) {
		if (open[0] || open[1]) {
			/* In use: refused, not forced. */
			EXPECT_EQ(-1, st_module_unload());
			EXPECT_EQ(EWOULDBLOCK, errno);
		} else if (!unloaded) {
			ASSERT_EQ(0, st_module_unload());
			unloaded = true;
		}
		ASSERT_EQ(0, close(self->fds[order[i]]));
		open[order[i]] = false;
	}

	if (!unloaded)
		ASSERT_EQ(0, st_module_unload());
	EXPECT_EQ(0, backend_available());
	EXPECT_EQ(-1, st_module_unload());
	EXPECT_EQ(ENOENT, errno);

	ASSERT_EQ(0, st_module_load(""));
	EXPECT_EQ(1, backend_available());
}

TEST_HARNESS_MAIN
