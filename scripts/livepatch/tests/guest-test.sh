#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the guest (make klp-build-test, klp.mode=klp-build): load the module
# klp-build made from cmdline.patch, check that /proc/cmdline reads as the
# patched cmdline_proc_show() writes it, disable the patch through sysfs
# and check that the original text comes back.  Prints TAP, then
# KLP-KB-DONE.
set -u

mod=/klp-build/klp_cmdline.ko
p=/sys/kernel/livepatch/klp_cmdline
want="this has been live patched by klp-build"
n=0

check() {
	n=$((n + 1))
	if [[ $2 == "$3" ]]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   expected: $2"
		echo "#   got:      $3"
	fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}
reads() { [[ -r $1 && $(cat "$1") == "$2" ]]; }
gone() { [[ ! -e $1 ]]; }

orig=$(cat /proc/cmdline)
insmod "$mod"
check "insmod klp_cmdline.ko" "0" "$?"
wait_for 60 reads "$p/transition" 0
check "patch enabled, transition finished" "1 0" "$(cat "$p/enabled" "$p/transition" | paste -sd ' ')"
check "/proc/cmdline reads the patched text" "$want" "$(cat /proc/cmdline)"
echo 0 >"$p/enabled"
wait_for 60 gone "$p"
check "echo 0 > enabled: $p gone" "gone" "$(gone "$p" && echo gone)"
check "/proc/cmdline reads the original again" "$orig" "$(cat /proc/cmdline)"
rmmod klp_cmdline
check "rmmod klp_cmdline" "0" "$?"
echo "1..$n"
echo "KLP-KB-DONE"
