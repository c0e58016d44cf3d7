#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test of iommu-reg's netlink subcommands (register, list, stats,
# monitor) against the real module.  busybox sh; prints TAP.  Needs root,
# the module loaded and the edu devices (IREG_EDU_BDFS) on vfio-pci.
T=0
FAILED=0
TOOL=${IREG_TOOL:-iommu-reg}
TMP=${TMPDIR:-/tmp}/vm-netlink.$$
mkdir -p "$TMP"

ok() { T=$((T + 1)); echo "ok $T $1"; }
nok() { T=$((T + 1)); FAILED=1; echo "not ok $T $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*"; fi; }

set -- $IREG_EDU_BDFS
BDF=$1
echo "TAP version 13"
echo "1..19"

# stats: text and JSON with every counter.
"$TOOL" stats >"$TMP/stats" 2>&1
check "stats exits 0" test $? -eq 0
"$TOOL" -j stats >"$TMP/stats.json"
check "stats -j has the counters" \
	grep -q '"containers":[0-9]*,"groups":[0-9]*,"regions":[0-9]*,"mappings":[0-9]*,"pinned_pages":[0-9]*,"mapped_bytes":[0-9]*,"invalidations":[0-9]*,"fail_nomem"' "$TMP/stats.json"

# register with the DMA self-check, each backing.
"$TOOL" -j register "$BDF" size 64K mem 4k >"$TMP/reg4k" 2>&1
check "register 4k: DMA self-check ok" grep -q '"dma_check":"ok"' "$TMP/reg4k"
"$TOOL" -j register "$BDF" size 2M mem thp >"$TMP/regthp" 2>&1
check "register thp: DMA self-check ok" grep -q '"dma_check":"ok"' "$TMP/regthp"
"$TOOL" -j register "$BDF" size 2M mem hugetlb >"$TMP/reghuge" 2>&1
check "register hugetlb: DMA self-check ok" grep -q '"dma_check":"ok"' "$TMP/reghuge"

# A held registration shows in list and containers; it goes on SIGTERM.
"$TOOL" -j register "$BDF" size 128K mem 4k hold >"$TMP/held" 2>"$TMP/held.err" &
PID=$!
i=0
while [ $i -lt 50 ] && ! grep -q handle "$TMP/held" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
HANDLE=$(sed -n 's/.*"handle":\([0-9]*\).*/\1/p' "$TMP/held")
"$TOOL" -j list pid "$PID" >"$TMP/list"
check "list shows the held region (pid, handle, size)" \
	grep -q "\"pid\":$PID,\"comm\":\"iommu-reg\",\"handle\":$HANDLE,\"vaddr\":\"0x[0-9a-f]*\",\"size\":131072" "$TMP/list"
check "list shows its mapping at the registered IOVA" \
	grep -q "\"iova\":\"$(sed -n 's/.*"iova":"\(0x[0-9a-f]*\)".*/\1/p' "$TMP/held")\",\"length\":131072,\"prot\":\"rw\"" "$TMP/list"
"$TOOL" -j list containers pid "$PID" >"$TMP/containers"
check "list containers shows the device" grep -q "\"devices\":\\[\"$BDF\"\\]" "$TMP/containers"
check "list containers shows the backend it was selected as" \
	grep -q '"backend":"iommu_reg"' "$TMP/containers"
"$TOOL" list >"$TMP/list.txt"
check "list text names the region" grep -q "handle $HANDLE vaddr 0x" "$TMP/list.txt"
kill -TERM "$PID"; wait "$PID"
check "held registration released on SIGTERM" test $? -eq 0
"$TOOL" -j list pid "$PID" >"$TMP/list2"
check "list is empty after release" grep -qx '\[\]' "$TMP/list2"

# monitor sees register, invalidate and unregister of another process.
"$TOOL" -j monitor count 3 >"$TMP/events" 2>&1 &
MON=$!
sleep 0.5
"$TOOL" register "$BDF" size 64K mem 4k invalidate-after 0 >"$TMP/inval" 2>&1
i=0
while [ $i -lt 50 ] && kill -0 "$MON" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill "$MON" 2>/dev/null
check "the registration saw itself invalidated" grep -q "invalidated yes" "$TMP/inval"
if grep -q '"event":"register"' "$TMP/events" &&
   grep -q '"event":"invalidate".*"reason":"unmap"' "$TMP/events" &&
   grep -q '"event":"unregister"' "$TMP/events"; then
	ok "monitor receives register, invalidate (unmap), unregister"
else
	nok "monitor receives register, invalidate (unmap), unregister" "$(cat "$TMP/events")"
fi

# bench: both backends measured in one run, JSON that carries each figure.
BDF2=$2
"$TOOL" -j bench "$BDF" "$BDF2" size 4K size 64K >"$TMP/bench" 2>&1
check "bench runs type1 beside iommu_reg" \
	grep -q '"size":4096,"type1_map_unmap":{"median_ns":[0-9]*,"spread_pct":[0-9]*},"ireg_map_unmap":{"median_ns":[0-9]*' "$TMP/bench"
check "bench measures every size asked" grep -q '"size":65536' "$TMP/bench"

# Runtime errors: a device not on vfio-pci, a bench with one device twice.
NOVFIO=$(for d in /sys/bus/pci/devices/*; do
	[ "$(readlink "$d/driver" 2>/dev/null | sed 's,.*/,,')" = vfio-pci ] || { echo "${d##*/}"; break; }
done)
"$TOOL" register "$NOVFIO" size 4K mem 4k >/dev/null 2>"$TMP/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "iommu-reg: " "$TMP/err"; then
	ok "register on a device not bound to vfio-pci: exit 3 with a reason"
else
	nok "register on a device not bound to vfio-pci: exit 3 with a reason" "rc $rc" "$(cat "$TMP/err")"
fi
"$TOOL" bench "$BDF" "$BDF" >/dev/null 2>"$TMP/err"
check "bench with one device for both backends fails (exit 1)" test $? -eq 1

# Usage errors.
"$TOOL" list pid notanumber >/dev/null 2>&1
check "bad filter is a usage error (exit 2)" test $? -eq 2

rm -rf "$TMP"
exit $FAILED
