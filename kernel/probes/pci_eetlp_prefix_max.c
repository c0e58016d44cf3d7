// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU_REG_HAVE_PCI_EETLP_PREFIX_MAX: struct pci_dev records how many
 * End-End TLP prefixes the path carries, 0 for none (eetlp_prefix_max,
 * Linux 6.14 or so); before, whether it carries them (eetlp_prefix_path).
 */
#include <linux/pci.h>

bool iommu_reg_probe(struct pci_dev *pdev);
bool iommu_reg_probe(struct pci_dev *pdev)
{
	return pdev->eetlp_prefix_max;
}
