#!/bin/bash
# Stage the 6.1 kselftests of livepatch as the kernel tree ships them, for
# make test-upstream: $KLP_STAGE (KLP_SUITE=upstream, harness/lib.sh) gets
# the modules of the kernel build-kernel.sh just built, with this project's
# test modules (lib/livepatch) replaced by the pristine tree's own, built
# out of tree against that kernel, and the pristine
# tools/testing/selftests/livepatch, installed by its own Makefile.  No
# file of this repository is laid over either: what CI systems that run the
# kernel's own selftests see.
set -euo pipefail
export KLP_SUITE=upstream
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lock_out
[[ -d $KLP_OUT/klp-stage/lib/modules ]] || die "nothing built in $KLP_OUT; build first"
rel=$(kernel_release)
log=$KLP_OUT/klp-upstream-build.log
mods=$KLP_OUT/klp-upstream-src/lib/livepatch
ksft=$KLP_OUT/klp-upstream-src/selftests

# Nothing to do when the kernel build and this script are those of the
# last staging.
stamp=$KLP_OUT/klp-upstream.stamp
inputs=$(cat "$KLP_OUT/klp-built.stamp" "$0" "$KLP_PRISTINE.version" 2>/dev/null | sha256sum)
if [[ -x $KLP_STAGE/kselftest/run_kselftest.sh && $(cat "$stamp" 2>/dev/null) == "$inputs" ]]; then
	info "pristine selftests and test modules already staged for $rel"
	exit 0
fi
rm -f "$stamp"

# Private copies (not hard links) of the pristine sources: the builds below
# write next to their sources, and the pristine tree must stay untouched.
rm -rf "$KLP_OUT/klp-upstream-src" "$KLP_STAGE"
mkdir -p "$mods" "$ksft" "$KLP_STAGE"
cp -r "$KLP_PRISTINE/lib/livepatch/." "$mods/"

umake() { make -C "$KLP_SRC" O="$KLP_OUT" ARCH=x86_64 CC="ccache gcc" "$@"; }
info "building the pristine lib/livepatch test modules against $rel"
: >"$log"
umake M="$mods" -j"$(nproc)" modules >>"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	die "building the pristine test modules failed (log: $log)"
}

# The kernel's modules, ours of lib/livepatch left out, then the pristine
# ones in their place (same names, same directory).
cp -al "$KLP_OUT/klp-stage/lib" "$KLP_STAGE/lib"
rm -rf "$KLP_STAGE/lib/modules/$rel/kernel/lib/livepatch"
mkdir -p "$KLP_STAGE/lib/modules/$rel/kernel/lib/livepatch"
for ko in "$mods"/*.ko; do
	strip --strip-debug -o "$KLP_STAGE/lib/modules/$rel/kernel/lib/livepatch/${ko##*/}" "$ko"
done
depmod -b "$KLP_STAGE" "$rel" >>"$log" 2>&1 || die "depmod failed (log: $log)"
if [[ -d $KLP_OUT/klp-stage/usr ]]; then cp -al "$KLP_OUT/klp-stage/usr" "$KLP_STAGE/usr"; fi

# The selftests, installed by the pristine kselftest Makefile from a copy of
# the files it reads.
for f in Makefile lib.mk kselftest kselftest_install.sh run_kselftest.sh \
	gen_kselftest_tar.sh kselftest.h livepatch; do
	[[ -e $KLP_PRISTINE/tools/testing/selftests/$f ]] &&
		cp -r "$KLP_PRISTINE/tools/testing/selftests/$f" "$ksft/"
done
info "installing the pristine tools/testing/selftests/livepatch"
make -C "$ksft" O="$KLP_OUT/klp-upstream-src/out" TARGETS=livepatch \
	top_srcdir="$KLP_PRISTINE" KSFT_INSTALL_PATH="$KLP_STAGE/kselftest" install \
	>>"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	die "installing the pristine selftests failed (log: $log)"
}
[[ -x $KLP_STAGE/kselftest/run_kselftest.sh ]] ||
	die "the selftests install produced no run_kselftest.sh (log: $log)"
n=$(grep -c '^livepatch:' "$KLP_STAGE/kselftest/kselftest-list.txt")
info "staged $n pristine selftests and $(find "$KLP_STAGE/lib/modules/$rel/kernel/lib/livepatch" -name '*.ko' | wc -l) pristine test modules"
echo "$inputs" >"$stamp"
