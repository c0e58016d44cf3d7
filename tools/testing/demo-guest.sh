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

step "PCI devices (iommu-reg dev show): the edu devices are bound to vfio-pci"
iommu-reg dev show

step "open the edu devices through libiommureg: one container, backend iommu_reg"
# shellcheck disable=SC2086  # one argument per device
ireg-info $IREG_EDU_BDFS

step "register a buffer once and let the device DMA through it"
# shellcheck disable=SC2086
set -- $IREG_EDU_BDFS
edu-dma "$1"

step "iommu-reg region add: a 2 MiB THP buffer registered from the command line"
iommu-reg region add "$1" size 2M mem thp

step "edu-check: a buffer of each backing registered and proven by the device's DMA"
edu-check "$1"

step "held registrations, seen from another process (netlink admin view)"
iommu-reg region add "$1" size 256K mem 4k hold >/dev/null 2>&1 &
holder=$!
iommu-reg region add "$2" size 4M mem hugetlb hold >/dev/null 2>&1 &
holder2=$!
sleep 1
iommu-reg container show
iommu-reg region show
iommu-reg stats show

step "iommu-reg region del: the holders let their registrations go"
iommu-reg region del pid "$holder"
iommu-reg region del pid "$holder2"
wait "$holder" "$holder2"

step "memory unmapped under a registration: the kernel says so, live"
iommu-reg monitor count 3 &
mon=$!
sleep 0.5
iommu-reg region add "$1" size 64K mem 4k invalidate-after 0
wait "$mon"

# Unmodified DPDK on the type1 drop-in mode: tools/testing/demo passes
# DPDK's testpmd and two e1000 NICs on one QEMU hub (IREG_VFIO_BDFS).
# shellcheck disable=SC2086
set -- $IREG_VFIO_BDFS
step "unmodified DPDK (dpdk-testpmd) forwarding through iommu_reg in type1 drop-in mode"
# load_backend, eal_prepare: the helpers of make check-clients' guests.
# shellcheck source=tools/testing/guest/clients.sh
. /usr/lib/iommu-reg-tests/clients.sh
load_backend ours
echo "iommu_reg reloaded with type1_compat=$(cat $PARAM):" \
	"it answers VFIO_TYPE1_IOMMU, which DPDK asks for"
eal_prepare
lib=/usr/lib/x86_64-linux-gnu
rm -f /tmp/tp.in
mkfifo /tmp/tp.in
dpdk-testpmd -l 0-1 -n 1 -d $lib/librte_mempool_ring.so.23 -d $lib/librte_net_e1000.so.23 \
	--iova-mode=va -a "$1" -a "$2" -- -i --forward-mode=io --total-num-mbufs=8192 \
	</tmp/tp.in >/tmp/tp.log 2>&1 &
tp=$!
exec 5>/tmp/tp.in
i=0
while ! grep -q 'testpmd> ' /tmp/tp.log && [ -d /proc/$tp ] && [ $i -lt 120 ]; do
	sleep 1
	i=$((i + 1))
done
echo "start tx_first" >&5
sleep 8
echo "while testpmd forwards, the admin view shows its container, on our backend:"
iommu-reg container show
iommu-reg region show | head -n 3
echo "stop" >&5
sleep 2
echo "quit" >&5
exec 5>&-
wait $tp
awk '/Accumulated forward statistics for all ports/ { a = 1 }
	a && /RX-packets:|TX-packets:/ { print "  " $1 " " $2 " " $3 " " $4 }
	a && /TX-packets:/ { a = 0 }' /tmp/tp.log
grep -q 'RX-packets: *[1-9]' /tmp/tp.log
grep 'Accumulated forward statistics' -A 4 /tmp/tp.log | grep -q 'RX-dropped: 0 '
echo "after testpmd exits, nothing is left:"
iommu-reg stats show
rm -f /dev/hugepages/* /dev/hugepages-1G/*
[ -z "$(iommu-reg container show)" ]

echo
echo "DEMO OK: iommu_reg is a VFIO IOMMU backend; both edu devices share its"
echo "domain, registered buffers carry real device DMA, invalidation"
echo "reaches user space as it happens, and unmodified DPDK forwards through it"
