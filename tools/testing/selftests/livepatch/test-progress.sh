#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Transition progress: the files transition_tasks, transition_ms,
# transition_signals and transition_blockers of a patch, the tracepoints of
# the trace system "livepatch", prompt completion once the last blocking task
# leaves, and the admin tool klpctl (tools/livepatch).
#
# A reader of /proc/test_klp_target/hold sleeps inside test_klp_target_hold(),
# which test_klp_holdpatch replaces, and so keeps the patching transition
# open; with hold_new=1 a reader sleeping in the replacement keeps the
# unpatching transition open.  Skipped on kernels without these files and
# tracepoints (stock 6.1).  klpctl is looked up in PATH, or set KLPCTL.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

T=test_klp_target
P=test_klp_holdpatch
FUNC=test_klp_target_hold
PROC=/proc/$T
HOLD_OUT=""
ERR_OUT=""
READER=""
READER_PID=""
TRACEFS=""
# Upper bound, in ms, from the release of the last blocking task (a marker in
# the kernel log) to the "patching complete" line.  A functional bound for
# promptness, generous for emulated machines, not a performance threshold.
KLP_PROMPT_MS=${KLP_PROMPT_MS:-1000}

klp_setup
klp_require_mod "$T" "$P"
klp_mod_loaded "$T" && die "$T is already loaded"

for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[[ -d $d/events ]] && TRACEFS=$d && break
done
if [[ -z $TRACEFS ]] && mount -t tracefs nodev /sys/kernel/tracing 2> /dev/null; then
	klp_at_exit "umount /sys/kernel/tracing"
	TRACEFS=/sys/kernel/tracing
fi
[[ -n $TRACEFS ]] || skip "tracefs is not available (CONFIG_FTRACE?)"
[[ -d $TRACEFS/events/livepatch ]] ||
	klp_lacks "no livepatch tracepoints ($TRACEFS/events/livepatch missing): this kernel has no transition progress reporting (stock 6.1?)"
KLPCTL=${KLPCTL:-$(command -v klpctl)} ||
	klp_lacks "klpctl not found in PATH (build tools/livepatch, or set KLPCTL)"

HOLD_OUT=$(mktemp)
ERR_OUT=$(mktemp)
klp_at_exit "rm -f '$HOLD_OUT' '$ERR_OUT'"
# Whatever happens, wake all sleepers before the modules are removed.
klp_at_exit "echo 1 > '$PROC/release'"
klp_at_exit "echo 1 > /sys/module/$P/parameters/release"

# Trace the livepatch events with a clock that orders events across CPUs.
TRACE_SAVED_ON=$(cat "$TRACEFS/tracing_on")
TRACE_SAVED_CLOCK=$(sed -E 's/.*\[([^]]*)\].*/\1/' "$TRACEFS/trace_clock")
klp_at_exit "echo $TRACE_SAVED_ON > '$TRACEFS/tracing_on'"
klp_at_exit "echo $TRACE_SAVED_CLOCK > '$TRACEFS/trace_clock'"
klp_at_exit "echo 0 > '$TRACEFS/events/livepatch/enable'"
echo global > "$TRACEFS/trace_clock" || die "cannot set $TRACEFS/trace_clock"
echo 1 > "$TRACEFS/events/livepatch/enable" || die "cannot enable the livepatch tracepoints"
echo 1 > "$TRACEFS/tracing_on"

# start_reader COUNTFILE: a reader of the hold file, sleeping in the
# function whose sleeper count COUNTFILE shows (klp_start_reader).
start_reader() {
	klp_start_reader "$PROC/hold" "$HOLD_OUT" "$1"
	READER_PID=$READER
}

# release_reader RELEASEFILE EXPECTED: wake the reader through RELEASEFILE and
# check that it read EXPECTED.
release_reader() {
	klp_log "release"
	echo 1 > "$1"
	wait "$READER" || die "the reader failed"
	READER=""
	check_file "$HOLD_OUT" "$2"
}

# attr NAME: print the patch attribute NAME of $P.
attr() {
	cat "$KLP_SYSFS/$P/$1" 2> /dev/null
}

# status_shows_signals: "klpctl status $P" must show in its "signals sent"
# line the value of transition_signals, read just before and just after it
# ran.  A transition kept waiting long enough signals its blocking tasks
# again every 15 s, and on a slow guest (the debug kernel under TCG, where
# an exec takes seconds) that can fall between the reads: then either
# count is right.
status_shows_signals() {
	local before after
	before=$(attr transition_signals)
	run_klpctl 0 status "$P"
	after=$(attr transition_signals)
	[[ $before =~ ^[0-9]+$ && $after =~ ^[0-9]+$ ]] ||
		die "transition_signals is not a number: '$before', then '$after'"
	grep -qxF -- "  signals sent:    $before" <<< "$KLPCTL_OUT" ||
		has_line "klpctl status $P (transition_signals $before, then $after)" \
			"$KLPCTL_OUT" "  signals sent:    $after"
}

# shellcheck disable=SC2317 # called through signals_match_rounds
# signal_rounds: the "signaling remaining tasks" lines in the kernel log
# since start_test.
signal_rounds() {
	klp_log_since_start | grep -cxF "livepatch: signaling remaining tasks" || true
}

# shellcheck disable=SC2317 # called through klp_wait_for
# signals_match_rounds: with the reader the only task left, each signalling
# round nudges it once: transition_signals equals the rounds logged
# ($ROUNDS, then $SIGNALS; a round logs its line before it counts, so a
# mismatch can last as long as one round, and klp_wait_for retries).
signals_match_rounds() {
	ROUNDS=$(signal_rounds)
	SIGNALS=$(attr transition_signals)
	((ROUNDS >= 1 && SIGNALS == ROUNDS))
}

# shellcheck disable=SC2317 # called through klp_wait_for
# only_reader_blocks: true when the reader is the one task left to switch and
# transition_blockers lists exactly it.
only_reader_blocks() {
	[[ $(attr transition_tasks) == 1 &&
		$(attr transition_blockers) == "$READER cat user in-patched-function $FUNC" ]]
}

# expect_only_reader: wait until only_reader_blocks holds, then check the
# values one by one so that a failure names what differs.
expect_only_reader() {
	klp_wait_for 10 only_reader_blocks
	check_file "$KLP_SYSFS/$P/transition" 1
	check_file "$KLP_SYSFS/$P/transition_tasks" 1
	check_file "$KLP_SYSFS/$P/transition_blockers" \
		"$READER cat user in-patched-function $FUNC"
}

# expect_idle_progress: the progress files of $P, not in transition, read 0.
expect_idle_progress() {
	check_file "$KLP_SYSFS/$P/transition_tasks" 0
	check_file "$KLP_SYSFS/$P/transition_ms" 0
	check_file "$KLP_SYSFS/$P/transition_signals" 0
	check_file "$KLP_SYSFS/$P/transition_blockers" ""
}

# status_stack_of PID: the stack klpctl status printed for task PID (the
# lines indented by 8 after the task's line).
status_stack_of() {
	awk -v pid="    pid $1 " '
		index($0, pid) == 1 { p = 1; next }
		p && /^        / { print; next }
		{ p = 0 }' <<< "$KLPCTL_OUT"
}

# expect_status_reader DIRECTION CODE: klpctl status shows the transition of
# $P in DIRECTION (patching/unpatching) with the reader as its only blocker,
# in $FUNC, with a kernel stack holding CODE: $FUNC itself, or its replacement
# when the reader sleeps in the new code.
expect_status_reader() {
	local enabled=1 stack
	[[ $1 == unpatching ]] && enabled=0
	has_line "klpctl status $P" "$KLPCTL_OUT" "$P: $1 transition in progress (enabled=$enabled)"
	has_line "klpctl status $P" "$KLPCTL_OUT" "  tasks remaining: 1"
	has_line "klpctl status $P" "$KLPCTL_OUT" "  blocking tasks:  1"
	has_line "klpctl status $P" "$KLPCTL_OUT" \
		"    pid $READER (cat, user task): in-patched-function $FUNC"
	stack=$(status_stack_of "$READER")
	grep -qE "^        .*\b$2\+0x" <<< "$stack" ||
		die "klpctl status: the stack of $READER does not hold $2:
$KLPCTL_OUT"
}

# trace_reset: empty the trace buffer.
trace_reset() {
	: > "$TRACEFS/trace" || die "cannot clear $TRACEFS/trace"
}

# trace_events: the livepatch events in the trace buffer, one per line:
# "<event> <fields>".
trace_events() {
	sed -nE 's/^.*[0-9]: (klp_[a-z_]+): (.*)$/\1 \2/p' "$TRACEFS/trace"
}

# trace_story PID: the events of the transitions and of task PID, in order,
# repeated ones once: what a transition held up by PID looks like.  Whether
# PID switched by itself or after a stack check is left out ("by=" dropped),
# as are its blocked events for other reasons than in-patched-function: once
# released it may be found running, or switched by a check, before it gets
# back to user space.
trace_story() {
	trace_events | awk -v pid="$1" '
		/^klp_transition_/ { line = $0 }
		/^klp_task_switch / && $2 == "pid=" pid { line = $0; sub(/ by=.*$/, "", line) }
		/^klp_task_blocked / && $2 == "pid=" pid && / reason=in-patched-function / { line = $0 }
		line != "" && line != last { print line; last = line }
		{ line = "" }'
}

# check_trace_story PID < EXPECTED: trace_story PID must equal stdin, and the
# first and last livepatch events in the buffer must be the first and last
# lines of it.
check_trace_story() {
	local expected actual all
	expected=$(cat)
	actual=$(trace_story "$1")
	if [[ $actual != "$expected" ]]; then
		klp_show_diff "$expected" "$actual" >&2
		echo "--- all livepatch events:" >&2
		trace_events >&2
		die "the tracepoints did not fire in the expected order"
	fi
	all=$(trace_events)
	check_eq "first livepatch event" "$(head -n 1 <<< "$expected")" "$(head -n 1 <<< "$all")"
	check_eq "last livepatch event" "$(tail -n 1 <<< "$expected")" "$(tail -n 1 <<< "$all")"
}

# release_to_complete_ms: milliseconds from the "klptest: release" line to
# "'$P': patching complete" in the kernel log since start_test.
release_to_complete_ms() {
	dmesg | awk -v mark="klptest: $KLP_MARK" -v rel="klptest: release" \
		-v done="livepatch: '$P': patching complete" '
		!match($0, /^\[ *[0-9]+\.[0-9]+\] /) { next }
		{
			ts = substr($0, 2, RLENGTH - 3) + 0
			msg = substr($0, RLENGTH + 1)
		}
		msg == mark { found = 1; r = c = ""; next }
		found && r == "" && msg == rel { r = ts }
		found && r != "" && c == "" && msg == done { c = ts }
		END { if (r == "" || c == "") print "none"; else printf "%d\n", (c - r) * 1000 }'
}

OLD_COUNT=$PROC/sleepers
OLD_RELEASE=$PROC/release
NEW_COUNT=/sys/module/$P/parameters/sleepers
NEW_RELEASE=/sys/module/$P/parameters/release
load_mod "$T" hold_secs=$KLP_HOLD_SECS

start_test "a task sleeping in a patched function: transition_* files, klpctl status, prompt completion, tracepoints"
start_reader "$OLD_COUNT"
trace_reset
load_lp_nowait "$P"
[[ -e $KLP_SYSFS/$P/transition_blockers ]] ||
	klp_lacks "$KLP_SYSFS/$P/transition_blockers missing: this kernel has no transition progress reporting (stock 6.1?)"
expect_only_reader
check_file "$KLP_SYSFS/$P/transition_signals" 0
ms1=$(attr transition_ms)
klp_sleep 0.5
ms2=$(attr transition_ms)
[[ $ms1 =~ ^[0-9]+$ && $ms2 =~ ^[0-9]+$ ]] ||
	die "transition_ms is not a number: '$ms1', '$ms2'"
((ms2 >= ms1 + 450)) || die "transition_ms did not grow by 500 ms in 0.5 s: $ms1, then $ms2"

status_shows_signals
expect_status_reader patching "$FUNC"
has_text "klpctl status $P" "$KLPCTL_OUT" "  elapsed:         "
run_klpctl 0 status
expect_status_reader patching "$FUNC"
run_klpctl 0 list
has_line "klpctl list" "$KLPCTL_OUT" \
	"$P: enabled=1 transition=1 replace=0 stack_order=1 (patching)"
has_line "klpctl list" "$KLPCTL_OUT" "    $T: patched=1 functions=$FUNC,1"

# 15 s into the transition the core signals the tasks still blocking.  The
# reader sleeps killable, so the fake signal does not wake it.
klp_info "waiting for the transition to signal the reader (15 s)"
# shellcheck disable=SC2317 # called through klp_wait_for
signals_sent() { [[ $(attr transition_signals) -ge 1 ]]; }
klp_wait_for 30 signals_sent || die "no signal sent after 30 s"
# Every 15 s another round signals again, and on a slow guest (the debug
# kernel under TCG) the steps above can take that long: the count is tied
# to the rounds the kernel logged instead of to the clock.
klp_wait_for 5 signals_match_rounds ||
	die "transition_signals reads $SIGNALS, but the kernel logged $ROUNDS signalling rounds since the test began (each signals the reader once)"
expect_only_reader
klp_sleepers_are "$OLD_COUNT" 1 || die "the reader left the function when signalled"
status_shows_signals
expect_status_reader patching "$FUNC"

release_reader "$OLD_RELEASE" "$T: released"
wait_transition "$P"
expect_idle_progress
check_file "$KLP_SYSFS/$P/enabled" 1
delay=$(release_to_complete_ms)
[[ $delay =~ ^[0-9]+$ ]] || die "no 'klptest: release' and \"'$P': patching complete\" lines in the kernel log"
klp_info "release to 'patching complete': $delay ms"
((delay < KLP_PROMPT_MS)) ||
	die "the transition completed $delay ms after the last blocking task left (bound: $KLP_PROMPT_MS ms)"
run_klpctl 0 status "$P"
check_eq "klpctl status $P after the transition" "$P: no transition in progress (enabled=1)" "$KLPCTL_OUT"
run_klpctl 0 status
check_eq "klpctl status after the transition" "no transition in progress (1 live patch)" "$KLPCTL_OUT"
check_trace_story "$READER_PID" <<EOF
klp_transition_start patch=$P target=patched
klp_task_blocked pid=$READER_PID comm=cat reason=in-patched-function function=$FUNC
klp_task_switch pid=$READER_PID comm=cat target=patched
klp_transition_complete patch=$P target=patched
EOF
(($(trace_events | grep -c '^klp_task_switch ') >= 2)) ||
	die "no klp_task_switch event but the reader's"
# The tasks asleep outside the patch switch after a scan of their stacks'
# words, without an unwind (by=stack-scan); the reader, whose stack has the
# patched function's return address, was unwound (the blocked event above
# names the function, which only the unwinder finds).
trace_events | grep -q '^klp_task_switch .* by=stack-scan$' ||
	die "no task switched by=stack-scan: every stack was unwound"
run_klpctl 0 disable "$P" --timeout 30
has_line "klpctl disable $P" "$KLPCTL_OUT" "$P: unpatching transition started"
has_text "klpctl disable $P" "$KLPCTL_OUT" "$P: disabled and removed after "
klp_patch_gone "$P" || die "$KLP_SYSFS/$P still there after klpctl disable"
unload_mod "$P"
check_log <<EOF2
$(log_held_enable_lines "$P")
$(log_disable_lines "$P")
klptest: rmmod $P
EOF2

start_test "reversing a transition: tracepoints, klpctl disable during a patching transition"
start_reader "$OLD_COUNT"
trace_reset
load_lp_nowait "$P"
expect_only_reader
run_klpctl 0 disable "$P" --timeout 30
has_line "klpctl disable $P" "$KLPCTL_OUT" "$P: reversing its patching transition"
has_text "klpctl disable $P" "$KLPCTL_OUT" "$P: disabled and removed after "
klp_sleepers_are "$OLD_COUNT" 1 || die "the reader left the function during the reversal"
unload_mod "$P"
check_trace_story "$READER_PID" <<EOF2
klp_transition_start patch=$P target=patched
klp_task_blocked pid=$READER_PID comm=cat reason=in-patched-function function=$FUNC
klp_transition_reverse patch=$P target=unpatched
klp_transition_start patch=$P target=unpatched
klp_transition_complete patch=$P target=unpatched
EOF2
release_reader "$OLD_RELEASE" "$T: released"
check_log <<EOF2
klptest: insmod $P
livepatch: enabling patch '$P'
livepatch: '$P': initializing patching transition
livepatch: '$P': starting patching transition
livepatch: '$P': reversing transition from patching to unpatching
livepatch: '$P': starting unpatching transition
livepatch: '$P': completing unpatching transition
livepatch: '$P': unpatching complete
klptest: rmmod $P
klptest: release
EOF2

start_test "forcing a transition: klpctl force refuses without --yes; tracepoints"
start_reader "$OLD_COUNT"
trace_reset
load_lp_nowait "$P"
expect_only_reader
run_klpctl 2 force "$P"
has_text "klpctl force $P" "$KLPCTL_ERR" "refusing to force the transition of '$P' without --yes"
has_text "klpctl force $P" "$KLPCTL_ERR" "klpctl force $P --yes"
expect_only_reader
run_klpctl 4 force no_such_patch --yes
run_klpctl 0 force "$P" --yes
has_line "klpctl force $P --yes" "$KLPCTL_OUT" "$P: patching transition forced"
has_text "klpctl force $P --yes" "$KLPCTL_OUT" "$P: transition complete after "
check_file "$KLP_SYSFS/$P/transition" 0
check_file "$KLP_SYSFS/$P/enabled" 1
expect_idle_progress
klp_sleepers_are "$OLD_COUNT" 1 || die "the reader left the function when the transition was forced"
check_trace_story "$READER_PID" <<EOF2
klp_transition_start patch=$P target=patched
klp_task_blocked pid=$READER_PID comm=cat reason=in-patched-function function=$FUNC
klp_transition_force patch=$P target=patched
klp_transition_complete patch=$P target=patched
EOF2
run_klpctl 1 force "$P" --yes
has_text "klpctl force $P --yes, not in transition" "$KLPCTL_ERR" "'$P' is not in transition: nothing to force"
# Forcing the patching transition does not pin the module: the unpatching
# transition checks every task again.
run_klpctl 0 disable "$P"
release_reader "$OLD_RELEASE" "$T: released"
unload_mod "$P"
check_log <<EOF2
klptest: insmod $P
livepatch: enabling patch '$P'
livepatch: '$P': initializing patching transition
livepatch: '$P': starting patching transition
livepatch: forcing remaining tasks to the patched state
livepatch: '$P': completing patching transition
livepatch: '$P': patching complete
$(log_disable_lines "$P")
klptest: release
klptest: rmmod $P
EOF2

start_test "unpatching held by a task in the new function: klpctl disable --timeout times out, then succeeds"
run_klpctl 4 disable no_such_patch --timeout 1
has_text "klpctl disable no_such_patch" "$KLPCTL_ERR" "no live patch 'no_such_patch'"
run_klpctl 2 disable "$P" --timeout nan
load_lp "$P" hold_new=1 hold_secs=$KLP_HOLD_SECS
start_reader "$NEW_COUNT"
trace_reset
run_klpctl 3 disable "$P" --timeout 1
has_line "klpctl disable $P --timeout 1" "$KLPCTL_OUT" "$P: unpatching transition started"
has_text "klpctl disable $P --timeout 1" "$KLPCTL_ERR" "timed out after 1 s: '$P' is still being disabled"
has_text "klpctl disable $P --timeout 1" "$KLPCTL_ERR" "klpctl status $P"
klp_patch_exists "$P" || die "$P gone although a task sleeps in its code"
check_file "$KLP_SYSFS/$P/enabled" 0
expect_only_reader
run_klpctl 0 status "$P"
expect_status_reader unpatching test_klp_hold_replacement
# A second klpctl disable waits for the transition that is under way.
"$KLPCTL" disable "$P" --timeout 30 > "$HOLD_OUT.klpctl" 2> "$ERR_OUT" &
waiter=$!
klp_at_exit "rm -f '$HOLD_OUT.klpctl'"
klp_wait_for 10 grep -qxF "$P: already being disabled" "$HOLD_OUT.klpctl" ||
	die "klpctl disable $P, again: no 'already being disabled' line: $(cat "$HOLD_OUT.klpctl" "$ERR_OUT")"
release_reader "$NEW_RELEASE" "$P: released"
wait "$waiter"
rc=$?
KLPCTL_OUT=$(cat "$HOLD_OUT.klpctl")
check_eq "exit code of klpctl disable $P, again ($KLPCTL_OUT $(cat "$ERR_OUT"))" 0 "$rc"
has_text "klpctl disable $P, again" "$KLPCTL_OUT" "$P: disabled and removed after "
klp_patch_gone "$P" || die "$KLP_SYSFS/$P still there after klpctl disable"
run_klpctl 4 status "$P"
check_trace_story "$READER_PID" <<EOF2
klp_transition_start patch=$P target=unpatched
klp_task_blocked pid=$READER_PID comm=cat reason=in-patched-function function=$FUNC
klp_task_switch pid=$READER_PID comm=cat target=unpatched
klp_transition_complete patch=$P target=unpatched
EOF2
unload_mod "$P"
check_log <<EOF2
klptest: insmod $P hold_new=1 hold_secs=$KLP_HOLD_SECS
$(log_enable_lines "$P")
livepatch: '$P': initializing unpatching transition
livepatch: '$P': starting unpatching transition
klptest: release
livepatch: '$P': completing unpatching transition
livepatch: '$P': unpatching complete
klptest: rmmod $P
EOF2

unload_mod "$T"
klp_pass
