#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Refusing conflicting patches, an opt-in of this implementation
# (livepatch.refuse_conflicts, /sys/module/livepatch/parameters/
# refuse_conflicts).  Off, two patches without replace change one function
# as on Linux 6.1; on, the second is refused with EBUSY, one error line
# naming both patches, the object and the function, and nothing left
# behind, while a patch of another function and a cumulative patch of the
# same function are still accepted.  Stock 6.1 has no such parameter: SKIP.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P1=test_klp_livepatch
P2=test_klp_livepatch2
AR=test_klp_atomic_replace
PARAM=/sys/module/livepatch/parameters/refuse_conflicts

klp_setup
klp_require_mod "$P1" "$P2" "$AR"
klp_tracefs || die "no tracefs enabled_functions to check the ftrace hooks with"
[[ -e $PARAM ]] || klp_lacks "no $PARAM: conflicting patches cannot be refused"
check_mode "$PARAM" 644
check_file "$PARAM" N

# set_refuse Y|N: set the parameter (N again when the test exits).
set_refuse() {
	echo "$1" > "$PARAM" || die "writing $1 to $PARAM failed"
	check_file "$PARAM" "$1"
}
klp_at_exit "echo N > $PARAM"

ORIG=$(cat /proc/cmdline)
ORIG_VERSION=$(cat /proc/version)

start_test "refuse_conflicts=N: two patches of one function, as on 6.1"
load_lp "$P1"
load_lp "$P2"
check_file /proc/cmdline "$P2: cmdline replaced"
check_patches "$P1 $P2"
disable_lp "$P2"
unload_mod "$P2"
disable_lp "$P1"
unload_mod "$P1"
check_file /proc/cmdline "$ORIG"
check_log <<EOF
klptest: insmod $P1
$(log_enable_lines "$P1")
klptest: insmod $P2
$(log_enable_lines "$P2")
klptest: disable $P2
$(log_disable_lines "$P2")
klptest: rmmod $P2
klptest: disable $P1
$(log_disable_lines "$P1")
klptest: rmmod $P1
EOF

start_test "refuse_conflicts=Y: the second patch of cmdline_proc_show is refused"
set_refuse Y
load_lp "$P1"
klp_ftrace_snapshot
load_mod_expect_fail "$P2" EBUSY
klp_ftrace_unchanged "after the refused insmod of $P2"
check_patches "$P1"
check_file /proc/cmdline "$P1: cmdline replaced"
check_file "/sys/module/$P1/refcnt" 1
check_log <<EOF
klptest: insmod $P1
$(log_enable_lines "$P1")
klptest: insmod $P2
livepatch: $P2: refused: function 'cmdline_proc_show' of 'vmlinux' is already changed by patch '$P1' (refuse_conflicts=1)
EOF

start_test "refuse_conflicts=Y: a patch of another function is accepted"
load_lp "$AR" replace=0
check_patches "$AR $P1"
check_file /proc/cmdline "$P1: cmdline replaced"
check_file /proc/version "$AR: version patched"
disable_lp "$AR"
unload_mod "$AR"
check_file /proc/version "$ORIG_VERSION"
check_log <<EOF
klptest: insmod $AR replace=0
$(log_enable_lines "$AR")
klptest: disable $AR
$(log_disable_lines "$AR")
klptest: rmmod $AR
EOF

start_test "refuse_conflicts=Y: a cumulative patch of the same function is accepted"
load_lp "$AR" cmdline=1
wait_patch_gone "$P1"
check_patches "$AR"
check_file /proc/cmdline "$AR: cmdline patched"
unload_replaced "$P1"
disable_lp "$AR"
unload_mod "$AR"
check_file /proc/cmdline "$ORIG"
check_file /proc/version "$ORIG_VERSION"
check_log <<EOF
klptest: insmod $AR cmdline=1
$(log_enable_lines "$AR")
klptest: rmmod $P1
klptest: disable $AR
$(log_disable_lines "$AR")
klptest: rmmod $AR
EOF

start_test "refuse_conflicts=N again: the second patch is accepted"
set_refuse N
load_lp "$P1"
load_lp "$P2"
check_file /proc/cmdline "$P2: cmdline replaced"
disable_lp "$P1"
unload_mod "$P1"
disable_lp "$P2"
unload_mod "$P2"
check_file /proc/cmdline "$ORIG"

klp_pass
