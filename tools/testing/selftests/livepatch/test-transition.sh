#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The consistency model.  Readers of /proc/test_klp_target/hold sleep inside
# test_klp_target_hold() (the old function) or, when the patch is loaded with
# hold_new=1, inside its replacement (the new function).  Such a sleeper keeps
# a transition open until it leaves; a transition can be reversed by writing
# the opposite value to enabled, and completed by writing 1 to force.  A
# reader of /proc/test_klp_target/nudge sleeps interruptibly and
# re-evaluates its signals whenever it wakes; the nudge of tasks that block
# a transition for 15 s must still get it out of the old function.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

T=test_klp_target
P=test_klp_holdpatch
F=test_klp_force
N=test_klp_nudge
PROC=/proc/$T
HOLD_OUT=""
READER=""

klp_setup
klp_require_mod "$T" "$P" "$F" "$N"
klp_mod_loaded "$T" && die "$T is already loaded"

HOLD_OUT=$(mktemp)
klp_at_exit "rm -f '$HOLD_OUT'"
# Whatever happens, wake all sleepers before the modules are removed.
klp_at_exit "echo 1 > '$PROC/release'"
klp_at_exit "echo 1 > /sys/module/$P/parameters/release"
klp_at_exit "echo 1 > /sys/module/$F/parameters/release"

# start_reader COUNTFILE: a reader of the hold file, sleeping in the
# function whose sleeper count COUNTFILE shows (klp_start_reader).
start_reader() {
	klp_start_reader "$PROC/hold" "$HOLD_OUT" "$1"
}

# release_reader RELEASEFILE COUNTFILE EXPECTED: wake the reader through
# RELEASEFILE and check that it read EXPECTED.
release_reader() {
	klp_log "release"
	echo 1 > "$1"
	wait "$READER" || die "the reader failed"
	READER=""
	check_file "$HOLD_OUT" "$3"
	check_file "$2" 0
}

# shellcheck disable=SC2317 # called through klp_wait_for
# shell_patched: true once this shell has been switched to the patched state.
shell_patched() {
	klp_file_is "/proc/$$/patch_state" 1
}

# expect_held PATCH STATE COUNTFILE: PATCH's transition stays open for
# 1.5 s while the reader sleeps (this implementation re-checks blocked tasks
# several times in that span, stock 6.1 once), and the reader stays in
# patch state STATE.
expect_held() {
	local i
	for i in 1 2 3; do
		klp_sleep 0.5
		klp_in_transition "$1" || die "transition of $1 ended while a task slept in the function (check $i of 3, 0.5 s apart)"
	done
	klp_sleepers_are "$3" 1 || die "the reader left the function early"
	check_eq "patch_state of the sleeping reader" "$2" "$(klp_patch_state "$READER")"
}

# shellcheck disable=SC2317 # called through klp_wait_for
# bystanders_asleep: true when every task in BYSTANDERS is sleeping (state
# S in /proc/PID/stat).
bystanders_asleep() {
	local pid
	for pid in "${BYSTANDERS[@]}"; do
		klp_read "/proc/$pid/stat" || return 1
		[[ ${REPLY#*) } == "S "* ]] || return 1
	done
}

# count_switched_bystanders: set SWITCHED to the number of tasks in
# BYSTANDERS that are in patch state 1.
count_switched_bystanders() {
	local pid
	SWITCHED=0
	for pid in "${BYSTANDERS[@]}"; do
		klp_file_is "/proc/$pid/patch_state" 1 && SWITCHED=$((SWITCHED + 1))
	done
}

# log_held_cycle: the log of loading $P while a reader holds its patching
# transition, releasing the reader, then disabling and removing $P.
log_held_cycle() {
	log_held_enable_lines "$P"
	echo "klptest: disable $P"
	log_disable_lines "$P"
	echo "klptest: rmmod $P"
}

NR_BYSTANDERS=300
SWITCHED=0
OLD_COUNT=$PROC/sleepers
OLD_RELEASE=$PROC/release
load_mod "$T" hold_secs=$KLP_HOLD_SECS

start_test "a task sleeping in the old function holds the patching transition"
start_reader "$OLD_COUNT"
load_lp_nowait "$P"
expect_held "$P" 0 "$OLD_COUNT"
klp_wait_for 10 shell_patched || die "this shell was not switched to the patched state"
# A new task inherits the patched state from this shell: it gets the new code
# at once, while the sleeping reader still runs the old one.
check_eq "hold read by a patched task" "$P: not held" "$(timeout 20 cat "$PROC/hold")"
klp_in_transition "$P" || die "transition of $P ended while the reader slept"
release_reader "$OLD_RELEASE" "$OLD_COUNT" "$T: released"
wait_transition "$P"
check_eq "patch_state of this shell after the transition" -1 "$(klp_patch_state $$)"
check_eq "hold after the transition" "$P: not held" "$(timeout 20 cat "$PROC/hold")"
disable_lp "$P"
unload_mod "$P"
check_log <<EOF
$(log_held_cycle)
EOF

start_test "every task is checked: $NR_BYSTANDERS tasks asleep elsewhere switch while a reader holds the transition"
# Enough tasks for this implementation to share the rounds of stack checks
# among the CPUs (KLP_WALK_SHARE_MIN in kernel/livepatch/transition.c; with
# one CPU online the test still holds, without sharing).  The tasks are all
# asleep before the patch is loaded, so the first round switches every one
# of them.  Without a reader that round completes the transition, and the
# kernel warns if a task it missed is still pending then (a splat fails
# the test); with one, a task that no round checks keeps patch state 0 for
# as long as the reader holds the transition.
klp_sleep 0
BYSTANDERS=()
# shellcheck disable=SC2016 # expanded when the test exits
klp_at_exit 'kill "${BYSTANDERS[@]}" 2> /dev/null'
for ((i = 0; i < NR_BYSTANDERS; i++)); do
	(klp_sleep 600) &
	BYSTANDERS+=($!)
done
klp_wait_for 20 bystanders_asleep || die "the $NR_BYSTANDERS tasks did not all fall asleep"
load_lp "$P"
disable_lp "$P"
unload_mod "$P"
start_reader "$OLD_COUNT"
load_lp_nowait "$P"
expect_held "$P" 0 "$OLD_COUNT"
count_switched_bystanders
check_eq "tasks asleep elsewhere in the patched state while the reader holds the transition" "$NR_BYSTANDERS" "$SWITCHED"
klp_in_transition "$P" || die "transition of $P ended while the reader slept"
release_reader "$OLD_RELEASE" "$OLD_COUNT" "$T: released"
wait_transition "$P"
kill "${BYSTANDERS[@]}"
wait "${BYSTANDERS[@]}" 2> /dev/null
BYSTANDERS=()
disable_lp "$P"
unload_mod "$P"
check_log <<EOF
klptest: insmod $P
$(log_enable_lines "$P")
klptest: disable $P
$(log_disable_lines "$P")
klptest: rmmod $P
$(log_held_cycle)
EOF

start_test "writing 0 to enabled during the patching transition reverses it"
start_reader "$OLD_COUNT"
load_lp_nowait "$P"
expect_held "$P" 0 "$OLD_COUNT"
disable_lp "$P"
klp_sleepers_are "$OLD_COUNT" 1 || die "the reader left the function during the reversal"
unload_mod "$P"
release_reader "$OLD_RELEASE" "$OLD_COUNT" "$T: released"
check_log <<EOF
klptest: insmod $P
livepatch: enabling patch '$P'
livepatch: '$P': initializing patching transition
livepatch: '$P': starting patching transition
klptest: disable $P
livepatch: '$P': reversing transition from patching to unpatching
livepatch: '$P': starting unpatching transition
livepatch: '$P': completing unpatching transition
livepatch: '$P': unpatching complete
klptest: rmmod $P
klptest: release
EOF

start_test "a task sleeping in the new function holds the unpatching transition; writing 1 to enabled reverses it"
NEW_COUNT=/sys/module/$P/parameters/sleepers
NEW_RELEASE=/sys/module/$P/parameters/release
load_lp "$P" hold_new=1 hold_secs=$KLP_HOLD_SECS
start_reader "$NEW_COUNT"
disable_lp_nowait "$P"
expect_held "$P" 1 "$NEW_COUNT"
check_file "$KLP_SYSFS/$P/enabled" 0
klp_log "enable $P"
echo 1 > "$KLP_SYSFS/$P/enabled" || die "writing 1 to $KLP_SYSFS/$P/enabled failed"
wait_transition "$P"
check_file "$KLP_SYSFS/$P/enabled" 1
klp_sleepers_are "$NEW_COUNT" 1 || die "the reader left the function during the reversal"
release_reader "$NEW_RELEASE" "$NEW_COUNT" "$P: released"
disable_lp "$P"
unload_mod "$P"
check_log <<EOF
klptest: insmod $P hold_new=1 hold_secs=$KLP_HOLD_SECS
$(log_enable_lines "$P")
klptest: disable $P
livepatch: '$P': initializing unpatching transition
livepatch: '$P': starting unpatching transition
klptest: enable $P
livepatch: '$P': reversing transition from unpatching to patching
livepatch: '$P': starting patching transition
livepatch: '$P': completing patching transition
livepatch: '$P': patching complete
klptest: release
klptest: disable $P
$(log_disable_lines "$P")
klptest: rmmod $P
EOF

start_test "a nudged reader leaves the old function although it re-evaluates its signals"
# test_klp_target_nudge() calls sigprocmask() each time it wakes, which
# recomputes TIF_SIGPENDING from the signals queued: a fake signal made of
# that flag alone would wake the reader and be forgotten, and the reader
# would sleep on in the old function.  The nudge that a transition sends
# to the tasks still blocking it after 15 s sets TIF_NOTIFY_SIGNAL (6.1
# and this implementation), which stays until the task returns to user
# space: the read ends, and the task switches on its way out.
klp_start_reader "$PROC/nudge" "$HOLD_OUT" "$OLD_COUNT"
load_lp_nowait "$N"
expect_held "$N" 0 "$OLD_COUNT"
klp_wait_for 60 klp_no_transition "$N" ||
	die "transition of $N still open after 60 s: the nudge did not get the reader out of the old function"
wait "$READER" || die "the reader failed"
READER=""
check_file "$HOLD_OUT" "$T: nudge interrupted"
check_file "$OLD_COUNT" 0
has_line "kernel log of the transition" "$(klp_log_since_start)" "livepatch: signaling remaining tasks"
check_eq "nudge read after the transition" "$N: patched nudge" "$(timeout 20 cat "$PROC/nudge")"
disable_lp "$N"
unload_mod "$N"
check_log <<EOF
klptest: insmod $N
$(log_enable_lines "$N")
klptest: disable $N
$(log_disable_lines "$N")
klptest: rmmod $N
EOF

start_test "writing 1 to force completes a patching transition"
start_reader "$OLD_COUNT"
load_lp_nowait "$P"
expect_held "$P" 0 "$OLD_COUNT"
klp_log "force $P"
echo 1 > "$KLP_SYSFS/$P/force" || die "writing 1 to $KLP_SYSFS/$P/force failed"
wait_transition "$P"
check_file "$KLP_SYSFS/$P/enabled" 1
check_eq "patch_state of the reader after the forced transition" -1 "$(klp_patch_state "$READER")"
klp_sleepers_are "$OLD_COUNT" 1 || die "the reader left the function when the transition was forced"
check_eq "hold after the forced transition" "$P: not held" "$(timeout 20 cat "$PROC/hold")"
disable_lp "$P"
release_reader "$OLD_RELEASE" "$OLD_COUNT" "$T: released"
# Forcing the patching transition does not pin the patch module: after a
# normal unpatching transition, no task can be running its code.
unload_mod "$P"
check_log <<EOF
klptest: insmod $P
livepatch: enabling patch '$P'
livepatch: '$P': initializing patching transition
livepatch: '$P': starting patching transition
klptest: force $P
livepatch: forcing remaining tasks to the patched state
livepatch: '$P': completing patching transition
livepatch: '$P': patching complete
klptest: disable $P
$(log_disable_lines "$P")
klptest: release
klptest: rmmod $P
EOF

start_test "writing 1 to force completes an unpatching transition; the module stays"
if klp_mod_loaded "$F"; then
	skip "$F is still loaded from an earlier forced run (it can never be removed)"
fi
NEW_COUNT=/sys/module/$F/parameters/sleepers
NEW_RELEASE=/sys/module/$F/parameters/release
load_lp "$F" hold_new=1 hold_secs=$KLP_HOLD_SECS
start_reader "$NEW_COUNT"
disable_lp_nowait "$F"
expect_held "$F" 1 "$NEW_COUNT"
klp_log "force $F"
echo 1 > "$KLP_SYSFS/$F/force" || die "writing 1 to $KLP_SYSFS/$F/force failed"
wait_patch_gone "$F"
klp_sleepers_are "$NEW_COUNT" 1 || die "the reader left the function when the transition was forced"
# The reader still runs the module's code, so the module must stay.
klp_log "rmmod $F (must fail)"
if rmmod "$F" 2> /dev/null; then
	die "rmmod $F succeeded after its unpatching transition was forced"
fi
klp_mod_loaded "$F" || die "$F gone after a failed rmmod"
release_reader "$NEW_RELEASE" "$NEW_COUNT" "$F: released"
klp_log "rmmod $F (must fail)"
if rmmod "$F" 2> /dev/null; then
	die "rmmod $F succeeded after its unpatching transition was forced"
fi
klp_untrack "$F"
# The old function is back: a new reader sleeps in it again.
start_reader "$OLD_COUNT"
release_reader "$OLD_RELEASE" "$OLD_COUNT" "$T: released"
check_log <<EOF
klptest: insmod $F hold_new=1 hold_secs=$KLP_HOLD_SECS
$(log_enable_lines "$F")
klptest: disable $F
livepatch: '$F': initializing unpatching transition
livepatch: '$F': starting unpatching transition
klptest: force $F
livepatch: forcing remaining tasks to the patched state
livepatch: '$F': completing unpatching transition
livepatch: '$F': unpatching complete
klptest: rmmod $F (must fail)
klptest: release
klptest: rmmod $F (must fail)
klptest: release
EOF

unload_mod "$T"
klp_pass
