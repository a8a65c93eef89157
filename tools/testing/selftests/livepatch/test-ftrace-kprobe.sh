#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Other ftrace users on a livepatched function (test_klp_livepatch replaces
# cmdline_proc_show() with test_klp_livepatch_cmdline()):
#  - the function tracer (tracefs set_ftrace_filter + current_tracer
#    function) records every call of the old function, and of the new one,
#    while /proc/cmdline shows the patched text; also when the patch is
#    enabled and disabled under the running tracer;
#  - a kprobe event on the old function ("p:<name> cmdline_proc_show") counts
#    every call in kprobe_profile while the new code runs, whether it was
#    set before or after the patch, and one on the new function as well;
#  - sysctl kernel.ftrace_enabled=0 is refused with EBUSY while a patch is
#    enabled, and a patch cannot be enabled (EBUSY) while ftrace is off.
# Each /proc/cmdline read below calls cmdline_proc_show() exactly once, so
# the counts are exact; they are taken around the reads only, because
# insmod and rmmod (libkmod) read /proc/cmdline themselves.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P=test_klp_livepatch
OLD=cmdline_proc_show
NEW=test_klp_livepatch_cmdline
KP_OLD=klp_test_old
KP_NEW=klp_test_new
FTRACE_ENABLED=/proc/sys/kernel/ftrace_enabled

klp_setup
klp_require_mod "$P"

TRACEFS=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	if [[ -w $d/current_tracer ]]; then
		TRACEFS=$d
		break
	fi
done
if [[ -z $TRACEFS ]] && mount -t tracefs nodev /sys/kernel/tracing 2> /dev/null; then
	klp_at_exit umount /sys/kernel/tracing
	TRACEFS=/sys/kernel/tracing
fi
[[ -w $TRACEFS/current_tracer ]] || skip "no tracefs"
grep -qw function "$TRACEFS/available_tracers" ||
	skip "no function tracer (CONFIG_FUNCTION_TRACER)"
[[ -w $TRACEFS/kprobe_events ]] || skip "no kprobe_events (CONFIG_KPROBE_EVENTS)"
[[ -w $FTRACE_ENABLED ]] || skip "no $FTRACE_ENABLED"
check_file "$TRACEFS/current_tracer" nop
check_file "$FTRACE_ENABLED" 1
klp_patch_gone "$P" || die "patch $P is already loaded"

ORIG=$(cat /proc/cmdline)
PATCHED="$P: cmdline replaced"

# trace_reset: empty the trace buffer.
trace_reset() {
	echo > "$TRACEFS/trace"
}

# tracer_off: (also at exit) stop the function tracer, empty its filter.
tracer_off() {
	echo nop > "$TRACEFS/current_tracer"
	echo > "$TRACEFS/set_ftrace_filter"
	trace_reset
}

# tracer_on FUNC...: trace exactly FUNC... with the function tracer.
tracer_on() {
	local f
	echo > "$TRACEFS/set_ftrace_filter"
	for f in "$@"; do
		echo "$f" >> "$TRACEFS/set_ftrace_filter" ||
			die "cannot add $f to set_ftrace_filter"
	done
	# (module functions read "<name> [<module>]")
	check_eq "set_ftrace_filter" "$(printf '%s\n' "$@" | sort)" \
		"$(sed 's/ \[.*\]$//' "$TRACEFS/set_ftrace_filter" | sort)"
	echo 1 > "$TRACEFS/tracing_on"
	echo function > "$TRACEFS/current_tracer" || die "cannot start the function tracer"
	trace_reset
}

# check_traced FUNC N: the trace buffer holds N calls of FUNC.
check_traced() {
	local got
	got=$(grep -cE ": $1 <-" "$TRACEFS/trace")
	if [[ $got != "$2" ]]; then
		cat "$TRACEFS/trace" >&2
		die "calls of $1 in the trace: expected $2, got $got"
	fi
}

# read_cmdline N TEXT: read /proc/cmdline N times, expecting TEXT each time.
read_cmdline() {
	local i
	for ((i = 0; i < $1; i++)); do
		check_file /proc/cmdline "$2"
	done
}

# kprobe_add NAME FUNC, kprobe_del NAME (also at exit), kprobe_hits NAME:
# the kprobe helpers of functions.sh on this tracefs.
kprobe_add() { klp_kprobe_on "$TRACEFS" "$@"; }
kprobe_del() { klp_kprobe_off "$TRACEFS" "$@"; }
kprobe_hits() { klp_kprobe_hits "$TRACEFS" "$@"; }

# check_hits NAME N: kprobe_profile counts N hits of NAME.
check_hits() {
	check_eq "hits of kprobe $1" "$2" "$(kprobe_hits "$1")"
}

# check_probed NAME N TEXT: N reads of /proc/cmdline, each giving TEXT, add
# exactly N hits to kprobe NAME.
check_probed() {
	local before
	before=$(kprobe_hits "$1")
	read_cmdline "$2" "$3"
	check_hits "$1" $((before + $2))
}

# shellcheck disable=SC2317 # run by klp_cleanup
ftrace_on() {
	echo 1 > "$FTRACE_ENABLED"
}

klp_at_exit tracer_off
klp_at_exit kprobe_del "$KP_OLD"
klp_at_exit kprobe_del "$KP_NEW"
klp_at_exit ftrace_on

# ---------------------------------------------------------------------------
start_test "function tracer running while the patch is enabled and disabled"
tracer_on "$OLD"
read_cmdline 1 "$ORIG"
check_traced "$OLD" 1
load_lp "$P"
trace_reset
read_cmdline 2 "$PATCHED"
check_traced "$OLD" 2
disable_lp "$P"
trace_reset
read_cmdline 1 "$ORIG"
check_traced "$OLD" 1
tracer_off
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

# ---------------------------------------------------------------------------
start_test "function tracer on the old and the new function of a patch"
load_lp "$P"
tracer_on "$OLD" "$NEW"
read_cmdline 3 "$PATCHED"
check_traced "$OLD" 3
check_traced "$NEW" 3
tracer_off
read_cmdline 1 "$PATCHED"
disable_lp "$P"
read_cmdline 1 "$ORIG"
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

# ---------------------------------------------------------------------------
start_test "kprobe on the old function, set before the patch"
kprobe_add "$KP_OLD" "$OLD"
check_hits "$KP_OLD" 0
check_probed "$KP_OLD" 1 "$ORIG"
load_lp "$P"
check_probed "$KP_OLD" 2 "$PATCHED"
disable_lp "$P"
check_probed "$KP_OLD" 1 "$ORIG"
kprobe_del "$KP_OLD"
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

# ---------------------------------------------------------------------------
start_test "kprobes on the old and the new function of an enabled patch"
load_lp "$P"
kprobe_add "$KP_OLD" "$OLD"
kprobe_add "$KP_NEW" "$NEW"
check_hits "$KP_OLD" 0
check_hits "$KP_NEW" 0
read_cmdline 2 "$PATCHED"
check_hits "$KP_OLD" 2
check_hits "$KP_NEW" 2
kprobe_del "$KP_NEW"
kprobe_del "$KP_OLD"
read_cmdline 1 "$PATCHED"
disable_lp "$P"
read_cmdline 1 "$ORIG"
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

# ---------------------------------------------------------------------------
start_test "ftrace_enabled=0 is refused while a patch is enabled"
load_lp "$P"
check_write "$FTRACE_ENABLED" 0 EBUSY
check_file "$FTRACE_ENABLED" 1
read_cmdline 1 "$PATCHED"
disable_lp "$P"
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

# ---------------------------------------------------------------------------
start_test "a patch cannot be enabled while ftrace_enabled=0"
check_write "$FTRACE_ENABLED" 0 OK
check_file "$FTRACE_ENABLED" 0
load_mod_expect_fail "$P" EBUSY
read_cmdline 1 "$ORIG"
check_write "$FTRACE_ENABLED" 1 OK
check_file "$FTRACE_ENABLED" 1
load_lp "$P"
read_cmdline 1 "$PATCHED"
disable_lp "$P"
read_cmdline 1 "$ORIG"
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	livepatch: enabling patch '$P'
	livepatch: '$P': initializing patching transition
	livepatch: failed to register ftrace handler for function '$OLD' (-16)
	livepatch: failed to patch object 'vmlinux'
	livepatch: failed to enable patch '$P'
	livepatch: '$P': canceling patching transition, going to unpatch
	livepatch: '$P': completing unpatching transition
	livepatch: '$P': unpatching complete
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

klp_pass
