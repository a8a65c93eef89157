#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Patching a system call that every task calls all the time: test_klp_syscall
# replaces getpid() (__x64_sys_getpid on x86_64) with a version that returns
# the same value and counts its calls (module parameter "calls").
# getpid_loop runs KLP_SYSCALL_TASKS (default 50) processes that call
# getpid() in a loop and check each result against their pid (from gettid()),
# from before the patch is enabled until after it is disabled.  Checked:
# both transitions complete, the helpers keep running and never see a wrong
# pid, the new function is called while the patch is enabled and no longer
# once it is disabled.
#
# Under QEMU's TCG emulation (no KVM), a CPU can keep running stale code of
# a function that another CPU has just rewritten: QEMU before 8.1 does not
# lock a page while translating it, and the guest then loops forever on an
# int3 that ftrace's text_poke_bp() has already removed (the helpers call
# getpid() while ftrace rewrites its first instruction).  So under TCG the
# test runs with one online CPU, unless the guest's vCPUs share one host
# thread (klp.tcg=single, see klp_one_cpu_under_tcg in functions.sh)
# (KLP_SYSCALL_ONE_CPU=0 keeps them all, =1 forces one elsewhere).

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P=test_klp_syscall
CALLS=/sys/module/$P/parameters/calls
HELPER=$(dirname "$0")/getpid_loop
NTASKS=${KLP_SYSCALL_TASKS:-50}
HPID=""

klp_setup
klp_require_mod "$P"
[[ -x $HELPER ]] || skip "helper $HELPER not built"
grep -qE ' __x64_sys_getpid$' /proc/kallsyms ||
	skip "no __x64_sys_getpid in /proc/kallsyms (test_klp_syscall patches that symbol)"
klp_patch_gone "$P" || die "patch $P is already loaded"

klp_one_cpu_under_tcg "${KLP_SYSCALL_ONE_CPU:-auto}"

OUT=$(mktemp)
ERR=$(mktemp)
klp_at_exit rm -f "$OUT" "$ERR"

# shellcheck disable=SC2317 # called through klp_wait_for
lines_at_least() {
	(($(grep -c "$1" "$OUT") >= $2))
}

# helper_calls: print the helpers' total number of getpid() calls so far.
helper_calls() {
	local n
	n=$(grep -c '^calls ' "$OUT")
	kill -USR1 "$HPID" || die "getpid_loop (pid $HPID) is gone: $(cat "$ERR")"
	klp_wait_for 10 lines_at_least '^calls ' $((n + 1)) ||
		die "getpid_loop did not report its calls"
	grep '^calls ' "$OUT" | tail -n 1 | cut -d' ' -f2
}

# stop_helper: (exit trap) end getpid_loop if it still runs.
# shellcheck disable=SC2317 # called through klp_at_exit
stop_helper() {
	[[ -n $HPID ]] && kill -TERM "$HPID" && wait "$HPID"
}

# check_more WHAT OLD NEW: NEW must be larger than OLD.
check_more() {
	(($3 > $2)) || die "$1 did not increase: $2 then $3"
}

start_test "getpid() patched and unpatched while $NTASKS tasks call it"
"$HELPER" "$NTASKS" > "$OUT" 2> "$ERR" &
HPID=$!
klp_at_exit stop_helper
klp_wait_for "$KLP_WAIT_SECS" lines_at_least '^ready ' 1 ||
	die "getpid_loop did not start: $(cat "$ERR")"
h0=$(helper_calls)
klp_sleep 1
h1=$(helper_calls)
check_more "getpid() calls of the helpers before patching" "$h0" "$h1"

load_lp "$P"
check_file "$KLP_SYSFS/$P/transition" 0
k1=$(cat "$CALLS")
h2=$(helper_calls)
klp_sleep 1
k2=$(cat "$CALLS")
h3=$(helper_calls)
check_more "calls of the patched getpid()" "$k1" "$k2"
check_more "getpid() calls of the helpers while patched" "$h2" "$h3"

disable_lp "$P"
k4=$(cat "$CALLS")
h4=$(helper_calls)
klp_sleep 1
k5=$(cat "$CALLS")
h5=$(helper_calls)
check_eq "calls of the new getpid() after unpatching" "$k4" "$k5"
check_more "getpid() calls of the helpers after unpatching" "$h4" "$h5"

kill -TERM "$HPID"
wait "$HPID"
rc=$?
HPID=""
summary=$(grep '^done ' "$OUT")
[[ $rc -eq 0 ]] || die "getpid_loop failed (exit $rc): $summary $(cat "$ERR")"
[[ $summary =~ ^done\ tasks\ $NTASKS\ calls\ [0-9]+\ wrong\ 0\ idle\ 0$ ]] ||
	die "unexpected getpid_loop summary: '$summary'"
klp_info "$summary, patched getpid() called $k4 times"
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

klp_pass
