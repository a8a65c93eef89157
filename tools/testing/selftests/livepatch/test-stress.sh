#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stress: ROUNDS rounds of patch operations on vmlinux and on modules while
# everything around them moves.  The rounds cycle through
#   enable   test_klp_stress_big (1000 functions of test_klp_stress_target;
#            every KLP_STRESS_BIG_EVERY-th cycle; every other time it is
#            disabled before the replace), test_klp_stress_vmlinux
#            (cmdline_proc_show) and test_klp_stress_consist (the
#            consistency pair of test_klp_stress_target and a function of
#            test_klp_stress_target2)
#   replace  test_klp_stress_cum, a cumulative .replace patch of all three
#            objects that keeps only some of those functions
#   disable  every patch that is left, then rmmod the patch modules
# and in the background, all the time:
#   - klp_stress_worker's KLP_STRESS_WORKERS tasks (default 4) call the
#     patched functions in a loop and check every result: the old or a new
#     version's value, never another function's, and never a mix of the
#     versions of the consistency pair (the patched caller passes the
#     patched callee a token in a shadow variable; see
#     lib/livepatch/test_klp_stress.h);
#   - test_klp_stress_target2, which two of the patches patch, is loaded
#     and unloaded in a loop by "klp_stress_worker loadloop" (the patches
#     are applied to it as it comes and taken off as it goes, during
#     transitions too);
#   - a reverser writes the opposite value to the "enabled" file of a patch
#     it finds in transition, which reverses the transition.  When the
#     transition has ended by the time it writes, it gets one of the
#     documented errors (Documentation/ABI/testing/sysfs-kernel-livepatch):
#     EINVAL (the patch already is in that state, or is being removed),
#     EBUSY (another patch's transition started meanwhile), or the file is
#     gone (ENOENT, ENODEV, or EACCES: the shell opens it with O_CREAT,
#     which sysfs refuses while the patch directory is being removed); any
#     other error fails the test.  Or the write
#     lands on an enabled patch that is no longer in transition, which
#     disables it: the rounds take whatever state they find.
# After every round, with no transition left, the functions must run
# exactly the versions that the enabled patches give them.  The rounds load
# and unload modules through "klp_stress_worker modctl", which spares an
# exec of insmod or rmmod per module (under TCG that halves the run time).
#
# At the end the test prints "stress: R rounds, C calls checked,
# M mismatches" and fails if M is not 0, a worker died, or a patch or
# module is left.  Nothing depends on how long anything takes.
#
# Environment: KLP_STRESS_ROUNDS (default 200; 20 on kernels whose
# transitions are only retried once a second, stock 6.1, recognised by the
# missing transition_ms file; 15 on debug kernels, recognised by
# kmemleak), KLP_STRESS_WORKERS, KLP_STRESS_BIG_EVERY (default 5 cycles, 3
# on stock), KLP_STRESS_BIG_FUNCS (default 1000; 20 on stock, which pays
# RCU-tasks grace periods per function), KLP_STRESS_ONE_CPU (see
# test-syscall.sh for why the default under QEMU TCG is one CPU).

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

TGT=test_klp_stress_target
TGT2=test_klp_stress_target2
BIG=test_klp_stress_big
VM=test_klp_stress_vmlinux
CONS=test_klp_stress_consist
CUM=test_klp_stress_cum
PATCHES=("$BIG" "$VM" "$CONS" "$CUM")
WORKER=$(dirname "$0")/klp_stress_worker
NWORKERS=${KLP_STRESS_WORKERS:-4}
VERSIONS=/proc/$TGT/versions
VERSION2=/proc/$TGT2/version
CMDLINE_V2="$VM: cmdline v2"
CMDLINE_V3="$CUM: cmdline v3"

klp_setup
declare -A MOD
for m in "$TGT" "$TGT2" "${PATCHES[@]}"; do
	MOD[$m]=$(mod_path "$m") || skip "module $m.ko is not installed"
done
[[ -x $WORKER ]] || skip "helper $WORKER not built"
for d in "$KLP_SYSFS"/*/; do
	[[ -d $d ]] && die "a patch is already loaded: $d"
done
for m in "$TGT" "$TGT2" "${PATCHES[@]}"; do
	[[ -d /sys/module/$m ]] && die "module $m is already loaded"
done
# Thousands of transitions: leave livepatch's pr_debug lines off.
klp_dyndbg_restore

TMPD=$(mktemp -d)
klp_at_exit rm -rf "$TMPD"
STOP=$TMPD/stop
ERRF=$TMPD/err
REVLOG=$TMPD/reverser
LOADOUT=$TMPD/loader.out
LOADERR=$TMPD/loader.err
WOUT=$TMPD/worker.out
WERR=$TMPD/worker.err
# klp_nap SECS: sleep without a fork (a read that times out on a FIFO
# nobody writes to).
mkfifo "$TMPD/nap" || die "mkfifo failed"
exec {NAP_FD}<> "$TMPD/nap"
klp_nap() {
	read -r -t "$1" -u "$NAP_FD" _
}

klp_one_cpu_under_tcg "${KLP_STRESS_ONE_CPU:-auto}"

# ---------------------------------------------------------------------------
# Patch state.

# any_transition: true while some patch is in transition.
any_transition() {
	local d t
	for d in "$KLP_SYSFS"/*/; do
		t=""
		read -r t 2> /dev/null < "${d}transition"
		[[ $t == 1 ]] && return 0
	done
	return 1
}

# any_disabled: true while a disabled patch (being removed) is still there:
# its enabled file reads 0, or is already gone from the directory.
any_disabled() {
	local d e
	for d in "$KLP_SYSFS"/*/; do
		[[ -d $d ]] || continue
		e=""
		read -r e 2> /dev/null < "${d}enabled"
		[[ $e == 1 ]] || return 0
	done
	return 1
}

# settle: wait (bounded) until no patch is in transition and the disabled
# ones are gone.
settle() {
	local deadline=$((SECONDS + KLP_WAIT_SECS))
	while any_transition || any_disabled; do
		if ((SECONDS >= deadline)); then
			grep -H . "$KLP_SYSFS"/*/enabled "$KLP_SYSFS"/*/transition >&2
			die "patches still in transition or being removed after ${KLP_WAIT_SECS}s"
		fi
		klp_nap 0.003
	done
}

# list_patches: PRESENT=(the patches in sysfs), HAVE[name]=1 for each.
list_patches() {
	local d n
	PRESENT=()
	HAVE=()
	for d in "$KLP_SYSFS"/*/; do
		[[ -d $d ]] || continue
		d=${d%/}
		n=${d##*/}
		PRESENT+=("$n")
		HAVE[$n]=1
	done
}
declare -A HAVE

# errno_in_file FILE: the errno name of the first line of FILE.
errno_in_file() {
	local msg=""
	read -r msg < "$1"
	klp_errno_of "$msg"
}

# modctl CMD ARGS...: have the helper "klp_stress_worker modctl" load or
# unload a module (no exec per operation); on failure MODCTL_ERR holds the
# errno name and MODCTL_MSG the error text.
modctl() {
	local reply=""
	echo "$*" >&"${MODCTL[1]}" || die "the modctl helper is gone"
	read -r reply <&"${MODCTL[0]}" || die "the modctl helper is gone"
	[[ $reply == ok ]] && return 0
	MODCTL_MSG=${reply#err * }
	MODCTL_ERR=$(klp_errno_of "$MODCTL_MSG")
	return 1
}

EBUSY_RETRIES=0
# enable_patch NAME [PARAMS...]: load patch module NAME (no wait).  If the
# reverser disabled a patch just before (a transition is open again), the
# load fails with EBUSY: settle and load again.
enable_patch() {
	local name=$1 tries
	shift
	for ((tries = 0; tries < 20; tries++)); do
		settle
		klp_log "insmod $name${*:+ $*}"
		if modctl load "${MOD[$name]}" "$@"; then
			klp_track "$name"
			return 0
		fi
		[[ $MODCTL_ERR == EBUSY ]] || die "loading $name failed: $MODCTL_MSG"
		((EBUSY_RETRIES++))
	done
	die "loading $name failed with EBUSY $tries times"
}

# disable_patches [PATCH...]: disable the given patches, or every patch
# that is left (the reverser may turn a disable back: try again).
disable_patches() {
	local tries p err
	for ((tries = 0; tries < 100; tries++)); do
		settle
		list_patches
		p=""
		if (($#)); then
			for p in "$@"; do
				[[ -n ${HAVE[$p]:-} ]] && break
				p=""
			done
		else
			p=${PRESENT[0]:-}
		fi
		[[ -n $p ]] || return 0
		klp_log "disable $p"
		if ! { echo 0 > "$KLP_SYSFS/$p/enabled"; } 2> "$ERRF"; then
			# Only the reverser can get in the way.
			err=$(errno_in_file "$ERRF")
			case $err in
			EBUSY | EINVAL | ENOENT | ENODEV | EACCES) ;;
			*) die "writing 0 to $KLP_SYSFS/$p/enabled: $err" ;;
			esac
		fi
	done
	die "patch $p still enabled after $tries disables"
}

# disable_all: disable every patch that is left, then rmmod the patch
# modules.
disable_all() {
	local m
	disable_patches
	for m in "${PATCHES[@]}"; do
		[[ -d /sys/module/$m ]] || continue
		wait_unused "$m"
		klp_log "rmmod $m"
		modctl unload "$m" || die "unloading $m failed: $MODCTL_MSG"
		klp_untrack "$m"
	done
}

# wait_unused MODULE: wait (bounded) until nothing holds MODULE: the core
# drops its reference a moment after the patch directory goes.
wait_unused() {
	local r="" deadline=$((SECONDS + KLP_WAIT_SECS))
	while :; do
		read -r r 2> /dev/null < "/sys/module/$1/refcnt"
		[[ $r == 0 ]] && return 0
		((SECONDS < deadline)) ||
			die "module $1 still in use ${KLP_WAIT_SECS}s after its patch was removed"
		klp_nap 0.005
	done
}

# repeat CHAR N: print CHAR N times.
repeat() {
	local s
	printf -v s '%*s' "$2" ''
	printf '%s' "${s// /$1}"
}

# read_state: with no transition open, read what the functions run: FUNCS
# (from $VERSIONS), CMDLINE, MOD2 (empty while test_klp_stress_target2 is
# not loaded), and which patches are enabled (list_patches).  Returns 1 if
# a transition started meanwhile (the reverser's write can land just after
# the transition it saw has ended, and disable the patch).
read_state() {
	local before
	settle
	list_patches
	before=${PRESENT[*]}
	FUNCS="" CMDLINE="" MOD2=""
	read -r FUNCS < "$VERSIONS" || die "cannot read $VERSIONS"
	read -r CMDLINE < /proc/cmdline
	read -r MOD2 2> /dev/null < "$VERSION2"
	! any_transition || return 1
	list_patches
	[[ ${PRESENT[*]} == "$before" ]]
}

STATE_RETRIES=0
# check_state WHAT: with no transition open, every function must run the
# version that the enabled patches give it.
check_state() {
	local funcs pair cmdline mod2 tries=0
	until read_state; do
		((STATE_RETRIES++, ++tries < 20)) ||
			die "$1: the patches did not stay still for a check in $tries tries"
	done
	if [[ -n ${HAVE[$CUM]:-} ]]; then
		[[ -z ${HAVE[$BIG]:-}${HAVE[$VM]:-}${HAVE[$CONS]:-} ]] ||
			die "$1: $CUM is enabled but replaced patches are left: ${PRESENT[*]}"
		funcs=$EXP_CUM
		pair=3 mod2=3 cmdline=$CMDLINE_V3
	else
		funcs=$EXP_ORIG
		[[ -n ${HAVE[$BIG]:-} ]] && funcs=$EXP_BIG
		pair=1 mod2=1 cmdline=$ORIG_CMDLINE
		[[ -n ${HAVE[$CONS]:-} ]] && pair=2 mod2=2
		[[ -n ${HAVE[$VM]:-} ]] && cmdline=$CMDLINE_V2
	fi
	[[ $FUNCS == "$funcs pair $pair" ]] ||
		die "$1: with patches '${PRESENT[*]}' enabled, $VERSIONS reads
$FUNCS
expected
$funcs pair $pair"
	check_eq "$1: /proc/cmdline with patches '${PRESENT[*]}'" "$cmdline" "$CMDLINE"
	# test_klp_stress_target2 comes and goes.
	if [[ -n $MOD2 ]]; then
		check_eq "$1: $VERSION2 with patches '${PRESENT[*]}'" "$mod2" "$MOD2"
		((MOD2_CHECKS++))
	fi
}
MOD2_CHECKS=0

# ---------------------------------------------------------------------------
# Background tasks.  Each stops once $STOP exists.

# shellcheck disable=SC2317 # run in the background
reverser() {
	local d t e err
	while [[ ! -e $STOP ]]; do
		for d in "$KLP_SYSFS"/*/; do
			t=""
			read -r t 2> /dev/null < "${d}transition"
			[[ $t == 1 ]] || continue
			# leave a third of the transitions alone
			((RANDOM % 3)) || continue
			e=""
			read -r e 2> /dev/null < "${d}enabled"
			[[ $e == [01] ]] || continue
			if { echo $((1 - e)) > "${d}enabled"; } 2> "$TMPD/rev.err"; then
				echo "OK" >> "$REVLOG"
				# one reversal per transition: wait for its end
				t=1
				while [[ $t == 1 && ! -e $STOP ]]; do
					klp_nap 0.005
					t=""
					read -r t 2> /dev/null < "${d}transition"
				done
			else
				err=$(errno_in_file "$TMPD/rev.err")
				echo "$err" >> "$REVLOG"
			fi
		done
		klp_nap "0.00$((RANDOM % 10))"
	done
}

REV_PID="" LOADER_PID="" LOADER_RC=""
# stop_background: (exit trap too) stop the reverser and the loader (which
# unloads test_klp_stress_target2 before it exits).
# shellcheck disable=SC2317 # called through klp_at_exit
stop_background() {
	touch "$STOP"
	[[ -n $REV_PID ]] && wait "$REV_PID"
	REV_PID=""
	if [[ -n $LOADER_PID ]]; then
		kill -TERM "$LOADER_PID"
		wait "$LOADER_PID"
		LOADER_RC=$?
		LOADER_PID=""
	fi
	[[ -d /sys/module/$TGT2 ]] && rmmod "$TGT2"
	return 0
}

WPID=""
# stop_worker: (exit trap) end klp_stress_worker if it still runs, and
# show what it saw until then.
# shellcheck disable=SC2317 # called through klp_at_exit
stop_worker() {
	[[ -n $WPID ]] || return 0
	kill -TERM "$WPID" && wait "$WPID"
	WPID=""
	echo "klp_stress_worker: $(grep '^done ' "$WOUT")" >&"$STDERR_FD"
	head -n 20 "$WERR" >&"$STDERR_FD"
}
# The exit trap runs with stderr to /dev/null: keep the real one.
exec {STDERR_FD}>&2

# count LINE FILE: how many lines of FILE equal LINE.
count() {
	local n
	n=$(grep -cx -- "$1" "$2" 2> /dev/null)
	echo "${n:-0}"
}

# ---------------------------------------------------------------------------
coproc MODCTL { exec "$WORKER" modctl; }
# shellcheck disable=SC2317 # called through klp_at_exit
stop_modctl() {
	[[ -n ${MODCTL_PID:-} ]] || return 0
	kill -TERM "$MODCTL_PID"
	wait "$MODCTL_PID"
}
klp_at_exit stop_modctl

start_test "probe: load $TGT and $VM"
ORIG_CMDLINE=$(cat /proc/cmdline)
[[ $ORIG_CMDLINE != *test_klp_stress* ]] || die "/proc/cmdline is already patched"
klp_log "insmod $TGT"
modctl load "${MOD[$TGT]}" || die "loading $TGT failed: $MODCTL_MSG"
klp_track "$TGT"
enable_patch "$VM"
settle
stock=0
[[ -e $KLP_SYSFS/$VM/transition_ms ]] || stock=1
check_eq "/proc/cmdline" "$CMDLINE_V2" "$(cat /proc/cmdline)"
disable_all
check_eq "/proc/cmdline" "$ORIG_CMDLINE" "$(cat /proc/cmdline)"

if ((stock)); then
	ROUNDS=${KLP_STRESS_ROUNDS:-20}
	BIG_FUNCS=${KLP_STRESS_BIG_FUNCS:-20}
	BIG_EVERY=${KLP_STRESS_BIG_EVERY:-3}
	klp_info "no $KLP_SYSFS/$VM/transition_ms: transitions are retried once a second and every patched function costs RCU-tasks grace periods here (stock 6.1?), so $ROUNDS rounds, $BIG_FUNCS functions in $BIG"
elif [[ -e /sys/kernel/debug/kmemleak ]]; then
	# A debug kernel (KCONFIG=debug): every module load and every kobject
	# release takes seconds there, a round about 13 s under TCG.
	ROUNDS=${KLP_STRESS_ROUNDS:-15}
	BIG_FUNCS=${KLP_STRESS_BIG_FUNCS:-1000}
	BIG_EVERY=${KLP_STRESS_BIG_EVERY:-5}
	klp_info "debug kernel (kmemleak): $ROUNDS rounds, each of which takes seconds here"
else
	ROUNDS=${KLP_STRESS_ROUNDS:-200}
	BIG_FUNCS=${KLP_STRESS_BIG_FUNCS:-1000}
	BIG_EVERY=${KLP_STRESS_BIG_EVERY:-5}
fi
[[ $ROUNDS =~ ^[0-9]+$ && $BIG_FUNCS =~ ^[0-9]+$ && $BIG_EVERY =~ ^[0-9]+$ ]] ||
	die "KLP_STRESS_ROUNDS, KLP_STRESS_BIG_FUNCS and KLP_STRESS_BIG_EVERY must be numbers"
((BIG_FUNCS >= 1 && BIG_FUNCS <= 1000)) || die "KLP_STRESS_BIG_FUNCS must be 1..1000"
# What $VERSIONS reads with no patch, with $BIG, with $CUM (one digit per
# function).
EXP_ORIG=$(repeat 1 1000)
EXP_BIG=$(repeat 2 "$BIG_FUNCS")$(repeat 1 $((1000 - BIG_FUNCS)))
EXP_CUM=$(repeat 3 10)$(repeat 1 990)

start_test "$ROUNDS rounds with $NWORKERS workers, a module loader and a reverser"
"$WORKER" "$NWORKERS" > "$WOUT" 2> "$WERR" &
WPID=$!
klp_at_exit stop_worker
# shellcheck disable=SC2317 # called through klp_wait_for
worker_ready() {
	grep -q '^ready ' "$WOUT"
}
klp_wait_for "$KLP_WAIT_SECS" worker_ready ||
	die "klp_stress_worker did not start: $(cat "$WERR")"

: > "$REVLOG"
klp_at_exit stop_background
reverser &
REV_PID=$!
"$WORKER" loadloop "${MOD[$TGT2]}" "$TGT2" > "$LOADOUT" 2> "$LOADERR" &
LOADER_PID=$!

# elapsed START [SUM]: print SUM + the seconds since START.
elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" -v s="${2:-0}" 'BEGIN { printf "%.1f", s + b - a }'
}

t0=$EPOCHREALTIME
big_cycles=0
big_secs=0
for ((r = 0; r < ROUNDS; r++)); do
	cycle=$((r / 3))
	case $((r % 3)) in
	0)
		if ((BIG_EVERY && cycle % BIG_EVERY == 0)); then
			tb=$EPOCHREALTIME
			enable_patch "$BIG" nfuncs="$BIG_FUNCS"
			settle
			big_secs=$(elapsed "$tb" "$big_secs")
			((big_cycles++))
		fi
		enable_patch "$VM"
		enable_patch "$CONS"
		check_state "round $r (enable)"
		;;
	1)
		# Every other cycle with the big patch disables it first, the
		# others have the replace patch replace it.
		if ((BIG_EVERY && cycle % BIG_EVERY == 0 && cycle / BIG_EVERY % 2)); then
			tb=$EPOCHREALTIME
			disable_patches "$BIG"
			big_secs=$(elapsed "$tb" "$big_secs")
			check_state "round $r (disable $BIG)"
		fi
		enable_patch "$CUM"
		check_state "round $r (replace)"
		;;
	2)
		disable_all
		check_state "round $r (disable)"
		;;
	esac
	if ! kill -0 "$WPID" 2> /dev/null; then
		die "klp_stress_worker died in round $r: $(cat "$WERR")"
	fi
done
disable_all
check_state "after the rounds"
rounds_secs=$(elapsed "$t0")

stop_background
kill -TERM "$WPID"
wait "$WPID"
wrc=$?
WPID=""
summary=$(grep '^done ' "$WOUT")
read -r _ _ _ _ calls _ mismatches _ died _ idle _ absent <<< "$summary"
echo "stress: $r rounds, ${calls:-0} calls checked, ${mismatches:-?} mismatches"

[[ $summary =~ ^done\ tasks\ $NWORKERS\ calls\ [0-9]+\ mismatches\ [0-9]+\ died\ [0-9]+\ idle\ [0-9]+\ absent\ [0-9]+$ ]] ||
	die "unexpected klp_stress_worker summary: '$summary' $(cat "$WERR")"
((mismatches == 0)) || die "$mismatches mismatches: $(head -n 20 "$WERR")"
((died == 0 && idle == 0 && wrc == 0)) ||
	die "klp_stress_worker: $died tasks died, $idle made no calls (exit $wrc): $(head -n 20 "$WERR")"

# What a write to enabled may get once the transition it was meant to
# reverse has ended (see the top of this file).
REV_ERRNOS='EINVAL|EBUSY|ENOENT|ENODEV|EACCES'
reversals=$(count OK "$REVLOG")
rev_other=$(grep -cvxE "OK|$REV_ERRNOS" "$REVLOG")
rev_errs=$(grep -xE "$REV_ERRNOS" "$REVLOG" | sort | uniq -c | xargs)
read -r _ _ loads _ unloads _ failures < "$LOADOUT"
klp_info "$rounds_secs s for the rounds (${big_secs} s of them enabling and disabling $BIG with $BIG_FUNCS functions, in $big_cycles cycles), $SECONDS s in all"
klp_info "reverser: $reversals writes to enabled accepted (transitions reversed); when the transition had ended already: ${rev_errs:-none}"
klp_info "$TGT2 loaded $loads and unloaded $unloads times; $absent worker reads found it absent; its version checked in $MOD2_CHECKS rounds"
klp_info "insmod retried $EBUSY_RETRIES times for EBUSY, state checks $STATE_RETRIES times (a transition started by the reverser)"
((rev_other == 0)) ||
	die "the reverser got undocumented errors: $(grep -vxE "OK|$REV_ERRNOS" "$REVLOG" | sort | uniq -c | xargs)"
[[ $LOADER_RC == 0 && ${failures:-} == 0 ]] ||
	die "loading and unloading $TGT2 failed (exit $LOADER_RC, ${failures:-?} failures): $(sort "$LOADERR" | uniq -c | head -n 5)"
((loads > 0)) || die "$TGT2 was never loaded"

unload_mod "$TGT"
for d in "$KLP_SYSFS"/*/; do
	[[ -d $d ]] && die "patch left behind: $d"
done
for m in "$TGT" "$TGT2" "${PATCHES[@]}"; do
	[[ -d /sys/module/$m ]] && die "module $m left loaded"
done
klp_pass
