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
	DREPS=2
	KS=(1 10 100) RKS=(100) TREPS=5 BREPS=10 CALL_RUNS=5 CALLS=1000000
	REPS=([1]=5 [10]=5 [100]=3) RREPS=([100]=3)
	;;
*)
	profile=full
	DREPS=3
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
# klp.reps=N (make bench REPS=N, KLP_BENCH_REPS): N samples of every
# transition case in each boot, whatever the profile, the kernel and the
# round; for hunting a rare failure in one case (with ONLY=...), not for
# figures.
for arg in "${cmdline[@]}"; do
	case $arg in klp.reps=[1-9]*) TREPS=${arg#klp.reps=} BREPS=$TREPS FIXED_REPS=1 ;; esac
done
share() { echo $((($1 + rounds - 1) / rounds)); }
# DREPS, the disturbance case's repetitions, are shared by the rounds of
# its own boots (klp.round counts those).
[[ -z ${FIXED_REPS:-} ]] && TREPS=$(share "$TREPS") BREPS=$(share "$BREPS")
CALL_RUNS=$(share "$CALL_RUNS")
DREPS=$(share "$DREPS")
for k in "${!REPS[@]}"; do REPS[k]=$(share "${REPS[k]}"); done
for k in "${!RREPS[@]}"; do RREPS[k]=$(share "${RREPS[k]}"); done

errors=0
# Every line the script prints is a heartbeat for stall_watch(): the second
# of uptime, in BEAT.
BEAT=/tmp/klp-bench.beat
beat() {
	local up
	read -r up _ </proc/uptime
	echo "${up%.*}" >"$BEAT"
}
say() {
	echo "KLP-BENCH: $*"
	beat
}
# A result: METRIC CASE REP VALUE; RES_PREFIX (icount_case) goes before
# METRIC.
res() {
	echo "KLP-BENCH-RESULT ${RES_PREFIX:-}$*"
	beat
}
err() {
	echo "KLP-BENCH-ERROR: $*"
	errors=$((errors + 1))
	beat
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
# REF_CALLS, when set, is the length of the reference loop.
calls_case() {
	local name=$1 idx=$2 expect=$3 r ref calls=$CALLS
	for ((r = 1; r <= CALL_RUNS; r++)); do
		CALLS=${REF_CALLS:-$calls}
		loop "$REF" || return 1
		ref=$NS CALLS=$calls
		loop "$idx" || return 1
		[[ $RET == "$expect" ]] ||
			err "call_$name: klp_bench_fn_$idx returned $RET, expected $expect"
		res "call_$name" "$idx" "$r" "$NS"
		res "call_ref_$name" "$idx" "$r" "$ref"
		res "call_rel_$name" "$idx" "$r" "$(awk -v a="$NS" -v b="$ref" 'BEGIN { printf "%.4f\n", a / b - 1 }')"
	done
}

# calls_traced_case NAME IDX EXPECT [alone]: calls_case with the function
# tracer on fn_IDX, the fallback path: ftrace calls the site through its
# list of ops (the tracer, then the livepatch handler), on both kernels.
# The tracer is on the reference function too, so that the relative
# overhead is what live patching adds to a traced call: the tracer's own
# cost (about 40 times an untraced call under TCG, the same on both
# kernels) is in both loops.  Run before patching too (unpatched_traced,
# ~0).  A sixteenth of the calls per loop (each costs the tracer's ~1 us),
# in four times as many runs.  A traced loop's cost moves with the host by
# +-30 % from one run to the next; shorter pairs were meant to let the
# host treat both halves alike, but two full runs agreed no better than
# with a quarter of the calls in CALL_RUNS runs (1.15 and 1.11 against
# 1.02 and 1.15).  That form is a detail row (call_traced_pair); both
# traced rows with a goal use the "alone" form below.
#
# With "alone" the tracer is on fn_IDX only, and the reference call,
# untraced, measures only the guest's speed (no patch changes it, and it
# costs the same on both kernels), in a loop about as long as the traced
# one (40 times the calls: the ratio of two loops moves with the host the
# less the closer their lengths, 28.8 to 35.1 in 20 pairs against 22.5 to
# 57.5 with equal counts; stock's traced loop at K=1000 is some 50 times
# longer, and its figure far off ours either way).  That is the form for many patched functions: on
# stock each is an ftrace_ops of its own, and a traced call goes through
# ftrace's list of ops, which tests each of them (at K=1000, 48 to 63 us
# a call under TCG against under 1 us before patching); a traced
# reference call may pay that too, and would hide it.  Ours has one ops.
# At K=1 it is the issue's definition as it stands: the traced call of the
# patched function less the traced call of the same function before
# patching, each against an untraced loop that patching does not change.
# A fortieth of the calls.
calls_traced_case() {
	local ret=0 calls=$CALLS runs=$CALL_RUNS filter="klp_bench_fn_$2 klp_bench_fn_ref"
	if [[ ${4:-} == alone ]]; then
		filter=klp_bench_fn_$2
		local REF_CALLS=$CALLS
		CALLS=$((CALLS / 40))
	else
		CALLS=$((CALLS / 16)) CALL_RUNS=$((CALL_RUNS * 4))
	fi
	echo "$filter" >"$T/set_ftrace_filter" &&
		echo function >"$T/current_tracer" ||
		err "call_$1: cannot trace klp_bench_fn_$2" || return 1
	calls_case "${@:1:3}" || ret=1
	CALLS=$calls CALL_RUNS=$runs
	echo nop >"$T/current_tracer"
	: >"$T/set_ftrace_filter"
	return "$ret"
}

# --- metric 6: memory --------------------------------------------------------
# mem: set MEM_SLAB (meminfo Slab), MEM_OBJ (bytes of slab objects in use,
# from /proc/slabinfo) and MEM_VMALLOC (meminfo VmallocUsed), in bytes, after
# dropping reclaimable slab, letting RCU frees settle and shrinking every
# cache (per-CPU slabs flushed, empty slabs freed), so that slabinfo counts
# the objects in use.  No forks from the shrink on: they would allocate.
# MEM_CACHE[name] has the bytes of each cache's objects in use.  Each
# cache's figure is the least of MEM_READS such readings: SLUB counts every
# object of a CPU's current slab as in use, so one allocation after the
# shrink (the read of /proc/slabinfo itself, a path lookup) adds a slab's
# worth of objects to its cache (32 KiB of kmalloc-4k or names_cache, seen
# in one reading and not the next); what the kernel holds is in every one.
MEM_OBJ=0 MEM_SLAB=0 MEM_VMALLOC=0 MEM_READS=3
declare -A MEM_CACHE=()
mem() {
	local f k v w i c
	MEM_CACHE=()
	for ((i = 0; i < MEM_READS; i++)); do
		echo 2 >/proc/sys/vm/drop_caches
		nap 1
		for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f"; done 2>/dev/null
		while read -r -a w; do
			[[ ${w[0]} == slabinfo || ${w[0]} == '#' ]] && continue
			v=$((w[1] * w[3]))
			c=${w[0]}
			[[ -n ${MEM_CACHE[$c]:-} ]] && ((MEM_CACHE[$c] <= v)) && continue
			MEM_CACHE[$c]=$v
		done </proc/slabinfo
	done
	MEM_OBJ=0
	for c in "${!MEM_CACHE[@]}"; do MEM_OBJ=$((MEM_OBJ + MEM_CACHE[$c])); done
	while read -r k v _; do
		case $k in
		Slab:) MEM_SLAB=$((v * 1024)) ;;
		VmallocUsed:) MEM_VMALLOC=$((v * 1024)) ;;
		esac
	done </proc/meminfo
}

# mem_caches_save: remember MEM_CACHE for mem_caches_grown.
declare -A MEM_CACHE0=()
mem_caches_save() {
	local c
	MEM_CACHE0=()
	for c in "${!MEM_CACHE[@]}"; do MEM_CACHE0[$c]=${MEM_CACHE[$c]}; done
}

# mem_caches_grown: "cache +bytes" for the caches that grew by 4 KiB or
# more since mem_caches_save, largest first (where an enable's memory goes).
mem_caches_grown() {
	local c d
	for c in "${!MEM_CACHE[@]}"; do
		d=$((MEM_CACHE[$c] - ${MEM_CACHE0[$c]:-0}))
		((d >= 4096)) && echo "$d $c"
	done | sort -rn | while read -r d c; do printf '%s +%d, ' "$c" "$d"; done
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

# --- metric 7: disturbance of the rest of the machine --------------------------
# The disturbance case (klp.cases=disturb, a guest of its own with 3 vCPUs
# and CPU 2 isolated: isolcpus=2 nohz_full=2 irqaffinity=0-1 rcu_nocbs=2,
# see bench.sh).  10000 tasks: DIST_SLEEPERS asleep in nanosleep() and
# DIST_BLOCKED readers of klp_bench/block waiting inside
# klp_bench_block_fn(), which klp_bench_pblock patches.  Right after the
# patch is enabled, the target module's timer lets one reader go every
# DIST_PERIOD_MS ms, so the transition lasts about DIST_BLOCKED *
# DIST_PERIOD_MS ms with either kernel.  Meanwhile "klp-bench-load lat 0 2"
# wakes a SCHED_FIFO thread every millisecond on CPU 0 (housekeeping) and
# on CPU 2 (isolated) and records how late each woke.
#
# Everything is measured from outside livepatch, the same way for both
# kernels (the function names are the only difference, DIST_CPU_FUNCS):
#  - CPU time: the function_graph tracer on the entry points of the
#    transition's work (the enable path's preparation and first round,
#    the work items of the rounds and of their helpers) with
#    max_graph_depth=1 (only the outermost of them counts, so nothing
#    twice) and sleep-time off (time scheduled out does not count),
#    summed over the transition.  Included: the stack checks, the walks of
#    the task list, the bookkeeping, interrupts that hit them.  Not
#    included: the code patching by ftrace before the transition, and
#    klp_update_patch_state() run by each task for itself on its way to
#    user space (both kernels do that alike).
#  - tasklist_lock: kprobe events on _raw_read_lock and _raw_read_unlock
#    (out of line with PREEMPT_DYNAMIC), filtered on the address of
#    tasklist_lock, the lock's caller (the return address at entry)
#    recorded; lock and unlock are paired per CPU (a read hold keeps
#    preemption off) and a hold counts when its read_lock() was called
#    from a klp_* function.  The probes' own cost (tens of microseconds a
#    hit under TCG) is inside each hold, for both kernels, and would be
#    inside the CPU time too, in proportion to the number of holds, which
#    is what bounded holds raise: so each measured transition is followed
#    by a second one, the same, with these two probes on (the holds, and
#    the CPU time with the probes as a detail), while the first one, with
#    them off, gives every other figure.
#  - Wake-up lateness: the "lat" threads' samples from just before the
#    enable until the shell saw the transition end (polling every 20 ms),
#    and in an idle window of DIST_IDLE_S seconds just before, with all
#    tasks in place.  Max and 99th percentile, for each CPU.
#  - Isolated CPU: work items of klp_* functions that ran on CPU 2
#    (workqueue_execute_start events) plus IPIs sent to CPU 2 (kprobes on
#    native_smp_send_reschedule, native_send_call_func_single_ipi and
#    native_send_call_func_ipi, with the sender's stack) from a stack with
#    a klp_* function on it; those of ftrace's code patching, which reach
#    every CPU for both kernels (text_poke_bp(), and the TLB and page
#    attribute flushes when an ftrace_ops gets its trampoline), are counted
#    apart (disturb_patching_ipis).
#  - Transition latency: kernel log timestamps from the target module's
#    "released the last blocked reader" line (its timer) to "'<patch>':
#    patching complete": how long the transition takes once nothing keeps
#    it from completing.  disturb_transition_total: from the patch
#    module's "calling klp_enable_patch()" line on.
DIST_SLEEPERS=9900 DIST_BLOCKED=100 DIST_PERIOD_MS=20 DIST_IDLE_S=3
DIST_PATCH=klp_bench_pblock
if [[ $impl == stock ]]; then
	DIST_CPU_FUNCS="klp_init_transition klp_start_transition klp_try_complete_transition klp_transition_work_fn"
else
	DIST_CPU_FUNCS="klp_trans_prepare klp_trans_begin klp_trans_first_round klp_trans_work_fn klp_walk_help"
fi
DIST_ISO_CPU=2
DIST_LOCK=$T/instances/klp_dist_lock
DIST_IPI=$T/instances/klp_dist_ipi
DIST_WQ=$T/instances/klp_dist_wq

# dist_trace_setup: the probes, three trace instances and the tracer.
dist_trace_setup() {
	local addr f inst
	addr=$(awk '$3 == "tasklist_lock" { print $1; exit }' /proc/kallsyms)
	[[ -n $addr && $addr != 0000000000000000 ]] ||
		err "disturb: no address of tasklist_lock in /proc/kallsyms" || return 1
	{
		echo "p:klp_dist/rl _raw_read_lock lock=%di:x64 caller=+0(\$stack):symbol" &&
			echo "p:klp_dist/ru _raw_read_unlock lock=%di:x64" &&
			echo "p:klp_dist/resched native_smp_send_reschedule target=%di:s32" &&
			echo "p:klp_dist/cfs native_send_call_func_single_ipi target=%di:s32" &&
			echo "p:klp_dist/cf native_send_call_func_ipi mask=+0(%di):x64"
	} >>"$T/kprobe_events" || err "disturb: kprobe events refused" || return 1
	for inst in "$DIST_LOCK" "$DIST_IPI" "$DIST_WQ"; do
		mkdir -p "$inst" && echo 0 >"$inst/tracing_on" &&
			echo perf >"$inst/trace_clock" && echo 8192 >"$inst/buffer_size_kb" ||
			err "disturb: trace instance $inst" || return 1
	done
	{
		echo "lock == 0x$addr" >"$DIST_LOCK/events/klp_dist/rl/filter" &&
			echo "lock == 0x$addr" >"$DIST_LOCK/events/klp_dist/ru/filter" &&
			echo 1 >"$DIST_IPI/options/stacktrace" &&
			echo "target == $DIST_ISO_CPU" >"$DIST_IPI/events/klp_dist/resched/filter" &&
			echo "target == $DIST_ISO_CPU" >"$DIST_IPI/events/klp_dist/cfs/filter" &&
			echo "mask & $((1 << DIST_ISO_CPU))" >"$DIST_IPI/events/klp_dist/cf/filter" &&
			echo 1 >"$DIST_IPI/events/klp_dist/resched/enable" &&
			echo 1 >"$DIST_IPI/events/klp_dist/cfs/enable" &&
			echo 1 >"$DIST_IPI/events/klp_dist/cf/enable" &&
			echo 1 >"$DIST_WQ/events/workqueue/workqueue_execute_start/enable"
	} || err "disturb: setting up the trace events failed" || return 1
	echo 0 >"$T/tracing_on"
	: >"$T/set_ftrace_filter"
	for f in $DIST_CPU_FUNCS; do
		echo "$f" >>"$T/set_ftrace_filter" ||
			err "disturb: $f cannot be traced (inlined?)" || return 1
	done
	echo 1 >"$T/max_graph_depth" && echo function_graph >"$T/current_tracer" &&
		echo 0 >"$T/options/sleep-time" && echo 1 >"$T/options/funcgraph-tail" ||
		err "disturb: function_graph tracer setup failed" || return 1
	say "disturb: tasklist_lock at 0x$addr, CPU time of: $DIST_CPU_FUNCS"
}

dist_trace_teardown() {
	local inst
	echo nop >"$T/current_tracer"
	echo 0 >"$T/max_graph_depth"
	: >"$T/set_ftrace_filter"
	echo 1 >"$T/tracing_on"
	for inst in "$DIST_LOCK" "$DIST_IPI" "$DIST_WQ"; do
		[[ -d $inst ]] && rmdir "$inst"
	done
	printf -- '-:klp_dist/%s\n' rl ru resched cfs cf >>"$T/kprobe_events"
}

dist_tracing() {
	local inst
	for inst in "$T" "$DIST_LOCK" "$DIST_IPI" "$DIST_WQ"; do
		echo "$1" >"$inst/tracing_on"
	done
}

# dist_lock_probes 0|1: the tasklist_lock probes off or on.
dist_lock_probes() {
	echo "$1" >"$DIST_LOCK/events/klp_dist/rl/enable" &&
		echo "$1" >"$DIST_LOCK/events/klp_dist/ru/enable"
}

# dist_cpu_ms: milliseconds of the traced functions (function_graph).
dist_cpu_ms() {
	awk '/\|/ && match($0, /[0-9]+(\.[0-9]+)? us/) {
			d = substr($0, RSTART, RLENGTH - 3); s += d; n++ }
		END { printf "%.3f %d\n", s / 1000, n }' "$T/trace"
}

# dist_holds: "<holds> <longest us> <mean us>" of tasklist_lock read holds
# taken by klp_* functions.
dist_holds() {
	awk '
		match($0, /\[[0-9]+\]/) {
			cpu = substr($0, RSTART + 1, RLENGTH - 2) + 0
			if (!match($0, /[0-9]+\.[0-9]+: (rl|ru):/))
				next
			split(substr($0, RSTART, RLENGTH), a, ": ")
			ts = a[1]; ev = a[2]; sub(/:$/, "", ev)
			if (ev == "rl") {
				c = $0; sub(/.*caller=/, "", c)
				k = ++depth[cpu]; t[cpu, k] = ts; who[cpu, k] = c
			} else if (depth[cpu] > 0) {
				k = depth[cpu]--
				if (who[cpu, k] ~ /^klp_/ && who[cpu, k] !~ /^klp_bench_/) {
					h = (ts - t[cpu, k]) * 1e6; n++; sum += h
					if (h > max) max = h
				}
			}
		}
		END { printf "%d %.1f %.1f\n", n, max, n ? sum / n : 0 }' "$DIST_LOCK/trace"
}

# dist_isolated: "<livepatch work items on CPU 2> <livepatch IPIs to CPU 2>
# <code patching IPIs to CPU 2> <other IPIs to CPU 2>"; the IPI events of
# $DIST_IPI are filtered on CPU 2 and each is followed by its sender stack.
dist_isolated() {
	local works
	works=$(awk -v cpu="$(printf '[%03d]' "$DIST_ISO_CPU")" \
		'index($0, cpu) && /workqueue_execute_start:/ && / function klp_/ && !/ function klp_bench_/ { n++ }
		END { print n + 0 }' "$DIST_WQ/trace")
	# The stacks of livepatch's IPIs go to the console, for the record.
	# ftrace's own: text_poke_bp() patching call sites, and the TLB and
	# page attribute flushes of setting up an ftrace_ops' trampoline.
	awk -v works="$works" -v ftrace_re='text_poke|(un)?register_ftrace_function|ftrace_(startup|shutdown|update_trampoline|set_filter|set_hash|modify_all_code)' '
		function flush(c) {
			if (!(c in open)) return
			if (stk[c] ~ ftrace_re) {
				patching++
			} else if (stk[c] ~ / klp_/) {
				klp++
				print "KLP-BENCH: disturb: livepatch IPI: " ev[c] " from:" stk[c] > "/dev/stderr"
			} else {
				other++
			}
			delete open[c]; stk[c] = ""; cut[c] = 0
		}
		match($0, /\[[0-9]+\]/) {
			c = substr($0, RSTART + 1, RLENGTH - 2) + 0
			if (/<stack trace>/) { last = c; next }
			if (/ (resched|cfs|cf): /) {
				flush(c); open[c] = 1; last = c
				ev[c] = $0; sub(/^ +/, "", ev[c])
			}
			next
		}
		# The sender is the code above the first interrupt or exception
		# entry (asm_*): an IPI sent by an interrupt handler that
		# happened to hit livepatch code (or a benchmark task inside
		# klp_bench_block_fn) is not one of livepatch.  The klp_bench_*
		# functions of the benchmark modules do not count as livepatch.
		/^ => / {
			if (cut[last]) next
			if ($2 ~ /^asm_/) { cut[last] = 1; next }
			if ($2 !~ /^klp_bench_/) stk[last] = stk[last] " " $2
		}
		END { for (c in open) flush(c); printf "%d %d %d %d\n", works, klp, patching, other }' "$DIST_IPI/trace"
}

# dist_lat WINDOW REP: the lat program closes WINDOW; results of CPU 0 and 2.
dist_lat() {
	local win=$1 rep=$2 out=/tmp/klp-bench-lat.out line cpu n max p99 mean missed sfx
	kill -HUP "$DIST_LAT_PID"
	wait_until "the lateness figures" 30 grep -q "^done $win\$" "$out" || return 1
	while read -r _ _ cpu n max p99 mean missed; do
		sfx=
		[[ $win == idle ]] && sfx=_idle
		((cpu == DIST_ISO_CPU)) && sfx=_iso$sfx
		res "disturb_wakeup_max$sfx" disturb "$rep" "$max"
		res "disturb_wakeup_p99$sfx" disturb "$rep" "$p99"
		say "disturb $rep: CPU $cpu, $win: $n wake-ups, late by max $max us, p99 $p99 us, mean $mean us, $missed periods missed"
	done < <(grep "^lat $win " "$out")
	# When the worst wake-ups came, against the marks of dist_transition
	# (the enable returned; the transition seen over), in ms after the
	# window opened: which phase of a transition the host's worst delays
	# of the isolated CPU fall in.
	while read -r _ _ cpu max at; do
		say "disturb $rep: CPU $cpu, $win: the worst wake-up ($max us late) at $at ms; marks at: $(grep "^marks $win" "$out" | cut -d' ' -f3-)"
	done < <(grep "^when $win " "$out")
	line=$(grep -c "^done $win\$" "$out")
	# Start the next window's output afresh.
	: >"$out"
	((line == 1)) || err "disturb: lateness output of window $win repeated"
}

# dist_rep REP: one measured transition, then the same with the
# tasklist_lock probes on (see above).
dist_rep() {
	dist_transition "$1" main && dist_transition "$1" locks
}

# dist_results_main REP: the figures of a transition without the
# tasklist_lock probes.
dist_results_main() {
	local rep=$1 t0 t1 t2 v cpu n works ipis patching other tot=-
	read -r t0 t1 t2 < <(klog_times "$DIST_PATCH: calling klp_enable_patch()" \
		"released the last blocked reader" "'$DIST_PATCH': patching complete")
	if v=$(ms "$t1" "$t2"); then res disturb_transition disturb "$rep" "$v"; else err "disturb: log lines not found"; fi
	tot=$(ms "$t0" "$t2") && res disturb_transition_total disturb "$rep" "$tot"
	read -r cpu n < <(dist_cpu_ms)
	res disturb_cpu disturb "$rep" "$cpu"
	((n > 0)) || err "disturb: no traced livepatch work ($DIST_CPU_FUNCS)"
	read -r works ipis patching other < <(dist_isolated)
	res disturb_isolated disturb "$rep" $((works + ipis))
	res disturb_patching_ipis disturb "$rep" "$patching"
	# Each traced call, for the breakdown: "<function> <us>".
	say "disturb $rep: calls: $(awk '/\|/ && match($0, /[0-9]+(\.[0-9]+)? us/) {
			d = substr($0, RSTART, RLENGTH - 3); f = $0
			sub(/^.*\| */, "", f); sub(/\(.*/, "", f); printf "%s %.0f, ", f, d }' "$T/trace")"
	say "disturb $rep: transition $tot ms in all, livepatch work ${cpu} ms in $n calls; CPU $DIST_ISO_CPU: $works livepatch work items, $ipis livepatch IPIs, $patching code patching IPIs, $other other IPIs"
}

# dist_results_locks REP: the tasklist_lock figures of the transition
# with the probes on.
dist_results_locks() {
	local rep=$1 cpu n holds hmax hmean
	read -r cpu n < <(dist_cpu_ms)
	res disturb_cpu_probed disturb "$rep" "$cpu"
	read -r holds hmax hmean < <(dist_holds)
	((holds > 0)) || err "disturb: no hold of tasklist_lock by livepatch seen"
	res disturb_tasklist_hold disturb "$rep" "$hmax"
	res disturb_tasklist_hold_mean disturb "$rep" "$hmean"
	res disturb_tasklist_holds disturb "$rep" "$holds"
	say "disturb $rep, tasklist_lock probes on: livepatch work ${cpu} ms in $n calls, $holds tasklist_lock holds (longest $hmax us, mean $hmean us)"
}

# dist_transition REP MODE: block the readers, enable the patch, release
# them, wait for the end, take the figures of MODE (main: all but the
# tasklist_lock holds, with the lateness windows; locks: the holds, with
# their probes on), and take the patch away.
dist_transition() {
	local rep=$1 mode=$2 bout=/tmp/klp-bench-block.out bpid entered v
	echo reset >"$D/block_ctl" || err "disturb: cannot reset klp_bench/block_ctl" || return 1
	: >"$bout"
	"$LOAD" block "$DIST_BLOCKED" "$D/block" >"$bout" &
	bpid=$!
	# shellcheck disable=SC2317 # called indirectly
	blocked() { read -r entered _ <"$D/block_ctl" && ((entered >= DIST_BLOCKED)); }
	wait_until "$DIST_BLOCKED blocked readers" 300 blocked || {
		kill "$bpid"
		wait "$bpid"
		return 1
	}
	nap 1
	if [[ $mode == main ]]; then
		# The idle window, everything in place.
		kill -USR1 "$DIST_LAT_PID"
		nap "$DIST_IDLE_S"
		dist_lat idle "$rep" || return 1
	fi

	dist_lock_probes "$([[ $mode == locks ]] && echo 1 || echo 0)" ||
		err "disturb: cannot switch the tasklist_lock probes" || return 1
	: >"$T/trace"
	for v in "$DIST_LOCK" "$DIST_IPI" "$DIST_WQ"; do : >"$v/trace"; done
	dist_tracing 1
	[[ $mode == main ]] && kill -USR2 "$DIST_LAT_PID"
	mark "disturb-$rep-$mode"
	if ! insmod "$MOD/$DIST_PATCH.ko"; then
		err "disturb: insmod $DIST_PATCH failed"
		dist_tracing 0
		echo all >"$D/block_ctl"
		kill "$bpid"
		wait "$bpid"
		return 1
	fi
	[[ $mode == main ]] && kill -WINCH "$DIST_LAT_PID"
	echo "start $DIST_PERIOD_MS" >"$D/block_ctl" || err "disturb: cannot start the releases"
	WAIT_TMO=300 wait_until "the $DIST_PATCH transition" 300 \
		sysfs_is "$L/$DIST_PATCH/transition" 0 || stuck_report "$DIST_PATCH" "$bpid"
	[[ $mode == main ]] && kill -WINCH "$DIST_LAT_PID"
	[[ $mode == main ]] && dist_lat trans "$rep"
	dist_tracing 0
	dist_lock_probes 0

	"dist_results_$mode" "$rep"

	kill "$bpid"
	wait "$bpid"
	echo all >"$D/block_ctl"
	echo 0 >"$L/$DIST_PATCH/enabled" || err "disturb: disabling $DIST_PATCH failed"
	wait_until "$L/$DIST_PATCH to disappear" "$TMO" gone "$L/$DIST_PATCH" || return 1
	wait_until "rmmod $DIST_PATCH" 60 rmmod "$DIST_PATCH" 2>/dev/null ||
		err "disturb: rmmod $DIST_PATCH failed"
}

disturb_case() {
	local reps=$1 rep lpid out=/tmp/klp-bench-load.out procs
	# (nproc counts the CPUs this shell may use: not the isolated ones.)
	[[ -d /sys/devices/system/cpu/cpu$DIST_ISO_CPU ]] ||
		err "disturb: needs CPU $DIST_ISO_CPU, the guest has $(nproc --all) CPUs" || return 1
	[[ $(cat /sys/devices/system/cpu/isolated 2>/dev/null) == "$DIST_ISO_CPU" ]] ||
		err "disturb: CPU $DIST_ISO_CPU is not isolated ($(cat /sys/devices/system/cpu/isolated 2>/dev/null))"
	: >"$out"
	"$LOAD" sleep "$DIST_SLEEPERS" >"$out" &
	lpid=$!
	wait_until "$DIST_SLEEPERS sleeping tasks" 900 grep -q '^ready' "$out" || {
		kill "$lpid"
		wait "$lpid"
		return 1
	}
	: >/tmp/klp-bench-lat.out
	# Appending: the file is emptied after each window's figures.
	"$LOAD" lat 0 "$DIST_ISO_CPU" >>/tmp/klp-bench-lat.out &
	DIST_LAT_PID=$!
	wait_until "the lat threads" 60 grep -q '^ready' /tmp/klp-bench-lat.out
	: >/tmp/klp-bench-lat.out
	procs=(/proc/[0-9]*)
	say "disturb: ${#procs[@]} processes, $(awk '/^MemAvailable:/ { printf "%d MiB available\n", $2 / 1024 }' /proc/meminfo), isolated: $(cat /sys/devices/system/cpu/isolated), nohz_full: $(cat /sys/devices/system/cpu/nohz_full 2>/dev/null)"
	if dist_trace_setup; then
		for ((rep = 1; rep <= reps; rep++)); do
			dist_rep "$rep" || break
		done
	fi
	dist_trace_teardown
	kill "$DIST_LAT_PID"
	wait "$DIST_LAT_PID"
	kill "$lpid"
	wait "$lpid"
	[[ -d $L/$DIST_PATCH ]] && disable_patch "$DIST_PATCH"
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

# --- a guest that stops --------------------------------------------------------
# The host stops a guest that printed nothing for 5 minutes and boots it
# again with the steps it finished skipped (guest() in bench.sh).  Such a
# guest of ours, in the pread2 case, said nothing at all: no RCU stall
# warning, so its CPUs were not stuck in the kernel, yet the script did not
# get on (it prints a line every minute that it waits for something,
# wait_until()).  stall_watch runs beside the script and, when it printed
# nothing for STALL_S seconds, prints once what the kernel is doing, at a
# console log level that shows it: the blocked tasks with their stacks
# (SysRq w), every CPU's backtrace (SysRq l), and where the script itself
# waits.  It forks nothing and wakes every 20 s; the host's 5 minutes start
# again after its lines.
STALL_S=120
stall_dump() {
	local level l
	read -r level _ </proc/sys/kernel/printk
	echo "KLP-BENCH: stall: nothing printed for ${STALL_S}s; blocked tasks, CPUs, the script:"
	echo 8 >/proc/sys/kernel/printk
	echo w >/proc/sysrq-trigger
	echo l >/proc/sysrq-trigger
	echo "$level" >/proc/sys/kernel/printk
	read -r l <"/proc/$BENCH_PID/wchan"
	echo "KLP-BENCH: stall: the script (pid $BENCH_PID) waits in $l:"
	while read -r l; do echo "KLP-BENCH: stall:   $l"; done <"/proc/$BENCH_PID/stack"
}
stall_watch() {
	local last now dumped=0
	while :; do
		nap 20 # fails: it times out
		read -r last <"$BEAT" || continue
		read -r now _ </proc/uptime
		if ((${now%.*} - last < STALL_S)); then
			dumped=0
		elif ((!dumped)); then
			dumped=1
			stall_dump
		fi
	done
}
BENCH_PID=$$
beat
stall_watch &
STALL_WATCH=$!

# icount_case: the cost of a call in instructions.  bench.sh boots this
# case in a guest of its own, with one vCPU that QEMU runs with -icount
# shift=0: the guest's clocks advance by one nanosecond per instruction
# executed, so the loops' "ns" are instructions, whatever the host does
# meanwhile and wherever in memory the code lands (a traced call's TCG
# time moves by +-30 % between runs and by some 10 % between two builds of
# the same code, with the path and the instructions the same).  The
# results are those of the main case with an icount_ prefix: the
# untraced call of fn_0 and its traced call, the tracer on it alone,
# each against the untraced reference loop, before and after a K=1
# patch.  Each pair takes the same instructions in every run, but for
# the timer interrupts that fall into a loop (some 0.1 %), hence 5 runs.
icount_case() {
	local RES_PREFIX=icount_ CALLS=1000000 CALL_RUNS=5
	calls_case unpatched 0 1 &&
		calls_traced_case unpatched_traced_alone 0 1 alone &&
		insmod_patch klp_bench_p1 &&
		calls_case patched 0 2 &&
		calls_traced_case patched_traced_alone 0 2 alone
}

# k_case K: enable and disable K functions, then replace them.
k_case() {
	local k=$1 rep rk obj slab vm
	for ((rep = 1; rep <= REPS[k]; rep++)); do
		((k == KMAX && rep == 1)) && mem
		obj=$MEM_OBJ slab=$MEM_SLAB vm=$MEM_VMALLOC
		enable_case "$k" "$rep" || continue
		if ((k == KMAX && rep == 1)); then
			mem_caches_save
			mem
			ENABLED_OBJ=$((MEM_OBJ - obj)) ENABLED_SLAB=$((MEM_SLAB - slab))
			ENABLED_VMALLOC=$((MEM_VMALLOC - vm))
			say "memory K=$k: enabled, by cache: $(mem_caches_grown)"
		fi
		((rep == 1 && k == 1)) && calls_case patched 0 2 &&
			calls_traced_case patched_traced 0 2 &&
			calls_traced_case patched_traced_alone 0 2 alone
		((rep == 1 && k == 1000)) && calls_case patched_k1000 0 2 &&
			calls_traced_case patched_traced_k1000 0 2 alone
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

# --- where the time of an enable goes ----------------------------------------
# One more enable of klp_bench_pKMAX (once a round, not timed with the
# others) with the function_graph tracer on the steps of each
# implementation's enable path, matched by what they do (PARTS_ours,
# PARTS_stock: row:function).  Durations are wall time, sleeps included
# (sleep-time on): what the step adds to the enable latency.  Steps nest
# (the module's init, and with it klp_enable_patch(), runs inside
# load_module(): "load" is load_module() without do_init_module()), and a
# step called more than once counts with the sum of its calls.  A step the
# compiler inlined is reported as missing and left out.
# shellcheck disable=SC2034 # read through a nameref in enable_parts()
PARTS_ours=(load:load_module init:do_init_module enable:klp_enable_patch
	symbols:klp_resolve_object sysfs:sysfs_create_dir_ns
	redirect:klp_redirect_object prepare:klp_trans_prepare
	begin:klp_trans_begin first_round:klp_trans_first_round
	finish:klp_trans_finish stubs:klp_direct_update
	pokes:text_poke_bp_batch)
# shellcheck disable=SC2034 # read through a nameref in enable_parts()
PARTS_stock=(load:load_module init:do_init_module enable:klp_enable_patch
	symbols:klp_init_object_loaded sysfs:sysfs_create_dir_ns
	redirect:klp_patch_object prepare:klp_init_transition
	begin:klp_start_transition first_round:klp_try_complete_transition
	finish:klp_complete_transition pokes:text_poke_bp_batch)

# parts_sum FUNC: "<ms> <calls>" of FUNC in the function_graph trace.
parts_sum() {
	awk -v f="$1" '
		(index($0, "/* " f " */") || index($0, " " f "();")) &&
		match($0, /[0-9]+(\.[0-9]+)? us/) {
			s += substr($0, RSTART, RLENGTH - 3); n++ }
		END { printf "%.3f %d\n", s / 1000, n }' "$T/trace"
}

enable_parts() {
	local k=$KMAX p=klp_bench_p$KMAX part f ms n line="" init_ms=0
	local -n parts=PARTS_$impl
	local -A got=()
	echo 0 >"$T/tracing_on"
	: >"$T/set_ftrace_filter"
	for part in "${parts[@]}"; do
		f=${part#*:}
		echo "$f" >>"$T/set_ftrace_filter" 2>/dev/null ||
			say "enable parts: $f cannot be traced (inlined?)"
	done
	echo 0 >"$T/max_graph_depth"
	echo function_graph >"$T/current_tracer" && echo 1 >"$T/options/funcgraph-tail" ||
		err "enable parts: function_graph tracer setup failed" || return 1
	echo 20000 >"$T/buffer_size_kb"
	mark "enable-parts-$k"
	echo 1 >"$T/tracing_on"
	insmod_patch "$p"
	echo 0 >"$T/tracing_on"
	for part in "${parts[@]}"; do
		f=${part#*:}
		read -r ms n < <(parts_sum "$f")
		((n > 0)) && got[${part%%:*}]=$ms && line+="${part%%:*} ($f) $ms ms/$n, "
	done
	[[ -n ${got[init]:-} ]] && init_ms=${got[init]}
	[[ -n ${got[load]:-} ]] &&
		got[load]=$(awk -v a="${got[load]}" -v b="$init_ms" 'BEGIN { printf "%.3f", a - b }')
	for part in "${parts[@]}"; do
		part=${part%%:*}
		[[ -n ${got[$part]:-} ]] && res "enable_part_$part" "$k" 1 "${got[$part]}"
	done
	say "enable K=$k, where the time goes: ${line%, }"
	echo nop >"$T/current_tracer"
	: >"$T/set_ftrace_filter"
	echo 1 >"$T/tracing_on"
	loaded "$p" && disable_patch "$p"
	return 0
}

# step NAME CMD...: run one part of the benchmark unless klp.skip lists it
# (a guest restarted after a stall, see harness/bench/bench.sh, skips the
# parts the stalled one finished), then tell the host it is done.
SKIP=,
for arg in "${cmdline[@]}"; do
	case $arg in klp.skip=*) SKIP=,${arg#klp.skip=}, ;; esac
done
# klp.cases=main,disturb: which cases this boot runs (bench.sh boots the
# disturbance case in a guest of its own).
CASES=,main,
for arg in "${cmdline[@]}"; do
	case $arg in klp.cases=*) CASES=,${arg#klp.cases=}, ;; esac
done
# klp.only=STEP,...: run only these steps (make bench ONLY=...).
ONLY=,
for arg in "${cmdline[@]}"; do
	case $arg in klp.only=*) ONLY=,${arg#klp.only=}, ;; esac
done
step() {
	local name=$1
	shift
	if [[ $SKIP == *",$name,"* ]]; then
		say "$name: done before the restart, skipped"
		return 0
	fi
	if [[ $ONLY != , && $ONLY != *",$name,"* ]]; then
		say "$name: not in klp.only, skipped"
		echo "KLP-BENCH-STEP-DONE $name"
		return 0
	fi
	"$@"
	echo "KLP-BENCH-STEP-DONE $name"
}

if [[ $CASES == *,main,* ]]; then
	step calls calls_case unpatched 0 1
	step calls_traced calls_traced_case unpatched_traced 0 1
	step calls_traced_alone calls_traced_case unpatched_traced_alone 0 1 alone
	for k in "${KS[@]}"; do step "k$k" k_case "$k"; done
	step parts enable_parts
	step sleep1000 trans_case sleep1000 klp_bench_p1 "$TREPS" sleep 1000
	step busy2 trans_case busy2 klp_bench_p1 "$BREPS" busy 2
	step pread2 trans_case pread2 klp_bench_psleep "$BREPS" pread 2 "$D/sleep"
	step sleep10000 trans_case sleep10000 klp_bench_p1 "$TREPS" sleep 10000
	say "transitions done at $((SECONDS - start))s"
fi
[[ $CASES == *,icount,* ]] && step icount icount_case
[[ $CASES == *,disturb,* ]] && step disturb disturb_case "$DREPS"

kill "$STALL_WATCH"
echo "KLP-BENCH-DMESG-BEGIN"
dmesg --color=never
echo "KLP-BENCH-DMESG-END"
echo "KLP-BENCH-END errors=$errors"
