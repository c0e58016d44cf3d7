/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libiommureg PCI helpers: a device's driver and IOMMU group, and moving
 * it to vfio-pci and back to the driver it had.  Included by
 * <iommureg.h>; no context is involved.
 *
 * Conventions: the library's error rule (<iommureg.h>): 0 (or a
 * non-negative value) on success, a negative errno on failure, errno left
 * alone, and the reason in words in the thread's ireg_errmsg(): one line
 * per problem, the failure first, then anything a rollback could not
 * undo.
 *
 * A BDF is a PCI function's sysfs name, "dddd:bb:dd.f"; every function
 * also accepts the short form "bb:dd.f" (domain 0000) and upper case.
 *
 * $IREG_SYSFS_ROOT and $IREG_DEV_ROOT, when set and not empty, replace
 * /sys and /dev (for tests on a fake tree); they are read once, at the
 * first call with a valid BDF of any of these functions but
 * ireg_pci_bdf_parse(), with secure_getenv() (so that call must not race
 * with setenv() in another thread): a set-user-ID or file-capability
 * program ignores them.
 *
 * Thread safety: the functions keep no state besides those two roots
 * (and the calling thread's own message) and may be called from any
 * thread; two changes of the same device at once (from any process)
 * race in sysfs, as they would from a shell.
 */
#ifndef LIBIOMMUREG_PCI_H
#define LIBIOMMUREG_PCI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes that hold any normalised BDF ("dddddddd:bb:dd.f") and its NUL. */
#define IREG_PCI_BDF_SIZE	24
/* Bytes that hold any driver name and its NUL (NAME_MAX + 1). */
#define IREG_PCI_DRIVER_SIZE	256

int ireg_pci_bdf_parse(const char *str, char *bdf, size_t size);
int ireg_pci_driver(const char *bdf, char *driver, size_t size);
int ireg_pci_iommu_group(const char *bdf);

int ireg_pci_bind_check(const char *bdf);
int ireg_pci_bind_vfio(const char *bdf, char *orig_driver, size_t size);
int ireg_pci_restore(const char *bdf, const char *orig_driver);

#ifdef __cplusplus
}
#endif

#endif /* LIBIOMMUREG_PCI_H */
