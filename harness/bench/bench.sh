#!/bin/bash
# make bench [QUICK=1]: this livepatch implementation against the stock 6.1
# one, side by side, on the same machine, in one run.
#
# Builds both kernels from the same configuration (KLP_IMPL=ours and stock),
# the benchmark modules against each (gen-modules.sh, build.sh), boots the
# two in turn with klp.mode=bench, in rounds that alternate between them
# (guest-bench.sh measures inside the guest with in-kernel clocks), then
# prints the table and writes CSV, JSON and a PNG
# plot (report.sh) to $KLP_CACHE/bench/<date>/ (also reachable as
# $KLP_CACHE/bench/latest).
#
# Environment:
#   KLP_BENCH_QUICK=1         K <= 100, fewer repetitions (make bench QUICK=1)
#   KLP_BENCH_IMPLS="ours stock"  implementations to run (both by default)
#   KLP_BENCH_MEM=2G          guest memory (the 10000-task case needs ~1 GiB)
#   KLP_BENCH_TIMEOUT=<s>     per guest boot (default 1200 quick, 3600 full)
#   KLP_BENCH_ROUNDS=N        boots per implementation, alternating between
#                             the two, each with 1/N of the repetitions
#                             (default 3 full, 1 quick)
#   KLP_KVM=0|1               force TCG or KVM; by default KVM only when
#                             harness/run-vm.sh found it working on this boot
set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
H=$KLP_ROOT/harness

case ${KLP_BENCH_QUICK:-} in
'' | 0) profile=full timeout_s=${KLP_BENCH_TIMEOUT:-3600} rounds=${KLP_BENCH_ROUNDS:-3} ;;
*) profile=quick timeout_s=${KLP_BENCH_TIMEOUT:-1200} rounds=${KLP_BENCH_ROUNDS:-1} ;;
esac
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "KLP_BENCH_ROUNDS must be a positive number"
read -r -a impls <<<"${KLP_BENCH_IMPLS:-ours stock}"
for impl in "${impls[@]}"; do
	case $impl in ours | stock) ;; *) die "KLP_BENCH_IMPLS: unknown implementation '$impl'" ;; esac
done
mem=${KLP_BENCH_MEM:-2G}
[[ $timeout_s =~ ^[0-9]+$ ]] || die "KLP_BENCH_TIMEOUT must be a number of seconds"

start=$SECONDS
stamp=$(date +%Y%m%d-%H%M%S)
run=$KLP_CACHE/bench/$stamp-$profile
mkdir -p "$run"
info "make bench ($profile): results in $run"

# --- build ------------------------------------------------------------------
load=$run/klp-bench-load
gcc -O2 -static -Wall -Wextra -Werror -o "$load" "$H/bench/klp-bench-load.c" ||
	die "compiling klp-bench-load failed"
for impl in "${impls[@]}"; do
	info "building $impl"
	KLP_IMPL=$impl "$H/bench/build.sh" "$run/$impl" "$load"
done
build_s=$((SECONDS - start))

# --- boot -------------------------------------------------------------------
accel=(-accel tcg -cpu max) accel_name=tcg
verdict=
if [[ -f $KLP_CACHE/kvm-verdict ]] && read -r id v <"$KLP_CACHE/kvm-verdict" &&
	[[ $id == "$(cat /proc/sys/kernel/random/boot_id)" ]]; then
	verdict=$v
fi
if [[ ${KLP_KVM:-} == 1 || (${KLP_KVM:-} != 0 && $verdict == yes) ]]; then
	accel=(-enable-kvm -cpu host) accel_name=kvm
fi

{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "profile=$profile"
	echo "accel=$accel_name"
	echo "guest_mem=$mem"
	echo "host=$(uname -n) $(nproc) cpus"
	echo "commit=$(git -C "$KLP_REPO" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "build_s=$build_s"
	echo "rounds=$rounds"
} >"$run/info"

# boot IMPL ROUND: one guest run of IMPL, round ROUND of $rounds; its
# console output is appended to $run/guest-IMPL.log.
boot() {
	local impl=$1 r=$2 log=$run/guest-$1.log t rc
	info "booting $impl, round $r of $rounds ($accel_name, $mem, limit ${timeout_s}s, console log: $log)"
	echo "KLP-ROUND: $r/$rounds" >>"$log"
	t=$SECONDS
	set +e
	timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -nodefaults \
		-no-user-config -no-reboot -m "$mem" -smp 2 "${accel[@]}" \
		-kernel "$run/$impl/bzImage" -initrd "$run/$impl/initrd.cpio" \
		-display none -serial stdio \
		-append "console=ttyS0 loglevel=5 panic=-1 printk.devkmsg=on klp.mode=bench klp.bench=$profile klp.round=$r/$rounds klp.impl=$impl" \
		</dev/null 2>&1 | sed -u 's/\r//g' | tee -a "$log" |
		awk '/^KLP-BENCH-DMESG-BEGIN/ { hide = 1 } /^KLP-BENCH-DMESG-END/ { hide = 0; next }
			!hide && /KLP-BENCH|KLP-INIT|Kernel panic|BUG:|WARNING:|Oops/ { print "  " $0; fflush() }'
	rc=${PIPESTATUS[0]}
	set -e
	if ((rc == 124 || rc == 137)); then
		echo "KLP-HOST: guest timed out after $timeout_s s" | tee -a "$log"
	elif ((rc != 0)); then
		echo "KLP-HOST: qemu exited with status $rc" | tee -a "$log"
	fi
	guest_s[$impl]=$((${guest_s[$impl]:-0} + SECONDS - t))
	info "$impl guest ran for $(elapsed "$t")"
}

# Rounds alternate the order (ours stock, stock ours, ...): whatever the
# host does meanwhile, each kernel gets its share of the quiet and the busy
# spells.
declare -A guest_s=()
for impl in "${impls[@]}"; do : >"$run/guest-$impl.log"; done
for ((r = 1; r <= rounds; r++)); do
	order=("${impls[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((i = ${#impls[@]} - 1; i >= 0; i--)); do order+=("${impls[i]}"); done
	fi
	for impl in "${order[@]}"; do boot "$impl" "$r"; done
done
for impl in "${impls[@]}"; do
	echo "guest_s_$impl=${guest_s[$impl]:-0}" >>"$run/info"
	echo "kernel_$impl=$(cat "$run/$impl/kernel.release")" >>"$run/info"
	# The boot files are large and can be rebuilt.
	rm -f "$run/$impl/initrd.cpio" "$run/$impl/bzImage"
done
rm -f "$load"
echo "total_s=$((SECONDS - start))" >>"$run/info"
ln -sfn "$stamp-$profile" "$KLP_CACHE/bench/latest"

"$H/bench/report.sh" "$run"
