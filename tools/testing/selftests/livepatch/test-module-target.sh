#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Patching a function of a module (test_klp_target): the module loaded
# before the patch, loaded after it, and unloaded while patched.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

T=test_klp_target
P=test_klp_modpatch
GREETING=/proc/$T/greeting
PATCHED=$KLP_SYSFS/$P/$T/patched

klp_setup
klp_require_mod "$T" "$P"
! klp_mod_loaded "$T" || die "$T is already loaded"

start_test "target module loaded before the patch"
load_mod "$T"
check_file "$GREETING" "$T: unpatched greeting"
load_lp "$P"
check_file "$GREETING" "$P: patched greeting"
check_file "$PATCHED" 1
disable_lp "$P"
check_file "$GREETING" "$T: unpatched greeting"
unload_mod "$P"
unload_mod "$T"
check_log <<EOF
klptest: insmod $T
$T: module loaded
klptest: insmod $P
$(log_enable_lines "$P")
klptest: disable $P
$(log_disable_lines "$P")
klptest: rmmod $P
klptest: rmmod $T
$T: module unloaded
EOF

start_test "target module loaded after the patch"
load_lp "$P"
check_file "$PATCHED" 0
[[ -e $GREETING ]] && die "$GREETING exists before $T is loaded"
load_mod "$T"
check_file "$PATCHED" 1
check_file "$GREETING" "$P: patched greeting"
disable_lp "$P"
check_file "$GREETING" "$T: unpatched greeting"
unload_mod "$T"
unload_mod "$P"
check_log <<EOF
klptest: insmod $P
$(log_enable_lines "$P")
klptest: insmod $T
livepatch: applying patch '$P' to loading module '$T'
$T: module loaded
klptest: disable $P
$(log_disable_lines "$P")
klptest: rmmod $T
$T: module unloaded
klptest: rmmod $P
EOF

start_test "target module unloaded while patched, then loaded again"
load_mod "$T"
load_lp "$P"
check_file "$PATCHED" 1
check_file "$GREETING" "$P: patched greeting"
unload_mod "$T"
check_file "$PATCHED" 0
check_file "$KLP_SYSFS/$P/enabled" 1
load_mod "$T"
check_file "$PATCHED" 1
check_file "$GREETING" "$P: patched greeting"
disable_lp "$P"
check_file "$GREETING" "$T: unpatched greeting"
unload_mod "$P"
unload_mod "$T"
check_log <<EOF
klptest: insmod $T
$T: module loaded
klptest: insmod $P
$(log_enable_lines "$P")
klptest: rmmod $T
$T: module unloaded
livepatch: reverting patch '$P' on unloading module '$T'
klptest: insmod $T
livepatch: applying patch '$P' to loading module '$T'
$T: module loaded
klptest: disable $P
$(log_disable_lines "$P")
klptest: rmmod $P
klptest: rmmod $T
$T: module unloaded
EOF

klp_pass
