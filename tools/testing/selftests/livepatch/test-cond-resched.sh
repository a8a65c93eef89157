#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Switching in cond_resched().  The kernel thread of test_klp_cond_resched
# never sleeps: it loops calling test_klp_cond_resched_caller(), which calls
# test_klp_cond_resched_value(), and cond_resched().  A round of stack checks
# never finds it off its CPU with a stack it can check, and it never returns
# to user space; this implementation lets it check its own stack and switch
# in cond_resched().  Both transitions (enabling and disabling
# test_klp_cond_resched_patch) must complete while the thread spins, with
# no fake signal and no force, the thread switching itself (tracepoint
# klp_task_switch, by=self), the function's result following the patch and
# the thread's loop counter going on.  Stock 6.1 has no such switch: its
# transition waits for the thread (SKIP, after the bounded wait).
#
# The thread is bound to the last online CPU, and this shell (so the loads
# and writes that start the transitions, and their first rounds) and the
# unbound work items (the later rounds) to CPU 0.
# A round then finds the thread running on its CPU, not switched out in
# cond_resched(), where under none and voluntary its stack could be checked:
# without switching in cond_resched() the transitions wait; with it the
# thread switches itself (by=self).
#
# Only a task woken on the thread's CPU (a per-CPU kworker, rcu_preempt)
# can make the thread yield in cond_resched() at the moment a round looks
# at it; the round then checks its stack and switches it (by=stack-check,
# or by=stack-scan).
# That proves nothing either way, so such a pair of transitions is done
# again, at most KLP_COND_TRIES times: the test passes once each direction
# has been seen switching by=self, and fails if it never is.  Without the
# feature no try can show by=self, so the retries cannot hide its absence.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

T=test_klp_cond_resched
P=test_klp_cond_resched_patch
PARAMS=/sys/module/$T/parameters
LACKS="no task switching in cond_resched()"

klp_setup
klp_require_mod "$T" "$P"
klp_mod_loaded "$T" && die "$T is already loaded"

# Whatever happens, let the thread sleep before the modules go, so that
# any implementation can finish the transitions of the clean-up.
klp_at_exit "echo 0 > '$PARAMS/spin'"

# param NAME: the value of the target's parameter NAME in REPLY.
param() {
	klp_read "$PARAMS/$1" || die "cannot read $PARAMS/$1"
}

# shellcheck disable=SC2317 # called through klp_wait_for
# value_is N: true when the thread's last result is N.
value_is() {
	klp_file_is "$PARAMS/value" "$1"
}

# shellcheck disable=SC2317 # called through klp_wait_for
# loops_above N: true when the thread has done more than N loops.
loops_above() {
	param loops
	((REPLY > $1))
}

# shellcheck disable=SC2317 # called through klp_wait_for
# settled PATCH: true when PATCH is in no transition (or gone, after an
# unpatching one).
settled() {
	klp_patch_gone "$1" || klp_no_transition "$1"
}

# TRACEFS: tracefs with the livepatch events, or "" (stock 6.1 has none).
TRACEFS=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[[ -d $d/events ]] && TRACEFS=$d && break
done
if [[ -z $TRACEFS ]] && mount -t tracefs nodev /sys/kernel/tracing 2> /dev/null; then
	klp_at_exit umount /sys/kernel/tracing
	TRACEFS=/sys/kernel/tracing
fi
if [[ -n $TRACEFS && -d $TRACEFS/events/livepatch/klp_task_switch ]]; then
	klp_at_exit "echo 0 > '$TRACEFS/events/livepatch/klp_task_switch/enable'"
	echo 1 > "$TRACEFS/events/livepatch/klp_task_switch/enable" ||
		die "cannot enable the klp_task_switch tracepoint"
else
	TRACEFS=""
fi

# switches_of PID TARGET: how the trace buffer says PID switched to TARGET
# (patched, unpatched): one "self", "stack-check" or "stack-scan" per
# switch, in order.
switches_of() {
	sed -nE "s/.* klp_task_switch: pid=$1 comm=[^ ]* target=$2 by=([a-z-]+)\$/\\1/p" \
		"$TRACEFS/trace" | tr '\n' ' '
}

# transition PATCH TARGET WHAT: wait (bounded) for PATCH's transition to
# TARGET while the thread spins; then check that it kept looping and that
# nobody was signalled or forced.  HOW is how the thread switched: "self",
# "stack-check" or "stack-scan" (a round's check of its stack), or
# "untraced" (no livepatch tracepoints: stock 6.1).
transition() {
	local patch=$1 target=$2 what=$3
	if ! klp_wait_for "$KLP_WAIT_SECS" settled "$patch"; then
		param loops
		klp_info "after ${KLP_WAIT_SECS}s the thread (pid $PID) has done $REPLY loops and $patch is still in transition"
		klp_lacks "$LACKS: the $what transition waited ${KLP_WAIT_SECS}s for a kernel thread that never sleeps"
	fi
	param loops
	klp_wait_for "$KLP_WAIT_SECS" loops_above "$REPLY" ||
		die "the thread stopped looping after the $what transition"
	if klp_log_since_start | grep -E '^livepatch: (signaling|forcing) remaining tasks'; then
		die "the $what transition signalled or forced the remaining tasks"
	fi
	HOW=untraced
	[[ -n $TRACEFS ]] || return 0
	HOW=$(switches_of "$PID" "$target")
	case $HOW in
	"self " | "stack-check " | "stack-scan ") HOW=${HOW% } ;;
	*) die "how the thread switched to $target: expected one switch, by=self (or by=stack-check or by=stack-scan if caught yielding), got '$HOW'" ;;
	esac
}

# clear_trace: empty the trace buffer (before each transition).
clear_trace() {
	[[ -z $TRACEFS ]] || : > "$TRACEFS/trace" || die "cannot clear $TRACEFS/trace"
}

# note_how TARGET: count a by=self switch to TARGET in SELF_<TARGET>, or
# say why this try proves nothing.
note_how() {
	case $HOW in
	self) eval "SELF_$1=1" ;;
	stack-check | stack-scan) klp_info "try $TRY: a round caught the thread yielding to a task woken on CPU $LAST_CPU and switched it to $1 (by=$HOW): inconclusive" ;;
	esac
}

klp_read /sys/devices/system/cpu/online || die "cannot read the online CPUs"
LAST_CPU=${REPLY##*[-,]}
((LAST_CPU > 0)) || skip "needs two online CPUs (online: $REPLY)"
[[ ${REPLY%%[-,]*} == 0 ]] || skip "needs CPU 0 online (online: $REPLY)"
taskset -pc 0 $$ > /dev/null || die "cannot bind this shell to CPU 0 (taskset)"
# Unbound work items (the retries of the transition, the re-pointing of
# cond_resched()) on CPU 0 only: one woken on the thread's CPU would
# preempt the thread there, and under full preemption a round could then
# check its stack (reliable with ORC, interrupt frame and all) and switch
# it, whether or not cond_resched() lets it switch itself.
WQMASK=/sys/devices/virtual/workqueue/cpumask
klp_read "$WQMASK" || die "cannot read $WQMASK"
klp_at_exit "echo $REPLY > '$WQMASK'"
echo 1 > "$WQMASK" || die "cannot keep unbound work items on CPU 0 ($WQMASK)"

start_test "a kernel thread that never sleeps switches in cond_resched()"
load_mod "$T" cpu="$LAST_CPU"
param pid
PID=$REPLY
klp_wait_for "$KLP_WAIT_SECS" loops_above 0 || die "the thread of $T does not loop"
klp_wait_for "$KLP_WAIT_SECS" value_is 1 || die "the thread's result is not 1 before the patch"

KLP_COND_TRIES=${KLP_COND_TRIES:-5}
SELF_patched=0
SELF_unpatched=0
for ((TRY = 1; TRY <= KLP_COND_TRIES; TRY++)); do
	clear_trace
	load_lp_nowait "$P"
	transition "$P" patched patching
	note_how patched
	klp_wait_for "$KLP_WAIT_SECS" value_is 2 ||
		die "the thread's result is $(param value; echo "$REPLY"), not 2, with the patch"
	check_eq "patch_state of the thread after the transition" -1 "$(klp_patch_state "$PID")"

	clear_trace
	disable_lp_nowait "$P"
	transition "$P" unpatched unpatching
	note_how unpatched
	wait_patch_gone "$P"
	klp_wait_for "$KLP_WAIT_SECS" value_is 1 ||
		die "the thread's result is $(param value; echo "$REPLY"), not 1, without the patch"
	unload_lp "$P"
	[[ $HOW != untraced ]] ||
		klp_lacks_part "$LACKS: no livepatch tracepoints to tell how the thread switched"
	((SELF_patched && SELF_unpatched)) && break
	[[ $HOW == untraced ]] && break
done
if [[ $HOW != untraced ]]; then
	check_eq "thread switched itself to patched in one of $KLP_COND_TRIES tries" 1 "$SELF_patched"
	check_eq "thread switched itself to unpatched in one of $KLP_COND_TRIES tries" 1 "$SELF_unpatched"
fi
param loops
klp_info "the thread (pid $PID) switched itself in cond_resched() both ways while spinning ($TRY tries): $REPLY loops so far"
unload_mod "$T"
klp_pass
