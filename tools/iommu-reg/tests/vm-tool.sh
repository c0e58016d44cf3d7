#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# In-guest test of the iommu-reg tool, kselftest-style TAP on stdout.
#
#   IREG_EDU_BDFS="0000:00:03.0 ..." [IREG_TOOL=/path/to/iommu-reg] vm-tool.sh
#
# IREG_EDU_BDFS lists edu devices (1234:11e8) already bound to vfio-pci;
# when empty, every edu device found in sysfs is used.  For each one:
# "dev show" shows vfio-pci and the IOMMU group of its iommu_group link,
# -j output has the documented keys, and "dev unbind" then "dev bind"
# round-trips (edu has no native driver: after unbind it has none; after
# bind it is on vfio-pci again with /dev/vfio/<group>), and so do the
# deprecated aliases unbind and bind.  Then the error paths and their exit
# codes.  "dev sva BDF" reports what the kernel says about SVA: edu lacks
# PASID, PRI and ATS, and enabling IOPF and SVA fails with ENODEV (19).
# Plain POSIX sh: runs under busybox, needs no python or jq.  Exit 0 if
# all passed, 1 if any failed, 4 (skip) if no edu.
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

# lacks OUT WANT...: " no WANT;" for each WANT that OUT does not contain.
lacks() {
	o=$1
	shift
	for w in "$@"; do
		contains "$o" "$w" || printf ' no %s;' "$w"
	done
}

# json_lacks OUT WANT...: lacks, and " not an array;" unless OUT is one.
json_lacks() {
	lacks "$@"
	case $1 in
	"["*"]") ;;
	*) printf ' not an array;' ;;
	esac
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
	run dev show "$bdf"
	[ "$rc" -eq 0 ] || { echo "dev show $bdf: exit $rc"; echo "$out"; return; }
	why=$(lacks "$out" "$bdf " " driver vfio-pci " " iommu_group $g " \
		"name edu")
	[ -z "$why" ] || { echo "dev show $bdf:$why"; echo "$out"; }
}

test_devices() {
	result "dev_show_shows_vfio_pci_and_group_$1" "$(check_bound "$1")"
}

test_json() {
	bdf=$1
	g=$(link_name "$bdf" iommu_group)
	run -j dev show "$bdf"
	if [ "$rc" -ne 0 ]; then
		why="exit $rc"
	else
		# shellcheck disable=SC2046,SC2086 # one key a word
		why="$(json_lacks "$out" $(printf '"%s": ' $JSON_KEYS) \
			"\"bdf\":\"$bdf\"" '"driver":"vfio-pci"' \
			"\"iommu_group\":$g," '"name":"edu"')"
	fi
	[ -z "$why" ] || why="$why
$out"
	result "json_keys_$bdf" "$why"
}

# unbind_why BDF UNBIND_WORDS: why unbinding left a driver, or nothing.
# shellcheck disable=SC2086 # the command's words
unbind_why() {
	run $2 "$1"
	if [ "$rc" -ne 0 ]; then
		printf '%s: exit %s\n%s' "$2" "$rc" "$out"
	elif [ -n "$(link_name "$1" driver)" ]; then
		echo "sysfs driver is still $(link_name "$1" driver)"
	else
		run dev show "$1"
		contains "$out" " driver none " ||
			printf 'dev show: no "driver none"\n%s' "$out"
	fi
}

# bind_why BDF BIND_WORDS: why binding did not put it back, or nothing.
# shellcheck disable=SC2086 # the command's words
bind_why() {
	run $2 "$1"
	if [ "$rc" -ne 0 ]; then
		printf '%s: exit %s\n%s' "$2" "$rc" "$out"
	else
		check_bound "$1"
	fi
}

test_unbind() {
	result "unbind_leaves_no_driver_$1" "$(unbind_why "$1" "dev unbind")"
}

test_bind() {
	result "bind_restores_vfio_pci_$1" "$(bind_why "$1" "dev bind")"
}

# The deprecated aliases unbind and bind round-trip the same way, and
# devices prints what dev show prints.
test_aliases() {
	bdf=$1
	why=$(unbind_why "$bdf" unbind)
	[ -n "$why" ] || why=$(bind_why "$bdf" bind)
	if [ -z "$why" ]; then
		run -j dev show "$bdf"
		new=$out
		run -j devices "$bdf"
		[ "$out" = "$new" ] || why="devices: '$out', dev show: '$new'"
	fi
	result "aliases_unbind_bind_devices_$bdf" "$why"
}

# sva: the kernel's report, in text and JSON (needs the iommu_reg module).
test_sva() {
	bdf=$1
	run dev sva "$bdf"
	if [ "$rc" -ne 0 ]; then
		why="dev sva: exit $rc"
	else
		why=$(lacks "$out" "$bdf missing pasid pri ats" \
			"pasid no pri no ats no" "pasid_width 0" \
			"iopf no (No such device)" "sva no (No such device)" \
			"bound no")
	fi
	if [ -z "$why" ]; then
		run -j dev sva "$bdf"
		why=$(json_lacks "$out" "\"bdf\":\"$bdf\"" \
			'"missing":["pasid","pri","ats",' \
			'"pasid":false,"pri":false,"ats":false,' \
			'"iopf":false,"iopf_errno":19' \
			'"sva":false,"sva_errno":19' \
			'"bound":false,"bound_pasid":null')
	fi
	[ -z "$why" ] || why="$why
$out"
	result "sva_reports_missing_pasid_pri_ats_$bdf" "$why"
}

test_all_json() {
	run -j dev show
	why=
	[ "$rc" -eq 0 ] || why="exit $rc"
	# shellcheck disable=SC2046,SC2086 # one BDF a word
	why="$why$(json_lacks "$out" $(printf '"bdf":"%s" ' $BDFS))"
	result "dev_show_json_lists_all" "$why"
}

test_unknown_bdf() {
	bdf=0000:ff:1f.7
	[ -e "$SYSFS/$bdf" ] && bdf=0000:fe:1f.7
	why=
	for cmd in "dev show" "dev bind" "dev unbind" devices bind unbind; do
		# shellcheck disable=SC2086 # the command's words
		run $cmd "$bdf"
		[ "$rc" -eq 1 ] || why="$why $cmd: exit $rc, want 1;"
		[ "$out" = "iommu-reg: $bdf: No such device" ] ||
			why="$why $cmd: message '$out';"
	done
	result "unknown_bdf_exit_1" "$why"
}

# usage_why WANT ARGS...: the tool must exit 2 saying WANT.
usage_why() {
	want=$1
	shift
	run "$@"
	[ "$rc" -eq 2 ] || printf ' %s: exit %s;' "$*" "$rc"
	contains "$out" "$want" || printf " %s: '%s';" "$*" "$out"
}

test_usage_errors() {
	why="$(usage_why "invalid BDF" dev show 00:01.0.0)"
	why="$why$(usage_why "invalid BDF" devices 00:01.0.0)"
	why="$why$(usage_why "missing BDF" dev sva)"
	why="$why$(usage_why "missing BDF" sva)"
	why="$why$(usage_why "unknown command 'frobnicate'" frobnicate)"
	why="$why$(usage_why "unknown verb 'frob'" dev frob)"
	result "usage_errors_exit_2" "$why"
}

test_help() {
	run help
	why=
	[ "$rc" -eq 0 ] || why="exit $rc"
	why="$why$(lacks "$out" "dev " "region " "container " "stats " \
		"monitor " "Deprecated aliases" "devices " "bind " "unbind ")"
	run dev help
	why="$why$(lacks "$out" "show " "bind " "unbind " "sva ")"
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
echo "1..$((count * 6 + 4))"
echo "# tool: $TOOL; edu devices: $BDFS"

for bdf in $BDFS; do
	test_devices "$bdf"
	test_json "$bdf"
	test_unbind "$bdf"
	test_bind "$bdf"
	test_aliases "$bdf"
	test_sva "$bdf"
done
test_all_json
test_unknown_bdf
test_usage_errors
test_help

echo "# $((n - fails))/$n passed"
[ "$fails" -eq 0 ] || exit 1
exit 0
