#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Patch attributes of newer kernels, /sys/kernel/livepatch/<patch>/:
#   replace      (0444) 1 for an atomic replace patch, 0 otherwise (6.11)
#   stack_order  (0444) position among the enabled patches, 1 for the
#                oldest; the newest patch of a function wins (6.14)
# Three plain patches of cmdline_proc_show() (test_klp_livepatch,
# test_klp_livepatch2, test_klp_replace_base) are stacked and one taken out
# of the middle; test_klp_atomic_replace is loaded as a plain and as a
# replace patch.  Skipped on kernels without these files (stock 6.1).

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P1=test_klp_livepatch
P2=test_klp_livepatch2
P3=test_klp_replace_base
AR=test_klp_atomic_replace

klp_setup
klp_require_mod "$P1" "$P2" "$P3" "$AR"

ORIG=$(cat /proc/cmdline)
ORIG_VERSION=$(cat /proc/version)
for p in "$P1" "$P2" "$P3" "$AR"; do
	klp_patch_gone "$p" || die "patch $p is already loaded"
done

# check_orders PATCH=ORDER...: the stack_order file of each PATCH.
check_orders() {
	local a
	for a in "$@"; do
		check_file "$KLP_SYSFS/${a%=*}/stack_order" "${a#*=}"
	done
}


# ---------------------------------------------------------------------------
start_test "replace and stack_order of a single plain patch"
load_lp "$P1"
if ! klp_has_feature replace "$P1" || ! klp_has_feature stack_order "$P1"; then
	klp_lacks "no replace/stack_order in $KLP_SYSFS/$P1 (added in Linux 6.11/6.14)"
fi
check_mode "$KLP_SYSFS/$P1/replace" 444
check_mode "$KLP_SYSFS/$P1/stack_order" 444
check_file "$KLP_SYSFS/$P1/replace" 0
check_file "$KLP_SYSFS/$P1/stack_order" 1
check_write "$KLP_SYSFS/$P1/replace" 1 EACCES
check_write "$KLP_SYSFS/$P1/stack_order" 2 EACCES
check_file "$KLP_SYSFS/$P1/replace" 0
check_file "$KLP_SYSFS/$P1/stack_order" 1
check_file /proc/cmdline "$P1: cmdline replaced"

# ---------------------------------------------------------------------------
start_test "three stacked patches: order 1, 2, 3 and the newest wins"
load_lp "$P2"
check_orders "$P1=1" "$P2=2"
check_file /proc/cmdline "$P2: cmdline replaced"
load_lp "$P3"
check_orders "$P1=1" "$P2=2" "$P3=3"
for p in "$P1" "$P2" "$P3"; do
	check_file "$KLP_SYSFS/$p/replace" 0
done
check_file /proc/cmdline "$P3: cmdline patched"

# The middle patch goes: the newer one moves down, and still wins.
disable_lp "$P2"
check_orders "$P1=1" "$P3=2"
check_file /proc/cmdline "$P3: cmdline patched"
unload_mod "$P2"

# Loaded again, it is the newest.
load_lp "$P2"
check_orders "$P1=1" "$P3=2" "$P2=3"
check_file /proc/cmdline "$P2: cmdline replaced"

# The oldest goes: everything moves down.
disable_lp "$P1"
check_orders "$P3=1" "$P2=2"
check_file /proc/cmdline "$P2: cmdline replaced"
unload_mod "$P1"

# The newest goes: the next one takes over.
disable_lp "$P2"
check_orders "$P3=1"
check_file /proc/cmdline "$P3: cmdline patched"
unload_mod "$P2"
check_log <<-EOF
	klptest: insmod $P2
	$(log_enable_lines "$P2")
	klptest: insmod $P3
	$(log_enable_lines "$P3")
	klptest: disable $P2
	$(log_disable_lines "$P2")
	klptest: rmmod $P2
	klptest: insmod $P2
	$(log_enable_lines "$P2")
	klptest: disable $P1
	$(log_disable_lines "$P1")
	klptest: rmmod $P1
	klptest: disable $P2
	$(log_disable_lines "$P2")
	klptest: rmmod $P2
EOF

# ---------------------------------------------------------------------------
start_test "replace reads 0 for a plain patch loaded with replace=0"
load_lp "$AR" replace=0 cmdline=1
check_file "$KLP_SYSFS/$AR/replace" 0
check_orders "$P3=1" "$AR=2"
check_file /proc/cmdline "$AR: cmdline patched"
check_file /proc/version "$AR: version patched"
disable_lp "$AR"
check_orders "$P3=1"
check_file /proc/cmdline "$P3: cmdline patched"
check_file /proc/version "$ORIG_VERSION"
unload_mod "$AR"
check_log <<-EOF
	klptest: insmod $AR replace=0 cmdline=1
	$(log_enable_lines "$AR")
	klptest: disable $AR
	$(log_disable_lines "$AR")
	klptest: rmmod $AR
EOF

# ---------------------------------------------------------------------------
start_test "replace reads 1 for an atomic replace patch, which is then alone"
load_lp "$P1"
check_orders "$P3=1" "$P1=2"
load_lp "$AR"
wait_patch_gone "$P3"
wait_patch_gone "$P1"
check_mode "$KLP_SYSFS/$AR/replace" 444
check_file "$KLP_SYSFS/$AR/replace" 1
check_orders "$AR=1"
check_file /proc/cmdline "$ORIG"
check_file /proc/version "$AR: version patched"
unload_replaced "$P1"
unload_replaced "$P3"

# A plain patch on top of the replace patch.
load_lp "$P2"
check_orders "$AR=1" "$P2=2"
check_file "$KLP_SYSFS/$AR/replace" 1
check_file "$KLP_SYSFS/$P2/replace" 0
check_file /proc/cmdline "$P2: cmdline replaced"
disable_lp "$AR"
check_orders "$P2=1"
check_file /proc/version "$ORIG_VERSION"
unload_mod "$AR"
disable_lp "$P2"
check_file /proc/cmdline "$ORIG"
unload_mod "$P2"
check_log <<-EOF
	klptest: insmod $P1
	$(log_enable_lines "$P1")
	klptest: insmod $AR
	$(log_enable_lines "$AR")
	klptest: rmmod $P1
	klptest: rmmod $P3
	klptest: insmod $P2
	$(log_enable_lines "$P2")
	klptest: disable $AR
	$(log_disable_lines "$AR")
	klptest: rmmod $AR
	klptest: disable $P2
	$(log_disable_lines "$P2")
	klptest: rmmod $P2
EOF

klp_pass
