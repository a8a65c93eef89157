#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures while a patch is being enabled.  For N = 1, 2, ...
# the N-th slab allocation of the loading task fails (fail-nth, armed by
# klp_fail_nth just before finit_module(), so the count starts in the module
# loader and runs through the module's init and klp_enable_patch()), until a
# load makes fewer than N allocations.  After each failed load:
#   - insmod failed with ENOMEM (inside livepatch and in the module loader
#     alike),
#   - the module is not loaded, /sys/kernel/livepatch/<patch> is gone,
#   - ftrace has no hook on the functions the patch changes (tracefs
#     enabled_functions), and the patches already enabled are untouched,
#   - a failure inside livepatch left an error line in the kernel log,
#   - after a failure inside livepatch, a normal load of the same module
#     succeeds and patches (then it is removed again).
# A load that succeeds although an allocation failed (one the kernel can do
# without, e.g. kmemleak's or dynamic debug's bookkeeping) must patch
# correctly.  The last load of each scenario, with no failure, must too.
# Leaks are left to kmemleak (KCONFIG=debug scans after the run).
#
# Scenarios:
#   vmlinux  test_klp_livepatch: cmdline_proc_show()
#   module   test_klp_modpatch, its target test_klp_target already loaded
#   coming   test_klp_target loading while test_klp_modpatch is enabled
#            (klp_module_coming())
#   replace  test_klp_atomic_replace replacing test_klp_replace_base and
#            test_klp_modpatch (nop functions and a generated object)
# KLP_FI_SCENARIOS="vmlinux module ..." runs only some of them.
#
# Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB and
# CONFIG_FAULT_INJECTION_DEBUG_FS (harness KCONFIG=debug); SKIPs without.

# shellcheck disable=SC2317 # sc_* hooks are called as "sc_${sc}_<hook>"
# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

LP=test_klp_livepatch
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
SCENARIOS=${KLP_FI_SCENARIOS:-vmlinux module coming replace}

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

ORIG_CMDLINE=$(cat /proc/cmdline)
ORIG_VERSION=$(cat /proc/version)

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

# hooks FUNC: how many ftrace ops hook FUNC (0 when none).
hooks() {
	awk -v f="$1" '$1 == f { gsub(/[()]/, "", $2); n = $2 } END { print n + 0 }' \
		"$TRACEFS/enabled_functions"
}

check_hooks() {
	check_eq "ftrace hooks on $1" "$2" "$(hooks "$1")"
}

# check_patches NAME...: /sys/kernel/livepatch holds exactly these patches.
check_patches() {
	local got
	got=$(find "$KLP_SYSFS" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | xargs)
	check_eq "patches in $KLP_SYSFS" "$*" "$got"
}

# log_since MARK: the kernel log after the line "klptest: MARK".
log_since() {
	klp_log_all | awk -v m="klptest: $1" 'f { print } $0 == m { f = 1 }'
}

# Functions of the allocators and of fault injection itself; the first
# frame of a forced failure's stack that is none of these made the
# allocation.
ALLOC_RE='^(dump_stack|dump_stack_lvl|fail_dump|should_fail|should_fail_ex|should_failslab|__should_failslab|slab_pre_alloc_hook|slab_alloc|slab_alloc_node|__slab_alloc|kmem_cache_alloc|kmem_cache_alloc_lru|kmem_cache_alloc_node|kmem_cache_alloc_trace|__kmem_cache_alloc_node|kmalloc_trace|kmalloc_node_trace|__kmalloc|__kmalloc_node|__kmalloc_node_track_caller|__kmalloc_track_caller|kmalloc|kzalloc|kcalloc|kmalloc_array|kvmalloc_node|kstrdup|kstrdup_const|kmemdup|kvasprintf|kvasprintf_const|__kmem_cache_alloc_bulk|kmem_cache_alloc_bulk)(\.|$)'

# classify LOG: print "<class> <site>" for the forced failure in LOG.
# class: enable (under klp_enable_patch), coming (under klp_module_coming),
# init (another module init), loader (the module loader), quiet (an
# allocation made with __GFP_NOWARN: no stack to tell).
classify() {
	awk -v re="$ALLOC_RE" '
		/FAULT_INJECTION: forcing a failure/ { inject = 1; next }
		inject && /^ *(\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+\/0x[0-9a-f]+/ {
			f = $1 == "?" ? $2 : $1
			sub(/\+0x.*/, "", f)
			if (site == "" && f !~ re) site = f
			if (f ~ /^klp_/ && klp == "") klp = f
			if (f == "klp_enable_patch") cls = "enable"
			else if (f == "klp_module_coming" && cls == "") cls = "coming"
			else if (f == "do_one_initcall" && cls == "") cls = "init"
			if (f ~ /^(entry_SYSCALL|do_syscall)/) inject = 0
		}
		END {
			if (site == "") { print "quiet -"; exit }
			if (cls == "") cls = "loader"
			if (klp != "" && klp != site) site = site "<" klp
			print cls, site
		}'
}

POINTS=0
declare -A CLASS_COUNT=() ERRNO_COUNT=() SITES=()
TOLERATED=0

# inject N MOD: load MOD with the N-th allocation failing.  Sets
# FI_ERR (OK or the errno name), FI_HIT (1 when the failure was injected),
# FI_CLASS and FI_SITE (see classify), FI_LOG (kernel log of the attempt).
inject() {
	local n=$1 name=$2 path out mark rc text
	path=$(mod_path "$name") || die "module $name.ko not found"
	mark="fault $name fail-nth=$n $RANDOM"
	klp_log "$mark"
	out=$("$HELPER" "$n" "$path") || die "$HELPER $n $path failed: $out"
	read -r rc FI_HIT text <<< "$out"
	if [[ $rc == 0 ]]; then
		FI_ERR=OK
		klp_track "$name"
	else
		FI_ERR=$(klp_errno_of "$text")
	fi
	FI_LOG=$(log_since "$mark")
	FI_CLASS=- FI_SITE=-
	if [[ $FI_HIT == 1 ]]; then
		read -r FI_CLASS FI_SITE < <(classify <<< "$FI_LOG")
	fi
}

# run_points SCENARIO MOD: the fail-nth loop of one scenario, with
# the scenario's hooks sc_<SCENARIO>_{clean,patched,undo}.
run_points() {
	local sc=$1 mod=$2 n points=0 what
	start_test "$sc: every allocation of loading $mod fails once"
	for ((n = 1; n <= FI_MAX; n++)); do
		inject "$n" "$mod"
		what="$sc: fail-nth=$n ($FI_CLASS ${FI_SITE})"
		if [[ $FI_HIT == 0 ]]; then
			# Fewer than n allocations: a normal load.
			[[ $FI_ERR == OK ]] ||
				die "$sc: load of $mod without an injected failure failed with $FI_ERR"
			"sc_${sc}_patched" "$what: normal load"
			"sc_${sc}_undo"
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
		[[ $FI_ERR == ENOMEM ]] || {
			echo "$FI_LOG" >&2
			die "$what: load failed with $FI_ERR, expected ENOMEM"
		}
		"sc_${sc}_clean" "$what"
		if [[ $FI_CLASS == enable || $FI_CLASS == coming ]]; then
			grep -qE '^livepatch: .*(fail|refus|error)' <<< "$FI_LOG" || {
				echo "$FI_LOG" >&2
				die "$what: no livepatch error line in the kernel log"
			}
			klp_insmod "$mod" ||
				die "$what: the next normal load of $mod failed: $KLP_INSMOD_ERR"
			"sc_${sc}_patched" "$what: next normal load"
			"sc_${sc}_undo"
		fi
	done
	((n <= FI_MAX)) || die "$sc: still failing after $FI_MAX failure points"
	klp_info "$sc: $points failure points, then a normal load"
	POINTS=$((POINTS + points))
}

# --- vmlinux: test_klp_livepatch -----------------------------------------
sc_vmlinux_clean() {
	! klp_mod_loaded "$LP" || die "$1: $LP loaded"
	klp_patch_gone "$LP" || die "$1: $KLP_SYSFS/$LP left behind"
	check_hooks cmdline_proc_show 0
	check_eq "$1: /proc/cmdline" "$ORIG_CMDLINE" "$(cat /proc/cmdline)"
	check_patches ""
}
sc_vmlinux_patched() {
	klp_patch_exists "$LP" || die "$1: no $KLP_SYSFS/$LP"
	wait_transition "$LP"
	check_file "$KLP_SYSFS/$LP/enabled" 1
	check_eq "$1: /proc/cmdline" "$LP: cmdline replaced" "$(cat /proc/cmdline)"
	check_hooks cmdline_proc_show 1
}
sc_vmlinux_undo() {
	unload_lp "$LP"
	sc_vmlinux_clean "after unloading $LP"
}

# --- module: test_klp_modpatch, test_klp_target loaded first -------------
sc_module_clean() {
	! klp_mod_loaded "$MP" || die "$1: $MP loaded"
	klp_patch_gone "$MP" || die "$1: $KLP_SYSFS/$MP left behind"
	check_hooks test_klp_target_greeting 0
	check_file "$GREETING" "$T: unpatched greeting"
	check_patches ""
}
sc_module_patched() {
	klp_patch_exists "$MP" || die "$1: no $KLP_SYSFS/$MP"
	wait_transition "$MP"
	check_file "$KLP_SYSFS/$MP/$T/patched" 1
	check_file "$GREETING" "$MP: patched greeting"
	check_hooks test_klp_target_greeting 1
}
sc_module_undo() {
	unload_lp "$MP"
	sc_module_clean "after unloading $MP"
}

# --- coming: test_klp_target loaded while test_klp_modpatch is enabled ---
sc_coming_clean() {
	! klp_mod_loaded "$T" || die "$1: $T loaded"
	[[ ! -e $GREETING ]] || die "$1: $GREETING left behind"
	check_file "$KLP_SYSFS/$MP/enabled" 1
	check_file "$KLP_SYSFS/$MP/transition" 0
	check_file "$KLP_SYSFS/$MP/$T/patched" 0
	check_hooks test_klp_target_greeting 0
	check_patches "$MP"
}
sc_coming_patched() {
	klp_mod_loaded "$T" || die "$1: $T not loaded"
	check_file "$KLP_SYSFS/$MP/$T/patched" 1
	check_file "$GREETING" "$MP: patched greeting"
	check_hooks test_klp_target_greeting 1
}
sc_coming_undo() {
	unload_mod "$T"
	sc_coming_clean "after unloading $T"
}

# --- replace: test_klp_atomic_replace over two enabled patches -----------
replace_setup() {
	load_lp "$BASE"
	load_lp "$MP"
}
sc_replace_clean() {
	! klp_mod_loaded "$AR" || die "$1: $AR loaded"
	klp_patch_gone "$AR" || die "$1: $KLP_SYSFS/$AR left behind"
	check_patches "$MP $BASE"
	check_file "$KLP_SYSFS/$BASE/enabled" 1
	check_file "$KLP_SYSFS/$MP/enabled" 1
	check_file "$KLP_SYSFS/$BASE/transition" 0
	check_file "$KLP_SYSFS/$MP/transition" 0
	check_eq "$1: /proc/cmdline" "$BASE: cmdline patched" "$(cat /proc/cmdline)"
	check_eq "$1: /proc/version" "$ORIG_VERSION" "$(cat /proc/version)"
	check_file "$GREETING" "$MP: patched greeting"
	check_hooks cmdline_proc_show 1
	check_hooks test_klp_target_greeting 1
	check_hooks version_proc_show 0
}
sc_replace_patched() {
	klp_patch_exists "$AR" || die "$1: no $KLP_SYSFS/$AR"
	wait_transition "$AR"
	wait_patch_gone "$BASE"
	wait_patch_gone "$MP"
	check_patches "$AR"
	check_eq "$1: /proc/version" "$AR: version patched" "$(cat /proc/version)"
	check_eq "$1: /proc/cmdline" "$ORIG_CMDLINE" "$(cat /proc/cmdline)"
	check_file "$GREETING" "$T: unpatched greeting"
	check_hooks version_proc_show 1
	check_hooks cmdline_proc_show 0
	check_hooks test_klp_target_greeting 0
}
mod_unused() {
	[[ $(cat "/sys/module/$1/refcnt" 2> /dev/null) == 0 ]]
}
sc_replace_undo() {
	unload_lp "$AR"
	for m in "$BASE" "$MP"; do
		klp_wait_for "$KLP_WAIT_SECS" mod_unused "$m" ||
			die "module $m still in use after its patch was replaced"
		unload_mod "$m"
	done
	replace_setup
	sc_replace_clean "after restoring $BASE and $MP"
}

for sc in $SCENARIOS; do
	case $sc in
	vmlinux)
		run_points vmlinux "$LP"
		;;
	module)
		load_mod "$T"
		run_points module "$MP"
		unload_mod "$T"
		;;
	coming)
		load_lp "$MP"
		run_points coming "$T"
		unload_lp "$MP"
		;;
	replace)
		load_mod "$T"
		replace_setup
		run_points replace "$AR"
		unload_lp "$MP"
		unload_lp "$BASE"
		unload_mod "$T"
		;;
	*) die "unknown scenario '$sc'" ;;
	esac
done

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
klp_info "livepatch allocation sites (site<livepatch function=count): $(summary SITES)"
((POINTS > 0)) || die "no failure point was exercised"
echo "fault injection: $POINTS failure points exercised, all clean"
klp_pass
