#!/bin/bash
# make kunit: the livepatch KUnit tests (kernel/livepatch/livepatch_kunit.c),
# run by the tree's own tools/testing/kunit/kunit.py on x86_64 under qemu.
#
# The tree is $KLP_CACHE/src-ours as harness/prepare-tree.sh makes it; the
# kernel is configured from kernel/livepatch/.kunitconfig and built in
# $KLP_CACHE/out-ours-kunit with ccache.  kunit.py's x86_64 qemu config
# names no accelerator, so qemu runs under TCG; "-accel tcg" says so
# explicitly (KLP_KVM=1 asks for KVM instead).  Building holds the tree's
# lock, running the kernel does not.  Prints kunit.py's results; exits
# non-zero when a test fails or the kernel does not build or boot.
#
# KLP_IMPL=stock: the stock 6.1 implementation has no KUnit tests; says so
# and exits 0.
set -euo pipefail
export KLP_KCONFIG=kunit # names the build directory: out-ours-kunit
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if [[ $KLP_IMPL == stock ]]; then
	info "stock 6.1 livepatch has no KUnit tests: nothing to run (make kunit runs ours)"
	exit 0
fi

# KLP_KUNIT_TIMEOUT: seconds the tests may run once the kernel boots.
timeout_s=${KLP_KUNIT_TIMEOUT:-900}
accel=tcg
[[ ${KLP_KVM:-0} == 1 ]] && accel=kvm

start=$SECONDS
lock_out
mkdir -p "$KLP_OUT"

kunit=(nice -n 19 python3 tools/testing/kunit/kunit.py)
common=(--arch=x86_64 --build_dir="$KLP_OUT"
	--kunitconfig=kernel/livepatch)

(
	lock_src
	"$KLP_ROOT/harness/prepare-tree.sh"
	cd "$KLP_SRC"
	info "building the KUnit kernel in $KLP_OUT (log: $KLP_BUILD_LOG)"
	"${kunit[@]}" build "${common[@]}" --jobs="$(nproc)" \
		--make_options="CC=ccache gcc" >"$KLP_BUILD_LOG" 2>&1 || {
		grep -E ': (error|Error|fatal error):|\*\*\*|ERROR' \
			"$KLP_BUILD_LOG" | head -n 20 >&2 || true
		echo "----- tail of $KLP_BUILD_LOG -----" >&2
		tail -n 30 "$KLP_BUILD_LOG" >&2
		die "KUnit kernel build failed"
	}
	info "built in $(elapsed "$start")"
)

cd "$KLP_SRC"
info "running the tests ($accel; kernel log: $KLP_OUT/test.log)"
status=0
# kunit.py resets the terminal with stty, which fails without one: drop that.
"${kunit[@]}" exec "${common[@]}" --timeout="$timeout_s" \
	--qemu_args="-accel $accel" 2> >(grep -v "^stty: 'standard input'" >&2) ||
	status=$?
info "make kunit took $(elapsed "$start")"
((status == 0)) || die "KUnit tests failed (kunit.py exit status $status)"
