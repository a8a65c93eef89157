#!/bin/bash
# Judge a guest console log.  Usage: check-log.sh test|demo LOG
# test: prints the TAP results, details of failures, then a last line
#       "N passed, N failed[, N skipped]".
# demo: prints the verdict.
# Exits non-zero on a failed test, no test run, a demo step that failed,
# a guest timeout, or a kernel splat anywhere in the log.
set -euo pipefail

mode=${1:?usage: check-log.sh test|demo LOG}
log=${2:?usage: check-log.sh test|demo LOG}
[[ -f $log ]] || {
	echo "[klp] error: no log $log" >&2
	exit 1
}

# Kernel splats: any of these in the guest log fails the run.
SPLAT_RE='\bWARNING:|\bBUG:|\bOops\b|Kernel panic|general protection fault|kernel BUG|'
SPLAT_RE+='possible recursive locking|circular locking dependency|inconsistent lock state|'
SPLAT_RE+='KASAN:|kmemleak: [0-9]+ new suspected memory leak|unreferenced object 0x|UBSAN:|'
SPLAT_RE+='ODEBUG:|list_(add|del) corruption|'
SPLAT_RE+='INFO: task .* blocked for more than|soft lockup|'
SPLAT_RE+='rcu_sched self-detected stall|RCU: .* stall|rcu: INFO: .*stall'

problems=()
# between BEGIN END: print the lines strictly between two marker lines.
between() { awk -v b="$1" -v e="$2" '$0 ~ e { p = 0 } p { print } $0 ~ b { p = 1 }' "$log"; }

host=$(grep -E '^KLP-HOST: ' "$log" | sed 's/^KLP-HOST: //' || true)
[[ -n $host ]] && problems+=("$host")
if splats=$(grep -nE "$SPLAT_RE" "$log"); then
	problems+=("kernel splat in the guest log")
fi

kernel_tail() {
	echo "----- last 60 lines of the kernel log -----"
	if grep -q '^KLP-DMESG-END' "$log"; then
		between '^KLP-DMESG-BEGIN' '^KLP-DMESG-END' | tail -n 60
	else
		tail -n 60 "$log"
	fi
	echo "----- (full console log: $log) -----"
}

report_problems() {
	local p
	if [[ -n ${splats:-} ]]; then
		echo "----- kernel splats (first 20 matching lines) -----"
		head -n 20 <<<"$splats"
	fi
	for p in "${problems[@]}"; do echo "FAIL: $p"; done
}

if [[ $mode == demo ]]; then
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
if grep -q '^KLP-TAP-END' "$log"; then
	tap=$(between '^KLP-TAP-BEGIN' '^KLP-TAP-END')
else
	# The guest did not finish: judge what reached the console.
	tap=$(between '^KLP-TEST-BEGIN' '^KLP-TEST-END')
	grep -q '^KLP-TEST-END' "$log" || problems+=("the test run did not finish")
fi
err=$(grep -oE 'KLP-TEST-ERROR: .*' "$log" || true)
[[ -n $err ]] && problems+=("${err#KLP-TEST-ERROR: }")

results=$(grep -E '^(not )?ok [0-9]+' <<<"$tap" || true)
plan=$(grep -oE '^1\.\.[0-9]+' <<<"$tap" | head -n 1 || true)
passed=0 failed=0 skipped=0
while IFS= read -r r; do
	[[ -z $r ]] && continue
	if [[ $r == not\ ok* ]]; then
		failed=$((failed + 1))
	elif [[ $r =~ \#\ *SKIP ]]; then
		skipped=$((skipped + 1))
	else
		passed=$((passed + 1))
	fi
done <<<"$results"
total=$((passed + failed + skipped))
if [[ -n $plan && ${plan#1..} != "$total" ]]; then
	problems+=("planned ${plan#1..} tests, got $total results")
fi
((passed + failed == 0)) && problems+=("no test ran")

grep -E '^TAP version' <<<"$tap" | head -n 1 || true
[[ -n $plan ]] && echo "$plan"
[[ -n $results ]] && echo "$results"

if ((failed)); then
	while IFS= read -r r; do
		name=${r#*selftests: livepatch: }
		name=${name%% *}
		echo "----- output of failed test $name -----"
		awk -v h="# selftests: livepatch: $name" -v r="$r" \
			'$0 == h { p = 1 } p { print } p && $0 == r { exit }' <<<"$tap"
	done < <(grep -E '^not ok' <<<"$results")
fi
if ((failed || ${#problems[@]})); then
	kernel_tail
	report_problems
fi
summary="$passed passed, $failed failed"
((skipped)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0 && ${#problems[@]} == 0))
