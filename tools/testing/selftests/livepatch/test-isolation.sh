#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# CPU isolation: patch operations leave isolated (isolcpus=, nohz_full=)
# CPUs alone.  The guest needs two CPUs that are in both lists
# (harness/run-tests.sh boots this test in a guest of its own with four
# CPUs and "isolcpus=2,3 nohz_full=2,3 irqaffinity=0-1 rcu_nocbs=2,3"); the
# first of them (BUSY) runs a user-space loop pinned there, which enters
# the kernel only for a system call now and then (it reads /proc/uptime
# every 100000 iterations, as an isolated workload that polls in user space
# and reports now and then does), the second (IDLE) stays idle.  The busy
# task switches on its way back from such a call.  A task that never
# enters the kernel at all can only be switched by interrupting it: a
# transition leaves it alone until the fake signal 15 s after its start,
# which does interrupt it (as on stock 6.1; livepatch.rst, "Signals and
# wake-ups"), so such a task is not what this test runs.  The loop runs
# during the measured phases only; between them it is stopped (SIGSTOP),
# and each phase starts once it runs on BUSY again.
#
# Six transitions are measured one at a time: enabling a patch, disabling
# it, an atomic replace of a patch by a cumulative one, disabling that, a
# patching transition held open by a task asleep in the patched function
# (released after 1.5 s, so that the transition goes through several
# rounds of retries), and disabling that patch.  For each, from the start
# of the operation to the end of its transition, tracefs records:
#   - workqueue:workqueue_execute_start on every CPU (which work ran where),
#     and workqueue:workqueue_queue_work towards the isolated CPUs with the
#     stack of whoever queued it;
#   - every reschedule IPI and every call-function IPI sent towards the
#     isolated CPUs (kprobes on native_smp_send_reschedule(),
#     native_send_call_func_single_ipi() and native_send_call_func_ipi()),
#     and sched:sched_wake_idle_without_ipi towards them (an idle CPU
#     polling need_resched is woken without an IPI: still a wake-up), each
#     with the sender's stack (the "stacktrace" trigger);
#   - the RES, CAL and TLB counts of the isolated CPUs in /proc/interrupts.
# A work item is livepatch's when its function is a klp_ function or its
# queueing stack runs through one; an IPI or wake-up is livepatch's when
# the sender's stack runs through a klp_ function, except code patching:
# text_poke_bp() (ftrace rewriting the call sites of the patched
# functions, ftrace_modify_all_code()) synchronises every online CPU with
# an IPI, as does ftrace when it changes the function its call sites
# call (ftrace_sync_ipi()), and ftrace's own
# trampoline for an ftrace_ops, made read-only when the ops is registered,
# flushes the kernel TLB on every CPU (set_memory_ro() purging lazily
# unmapped areas): any live patching implementation pays these, they are
# ftrace's, not the transition's, and they are counted apart ("code
# patching") and not held against livepatch.
#
# Asserted, for every transition (exact counts):
#   - 0 livepatch work items ran on, or were queued to, the isolated CPUs;
#   - 0 livepatch IPIs reached BUSY;
#   - at most 1 livepatch wake-up (IPI or not) reached IDLE: its idle task
#     switches itself as it passes through the idle loop once;
#   - every RES and CAL interrupt that /proc/interrupts counted on an
#     isolated CPU was sent by a traced sender (RES <= traced reschedule
#     IPIs, CAL <= traced call-function IPIs, TLB <= CAL), so nothing
#     reached those CPUs unseen;
# and over the whole test that the probes saw something (livepatch work
# items on housekeeping CPUs, code-patching IPIs to both isolated CPUs:
# the measurement works), that every transition completed, and that the
# busy task is still on BUSY, alone allowed there, and got CPU time.
#
# Stock 6.1 runs a work item of its transition on every CPU
# (schedule_on_each_cpu() in klp_synchronize_transition()) and wakes idle
# CPUs in each of its once-a-second retries: on stock the isolation
# assertions give one SKIP line, which names the first one that failed,
# and the test goes on; the others hold there too.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

LP=test_klp_livepatch
AR=test_klp_atomic_replace
T=test_klp_target
P=test_klp_holdpatch
PROC=/proc/$T
KP=klpiso

klp_setup
klp_require_mod "$LP" "$AR" "$T" "$P"
command -v taskset > /dev/null || skip "taskset not available"
klp_mod_loaded "$T" && die "$T is already loaded"

# cpulist_to_words LIST: "2-3,5" -> "2 3 5" in REPLY.
cpulist_to_words() {
	local part lo hi words=""
	local -a parts
	IFS=, read -ra parts <<< "$1"
	for part in "${parts[@]}"; do
		[[ $part =~ ^([0-9]+)(-([0-9]+))?$ ]] || continue
		lo=${BASH_REMATCH[1]} hi=${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}
		for ((; lo <= hi; lo++)); do words+=" $lo"; done
	done
	REPLY=${words# }
}

# The isolated CPUs: online, in isolcpus= and in nohz_full=.
klp_read /sys/devices/system/cpu/isolated || REPLY=""
cpulist_to_words "$REPLY"
ISOLCPUS=" $REPLY "
klp_read /sys/devices/system/cpu/nohz_full || REPLY=""
cpulist_to_words "$REPLY"
NOHZ=" $REPLY "
klp_read /sys/devices/system/cpu/online || die "cannot read the online CPUs"
cpulist_to_words "$REPLY"
ISO=()
HOUSE=()
for c in $REPLY; do
	if [[ $ISOLCPUS == *" $c "* && $NOHZ == *" $c "* ]]; then
		ISO+=("$c")
	else
		HOUSE+=("$c")
	fi
done
((${#ISO[@]} >= 2 && ${#HOUSE[@]} >= 1)) ||
	skip "needs two online CPUs in both isolcpus= and nohz_full= and a housekeeping CPU (isolated:${ISOLCPUS% }, nohz_full:${NOHZ% }); harness/run-tests.sh boots such a guest"
BUSY=${ISO[0]} IDLE=${ISO[1]}
ISO=("$BUSY" "$IDLE")
CPU_FILTER="cpu == $BUSY || cpu == $IDLE"
KP_FILTER="target == $BUSY || target == $IDLE"

klp_tracefs || die "no tracefs with ftrace hooks"
TR=$KLP_TRACEFS
[[ -w $TR/kprobe_events && -d $TR/events/workqueue && -d $TR/events/sched ]] ||
	die "tracefs lacks kprobe events or the workqueue/sched events"
grep -q "^$KP/\|^p:$KP/" "$TR/kprobe_events" && die "kprobe events $KP/ already exist"

# ---------------------------------------------------------------------------
# Tracing set-up and clean-up.

EV_WQS=$TR/events/workqueue/workqueue_execute_start
EV_WQQ=$TR/events/workqueue/workqueue_queue_work
EV_WAKE=$TR/events/sched/sched_wake_idle_without_ipi
klp_read "$TR/tracing_on"
SAVED_TRACING_ON=$REPLY

# trace_off: (exit trap too) stop tracing, remove triggers, filters, events
# and the kprobes.
# shellcheck disable=SC2317 # called through klp_at_exit
trace_off() {
	local e
	echo 0 > "$TR/tracing_on"
	for e in "$EV_WQS" "$EV_WQQ" "$EV_WAKE" "$TR/events/$KP"/*/; do
		[[ -d $e ]] || continue
		echo 0 > "$e/enable"
		[[ -e $e/trigger ]] && echo '!stacktrace' > "$e/trigger"
		[[ -e $e/filter ]] && echo 0 > "$e/filter"
	done
	for e in res cfs cfm; do
		echo "-:$KP/$e" >> "$TR/kprobe_events"
	done
	echo > "$TR/trace"
	echo "$SAVED_TRACING_ON" > "$TR/tracing_on"
	return 0
} 2> /dev/null
klp_at_exit trace_off

echo 0 > "$TR/tracing_on"
{
	echo "p:$KP/res native_smp_send_reschedule target=%di:s32"
	echo "p:$KP/cfs native_send_call_func_single_ipi target=%di:s32"
	echo "p:$KP/cfm native_send_call_func_ipi mask=+0(%di):u64"
} >> "$TR/kprobe_events" || die "cannot add kprobe events on the IPI senders"
# trace_event DIR FILTER: record event DIR (only when FILTER holds, if
# given) with the stack of the task that hit it (if STACK is 1).
trace_event() {
	local dir=$1 filter=$2 stack=$3
	if [[ -n $filter ]]; then
		echo "$filter" > "$dir/filter" || die "cannot set the filter '$filter' of $dir"
	fi
	if ((stack)); then
		echo "stacktrace${filter:+ if $filter}" > "$dir/trigger" ||
			die "cannot set a stacktrace trigger on $dir"
	fi
	echo 1 > "$dir/enable" || die "cannot enable $dir"
}
trace_event "$TR/events/$KP/res" "$KP_FILTER" 1
trace_event "$TR/events/$KP/cfs" "$KP_FILTER" 1
# Only the masks with an isolated CPU (the trace reader checks which).
trace_event "$TR/events/$KP/cfm" "mask & $(((1 << BUSY) | (1 << IDLE)))" 1
trace_event "$EV_WAKE" "$CPU_FILTER" 1
trace_event "$EV_WQQ" "$CPU_FILTER" 1
trace_event "$EV_WQS" "" 0

# ---------------------------------------------------------------------------
# Measuring one transition.

# irq_counts: IRQ[RES_<cpu>], IRQ[CAL_<cpu>], IRQ[TLB_<cpu>] for the
# isolated CPUs, from /proc/interrupts.
declare -A IRQ IRQ_A
irq_counts() {
	local line name col c
	local -a f cols
	IRQ=()
	{
		read -ra cols
		while read -ra f; do
			name=${f[0]%:}
			[[ $name == RES || $name == CAL || $name == TLB ]] || continue
			for ((col = 0; col < ${#cols[@]}; col++)); do
				c=${cols[col]#CPU}
				IRQ[${name}_$c]=${f[col + 1]}
			done
		done
	} < /proc/interrupts
	for c in "${ISO[@]}"; do
		for name in RES CAL TLB; do
			[[ ${IRQ[${name}_$c]:-} =~ ^[0-9]+$ ]] ||
				die "no $name count for CPU $c in /proc/interrupts"
		done
	done
}

# phase_begin: clear the trace, start tracing, note the interrupt counts.
phase_begin() {
	PHASE=$1 PHASE_BAD=0
	busy_resume
	klp_log "isolation: begin $PHASE"
	echo > "$TR/trace"
	echo 1 > "$TR/tracing_on"
	irq_counts
	local k
	IRQ_A=()
	for k in "${!IRQ[@]}"; do IRQ_A[$k]=${IRQ[$k]}; done
}

# analyse: read the per-CPU trace buffers; print "key value" lines
# (see the END block) and, for the first livepatch event towards an
# isolated CPU, its stack.
analyse() {
	local c
	for c in "$TR"/per_cpu/cpu*/; do
		cat "$c/trace"
	done | gawk -v busy="$BUSY" -v idle="$IDLE" '
		function cause(    i) {
			for (i = 0; i < ns; i++)
				if (st[i] ~ /^(text_poke|do_sync_core|ftrace_modify_all_code|ftrace_replace_code|(arch_)?ftrace_update_trampoline|(arch_)?ftrace_trampoline_free)/)
					return "poke"
			for (i = 0; i < ns; i++)
				if (st[i] ~ /^(__)?klp_/)
					return "klp"
			return "other"
		}
		# keep_stack WHAT: print the stack of a livepatch event (each
		# distinct stack once, at most 6).
		function keep_stack(what,    i, key) {
			key = ""
			for (i = 0; i < ns; i++)
				key = key " " st[i]
			if ((key in seen) || shown >= 6)
				return
			seen[key] = 1
			shown++
			print "stack " what
			for (i = 0; i < ns && i < 40; i++)
				print "stack  => " st[i]
		}
		# count KIND CPU: one event of kind KIND (ipi, wake, queue)
		# towards CPU, with the stack collected since.
		function count(kind, cpu,    c, who) {
			who = cpu == busy ? "busy" : "idle"
			c = cause()
			n[kind "_" c "_" who]++
			if (c == "klp")
				keep_stack(kind " to CPU " cpu ": " line)
		}
		function flush() {
			if (pend == "")
				return
			split(pend, p, " ")
			if (p[1] == "cfm") {
				if (and(p[2], lshift(1, busy)))
					count("ipi", busy)
				if (and(p[2], lshift(1, idle)))
					count("ipi", idle)
				if (and(p[2], lshift(1, busy)) || and(p[2], lshift(1, idle)))
					n["cf_sent_" (and(p[2], lshift(1, busy)) ? "b" : "") (and(p[2], lshift(1, idle)) ? "i" : "")]++
			} else {
				count(p[1], p[2])
				if (p[3] != "")
					n[p[3] "_sent_" (p[2] == busy ? "busy" : "idle")]++
			}
			pend = ""
		}
		/^#/ { next }
		/^ *=> / {
			s = $0
			sub(/^ *=> /, "", s)
			st[ns++] = s
			next
		}
		match($0, /\[([0-9]+)\] [^ ]+ +[0-9]+\.[0-9]+: (.*)$/, m) {
			# The stack of an event follows it in the same buffer.
			if (m[2] ~ /^<stack trace>/) {
				ns = 0
				next
			}
			flush()
			ns = 0
			line = $0
			on = m[1] + 0
			ev = m[2]
			if (ev ~ /^workqueue_execute_start: /) {
				f = ev
				sub(/.*function /, "", f)
				where = on == busy || on == idle ? "iso" : "house"
				if (f ~ /^(__)?klp_/) {
					n["work_klp_" where]++
					if (where == "iso" && !shownw++)
						print "work " line
				} else if (where == "iso") {
					other[f]++
				}
				next
			}
			if (match(ev, /^res: .* target=([0-9]+)/, a)) {
				pend = "ipi " a[1] " res"
			} else if (match(ev, /^cfs: .* target=([0-9]+)/, a)) {
				pend = "ipi " a[1] " cf"
			} else if (match(ev, /^cfm: .* mask=(0x[0-9a-f]+|[0-9]+)/, a)) {
				pend = "cfm " strtonum(a[1])
			} else if (match(ev, /^sched_wake_idle_without_ipi: cpu=([0-9]+)/, a)) {
				pend = "wake " a[1]
			} else if (match(ev, /^workqueue_queue_work: .* cpu=([0-9]+)/, a)) {
				pend = "queue " a[1]
			}
			next
		}
		END {
			flush()
			for (k in n)
				print "n " k " " n[k]
			o = ""
			for (f in other)
				o = o " " f "x" other[f]
			print "other" o
		}'
}

# add_up VAR KEY...: set VAR to the sum of the counts KEY... of the last
# analysis (a count it did not print is 0).
add_up() {
	local -n var=$1
	local k
	var=0
	shift
	for k in "$@"; do
		((var += ${CNT[$k]:-0}))
	done
}

ISO_SKIPPED="" VIOLATIONS="" PHASE_BAD=0
# violation TEXT: an isolation assertion failed: a FAIL on this
# implementation (at the end of the test, with every assertion that
# failed, so that one run shows all the transitions); on stock 6.1 (whose transitions run work on every
# CPU and wake idle CPUs every retry) one SKIP line for the first, the
# rest only reported.
violation() {
	if [[ $KLP_UNDER_TEST == ours ]]; then
		VIOLATIONS+="${VIOLATIONS:+; }$PHASE: $*"
		PHASE_BAD=1
		klp_info "$PHASE: $*"
	elif [[ -z $ISO_SKIPPED ]]; then
		ISO_SKIPPED=$PHASE
		klp_info "SKIP: isolated CPUs on stock 6.1: its transitions queue work on every CPU (schedule_on_each_cpu() in klp_synchronize_transition()) and wake idle CPUs in every retry; first seen in '$PHASE': $*"
	else
		klp_info "also on stock, in '$PHASE': $*"
	fi
}

# irq_delta VAR NAME CPU: set VAR to how much the NAME count of CPU in
# /proc/interrupts grew from phase_begin to phase_end.
irq_delta() {
	local -n var=$1
	local k=${2}_$3
	var=$((IRQ[$k] - IRQ_A[$k]))
}

declare -A TOTAL
TRANSITIONS=0 WAKE_MAX=0
# phase_end: stop tracing and check the isolation assertions of the
# transition just measured.
phase_end() {
	local k line v
	irq_counts
	echo 0 > "$TR/tracing_on"
	busy_pause
	for c in "$TR"/per_cpu/cpu*/; do
		klp_read "$c/stats"
		if [[ ! $REPLY =~ overrun:\ ([0-9]+) ]] || ((BASH_REMATCH[1] != 0)); then
			die "$PHASE: the trace buffer of ${c%/} overran; make it larger"
		fi
	done
	declare -gA CNT
	CNT=()
	STACKS="" OTHER_WORK=""
	while IFS= read -r line; do
		case $line in
		"n "*)
			read -r _ k v <<< "$line"
			CNT[$k]=$v
			TOTAL[$k]=$((${TOTAL[$k]:-0} + v))
			;;
		"stack "* | "work "*) STACKS+="${line#* }"$'\n' ;;
		"other"*) OTHER_WORK=${line#other} ;;
		esac
	done < <(analyse)
	((TRANSITIONS++))

	local work ipi_busy wake_idle poke_b poke_i house rb ri cb ci tb ti
	local sent_rb sent_ri sent_cb sent_ci
	add_up work work_klp_iso queue_klp_busy queue_klp_idle
	add_up ipi_busy ipi_klp_busy wake_klp_busy
	add_up wake_idle ipi_klp_idle wake_klp_idle
	((wake_idle > WAKE_MAX)) && WAKE_MAX=$wake_idle
	add_up poke_b ipi_poke_busy
	add_up poke_i ipi_poke_idle
	add_up house work_klp_house
	# What /proc/interrupts counted on the isolated CPUs against what the
	# probes saw sent there.
	irq_delta rb RES "$BUSY"
	irq_delta ri RES "$IDLE"
	irq_delta cb CAL "$BUSY"
	irq_delta ci CAL "$IDLE"
	irq_delta tb TLB "$BUSY"
	irq_delta ti TLB "$IDLE"
	add_up sent_rb res_sent_busy
	add_up sent_ri res_sent_idle
	add_up sent_cb cf_sent_busy cf_sent_b cf_sent_bi
	add_up sent_ci cf_sent_idle cf_sent_i cf_sent_bi
	klp_info "$PHASE: livepatch work items: $house on housekeeping CPUs, $work on CPUs $BUSY,$IDLE; livepatch IPIs to CPU $BUSY (busy): $ipi_busy; livepatch wake-ups of CPU $IDLE (idle): $wake_idle; code patching IPIs: $poke_b to CPU $BUSY, $poke_i to CPU $IDLE; /proc/interrupts CPU $BUSY: RES $rb CAL $cb TLB $tb, CPU $IDLE: RES $ri CAL $ci TLB $ti (traced sends: RES $sent_rb/$sent_ri, CAL $sent_cb/$sent_ci)${OTHER_WORK:+; other work on CPUs $BUSY,$IDLE:$OTHER_WORK}"
	((TOTAL[irq_res_busy] += rb, TOTAL[irq_cal_busy] += cb, TOTAL[irq_tlb_busy] += tb))
	((TOTAL[irq_res_idle] += ri, TOTAL[irq_cal_idle] += ci, TOTAL[irq_tlb_idle] += ti))

	# The cross-check holds on any implementation.
	((rb <= sent_rb && ri <= sent_ri)) ||
		die "$PHASE: /proc/interrupts counted more reschedule IPIs on CPUs $BUSY,$IDLE ($rb, $ri) than were sent there ($sent_rb, $sent_ri)"
	((cb <= sent_cb && ci <= sent_ci)) ||
		die "$PHASE: /proc/interrupts counted more function-call IPIs on CPUs $BUSY,$IDLE ($cb, $ci) than were sent there ($sent_cb, $sent_ci)"
	((tb <= cb && ti <= ci)) ||
		die "$PHASE: more TLB shootdowns than function-call IPIs on CPUs $BUSY,$IDLE ($tb > $cb or $ti > $ci)"

	((work == 0)) ||
		violation "$work livepatch work items ran on or were queued to isolated CPUs $BUSY,$IDLE"
	((ipi_busy == 0)) ||
		violation "$ipi_busy livepatch IPIs or wake-ups reached CPU $BUSY, isolated and busy in user space"
	((wake_idle <= 1)) ||
		violation "$wake_idle livepatch wake-ups of CPU $IDLE, isolated and idle (at most 1 per transition: its idle task switches in the idle loop)"
	((PHASE_BAD)) && [[ -n $STACKS ]] && echo "$STACKS" >&2
	return 0
}

# ---------------------------------------------------------------------------
# The busy task.

BUSY_PID=""
# shellcheck disable=SC2317 # called through klp_at_exit
stop_busy() {
	# A stopped task keeps SIGTERM pending until it continues.
	[[ -n $BUSY_PID ]] && kill "$BUSY_PID" && kill -CONT "$BUSY_PID" &&
		wait "$BUSY_PID"
	return 0
}
klp_at_exit stop_busy
taskset -c "$BUSY" gawk 'BEGIN {
	for (;;)
		if (++n % 100000 == 0) {
			getline up < "/proc/uptime"
			close("/proc/uptime")
		}
}' &
BUSY_PID=$!

# busy_stat: BSTAT_CPU (the CPU it last ran on), BSTAT_TIME (utime +
# stime, ticks) and BSTAT_STATE of the busy task.
busy_stat() {
	local -a f
	klp_read "/proc/$BUSY_PID/stat" || die "the busy task $BUSY_PID is gone"
	read -ra f <<< "${REPLY##*) }"
	# Fields from the state on (field 3): state 0, utime 11, stime 12,
	# processor 36.
	BSTAT_STATE=${f[0]} BSTAT_TIME=$((f[11] + f[12])) BSTAT_CPU=${f[36]}
}
# shellcheck disable=SC2317 # called through klp_wait_for
busy_running() {
	busy_stat
	[[ $BSTAT_STATE == R && $BSTAT_CPU == "$BUSY" ]]
}
klp_wait_for 10 busy_running ||
	die "the busy task did not run on CPU $BUSY (state $BSTAT_STATE, CPU $BSTAT_CPU)"
busy_stat
BUSY_TIME0=$BSTAT_TIME

# busy_pause, busy_resume: the busy task is stopped between the measured
# phases (phase_end to phase_begin).  There its loop would only take host
# time from the test's own work, most of all the reading of the traces:
# under TCG all four vCPUs take turns in one host thread, and with the
# task always running a debug guest took 660 s of guest time for this
# test; its housekeeping vCPUs were slowed as much, which once held off
# the busy CPU's remote tick for more than 3 s (a scheduler warning).
busy_pause() {
	kill -STOP "$BUSY_PID" || die "cannot stop the busy task $BUSY_PID"
}
busy_resume() {
	kill -CONT "$BUSY_PID" || die "cannot continue the busy task $BUSY_PID"
	klp_wait_for 10 busy_running ||
		die "the busy task did not run again on CPU $BUSY (state $BSTAT_STATE, CPU $BSTAT_CPU)"
}
busy_pause

# ---------------------------------------------------------------------------
# The transitions.

HOLD_OUT=$(mktemp)
klp_at_exit "rm -f '$HOLD_OUT'"
klp_at_exit "echo 1 > '$PROC/release'"
READER=""

start_test "enable and disable a patch with CPU $BUSY busy and CPU $IDLE idle, both isolated"
phase_begin "enable $LP"
load_lp "$LP"
phase_end
phase_begin "disable $LP"
disable_lp "$LP"
phase_end
unload_mod "$LP"

start_test "replace a patch by a cumulative one, then disable it"
load_lp "$LP"
phase_begin "replace $LP by $AR"
load_lp "$AR"
wait_patch_gone "$LP"
phase_end
unload_replaced "$LP"
phase_begin "disable $AR"
disable_lp "$AR"
phase_end
unload_mod "$AR"

start_test "a transition held open by a task asleep in the patched function"
load_mod "$T" hold_secs=$KLP_HOLD_SECS
klp_start_reader "$PROC/hold" "$HOLD_OUT" "$PROC/sleepers"
phase_begin "enable $P, held for 1.5 s"
load_lp_nowait "$P"
# Three looks 0.5 s apart, as in test-transition.sh: the retries of the
# held transition run meanwhile.
for i in 1 2 3; do
	klp_sleep 0.5
	klp_in_transition "$P" || die "the transition of $P ended while a task slept in the function (look $i)"
done
klp_log "release"
echo 1 > "$PROC/release"
wait "$READER" || die "the reader failed"
READER=""
check_file "$HOLD_OUT" "$T: released"
wait_transition "$P"
phase_end
phase_begin "disable $P"
disable_lp "$P"
phase_end
unload_mod "$P"
unload_mod "$T"

# ---------------------------------------------------------------------------
# Over the whole test.

busy_resume
busy_stat
((BSTAT_TIME > BUSY_TIME0)) ||
	die "the busy task got no CPU time during the test ($BUSY_TIME0 -> $BSTAT_TIME ticks)"
check_eq "the CPU the busy task last ran on" "$BUSY" "$BSTAT_CPU"
check_eq "the busy task's state" R "$BSTAT_STATE"
aff=$(taskset -pc "$BUSY_PID") || die "taskset -pc $BUSY_PID failed"
check_eq "the busy task's CPU affinity" "$BUSY" "${aff##*: }"
check_eq "the busy task's patch state" -1 "$(klp_patch_state "$BUSY_PID")"

# The probes must have seen what every implementation does: livepatch
# work on housekeeping CPUs and code patching IPIs to the isolated CPUs.
((${TOTAL[work_klp_house]:-0} > 0)) ||
	die "no livepatch work item seen on the housekeeping CPUs: the workqueue events are not measured"
((${TOTAL[ipi_poke_busy]:-0} > 0 && ${TOTAL[ipi_poke_idle]:-0} > 0)) ||
	die "no code patching IPI seen to CPU $BUSY or $IDLE (${TOTAL[ipi_poke_busy]:-0}, ${TOTAL[ipi_poke_idle]:-0}): the IPI probes or their stacks are not measured"

echo "isolation: $TRANSITIONS transitions with CPU $BUSY busy and CPU $IDLE idle (isolated, nohz_full): livepatch work items ${TOTAL[work_klp_house]:-0} on housekeeping CPUs, $((${TOTAL[work_klp_iso]:-0} + ${TOTAL[queue_klp_busy]:-0} + ${TOTAL[queue_klp_idle]:-0})) on CPUs $BUSY,$IDLE; livepatch IPIs to CPU $BUSY: $((${TOTAL[ipi_klp_busy]:-0} + ${TOTAL[wake_klp_busy]:-0})); livepatch wake-ups of CPU $IDLE: $((${TOTAL[ipi_klp_idle]:-0} + ${TOTAL[wake_klp_idle]:-0})) (at most $WAKE_MAX per transition); code patching IPIs (not counted against livepatch): ${TOTAL[ipi_poke_busy]:-0} to CPU $BUSY, ${TOTAL[ipi_poke_idle]:-0} to CPU $IDLE; /proc/interrupts CPU $BUSY RES ${TOTAL[irq_res_busy]} CAL ${TOTAL[irq_cal_busy]} TLB ${TOTAL[irq_tlb_busy]}, CPU $IDLE RES ${TOTAL[irq_res_idle]} CAL ${TOTAL[irq_cal_idle]} TLB ${TOTAL[irq_tlb_idle]}; busy task CPU time $BUSY_TIME0 -> $BSTAT_TIME ticks"
[[ -z $VIOLATIONS ]] || die "$VIOLATIONS"
klp_pass
