#!/bin/bash
# Boot the built kernel + initramfs in qemu.  Usage: run-vm.sh test|demo|vm
# The serial console is stdout and is saved to $KLP_OUT/klp-<mode>.log.
# KLP_VM_TIMEOUT (s) kills the guest (default 1200 test, 300 demo, none vm;
# three times as long for KCONFIG=debug); KLP_VM_MEM sets the guest memory;
# KLP_KVM=0|1 overrides the KVM probe; KLP_APPEND adds kernel arguments;
# KLP_TESTS="a.sh b.sh" runs only those selftests; KLP_VERBOSE=1 shows the
# whole console in test mode.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: run-vm.sh test|demo|vm}
# The debug kernel (KASAN, lockdep, kmemleak, ...) runs several times slower
# and KASAN keeps a shadow of 1/8 of memory plus a quarantine: give it more
# of both.  KLP_VM_MEM overrides the guest memory.
slow=1 mem=2G
[[ $KLP_KCONFIG == debug ]] && slow=3 mem=3G
mem=${KLP_VM_MEM:-$mem}
case $mode in
test) timeout_s=${KLP_VM_TIMEOUT:-$((1200 * slow))} ;;
demo) timeout_s=${KLP_VM_TIMEOUT:-$((300 * slow))} ;;
vm) timeout_s=${KLP_VM_TIMEOUT:-0} ;;
*) die "unknown mode $mode" ;;
esac
[[ $timeout_s =~ ^[0-9]+$ ]] || die "KLP_VM_TIMEOUT must be a number of seconds"
# `make vm` boots copies (KLP_VM_KERNEL/KLP_VM_INITRD) and holds no lock.
[[ $mode == vm && -n ${KLP_VM_KERNEL:-} ]] || lock_out
kernel=${KLP_VM_KERNEL:-$KLP_OUT/arch/x86/boot/bzImage}
initrd=${KLP_VM_INITRD:-$KLP_INITRAMFS}
[[ -f $kernel && -f $initrd ]] || die "no kernel/initramfs in $KLP_OUT; build first"
log=$KLP_OUT/klp-$mode.log
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
	accel=(-accel tcg -cpu max)
	accel_name=tcg
fi

append="console=ttyS0 loglevel=5 panic=-1 printk.devkmsg=on klp.mode=$mode"
# CONFIG_PROVE_RCU (debug) runs RCU-tasks self tests at boot, and 6.1 can
# deadlock there: PID 1 finds no rcu_tasks_rude kthread yet and takes the
# slow path, the kthread starts meanwhile, takes tasks_gp_mutex and waits
# for callbacks with it held, and PID 1 blocks on that mutex for good.
# Printing the info message right before (console loglevel 7) has PID 1
# yield to the new kthread first; the guest then goes back to 5.
[[ $KLP_KCONFIG == debug ]] && append+=" loglevel=7 klp.loglevel=5"
if [[ -n ${KLP_TESTS:-} ]]; then
	for t in $KLP_TESTS; do
		[[ $t =~ ^[A-Za-z0-9._-]+$ ]] || die "bad test name '$t'"
	done
	t=${KLP_TESTS//[[:space:]]/,}
	append+=" klp.tests=${t#,}"
	append=${append%,}
fi
[[ -n ${KLP_APPEND:-} ]] && append+=" $KLP_APPEND"

if [[ $mode == vm ]]; then
	if size=$(stty size 2>/dev/null) && [[ $size =~ ^([0-9]+)\ ([0-9]+)$ ]]; then
		append+=" klp.tty=${BASH_REMATCH[1]}x${BASH_REMATCH[2]}"
	fi
	info "booting ($accel_name); Ctrl-A x quits qemu"
	tl=()
	((timeout_s > 0)) && tl=(timeout --foreground -k 5 "$timeout_s")
	exec "${tl[@]}" "${qemu_base[@]}" "${accel[@]}" -smp 2 -nographic \
		-serial mon:stdio -append "$append"
fi

info "booting ($accel_name, limit ${timeout_s}s, console log: $log)"
start=$SECONDS
# Test mode hides the clean copies printed after the run (the host parses
# them); everything is in the log.
filter=(cat)
[[ $mode == test && -z ${KLP_VERBOSE:-} ]] &&
	filter=(awk '/KLP-TAP-BEGIN/ { hide = 1 } !hide { print; fflush() }')
set +e
tl=()
((timeout_s > 0)) && tl=(timeout --foreground -k 5 "$timeout_s")
"${tl[@]}" "${qemu_base[@]}" "${accel[@]}" -smp 2 -display none -serial stdio \
	-append "$append" </dev/null 2>&1 | sed -u 's/\r//g' | tee "$log" | "${filter[@]}"
rc=${PIPESTATUS[0]}
set -e
if ((rc == 124 || rc == 137)); then
	echo "KLP-HOST: guest timed out after $timeout_s s" | tee -a "$log"
elif ((rc != 0)); then
	echo "KLP-HOST: qemu exited with status $rc" | tee -a "$log"
fi
info "guest ran for $(elapsed "$start") ($accel_name)"
exit "$rc"
