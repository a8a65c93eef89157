#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the livepatch selftests.  A test script does:
#
#	. "$(dirname "$0")/functions.sh"
#	klp_setup
#	start_test "what this part checks"
#	load_lp test_klp_livepatch
#	check_log <<-EOF
#	klptest: insmod test_klp_livepatch
#	livepatch: enabling patch 'test_klp_livepatch'
#	...
#	EOF
#	klp_pass
#
# Every helper that checks something ends the test with exit 1 (via die)
# when the check does not hold, after undoing what the test left loaded.
# Exit codes follow kselftest: 0 pass, 1 fail, 4 skip.

KLP_SYSFS=/sys/kernel/livepatch
KLP_DYNDBG=/proc/dynamic_debug/control
KLP_DEVKMSG=/proc/sys/kernel/printk_devkmsg

# Upper bound, in seconds, for every wait on the kernel (override from env).
KLP_WAIT_SECS=${KLP_WAIT_SECS:-30}
# Upper bound of a reader's sleep in a held function (the hold_secs
# parameter of test_klp_target and test_klp_holdpatch, 60 by default): the
# tests release their readers themselves, and on a slow guest (the debug
# kernel under TCG, an exec taking seconds) the steps while one sleeps took
# more than 60 s, so the reader left on its own and the transition under
# test ended early.
# shellcheck disable=SC2034 # the tests use it
KLP_HOLD_SECS=600
# How long check_log keeps re-reading the log before declaring a mismatch.
KLP_LOG_WAIT_SECS=${KLP_LOG_WAIT_SECS:-3}
# Kernel log lines that check_log compares (extended regex, after timestamps
# are stripped).  Tests may append alternatives for their own modules.
KLP_LOG_KEEP=${KLP_LOG_KEEP:-'^(livepatch|klptest|test_klp_[A-Za-z0-9_]+|livepatch_[A-Za-z0-9_]+): '}
# Kept lines that are dropped anyway: per-task debug chatter of the transition
# code ("livepatch: <function>: <comm>:<pid> is running"), the one-time taint
# notice, the signalling of stuck tasks and the re-pointing of cond_resched()
# under preempt=full (asked for by a busy kernel thread, undone 5 s after the
# transition), none of which a test can predict.
KLP_LOG_DROP=${KLP_LOG_DROP:-'^livepatch: [a-z_][a-z0-9_]*: [^ ]*:[0-9]+ |tainting kernel with TAINT_LIVEPATCH|^livepatch: signaling remaining tasks|^livepatch: cond_resched\(\) '}

KLP_TEST_NAME=$(basename "$0")
KLP_MARK=""
KLP_LOADED=()
KLP_AT_EXIT=()
KLP_SAVED_DEVKMSG=""
KLP_SAVED_DYNDBG=()
KLP_SETUP_DONE=0

# klp_log TEXT: write "klptest: TEXT" to the kernel log, so it shows in order.
klp_log() {
	echo "klptest: $*" > /dev/kmsg
}

# klp_info TEXT: print a progress line on the test's stdout.
klp_info() {
	echo "$KLP_TEST_NAME: $*"
}

# die TEXT: report a failure, clean up and exit 1 (kselftest FAIL).
die() {
	echo "$KLP_TEST_NAME: FAIL: $*" >&2
	exit 1
}

# skip TEXT: report why the test cannot run here, clean up and exit 4 (SKIP).
skip() {
	echo "$KLP_TEST_NAME: SKIP: $*"
	exit 4
}

# Which livepatch implementation the kernel runs: "ours" (this project's),
# "stock" (Linux 6.1's) or "" (not said).  KLP_UNDER_TEST in the
# environment, else klp.impl= on the kernel command line, which the harness
# sets (harness/run-vm.sh).
if [[ -z ${KLP_UNDER_TEST+x} ]]; then
	KLP_UNDER_TEST=""
	for KLP_ARG in $(< /proc/cmdline); do
		[[ $KLP_ARG == klp.impl=* ]] && KLP_UNDER_TEST=${KLP_ARG#klp.impl=}
	done
	unset KLP_ARG
fi

# klp_lacks TEXT: the kernel lacks a feature that this implementation has and
# stock 6.1 does not (TEXT says which).  On this implementation that is a
# regression: FAIL.  Elsewhere (stock, or a kernel nobody named) a SKIP.
klp_lacks() {
	[[ $KLP_UNDER_TEST != ours ]] || die "this implementation lacks a feature of its own: $*"
	skip "$*"
}

# klp_lacks_part TEXT: the same for one part of a test: FAIL on this
# implementation; elsewhere a "SKIP: TEXT" line, and the test goes on.
klp_lacks_part() {
	[[ $KLP_UNDER_TEST != ours ]] || die "this implementation lacks a feature of its own: $*"
	klp_info "SKIP: $*"
}

# klp_preempt_full: true when the kernel runs the full preemption model
# (the one in parentheses in /sys/kernel/debug/sched/preempt with
# PREEMPT_DYNAMIC, else a static CONFIG_PREEMPT kernel).
klp_preempt_full() {
	local line
	if [[ -r /sys/kernel/debug/sched/preempt ]]; then
		read -r line < /sys/kernel/debug/sched/preempt
		[[ $line == *"(full)"* ]]
		return
	fi
	[[ " $(uname -v) " == *" PREEMPT "* ]]
}

# klp_pass: report success and exit 0 (kselftest PASS).
klp_pass() {
	echo "$KLP_TEST_NAME: PASS"
	exit 0
}

# klp_at_exit CMD...: run CMD (best effort) when the test exits, newest first.
klp_at_exit() {
	KLP_AT_EXIT+=("$*")
}

# The helpers below that run in loops avoid starting programs: under QEMU
# TCG every fork and exec of a dynamically linked program costs tens of
# milliseconds, which made up most of the suite's time.

# klp_read FILE: the contents of FILE, without trailing newlines, in REPLY;
# no program is started.  Returns 1 (REPLY empty) when FILE is unreadable.
klp_read() {
	REPLY=""
	[[ -r $1 ]] || return 1
	IFS= read -r -d '' REPLY < "$1"
	while [[ $REPLY == *$'\n' ]]; do
		REPLY=${REPLY%$'\n'}
	done
	return 0
} 2> /dev/null

# klp_call_mode FILE:FUNC: the mode that an object's "calls" file FILE
# (this implementation; lines "<mode, padded> <function,sympos>") gives for
# FUNC, into REPLY; false when FILE cannot be read or has no line for FUNC.
klp_call_mode() {
	local file=${1%:*} func=${1##*:} line mode
	klp_read "$file" || return 1
	while IFS= read -r line; do
		if [[ ${line##* } == "$func" ]]; then
			mode=${line% *}
			REPLY=${mode%"${mode##*[! ]}"}
			return 0
		fi
	done <<< "$REPLY"
	REPLY=""
	return 1
}

# klp_calls_line MODE FUNC: a line of a calls file, as the kernel pads it.
klp_calls_line() {
	printf '%-21s %s' "$1" "$2"
}

# check_call FILE:FUNC EXPECTED: FUNC's line of the calls file FILE gives
# the mode EXPECTED.
check_call() {
	klp_call_mode "$1" || die "no line for ${1##*:} in ${1%:*}"
	check_eq "calls of ${1##*:} (${1%:*})" "$2" "$REPLY"
}

# klp_file_is FILE TEXT: true when FILE reads TEXT (klp_read).
klp_file_is() {
	klp_read "$1" && [[ $REPLY == "$2" ]]
}

# klp_sleep SECS: sleep without starting sleep(1): wait for input that never
# comes on a pipe this shell holds both ends of.
KLP_SLEEP_FD=""
klp_sleep() {
	[[ -n $KLP_SLEEP_FD ]] || exec {KLP_SLEEP_FD}<> <(:)
	read -r -t "$1" -u "$KLP_SLEEP_FD" _
	return 0
}

# klp_sleepers_are FILE N: true when the sleeper count FILE of a hold
# module (test_klp_hold.h) reads N.
# shellcheck disable=SC2317 # called through klp_wait_for
klp_sleepers_are() {
	klp_file_is "$1" "$2"
}

# klp_start_reader HOLD OUT COUNTFILE: start "cat HOLD > OUT" in the
# background, its pid in READER, and wait until the reader sleeps in the
# function whose sleeper count COUNTFILE shows.
klp_start_reader() {
	: > "$2"
	cat "$1" > "$2" &
	# shellcheck disable=SC2034 # the callers use READER
	READER=$!
	klp_wait_for 10 klp_sleepers_are "$3" 1 || die "the reader did not start sleeping ($3)"
}

# klp_one_cpu_under_tcg MODE: with MODE 1, or auto under QEMU TCG, take
# every CPU but the first offline until the test exits.  QEMU 7.2's TCG can
# hang when code is rewritten while another vCPU runs it (the ftrace
# updates of a patch under a task calling the patched function in a loop).
# Not in auto mode when the kernel command line has klp.tcg=single: that
# guest's vCPUs take turns in one host thread (harness/run-vm.sh), so none
# runs while another rewrites code.
klp_one_cpu_under_tcg() {
	local mode=$1 f
	if [[ $mode == auto ]]; then
		mode=0
		grep -q '^model name.*QEMU TCG CPU' /proc/cpuinfo && mode=1
		if ((mode)) && [[ " $(< /proc/cmdline) " == *" klp.tcg=single "* ]]; then
			klp_info "QEMU TCG with one host thread for all vCPUs (klp.tcg=single): every CPU stays online"
			mode=0
		fi
	fi
	[[ $mode == 1 ]] || return 0
	KLP_OFFLINE_CPUS=()
	klp_at_exit klp_cpus_online
	for f in /sys/devices/system/cpu/cpu[1-9]*/online; do
		klp_file_is "$f" 1 || continue
		echo 0 > "$f" || die "cannot take ${f%/online} offline"
		KLP_OFFLINE_CPUS+=("$f")
	done
	klp_info "running on one CPU (${#KLP_OFFLINE_CPUS[@]} taken offline; QEMU TCG)"
}

# klp_cpus_online: (exit trap) bring back what klp_one_cpu_under_tcg took.
# shellcheck disable=SC2317 # called through klp_at_exit
klp_cpus_online() {
	local f
	for f in "${KLP_OFFLINE_CPUS[@]}"; do
		echo 1 > "$f"
	done
}

# klp_require_root: skip unless running as root.
klp_require_root() {
	[[ $(id -u) -eq 0 ]] || skip "must be run as root"
}

# klp_wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
klp_wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		klp_sleep 0.1
	done
	"$@"
}

# klp_mod_loaded NAME: true while module NAME is in /proc/modules.
klp_mod_loaded() {
	local name
	while read -r name _; do
		[[ $name == "$1" ]] && return 0
	done < /proc/modules
	return 1
}

# klp_patch_exists PATCH: true while /sys/kernel/livepatch/PATCH exists.
klp_patch_exists() {
	[[ -d $KLP_SYSFS/$1 ]]
}

# klp_patch_gone PATCH: true once /sys/kernel/livepatch/PATCH is gone.
klp_patch_gone() {
	[[ ! -e $KLP_SYSFS/$1 ]]
}

# klp_no_transition PATCH: true when PATCH's transition file reads 0.
klp_no_transition() {
	klp_file_is "$KLP_SYSFS/$1/transition" 0
}

# klp_in_transition PATCH: true when PATCH's transition file reads 1.
klp_in_transition() {
	klp_file_is "$KLP_SYSFS/$1/transition" 1
}

# wait_transition PATCH: wait (bounded) until PATCH's transition reads 0.
wait_transition() {
	klp_wait_for "$KLP_WAIT_SECS" klp_no_transition "$1" ||
		die "transition of patch '$1' still open after ${KLP_WAIT_SECS}s"
}

# wait_patch_gone PATCH: wait (bounded) until /sys/kernel/livepatch/PATCH is gone.
wait_patch_gone() {
	klp_wait_for "$KLP_WAIT_SECS" klp_patch_gone "$1" ||
		die "$KLP_SYSFS/$1 still present after ${KLP_WAIT_SECS}s"
}

# klp_index_modules: fill KLP_MOD_PATHS (module name -> path of its .ko)
# with one walk of KLP_MODDIR, then /lib/modules/<release>; the first found
# wins.
declare -A KLP_MOD_PATHS=()
KLP_MODS_INDEXED=0
klp_index_modules() {
	local dir f name
	KLP_MODS_INDEXED=1
	for dir in ${KLP_MODDIR:+"$KLP_MODDIR"} "/lib/modules/$(uname -r)"; do
		[[ -d $dir ]] || continue
		while IFS= read -r f; do
			name=${f##*/}
			name=${name%.ko}
			[[ -n ${KLP_MOD_PATHS[$name]:-} ]] || KLP_MOD_PATHS[$name]=$f
		done < <(find "$dir" -name '*.ko' 2> /dev/null)
	done
}

# klp_mod_path NAME: the path of NAME.ko in REPLY; 1 when there is none.
klp_mod_path() {
	((KLP_MODS_INDEXED)) || klp_index_modules
	REPLY=${KLP_MOD_PATHS[$1]:-}
	[[ -n $REPLY ]]
}

# mod_path NAME: print the path of NAME.ko (KLP_MODDIR, then /lib/modules).
mod_path() {
	klp_mod_path "$1" && echo "$REPLY"
}

# klp_require_mod NAME...: skip the test when a module it needs is not installed.
klp_require_mod() {
	local m
	for m in "$@"; do
		klp_mod_path "$m" || skip "module $m.ko is not installed"
	done
}

# klp_track NAME: remember module NAME for the clean-up at exit.
klp_track() {
	local m
	for m in "${KLP_LOADED[@]}"; do
		[[ $m == "$1" ]] && return 0
	done
	KLP_LOADED+=("$1")
}

# klp_untrack NAME: forget module NAME (it was unloaded by the test).
klp_untrack() {
	local m keep=()
	for m in "${KLP_LOADED[@]}"; do
		[[ $m == "$1" ]] || keep+=("$m")
	done
	KLP_LOADED=("${keep[@]}")
}

# klp_insmod NAME [PARAMS...]: insmod NAME.ko, logged; returns insmod's status,
# leaves insmod's stderr in KLP_INSMOD_ERR.
klp_insmod() {
	local name=$1 path rc
	shift
	klp_mod_path "$name" || die "module $name.ko not found"
	path=$REPLY
	klp_log "insmod $name${*:+ $*}"
	KLP_INSMOD_ERR=$(insmod "$path" "$@" 2>&1 > /dev/null)
	rc=$?
	[[ $rc -eq 0 ]] && klp_track "$name"
	return $rc
}

# load_mod NAME [PARAMS...]: load a (non-livepatch) module; fail the test on error.
load_mod() {
	klp_insmod "$@" || die "insmod $1 failed: $KLP_INSMOD_ERR"
}

# load_lp_nowait NAME [PARAMS...]: load a patch module, check that its sysfs
# directory exists and reads enabled=1, do not wait for the transition.
load_lp_nowait() {
	load_mod "$@"
	klp_patch_exists "$1" || die "$KLP_SYSFS/$1 missing after loading $1"
	klp_file_is "$KLP_SYSFS/$1/enabled" 1 ||
		die "$KLP_SYSFS/$1/enabled does not read 1 after loading $1"
}

# load_lp NAME [PARAMS...]: load a patch module and wait for its transition.
load_lp() {
	load_lp_nowait "$@"
	wait_transition "$1"
}

# klp_errno_of TEXT: map insmod's/bash's error text to an errno name.
klp_errno_of() {
	case "$1" in
	*"Invalid parameters"|*"Invalid argument") echo EINVAL ;;
	*"Device or resource busy") echo EBUSY ;;
	*"File exists") echo EEXIST ;;
	*"No such device") echo ENODEV ;;
	*"Invalid module format") echo ENOEXEC ;;
	*"Unknown symbol in module"|*"No such file or directory") echo ENOENT ;;
	*"Cannot allocate memory") echo ENOMEM ;;
	*"Operation not permitted") echo EPERM ;;
	*"Permission denied") echo EACCES ;;
	*"No such process") echo ESRCH ;;
	*"Argument list too long") echo E2BIG ;;
	*"Numerical result out of range") echo ERANGE ;;
	*"Function not implemented") echo ENOSYS ;;
	*"Operation not supported") echo EOPNOTSUPP ;;
	*"Bad address") echo EFAULT ;;
	*"Resource temporarily unavailable") echo EAGAIN ;;
	*) echo "UNKNOWN($1)" ;;
	esac
}

# load_mod_expect_fail NAME ERRNO [PARAMS...]: insmod must fail with ERRNO
# (e.g. EINVAL); afterwards NAME must be neither loaded nor in sysfs.
load_mod_expect_fail() {
	local name=$1 want=$2 got
	shift 2
	if klp_insmod "$name" "$@"; then
		die "insmod $name succeeded, expected $want"
	fi
	got=$(klp_errno_of "$KLP_INSMOD_ERR")
	[[ $got == "$want" ]] ||
		die "insmod $name failed with $got, expected $want ($KLP_INSMOD_ERR)"
	! klp_mod_loaded "$name" || die "module $name still loaded after failed insmod"
	klp_patch_gone "$name" || die "$KLP_SYSFS/$name left behind by failed insmod"
}

# unload_mod NAME: rmmod a module; fail the test on error.
unload_mod() {
	klp_log "rmmod $1"
	rmmod "$1" || die "rmmod $1 failed"
	klp_untrack "$1"
	! klp_mod_loaded "$1" || die "module $1 still loaded after rmmod"
}

# disable_lp_nowait PATCH: write 0 to PATCH's enabled file, do not wait.
disable_lp_nowait() {
	klp_log "disable $1"
	echo 0 > "$KLP_SYSFS/$1/enabled" || die "writing 0 to $KLP_SYSFS/$1/enabled failed"
}

# disable_lp PATCH: disable PATCH and wait until its sysfs directory is gone.
disable_lp() {
	disable_lp_nowait "$1"
	wait_patch_gone "$1"
}

# unload_lp PATCH: disable PATCH (if still enabled) and rmmod its module.
unload_lp() {
	klp_patch_exists "$1" && disable_lp "$1"
	unload_mod "$1"
}

# klp_write_errno FILE VALUE: write VALUE to FILE, print the resulting errno
# name (or OK).
klp_write_errno() {
	local err
	if err=$( { echo "$2" > "$1"; } 2>&1); then
		echo OK
	else
		klp_errno_of "$err"
	fi
}

# check_write FILE VALUE ERRNO: writing VALUE to FILE must end in ERRNO (or OK).
check_write() {
	local got
	got=$(klp_write_errno "$1" "$2")
	[[ $got == "$3" ]] || die "writing '$2' to $1: got $got, expected $3"
}

# check_eq WHAT EXPECTED ACTUAL: compare two strings, fail with both shown.
check_eq() {
	[[ $2 == "$3" ]] || die "$1: expected '$2', got '$3'"
}

# check_file FILE EXPECTED: the contents of FILE must equal EXPECTED.
check_file() {
	klp_read "$1" || die "cannot read $1"
	check_eq "$1" "$2" "$REPLY"
}

# run_klpctl RC ARGS...: run $KLPCTL (tools/livepatch) with ARGS, which must
# exit with RC; its output is left in KLPCTL_OUT and KLPCTL_ERR.
KLPCTL_ERR_FILE=""
run_klpctl() {
	local want=$1 rc
	shift
	if [[ -z $KLPCTL_ERR_FILE ]]; then
		KLPCTL_ERR_FILE=$(mktemp) || die "mktemp failed"
		klp_at_exit "rm -f '$KLPCTL_ERR_FILE'"
	fi
	KLPCTL_OUT=$("$KLPCTL" "$@" 2> "$KLPCTL_ERR_FILE")
	rc=$?
	KLPCTL_ERR=$(< "$KLPCTL_ERR_FILE")
	[[ $rc == "$want" ]] ||
		die "klpctl $*: exit code $rc, expected $want; stdout: '$KLPCTL_OUT'; stderr: '$KLPCTL_ERR'"
}

# has_line WHAT TEXT LINE: TEXT must contain LINE as a whole line.
has_line() {
	grep -qxF -- "$3" <<< "$2" || die "$1: no line '$3' in:
$2"
}

# has_text WHAT TEXT PART: TEXT must contain PART.
has_text() {
	grep -qF -- "$3" <<< "$2" || die "$1: no '$3' in:
$2"
}

# check_mode PATH OCTAL: the permission bits of PATH must equal OCTAL (e.g. 644).
check_mode() {
	local got
	[[ -e $1 ]] || die "$1 does not exist"
	got=$(stat -c %a "$1")
	check_eq "mode of $1" "$2" "$got"
}

# check_patches NAME...: /sys/kernel/livepatch holds exactly these patches
# (in the order of their names).
check_patches() {
	local d got=""
	for d in "$KLP_SYSFS"/*; do
		[[ -e $d ]] && got+=" ${d##*/}"
	done
	check_eq "patches in $KLP_SYSFS" "$*" "${got# }"
}

# klp_mod_unused MOD: true when nothing holds a reference on module MOD.
# shellcheck disable=SC2317 # called through klp_wait_for
klp_mod_unused() {
	klp_file_is "/sys/module/$1/refcnt" 0
}

# unload_replaced MOD: rmmod the module of a replaced patch.  Its sysfs
# directory goes a moment before the core drops its module reference, so
# wait (bounded) for the reference count to reach 0 first.
unload_replaced() {
	klp_wait_for "$KLP_WAIT_SECS" klp_mod_unused "$1" ||
		die "module $1 still in use ${KLP_WAIT_SECS}s after its patch was replaced"
	unload_mod "$1"
}

# klp_log_section KEEP DROP: the kernel log lines written since start_test,
# without timestamps, that match the extended regex KEEP and not DROP (an
# empty DROP drops nothing).  One dmesg and one awk, whatever the filter.
klp_log_section() {
	dmesg | KLP_AWK_MARK="klptest: $KLP_MARK" KLP_AWK_KEEP=$1 KLP_AWK_DROP=$2 awk '
		BEGIN {
			mark = ENVIRON["KLP_AWK_MARK"]
			keep = ENVIRON["KLP_AWK_KEEP"]
			drop = ENVIRON["KLP_AWK_DROP"]
		}
		{ sub(/^\[ *[0-9]+\.[0-9]+\] /, "") }
		$0 == mark { n = 0; found = 1; next }
		found && $0 ~ keep && (drop == "" || $0 !~ drop) { buf[n++] = $0 }
		END { for (i = 0; i < n; i++) print buf[i] }'
}

# klp_log_since_start: print the kernel log lines written since start_test.
klp_log_since_start() {
	klp_log_section "" ""
}

# klp_log_filtered: the lines since start_test that check_log compares.
klp_log_filtered() {
	klp_log_section "$KLP_LOG_KEEP" "$KLP_LOG_DROP"
}

# klp_show_diff EXPECTED ACTUAL: print how two blocks differ.
klp_show_diff() {
	if command -v diff > /dev/null; then
		diff -u --label expected --label actual <(echo "$1") <(echo "$2")
	else
		echo "--- expected"
		echo "$1"
		echo "+++ actual"
		echo "$2"
	fi
}

# check_log < EXPECTED: the filtered log since start_test must equal stdin
# exactly (leading tabs of a <<- here-document are stripped by bash).
check_log() {
	local expected actual deadline=$((SECONDS + KLP_LOG_WAIT_SECS))
	expected=$(cat)
	while :; do
		actual=$(klp_log_filtered)
		[[ $actual == "$expected" ]] && return 0
		((SECONDS < deadline)) || break
		klp_sleep 0.2
	done
	klp_show_diff "$expected" "$actual" >&2
	echo "--- whole kernel log since the start of this sub-test:" >&2
	klp_log_since_start >&2
	die "kernel log does not match the expected lines"
}

# log_enable_lines PATCH: print the log lines of enabling PATCH, start to end.
log_enable_lines() {
	echo "livepatch: enabling patch '$1'"
	echo "livepatch: '$1': initializing patching transition"
	echo "livepatch: '$1': starting patching transition"
	echo "livepatch: '$1': completing patching transition"
	echo "livepatch: '$1': patching complete"
}

# log_held_enable_lines PATCH: print the log lines of loading PATCH while a
# reader holds its patching transition, up to its completion after the
# "release" marker.
log_held_enable_lines() {
	echo "klptest: insmod $1"
	echo "livepatch: enabling patch '$1'"
	echo "livepatch: '$1': initializing patching transition"
	echo "livepatch: '$1': starting patching transition"
	echo "klptest: release"
	echo "livepatch: '$1': completing patching transition"
	echo "livepatch: '$1': patching complete"
}

# log_disable_lines PATCH: print the log lines of disabling PATCH, start to end.
log_disable_lines() {
	echo "livepatch: '$1': initializing unpatching transition"
	echo "livepatch: '$1': starting unpatching transition"
	echo "livepatch: '$1': completing unpatching transition"
	echo "livepatch: '$1': unpatching complete"
}

# klp_patch_state PID: print /proc/PID/patch_state (-1 outside transitions).
klp_patch_state() {
	klp_read "/proc/$1/patch_state" && echo "$REPLY"
}

# start_test TEXT: announce a sub-test and start a new log section for check_log.
start_test() {
	klp_info "TEST: $*"
	KLP_MARK="begin $KLP_TEST_NAME $$ $SECONDS $RANDOM: $*"
	klp_log "$KLP_MARK"
}

# klp_has_feature NAME [PATCH]: true when this livepatch implementation has
# feature NAME that stock 6.1 lacks.  Probed through the sysfs attribute of
# that name of PATCH (or of any loaded patch); KLP_FEATURES="a b" overrides.
klp_has_feature() {
	local name=$1 patch=${2:-} d
	if [[ -n ${KLP_FEATURES+x} ]]; then
		[[ " $KLP_FEATURES " == *" $name "* ]]
		return
	fi
	if [[ -n $patch ]]; then
		[[ -e $KLP_SYSFS/$patch/$name ]]
		return
	fi
	for d in "$KLP_SYSFS"/*/; do
		[[ -e $d$name ]] && return 0
	done
	return 1
}

# klp_tracefs: find tracefs (mounting it for the test when nobody has) and
# put its directory in KLP_TRACEFS; false when this kernel has no ftrace
# hooks to list (no enabled_functions).
klp_tracefs() {
	local d
	KLP_TRACEFS=""
	for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		[[ -r $d/enabled_functions ]] && KLP_TRACEFS=$d && return 0
	done
	mount -t tracefs nodev /sys/kernel/tracing 2> /dev/null || return 1
	klp_at_exit umount /sys/kernel/tracing
	[[ -r /sys/kernel/tracing/enabled_functions ]] || return 1
	KLP_TRACEFS=/sys/kernel/tracing
}

# klp_kprobe_on DIR NAME FUNC: a kprobe event NAME on FUNC, enabled, in the
# tracefs at DIR.
klp_kprobe_on() {
	echo "p:$2 $3" >> "$1/kprobe_events" || die "cannot add kprobe $2 on $3"
	echo 1 > "$1/events/kprobes/$2/enable" || die "cannot enable kprobe $2"
}

# klp_kprobe_off DIR NAME: disable and remove kprobe event NAME, if it is there.
klp_kprobe_off() {
	[[ -e $1/events/kprobes/$2 ]] || return 0
	echo 0 > "$1/events/kprobes/$2/enable"
	echo "-:$2" >> "$1/kprobe_events"
}

# klp_kprobe_hits DIR NAME: print the hits of kprobe NAME (kprobe_profile).
klp_kprobe_hits() {
	awk -v n="$2" '$1 == n { print $2 }' "$1/kprobe_profile"
}

# klp_ftrace_snapshot: remember the ftrace hooks of the whole kernel (every
# line of enabled_functions: function, users, flags, trampoline, handler).
klp_ftrace_snapshot() {
	klp_read "$KLP_TRACEFS/enabled_functions" || die "cannot read $KLP_TRACEFS/enabled_functions"
	KLP_FTRACE_SNAP=$REPLY
}

# klp_ftrace_unchanged WHAT: the ftrace hooks are those of the last
# klp_ftrace_snapshot; a hook registered or removed fails the test.
klp_ftrace_unchanged() {
	klp_read "$KLP_TRACEFS/enabled_functions" || die "$1: cannot read $KLP_TRACEFS/enabled_functions"
	[[ $REPLY == "$KLP_FTRACE_SNAP" ]] && return 0
	echo "ftrace hooks before:" >&2
	echo "${KLP_FTRACE_SNAP:-(none)}" >&2
	echo "ftrace hooks now:" >&2
	echo "${REPLY:-(none)}" >&2
	die "$1: the ftrace hooks changed ($KLP_TRACEFS/enabled_functions)"
}

# klp_dyndbg_save_enable: remember which livepatch pr_debug sites are on, then
# turn them all on so the core's debug lines reach the log.
klp_dyndbg_save_enable() {
	[[ -w $KLP_DYNDBG ]] || skip "dynamic debug control ($KLP_DYNDBG) not available"
	mapfile -t KLP_SAVED_DYNDBG < <(awk '$1 ~ /^kernel\/livepatch\// && $3 ~ /^=[^_ ]*p/ {
		split($1, a, ":"); print "file " a[1] " line " a[2] " +p" }' "$KLP_DYNDBG")
	echo 'file kernel/livepatch/* +p' > "$KLP_DYNDBG" 2> /dev/null || true
}

# klp_dyndbg_restore: put the livepatch pr_debug sites back as they were.
klp_dyndbg_restore() {
	local q
	[[ -w $KLP_DYNDBG ]] || return 0
	echo 'file kernel/livepatch/* -p' > "$KLP_DYNDBG" 2> /dev/null
	for q in "${KLP_SAVED_DYNDBG[@]}"; do
		echo "$q" > "$KLP_DYNDBG" 2> /dev/null
	done
	return 0
}

# klp_cleanup: exit trap; undo what the test left behind (best effort).
klp_cleanup() {
	local rc=$? i m
	trap - EXIT
	for ((i = ${#KLP_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${KLP_AT_EXIT[i]}" > /dev/null 2>&1
	done
	for ((i = ${#KLP_LOADED[@]} - 1; i >= 0; i--)); do
		m=${KLP_LOADED[i]}
		if klp_patch_exists "$m"; then
			klp_wait_for "$KLP_WAIT_SECS" klp_no_transition "$m"
			echo 0 > "$KLP_SYSFS/$m/enabled" 2> /dev/null
			klp_wait_for "$KLP_WAIT_SECS" klp_patch_gone "$m"
		fi
		klp_mod_loaded "$m" && rmmod "$m" 2> /dev/null
	done
	if [[ $KLP_SETUP_DONE == 1 ]]; then
		klp_dyndbg_restore
		if [[ -n $KLP_SAVED_DEVKMSG ]]; then
			echo "$KLP_SAVED_DEVKMSG" > "$KLP_DEVKMSG" 2> /dev/null
		fi
		klp_log "end $KLP_TEST_NAME (exit $rc)"
	fi
	exit "$rc"
}

# klp_setup: common start of every test: root, livepatch support, kmsg
# without rate limit, livepatch pr_debug on, clean-up trap installed.
klp_setup() {
	klp_require_root
	[[ -d $KLP_SYSFS ]] || skip "$KLP_SYSFS missing (kernel without CONFIG_LIVEPATCH?)"
	command -v insmod > /dev/null || skip "insmod not available"
	command -v dmesg > /dev/null || skip "dmesg not available"
	trap klp_cleanup EXIT
	klp_sleep 0
	if [[ -w $KLP_DEVKMSG ]]; then
		klp_read "$KLP_DEVKMSG"
		KLP_SAVED_DEVKMSG=$REPLY
		[[ $KLP_SAVED_DEVKMSG == on ]] && KLP_SAVED_DEVKMSG=""
		[[ -n $KLP_SAVED_DEVKMSG ]] && echo on > "$KLP_DEVKMSG" 2> /dev/null
	fi
	klp_dyndbg_save_enable
	KLP_SETUP_DONE=1
	klp_log "start $KLP_TEST_NAME"
}
