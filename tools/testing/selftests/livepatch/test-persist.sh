#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Patches that survive a reboot, and a load that reports: klpctl load,
# install, uninstall, list --installed and load-installed, the loader that
# klpctl-load-installed.service runs at boot (tools/livepatch), run here
# directly.  The state directory and the kernel command line it reads come
# from KLPCTL_STATE_DIR and KLPCTL_CMDLINE, so that the test can install
# into a directory of its own and try livepatch.disable_installed=1.
#
# klpctl is userspace: everything here works alike on stock 6.1, except
# that stock has no transition_blockers and klpctl names the tasks that
# hold up a transition from their patch_state instead (without a reason).
# klpctl is looked up in PATH, or set KLPCTL.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

L=test_klp_livepatch
L2=test_klp_livepatch2
B=test_klp_bad_null_patch
T=test_klp_target
P=test_klp_holdpatch
PROC=/proc/$T

klp_setup
klp_require_mod "$L" "$L2" "$B" "$T" "$P"
for m in "$L" "$L2" "$B" "$T" "$P"; do
	klp_mod_loaded "$m" && die "$m is already loaded"
done
KLPCTL=${KLPCTL:-$(command -v klpctl)} ||
	skip "klpctl not found in PATH (build tools/livepatch, or set KLPCTL)"

WORK=$(mktemp -d) || die "mktemp -d failed"
klp_at_exit "rm -rf '$WORK'"
export KLPCTL_STATE_DIR=$WORK/state KLPCTL_CMDLINE=$WORK/cmdline
DIR=$KLPCTL_STATE_DIR/$(uname -r)
echo "console=ttyS0 livepatch.disable_installed=0 quiet" > "$KLPCTL_CMDLINE"
KO_L=$(mod_path "$L")
KO_L2=$(mod_path "$L2")
KO_B=$(mod_path "$B")
KO_T=$(mod_path "$T")
KO_P=$(mod_path "$P")
HOLD_OUT=$WORK/hold.out
# Whatever happens, wake the reader before the modules are removed.
klp_at_exit "echo 1 > '$PROC/release'"

# ms_free TEXT: TEXT with the times of "... after N ms" lines replaced by
# N, and without the lists of blocking tasks that klpctl prints while a
# transition it waits for takes longer than half a second ("PATCH: patching
# transition waits for:", then a line "  pid N (COMM...)" per task, and
# "  ... and N more" after the first few when they come from patch_state).
# Whether such a list appears depends on how soon the kernel completes the
# transition (stock 6.1 retries once a second, and a busy host delays
# either), not on klpctl; the test that times out checks the list itself.
# A header without a task line after it stays in, and fails the check.
ms_free() {
	awk '/: patching transition waits for:$/ {
		if (held != "" && !tasks) print held
		held = $0; tasks = 0; next }
	     held != "" && /^  (pid [0-9]+ \(|\.\.\. and [0-9]+ more$)/ { tasks = 1; next }
	     { if (held != "" && !tasks) print held
	       held = ""; tasks = 0
	       sub(/ after [0-9]+ ms$/, " after N ms"); print }
	     END { if (held != "" && !tasks) print held }' <<< "$1"
}
# What ms_free drops and what it keeps.
check_eq "ms_free, a list of blocking tasks" "$L: module loaded from x
$L: patching complete after N ms" "$(ms_free "$L: module loaded from x
$L: patching transition waits for:
  pid 0 (swapper/0)
  ... and 2 more
$L: patching transition waits for:
  pid 12 (cat, user task): in-patched-function f
$L: patching complete after 1234 ms")"
check_eq "ms_free, a list without tasks" "$L: patching transition waits for:
  1. $L: loaded" "$(ms_free "$L: patching transition waits for:
  1. $L: loaded")"

# expect_out WHAT EXPECTED: klpctl's standard output, without times, must
# be EXPECTED, and its standard error empty.
expect_out() {
	check_eq "$1: stdout" "$2" "$(ms_free "$KLPCTL_OUT")"
	check_eq "$1: stderr" "" "$KLPCTL_ERR"
}

# expect_err WHAT EXPECTED: klpctl's standard error must be EXPECTED.
expect_err() {
	check_eq "$1: stderr" "$2" "$KLPCTL_ERR"
}

# check_log_without_b < EXPECTED: check_log, with the lines of the livepatch
# core that name $B dropped: where 6.1 prints nothing for a NULL patch, an
# implementation may add lines that name the module (as in
# test-validation.sh).
check_log_without_b() {
	local KLP_LOG_DROP="$KLP_LOG_DROP|^livepatch: .*$B"
	check_log
}

start_test "klpctl load: a patch whose transition completes, exit 0; refusals"
klp_log "klpctl load $L"
run_klpctl 0 load "$KO_L"
klp_track "$L"
expect_out "klpctl load $L" "$L: module loaded from $KO_L
$L: patching complete after N ms"
check_file "$KLP_SYSFS/$L/enabled" 1
check_file "$KLP_SYSFS/$L/transition" 0
run_klpctl 1 load "$KO_L" --timeout 5
check_eq "klpctl load $L again: stdout" "" "$KLPCTL_OUT"
expect_err "klpctl load $L again" "klpctl: the live patch '$L' is already loaded ('klpctl list')"
run_klpctl 1 load "$KO_T"
expect_err "klpctl load $T" "klpctl: $KO_T (module $T) is not a live patch module: no livepatch=Y in .modinfo"
klp_mod_loaded "$T" && die "klpctl load loaded $T, which is no live patch"
run_klpctl 1 load "$WORK/none.ko"
expect_err "klpctl load of a missing file" "klpctl: cannot open $WORK/none.ko: No such file or directory"
run_klpctl 2 load
unload_lp "$L"
check_log <<EOF
klptest: klpctl load $L
$(log_enable_lines "$L")
klptest: disable $L
$(log_disable_lines "$L")
klptest: rmmod $L
EOF

start_test "klpctl load: a transition held by a task times out, exit 3, and names it"
load_mod "$T"
klp_start_reader "$PROC/hold" "$HOLD_OUT" "$PROC/sleepers"
klp_log "klpctl load $P"
run_klpctl 3 load "$KO_P" --timeout 3
klp_track "$P"
if [[ -e $KLP_SYSFS/$P/transition_blockers ]]; then
	blocker="  pid $READER (cat, user task): in-patched-function test_klp_target_hold"
	tasks="1 task still to switch; "
else
	klp_info "no transition_blockers (stock 6.1?): klpctl names the task from its patch_state"
	blocker="  pid $READER (cat)"
	tasks=""
fi
# While it waits, klpctl prints the blocking tasks whenever they change;
# the last list holds the reader only.
has_line "klpctl load $P: stdout" "$KLPCTL_OUT" "$P: module loaded from $KO_P"
check_eq "klpctl load $P: first line" "$P: module loaded from $KO_P" "$(head -n 1 <<< "$KLPCTL_OUT")"
check_eq "klpctl load $P: the last list of blocking tasks" "$P: patching transition waits for:
$blocker" "$(awk '/waits for:$/ { last = "" } { last = last $0 "\n" } END { printf "%s", last }' <<< "$KLPCTL_OUT")"
expect_err "klpctl load $P --timeout 3" "klpctl: timed out after 3 s: '$P' is still patching
klpctl: blocking tasks:
$blocker
klpctl: ${tasks}the transition goes on in the background; 'klpctl status $P' shows what blocks it
klpctl: 'klpctl disable $P' reverses the transition (safe)"
check_file "$KLP_SYSFS/$P/enabled" 1
check_file "$KLP_SYSFS/$P/transition" 1
klp_log "release"
echo 1 > "$PROC/release"
wait "$READER" || die "the reader failed"
check_file "$HOLD_OUT" "$T: released"
wait_transition "$P"
unload_lp "$P"
unload_mod "$T"
check_log <<EOF
klptest: insmod $T
$T: module loaded
klptest: klpctl load $P
livepatch: enabling patch '$P'
livepatch: '$P': initializing patching transition
livepatch: '$P': starting patching transition
klptest: release
livepatch: '$P': completing patching transition
livepatch: '$P': patching complete
klptest: disable $P
$(log_disable_lines "$P")
klptest: rmmod $P
klptest: rmmod $T
$T: module unloaded
EOF

start_test "klpctl install keeps the order of installation; list --installed; load-installed"
run_klpctl 0 list --installed
expect_out "klpctl list --installed, nothing installed" "no live patches installed for $(uname -r) ($DIR)"
run_klpctl 0 load-installed
expect_out "klpctl load-installed, nothing installed" "no live patches installed in $DIR"
# $L2 before $L: the order of installation, not of the names.
run_klpctl 0 install "$KO_L2"
expect_out "klpctl install $L2" "$L2: installed as $DIR/0001-$L2.ko (1 of 1 in load order)"
run_klpctl 0 install "$KO_L"
expect_out "klpctl install $L" "$L: installed as $DIR/0002-$L.ko (2 of 2 in load order)"
run_klpctl 1 install "$KO_T"
expect_err "klpctl install $T" "klpctl: $KO_T (module $T) is not a live patch module: no livepatch=Y in .modinfo"
run_klpctl 0 install "$KO_L2"
expect_out "klpctl install $L2 again" "$L2: installed again, in its place, as $DIR/0001-$L2.ko (1 of 2 in load order)"
check_eq "files in $DIR" "0001-$L2.ko 0002-$L.ko" "$(cd "$DIR" && echo *)"
cmp -s "$KO_L2" "$DIR/0001-$L2.ko" || die "$DIR/0001-$L2.ko differs from $KO_L2"
run_klpctl 0 list --installed
expect_out "klpctl list --installed" "live patches installed for $(uname -r) ($DIR), in load order:
  1. $L2: not loaded
  2. $L: not loaded"
klp_log "klpctl load-installed"
run_klpctl 0 load-installed
klp_track "$L2"
klp_track "$L"
expect_out "klpctl load-installed" "loading 2 installed live patches from $DIR
$L2: module loaded from $DIR/0001-$L2.ko
$L2: patching complete after N ms
$L: module loaded from $DIR/0002-$L.ko
$L: patching complete after N ms
loaded 2 installed live patches"
# Both patch cmdline_proc_show(); the one loaded last is the one that runs.
check_file /proc/cmdline "$L: cmdline replaced"
run_klpctl 0 list --installed
expect_out "klpctl list --installed, loaded" "live patches installed for $(uname -r) ($DIR), in load order:
  1. $L2: loaded
  2. $L: loaded"
run_klpctl 0 load-installed
expect_out "klpctl load-installed, again" "loading 2 installed live patches from $DIR
$L2: already loaded
$L: already loaded
loaded 2 installed live patches"
unload_lp "$L"
unload_lp "$L2"
check_log <<EOF
klptest: klpctl load-installed
$(log_enable_lines "$L2")
$(log_enable_lines "$L")
klptest: disable $L
$(log_disable_lines "$L")
klptest: rmmod $L
klptest: disable $L2
$(log_disable_lines "$L2")
klptest: rmmod $L2
EOF

start_test "klpctl load-installed stops at the first patch that fails"
run_klpctl 0 uninstall "$L"
expect_out "klpctl uninstall $L" "$L: uninstalled (removed $DIR/0002-$L.ko)"
run_klpctl 0 install "$KO_B"
expect_out "klpctl install $B" "$B: installed as $DIR/0002-$B.ko (2 of 2 in load order)"
run_klpctl 0 install "$KO_L"
expect_out "klpctl install $L" "$L: installed as $DIR/0003-$L.ko (3 of 3 in load order)"
run_klpctl 0 list --installed
expect_out "klpctl list --installed" "live patches installed for $(uname -r) ($DIR), in load order:
  1. $L2: not loaded
  2. $B: not loaded
  3. $L: not loaded"
klp_log "klpctl load-installed"
run_klpctl 1 load-installed
klp_track "$L2"
check_eq "klpctl load-installed: stdout" "loading 3 installed live patches from $DIR
$L2: module loaded from $DIR/0001-$L2.ko
$L2: patching complete after N ms" "$(ms_free "$KLPCTL_OUT")"
expect_err "klpctl load-installed" "klpctl: the kernel refused $B ($DIR/0002-$B.ko): Invalid argument; see the kernel log (dmesg)
klpctl: stopped at $B (2 of 3): not loaded: $L
klpctl: to boot without the installed live patches, add livepatch.disable_installed=1 to the kernel command line; 'klpctl uninstall $B' removes this one"
klp_mod_loaded "$B" && die "$B loaded"
klp_mod_loaded "$L" && die "$L loaded after the failure of $B"
check_patches "$L2"
unload_lp "$L2"
check_log_without_b <<EOF
klptest: klpctl load-installed
$(log_enable_lines "$L2")
$B: klp_enable_patch() returned -22
klptest: disable $L2
$(log_disable_lines "$L2")
klptest: rmmod $L2
EOF

start_test "livepatch.disable_installed=1 skips load-installed; uninstall"
echo "console=ttyS0 livepatch.disable_installed=1 quiet" > "$KLPCTL_CMDLINE"
klp_log "klpctl load-installed"
run_klpctl 0 load-installed
expect_out "klpctl load-installed with livepatch.disable_installed=1" "livepatch.disable_installed=1 on the kernel command line ($KLPCTL_CMDLINE): not loading the live patches installed in $DIR"
check_patches
run_klpctl 0 uninstall "$B"
expect_out "klpctl uninstall $B" "$B: uninstalled (removed $DIR/0002-$B.ko)"
run_klpctl 0 uninstall "$L2"
expect_out "klpctl uninstall $L2" "$L2: uninstalled (removed $DIR/0001-$L2.ko)"
run_klpctl 0 list --installed
expect_out "klpctl list --installed, one left" "live patches installed for $(uname -r) ($DIR), in load order:
  1. $L: not loaded"
run_klpctl 0 uninstall "$L"
expect_out "klpctl uninstall $L" "$L: uninstalled (removed $DIR/0003-$L.ko)"
run_klpctl 4 uninstall "$L"
expect_err "klpctl uninstall $L again" "klpctl: no installed live patch '$L' in $DIR ('klpctl list --installed' shows them)"
run_klpctl 2 uninstall ../x
check_eq "files in $DIR" "" "$(find "$DIR" -mindepth 1)"
run_klpctl 0 list --installed
expect_out "klpctl list --installed, all uninstalled" "no live patches installed for $(uname -r) ($DIR)"
check_log <<EOF
klptest: klpctl load-installed
EOF

klp_pass
