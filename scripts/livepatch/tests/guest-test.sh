#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the guest (make klp-build-test, klp.mode=klp-build): load the modules
# klp-build made from cmdline.patch, version.patch and static-ref.patch,
# one after the other, check that /proc/cmdline, /proc/version and
# /proc/thread-self/stat read as the patched functions write them,
# disable each patch through sysfs and check that the original text comes
# back; then a cumulative module of cmdline.patch and version.patch
# replacing the cmdline one (atomic replace).  Prints TAP, then
# KLP-KB-DONE.
set -u

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

# patch_case MODULE WANT CMD...: load /klp-build/MODULE.ko; CMD must print
# WANT (@ORIG@ in it stands for what CMD printed before); after echo 0 >
# enabled it must print what it printed before.
patch_case() {
	local mod=$1 want=$2 p=/sys/kernel/livepatch/$1 orig
	shift 2
	orig=$("$@")
	insmod "/klp-build/$mod.ko"
	check "$mod: insmod" "0" "$?"
	wait_for 60 reads "$p/transition" 0
	check "$mod: patch enabled, transition finished" "1 0" \
		"$(cat "$p/enabled" "$p/transition" | paste -sd ' ')"
	check "$mod: $* prints the patched text" "${want//@ORIG@/$orig}" "$("$@")"
	echo 0 >"$p/enabled"
	wait_for 60 gone "$p"
	check "$mod: echo 0 > enabled: $p gone" "gone" "$(gone "$p" && echo gone)"
	check "$mod: $* prints the original again" "$orig" "$("$@")"
	rmmod "$mod"
	check "$mod: rmmod" "0" "$?"
}

# cmdline.patch: a new string.  version.patch: a livepatch relocation to
# linux_proc_banner (global, not exported).  static-ref.patch: one to
# do_task_stat (static); the patched proc_tid_stat writes "klp " first,
# so the third field of a thread's stat line is the command, "(cut)",
# instead of its state, "R".
patch_case klp_cmdline "this has been live patched by klp-build" cat /proc/cmdline
patch_case klp_version "[live patched] @ORIG@" cat /proc/version
patch_case klp_static "(cut)" cut -d ' ' -f 3 /proc/thread-self/stat

# Atomic replace: klp_cum (cmdline.patch and version.patch in one module,
# replace on, the default) loaded over klp_cmdline takes its place; then
# disabled, both files read as before.
cmdline_orig=$(cat /proc/cmdline)
version_orig=$(cat /proc/version)
insmod /klp-build/klp_cmdline.ko
wait_for 60 reads /sys/kernel/livepatch/klp_cmdline/transition 0
insmod /klp-build/klp_cum.ko
check "klp_cum: insmod over klp_cmdline" "0" "$?"
wait_for 60 reads /sys/kernel/livepatch/klp_cum/transition 0
wait_for 60 gone /sys/kernel/livepatch/klp_cmdline
check "klp_cum: klp_cmdline replaced (its sysfs directory gone)" "gone" \
	"$(gone /sys/kernel/livepatch/klp_cmdline && echo gone)"
check "klp_cum: /proc/cmdline and /proc/version patched" \
	"this has been live patched by klp-build|[live patched] $version_orig" \
	"$(cat /proc/cmdline)|$(cat /proc/version)"
rmmod klp_cmdline
check "klp_cum: rmmod klp_cmdline (replaced)" "0" "$?"
echo 0 >/sys/kernel/livepatch/klp_cum/enabled
wait_for 60 gone /sys/kernel/livepatch/klp_cum
check "klp_cum: disabled, /proc/cmdline and /proc/version as before" \
	"$cmdline_orig|$version_orig" "$(cat /proc/cmdline)|$(cat /proc/version)"
rmmod klp_cum
check "klp_cum: rmmod" "0" "$?"
echo "1..$n"
echo "KLP-KB-DONE"
