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

step "iommu-reg register: a 2 MiB THP buffer, checked by the device's DMA"
iommu-reg register "$1" size 2M mem thp

step "held registrations, seen from another process (netlink admin view)"
iommu-reg register "$1" size 256K mem 4k hold >/dev/null 2>&1 &
holder=$!
iommu-reg register "$2" size 4M mem hugetlb hold >/dev/null 2>&1 &
holder2=$!
sleep 1
iommu-reg list containers
iommu-reg list
iommu-reg stats
kill -TERM "$holder" "$holder2"
wait "$holder" "$holder2"

step "memory unmapped under a registration: the kernel says so, live"
iommu-reg monitor count 3 &
mon=$!
sleep 0.5
iommu-reg register "$1" size 64K mem 4k invalidate-after 0
wait "$mon"

echo
echo "DEMO OK: iommu_reg is a VFIO IOMMU backend; both edu devices share its"
echo "domain, registered buffers carry real device DMA, and invalidation"
echo "reaches user space as it happens"
