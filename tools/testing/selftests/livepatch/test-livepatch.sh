#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Patching a vmlinux function: /proc/cmdline (cmdline_proc_show) read before,
# while and after a patch is enabled, the kernel log of the transitions, and
# two patches of the same function taken away in either order.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P1=test_klp_livepatch
P2=test_klp_livepatch2

klp_setup
klp_require_mod "$P1" "$P2"

ORIG=$(cat /proc/cmdline)
[[ $ORIG != *"cmdline replaced"* ]] || die "/proc/cmdline is already patched: '$ORIG'"
if ! klp_patch_gone "$P1" || ! klp_patch_gone "$P2"; then
	die "a test patch is already loaded"
fi

start_test "enable and disable one vmlinux patch"
load_lp "$P1"
check_file /proc/cmdline "$P1: cmdline replaced"
check_file "$KLP_SYSFS/$P1/enabled" 1
check_file "$KLP_SYSFS/$P1/transition" 0
check_file "$KLP_SYSFS/$P1/vmlinux/patched" 1
disable_lp "$P1"
check_file /proc/cmdline "$ORIG"
unload_mod "$P1"
check_file /proc/cmdline "$ORIG"
check_log <<EOF
klptest: insmod $P1
$(log_enable_lines "$P1")
klptest: disable $P1
$(log_disable_lines "$P1")
klptest: rmmod $P1
EOF

start_test "two patches of one function, newest removed first"
load_lp "$P1"
check_file /proc/cmdline "$P1: cmdline replaced"
load_lp "$P2"
check_file /proc/cmdline "$P2: cmdline replaced"
disable_lp "$P2"
check_file /proc/cmdline "$P1: cmdline replaced"
unload_mod "$P2"
disable_lp "$P1"
check_file /proc/cmdline "$ORIG"
unload_mod "$P1"
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

start_test "two patches of one function, oldest removed first"
load_lp "$P1"
load_lp "$P2"
check_file /proc/cmdline "$P2: cmdline replaced"
disable_lp "$P1"
check_file /proc/cmdline "$P2: cmdline replaced"
check_file "$KLP_SYSFS/$P2/enabled" 1
unload_mod "$P1"
check_file /proc/cmdline "$P2: cmdline replaced"
disable_lp "$P2"
check_file /proc/cmdline "$ORIG"
unload_mod "$P2"
check_log <<EOF
klptest: insmod $P1
$(log_enable_lines "$P1")
klptest: insmod $P2
$(log_enable_lines "$P2")
klptest: disable $P1
$(log_disable_lines "$P1")
klptest: rmmod $P1
klptest: disable $P2
$(log_disable_lines "$P2")
klptest: rmmod $P2
EOF

start_test "a patch module cannot be removed while its patch is enabled"
load_lp "$P1"
klp_log "rmmod $P1 (must fail)"
if rmmod "$P1" 2> /dev/null; then
	die "rmmod $P1 succeeded while the patch was enabled"
fi
klp_mod_loaded "$P1" || die "$P1 gone after a failed rmmod"
check_file /proc/cmdline "$P1: cmdline replaced"
disable_lp "$P1"
unload_mod "$P1"
check_file /proc/cmdline "$ORIG"
check_log <<EOF
klptest: insmod $P1
$(log_enable_lines "$P1")
klptest: rmmod $P1 (must fail)
klptest: disable $P1
$(log_disable_lines "$P1")
klptest: rmmod $P1
EOF

klp_pass
