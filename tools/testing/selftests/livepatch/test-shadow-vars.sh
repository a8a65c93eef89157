#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shadow variables: test_klp_shadow_vars runs the API from its init and
# prints every result without addresses; the log must match line by line.
# The core's own error line for a failing constructor carries a hashed
# pointer, which is replaced by PTR before comparing.
#
# The duplicate klp_shadow_alloc() case runs only on an implementation that
# refuses a duplicate without a WARN() splat: stock 6.1 WARN()s, which the
# test harness counts as a failure.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

MOD=test_klp_shadow_vars
PROBE=test_klp_callbacks_demo2

klp_setup
klp_require_mod "$MOD" "$PROBE"

# klp_log_filtered, with pointers "<0123abcd..., " or "<(____ptrval____), "
# (printed before the pointer hash key is ready) turned into "<PTR, ".
shadow_log() {
	klp_log_filtered | sed -E 's/<[^,<>]+, /<PTR, /g'
}

# check_shadow_log < EXPECTED: like check_log, on shadow_log.
check_shadow_log() {
	local expected actual i
	expected=$(cat)
	for ((i = 0; i <= KLP_LOG_WAIT_SECS * 10; i++)); do
		actual=$(shadow_log)
		[[ $actual == "$expected" ]] && return 0
		klp_sleep 0.1
	done
	klp_show_diff "$expected" "$actual" >&2
	die "kernel log does not match the expected lines"
}

# dup_alloc_is_safe: true when a duplicate klp_shadow_alloc() is known not to
# WARN().  Either KLP_FEATURES names "shadow_dup" or the patch sysfs shows
# the implementation is not stock 6.1 (a patch directory with an attribute
# beyond stock's enabled/transition/force).  A probe patch is loaded for it.
dup_alloc_is_safe() {
	local f name
	if [[ -n ${KLP_FEATURES+x} ]]; then
		klp_has_feature shadow_dup
		return
	fi
	load_lp "$PROBE"
	for f in "$KLP_SYSFS/$PROBE"/*; do
		name=${f##*/}
		[[ -d $f ]] && continue
		case $name in
		enabled | transition | force) ;;
		*)
			unload_lp "$PROBE"
			return 0
			;;
		esac
	done
	unload_lp "$PROBE"
	return 1
}

BASIC="\
$MOD: == alloc and get
$MOD: get(a, 1): none
$MOD: alloc(a, 1): value 11
$MOD: alloc(a, 2): value 12
$MOD: alloc(b, 1): value 21
$MOD: alloc(c, 1) without ctor: allocated, value 0
$MOD: ctor calls so far: 3
$MOD: get(a, 1): value 11, same variable
$MOD: get(a, 2): value 12, same variable
$MOD: get(b, 1): value 21, same variable
$MOD: get(b, 2): none
$MOD: == get_or_alloc
$MOD: get_or_alloc(a, 1): value 11, same variable
$MOD: get_or_alloc(b, 2): value 22
$MOD: get(b, 2): value 22, same variable
$MOD: ctor calls so far: 4
$MOD: == failing ctor
livepatch: Failed to construct shadow variable <PTR, 3> (-12)
$MOD: alloc(b, 3) with failing ctor: NULL
$MOD: get(b, 3): none
livepatch: Failed to construct shadow variable <PTR, 3> (-12)
$MOD: get_or_alloc(b, 3) with failing ctor: NULL
$MOD: get(b, 3): none
$MOD: ctor calls so far: 6
$MOD: == free
$MOD: free(a, 1)
$MOD:   dtor(a): value 11
$MOD: get(a, 1): none
$MOD: get(a, 2): value 12, same variable
$MOD: get(b, 1): value 21, same variable
$MOD: free(a, 1) again
$MOD: free(c, 7), never allocated
$MOD: dtor calls so far: 1
$MOD: == free_all
$MOD: free_all(1): 2 dtor calls, values add up to 21
$MOD: get(b, 1): none
$MOD: get(c, 1): none
$MOD: get(a, 2): value 12, same variable
$MOD: free_all(2): 2 dtor calls, values add up to 34
$MOD: get(a, 2): none
$MOD: get(b, 2): none
$MOD: free_all(1) again: 0 dtor calls
$MOD: == atomic context
$MOD: GFP_ATOMIC alloc(c, 5): allocated
$MOD: GFP_ATOMIC get_or_alloc(c, 6): allocated, value 66
$MOD: == 10000 objects
$MOD: allocated 10000, found 10000 with the right value
$MOD: free_all(3): 10000 dtor calls, 0 left
$MOD: lookups fast: yes
$MOD: other id on the same parent: kept"

# ---------------------------------------------------------------------------
start_test "alloc, get, get_or_alloc, ctor failure, free, free_all, many objects"
load_mod "$MOD"
unload_mod "$MOD"
check_shadow_log <<-EOF
	klptest: insmod $MOD
	$BASIC
	$MOD: result: all 36 checks passed
	klptest: rmmod $MOD
EOF

# ---------------------------------------------------------------------------
if dup_alloc_is_safe; then
	start_test "duplicate alloc is refused and keeps the first variable"
	load_mod "$MOD" dup=1
	unload_mod "$MOD"
	check_shadow_log <<-EOF
		klptest: insmod $MOD dup=1
		$BASIC
		$MOD: == duplicate alloc
		$MOD: alloc(a, 8): value 81
		livepatch: Duplicate shadow variable <PTR, 8>
		$MOD: second alloc(a, 8): NULL, ctor not called
		$MOD: get(a, 8): value 81, same variable
		$MOD: result: all 39 checks passed
		klptest: rmmod $MOD
	EOF
else
	klp_lacks_part "duplicate alloc: stock 6.1 WARN()s on it"
fi

klp_pass
