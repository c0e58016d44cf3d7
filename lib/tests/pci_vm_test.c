// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PCI helpers against the real kernel, in the VM: the edu devices
 * (IREG_EDU_BDFS) start on vfio-pci; the tests take the first one off it
 * and back, check what sysfs and /dev/vfio then say, and the errors for
 * an unknown device, a bad driver name, a caller who is not root and a
 * vfio-pci module that is not loaded.
 *
 * The last needs vfio-pci unloaded.  It is done only when nothing holds
 * the module (refcnt 0; delete_module with O_NONBLOCK, so it never
 * waits), and modprobe loads it again at once; the edu devices keep
 * driver_override=vfio-pci through it, so they rebind as the driver
 * registers.  Skipped when vfio-pci is built in or in use.
 *
 * Every test's teardown puts every edu device back on vfio-pci: the tests
 * after this one expect them there.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "iommureg.h"
#include "iommureg/pci.h"
#include "../../tools/include/vfio_util.h"
#include "kselftest_harness.h"

#define MAX_EDU		4
#define NOBODY		65534
#define WAIT_MS		2000
#define UNKNOWN_BDF	"0000:ff:1f.7"

/*
 * @call's result, and in @err the thread's message it left (the error
 * rule: set on failure only), "" on success.
 */
static int pci_msg(int ret, char *err, size_t size)
{
	snprintf(err, size, "%s", ret < 0 ? ireg_errmsg() : "");
	return ret;
}
#define PCI_MSG(call, err)	pci_msg(call, err, sizeof(err))

static char edu[MAX_EDU][IREG_PCI_BDF_SIZE];
static int edu_groups[MAX_EDU];
static int nr_edu;

/* IREG_EDU_BDFS and IREG_EDU_GROUPS, in the same order. */
static void edu_read_env(void)
{
	const char *bdfs = getenv("IREG_EDU_BDFS");
	const char *groups = getenv("IREG_EDU_GROUPS");
	int n, i;

	while (bdfs && nr_edu < MAX_EDU &&
	       sscanf(bdfs, " %23s%n", edu[nr_edu], &n) == 1) {
		bdfs += n;
		edu_groups[nr_edu++] = -1;
	}
	for (i = 0; groups && i < nr_edu; i++) {
		if (sscanf(groups, " %d%n", &edu_groups[i], &n) != 1)
			break;
		groups += n;
	}
}

/* The driver from the driver link, read without the library; "" none. */
static const char *sysfs_driver(const char *bdf)
{
	static char name[PATH_MAX];
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	if (!realpath(path, name))
		return "";
	return strrchr(name, '/') + 1;
}

/*
 * The sysfs file @path into @buf, without its trailing newlines: its
 * length, or -1 if it cannot be read.
 */
static int sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return n;
}

static const char *driver_override(const char *bdf)
{
	static char buf[64];
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver_override", bdf);
	return sysfs_read(path, buf, sizeof(buf)) < 0 ? "?" : buf;
}

/* Wait until /dev/vfio/<group> exists (@want) or not; true if it did. */
static bool vfio_node_becomes(int group, bool want)
{
	char path[64];
	int ms;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	for (ms = 0; ms <= WAIT_MS; ms += 20) {
		if (!access(path, F_OK) == want)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

/* Wait until the device's driver is @want; true if it was. */
static bool driver_becomes(const char *bdf, const char *want)
{
	int ms;

	for (ms = 0; ms <= WAIT_MS; ms += 20) {
		if (!strcmp(sysfs_driver(bdf), want))
			return true;
		usleep(20 * 1000);
	}
	return false;
}

static bool contains(const char *s, const char *what)
{
	return strstr(s, what) != NULL;
}

/* What a call made by another process returned. */
struct outcome {
	int ret;
	char err[512];
};

/*
 * Run a bind (or restore with "") of @bdf as user and group nobody, with
 * no supplementary groups and so no capabilities.
 */
static void as_nobody(const char *bdf, bool bind, struct outcome *out)
{
	struct outcome *shared;
	int status;
	pid_t pid;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	out->ret = 1;
	snprintf(out->err, sizeof(out->err), "child did not run");
	if (shared == MAP_FAILED)
		return;
	*shared = *out;
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
			snprintf(shared->err, sizeof(shared->err),
				 "dropping privileges: %s", strerror(errno));
			_exit(1);
		}
		if (bind)
			shared->ret = PCI_MSG(ireg_pci_bind_vfio(bdf, NULL, 0),
					      shared->err);
		else
			shared->ret = PCI_MSG(ireg_pci_restore(bdf, ""),
					      shared->err);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	*out = *shared;
	munmap(shared, sizeof(*shared));
}

FIXTURE(edu) {
	const char *bdf;
	int group;
	char err[1024];
	char orig[IREG_PCI_DRIVER_SIZE];
};

FIXTURE_SETUP(edu)
{
	if (!nr_edu)
		SKIP(return, "no edu device in IREG_EDU_BDFS");
	self->bdf = edu[0];
	self->group = vfio_group_of(self->bdf);
	ASSERT_LE(0, self->group);
	ASSERT_STREQ("vfio-pci", sysfs_driver(self->bdf));
}

/* Whatever a test did, every edu device goes back to vfio-pci. */
FIXTURE_TEARDOWN(edu)
{
	char err[1024];
	int i, ret;

	for (i = 0; i < nr_edu; i++) {
		ret = PCI_MSG(ireg_pci_bind_vfio(edu[i], NULL, 0), err);
		EXPECT_LE(0, ret) TH_LOG("rebinding %s: %s", edu[i], err);
	}
}

TEST_F(edu, driver_is_vfio_pci)
{
	char drv[IREG_PCI_DRIVER_SIZE];
	int i;

	for (i = 0; i < nr_edu; i++) {
		ASSERT_EQ(0, ireg_pci_driver(edu[i], drv, sizeof(drv)));
		EXPECT_STREQ("vfio-pci", drv);
	}
	/* A buffer too short for the name. */
	EXPECT_EQ(-ERANGE, ireg_pci_driver(self->bdf, drv, 4));
	EXPECT_EQ(-ERANGE, ireg_pci_driver(self->bdf, drv, 0));
}

TEST_F(edu, iommu_group_matches_sysfs)
{
	int i;

	for (i = 0; i < nr_edu; i++) {
		EXPECT_EQ(vfio_group_of(edu[i]), ireg_pci_iommu_group(edu[i]));
		if (edu_groups[i] >= 0)
			EXPECT_EQ(edu_groups[i], ireg_pci_iommu_group(edu[i]));
	}
}

/* "bb:dd.f" and upper case name the same device. */
TEST_F(edu, bdf_short_and_upper_case)
{
	char bdf[IREG_PCI_BDF_SIZE], upper[IREG_PCI_BDF_SIZE];
	char drv[IREG_PCI_DRIVER_SIZE];
	int i;

	if (strncmp(self->bdf, "0000:", 5))
		SKIP(return, "%s is not in domain 0000", self->bdf);
	for (i = 0; self->bdf[i + 5]; i++)
		upper[i] = toupper((unsigned char)self->bdf[i + 5]);
	upper[i] = '\0';
	ASSERT_EQ(0, ireg_pci_bdf_parse(upper, bdf, sizeof(bdf)));
	EXPECT_STREQ(self->bdf, bdf);
	ASSERT_EQ(0, ireg_pci_driver(upper, drv, sizeof(drv)));
	EXPECT_STREQ("vfio-pci", drv);
	EXPECT_EQ(self->group, ireg_pci_iommu_group(upper));
	EXPECT_EQ(-ERANGE, ireg_pci_bdf_parse(self->bdf, bdf, 12));
}

TEST_F(edu, bind_when_bound_is_noop)
{
	EXPECT_EQ(1, PCI_MSG(ireg_pci_bind_check(self->bdf), self->err));
	EXPECT_EQ(1, PCI_MSG(ireg_pci_bind_vfio(self->bdf, self->orig,
						sizeof(self->orig)),
			     self->err));
	EXPECT_STREQ("vfio-pci", self->orig);
	EXPECT_STREQ("", self->err);
	EXPECT_STREQ("vfio-pci", sysfs_driver(self->bdf));
	EXPECT_STREQ("vfio-pci", driver_override(self->bdf));
	EXPECT_TRUE(vfio_node_becomes(self->group, true));
	/* Giving it back to vfio-pci leaves it there. */
	EXPECT_EQ(0, PCI_MSG(ireg_pci_restore(self->bdf, "vfio-pci"),
			     self->err));
	EXPECT_STREQ("vfio-pci", sysfs_driver(self->bdf));
}

TEST_F(edu, restore_none_leaves_unbound)
{
	char drv[IREG_PCI_DRIVER_SIZE] = "x";

	ASSERT_EQ(0, PCI_MSG(ireg_pci_restore(self->bdf, ""), self->err))
		TH_LOG("%s", self->err);
	EXPECT_STREQ("", self->err);
	EXPECT_STREQ("", sysfs_driver(self->bdf));
	EXPECT_EQ(0, ireg_pci_driver(self->bdf, drv, sizeof(drv)));
	EXPECT_STREQ("", drv);
	EXPECT_STREQ("(null)", driver_override(self->bdf));
	EXPECT_TRUE(vfio_node_becomes(self->group, false));
	/* The group is the device's, not the driver's. */
	EXPECT_EQ(self->group, ireg_pci_iommu_group(self->bdf));
	/* Again: nothing left to do, not an error. */
	EXPECT_EQ(0, PCI_MSG(ireg_pci_restore(self->bdf, ""), self->err));
	EXPECT_STREQ("", sysfs_driver(self->bdf));
}

TEST_F(edu, bind_from_unbound)
{
	ASSERT_EQ(0, PCI_MSG(ireg_pci_restore(self->bdf, ""), self->err));
	EXPECT_EQ(0, PCI_MSG(ireg_pci_bind_check(self->bdf), self->err));
	strcpy(self->orig, "x");
	ASSERT_EQ(0, PCI_MSG(ireg_pci_bind_vfio(self->bdf, self->orig,
						sizeof(self->orig)),
			     self->err))
		TH_LOG("%s", self->err);
	EXPECT_STREQ("", self->orig);
	EXPECT_STREQ("", self->err);
	EXPECT_STREQ("vfio-pci", sysfs_driver(self->bdf));
	EXPECT_STREQ("vfio-pci", driver_override(self->bdf));
	EXPECT_TRUE(vfio_node_becomes(self->group, true));
}

/* Restoring "vfio-pci" to an unbound device binds it. */
TEST_F(edu, restore_vfio_pci_rebinds)
{
	ASSERT_EQ(0, PCI_MSG(ireg_pci_restore(self->bdf, ""), self->err));
	ASSERT_EQ(0, PCI_MSG(ireg_pci_restore(self->bdf, "vfio-pci"),
			     self->err))
		TH_LOG("%s", self->err);
	EXPECT_STREQ("vfio-pci", sysfs_driver(self->bdf));
	EXPECT_TRUE(vfio_node_becomes(self->group, true));
}

/* A driver that is not loaded: unbound from vfio-pci, then -EIO. */
TEST_F(edu, restore_driver_not_loaded)
{
	EXPECT_EQ(-EIO, PCI_MSG(ireg_pci_restore(self->bdf,
						 "ireg-no-such-driver"),
				self->err));
	EXPECT_TRUE(contains(self->err,
			     "could not bind driver ireg-no-such-driver (not loaded)"))
		TH_LOG("message: %s", self->err);
	EXPECT_STREQ("", sysfs_driver(self->bdf));
}

TEST_F(edu, unknown_bdf)
{
	char drv[IREG_PCI_DRIVER_SIZE];

	ASSERT_NE(0, access("/sys/bus/pci/devices/" UNKNOWN_BDF, F_OK));
	EXPECT_EQ(-ENODEV, ireg_pci_driver(UNKNOWN_BDF, drv, sizeof(drv)));
	EXPECT_EQ(-ENODEV, ireg_pci_iommu_group(UNKNOWN_BDF));
	EXPECT_EQ(-ENODEV, PCI_MSG(ireg_pci_bind_check(UNKNOWN_BDF),
				   self->err));
	EXPECT_STREQ(UNKNOWN_BDF ": no such PCI device", self->err);
	EXPECT_EQ(-ENODEV, PCI_MSG(ireg_pci_bind_vfio(UNKNOWN_BDF, NULL, 0),
				   self->err));
	EXPECT_STREQ(UNKNOWN_BDF ": no such PCI device", self->err);
	EXPECT_EQ(-ENODEV, PCI_MSG(ireg_pci_restore(UNKNOWN_BDF, ""),
				   self->err));
	EXPECT_STREQ(UNKNOWN_BDF ": no such PCI device", self->err);
}

TEST_F(edu, invalid_arguments)
{
	static const char *const bad[] = {
		"../../x", "0000:00:20.0", "0000:00:01.8", "00:01.0x", "",
	};
	char drv[IREG_PCI_DRIVER_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, ireg_pci_driver(bad[i], drv, sizeof(drv)));
		EXPECT_EQ(-EINVAL, ireg_pci_iommu_group(bad[i]));
		EXPECT_EQ(-EINVAL, PCI_MSG(ireg_pci_bind_vfio(bad[i], NULL, 0),
					   self->err));
		EXPECT_TRUE(contains(self->err, "invalid BDF"));
	}
	/* A driver name is one path component. */
	EXPECT_EQ(-EINVAL, PCI_MSG(ireg_pci_restore(self->bdf, "../vfio-pci"),
				   self->err));
	EXPECT_STREQ("invalid driver name '../vfio-pci'", self->err);
	EXPECT_STREQ("vfio-pci", sysfs_driver(self->bdf));
	/* No message buffer is fine. */
	EXPECT_EQ(-EINVAL, ireg_pci_restore(self->bdf, ".."));
}

/*
 * A bind (@bind) or restore of @bdf as nobody is refused, and the message
 * names the sysfs file (@file) that was.
 */
static void as_nobody_refused(struct __test_metadata *_metadata,
			      const char *bdf, bool bind, const char *file)
{
	char denied[64], eperm[64];
	struct outcome out;

	snprintf(denied, sizeof(denied), "%s: Permission denied", file);
	snprintf(eperm, sizeof(eperm), "%s: Operation not permitted", file);
	as_nobody(bdf, bind, &out);
	EXPECT_TRUE(out.ret == -EACCES || out.ret == -EPERM)
		TH_LOG("%s as nobody: %d (%s)", bind ? "bind" : "restore",
		       out.ret, out.err);
	EXPECT_TRUE(contains(out.err, denied) || contains(out.err, eperm))
		TH_LOG("message: %s", out.err);
}

TEST_F(edu, not_root)
{
	/* Taking it off vfio-pci. */
	as_nobody_refused(_metadata, self->bdf, false, "/driver/unbind");
	EXPECT_STREQ("vfio-pci", sysfs_driver(self->bdf));

	/* Putting it on vfio-pci. */
	ASSERT_EQ(0, PCI_MSG(ireg_pci_restore(self->bdf, ""), self->err));
	as_nobody_refused(_metadata, self->bdf, true, "/driver_override");
	EXPECT_STREQ("", sysfs_driver(self->bdf));
	EXPECT_STREQ("(null)", driver_override(self->bdf));
}

/* 0, or -errno; the module's references, or -1 if it is built in. */
static int module_refcnt(const char *name)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	if (sysfs_read(path, buf, sizeof(buf)) <= 0)
		return -1;
	return atoi(buf);
}

static int modprobe(const char *name)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		execlp("modprobe", "modprobe", name, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(edu, bind_without_vfio_pci_module)
{
	char drv[IREG_PCI_DRIVER_SIZE];
	int i, ret;

	if (module_refcnt("vfio_pci") != 0)
		SKIP(return, "vfio_pci built in or in use");
	if (syscall(SYS_delete_module, "vfio_pci", O_NONBLOCK))
		SKIP(return, "rmmod vfio_pci: %s", strerror(errno));

	/* Unloading unbound every edu device; the override stays. */
	EXPECT_STREQ("", sysfs_driver(self->bdf));
	ret = PCI_MSG(ireg_pci_bind_check(self->bdf), self->err);
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_STREQ("vfio-pci: driver not loaded (run 'modprobe vfio-pci')",
		     self->err);
	ret = PCI_MSG(ireg_pci_bind_vfio(self->bdf, NULL, 0), self->err);
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_STREQ("vfio-pci: driver not loaded (run 'modprobe vfio-pci')",
		     self->err);
	EXPECT_STREQ("", sysfs_driver(self->bdf));
	EXPECT_STREQ("vfio-pci", driver_override(self->bdf));

	/* Back: the driver binds the devices that name it as it registers. */
	ASSERT_EQ(0, modprobe("vfio-pci"));
	for (i = 0; i < nr_edu; i++) {
		EXPECT_TRUE(driver_becomes(edu[i], "vfio-pci"))
			TH_LOG("%s", edu[i]);
		ASSERT_EQ(0, ireg_pci_driver(edu[i], drv, sizeof(drv)));
		EXPECT_STREQ("vfio-pci", drv);
		EXPECT_TRUE(vfio_node_becomes(vfio_group_of(edu[i]), true));
	}
}

int main(int argc, char **argv)
{
	edu_read_env();
	if (!nr_edu) {
		ksft_print_header();
		ksft_exit_skip("no edu device in IREG_EDU_BDFS\n");
	}
	return test_harness_run(argc, argv);
}
