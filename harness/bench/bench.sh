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
#   KLP_BENCH_STALL=<s>       a guest silent this long is restarted (300)
#   KLP_BENCH_ROUNDS=N        boots per implementation, alternating between
#                             the two, each with 1/N of the repetitions
#                             (default 3 full, 1 quick)
#   KLP_BENCH_CASES="main icount disturb"  which cases to run (make bench
#                             CASES=...): main, the cases of the 2-vCPU
#                             guests; icount, the call costs in
#                             instructions, in a guest of its own (1 vCPU,
#                             QEMU's -icount shift=0; TCG only); disturb,
#                             the disturbance case, in guests of its own
#                             (3 vCPUs, CPU 2 isolated); in that order
#   KLP_BENCH_DISTURB_ROUNDS=N  boots per implementation for the disturbance
#                             case, alternating, each with 1/N of its
#                             repetitions (default 3 full, 1 quick: the
#                             worst lateness of a boot follows the host's
#                             load during that boot, so the median of three
#                             boots says more than three repetitions in one)
#   KLP_BENCH_PIN=0|1         pin the disturbance guest's isolated vCPU
#                             to a host CPU of its own (default 1; see
#                             DISTURB_ISO_VCPU below)
#   KLP_BENCH_ONLY=STEP,...   run only these steps of the guests (make bench
#                             ONLY=...; see step() in guest-bench.sh: calls,
#                             calls_traced, calls_traced_alone,
#                             k1..k1000, parts, sleep1000, busy2,
#                             pread2, sleep10000, disturb); the
#                             others' rows stay empty
#   KLP_BENCH_MAIN_TCG=single|multi  under TCG, one host thread for all
#                             vCPUs (single, the default) or one per vCPU
#                             (multi) in the main cases' guests (see
#                             guest() below)
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
read -r -a cases <<<"${KLP_BENCH_CASES:-main icount disturb}"
run_main=0 run_icount=0 run_disturb=0
for c in "${cases[@]}"; do
	case $c in
	main) run_main=1 ;;
	icount) run_icount=1 ;;
	disturb) run_disturb=1 ;;
	*) die "KLP_BENCH_CASES: unknown case '$c' (main, icount, disturb)" ;;
	esac
done
((run_main + run_icount + run_disturb)) || die "KLP_BENCH_CASES: no case"
case $profile in full) drounds=${KLP_BENCH_DISTURB_ROUNDS:-3} ;; *) drounds=${KLP_BENCH_DISTURB_ROUNDS:-1} ;; esac
[[ $drounds =~ ^[1-9][0-9]*$ ]] || die "KLP_BENCH_DISTURB_ROUNDS must be a positive number"
# The disturbance case's guest: CPU 2 isolated as a latency-sensitive
# deployment isolates it (no scheduler balancing, no tick while one task
# runs, no device interrupts, RCU callbacks offloaded).
DISTURB_SMP=3
DISTURB_APPEND="isolcpus=2 nohz_full=2 irqaffinity=0-1 rcu_nocbs=2"
# ... and its vCPU gets a host CPU of its own, as an isolated CPU has a
# core of its own on real hardware: pin_vcpus() puts QEMU's threads of
# vCPUs 0 and 1 on the host's other CPUs, and the thread of vCPU 2 on the
# host's last CPU, with QEMU's main loop (and its other helper threads).
# The main loop fires every vCPU's timers (the local APIC timer is one of
# its timers under TCG) and runs the devices; it needs little CPU, and the
# isolated vCPU is halted but for its timer thread's millisecond.  The
# idle timer thread's worst lateness on the isolated CPU, either kernel:
# 14-29 ms unpinned, 6.7-19 ms with only vCPU 2 on a CPU of its own,
# 4.3-16 ms like this (README, "The disturbance case"): narrower, still
# the emulator's.  KLP_BENCH_PIN=0 leaves the threads where the host puts
# them.
DISTURB_ISO_VCPU=2
pin=${KLP_BENCH_PIN:-1}
main_tcg=${KLP_BENCH_MAIN_TCG:-single}
[[ $main_tcg == multi || $main_tcg == single ]] || die "KLP_BENCH_MAIN_TCG must be multi or single"
[[ $pin == [01] ]] || die "KLP_BENCH_PIN must be 0 or 1"
# cpu_list LIST: the CPUs of a list such as "0-3,6", one per line.
cpu_list() {
	local part
	for part in ${1//,/ }; do
		if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
	done
}
mapfile -t host_cpus < <(cpu_list "$(taskset -pc $$ | sed 's/.*: //')")
iso_core=${host_cpus[-1]}
housekeeping=$(IFS=,; echo "${host_cpus[*]:0:${#host_cpus[@]}-1}")
if [[ $pin == 1 && -z $housekeeping ]]; then
	info "one host CPU: the disturbance case's vCPUs are not pinned"
	pin=0
fi
mem=${KLP_BENCH_MEM:-2G}
stall_s=${KLP_BENCH_STALL:-300}  # the guest says something every minute
[[ $stall_s =~ ^[1-9][0-9]*$ ]] || die "KLP_BENCH_STALL must be a number of seconds"
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
# Instruction counting is TCG's: under KVM the icount case is left out.
if ((run_icount)) && [[ $accel_name != tcg ]]; then
	info "the icount case needs TCG: left out under $accel_name"
	run_icount=0
fi

{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "profile=$profile"
	echo "accel=$accel_name"
	if [[ $accel_name == tcg ]]; then echo "main_tcg=$main_tcg"; fi
	echo "guest_mem=$mem"
	echo "host=$(uname -n) $(nproc) cpus"
	echo "commit=$(git -C "$KLP_REPO" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "build_s=$build_s"
	echo "rounds=$rounds"
	echo "cases=${cases[*]}"
	echo "disturb_rounds=$((run_disturb ? drounds : 0))"
	echo "disturb_guest=$DISTURB_SMP vCPUs, $DISTURB_APPEND"
	if ((pin)); then
		echo "disturb_pinning=vCPU $DISTURB_ISO_VCPU and QEMU's main loop on host CPU $iso_core, the other vCPUs on $housekeeping"
	else
		echo "disturb_pinning=none"
	fi
	# Guest boots per implementation that must end with KLP-BENCH-END.
	echo "boots=$((run_main * rounds + run_icount + run_disturb * drounds))"
} >"$run/info"

# guest IMPL ROUND SKIP TAG KIND: one guest boot of IMPL for round ROUND
# of the cases of KIND (main or disturb), skipping the benchmark steps
# listed in SKIP (comma-separated, see step() in guest-bench.sh); its
# console output is appended to $run/guest-IMPL.log.  Sets GUEST_END to
# "ok", "stalled", "timeout" or "qemu <status>".
#
# A guest that prints nothing for $stall_s seconds is stopped as stalled:
# under TCG (QEMU 7.2, several vCPU threads) a vCPU can keep executing a
# stale translation of an ftrace call site that holds the int3 of a
# finished text_poke_bp(); the kprobes int3 handler, finding no int3 in
# memory, restarts the instruction, forever.  Seen in the stock kernel's
# pread2 case (patching and unpatching a function that two tasks call every
# 5 ms): both vCPUs at the call site, RCU stall warnings, no progress.
# This implementation, which finishes a pread2 transition in about 5 ms
# instead of stock's 1.5 s and so rewrites the site hundreds of times more
# often per minute, lost its guest after 6 to 12 samples in one
# reproduction (KLP_BENCH_STALL=90 REPS=600 ONLY=pread2) and three times
# in one round of a full run.  The main cases therefore run their guests
# with one host thread for both vCPUs (KLP_BENCH_MAIN_TCG=single), as
# harness/run-vm.sh does for the selftests: no vCPU runs while another
# rewrites code, and the same reproduction took 451 samples without a
# stall.  The disturbance case keeps a thread per vCPU (it pins the
# isolated vCPU's) and patches once per boot; the icount guest has one.
guest() {
	local impl=$1 r=$2 skip=$3 tag=$4 kind=$5 log=$run/guest-$1.log pid now
	# QEMU names its vCPU threads "CPU N/TCG" (pin_vcpus(), vcpu_dump()).
	local smp=2 n=$rounds append icount=() name=$4,debug-threads=on pinner=""
	local acc=("${accel[@]}")
	if [[ $kind == main && $accel_name == tcg ]]; then
		acc=(-accel "tcg,thread=$main_tcg" -cpu max)
	fi
	if [[ $kind == disturb ]]; then
		smp=$DISTURB_SMP n=$drounds
	elif [[ $kind == icount ]]; then
		# QEMU 7.2 with -icount boots one vCPU, not two.
		smp=1 n=1 icount=(-icount shift=0)
	fi
	append="console=ttyS0 loglevel=5 panic=-1 printk.devkmsg=on klp.mode=bench klp.bench=$profile klp.round=$r/$n klp.impl=$impl klp.cases=$kind"
	[[ $kind == disturb ]] && append+=" $DISTURB_APPEND"
	[[ -n $skip ]] && append+=" klp.skip=$skip"
	[[ -n ${KLP_BENCH_ONLY:-} ]] && append+=" klp.only=$KLP_BENCH_ONLY"
	[[ -n ${KLP_BENCH_REPS:-} ]] && append+=" klp.reps=$KLP_BENCH_REPS"
	rm -f "$run/.rc"
	(
		set +e
		timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -name "$name" \
			-nodefaults -no-user-config -no-reboot -m "$mem" -smp "$smp" "${acc[@]}" "${icount[@]}" \
			-kernel "$run/$impl/bzImage" -initrd "$run/$impl/initrd.cpio" \
			-display none -serial stdio -append "$append" \
			-monitor "unix:$run/.mon-$tag,server=on,wait=off" \
			</dev/null 2>&1 | sed -u 's/\r//g' | tee -a "$log" |
			awk '/^KLP-BENCH-DMESG-BEGIN/ { hide = 1 } /^KLP-BENCH-DMESG-END/ { hide = 0; next }
				!hide && /KLP-BENCH|KLP-INIT|Kernel panic|BUG:|WARNING:|Oops/ { print "  " $0; fflush() }'
		echo "${PIPESTATUS[0]}" >"$run/.rc"
	) &
	pid=$!
	if [[ $kind == disturb ]] && ((pin)); then
		pin_vcpus "$tag" "$impl" &
		pinner=$!
	fi
	GUEST_END=
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		now=$(date +%s)
		if ((now - $(stat -c %Y "$log") > stall_s)); then
			GUEST_END=stalled
			vcpu_dump "$tag" "$smp" "$impl" >>"$log"
			# Matches qemu and the timeout(1) running it, which
			# kills qemu for good 5 s later if SIGTERM was not enough.
			pkill -f -- "-name ${tag}[ ,]" || true
			break
		fi
	done
	wait "$pid" || true
	rm -f "$run/.mon-$tag"
	if [[ -n $pinner ]]; then
		kill "$pinner" 2>/dev/null || true
		wait "$pinner" 2>/dev/null || true
	fi
	# A killed guest may have left half a line.
	[[ -z $(tail -c 1 "$log") ]] || echo >>"$log"
	[[ -n $GUEST_END ]] && return 0
	case $(cat "$run/.rc" 2>/dev/null) in
	0) GUEST_END=ok ;;
	124 | 137) GUEST_END=timeout ;;
	*) GUEST_END="qemu $(cat "$run/.rc" 2>/dev/null)" ;;
	esac
}

# vm_names MAP: stdin with "KLP-HOST-VM: " before each line, and the
# kernel text addresses in it named (symbol+offset) from the System.map
# MAP; the lines of QEMU's monitor prompt, which echo each command with
# cursor movements, replaced by the commands of CMDS (";"-separated).
vm_names() {
	awk -v map="$1" -v cmds="${2:-}" '
	BEGIN {
		split(cmds, cmd, ";")
		while ((getline l < map) > 0) {
			split(l, f, " ")
			if (f[2] ~ /^[tTwW]$/) { a[++na] = f[1]; nm[na] = f[3] }
		}
	}
	# name ADDR: the symbol+offset of a kernel text address (the map is
	# sorted; all of it lies in one 4 GiB), or nothing.
	function name(x,   lo, hi, mid) {
		x = tolower(x)
		if (x < a[1] || x > a[na]) return ""
		lo = 1; hi = na
		while (lo < hi) { mid = int((lo + hi + 1) / 2); if (a[mid] <= x) lo = mid; else hi = mid - 1 }
		if (nm[lo] == "_etext") return ""
		return sprintf("%s+0x%x", nm[lo], strtonum("0x" substr(x, 9)) - strtonum("0x" substr(a[lo], 9)))
	}
	/^\(qemu\) / { print "KLP-HOST-VM: (qemu) " cmd[++nc]; next }
	/^(YMM|FPR)[0-9]/ { next }
	{
		line = $0; extra = ""
		while (match(line, /ffffffff8[0-9a-f]{7}/)) {
			s = name(substr(line, RSTART, RLENGTH))
			if (s != "") extra = extra " " s
			line = substr(line, RSTART + RLENGTH)
		}
		print "KLP-HOST-VM: " $0 (extra == "" ? "" : "   <" extra " >")
	}'
}

# monitor SOCKET CMD...: QEMU monitor commands, their output on stdout.
monitor() {
	local mon=$1
	shift
	{
		printf '%s\n' "$@"
		sleep 3
	} | timeout 30 socat -t 10 - "UNIX-CONNECT:$mon" 2>&1 | tr -d '\r'
}

# vcpu_dump TAG SMP IMPL: what the vCPUs of the stalled guest TAG are
# doing, from QEMU's monitor: whether each is halted, its registers, the
# code at its RIP and the top of its stack, its local APIC (a timer that no
# longer fires leaves every vCPU halted and the guest silent); then where
# each vCPU was in 20 samples over about 4 s (a vCPU that loops on one
# instruction shows its address, and its interrupt and exception handlers,
# in every sample), how much CPU time its host thread used meanwhile, and
# the first byte in memory at each sampled address.  Kernel addresses are
# named from IMPL's System.map.  Ends with a verdict (stall_verdict()).
vcpu_dump() {
	local tag=$1 smp=$2 map=$run/$3/System.map mon=$run/.mon-$1 n qpid t0 t1
	local cmds=("info cpus") samples=() tmp
	tmp=$(mktemp -d)
	for ((n = 0; n < smp; n++)); do
		cmds+=("cpu $n" "info registers" "x/8i \$pc" "x/24gx \$sp" "info lapic")
	done
	for ((n = 0; n < 20; n++)); do samples+=("info registers -a"); done
	echo "KLP-HOST-NOTE: the stalled guest's vCPUs, from QEMU's monitor:"
	monitor "$mon" "${cmds[@]}" | vm_names "$map" "$(IFS=';'; echo "${cmds[*]}")"
	qpid=$(pgrep -f -- "^qemu-system-x86_64 -name $tag," | head -n 1) || true
	[[ -n $qpid ]] && vcpu_ticks "$qpid" >"$tmp/before"
	t0=$(date +%s%N)
	monitor "$mon" "${samples[@]}" |
		awk '/^CPU#/ { cpu = $1 } /^RIP=/ { split($1, r, "="); print cpu, r[2], ($0 ~ /HLT=1/ ? "halted" : "") }' |
		sort | uniq -c | sort -k2,2 -k1,1nr | vm_names "$map" >"$tmp/samples"
	t1=$(date +%s%N)
	[[ -n $qpid ]] && vcpu_ticks "$qpid" >"$tmp/after"
	echo "KLP-HOST-NOTE: where each vCPU was, in 20 samples (count, vCPU, RIP):"
	cat "$tmp/samples"
	mapfile -t cmds < <(awk '{ print "x/1bx 0x" $4 }' "$tmp/samples" | sort -u)
	monitor "$mon" "${cmds[@]}" | awk '/^[0-9a-f]+: 0x[0-9a-f]+/ { sub(/:$/, "", $1); print $1, $2 }' >"$tmp/bytes"
	echo "KLP-HOST-NOTE: the first byte at each sampled RIP, and the vCPU threads' CPU time over the samples:"
	awk '{ print "KLP-HOST-VM: byte at " $1 ": " $2 }' "$tmp/bytes"
	touch "$tmp/before" "$tmp/after"
	# $tmp/threads: "N STATE CPU_MS WALL_MS" per vCPU thread.
	join "$tmp/before" "$tmp/after" |
		awk -v ms=$(((t1 - t0) / 1000000)) -v hz="$(getconf CLK_TCK)" \
			'{ print $1, $4, int(($5 - $3) * 1000 / hz), ms }' >"$tmp/threads"
	awk '{ printf "KLP-HOST-VM: vCPU %s thread: state %s, %d ms of CPU in %d ms\n", $1, $2, $3, $4 }' "$tmp/threads"
	stall_verdict "$tmp"
	rm -rf "$tmp"
}

# vcpu_ticks QEMU_PID: "N STATE TICKS" for each vCPU N of QEMU_PID, TICKS
# being the user and system time of its thread (in clock ticks).
vcpu_ticks() {
	local n tid st f
	while read -r n tid; do
		st=$(cat "/proc/$1/task/$tid/stat" 2>/dev/null) || continue
		# After "PID (COMM) ": state is field 3 of stat(5), utime 14, stime 15.
		read -r -a f <<<"${st##*) }"
		echo "$n ${f[0]} $((f[11] + f[12]))"
	done < <(vcpu_threads "$1") | sort
}

# stall_verdict DIR: one line saying whether the files vcpu_dump() left in
# DIR show a fault of the emulator, in which case the stall says nothing
# about the guest's kernel (report.sh counts it as a note, not a problem):
#  - "blocked": a vCPU that was not halted in any sample, whose host thread
#    used under a tenth of the time in CPU and was then asleep, not waiting
#    for a host CPU: no guest code can keep a vCPU that is not halted from
#    running, so the thread waits on something inside QEMU;
#  - "int3 loop": every sample is in an int3 handler (a symbol with "int3"
#    in its name) or outside the kernel's text (a module's call site or a
#    stub) at an address whose byte in memory is not the int3 (0xcc) that
#    the vCPU keeps trapping on, with at least one of each: the vCPU runs a
#    stale translation of a finished text_poke_bp() (see guest()).
# Anything else is "not explained", and the stall stays a problem.
stall_verdict() {
	awk -v dir="$1" '
	BEGIN {
		while ((getline l < (dir "/bytes")) > 0) { split(l, f, " "); byte[tolower(f[1])] = f[2] }
		while ((getline l < (dir "/threads")) > 0) {
			split(l, f, " "); v = f[1] + 0
			state[v] = f[2]; used[v] = f[3] + 0; wall[v] = f[4] + 0
		}
		while ((getline l < (dir "/samples")) > 0) {
			sub(/^KLP-HOST-VM: */, "", l); split(l, f, " ")
			v = substr(f[2], 5) + 0; rip = tolower(f[3]); cpus[v] = 1
			if (l ~ /halted/) halted[v] = 1
			if (l ~ /< [^>]*int3[^>]* >/) nint3++
			else if (l !~ /</ && (rip in byte) && byte[rip] != "0xcc") nsite++
			else other++
		}
		for (v in cpus)
			if (!(v in halted) && (v in used) && used[v] * 10 < wall[v] && state[v] != "R")
				blocked = blocked " " v
		if (blocked != "")
			print "KLP-HOST-NOTE: verdict: emulator (blocked): the host thread of vCPU" blocked " did not run, and the vCPU was not halted"
		else if (nint3 && nsite && !other)
			print "KLP-HOST-NOTE: verdict: emulator (int3 loop): every sample in an int3 handler or at a call site or stub outside the kernel text that holds no int3 in memory"
		else
			print "KLP-HOST-NOTE: verdict: not explained by the emulator"
	}'
}

# vcpu_threads QEMU_PID: "N TID" for the thread of each vCPU N of
# QEMU_PID (QEMU names them "CPU N/TCG" with debug-threads=on).
vcpu_threads() {
	local t comm
	for t in /proc/"$1"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		if [[ $comm =~ ^CPU\ ([0-9]+)/ ]]; then echo "${BASH_REMATCH[1]} ${t##*/}"; fi
	done
}

# pin_vcpus TAG IMPL: pin the threads of the disturbance guest named TAG
# (see DISTURB_ISO_VCPU); says what it did in $run/pinning.  QEMU creates
# its vCPU threads, in order, before the guest runs its first
# instruction: once vCPU 2's thread is there, so are the others.  Threads
# that QEMU starts later inherit the main thread's CPU.
pin_vcpus() {
	local tag=$1 impl=$2 qpid="" iso="" i n tid ok=1
	for ((i = 0; i < 150; i++)); do
		# Under set -e, a pgrep that finds nothing yet must not end this.
		if [[ -z $qpid ]]; then
			qpid=$(pgrep -f -- "^qemu-system-x86_64 -name $tag," | head -n 1) || true
		fi
		[[ -n $qpid ]] && iso=$(vcpu_threads "$qpid" | awk -v n="$DISTURB_ISO_VCPU" '$1 == n { print $2 }')
		[[ -n $iso ]] && break
		sleep 0.2
	done
	if [[ -n $iso ]] && taskset -a -p -c "$iso_core" "$qpid" >/dev/null; then
		while read -r n tid; do
			((n == DISTURB_ISO_VCPU)) && continue
			taskset -p -c "$housekeeping" "$tid" >/dev/null || ok=0
		done < <(vcpu_threads "$qpid")
	else
		ok=0
	fi
	if ((ok)); then
		echo "$impl $tag: vCPU $DISTURB_ISO_VCPU (thread $iso) and QEMU's main loop on host CPU $iso_core, the other vCPUs on $housekeeping" >>"$run/pinning"
	else
		echo "$impl $tag: NOT PINNED (QEMU ${qpid:-(not found)}, thread of vCPU $DISTURB_ISO_VCPU: ${iso:-none within 30 s})" >>"$run/pinning"
	fi
}

# boot IMPL ROUND KIND: round ROUND of IMPL's boots for the cases of KIND
# (main or disturb).  A stalled guest is restarted (twice at most) with
# the steps it finished skipped; the samples it printed before it stalled
# are kept.
boot() {
	local impl=$1 r=$2 kind=$3 log=$run/guest-$1.log t tries=0 skip="" n=$rounds
	local marker
	[[ $kind == disturb ]] && n=$drounds
	[[ $kind == icount ]] && n=1
	marker="KLP-ROUND: $r/$n"
	[[ $kind != main ]] && marker="KLP-ROUND: $kind $r/$n"
	info "booting $impl for the $kind cases, round $r of $n ($accel_name, $mem, limit ${timeout_s}s, console log: $log)"
	echo "$marker" >>"$log"
	t=$SECONDS
	while :; do
		guest "$impl" "$r" "$skip" "klp-bench-$$-$impl-$kind-$r-$tries" "$kind"
		case $GUEST_END in
		ok) break ;;
		timeout)
			echo "KLP-HOST: guest timed out after $timeout_s s" | tee -a "$log"
			break
			;;
		stalled)
			echo "KLP-HOST-NOTE: no output from the $impl guest for ${stall_s}s (round $r): stopped" | tee -a "$log"
			if ((++tries > 2)); then
				echo "KLP-HOST: $impl guest stalled $tries times in round $r: giving up" | tee -a "$log"
				break
			fi
			skip=$(awk -v r="$marker" '$0 == r { n = "" }
				/^KLP-BENCH-STEP-DONE / { n = n (n == "" ? "" : ",") $2 }
				END { print n }' "$log")
			echo "KLP-HOST-NOTE: restarting the $impl guest, skipping the steps it finished: ${skip:-none}" | tee -a "$log"
			;;
		*)
			echo "KLP-HOST: $GUEST_END" | tee -a "$log"
			break
			;;
		esac
	done
	rm -f "$run/.rc"
	guest_s[$impl]=$((${guest_s[$impl]:-0} + SECONDS - t))
	info "$impl guest ran for $(elapsed "$t")"
}

# Rounds alternate the order (ours stock, stock ours, ...): whatever the
# host does meanwhile, each kernel gets its share of the quiet and the busy
# spells.
# rounds_of KIND N: N rounds of boots for the cases of KIND.
rounds_of() {
	local kind=$1 n=$2 r i impl order
	for ((r = 1; r <= n; r++)); do
		order=("${impls[@]}")
		if ((r % 2 == 0)); then
			order=()
			for ((i = ${#impls[@]} - 1; i >= 0; i--)); do order+=("${impls[i]}"); done
		fi
		for impl in "${order[@]}"; do boot "$impl" "$r" "$kind"; done
	done
}
declare -A guest_s=()
for impl in "${impls[@]}"; do : >"$run/guest-$impl.log"; done
((run_main)) && rounds_of main "$rounds"
((run_icount)) && rounds_of icount 1
((run_disturb)) && rounds_of disturb "$drounds"
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
