#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In-guest test of the iommu-reg tool, kselftest-style TAP on stdout.
#
#   IREG_EDU_BDFS="0000:00:03.0 ..." [IREG_TOOL=/path/to/iommu-reg] vm-tool.sh
#
# IREG_EDU_BDFS lists edu devices (1234:11e8) already bound to vfio-pci;
# when empty, every edu device found in sysfs is used.  For each one:
# "devices" shows vfio-pci and the IOMMU group of its iommu_group link,
# -j output has the documented keys, and unbind then bind round-trips
# (edu has no native driver: after unbind it has none; after bind it is
# on vfio-pci again with /dev/vfio/<group>).  Then the error paths and
# their exit codes.  "sva BDF" reports what the kernel says about SVA:
# edu lacks PASID, PRI and ATS, and enabling IOPF and SVA fails with
# ENODEV (19).  Plain POSIX sh: runs under busybox, needs no python
# or jq.  Exit 0 if all passed, 1 if any failed, 4 (skip) if no edu.
#
# IREG_SYSFS_ROOT and IREG_DEV_ROOT move /sys and /dev for the script as
# for the tool: the host tests run it on a fake tree.

SYSFS=${IREG_SYSFS_ROOT:-/sys}/bus/pci/devices
DEV=${IREG_DEV_ROOT:-/dev}
# The tool: $IREG_TOOL, else from PATH, else next to or above this script.
TOOL=${IREG_TOOL:-iommu-reg}
if ! command -v "$TOOL" >/dev/null 2>&1; then
	here=$(dirname "$0")
	TOOL=$here/../iommu-reg
	[ -x "$here/iommu-reg" ] && TOOL=$here/iommu-reg
fi

JSON_KEYS="bdf vendor device class driver iommu_group pcie ats pri acs pasid name"

n=0
fails=0

# result NAME WHY: "ok" if WHY is empty, else "not ok" with WHY as diagnostics.
result() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n $1"
	else
		fails=$((fails + 1))
		echo "not ok $n $1"
		printf '%s\n' "$2" | sed 's/^/# /'
	fi
}

contains() {
	case $1 in
	*"$2"*) return 0 ;;
	esac
	return 1
}

is_number() {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	esac
	return 0
}

# The last component of a symlink under the device, or nothing.
link_name() {
	l=$(readlink "$SYSFS/$1/$2" 2>/dev/null) || return 0
	echo "${l##*/}"
}

edu_bdfs() {
	for d in "$SYSFS"/*; do
		[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] &&
			[ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ] &&
			echo "${d##*/}"
	done
}

# Runs the tool; sets out (stdout and stderr) and rc.
run() {
	out=$("$TOOL" "$@" 2>&1)
	rc=$?
}

# The device is on vfio-pci in its group, as sysfs and the tool see it.
check_bound() {
	bdf=$1
	g=$(link_name "$bdf" iommu_group)
	drv=$(link_name "$bdf" driver)
	is_number "$g" || { echo "$bdf: iommu_group link '$g' not numeric"; return; }
	[ "$drv" = vfio-pci ] || { echo "$bdf: sysfs driver '$drv'"; return; }
	[ -e "$DEV/vfio/$g" ] || { echo "$DEV/vfio/$g: missing"; return; }
	run devices "$bdf"
	[ "$rc" -eq 0 ] || { echo "devices $bdf: exit $rc"; echo "$out"; return; }
	for want in "$bdf " " driver vfio-pci " " iommu_group $g " "name edu"; do
		if ! contains "$out" "$want"; then
			echo "devices $bdf: no '$want'"
			echo "$out"
			return
		fi
	done
}

test_devices() {
	result "devices_shows_vfio_pci_and_group_$1" "$(check_bound "$1")"
}

test_json() {
	bdf=$1
	g=$(link_name "$bdf" iommu_group)
	why=
	run -j devices "$bdf"
	if [ "$rc" -ne 0 ]; then
		why="exit $rc"
	else
		for k in $JSON_KEYS; do
			contains "$out" "\"$k\":" || why="$why no key $k;"
		done
		for kv in "\"bdf\":\"$bdf\"" '"driver":"vfio-pci"' \
			  "\"iommu_group\":$g," '"name":"edu"'; do
			contains "$out" "$kv" || why="$why no $kv;"
		done
		case $out in
		"["*"]") ;;
		*) why="$why not an array;" ;;
		esac
	fi
	[ -z "$why" ] || why="$why
$out"
	result "json_keys_$bdf" "$why"
}

test_unbind() {
	bdf=$1
	why=
	run unbind "$bdf"
	if [ "$rc" -ne 0 ]; then
		why="unbind: exit $rc
$out"
	elif [ -n "$(link_name "$bdf" driver)" ]; then
		why="sysfs driver is still $(link_name "$bdf" driver)"
	else
		run devices "$bdf"
		contains "$out" " driver none " || why="devices: no 'driver none'
$out"
	fi
	result "unbind_leaves_no_driver_$bdf" "$why"
}

test_bind() {
	bdf=$1
	run bind "$bdf"
	if [ "$rc" -ne 0 ]; then
		result "bind_restores_vfio_pci_$bdf" "bind: exit $rc
$out"
		return
	fi
	result "bind_restores_vfio_pci_$bdf" "$(check_bound "$bdf")"
}

# sva: the kernel's report, in text and JSON (needs the iommu_reg module).
test_sva() {
	bdf=$1
	why=
	run sva "$bdf"
	if [ "$rc" -ne 0 ]; then
		why="sva: exit $rc"
	else
		for want in "$bdf missing pasid pri ats" "pasid no pri no ats no" \
			    "pasid_width 0" "iopf no (No such device)" \
			    "sva no (No such device)" "bound no"; do
			contains "$out" "$want" || why="$why no '$want';"
		done
	fi
	[ -z "$why" ] || why="$why
$out"
	if [ -z "$why" ]; then
		run -j sva "$bdf"
		for kv in "\"bdf\":\"$bdf\"" '"missing":["pasid","pri","ats",' \
			  '"pasid":false,"pri":false,"ats":false,' \
			  '"iopf":false,"iopf_errno":19' '"sva":false,"sva_errno":19' \
			  '"bound":false,"bound_pasid":null'; do
			contains "$out" "$kv" || why="$why no $kv;"
		done
		case $out in
		"["*"]") ;;
		*) why="$why not an array;" ;;
		esac
		[ -z "$why" ] || why="$why
$out"
	fi
	result "sva_reports_missing_pasid_pri_ats_$bdf" "$why"
}

test_all_json() {
	why=
	run -j devices
	[ "$rc" -eq 0 ] || why="exit $rc"
	case $out in
	"["*"]") ;;
	*) why="$why not an array" ;;
	esac
	for bdf in $BDFS; do
		contains "$out" "\"bdf\":\"$bdf\"" || why="$why no $bdf"
	done
	result "devices_json_lists_all" "$why"
}

test_unknown_bdf() {
	bdf=0000:ff:1f.7
	[ -e "$SYSFS/$bdf" ] && bdf=0000:fe:1f.7
	why=
	for cmd in devices bind unbind; do
		run "$cmd" "$bdf"
		[ "$rc" -eq 1 ] || why="$why $cmd: exit $rc, want 1;"
		[ "$out" = "iommu-reg: $bdf: No such device" ] ||
			why="$why $cmd: message '$out';"
	done
	result "unknown_bdf_exit_1" "$why"
}

test_usage_errors() {
	why=
	run devices 00:01.0.0
	[ "$rc" -eq 2 ] || why="$why invalid BDF: exit $rc;"
	contains "$out" "invalid BDF" || why="$why invalid BDF: '$out';"
	run sva
	[ "$rc" -eq 2 ] || why="$why sva without BDF: exit $rc;"
	contains "$out" "missing BDF" || why="$why sva without BDF: '$out';"
	run frobnicate
	[ "$rc" -eq 2 ] || why="$why unknown command: exit $rc;"
	contains "$out" "unknown command 'frobnicate'" ||
		why="$why unknown command: '$out';"
	result "usage_errors_exit_2" "$why"
}

test_help() {
	why=
	run help
	[ "$rc" -eq 0 ] || why="exit $rc"
	for w in devices bind unbind; do
		contains "$out" "$w" || why="$why no $w"
	done
	result "help" "$why"
}

BDFS=${IREG_EDU_BDFS:-$(edu_bdfs)}
count=0
for bdf in $BDFS; do
	count=$((count + 1))
done

echo "TAP version 13"
if [ "$count" -eq 0 ]; then
	echo "1..0 # SKIP no edu device"
	exit 4
fi
echo "1..$((count * 5 + 4))"
echo "# tool: $TOOL; edu devices: $BDFS"

for bdf in $BDFS; do
	test_devices "$bdf"
	test_json "$bdf"
	test_unbind "$bdf"
	test_bind "$bdf"
	test_sva "$bdf"
done
test_all_json
test_unknown_bdf
test_usage_errors
test_help

echo "# $((n - fails))/$n passed"
[ "$fails" -eq 0 ] || exit 1
exit 0
