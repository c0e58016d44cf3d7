/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg's sysfs and /dev paths, for the code linked with the
 * static library (the iommu-reg tool) that must see the same tree as
 * the public PCI functions: /sys and /dev, or $IREG_SYSFS_ROOT and
 * $IREG_DEV_ROOT when set (read once, see <iommureg/pci.h>).  Not part
 * of the API: the shared library does not export these.
 *
 * The path builders take a @path of PATH_MAX bytes and return 0 or
 * -ENAMETOOLONG.  @bdf is a normalised BDF (ireg_pci_bdf_parse()).
 */
#ifndef LIBIOMMUREG_PCI_INTERNAL_H
#define LIBIOMMUREG_PCI_INTERNAL_H

#include <stddef.h>

/* <root>/bus/pci/devices/<bdf>[/<attr>] (no attribute when @attr is NULL) */
int __ireg_pci_dev_path(char *path, const char *bdf, const char *attr);
/* <root>/bus/pci/<attr> */
int __ireg_pci_bus_path(char *path, const char *attr);
/* <dev root>/vfio/<group> */
int __ireg_vfio_group_path(char *path, int group);

/* The whole of @s as a number in @base up to @max; 0 or -EINVAL. */
int __ireg_parse_ulong(const char *s, int base, unsigned long max,
		       unsigned long *val);

/* A small file without its trailing newline and blanks; 0 or -errno. */
int __ireg_sysfs_read(const char *path, char *buf, size_t size);

#endif /* LIBIOMMUREG_PCI_INTERNAL_H */
