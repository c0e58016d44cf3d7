#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The library's examples, run in the VM as tests (TAP): each must finish
# with its own success line and exit 0.  busybox sh.
set -- $IREG_EDU_BDFS
BDF=$1
T=0
FAILED=0

run() {
	name=$1; want=$2; shift 2
	T=$((T + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "$want"; then
		echo "ok $T $name"
	else
		FAILED=1
		echo "not ok $T $name (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}

echo "TAP version 13"
echo "1..4"
run "ireg-info: both devices in one iommu_reg domain" \
	"2 group(s) in one domain" ireg-info $IREG_EDU_BDFS
run "edu-dma: registered buffer, device DMA, register-once" \
	"same handle" edu-dma "$BDF"
run "pool-dma: zero-copy DMA through registered pool buffers" \
	"data intact" pool-dma "$BDF"
run "sddf-edu: client and driver processes over SPSC rings" \
	"sddf-edu: ok" sddf-edu "$BDF" 32
exit $FAILED
