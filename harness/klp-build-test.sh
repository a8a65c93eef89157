#!/bin/bash
# make klp-build-test: klp-build's host-side checks
# (scripts/livepatch/tests/run-tests.sh, on the kernel make test builds),
# then the modules it makes from scripts/livepatch/tests/cmdline.patch,
# version.patch and static-ref.patch, and a cumulative one of the first
# two, in a guest (scripts/livepatch/tests/guest-test.sh, appended to the
# initramfs as /klp-build; klp.mode=klp-build).  The guest's console log is
# $KLP_OUT/klp-build-test.log.  Exits non-zero when a check failed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
H=$KLP_ROOT/harness
T=$KLP_ROOT/scripts/livepatch/tests

KLP_PACKAGES+=(patch python3 binutils)
ensure_packages
start=$SECONDS
lock_out
"$H/build-kernel.sh"

rc=0
info "host checks (scripts/livepatch/tests/run-tests.sh)"
"$T/run-tests.sh" "$KLP_SRC" "$KLP_OUT" || rc=1
info "host checks took $(elapsed "$start")"

guest_start=$SECONDS
dir=$KLP_OUT/klp-build-test
rm -rf "$dir"
mkdir -p "$dir/root/klp-build"
for fix in cmdline:klp_cmdline version:klp_version static-ref:klp_static; do
	"$KLP_ROOT/scripts/livepatch/klp-build" --srctree "$KLP_SRC" --objtree "$KLP_OUT" \
		--output "$dir/root/klp-build" --name "${fix#*:}" "$T/${fix%:*}.patch" \
		>>"$dir/klp-build.out" || die "klp-build failed on ${fix%:*}.patch"
done
"$KLP_ROOT/scripts/livepatch/klp-build" --srctree "$KLP_SRC" --objtree "$KLP_OUT" \
	--output "$dir/root/klp-build" --name klp_cum "$T/cmdline.patch" "$T/version.patch" \
	>>"$dir/klp-build.out" || die "klp-build failed on cmdline.patch + version.patch"
install -m 755 "$T/guest-test.sh" "$dir/root/klp-build/guest-test.sh"
"$H/mkinitramfs.sh"
(cd "$dir/root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$dir/klp-build.cpio"
cat "$KLP_INITRAMFS" "$dir/klp-build.cpio" >"$dir/initrd.cpio"
log=$KLP_OUT/klp-build-test.log
KLP_VM_INITRD=$dir/initrd.cpio KLP_VM_LOG=$log "$H/run-vm.sh" klp-build >/dev/null || true

# The guest's verdict: its TAP lines, all "ok"; it finished; no splat; no
# W (512) or D (128) among the taint flags (K and O, a live patch built out
# of tree, are expected).
grep -E '^(not )?ok [0-9]+ - |^#   ' "$log" || true
taint=$(sed -n 's/^KLP-TAINTED: \([0-9]*\)$/\1/p' "$log" | tail -n 1)
problems=()
grep -q '^not ok ' "$log" && problems+=("a guest check failed")
grep -q '^KLP-KB-DONE' "$log" || problems+=("the guest checks did not finish (no KLP-KB-DONE)")
grep -qE 'BUG:|WARNING:|Oops|Kernel panic|Call Trace' "$log" && problems+=("kernel splat in $log")
[[ $taint =~ ^[0-9]+$ ]] || problems+=("no KLP-TAINTED line")
[[ $taint =~ ^[0-9]+$ ]] && ((taint & (512 | 128))) && problems+=("kernel tainted $taint")
if ((${#problems[@]})); then
	printf '[klp] guest: %s\n' "${problems[@]}"
	rc=1
fi
info "guest check took $(elapsed "$guest_start") (log: $log)"
info "make klp-build-test took $(elapsed "$start")"
if ((rc)); then
	echo "klp-build-test FAILED"
else
	echo "klp-build-test OK"
fi
exit "$rc"
