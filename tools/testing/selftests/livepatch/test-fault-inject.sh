#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures while a patch is being enabled.  For N = 1, 2, ...
# the N-th slab allocation of the loading task fails (fail-nth, armed by
# klp_fail_nth just before finit_module(), so the count starts in the module
# loader and runs through the module's init and klp_enable_patch()), until a
# load makes fewer than N allocations.  After each failed load:
#   - insmod failed with ENOMEM, inside livepatch and in the module loader
#     alike;
#   - the module is not loaded, /sys/kernel/livepatch/<patch> is gone,
#     ftrace has no hook on the functions the patch changes (tracefs
#     enabled_functions), and the patches already enabled are untouched;
#   - a failure inside livepatch left a "livepatch: " error line in the
#     kernel log, and a normal load of the same module then succeeds and
#     patches (and is removed again).
# A load that succeeds although an allocation failed (one the kernel can do
# without, e.g. kmemleak's or dynamic debug's bookkeeping) must patch
# correctly.  The last load of each scenario, with no failure, must too.
# Leaks are left to kmemleak (KCONFIG=debug scans after the run).
#
# Scenarios:
#   vmlinux  test_klp_failnth: cmdline_proc_show()
#   module   test_klp_modpatch, its target test_klp_target already loaded
#   coming   test_klp_target loading while test_klp_modpatch is enabled
#            (klp_module_coming())
#   replace  test_klp_atomic_replace replacing test_klp_replace_base and
#            test_klp_modpatch (nop functions and a generated object)
#
# On a kernel with kmemleak (KCONFIG=debug), where every kobject release is
# delayed by seconds and one failed load takes about 15 s, only the vmlinux
# scenario runs, and only on KLP_FI_DEBUG_POINTS (10) allocations spread
# evenly over those made inside klp_enable_patch(), which test_klp_failnth
# reports (a point that hits one of kmemleak's or debug objects' own quiet
# allocations gives way to the next allocation); kmemleak then looks for
# what their error paths leaked.
#
# Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and
# CONFIG_FAULT_INJECTION_DEBUG_FS (harness KCONFIG=debug); SKIPs without.

# shellcheck disable=SC2317 # sc_* hooks are called as "sc_${sc}_<hook>"
# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

LP=test_klp_failnth
MP=test_klp_modpatch
T=test_klp_target
BASE=test_klp_replace_base
AR=test_klp_atomic_replace
HELPER=$(dirname "$0")/klp_fail_nth
FAILSLAB=/sys/kernel/debug/failslab
PRINTK=/proc/sys/kernel/printk
GREETING=/proc/$T/greeting
# Upper bound of failure points per scenario (a runaway loop fails).
FI_MAX=${KLP_FI_MAX:-5000}
# fail-nth of a load that must not fail.
FI_NONE=1000000
SCENARIOS=${KLP_FI_SCENARIOS:-vmlinux module coming replace}
DEBUG_POINTS=${KLP_FI_DEBUG_POINTS:-10}
FI_DEBUG=0
if [[ -e /sys/kernel/debug/kmemleak ]]; then
	FI_DEBUG=1
	SCENARIOS=${KLP_FI_SCENARIOS:-vmlinux}
fi

klp_setup
[[ -e /proc/self/fail-nth ]] ||
	skip "no /proc/self/fail-nth (CONFIG_FAULT_INJECTION not set; run with KCONFIG=debug)"
[[ -w $FAILSLAB/ignore-gfp-wait ]] ||
	skip "no $FAILSLAB (CONFIG_FAILSLAB / CONFIG_FAULT_INJECTION_DEBUG_FS not set)"
[[ -x $HELPER ]] || skip "helper $HELPER not built"
klp_require_mod "$LP" "$MP" "$T" "$BASE" "$AR"
for m in "$LP" "$MP" "$T" "$BASE" "$AR"; do
	! klp_mod_loaded "$m" || die "$m is already loaded"
done

TRACEFS=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	if [[ -r $d/enabled_functions ]]; then
		TRACEFS=$d
		break
	fi
done
[[ -n $TRACEFS ]] || skip "no tracefs enabled_functions to check the ftrace hooks with"

WORK=$(mktemp -d)
klp_at_exit "rm -rf '$WORK'"
OUT=$WORK/out
# A FIFO nobody writes to: "read -t" on it sleeps without a fork.
mkfifo "$WORK/nap"
exec {NAPFD}<> "$WORK/nap"

# Everything below is checked with builtins: under TCG with KASAN a fork
# costs a good part of a second, and the loop makes hundreds of rounds.

# nap SECS: sleep without forking.
nap() {
	read -r -t "$1" -u "$NAPFD" _ || :
}

# get FILE: the first line of FILE in REPLY ("" when unreadable).
get() {
	REPLY=""
	read -r REPLY < "$1" || :
} 2> /dev/null

# is FILE VALUE: FILE's first line is VALUE.
is() {
	get "$1"
	[[ $REPLY == "$2" ]]
}

# expect WHAT FILE VALUE
expect() {
	is "$2" "$3" || die "$1: $2 reads '$REPLY', expected '$3'"
}

# until_ok SECS CMD...: poll CMD every 0.1 s for at most SECS seconds.
until_ok() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		nap 0.1
	done
	"$@"
}

loaded() {
	local m rest
	while read -r m rest; do
		[[ $m == "$1" ]] && return 0
	done < /proc/modules
	return 1
}

# hooks FUNC: how many ftrace ops hook FUNC, in REPLY.  The lines read
# "FUNC [MODULE] (COUNT) FLAGS...", without [MODULE] for vmlinux.
hooks() {
	local w n
	REPLY=0
	while read -r -a w; do
		[[ ${w[0]} == "$1" ]] || continue
		n=${w[1]}
		[[ $n == "["*"]" ]] && n=${w[2]}
		n=${n#(}
		REPLY=${n%)}
		return
	done < "$TRACEFS/enabled_functions"
}

expect_hooks() {
	hooks "$2"
	[[ $REPLY == "$3" ]] || die "$1: $REPLY ftrace hooks on $2, expected $3"
}

# expect_patches WHAT NAME...: /sys/kernel/livepatch holds exactly these.
expect_patches() {
	local what=$1 d got=""
	shift
	for d in "$KLP_SYSFS"/*; do
		[[ -e $d ]] && got+=" ${d##*/}"
	done
	[[ ${got# } == "$*" ]] || die "$what: patches in $KLP_SYSFS: '${got# }', expected '$*'"
}

# settle PATCH: wait for PATCH's transition to end.
settle() {
	until_ok "$KLP_WAIT_SECS" is "$KLP_SYSFS/$1/transition" 0 ||
		die "transition of $1 still open after ${KLP_WAIT_SECS}s"
}

absent() {
	[[ ! -e $1 ]]
}

# gone PATCH: wait for PATCH's directory to go.
gone() {
	until_ok "$KLP_WAIT_SECS" absent "$KLP_SYSFS/$1" ||
		die "$KLP_SYSFS/$1 still there after ${KLP_WAIT_SECS}s"
}

# drop PATCH: disable PATCH and remove its module.
drop() {
	echo 0 > "$KLP_SYSFS/$1/enabled" || die "disabling $1 failed"
	gone "$1"
	rmmod "$1" || die "rmmod $1 failed"
	klp_untrack "$1"
}

# plain_load MOD: insmod MOD without fault injection.
plain_load() {
	insmod "$MODDIR/$1.ko" || die "insmod $1 failed"
	klp_track "$1"
}

# failslab also fails allocations that may sleep, and dumps the stack of
# each forced failure; the stacks go to the log only (default message
# level 7), the console keeps showing warnings.
klp_at_exit "echo '$(cat "$FAILSLAB/ignore-gfp-wait")' > $FAILSLAB/ignore-gfp-wait"
klp_at_exit "echo '$(cat "$FAILSLAB/verbose")' > $FAILSLAB/verbose"
klp_at_exit "echo '$(cat "$PRINTK")' > $PRINTK"
echo N > "$FAILSLAB/ignore-gfp-wait"
echo 2 > "$FAILSLAB/verbose"
read -r con _ minl boot < "$PRINTK"
echo "$con 7 $minl $boot" > "$PRINTK"

MODDIR=$(dirname "$(mod_path "$LP")")
for m in "$MP" "$T" "$BASE" "$AR"; do
	[[ -f $MODDIR/$m.ko ]] || skip "$m.ko is not next to $LP.ko in $MODDIR"
done

# Allocator and fault injection functions: the first frame of a forced
# failure's stack that is none of these made the allocation.
ALLOC_RE='^(dump_stack(_lvl)?|fail_dump|should_fail(_ex)?|(__)?should_failslab|slab_pre_alloc_hook.*|slab_alloc(_node)?|__slab_alloc|kmem_cache_alloc.*|__kmem_cache_alloc.*|kmalloc.*|__kmalloc.*|kzalloc.*|kcalloc|kvmalloc.*|kstrdup.*|kmemdup|kvasprintf.*|kasprintf|kobject_set_name_vargs)$'

# inject N MOD: load MOD with the N-th allocation failing.  Sets FI_ERR
# (OK or the errno name), FI_HIT (1 when the failure was injected),
# FI_CLASS (enable: under klp_enable_patch(), coming: under
# klp_module_coming(), init: another module init, loader: the module
# loader, quiet: an allocation made with __GFP_NOWARN, no stack to tell),
# FI_SITE (the function that allocated, and the innermost klp_ function
# above it), FI_KLPMSG (1 when a "livepatch: " line was logged), FI_BEFORE
# and FI_AFTER (the count test_klp_failnth reported around
# klp_enable_patch(), or "").
inject() {
	local n=$1 mod=$2 rc text line f inj=0 klp=""
	klp_log "fault-inject $mod fail-nth=$n"
	"$HELPER" "$n" "$MODDIR/$mod.ko" > "$OUT" || die "$HELPER $n $mod failed"
	FI_CLASS=- FI_SITE="" FI_KLPMSG=0 FI_BEFORE="" FI_AFTER=""
	{
		read -r rc FI_HIT text
		while read -r line; do
			case $line in
			"livepatch: "*) FI_KLPMSG=1 ;;
			"$LP: fail-nth before klp_enable_patch(): "*) FI_BEFORE=${line##* } ;;
			"$LP: fail-nth after klp_enable_patch(): "*) FI_AFTER=${line##* } ;;
			"FAULT_INJECTION: forcing a failure"*) inj=1 ;;
			"? "*) ;;	# a stale return address, not a caller
			*+0x*/0x*)
				((inj)) || continue
				f=${line%%+0x*}
				f=${f%%.*}
				[[ $f == *" "* ]] && continue
				[[ -z $FI_SITE && ! $f =~ $ALLOC_RE ]] && FI_SITE=$f
				[[ -z $klp && $f == klp_* ]] && klp=$f
				case $f in
				klp_enable_patch) FI_CLASS=enable ;;
				klp_module_coming) [[ $FI_CLASS == - ]] && FI_CLASS=coming ;;
				do_one_initcall) [[ $FI_CLASS == - ]] && FI_CLASS=init ;;
				entry_SYSCALL*) inj=0 ;;
				esac
				;;
			esac
		done
	} < "$OUT"
	if [[ $rc == 0 ]]; then
		FI_ERR=OK
		klp_track "$mod"
	else
		FI_ERR=$(klp_errno_of "$text")
	fi
	# No stack (or no "FAULT_INJECTION" line at all: __GFP_NOWARN
	# allocations fail without a word): quiet.
	if [[ $FI_HIT == 1 ]]; then
		if [[ -z $FI_SITE ]]; then
			FI_CLASS=quiet
		elif [[ $FI_CLASS == - ]]; then
			FI_CLASS=loader
		fi
		[[ -n $klp && $klp != "$FI_SITE" ]] && FI_SITE+="<$klp"
	fi
	FI_SITE=${FI_SITE:--}
	return 0
}

# expected_errno SCENARIO: the errno the failed load must end in, in REPLY.
# ENOMEM, except when the module loader could not record the ftrace
# locations of a module that is the target of an enabled patch: the loader
# carries on without them ("ftrace: failed to allocate entries for module"),
# then livepatch cannot hook the function and refuses the module (EINVAL,
# "failed to find location for function").
expected_errno() {
	REPLY=ENOMEM
	[[ $1 == coming && $FI_SITE == ftrace_process_locs ]] && REPLY=EINVAL
	return 0
}

POINTS=0
TOLERATED=0
# Debug kernel: quiet allocations passed over (see run_points).
PASSED_OVER=0
declare -A CLASS_COUNT=() ERRNO_COUNT=() SITES=()

# klp_range: from FI_BEFORE/FI_AFTER of a load armed with n, the first and
# last allocation made inside klp_enable_patch(), in KLP_FIRST, KLP_LAST.
klp_range() {
	[[ -n $FI_BEFORE && -n $FI_AFTER ]] || die "$LP did not report its fail-nth counts"
	KLP_FIRST=$(($1 - FI_BEFORE + 1))
	KLP_LAST=$(($1 - FI_AFTER))
}

# points SCENARIO MOD: the fail-nth values to try, in PTS: 1, 2, ... up
# to FI_MAX, or on a debug kernel DEBUG_POINTS of the vmlinux patch's own.
points() {
	local sc=$1 mod=$2 i n=0
	PTS=()
	if ((!FI_DEBUG)); then
		for ((i = 1; i <= FI_MAX; i++)); do
			PTS+=("$i")
		done
		return
	fi
	[[ $mod == "$LP" ]] || die "$sc: only $LP can be tried on a debug kernel"
	# The first load of the boot makes a few allocations that later ones
	# do not (and the other way round): measure on the second.
	for i in 1 2; do
		inject "$FI_NONE" "$mod"
		[[ $FI_ERR == OK && $FI_HIT == 0 ]] || die "$sc: load of $mod failed with $FI_ERR"
		"sc_${sc}_patched" "$sc: normal load"
		"sc_${sc}_undo"
	done
	klp_range "$FI_NONE"
	klp_info "$sc: klp_enable_patch() makes allocations $KLP_FIRST to $KLP_LAST of the load"
	for ((i = 0; i < DEBUG_POINTS; i++)); do
		n=$((KLP_FIRST + i * (KLP_LAST - KLP_FIRST) / (DEBUG_POINTS - 1)))
		((${#PTS[@]})) && [[ ${PTS[-1]} == "$n" ]] || PTS+=("$n")
	done
	PTS+=("$FI_NONE")
}

# run_points SCENARIO MOD: the fail-nth loop of one scenario, with the
# scenario's hooks sc_<SCENARIO>_{clean,patched,undo}.
run_points() {
	local sc=$1 mod=$2 n points=0 tries what start=$SECONDS
	if ((FI_DEBUG)); then
		start_test "$sc: $DEBUG_POINTS allocations of klp_enable_patch() fail once"
	else
		start_test "$sc: every allocation of loading $mod fails once"
	fi
	points "$sc" "$mod"
	for n in "${PTS[@]}"; do
		inject "$n" "$mod"
		# With kmemleak and debug objects about every other allocation
		# is the checkers' own bookkeeping (a kmemleak_object for each
		# object allocated, debug objects' pool refills), made with
		# __GFP_NOWARN and done without when it fails (kmemleak falls
		# back on its reserve pool).  On the debug kernel such a point
		# says nothing about livepatch and is not counted: after
		# checking that the patch still works, the next allocation
		# takes its place (at most 3 times in a row).
		for ((tries = 0; tries < 3; tries++)); do
			((FI_DEBUG && FI_HIT == 1)) || break
			[[ $FI_CLASS == quiet && $FI_ERR == OK ]] || break
			"sc_${sc}_patched" "$sc: fail-nth=$n (quiet): tolerated"
			"sc_${sc}_undo"
			PASSED_OVER=$((PASSED_OVER + 1))
			n=$((n + 1))
			inject "$n" "$mod"
		done
		what="$sc: fail-nth=$n ($FI_CLASS $FI_SITE)"
		if [[ $FI_HIT == 0 ]]; then
			# Fewer than n allocations: a normal load.
			[[ $FI_ERR == OK ]] ||
				die "$sc: load of $mod without an injected failure failed with $FI_ERR"
			"sc_${sc}_patched" "$what: normal load"
			"sc_${sc}_undo"
			if [[ $mod == "$LP" ]] && ((!FI_DEBUG)); then
				klp_range "$n"
				klp_info "$sc: allocations $KLP_FIRST to $KLP_LAST of $((n - 1)) are klp_enable_patch()'s"
			fi
			break
		fi
		points=$((points + 1))
		CLASS_COUNT[$FI_CLASS]=$((${CLASS_COUNT[$FI_CLASS]:-0} + 1))
		ERRNO_COUNT[$FI_ERR]=$((${ERRNO_COUNT[$FI_ERR]:-0} + 1))
		[[ $FI_CLASS == enable || $FI_CLASS == coming ]] &&
			SITES[$FI_SITE]=$((${SITES[$FI_SITE]:-0} + 1))
		if [[ $FI_ERR == OK ]]; then
			# The kernel did without that allocation.
			TOLERATED=$((TOLERATED + 1))
			"sc_${sc}_patched" "$what: tolerated"
			"sc_${sc}_undo"
			continue
		fi
		expected_errno "$sc"
		[[ $FI_ERR == "$REPLY" ]] || {
			cat "$OUT" >&2
			die "$what: load failed with $FI_ERR, expected $REPLY"
		}
		[[ $FI_ERR == ENOMEM ]] || ((FI_KLPMSG)) ||
			die "$what: livepatch refused $mod without a word"
		"sc_${sc}_clean" "$what"
		if [[ $FI_CLASS == enable || $FI_CLASS == coming ]]; then
			((FI_KLPMSG)) || {
				cat "$OUT" >&2
				die "$what: no livepatch line in the kernel log"
			}
			plain_load "$mod"
			"sc_${sc}_patched" "$what: next normal load"
			"sc_${sc}_undo"
		fi
	done
	[[ $FI_HIT == 0 ]] || die "$sc: still failing after $FI_MAX failure points"
	klp_info "$sc: $points failure points, then a normal load ($((SECONDS - start)) s)"
	POINTS=$((POINTS + points))
}

# --- vmlinux: test_klp_failnth -------------------------------------------
sc_vmlinux_clean() {
	! loaded "$LP" || die "$1: $LP loaded"
	expect_patches "$1"
	expect_hooks "$1" cmdline_proc_show 0
	expect "$1" /proc/cmdline "$ORIG_CMDLINE"
}
sc_vmlinux_patched() {
	settle "$LP"
	expect "$1" "$KLP_SYSFS/$LP/enabled" 1
	expect "$1" /proc/cmdline "$LP: cmdline replaced"
	expect_hooks "$1" cmdline_proc_show 1
}
sc_vmlinux_undo() {
	drop "$LP"
	sc_vmlinux_clean "after unloading $LP"
}

# --- module: test_klp_modpatch, test_klp_target loaded first -------------
sc_module_clean() {
	! loaded "$MP" || die "$1: $MP loaded"
	expect_patches "$1"
	expect_hooks "$1" test_klp_target_greeting 0
	expect "$1" "$GREETING" "$T: unpatched greeting"
}
sc_module_patched() {
	settle "$MP"
	expect "$1" "$KLP_SYSFS/$MP/$T/patched" 1
	expect "$1" "$GREETING" "$MP: patched greeting"
	expect_hooks "$1" test_klp_target_greeting 1
}
sc_module_undo() {
	drop "$MP"
	sc_module_clean "after unloading $MP"
}

# --- coming: test_klp_target loaded while test_klp_modpatch is enabled ---
sc_coming_clean() {
	! loaded "$T" || die "$1: $T loaded"
	[[ ! -e $GREETING ]] || die "$1: $GREETING left behind"
	expect_patches "$1" "$MP"
	expect "$1" "$KLP_SYSFS/$MP/enabled" 1
	expect "$1" "$KLP_SYSFS/$MP/transition" 0
	expect "$1" "$KLP_SYSFS/$MP/$T/patched" 0
	expect_hooks "$1" test_klp_target_greeting 0
}
sc_coming_patched() {
	loaded "$T" || die "$1: $T not loaded"
	expect "$1" "$KLP_SYSFS/$MP/$T/patched" 1
	expect "$1" "$GREETING" "$MP: patched greeting"
	expect_hooks "$1" test_klp_target_greeting 1
}
sc_coming_undo() {
	rmmod "$T" || die "rmmod $T failed"
	klp_untrack "$T"
	sc_coming_clean "after unloading $T"
}

# --- replace: test_klp_atomic_replace over two enabled patches -----------
replace_setup() {
	plain_load "$BASE"
	settle "$BASE"
	plain_load "$MP"
	settle "$MP"
}
sc_replace_clean() {
	! loaded "$AR" || die "$1: $AR loaded"
	expect_patches "$1" "$MP $BASE"
	expect "$1" "$KLP_SYSFS/$BASE/enabled" 1
	expect "$1" "$KLP_SYSFS/$MP/enabled" 1
	expect "$1" "$KLP_SYSFS/$BASE/transition" 0
	expect "$1" "$KLP_SYSFS/$MP/transition" 0
	expect "$1" /proc/cmdline "$BASE: cmdline patched"
	expect "$1" /proc/version "$ORIG_VERSION"
	expect "$1" "$GREETING" "$MP: patched greeting"
	expect_hooks "$1" cmdline_proc_show 1
	expect_hooks "$1" test_klp_target_greeting 1
	expect_hooks "$1" version_proc_show 0
}
sc_replace_patched() {
	settle "$AR"
	gone "$BASE"
	gone "$MP"
	expect_patches "$1" "$AR"
	expect "$1" /proc/version "$AR: version patched"
	expect "$1" /proc/cmdline "$ORIG_CMDLINE"
	expect "$1" "$GREETING" "$T: unpatched greeting"
	expect_hooks "$1" version_proc_show 1
	expect_hooks "$1" cmdline_proc_show 0
	expect_hooks "$1" test_klp_target_greeting 0
}
unused() {
	is "/sys/module/$1/refcnt" 0
}
sc_replace_undo() {
	local m
	drop "$AR"
	for m in "$BASE" "$MP"; do
		until_ok "$KLP_WAIT_SECS" unused "$m" ||
			die "module $m still in use after its patch was replaced"
		rmmod "$m" || die "rmmod $m failed"
		klp_untrack "$m"
	done
	replace_setup
	sc_replace_clean "after restoring $BASE and $MP"
}

get /proc/cmdline
ORIG_CMDLINE=$REPLY
get /proc/version
ORIG_VERSION=$REPLY

for sc in $SCENARIOS; do
	case $sc in
	vmlinux)
		run_points vmlinux "$LP"
		;;
	module)
		plain_load "$T"
		run_points module "$MP"
		rmmod "$T" && klp_untrack "$T"
		;;
	coming)
		plain_load "$MP"
		settle "$MP"
		run_points coming "$T"
		drop "$MP"
		;;
	replace)
		plain_load "$T"
		replace_setup
		run_points replace "$AR"
		drop "$MP"
		drop "$BASE"
		rmmod "$T" && klp_untrack "$T"
		;;
	*) die "unknown scenario '$sc'" ;;
	esac
done

# summary NAME: "key=count ..." of associative array NAME, sorted.
summary() {
	local -n arr=$1
	local k out=""
	for k in $(printf '%s\n' "${!arr[@]}" | sort); do
		out+=" $k=${arr[$k]}"
	done
	echo "${out# }"
}
klp_info "by place: $(summary CLASS_COUNT)"
klp_info "by result: $(summary ERRNO_COUNT) (OK: the kernel did without the allocation)"
klp_info "livepatch allocation sites (function<klp_ caller=count): $(summary SITES)"
((POINTS > 0)) || die "no failure point was exercised"
if ((FI_DEBUG)); then
	klp_info "quiet allocations of the checkers passed over: $PASSED_OVER"
	((${CLASS_COUNT[enable]:-0} > 0)) ||
		die "no failure point fell inside klp_enable_patch()"
fi
echo "fault injection: $POINTS failure points exercised, all clean"
klp_pass
