#!/bin/bash
# Run the selftests in one or more guests at once.  Usage: run-tests.sh
# Prints the console logs it wrote, one per line, for harness/check-log.sh.
#
# Most of the suite's time is spent waiting (transitions, retry intervals,
# tasks that sleep on purpose), not computing, so two guests on two cores
# finish the suite in little more than half the time of one.  The tests are
# dealt out so that each guest gets about the same amount of work: by the
# durations of the last run ($KLP_TEST_LOGS-times, written below from
# the "klptest: start/end <test>" lines each test logs), longest first, each to
# the guest with the least work so far.  Where that file does not know a
# test (a cold cache, a new test), the durations measured here and
# committed in harness/test-times/<impl>-<kconfig>[-<suite>] count; a test
# known to neither counts as 20 s.  Without them a cold-cache debug run
# dealt 971 s of tests to one guest and 387 s to another.
#
# Preemption models: a kernel built with PREEMPT_DYNAMIC (KCONFIG=default)
# runs the suite in three guests, booted with preempt=full, voluntary and
# none (guest 1, 2, 3; a fourth would be full again, and so on), so that
# one build covers the three models.  The tests that most need a task to
# be preempted anywhere (FULL_TESTS: the stress test and the transition
# tests) are dealt to the full guests first; the rest go to whichever guest
# has the least work, as above.  Each guest must run the model it was
# booted for (harness/check-log.sh).  KLP_PREEMPT=none|voluntary|full boots
# every guest with that model instead.  Kernels built for one model
# (KCONFIG=preempt, debug) get no preempt= option and two guests (debug:
# four, see KLP_TEST_JOBS below).
#
# CPU isolation: the tests of ISO_TESTS (test-isolation.sh) need CPUs that
# nothing else runs on, so they always get a guest of their own, started
# first: 4 vCPUs (KLP_SMP), CPUs 2 and 3 isolated (ISO_APPEND), booted with
# preempt=full when the kernel has PREEMPT_DYNAMIC (KLP_PREEMPT if set),
# for every kernel configuration and implementation.  Its log is
# klp-test.iso.log; the other tests are dealt to the other guests as
# above.  It runs alongside them, and they run at nice 5 (KLP_OTHERS_NICE,
# see below); under TCG its four vCPUs take turns in one host thread, one
# of them busy during the measured phases (the test's user-space loop), so
# it is slow: about 30 s of guest time, 3 to 4 minutes for the debug kernel.
#
# KLP_TEST_JOBS=N sets the number of guests for the other tests (default 3
# with PREEMPT_DYNAMIC, 4 for KCONFIG=debug, else 2); KLP_TESTS limits the
# run to those tests.  The debug kernel's guests (3 GiB each, time limits
# tripled by run-vm.sh) spend part of their time waiting too, among others
# for kobject releases that DEBUG_KOBJECT_RELEASE delays by 1 to 4 s (every
# patch disabled, every module removed): with 4 guests and the isolation
# guest on 2 host cores each test ran about 1.2 times slower than with 2,
# and the suite took 17 minutes instead of 25 (2026-12-05).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
H=$KLP_ROOT/harness

times=$KLP_TEST_LOGS-times
seed_times=$H/test-times/$KLP_IMPL-$KLP_KCONFIG${KLP_SUITE:+-$KLP_SUITE}
FULL_TESTS=(test-stress.sh test-transition.sh test-progress.sh)
ISO_TESTS=(test-isolation.sh)
ISO_SMP=4
ISO_APPEND="isolcpus=2,3 nohz_full=2,3 irqaffinity=0-1 rcu_nocbs=2,3"
# models: the preemption model of guest j is models[(j - 1) % ${#models[@]}]
# ('' for the kernel's only one).
models=('')
if [[ -n ${KLP_PREEMPT:-} ]]; then
	models=("$KLP_PREEMPT")
elif klp_preempt_dynamic; then
	models=(full voluntary none)
fi
jobs=2
((${#models[@]} > 1)) && jobs=${#models[@]}
[[ $KLP_KCONFIG == debug ]] && jobs=4
jobs=${KLP_TEST_JOBS:-$jobs}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "KLP_TEST_JOBS must be a positive number"

if [[ -n ${KLP_TESTS:-} ]]; then
	read -r -a tests <<<"$KLP_TESTS"
else
	mapfile -t tests < <(sed -n 's/^livepatch://p' "$KLP_STAGE/kselftest/kselftest-list.txt")
fi
((${#tests[@]})) || die "no selftests listed in $KLP_STAGE/kselftest/kselftest-list.txt"
# Take the isolation tests out of the deal.
declare -A is_iso=()
for t in "${ISO_TESTS[@]}"; do is_iso[$t]=1; done
iso=() rest=()
for t in "${tests[@]}"; do
	if [[ -n ${is_iso[$t]:-} ]]; then iso+=("$t"); else rest+=("$t"); fi
done
tests=("${rest[@]}")
((jobs > ${#tests[@]})) && jobs=${#tests[@]}

rm -f "$KLP_TEST_LOGS".log "$KLP_TEST_LOGS".[0-9]*.log "$KLP_TEST_LOGS".[0-9]*.out \
	"$KLP_TEST_LOGS".iso.log "$KLP_TEST_LOGS".iso.out

logs=()
iso_pid='' yield=()
if ((${#iso[@]})); then
	iso_model=${KLP_PREEMPT:-}
	[[ -z $iso_model ]] && klp_preempt_dynamic && iso_model=full
	info "isolation guest (${ISO_SMP} CPUs, $ISO_APPEND${iso_model:+, preempt=$iso_model}) runs: ${iso[*]}" >&2
	KLP_SMP=$ISO_SMP KLP_APPEND="${KLP_APPEND:+$KLP_APPEND }$ISO_APPEND" \
		KLP_PREEMPT=$iso_model KLP_TESTS=${iso[*]} KLP_VM_LOG=$KLP_TEST_LOGS.iso.log \
		"$H/run-vm.sh" test >"$KLP_TEST_LOGS.iso.out" 2>&1 &
	iso_pid=$!
	logs+=("$KLP_TEST_LOGS.iso.log")
	# The isolation guest gets the host's cores first: the other guests
	# run at nice 5 (KLP_OTHERS_NICE).  Under TCG its housekeeping vCPUs
	# share one host thread with the busy isolated one, and a debug kernel
	# (PREEMPT_NONE, KASAN) keeps a vCPU in the kernel for seconds at a
	# time (soft lockups of 3 s in execve() with watchdog_thresh=1,
	# 2026-12-06): then the remote tick of the busy nohz_full CPU
	# (sched_tick_remote(), every second from a housekeeping CPU) came
	# more than 3 s late, and 6.1 warns about that (WARN_ON_ONCE, which
	# fails the run), in several debug runs with five guests of equal
	# priority.  The test also stops its busy loop between the measured
	# phases, so that this priority costs the other guests little.
	yield=(nice -n "${KLP_OTHERS_NICE:-5}")
fi

if ((${#tests[@]} == 0)); then
	:
elif ((jobs == 1)); then
	KLP_PREEMPT=${models[0]} KLP_TESTS="${tests[*]}" KLP_VM_LOG=$KLP_TEST_LOGS.log \
		"${yield[@]}" "$H/run-vm.sh" test >&2 || true
	logs+=("$KLP_TEST_LOGS.log")
else
	# deal: one line per guest, the tests given to it: first the tests of
	# FULL_TESTS to the guests with full preemption (if any), then the
	# others to all, each group longest first.
	declare -A secs=() full=()
	for f in "$seed_times" "$times"; do
		[[ -f $f ]] || continue
		while read -r t w; do
			[[ $w =~ ^[0-9]+$ ]] && secs[$t]=$w
		done <"$f"
	done
	for t in "${FULL_TESTS[@]}"; do full[$t]=1; done
	guest_models=''
	for ((j = 0; j < jobs; j++)); do
		guest_models+=" ${models[j % ${#models[@]}]:--}"
	done
	mapfile -t shards < <(
		for t in "${tests[@]}"; do
			echo "${full[$t]:-0} ${secs[$t]:-20} $t"
		done | sort -k1,1nr -k2,2nr -k3,3 | awk -v n="$jobs" -v m="$guest_models" '
			BEGIN {
				split(m, model, " ")
				for (i = 1; i <= n; i++) if (model[i] == "full") fulls++
			}
			{
				best = 0
				for (i = 1; i <= n; i++) {
					if ($1 && model[i] != "full" && fulls) continue
					if (!best || load[i] < load[best]) best = i
				}
				load[best] += $2
				list[best] = list[best] " " $3
			}
			END { for (i = 1; i <= n; i++) print substr(list[i], 2) }'
	)
	((${#shards[@]} == jobs)) || die "dealing the tests to $jobs guests failed"
	pids=()
	for ((j = 1; j <= jobs; j++)); do
		model=${models[(j - 1) % ${#models[@]}]}
		# Few tests (KLP_TESTS) can leave a guest with none.
		if [[ -z ${shards[j - 1]} ]]; then
			info "guest $j${model:+ (preempt=$model)} gets no test" >&2
			continue
		fi
		info "guest $j${model:+ (preempt=$model)} runs: ${shards[j - 1]}" >&2
		KLP_PREEMPT=$model KLP_TESTS=${shards[j - 1]} KLP_VM_LOG=$KLP_TEST_LOGS.$j.log \
			"${yield[@]}" "$H/run-vm.sh" test >"$KLP_TEST_LOGS.$j.out" 2>&1 &
		pids[j]=$!
		logs+=("$KLP_TEST_LOGS.$j.log")
	done
	for ((j = 1; j <= jobs; j++)); do
		[[ -n ${pids[j]:-} ]] || continue
		wait "${pids[j]}" || true
		info "guest $j: $(grep -E '^\[klp\] guest ran' "$KLP_TEST_LOGS.$j.out" | tail -n 1 | sed 's/^\[klp\] //')" >&2
	done
fi
if [[ -n $iso_pid ]]; then
	wait "$iso_pid" || true
	info "isolation guest: $(grep -E '^\[klp\] guest ran' "$KLP_TEST_LOGS.iso.out" | tail -n 1 | sed 's/^\[klp\] //')" >&2
fi

# Durations of this run, for the next one's deal: from each test's
# "klptest: start <test>" kernel log line to its "klptest: end <test>".
{
	for l in "${logs[@]}"; do
		[[ -f $l ]] || continue
		awk '/^KLP-DMESG-BEGIN/ { d = 1; next } /^KLP-DMESG-END/ { d = 0 }
			d && match($0, /^\[ *[0-9]+\.[0-9]+\] klptest: (start|end) [A-Za-z0-9._-]+/) {
				n = split(substr($0, 2, RLENGTH - 1), w, /[] ]+/)
				t = w[1] == "" ? w[2] : w[1]
				if (w[n - 1] == "start") since[w[n]] = t
				else if (w[n] in since) printf "%s %d\n", w[n], t - since[w[n]] + 1
			}' "$l"
	done
	# keep what this run did not measure
	if [[ -f $times ]]; then cat "$times"; fi
} | awk '!seen[$1]++' >"$times.tmp" && mv "$times.tmp" "$times"

printf '%s\n' "${logs[@]}"
