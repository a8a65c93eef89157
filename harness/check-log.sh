#!/bin/bash
# Judge guest console logs.  Usage: check-log.sh test LOG... | demo LOG
# test: prints the TAP results, details of failures, then a last line
#       "N passed, N failed[, N skipped]"; with several logs (the guests
#       of one run, harness/run-tests.sh) the results are added up.
# demo: prints the verdict.
# Exits non-zero on a failed test, no test run, a demo step that failed,
# a guest timeout, or a kernel splat anywhere in the log.
set -euo pipefail

mode=${1:?usage: check-log.sh test|demo LOG}
shift
(($#)) || {
	echo "usage: check-log.sh test LOG... | demo LOG" >&2
	exit 1
}
logs=("$@")
log=$1

# Kernel splats: any of these in the guest log fails the run.
SPLAT_RE='\bWARNING:|\bBUG:|\bOops\b|Kernel panic|general protection fault|kernel BUG|'
SPLAT_RE+='possible recursive locking|circular locking dependency|inconsistent lock state|'
SPLAT_RE+='KASAN:|kmemleak: [0-9]+ new suspected memory leak|unreferenced object 0x|UBSAN:|'
SPLAT_RE+='ODEBUG:|list_(add|del) corruption|'
SPLAT_RE+='INFO: task .* blocked for more than|soft lockup|'
SPLAT_RE+='rcu_sched self-detected stall|RCU: .* stall|rcu: INFO: .*stall'

# between BEGIN END: print the lines of $log strictly between two marker
# lines.
between() { awk -v b="$1" -v e="$2" '$0 ~ e { p = 0 } p { print } $0 ~ b { p = 1 }' "$log"; }

kernel_tail() {
	echo "----- last 60 lines of the kernel log -----"
	if grep -q '^KLP-DMESG-END' "$log"; then
		between '^KLP-DMESG-BEGIN' '^KLP-DMESG-END' | tail -n 60
	else
		tail -n 60 "$log"
	fi
	echo "----- (full console log: $log) -----"
}

# host_and_splats: the problems any log can show (timeouts and qemu
# failures reported by the host, kernel splats), added to problems[];
# the splat lines in $splats.
host_and_splats() {
	local host
	host=$(grep -E '^KLP-HOST: ' "$log" | sed 's/^KLP-HOST: //' || true)
	[[ -n $host ]] && problems+=("$where$host")
	splats=''
	if splats=$(grep -nE "$SPLAT_RE" "$log"); then
		problems+=("${where}kernel splat in the guest log")
	fi
	return 0
}

report_problems() {
	local p
	if [[ -n ${splats:-} ]]; then
		echo "----- kernel splats (first 20 matching lines) -----"
		head -n 20 <<<"$splats"
	fi
	for p in "${problems[@]}"; do echo "FAIL: $p"; done
}

problems=()
where=''
if [[ $mode == demo ]]; then
	[[ -f $log ]] || {
		echo "[klp] error: no log $log" >&2
		exit 1
	}
	host_and_splats
	fails=$(grep -oE 'KLP-DEMO-FAIL: .*' "$log" || true)
	[[ -n $fails ]] && problems+=("${fails//KLP-DEMO-FAIL: /demo step failed: }")
	grep -q 'KLP-DEMO-OK' "$log" || [[ -n $fails ]] ||
		problems+=("the demo did not finish (no KLP-DEMO-OK)")
	if ((${#problems[@]})); then
		kernel_tail
		report_problems
		echo "demo FAILED"
		exit 1
	fi
	echo "demo OK: patched, unpatched and unloaded; /proc/cmdline changed and came back"
	exit 0
fi

[[ $mode == test ]] || {
	echo "[klp] error: unknown mode $mode" >&2
	exit 1
}

# judge_log: the TAP results of $log, appended to $all_results (numbered
# anew across logs), the output of its failed tests, its problems.
passed=0 failed=0 skipped=0 all_results='' n=0 failed_out='' tap_version=''
judge_log() {
	local tap results plan r total name lp=0 lf=0 ls=0 before=${#problems[@]}
	[[ -f $log ]] || {
		problems+=("${where}no console log $log")
		return 0
	}
	host_and_splats
	all_splats+=${splats:+$splats$'\n'}
	if grep -q '^KLP-TAP-END' "$log"; then
		tap=$(between '^KLP-TAP-BEGIN' '^KLP-TAP-END')
	else
		# The guest did not finish: judge what reached the console.
		tap=$(between '^KLP-TEST-BEGIN' '^KLP-TEST-END')
		grep -q '^KLP-TEST-END' "$log" || problems+=("${where}the test run did not finish")
	fi
	while IFS= read -r r; do
		[[ -n $r ]] && problems+=("$where${r#KLP-TEST-ERROR: }")
	done < <(grep -oE 'KLP-TEST-ERROR: .*' "$log" || true)
	[[ -z $tap_version ]] && tap_version=$(grep -E '^TAP version' <<<"$tap" | head -n 1 || true)
	results=$(grep -E '^(not )?ok [0-9]+' <<<"$tap" || true)
	plan=$(grep -oE '^1\.\.[0-9]+' <<<"$tap" | head -n 1 || true)
	while IFS= read -r r; do
		[[ -z $r ]] && continue
		if [[ $r == not\ ok* ]]; then
			lf=$((lf + 1))
			name=${r#*selftests: livepatch: }
			name=${name%% *}
			failed_out+="----- output of failed test $name -----"$'\n'
			failed_out+=$(awk -v h="# selftests: livepatch: $name" -v r="$r" \
				'$0 == h { p = 1 } p { print } p && $0 == r { exit }' <<<"$tap")$'\n'
		elif [[ $r =~ \#\ *SKIP ]]; then
			ls=$((ls + 1))
		else
			lp=$((lp + 1))
		fi
		n=$((n + 1))
		all_results+=$(sed -E "s/^(not )?ok [0-9]+/\\1ok $n/" <<<"$r")$'\n'
	done <<<"$results"
	total=$((lp + lf + ls))
	if [[ -n $plan && ${plan#1..} != "$total" ]]; then
		problems+=("${where}planned ${plan#1..} tests, got $total results")
	fi
	((lp + lf + ls == 0)) && problems+=("${where}no test ran")
	passed=$((passed + lp)) failed=$((failed + lf)) skipped=$((skipped + ls))
	((lf || ${#problems[@]} > before)) && bad_logs+=("$log")
	return 0
}

all_splats='' bad_logs=()
for log in "${logs[@]}"; do
	((${#logs[@]} > 1)) && where="${log##*/}: "
	judge_log
done
splats=$all_splats

[[ -n $tap_version ]] && echo "$tap_version"
((n)) && echo "1..$n"
[[ -n $all_results ]] && printf '%s' "$all_results"
[[ -n $failed_out ]] && printf '%s' "$failed_out"
if ((failed || ${#problems[@]})); then
	for log in "${bad_logs[@]}"; do
		kernel_tail
	done
	report_problems
fi
summary="$passed passed, $failed failed"
((skipped)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0 && ${#problems[@]} == 0))
