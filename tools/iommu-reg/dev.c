// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI devices: list them with what matters to VFIO and iommu-reg, and
 * hand them to vfio-pci and back.
 *
 * bind moves a device to vfio-pci the way the kernel documents it:
 * driver_override := vfio-pci, unbind from the current driver, then
 * drivers_probe := BDF.  The driver it had is saved first in the state
 * file <state_dir>/<BDF>.driver (one line, empty for "no driver"), so
 * that unbind can give the device back: unbind from vfio-pci, clear
 * driver_override, bind the saved driver, remove the state file.  The
 * state file exists while a device bound by "bind" has not been given
 * back; "unbind" without one leaves the device without a driver.
 *
 * Unbinding from vfio-pci blocks in the kernel while a process still
 * holds the device open.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ireg.h"
#include "pci.h"
#include "print.h"

#define VFIO_PCI		"vfio-pci"
/* How long bind waits for udev to create /dev/vfio/<group>. */
#define VFIO_NODE_WAIT_MS	2000
#define VFIO_NODE_POLL_MS	50

/* ---- devices ---- */

static void print_cap(const char *key, const char *fmt,
		      enum pci_cap_state state)
{
	if (state == PCI_CAP_UNKNOWN)
		print_null(key, fmt, "unknown");
	else
		print_bool(key, fmt, state == PCI_CAP_PRESENT);
}

static void print_pasid(const struct pci_caps *caps)
{
	if (caps->pasid != PCI_CAP_PRESENT) {
		print_cap("pasid", "pasid %s", caps->pasid);
		return;
	}
	print_open_obj("pasid");
	print_uint("width", "pasid width %llu", caps->pasid_width);
	print_bool("exec", "exec %s", caps->pasid_exec);
	print_bool("priv", "priv %s", caps->pasid_priv);
	print_close();
}

static void print_driver(const char *key, const char *fmt, const char *drv)
{
	if (drv[0])
		print_str(key, fmt, drv);
	else
		print_null(key, fmt, "none");
}

static void print_group(const struct pci_dev *dev)
{
	if (dev->has_group)
		print_uint("iommu_group", "iommu_group %-4llu",
			   dev->iommu_group);
	else
		print_null("iommu_group", "iommu_group %-4s", "none");
}

static void dev_print(const struct pci_dev *dev)
{
	char buf[32];

	print_open_obj(NULL);
	print_str("bdf", "%s", dev->bdf);
	snprintf(buf, sizeof(buf), "%04x:%04x", dev->vendor, dev->device);
	print_str(NULL, "%s", buf);
	snprintf(buf, sizeof(buf), "%04x", dev->vendor);
	print_str("vendor", NULL, buf);
	snprintf(buf, sizeof(buf), "%04x", dev->device);
	print_str("device", NULL, buf);
	snprintf(buf, sizeof(buf), "%06x", dev->class);
	print_str("class", "class %s", buf);
	print_br();

	print_driver("driver", "driver %-10s", dev->driver);
	print_group(dev);
	print_br();

	/* PASID last: it is the only field of variable width. */
	print_cap("pcie", "pcie %-3s", dev->caps.pcie);
	print_cap("ats", "ats %-3s", dev->caps.ats);
	print_cap("pri", "pri %-3s", dev->caps.pri);
	print_cap("acs", "acs %-3s", dev->caps.acs);
	print_pasid(&dev->caps);
	if (dev->name)
		print_str("name", "name %s", dev->name);
	else
		print_null("name", NULL, NULL);
	print_close();
	print_nl();
}

/* Take the one BDF argument; 0 or an exit code. */
static int take_bdf(struct ireg *ir, char bdf[PCI_BDF_SIZE])
{
	const char *arg = arg_next(ir);

	if (!arg)
		return cmd_usage_error(ir, "missing BDF");
	if (pci_bdf_parse(arg, bdf))
		return cmd_usage_error(ir,
				       "invalid BDF '%s' (want dddd:bb:dd.f)",
				       arg);
	if (!arg_none(ir))
		return cmd_usage_error(ir, "unexpected argument '%s'",
				       arg_peek(ir));
	return 0;
}

/* Read @bdf into @dev; 0 or an exit code. */
static int dev_lookup(const struct ireg *ir, const char *bdf,
		      struct pci_dev *dev)
{
	int ret = pci_dev_read(ir, bdf, dev);

	if (ret) {
		ireg_err(bdf, -ret);
		return IREG_EXIT_ERROR;
	}
	return 0;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int dev_list(const struct ireg *ir)
{
	struct dirent **names;
	char path[PATH_MAX];
	int ret = IREG_EXIT_OK;
	int i, n;

	if (pci_bus_path(ir, path, "devices")) {
		ireg_err(ir->sysfs_root, ENAMETOOLONG);
		return IREG_EXIT_ERROR;
	}
	/* alphasort: in the C locale, BDF order. */
	n = scandir(path, &names, not_hidden, alphasort);
	if (n < 0) {
		ireg_err(path, errno);
		return IREG_EXIT_ERROR;
	}

	print_open_array(NULL);
	for (i = 0; i < n; i++) {
		struct pci_dev dev;
		int err = pci_dev_read(ir, names[i]->d_name, &dev);

		if (!err) {
			dev_print(&dev);
		} else if (err != -ENODEV) {	/* ENODEV: just removed */
			ireg_err(names[i]->d_name, -err);
			ret = IREG_EXIT_ERROR;
		}
		free(names[i]);
	}
	free(names);
	print_close();
	return ret;
}

int cmd_devices(struct ireg *ir)
{
	char bdf[PCI_BDF_SIZE];
	struct pci_dev dev;
	int ret;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	if (arg_none(ir))
		return dev_list(ir);

	ret = take_bdf(ir, bdf);
	if (ret)
		return ret;
	ret = dev_lookup(ir, bdf, &dev);
	if (ret)
		return ret;
	print_open_array(NULL);
	dev_print(&dev);
	print_close();
	return IREG_EXIT_OK;
}

/* ---- bind, unbind ---- */

/* Report a failed change to the system; the usual cause is not root. */
static int sys_err(const char *what, int err)
{
	ireg_err(what, err);
	if (err == EACCES || err == EPERM)
		ireg_errx("bind and unbind need root (CAP_SYS_ADMIN)");
	return -err;
}

static int dev_write(const struct ireg *ir, const char *bdf,
		     const char *attr, const char *val)
{
	char path[PATH_MAX];
	int ret;

	ret = pci_dev_path(ir, path, bdf, attr);
	if (!ret)
		ret = sysfs_write(path, val);
	return ret ? sys_err(path, -ret) : 0;
}

static int drivers_probe(const struct ireg *ir, const char *bdf)
{
	char path[PATH_MAX];
	int ret;

	ret = pci_bus_path(ir, path, "drivers_probe");
	if (!ret)
		ret = sysfs_write(path, bdf);
	return ret ? sys_err(path, -ret) : 0;
}

static int state_path(const struct ireg *ir, char *path, const char *bdf,
		      const char *suffix)
{
	int n = snprintf(path, PATH_MAX, "%s/%s.driver%s", ir->state_dir,
			 bdf, suffix);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* mkdir -p: an initramfs may have no /run yet. */
static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return sys_err(dir, ENAMETOOLONG);
	for (p = path + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		if (p[-1] != '/') {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0755) && errno != EEXIST)
				return sys_err(path, errno);
			*p = c;
		}
		if (!*p)
			return 0;
	}
}

/* Save @drv ("" for none) as the driver to give @bdf back to. */
static int state_save(const struct ireg *ir, const char *bdf, const char *drv)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	int ret;

	ret = mkdir_parents(ir->state_dir);
	if (ret)
		return ret;
	if (state_path(ir, path, bdf, "") || state_path(ir, tmp, bdf, ".tmp"))
		return sys_err(ir->state_dir, ENAMETOOLONG);

	/* Write and rename: a crash leaves the old file or the new one. */
	f = fopen(tmp, "we");
	if (!f)
		return sys_err(tmp, errno);
	fprintf(f, "%s\n", drv);
	if (fclose(f)) {
		int err = errno;

		unlink(tmp);
		return sys_err(tmp, err);
	}
	if (rename(tmp, path)) {
		int err = errno;

		unlink(tmp);
		return sys_err(path, err);
	}
	return 0;
}

/* 0 with the saved driver in @drv, -ENOENT if none is saved, or -errno. */
static int state_load(const struct ireg *ir, const char *bdf,
		      char drv[NAME_MAX + 1])
{
	char path[PATH_MAX];
	int ret;

	drv[0] = '\0';
	ret = state_path(ir, path, bdf, "");
	if (!ret)
		ret = sysfs_read(path, drv, NAME_MAX + 1);
	if (ret && ret != -ENOENT)
		ireg_err(path, -ret);
	return ret;
}

static void state_remove(const struct ireg *ir, const char *bdf)
{
	char path[PATH_MAX];

	if (!state_path(ir, path, bdf, "") && unlink(path) && errno != ENOENT)
		ireg_warnx("%s: %s", path, strerror(errno));
}

/* 0, or IREG_EXIT_UNSUPPORTED with the fix for the user. */
static int vfio_pci_loaded(const struct ireg *ir)
{
	char path[PATH_MAX];

	if (!pci_drv_path(ir, path, VFIO_PCI, NULL) && !access(path, F_OK))
		return 0;
	ireg_errx("%s: driver not loaded (run 'modprobe %s')", VFIO_PCI,
		  VFIO_PCI);
	return IREG_EXIT_UNSUPPORTED;
}

/* Wait for /dev/vfio/<group>, which udev may create a little later. */
static int vfio_node_wait(const struct ireg *ir, unsigned int group,
			  char *path)
{
	int waited;

	snprintf(path, PATH_MAX, "%s/vfio/%u", ir->dev_root, group);
	for (waited = 0; ; waited += VFIO_NODE_POLL_MS) {
		if (!access(path, F_OK))
			return 0;
		if (errno != ENOENT || waited >= VFIO_NODE_WAIT_MS)
			return -errno;
		usleep(VFIO_NODE_POLL_MS * 1000);
	}
}

/* Bind @bdf to @drv, or let the kernel pick if @drv is not loaded. */
static int driver_restore(const struct ireg *ir, const char *bdf,
			  const char *drv)
{
	char path[PATH_MAX], now[NAME_MAX + 1];
	int ret;

	ret = pci_drv_path(ir, path, drv, "bind");
	if (!ret && !access(path, F_OK)) {
		ret = sysfs_write(path, bdf);
		if (ret)
			return sys_err(path, -ret);
	} else {
		ret = drivers_probe(ir, bdf);
		if (ret)
			return ret;
	}
	ret = pci_dev_driver(ir, bdf, now);
	if (ret)
		return sys_err(bdf, -ret);
	if (strcmp(now, drv)) {
		ireg_errx("%s: could not bind driver %s%s", bdf, drv,
			  access(path, F_OK) ? " (not loaded)" : "");
		return -ENODEV;
	}
	return 0;
}

/* Undo a bind that failed after its state file was written. */
static void bind_undo(const struct ireg *ir, const char *bdf,
		      const char *orig, bool unbound)
{
	/* driver_override would keep the original driver from matching. */
	dev_write(ir, bdf, "driver_override", "\n");
	if (unbound && orig[0])
		driver_restore(ir, bdf, orig);
	state_remove(ir, bdf);
}

static void bind_print(const struct pci_dev *dev, const char *prev,
		       const char *node)
{
	print_open_obj(NULL);
	print_str("bdf", "%s", dev->bdf);
	print_driver("driver", "driver %-10s", dev->driver);
	print_group(dev);
	print_str("vfio_group", "vfio_group %s", node);
	print_driver("previous_driver", "previous_driver %s", prev);
	print_close();
	print_nl();
}

int cmd_bind(struct ireg *ir)
{
	char bdf[PCI_BDF_SIZE], node[PATH_MAX], orig[NAME_MAX + 1];
	struct pci_dev dev;
	int ret;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	ret = take_bdf(ir, bdf);
	if (ret)
		return ret;
	ret = dev_lookup(ir, bdf, &dev);
	if (ret)
		return ret;
	ret = vfio_pci_loaded(ir);
	if (ret)
		return ret;

	if (!strcmp(dev.driver, VFIO_PCI)) {
		/* Already there: report what an earlier bind saved. */
		state_load(ir, bdf, orig);
		goto check_node;
	}
	if (!dev.has_group) {
		ireg_errx("%s: no IOMMU group (is the IOMMU enabled? intel_iommu=on)",
			  bdf);
		return IREG_EXIT_UNSUPPORTED;
	}

	strcpy(orig, dev.driver);
	if (state_save(ir, bdf, orig))
		return IREG_EXIT_ERROR;
	if (dev_write(ir, bdf, "driver_override", VFIO_PCI))
		goto err_undo;
	if (orig[0] && dev_write(ir, bdf, "driver/unbind", bdf))
		goto err_undo;
	if (drivers_probe(ir, bdf))
		goto err_undo_unbound;
	ret = pci_dev_driver(ir, bdf, dev.driver);
	if (ret) {
		sys_err(bdf, -ret);
		goto err_undo_unbound;
	}
	if (strcmp(dev.driver, VFIO_PCI)) {
		ireg_errx("%s: %s did not bind (see dmesg)", bdf, VFIO_PCI);
		goto err_undo_unbound;
	}

check_node:
	/* Bound: from here on a problem is reported, the binding kept. */
	if (!dev.has_group) {
		ireg_errx("%s: bound to %s but in no IOMMU group", bdf,
			  VFIO_PCI);
		return IREG_EXIT_ERROR;
	}
	ret = vfio_node_wait(ir, dev.iommu_group, node);
	if (ret) {
		ireg_err(node, -ret);
		return IREG_EXIT_ERROR;
	}
	bind_print(&dev, orig, node);
	return IREG_EXIT_OK;

err_undo_unbound:
	bind_undo(ir, bdf, orig, true);
	return IREG_EXIT_ERROR;
err_undo:
	bind_undo(ir, bdf, orig, false);
	return IREG_EXIT_ERROR;
}

int cmd_unbind(struct ireg *ir)
{
	char bdf[PCI_BDF_SIZE], saved[NAME_MAX + 1], buf[NAME_MAX + 1];
	char path[PATH_MAX];
	struct pci_dev dev;
	int ret;

	if (cmd_want_help(ir))
		return cmd_help_leaf(ir);
	ret = take_bdf(ir, bdf);
	if (ret)
		return ret;
	ret = dev_lookup(ir, bdf, &dev);
	if (ret)
		return ret;
	ret = state_load(ir, bdf, saved);
	if (ret && ret != -ENOENT)
		return IREG_EXIT_ERROR;

	if (dev.driver[0] && strcmp(dev.driver, VFIO_PCI)) {
		ireg_errx("%s: bound to %s, not to %s", bdf, dev.driver,
			  VFIO_PCI);
		return IREG_EXIT_ERROR;
	}
	/* With no driver, only finish what an interrupted unbind left. */
	if (dev.driver[0]) {
		if (dev_write(ir, bdf, "driver/unbind", bdf))
			return IREG_EXIT_ERROR;
		ret = pci_dev_driver(ir, bdf, dev.driver);
		if (ret) {
			sys_err(bdf, -ret);
			return IREG_EXIT_ERROR;
		}
		if (dev.driver[0]) {
			ireg_errx("%s: still bound to %s", bdf, dev.driver);
			return IREG_EXIT_ERROR;
		}
	}

	/* Clear driver_override only if it is ours. */
	ret = pci_dev_path(ir, path, bdf, "driver_override");
	if (!ret)
		ret = sysfs_read(path, buf, sizeof(buf));
	if (ret && ret != -ENOENT) {
		ireg_err(path, -ret);
		return IREG_EXIT_ERROR;
	}
	if (!ret && !strcmp(buf, VFIO_PCI) &&
	    dev_write(ir, bdf, "driver_override", "\n"))
		return IREG_EXIT_ERROR;

	/* On failure keep the state file: unbind can be run again. */
	if (saved[0] && driver_restore(ir, bdf, saved))
		return IREG_EXIT_ERROR;
	state_remove(ir, bdf);

	strcpy(dev.driver, saved);
	print_open_obj(NULL);
	print_str("bdf", "%s", dev.bdf);
	print_driver("driver", "driver %s", dev.driver);
	print_close();
	print_nl();
	return IREG_EXIT_OK;
}
