# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced (bash) by tools/testing/vm/vm-run, tools/testing/check and
# tools/testing/clients: the one TAP parser and the one results summary.
#
# A results file holds one line per test case, "pass|fail|skip <suite>:
# <case>"; every runner writes that form and summarises it the same way.

# tap_classify LINE: classify one line of TAP output.
#   A result line ("ok", "not ok", with optional number, "- ", description
#   and "# SKIP"/"# TODO" directive): returns 0 and sets TAP_KIND (pass,
#   fail or skip: "# SKIP" on either, or "# TODO" on "not ok"), TAP_NUM
#   (empty when the line has none) and TAP_DESC (the description).
#   A plan line "1..N": returns 2 and sets TAP_PLAN.
#   Anything else: returns 1.
tap_classify() {
	local line=$1 notok rest directive=''
	if [[ $line =~ ^(not\ )?ok($|[[:space:]]) ]]; then
		notok=${BASH_REMATCH[1]}
		rest=${line#"${notok}"ok}
		rest=${rest#"${rest%%[![:space:]]*}"}
		TAP_NUM=''
		if [[ $rest =~ ^([0-9]+)[[:space:]]*(.*)$ ]]; then
			TAP_NUM=${BASH_REMATCH[1]}
			rest=${BASH_REMATCH[2]}
		fi
		rest=${rest#- }
		TAP_DESC=$rest
		if [[ $rest == *"#"* ]]; then
			TAP_DESC=${rest%%#*}
			directive=${rest#*#}
			directive=${directive#"${directive%%[![:space:]]*}"}
		fi
		TAP_DESC=${TAP_DESC%"${TAP_DESC##*[![:space:]]}"}
		if [[ ${directive,,} == skip* ]]; then
			TAP_KIND=skip
		elif [[ -n $notok && ${directive,,} == todo* ]]; then
			TAP_KIND=skip
		elif [[ -n $notok ]]; then
			TAP_KIND=fail
		else
			TAP_KIND=pass
		fi
		return 0
	fi
	if [[ $line =~ ^1\.\.([0-9]+) ]]; then
		TAP_PLAN=${BASH_REMATCH[1]}
		return 2
	fi
	return 1
}

# tap_results SUITE RC < TAP: the results lines of a whole program's TAP
# output on stdout.  Only the first plan counts (nested subtests are
# indented and so never match); cases the plan announced but the output
# lacks fail, and so does a non-zero exit status (other than kselftest's
# 4, "skipped") that no failed case explains.
tap_results() {
	local suite=$1 rc=$2 line seen=0 failed=0 plan='' rv k
	while IFS= read -r line; do
		tap_classify "$line"
		rv=$?
		if [[ $rv == 0 ]]; then
			seen=$((seen + 1))
			[[ $TAP_KIND != fail ]] || failed=$((failed + 1))
			echo "$TAP_KIND $suite: ${TAP_DESC:-case ${TAP_NUM:-$seen}}"
		elif [[ $rv == 2 && -z $plan ]]; then
			plan=$TAP_PLAN
		fi
	done
	for ((k = seen + 1; k <= ${plan:-0}; k++)); do
		echo "fail $suite: case $k never reported"
	done
	if [[ $rc != 0 && $rc != 4 && $failed == 0 ]]; then
		echo "fail $suite: exit status $rc"
	fi
	return 0
}

# results_summary FILE: the failures by name, then "N passed, N failed,
# N skipped".  Returns 1 when a case failed.
results_summary() {
	local passed failed skipped
	passed=$(grep -c '^pass ' "$1")
	failed=$(grep -c '^fail ' "$1")
	skipped=$(grep -c '^skip ' "$1")
	grep '^fail ' "$1" | sed 's/^fail /FAILED: /'
	echo "$passed passed, $failed failed, $skipped skipped"
	[[ $failed == 0 ]]
}
