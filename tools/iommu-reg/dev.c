// SPDX-License-Identifier: GPL-2.0-only
/*
 * dev: PCI devices; show them with what matters to VFIO and iommu-reg,
 * and hand them to vfio-pci and back (dev sva is in sva.c).
 *
 *	iommu-reg dev [show [BDF]]
 *	iommu-reg dev bind BDF
 *	iommu-reg dev unbind BDF
 *
 * The moving is libiommureg's (ireg_pci_bind_vfio(), ireg_pci_restore():
 * driver_override, unbind, drivers_probe, rollback); what the tool adds
 * is memory.  bind saves the driver a device had in the state file
 * <state_dir>/<BDF>.driver (one line, empty for "no driver") after
 * ireg_pci_bind_check() said the move can be made and before anything
 * changes, so that a bind interrupted half way can still be undone.
 * unbind gives the device back to the saved driver and removes the file.
 * The state file exists while a device bound by "dev bind" has not been
 * given back; "dev unbind" without one leaves the device without a
 * driver.  The sysfs and /dev trees are libiommureg's (pci_internal.h).
 *
 * Unbinding from vfio-pci blocks in the kernel while a process still
 * holds the device open.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommureg.h"
#include "pci_internal.h"
#include "tool.h"
#include "pci.h"
#include "print.h"

#define VFIO_PCI		"vfio-pci"

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

/* Read @bdf into @dev; 0 or an exit code. */
static int dev_lookup(const char *bdf, struct pci_dev *dev)
{
	int ret = pci_dev_read(bdf, dev);

	if (ret) {
		print_err(-ret, "%s", bdf);
		return EXIT_ERROR;
	}
	return 0;
}

/* The one BDF of a command, and what sysfs says of it; 0 or an exit code. */
static int dev_arg(struct tool *t, struct pci_dev *dev)
{
	char bdf[IREG_PCI_BDF_SIZE];
	int ret;

	ret = arg_bdf(t, bdf);
	if (!ret)
		ret = arg_end(t);
	if (!ret)
		ret = dev_lookup(bdf, dev);
	return ret;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int dev_list(void)
{
	struct dirent **names;
	char path[PATH_MAX];
	int ret = EXIT_OK;
	int i, n;

	if (__ireg_pci_bus_path(path, "devices")) {
		print_err(ENAMETOOLONG, "sysfs root");
		return EXIT_ERROR;
	}
	/* alphasort: in the C locale, BDF order. */
	n = scandir(path, &names, not_hidden, alphasort);
	if (n < 0) {
		print_err(errno, "%s", path);
		return EXIT_ERROR;
	}

	print_open_array(NULL);
	for (i = 0; i < n; i++) {
		struct pci_dev dev;
		int err = pci_dev_read(names[i]->d_name, &dev);

		if (!err) {
			dev_print(&dev);
		} else if (err != -ENODEV) {	/* ENODEV: just removed */
			print_err(-err, "%s", names[i]->d_name);
			ret = EXIT_ERROR;
		}
		free(names[i]);
	}
	free(names);
	print_close();
	return ret;
}

static int dev_show(struct tool *t)
{
	struct pci_dev dev;
	int ret;

	if (arg_none(t))
		return dev_list();
	ret = dev_arg(t, &dev);
	if (ret)
		return ret;
	print_open_array(NULL);
	dev_print(&dev);
	print_close();
	return EXIT_OK;
}

/* ---- bind, unbind ---- */

/* Changing drivers needs root; say so when that is the likely cause. */
static void need_root_hint(int err)
{
	if (err == EACCES || err == EPERM)
		print_err(0, "bind and unbind need root (CAP_SYS_ADMIN)");
}

/* Report a failed change to the system. */
static int sys_err(const char *what, int err)
{
	print_err(err, "%s", what);
	need_root_hint(err);
	return -err;
}

/*
 * Report a failure of libiommureg: each line of its message (the
 * failure, then what a rollback could not undo), the hint after the
 * first.
 */
static void lib_err(const char *what, const char *msg, int err)
{
	const char *nl;

	if (!msg[0]) {
		sys_err(what, err);
		return;
	}
	for (;;) {
		nl = strchr(msg, '\n');
		print_err(0, "%.*s", nl ? (int)(nl - msg) : (int)strlen(msg), msg);
		need_root_hint(err);
		if (!nl)
			return;
		msg = nl + 1;
		err = 0;
	}
}

static int state_path(const struct tool *t, char *path, const char *bdf,
		      const char *suffix)
{
	int n = snprintf(path, PATH_MAX, "%s/%s.driver%s", t->state_dir,
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
static int state_save(const struct tool *t, const char *bdf, const char *drv)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	int ret;

	ret = mkdir_parents(t->state_dir);
	if (ret)
		return ret;
	if (state_path(t, path, bdf, "") || state_path(t, tmp, bdf, ".tmp"))
		return sys_err(t->state_dir, ENAMETOOLONG);

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
static int state_load(const struct tool *t, const char *bdf,
		      char drv[IREG_PCI_DRIVER_SIZE])
{
	char path[PATH_MAX];
	int ret;

	drv[0] = '\0';
	ret = state_path(t, path, bdf, "");
	if (!ret)
		ret = __ireg_sysfs_read(path, drv, IREG_PCI_DRIVER_SIZE);
	if (ret && ret != -ENOENT)
		print_err(-ret, "%s", path);
	return ret;
}

static void state_remove(const struct tool *t, const char *bdf)
{
	char path[PATH_MAX];

	if (!state_path(t, path, bdf, "") && unlink(path) && errno != ENOENT)
		print_warn("%s: %s", path, strerror(errno));
}

static bool on_vfio_pci(const char *bdf)
{
	char drv[IREG_PCI_DRIVER_SIZE];

	return !ireg_pci_driver(bdf, drv, sizeof(drv)) &&
	       !strcmp(drv, VFIO_PCI);
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

static int dev_bind(struct tool *t)
{
	char orig[IREG_PCI_DRIVER_SIZE], node[PATH_MAX];
	const char *bdf;
	struct pci_dev dev;
	int bound, ret;

	ret = dev_arg(t, &dev);
	if (ret)
		return ret;
	bdf = dev.bdf;

	/* Refusals come before the state file: nothing to clean up. */
	bound = ireg_pci_bind_check(bdf);
	if (bound < 0) {
		lib_err(bdf, ireg_errmsg(), -bound);
		/* vfio-pci not loaded, no IOMMU group */
		return bound == -ENOENT || bound == -ENODEV ?
		       EXIT_UNSUPPORTED : EXIT_ERROR;
	}
	if (bound) {
		/* Already there: report what an earlier bind saved. */
		state_load(t, bdf, orig);
	} else {
		strcpy(orig, dev.driver);
		if (state_save(t, bdf, orig))
			return EXIT_ERROR;
	}

	ret = ireg_pci_bind_vfio(bdf, NULL, 0);
	if (ret < 0) {
		lib_err(bdf, ireg_errmsg(), -ret);
		/*
		 * The library rolled back, unless vfio-pci kept the device
		 * (no /dev/vfio/<group>): then unbind needs the state file.
		 */
		if (!bound && !on_vfio_pci(bdf))
			state_remove(t, bdf);
		return EXIT_ERROR;
	}

	strcpy(dev.driver, VFIO_PCI);
	__ireg_vfio_group_path(node, dev.iommu_group);
	bind_print(&dev, orig, node);
	return EXIT_OK;
}

static int dev_unbind(struct tool *t)
{
	char saved[IREG_PCI_DRIVER_SIZE];
	const char *bdf;
	struct pci_dev dev;
	int ret;

	ret = dev_arg(t, &dev);
	if (ret)
		return ret;
	bdf = dev.bdf;
	ret = state_load(t, bdf, saved);
	if (ret && ret != -ENOENT)
		return EXIT_ERROR;

	/* On failure keep the state file: unbind can be run again. */
	ret = ireg_pci_restore(bdf, saved);
	if (ret) {
		lib_err(bdf, ireg_errmsg(), -ret);
		return EXIT_ERROR;
	}
	state_remove(t, bdf);

	print_open_obj(NULL);
	print_str("bdf", "%s", dev.bdf);
	print_driver("driver", "driver %s", saved);
	print_close();
	print_nl();
	return EXIT_OK;
}

const struct cmd dev_cmds[] = {
	CMD_VERB("show", dev_show, "[BDF]",
		 "show PCI devices: driver, IOMMU group, PCIe caps"),
	CMD_VERB("bind", dev_bind, "BDF",
		 "bind a device to vfio-pci, remembering its driver"),
	CMD_VERB("unbind", dev_unbind, "BDF",
		 "unbind a device from vfio-pci, restoring its driver"),
	CMD_VERB("sva", dev_sva, "BDF [BDF...]",
		 "show the kernel's SVA report of devices (opens them)"),
	{ NULL }
};
