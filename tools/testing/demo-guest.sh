#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs inside the demo VM (see tools/testing/demo): shows, step by step,
# what iommu-reg does so far.  Exits non-zero at the first step that fails.
set -e

step() { printf '\n--- %s\n' "$*"; }

step "kernel $(uname -r), IOMMU:"
dmesg | grep -m 3 -E 'DMAR: (IOMMU enabled|Intel\(R\) Virtualization)|DMAR-IR: Enabled' || true

step "modules loaded"
grep -E '^(vfio|vfio_pci|vfio_iommu_type1|iommu_reg) ' /proc/modules | cut -d' ' -f1,2

step "PCI devices (iommu-reg devices): the edu devices are bound to vfio-pci"
iommu-reg devices

step "open the edu devices through libiommureg: one container, backend iommu_reg"
# shellcheck disable=SC2086  # one argument per device
ireg-info $IREG_EDU_BDFS

step "register a buffer once and let the device DMA through it"
# shellcheck disable=SC2086
set -- $IREG_EDU_BDFS
edu-dma "$1"

echo
echo "DEMO OK: iommu_reg is a VFIO IOMMU backend; both edu devices share its"
echo "domain, and a registered buffer carries real device DMA"
