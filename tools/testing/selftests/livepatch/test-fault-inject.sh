#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures while a patch is being enabled, in four scenarios:
#   vmlinux  test_klp_failnth patches cmdline_proc_show()
#   module   test_klp_modpatch patches test_klp_target, already loaded
#   coming   test_klp_target loads while test_klp_modpatch is enabled
#            (klp_module_coming())
#   replace  test_klp_atomic_replace replaces test_klp_replace_base and
#            test_klp_modpatch (nop functions and a generated object)
# and a fifth while one is being disabled:
#   filter   ftrace cannot take the address of an unpatched function out of
#            its filter (fail_klp_ftrace_filter; see sc_filter below)
#
# For N = 1, 2, ... the N-th slab allocation of the loading task fails
# (fail-nth, armed by klp_fail_nth just before finit_module(); it counts
# the allocations of that task only, not those of workqueues or other
# tasks), until a load makes fewer than N allocations and succeeds: every
# allocation of the load fails once.  failslab dumps the stack of each
# forced failure: an allocation under klp_enable_patch() (under
# klp_module_coming() in the coming scenario) is a livepatch point; the
# others are the module loader's or the module init's.  The patch modules
# also report which allocations of their load are klp_enable_patch()'s
# (test_klp_failnth.h), and the stack and the count must agree.  The
# module and replace scenarios try only those: the module loader's
# allocations before and after are the ones the vmlinux scenario tries.
#
# After every failed load:
#   - insmod failed with ENOMEM;
#   - the module is not loaded, /sys/kernel/livepatch holds the patches it
#     held before, ftrace hooks the patched functions as often as before
#     (tracefs enabled_functions), the modules' reference counts are as
#     before, and the functions return what they returned before;
#   - at a livepatch point, the kernel logged, after the failure, the error
#     line of the step that failed: "failed to enable patch '<patch>'" once
#     "enabling patch" was logged, "<patch>: cannot ... (-12)" before it
#     (stock 6.1 logs nothing there: counted, and reported as a SKIP line),
#     "failed to apply patch '<patch>' to module '<module>' (-12)" (or
#     "failed to initialize patch ...") and "refusing to load module" for
#     a coming module.  The next load, and in the end the load without a
#     failure, show that nothing left behind stands in their way.
# A load that succeeds although an allocation failed must patch correctly;
# it does not count as a clean failure, and it must not be one of
# livepatch's own allocations (the allocating function is no klp_
# function): only code that can do without an allocation (kernfs falls
# back on preloaded nodes, ftrace on its common trampoline, ...) may.
# Livepatch itself does without one, which KLP_OPTIONAL_RE names: a
# site's stub for calls without the handler (klp_stub_get(), and
# klp_stub_page_new() for a page of them: without its stub a site is
# called through the handler, which the patched behaviour checked
# afterwards does not tell apart).
#
# On a kernel with kmemleak (KCONFIG=debug), where every kobject release is
# delayed by seconds and one failed load takes about 15 s, only the vmlinux
# scenario runs, on KLP_FI_DEBUG_POINTS (10) allocations spread evenly over
# those of klp_enable_patch(), each of which must be a livepatch point (a
# quiet allocation of kmemleak or debug objects gives way to the next
# one); kmemleak then looks for what their error paths leaked.
#
# Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and
# CONFIG_FAULT_INJECTION_DEBUG_FS (harness/configs/base.config).

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
SCENARIOS=${KLP_FI_SCENARIOS:-vmlinux module coming replace filter}
DEBUG_POINTS=${KLP_FI_DEBUG_POINTS:-10}
FI_DEBUG=0
if [[ -e /sys/kernel/debug/kmemleak ]]; then
	FI_DEBUG=1
	SCENARIOS=${KLP_FI_SCENARIOS:-vmlinux filter}
fi

klp_setup
[[ -e /proc/self/fail-nth ]] ||
	skip "no /proc/self/fail-nth (CONFIG_FAULT_INJECTION not set)"
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
KLP_OPTIONAL_RE='^klp_stub_(get|page_new)$'
ALLOC_RE='^(dump_stack(_lvl)?|fail_dump|should_fail(_ex)?|(__)?should_failslab|slab_pre_alloc_hook.*|slab_alloc(_node)?|__slab_alloc|kmem_cache_alloc.*|__kmem_cache_alloc.*|kmalloc.*|__kmalloc.*|kzalloc.*|kcalloc|kvmalloc.*|kstrdup.*|kmemdup|kvasprintf.*|kasprintf|kobject_set_name_vargs)$'

# inject N MOD: load MOD with the N-th allocation failing (kN: the N-th of
# its klp_enable_patch(), see test_klp_failnth.h).  Sets FI_ERR
# (OK or the errno name), FI_HIT (1 when the failure was injected),
# FI_CLASS (enable: under klp_enable_patch(), coming: under
# klp_module_coming(), init: another module init, loader: the module
# loader, quiet: an allocation made with __GFP_NOWARN, no stack to tell),
# FI_SITE (the function that allocated, and the innermost klp_ function
# above it), FI_ALLOC (the function that allocated), FI_ENABLING (1 when
# "enabling patch" was logged before the failure, -1 when the failure was
# quiet, 0 otherwise), FI_LINES (the
# "livepatch: " lines logged after the failure, all of them when quiet),
# FI_BEFORE and FI_AFTER (the count the patch module reported around
# klp_enable_patch(), or "").
inject() {
	local n=$1 mod=$2 rc text line f inj=0 after=0 klp="" params=""
	klp_log "fault-inject $mod fail-nth=$n"
	if [[ $n == k* ]]; then
		params=fail_nth=${n#k}
		n=$FI_NONE
	fi
	"$HELPER" "$n" "$MODDIR/$mod.ko" "$params" > "$OUT" ||
		die "$HELPER $n $mod $params failed"
	FI_CLASS=- FI_SITE="" FI_ALLOC="" FI_ENABLING=0 FI_LINES=()
	FI_BEFORE="" FI_AFTER=""
	{
		read -r rc FI_HIT text
		while read -r line; do
			case $line in
			"livepatch: "*)
				if ((after || FI_HIT == 1)); then
					FI_LINES+=("$line")
				fi
				[[ $line == "livepatch: enabling patch '$mod'" ]] &&
					((!after)) && FI_ENABLING=1
				;;
			"$mod: fail-nth before klp_enable_patch(): "*) FI_BEFORE=${line##* } ;;
			"$mod: fail-nth after klp_enable_patch(): "*) FI_AFTER=${line##* } ;;
			"FAULT_INJECTION: forcing a failure"*)
				inj=1 after=1 FI_LINES=()
				;;
			"? "*) ;;	# a stale return address, not a caller
			*+0x*/0x*)
				((inj)) || continue
				f=${line%%+0x*}
				f=${f%%.*}
				[[ $f == *" "* ]] && continue
				[[ -z $FI_ALLOC && ! $f =~ $ALLOC_RE ]] && FI_ALLOC=$f
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
	# With fail_nth=K the module disarms the count after
	# klp_enable_patch(): it failed an allocation when it did not log the
	# "after" count.
	if [[ -n $params ]]; then
		FI_HIT=1
		[[ -n $FI_AFTER ]] && FI_HIT=0
	fi
	if [[ $rc == 0 ]]; then
		FI_ERR=OK
		klp_track "$mod"
	else
		FI_ERR=$(klp_errno_of "$text")
	fi
	# No stack (or no "FAULT_INJECTION" line at all: __GFP_NOWARN
	# allocations fail without a word): quiet.
	if [[ $FI_HIT == 1 ]]; then
		if [[ -z $FI_ALLOC ]]; then
			FI_CLASS=quiet
		elif [[ $FI_CLASS == - ]]; then
			FI_CLASS=loader
		fi
		# No "FAULT_INJECTION" line: FI_LINES has every line, and
		# which step failed is not known.
		((after)) || FI_ENABLING=-1
	fi
	FI_SITE=${FI_ALLOC:--}
	[[ -n $klp && $klp != "$FI_ALLOC" ]] && FI_SITE+="<$klp"
	return 0
}

# logged REGEX: one of FI_LINES matches REGEX (extended, anchored).
logged() {
	local l
	for l in "${FI_LINES[@]}"; do
		[[ $l =~ ^$1$ ]] && return 0
	done
	return 1
}

# expect_logged WHAT REGEX
expect_logged() {
	logged "$2" || {
		cat "$OUT" >&2
		die "$1: no kernel log line '$2' after the failure"
	}
}

# expect_error_lines WHAT SCENARIO MOD: the error lines of a failure at a
# livepatch point (see the top of the file).
expect_error_lines() {
	local what=$1 sc=$2 mod=$3 p=$3 m=$T
	# (Module names are plain words: no regex quoting needed.)
	if [[ $sc == coming ]]; then
		p=$MP
		expect_logged "$what" "livepatch: failed to (apply patch '$p' to|initialize patch '$p' for) module '$m' \(-12\)"
		expect_logged "$what" "livepatch: patch '$p' failed for module '$m', refusing to load module '$m'"
		return
	fi
	if ((FI_ENABLING == 1)); then
		expect_logged "$what" "livepatch: failed to enable patch '$p'"
		return
	fi
	# A quiet allocation: the error line of either step.
	((FI_ENABLING == -1)) && logged "livepatch: failed to enable patch '$p'" && return
	# Building the patch: its sysfs entries, the nop functions of a
	# replace.
	logged "livepatch: $p: cannot .* \(-12\)" && return
	if ((!OURS)); then
		STOCK_SILENT=$((STOCK_SILENT + 1))
		return
	fi
	cat "$OUT" >&2
	die "$what: no kernel log line '$mod: cannot ... (-12)' after the failure"
}

# refcounts MOD...: "MOD=count ..." of the loaded ones among MOD..., in REPLY.
refcounts() {
	local m out=""
	for m in "$@"; do
		loaded "$m" || continue
		get "/sys/module/$m/refcnt"
		out+=" $m=$REPLY"
	done
	REPLY=${out# }
}

# expect_refcounts WHAT: the modules' reference counts are those of the
# scenario's start (REFS).
expect_refcounts() {
	refcounts "$LP" "$MP" "$T" "$BASE" "$AR"
	[[ $REPLY == "$REFS" ]] ||
		die "$1: module reference counts '$REPLY', expected '$REFS'"
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

# Over all scenarios: livepatch points, clean failures among them, other
# points, their clean failures, loads that did without the allocation.
ALL_LP=0
ALL_OTHER=0
TOLERATED=0
# Build-step failures stock 6.1 logs nothing for.
STOCK_SILENT=0
# Debug kernel: quiet allocations passed over (see try_point).
PASSED_OVER=0
declare -A CLASS_COUNT=() SITES=() TOL_SITES=()
# Allocations of klp_enable_patch() that failed once, by index.
declare -a COVERED=()

# points SCENARIO MOD: the failure points to try, in PTS: "N" fails the
# N-th allocation of the load, "kK" (a patch module's fail_nth=K) the K-th
# of its klp_enable_patch().  For a patch module, KLP_NR is the number of
# allocations klp_enable_patch() makes (measured on a second load: the
# first load of the boot makes a few allocations that later ones do not).
# The vmlinux patch (on stock 6.1 like the module patch: each load the
# module loader does without costs two transitions of a second or more
# there, and the loader is not livepatch's code) and the coming module:
# 1, 2, ... up to FI_MAX, the module loader's allocations too.  The module and replace patches: k1, k2,
# ... those of klp_enable_patch() (their module loader's are the vmlinux
# patch's).  Both until a load without failure.  On a debug kernel:
# DEBUG_POINTS of the vmlinux patch's klp_enable_patch() allocations,
# spread evenly.
points() {
	local sc=$1 mod=$2 i k last
	PTS=()
	KLP_NR=0
	if [[ $sc != coming ]]; then
		for i in 1 2; do
			inject "$FI_NONE" "$mod"
			[[ $FI_ERR == OK && $FI_HIT == 0 ]] ||
				die "$sc: load of $mod failed with $FI_ERR"
			"sc_${sc}_patched" "$sc: normal load"
			"sc_${sc}_undo"
		done
		[[ -n $FI_BEFORE && -n $FI_AFTER ]] ||
			die "$sc: $mod did not report its fail-nth counts"
		KLP_NR=$((FI_BEFORE - FI_AFTER))
		klp_info "$sc: klp_enable_patch() makes $KLP_NR allocations"
		((KLP_NR > 0)) || die "$sc: klp_enable_patch() allocated nothing"
	fi
	if ((FI_DEBUG)); then
		[[ $mod == "$LP" ]] || die "$sc: only $LP can be tried on a debug kernel"
		# The last allocations may be quiet ones of the debug
		# checkers (debug objects filling their pool), which the
		# kernel does without: try_point() passes such a point over
		# to the next allocation, up to 3 times, so the points end 3
		# before the last allocation.
		last=$((KLP_NR > DEBUG_POINTS + 3 ? KLP_NR - 3 : KLP_NR))
		for ((i = 0; i < DEBUG_POINTS; i++)); do
			k=k$((1 + i * (last - 1) / (DEBUG_POINTS - 1)))
			((${#PTS[@]})) && [[ ${PTS[-1]} == "$k" ]] || PTS+=("$k")
		done
		PTS+=("$FI_NONE")
	elif [[ $sc == coming ]] || { [[ $mod == "$LP" ]] && ((OURS)); }; then
		for ((i = 1; i <= FI_MAX; i++)); do
			PTS+=("$i")
		done
	else
		for ((i = 1; i <= FI_MAX; i++)); do
			PTS+=("k$i")
		done
	fi
}

# try_point SCENARIO MOD POINT: one failure point; sets RESULT to "normal"
# (no failure injected), "lp" or "other" (a livepatch point or another
# one, failed cleanly) or "tolerated" (the load did without).
try_point() {
	local sc=$1 mod=$2 pt=$3 tries what in_klp
	inject "$pt" "$mod"
	# With kmemleak and debug objects about every other allocation is the
	# checkers' own bookkeeping (a kmemleak_object for each object
	# allocated, debug objects' pool refills), made with __GFP_NOWARN and
	# done without when it fails (kmemleak falls back on its reserve
	# pool).  On the debug kernel such a point says nothing about
	# livepatch and is not counted: after checking that the patch still
	# works, the next allocation takes its place (at most 3 times in a
	# row).
	for ((tries = 0; tries < 3; tries++)); do
		((FI_DEBUG && FI_HIT == 1)) || break
		[[ $FI_CLASS == quiet && $FI_ERR == OK ]] || break
		"sc_${sc}_patched" "$sc: fail-nth=$pt (quiet): tolerated"
		"sc_${sc}_undo"
		PASSED_OVER=$((PASSED_OVER + 1))
		pt=k$((${pt#k} + 1))
		inject "$pt" "$mod"
	done
	what="$sc: fail-nth=$pt ($FI_CLASS $FI_SITE)"
	if [[ $FI_HIT == 0 ]]; then
		[[ $FI_ERR == OK ]] ||
			die "$sc: load of $mod without an injected failure failed with $FI_ERR"
		"sc_${sc}_patched" "$what: normal load"
		"sc_${sc}_undo"
		RESULT="normal"
		return
	fi
	# Where the allocation was made: the stack, and for a patch module
	# its counts (a failure inside klp_enable_patch() leaves the "before"
	# count, the index of the failed allocation, and no "after" count).
	# A quiet allocation inside klp_enable_patch() is livepatch's too.
	if [[ $sc != coming ]]; then
		in_klp=0
		[[ -n $FI_BEFORE && -z $FI_AFTER ]] && in_klp=1
		if ((in_klp)); then
			[[ $FI_CLASS == enable || $FI_CLASS == quiet ]] ||
				die "$what: $mod counts allocation $FI_BEFORE of klp_enable_patch(), the stack says $FI_CLASS"
			FI_CLASS=enable
			COVERED[FI_BEFORE]=1
		else
			[[ $FI_CLASS != enable ]] ||
				die "$what: the stack says klp_enable_patch(), $mod's counts say outside"
		fi
	fi
	if ((FI_DEBUG)) && [[ $FI_CLASS != enable ]]; then
		die "$what: not an allocation of klp_enable_patch()"
	fi
	CLASS_COUNT[$FI_CLASS]=$((${CLASS_COUNT[$FI_CLASS]:-0} + 1))
	RESULT="other"
	if [[ $FI_CLASS == "$LP_CLASS" ]]; then
		RESULT="lp"
		SITES[$FI_SITE]=$((${SITES[$FI_SITE]:-0} + 1))
	fi
	if [[ $FI_ERR == OK ]]; then
		# The kernel did without that allocation; livepatch may not do
		# without its own.
		[[ $FI_ALLOC != klp_* || $FI_ALLOC =~ $KLP_OPTIONAL_RE ]] || {
			cat "$OUT" >&2
			die "$what: the load succeeded although livepatch's own allocation failed"
		}
		TOL_SITES[$FI_CLASS:$FI_SITE]=$((${TOL_SITES[$FI_CLASS:$FI_SITE]:-0} + 1))
		"sc_${sc}_patched" "$what: tolerated"
		"sc_${sc}_undo"
		if [[ $RESULT == lp ]]; then
			RESULT="lp-tolerated"
		else
			RESULT="tolerated"
		fi
		return
	fi
	expected_errno "$sc"
	[[ $FI_ERR == "$REPLY" ]] || {
		cat "$OUT" >&2
		die "$what: load failed with $FI_ERR, expected $REPLY"
	}
	[[ $FI_ERR == ENOMEM ]] || [[ ${#FI_LINES[@]} -gt 0 ]] ||
		die "$what: livepatch refused $mod without a word"
	"sc_${sc}_clean" "$what"
	expect_refcounts "$what"
	[[ $RESULT == lp ]] && expect_error_lines "$what" "$sc" "$mod"
	return 0
}

# run_points SCENARIO MOD: the failure points of one scenario, with the
# scenario's hooks sc_<SCENARIO>_{clean,patched,undo}.
run_points() {
	local sc=$1 mod=$2 pt k start=$SECONDS
	local lp=0 lp_clean=0 other=0 other_clean=0 tol=0 normal=0
	if ((FI_DEBUG)); then
		start_test "$sc: $DEBUG_POINTS allocations of klp_enable_patch() fail once"
	elif [[ $sc == coming ]] || { [[ $mod == "$LP" ]] && ((OURS)); }; then
		start_test "$sc: every allocation of loading $mod fails once"
	else
		start_test "$sc: every allocation of $mod's klp_enable_patch() fails once"
	fi
	LP_CLASS=enable
	[[ $sc == coming ]] && LP_CLASS=coming
	refcounts "$LP" "$MP" "$T" "$BASE" "$AR"
	REFS=$REPLY
	COVERED=()
	points "$sc" "$mod"
	for pt in "${PTS[@]}"; do
		((normal)) && break
		try_point "$sc" "$mod" "$pt"
		case $RESULT in
		normal)
			normal=1
			[[ $pt == k* ]] && KLP_NR=$((${pt#k} - 1))
			;;
		lp) lp=$((lp + 1)) lp_clean=$((lp_clean + 1)) ;;
		lp-tolerated) lp=$((lp + 1)) tol=$((tol + 1)) ;;
		other) other=$((other + 1)) other_clean=$((other_clean + 1)) ;;
		tolerated) other=$((other + 1)) tol=$((tol + 1)) ;;
		esac
	done
	((normal)) || die "$sc: still failing after $FI_MAX failure points"
	# Now and then a load allocates once more or less than another
	# (radix tree nodes preloaded for kernfs or not), before or inside
	# klp_enable_patch(): the vmlinux patch's allocations of
	# klp_enable_patch() that no load above failed are tried with
	# fail_nth=K.
	if [[ $mod == "$LP" ]] && ((!FI_DEBUG && OURS)); then
		for ((k = 1; k <= KLP_NR; k++)); do
			[[ -z ${COVERED[k]:-} ]] || continue
			try_point "$sc" "$mod" "k$k"
			case $RESULT in
			normal) COVERED[k]=0 ;;	# one allocation fewer this time
			lp) lp=$((lp + 1)) lp_clean=$((lp_clean + 1)) ;;
			lp-tolerated) lp=$((lp + 1)) tol=$((tol + 1)) ;;
			*) die "$sc: fail_nth=$k of $mod failed outside klp_enable_patch()" ;;
			esac
		done
	fi
	((lp > 0)) || die "$sc: no allocation failed inside livepatch"
	if ((FI_DEBUG)); then
		((lp == DEBUG_POINTS)) || die "$sc: $lp of $DEBUG_POINTS points inside klp_enable_patch()"
	elif [[ $sc != coming ]]; then
		# Every allocation of klp_enable_patch() failed once.
		for ((k = 1; k <= KLP_NR; k++)); do
			[[ -n ${COVERED[k]:-} ]] ||
				die "$sc: allocation $k of klp_enable_patch()'s $KLP_NR never failed"
		done
	fi
	if [[ $sc == coming ]]; then
		echo "fault-inject: $sc: $lp points, $lp_clean failed cleanly"
	else
		echo "fault-inject: $sc: $lp points (the $KLP_NR allocations of klp_enable_patch()), $lp_clean failed cleanly"
	fi
	klp_info "$sc: $other allocations outside livepatch (module loader, module init), $other_clean failed cleanly; $tol loads did without the allocation ($((SECONDS - start)) s)"
	ALL_LP=$((ALL_LP + lp))
	ALL_OTHER=$((ALL_OTHER + other))
	TOLERATED=$((TOLERATED + tol))
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

# --- filter: unpatching when ftrace cannot change its filter -------------
# Unpatching cannot be refused, but ftrace_set_filter_ips() allocates.
# When addresses cannot leave the filter, the functions are restored all
# the same (the handler leaves a call without a site alone), and the
# addresses leave when the filter is next reset: at once
# (klp_ftrace_resync()), or, when that fails as well, at the next patch
# operation.  Unpatching runs in the transition's work item, where the
# fail-nth of this shell cannot reach: this implementation's
# fail_klp_ftrace_filter (debugfs, with failslab's knobs) fails
# klp_ftrace_filter(), through which every change of its filter goes.
# Stock 6.1 has no such knob (a SKIP line).
FF=/sys/kernel/debug/fail_klp_ftrace_filter

# ff_arm TIMES: the next TIMES changes of the filter fail (ENOMEM).
ff_arm() {
	klp_log "fail_klp_ftrace_filter: the next $1 changes of the filter fail"
	echo 1 > "$FF/interval"
	echo "$1" > "$FF/times"
	echo 100 > "$FF/probability"
}

# ff_disable PATCH WHAT: disable PATCH with the failures armed; every one
# of them must have been used.
ff_disable() {
	klp_log "disable $1"
	echo 0 > "$KLP_SYSFS/$1/enabled" || die "$2: disabling $1 failed"
	gone "$1"
	echo 0 > "$FF/probability"
	expect "$2: failures not used" "$FF/times" 0
}

sc_filter() {
	local f
	if [[ ! -d $FF ]]; then
		klp_lacks_part "filter: no $FF (unpatching when ftrace cannot change its filter)"
		return
	fi
	# Disarmed first, should an earlier run have been killed armed.
	echo 0 > "$FF/probability"
	for f in interval times verbose; do
		klp_at_exit "echo '$(cat "$FF/$f")' > $FF/$f"
	done
	klp_at_exit "echo 0 > $FF/probability"
	# The failures are expected: no message, no stack.
	echo 0 > "$FF/verbose"

	# test_klp_modpatch keeps klp_ops registered, so that an address left
	# in its filter stays hooked (tracefs enabled_functions).
	plain_load "$T"
	plain_load "$MP"
	settle "$MP"
	plain_load "$LP"
	settle "$LP"
	expect_hooks "filter" cmdline_proc_show 1
	expect_hooks "filter" test_klp_target_greeting 1

	start_test "filter: cmdline_proc_show() cannot leave the ftrace filter"
	ff_arm 1
	ff_disable "$LP" "filter, one failure"
	expect "filter, one failure" /proc/cmdline "$ORIG_CMDLINE"
	expect_hooks "filter, one failure (the filter was reset)" cmdline_proc_show 0
	expect "filter, one failure" "$GREETING" "$MP: patched greeting"
	expect_hooks "filter, one failure" test_klp_target_greeting 1
	check_log <<-EOF
		klptest: fail_klp_ftrace_filter: the next 1 changes of the filter fail
		klptest: disable $LP
		$(log_disable_lines "$LP" | sed '$d')
		livepatch: failed to remove 1 address from the ftrace filter (-12)
		livepatch: '$LP': unpatching complete
	EOF
	rmmod "$LP" || die "rmmod $LP failed"
	klp_untrack "$LP"

	plain_load "$LP"
	settle "$LP"
	start_test "filter: nor can the filter be reset; the next patch operation resets it"
	ff_arm 2
	ff_disable "$LP" "filter, two failures"
	expect "filter, two failures" /proc/cmdline "$ORIG_CMDLINE"
	# Still hooked, with no site: the handler leaves the call alone.
	expect_hooks "filter, two failures (the address stays in the filter)" cmdline_proc_show 1
	expect "filter, two failures" "$GREETING" "$MP: patched greeting"
	rmmod "$LP" || die "rmmod $LP failed"
	klp_untrack "$LP"
	expect "filter, two failures, $LP removed" /proc/cmdline "$ORIG_CMDLINE"
	klp_log "disable $MP"
	echo 0 > "$KLP_SYSFS/$MP/enabled" || die "disabling $MP failed"
	gone "$MP"
	expect_hooks "filter, after the next patch operation" cmdline_proc_show 0
	expect_hooks "filter, after the next patch operation" test_klp_target_greeting 0
	expect "filter, after the next patch operation" "$GREETING" "$T: unpatched greeting"
	check_log <<-EOF
		klptest: fail_klp_ftrace_filter: the next 2 changes of the filter fail
		klptest: disable $LP
		$(log_disable_lines "$LP" | sed '$d')
		livepatch: failed to remove 1 address from the ftrace filter (-12)
		livepatch: failed to reset the ftrace filter (-12): addresses of unpatched functions stay traced until the next patch operation
		livepatch: '$LP': unpatching complete
		klptest: disable $MP
		$(log_disable_lines "$MP")
	EOF
	rmmod "$MP" || die "rmmod $MP failed"
	klp_untrack "$MP"
	rmmod "$T" || die "rmmod $T failed"
	klp_untrack "$T"
	klp_info "filter: a failed removal from the ftrace filter reset at once, or at the next patch operation"
}

get /proc/cmdline
ORIG_CMDLINE=$REPLY
get /proc/version
ORIG_VERSION=$REPLY

# This implementation or stock 6.1 (which logs no error line when building
# a patch fails): klp.impl= on the kernel command line, or else the
# stack_order attribute stock 6.1 lacks.
case $KLP_UNDER_TEST in
ours) OURS=1 ;;
stock) OURS=0 ;;
*)
	plain_load "$LP"
	settle "$LP"
	OURS=0
	[[ -e $KLP_SYSFS/$LP/stack_order ]] && OURS=1
	drop "$LP"
	;;
esac

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
	filter)
		sc_filter
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
klp_info "livepatch allocation sites (function<klp_ caller=count): $(summary SITES)"
klp_info "loads that did without the allocation (place:function=count): $(summary TOL_SITES)"
((ALL_LP > 0)) || die "no failure point was exercised"
if ((FI_DEBUG)); then
	klp_info "quiet allocations of the checkers passed over: $PASSED_OVER"
fi
if ((STOCK_SILENT)); then
	echo "$KLP_TEST_NAME: SKIP: error lines of build-step failures: stock 6.1 logs none ($STOCK_SILENT failed loads without a livepatch line)"
fi
echo "fault injection: $ALL_LP livepatch points, all failed cleanly or patched; $ALL_OTHER points outside livepatch, $TOLERATED loads did without the allocation"
klp_pass
