// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI devices through sysfs (<root>/bus/pci/devices/<BDF>/...), the
 * tree libiommureg reads: its paths and its sysfs reader.
 *
 * A BDF here is always the normalised sysfs name, "dddd:bb:dd.f" in
 * lower case, as ireg_pci_bdf_parse() returns it.  Since that only
 * accepts hex digits, ':' and '.', a parsed BDF is safe to put in a path.
 * The driver and iommu_group links are read through libiommureg, which
 * also moves devices between drivers (dev.c).
 *
 * The config space file is as long as the device's config space (256 or
 * 4096 bytes), but the kernel lets only CAP_SYS_ADMIN read past byte 64:
 * other readers get a short read.  The capability parser is told both
 * lengths so that it can tell "not there" from "not readable".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "pci_internal.h"
#include "pci.h"
#include "print.h"

#ifndef PCI_PASID_CAP_WIDTH
#define PCI_PASID_CAP_WIDTH	0x1f00
#endif

/* Like the kernel's PCI_FIND_CAP_TTL: at most 48 standard capabilities. */
#define PCI_STD_CAP_TTL		48
#define PCI_STD_CAP_START	0x40
#define PCI_EXT_CAP_TTL		((PCI_CFG_SPACE_EXP_SIZE - \
				  PCI_CFG_SPACE_SIZE) / 8)

static const struct {
	unsigned int vendor;
	unsigned int device;
	const char *name;
} pci_names[] = {
	{ 0x1234, 0x11e8, "edu" },	/* QEMU's educational device */
};

/* ---- sysfs ---- */

static int sysfs_read_hex(const char *path, unsigned int *val)
{
	unsigned long v;
	char buf[32];
	int ret;

	ret = __ireg_sysfs_read(path, buf, sizeof(buf));
	if (!ret)
		ret = __ireg_parse_ulong(buf, 16, UINT_MAX, &v);
	if (!ret)
		*val = v;
	return ret;
}

/* ---- config space ---- */

static unsigned int cfg16(const uint8_t *cfg, unsigned int pos)
{
	return cfg[pos] | cfg[pos + 1] << 8;
}

static uint32_t cfg32(const uint8_t *cfg, unsigned int pos)
{
	return cfg16(cfg, pos) | (uint32_t)cfg16(cfg, pos + 2) << 16;
}

static void ext_caps_set(struct pci_caps *caps, enum pci_cap_state state)
{
	caps->pasid = state;
	caps->pri = state;
	caps->ats = state;
	caps->acs = state;
}

static void cap_problem(struct pci_caps *caps, const char *what,
			unsigned int pos)
{
	if (!caps->problem) {
		caps->problem = what;
		caps->problem_pos = pos;
	}
}

/* The standard list (0x40..0xff), as the kernel's __pci_find_next_cap(). */
static void std_caps_walk(const uint8_t *cfg, struct pci_caps *caps)
{
	uint64_t seen = 0;	/* one bit per dword from 0x40 */
	unsigned int pos, ttl = PCI_STD_CAP_TTL;

	caps->pcie = PCI_CAP_ABSENT;
	if (!(cfg16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return;
	if ((cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) ==
	    PCI_HEADER_TYPE_CARDBUS)
		pos = cfg[PCI_CB_CAPABILITY_LIST];
	else
		pos = cfg[PCI_CAPABILITY_LIST];

	while (pos) {
		uint64_t bit;

		pos &= ~3u;
		if (pos < PCI_STD_CAP_START) {
			cap_problem(caps, "capability pointer out of range",
				    pos);
			return;
		}
		bit = 1ull << ((pos - PCI_STD_CAP_START) / 4);
		if ((seen & bit) || !ttl--) {
			cap_problem(caps, "capability list loops", pos);
			return;
		}
		seen |= bit;
		if (cfg[pos + PCI_CAP_LIST_ID] == 0xff)
			return;
		if (cfg[pos + PCI_CAP_LIST_ID] == PCI_CAP_ID_EXP)
			caps->pcie = PCI_CAP_PRESENT;
		pos = cfg[pos + PCI_CAP_LIST_NEXT];
	}
}

static void ext_cap_found(const uint8_t *cfg, unsigned int pos,
			  struct pci_caps *caps)
{
	unsigned int cap;

	switch (PCI_EXT_CAP_ID(cfg32(cfg, pos))) {
	case PCI_EXT_CAP_ID_PASID:
		if (pos + PCI_EXT_CAP_PASID_SIZEOF > PCI_CFG_SPACE_EXP_SIZE) {
			cap_problem(caps, "PASID capability truncated", pos);
			return;
		}
		cap = cfg16(cfg, pos + PCI_PASID_CAP);
		caps->pasid = PCI_CAP_PRESENT;
		caps->pasid_width = (cap & PCI_PASID_CAP_WIDTH) >> 8;
		caps->pasid_exec = cap & PCI_PASID_CAP_EXEC;
		caps->pasid_priv = cap & PCI_PASID_CAP_PRIV;
		break;
	case PCI_EXT_CAP_ID_PRI:
		caps->pri = PCI_CAP_PRESENT;
		break;
	case PCI_EXT_CAP_ID_ATS:
		caps->ats = PCI_CAP_PRESENT;
		break;
	case PCI_EXT_CAP_ID_ACS:
		caps->acs = PCI_CAP_PRESENT;
		break;
	}
}

/*
 * The extended list (0x100..0xfff), as pci_find_next_ext_capability():
 * it starts at 0x100, and a header of 0 (or all ones, nothing there)
 * means no extended capabilities.
 */
static void ext_caps_walk(const uint8_t *cfg, struct pci_caps *caps)
{
	uint32_t seen[PCI_CFG_SPACE_EXP_SIZE / 4 / 32] = { 0 };
	unsigned int pos = PCI_CFG_SPACE_SIZE, ttl = PCI_EXT_CAP_TTL;
	uint32_t header = cfg32(cfg, pos);

	ext_caps_set(caps, PCI_CAP_ABSENT);
	if (header == 0 || header == 0xffffffff)
		return;

	for (;;) {
		unsigned int next = PCI_EXT_CAP_NEXT(header);

		seen[pos / 4 / 32] |= 1u << (pos / 4 % 32);
		ext_cap_found(cfg, pos, caps);
		if (!next)
			return;
		if (next < PCI_CFG_SPACE_SIZE) {
			cap_problem(caps, "extended capability pointer out of range",
				    next);
			return;
		}
		if ((seen[next / 4 / 32] & 1u << (next / 4 % 32)) || !--ttl) {
			cap_problem(caps, "extended capability list loops",
				    next);
			return;
		}
		pos = next;
		header = cfg32(cfg, pos);
	}
}

/*
 * @cfg holds the first @len bytes of a config space of @size bytes.
 * Standard capabilities need the first 256 bytes.  Extended ones need
 * all 4096; a device whose config space is 256 bytes has none.
 */
void pci_caps_parse(const uint8_t *cfg, size_t len, size_t size,
		    struct pci_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->pcie = PCI_CAP_UNKNOWN;
	ext_caps_set(caps, PCI_CAP_UNKNOWN);

	if (len < PCI_CFG_SPACE_SIZE)
		return;
	std_caps_walk(cfg, caps);

	if (len >= PCI_CFG_SPACE_EXP_SIZE)
		ext_caps_walk(cfg, caps);
	else if (len == PCI_CFG_SPACE_SIZE && size == PCI_CFG_SPACE_SIZE)
		ext_caps_set(caps, PCI_CAP_ABSENT);
}

static int pci_config_read(const char *path, struct pci_caps *caps)
{
	uint8_t cfg[PCI_CFG_SPACE_EXP_SIZE];
	struct stat st;
	size_t len = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	while (len < sizeof(cfg)) {
		ssize_t n = pread(fd, cfg + len, sizeof(cfg) - len, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out_close;
		}
		if (!n)
			break;
		len += n;
	}
	pci_caps_parse(cfg, len, st.st_size, caps);
out_close:
	close(fd);
	return ret;
}

/* ---- devices ---- */

static int pci_dev_attr_hex(const char *bdf, const char *attr,
			    unsigned int *val)
{
	char path[PATH_MAX];
	int ret;

	ret = __ireg_pci_dev_path(path, bdf, attr);
	if (ret)
		return ret;
	return sysfs_read_hex(path, val);
}

static int pci_dev_group(struct pci_dev *dev)
{
	int group = ireg_pci_iommu_group(dev->bdf);

	dev->has_group = group >= 0;
	if (group == -ENODEV)	/* no iommu_group link */
		return 0;
	if (group < 0)
		return group;
	dev->iommu_group = group;
	return 0;
}

/*
 * Fill @dev for @bdf.  -ENODEV if there is no such device; problems with
 * the config space only leave the capabilities unknown, with a warning.
 */
int pci_dev_read(const char *bdf, struct pci_dev *dev)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i;
	int ret;

	memset(dev, 0, sizeof(*dev));
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);

	ret = __ireg_pci_dev_path(path, bdf, NULL);
	if (ret)
		return ret;
	if (stat(path, &st))
		return errno == ENOENT ? -ENODEV : -errno;

	ret = pci_dev_attr_hex(bdf, "vendor", &dev->vendor);
	if (!ret)
		ret = pci_dev_attr_hex(bdf, "device", &dev->device);
	if (!ret)
		ret = pci_dev_attr_hex(bdf, "class", &dev->class);
	if (ret)	/* the device went away while we looked */
		return ret == -ENOENT ? -ENODEV : ret;

	for (i = 0; i < ARRAY_SIZE(pci_names); i++)
		if (pci_names[i].vendor == dev->vendor &&
		    pci_names[i].device == dev->device)
			dev->name = pci_names[i].name;

	ret = ireg_pci_driver(bdf, dev->driver, sizeof(dev->driver));
	if (ret)
		return ret;
	ret = pci_dev_group(dev);
	if (ret)
		return ret;

	ret = __ireg_pci_dev_path(path, bdf, "config");
	if (!ret)
		ret = pci_config_read(path, &dev->caps);
	if (ret) {
		pci_caps_parse(NULL, 0, 0, &dev->caps);
		print_warn("%s: %s", path, strerror(-ret));
	} else if (dev->caps.problem) {
		print_warn("%s: %s at 0x%x", bdf, dev->caps.problem,
			   dev->caps.problem_pos);
	}
	return 0;
}
