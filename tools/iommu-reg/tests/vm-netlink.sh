#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test of iommu-reg's netlink objects (stats, region, container,
# monitor) against the real module, and of their deprecated aliases
# (stats, register, list).  busybox sh; prints TAP.  Needs root, the
# module loaded and the edu devices (IREG_EDU_BDFS) on vfio-pci.  That the
# device really reaches a registered buffer is tools/testing/edu-check's.
T=0
FAILED=0
TOOL=${IREG_TOOL:-iommu-reg}
TMP=${TMPDIR:-/tmp}/vm-netlink.$$
mkdir -p "$TMP"

ok() { T=$((T + 1)); echo "ok $T $1"; }
nok() { T=$((T + 1)); FAILED=1; echo "not ok $T $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*"; fi; }
# same NAME "ARGS" "ALIAS ARGS": both command lines print the same.
# shellcheck disable=SC2086 # the words of the command lines
same() {
	"$TOOL" $2 >"$TMP/a.out" 2>&1
	"$TOOL" $3 >"$TMP/b.out" 2>&1
	if cmp -s "$TMP/a.out" "$TMP/b.out"; then
		ok "$1"
	else
		nok "$1" "$(cat "$TMP/a.out")" "$(cat "$TMP/b.out")"
	fi
}

# shellcheck disable=SC2086 # one BDF a word
set -- $IREG_EDU_BDFS
BDF=$1
echo "TAP version 13"
echo "1..21"

# stats: text and JSON with every counter; the alias prints the same.
"$TOOL" stats show >"$TMP/stats" 2>&1
check "stats show exits 0" test $? -eq 0
"$TOOL" -j stats show >"$TMP/stats.json"
check "stats show -j has the counters" \
	grep -q '"containers":[0-9]*,"groups":[0-9]*,"regions":[0-9]*,"mappings":[0-9]*,"pinned_pages":[0-9]*,"mapped_bytes":[0-9]*,"invalidations":[0-9]*,"fail_nomem"' "$TMP/stats.json"
"$TOOL" -j stats >"$TMP/stats2.json"
check "stats (no verb) is stats show" cmp -s "$TMP/stats.json" "$TMP/stats2.json"

# region add with each backing: registered, with a handle and an IOVA.
for mem in 4k thp hugetlb; do
	size=2M
	[ "$mem" = 4k ] && size=64K
	"$TOOL" -j region add "$BDF" size "$size" mem "$mem" >"$TMP/reg$mem" 2>&1
	check "region add $mem: registered" \
		grep -q "\"mem\":\"$mem\",.*\"iova\":\"0x[0-9a-f]*\",\"handle\":[0-9]" "$TMP/reg$mem"
done

# A held registration shows in region and container show; it goes on
# SIGTERM.  The alias list shows the same.
"$TOOL" -j region add "$BDF" size 128K mem 4k hold >"$TMP/held" 2>"$TMP/held.err" &
PID=$!
i=0
while [ $i -lt 50 ] && ! grep -q handle "$TMP/held" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
HANDLE=$(sed -n 's/.*"handle":\([0-9]*\).*/\1/p' "$TMP/held")
"$TOOL" -j region show pid "$PID" >"$TMP/list"
check "region show has the held region (pid, handle, size)" \
	grep -q "\"pid\":$PID,\"comm\":\"iommu-reg\",\"handle\":$HANDLE,\"vaddr\":\"0x[0-9a-f]*\",\"size\":131072" "$TMP/list"
check "region show has its mapping at the registered IOVA" \
	grep -q "\"iova\":\"$(sed -n 's/.*"iova":"\(0x[0-9a-f]*\)".*/\1/p' "$TMP/held")\",\"length\":131072,\"prot\":\"rw\"" "$TMP/list"
"$TOOL" -j container show pid "$PID" >"$TMP/containers"
check "container show has the device" grep -q "\"devices\":\\[\"$BDF\"\\]" "$TMP/containers"
check "container show has the backend it was selected as" \
	grep -q '"backend":"iommu_reg"' "$TMP/containers"
"$TOOL" region >"$TMP/list.txt"
check "region (no verb) text names the region" grep -q "handle $HANDLE vaddr 0x" "$TMP/list.txt"
same "alias list pid is region show pid" "-j region show pid $PID" \
	"-j list pid $PID"
same "alias list containers is container show" \
	"-j container show pid $PID" "-j list containers pid $PID"
kill -TERM "$PID"; wait "$PID"
check "held registration released on SIGTERM" test $? -eq 0
"$TOOL" -j region show pid "$PID" >"$TMP/list2"
check "region show is empty after release" grep -qx '\[\]' "$TMP/list2"

# monitor sees register, invalidate and unregister of another process.
"$TOOL" -j monitor count 3 >"$TMP/events" 2>&1 &
MON=$!
sleep 0.5
"$TOOL" region add "$BDF" size 64K mem 4k invalidate-after 0 >"$TMP/inval" 2>&1
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

# The alias register is region add.
"$TOOL" -j register "$BDF" size 64K mem 4k >"$TMP/alias" 2>&1
check "alias register registers" grep -q '"mem":"4k",.*"handle":[0-9]' "$TMP/alias"

# Runtime errors: a device not on vfio-pci.
NOVFIO=$(for d in /sys/bus/pci/devices/*; do
	[ "$(readlink "$d/driver" 2>/dev/null | sed 's,.*/,,')" = vfio-pci ] || { echo "${d##*/}"; break; }
done)
"$TOOL" region add "$NOVFIO" size 4K mem 4k >/dev/null 2>"$TMP/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "iommu-reg: " "$TMP/err"; then
	ok "region add on a device not bound to vfio-pci: exit 3 with a reason"
else
	nok "region add on a device not bound to vfio-pci: exit 3 with a reason" "rc $rc" "$(cat "$TMP/err")"
fi

# Usage errors.
"$TOOL" region show pid notanumber >/dev/null 2>&1
check "bad filter is a usage error (exit 2)" test $? -eq 2
"$TOOL" list pid notanumber >/dev/null 2>&1
check "alias list: bad filter is a usage error (exit 2)" test $? -eq 2

rm -rf "$TMP"
exit $FAILED
