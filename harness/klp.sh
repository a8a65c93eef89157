#!/bin/bash
# Entry point of the Makefile targets.
# Usage: klp.sh kernel|test|test-upstream|stress8|demo|vm|clean|bench|livepatch|klp-build-test
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
H=$KLP_ROOT/harness
cmd=${1:?usage: klp.sh kernel|test|test-upstream|stress8|demo|vm|clean|bench|livepatch|klp-build-test}

build() {
	"$H/build-kernel.sh"
	"$H/mkinitramfs.sh"
}

case $cmd in
kernel)
	lock_out
	"$H/build-kernel.sh"
	info "kernel: $KLP_OUT/arch/x86/boot/bzImage, modules: $KLP_STAGE/lib/modules"
	;;
test)
	start=$SECONDS
	lock_out
	"$H/build-kernel.sh"
	[[ -x $KLP_STAGE/kselftest/run_kselftest.sh ]] ||
		die "no selftests to run: $KLP_REPO/tools/testing/selftests/livepatch is missing"
	"$H/mkinitramfs.sh"
	mapfile -t logs < <("$H/run-tests.sh")
	info "make test took $(elapsed "$start")"
	exec "$H/check-log.sh" test "${logs[@]}"
	;;
test-upstream)
	# The 6.1 kselftests and test modules as the kernel tree ships them,
	# on the kernel make test builds (harness/stage-upstream.sh).
	start=$SECONDS
	lock_out
	"$H/build-kernel.sh"
	"$H/stage-upstream.sh"
	export KLP_SUITE=upstream
	"$H/mkinitramfs.sh"
	mapfile -t logs < <("$H/run-tests.sh")
	info "make test-upstream took $(elapsed "$start")"
	exec "$H/check-log.sh" test "${logs[@]}"
	;;
stress8)
	# test-stress.sh alone in a guest with 8 vCPUs (CONFIG_NR_CPUS in
	# base.config), full preemption where the kernel can choose it, fewer
	# rounds and one worker per CPU (klp.stress_rounds=, klp.stress_workers=
	# on the guest's command line; KLP_STRESS8_ROUNDS, default 30).  Not
	# part of `make test`: under TCG one host thread runs the 8 vCPUs in
	# turn, so this guest alone takes several minutes (README).
	start=$SECONDS
	lock_out
	"$H/build-kernel.sh"
	"$H/mkinitramfs.sh"
	rounds=${KLP_STRESS8_ROUNDS:-30}
	[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "KLP_STRESS8_ROUNDS must be a positive number"
	model=${KLP_PREEMPT:-}
	[[ -z $model ]] && klp_preempt_dynamic && model=full
	log=$KLP_OUT/klp-stress8.log
	KLP_SMP=8 KLP_PREEMPT=$model KLP_TESTS=test-stress.sh KLP_VM_LOG=$log \
		KLP_APPEND="${KLP_APPEND:+$KLP_APPEND }klp.stress_rounds=$rounds klp.stress_workers=8" \
		"$H/run-vm.sh" test || true
	info "make stress8 took $(elapsed "$start")"
	exec "$H/check-log.sh" test "$log"
	;;
demo)
	lock_out
	"$H/build-kernel.sh"
	compgen -G "$KLP_STAGE/lib/modules/*/kernel/samples/livepatch/livepatch-sample.ko" >/dev/null ||
		die "livepatch-sample.ko was not built (samples/livepatch/livepatch-sample.c missing?)"
	"$H/mkinitramfs.sh"
	"$H/run-vm.sh" demo || true
	exec "$H/check-log.sh" demo "$KLP_OUT/klp-demo.log"
	;;
vm)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/klp-vm.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(
		lock_out
		build
		cp "$KLP_OUT/arch/x86/boot/bzImage" "$KLP_INITRAMFS" "$tmp/"
	)
	# Boot copies, without holding the lock, so others can build meanwhile.
	KLP_VM_KERNEL=$tmp/bzImage KLP_VM_INITRD=$tmp/${KLP_INITRAMFS##*/} \
		"$H/run-vm.sh" vm
	;;
livepatch)
	# make livepatch PATCH="a.patch b.patch" [NAME=...] [REPLACE=0|1]: a
	# live patch module for the kernel make test boots
	# (scripts/livepatch/klp-build).
	read -r -a patches <<<"${KLP_PATCH:-}"
	((${#patches[@]})) || die "usage: make livepatch PATCH=fix.patch [NAME=mod_name] [REPLACE=0|1]"
	KLP_PACKAGES+=(patch python3 binutils)
	ensure_packages
	lock_out
	"$H/build-kernel.sh"
	args=(--srctree "$KLP_SRC" --objtree "$KLP_OUT" --output "$KLP_OUT/klp-livepatch")
	[[ -n ${KLP_NAME:-} ]] && args+=(--name "$KLP_NAME")
	case ${KLP_REPLACE:-1} in
	1) args+=(--replace) ;;
	0) args+=(--no-replace) ;;
	*) die "REPLACE must be 0 or 1, not '$KLP_REPLACE'" ;;
	esac
	exec "$KLP_ROOT/scripts/livepatch/klp-build" "${args[@]}" "${patches[@]}"
	;;
klp-build-test) exec "$H/klp-build-test.sh" ;;
bench) exec "$H/bench/bench.sh" ;;
clean)
	lock_out
	lock_src
	info "removing $KLP_OUT and $KLP_SRC (ccache and the pristine tree stay)"
	rm -rf "$KLP_OUT" "$KLP_SRC"
	;;
*) die "unknown command $cmd" ;;
esac
