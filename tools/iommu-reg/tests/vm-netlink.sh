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

# held FILE: wait until the region add writing FILE has registered; its
# handle.
held() {
	i=0
	while [ $i -lt 50 ] && ! grep -q handle "$1" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
	sed -n 's/.*"handle":\([0-9]*\).*/\1/p' "$1"
}
# gone PID: PID's regions are not in region show.
# shellcheck disable=SC2317 # called through check
gone() { "$TOOL" -j region show pid "$1" | grep -qx '\[\]'; }
# kept PID: PID has a region.
kept() { "$TOOL" -j region show pid "$1" | grep -q '"handle"'; }
# until_kept PID: wait until PID has registered.
until_kept() {
	i=0
	while [ $i -lt 50 ] && ! kept "$1"; do sleep 0.1; i=$((i + 1)); done
}

# shellcheck disable=SC2086 # one BDF a word
set -- $IREG_EDU_BDFS
BDF=$1
echo "TAP version 13"
echo "1..33"

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
HANDLE=$(held "$TMP/held")
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

# region del asks a holder (region add ... hold) to let go, by container
# and handle or by pid, and waits until the region is gone.
"$TOOL" -j region add "$BDF" size 64K mem 4k hold >"$TMP/h1" 2>/dev/null &
PID=$!
HANDLE=$(held "$TMP/h1")
CID=$("$TOOL" -j region show pid "$PID" | sed -n 's/.*"container":\([0-9]*\).*/\1/p')
"$TOOL" region del container "$CID" handle "$HANDLE" >"$TMP/del" 2>&1
check "region del container handle of a held region exits 0" test $? -eq 0
check "region del reports the region deleted" \
	grep -q "container $CID pid $PID comm iommu-reg handle $HANDLE deleted yes" "$TMP/del"
check "region show no longer has it after region del" gone "$PID"
wait "$PID"
check "the holder exited 0 after region del" test $? -eq 0
"$TOOL" -j region add "$BDF" size 64K mem 4k hold >"$TMP/h2" 2>/dev/null &
PID=$!
HANDLE=$(held "$TMP/h2")
"$TOOL" -j region del pid "$PID" >"$TMP/del" 2>&1
check "region del pid of a holder deletes its region" \
	grep -q "\"pid\":$PID,\"comm\":\"iommu-reg\",\"handle\":$HANDLE,\"deleted\":true" "$TMP/del"
check "region show no longer has it after region del pid" gone "$PID"
wait "$PID"

# del refuses what it cannot or may not do, with a reason; exit 1.
refused() {
	name=$1 pid=$2 why=$3; shift 3
	"$TOOL" region del "$@" >/dev/null 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -qF "$why" "$TMP/err" &&
	   { [ "$pid" = - ] || kept "$pid"; }; then
		ok "$name"
	else
		nok "$name" "rc $rc" "$(cat "$TMP/err")"
	fi
}
refused "region del of an unknown handle: no region" - \
	"iommu-reg: no such region (container $CID handle 4294967295): No such file or directory" \
	container "$CID" handle 4294967295
"$TOOL" -j region add "$BDF" size 64K mem 4k invalidate-after 60 >"$TMP/n1" 2>/dev/null &
PID=$!
until_kept "$PID"
refused "region del of a region add without hold: refused, region kept" "$PID" \
	"is owned by pid $PID (iommu-reg): only its owner can unregister it; the kernel has no forced unregistration" \
	pid "$PID"
kill -TERM "$PID"; wait "$PID"
cp "$(command -v "$TOOL")" "$TMP/other"
"$TMP/other" -j region add "$BDF" size 64K mem 4k hold >"$TMP/n2" 2>/dev/null &
PID=$!
held "$TMP/n2" >/dev/null
refused "region del of another program's region: refused, region kept" "$PID" \
	"is owned by pid $PID (other): only its owner can unregister it" \
	pid "$PID"
kill -TERM "$PID"; wait "$PID"
"$TOOL" -j region add "$BDF" size 64K mem 4k hold >"$TMP/n3" 2>/dev/null &
PID=$!
held "$TMP/n3" >/dev/null
kill -STOP "$PID"
refused "region del of a stopped holder: timed out, region kept" "$PID" \
	"the holder did not release the region (pid $PID) within 5 s: Connection timed out" \
	pid "$PID"
kill -CONT "$PID"; wait "$PID"
check "the stopped holder let go once continued" gone "$PID"
# The dump's pids are the initial pid namespace's: del refuses elsewhere.
# (The debug kernel is built without pid namespaces: unshare says EINVAL.)
NAME="region del in another pid namespace: refused, region kept"
if ! unshare -p -f true 2>/dev/null; then
	ok "$NAME # SKIP no pid namespaces in this kernel (CONFIG_PID_NS)"
else
	"$TOOL" -j region add "$BDF" size 64K mem 4k hold >"$TMP/n4" 2>/dev/null &
	PID=$!
	held "$TMP/n4" >/dev/null
	unshare -p -f "$TOOL" region del pid "$PID" >/dev/null 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 1 ] && kept "$PID" &&
	   grep -qF "region del runs in the initial pid namespace only" "$TMP/err"; then
		ok "$NAME"
	else
		nok "$NAME" "rc $rc" "$(cat "$TMP/err")"
	fi
	kill -TERM "$PID"; wait "$PID"
fi

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
