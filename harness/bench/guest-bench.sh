#!/bin/bash
# The benchmark inside the guest: /bench/guest-bench.sh, run by
# harness/guest-init for klp.mode=bench (klp.bench=quick|full).
#
# Every figure comes from in-kernel clocks: the timestamps of the kernel log
# lines both implementations print ("enabling patch", "starting patching
# transition", "'<p>': patching complete", "'<p>': unpatching complete"),
# marker lines written to /dev/kmsg right before an action, the line the
# benchmark's patch modules print just before klp_enable_patch(), the
# module_put trace event (the same local_clock() as printk, trace_clock
# "perf") with which livepatch drops a freed patch's module, and the
# ktime_get_ns() loop of klp_bench_target.  The shell only waits.
#
# Prints "KLP-BENCH-RESULT <metric> <case> <rep> <value>" lines for the host
# (harness/bench/bench.sh), KLP-BENCH-ERROR lines, the kernel log between
# KLP-BENCH-DMESG-BEGIN/END, and finally "KLP-BENCH-END errors=<n>".
set -uo pipefail

B=/bench
MOD=$B/modules
LOAD=$B/bin/klp-bench-load
D=/sys/kernel/debug/klp_bench
L=/sys/kernel/livepatch
T=/sys/kernel/tracing
TMO=1800 # seconds any single wait may take (stock disables 1000 functions in ~100 s)

profile=full
read -r -a cmdline </proc/cmdline
for arg in "${cmdline[@]}"; do
	case $arg in klp.bench=*) profile=${arg#klp.bench=} ;; esac
done
# Repetitions: REPS[K] of enable+disable, RREPS[K] of replace, TREPS of
# the transition cases with sleeping tasks, BREPS of the two cheap ones
# (busy2 and pread2, whose times depend most on where the tasks are when
# the transition starts), CALL_RUNS loops of CALLS calls.  Stock's periodic
# (1 s) retry makes its latencies spread over a second or two, and ours are
# a few milliseconds that the host's load moves: the report averages the
# middle half of many samples (report.sh), so the cheap cases get more of
# them.
case $profile in
quick)
	KS=(1 10 100) RKS=(100) TREPS=5 BREPS=10 CALL_RUNS=5 CALLS=1000000
	REPS=([1]=5 [10]=5 [100]=3) RREPS=([100]=3)
	;;
*)
	profile=full
	KS=(1 10 100 1000) RKS=(100 1000) TREPS=30 BREPS=30 CALL_RUNS=27 CALLS=2000000
	REPS=([1]=30 [10]=30 [100]=9 [1000]=3) RREPS=([100]=9 [1000]=3)
	;;
esac
KMAX=${KS[-1]}

# klp.round=I/N (harness/bench/bench.sh): this boot is round I of N.  The
# host alternates the two kernels round by round, so that a slow spell of
# the host falls on both alike; each round takes its share of the
# repetitions (rounded up).
#
# klp.impl=ours|stock names the kernel.  Where stock takes seconds per
# sample, its few samples are steady (its retry clock dominates them) and
# the ratio's noise comes from ours, whose samples take milliseconds: ours
# gets at least OURS_MIN_REPS samples of every case, and OURS_CHEAP_REPS of
# enable and disable with K = 1 and 10 (a sample there takes ~10 ms of
# work that host preemption spreads from 6 to 35 ms; two runs' averages of
# 30 still differed by up to 22 %).
round=1 rounds=1 impl=unknown
for arg in "${cmdline[@]}"; do
	case $arg in
	klp.round=[1-9]*/[1-9]*)
		round=${arg#klp.round=} rounds=${round#*/} round=${round%/*}
		;;
	klp.impl=*) impl=${arg#klp.impl=} ;;
	esac
done
if [[ $impl == ours ]]; then
	OURS_MIN_REPS=5 OURS_CHEAP_REPS=5
	[[ $profile == full ]] && OURS_MIN_REPS=30 OURS_CHEAP_REPS=60
	((TREPS < OURS_MIN_REPS)) && TREPS=$OURS_MIN_REPS
	for k in "${!REPS[@]}"; do
		((REPS[k] < OURS_MIN_REPS)) && REPS[k]=$OURS_MIN_REPS
		((k <= 10 && REPS[k] < OURS_CHEAP_REPS)) && REPS[k]=$OURS_CHEAP_REPS
	done
	for k in "${!RREPS[@]}"; do
		((RREPS[k] < OURS_MIN_REPS)) && RREPS[k]=$OURS_MIN_REPS
	done
fi
share() { echo $((($1 + rounds - 1) / rounds)); }
TREPS=$(share "$TREPS") BREPS=$(share "$BREPS") CALL_RUNS=$(share "$CALL_RUNS")
for k in "${!REPS[@]}"; do REPS[k]=$(share "${REPS[k]}"); done
for k in "${!RREPS[@]}"; do RREPS[k]=$(share "${RREPS[k]}"); done

errors=0
say() { echo "KLP-BENCH: $*"; }
res() { echo "KLP-BENCH-RESULT $*"; }
err() {
	echo "KLP-BENCH-ERROR: $*"
	errors=$((errors + 1))
	return 1
}

# nap SECONDS: sleep without forking (a read that never gets data).
mkfifo /tmp/klp-bench-never
exec {never}<>/tmp/klp-bench-never
nap() { read -r -t "$1" -u "$never" _; }

# phase_wait: wait for the next point in the second of uptime that the
# sequence frac(n * 0.618...) gives, n counting the calls (from an offset
# per round).  Stock retries blocked tasks on whole seconds of jiffies
# (round_jiffies_relative()), so how long it takes depends on where in the
# second a request arrives.  The benchmark's own rhythm would otherwise
# lock that phase for a run (one run's disables all waiting 0.8 s, the
# next one's 1.7 s); spread evenly over the second, the samples average
# over the phase like requests arriving at random do.  Done before every
# enable, disable and replace sample of stock.  This implementation's
# retries back off from 8 ms on timers relative to the request, so where
# in the second it arrives does not matter; the wait (0.5 s on average)
# would only take a third of the time its cheap samples get.
PHASE_N=$((round * 1000))
phase_wait() {
	local up frac target d
	[[ $impl == ours ]] && return 0
	PHASE_N=$((PHASE_N + 1))
	read -r up _ </proc/uptime
	frac=${up#*.}
	frac=$((10#${frac:0:2}))
	target=$((PHASE_N * 618034 / 10000 % 100))
	d=$(((target - frac + 100) % 100))
	((d == 0)) && return 0
	printf -v d '0.%02d' "$d"
	nap "$d"
}

# wait_until DESC SECONDS CMD...: poll CMD every 20 ms until it succeeds.
# A line every minute of waiting tells the host (bench.sh, which stops a
# silent guest) that the shell still runs.
wait_until() {
	local desc=$1 secs=$2 start=$SECONDS next=$((SECONDS + 60))
	shift 2
	until "$@"; do
		((SECONDS - start > secs)) && {
			err "timed out after ${secs}s waiting for $desc"
			return 1
		}
		if ((SECONDS >= next)); then
			say "still waiting for $desc ($((SECONDS - start))s)"
			next=$((next + 60))
		fi
		nap 0.02
	done
	return 0
}
sysfs_is() { [[ -r $1 && $(<"$1") == "$2" ]]; }
gone() { [[ ! -e $1 ]]; }
loaded() { grep -q "^$1 " /proc/modules; }

# mark NAME: clear the trace buffer and log a marker line; the action
# measured follows at once.
MARK=
mark() {
	MARK="$1"
	: >"$T/trace"
	echo "klp_bench: mark $MARK" >/dev/kmsg
}

# klog_times PATTERN...: the kernel log timestamps (s) of the first line
# containing each PATTERN, in order, from the last marker on; "" stands
# for the marker line itself and "-" for a line not found.
klog_times() {
	local IFS='|'
	dmesg --color=never | awk -v m="klp_bench: mark $MARK" -v pats="$*" '
		BEGIN { n = split(pats, p, "|"); i = 1 }
		{
			if (!match($0, /^\[ *[0-9]+\.[0-9]+\] /))
				next
			ts = substr($0, 2, RLENGTH - 3) + 0
			msg = substr($0, RLENGTH + 1)
		}
		!seen { if (msg != m) next; seen = 1 }
		i <= n && (p[i] == "" ? msg == m : index(msg, p[i])) { t[i++] = ts }
		END { for (j = 1; j <= n; j++) printf "%s%s", (j in t ? sprintf("%.6f", t[j]) : "-"), (j < n ? " " : "\n") }'
}

# put_time MODULE: trace timestamp (s) of the last module_put of MODULE that
# left it unused (raw refcnt 1): livepatch releasing a freed patch.
put_time() {
	awk -v m="$1" '
		index($0, ": module_put: " m " ") && / refcnt=1$/ {
			t = $0
			sub(/: module_put: .*/, "", t)
			sub(/.* /, "", t)
			last = t
		}
		END { print (last == "" ? "-" : last) }' "$T/trace"
}
put_seen() { [[ $(put_time "$1") != - ]]; }

# ms FROM TO: milliseconds between two timestamps in seconds.
ms() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || a == "" || b == "") exit 1
		printf "%.3f\n", (b - a) * 1000 }'
}

# fn_ret IDX: what klp_bench_fn_IDX returns now.
fn_ret() {
	local idx n ns ret
	echo "$1 1" >"$D/calls" || return 1
	read -r idx n ns ret <"$D/calls"
	echo "$ret"
}
# expect_fn IDX VALUE WHEN
expect_fn() {
	local got
	got=$(fn_ret "$1")
	[[ $got == "$2" ]] || err "$3: klp_bench_fn_$1 returned '$got', expected $2"
}

# insmod_patch NAME [ARGS]: load a patch module and wait for its transition.
insmod_patch() {
	local p=$1
	shift
	insmod "$MOD/$p.ko" "$@" || {
		err "insmod $p failed"
		return 1
	}
	wait_until "the $p transition" "${WAIT_TMO:-$TMO}" sysfs_is "$L/$p/transition" 0 ||
		return 1
	sysfs_is "$L/$p/enabled" 1 || err "$p is not enabled after its transition"
}

# disable_patch NAME: echo 0 > enabled, wait until freed, rmmod.
disable_patch() {
	local p=$1
	echo 0 >"$L/$p/enabled" || err "writing 0 to $L/$p/enabled failed"
	wait_until "$L/$p to disappear" "$TMO" gone "$L/$p" || return 1
	wait_until "$p to be released" 20 put_seen "$p"
	rmmod "$p" || err "rmmod $p failed"
}

# --- metric 1: cost of a call ----------------------------------------------
REF=1000 # klp_bench_fn_ref(), never patched
# loop IDX: run CALLS calls of function IDX; set NS (per call) and RET.
loop() {
	local n ns
	echo "$1 $CALLS" >"$D/calls" || {
		err "call loop of function $1 failed"
		return 1
	}
	read -r _ n ns RET <"$D/calls"
	NS=$(awk -v a="$ns" -v b="$n" 'BEGIN { printf "%.3f\n", a / b }')
}
# probe CASE REP [METRIC]: how fast the guest runs right now (the host's
# load), as the cost of a call of the never-patched reference function,
# before each timed sample; report.sh scales the ratios of CPU work with
# the "speed" results.
probe() {
	loop "$REF" && res "${3:-speed}" "$1" "$2" "$NS"
}

# calls_case NAME IDX EXPECT: CALL_RUNS runs, each of CALLS calls of
# klp_bench_fn_ref() and CALLS calls of fn_IDX, right after each other.
# Under TCG the host's load scales both by the same factor (a vCPU thread
# sharing a host core runs at half speed), so the ratio of the pair is what
# stays stable.  Results: call_NAME and call_ref_NAME (ns per call),
# call_rel_NAME (fn_IDX / ref - 1).
calls_case() {
	local name=$1 idx=$2 expect=$3 r ref
	for ((r = 1; r <= CALL_RUNS; r++)); do
		loop "$REF" || return 1
		ref=$NS
		loop "$idx" || return 1
		[[ $RET == "$expect" ]] ||
			err "call_$name: klp_bench_fn_$idx returned $RET, expected $expect"
		res "call_$name" "$idx" "$r" "$NS"
		res "call_ref_$name" "$idx" "$r" "$ref"
		res "call_rel_$name" "$idx" "$r" "$(awk -v a="$NS" -v b="$ref" 'BEGIN { printf "%.4f\n", a / b - 1 }')"
	done
}

# --- metric 6: memory --------------------------------------------------------
# mem: set MEM_SLAB (meminfo Slab), MEM_OBJ (bytes of slab objects in use,
# from /proc/slabinfo) and MEM_VMALLOC (meminfo VmallocUsed), in bytes, after
# dropping reclaimable slab, letting RCU frees settle and shrinking every
# cache (per-CPU slabs flushed, empty slabs freed), so that slabinfo counts
# the objects in use.  No forks from the shrink on: they would allocate.
MEM_OBJ=0 MEM_SLAB=0 MEM_VMALLOC=0
mem() {
	local f k v w
	echo 2 >/proc/sys/vm/drop_caches
	nap 1
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
	MEM_OBJ=0
	while read -r -a w; do
		[[ ${w[0]} == slabinfo || ${w[0]} == '#' ]] && continue
		MEM_OBJ=$((MEM_OBJ + w[1] * w[3]))
	done </proc/slabinfo
	while read -r k v _; do
		case $k in
		Slab:) MEM_SLAB=$((v * 1024)) ;;
		VmallocUsed:) MEM_VMALLOC=$((v * 1024)) ;;
		esac
	done </proc/meminfo
}

# mem_case K REP: memory of the patch module klp_bench_pK loaded without
# enabling it (its own share), to subtract from the enabled figures
# (ENABLED_OBJ/SLAB/VMALLOC, set around enable_case).
mem_case() {
	local k=$1 rep=$2 obj slab vm
	mem
	insmod "$MOD/klp_bench_p$k.ko" noenable=1 || {
		err "insmod klp_bench_p$k noenable=1 failed"
		return 1
	}
	obj=$MEM_OBJ slab=$MEM_SLAB vm=$MEM_VMALLOC
	mem
	obj=$((MEM_OBJ - obj)) slab=$((MEM_SLAB - slab)) vm=$((MEM_VMALLOC - vm))
	rmmod "klp_bench_p$k" || err "rmmod klp_bench_p$k (noenable) failed"
	res mem_slab "$k" "$rep" $(((ENABLED_OBJ - obj) / k))
	res mem_meminfo_slab "$k" "$rep" $(((ENABLED_SLAB - slab) / k))
	res mem_vmalloc "$k" "$rep" $(((ENABLED_VMALLOC - vm) / k))
	say "memory K=$k: enabled: slab objects +$ENABLED_OBJ, Slab +$ENABLED_SLAB, vmalloc +$ENABLED_VMALLOC; module alone: +$obj, +$slab, +$vm bytes"
}

# --- metrics 2 and 3: enable and disable -------------------------------------
# timed_enable K REP: enable klp_bench_pK and record the enable latency.
timed_enable() {
	local k=$1 rep=$2 p=klp_bench_p$1 t0 t1 v
	probe "enable$k" "$rep"
	phase_wait
	mark "enable-$k-$rep"
	insmod_patch "$p" || return 1
	read -r t0 t1 < <(klog_times "$p: calling klp_enable_patch()" "'$p': patching complete")
	if v=$(ms "$t0" "$t1"); then res enable "$k" "$rep" "$v"; else err "enable K=$k: log lines not found"; fi
	# Enabled either way: the caller disables it.
	return 0
}

enable_case() {
	local k=$1
	timed_enable "$k" "$2" || return 1
	expect_fn 0 2 "K=$k patched"
	expect_fn $((k - 1)) $(((k - 1) * 7 + 2)) "K=$k patched"
	((k < 1000)) && expect_fn "$k" $((k * 7 + 1)) "K=$k patched"
	return 0
}

disable_case() {
	local k=$1 rep=$2 p=klp_bench_p$1 t0 t1 tf v
	probe "disable$k" "$rep"
	phase_wait
	mark "disable-$k-$rep"
	disable_patch "$p"
	read -r t0 t1 < <(klog_times "" "'$p': unpatching complete")
	tf=$(put_time "$p")
	if v=$(ms "$t0" "$t1"); then res disable_complete "$k" "$rep" "$v"; else err "disable K=$k: log lines not found"; fi
	if v=$(ms "$t0" "$tf"); then res disable "$k" "$rep" "$v"; else err "disable K=$k: no module_put event"; fi
	loaded "$p" && err "$p still loaded"
	expect_fn 0 1 "K=$k unpatched"
	expect_fn $((k - 1)) $(((k - 1) * 7 + 1)) "K=$k unpatched"
	return 0
}

# --- metric 4: atomic replace -------------------------------------------------
replace_case() {
	local k=$1 rep=$2 p=klp_bench_p$1 r=klp_bench_r$1 t0 t1 tf v
	# The patch to replace is enabled as in enable_case: one more
	# enable sample (stock takes seconds for K = 1000; its few samples
	# are what the enable ratio's noise comes from).
	timed_enable "$k" "r$rep" || return 1
	probe "replace$k" "$rep"
	phase_wait
	mark "replace-$k-$rep"
	insmod_patch "$r" || return 1
	wait_until "$L/$p to disappear" "$TMO" gone "$L/$p"
	wait_until "$p to be released" 20 put_seen "$p"
	read -r t0 t1 < <(klog_times "$r: calling klp_enable_patch()" "'$r': patching complete")
	tf=$(put_time "$p")
	if v=$(ms "$t0" "$t1"); then res replace_complete "$k" "$rep" "$v"; else err "replace K=$k: log lines not found"; fi
	if v=$(ms "$t0" "$tf"); then res replace "$k" "$rep" "$v"; else err "replace K=$k: no module_put event"; fi
	rmmod "$p" || err "rmmod $p after the replace failed"
	expect_fn 0 1 "K=$k replaced"
	expect_fn $((k / 2 - 1)) $(((k / 2 - 1) * 7 + 1)) "K=$k replaced"
	expect_fn $((k - 1)) $(((k - 1) * 7 + 3)) "K=$k replaced"
	disable_patch "$r"
	expect_fn $((k - 1)) $(((k - 1) * 7 + 1)) "K=$k replace disabled"
	return 0
}

# --- metric 5: transitions with user tasks around ----------------------------
# stuck_report PATCH LOADPID: what a transition that did not end waits for.
stuck_report() {
	local f t
	for f in "$L/$1"/*; do
		[[ -f $f ]] && echo "KLP-BENCH-STUCK: $f: $(tr '\n' ' ' <"$f")"
	done
	for t in /proc/"$2"/task/* /proc/[0-9]*; do
		[[ -r $t/stack ]] || continue
		grep -q klp_bench "$t/stack" 2>/dev/null || [[ $t == /proc/$2/task/* ]] ||
			continue
		echo "KLP-BENCH-STUCK: ${t#/proc/} $(<"$t/comm") $(tr '\n' ' ' <"$t/stack")"
	done
}

# trans_case NAME PATCH REPS MODE N [FILE]: start N klp-bench-load tasks,
# then time the patching transition of PATCH REPS times (enable, disable).
trans_case() {
	local name=$1 p=$2 reps=$3 rep lpid t0 t1 v out=/tmp/klp-bench-load.out
	local procs mode=$4
	shift 3
	: >"$out"
	"$LOAD" "$@" >"$out" &
	lpid=$!
	wait_until "$name tasks" 900 grep -q '^ready' "$out" || {
		kill "$lpid"
		wait "$lpid"
		return 1
	}
	[[ $(<"$out") == "ready $2" ]] || err "$name: klp-bench-load: $(<"$out")"
	# Let the tasks settle in their loops.
	nap 1
	# A transition with a few tasks takes stock a second or two: do not
	# let one that never ends hold the run for TMO.
	local WAIT_TMO=300
	procs=(/proc/[0-9]*)
	say "$name: ${#procs[@]} processes, $(awk '/^MemAvailable:/ { printf "%d MiB available\n", $2 / 1024 }' /proc/meminfo)"
	for ((rep = 1; rep <= reps; rep++)); do
		# With CPU-busy tasks around, the probe measures how the shell
		# shares a vCPU with them, not the host: kept apart.
		if [[ $mode == busy ]]; then
			probe "$name" "$rep" speed_busy
		else
			probe "$name" "$rep"
		fi
		# No phase_wait here: the transitions start wherever the tasks
		# are.  (The stalls once blamed on it were a livelock of the
		# emulated CPUs, see guest() in harness/bench/bench.sh.)
		mark "trans-$name-$rep"
		insmod_patch "$p" || {
			stuck_report "$p" "$lpid"
			break
		}
		read -r t0 t1 < <(klog_times "'$p': starting patching transition" "'$p': patching complete")
		if v=$(ms "$t0" "$t1"); then res transition "$name" "$rep" "$v"; else err "transition $name: log lines not found"; fi
		if [[ $p == klp_bench_psleep ]]; then
			read -r v <"$D/sleep"
			[[ $v == 2 ]] || err "$name: klp_bench_sleep_fn returned '$v', expected 2"
		else
			expect_fn 0 2 "$name"
		fi
		disable_patch "$p" || break
	done
	kill "$lpid"
	wait "$lpid"
	[[ -d $L/$p ]] && disable_patch "$p"
	return 0
}

# --- main -------------------------------------------------------------------
say "profile=$profile impl=$impl round=$round/$rounds kernel=$(uname -r) cpus=$(nproc) mem=$(awk '/^MemTotal:/ { print int($2 / 1024) "MiB" }' /proc/meminfo) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg -n 1
ulimit -u unlimited
# tinyconfig (BASE_SMALL) allows 4096 pids by default and 32768 at most.
echo 32768 >/proc/sys/kernel/pid_max || err "cannot raise pid_max"
[[ -d $T ]] || mount -t tracefs tracefs "$T"
echo perf >"$T/trace_clock" || err "trace_clock perf unavailable"
echo 1 >"$T/events/module/module_put/enable" || err "no module:module_put event"
insmod "$MOD/klp_bench_target.ko" || {
	err "insmod klp_bench_target failed"
	echo "KLP-BENCH-END errors=$errors"
	exit 1
}
start=$SECONDS

# k_case K: enable and disable K functions, then replace them.
k_case() {
	local k=$1 rep rk obj slab vm
	for ((rep = 1; rep <= REPS[k]; rep++)); do
		((k == KMAX && rep == 1)) && mem
		obj=$MEM_OBJ slab=$MEM_SLAB vm=$MEM_VMALLOC
		enable_case "$k" "$rep" || continue
		if ((k == KMAX && rep == 1)); then
			mem
			ENABLED_OBJ=$((MEM_OBJ - obj)) ENABLED_SLAB=$((MEM_SLAB - slab))
			ENABLED_VMALLOC=$((MEM_VMALLOC - vm))
		fi
		((rep == 1 && k == 1)) && calls_case patched 0 2
		((rep == 1 && k == 1000)) && calls_case patched_k1000 0 2
		disable_case "$k" "$rep"
		# Memory once a round: its figures do not vary (303 and 305
		# bytes per function in two runs), and each measurement takes
		# seconds (drop_caches, a nap, shrinking every cache).
		((k == KMAX && rep == 1)) && mem_case "$k" "$rep"
	done
	for rk in "${RKS[@]}"; do
		((rk == k)) || continue
		for ((rep = 1; rep <= RREPS[k]; rep++)); do replace_case "$k" "$rep"; done
	done
	say "K=$k done at $((SECONDS - start))s"
}

# step NAME CMD...: run one part of the benchmark unless klp.skip lists it
# (a guest restarted after a stall, see harness/bench/bench.sh, skips the
# parts the stalled one finished), then tell the host it is done.
SKIP=,
for arg in "${cmdline[@]}"; do
	case $arg in klp.skip=*) SKIP=,${arg#klp.skip=}, ;; esac
done
step() {
	local name=$1
	shift
	if [[ $SKIP == *",$name,"* ]]; then
		say "$name: done before the restart, skipped"
		return 0
	fi
	"$@"
	echo "KLP-BENCH-STEP-DONE $name"
}

step calls calls_case unpatched 0 1
for k in "${KS[@]}"; do step "k$k" k_case "$k"; done
step sleep1000 trans_case sleep1000 klp_bench_p1 "$TREPS" sleep 1000
step busy2 trans_case busy2 klp_bench_p1 "$BREPS" busy 2
step pread2 trans_case pread2 klp_bench_psleep "$BREPS" pread 2 "$D/sleep"
step sleep10000 trans_case sleep10000 klp_bench_p1 "$TREPS" sleep 10000
say "transitions done at $((SECONDS - start))s"

echo "KLP-BENCH-DMESG-BEGIN"
dmesg --color=never
echo "KLP-BENCH-DMESG-END"
echo "KLP-BENCH-END errors=$errors"
