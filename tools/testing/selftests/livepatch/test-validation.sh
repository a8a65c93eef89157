#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# klp_enable_patch() refuses invalid patches: one test_klp_bad_* module per
# kind of bad input, each failing insmod with an exact errno and log, and
# leaving neither the module nor /sys/kernel/livepatch/<name> behind, nor
# an ftrace hook (tracefs enabled_functions is as before the insmod).
# Also: no second patch while a transition is running.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

D=test_klp_dups
T=test_klp_target
H=test_klp_holdpatch
L=test_klp_livepatch

klp_setup
klp_require_mod "$D" "$T" "$H" "$L"
klp_tracefs || skip "no tracefs enabled_functions to check the ftrace hooks with"
REFUSED=0
if klp_mod_loaded "$D" || klp_mod_loaded "$T"; then
	die "$D or $T is already loaded"
fi

# expect_refused MODULE ERRNO [LOG LINE...]: insmod MODULE must fail with
# ERRNO, and the log must show exactly the given lines (those 6.1 prints)
# between the insmod and the module's report of klp_enable_patch()'s result.
# Where 6.1 prints no line at all, an implementation may add error lines of
# its own, as long as they name the patch module.
expect_refused() {
	local m=$1 errno=$2 num line
	shift 2
	klp_require_mod "$m"
	case $errno in
	EINVAL) num=22 ;;
	EEXIST) num=17 ;;
	EBUSY) num=16 ;;
	ENOENT) num=2 ;;
	*) die "no number known for $errno" ;;
	esac
	start_test "$m: refused with $errno"
	klp_ftrace_snapshot
	load_mod_expect_fail "$m" "$errno"
	klp_info "insmod said: $KLP_INSMOD_ERR"
	klp_ftrace_unchanged "after the refused insmod of $m"
	REFUSED=$((REFUSED + 1))
	# dynamic scope: klp_log_filtered sees this KLP_LOG_DROP
	local KLP_LOG_DROP=$KLP_LOG_DROP
	[[ $# -eq 0 ]] && KLP_LOG_DROP+="|^livepatch: .*$m"
	check_log < <(
		echo "klptest: insmod $m"
		for line in "$@"; do
			echo "$line"
		done
		echo "$m: klp_enable_patch() returned -$num"
	)
}

expect_refused test_klp_bad_null_patch EINVAL
expect_refused test_klp_bad_null_mod EINVAL
expect_refused test_klp_bad_null_objs EINVAL
expect_refused test_klp_bad_no_old_name EINVAL
expect_refused test_klp_bad_no_new_func EINVAL
expect_refused test_klp_bad_unmarked EINVAL \
	"livepatch: module test_klp_bad_unmarked is not marked as a livepatch module"
expect_refused test_klp_bad_unknown_sym EINVAL \
	"livepatch: symbol 'test_klp_no_such_symbol' not found in symbol table"
expect_refused test_klp_bad_long_obj EINVAL
expect_refused test_klp_bad_long_func EINVAL
expect_refused test_klp_bad_dup_func EEXIST
expect_refused test_klp_bad_dup_obj EEXIST

# The symbol test_klp_dup_show exists twice in test_klp_dups.
load_mod "$D"
expect_refused test_klp_bad_ambiguous EINVAL \
	"livepatch: unresolvable ambiguity for symbol 'test_klp_dup_show' in object '$D'"
expect_refused test_klp_bad_sympos EINVAL \
	"livepatch: symbol position 3 for symbol 'test_klp_dup_show' in object '$D' not found"
unload_mod "$D"

start_test "no second patch while a transition is running"
klp_at_exit "echo 1 > /proc/$T/release"
load_mod "$T"
cat "/proc/$T/hold" > /dev/null &
reader=$!
klp_wait_for 10 klp_sleepers_are "/proc/$T/sleepers" 1 || die "the reader did not start sleeping"
load_lp_nowait "$H"
klp_in_transition "$H" || die "transition of $H not running"
klp_ftrace_snapshot
load_mod_expect_fail "$L" EBUSY
klp_info "insmod said: $KLP_INSMOD_ERR"
klp_ftrace_unchanged "after the refused insmod of $L"
REFUSED=$((REFUSED + 1))
klp_in_transition "$H" || die "transition of $H ended early"
klp_log "release"
echo 1 > "/proc/$T/release"
wait "$reader"
wait_transition "$H"
disable_lp "$H"
unload_mod "$H"
unload_mod "$T"
# 6.1 logs nothing about the refused patch; an error line naming it is fine.
KLP_LOG_DROP+="|^livepatch: .*$L"
check_log <<EOF
klptest: insmod $T
$T: module loaded
klptest: insmod $H
livepatch: enabling patch '$H'
livepatch: '$H': initializing patching transition
livepatch: '$H': starting patching transition
klptest: insmod $L
klptest: release
livepatch: '$H': completing patching transition
livepatch: '$H': patching complete
klptest: disable $H
$(log_disable_lines "$H")
klptest: rmmod $H
klptest: rmmod $T
$T: module unloaded
EOF

echo "validation: $REFUSED patch modules refused with the documented errno, no module, sysfs entry or ftrace hook left"
klp_pass
