# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh disable=SC2034  # sourced: sets variables for the caller
#
# Sourced by the guest scripts of tools/testing/clients (guest/dpdk,
# guest/qemu-nvme): TAP output, switching between the kernel's type1 and
# iommu_reg in type1 drop-in mode, and the "back to 0" check.  The guest
# has it as /usr/lib/iommu-reg-tests/clients.sh.

KO=/lib/modules/$(uname -r)/extra/iommu_reg.ko
PARAM=/sys/module/iommu_reg/parameters/type1_compat

n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n $* # SKIP"; }
diag() { echo "# $*"; }
# result COND NAME [DETAIL]: ok when COND (a status) is 0
result() {
	if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; fi
	[ -z "${3:-}" ] || diag "  $3"
}

# load_backend type1|ours: iommu_reg without and with type1_compat.
load_backend() {
	want=N
	[ "$1" = ours ] && want=Y
	[ "$(cat $PARAM 2>/dev/null)" = "$want" ] && return 0
	if [ -d /sys/module/iommu_reg ] && ! rmmod iommu_reg; then
		diag "rmmod iommu_reg failed"
		return 1
	fi
	if [ "$want" = Y ]; then
		insmod "$KO" type1_compat=1
	else
		insmod "$KO"
	fi || { diag "insmod $KO failed"; return 1; }
	[ "$(cat $PARAM)" = "$want" ]
}

# Sets hp to "free/total" per page size; fails unless all are free.
hugepages_free() {
	hp=
	all=0
	for d in /sys/kernel/mm/hugepages/hugepages-*; do
		f=$(cat "$d/free_hugepages")
		t=$(cat "$d/nr_hugepages")
		hp="$hp ${d##*hugepages-} $f/$t"
		[ "$f" = "$t" ] || all=1
	done
	return $all
}

# Everything back to 0: no container of ours, no region, the counters
# that describe held state at 0, every hugepage free.  Files left on the
# hugetlbfs mounts (EAL keeps <file-prefix>map_<n> for secondary
# processes) are removed first: only the clients use them in this guest.
check_clean() {	# NAME
	rm -f /dev/hugepages/* /dev/hugepages-1G/* 2>/dev/null
	c=$(iommu-reg container show 2>&1)
	r=$(iommu-reg region show 2>&1)
	s=$(iommu-reg stats show 2>&1)
	held=$(echo "$s" | tr ' ' '\n' | awk '
		/^(containers|groups|regions|mappings|pinned_pages|mapped_bytes)$/ { k = $0; next }
		k != "" { if ($0 != 0) print k "=" $0; k = "" }')
	st=0
	echo "$s" | grep -q 'containers [0-9]' || held="iommu-reg stats show failed: $s"
	[ -z "$c" ] && [ -z "$r" ] && [ -z "$held" ] || st=1
	hugepages_free || st=1
	result $st "$1: back to 0 after exit" "admin view: ${c:-no container}; ${held:-counters at 0}; hugepages free:$hp"
}

# What DPDK's EAL needs of the initramfs root: it refuses a world-writable
# / and keeps its runtime directory in /var/run.
eal_prepare() {
	chmod 755 /
	mkdir -p /var
	[ -e /var/run ] || ln -s /run /var/run
}

# Milliseconds since boot (/proc/uptime: 10 ms steps).
now_ms() {
	read -r up _ </proc/uptime
	# "1$frac - 100": the hundredths without a leading 0 read as octal.
	echo $(((${up%.*} * 100 + 1${up#*.} - 100) * 10))
}

# The VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA ioctls a program issues,
# counted the same way on both backends: a kprobe on VFIO's container
# ioctl entry, filtered on the two numbers (_IO(';', 113) and 114).
# Enabling or disabling a trace event patches kernel text, and under
# multi-threaded TCG a patch made while another vCPU runs hot code can
# hang the guest (a testpmd run stalled in text_poke_bp's IPI, an RCU
# stall, when the event was disabled after each run).  So the event is
# enabled once, before any client runs, and each count only switches the
# ring buffer (tracing_on), which patches nothing.
TRACING=/sys/kernel/debug/tracing
vfio_ioctl_count_setup() {
	[ -e $TRACING/kprobe_events ] || return 1
	echo 0 >$TRACING/tracing_on
	echo 16384 >$TRACING/buffer_size_kb
	echo 'p:ireg_vfio_ioctl vfio_fops_unl_ioctl cmd=%si:u32' >>$TRACING/kprobe_events ||
		return 1
	echo 'cmd == 15217 || cmd == 15218' >$TRACING/events/kprobes/ireg_vfio_ioctl/filter
	echo 1 >$TRACING/events/kprobes/ireg_vfio_ioctl/enable
}

vfio_ioctl_count_start() {
	[ -d $TRACING/events/kprobes/ireg_vfio_ioctl ] || return 1
	echo 0 >$TRACING/tracing_on
	: >$TRACING/trace
	echo 1 >$TRACING/tracing_on
}

# Sets maps and unmaps; lost counts the events the buffer dropped.
vfio_ioctl_count_stop() {
	echo 0 >$TRACING/tracing_on 2>/dev/null
	maps=$(grep -c 'cmd=15217' $TRACING/trace 2>/dev/null)
	unmaps=$(grep -c 'cmd=15218' $TRACING/trace 2>/dev/null)
	lost=$(cat $TRACING/per_cpu/cpu*/stats 2>/dev/null | awk '/^overrun:/ { s += $2 } END { print s + 0 }')
}

# bench_rounds FN: CLIENTS_BENCH rounds (make bench), each running
# "FN BACKEND ROUND" for both backends, type1 first in odd rounds and ours
# first in even ones, so that neither always runs second.  FN prints its
# TAP result and appends its figures to $LOGDIR/rounds as
# "BACKEND FIELD...".
bench_rounds() {
	echo "1..$((CLIENTS_BENCH * 2))"
	r=1
	while [ $r -le "$CLIENTS_BENCH" ]; do
		order="type1 ours"
		[ $((r % 2)) = 0 ] && order="ours type1"
		for be in $order; do
			if load_backend "$be"; then
				"$1" "$be" "$r"
			else
				not_ok "round $r $be: iommu_reg could not be loaded"
			fi
		done
		r=$((r + 1))
	done
}

# bench_csv PARAMETER N UNIT: for each backend, the median and spread of
# field N of $LOGDIR/rounds as a "csv: " diagnostic, a row of make bench's
# results.csv (experiment,parameter,series,median,spread_pct,unit).
bench_csv() {
	for b in type1 ours; do
		# shellcheck disable=SC2046
		set -- "$1" "$2" "$3" $(awk -v b=$b -v f="$2" '$1 == b { print $f }' "$LOGDIR/rounds" | median_spread)
		diag "csv: clients,$1,$b,$4,$5,$3"
	done
}

# median and spread (100 * (max - min) / median) of numbers on stdin.
median_spread() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "0 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		spread = m > 0 ? 100 * (v[NR] - v[1]) / m : 0
		printf "%g %.1f\n", m, spread }'
}
