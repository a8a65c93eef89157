#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Atomic replace (cumulative patches):
#   test_klp_replace_base    plain patch of cmdline_proc_show()
#   test_klp_atomic_replace  replace patch of version_proc_show()
#                            (replace=0: plain patch; cmdline=1: also
#                            cmdline_proc_show())
# What a replace patch does not patch goes back to the original code, the
# replaced patches disappear from sysfs and their modules can be removed,
# the temporary nop entries are gone once the transition is over, and so is
# the ftrace hook of a function no patch changes any more.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

BASE=test_klp_replace_base
AR=test_klp_atomic_replace
DEMO2=test_klp_callbacks_demo2

klp_setup
klp_require_mod "$BASE" "$AR" "$DEMO2"

ORIG_CMDLINE=$(cat /proc/cmdline)
ORIG_VERSION=$(cat /proc/version)
[[ $ORIG_CMDLINE != *patched* && $ORIG_VERSION != *patched* ]] ||
	die "/proc/cmdline or /proc/version is already patched"

# check_funcs PATCH FUNC...: the function entries PATCH shows for vmlinux.
check_funcs() {
	local patch=$1 d got=""
	shift
	for d in "$KLP_SYSFS/$patch/vmlinux"/*/; do
		[[ -d $d ]] && d=${d%/} && got+=" ${d##*/}"
	done
	check_eq "functions of $patch" "$*" "${got# }"
}

# The ftrace hooks, through tracefs' enabled_functions.
klp_tracefs || skip "no tracefs enabled_functions to check the ftrace hooks with"

# check_hooked FUNC yes|no: whether ftrace has a hook on FUNC.
check_hooked() {
	local got=no fn
	while read -r fn _; do
		[[ $fn == "$1" ]] && got=yes
	done < "$KLP_TRACEFS/enabled_functions"
	check_eq "ftrace hook on $1" "$2" "$got"
}


check_hooked cmdline_proc_show no
check_hooked version_proc_show no

# ---------------------------------------------------------------------------
start_test "replace patch: unpatched functions go back to the original"
load_lp "$BASE"
check_file /proc/cmdline "$BASE: cmdline patched"
check_file /proc/version "$ORIG_VERSION"
check_hooked cmdline_proc_show yes
load_lp "$AR"
wait_patch_gone "$BASE"
check_patches "$AR"
check_file /proc/cmdline "$ORIG_CMDLINE"
check_file /proc/version "$AR: version patched"
check_funcs "$AR" "version_proc_show,1"
check_hooked cmdline_proc_show no
check_hooked version_proc_show yes
unload_replaced "$BASE"
disable_lp "$AR"
check_file /proc/cmdline "$ORIG_CMDLINE"
check_file /proc/version "$ORIG_VERSION"
check_hooked version_proc_show no
unload_mod "$AR"
check_log <<-EOF
	klptest: insmod $BASE
	$(log_enable_lines "$BASE")
	klptest: insmod $AR
	$(log_enable_lines "$AR")
	klptest: rmmod $BASE
	klptest: disable $AR
	$(log_disable_lines "$AR")
	klptest: rmmod $AR
EOF

# ---------------------------------------------------------------------------
start_test "replace patch taking over a function of the replaced patch"
load_lp "$BASE"
load_lp "$AR" cmdline=1
wait_patch_gone "$BASE"
check_patches "$AR"
check_file /proc/cmdline "$AR: cmdline patched"
check_file /proc/version "$AR: version patched"
check_funcs "$AR" "cmdline_proc_show,1" "version_proc_show,1"
unload_replaced "$BASE"
check_file /proc/cmdline "$AR: cmdline patched"
disable_lp "$AR"
check_file /proc/cmdline "$ORIG_CMDLINE"
check_file /proc/version "$ORIG_VERSION"
check_hooked cmdline_proc_show no
check_hooked version_proc_show no
unload_mod "$AR"
check_log <<-EOF
	klptest: insmod $BASE
	$(log_enable_lines "$BASE")
	klptest: insmod $AR cmdline=1
	$(log_enable_lines "$AR")
	klptest: rmmod $BASE
	klptest: disable $AR
	$(log_disable_lines "$AR")
	klptest: rmmod $AR
EOF

# ---------------------------------------------------------------------------
# Two enabled patches, one of them with callbacks: both are replaced, and
# the replaced patch's callbacks do not run.
start_test "replace patch replacing two patches at once"
load_lp "$BASE"
load_lp "$DEMO2"
check_patches "$DEMO2" "$BASE"
load_lp "$AR"
wait_patch_gone "$BASE"
wait_patch_gone "$DEMO2"
check_patches "$AR"
check_file /proc/cmdline "$ORIG_CMDLINE"
check_file /proc/version "$AR: version patched"
unload_replaced "$DEMO2"
unload_replaced "$BASE"
disable_lp "$AR"
unload_mod "$AR"
check_file /proc/version "$ORIG_VERSION"
check_log <<-EOF
	klptest: insmod $BASE
	$(log_enable_lines "$BASE")
	klptest: insmod $DEMO2
	livepatch: enabling patch '$DEMO2'
	livepatch: '$DEMO2': initializing patching transition
	$DEMO2: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO2': starting patching transition
	livepatch: '$DEMO2': completing patching transition
	$DEMO2: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO2': patching complete
	klptest: insmod $AR
	$(log_enable_lines "$AR")
	klptest: rmmod $DEMO2
	klptest: rmmod $BASE
	klptest: disable $AR
	$(log_disable_lines "$AR")
	klptest: rmmod $AR
EOF

# ---------------------------------------------------------------------------
start_test "non-replace patches side by side, removed oldest first"
load_lp "$BASE"
load_lp "$AR" replace=0
check_patches "$AR" "$BASE"
check_file /proc/cmdline "$BASE: cmdline patched"
check_file /proc/version "$AR: version patched"
disable_lp "$BASE"
check_file /proc/cmdline "$ORIG_CMDLINE"
check_file /proc/version "$AR: version patched"
check_hooked cmdline_proc_show no
unload_mod "$BASE"
disable_lp "$AR"
check_file /proc/version "$ORIG_VERSION"
unload_mod "$AR"
check_log <<-EOF
	klptest: insmod $BASE
	$(log_enable_lines "$BASE")
	klptest: insmod $AR replace=0
	$(log_enable_lines "$AR")
	klptest: disable $BASE
	$(log_disable_lines "$BASE")
	klptest: rmmod $BASE
	klptest: disable $AR
	$(log_disable_lines "$AR")
	klptest: rmmod $AR
EOF

# ---------------------------------------------------------------------------
# Once replaced, a patch module can be removed and loaded again; as a plain
# patch it then stacks on top of the replace patch.
start_test "a replaced patch's module can be loaded again"
load_lp "$BASE"
load_lp "$AR"
wait_patch_gone "$BASE"
unload_replaced "$BASE"
load_lp "$BASE"
check_patches "$AR" "$BASE"
check_file /proc/cmdline "$BASE: cmdline patched"
check_file /proc/version "$AR: version patched"
disable_lp "$AR"
check_file /proc/cmdline "$BASE: cmdline patched"
check_file /proc/version "$ORIG_VERSION"
unload_mod "$AR"
disable_lp "$BASE"
check_file /proc/cmdline "$ORIG_CMDLINE"
unload_mod "$BASE"
check_log <<-EOF
	klptest: insmod $BASE
	$(log_enable_lines "$BASE")
	klptest: insmod $AR
	$(log_enable_lines "$AR")
	klptest: rmmod $BASE
	klptest: insmod $BASE
	$(log_enable_lines "$BASE")
	klptest: disable $AR
	$(log_disable_lines "$AR")
	klptest: rmmod $AR
	klptest: disable $BASE
	$(log_disable_lines "$BASE")
	klptest: rmmod $BASE
EOF

klp_pass
