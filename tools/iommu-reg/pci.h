/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI devices as sysfs shows them: attributes and the capabilities found
 * in the config space file.  BDF names, the driver and iommu_group links
 * and moving devices between drivers are libiommureg's (iommureg/pci.h).
 */
#ifndef PCI_H
#define PCI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommureg/pci.h>

#include "tool.h"

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
	char bdf[IREG_PCI_BDF_SIZE];
	unsigned int vendor;
	unsigned int device;
	unsigned int class;
	const char *name;		/* well-known device name, or NULL */
	char driver[IREG_PCI_DRIVER_SIZE]; /* "" when no driver is bound */
	bool has_group;
	unsigned int iommu_group;
	struct pci_caps caps;
};

void pci_caps_parse(const uint8_t *cfg, size_t len, size_t size,
		    struct pci_caps *caps);

/*
 * Fill @dev for @bdf (normalised).  -ENODEV if there is no such device;
 * problems with the config space only leave the capabilities unknown,
 * with a warning.
 */
int pci_dev_read(const char *bdf, struct pci_dev *dev);

#endif /* PCI_H */
