#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Livepatch relocations against a module that comes and goes while the patch
# stays enabled.  test_klp_reload_patch replaces test_klp_reload_show() of
# test_klp_reload_target with code that reads the module's static variable
# "secret" and calls its static function test_klp_reload_scramble(v) =
# 3 * v + 1, through livepatch relocations (section
# .klp.rela.test_klp_reload_target..text, made by lib/livepatch/klp_convert.py).
# /proc/test_klp_reload_target shows "<module>: patched|unpatched <secret>
# <scramble(secret)>", so a relocation that points anywhere but into the
# module instance loaded now shows up as a wrong number (or an oops).
# Checked: relocations applied when the target loads after the patch and
# when the patch loads after the target; the target unloaded and loaded
# again, twice, with another secret each time while the patch stays enabled
# (Linux 6.3 clears the relocations on unload; stock 6.1 on x86 refuses the
# second load with "Invalid relocation target, existing value is nonzero",
# and the test is skipped there).

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

T=test_klp_reload_target
P=test_klp_reload_patch
PROC=/proc/$T

klp_setup
klp_require_mod "$T" "$P"
grep -qaF ".klp.rela.$T." "$(mod_path "$P")" ||
	klp_lacks "$P.ko has no livepatch relocations (not converted by lib/livepatch/klp_convert.py)"
if klp_mod_loaded "$T" || ! klp_patch_gone "$P"; then
	die "$T or $P is already loaded"
fi

# ---------------------------------------------------------------------------
start_test "relocations applied when the target loads after the patch"
load_lp "$P"
check_file "$KLP_SYSFS/$P/$T/patched" 0
load_mod "$T" secret=7
check_file "$KLP_SYSFS/$P/$T/patched" 1
check_file "$PROC" "$P: patched 7 22"
disable_lp "$P"
check_file "$PROC" "$T: unpatched 7 22"
unload_mod "$P"
unload_mod "$T"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: insmod $T secret=7
	livepatch: applying patch '$P' to loading module '$T'
	$T: module loaded
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
	klptest: rmmod $T
	$T: module unloaded
EOF

# ---------------------------------------------------------------------------
start_test "relocations applied when the patch loads after the target"
load_mod "$T" secret=5
check_file "$PROC" "$T: unpatched 5 16"
load_lp "$P"
check_file "$KLP_SYSFS/$P/$T/patched" 1
check_file "$PROC" "$P: patched 5 16"
check_log <<-EOF
	klptest: insmod $T secret=5
	$T: module loaded
	klptest: insmod $P
	$(log_enable_lines "$P")
EOF

# ---------------------------------------------------------------------------
start_test "target unloaded and loaded again while the patch stays enabled"
unload_mod "$T"
check_file "$KLP_SYSFS/$P/$T/patched" 0
check_file "$KLP_SYSFS/$P/enabled" 1
if ! klp_insmod "$T" secret=9; then
	if klp_log_since_start | grep -qi 'invalid relocation target, existing value is nonzero'; then
		klp_lacks "this kernel does not clear livepatch relocations when the target module unloads (stock 6.1; Linux 6.3 does)"
	fi
	klp_log_since_start >&2
	die "insmod $T secret=9 failed: $KLP_INSMOD_ERR"
fi
check_file "$KLP_SYSFS/$P/$T/patched" 1
check_file "$PROC" "$P: patched 9 28"
unload_mod "$T"
load_mod "$T" secret=11
check_file "$PROC" "$P: patched 11 34"
disable_lp "$P"
check_file "$PROC" "$T: unpatched 11 34"
unload_mod "$P"
unload_mod "$T"
check_log <<-EOF
	klptest: rmmod $T
	$T: module unloaded
	livepatch: reverting patch '$P' on unloading module '$T'
	klptest: insmod $T secret=9
	livepatch: applying patch '$P' to loading module '$T'
	$T: module loaded
	klptest: rmmod $T
	$T: module unloaded
	livepatch: reverting patch '$P' on unloading module '$T'
	klptest: insmod $T secret=11
	livepatch: applying patch '$P' to loading module '$T'
	$T: module loaded
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
	klptest: rmmod $T
	$T: module unloaded
EOF

klp_pass
