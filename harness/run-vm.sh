#!/bin/bash
# Boot the built kernel + initramfs in qemu.  Usage: run-vm.sh test|demo|vm|klp-build|kunit
# The serial console is stdout and is saved to $KLP_OUT/klp-<mode>.log.
# KLP_VM_TIMEOUT (s) kills the guest (default 1200 test, 300 demo, klp-build
# and kunit, none vm; for KCONFIG=debug 7200 test, 900 the others), and
# KLP_FINISH_TIMEOUT (s) a test guest that has not powered off that long
# after its tests ended (see below);
# KLP_VM_MEM sets the guest memory; KLP_KVM=0|1 overrides the KVM probe;
# KLP_APPEND adds kernel arguments;
# KLP_PREEMPT=none|voluntary|full boots a kernel built with PREEMPT_DYNAMIC
# (KCONFIG=default) with that preemption model (preempt=; the guest reports
# the model it runs and harness/check-log.sh fails one that runs another);
# KLP_SMP sets the number of vCPUs (2, 4 for KCONFIG=distro);
# KLP_TESTS="a.sh b.sh" runs only those selftests; KLP_VERBOSE=1 shows the
# whole console in test mode; KLP_VM_LOG names the console log.  A guest
# that has not reached /init after KLP_BOOT_TIMEOUT s (120, 300 for
# KCONFIG=debug) is booted again, up to KLP_BOOT_TRIES times in all (3): a
# boot hang of the kernel itself (such as the 6.1 RCU-tasks one that
# debug.config works around) must not cost the run.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: run-vm.sh test|demo|vm|klp-build|kunit}
# The debug kernel (KASAN, lockdep, kmemleak, ...) runs several times slower
# and KASAN keeps a shadow of 1/8 of memory plus a quarantine: give it more
# of both.  The guest learns the factor (klp.slow) and scales each
# selftest's time limit (tools/testing/selftests/livepatch/settings) by it;
# the whole suite's limit grows more, as it must absorb every test's share.
# KLP_VM_MEM overrides the guest memory.
slow=1 mem=2G suite=1
[[ $KLP_KCONFIG == debug ]] && slow=3 mem=3G suite=6
# KCSAN stalls a sample of accesses to watch for racing ones.
[[ $KLP_KCONFIG == kcsan ]] && slow=2 suite=3
# KCONFIG=distro, Debian's kernel, runs in guests of 4 vCPUs (issue 24),
# with twice the time for each selftest and for the whole suite (under TCG
# the 4 vCPUs take turns in one host thread), and a 1 MiB log buffer from
# the command line, as base.config's LOG_BUF_SHIFT=20 gives the others
# (Debian's is 128 KiB, too little for the dmesg that the guest dumps
# after the tests).
smp=2
[[ $KLP_KCONFIG == distro ]] && smp=4 slow=2 suite=2
mem=${KLP_VM_MEM:-$mem}
smp=${KLP_SMP:-$smp}
[[ $smp =~ ^[1-8]$ ]] || die "KLP_SMP must be 1 to 8 (CONFIG_NR_CPUS in base.config)"
case $mode in
test) timeout_s=${KLP_VM_TIMEOUT:-$((1200 * suite))} ;;
demo | klp-build | kunit) timeout_s=${KLP_VM_TIMEOUT:-$((300 * slow))} ;;
vm) timeout_s=${KLP_VM_TIMEOUT:-0} ;;
*) die "unknown mode $mode" ;;
esac
[[ $timeout_s =~ ^[0-9]+$ ]] || die "KLP_VM_TIMEOUT must be a number of seconds"
# `make vm` boots copies (KLP_VM_KERNEL/KLP_VM_INITRD) and holds no lock.
[[ $mode == vm && -n ${KLP_VM_KERNEL:-} ]] || lock_out
kernel=${KLP_VM_KERNEL:-$KLP_OUT/arch/x86/boot/bzImage}
initrd=${KLP_VM_INITRD:-$KLP_INITRAMFS}
[[ -f $kernel && -f $initrd ]] || die "no kernel/initramfs in $KLP_OUT; build first"
log=${KLP_VM_LOG:-$KLP_OUT/klp-$mode.log}
qemu_base=(qemu-system-x86_64 -nodefaults -no-user-config -no-reboot
	-m "$mem" -kernel "$kernel" -initrd "$initrd")

# kvm_works: true if a KVM guest really boots here.  /dev/kvm may exist and
# still hang the guest (nested virtualisation), so boot one with a short
# time limit and look for the init's first line.  The verdict is cached per
# host boot.
kvm_works() {
	case ${KLP_KVM:-} in 0) return 1 ;; 1) return 0 ;; esac
	[[ -r /dev/kvm && -w /dev/kvm ]] || return 1
	local cache=$KLP_CACHE/kvm-verdict boot_id id verdict plog
	boot_id=$(cat /proc/sys/kernel/random/boot_id)
	if [[ -f $cache ]] && read -r id verdict <"$cache" && [[ $id == "$boot_id" ]]; then
		[[ $verdict == yes ]]
		return
	fi
	info "probing KVM (20 s limit)"
	plog=$KLP_OUT/klp-kvm-probe.log
	timeout -k 5 20 "${qemu_base[@]}" -enable-kvm -cpu host -smp 1 \
		-display none -serial stdio \
		-append "console=ttyS0 loglevel=1 panic=-1 klp.mode=probe" \
		</dev/null >"$plog" 2>&1 || true
	if grep -q 'KLP-INIT:' "$plog"; then verdict=yes; else verdict=no; fi
	echo "$boot_id $verdict" >"$cache.tmp" && mv "$cache.tmp" "$cache"
	info "KVM works: $verdict (cached in $cache)"
	[[ $verdict == yes ]]
}

if kvm_works; then
	accel=(-enable-kvm -cpu host)
	accel_name=kvm
else
	# One host thread runs all vCPUs in turn (no MTTCG).  QEMU 7.2's
	# multi-threaded TCG can leave a vCPU looping on a stale translation of
	# code that another vCPU has just rewritten (the int3 of a finished
	# text_poke_bp()), which made the selftests take every CPU but one
	# offline; single-threaded, no vCPU runs while another rewrites code,
	# and the tests keep both CPUs (klp.tcg=single tells them,
	# klp_one_cpu_under_tcg in the selftests' functions.sh).  The two
	# guests of `make test` keep the host's two cores busy either way.
	accel=(-accel "tcg,thread=single" -cpu max)
	accel_name=tcg
fi

# klp.impl tells the guest (and the selftests, functions.sh) which
# implementation it runs: a feature of ours that is missing fails there.
# trace_clock=global: the TSC of a TCG guest is unstable, so tracing would
# switch to the global clock anyway, with a four-line notice at every boot.
append="console=ttyS0 loglevel=5 panic=-1 printk.devkmsg=on trace_clock=global"
append+=" klp.mode=$mode klp.impl=$KLP_IMPL"
[[ $accel_name == tcg ]] && append+=" klp.tcg=single"
[[ $KLP_KCONFIG == distro ]] && append+=" log_buf_len=1M"
((slow > 1)) && append+=" klp.slow=$slow"
if [[ -n ${KLP_TESTS:-} ]]; then
	for t in $KLP_TESTS; do
		[[ $t =~ ^[A-Za-z0-9._-]+$ ]] || die "bad test name '$t'"
	done
	t=${KLP_TESTS//[[:space:]]/,}
	append+=" klp.tests=${t#,}"
	append=${append%,}
fi
# The preemption model: klp.preempt= tells the guest which one it must run
# (it prints both on its KLP-INIT line, harness/guest-init).
preempt=${KLP_PREEMPT:-}
case $preempt in
'' | none | voluntary | full) ;;
*) die "KLP_PREEMPT must be none, voluntary or full, not '$preempt'" ;;
esac
if [[ -n $preempt ]]; then
	klp_preempt_dynamic ||
		die "KLP_PREEMPT=$preempt: harness/configs/$KLP_KCONFIG.config builds a kernel without PREEMPT_DYNAMIC, whose preemption model is $(klp_preempt_built) whatever preempt= says"
	append+=" preempt=$preempt"
fi
append+=" klp.preempt=$(klp_preempt_expected "$preempt")"
[[ -n ${KLP_APPEND:-} ]] && append+=" $KLP_APPEND"

if [[ $mode == vm ]]; then
	if size=$(stty size 2>/dev/null) && [[ $size =~ ^([0-9]+)\ ([0-9]+)$ ]]; then
		append+=" klp.tty=${BASH_REMATCH[1]}x${BASH_REMATCH[2]}"
	fi
	info "booting ($accel_name); Ctrl-A x quits qemu"
	tl=()
	((timeout_s > 0)) && tl=(timeout --foreground -k 5 "$timeout_s")
	exec "${tl[@]}" "${qemu_base[@]}" "${accel[@]}" -smp "$smp" -nographic \
		-serial mon:stdio -append "$append"
fi

info "booting ($accel_name, preemption model $(klp_preempt_expected "$preempt"), limit ${timeout_s}s, console log: $log)"
start=$SECONDS
# Test mode hides the clean copies printed after the run (the host parses
# them); everything is in the log.
filter=(cat)
[[ $mode == test && -z ${KLP_VERBOSE:-} ]] &&
	filter=(awk '/KLP-TAP-BEGIN/ { hide = 1 } !hide { print; fflush() }')
boot_timeout=${KLP_BOOT_TIMEOUT:-$((120 + 180 * (slow > 1)))}
tries=${KLP_BOOT_TRIES:-3}
pidfile=${log%.log}.pid
hungfile=${log%.log}.hung
# A test guest that has printed KLP-TEST-END has only its reports left to
# print (kmemleak, taint, dmesg) and then powers off: it gets
# KLP_FINISH_TIMEOUT s for that: 120, or 300 for the slow kernels (debug
# guests took 45 to 60 s, two kmemleak scans included, on 2026-12-06).  A
# guest hung there (a debug guest once stopped writing to its serial
# console half-way through its dmesg dump) would otherwise hold the run
# until the suite's limit, two hours for the debug kernel.
finish_timeout=${KLP_FINISH_TIMEOUT:-$((slow > 1 ? 300 : 120))}
[[ $finish_timeout =~ ^[1-9][0-9]*$ ]] || die "KLP_FINISH_TIMEOUT must be a positive number of seconds"
# kill_guest: end qemu (its pid is in $pidfile).
kill_guest() {
	[[ -s $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null
	return 0
}
# watchdog: kill the guest if /init has not said KLP-INIT in time, or if a
# test guest has not powered off in time after its tests (then $hungfile
# holds the reason, for the log).
watchdog() {
	local i
	for ((i = 0; i < boot_timeout; i++)); do
		sleep 1
		grep -q '^KLP-INIT:' "$log" 2>/dev/null && break
	done
	((i < boot_timeout)) || {
		kill_guest
		return 0
	}
	[[ $mode == test ]] || return 0
	until grep -q '^KLP-TEST-END' "$log" 2>/dev/null; do sleep 2; done
	for ((i = 0; i < finish_timeout; i += 2)); do sleep 2; done
	echo "the guest did not power off within ${finish_timeout}s of the end of its tests (last line: $(tail -n 1 "$log" | cut -c 1-160))" >"$hungfile"
	kill_guest
}
set +e
tl=()
((timeout_s > 0)) && tl=(timeout --foreground -k 5 "$timeout_s")
for ((try = 1; ; try++)); do
	rm -f "$pidfile" "$hungfile"
	: >"$log"
	watchdog &
	wd=$!
	"${tl[@]}" "${qemu_base[@]}" "${accel[@]}" -smp "$smp" -display none -serial stdio \
		-pidfile "$pidfile" -append "$append" </dev/null 2>&1 |
		sed -u 's/\r//g' | tee "$log" | "${filter[@]}"
	rc=${PIPESTATUS[0]}
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	grep -q '^KLP-INIT:' "$log" && break
	((try < tries)) || {
		echo "KLP-HOST: the guest did not reach /init in $tries boots of ${boot_timeout}s" | tee -a "$log"
		break
	}
	info "the guest did not reach /init in ${boot_timeout}s (last kernel message: $(grep -E '^\[' "$log" | tail -n 1)); booting again"
done
set -e
if [[ -s $hungfile ]]; then
	echo "KLP-HOST: $(cat "$hungfile")" | tee -a "$log"
	rm -f "$hungfile"
elif ((rc == 124 || rc == 137)); then
	echo "KLP-HOST: guest timed out after $timeout_s s" | tee -a "$log"
elif ((rc != 0)); then
	echo "KLP-HOST: qemu exited with status $rc" | tee -a "$log"
fi
info "guest ran for $(elapsed "$start") ($accel_name)"
exit "$rc"
