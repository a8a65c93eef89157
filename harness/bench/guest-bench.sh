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
case $profile in
quick)
	KS=(1 10 100) RKS=(100) REPS=2 RREPS=2 TREPS=1 CALL_RUNS=5 CALLS=1000000
	;;
*)
	profile=full
	KS=(1 10 100 1000) RKS=(100 1000) REPS=3 RREPS=3 TREPS=3 CALL_RUNS=9
	CALLS=2000000
	;;
esac
KMAX=${KS[-1]}

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

# wait_until DESC SECONDS CMD...: poll CMD every 20 ms until it succeeds.
wait_until() {
	local desc=$1 secs=$2 start=$SECONDS
	shift 2
	until "$@"; do
		((SECONDS - start > secs)) && {
			err "timed out after ${secs}s waiting for $desc"
			return 1
		}
		nap 0.02
	done
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
	wait_until "the $p transition" "$TMO" sysfs_is "$L/$p/transition" 0 ||
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
# calls_case NAME IDX EXPECT: CALL_RUNS runs of CALLS calls of fn_IDX.
calls_case() {
	local name=$1 idx=$2 expect=$3 r n ns ret
	for ((r = 1; r <= CALL_RUNS; r++)); do
		echo "$idx $CALLS" >"$D/calls" || {
			err "call loop failed"
			return 1
		}
		read -r _ n ns ret <"$D/calls"
		[[ $ret == "$expect" ]] ||
			err "call_$name: klp_bench_fn_$idx returned $ret, expected $expect"
		res "call_$name" "$idx" "$r" "$(awk -v a="$ns" -v b="$n" 'BEGIN { printf "%.3f\n", a / b }')"
	done
}

# --- metric 6: memory --------------------------------------------------------
# mem: "<meminfo Slab> <slabinfo active object bytes> <VmallocUsed>" in bytes,
# after reclaimable slab was dropped and RCU frees settled.
mem() {
	local s v a
	sync
	echo 2 >/proc/sys/vm/drop_caches
	nap 1
	read -r s v < <(awk '/^Slab:/ { s = $2 } /^VmallocUsed:/ { v = $2 }
		END { print s * 1024, v * 1024 }' /proc/meminfo)
	a=$(awk 'NR > 2 { t += $2 * $4 } END { printf "%d\n", t }' /proc/slabinfo 2>/dev/null)
	echo "$s ${a:-0} $v"
}

# --- metrics 2 and 3: enable and disable -------------------------------------
enable_case() {
	local k=$1 rep=$2 p=klp_bench_p$1 t0 t1 v
	mark "enable-$k-$rep"
	insmod_patch "$p" || return 1
	read -r t0 t1 < <(klog_times "$p: calling klp_enable_patch()" "'$p': patching complete")
	if v=$(ms "$t0" "$t1"); then res enable "$k" "$rep" "$v"; else err "enable K=$k: log lines not found"; fi
	expect_fn 0 2 "K=$k patched"
	expect_fn $((k - 1)) $(((k - 1) * 7 + 2)) "K=$k patched"
	((k < 1000)) && expect_fn "$k" $((k * 7 + 1)) "K=$k patched"
	return 0
}

disable_case() {
	local k=$1 rep=$2 p=klp_bench_p$1 t0 t1 tf v
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
	insmod_patch "$p" || return 1
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
# trans_case NAME PATCH MODE N [FILE]: start N klp-bench-load tasks, then
# time the patching transition of PATCH.
trans_case() {
	local name=$1 p=$2 mode=$3 n=$4 file=${5:-} rep=$6 lpid t0 t1 v out=/tmp/klp-bench-load.out
	local args=("$mode" "$n")
	[[ -n $file ]] && args+=("$file")
	: >"$out"
	"$LOAD" "${args[@]}" >"$out" &
	lpid=$!
	wait_until "$n $mode tasks" 900 grep -q '^ready' "$out" || {
		kill "$lpid"
		wait "$lpid"
		return 1
	}
	[[ $(<"$out") == "ready $n" ]] || err "$name: klp-bench-load: $(<"$out")"
	# Let the tasks settle in their loops.
	nap 1
	if ((rep == 1)); then
		local procs=(/proc/[0-9]*)
		say "$name: ${#procs[@]} processes, $(awk '/^MemAvailable:/ { printf "%d MiB available\n", $2 / 1024 }' /proc/meminfo)"
	fi
	mark "trans-$name-$rep"
	insmod_patch "$p"
	read -r t0 t1 < <(klog_times "'$p': starting patching transition" "'$p': patching complete")
	if v=$(ms "$t0" "$t1"); then res transition "$name" "$rep" "$v"; else err "transition $name: log lines not found"; fi
	if [[ $p == klp_bench_psleep ]]; then
		read -r v <"$D/sleep"
		[[ $v == 2 ]] || err "$name: klp_bench_sleep_fn returned '$v', expected 2"
	else
		expect_fn 0 2 "$name"
	fi
	kill "$lpid"
	wait "$lpid"
	[[ -d $L/$p ]] && disable_patch "$p"
	return 0
}

# --- main -------------------------------------------------------------------
say "profile=$profile kernel=$(uname -r) cpus=$(nproc) mem=$(awk '/^MemTotal:/ { print int($2 / 1024) "MiB" }' /proc/meminfo) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg -n 1
ulimit -u unlimited
echo 200000 >/proc/sys/kernel/threads-max
echo 131072 >/proc/sys/kernel/pid_max
[[ -d $T ]] || mount -t tracefs tracefs "$T"
echo perf >"$T/trace_clock" || err "trace_clock perf unavailable"
echo 1 >"$T/events/module/module_put/enable" || err "no module:module_put event"
insmod "$MOD/klp_bench_target.ko" || {
	err "insmod klp_bench_target failed"
	echo "KLP-BENCH-END errors=$errors"
	exit 1
}
start=$SECONDS

calls_case unpatched 0 1
for k in "${KS[@]}"; do
	for ((rep = 1; rep <= REPS; rep++)); do
		if ((k == KMAX && rep == 1)); then
			read -r m0s m0a m0v < <(mem)
		fi
		enable_case "$k" "$rep" || continue
		if ((k == KMAX && rep == 1)); then
			read -r m1s m1a m1v < <(mem)
		fi
		((rep == 1 && k == 1)) && calls_case patched 0 2
		((rep == 1 && k == 1000)) && calls_case patched_k1000 0 2
		disable_case "$k" "$rep"
		if ((k == KMAX && rep == 1)); then
			# The module's own share: the same module loaded, not enabled.
			read -r m2s m2a m2v < <(mem)
			if insmod "$MOD/klp_bench_p$k.ko" noenable=1; then
				read -r m3s m3a m3v < <(mem)
				rmmod "klp_bench_p$k" || err "rmmod klp_bench_p$k (noenable) failed"
				res mem_slab "$k" 1 $((((m1s - m0s) - (m3s - m2s)) / k))
				res mem_slabinfo "$k" 1 $((((m1a - m0a) - (m3a - m2a)) / k))
				res mem_vmalloc "$k" 1 $((((m1v - m0v) - (m3v - m2v)) / k))
				say "memory K=$k: slab +$((m1s - m0s)) (module alone +$((m3s - m2s))), slabinfo +$((m1a - m0a)) (+$((m3a - m2a))), vmalloc +$((m1v - m0v)) (+$((m3v - m2v))) bytes"
			else
				err "insmod klp_bench_p$k noenable=1 failed"
			fi
		fi
	done
	for rk in "${RKS[@]}"; do
		((rk == k)) || continue
		for ((rep = 1; rep <= RREPS; rep++)); do replace_case "$k" "$rep"; done
	done
	say "K=$k done at $((SECONDS - start))s"
done

for ((rep = 1; rep <= TREPS; rep++)); do
	trans_case sleep1000 klp_bench_p1 sleep 1000 "" "$rep"
	trans_case busy2 klp_bench_p1 busy 2 "" "$rep"
	trans_case pread2 klp_bench_psleep pread 2 "$D/sleep" "$rep"
	trans_case sleep10000 klp_bench_p1 sleep 10000 "" "$rep"
done
say "transitions done at $((SECONDS - start))s"

echo "KLP-BENCH-DMESG-BEGIN"
dmesg --color=never
echo "KLP-BENCH-DMESG-END"
echo "KLP-BENCH-END errors=$errors"
