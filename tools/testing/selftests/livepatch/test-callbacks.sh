#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Order and balance of the (un)patch callbacks.
#
# test_klp_callbacks_demo reports every callback of its three objects
# (vmlinux, test_klp_callbacks_mod, test_klp_callbacks_busy) as
#   "<callback>: obj=<object>[ state=<module state>]".
# Each sub-test compares the whole filtered kernel log of the sub-test:
# the core's own lines (enabling/transition/complete, module coming/going)
# and the callbacks, in order.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

DEMO=test_klp_callbacks_demo
DEMO2=test_klp_callbacks_demo2
MOD=test_klp_callbacks_mod
BUSY=test_klp_callbacks_busy
BUSY_HOLD=/sys/module/$BUSY/parameters/hold

klp_setup
klp_require_mod "$DEMO" "$DEMO2" "$MOD" "$BUSY"

# wait_log LINE: wait until LINE shows up in the log of the current sub-test.
wait_log() {
	klp_wait_for "$KLP_WAIT_SECS" klp_log_has "$1" ||
		die "no '$1' in the kernel log after ${KLP_WAIT_SECS}s"
}

# shellcheck disable=SC2317 # called through klp_wait_for
klp_log_has() {
	klp_log_since_start | grep -qxF -- "$1"
}


# release_busy: let the busy module's worker leave test_klp_busy_hold().
release_busy() {
	klp_log "release $BUSY worker"
	echo N > "$BUSY_HOLD" || die "cannot write $BUSY_HOLD"
}

# ---------------------------------------------------------------------------
start_test "target module loaded before the patch"
load_mod "$MOD"
load_lp "$DEMO"
disable_lp "$DEMO"
unload_mod "$DEMO"
unload_mod "$MOD"
check_log <<-EOF
	klptest: insmod $MOD
	$MOD: init
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	$DEMO: pre_patch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	$DEMO: post_patch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': patching complete
	klptest: disable $DEMO
	livepatch: '$DEMO': initializing unpatching transition
	$DEMO: pre_unpatch_callback: obj=vmlinux
	$DEMO: pre_unpatch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	$DEMO: post_unpatch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
	klptest: rmmod $MOD
	$MOD: exit
EOF

# ---------------------------------------------------------------------------
start_test "target module loaded after the patch, unloaded after it"
load_lp "$DEMO"
load_mod "$MOD"
disable_lp "$DEMO"
unload_mod "$DEMO"
unload_mod "$MOD"
check_log <<-EOF
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO': patching complete
	klptest: insmod $MOD
	livepatch: applying patch '$DEMO' to loading module '$MOD'
	$DEMO: pre_patch_callback: obj=$MOD state=COMING
	$DEMO: post_patch_callback: obj=$MOD state=COMING
	$MOD: init
	klptest: disable $DEMO
	livepatch: '$DEMO': initializing unpatching transition
	$DEMO: pre_unpatch_callback: obj=vmlinux
	$DEMO: pre_unpatch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	$DEMO: post_unpatch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
	klptest: rmmod $MOD
	$MOD: exit
EOF

# ---------------------------------------------------------------------------
start_test "target module unloaded while the patch is enabled"
load_mod "$MOD"
load_lp "$DEMO"
unload_mod "$MOD"
disable_lp "$DEMO"
unload_mod "$DEMO"
check_log <<-EOF
	klptest: insmod $MOD
	$MOD: init
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	$DEMO: pre_patch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	$DEMO: post_patch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': patching complete
	klptest: rmmod $MOD
	$MOD: exit
	$DEMO: pre_unpatch_callback: obj=$MOD state=GOING
	livepatch: reverting patch '$DEMO' on unloading module '$MOD'
	$DEMO: post_unpatch_callback: obj=$MOD state=GOING
	klptest: disable $DEMO
	livepatch: '$DEMO': initializing unpatching transition
	$DEMO: pre_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
EOF

# ---------------------------------------------------------------------------
start_test "no target module: only the vmlinux callbacks run"
load_lp "$DEMO"
disable_lp "$DEMO"
unload_mod "$DEMO"
check_log <<-EOF
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO': patching complete
	klptest: disable $DEMO
	livepatch: '$DEMO': initializing unpatching transition
	$DEMO: pre_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
EOF

# ---------------------------------------------------------------------------
start_test "pre_patch fails for vmlinux: the patch is refused"
load_mod_expect_fail "$DEMO" ENODEV fail_obj=vmlinux
check_patches ""
check_log <<-EOF
	klptest: insmod $DEMO fail_obj=vmlinux
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	$DEMO: pre_patch_callback: obj=vmlinux returns -ENODEV
	livepatch: pre-patch callback failed for object 'vmlinux'
	livepatch: failed to enable patch '$DEMO'
	livepatch: '$DEMO': canceling patching transition, going to unpatch
	livepatch: '$DEMO': completing unpatching transition
	livepatch: '$DEMO': unpatching complete
EOF

# ---------------------------------------------------------------------------
# vmlinux's pre_patch succeeded, so its post_unpatch must run to balance it;
# the failed module object gets no other callback.
start_test "pre_patch fails for a loaded module: the patch is refused"
load_mod "$MOD"
load_mod_expect_fail "$DEMO" ENODEV fail_obj="$MOD"
check_patches ""
unload_mod "$MOD"
check_log <<-EOF
	klptest: insmod $MOD
	$MOD: init
	klptest: insmod $DEMO fail_obj=$MOD
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	$DEMO: pre_patch_callback: obj=$MOD state=LIVE
	$DEMO: pre_patch_callback: obj=$MOD returns -ENODEV
	livepatch: pre-patch callback failed for object '$MOD'
	livepatch: failed to enable patch '$DEMO'
	livepatch: '$DEMO': canceling patching transition, going to unpatch
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $MOD
	$MOD: exit
EOF

# ---------------------------------------------------------------------------
start_test "pre_patch fails for a module loaded later: the module is refused"
load_lp "$DEMO" fail_obj="$MOD"
load_mod_expect_fail "$MOD" ENODEV
check_patches "$DEMO"
disable_lp "$DEMO"
unload_mod "$DEMO"
check_log <<-EOF
	klptest: insmod $DEMO fail_obj=$MOD
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO': patching complete
	klptest: insmod $MOD
	livepatch: applying patch '$DEMO' to loading module '$MOD'
	$DEMO: pre_patch_callback: obj=$MOD state=COMING
	$DEMO: pre_patch_callback: obj=$MOD returns -ENODEV
	livepatch: pre-patch callback failed for object '$MOD'
	livepatch: patch '$DEMO' failed for module '$MOD', refusing to load module '$MOD'
	klptest: disable $DEMO
	livepatch: '$DEMO': initializing unpatching transition
	$DEMO: pre_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
EOF

# ---------------------------------------------------------------------------
# The busy module's worker sleeps in the function the patch replaces, so the
# patching transition cannot finish.  Disabling the patch then reverses the
# transition: no post_patch and no pre_unpatch callback ever runs, and every
# successful pre_patch is balanced by a post_unpatch.
start_test "busy target keeps the transition open, disabling reverses it"
load_mod "$BUSY"
wait_log "$BUSY: worker entered test_klp_busy_hold()"
load_lp_nowait "$DEMO"
klp_sleep 1
klp_in_transition "$DEMO" || die "transition of $DEMO is not open while $BUSY holds"
check_file "$KLP_SYSFS/$DEMO/enabled" 1
disable_lp "$DEMO"
unload_mod "$DEMO"
unload_mod "$BUSY"
check_log <<-EOF
	klptest: insmod $BUSY
	$BUSY: init
	$BUSY: worker entered test_klp_busy_hold()
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	$DEMO: pre_patch_callback: obj=$BUSY state=LIVE
	livepatch: '$DEMO': starting patching transition
	klptest: disable $DEMO
	livepatch: '$DEMO': reversing transition from patching to unpatching
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	$DEMO: post_unpatch_callback: obj=$BUSY state=LIVE
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
	klptest: rmmod $BUSY
	$BUSY: worker left test_klp_busy_hold()
	$BUSY: exit
EOF

# ---------------------------------------------------------------------------
# A module coming while the transition is open gets its pre_patch at once,
# but its post_patch only when the whole transition completes.
start_test "target module loaded during an open transition"
load_mod "$BUSY"
wait_log "$BUSY: worker entered test_klp_busy_hold()"
load_lp_nowait "$DEMO"
load_mod "$MOD"
klp_in_transition "$DEMO" || die "transition of $DEMO is not open while $BUSY holds"
release_busy
wait_transition "$DEMO"
disable_lp "$DEMO"
unload_mod "$DEMO"
unload_mod "$MOD"
unload_mod "$BUSY"
check_log <<-EOF
	klptest: insmod $BUSY
	$BUSY: init
	$BUSY: worker entered test_klp_busy_hold()
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	$DEMO: pre_patch_callback: obj=$BUSY state=LIVE
	livepatch: '$DEMO': starting patching transition
	klptest: insmod $MOD
	livepatch: applying patch '$DEMO' to loading module '$MOD'
	$DEMO: pre_patch_callback: obj=$MOD state=COMING
	$MOD: init
	klptest: release $BUSY worker
	$BUSY: worker left test_klp_busy_hold()
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	$DEMO: post_patch_callback: obj=$MOD state=LIVE
	$DEMO: post_patch_callback: obj=$BUSY state=LIVE
	livepatch: '$DEMO': patching complete
	klptest: disable $DEMO
	livepatch: '$DEMO': initializing unpatching transition
	$DEMO: pre_unpatch_callback: obj=vmlinux
	$DEMO: pre_unpatch_callback: obj=$MOD state=LIVE
	$DEMO: pre_unpatch_callback: obj=$BUSY state=LIVE
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	$DEMO: post_unpatch_callback: obj=$MOD state=LIVE
	$DEMO: post_unpatch_callback: obj=$BUSY state=LIVE
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
	klptest: rmmod $MOD
	$MOD: exit
	klptest: rmmod $BUSY
	$BUSY: exit
EOF

# ---------------------------------------------------------------------------
start_test "two stacked patches: each runs its own callbacks"
load_lp "$DEMO"
load_lp "$DEMO2"
check_patches "$DEMO" "$DEMO2"
disable_lp "$DEMO2"
unload_mod "$DEMO2"
disable_lp "$DEMO"
unload_mod "$DEMO"
check_log <<-EOF
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO': patching complete
	klptest: insmod $DEMO2
	livepatch: enabling patch '$DEMO2'
	livepatch: '$DEMO2': initializing patching transition
	$DEMO2: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO2': starting patching transition
	livepatch: '$DEMO2': completing patching transition
	$DEMO2: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO2': patching complete
	klptest: disable $DEMO2
	livepatch: '$DEMO2': initializing unpatching transition
	$DEMO2: pre_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO2': starting unpatching transition
	livepatch: '$DEMO2': completing unpatching transition
	$DEMO2: post_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO2': unpatching complete
	klptest: rmmod $DEMO2
	klptest: disable $DEMO
	livepatch: '$DEMO': initializing unpatching transition
	$DEMO: pre_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': starting unpatching transition
	livepatch: '$DEMO': completing unpatching transition
	$DEMO: post_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO': unpatching complete
	klptest: rmmod $DEMO
EOF

# ---------------------------------------------------------------------------
# Only the new patch's callbacks run; the replaced patch (here also patching
# a loaded module) goes without any of its own.
start_test "atomic replace with callbacks"
load_mod "$MOD"
load_lp "$DEMO"
load_lp "$DEMO2" replace=1
wait_patch_gone "$DEMO"
check_patches "$DEMO2"
unload_replaced "$DEMO"
disable_lp "$DEMO2"
unload_mod "$DEMO2"
unload_mod "$MOD"
check_log <<-EOF
	klptest: insmod $MOD
	$MOD: init
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	$DEMO: pre_patch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	$DEMO: post_patch_callback: obj=$MOD state=LIVE
	livepatch: '$DEMO': patching complete
	klptest: insmod $DEMO2 replace=1
	livepatch: enabling patch '$DEMO2'
	livepatch: '$DEMO2': initializing patching transition
	$DEMO2: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO2': starting patching transition
	livepatch: '$DEMO2': completing patching transition
	$DEMO2: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO2': patching complete
	klptest: rmmod $DEMO
	klptest: disable $DEMO2
	livepatch: '$DEMO2': initializing unpatching transition
	$DEMO2: pre_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO2': starting unpatching transition
	livepatch: '$DEMO2': completing unpatching transition
	$DEMO2: post_unpatch_callback: obj=vmlinux
	livepatch: '$DEMO2': unpatching complete
	klptest: rmmod $DEMO2
	klptest: rmmod $MOD
	$MOD: exit
EOF

# ---------------------------------------------------------------------------
start_test "atomic replace without callbacks"
load_lp "$DEMO"
load_lp "$DEMO2" replace=1 callbacks=0
wait_patch_gone "$DEMO"
check_patches "$DEMO2"
unload_replaced "$DEMO"
disable_lp "$DEMO2"
unload_mod "$DEMO2"
check_log <<-EOF
	klptest: insmod $DEMO
	livepatch: enabling patch '$DEMO'
	livepatch: '$DEMO': initializing patching transition
	$DEMO: pre_patch_callback: obj=vmlinux
	livepatch: '$DEMO': starting patching transition
	livepatch: '$DEMO': completing patching transition
	$DEMO: post_patch_callback: obj=vmlinux
	livepatch: '$DEMO': patching complete
	klptest: insmod $DEMO2 replace=1 callbacks=0
	livepatch: enabling patch '$DEMO2'
	livepatch: '$DEMO2': initializing patching transition
	livepatch: '$DEMO2': starting patching transition
	livepatch: '$DEMO2': completing patching transition
	livepatch: '$DEMO2': patching complete
	klptest: rmmod $DEMO
	klptest: disable $DEMO2
	livepatch: '$DEMO2': initializing unpatching transition
	livepatch: '$DEMO2': starting unpatching transition
	livepatch: '$DEMO2': completing unpatching transition
	livepatch: '$DEMO2': unpatching complete
	klptest: rmmod $DEMO2
EOF

klp_pass
