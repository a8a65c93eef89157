#!/bin/bash
# Turn the console logs of a make bench run into the table (stdout and
# table.txt), results.csv, results.json and latency.png (gnuplot).
# Usage: report.sh RUN_DIR   (a directory written by harness/bench/bench.sh)
set -euo pipefail

run=${1:?usage: report.sh RUN_DIR}
[[ -f $run/info ]] || {
	echo "[klp] error: $run/info missing (not a make bench run directory?)" >&2
	exit 1
}
info_get() { sed -n "s/^$1=//p" "$run/info" | tail -n 1; }

# Kernel splats fail the run, as in harness/check-log.sh.
SPLAT_RE='\bWARNING:|\bBUG:|\bOops\b|Kernel panic|general protection fault|kernel BUG|'
SPLAT_RE+='KASAN:|UBSAN:|INFO: task .* blocked for more than|soft lockup|'
SPLAT_RE+='rcu_sched self-detected stall|RCU: .* stall|rcu: INFO: .*stall'

# Rows: id | metric[-metric] | case (* = any) | unit | target ratio | label
# [| kind] (kind "cpu": see "Speed" below).
# A metric "a-b" is the difference of the centers (see center()) of a and b.
# "@min:PREFIX_": the smallest sample of any metric starting with PREFIX_
# (a name that ends in "_"), "@min:METRIC": of METRIC alone.
# "@max:METRIC": the largest sample of METRIC in the case.
# A target "=N" is met when ours is N (the ratio does not matter).
# "@first:METRIC": for stock, center of the samples of METRIC under
# RETRY_MS; for this implementation, of all its samples (a slow one must
# count).  "@retried:METRIC": per cent of the samples at RETRY_MS or over.  For the
# sleeping-task transitions: stock checks the idle task of the other CPU
# last, and unless that CPU had a tick while stock walked the tasks (1000
# of them: ~9 ms, 2 ticks at HZ=250) the idle task has not switched yet and
# the transition waits for stock's once-a-second retry (1-1.8 s).  That
# happened in 6 of 18 samples of one run, 2 of 9 in others, more often when
# the guest runs fast; an interquartile mean of such a mix, or a median,
# moves with the share (137 ms and 17.8 ms in the 6-of-18 run, ~10 ms
# without the retries).  The row compares the first tries; the detail rows
# give the share of retried samples and the center of all samples.
# "@rel:METRIC": center of METRIC (a relative overhead, patched/unpatched - 1
# of back-to-back loops) times the cost of an unpatched call when the host
# leaves the guest alone: the fastest unpatched run of either guest
# ("@rel:METRIC~REF": of the fastest run of REF of the same kernel, e.g.
# its traced reference calls, which cost 9 % less on this implementation's
# kernel than on stock's, patch or no patch, at the same unpatched speed;
# "@rel:A-B~REF": the center of A less that of B, e.g. less the relative
# overhead of the same function before patching, when the two functions
# differ even then).  Under TCG the host's load scales all call costs;
# this ratio does not move.
#
# Speed.  Under TCG the guest runs as fast as the host lets it: a call of
# klp_bench_fn_ref(), timed right before every sample as a "speed" probe,
# took 12 to 35 ns within one run, and the median of a run's probes moved
# between 18 and 38 ns over a day on an otherwise idle host.  CPU work
# scales with it; waiting for a clock does not.  For the rows of kind "cpu"
# (this implementation's figure is CPU work, stock's mostly waiting for
# clocks: its once-a-second retry of blocked tasks, an RCU-tasks grace
# period per function) the table also gives the ratio with ours scaled to
# a guest in which the reference call takes REF_NS, by the median of all
# of ours' probes in the run; compare.sh compares that ratio where there
# is one.  The run's median follows the host's drift from one run to the
# next (one run's figures all 20 % above the last one's, its median probe
# 13 % higher); the median of one case's probes, tried before, added more
# noise than it took away, as a 40 ms probe follows the speed of the next
# few hundred milliseconds only loosely (host loop timings here vary from
# 8 to 40 ms between one 100 ms and the next).  Rows where both kernels do
# CPU work (enable K=1000, the sleeping-task transitions) are compared as
# measured: scaling each kernel by its own probes doubled the difference
# between two runs for 10000 tasks.
# The probes taken while two CPU-busy tasks run measure the contention, not
# the host: they are "speed_busy" and count for nothing here.
#
# Instructions.  The rows "in instructions" come from the icount case
# (guest-bench.sh, icount_case()): one boot per kernel in which QEMU
# advances the guest's clocks by 1 ns per instruction executed, so the
# figures are exact counts, the same in every run.  Under TCG time a path
# that both kernels run alike (a traced call of a patched function: ftrace's
# list of ops, then the livepatch handler) came out anywhere from 0.66 to
# 1.15 of stock in full runs; its instructions do not move.
rows() {
	cat <<'EOF'
call_unpatched|@min:call_ref_|0|ns||call cost, unpatched (fastest run)
call_overhead|@rel:call_rel_patched|0|ns|0.1|call overhead, K=1 patched
call_overhead_k1000|@rel:call_rel_patched_k1000|0|ns|0.1|call overhead, K=1000 patched
call_overhead_traced|@rel:call_rel_patched_traced_alone-call_rel_unpatched_traced_alone|0|ns||call overhead, K=1, function tracer on it (TCG time)
icount_overhead|icount_call_patched-icount_call_unpatched|0|insn|0.1|call overhead, K=1 patched, in instructions
icount_overhead_traced|icount_call_patched_traced_alone-icount_call_unpatched_traced_alone|0|insn|1.0|call overhead, K=1, function tracer on it, in instructions
call_overhead_traced_k1000|@rel:call_rel_patched_traced_k1000-call_rel_unpatched_traced_alone|0|ns|1.0|call overhead, K=1000, function tracer on it
enable_1|enable|1|ms||enable latency, K=1|cpu
enable_10|enable|10|ms||enable latency, K=10|cpu
enable_100|enable|100|ms||enable latency, K=100|cpu
enable_1000|enable|1000|ms|0.1|enable latency, K=1000
disable_1|disable|1|ms||disable latency, K=1|cpu
disable_10|disable|10|ms||disable latency, K=10|cpu
disable_100|disable|100|ms|0.05|disable latency, K=100|cpu
disable_1000|disable|1000|ms|0.01|disable latency, K=1000|cpu
replace_100|replace|100|ms||replace latency, K=100|cpu
replace_1000|replace|1000|ms|0.02|replace latency, K=1000|cpu
trans_sleep1000|@first:transition|sleep1000|ms|1.0|transition, 1000 sleeping tasks, stock 1st tries
trans_sleep10000|@first:transition|sleep10000|ms||transition, 10000 sleeping tasks, stock 1st tries
trans_busy2|transition|busy2|ms|1.0|transition, 2 CPU-busy tasks|cpu
trans_pread2|transition|pread2|ms|0.1|transition, 2 tasks asleep in patched fn
mem_slab|mem_slab|*|B|0.5|slab bytes per patched function
mem_vmalloc|mem_vmalloc|*|B||vmalloc bytes per patched function
-|||||disturbance: 10000 tasks, 100 in a patched fn released 20 ms apart; 3 vCPUs, CPU 2 isolated
disturb_cpu_ms|disturb_cpu|disturb|ms|1.0|CPU time of livepatch work in the transition
disturb_tasklist_hold_us|disturb_tasklist_hold|disturb|us|0.1|longest tasklist_lock hold by livepatch
disturb_tasklist_hold_mean_us|disturb_tasklist_hold_mean|disturb|us||mean tasklist_lock hold by livepatch
disturb_wakeup_max_us|disturb_wakeup_max|disturb|us|1.0|1 ms timer thread, CPU 0: worst lateness
disturb_wakeup_p99_us|disturb_wakeup_p99|disturb|us||1 ms timer thread, CPU 0: p99 lateness
disturb_wakeup_max_idle_us|disturb_wakeup_max_idle|disturb|us||  the same thread idle: worst lateness
disturb_wakeup_p99_idle_us|disturb_wakeup_p99_idle|disturb|us||  the same thread idle: p99 lateness
disturb_wakeup_max_iso_us|disturb_wakeup_max_iso|disturb|us|1.0|1 ms timer thread, isolated CPU 2: worst lateness
disturb_wakeup_p99_iso_us|disturb_wakeup_p99_iso|disturb|us||1 ms timer thread, isolated CPU 2: p99 lateness
disturb_wakeup_max_iso_idle_us|disturb_wakeup_max_iso_idle|disturb|us||  the same thread idle: worst lateness
disturb_wakeup_p99_iso_idle_us|disturb_wakeup_p99_iso_idle|disturb|us||  the same thread idle: p99 lateness
disturb_isolated_events|@max:disturb_isolated|disturb|n|=0|livepatch work items + IPIs on CPU 2, worst sample
disturb_transition_ms|disturb_transition|disturb|ms|0.1|transition end after the last release
-|||||details
enable_part_load_ms|enable_part_load|*|ms||enable K=max, where the time goes: module load (without its init)
enable_part_enable_ms|enable_part_enable|*|ms||  klp_enable_patch() in all
enable_part_symbols_ms|enable_part_symbols|*|ms||  symbols of the functions (and relocations)
enable_part_sysfs_ms|enable_part_sysfs|*|ms||  sysfs directories (module load included)
enable_part_redirect_ms|enable_part_redirect|*|ms||  ftrace redirection of the functions
enable_part_prepare_ms|enable_part_prepare|*|ms||  transition set-up (task states)
enable_part_begin_ms|enable_part_begin|*|ms||  transition start (stock: marking every task)
enable_part_first_round_ms|enable_part_first_round|*|ms||  first round(s) of stack checks, with the end
enable_part_finish_ms|enable_part_finish|*|ms||    of which the transition's end
enable_part_stubs_ms|enable_part_stubs|*|ms||  stubs of the call sites rewritten (ours)
enable_part_pokes_ms|enable_part_pokes|*|ms||  batches of code changes (text_poke_bp_batch)
disturb_transition_total_ms|disturb_transition_total|disturb|ms||disturbance: enable to transition end
disturb_tasklist_holds|disturb_tasklist_holds|disturb|n||tasklist_lock holds by livepatch in a transition
disturb_cpu_probed_ms|disturb_cpu_probed|disturb|ms||CPU time of livepatch work, tasklist_lock probes on
disturb_patching_ipis|disturb_patching_ipis|disturb|n||ftrace code patching IPIs to CPU 2 (not counted)
call_rel_patched|call_rel_patched|0|x||relative call overhead, K=1 (patched/unpatched - 1)
call_rel_patched_k1000|call_rel_patched_k1000|0|x||relative call overhead, K=1000
call_rel_patched_traced|call_rel_patched_traced|0|x||relative call overhead, K=1, traced
call_rel_unpatched|call_rel_unpatched|0|x||relative call overhead before patching (~0)
call_rel_unpatched_traced|call_rel_unpatched_traced|0|x||relative call overhead before patching, traced (~0)
call_traced_pair|@rel:call_rel_patched_traced-call_rel_unpatched_traced~call_ref_patched_traced|0|ns||call overhead, K=1, traced, traced reference
call_traced_patched_rel|@rel:call_rel_patched_traced_alone|0|ns||traced call of the patched function less an untraced call, K=1
call_traced_unpatched_rel|@rel:call_rel_unpatched_traced_alone|0|ns||  the same before patching
icount_call_unpatched|icount_call_unpatched|0|insn||instructions of an unpatched call (icount; the loop's included)
icount_call_traced|icount_call_unpatched_traced_alone|0|insn||  of the same call, traced
icount_call_patched_traced|icount_call_patched_traced_alone|0|insn||  of the same call, traced, K=1 patched
call_traced_k1000|call_patched_traced_k1000|0|ns||traced call of a function of a K=1000 patch
call_traced_unpatched|call_unpatched_traced_alone|0|ns||the same before patching (only it traced)
call_traced_ref|@min:call_ref_patched_traced|0|ns||traced call of the reference function (fastest run)
call_median_unpatched|call_unpatched|0|ns||call cost, unpatched (typical, host load)
call_median_patched|call_patched|0|ns||call cost, patched K=1 (typical, host load)
retried_sleep1000|@retried:transition|sleep1000|%||1000 sleeping tasks: samples of 500 ms or more
retried_sleep10000|@retried:transition|sleep10000|%||10000 sleeping tasks: samples of 500 ms or more
all_sleep1000|transition|sleep1000|ms||1000 sleeping tasks, all samples
all_sleep10000|transition|sleep10000|ms||10000 sleeping tasks, all samples
speed_sleep1000|speed|sleep1000|ns||unpatched call during 1000-task runs (host load)
speed_busy2|speed_busy|busy2|ns||unpatched call during busy-task runs (host load)
speed|@speed|*|ns||guest speed: reference call, median of the probes
disable_complete_1|disable_complete|1|ms||disable to 'unpatching complete', K=1
disable_complete_10|disable_complete|10|ms||disable to 'unpatching complete', K=10
disable_complete_100|disable_complete|100|ms||disable to 'unpatching complete', K=100
disable_complete_1000|disable_complete|1000|ms||disable to 'unpatching complete', K=1000
replace_complete_100|replace_complete|100|ms||replace to 'patching complete', K=100
replace_complete_1000|replace_complete|1000|ms||replace to 'patching complete', K=1000
mem_meminfo_slab|mem_meminfo_slab|*|B||meminfo Slab: bytes per patched function
EOF
}

# Samples at least this long (ms) of the sleeping-task transitions needed
# a retry; see rows().
RETRY_MS=500

# The reference guest speed of the adjusted ratios: ns per call of
# klp_bench_fn_ref(), about what an idle host of this machine class gives.
REF_NS=20

logs=()
for impl in ours stock; do
	logs+=("$run/guest-$impl.log")
	[[ -f $run/guest-$impl.log ]] || : >"$run/guest-$impl.log"
done

date=$(info_get date) accel=$(info_get accel) profile=$(info_get profile)
header="make bench ($profile), $date, guest: $accel, 2 vCPUs, $(info_get guest_mem), $(r=$(info_get rounds); echo "${r:-1}") round(s) per kernel; host: $(info_get host)"

rows | awk -F'|' -v OFMT='%.10g' -v CONVFMT='%.10g' -v run="$run" -v header="$header" \
	-v date="$date" -v accel="$accel" -v profile="$profile" \
	-v kours="$(info_get kernel_ours)" -v kstock="$(info_get kernel_stock)" \
	-v commit="$(info_get commit)" -v splat_re="$SPLAT_RE" -v rounds="$(info_get rounds)" \
	-v boots="$(info_get boots)" \
	-v REF_NS="$REF_NS" -v RETRY_MS="$RETRY_MS" '
function caseof(impl, metric) {
	return ((impl, metric) in anycase) ? anycase[impl, metric] : ""
}
# minof(impl, prefix): smallest sample of the metrics starting with prefix
# (one that ends in "_"; else of the metric prefix alone), of impl or ("")
# of both.
function minof(impl, prefix,    key, k, n, a, i, best) {
	best = ""
	for (key in samples) {
		split(key, k, SUBSEP)
		if ((impl != "" && k[1] != impl) || index(k[2], prefix) != 1 ||
		    (prefix !~ /_$/ && k[2] != prefix))
			continue
		n = split(samples[key], a, " ")
		for (i = 1; i <= n; i++)
			if (best == "" || a[i] + 0 < best + 0)
				best = a[i]
	}
	return best == "" ? "" : best + 0
}
# sortsamples(list, a): split the space-separated list into a[1..n],
# ascending (insertion sort: a few dozen samples); returns n.
function sortsamples(list, a,    n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n
}
# medianof(impl, metric, case): median of the samples of metric in case,
# or of every case if case is "" or has none.
function medianof(impl, metric, c,    key, k, n, a, all) {
	all = ""
	if (c != "" && (impl SUBSEP metric SUBSEP c) in samples)
		all = samples[impl, metric, c]
	else
		for (key in samples) {
			split(key, k, SUBSEP)
			if (k[1] == impl && k[2] == metric)
				all = all (all == "" ? "" : " ") samples[key]
		}
	n = sortsamples(all, a)
	if (n == 0)
		return ""
	return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function maxof(list,    n, a) {
	n = sortsamples(list, a)
	return n ? a[n] + 0 : ""
}
function getsamples(key) {
	return (key in samples) ? samples[key] : ""
}
# center(key): the interquartile mean of the samples: sorted, the lowest
# and the highest quarter (n/4 rounded, so the median of 3; none of 2)
# dropped, the rest averaged.  A median flips between the two modes of the
# stock kernel with its once-a-second retries; a plain mean follows one stray sample.
function center(key) {
	return (key in samples) ? centerof(samples[key]) : ""
}
function centerof(list,    n, a, i, d, s) {
	n = sortsamples(list, a)
	if (n == 0)
		return ""
	d = int(n / 4 + 0.5)
	if (n - 2 * d < 1)
		d = int((n - 1) / 2)
	s = 0
	for (i = d + 1; i <= n - d; i++)
		s += a[i]
	return s / (n - 2 * d)
}
# value(impl, metric, case): center, difference of two centers, minimum
# (@min:) or relative overhead in ns (@rel:); see rows().
function value(impl, metric, c,    m, x, y, k) {
	if (c == "*")
		c = ((impl, metric) in anycase) ? anycase[impl, metric] : ""
	if (metric ~ /^@min:/)
		return minof(impl, substr(metric, 6))
	if (metric ~ /^@max:/)
		return maxof(getsamples(impl SUBSEP substr(metric, 6) SUBSEP c))
	if (metric == "@speed")
		return medianof(impl, "speed", "")
	if (metric ~ /^@rel:/) {
		split(substr(metric, 6), m, "~")
		y = (2 in m) ? minof(impl, m[2]) : minof("", "call_ref_")
		if (split(m[1], k, "-") == 2) {
			x = center(impl SUBSEP k[1] SUBSEP c)
			k[3] = center(impl SUBSEP k[2] SUBSEP c)
			x = (x == "" || k[3] == "") ? "" : x - k[3]
		} else {
			x = center(impl SUBSEP m[1] SUBSEP c)
		}
		return (x == "" || y == "") ? "" : x * y
	}
	if (metric ~ /^@(first|retried):/)
		return firsttry(impl SUBSEP substr(metric, index(metric, ":") + 1) SUBSEP c,
				metric ~ /^@retried:/)
	if (index(metric, "-")) {
		split(metric, m, "-")
		x = center(impl SUBSEP m[1] SUBSEP c)
		y = center(impl SUBSEP m[2] SUBSEP c)
		return (x == "" || y == "") ? "" : x - y
	}
	return center(impl SUBSEP metric SUBSEP c)
}
# firsttry(key, share): center of the stock samples under RETRY_MS, or of
# all of ours (share == 0), or the per cent of samples at RETRY_MS or over
# (share == 1); see rows().
function firsttry(key, share,    n, a, i, fast, nslow) {
	if (!(key in samples))
		return ""
	if (!share && key !~ /^stock/)
		return center(key)
	n = split(samples[key], a, " ")
	fast = ""; nslow = 0
	for (i = 1; i <= n; i++)
		if (a[i] + 0 < RETRY_MS)
			fast = fast (fast == "" ? "" : " ") a[i]
		else
			nslow++
	return share ? 100 * nslow / n : centerof(fast)
}
function fmt(v,    a) {
	if (v == "")
		return "n/a"
	a = v < 0 ? -v : v
	if (a >= 100) return sprintf("%.0f", v)
	if (a >= 10) return sprintf("%.1f", v)
	if (a >= 1) return sprintf("%.2f", v)
	return sprintf("%.3f", v)
}
function ratio(a, b) {
	if (a == "" || b == "" || b == 0)
		return ""
	return a / b
}
function fmtr(r) {
	if (r == "") return "n/a"
	return (r < 0.001 && r > -0.001) ? sprintf("%.2g", r) : sprintf("%.3g", r)
}
# flush_notes IMPL: the host notes of the last stall of IMPL (pend) to the
# notes, or to the problems (a stall of this implementation that the
# emulator does not explain).
function flush_notes(impl) {
	if (impl == "stock" || emu)
		notes = notes pend
	else
		errs = errs pend
	pend = ""; emu = 0
}
function jnum(v) { return v == "" ? "null" : v }
# A ratio target is a number, "=N" (ours must be N) a string.
function jtarget(t) { return t == "" ? "null" : (t ~ /^=/ ? jstr(t) : t) }
function jstr(s) {
	gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\n/, "\\n", s); gsub(/\t/, "\\t", s)
	return "\"" s "\""
}
function jarr(s,    n, a, i, o) {
	if (s == "") return "[]"
	n = split(s, a, " ")
	o = "["
	for (i = 1; i <= n; i++) o = o (i > 1 ? ", " : "") a[i]
	return o "]"
}
BEGIN {
	if (rounds < 1)
		rounds = 1
	# Runs before the disturbance case booted once per round.
	if (boots == "")
		boots = rounds
	impls[1] = "ours"; impls[2] = "stock"
	for (i = 1; i <= 2; i++) {
		impl = impls[i]
		f = run "/guest-" impl ".log"
		ended[impl] = 0
		while ((getline line < f) > 0) {
			if (line ~ /^KLP-BENCH-DMESG-BEGIN/) indmesg = 1
			if (line ~ /^KLP-BENCH-DMESG-END/) indmesg = 0
			if (line ~ splat_re && !(impl in splat)) splat[impl] = line
			if (line ~ /^KLP-BENCH-ERROR: /) {
				nerr[impl]++
				errs = errs sprintf("  %s: %s\n", impl, substr(line, 18))
			}
			if (line ~ /^KLP-HOST: /) {
				flush_notes(impl)
				errs = errs sprintf("  %s: %s\n", impl, substr(line, 11))
			}
			# A stalled stock guest is a fault of the emulator (guest() in
			# bench.sh).  A stall of this implementation is a problem
			# unless the host dump of its vCPUs gave the verdict
			# "emulator" (stall_verdict() in bench.sh): its notes wait
			# in pend until the guest is restarted, given up or ends.
			if (line ~ /^KLP-HOST-NOTE: /) {
				pend = pend sprintf("  %s: %s\n", impl, substr(line, 16))
				if (line ~ /^KLP-HOST-NOTE: verdict: emulator /) emu = 1
			}
			if (line ~ /^KLP-HOST-NOTE: restarting the /)
				flush_notes(impl)
			if (line ~ /^KLP-BENCH-END /) ended[impl]++
			if (line !~ /^KLP-BENCH-RESULT /) continue
			split(line, w, " ")
			key = impl SUBSEP w[2] SUBSEP w[3]
			samples[key] = (key in samples ? samples[key] " " : "") w[5]
			anycase[impl, w[2]] = w[3]
		}
		close(f)
		flush_notes(impl)
		if (ended[impl] < boots)
			errs = errs sprintf("  %s: %d of %d guest runs did not finish (no KLP-BENCH-END)\n", impl, boots - ended[impl], boots)
		if (impl in splat)
			errs = errs sprintf("  %s: kernel splat: %s\n", impl, splat[impl])
	}
	csv = run "/results.csv"; json = run "/results.json"; table = run "/table.txt"
	plot = run "/latency.dat"
	print "id,metric,unit,ours,stock,ratio,ratio_ref_speed,target,ours_samples,stock_samples" > csv
	printf "{\n  \"date\": %s,\n  \"profile\": %s,\n  \"accel\": %s,\n  \"ref_speed_ns\": %s,\n", jstr(date), jstr(profile), jstr(accel), REF_NS > json
	printf "  \"kernel\": {\"ours\": %s, \"stock\": %s},\n  \"commit\": %s,\n  \"metrics\": [\n", jstr(kours), jstr(kstock), jstr(commit) > json
	sep = sprintf("%-54s %10s %10s %11s %11s %8s", "", "", "", "", "", "")
	gsub(/ /, "-", sep)
	out = header "\n"
	out = out sprintf("%-54s %10s %10s %11s %11s %8s\n", "metric", "ours", "stock", "ours/stock",
		"at " REF_NS " ns", "target") sep "\n"
	nrows = 0
}
$1 == "-" { out = out sprintf("%s (%s)\n", sep, $6); next }
{
	id = $1; metric = $2; c = $3; unit = $4; target = $5; label = $6
	if (c == "*") {
		kk = caseof("ours", metric)
		if (kk == "")
			kk = caseof("stock", metric)
		if (kk != "")
			label = label ", K=" kk
	}
	o = value("ours", metric, c); s = value("stock", metric, c)
	if (o == "" && s == "")
		next
	r = ratio(o, s)
	# The ratio at the reference guest speed (see rows()).
	rr = ""
	so = medianof("ours", "speed", "")
	if ($7 == "cpu" && r != "" && so > 0)
		rr = r * REF_NS / so
	mark = ""
	if (target ~ /^=/)
		mark = (o != "" && o + 0 == substr(target, 2) + 0) ? " ok" : " MISS"
	else if (target != "" && r != "")
		mark = (r <= target + 0) ? " ok" : " MISS"
	out = out sprintf("%-54s %10s %10s %11s %11s %8s\n", label " (" unit ")", fmt(o), fmt(s), fmtr(r),
		(rr == "" ? "" : fmtr(rr)), (target == "" ? "" : (target ~ /^=/ ? "" : "<=") target mark))
	cm = metric; if (index(cm, "-")) cm = ""
	if (cm ~ /^@(rel|first|retried|max):/) cm = substr(cm, index(cm, ":") + 1)
	if (cm ~ /^@min:/) cm = ""
	os = (cm == "") ? "" : getsamples("ours" SUBSEP cm SUBSEP (c == "*" ? caseof("ours", cm) : c))
	ss = (cm == "") ? "" : getsamples("stock" SUBSEP cm SUBSEP (c == "*" ? caseof("stock", cm) : c))
	printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", id, "\"" label "\"", unit, o, s, r, rr, target, os, ss > csv
	printf "%s    {\"id\": %s, \"metric\": %s, \"unit\": %s, \"ours\": %s, \"stock\": %s, \"ratio\": %s, \"ratio_ref_speed\": %s, \"target\": %s, \"ours_samples\": %s, \"stock_samples\": %s}",
		(nrows++ ? ",\n" : ""), jstr(id), jstr(label), jstr(unit), jnum(o), jnum(s), jnum(r), jnum(rr),
		jtarget(target), jarr(os), jarr(ss) > json
	byid = byid sprintf("%s    %s: {\"ours\": %s, \"stock\": %s, \"ratio\": %s, \"target\": %s, \"met\": %s}",
		(byid == "" ? "" : ",\n"), jstr(id), jnum(o), jnum(s), jnum(r), jtarget(target),
		(mark == "" ? "null" : (mark == " ok" ? "true" : "false")))
	if (id ~ /^(enable|disable|replace)_[0-9]+$/) {
		split(id, p, "_")
		lat[p[1], p[2]] = (o == "" ? "NaN" : o) " " (s == "" ? "NaN" : s)
	}
}
END {
	# The same figures keyed by row id (disturb_cpu_ms, ...).
	printf "\n  ],\n  \"by_id\": {\n%s\n  },\n", byid > json
	printf "  \"errors\": %s,\n  \"notes\": %s\n}\n", jstr(errs), jstr(notes) > json
	out = out sep "\n"
	if (notes != "")
		out = out "notes (see guest() in harness/bench/bench.sh):\n" notes
	if (errs != "")
		out = out "problems:\n" errs
	printf "%s", out
	printf "%s", out > table
	print "# K enable_ours enable_stock disable_ours disable_stock replace_ours replace_stock" > plot
	split("1 10 100 1000", ks, " ")
	for (i = 1; i <= 4; i++) {
		k = ks[i]
		e = ((("enable", k) in lat) ? lat["enable", k] : "NaN NaN")
		d = ((("disable", k) in lat) ? lat["disable", k] : "NaN NaN")
		x = ((("replace", k) in lat) ? lat["replace", k] : "NaN NaN")
		if (e == "NaN NaN" && d == "NaN NaN" && x == "NaN NaN")
			continue
		print k, e, d, x > plot
	}
	exit (errs != "")
}' || status=$?

# --- plot -------------------------------------------------------------------
if ! command -v gnuplot >/dev/null; then
	echo "[klp] installing gnuplot-nox for the plot"
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq || true
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
		--no-install-recommends gnuplot-nox >/dev/null ||
		echo "[klp] warning: could not install gnuplot-nox: no plot" >&2
fi
# Nothing to plot when only the disturbance case ran.
if command -v gnuplot >/dev/null && grep -qv '^#' "$run/latency.dat"; then
	term="pngcairo size 1000,700 font 'sans,11'"
	gnuplot -e "set terminal pngcairo" 2>/dev/null </dev/null ||
		term="png size 1000,700"
	kmax=$(awk '!/^#/ { k = $1 } END { print (k == "" ? 1000 : k) }' "$run/latency.dat")
	gnuplot 2>"$run/gnuplot.log" <<EOF || { cat "$run/gnuplot.log" >&2; echo "[klp] warning: gnuplot failed" >&2; }
set terminal $term
set output '$run/latency.png'
set title "livepatch enable / disable / replace latency vs number of patched functions\\n$header"
set logscale xy
set xlabel 'K (patched functions)'
set ylabel 'latency (ms, in-kernel timestamps, interquartile mean)'
set xrange [0.7:$((kmax * 3 / 2))]
set xtics ('1' 1, '10' 10, '100' 100, '1000' 1000)
set format y '10^{%L}'
set grid xtics ytics mytics
set key top left box opaque
set datafile missing 'NaN'
plot '$run/latency.dat' using 1:3 with linespoints lw 2 pt 7 lc rgb '#1f77b4' dt 2 title 'enable, stock', \\
     '' using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' dt 1 title 'enable, ours', \\
     '' using 1:5 with linespoints lw 2 pt 5 lc rgb '#d62728' dt 2 title 'disable, stock', \\
     '' using 1:4 with linespoints lw 2 pt 5 lc rgb '#d62728' dt 1 title 'disable, ours', \\
     '' using 1:7 with linespoints lw 2 pt 9 lc rgb '#2ca02c' dt 2 title 'replace, stock', \\
     '' using 1:6 with linespoints lw 2 pt 9 lc rgb '#2ca02c' dt 1 title 'replace, ours'
EOF
fi

echo "[klp] table: $run/table.txt"
echo "[klp] data:  $run/results.csv $run/results.json"
[[ -f $run/latency.png ]] && echo "[klp] plot:  $run/latency.png"
echo "[klp] guest logs: $run/guest-ours.log $run/guest-stock.log"
pinning=$(info_get disturb_pinning)
if [[ -n $pinning ]] && grep -q '^disturb_rounds=[1-9]' "$run/info"; then
	echo "[klp] disturbance guests' vCPUs: $pinning"
	# A boot left unpinned compares its kernel under other conditions.
	if [[ $pinning != none ]]; then
		for impl in ours stock; do
			# Only the kernels the run booted (KLP_BENCH_IMPLS).
			[[ -s $run/guest-$impl.log ]] || continue
			n=$(grep -c "^$impl .*: vCPU .* on host CPU" "$run/pinning" 2>/dev/null || true)
			if ((${n:-0} < $(info_get disturb_rounds))) || grep -q "^$impl .*NOT PINNED" "$run/pinning" 2>/dev/null; then
				echo "[klp] problem: $impl: ${n:-0} disturbance boots pinned of $(info_get disturb_rounds) ($run/pinning)"
				grep "^$impl .*NOT PINNED" "$run/pinning" 2>/dev/null | sed 's/^/[klp]   /' || true
				status=${status:-1}
			fi
		done
	fi
fi
while IFS='=' read -r k v; do
	case $k in build_s | guest_s_* | total_s) echo "[klp] $k: ${v}s" ;; esac
done <"$run/info"
exit "${status:-0}"
