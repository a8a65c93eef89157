#!/bin/bash
# make klp-build-test: klp-build's checks, on the kernel make test builds.
# tools/testing/selftests/livepatch/klp-build/run-tests.sh checks the tool
# on the host and builds the module of every case of the corpus; those
# and the cases' check scripts are appended to the initramfs as
# /klp-build, and a guest (klp.mode=klp-build) runs guest-test.sh there:
# each case loads its module, checks the patched behaviour, disables it
# and checks the unpatched behaviour.  The guest's console log is
# $KLP_OUT/klp-build-test.log.  Exits non-zero when a check failed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
H=$KLP_ROOT/harness
T=$KLP_ROOT/tools/testing/selftests/livepatch/klp-build

KLP_PACKAGES+=(patch python3 binutils)
ensure_packages
start=$SECONDS
lock_out
"$H/build-kernel.sh"

rc=0
dir=$KLP_OUT/klp-build-test
rm -rf "$dir"
mkdir -p "$dir/root/klp-build"
info "host checks (tools/testing/selftests/livepatch/klp-build/run-tests.sh)"
"$T/run-tests.sh" "$KLP_SRC" "$KLP_OUT" "$dir/root/klp-build" || rc=1
info "host checks took $(elapsed "$start")"

guest_start=$SECONDS
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
cases=$(find "$dir/root/klp-build" -name '*.sh' ! -name guest-test.sh | wc -l)
ran=$(grep -c '^# case ' "$log" || true)
[[ $ran == "$cases" ]] || problems+=("the guest ran $ran of the $cases cases the host built")
# The one warning the corpus makes on purpose (warn-fire.sh: WARN_TAINT_ONCE
# in the patch module klp_warn_fire) is left out, from its WARNING line to
# the end of its report; any other splat fails.
# (Not a pipe into grep -q: under pipefail, awk killed by SIGPIPE would
# turn a splat into a pass.)
rest=$(W='WARNING: CPU: [0-9]+ PID: [0-9]+ at lib/livepatch/test_klp_build_mod[.]c:[0-9]+ .*[[]klp_warn_fire[]]\r?$' \
	awk '$0 ~ ENVIRON["W"] { skip = 1; next } skip && /---\[ end trace/ { skip = 0; next } !skip' "$log")
grep -qE 'BUG:|WARNING:|Oops|Kernel panic|Call Trace' <<<"$rest" && problems+=("kernel splat in $log")
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
