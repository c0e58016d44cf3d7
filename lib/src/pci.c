// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * PCI devices and vfio-pci: a device's driver and IOMMU group, and
 * moving it to vfio-pci and back to the driver it had.
 *
 * Vocabulary: a BDF is the normalised sysfs name of a PCI function,
 * "dddd:bb:dd.f" in lower-case hex; every public function normalises
 * what it is given with ireg_pci_bdf_parse(), so only hex digits, ':'
 * and '.' ever reach a path.  A device's driver is the last component of
 * its "driver" link, "" when it has none.
 *
 * Binding follows the sequence the kernel documents for driver_override
 * (Documentation/ABI/testing/sysfs-bus-pci): driver_override := vfio-pci,
 * unbind from the current driver, drivers_probe := BDF.  Restoring
 * reverses it: unbind from vfio-pci, clear driver_override, bind the
 * original driver through its "bind" file (or drivers_probe when it is
 * not loaded, letting the kernel choose).  A bind that fails before
 * vfio-pci holds the device is rolled back; once vfio-pci holds it, a
 * problem (no /dev/vfio/<group>) is reported and the binding kept.
 *
 * Errors: -ENOENT means vfio-pci is not loaded and nothing else; an
 * ENOENT from a sysfs write means the device went away and is returned
 * as -ENODEV.  Messages go to the thread's last-error message through
 * a struct msgbuf: the first failure, then one more line for each step a
 * rollback could not undo; the caller gets the errno of the first.
 *
 * Unbinding from vfio-pci blocks in the kernel while a process holds the
 * device open.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommureg/pci.h"
#include "internal.h"
#include "pci_internal.h"

#define __printf(a, b)		__attribute__((format(printf, a, b)))

#define VFIO_PCI		"vfio-pci"
/* How long a bind waits for udev/devtmpfs to create /dev/vfio/<group>. */
#define VFIO_NODE_WAIT_MS	2000
#define VFIO_NODE_POLL_MS	50

/* ---- roots ---- */

static const char *sysfs_root = "/sys";
static const char *dev_root = "/dev";
static pthread_once_t roots_once = PTHREAD_ONCE_INIT;

/*
 * secure_getenv(): in a set-user-ID or file-capability program (AT_SECURE)
 * the environment must not redirect a bind to a tree its caller made.
 */
static const char *env_root(const char *name, const char *dflt)
{
	const char *val = secure_getenv(name);
	char *copy;

	if (!val || !val[0])
		return dflt;
	/* A copy: a later setenv() may free the environment's string. */
	copy = strdup(val);
	return copy ? copy : val;
}

static void roots_read(void)
{
	sysfs_root = env_root("IREG_SYSFS_ROOT", "/sys");
	dev_root = env_root("IREG_DEV_ROOT", "/dev");
}

static void roots_init(void)
{
	pthread_once(&roots_once, roots_read);
}

/* ---- messages ---- */

/* One public call's message: its first line replaces the thread's. */
struct msgbuf {
	bool quiet;		/* an internal probe: no message */
	bool started;
};

/* Add a line to @mb (the first, or one more); return -@errnum. */
static __printf(3, 4) int msg_fail(struct msgbuf *mb, int errnum,
				   const char *fmt, ...)
{
	va_list ap;

	if (mb->quiet)
		return -errnum;
	va_start(ap, fmt);
	__ireg_vfail(errnum, mb->started, fmt, ap);
	va_end(ap);
	mb->started = true;
	return -errnum;
}

/* ---- BDF ---- */

/* Parse @min..@max hex digits at *@s, not followed by another. */
static int hex_field(const char **s, int min, int max, unsigned int *val)
{
	int n = 0;

	*val = 0;
	while (n < max && isxdigit((unsigned char)**s)) {
		char c = tolower((unsigned char)**s);

		*val = *val * 16 + (isdigit((unsigned char)c) ? c - '0' :
				    c - 'a' + 10);
		(*s)++;
		n++;
	}
	return n >= min && !isxdigit((unsigned char)**s) ? 0 : -EINVAL;
}

static int bdf_parse(const char *str, char *bdf, size_t size)
{
	unsigned int domain = 0, bus, dev, fn;
	char buf[IREG_PCI_BDF_SIZE];
	const char *s = str;
	const char *colon = strchr(str, ':');
	int n;

	/* "dddd:bb:dd.f" has two colons, "bb:dd.f" one. */
	if (colon && strchr(colon + 1, ':')) {
		if (hex_field(&s, 4, 8, &domain) || *s++ != ':')
			return -EINVAL;
	}
	if (hex_field(&s, 2, 2, &bus) || *s++ != ':' ||
	    hex_field(&s, 2, 2, &dev) || *s++ != '.' ||
	    hex_field(&s, 1, 1, &fn) || *s)
		return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	n = snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%x", domain, bus, dev,
		     fn);
	if ((size_t)n >= size)
		return -ERANGE;
	memcpy(bdf, buf, n + 1);
	return 0;
}

static int bdf_norm(const char *str, char bdf[IREG_PCI_BDF_SIZE],
		    struct msgbuf *mb)
{
	if (!str || bdf_parse(str, bdf, IREG_PCI_BDF_SIZE))
		return msg_fail(mb, EINVAL,
				"invalid BDF '%s' (want dddd:bb:dd.f)",
				str ? str : "(null)");
	roots_init();
	return 0;
}

int ireg_pci_bdf_parse(const char *str, char *bdf, size_t size)
{
	struct msgbuf mb = { 0 };
	int ret;

	if (!str || !bdf)
		return msg_fail(&mb, EINVAL, "%s: NULL %s", __func__,
				str ? "buffer" : "string");
	ret = bdf_parse(str, bdf, size);
	if (ret == -ERANGE)
		return msg_fail(&mb, ERANGE,
				"%s: a buffer of %zu bytes is too small (%d)",
				str, size, IREG_PCI_BDF_SIZE);
	if (ret)
		return msg_fail(&mb, EINVAL,
				"invalid BDF '%s' (want dddd:bb:dd.f)", str);
	return 0;
}

/* ---- sysfs ---- */

/* All return 0 or -ENAMETOOLONG; @path holds PATH_MAX bytes. */
static __printf(2, 3) int path_fmt(char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int dev_path(char *path, const char *bdf, const char *attr)
{
	return path_fmt(path, "%s/bus/pci/devices/%s%s%s", sysfs_root, bdf,
			attr ? "/" : "", attr ? attr : "");
}

static int drv_path(char *path, const char *drv, const char *attr)
{
	return path_fmt(path, "%s/bus/pci/drivers/%s%s%s", sysfs_root, drv,
			attr ? "/" : "", attr ? attr : "");
}

static int bus_path(char *path, const char *attr)
{
	return path_fmt(path, "%s/bus/pci/%s", sysfs_root, attr);
}

int __ireg_pci_dev_path(char *path, const char *bdf, const char *attr)
{
	roots_init();
	return dev_path(path, bdf, attr);
}

int __ireg_pci_bus_path(char *path, const char *attr)
{
	roots_init();
	return bus_path(path, attr);
}

int __ireg_vfio_group_path(char *path, int group)
{
	roots_init();
	return path_fmt(path, "%s/vfio/%d", dev_root, group);
}

int __ireg_parse_ulong(const char *s, int base, unsigned long max,
		       unsigned long *val)
{
	char *end;

	errno = 0;
	*val = strtoul(s, &end, base);
	return errno || end == s || *end || *val > max ? -EINVAL : 0;
}

/* Read a small attribute, without its trailing newline. */
int __ireg_sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

static int sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* The last component of the link at @path; -ERANGE if @size is short. */
static int link_name(const char *path, char *name, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ERANGE;
	strcpy(name, base);
	return 0;
}

/*
 * Write @val to @path, which @ret says was built (0) or not; a message on
 * failure.  ENOENT means the device went away.
 */
static int attr_write(int ret, const char *path, const char *val,
		      struct msgbuf *mb)
{
	if (!ret)
		ret = sysfs_write(path, val);
	if (!ret)
		return 0;
	msg_fail(mb, -ret, "%s: %s", path, strerror(-ret));
	return ret == -ENOENT ? -ENODEV : ret;
}

/* Write @val to the device's @attr. */
static int dev_write(const char *bdf, const char *attr, const char *val,
		     struct msgbuf *mb)
{
	char path[PATH_MAX];

	return attr_write(dev_path(path, bdf, attr), path, val, mb);
}

static int drivers_probe(const char *bdf, struct msgbuf *mb)
{
	char path[PATH_MAX];

	return attr_write(bus_path(path, "drivers_probe"), path, bdf, mb);
}

/* ---- devices ---- */

static int dev_exists(const char *bdf, struct msgbuf *mb)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	err = -dev_path(path, bdf, NULL);
	if (!err && stat(path, &st))
		err = errno;
	if (!err)
		return 0;
	if (err == ENOENT)
		return msg_fail(mb, ENODEV, "%s: no such PCI device", bdf);
	return msg_fail(mb, err, "%s: %s", path, strerror(err));
}

static int driver_of(const char *bdf, char *drv, size_t size)
{
	char path[PATH_MAX];
	struct msgbuf none = { .quiet = true };
	int ret;

	ret = dev_path(path, bdf, "driver");
	if (!ret)
		ret = link_name(path, drv, size);
	if (ret != -ENOENT)
		return ret;
	/* No driver link: no driver, or no device. */
	drv[0] = '\0';
	return dev_exists(bdf, &none);
}

static int group_of(const char *bdf)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	unsigned long group;
	int ret;

	ret = dev_path(path, bdf, "iommu_group");
	if (!ret)
		ret = link_name(path, name, sizeof(name));
	if (ret == -ENOENT)
		return -ENODEV;
	if (!ret)
		ret = __ireg_parse_ulong(name, 10, INT_MAX, &group);
	return ret ? ret : (int)group;
}

int ireg_pci_driver(const char *bdf, char *driver, size_t size)
{
	char norm[IREG_PCI_BDF_SIZE];
	struct msgbuf mb = { 0 };
	int ret = bdf_norm(bdf, norm, &mb);

	if (ret)
		return ret;
	if (!driver || !size)
		return msg_fail(&mb, ERANGE, "%s: no buffer for the driver name",
				norm);
	ret = driver_of(norm, driver, size);
	if (ret == -ENODEV)
		return msg_fail(&mb, ENODEV, "%s: no such PCI device", norm);
	if (ret == -ERANGE)
		return msg_fail(&mb, ERANGE,
				"%s: driver name longer than %zu bytes", norm,
				size - 1);
	if (ret)
		return msg_fail(&mb, -ret, "%s: driver: %s", norm,
				strerror(-ret));
	return 0;
}

int ireg_pci_iommu_group(const char *bdf)
{
	char norm[IREG_PCI_BDF_SIZE];
	struct msgbuf mb = { 0 };
	int ret = bdf_norm(bdf, norm, &mb);

	if (ret)
		return ret;
	ret = group_of(norm);
	if (ret == -ENODEV)
		return msg_fail(&mb, ENODEV,
				"%s: no such PCI device, or not behind an IOMMU",
				norm);
	if (ret < 0)
		return msg_fail(&mb, -ret, "%s: iommu_group: %s", norm,
				strerror(-ret));
	return ret;
}

/* ---- vfio-pci ---- */

static int vfio_pci_loaded(struct msgbuf *mb)
{
	char path[PATH_MAX];

	if (!drv_path(path, VFIO_PCI, NULL) && !access(path, F_OK))
		return 0;
	return msg_fail(mb, ENOENT, "%s: driver not loaded (run 'modprobe %s')",
			VFIO_PCI, VFIO_PCI);
}

/* Wait for /dev/vfio/<group>, which udev may create a little later. */
static int vfio_node_wait(int group, struct msgbuf *mb)
{
	char path[PATH_MAX];
	int waited, err;

	if (__ireg_vfio_group_path(path, group))
		return msg_fail(mb, ENAMETOOLONG, "%s: %s", dev_root,
				strerror(ENAMETOOLONG));
	for (waited = 0; ; waited += VFIO_NODE_POLL_MS) {
		if (!access(path, F_OK))
			return 0;
		err = errno;
		if (err != ENOENT)
			return msg_fail(mb, err, "%s: %s", path, strerror(err));
		if (waited >= VFIO_NODE_WAIT_MS)
			return msg_fail(mb, ETIMEDOUT, "%s: %s", path,
					strerror(ENOENT));
		usleep(VFIO_NODE_POLL_MS * 1000);
	}
}

/*
 * Can @bdf go to vfio-pci?  1 if it is there already, 0 if it can be
 * moved, else a negative errno with a message.  @drv gets its driver,
 * @group its IOMMU group.
 */
static int bind_check(const char *bdf, char drv[IREG_PCI_DRIVER_SIZE],
		      int *group, struct msgbuf *mb)
{
	int ret;

	ret = dev_exists(bdf, mb);
	if (ret)
		return ret;
	ret = vfio_pci_loaded(mb);
	if (ret)
		return ret;
	*group = group_of(bdf);
	if (*group == -ENODEV)
		return msg_fail(mb, ENODEV,
				"%s: no IOMMU group (is the IOMMU enabled? intel_iommu=on)",
				bdf);
	if (*group < 0)
		return msg_fail(mb, -*group, "%s: iommu_group: %s", bdf,
				strerror(-*group));
	ret = driver_of(bdf, drv, IREG_PCI_DRIVER_SIZE);
	if (ret)
		return msg_fail(mb, -ret, "%s: %s", bdf, strerror(-ret));
	return !strcmp(drv, VFIO_PCI);
}

/* Bind @bdf to @drv, or let the kernel choose if @drv is not loaded. */
static int driver_bind(const char *bdf, const char *drv, struct msgbuf *mb)
{
	char path[PATH_MAX], now[IREG_PCI_DRIVER_SIZE];
	bool loaded;
	int ret;

	loaded = !drv_path(path, drv, "bind") && !access(path, F_OK);
	if (loaded) {
		ret = sysfs_write(path, bdf);
		if (ret)
			return msg_fail(mb, -ret, "%s: %s", path,
					strerror(-ret));
	} else {
		ret = drivers_probe(bdf, mb);
		if (ret)
			return ret;
	}
	ret = driver_of(bdf, now, sizeof(now));
	if (ret)
		return msg_fail(mb, -ret, "%s: %s", bdf, strerror(-ret));
	if (strcmp(now, drv))
		return msg_fail(mb, EIO, "%s: could not bind driver %s%s", bdf,
				drv, loaded ? "" : " (not loaded)");
	return 0;
}

static int bind_vfio(const char *bdf, char *orig, size_t size,
		     struct msgbuf *mb);

static int restore(const char *bdf, const char *orig, struct msgbuf *mb)
{
	char drv[IREG_PCI_DRIVER_SIZE], override[IREG_PCI_DRIVER_SIZE];
	char path[PATH_MAX];
	int ret;

	if (!strcmp(orig, VFIO_PCI)) {
		ret = bind_vfio(bdf, NULL, 0, mb);
		return ret < 0 ? ret : 0;
	}

	ret = driver_of(bdf, drv, sizeof(drv));
	if (ret == -ENODEV)
		return msg_fail(mb, ENODEV, "%s: no such PCI device", bdf);
	if (ret)
		return msg_fail(mb, -ret, "%s: %s", bdf, strerror(-ret));
	if (drv[0] && strcmp(drv, VFIO_PCI))
		return msg_fail(mb, EBUSY, "%s: bound to %s, not to %s", bdf,
				drv, VFIO_PCI);

	/* With no driver, only finish what an interrupted restore left. */
	if (drv[0]) {
		ret = dev_write(bdf, "driver/unbind", bdf, mb);
		if (ret)
			return ret;
		ret = driver_of(bdf, drv, sizeof(drv));
		if (ret)
			return msg_fail(mb, -ret, "%s: %s", bdf,
					strerror(-ret));
		if (drv[0])
			return msg_fail(mb, EBUSY, "%s: still bound to %s",
					bdf, drv);
	}

	/* Clear driver_override only if it is ours. */
	ret = dev_path(path, bdf, "driver_override");
	if (!ret)
		ret = __ireg_sysfs_read(path, override, sizeof(override));
	if (ret && ret != -ENOENT)
		return msg_fail(mb, -ret, "%s: %s", path, strerror(-ret));
	if (!ret && !strcmp(override, VFIO_PCI)) {
		ret = dev_write(bdf, "driver_override", "\n", mb);
		if (ret)
			return ret;
	}

	return orig[0] ? driver_bind(bdf, orig, mb) : 0;
}

/*
 * Undo a bind that failed after driver_override was written: whether the
 * device is still on @orig, on no driver or on vfio-pci after all.
 */
static void bind_undo(const char *bdf, const char *orig, struct msgbuf *mb)
{
	char now[IREG_PCI_DRIVER_SIZE];

	if (driver_of(bdf, now, sizeof(now)))
		now[0] = '\0';
	if (!strcmp(now, VFIO_PCI)) {
		restore(bdf, orig, mb);
		return;
	}
	/* driver_override would keep the old driver from matching again. */
	if (dev_write(bdf, "driver_override", "\n", mb))
		return;
	if (!now[0] && orig[0])
		driver_bind(bdf, orig, mb);
}

static int bind_vfio(const char *bdf, char *orig, size_t size,
		     struct msgbuf *mb)
{
	char drv[IREG_PCI_DRIVER_SIZE], now[IREG_PCI_DRIVER_SIZE];
	int bound, group, ret;

	bound = bind_check(bdf, drv, &group, mb);
	if (bound < 0)
		return bound;
	if (orig) {
		if (strlen(drv) >= size)
			return msg_fail(mb, ERANGE,
					"%s: driver name %s longer than the buffer",
					bdf, drv);
		strcpy(orig, drv);
	}

	if (!bound) {
		ret = dev_write(bdf, "driver_override", VFIO_PCI, mb);
		if (ret)
			return ret;
		if (drv[0]) {
			ret = dev_write(bdf, "driver/unbind", bdf, mb);
			if (ret)
				goto err_undo;
		}
		ret = drivers_probe(bdf, mb);
		if (ret)
			goto err_undo;
		ret = driver_of(bdf, now, sizeof(now));
		if (ret) {
			msg_fail(mb, -ret, "%s: %s", bdf, strerror(-ret));
			goto err_undo;
		}
		if (strcmp(now, VFIO_PCI)) {
			ret = msg_fail(mb, EIO, "%s: %s did not bind (see dmesg)",
				       bdf, VFIO_PCI);
			goto err_undo;
		}
	}

	/* Bound: from here on a problem is reported, the binding kept. */
	ret = vfio_node_wait(group, mb);
	return ret ? ret : bound;

err_undo:
	bind_undo(bdf, drv, mb);
	return ret;
}

int ireg_pci_bind_check(const char *bdf)
{
	char norm[IREG_PCI_BDF_SIZE], drv[IREG_PCI_DRIVER_SIZE];
	struct msgbuf mb = { 0 };
	int group, ret;

	ret = bdf_norm(bdf, norm, &mb);
	if (ret)
		return ret;
	return bind_check(norm, drv, &group, &mb);
}

int ireg_pci_bind_vfio(const char *bdf, char *orig_driver, size_t size)
{
	char norm[IREG_PCI_BDF_SIZE];
	struct msgbuf mb = { 0 };
	int ret;

	if (orig_driver && size)
		orig_driver[0] = '\0';
	ret = bdf_norm(bdf, norm, &mb);
	if (ret)
		return ret;
	return bind_vfio(norm, orig_driver, size, &mb);
}

/* A driver name goes into a path: one component, not "." or "..". */
static bool driver_name_ok(const char *drv)
{
	return strlen(drv) < IREG_PCI_DRIVER_SIZE && !strchr(drv, '/') &&
	       strcmp(drv, ".") && strcmp(drv, "..");
}

int ireg_pci_restore(const char *bdf, const char *orig_driver)
{
	char norm[IREG_PCI_BDF_SIZE];
	struct msgbuf mb = { 0 };
	int ret;

	ret = bdf_norm(bdf, norm, &mb);
	if (ret)
		return ret;
	if (!orig_driver)
		return msg_fail(&mb, EINVAL, "%s: no driver name", norm);
	if (!driver_name_ok(orig_driver))
		return msg_fail(&mb, EINVAL, "invalid driver name '%s'",
				orig_driver);
	return restore(norm, orig_driver, &mb);
}
