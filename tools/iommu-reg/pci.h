/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI devices as sysfs shows them: BDF names, attributes, the driver and
 * iommu_group links, and the capabilities found in the config space file.
 */
#ifndef IREG_PCI_H
#define IREG_PCI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ireg.h"

/* "dddddddd:bb:dd.f" and a NUL, with room to spare. */
#define PCI_BDF_SIZE	24

/*
 * What the config space says about a capability.  UNKNOWN is not ABSENT:
 * the part of config space holding it could not be read (only root may
 * read past the first 64 bytes).
 */
enum pci_cap_state {
	PCI_CAP_UNKNOWN,
	PCI_CAP_ABSENT,
	PCI_CAP_PRESENT,
};

struct pci_caps {
	enum pci_cap_state pcie;	/* PCI Express capability (0x10) */
	enum pci_cap_state pasid;	/* extended capability 0x1b */
	enum pci_cap_state pri;		/* extended capability 0x13 */
	enum pci_cap_state ats;		/* extended capability 0x0f */
	enum pci_cap_state acs;		/* extended capability 0x0d */
	unsigned int pasid_width;	/* Max PASID Width, in bits */
	bool pasid_exec;		/* Execute Permission Supported */
	bool pasid_priv;		/* Privileged Mode Supported */
	/* First malformation found in a capability list, or NULL. */
	const char *problem;
	unsigned int problem_pos;	/* config offset it was found at */
};

struct pci_dev {
	char bdf[PCI_BDF_SIZE];
	unsigned int vendor;
	unsigned int device;
	unsigned int class;
	const char *name;		/* well-known device name, or NULL */
	char driver[NAME_MAX + 1];	/* "" when no driver is bound */
	bool has_group;
	unsigned int iommu_group;
	struct pci_caps caps;
};

int pci_bdf_parse(const char *arg, char bdf[PCI_BDF_SIZE]);

void pci_caps_parse(const uint8_t *cfg, size_t len, size_t size,
		    struct pci_caps *caps);

int pci_dev_read(const struct ireg *ir, const char *bdf, struct pci_dev *dev);
int pci_dev_driver(const struct ireg *ir, const char *bdf,
		   char drv[NAME_MAX + 1]);

/*
 * Paths under the sysfs root.  All return 0 or -ENAMETOOLONG; @path must
 * hold PATH_MAX bytes.
 */
int pci_dev_path(const struct ireg *ir, char *path, const char *bdf,
		 const char *attr);
int pci_drv_path(const struct ireg *ir, char *path, const char *drv,
		 const char *attr);
int pci_bus_path(const struct ireg *ir, char *path, const char *attr);

/* sysfs attribute access; 0 or -errno. */
int sysfs_read(const char *path, char *buf, size_t size);
int sysfs_write(const char *path, const char *val);
int sysfs_link_name(const char *path, char *name, size_t size);

#endif /* IREG_PCI_H */
