#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Calls without the handler (kernel/livepatch/patch.c): outside a
# transition that patches it, a patched function is reached by a jump at
# its call site, or through the site's stub, not through
# klp_ftrace_handler().  The trace event
# livepatch:klp_handler counts the handler's calls exactly: each /proc/cmdline read calls
# cmdline_proc_show(), which test_klp_livepatch replaces, once, and the
# counts are taken around the reads only (insmod and rmmod read
# /proc/cmdline themselves).
#  - settled patch: 0 handler calls for 50 reads of the patched text;
#  - livepatch.direct=0 at run time: 50 for 50; back to 1: 0 again;
#  - a function tracer or a kprobe on the patched function: ftrace calls
#    the site through its list of ops, so the handler serves every call
#    (and the tracer or the kprobe sees each one) for as long as they stay;
#  - the patch disabled: the original text, and no handler call.
# Each step also reads the function's line of its object's "calls" file,
# which says how its calls are served now ("direct": the site jumps to the replacement; "direct
# stub": the site calls its stub, as after a tracer or a kprobe left it,
# until the next patch operation; "handler <why>"; "superseded"), and two
# more steps check the reasons that need two patches: a newer patch on top
# of the function ("superseded", the newer one "direct"), and a transition
# held open by a task asleep in the function it patches (that function's
# calls take the handler, "handler transition", until the transition
# completes; a function the transition does not patch stays "direct"), and
# an unpatching transition held open by a task asleep in the new function
# of a patch that also replaces cmdline_proc_show() (its calls take the
# handler, 50 of 50, until the transition completes).
# Stock 6.1 always calls its handler: SKIP there.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P=test_klp_livepatch
P2=test_klp_livepatch2
T=test_klp_target
H=test_klp_holdpatch
HC=test_klp_holdcmd
OLD=cmdline_proc_show
CALLS=$KLP_SYSFS/$P/vmlinux/calls
CALL=$CALLS:$OLD,1
CALL2=$KLP_SYSFS/$P2/vmlinux/calls:$OLD,1
CALL_H=$KLP_SYSFS/$H/$T/calls:test_klp_target_hold,1
CALL_HC=$KLP_SYSFS/$HC/vmlinux/calls:$OLD,1
HOLD_OUT=""
KP_OLD=klp_test_old
DIRECT=/sys/module/livepatch/parameters/direct
N=50

klp_setup
klp_require_mod "$P" "$P2" "$T" "$H" "$HC"
[[ -e $DIRECT ]] || klp_lacks "no calls without the handler ($DIRECT)"
klp_read "$DIRECT" || die "cannot read $DIRECT"
[[ $REPLY == Y ]] || die "$DIRECT reads '$REPLY', not Y"

klp_tracefs || skip "no tracefs with enabled_functions (CONFIG_DYNAMIC_FTRACE)"
TRACEFS=$KLP_TRACEFS
[[ -w $TRACEFS/kprobe_events ]] || skip "no kprobe_events (CONFIG_KPROBE_EVENTS)"
grep -qw function "$TRACEFS/available_tracers" ||
	skip "no function tracer (CONFIG_FUNCTION_TRACER)"
EVENT=$TRACEFS/events/livepatch/klp_handler
[[ -d $EVENT ]] || die "no trace event livepatch:klp_handler"
klp_patch_gone "$P" || die "patch $P is already loaded"
klp_mod_loaded "$T" && die "$T is already loaded"

ORIG=$(cat /proc/cmdline)
PATCHED="$P: cmdline replaced"

# handler_calls N TEXT [KPROBE]: how many handler calls (klp_handler
# events of $OLD) N reads of /proc/cmdline, each TEXT, made, into REPLY;
# with KPROBE, that kprobe's hits meanwhile into HITS2.
handler_calls() {
	local before2=0
	[[ -n ${3:-} ]] && before2=$(klp_kprobe_hits "$TRACEFS" "$3")
	handler_calls_either "$1" "$2"
	[[ -n ${3:-} ]] && HITS2=$(($(klp_kprobe_hits "$TRACEFS" "$3") - before2))
	return 0
}

# handler_calls_either N TEXT...: the same, where each read may give any
# of TEXT...
handler_calls_either() {
	local n=$1 i t
	shift
	echo > "$TRACEFS/trace"
	for ((i = 0; i < n; i++)); do
		klp_read /proc/cmdline || die "cannot read /proc/cmdline"
		for t; do
			[[ $REPLY == "$t" ]] && continue 2
		done
		die "/proc/cmdline: expected $(printf "'%s' " "$@")(one of them), got '$REPLY'"
	done
	REPLY=$(grep -c " klp_handler: $OLD -> " "$TRACEFS/trace")
}

# shellcheck disable=SC2317 # run by klp_cleanup
tracer_off() {
	echo nop > "$TRACEFS/current_tracer"
	echo > "$TRACEFS/set_ftrace_filter"
	echo > "$TRACEFS/trace"
}

klp_at_exit "echo 1 > '$DIRECT'"
HOLD_OUT=$(mktemp)
klp_at_exit "rm -f '$HOLD_OUT'"
# Whatever happens, wake the sleeper before the modules are removed.
klp_at_exit "[[ ! -e /proc/$T/release ]] || echo 1 > /proc/$T/release"
klp_at_exit "[[ ! -e /sys/module/$HC/parameters/release ]] || echo 1 > /sys/module/$HC/parameters/release"
klp_at_exit tracer_off
klp_at_exit "echo 0 > '$EVENT/enable'"
klp_at_exit klp_kprobe_off "$TRACEFS" "$KP_OLD"
echo 1 > "$TRACEFS/tracing_on"
echo 1 > "$EVENT/enable" || die "cannot enable livepatch:klp_handler"

# ---------------------------------------------------------------------------
start_test "a settled patch is called without the handler"
load_lp "$P"
check_mode "$CALLS" 444
check_file "$CALLS" "$(klp_calls_line direct "$OLD,1")"
[[ -e $KLP_SYSFS/$P/vmlinux/$OLD,1/call ]] && die "a call file per function is back"
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads, patch settled" 0 "$REPLY"
echo 0 > "$DIRECT" || die "cannot write 0 to $DIRECT"
check_file "$DIRECT" N
check_call "$CALL" "handler off"
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads, livepatch.direct=0" "$N" "$REPLY"
echo 1 > "$DIRECT" || die "cannot write 1 to $DIRECT"
check_call "$CALL" direct
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads, livepatch.direct=1 again" 0 "$REPLY"
check_write "$CALLS" direct EACCES

# ---------------------------------------------------------------------------
start_test "a tracer on the patched function: the handler serves every call"
echo "$OLD" > "$TRACEFS/set_ftrace_filter" || die "cannot filter $OLD"
echo function > "$TRACEFS/current_tracer" || die "cannot start the function tracer"
check_call "$CALL" "handler shared"
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads, function tracer on $OLD" "$N" "$REPLY"
check_eq "calls of $OLD traced" "$N" "$(grep -cE ": $OLD <-" "$TRACEFS/trace")"
tracer_off
check_call "$CALL" "direct stub"
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads, tracer gone" 0 "$REPLY"

# ---------------------------------------------------------------------------
start_test "a kprobe on the patched function: the handler serves every call"
klp_kprobe_on "$TRACEFS" "$KP_OLD" "$OLD"
check_call "$CALL" "handler shared"
handler_calls "$N" "$PATCHED" "$KP_OLD"
check_eq "handler calls and kprobe hits for $N reads, kprobe on $OLD" "$N $N" "$REPLY $HITS2"
klp_kprobe_off "$TRACEFS" "$KP_OLD"
check_call "$CALL" "direct stub"
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads, kprobe gone" 0 "$REPLY"
# livepatch.direct written (even with its value) puts every site right.
echo 1 > "$DIRECT" || die "cannot write 1 to $DIRECT"
check_call "$CALL" direct

# ---------------------------------------------------------------------------
start_test "a newer patch on top: it is called directly, the older one is superseded"
load_lp "$P2"
check_call "$CALL" superseded
check_call "$CALL2" direct
handler_calls "$N" "$P2: cmdline replaced"
check_eq "handler calls for $N reads, $P2 on top of $P" 0 "$REPLY"
disable_lp "$P2"
unload_mod "$P2"
check_call "$CALL" direct

# ---------------------------------------------------------------------------
start_test "a transition held open: its functions take the handler until it completes, others do not"
load_mod "$T"
klp_start_reader "/proc/$T/hold" "$HOLD_OUT" "/proc/$T/sleepers"
load_lp_nowait "$H"
klp_in_transition "$H" || die "the transition of $H ended while a task slept in the old function"
check_call "$CALL_H" "handler transition"
check_call "$CALL" direct
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads of a function that the transition of $H does not patch" 0 "$REPLY"
echo 1 > "/proc/$T/release"
wait "$READER" || die "the reader of /proc/$T/hold failed"
check_eq "the held read" "$T: released" "$(< "$HOLD_OUT")"
wait_transition "$H"
check_call "$CALL_H" direct
check_call "$CALL" direct
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads after the transition" 0 "$REPLY"
disable_lp "$H"
unload_mod "$H"

# ---------------------------------------------------------------------------
start_test "an unpatching transition held open: every function of the patch takes the handler"
load_lp "$HC" hold_new=1 hold_secs="$KLP_HOLD_SECS"
check_call "$CALL_HC" direct
handler_calls "$N" "$HC: cmdline replaced"
check_eq "handler calls for $N reads, $HC settled on top of $P" 0 "$REPLY"
klp_start_reader "/proc/$T/hold" "$HOLD_OUT" "/sys/module/$HC/parameters/sleepers"
disable_lp_nowait "$HC"
klp_in_transition "$HC" || die "the unpatching transition of $HC ended while a task slept in its function"
check_call "$CALL_HC" "handler transition"
# A reader runs $HC's text or $P's, as its state says: the count is exact.
handler_calls_either "$N" "$HC: cmdline replaced" "$PATCHED"
check_eq "handler calls for $N reads during the unpatching transition of $HC" "$N" "$REPLY"
echo 1 > "/sys/module/$HC/parameters/release"
wait "$READER" || die "the reader of /proc/$T/hold failed"
check_eq "the held read" "$HC: released" "$(< "$HOLD_OUT")"
wait_patch_gone "$HC"
unload_mod "$HC"
check_call "$CALL" direct
handler_calls "$N" "$PATCHED"
check_eq "handler calls for $N reads after the unpatching transition of $HC" 0 "$REPLY"
unload_mod "$T"

# ---------------------------------------------------------------------------
start_test "the patch disabled: original code, no handler call"
disable_lp "$P"
handler_calls "$N" "$ORIG"
check_eq "handler calls for $N reads, patch disabled" 0 "$REPLY"
unload_mod "$P"
klp_pass
