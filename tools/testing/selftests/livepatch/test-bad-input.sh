#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input: every write below must end in the errno that
# Documentation/ABI/testing/sysfs-kernel-livepatch gives (EINVAL for a
# value that is not a boolean or equals the current one, EBUSY while
# another patch is in transition, EACCES for files without write
# permission or for a writer that is not root), and leave the state of
# every patch as it was:
#   - enabled and force of a settled patch and of one held in transition:
#     "2", "-1", a newline, "abc", 4 KiB and 5000 bytes of text, a NUL
#     byte, the current value, from root and from uid 65534, one at a time
#     and from 8 writers at once;
#   - loading a patch module that is already loaded, and loading a patch
#     while another patch is in transition;
#   - a target module whose init fails while a patch of it is enabled, and
#     a patch naming a function its target module lacks (found out only
#     when that module loads);
#   - unloading and loading a target module while a transition is in
#     progress.
# A write of 0 bytes is no write for sysfs and writing 0 to force does
# nothing: both must succeed and change nothing.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

LP=test_klp_livepatch
LP2=test_klp_livepatch2
T=test_klp_target
H=test_klp_holdpatch
T2=test_klp_target2
TT=test_klp_twotargets
WRITERS=8
NOBODY=65534
REFUSED=0	# inputs that got their error
NOOPS=0		# writes of nothing, accepted without effect
WINNERS=0	# the one writer of many whose write was legitimate
HOLD_OUT=""
READER=""

klp_setup
klp_require_mod "$LP" "$LP2" "$T" "$H" "$T2" "$TT"
for m in "$LP" "$LP2" "$T" "$H" "$T2" "$TT"; do
	! klp_mod_loaded "$m" || die "$m is already loaded"
done
command -v setpriv > /dev/null || skip "setpriv (util-linux) not available"

HOLD_OUT=$(mktemp)
WORK=$(mktemp -d)
klp_at_exit "rm -rf '$HOLD_OUT' '$WORK'"
# Whatever happens, wake all sleepers before the modules are removed.
klp_at_exit "echo 1 > /proc/$T/release"
klp_at_exit "echo 1 > /sys/module/$H/parameters/release"
ERRF=$WORK/err

# The checks use builtins where they can: under TCG with KASAN a fork
# costs a good part of a second.

# get FILE: the first line of FILE in REPLY ("" when unreadable).
get() {
	REPLY=""
	read -r REPLY < "$1" || :
} 2> /dev/null

# expect WHAT FILE VALUE
expect() {
	get "$2"
	[[ $REPLY == "$3" ]] || die "$1: $2 reads '$REPLY', expected '$3'"
}

# errno_name MESSAGE: the errno name of an error message, in REPLY.
errno_name() {
	case $1 in
	*"Invalid argument") REPLY=EINVAL ;;
	*"Permission denied") REPLY=EACCES ;;
	*"Device or resource busy") REPLY=EBUSY ;;
	*"Operation not permitted") REPLY=EPERM ;;
	*"No such file or directory") REPLY=ENOENT ;;
	*) REPLY="UNKNOWN($1)" ;;
	esac
}

# write_as USER FILE DATA: write DATA (no newline added) to FILE as root or
# as uid 65534 (USER root|nobody); OK or the errno name in REPLY.
write_as() {
	local err=""
	if [[ $1 == root ]]; then
		{ printf '%s' "$3" > "$2"; } 2> "$ERRF" && { REPLY=OK; return; }
	else
		# shellcheck disable=SC2016 # expanded by the inner bash
		setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
			bash -c 'printf "%s" "$2" > "$1"' _ "$2" "$3" 2> "$ERRF" &&
			{ REPLY=OK; return; }
	fi
	read -r err < "$ERRF"
	errno_name "$err"
}

# write_nul FILE: write a single NUL byte; OK or the errno name in REPLY.
write_nul() {
	local err=""
	{ printf '\0' > "$1"; } 2> "$ERRF" && { REPLY=OK; return; }
	read -r err < "$ERRF"
	errno_name "$err"
}

get /proc/cmdline
ORIG_CMDLINE=$REPLY

# STATE: the function that checks that nothing changed (set per part).
STATE=:

# try DESC EXPECTED RESULT: count one input, compare its result, run STATE.
try() {
	[[ $3 == "$2" ]] || die "$1: got $3, expected $2"
	if [[ $2 == OK ]]; then
		NOOPS=$((NOOPS + 1))
	else
		REFUSED=$((REFUSED + 1))
	fi
	"$STATE" "after $1"
}

# try_write FILE DATA EXPECTED [USER]: write DATA to FILE as USER (root).
try_write() {
	local shown=$2
	((${#shown} > 16)) && shown="${#2} bytes of '${2:0:1}'"
	[[ $2 == $'\n' ]] && shown='\n'
	write_as "${4:-root}" "$1" "$2"
	try "writing '$shown' to $1${4:+ as $4}" "$3" "$REPLY"
}

# try_concurrent FILE DATA EXPECTED: WRITERS writers write DATA to FILE at
# the same moment (released together through a FIFO); EXPECTED is the
# sorted list of their results, e.g. "EINVAL=7 OK=1".
try_concurrent() {
	local file=$1 data=$2 i keep pids=() got="" ok=0 r
	local -A count=()
	rm -f "$WORK"/res.* "$WORK/go"
	mkfifo "$WORK/go"
	exec {keep}<> "$WORK/go"
	for ((i = 0; i < WRITERS; i++)); do
		(
			# shellcheck disable=SC2030 # this writer's own error file
			ERRF=$WORK/err.$i
			read -r -t 30 _ <> "$WORK/go"
			write_as root "$file" "$data"
			echo "$REPLY" > "$WORK/res.$i"
		) &
		pids+=($!)
	done
	sleep 1
	for ((i = 0; i < WRITERS; i++)); do echo go; done >&"$keep"
	for i in "${pids[@]}"; do wait "$i"; done
	exec {keep}>&-
	for ((i = 0; i < WRITERS; i++)); do
		read -r r < "$WORK/res.$i"
		count[$r]=$((${count[$r]:-0} + 1))
	done
	for r in EBUSY EINVAL OK; do
		[[ -n ${count[$r]:-} ]] && got+=" $r=${count[$r]}"
	done
	got=${got# }
	[[ $got == "$3" ]] || die "$WRITERS writers of '$data' to $file at once: got $got, expected $3"
	ok=${count[OK]:-0}
	if ((ok == WRITERS)); then
		NOOPS=$((NOOPS + ok))
	else
		WINNERS=$((WINNERS + ok))
	fi
	REFUSED=$((REFUSED + WRITERS - ok))
	"$STATE" "after $WRITERS writers of '$data' to $file"
}

# check_patch PATCH ENABLED TRANSITION
check_patch() {
	expect "$1" "$KLP_SYSFS/$1/enabled" "$2"
	expect "$1" "$KLP_SYSFS/$1/transition" "$3"
}

# check_patches NAME...: /sys/kernel/livepatch holds exactly these patches.
check_patches() {
	local d got=""
	for d in "$KLP_SYSFS"/*; do
		[[ -e $d ]] && got+=" ${d##*/}"
	done
	check_eq "patches in $KLP_SYSFS" "$*" "${got# }"
}

# shellcheck disable=SC2317 # called through klp_wait_for
sleepers_are() {
	get "$1"
	[[ $REPLY == "$2" ]]
}

# start_reader COUNTFILE: a reader of /proc/$T/hold, sleeping in the
# function whose sleeper count COUNTFILE shows.
start_reader() {
	: > "$HOLD_OUT"
	cat "/proc/$T/hold" > "$HOLD_OUT" &
	READER=$!
	klp_wait_for 10 sleepers_are "$1" 1 || die "the reader did not start sleeping ($1)"
}

# release_reader RELEASEFILE EXPECTED: wake the reader, check what it read.
release_reader() {
	echo 1 > "$1"
	wait "$READER" || die "the reader failed"
	READER=""
	check_file "$HOLD_OUT" "$2"
}

# expect_held PATCH: PATCH's transition stays open (the reader sleeps).
expect_held() {
	sleep 1
	klp_in_transition "$1" || die "transition of $1 ended while the reader slept"
}

BIG4K=$(printf 'x%.0s' {1..4096})
BIG5K=$(printf 'y%.0s' {1..5000})

# ---------------------------------------------------------------------------
start_test "bad writes to a settled patch"
load_lp "$LP"
ELP=$KLP_SYSFS/$LP
# shellcheck disable=SC2317 # called through $STATE
lp_unchanged() {
	check_patches "$LP"
	check_patch "$LP" 1 0
	expect "$1" /proc/cmdline "$LP: cmdline replaced"
}
STATE=lp_unchanged
for v in 2 -1 $'\n' abc "$BIG4K" "$BIG5K" 1 $'1\n' y on " 0" +0 o; do
	try_write "$ELP/enabled" "$v" EINVAL
done
write_nul "$ELP/enabled"
try "writing a NUL byte to $ELP/enabled" EINVAL "$REPLY"
try_write "$ELP/enabled" "" OK
for v in 2 -1 $'\n' abc "$BIG4K" "$BIG5K" 1 y; do
	try_write "$ELP/force" "$v" EINVAL
done
write_nul "$ELP/force"
try "writing a NUL byte to $ELP/force" EINVAL "$REPLY"
try_write "$ELP/force" 0 OK
try_write "$ELP/force" "" OK
try_write "$ELP/transition" 0 EACCES
try_write "$ELP/vmlinux/patched" 0 EACCES
# shellcheck disable=SC2031 # ERRF is only changed in the writers' subshells
{ read -r _ < "$ELP/force"; } 2> "$ERRF" && die "reading $ELP/force succeeded"
# shellcheck disable=SC2031
read -r REPLY < "$ERRF"
errno_name "$REPLY"
try "reading $ELP/force" EACCES "$REPLY"
try_write "$ELP/enabled" 0 EACCES nobody
try_write "$ELP/enabled" 1 EACCES nobody
try_write "$ELP/force" 1 EACCES nobody
try_write "$ELP/force" 0 EACCES nobody
try_concurrent "$ELP/enabled" 1 "EINVAL=$WRITERS"
try_concurrent "$ELP/enabled" abc "EINVAL=$WRITERS"
try_concurrent "$ELP/force" 1 "EINVAL=$WRITERS"
try_concurrent "$ELP/force" 0 "OK=$WRITERS"
check_log <<EOF
klptest: insmod $LP
$(log_enable_lines "$LP")
EOF

start_test "loading a patch module that is already loaded"
if klp_insmod "$LP"; then
	die "loading $LP a second time succeeded"
fi
try "loading $LP a second time" EEXIST "$(klp_errno_of "$KLP_INSMOD_ERR")"
check_log <<EOF
klptest: insmod $LP
EOF

# ---------------------------------------------------------------------------
start_test "bad writes while a transition is held open"
load_mod "$T"
load_lp "$H" hold_new=1
EH=$KLP_SYSFS/$H
start_reader "/sys/module/$H/parameters/sleepers"
# shellcheck disable=SC2317 # called through $STATE
h_unpatching() {
	check_patches "$H $LP"
	check_patch "$H" 0 1
	check_patch "$LP" 1 0
	expect "$1" /proc/cmdline "$LP: cmdline replaced"
}
disable_lp_nowait "$H"
STATE=h_unpatching
expect_held "$H"
h_unpatching "after writing 0 to $EH/enabled"
for v in 0 2 -1 $'\n' abc "$BIG4K" n; do
	try_write "$EH/enabled" "$v" EINVAL
done
for v in 2 abc "$BIG4K"; do
	try_write "$EH/force" "$v" EINVAL
done
try_write "$EH/force" 0 OK
try_write "$EH/enabled" 1 EACCES nobody
try_write "$EH/force" 1 EACCES nobody
try_write "$ELP/enabled" 0 EBUSY
if klp_insmod "$LP2"; then
	die "loading $LP2 during the transition of $H succeeded"
fi
try "loading $LP2 during the transition of $H" EBUSY "$(klp_errno_of "$KLP_INSMOD_ERR")"
! klp_mod_loaded "$LP2" || die "$LP2 loaded"
klp_patch_gone "$LP2" || die "$KLP_SYSFS/$LP2 left behind"
try_concurrent "$EH/enabled" 0 "EINVAL=$WRITERS"
try_concurrent "$EH/force" abc "EINVAL=$WRITERS"
try_concurrent "$EH/force" 0 "OK=$WRITERS"
try_concurrent "$ELP/enabled" 0 "EBUSY=$WRITERS"
expect_held "$H"

# One of many writers of 1 reverses the transition; the others are refused.
# shellcheck disable=SC2317 # called through $STATE
h_reversed() {
	wait_transition "$H"
	check_patches "$H $LP"
	check_patch "$H" 1 0
	check_patch "$LP" 1 0
}
STATE=h_reversed
try_concurrent "$EH/enabled" 1 "EINVAL=$((WRITERS - 1)) OK=1"
# And one of many writers of 0 starts the unpatching transition again.
STATE=h_unpatching
try_concurrent "$EH/enabled" 0 "EINVAL=$((WRITERS - 1)) OK=1"
expect_held "$H"
STATE=:
release_reader "/sys/module/$H/parameters/release" "$H: released"
wait_patch_gone "$H"
unload_mod "$H"
check_patches "$LP"
# What the core logs when it refuses $LP2 is its own business.
KLP_LOG_DROP+="|^livepatch: .*$LP2"
check_log <<EOF
klptest: insmod $T
$T: module loaded
klptest: insmod $H hold_new=1
$(log_enable_lines "$H")
klptest: disable $H
livepatch: '$H': initializing unpatching transition
livepatch: '$H': starting unpatching transition
klptest: insmod $LP2
livepatch: '$H': reversing transition from unpatching to patching
livepatch: '$H': starting patching transition
livepatch: '$H': completing patching transition
livepatch: '$H': patching complete
livepatch: '$H': initializing unpatching transition
livepatch: '$H': starting unpatching transition
livepatch: '$H': completing unpatching transition
livepatch: '$H': unpatching complete
klptest: rmmod $H
EOF
KLP_LOG_DROP=${KLP_LOG_DROP%"|^livepatch: .*$LP2"}
unload_lp "$LP"
expect "after unloading $LP" /proc/cmdline "$ORIG_CMDLINE"

# ---------------------------------------------------------------------------
start_test "a target module whose init fails"
load_lp "$TT"
check_file "$KLP_SYSFS/$TT/$T/patched" 1
check_file "$KLP_SYSFS/$TT/$T2/patched" 0
# shellcheck disable=SC2317 # called through $STATE
tt_without_t2() {
	check_patches "$TT"
	check_patch "$TT" 1 0
	expect "$1" "$KLP_SYSFS/$TT/$T2/patched" 0
	! klp_mod_loaded "$T2" || die "$T2 loaded $1"
	[[ ! -e /proc/$T2 ]] || die "/proc/$T2 left behind $1"
}
STATE=tt_without_t2
if klp_insmod "$T2" init_err=-19; then
	die "$T2 init_err=-19 loaded"
fi
try "loading $T2 whose init fails with -19" ENODEV "$(klp_errno_of "$KLP_INSMOD_ERR")"
load_mod "$T2"
check_file "$KLP_SYSFS/$TT/$T2/patched" 1
check_file "/proc/$T2" "$TT: patched greeting"
unload_mod "$T2"
STATE=:
tt_without_t2 "after unloading $T2"
disable_lp "$TT"
unload_mod "$TT"
check_log <<EOF
klptest: insmod $TT
$(log_enable_lines "$TT")
klptest: insmod $T2 init_err=-19
livepatch: applying patch '$TT' to loading module '$T2'
$T2: init: $TT: patched greeting
$T2: init fails with -19
livepatch: reverting patch '$TT' on unloading module '$T2'
klptest: insmod $T2
livepatch: applying patch '$TT' to loading module '$T2'
$T2: init: $TT: patched greeting
$T2: module loaded
klptest: rmmod $T2
$T2: module unloaded
livepatch: reverting patch '$TT' on unloading module '$T2'
klptest: disable $TT
$(log_disable_lines "$TT")
klptest: rmmod $TT
EOF

# ---------------------------------------------------------------------------
start_test "unloading and loading a target module during a transition"
load_mod "$T2"
check_file "/proc/$T2" "$T2: unpatched greeting"
start_reader "/proc/$T/sleepers"
load_lp_nowait "$TT"
expect_held "$TT"
check_file "$KLP_SYSFS/$TT/$T2/patched" 1
unload_mod "$T2"
expect_held "$TT"
check_file "$KLP_SYSFS/$TT/$T2/patched" 0
check_patch "$TT" 1 1
load_mod "$T2"
expect_held "$TT"
check_file "$KLP_SYSFS/$TT/$T2/patched" 1
unload_mod "$T2"
check_patch "$TT" 1 1
release_reader "/proc/$T/release" "$T: released"
wait_transition "$TT"
load_mod "$T2"
check_file "$KLP_SYSFS/$TT/$T2/patched" 1
check_file "/proc/$T2" "$TT: patched greeting"
check_file "/proc/$T/hold" "$TT: not held"
disable_lp "$TT"
check_file "/proc/$T2" "$T2: unpatched greeting"
unload_mod "$TT"
unload_mod "$T2"
# Which function the init of $T2 runs while the patch is in transition
# depends on the patch state insmod inherited: not checked.
KLP_LOG_DROP+="|^$T2: init: "
check_log <<EOF
klptest: insmod $T2
$T2: module loaded
klptest: insmod $TT
livepatch: enabling patch '$TT'
livepatch: '$TT': initializing patching transition
livepatch: '$TT': starting patching transition
klptest: rmmod $T2
$T2: module unloaded
livepatch: reverting patch '$TT' on unloading module '$T2'
klptest: insmod $T2
livepatch: applying patch '$TT' to loading module '$T2'
$T2: module loaded
klptest: rmmod $T2
$T2: module unloaded
livepatch: reverting patch '$TT' on unloading module '$T2'
livepatch: '$TT': completing patching transition
livepatch: '$TT': patching complete
klptest: insmod $T2
livepatch: applying patch '$TT' to loading module '$T2'
$T2: module loaded
klptest: disable $TT
$(log_disable_lines "$TT")
klptest: rmmod $TT
klptest: rmmod $T2
$T2: module unloaded
EOF
KLP_LOG_DROP=${KLP_LOG_DROP%"|^$T2: init: "}

# ---------------------------------------------------------------------------
start_test "a patch naming a function its target module lacks"
load_lp "$TT" bad_name=1
STATE=tt_without_t2
if klp_insmod "$T2"; then
	die "$T2 loaded although $TT names a function it lacks"
fi
try "loading $T2 while $TT names a function it lacks" EINVAL "$(klp_errno_of "$KLP_INSMOD_ERR")"
klp_log_filtered | grep -qF "refusing to load module '$T2'" ||
	die "no log line refusing to load $T2"
STATE=:
disable_lp "$TT"
unload_mod "$TT"
unload_mod "$T"
check_patches ""

klp_info "also: $NOOPS writes of nothing (0 bytes, or 0 to force) accepted without effect, $WINNERS writers out of groups of $WRITERS that won"
echo "bad input: $REFUSED inputs tried, all refused cleanly"
klp_pass
