#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# System state tracking (struct klp_state) with atomic replace patches:
#   test_klp_state   declares state 0x5e7 version 1
#   test_klp_state2  declares state 0x5e7 version 2
#   test_klp_state3  declares no state
# Their vmlinux callbacks print what klp_get_state() and
# klp_get_prev_state() return and who created the state's data; the data is
# handed from patch to patch and freed by the last one (test_klp_state.h).

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

S1=test_klp_state
S2=test_klp_state2
S3=test_klp_state3
INCOMPATIBLE="is not compatible with the already installed livepatches."

klp_setup
klp_require_mod "$S1" "$S2" "$S3"


# ---------------------------------------------------------------------------
start_test "a state is set up by the first patch and freed when it goes"
load_lp "$S1"
disable_lp "$S1"
unload_mod "$S1"
check_log <<-EOF
	klptest: insmod $S1
	livepatch: enabling patch '$S1'
	livepatch: '$S1': initializing patching transition
	$S1: pre_patch: state v1, previous none, no data
	$S1: pre_patch: allocated new data
	livepatch: '$S1': starting patching transition
	livepatch: '$S1': completing patching transition
	$S1: post_patch: state v1, previous none, data by $S1 gen 1
	livepatch: '$S1': patching complete
	klptest: disable $S1
	livepatch: '$S1': initializing unpatching transition
	$S1: pre_unpatch: state v1, previous none, data by $S1 gen 1
	livepatch: '$S1': starting unpatching transition
	livepatch: '$S1': completing unpatching transition
	$S1: post_unpatch: state v1, previous none, data by $S1 gen 1
	$S1: post_unpatch: freeing data by $S1 gen 1
	livepatch: '$S1': unpatching complete
	klptest: rmmod $S1
EOF

# ---------------------------------------------------------------------------
# The replacing patch sees the old version through klp_get_prev_state() in
# pre_patch and post_patch, takes the data over, and the replaced patch's
# callbacks do not run.
start_test "upgrade: version 2 replaces version 1 and takes over its data"
load_lp "$S1"
load_lp "$S2"
wait_patch_gone "$S1"
check_patches "$S2"
unload_replaced "$S1"
disable_lp "$S2"
unload_mod "$S2"
check_log <<-EOF
	klptest: insmod $S1
	livepatch: enabling patch '$S1'
	livepatch: '$S1': initializing patching transition
	$S1: pre_patch: state v1, previous none, no data
	$S1: pre_patch: allocated new data
	livepatch: '$S1': starting patching transition
	livepatch: '$S1': completing patching transition
	$S1: post_patch: state v1, previous none, data by $S1 gen 1
	livepatch: '$S1': patching complete
	klptest: insmod $S2
	livepatch: enabling patch '$S2'
	livepatch: '$S2': initializing patching transition
	$S2: pre_patch: state v2, previous v1, data by $S1 gen 1
	livepatch: '$S2': starting patching transition
	livepatch: '$S2': completing patching transition
	$S2: post_patch: took over data by $S1, now gen 2
	$S2: post_patch: state v2, previous v1, data by $S1 gen 2
	livepatch: '$S2': patching complete
	klptest: rmmod $S1
	klptest: disable $S2
	livepatch: '$S2': initializing unpatching transition
	$S2: pre_unpatch: state v2, previous none, data by $S1 gen 2
	livepatch: '$S2': starting unpatching transition
	livepatch: '$S2': completing unpatching transition
	$S2: post_unpatch: state v2, previous none, data by $S1 gen 2
	$S2: post_unpatch: freeing data by $S1 gen 2
	livepatch: '$S2': unpatching complete
	klptest: rmmod $S2
EOF

# ---------------------------------------------------------------------------
start_test "downgrade: version 1 is refused while version 2 is installed"
load_lp "$S2"
load_mod_expect_fail "$S1" EINVAL
check_patches "$S2"
check_file "$KLP_SYSFS/$S2/enabled" 1
disable_lp "$S2"
unload_mod "$S2"
check_log <<-EOF
	klptest: insmod $S2
	livepatch: enabling patch '$S2'
	livepatch: '$S2': initializing patching transition
	$S2: pre_patch: state v2, previous none, no data
	$S2: pre_patch: allocated new data
	livepatch: '$S2': starting patching transition
	livepatch: '$S2': completing patching transition
	$S2: post_patch: state v2, previous none, data by $S2 gen 1
	livepatch: '$S2': patching complete
	klptest: insmod $S1
	livepatch: Livepatch patch ($S1) $INCOMPATIBLE
	klptest: disable $S2
	livepatch: '$S2': initializing unpatching transition
	$S2: pre_unpatch: state v2, previous none, data by $S2 gen 1
	livepatch: '$S2': starting unpatching transition
	livepatch: '$S2': completing unpatching transition
	$S2: post_unpatch: state v2, previous none, data by $S2 gen 1
	$S2: post_unpatch: freeing data by $S2 gen 1
	livepatch: '$S2': unpatching complete
	klptest: rmmod $S2
EOF

# ---------------------------------------------------------------------------
start_test "a replace patch that drops an installed state is refused"
load_lp "$S1"
load_mod_expect_fail "$S3" EINVAL
check_patches "$S1"
disable_lp "$S1"
unload_mod "$S1"
check_log <<-EOF
	klptest: insmod $S1
	livepatch: enabling patch '$S1'
	livepatch: '$S1': initializing patching transition
	$S1: pre_patch: state v1, previous none, no data
	$S1: pre_patch: allocated new data
	livepatch: '$S1': starting patching transition
	livepatch: '$S1': completing patching transition
	$S1: post_patch: state v1, previous none, data by $S1 gen 1
	livepatch: '$S1': patching complete
	klptest: insmod $S3
	livepatch: Livepatch patch ($S3) $INCOMPATIBLE
	klptest: disable $S1
	livepatch: '$S1': initializing unpatching transition
	$S1: pre_unpatch: state v1, previous none, data by $S1 gen 1
	livepatch: '$S1': starting unpatching transition
	livepatch: '$S1': completing unpatching transition
	$S1: post_unpatch: state v1, previous none, data by $S1 gen 1
	$S1: post_unpatch: freeing data by $S1 gen 1
	livepatch: '$S1': unpatching complete
	klptest: rmmod $S1
EOF

# ---------------------------------------------------------------------------
# With no state installed, a patch without states is fine, and a state can
# be introduced by replacing it.
start_test "a patch without states, then replaced by one with a state"
load_lp "$S3"
load_lp "$S1"
wait_patch_gone "$S3"
check_patches "$S1"
unload_replaced "$S3"
disable_lp "$S1"
unload_mod "$S1"
check_log <<-EOF
	klptest: insmod $S3
	livepatch: enabling patch '$S3'
	livepatch: '$S3': initializing patching transition
	$S3: pre_patch: state none, previous none, no data
	livepatch: '$S3': starting patching transition
	livepatch: '$S3': completing patching transition
	$S3: post_patch: state none, previous none, no data
	livepatch: '$S3': patching complete
	klptest: insmod $S1
	livepatch: enabling patch '$S1'
	livepatch: '$S1': initializing patching transition
	$S1: pre_patch: state v1, previous none, no data
	$S1: pre_patch: allocated new data
	livepatch: '$S1': starting patching transition
	livepatch: '$S1': completing patching transition
	$S1: post_patch: state v1, previous none, data by $S1 gen 1
	livepatch: '$S1': patching complete
	klptest: rmmod $S3
	klptest: disable $S1
	livepatch: '$S1': initializing unpatching transition
	$S1: pre_unpatch: state v1, previous none, data by $S1 gen 1
	livepatch: '$S1': starting unpatching transition
	livepatch: '$S1': completing unpatching transition
	$S1: post_unpatch: state v1, previous none, data by $S1 gen 1
	$S1: post_unpatch: freeing data by $S1 gen 1
	livepatch: '$S1': unpatching complete
	klptest: rmmod $S1
EOF

klp_pass
