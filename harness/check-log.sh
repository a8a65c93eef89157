#!/bin/bash
# Judge guest console logs.  Usage: check-log.sh test LOG... | demo LOG |
# kunit LOG
# test: prints the TAP results, details of failures, then a last line
#       "N passed, N failed[, N skipped]"; with several logs (the guests
#       of one run, harness/run-tests.sh) the results are added up.
# demo: prints the verdict.
# kunit: the kernel side of a `make kunit` guest (harness/kunit.sh judges
#       the KUnit results themselves): no splat, no leak, no WARN taint,
#       and the guest got to the end (KLP-KUNIT-END).
# Exits non-zero on a failed test, no test run, a demo step that failed,
# a guest timeout, a kernel splat anywhere in the log, a kernel tainted by a
# WARN (the W flag of /proc/sys/kernel/tainted at the end of the guest), or
# a SKIP (of a whole test, or a "SKIP:" line of a part) that SKIP_ALLOWED
# below does not list, or a guest that runs another preemption model than
# the one it was booted for (check_preempt).
set -euo pipefail

mode=${1:?usage: check-log.sh test|demo LOG}
shift
(($#)) || {
	echo "usage: check-log.sh test LOG... | demo LOG | kunit LOG" >&2
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
SPLAT_RE+='rcu_sched self-detected stall|RCU: .* stall|rcu: INFO: .*stall|'
SPLAT_RE+='INFO: rcu_tasks[a-z_]* detected stalls|detected stalls on tasks|'
SPLAT_RE+='[Hh]ard LOCKUP|NMI backtrace for cpu'

# TAINT_WARN: bit 9 of /proc/sys/kernel/tainted, set by every WARN*() and
# by nothing else, whatever the warning printed.
TAINT_W=$((1 << 9))

# The SKIPs that do not fail the run, one per line: the implementation it
# applies to (ours, stock or any; the guest says which it tests on its
# KLP-INIT line, from klp.impl=), the test, and an extended regex that the
# reason printed after "<test>: SKIP: " must match.  Every entry says why
# the skip is legitimate.  Any other SKIP fails the run: a test that stops
# testing hides a regression as well as a test that passes by mistake.
SKIP_ALLOWED=(
	# Features this implementation has and stock 6.1 lacks; the tests
	# detect them (klp_lacks or klp_lacks_part in functions.sh, which fail on ours).
	'stock test-module-reload.sh ^this kernel does not clear livepatch relocations'
	'stock test-progress.sh ^no livepatch tracepoints'
	'stock test-sysfs-newer.sh ^no replace/stack_order'
	'stock test-conflicts.sh ^no /sys/module/livepatch/parameters/refuse_conflicts: conflicting patches cannot be refused$'
	'stock test-direct.sh ^no calls without the handler \(/sys/module/livepatch/parameters/direct\)$'
	'stock test-sysfs.sh ^no calls file in /sys/kernel/livepatch/[^/]*/vmlinux$'
	'stock test-bpf.sh ^no calls file /sys/kernel/livepatch/[^/]*/vmlinux/calls$'
	'stock test-bad-input.sh ^writes to .*: no such files \(stock 6\.1 has none\)$'
	'stock test-shadow-vars.sh ^duplicate alloc: stock 6\.1 WARN\(\)s on it$'
	'stock test-stress.sh ^no .*/transition_ms: fewer rounds$'
	'stock test-stress.sh ^no /sys/module/livepatch/parameters/share_cpus: rounds are not shared$'
	# Stock 6.1 switches tasks preempted inside its ftrace redirection
	# (issue 20): under full preemption its workers may see a mix.
	'stock test-stress.sh ^consistency under full preemption: stock 6\.1'
	# Stock 6.1 has no switching in cond_resched() (issue 21, upstream
	# since 6.4): its transition waits for a kernel thread that never
	# sleeps, and it has no tracepoint to tell how a task switched.
	'stock test-cond-resched.sh ^no task switching in cond_resched\(\): '
	# Stock 6.1 runs a work item of every transition on every CPU
	# (schedule_on_each_cpu() in klp_synchronize_transition()) and wakes
	# idle CPUs in every retry, isolated ones too (issue 20): the
	# isolation assertions of test-isolation.sh give one SKIP line there.
	'stock test-isolation.sh ^isolated CPUs on stock 6\.1: its transitions queue work on every CPU'
	# Stock 6.1 logs no error line when building a patch fails.
	'stock test-fault-inject.sh ^error lines of build-step failures: stock 6\.1 logs none'
	# Stock 6.1 has no fault-injection point in its ftrace filter changes
	# (this implementation's fail_klp_ftrace_filter).
	'stock test-fault-inject.sh ^filter: no /sys/kernel/debug/fail_klp_ftrace_filter '
)
# BPF tracing programs need the kernel's BTF, which only KCONFIG=distro
# builds (with Debian's DWARF): test-bpf.sh skips elsewhere, and must run
# there.
if [[ ${KLP_KCONFIG:-default} != distro ]]; then
	SKIP_ALLOWED+=('any test-bpf.sh ^no BTF of the kernel \(CONFIG_DEBUG_INFO_BTF\)')
fi

# skip_reason_on TAP_LINE: the "ok N ... <test> # SKIP" line of a test
# skipped whole, with the reason that the test printed ("<test>: SKIP:
# <reason>", its first) after the directive, as TAP has it.
skip_reason_on() {
	local name reason
	name=${1#*selftests: livepatch: }
	name=${name%% *}
	reason=$(grep -m 1 -oE "^(# )?$name: SKIP: .*" <<<"$tap" | sed 's/.*: SKIP: //' || true)
	if [[ -n $reason && $1 =~ \#\ *SKIP\ *$ ]]; then
		echo "$1 $reason"
	else
		echo "$1"
	fi
}

# skip_allowed IMPL TEST REASON: true when SKIP_ALLOWED lists the skip.
skip_allowed() {
	local e i t re
	for e in "${SKIP_ALLOWED[@]}"; do
		i=${e%% *} e=${e#* }
		t=${e%% *} re=${e#* }
		[[ $i == any || $i == "$1" ]] || continue
		[[ $t == "$2" && $3 =~ $re ]] && return 0
	done
	return 1
}

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

# KCSAN reports (KCONFIG=kcsan) are judged by what they involve: one with
# a stack frame of livepatch (a function klp_* or *livepatch*, or code of a
# livepatch test module, "[test_klp_...]") is a splat like any other; the
# others are races elsewhere in 6.1, which this project cannot fix: they
# are counted and their first lines listed (kcsan_others), not failed.
# Only frames count: the "Comm:" of the task that hit the race may be a
# test program (klp_fail_nth) while the race is the scheduler's.
#
# kcsan_filter: $log without the KCSAN reports that do not involve
# livepatch; the "BUG: KCSAN:" line of each one left out goes to fd 3.  A
# report is the block between two lines of '=' (KASAN's reports look the
# same and are kept whole).
kcsan_filter() {
	awk '
		function flush(livepatch) {
			if (kcsan && !livepatch) print head > "/dev/fd/3"
			else printf "%s", buf
			buf = ""; kcsan = 0; head = ""
		}
		/={40,}/ {
			if (inblock) {
				buf = buf $0 "\n"
				flush(buf ~ /\] +(\? )?[A-Za-z0-9_.]*(klp_|livepatch)[A-Za-z0-9_.]*\+0x|\[(test_klp|livepatch)[A-Za-z0-9_]*\]/)
				inblock = 0
			} else {
				buf = $0 "\n"
				inblock = 1
			}
			next
		}
		inblock {
			buf = buf $0 "\n"
			if ($0 ~ /BUG: KCSAN:/) { kcsan = 1; head = $0 }
			next
		}
		{ print }
		END { if (inblock) flush(1) }' "$log"
}

# host_and_splats: the problems any log can show (timeouts and qemu
# failures reported by the host, kernel splats), added to problems[];
# the splat lines in $splats, KCSAN reports outside livepatch in
# kcsan_others.
kcsan_others=''
host_and_splats() {
	local host others
	host=$(grep -E '^KLP-HOST: ' "$log" | sed 's/^KLP-HOST: //' || true)
	[[ -n $host ]] && problems+=("$where$host")
	splats=''
	others=$(mktemp)
	if splats=$(kcsan_filter 3>"$others" | grep -nE "$SPLAT_RE"); then
		problems+=("${where}kernel splat in the guest log")
	fi
	if [[ -s $others ]]; then
		kcsan_others+=$(sed -E "s/^\[ *[0-9.]+\] //; s|^|$where|" "$others")$'\n'
	fi
	rm -f "$others"
	return 0
}

# report_kcsan_others: the KCSAN reports outside livepatch, for the record.
report_kcsan_others() {
	[[ -n $kcsan_others ]] || return 0
	echo "----- KCSAN reports outside livepatch (not failed): $(grep -c . <<<"$kcsan_others") -----"
	grep . <<<"$kcsan_others" | sort | uniq -c | sort -rn | head -n 20
}

report_problems() {
	local p
	if [[ -n ${splats:-} ]]; then
		echo "----- kernel splats (first 20 matching lines) -----"
		head -n 20 <<<"$splats"
	fi
	for p in "${problems[@]}"; do echo "FAIL: $p"; done
}

# check_taint: the guest's last word on the kernel's taint flags
# ("KLP-TAINTED: N", harness/guest-init) must be there once the guest has
# finished, and must not have the W flag.
check_taint() {
	local t
	t=$(grep -oE '^KLP-TAINTED: [0-9]+' "$log" | tail -n 1 | sed 's/.* //' || true)
	if [[ -z $t ]]; then
		grep -qE '^KLP-(TAP-END|DEMO-OK|KUNIT-END)' "$log" &&
			problems+=("${where}the guest did not report the kernel's taint flags")
		return 0
	fi
	((t & TAINT_W)) &&
		problems+=("${where}the kernel was tainted by a WARN (tainted=$t, W flag)")
	return 0
}

# check_preempt: the guest must run the preemption model harness/run-vm.sh
# booted it for.  Its KLP-INIT line names both (harness/guest-init):
# preempt= is what the kernel runs (/sys/kernel/debug/sched/preempt with
# PREEMPT_DYNAMIC), preempt_expected= what run-vm.sh asked for; a kernel
# that lost PREEMPT_DYNAMIC, or ignores preempt=, fails here.  The models
# seen are collected in $models for the summary.
check_preempt() {
	local init run='' want=''
	init=$(grep -E '^KLP-INIT: mode=' "$log" | head -n 1 || true)
	[[ -n $init ]] || return 0
	[[ $init =~ \ preempt=([^ ]*) ]] && run=${BASH_REMATCH[1]}
	[[ $init =~ \ preempt_expected=([^ ]*) ]] && want=${BASH_REMATCH[1]}
	if [[ -z $run || -z $want ]]; then
		problems+=("${where}the guest did not report its preemption model and the one it was booted for: $init")
		return 0
	fi
	[[ $run == "$want" ]] ||
		problems+=("${where}the guest runs preemption model $run, but was booted for $want")
	models+="${models:+, }${where:-}$run"
	return 0
}

# check_skips: every "<test>: SKIP: <reason>" line in the TAP text $tap
# (a skipped test, or a part of a test that was skipped) must be allowed
# by SKIP_ALLOWED for the implementation $impl.
check_skips() {
	local line t reason
	while IFS= read -r line; do
		[[ -z $line ]] && continue
		t=${line%%: SKIP: *}
		reason=${line#*: SKIP: }
		skip_allowed "${impl:-unknown}" "$t" "$reason" ||
			problems+=("${where}a SKIP that no entry of SKIP_ALLOWED (harness/check-log.sh) allows on ${impl:-an unnamed implementation}: $t: $reason")
	done < <(grep -oE '[A-Za-z0-9._-]+\.sh: SKIP: .*' <<<"$tap" || true)
}

problems=()
where=''
impl=''
models=''
# need_log: a single-log mode cannot judge a log that is not there.
need_log() {
	[[ -f $log ]] && return 0
	echo "[klp] error: no log $log" >&2
	exit 1
}

# verdict WHAT OK_TEXT: the end of a single-log mode: the problems found
# with the kernel's last lines and "WHAT FAILED", or OK_TEXT.
verdict() {
	if ((${#problems[@]})); then
		kernel_tail
		report_problems
		echo "$1 FAILED"
		exit 1
	fi
	echo "$2"
	exit 0
}

if [[ $mode == demo ]]; then
	need_log
	host_and_splats
	check_taint
	check_preempt
	fails=$(grep -oE 'KLP-DEMO-FAIL: .*' "$log" || true)
	[[ -n $fails ]] && problems+=("${fails//KLP-DEMO-FAIL: /demo step failed: }")
	grep -q 'KLP-DEMO-OK' "$log" || [[ -n $fails ]] ||
		problems+=("the demo did not finish (no KLP-DEMO-OK)")
	verdict demo "demo OK: patched, unpatched and unloaded; /proc/cmdline changed and came back (preemption model $models)"
fi

if [[ $mode == kunit ]]; then
	need_log
	host_and_splats
	check_taint
	grep -q '^KLP-KUNIT-END' "$log" ||
		problems+=("the guest did not finish (no KLP-KUNIT-END)")
	verdict "kunit guest" "kunit guest OK: no splat, no leak, no WARN taint"
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
	impl=$(grep -oE '^KLP-INIT: mode=.* impl=[a-z]*' "$log" | head -n 1 | sed 's/.* impl=//' || true)
	check_taint
	check_preempt
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
	check_skips
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
			r=$(skip_reason_on "$r")
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
report_kcsan_others
[[ -n $models ]] && echo "preemption models: ${models//.log: / }"
summary="$passed passed, $failed failed"
((skipped)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0 && ${#problems[@]} == 0))
